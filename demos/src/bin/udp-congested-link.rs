//! UDP sent faster than a link's rate loses datagrams without a word: every sendto succeeds, and the queue in front of the link drops what does not fit.
//!
//! tc-tbf(8): the token bucket filter holds traffic to a configured rate; what does not
//! fit in its queue (`limit`, in bytes) is dropped. udp(7): "a connectionless,
//! unreliable datagram packet service"; a datagram dropped by a local queue is not
//! reported to the sender unless it asked for errors (IP_RECVERR).
//!
//! `--break` sends at half the link's rate: the queue has nothing to drop, and the
//! loss check fails.

use std::time::{Duration, Instant};

use anyhow::Context;
use demos::Result;
use demos::link::{A_ADDR, B_ADDR, Path, RATE, RATE_BYTES_PER_SEC, SMALL_QUEUE};

/// UDP at `factor` times the link rate, paced: returns (sent, received).
fn udp_flood(path: &Path, count: u32, factor: f64) -> Result<(u32, u32)> {
    let (rx, rx_addr) = path.udp(&path.b, B_ADDR)?;
    let (tx, _) = path.udp(&path.a, A_ADDR)?;
    rx.set_read_timeout(Some(Duration::from_millis(300)))
        .context("SO_RCVTIMEO")?;
    let payload = [7u8; 1000];
    let interval = Duration::from_secs_f64(payload.len() as f64 / (factor * RATE_BYTES_PER_SEC));
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

fn main() {
    demos::run(|d| {
        d.expect("UDP above the link's rate loses datagrams, and the sender is never told");
        demos::link::needs(d)?;
        let path = Path::new()?;
        d.step(format_args!(
            "namespaces A and B, a veth pair {A_ADDR} -> {B_ADDR}, tbf {RATE} with a {} KB queue",
            SMALL_QUEUE / 1000
        ));
        let (factor, speed) = if d.breaks("UDP at half the link rate, so nothing needs dropping") {
            (0.5, "10 Mbit/s, half")
        } else {
            (2.0, "40 Mbit/s, twice")
        };
        let count = 600;
        let before = path.drops()?;
        d.step(format_args!(
            "UDP: {count} datagrams of 1000 B at {speed} the link rate"
        ));
        let (sent, got) = udp_flood(&path, count, factor)?;
        let dropped = path.drops()? - before;
        let lost = sent - got;
        d.key(format_args!(
            "sendto() succeeded {sent} times; {got} arrived, {lost} lost; the queue dropped {dropped}"
        ));
        d.chart_metric("udp.sent", "sent", f64::from(sent), "datagrams");
        d.chart_metric("udp.received", "received", f64::from(got), "datagrams");
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
        Ok(())
    })
}
