//! A full accept queue fails nobody: the kernel drops the new SYN, counts it in ListenOverflows, and the client's connect() just waits a second for its retry.
//!
//! tcp(7), listen(2): the backlog bounds the queue of established connections waiting
//! for accept(). When it is full, tcp_conn_request() drops an incoming SYN
//! (`LINUX_MIB_LISTENOVERFLOWS`, `ListenOverflows` in /proc/net/netstat) without any
//! answer, so the client resends it after its initial retransmission timeout (1 s).
//! The counters are per network namespace; the demo works in one of its own so that
//! nothing else moves them.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::wire::{self, Capture};
use demos::{Break, Demo, Observed, Result, brk, human, kstat, netns::NetNs};
use socket2::{Domain, Socket, Type};

const BREAKS: &[Break] = &[
    brk(
        "backlog-16",
        "the backlog is 16 instead of 1, so the queue never fills",
    ),
    brk(
        "backlog-0",
        "the backlog is 0 instead of 1, so the queue is full with client 1 and client 2's SYN is dropped",
    ),
    brk(
        "accept-early",
        "the server accepts a connection before client 3 connects",
    ),
    brk(
        "never-accept",
        "the server never accepts, so the queue never makes room for client 3",
    ),
    brk(
        "accept-late",
        "the server makes room only after 1.2 s, so client 3's first resend is dropped too",
    ),
];

/// How long the server waits before it accepts one connection and makes room.
const ACCEPT_AFTER: Duration = Duration::from_millis(200);
/// How long the server waits under `--break accept-late`: past the first resend (1 s).
const ACCEPT_LATE: Duration = Duration::from_millis(1200);
/// Less than the 1 s initial retransmission timeout a dropped SYN must wait out.
const RETRY_FLOOR: Duration = Duration::from_millis(800);
/// More than one retransmission timeout, less than two (the second resend comes at 2 s).
const RETRY_CEILING: Duration = Duration::from_millis(1500);

struct Counters {
    overflows: Observed<u64>,
    drops: Observed<u64>,
}

fn counters() -> Result<Counters> {
    Ok(Counters {
        overflows: kstat::this_netns("netstat", "TcpExt", "ListenOverflows")?,
        drops: kstat::this_netns("netstat", "TcpExt", "ListenDrops")?,
    })
}

fn listener(backlog: i32) -> Result<(Socket, SocketAddr)> {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).context("socket")?;
    let any: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
    sock.bind(&any.into()).context("bind 127.0.0.1:0")?;
    sock.listen(backlog).context("listen")?;
    let addr = sock
        .local_addr()
        .context("getsockname")?
        .as_socket()
        .context("the listener has no IP address")?;
    Ok((sock, addr))
}

/// connect() with a generous timeout: what it returned, the socket, and how long it
/// took (the demo's clock).
fn connect(addr: SocketAddr) -> Result<(Observed<std::io::Result<()>>, Socket, Duration)> {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).context("socket")?;
    let t0 = Instant::now();
    let r = demos::evidence::call("connect", || {
        sock.connect_timeout(&addr.into(), Duration::from_secs(3))
    });
    Ok((r, sock, t0.elapsed()))
}

/// How many connections wait in the listener's accept queue (`ss -lnt`'s Recv-Q),
/// from the `rx_queue` half of /proc/net/tcp's `tx_queue:rx_queue` column.
fn accept_queue(port: u16) -> Result<Observed<u64>> {
    demos::evidence::read("/proc/net/tcp rx_queue of the listener", || {
        accept_queue_raw(port)
    })
}

fn accept_queue_raw(port: u16) -> Result<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/net/tcp")
        .context("reading /proc/thread-self/net/tcp")?;
    let local = format!("0100007F:{port:04X}");
    text.lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cols| cols.get(1) == Some(&local.as_str()) && cols.get(3) == Some(&"0A"))
        .and_then(|cols| {
            let (_, waiting) = cols.get(4)?.split_once(':')?;
            u64::from_str_radix(waiting, 16).ok()
        })
        .with_context(|| format!("no listener on port {port} in /proc/net/tcp"))
}

/// On the wire: client 3's SYN (or its final ACK) was ignored, then sent again.
fn retry_on_wire(d: &mut Demo, w: &Option<Capture>, ends: [SocketAddr; 2]) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    let seen = w.connection("client 3", ends[0], ends[1]);
    let mut c = seen.value().clone();
    let handshake = |by_client: bool| -> Vec<usize> {
        let flags: &[&str] = if by_client { &["SYN"] } else { &["SYN", "ACK"] };
        let p = c.packets.iter().enumerate();
        p.filter(|(_, p)| p.from_client == by_client && flags.iter().all(|f| p.has(f)))
            .map(|(i, _)| i)
            .collect()
    };
    let (syns, synacks) = (handshake(true), handshake(false));
    // The SYN went unanswered and came again, and the SYN answered is the first resend
    // (1 s later), not a later one. (The listener drops the SYN itself when its queue
    // is full, tcp_conn_request(): the handshake never gets to a SYN-ACK.)
    let answered = synacks.first().copied();
    let before_answer: Vec<usize> = syns
        .iter()
        .copied()
        .filter(|&s| answered.is_none_or(|sa| s < sa))
        .collect();
    let again = match (before_answer.first(), before_answer.last()) {
        (Some(&first), Some(&last)) if first != last => Some((first, last)),
        _ => None,
    };
    if let Some((first, last)) = again {
        d.saw(&wire::read(&seen, |c| {
            let reply = answered.map_or("no answer".to_owned(), |sa| {
                format!("server → client: {}", c.packets[sa].label())
            });
            format!(
                "client → server: SYN ×{}; then {reply}",
                before_answer.len()
            )
        }));
        d.derived(format_args!(
            "the {} SYN left {} after the first",
            if answered.is_some() {
                "answered"
            } else {
                "last"
            },
            human(wire::gap(&c.packets[first], &c.packets[last]))
        ));
    }
    c.key = again.map(|(_, last)| last);
    wire::record(&c);
    d.check(
        again.is_some_and(|(a, b)| {
            let gap = wire::gap(&c.packets[a], &c.packets[b]);
            answered.is_some() && gap >= RETRY_FLOOR && gap < RETRY_CEILING
        }),
        "on the wire: client 3's SYN was ignored, and its resend about 1 s later (0.8 to 1.5 s) was answered",
    )
}

fn experiment(
    d: &mut Demo,
    backlog: i32,
    accept_early: bool,
    never: bool,
    accept_after: Duration,
) -> Result<()> {
    let w = wire::open(d)?;
    let before = counters()?;
    let (server, addr) = listener(backlog)?;
    d.step(format_args!(
        "listen(backlog {backlog}) in a network namespace of our own; nobody calls accept()"
    ));
    d.step("clients 1 and 2 connect");
    let (r1, _c1, t1) = connect(addr)?;
    let (r2, _c2, t2) = connect(addr)?;
    let waiting = accept_queue(addr.port())?;
    d.saw_that(&r1, "client 1");
    d.saw_that(&r2, "client 2");
    d.saw_that(&waiting, "waiting in the accept queue (ss -lnt: Recv-Q)");
    d.derived(format_args!(
        "connect() returned after {} and {}",
        human(t1),
        human(t2)
    ));
    d.check(
        t1.max(t2) < RETRY_FLOOR,
        "clients 1 and 2 did not wait (under 0.8 s each): the queue had room for both",
    )?;
    let _early = if accept_early {
        Some(server.accept().context("accept")?)
    } else {
        None
    };

    d.step(format_args!(
        "client 3 connects; the server accepts one connection {} ms later",
        ACCEPT_AFTER.as_millis()
    ));
    let (r3, c3, t3) = std::thread::scope(|s| -> Result<_> {
        let accepter = (!never).then(|| {
            s.spawn(|| {
                std::thread::sleep(accept_after);
                server.accept().context("accept")
            })
        });
        let third = connect(addr);
        if let Some(accepter) = accepter {
            let accepted = accepter
                .join()
                .map_err(|_| anyhow::anyhow!("the accepting thread panicked"))?;
            accepted?;
        }
        third
    })?;
    let after = counters()?;
    let overflows = after.overflows.since(&before.overflows);
    let drops = after.drops.since(&before.drops);
    d.key_that(&overflows, "ListenOverflows");
    d.saw_that(&drops, "ListenDrops");
    d.saw_that(&r3, "client 3");
    d.key_derived(format_args!(
        "client 3's connect() returned after {}",
        human(t3)
    ));
    d.metric("accept.connect_ms", t3.as_secs_f64() * 1e3, "ms");
    let local = c3
        .local_addr()?
        .as_socket()
        .context("client 3 has no IP address")?;
    retry_on_wire(d, &w, [local, addr])?;

    // listen(2)'s backlog 1 lets two connections wait (the queue is full when it holds
    // more than the backlog): clients 1 and 2, and no room for client 3.
    d.check(
        *waiting.value() == 2 && overflows.value().delta() >= 1,
        "the full queue (2 waiting) dropped client 3's SYN (ListenOverflows moved)",
    )?;
    d.check(
        r3.is_ok(),
        "and failed nobody: client 3's connect() succeeded",
    )?;
    d.check(
        t3 >= RETRY_FLOOR && t3 < RETRY_CEILING,
        "client 3 waited about 1 s for its SYN to be resent (0.8 to 1.5 s)",
    )?;
    Ok(())
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("a full accept queue drops the SYN: ListenOverflows moves, connect() waits ~1 s");
        let accept_early = d.breaks("accept-early");
        let never = d.breaks("never-accept");
        let backlog = if d.breaks("backlog-16") {
            16
        } else if d.breaks("backlog-0") {
            0
        } else {
            1
        };
        let accept_after = if d.breaks("accept-late") {
            ACCEPT_LATE
        } else {
            ACCEPT_AFTER
        };
        if !demos::netns::can_create() {
            return Err(d.skip(
                "needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) for a network namespace of its own",
            ));
        }
        // Ahead of ordinary tasks, so that on a loaded machine client 3's wait is the
        // kernel's retransmission timeout, not a wait for a CPU.
        demos::measure_on_time();
        let ns = NetNs::new()?;
        ns.loopback_up()?;
        ns.run(|| experiment(d, backlog, accept_early, never, accept_after))
    })
}
