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

use std::hash::{BuildHasher, Hasher};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::{Break, Evidence, Observed, Result, brk};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const BREAKS: &[Break] = &[
    brk(
        "no-join",
        "the receivers never join the group (no IP_ADD_MEMBERSHIP)",
    ),
    brk(
        "partial-join",
        "receivers 2 and 3 never call IP_ADD_MEMBERSHIP",
    ),
    brk(
        "other-port",
        "receivers 2 and 3 bind another port of the group",
    ),
    brk(
        "leave",
        "receivers 2 and 3 leave the group (IP_DROP_MEMBERSHIP) before the round with LOOP off",
    ),
    brk(
        "bystander-all-off",
        "the bystander meant to keep the default sets IP_MULTICAST_ALL 0 too",
    ),
];

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

/// What one socket received of this run's datagrams: the sequence number of each, in
/// the order they came, so that a duplicate shows as well as a gap.
struct Received {
    seqs: Vec<u32>,
}

impl Evidence for Received {
    fn render(&self) -> String {
        format!("{} datagrams {:?}", self.seqs.len(), self.seqs)
    }
}

impl Received {
    /// Each datagram exactly once: sorted, the numbers are 0, 1, ... and nothing else.
    fn all_once(&self) -> bool {
        let mut seqs = self.seqs.clone();
        seqs.sort_unstable();
        seqs == (0..DATAGRAMS).collect::<Vec<_>>()
    }
}

/// This run's datagrams that `sock` receives before all `DATAGRAMS` are in or `wait`
/// has passed, and then for a few more milliseconds, in case copies follow; other runs'
/// datagrams are ignored.
fn collect(
    source: impl std::fmt::Display,
    sock: &UdpSocket,
    token: &str,
    wait: Duration,
) -> Observed<std::io::Result<Received>> {
    demos::evidence::call(source, || collect_raw(sock, token, wait))
}

fn collect_raw(sock: &UdpSocket, token: &str, wait: Duration) -> std::io::Result<Received> {
    let mut deadline = Instant::now() + wait;
    let mut got = Received { seqs: Vec::new() };
    let mut buf = [0u8; 256];
    loop {
        if got.seqs.len() == DATAGRAMS as usize {
            deadline = deadline.min(Instant::now() + Duration::from_millis(20));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        sock.set_read_timeout(Some(left))?;
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                let text = String::from_utf8_lossy(&buf[..n]);
                if let Some(seq) = text
                    .strip_prefix(token)
                    .and_then(|rest| rest.trim().parse().ok())
                {
                    got.seqs.push(seq);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("every receiver in the group gets every datagram of a single send");
        let r = random();
        let group = Ipv4Addr::new(239, 255, (r >> 8) as u8, (r as u8).max(1));
        let token = format!("eykiw-{:016x}", r);

        let join = !d.breaks("no-join");
        let partial = d.breaks("partial-join");
        let other_port = d.breaks("other-port");
        // IP_MULTICAST_ALL 0 on the receivers: each hears the group only if it joined
        // itself (with the default, 1, one member's join would feed them all).
        let first = member(group, 0, join, false)?;
        let port = first.local_addr().context("getsockname")?.port();
        let mut receivers = vec![first];
        for _ in 1..RECEIVERS {
            let their_port = if other_port {
                port.wrapping_add(1).max(1024)
            } else {
                port
            };
            receivers.push(member(group, their_port, join && !partial, false)?);
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
        let default_all = !d.breaks("bystander-all-off");
        let bystander_all = member(group, port, false, default_all)?;
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
            let got = collect(
                format_args!("recv, receiver {}", i + 1),
                rx,
                &token,
                Duration::from_millis(500),
            );
            d.key(&got);
            let datagrams = got.value().as_ref().map_or(0, |g| g.seqs.len());
            d.metric(
                &format!("multicast.receiver{}.received", i + 1),
                datagrams as f64,
                "datagrams",
            );
            everyone &= got.value().as_ref().is_ok_and(Received::all_once);
        }
        d.check(
            everyone,
            format_args!("{DATAGRAMS} sends: every member got each one exactly once"),
        )?;

        if d.breaks("leave") {
            for rx in &receivers[1..] {
                socket2::SockRef::from(rx)
                    .leave_multicast_v4(&group, &LOOPBACK)
                    .context("IP_DROP_MEMBERSHIP")?;
            }
        }
        d.step("again with IP_MULTICAST_LOOP off");
        tx_sock
            .set_multicast_loop_v4(false)
            .context("IP_MULTICAST_LOOP")?;
        let token_off = format!("{token}-noloop");
        send_all(&token_off)?;
        let mut all_off = true;
        for (i, rx) in receivers.iter().enumerate() {
            let got = collect(
                format_args!("recv with LOOP off, receiver {}", i + 1),
                rx,
                &token_off,
                Duration::from_millis(500),
            );
            if i == 0 || d.verbose() {
                d.saw(&got);
            }
            all_off &= got.value().as_ref().is_ok_and(Received::all_once);
        }
        d.check(
            all_off,
            format_args!("LOOP off still delivers, to all {RECEIVERS} receivers: lo carries the packet back, not IP_MULTICAST_LOOP"),
        )?;

        let heard = collect(
            format_args!(
                "recv, bystander with IP_MULTICAST_ALL {}",
                u8::from(default_all)
            ),
            &bystander_all,
            &token,
            Duration::from_millis(100),
        );
        let heard_own = collect(
            "recv, bystander with IP_MULTICAST_ALL 0",
            &bystander_own,
            &token,
            Duration::from_millis(100),
        );
        d.saw_that(&heard, "never joined");
        d.saw_that(&heard_own, "never joined");
        d.check(
            heard.value().as_ref().is_ok_and(Received::all_once),
            format_args!(
                "the default, IP_MULTICAST_ALL 1, hears groups others joined: the bystander got all {DATAGRAMS}"
            ),
        )?;
        d.check(
            heard_own.value().as_ref().is_ok_and(|r| r.seqs.is_empty()),
            "membership is what delivers: a socket that did not join (IP_MULTICAST_ALL 0) got none",
        )?;
        Ok(())
    })
}
