//! UDP sent faster than a link's rate loses datagrams without a word: every sendto succeeds, and the queue in front of the link drops what does not fit.
//!
//! tc-tbf(8): the token bucket filter holds traffic to a configured rate; what does not
//! fit in its queue (`limit`, in bytes) is dropped. udp(7): "a connectionless,
//! unreliable datagram packet service"; a datagram dropped by a local queue is not
//! reported to the sender unless it asked for errors (IP_RECVERR).

use std::time::{Duration, Instant};

use anyhow::Context;
use demos::link::{A_ADDR, B_ADDR, Path, RATE, RATE_BYTES_PER_SEC, SMALL_QUEUE};
use demos::{Break, Observed, Result, Tally, brk};

const BREAKS: &[Break] = &[
    brk(
        "half-rate",
        "UDP at half the link rate, so nothing needs dropping",
    ),
    brk(
        "recverr",
        "the sender sets IP_RECVERR, so local drops come back as errors",
    ),
    brk(
        "big-queue",
        "the link's queue holds 1 MB, more than the whole flood",
    ),
    brk(
        "barely-over",
        "UDP at 1.05 times the link rate: some loss, far from the 25 % the check wants",
    ),
];

/// UDP at `factor` times the link rate, paced: every sendto's answer, and every
/// datagram the receiver's recv returned.
fn udp_flood(
    path: &Path,
    count: u32,
    factor: f64,
    recverr: bool,
) -> Result<(Observed<Tally>, Observed<Tally>)> {
    let (rx, rx_addr) = path.udp(&path.b, B_ADDR)?;
    let (tx, _) = path.udp(&path.a, A_ADDR)?;
    if recverr {
        nix::sys::socket::setsockopt(&tx, nix::sys::socket::sockopt::Ipv4RecvErr, &true)
            .context("IP_RECVERR")?;
    }
    rx.set_read_timeout(Some(Duration::from_millis(1000)))
        .context("SO_RCVTIMEO")?;
    // Room for the whole flood at the receiver (past net.core.rmem_max: this demo runs
    // as root anyway), so that a receiver slowed by a busy machine loses nothing and
    // every loss is the link's queue (it lost 32 of 600 in its socket buffer once).
    nix::sys::socket::setsockopt(&rx, nix::sys::socket::sockopt::RcvBufForce, &(8 << 20))
        .context("SO_RCVBUFFORCE")?;
    let payload = [7u8; 1000];
    let interval = Duration::from_secs_f64(payload.len() as f64 / (factor * RATE_BYTES_PER_SEC));
    std::thread::scope(|s| {
        let receiver = s.spawn(|| {
            let mut buf = [0u8; 2000];
            let mut got = Tally::start("recv of a 1000-byte datagram");
            // Stop at the end marker, or when nothing came for 1 s (a loaded machine may stall the sender).
            loop {
                let answer = demos::evidence::call("recv", || rx.recv(&mut buf));
                match answer.value() {
                    Ok(1000) => got.count(&answer),
                    _ => break got,
                }
            }
        });
        let t0 = Instant::now();
        let mut sent = Tally::start("sendto");
        let mut calls = 0;
        while calls < count {
            let due = (t0.elapsed().as_secs_f64() / interval.as_secs_f64()) as u32 + 1;
            while calls < due.min(count) {
                let _ = sent.call(|| tx.send_to(&payload, rx_addr));
                calls += 1;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        // Let the queue drain, then mark the end (three times: it may be dropped too).
        std::thread::sleep(Duration::from_millis(30));
        for _ in 0..3 {
            let _ = tx.send_to(b"!", rx_addr);
            std::thread::sleep(Duration::from_millis(5));
        }
        let got = receiver
            .join()
            .map_err(|_| anyhow::anyhow!("the UDP receiver panicked"))?;
        Ok((sent.finish(), got.finish()))
    })
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("UDP above the link's rate loses datagrams, and the sender is never told");
        demos::link::needs(d)?;
        let path = Path::new()?;
        d.step(format_args!(
            "namespaces A and B, a veth pair {A_ADDR} -> {B_ADDR}, tbf {RATE} with a {} KB queue",
            SMALL_QUEUE / 1000
        ));
        if d.breaks("big-queue") {
            path.set_queue(1_000_000, "change")?;
        }
        let recverr = d.breaks("recverr");
        let (factor, speed) = if d.breaks("half-rate") {
            (0.5, "10 Mbit/s, half")
        } else if d.breaks("barely-over") {
            (1.05, "21 Mbit/s, 1.05 times")
        } else {
            (2.0, "40 Mbit/s, twice")
        };
        let count = 600;
        let before = path.drops()?;
        d.step(format_args!(
            "UDP: {count} datagrams of 1000 B at {speed} the link rate"
        ));
        let (sent, got) = udp_flood(&path, count, factor, recverr)?;
        let dropped = path.drops()?.since(&before);
        d.key(&sent);
        d.key(&got);
        d.saw_that(&dropped, "packets the link's queue dropped");
        let (sent, got, dropped) = (sent.value(), got.value().ok(), dropped.value().delta());
        let lost = sent.ok().saturating_sub(got);
        d.derived(format_args!("{lost} of {} datagrams lost", sent.ok()));
        d.chart_metric("udp.sent", "sent", sent.ok() as f64, "datagrams");
        d.chart_metric("udp.received", "received", got as f64, "datagrams");
        d.check(
            sent.ok() == u64::from(count) && sent.failures() == 0,
            format_args!("the sender never heard: all {count} sendto calls succeeded"),
        )?;
        d.check(
            lost > sent.ok() / 4,
            format_args!(
                "UDP lost over 25 % ({:.0} %) without telling the sender",
                100.0 * lost as f64 / sent.ok() as f64
            ),
        )?;
        d.check(
            lost <= dropped,
            "every lost datagram was dropped by the queue in front of the link",
        )?;
        Ok(())
    })
}
