//! On a congested path UDP silently loses what does not fit while TCP delivers every byte, and a big queue in front of the link adds latency that a small one does not, and no speed (bufferbloat).
//!
//! tc-tbf(8): the token bucket filter holds traffic to a configured rate; what does not
//! fit in its queue (`limit`, in bytes) is dropped. udp(7): "a connectionless,
//! unreliable datagram packet service"; a datagram dropped by a local queue is not
//! reported to the sender unless it asked for errors (IP_RECVERR).
//!
//! The sender's congestion control is set on its socket (TCP_CONGESTION, tcp(7)) to
//! cubic, Linux's default loss-based algorithm, which grows its window until the queue
//! overflows; namespaces otherwise inherit the host's choice (BBR paces and keeps
//! queues short). Each queue size is measured in two alternating transfers, and the
//! round trips are reported as median and p99.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::netns::NetNs;
use demos::{Result, net};

/// The link: 20 Mbit/s is 2.5 MB/s, so a queue of N KB holds N/2.5 ms of traffic.
const RATE: &str = "20mbit";
const RATE_BYTES_PER_SEC: f64 = 2.5e6;
const SMALL_QUEUE: usize = 15_000;
const BIG_QUEUE: usize = 250_000;
/// The loss-based congestion control every sender sets explicitly.
const CONGESTION: &str = "cubic";
/// How often the prober measures the round trip.
const PROBE_EVERY: Duration = Duration::from_millis(2);
const A_ADDR: &str = "10.77.0.1";
const B_ADDR: &str = "10.77.0.2";

/// Two namespaces, A and B, joined by a veth pair; A's end has the rate limit. It
/// exists only inside the namespaces: when they go, so does everything in them.
struct Path {
    a: NetNs,
    b: NetNs,
    dev: String,
}

impl Path {
    fn new() -> Result<Path> {
        let (a, b) = (NetNs::new()?, NetNs::new()?);
        let pid = std::process::id();
        let (dev, peer) = (format!("ek{pid}a"), format!("ek{pid}b"));
        a.cmd(
            "ip",
            &[
                "link",
                "add",
                &dev,
                "type",
                "veth",
                "peer",
                "name",
                &peer,
                "netns",
                &b.path(),
            ],
        )?;
        for (ns, name, addr) in [(&a, &dev, A_ADDR), (&b, &peer, B_ADDR)] {
            ns.cmd("ip", &["addr", "add", &format!("{addr}/24"), "dev", name])?;
            ns.cmd("ip", &["link", "set", name, "up"])?;
        }
        let path = Path { a, b, dev };
        path.set_queue(SMALL_QUEUE, "add")?;
        Ok(path)
    }

    /// Puts a token bucket of RATE on A's side with a queue of `limit` bytes.
    fn set_queue(&self, limit: usize, verb: &str) -> Result<()> {
        let limit = limit.to_string();
        self.a.cmd(
            "tc",
            &[
                "qdisc", verb, "dev", &self.dev, "root", "tbf", "rate", RATE, "burst", "10kb",
                "limit", &limit,
            ],
        )?;
        Ok(())
    }

    /// Packets the queue has dropped so far (`tc -s qdisc`: "dropped N").
    fn drops(&self) -> Result<u64> {
        let stats = self
            .a
            .cmd("tc", &["-s", "qdisc", "show", "dev", &self.dev])?;
        stats
            .split("dropped ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no drop count in tc's statistics: {stats}"))
    }

    fn udp(&self, ns: &NetNs, ip: &str) -> Result<(UdpSocket, SocketAddr)> {
        let addr: SocketAddr = format!("{ip}:0").parse().context("an address")?;
        let sock = ns.run(|| UdpSocket::bind(addr).with_context(|| format!("bind {addr}")))?;
        net::with_timeouts(&sock)?;
        let local = sock.local_addr().context("getsockname")?;
        Ok((sock, local))
    }
}

/// UDP at twice the link rate, paced: returns (sent, received).
fn udp_flood(path: &Path, count: u32) -> Result<(u32, u32)> {
    let (rx, rx_addr) = path.udp(&path.b, B_ADDR)?;
    let (tx, _) = path.udp(&path.a, A_ADDR)?;
    rx.set_read_timeout(Some(Duration::from_millis(300)))
        .context("SO_RCVTIMEO")?;
    let payload = [7u8; 1000];
    let interval = Duration::from_secs_f64(payload.len() as f64 / (2.0 * RATE_BYTES_PER_SEC));
    std::thread::scope(|s| {
        let receiver = s.spawn(|| {
            let mut buf = [0u8; 2000];
            let mut got = 0;
            // Stop at the end marker, or when nothing came for 300 ms.
            while let Ok(n) = rx.recv(&mut buf) {
                if n == 1 {
                    break;
                }
                got += 1;
            }
            got
        });
        let t0 = Instant::now();
        let mut sent = 0;
        while sent < count {
            let due = (t0.elapsed().as_secs_f64() / interval.as_secs_f64()) as u32 + 1;
            while sent < due.min(count) {
                tx.send_to(&payload, rx_addr).context("sendto")?;
                sent += 1;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        // Let the queue drain, then mark the end (three times: it may be dropped too).
        std::thread::sleep(Duration::from_millis(30));
        for _ in 0..3 {
            tx.send_to(b"!", rx_addr).context("sendto")?;
            std::thread::sleep(Duration::from_millis(5));
        }
        let got = receiver
            .join()
            .map_err(|_| anyhow::anyhow!("the UDP receiver panicked"))?;
        Ok((sent, got))
    })
}

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
            let mut buf = [0u8; 64];
            while running.load(Ordering::Relaxed) {
                if let Ok((n, from)) = echo.recv_from(&mut buf) {
                    let _ = echo.send_to(&buf[..n], from);
                }
            }
        });
        let receiver = s.spawn(|| -> Result<u64> {
            let (mut conn, _) = net::accept_timeout(&listener)?;
            net::with_timeouts(&conn)?;
            std::io::copy(&mut conn, &mut std::io::sink()).context("recv until EOF")
        });
        let prober = s.spawn(|| probe_until(&probe, echo_addr, t0, &running));

        let sent = send_all(&client, bytes);
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
    Ok(net::tcp_info(conn)?.tcpi_total_retrans)
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
    /// How long its transfers took, in all.
    took: Duration,
    retransmits: u32,
    dropped: u64,
    all_delivered: bool,
}

fn main() {
    demos::run(|d| {
        d.expect("UDP above the link rate loses datagrams, TCP loses none; a big queue adds delay, not speed");
        if !demos::netns::can_create() {
            return Err(
                d.skip("needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to create network namespaces")
            );
        }
        if std::process::Command::new("tc").arg("-V").output().is_err() {
            return Err(d.skip("needs iproute2's ip and tc"));
        }
        let path = Path::new()?;
        d.step(format_args!(
            "namespaces A and B, a veth pair {A_ADDR} -> {B_ADDR}, tbf {RATE} with a {} KB queue",
            SMALL_QUEUE / 1000
        ));

        let count = 600;
        let before = path.drops()?;
        d.step(format_args!(
            "UDP: {count} datagrams of 1000 B at 40 Mbit/s, twice the link rate"
        ));
        let (sent, got) = udp_flood(&path, count)?;
        let dropped = path.drops()? - before;
        let lost = sent - got;
        d.saw(format_args!(
            "sendto() succeeded {sent} times; {got} arrived, {lost} lost; the queue dropped {dropped}"
        ));
        d.check(
            lost > sent / 4,
            format_args!(
                "UDP lost {:.0} % without telling the sender",
                100.0 * f64::from(lost) / f64::from(sent)
            ),
        )?;
        d.check(
            u64::from(lost) <= dropped,
            "every lost datagram was dropped by the queue in front of the link",
        )?;
        d.chart_metric("udp.sent", "sent", f64::from(sent), "datagrams");
        d.chart_metric("udp.received", "received", f64::from(got), "datagrams");

        let bytes: u64 = 1 << 20;
        let big_queue = if d.breaks("both queues are the small one (15 KB)") {
            SMALL_QUEUE
        } else {
            BIG_QUEUE
        };
        d.step(format_args!(
            "TCP ({CONGESTION}, set per socket): 1 MiB A to B, probing the round trip \
             every {} ms; queue {} KB, then {} KB, twice",
            PROBE_EVERY.as_millis(),
            SMALL_QUEUE / 1000,
            big_queue / 1000
        ));
        let mut runs = [SMALL_QUEUE, big_queue].map(|_| QueueRun {
            rtts: Vec::new(),
            took: Duration::ZERO,
            retransmits: 0,
            dropped: 0,
            all_delivered: true,
        });
        for _round in 0..2 {
            for (i, limit) in [SMALL_QUEUE, big_queue].into_iter().enumerate() {
                path.set_queue(limit, "change")?;
                let before = path.drops()?;
                let t0 = Instant::now();
                let run = tcp_with_probes(&path, bytes)?;
                let q = &mut runs[i];
                q.took += t0.elapsed();
                q.dropped += path.drops()? - before;
                q.retransmits += run.retransmits;
                q.all_delivered &= run.received == bytes;
                q.rtts.extend(run.rtts);
            }
        }
        let mut stats = Vec::new();
        for (q, limit) in runs.iter().zip([SMALL_QUEUE, big_queue]) {
            let (med, p99, mean) = summary(&q.rtts)?;
            d.key(format_args!(
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
        // The link's rate sets the pace: 15 KB is already more than this path's
        // bandwidth-delay product, so a deeper queue has nothing left to speed up.
        let (small_took, big_took) = (runs[0].took, runs[1].took);
        d.check(
            big_took.as_secs_f64() >= 0.9 * small_took.as_secs_f64(),
            format_args!(
                "the deep queue moved the same bytes no faster: {} against {}",
                demos::human(big_took),
                demos::human(small_took)
            ),
        )?;
        let ((small_med, small_p99, small_mean), (big_med, big_p99, big_mean)) =
            (stats[0], stats[1]);
        d.chart_metric(
            "rtt.queue_15kb",
            "short queue, median",
            small_med.as_secs_f64() * 1e3,
            "ms",
        );
        d.chart_metric(
            "rtt.queue_15kb_p99",
            "short queue, p99",
            small_p99.as_secs_f64() * 1e3,
            "ms",
        );
        d.chart_metric(
            "rtt.queue_15kb_mean",
            "short queue, mean",
            small_mean.as_secs_f64() * 1e3,
            "ms",
        );
        d.chart_metric(
            "rtt.queue_250kb",
            "deep queue, median",
            big_med.as_secs_f64() * 1e3,
            "ms",
        );
        d.chart_metric(
            "rtt.queue_250kb_p99",
            "deep queue, p99",
            big_p99.as_secs_f64() * 1e3,
            "ms",
        );
        d.chart_metric(
            "rtt.queue_250kb_mean",
            "deep queue, mean",
            big_mean.as_secs_f64() * 1e3,
            "ms",
        );
        // The mean: a stalled transfer (an empty queue) pulls a median down and a busy
        // CPU pushes a p99 up, but neither moves the mean threefold.
        d.check(
            big_mean > 3 * small_mean,
            format_args!(
                "bufferbloat: the big queue's mean round trip ({}) is over 3x the small one's ({})",
                demos::human(big_mean),
                demos::human(small_mean)
            ),
        )?;
        Ok(())
    })
}
