//! A deep queue in front of a slow link adds delay and no speed (bufferbloat): a round trip through it grows severalfold while a TCP transfer takes about the same time.
//!
//! tc-tbf(8): the token bucket filter holds traffic to a configured rate; what does not
//! fit in its queue (`limit`, in bytes) is dropped. Over the same link
//! ([`demos::link::Path`]) a bulk TCP transfer runs with a short queue and then a deep
//! one, while small UDP probes measure the round trip.
//!
//! The sender's congestion control is set on its socket (TCP_CONGESTION, tcp(7)) to
//! cubic, Linux's default loss-based algorithm, which grows its window until the queue
//! overflows; namespaces otherwise inherit the host's choice (BBR paces and keeps
//! queues short). Each queue size is measured in two alternating transfers; the round
//! trips (of the probes, which wait in the same queue as TCP's segments) are reported as
//! median, p99 and mean, and the mean is what is checked and charted.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::link::{A_ADDR, B_ADDR, Path, RATE, SMALL_QUEUE};
use demos::{Result, net};

const BIG_QUEUE: usize = 250_000;
/// The loss-based congestion control every sender sets explicitly.
const CONGESTION: &str = "cubic";
/// How often the prober measures the round trip.
const PROBE_EVERY: Duration = Duration::from_millis(2);

// The prober, the echoer, the TCP sender and receiver run ahead of ordinary tasks
// (`demos::measure_on_time`): on a loaded machine a probe's round trip is then the
// queue's delay and not the wait for a CPU, and a sender that waits for a CPU longer
// than the short queue lasts (6 ms) does not leave the link idle.
use demos::measure_on_time;

/// What a TCP transfer under probing saw.
struct Loaded {
    received: u64,
    retransmits: u32,
    rtts: Vec<Duration>,
}

/// Sends `bytes` over TCP from A to B while a UDP probe measures the round trip every
/// [`PROBE_EVERY`] (B echoes it back; the way back has no queue).
fn tcp_with_probes(path: &Path, bytes: u64) -> Result<Loaded> {
    let listener = path
        .b
        .run(|| TcpListener::bind(format!("{B_ADDR}:0")).context("bind a TCP listener in B"))?;
    let server = listener.local_addr().context("getsockname")?;
    let client = path.a.run(|| {
        TcpStream::connect_timeout(&server, demos::IO_TIMEOUT)
            .with_context(|| format!("connect to {server}"))
    })?;
    net::with_timeouts(&client)?;
    socket2::SockRef::from(&client)
        .set_tcp_congestion(CONGESTION.as_bytes())
        .with_context(|| format!("TCP_CONGESTION {CONGESTION}"))?;
    let (echo, echo_addr) = path.udp(&path.b, B_ADDR)?;
    let (probe, _) = path.udp(&path.a, A_ADDR)?;
    echo.set_read_timeout(Some(Duration::from_millis(20)))
        .context("SO_RCVTIMEO")?;
    let running = AtomicBool::new(true);
    let t0 = Instant::now();

    std::thread::scope(|s| {
        let echoer = s.spawn(|| {
            measure_on_time();
            let mut buf = [0u8; 64];
            while running.load(Ordering::Relaxed) {
                if let Ok((n, from)) = echo.recv_from(&mut buf) {
                    let _ = echo.send_to(&buf[..n], from);
                }
            }
        });
        let receiver = s.spawn(|| -> Result<u64> {
            measure_on_time();
            let (mut conn, _) = net::accept_timeout(&listener)?;
            net::with_timeouts(&conn)?;
            std::io::copy(&mut conn, &mut std::io::sink()).context("recv until EOF")
        });
        let prober = s.spawn(|| {
            measure_on_time();
            probe_until(&probe, echo_addr, t0, &running)
        });

        // The sender too: a sender that waits for a CPU longer than the short queue
        // lasts (6 ms) leaves the link idle, which no deep queue suffers.
        let sent = s
            .spawn(|| {
                measure_on_time();
                send_all(&client, bytes)
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the TCP sender panicked"))
            .and_then(|r| r);
        let received = receiver
            .join()
            .map_err(|_| anyhow::anyhow!("the TCP receiver panicked"));
        running.store(false, Ordering::Relaxed);
        let rtts = prober
            .join()
            .map_err(|_| anyhow::anyhow!("the prober panicked"))?;
        echoer
            .join()
            .map_err(|_| anyhow::anyhow!("the echoer panicked"))?;
        let retransmits = sent?;
        Ok(Loaded {
            received: received??,
            retransmits,
            rtts: rtts?,
        })
    })
}

/// Writes `bytes` and closes the sending side; returns TCP's count of retransmitted
/// segments (TCP_INFO tcpi_total_retrans).
fn send_all(conn: &TcpStream, bytes: u64) -> Result<u32> {
    let mut w = conn;
    std::io::copy(&mut std::io::repeat(1).take(bytes), &mut w).context("send")?;
    conn.shutdown(std::net::Shutdown::Write)
        .context("shutdown(SHUT_WR)")?;
    total_retrans(conn)
}

/// TCP_INFO's count of segments this connection retransmitted (tcp(7)).
fn total_retrans(conn: &TcpStream) -> Result<u32> {
    Ok(net::tcp_info(conn)?.value().tcpi_total_retrans)
}

/// Sends a probe every [`PROBE_EVERY`] while `running`, and collects the round trips of the
/// replies (each probe carries its send time).
fn probe_until(
    sock: &UdpSocket,
    to: SocketAddr,
    t0: Instant,
    running: &AtomicBool,
) -> Result<Vec<Duration>> {
    let mut rtts = Vec::new();
    let mut next = Instant::now();
    let mut stop_at = None;
    loop {
        let now = Instant::now();
        if stop_at.is_none() && !running.load(Ordering::Relaxed) {
            // Wait a little for replies still in the queue.
            stop_at = Some(now + Duration::from_millis(150));
        }
        if stop_at.is_some_and(|t| now >= t) {
            return Ok(rtts);
        }
        if stop_at.is_none() && now >= next {
            let stamp = (now - t0).as_nanos() as u64;
            sock.send_to(&stamp.to_be_bytes(), to)
                .context("send a probe")?;
            next += PROBE_EVERY;
        }
        let wait = next
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        sock.set_read_timeout(Some(wait)).context("SO_RCVTIMEO")?;
        let mut buf = [0u8; 8];
        if let Ok(8) = sock.recv(&mut buf) {
            let sent = Duration::from_nanos(u64::from_be_bytes(buf));
            rtts.push(t0.elapsed().saturating_sub(sent));
        }
    }
}

/// The median, the 99th percentile and the mean of the round trips.
fn summary(rtts: &[Duration]) -> Result<(Duration, Duration, Duration)> {
    let mut v = rtts.to_vec();
    if v.is_empty() {
        bail!("no probe came back");
    }
    let med = demos::median(&mut v);
    let p99 = v[(v.len() * 99 / 100).min(v.len() - 1)];
    let mean = v.iter().sum::<Duration>() / u32::try_from(v.len()).unwrap_or(u32::MAX);
    Ok((med, p99, mean))
}

/// What one queue size did over its rounds.
struct QueueRun {
    rtts: Vec<Duration>,
    /// How long its fastest transfer took: a loaded machine only ever makes a
    /// transfer slower (a stalled sender, a retransmission timeout), never faster than
    /// the link's rate allows.
    fastest: Duration,
    retransmits: u32,
    /// The fewest segments one of its transfers resent.
    fewest_resent: u32,
    dropped: u64,
    all_delivered: bool,
}

const BREAKS: &[demos::Break] = &[
    demos::brk("small-both", "both queues are the small one (15 KB)"),
    demos::brk("big-both", "both queues are the deep one (250 KB)"),
    demos::brk(
        "faster-deep",
        "the deep queue's transfers get a link twice as fast (40 Mbit/s): not the same path",
    ),
    demos::brk(
        "slower-deep",
        "the deep queue's transfers get a slower link (15 Mbit/s): not the same path",
    ),
];

/// How close the two queues' fastest transfers must be to count as "about the same
/// time": within this many percent either way (1 % or less in every run seen).
const SAME_TIME_PERCENT: u32 = 10;

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "a deep queue makes the round trips severalfold longer; the transfer takes about as long",
        );
        demos::link::needs(d)?;
        let path = Path::new()?;
        d.step(format_args!(
            "namespaces A and B, a veth pair {A_ADDR} -> {B_ADDR}, tbf {RATE} with a {} KB queue",
            SMALL_QUEUE / 1000
        ));

        let bytes: u64 = 1 << 20;
        let small_queue = if d.breaks("big-both") {
            BIG_QUEUE
        } else {
            SMALL_QUEUE
        };
        let deep_rate = if d.breaks("faster-deep") {
            "40mbit"
        } else if d.breaks("slower-deep") {
            "15mbit"
        } else {
            demos::link::RATE
        };
        let big_queue = if d.breaks("small-both") {
            SMALL_QUEUE
        } else {
            BIG_QUEUE
        };
        d.step(format_args!(
            "TCP ({CONGESTION}, set per socket): 1 MiB A to B, probing the round trip \
             every {} ms; queue {} KB, then {} KB, twice",
            PROBE_EVERY.as_millis(),
            small_queue / 1000,
            big_queue / 1000
        ));
        let mut runs = [small_queue, big_queue].map(|_| QueueRun {
            rtts: Vec::new(),
            fastest: Duration::MAX,
            retransmits: 0,
            fewest_resent: u32::MAX,
            dropped: 0,
            all_delivered: true,
        });
        for _round in 0..2 {
            for (i, limit) in [small_queue, big_queue].into_iter().enumerate() {
                let rate = if i == 1 { deep_rate } else { demos::link::RATE };
                path.set_queue_at(limit, rate, "change")?;
                let before = path.drops()?;
                let t0 = Instant::now();
                let run = tcp_with_probes(&path, bytes)?;
                let q = &mut runs[i];
                q.fastest = q.fastest.min(t0.elapsed());
                q.dropped += path.drops()?.since(&before).value().delta();
                q.retransmits += run.retransmits;
                q.fewest_resent = q.fewest_resent.min(run.retransmits);
                q.all_delivered &= run.received == bytes;
                q.rtts.extend(run.rtts);
            }
        }
        let mut stats = Vec::new();
        for (q, limit) in runs.iter().zip([small_queue, big_queue]) {
            let (med, p99, mean) = summary(&q.rtts)?;
            // Round trips from the demo's clock, drops and resends summed over the
            // runs from the qdisc's and TCP_INFO's counters: the demo's arithmetic.
            d.key_derived(format_args!(
                "queue {:>3} KB: round trip median {}, p99 {}, mean {} ({} probes); \
                 dropped {}, resent {}",
                limit / 1000,
                demos::human(med),
                demos::human(p99),
                demos::human(mean),
                q.rtts.len(),
                q.dropped,
                q.retransmits
            ));
            stats.push((med, p99, mean));
        }
        d.check(
            runs.iter().all(|q| q.all_delivered),
            "TCP delivered every byte, whatever the queue dropped",
        )?;
        // Cubic grows its window until the short queue overflows: every transfer
        // through it loses segments (a slow-start overshoot loses a burst) and resends.
        d.check(
            runs[0].dropped > 0 && runs[0].fewest_resent >= 2,
            "the short queue overflowed: it dropped packets, and TCP resent segments (2 or more) in each transfer",
        )?;
        // The link's rate sets the pace: 15 KB is already more than this path's
        // bandwidth-delay product, so a deeper queue has nothing left to speed up.
        let (small_took, big_took) = (runs[0].fastest, runs[1].fastest);
        let percent = 100.0 * big_took.as_secs_f64() / small_took.as_secs_f64();
        let same = f64::from(SAME_TIME_PERCENT);
        d.check(
            percent >= 100.0 - same && percent <= 100.0 + same,
            format_args!(
                "the deep queue moved 1 MiB in about the same time (within {SAME_TIME_PERCENT} %): {} against {} (fastest of 2)",
                demos::human(big_took),
                demos::human(small_took)
            ),
        )?;
        // Each queue's median, p99 and mean, in ms (the slide charts the means). The keys are
        // written out, so a search for a slide's metric finds where it is made.
        let [
            (small_med, small_p99, small_avg),
            (big_med, big_p99, big_avg),
        ] = [stats[0], stats[1]];
        for (key, label, value) in [
            ("rtt.queue_15kb", "short queue, median", small_med),
            ("rtt.queue_15kb_p99", "short queue, p99", small_p99),
            ("rtt.queue_15kb_mean", "short queue, mean", small_avg),
            ("rtt.queue_250kb", "deep queue, median", big_med),
            ("rtt.queue_250kb_p99", "deep queue, p99", big_p99),
            ("rtt.queue_250kb_mean", "deep queue, mean", big_avg),
        ] {
            d.chart_metric(key, label, value.as_secs_f64() * 1e3, "ms");
        }
        let ((_, _, small_mean), (_, _, big_mean)) = (stats[0], stats[1]);
        // The mean: a stalled transfer (an empty queue) pulls a median down and a busy
        // CPU pushes a p99 up, but neither moves the mean threefold.
        d.check(
            big_mean > 3 * small_mean,
            format_args!(
                "bufferbloat: the deep queue's mean round trip ({}) is over 3x the short one's ({})",
                demos::human(big_mean),
                demos::human(small_mean)
            ),
        )?;
        Ok(())
    })
}
