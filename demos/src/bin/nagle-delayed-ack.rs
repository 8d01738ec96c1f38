//! TCP's defaults are tuned for bulk transfer: a request written in two pieces waits about 40 ms for a delayed ACK, even on loopback; TCP_NODELAY makes it take microseconds.
//!
//! tcp(7), `TCP_NODELAY`: "If set, disable the Nagle algorithm. This means that
//! segments are always sent as soon as possible, even if there is only a small amount
//! of data." Nagle holds the second small write until the first is acknowledged; the
//! server delays that ACK (40 ms at least on Linux) hoping to send it with a reply,
//! and the reply waits for the whole request.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::wire::{self, Capture};
use demos::{Break, Demo, Result, brk, human, median, net};

const BREAKS: &[Break] = &[
    brk(
        "nodelay-defaults",
        "the \"defaults\" run sets TCP_NODELAY too",
    ),
    brk(
        "quickack",
        "the server sets TCP_QUICKACK before each read: no delayed ACK",
    ),
    brk(
        "nodelay-some",
        "the \"defaults\" run sets TCP_NODELAY on every other request (one code path of two)",
    ),
    brk("nodelay-off", "the \"TCP_NODELAY\" run leaves Nagle on"),
    brk(
        "one-write-split",
        "the \"one write\" run writes each request in two pieces after all",
    ),
    brk(
        "slow-server",
        "the server acks at once (TCP_QUICKACK) but takes 45 ms before each reply: as slow, but not the delayed ACK",
    ),
    brk(
        "late-reply",
        "the server takes 30 ms before each reply: the wait is no longer the delayed ACK's",
    ),
];

/// Requests per variant: enough for a stable median, few enough to stay under 2 s.
const REQUESTS: usize = 25;
const PART: usize = 10;
const REPLY: &[u8] = b"ok, done!\n";

/// How the client writes each request.
#[derive(Clone, Copy)]
enum Client {
    /// Two `write`s of 10 bytes, Nagle on (the default).
    TwoWrites,
    /// Two `write`s of 10 bytes with TCP_NODELAY.
    TwoWritesNoDelay,
    /// One `write` of 20 bytes, Nagle on.
    OneWrite,
    /// Two `write`s of 10 bytes, TCP_NODELAY on every other request only.
    TwoWritesSomeNoDelay,
}

/// How the server answers: TCP_QUICKACK before each read, and a pause before each reply.
#[derive(Clone, Copy)]
struct Server {
    quickack: bool,
    reply_after: Duration,
}

/// Answers each 20-byte request with one reply, until the client hangs up.
fn serve(mut conn: TcpStream, how: Server) -> Result<usize> {
    let mut served = 0;
    let mut req = [0u8; 2 * PART];
    loop {
        if how.quickack {
            socket2::SockRef::from(&conn)
                .set_tcp_quickack(true)
                .context("TCP_QUICKACK")?;
        }
        match conn.read_exact(&mut req) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(served),
            Err(e) => return Err(e).context("server recv"),
        }
        std::thread::sleep(how.reply_after);
        conn.write_all(REPLY).context("server send")?;
        served += 1;
    }
}

/// What the demo's own clock measured over `REQUESTS` round trips.
struct Times {
    median: Duration,
    /// How many requests took [`DELAYED`] or more.
    delayed: usize,
}

/// Shorter than any wait for the delayed-ACK timer (40 ms, see `main`), longer than
/// any round trip that does not wait for it.
const DELAYED: Duration = Duration::from_millis(30);

/// Runs `REQUESTS` write-write-read round trips on a fresh connection; returns the
/// times from the first write to the whole reply, and the client's and server's
/// addresses.
fn measure(how: Client, answer: Server) -> Result<(Times, [std::net::SocketAddr; 2])> {
    let (mut client, server) = net::tcp_pair()?;
    let ends = [client.local_addr()?, client.peer_addr()?];
    client
        .set_nodelay(matches!(how, Client::TwoWritesNoDelay))
        .context("setting TCP_NODELAY")?;
    let server = std::thread::spawn(move || serve(server, answer));
    let mut times = Vec::with_capacity(REQUESTS);
    let mut reply = [0u8; REPLY.len()];
    for i in 0..REQUESTS {
        let part = [b'a' + (i % 26) as u8; PART];
        if let Client::TwoWritesSomeNoDelay = how {
            client
                .set_nodelay(i % 2 == 0)
                .context("setting TCP_NODELAY")?;
        }
        let t0 = Instant::now();
        match how {
            Client::OneWrite => client.write_all(&[part, part].concat()),
            _ => client
                .write_all(&part)
                .and_then(|()| client.write_all(&part)),
        }
        .context("client send")?;
        client.read_exact(&mut reply).context("client recv")?;
        times.push(t0.elapsed());
    }
    client
        .shutdown(std::net::Shutdown::Write)
        .context("shutdown")?;
    let served = server
        .join()
        .map_err(|_| anyhow::anyhow!("the server thread panicked"))??;
    anyhow::ensure!(served == REQUESTS, "server answered {served} requests");
    let delayed = times.iter().filter(|&&t| t >= DELAYED).count();
    Ok((
        Times {
            median: median(&mut times),
            delayed,
        },
        ends,
    ))
}

/// On the wire: each request that took [`DELAYED`] or more on the demo's clock
/// (`delayed` of them) is one whose second 10-byte segment left only after the
/// server's ACK of the first, and that ACK came [`DELAYED`] or more after the first
/// segment: the wait is Nagle's and the delayed ACK's, nothing else. (The same bound as
/// the clock's, not the timer's 40 ms: timestamps on the wire are taken a little after
/// the timer fires, and on an emulated CPU a 40 ms timer can show as 39 ms.) (How many wait is `main`'s
/// check, on the clock; not all do: a new connection starts in quick-ACK mode, and its
/// first request's segment is acknowledged at once.)
fn nagle_on_wire(
    d: &mut Demo,
    w: &Option<Capture>,
    ends: [std::net::SocketAddr; 2],
    delayed: usize,
) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    let seen = w.connection("defaults", ends[0], ends[1]);
    let mut c = seen.value().clone();
    let p = &c.packets;
    let at = |seq: u32| {
        p.iter()
            .position(|x| x.from_client && x.len > 0 && x.seq == seq)
    };
    // Each request as (first segment, the server's first ACK of it, second segment).
    let waits: Vec<[usize; 3]> = (0..REQUESTS as u32)
        .filter_map(|i| {
            let (a, b) = (at(1 + 20 * i)?, at(11 + 20 * i)?);
            let ack = (a..p.len()).find(|&k| !p[k].from_client && p[k].ack >= p[a].seq + 10)?;
            let delayed = wire::gap(&p[a], &p[ack]) >= DELAYED;
            (delayed && p[b].at_us >= p[ack].at_us).then_some([a, ack, b])
        })
        .collect();
    if let Some(&[a, ack, b]) = waits.get(waits.len() / 2) {
        let reply = wire::first(&c, false, "DATA", b).unwrap_or(b);
        d.key(&wire::read(&seen, |c| {
            let [a, ack, b] = [a, ack, b].map(|i| wire::describe(&c.packets[i]));
            format!("{a}; {ack}; {b}")
        }));
        d.derived(format_args!(
            "the server's ACK came {} after the first 10 bytes",
            human(wire::gap(&c.packets[a], &c.packets[ack]))
        ));
        (c.key, c.show) = (Some(ack), Some([a, reply]));
    }
    wire::record(&c);
    // A wire wait takes DELAYED or more on the clock too, so `waits.len() <= delayed`:
    // equal when every slow request is one.
    d.check(
        waits.len() == delayed,
        format_args!(
            "on the wire, every request over {0} ({delayed}) waited: its second segment left only after an ACK {0} or more late ({1} did)",
            human(DELAYED),
            waits.len()
        ),
    )
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("write-write-read: ~40 ms per request by default, microseconds with TCP_NODELAY");
        // Loopback of its own (as root): the capture sees this demo's packets only.
        demos::netns::isolate()?;
        // Ahead of ordinary tasks (as root): on a loaded machine the times are the
        // kernel's timer and loopback, not a wait for a CPU.
        demos::measure_on_time();

        d.step(format_args!(
            "{REQUESTS} requests of 2 writes x {PART} bytes, then read the reply (loopback)"
        ));
        let defaults = if d.breaks("nodelay-defaults") {
            Client::TwoWritesNoDelay
        } else if d.breaks("nodelay-some") {
            Client::TwoWritesSomeNoDelay
        } else {
            Client::TwoWrites
        };
        let answer = Server {
            quickack: d.breaks("quickack") || d.breaks("slow-server"),
            reply_after: if d.breaks("late-reply") {
                Duration::from_millis(30)
            } else if d.breaks("slow-server") {
                Duration::from_millis(45)
            } else {
                Duration::ZERO
            },
        };
        let w = wire::open(d)?;
        // Times from the demo's own clock: `so:` lines, not the kernel's words.
        let (default, ends) = measure(defaults, answer)?;
        d.derived(format_args!(
            "defaults:    median {}; {} of {REQUESTS} took over {}",
            human(default.median),
            default.delayed,
            human(DELAYED)
        ));
        let delayed = default.delayed;
        // The delayed-ACK timeout starts at TCP_ATO_MIN, 40 ms (HZ / 25), and the
        // kernel clamps it to at least TCP_DELACK_MIN (also 40 ms) when the round trip is
        // shorter; 30 ms leaves room for timer slack and rules out any smaller stall.
        d.check(
            delayed * 4 >= REQUESTS * 3,
            format_args!(
                "by default {delayed} of {REQUESTS} requests (3 in 4 or more) wait over {} for the delayed ACK",
                human(DELAYED)
            ),
        )?;
        d.check(
            default.median >= DELAYED && default.median <= Duration::from_millis(60),
            format_args!(
                "the median request takes {}: the delayed ACK's timer, about 40 ms (30 to 60 ms)",
                human(default.median)
            ),
        )?;
        nagle_on_wire(d, &w, ends, delayed)?;
        let nodelay_run = if d.breaks("nodelay-off") {
            Client::TwoWrites
        } else {
            Client::TwoWritesNoDelay
        };
        let (nodelay, _) = measure(nodelay_run, answer)?;
        d.key_derived(format_args!(
            "TCP_NODELAY: median {}",
            human(nodelay.median)
        ));
        let (default, nodelay) = (default.median, nodelay.median);
        d.chart_metric(
            "nagle.default.median",
            "write, write, read (defaults)",
            default.as_secs_f64() * 1e6,
            "µs",
        );
        d.chart_metric(
            "nagle.nodelay.median",
            "TCP_NODELAY",
            nodelay.as_secs_f64() * 1e6,
            "µs",
        );
        let ratio = default.as_secs_f64() / nodelay.as_secs_f64().max(1e-9);
        d.check(
            nodelay < Duration::from_millis(1) && ratio >= 100.0,
            format_args!(
                "with TCP_NODELAY a request takes microseconds (median under 1 ms): {ratio:.0}x faster (at least 100x)"
            ),
        )?;

        d.step("same requests, Nagle on, but each request in one write");
        let one_write = if d.breaks("one-write-split") {
            Client::TwoWrites
        } else {
            Client::OneWrite
        };
        let (Times { median: one, .. }, _) = measure(one_write, answer)?;
        d.derived(format_args!("one write:   median {}", human(one)));
        d.chart_metric(
            "nagle.one_write.median",
            "one write",
            one.as_secs_f64() * 1e6,
            "µs",
        );
        d.check(
            one.as_secs_f64() * 10.0 <= default.as_secs_f64(),
            "one write per request is fast without TCP_NODELAY too (at least 10x)",
        )?;
        d.detail("TCP_QUICKACK on the server acks at once, but only until the kernel");
        d.detail("  switches back to delayed ACKs; TCP_CORK is the opposite of NODELAY:");
        d.detail("  hold partial frames (up to 200 ms) until uncorked, e.g. header + sendfile");
        Ok(())
    })
}
