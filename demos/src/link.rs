//! A rate-limited link between two network namespaces of the demo's own, for the demos
//! about congestion (`udp-congested-link`, `congested-path`).
//!
//! tc-tbf(8): the token bucket filter holds traffic to a configured rate; what does not
//! fit in its queue (`limit`, in bytes) is dropped. The link lives only inside the
//! namespaces ([`crate::netns`]): when the demo exits, so does everything in them.

use std::net::{SocketAddr, UdpSocket};

use anyhow::Context;

use crate::netns::NetNs;
use crate::{Result, net};

/// The link's rate: 20 Mbit/s is 2.5 MB/s, so a queue of N KB holds N/2.5 ms of traffic.
pub const RATE: &str = "20mbit";
/// [`RATE`] in bytes a second.
pub const RATE_BYTES_PER_SEC: f64 = 2.5e6;
/// The short queue the link starts with, in bytes.
pub const SMALL_QUEUE: usize = 15_000;
/// A's address, on the rate-limited side.
pub const A_ADDR: &str = "10.77.0.1";
/// B's address.
pub const B_ADDR: &str = "10.77.0.2";

/// Two namespaces, A and B, joined by a veth pair; A's end has the rate limit (traffic
/// from A to B queues; the way back has no queue).
pub struct Path {
    /// The sending side, behind the rate limit.
    pub a: NetNs,
    /// The receiving side.
    pub b: NetNs,
    dev: String,
}

impl Path {
    /// Builds the namespaces, the veth pair and a [`RATE`] limit with a
    /// [`SMALL_QUEUE`]. Needs CAP_SYS_ADMIN and CAP_NET_ADMIN, and iproute2.
    pub fn new() -> Result<Path> {
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

    /// Puts a token bucket of [`RATE`] on A's side with a queue of `limit` bytes;
    /// `verb` is tc's `add` (the first time) or `change`.
    pub fn set_queue(&self, limit: usize, verb: &str) -> Result<()> {
        self.set_queue_at(limit, RATE, verb)
    }

    /// [`Path::set_queue`] at another `rate` (tc's words, `"40mbit"`): for a break
    /// that gives one queue a faster link.
    pub fn set_queue_at(&self, limit: usize, rate: &str, verb: &str) -> Result<()> {
        let limit = limit.to_string();
        self.a.cmd(
            "tc",
            &[
                "qdisc", verb, "dev", &self.dev, "root", "tbf", "rate", rate, "burst", "10kb",
                "limit", &limit,
            ],
        )?;
        Ok(())
    }

    /// Packets the queue has dropped so far (`tc -s qdisc`: "dropped N").
    pub fn drops(&self) -> Result<crate::Observed<u64>> {
        crate::evidence::read("qdisc stats via tc -s (netlink)", || {
            let stats = self
                .a
                .cmd("tc", &["-s", "qdisc", "show", "dev", &self.dev])?;
            stats
                .split("dropped ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok())
                .with_context(|| format!("no drop count in tc's statistics: {stats}"))
        })
    }

    /// A UDP socket in `ns` bound to `ip` and a free port, with the demos' timeouts;
    /// returns it and its address.
    pub fn udp(&self, ns: &NetNs, ip: &str) -> Result<(UdpSocket, SocketAddr)> {
        let addr: SocketAddr = format!("{ip}:0").parse().context("an address")?;
        let sock = ns.run(|| UdpSocket::bind(addr).with_context(|| format!("bind {addr}")))?;
        net::with_timeouts(&sock)?;
        let local = sock.local_addr().context("getsockname")?;
        Ok((sock, local))
    }
}

/// Skips the demo unless this machine can build a [`Path`]: root for the namespaces,
/// iproute2's `ip` and `tc` for the link.
pub fn needs(d: &crate::Demo) -> Result<()> {
    if !crate::netns::can_create() {
        return Err(
            d.skip("needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) to create network namespaces")
        );
    }
    if std::process::Command::new("tc").arg("-V").output().is_err() {
        return Err(d.skip("needs iproute2's ip and tc"));
    }
    Ok(())
}
