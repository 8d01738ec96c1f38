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
//! The demo drops every packet in a network namespace of its own with a `pfifo`
//! queue of length 0 on its loopback interface (this kernel has no netem).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::{Break, Demo, Observed, Result, brk, human, kstat, netns::NetNs};
use socket2::{Domain, Socket, Type};

const BREAKS: &[Break] = &[
    brk("no-drop", "no dropping queue: the SYN reaches the server"),
    brk("long-timeout", "the bounded connect waits 2 s, not 500 ms"),
];

/// How long the blocking connect() is watched before the demo stops it.
const WATCH: Duration = Duration::from_millis(1500);
/// The caller's own limit on the second connect().
const TIMEOUT: Duration = Duration::from_millis(500);

/// Packets the loopback queue dropped, from `tc -s qdisc show dev lo`.
fn qdisc_drops(ns: &NetNs) -> Result<Observed<u64>> {
    demos::evidence::read("qdisc stats via tc -s (netlink)", || {
        let stats = ns.cmd("tc", &["-s", "qdisc", "show", "dev", "lo"])?;
        Ok(stats
            .split("dropped ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    })
}

fn tcp_socket() -> Result<Socket> {
    Socket::new(Domain::IPV4, Type::STREAM, None).context("socket")
}

/// Starts a blocking connect() and reports whether it was still waiting after
/// [`WATCH`]; then shuts the socket down, which ends the connect attempt.
fn blocking_connect_pends(d: &Demo, addr: SocketAddr) -> Result<bool> {
    let sock = tcp_socket()?;
    let (done, finished) = mpsc::channel();
    std::thread::scope(|s| -> Result<bool> {
        s.spawn(|| {
            let t0 = Instant::now();
            let result = sock.connect(&addr.into());
            let _ = done.send((result, t0.elapsed()));
        });
        match finished.recv_timeout(WATCH) {
            Ok((result, took)) => {
                let result = demos::evidence::call("connect", || result);
                d.key(&result);
                d.key_derived(format_args!("it returned after {}", human(took)));
                Ok(false)
            }
            Err(_) => {
                d.key_derived(format_args!(
                    "connect() had not returned after {:.1} s",
                    WATCH.as_secs_f64()
                ));
                // shutdown() of a socket in SYN_SENT aborts the attempt and wakes connect().
                sock.shutdown(std::net::Shutdown::Both)
                    .context("shutdown of the connecting socket")?;
                Ok(true)
            }
        }
    })
}

fn experiment(d: &mut Demo, ns: &NetNs, dropping: bool) -> Result<()> {
    let limit = if d.breaks("long-timeout") {
        Duration::from_secs(2)
    } else {
        TIMEOUT
    };
    let server = tcp_socket()?;
    let any: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
    server.bind(&any.into()).context("bind 127.0.0.1:0")?;
    server.listen(16).context("listen")?;
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

    d.step("blocking connect() to a server that is listening");
    let resent_before = kstat::this_netns("snmp", "Tcp", "RetransSegs")?;
    let drops_before = qdisc_drops(ns)?;
    let pending = blocking_connect_pends(d, addr)?;
    let resent = kstat::this_netns("snmp", "Tcp", "RetransSegs")?.since(&resent_before);
    let drops = qdisc_drops(ns)?.since(&drops_before);
    let _ = dropping;
    d.saw_that(&drops, "packets the loopback queue dropped");
    d.saw_that(&resent, "Tcp RetransSegs: SYNs sent again");

    d.step(format_args!(
        "the same connect with a {} ms timeout (non-blocking + poll)",
        TIMEOUT.as_millis()
    ));
    let t0 = Instant::now();
    let sock = tcp_socket()?;
    let bounded = d.syscall("connect (EINPROGRESS), then poll(POLLOUT, 500 ms)", || {
        sock.connect_timeout(&addr.into(), limit)
    });
    let took = t0.elapsed();
    // socket2 reports poll running out as an error of kind TimedOut, with no errno:
    // it is our timeout, not the kernel's ETIMEDOUT.
    let timed_out = matches!(bounded.value(), Err(e) if e.kind() == std::io::ErrorKind::TimedOut && e.raw_os_error().is_none());
    d.key_that(&bounded, "poll returned 0: our own timeout, not an errno");
    d.key_derived(format_args!("after {}", human(took)));
    d.metric("connect.bounded_ms", took.as_secs_f64() * 1e3, "ms");

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
    Ok(())
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("with SYNs dropped, connect() hangs (about 2 min); only a timeout ends it early");
        let dropping = !d.breaks("no-drop");

        if !demos::netns::can_create() {
            return Err(d.skip(
                "needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) for a network namespace of its own",
            ));
        }
        if std::process::Command::new("tc").arg("-V").output().is_err() {
            return Err(d.skip("needs iproute2's tc"));
        }
        let ns = NetNs::new()?;
        ns.loopback_up()?;
        if dropping {
            d.step("in a namespace of our own, loopback drops every packet (pfifo limit 0)");
            ns.cmd(
                "tc",
                &["qdisc", "add", "dev", "lo", "root", "pfifo", "limit", "0"],
            )?;
        } else {
            d.step("in a namespace of our own, loopback delivers every packet");
        }
        ns.run(|| experiment(d, &ns, dropping))
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
    }
}
