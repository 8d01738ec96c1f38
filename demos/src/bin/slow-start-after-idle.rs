//! After an idle spell longer than its retransmission timeout, a TCP connection restarts from the initial congestion window, unless tcp_slow_start_after_idle is 0.
//!
//! tcp(7), RFC 2861: when the sender sends new data and nothing is in flight, and the
//! connection has sent nothing for longer than its RTO, tcp_cwnd_restart() halves the
//! congestion window once per RTO of idle time, down to the restart window (the initial
//! ten segments, RFC 6928). The switch, net.ipv4.tcp_slow_start_after_idle, belongs to
//! the network namespace, so the demo sets it in one of its own and leaves the host's
//! alone. tcpi_snd_cwnd and tcpi_rto come from getsockopt(TCP_INFO).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::{Break, Demo, Evidence, Observed, Result, brk, net, netns::NetNs};

const BREAKS: &[Break] = &[
    brk(
        "short-pause",
        "the pause with the switch on is shorter than one RTO",
    ),
    brk("switch-off-both", "the switch is 0 for both runs"),
    brk("switch-on-both", "the switch is 1 for both runs"),
    brk(
        "small-bulk-on",
        "the run with the switch on sends 16 KiB, too little to grow its window",
    ),
    brk(
        "small-bulk-off",
        "the run with the switch off sends 16 KiB, too little to grow its window",
    ),
    brk(
        "off-run-switch-on",
        "the second run has the switch on and pauses 300 ms (one RTO): its window halves",
    ),
    brk(
        "initcwnd-6",
        "the namespace's route to 127.0.0.1 sets initcwnd 6, so the restart window is 6",
    ),
    brk(
        "initcwnd-16",
        "the namespace's route to 127.0.0.1 sets initcwnd 16, so the restart window is 16",
    ),
];

impl Evidence for Run {
    fn render(&self) -> String {
        format!(
            "cwnd {} segments before the pause, {} after; RTO {} ms",
            self.before,
            self.after,
            self.rto.as_millis()
        )
    }
}

/// [`bulk_pause_write`], its window readings as TCP_INFO gave them.
fn observed_run(ns: &NetNs, bulk: usize, idle: Duration) -> Result<Observed<Run>> {
    demos::evidence::read("TCP_INFO tcpi_snd_cwnd, tcpi_rto", || {
        bulk_pause_write(ns, bulk, idle)
    })
}

/// Bytes the bulk phase sends to grow the window.
const BULK: usize = 1 << 20;
/// The breaks' bulk: 16 KiB, 11 segments, grows the window to about 20.
const SMALL_BULK: usize = 16 << 10;
/// More than one RTO (at least 200 ms on loopback), less than two: one halving.
const ONE_RTO_IDLE: Duration = Duration::from_millis(300);
/// Longer than several loopback RTOs (at least 200 ms each).
const IDLE: Duration = Duration::from_millis(1500);
/// Shorter than any RTO (the minimum is 200 ms): the break's "pause".
const SHORT_IDLE: Duration = Duration::from_millis(20);
/// RFC 6928's initial window, in segments (TCP_INIT_CWND).
const INITIAL_WINDOW: u32 = 10;
/// "About" the initial window: the window read after the idle write may be this many
/// segments off (it is exactly 10 in every run seen: tcp_cwnd_restart() sets it).
const ABOUT: u32 = 2;
const SYSCTL: &str = "net/ipv4/tcp_slow_start_after_idle";
/// A congestion control that leaves the idle restart to TCP itself: the kernel skips
/// it for one with its own cong_control hook, such as BBR (this host's default).
const CONGESTION: &str = "cubic";
/// Ethernet's MTU on the namespace's loopback, so the window counts 1448-byte segments
/// as on a real path rather than 64 KB ones.
const MTU: &str = "1500";

/// Waits until the peer has acknowledged everything sent (nothing unacked).
fn wait_all_acked(conn: &TcpStream) -> Result<()> {
    let deadline = Instant::now() + demos::IO_TIMEOUT;
    while net::tcp_info(conn)?.value().tcpi_unacked != 0 {
        if Instant::now() > deadline {
            bail!("data still unacknowledged after {:?}", demos::IO_TIMEOUT);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// What one connection's window did around its pause.
struct Run {
    before: u32,
    after: u32,
    rto: Duration,
}

/// One connection in `ns`: a bulk send to grow the window, a pause of `idle`, then one
/// small write; the window is read before the pause and right after that write.
fn bulk_pause_write(ns: &NetNs, bulk: usize, idle: Duration) -> Result<Run> {
    let listener =
        ns.run(|| TcpListener::bind("127.0.0.1:0").context("bind a TCP listener on 127.0.0.1:0"))?;
    let addr = listener.local_addr().context("getsockname")?;
    let mut client = ns.run(|| {
        TcpStream::connect_timeout(&addr, demos::IO_TIMEOUT)
            .with_context(|| format!("connect to {addr}"))
    })?;
    net::with_timeouts(&client)?;
    socket2::SockRef::from(&client)
        .set_tcp_congestion(CONGESTION.as_bytes())
        .with_context(|| format!("TCP_CONGESTION {CONGESTION}"))?;
    let (mut server, _) = net::accept_timeout(&listener)?;
    net::with_timeouts(&server)?;

    std::thread::scope(|s| {
        // The receiver reads everything: the bulk, then the small write, then EOF.
        let reader = s.spawn(move || -> Result<u64> {
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0u64;
            loop {
                match server.read(&mut buf).context("recv")? {
                    0 => return Ok(total),
                    n => total += n as u64,
                }
            }
        });
        let run = (|| -> Result<Run> {
            client
                .write_all(&vec![1u8; bulk])
                .context("send the bulk")?;
            wait_all_acked(&client)?;
            let info = net::tcp_info(&client)?.into_value();
            std::thread::sleep(idle);
            client
                .write_all(&[2u8; 1000])
                .context("send after the pause")?;
            let after = net::tcp_info(&client)?.value().tcpi_snd_cwnd;
            Ok(Run {
                before: info.tcpi_snd_cwnd,
                after,
                rto: Duration::from_micros(info.tcpi_rto.into()),
            })
        })();
        client
            .shutdown(std::net::Shutdown::Write)
            .context("shutdown(SHUT_WR)")?;
        let got = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the receiver panicked"))??;
        anyhow::ensure!(
            got == (bulk + 1000) as u64,
            "the receiver got {got} bytes, not {}",
            bulk + 1000
        );
        run
    })
}

fn main() {
    demos::run(BREAKS, |d: &mut Demo| {
        d.expect("idle longer than its RTO, a connection restarts near 10 segments of window");
        if !demos::netns::can_create() {
            return Err(
                d.skip("needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to create a network namespace")
            );
        }
        let ns = NetNs::new()?;
        ns.loopback_up()?;
        ns.cmd("ip", &["link", "set", "lo", "mtu", MTU])?;
        let initcwnd = if d.breaks("initcwnd-6") {
            Some("6")
        } else if d.breaks("initcwnd-16") {
            Some("16")
        } else {
            None
        };
        if let Some(initcwnd) = initcwnd {
            ns.cmd(
                "ip",
                &[
                    "route",
                    "replace",
                    "local",
                    "127.0.0.1",
                    "dev",
                    "lo",
                    "table",
                    "local",
                    "initcwnd",
                    initcwnd,
                ],
            )?;
        }
        let pause_a = if d.breaks("short-pause") {
            SHORT_IDLE
        } else {
            IDLE
        };
        d.step(format_args!(
            "in a new namespace (loopback MTU {MTU}, {CONGESTION}): send {} MiB, \
             pause, write 1000 bytes; twice",
            BULK >> 20
        ));

        let first = if d.breaks("switch-off-both") {
            "0"
        } else {
            "1"
        };
        ns.sysctl(SYSCTL, first)?;
        let setting =
            demos::evidence::read("/proc/sys/net/ipv4/tcp_slow_start_after_idle", || {
                ns.read_sysctl(SYSCTL)
            })?;
        d.saw(&setting);
        let bulk_on = if d.breaks("small-bulk-on") {
            SMALL_BULK
        } else {
            BULK
        };
        let on = observed_run(&ns, bulk_on, pause_a)?;
        d.key(&on);
        let on = on.into_value();
        d.derived(format_args!(
            "the {} ms pause spans {} RTOs",
            pause_a.as_millis(),
            pause_a.as_millis() / on.rto.as_millis().max(1)
        ));

        let off_run_on = d.breaks("off-run-switch-on");
        let second = if d.breaks("switch-on-both") || off_run_on {
            "1"
        } else {
            "0"
        };
        ns.sysctl(SYSCTL, second)?;
        let setting =
            demos::evidence::read("/proc/sys/net/ipv4/tcp_slow_start_after_idle", || {
                ns.read_sysctl(SYSCTL)
            })?;
        d.saw(&setting);
        let (bulk_off, pause_b) = if d.breaks("small-bulk-off") {
            (SMALL_BULK, IDLE)
        } else if off_run_on {
            (BULK, ONE_RTO_IDLE)
        } else {
            (BULK, IDLE)
        };
        let off = observed_run(&ns, bulk_off, pause_b)?;
        d.key(&off);
        let off = off.into_value();
        d.chart_metric(
            "cwnd.before",
            "before the pause",
            f64::from(on.before),
            "segments",
        );
        d.chart_metric(
            "cwnd.after_on",
            "after, switch on",
            f64::from(on.after),
            "segments",
        );
        d.chart_metric(
            "cwnd.after_off",
            "after, switch off",
            f64::from(off.after),
            "segments",
        );

        d.check(
            pause_a > on.rto && pause_b > off.rto,
            format_args!(
                "each pause ({} ms, {} ms) was longer than the connection's RTO ({} ms, {} ms)",
                pause_a.as_millis(),
                pause_b.as_millis(),
                on.rto.as_millis(),
                off.rto.as_millis()
            ),
        )?;
        d.check(
            on.before >= 4 * INITIAL_WINDOW && off.before >= 4 * INITIAL_WINDOW,
            format_args!("the bulk send grew the window past 4x the initial {INITIAL_WINDOW}"),
        )?;
        d.check(
            on.after >= INITIAL_WINDOW - ABOUT && on.after <= INITIAL_WINDOW + ABOUT,
            format_args!(
                "switch on: the idle window fell back to about {INITIAL_WINDOW} (within {ABOUT} segments)"
            ),
        )?;
        d.check(
            off.after * 4 >= off.before * 3,
            "switch off: the window kept at least 3/4 of its size",
        )?;
        Ok(())
    })
}
