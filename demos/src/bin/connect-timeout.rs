//! connect() does not fail fast when SYNs are dropped: it hangs for about two minutes, and only a timeout of your own saves the caller.
//!
//! tcp(7): a SYN that gets no answer is resent `tcp_syn_retries` times (default 6)
//! with a doubling timeout from 1 s, so a blocking connect() to a host behind a
//! dropping firewall returns ETIMEDOUT only after 1+2+4+8+16+32+64 = 127 s. Since
//! Linux 6.5 the first `tcp_syn_linear_timeouts` (default 4) resends come after 1 s
//! each and add to the count: 1+1+1+1+1+2+4+8+16+32+64 = 131 s. A refused
//! port (a RST) fails at once; silence does not. connect(2): a non-blocking connect
//! returns EINPROGRESS, and poll() with a timeout bounds the wait.
//!
//! The demo drops every packet in a network namespace of its own where it arrives on
//! the loopback interface: a `clsact` queue with a classic BPF filter that answers
//! "drop" (this kernel has no netem). Dropped on arrival, each SYN has left first, so
//! the packet capture sees every one of them. The two minutes are not waited for: in a
//! second namespace, without the linear phase, a socket allowed one resend
//! (`TCP_SYNCNT` 1, tcp(7)) gets ETIMEDOUT after 1 + 2 = 3 s, the rule that gives the
//! defaults' 131 s.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::wire::{self, Capture};
use demos::{Break, Demo, Observed, Result, brk, human, kstat, net, netns::NetNs};
use socket2::{Domain, Socket, Type};

const BREAKS: &[Break] = &[
    brk("no-drop", "no dropping queue: the SYN reaches the server"),
    brk("long-timeout", "the bounded connect waits 2 s, not 500 ms"),
    brk(
        "no-timeout",
        "the second connect() is a plain blocking one, with no timeout of its own",
    ),
    brk(
        "listener-drops",
        "no dropping queue, but the listener's accept queue is full: the server drops the SYNs",
    ),
    brk(
        "syncnt-2",
        "the probe allows two resends (TCP_SYNCNT 2), not one: ETIMEDOUT after 7 s, not 3 s",
    ),
    brk(
        "short-syn-retries",
        "the namespace allows 2 SYN resends, not the default 6: connect gives up in seconds",
    ),
];

/// How long the probe's connect (one resend allowed) may wait: SO_SNDTIMEO, past the
/// 3 s it should take and short of the 7 s two resends would.
const PROBE_WAIT: Duration = Duration::from_millis(3600);
/// How far from the rule's 3 s the probe's ETIMEDOUT may come.
const PROBE_SLACK: Duration = Duration::from_millis(500);
/// "About two minutes", as the defaults' give-up time must be.
const ABOUT_TWO_MINUTES: std::ops::RangeInclusive<u32> = 100..=180;

/// How long the blocking connect() is watched before the demo stops it.
const WATCH: Duration = Duration::from_millis(1500);
/// The caller's own limit on the second connect().
const TIMEOUT: Duration = Duration::from_millis(500);

/// Packets the loopback queues dropped, from `tc -s qdisc show dev lo` (all of them).
fn qdisc_drops(ns: &NetNs) -> Result<Observed<u64>> {
    demos::evidence::read("qdisc stats via tc -s (netlink)", || {
        let stats = ns.cmd("tc", &["-s", "qdisc", "show", "dev", "lo"])?;
        Ok(stats
            .split("dropped ")
            .skip(1)
            .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .filter_map(|n| n.parse::<u64>().ok())
            .sum())
    })
}

fn tcp_socket() -> Result<Socket> {
    Socket::new(Domain::IPV4, Type::STREAM, None).context("socket")
}

/// The kernel's `TCP_CLOSE` state (include/net/tcp_states.h), as TCP_INFO reports it.
const TCP_CLOSE: u8 = 7;
/// How long the blocking connect() may take to reach the kernel (its thread to start).
const START: Duration = Duration::from_secs(2);

/// Starts a blocking connect() and reports whether it was still waiting [`WATCH`] after
/// it began (its socket left CLOSE, as TCP_INFO says: on a loaded machine the thread
/// may start late, and the watch must not begin before the connect does); then shuts
/// the socket down, which ends the connect attempt. Also returns the socket's own
/// address, once it has one.
fn blocking_connect_pends(d: &Demo, addr: SocketAddr) -> Result<(bool, Option<SocketAddr>)> {
    let sock = tcp_socket()?;
    let local = || sock.local_addr().ok().and_then(|a| a.as_socket());
    let (done, finished) = mpsc::channel();
    let abandoned = AtomicBool::new(false);
    std::thread::scope(|s| -> Result<(bool, Option<SocketAddr>)> {
        s.spawn(|| {
            if abandoned.load(Ordering::SeqCst) {
                return;
            }
            let t0 = Instant::now();
            let result = sock.connect(&addr.into());
            let _ = done.send((result, t0.elapsed()));
        });
        let t0 = Instant::now();
        let mut result = None;
        // CLOSE until connect() has sent its SYN (or, with the SYN delivered, connected).
        while result.is_none() && net::tcp_info(&sock)?.value().tcpi_state == TCP_CLOSE {
            if t0.elapsed() > START {
                abandoned.store(true, Ordering::SeqCst);
                // Wakes a connect() that began just now; the thread ends either way.
                let _ = sock.shutdown(std::net::Shutdown::Both);
                anyhow::bail!("the connecting thread had not called connect() after {START:?}");
            }
            result = finished.recv_timeout(Duration::from_millis(1)).ok();
        }
        match result.map_or_else(|| finished.recv_timeout(WATCH).ok(), Some) {
            Some((result, took)) => {
                let result = demos::evidence::call("connect", || result);
                d.key(&result);
                d.key_derived(format_args!("it returned after {}", human(took)));
                Ok((false, local()))
            }
            None => {
                d.key_derived(format_args!(
                    "connect() had not returned after {:.1} s",
                    WATCH.as_secs_f64()
                ));
                let local = local();
                // shutdown() of a socket in SYN_SENT aborts the attempt and wakes connect().
                sock.shutdown(std::net::Shutdown::Both)
                    .context("shutdown of the connecting socket")?;
                Ok((true, local))
            }
        }
    })
}

/// When an unanswered SYN is first resent: after the initial retransmission timeout
/// (TCP_TIMEOUT_INIT, 1 s, RFC 6298), before and since Linux 6.5. The next resend comes
/// 1 s (since 6.5) or 2 s later, after the watch has ended.
const FIRST_RESEND: Duration = Duration::from_secs(1);

/// On the wire: the blocking connect's SYN, resent once at the kernel's interval while
/// the demo watched, and never answered.
fn resends_on_wire(d: &mut Demo, w: &Option<Capture>, ends: [SocketAddr; 2]) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    let seen = w.connection("blocking", ends[0], ends[1]);
    let mut c = seen.value().clone();
    let syns: Vec<usize> = (0..c.packets.len())
        .filter(|&i| c.packets[i].from_client && c.packets[i].has("SYN"))
        .collect();
    let answered = wire::first(&c, false, "SYN", 0).is_some();
    let at: Vec<Duration> = syns
        .iter()
        .map(|&i| wire::gap(&c.packets[syns[0]], &c.packets[i]))
        .collect();
    let on_time = at.len() == 2 && at[1].abs_diff(FIRST_RESEND) < Duration::from_millis(250);
    d.saw(&wire::read(&seen, |c| {
        let syns = c
            .packets
            .iter()
            .filter(|p| p.from_client && p.has("SYN"))
            .count();
        let answer = match wire::first(c, false, "SYN", 0) {
            Some(i) => format!("server → client: {}", c.packets[i].label()),
            None => "no answer".to_owned(),
        };
        format!("client → server: SYN ×{syns}; {answer}")
    }));
    if let Some(t) = at.get(1) {
        d.derived(format_args!(
            "the second SYN left {} after the first",
            human(*t)
        ));
    }
    c.key = syns.get(1).copied();
    wire::record(&c);
    d.check(
        on_time && !answered,
        format_args!(
            "on the wire: the SYN resent {} s after the first, unanswered, while we waited",
            FIRST_RESEND.as_secs()
        ),
    )
}

fn experiment(d: &mut Demo, ns: &NetNs, listener_full: bool) -> Result<(u32, u32)> {
    let w = wire::open(d)?;
    let limit = if d.breaks("long-timeout") {
        Duration::from_secs(2)
    } else {
        TIMEOUT
    };
    let server = tcp_socket()?;
    let any: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
    server.bind(&any.into()).context("bind 127.0.0.1:0")?;
    // Backlog 0 holds one connection: under `--break listener-drops` a first client
    // fills it, and the listener itself drops the SYNs that follow.
    server
        .listen(if listener_full { 0 } else { 16 })
        .context("listen")?;
    let addr = server
        .local_addr()
        .context("getsockname")?
        .as_socket()
        .context("the listener has no IP address")?;
    let retries = demos::evidence::read("/proc/sys/net/ipv4/tcp_syn_retries", || {
        ipv4_sysctl("tcp_syn_retries")?.context("no net.ipv4.tcp_syn_retries")
    })?;
    // Older kernels have no linear phase: as if it were 0.
    let linear = demos::evidence::read("/proc/sys/net/ipv4/tcp_syn_linear_timeouts", || {
        Ok(ipv4_sysctl("tcp_syn_linear_timeouts")?.unwrap_or(0))
    })?;
    d.saw(&retries);
    d.saw(&linear);
    let (retries, linear) = (*retries.value(), *linear.value());
    d.derived(format_args!(
        "without a timeout, ETIMEDOUT would come after {} s (not waited for here)",
        give_up_secs(retries, linear)
    ));

    let _filler = if listener_full {
        let filler = tcp_socket()?;
        filler
            .connect_timeout(&addr.into(), TIMEOUT)
            .context("the client that fills the accept queue")?;
        Some(filler)
    } else {
        None
    };
    d.step("blocking connect() to a server that is listening");
    let resent_before = kstat::this_netns("snmp", "Tcp", "RetransSegs")?;
    let drops_before = qdisc_drops(ns)?;
    let (pending, local) = blocking_connect_pends(d, addr)?;
    let resent = kstat::this_netns("snmp", "Tcp", "RetransSegs")?.since(&resent_before);
    let drops = qdisc_drops(ns)?.since(&drops_before);
    d.saw_that(&drops, "packets the loopback queues dropped");
    d.saw_that(&resent, "Tcp RetransSegs: SYNs sent again");

    d.step(format_args!(
        "the same connect with a {} ms timeout (non-blocking + poll)",
        TIMEOUT.as_millis()
    ));
    let t0 = Instant::now();
    let sock = tcp_socket()?;
    let timed_out = if d.breaks("no-timeout") {
        // Blocks until the kernel gives up (about 2 min): the watchdog ends the demo,
        // failing the check this call stands for.
        let blocked = d.syscall("connect, blocking, no timeout of our own", || {
            sock.connect(&addr.into())
        });
        d.key(&blocked);
        false
    } else {
        sock.set_nonblocking(true).context("O_NONBLOCK")?;
        let started = d.syscall("connect, O_NONBLOCK", || sock.connect(&addr.into()));
        d.saw(&started);
        let polled = d.syscall(
            format_args!("poll(POLLOUT, {} ms)", limit.as_millis()),
            || {
                use std::os::fd::AsFd;
                let mut fds = [nix::poll::PollFd::new(
                    sock.as_fd(),
                    nix::poll::PollFlags::POLLOUT,
                )];
                let ms = u16::try_from(limit.as_millis()).unwrap_or(u16::MAX);
                nix::poll::poll(&mut fds, ms)
            },
        );
        if matches!(polled.value(), Ok(0)) {
            d.saw_that(
                &polled,
                "nothing happened: our own timeout ran out, no errno",
            );
        } else {
            d.saw(&polled);
        }
        started.failed_with(nix::errno::Errno::EINPROGRESS) && matches!(polled.value(), Ok(0))
    };
    let took = t0.elapsed();
    d.derived(format_args!("after {}", human(took)));
    d.metric("connect.bounded_ms", took.as_secs_f64() * 1e3, "ms");
    resends_on_wire(
        d,
        &w,
        [local.context("the connecting socket had no address")?, addr],
    )?;

    d.check(
        pending,
        format_args!(
            "a blocking connect() was still waiting after {:.1} s: dropped SYNs do not fail fast",
            WATCH.as_secs_f64()
        ),
    )?;
    d.check(
        drops.value().delta() >= 2 && resent.value().delta() >= 1,
        "the queue dropped the SYNs (at least 2) and TCP sent them again (RetransSegs +1 or more)",
    )?;
    d.check(
        timed_out && took >= TIMEOUT.mul_f64(0.9) && took < TIMEOUT + Duration::from_millis(300),
        "the connect with a timeout gave up on time (within 300 ms of its 500 ms)",
    )?;
    Ok((retries, linear))
}

/// Loopback drops every packet as it arrives, in `ns`.
fn drop_on_arrival(ns: &NetNs) -> Result<()> {
    ns.cmd("tc", &["qdisc", "add", "dev", "lo", "clsact"])?;
    // Classic BPF `ret #2`: in direct-action mode, TC_ACT_SHOT, drop.
    ns.cmd(
        "tc",
        &[
            "filter",
            "add",
            "dev",
            "lo",
            "ingress",
            "bpf",
            "da",
            "bytecode",
            "1,6 0 0 2,",
        ],
    )?;
    Ok(())
}

/// In a second namespace of its own (dropping like the first, no linear phase): a
/// blocking connect allowed `syncnt` resends (TCP_SYNCNT), bounded by SO_SNDTIMEO. Its
/// answer, and how long it took.
fn probe(dropping: bool, syncnt: u32) -> Result<(Observed<std::io::Result<()>>, Duration)> {
    let ns = NetNs::new()?;
    ns.loopback_up()?;
    if dropping {
        drop_on_arrival(&ns)?;
    }
    // Since 6.5 the first resends come 1 s apart (tcp_syn_linear_timeouts); without
    // them the rule is tcp(7)'s doubling from 1 s, as on older kernels.
    if ns.read_sysctl("net/ipv4/tcp_syn_linear_timeouts").is_ok() {
        ns.sysctl("net/ipv4/tcp_syn_linear_timeouts", "0")?;
    }
    ns.run(|| {
        let server = tcp_socket()?;
        let any: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
        server.bind(&any.into()).context("bind 127.0.0.1:0")?;
        server.listen(16).context("listen")?;
        let addr = server.local_addr().context("getsockname")?;
        let sock = tcp_socket()?;
        let count = libc::c_int::try_from(syncnt).context("TCP_SYNCNT")?;
        // SAFETY: a valid socket, and a pointer to a c_int with its size.
        let rc = unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&sock),
                libc::IPPROTO_TCP,
                libc::TCP_SYNCNT,
                (&raw const count).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        anyhow::ensure!(
            rc == 0,
            "setsockopt(TCP_SYNCNT): {}",
            std::io::Error::last_os_error()
        );
        sock.set_write_timeout(Some(PROBE_WAIT))
            .context("SO_SNDTIMEO")?;
        let t0 = Instant::now();
        let answer = demos::evidence::call(
            format_args!(
                "connect, TCP_SYNCNT {syncnt}, SO_SNDTIMEO {:.1} s",
                PROBE_WAIT.as_secs_f64()
            ),
            || sock.connect(&addr),
        );
        Ok((answer, t0.elapsed()))
    })
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("with SYNs dropped, connect() hangs (about 2 min); only a timeout ends it early");
        let listener_full = d.breaks("listener-drops");
        let dropping = !d.breaks("no-drop") && !listener_full;

        if !demos::netns::can_create() {
            return Err(d.skip(
                "needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) for a network namespace of its own",
            ));
        }
        if std::process::Command::new("tc").arg("-V").output().is_err() {
            return Err(d.skip("needs iproute2's tc"));
        }
        // Ahead of ordinary tasks (and so are the threads and `tc` runs it starts): on a
        // loaded machine the set-up, the watch and the timed connect are then the
        // kernel's time, not a wait for a CPU (they ran past the 5 s limit under load).
        demos::measure_on_time();
        let syncnt = if d.breaks("syncnt-2") { 2 } else { 1 };
        let ns = NetNs::new()?;
        ns.loopback_up()?;
        if d.breaks("short-syn-retries") {
            ns.sysctl("net/ipv4/tcp_syn_retries", "2")?;
        }
        if dropping {
            d.step("in a namespace of our own, loopback drops every packet as it arrives");
            drop_on_arrival(&ns)?;
        } else {
            d.step("in a namespace of our own, loopback delivers every packet");
        }
        // The probe runs meanwhile (3 s), in a namespace of its own.
        let ((retries, linear), (answer, took)) = std::thread::scope(|s| -> Result<_> {
            let probing = s.spawn(|| probe(dropping, syncnt));
            let main = ns.run(|| experiment(d, &ns, listener_full));
            let probed = probing
                .join()
                .map_err(|_| anyhow::anyhow!("the probe's thread panicked"))?;
            Ok((main?, probed?))
        })?;

        d.step(format_args!(
            "meanwhile, in a second such namespace: connect with TCP_SYNCNT {syncnt} (resends allowed), no linear phase"
        ));
        d.key(&answer);
        d.derived(format_args!("after {}", human(took)));
        let rule = Duration::from_secs(give_up_secs(syncnt, 0).into());
        let give_up = give_up_secs(retries, linear);
        d.check(
            answer.failed_with(nix::errno::Errno::ETIMEDOUT)
                && took.abs_diff(rule) <= PROBE_SLACK
                && ABOUT_TWO_MINUTES.contains(&give_up),
            format_args!(
                "one resend allowed, ETIMEDOUT came after 1 + 2 = 3 s (within {} ms); by that rule this kernel's {retries} resends ({linear} linear) give up after {give_up} s: about two minutes ({} to {} s)",
                PROBE_SLACK.as_millis(),
                ABOUT_TWO_MINUTES.start(),
                ABOUT_TWO_MINUTES.end()
            ),
        )
    })
}

/// A number under /proc/sys/net/ipv4, or None when this kernel has no such setting.
fn ipv4_sysctl(name: &str) -> Result<Option<u32>> {
    let path = format!("/proc/sys/net/ipv4/{name}");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            text.trim()
                .parse()
                .with_context(|| format!("parsing {path}"))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {path}")),
    }
}

/// When a SYN that is never answered gives up: one wait per send, 1 s for the first
/// send and the `linear` resends after it, then doubling (tcp_write_timeout allows
/// `retries + linear` resends of a SYN).
fn give_up_secs(retries: u32, linear: u32) -> u32 {
    (0..=retries + linear)
        .map(|i| if i <= linear { 1 } else { 1 << (i - linear) })
        .sum()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_syn_give_up_time_matches_tcp7_and_the_linear_phase() {
        assert_eq!(super::give_up_secs(6, 0), 127);
        assert_eq!(super::give_up_secs(6, 4), 131);
        // The probe's case: one resend, no linear phase: 1 s, then 2 s.
        assert_eq!(super::give_up_secs(1, 0), 3);
    }
}
