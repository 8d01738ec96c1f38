//! UDP multicast is radio: one sendto() to a group reaches every socket that joined it, here three receivers on one machine.
//!
//! ip(7): `IP_ADD_MEMBERSHIP` "Join a multicast group"; `IP_MULTICAST_LOOP` "Set or read
//! a boolean integer argument that determines whether sent multicast packets should be
//! looped back to the local sockets"; `IP_MULTICAST_IF` "Set the local device for a
//! multicast socket"; `IP_MULTICAST_ALL` (default 1): a socket bound to the port gets
//! the datagrams of every group joined on the system, not only of its own.
//! With TTL 0 the datagrams never leave this host.
//!
//! What delivers on one host is the route: sent out of `lo` (IP_MULTICAST_IF
//! 127.0.0.1), the datagram comes back in on `lo` like any loopback packet and reaches
//! the sockets that joined. IP_MULTICAST_LOOP governs only the extra copy the kernel
//! makes for local members when it sends out of a real interface, so turning it off
//! changes nothing here; the demo shows that too.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::Result;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const RECEIVERS: usize = 3;
const DATAGRAMS: u32 = 5;
const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// A random number from std's hasher seed: enough to keep runs apart.
fn random() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}

/// A UDP socket bound to group:port with SO_REUSEADDR, joined to the group on
/// 127.0.0.1 if `join`. (`all`: IP_MULTICAST_ALL, see the header.)
fn member(group: Ipv4Addr, port: u16, join: bool, all: bool) -> Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).context("socket")?;
    s.set_reuse_address(true).context("SO_REUSEADDR")?;
    s.set_multicast_all_v4(all).context("IP_MULTICAST_ALL")?;
    s.bind(&SockAddr::from(SocketAddrV4::new(group, port)))
        .with_context(|| format!("binding {group}:{port}"))?;
    if join {
        s.join_multicast_v4(&group, &LOOPBACK)
            .context("IP_ADD_MEMBERSHIP on 127.0.0.1")?;
    }
    let s = UdpSocket::from(s);
    demos::net::with_timeouts(&s)?;
    Ok(s)
}

/// What one socket received of this run's datagrams: every datagram counted, so that a
/// duplicate shows, and the distinct sequence numbers.
struct Received {
    datagrams: usize,
    seqs: BTreeSet<u32>,
}

impl Received {
    /// Each datagram exactly once.
    fn all_once(&self) -> bool {
        self.datagrams == DATAGRAMS as usize && self.seqs.len() == DATAGRAMS as usize
    }
}

/// This run's datagrams that `sock` receives before all `DATAGRAMS` are in or `wait`
/// has passed, and then for a few more milliseconds, in case copies follow; other runs'
/// datagrams are ignored.
fn collect(sock: &UdpSocket, token: &str, wait: Duration) -> Result<Received> {
    let mut deadline = Instant::now() + wait;
    let mut got = Received {
        datagrams: 0,
        seqs: BTreeSet::new(),
    };
    let mut buf = [0u8; 256];
    loop {
        if got.seqs.len() == DATAGRAMS as usize {
            deadline = deadline.min(Instant::now() + Duration::from_millis(20));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        sock.set_read_timeout(Some(left)).context("SO_RCVTIMEO")?;
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                if let Some(seq) = text
                    .strip_prefix(token)
                    .and_then(|rest| rest.trim().parse().ok())
                {
                    got.datagrams += 1;
                    got.seqs.insert(seq);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e).context("recv_from"),
        }
    }
    Ok(got)
}

fn main() {
    demos::run(|d| {
        d.expect("every receiver in the group gets every datagram of a single send");
        let r = random();
        let group = Ipv4Addr::new(239, 255, (r >> 8) as u8, (r as u8).max(1));
        let token = format!("eykiw-{:016x}", r);

        let join = !d.breaks("the receivers never join the group (no IP_ADD_MEMBERSHIP)");
        let first = member(group, 0, join, true)?;
        let port = first.local_addr().context("getsockname")?.port();
        let mut receivers = vec![first];
        for _ in 1..RECEIVERS {
            receivers.push(member(group, port, join, true)?);
        }
        let joined = if join {
            "join it on 127.0.0.1"
        } else {
            "do not join it"
        };
        d.step(format_args!(
            "{RECEIVERS} receivers bind {group}:{port} (SO_REUSEADDR), {joined}"
        ));
        // Bound to the port but not joined: with IP_MULTICAST_ALL on (the default) it
        // hears the group anyway, because other sockets joined it; off, it does not.
        let bystander_all = member(group, port, false, true)?;
        let bystander_own = member(group, port, false, false)?;

        let tx = UdpSocket::bind(SocketAddr::from((LOOPBACK, 0))).context("sender bind")?;
        let tx_sock = socket2::SockRef::from(&tx);
        tx_sock
            .set_multicast_if_v4(&LOOPBACK)
            .context("IP_MULTICAST_IF")?;
        tx_sock
            .set_multicast_ttl_v4(0)
            .context("IP_MULTICAST_TTL")?;
        d.step(format_args!(
            "sender: IP_MULTICAST_IF 127.0.0.1 (out of lo), TTL 0; {DATAGRAMS} sendto()s"
        ));
        let to = SocketAddr::from((group, port));
        let send_all = |token: &str| -> Result<()> {
            for seq in 0..DATAGRAMS {
                tx.send_to(format!("{token} {seq}").as_bytes(), to)
                    .with_context(|| format!("sendto {to}"))?;
            }
            Ok(())
        };
        send_all(&token)?;

        let mut everyone = true;
        for (i, rx) in receivers.iter().enumerate() {
            let got = collect(rx, &token, Duration::from_millis(500))?;
            d.key(format_args!(
                "receiver {}: {} datagrams, {} of {DATAGRAMS} distinct {:?}",
                i + 1,
                got.datagrams,
                got.seqs.len(),
                got.seqs
            ));
            d.metric(
                &format!("multicast.receiver{}.received", i + 1),
                got.datagrams as f64,
                "datagrams",
            );
            everyone &= got.all_once();
        }
        d.check(
            everyone,
            format_args!("{DATAGRAMS} sends: every member got each one exactly once"),
        )?;

        d.step("again with IP_MULTICAST_LOOP off");
        tx_sock
            .set_multicast_loop_v4(false)
            .context("IP_MULTICAST_LOOP")?;
        let token_off = format!("{token}-noloop");
        send_all(&token_off)?;
        let mut off = Vec::new();
        for rx in &receivers {
            off.push(collect(rx, &token_off, Duration::from_millis(500))?);
        }
        d.key(format_args!(
            "with LOOP off, receivers got {:?} datagrams",
            off.iter().map(|r| r.datagrams).collect::<Vec<_>>()
        ));
        d.check(
            off.iter().all(Received::all_once),
            "LOOP off still delivers, to every member: lo carries the packet back, not IP_MULTICAST_LOOP",
        )?;

        let heard = collect(&bystander_all, &token, Duration::from_millis(100))?.datagrams;
        let heard_own = collect(&bystander_own, &token, Duration::from_millis(100))?.datagrams;
        d.detail(format_args!(
            "a socket on the port that never joined got {heard} (IP_MULTICAST_ALL 1, \
             the default), {heard_own} with IP_MULTICAST_ALL 0"
        ));
        Ok(())
    })
}
