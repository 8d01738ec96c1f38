//! TCP/IP helpers for the socket demos: sockets with options set before `bind`, and the
//! kernel's own list of TCP sockets on a port (what `ss -tan sport = :PORT` shows),
//! which includes sockets no process holds any more.
//!
//! The list comes from a sock_diag netlink query (sock_diag(7)) that the kernel filters
//! by port. `/proc/net/tcp` says the same, but a reader racing other programs' sockets
//! can see a row twice or miss one, because the file is produced a page at a time.
//!
//! A passive closer that closes while one of its segments is still on its way can
//! destroy the TIME_WAIT it means to show: see [`ack_fin_before_close`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::socket::{AddressFamily, SockFlag, SockProtocol, SockType, socket};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::Result;

/// A TCP socket for `addr`'s family, with SO_REUSEADDR as asked, bound to `addr`.
///
/// The bind error is returned as it is, so a demo can show its errno.
pub fn bind_tcp(addr: SocketAddr, reuseaddr: bool) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(reuseaddr)?;
    sock.bind(&SockAddr::from(addr))?;
    Ok(sock)
}

/// The address a socket2 socket is bound to, as a std address.
pub fn local_addr(sock: &Socket) -> Result<SocketAddr> {
    sock.local_addr()
        .context("getsockname")?
        .as_socket()
        .context("getsockname returned a non-IP address")
}

/// One TCP socket as the kernel lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The state number: 1 ESTABLISHED ... 6 TIME_WAIT, 10 LISTEN.
    pub state: u8,
    /// Time left on the socket's pending timer, zero when none runs; for TIME_WAIT,
    /// how long until the kernel frees it.
    pub timer_left: Duration,
    /// The socket's inode (as in `/proc/PID/fd`); 0 for a TIME_WAIT socket, which
    /// belongs to no file.
    pub inode: u32,
}

/// The state numbers the demos look for (the kernel's `tcp_states.h`).
pub const TCP_ESTABLISHED: u8 = 1;
pub const TCP_FIN_WAIT1: u8 = 4;
pub const TCP_TIME_WAIT: u8 = 6;
pub const TCP_LAST_ACK: u8 = 9;
pub const TCP_LISTEN: u8 = 10;
pub const TCP_CLOSING: u8 = 11;

/// The name of a TCP state number, as in the kernel's `tcp_states.h`.
pub fn tcp_state_name(state: u8) -> &'static str {
    match state {
        1 => "ESTABLISHED",
        2 => "SYN_SENT",
        3 => "SYN_RECV",
        4 => "FIN_WAIT1",
        5 => "FIN_WAIT2",
        6 => "TIME_WAIT",
        7 => "CLOSE",
        8 => "CLOSE_WAIT",
        9 => "LAST_ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        12 => "NEW_SYN_RECV",
        _ => "?",
    }
}

/// Every TCP socket (IPv4 and IPv6, any state) of this network namespace whose local
/// port is `port`.
pub fn tcp_sockets(port: u16) -> Result<crate::Observed<Vec<TcpEntry>>> {
    crate::evidence::read("sock_diag", || tcp_sockets_raw(port))
}

/// The kernel filters by port only the sockets of its connection and listener tables:
/// the bound but inactive ones it adds when asked for every state (`TCP_CLOSE` with an
/// inode: bound, never listened or connected; Linux 6.5 and later) come from every port
/// of the namespace, another program's included. So the port is checked here too.
fn tcp_sockets_raw(port: u16) -> Result<Vec<TcpEntry>> {
    let mut all = diag_dump(libc::AF_INET as u8, port)?;
    all.extend(diag_dump(libc::AF_INET6 as u8, port)?);
    all.retain(|e| e.local.port() == port);
    Ok(all)
}

impl crate::Evidence for TcpEntry {
    fn render(&self) -> String {
        let timer = if self.timer_left.is_zero() {
            String::new()
        } else {
            format!(", timer {:.0} s", self.timer_left.as_secs_f64())
        };
        format!(
            "{} -> {} {}, inode {}{timer}",
            self.local,
            self.remote,
            tcp_state_name(self.state),
            self.inode
        )
    }
}

/// Waits until the kernel lists a socket on `port` that `matches`, at most `timeout`.
pub fn wait_tcp_socket(
    port: u16,
    timeout: Duration,
    matches: impl Fn(&TcpEntry) -> bool,
) -> Result<crate::Observed<Option<TcpEntry>>> {
    crate::evidence::read("sock_diag", || {
        poll_tcp_sockets(port, timeout, |rows| {
            rows.iter().find(|e| matches(e)).copied()
        })
    })
}

/// Reads the sockets on `port` until `done` makes something of them, at most `timeout`.
fn poll_tcp_sockets<T>(
    port: u16,
    timeout: Duration,
    done: impl Fn(&[TcpEntry]) -> Option<T>,
) -> Result<Option<T>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(t) = done(&tcp_sockets_raw(port)?) {
            return Ok(Some(t));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// For the side that closes second (it got the peer's FIN, `local` → `peer`): sends the
/// ACK of that FIN now, from this thread (`TCP_QUICKACK`), and waits, at most `timeout`,
/// until the peer's kernel has it: no socket at `peer` facing `local` still waits for
/// the ACK of its FIN (FIN_WAIT1, CLOSING, LAST_ACK). Close only after this, to keep
/// the peer's TIME_WAIT alive.
///
/// Otherwise the delayed-ACK timer may send that ACK from another CPU just before the
/// close: on loopback each CPU queues what it sends in its own backlog, so under load
/// that ACK can arrive after the FIN this side sends next, after the peer's TIME_WAIT
/// has acknowledged the FIN and this side's socket is gone. TIME_WAIT answers the late,
/// old ACK with an ACK; no socket is left to take it, so this side's kernel answers
/// with a RST, and a RST ends TIME_WAIT at once (`net.ipv4.tcp_rfc1337` = 0, the
/// default: RFC 1337's "TIME-WAIT assassination"). Seen with `perf` on Linux 6.18: the
/// ACK left from `tcp_delack_timer` on one CPU, was taken in by that CPU's ksoftirqd
/// after the whole close on the other, then `tcp_send_reset` with reason NO_SOCKET.
pub fn ack_fin_before_close(
    sock: &impl AsFd,
    local: SocketAddr,
    peer: SocketAddr,
    timeout: Duration,
) -> Result<()> {
    socket2::SockRef::from(sock)
        .set_tcp_quickack(true)
        .context("setsockopt(TCP_QUICKACK)")?;
    let acked = poll_tcp_sockets(peer.port(), timeout, |rows| {
        (!awaits_our_ack(rows, local, peer)).then_some(())
    })?;
    anyhow::ensure!(
        acked.is_some(),
        "{peer} still waits for the ACK of its FIN from {local} after {timeout:?}"
    );
    Ok(())
}

/// Whether the socket at `peer` facing `local` still waits for the ACK of its FIN.
fn awaits_our_ack(rows: &[TcpEntry], local: SocketAddr, peer: SocketAddr) -> bool {
    let waiting = [TCP_FIN_WAIT1, TCP_CLOSING, TCP_LAST_ACK];
    rows.iter()
        .any(|e| e.local == peer && e.remote == local && waiting.contains(&e.state))
}

// netlink(7) and sock_diag(7) constants (linux/netlink.h, linux/sock_diag.h).
const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_DUMP: u16 = 0x300;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `struct inet_diag_req_v2` and `struct inet_diag_msg`.
const REQ_LEN: usize = 56;
const MSG_LEN: usize = 72;

/// One `SOCK_DIAG_BY_FAMILY` dump of TCP sockets of `family` with local port `port`.
fn diag_dump(family: u8, port: u16) -> Result<Vec<TcpEntry>> {
    let fd: OwnedFd = socket(
        AddressFamily::Netlink,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkSockDiag,
    )
    .context("socket(AF_NETLINK, NETLINK_SOCK_DIAG)")?;
    crate::net::with_timeouts(&fd)?;
    nix::unistd::write(&fd, &diag_request(family, port)).context("sending the sock_diag query")?;

    let mut entries = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = nix::sys::socket::recv(
            fd.as_raw_fd(),
            &mut buf,
            nix::sys::socket::MsgFlags::empty(),
        )
        .context("receiving the sock_diag answer")?;
        anyhow::ensure!(n > 0, "sock_diag: the kernel closed the conversation");
        if parse_diag(&buf[..n], &mut entries)? {
            return Ok(entries);
        }
    }
}

/// The query: an `nlmsghdr` and an `inet_diag_req_v2` asking for every state, with the
/// local port as the kernel-side filter.
fn diag_request(family: u8, port: u16) -> Vec<u8> {
    let mut msg = Vec::with_capacity(NLMSG_HDRLEN + REQ_LEN);
    msg.extend_from_slice(&((NLMSG_HDRLEN + REQ_LEN) as u32).to_ne_bytes());
    msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    msg.extend_from_slice(&[family, libc::IPPROTO_TCP as u8, 0, 0]);
    msg.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    msg.extend_from_slice(&port.to_be_bytes()); // idiag_sport
    msg.extend_from_slice(&0u16.to_be_bytes()); // idiag_dport: any
    msg.extend_from_slice(&[0u8; 32]); // source and destination address: unused
    msg.extend_from_slice(&0u32.to_ne_bytes()); // interface: any
    msg.extend_from_slice(&[0xff; 8]); // cookie: INET_DIAG_NOCOOKIE
    msg
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads one datagram of netlink messages into `out`; true when the dump is complete.
fn parse_diag(mut buf: &[u8], out: &mut Vec<TcpEntry>) -> Result<bool> {
    while buf.len() >= NLMSG_HDRLEN {
        let len = u32_at(buf, 0) as usize;
        let kind = u16::from_ne_bytes([buf[4], buf[5]]);
        if len < NLMSG_HDRLEN || len > buf.len() {
            bail!("sock_diag: malformed netlink message (length {len})");
        }
        let body = &buf[NLMSG_HDRLEN..len];
        match kind {
            NLMSG_DONE => return Ok(true),
            NLMSG_ERROR => {
                let code = if body.len() >= 4 {
                    -(u32_at(body, 0) as i32)
                } else {
                    0
                };
                return Err(io::Error::from_raw_os_error(code)).context("sock_diag query");
            }
            SOCK_DIAG_BY_FAMILY if body.len() >= MSG_LEN => out.push(parse_diag_msg(body)?),
            _ => bail!("sock_diag: unexpected message type {kind}"),
        }
        // Messages are 4-byte aligned; `len` is at least a header, so this moves on.
        buf = buf.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(false)
}

/// One `struct inet_diag_msg`.
fn parse_diag_msg(m: &[u8]) -> Result<TcpEntry> {
    let family = i32::from(m[0]);
    let addr = |at: usize, port: u16| -> Result<SocketAddr> {
        let ip = match family {
            libc::AF_INET => IpAddr::V4(Ipv4Addr::new(m[at], m[at + 1], m[at + 2], m[at + 3])),
            libc::AF_INET6 => {
                let mut b = [0u8; 16];
                b.copy_from_slice(&m[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(b))
            }
            other => bail!("sock_diag: unexpected address family {other}"),
        };
        Ok(SocketAddr::new(ip, port))
    };
    let sport = u16::from_be_bytes([m[4], m[5]]);
    let dport = u16::from_be_bytes([m[6], m[7]]);
    let timer_running = m[2] != 0;
    Ok(TcpEntry {
        local: addr(8, sport)?,
        remote: addr(24, dport)?,
        state: m[1],
        timer_left: if timer_running {
            Duration::from_millis(u64::from(u32_at(m, 52)))
        } else {
            Duration::ZERO
        },
        inode: u32_at(m, 68),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_and_its_connection_are_listed() {
        let (l, addr) = crate::net::tcp_listener().unwrap();
        let c = std::net::TcpStream::connect(addr).unwrap();
        let (_s, _) = crate::net::accept_timeout(&l).unwrap();
        let rows = tcp_sockets(addr.port()).unwrap().into_value();
        assert!(
            rows.iter()
                .any(|e| e.local == addr && e.state == TCP_LISTEN && e.inode != 0),
            "listener {addr} not in {rows:?}"
        );
        let client = c.local_addr().unwrap();
        assert!(
            rows.iter()
                .any(|e| e.local == addr && e.remote == client && e.state == TCP_ESTABLISHED),
            "connection from {client} not in {rows:?}"
        );
        assert!(
            rows.iter().all(|e| e.local.port() == addr.port()),
            "{rows:?}"
        );
        assert_eq!(tcp_state_name(TCP_TIME_WAIT), "TIME_WAIT");
    }

    #[test]
    fn a_query_lists_only_sockets_on_its_port() {
        // Bound and never listened or connected: the kernel lists it for every port.
        let bound = bind_tcp("127.0.0.1:0".parse().unwrap(), false).unwrap();
        let other = local_addr(&bound).unwrap();
        let (_l, addr) = crate::net::tcp_listener().unwrap();
        let rows = tcp_sockets(addr.port()).unwrap().into_value();
        assert!(rows.iter().any(|e| e.local == addr), "{rows:?}");
        assert!(
            rows.iter().all(|e| e.local.port() == addr.port()),
            "{other} is not on port {}: {rows:?}",
            addr.port()
        );
    }

    /// Only the peer's own socket of this connection counts, and only in a state that
    /// waits for an ACK of its FIN (the live test above cannot tell: with TCP_QUICKACK
    /// the ACK is nearly always in before the first look).
    #[test]
    fn only_the_peers_side_of_this_connection_waiting_for_its_ack_holds_the_close() {
        let (local, peer, other): (SocketAddr, SocketAddr, SocketAddr) = (
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:8080".parse().unwrap(),
            "127.0.0.1:40001".parse().unwrap(),
        );
        let row = |local, remote, state| TcpEntry {
            local,
            remote,
            state,
            timer_left: Duration::ZERO,
            inode: 0,
        };
        for state in [TCP_FIN_WAIT1, TCP_CLOSING, TCP_LAST_ACK] {
            assert!(
                awaits_our_ack(&[row(peer, local, state)], local, peer),
                "{state}"
            );
        }
        const FIN_WAIT2: u8 = 5;
        for rows in [
            vec![row(peer, local, FIN_WAIT2)],
            vec![row(peer, local, TCP_TIME_WAIT)],
            // Our own side, and another client's connection to the same port.
            vec![row(local, peer, TCP_FIN_WAIT1)],
            vec![row(peer, other, TCP_FIN_WAIT1)],
            vec![],
        ] {
            assert!(!awaits_our_ack(&rows, local, peer), "{rows:?}");
        }
    }

    #[test]
    fn the_second_closer_closes_only_once_its_ack_of_the_fin_is_in() {
        let (l, addr) = crate::net::tcp_listener().unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        crate::net::with_timeouts(&client).unwrap();
        let (server, _) = crate::net::accept_timeout(&l).unwrap();
        let local = client.local_addr().unwrap();
        drop(server);
        assert_eq!(std::io::Read::read(&mut client, &mut [0u8; 8]).unwrap(), 0);
        ack_fin_before_close(&client, local, addr, Duration::from_secs(2)).unwrap();
        // The server's side got the ACK: FIN_WAIT2, not FIN_WAIT1 any more.
        let rows = tcp_sockets(addr.port()).unwrap().into_value();
        let side = rows.iter().find(|e| e.remote == local);
        assert_eq!(
            side.map(|e| tcp_state_name(e.state)),
            Some("FIN_WAIT2"),
            "{rows:?}"
        );
        // A peer that never got a FIN to acknowledge: its socket waits for nothing.
        let other = std::net::TcpStream::connect(addr).unwrap();
        let (_kept, _) = crate::net::accept_timeout(&l).unwrap();
        let at = other.local_addr().unwrap();
        ack_fin_before_close(&other, at, addr, Duration::from_millis(100)).unwrap();
    }

    #[test]
    fn state_names_are_the_kernels() {
        let names: Vec<&str> = (0..=13).map(tcp_state_name).collect();
        assert_eq!(
            names,
            [
                "?",
                "ESTABLISHED",
                "SYN_SENT",
                "SYN_RECV",
                "FIN_WAIT1",
                "FIN_WAIT2",
                "TIME_WAIT",
                "CLOSE",
                "CLOSE_WAIT",
                "LAST_ACK",
                "LISTEN",
                "CLOSING",
                "NEW_SYN_RECV",
                "?"
            ]
        );
    }

    /// A `struct inet_diag_msg` as the kernel sends it (addresses in network order,
    /// the timer and inode in host order).
    fn diag_msg(family: u8, state: u8, timer: u8, local: &[u8], remote: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; MSG_LEN];
        m[0] = family;
        m[1] = state;
        m[2] = timer;
        m[4..6].copy_from_slice(&8080u16.to_be_bytes());
        m[6..8].copy_from_slice(&43210u16.to_be_bytes());
        m[8..8 + local.len()].copy_from_slice(local);
        m[24..24 + remote.len()].copy_from_slice(remote);
        m[52..56].copy_from_slice(&59_500u32.to_ne_bytes());
        m[68..72].copy_from_slice(&0x0102_0304u32.to_ne_bytes());
        m
    }

    /// A netlink message of `kind` around `body`, padded to 4 bytes.
    fn nl(kind: u16, body: &[u8]) -> Vec<u8> {
        let mut msg = ((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes().to_vec();
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 10]);
        msg.extend_from_slice(body);
        while !msg.len().is_multiple_of(4) {
            msg.push(0);
        }
        msg
    }

    #[test]
    fn a_diag_message_decodes_to_its_addresses_state_timer_and_inode() {
        // Every byte of an address differs, so a byte read from the wrong place shows.
        let v4 = parse_diag_msg(&diag_msg(
            libc::AF_INET as u8,
            6,
            1,
            &[10, 1, 2, 3],
            &[10, 4, 5, 6],
        ))
        .unwrap();
        assert_eq!(
            v4,
            TcpEntry {
                local: "10.1.2.3:8080".parse().unwrap(),
                remote: "10.4.5.6:43210".parse().unwrap(),
                state: TCP_TIME_WAIT,
                timer_left: Duration::from_millis(59_500),
                inode: 0x0102_0304,
            }
        );
        let ip6: Ipv6Addr = "::1".parse().unwrap();
        let v6 = parse_diag_msg(&diag_msg(
            libc::AF_INET6 as u8,
            10,
            0,
            &ip6.octets(),
            &[0; 16],
        ))
        .unwrap();
        assert_eq!(v6.local, SocketAddr::new(ip6.into(), 8080));
        assert_eq!(
            v6.remote,
            SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 43210)
        );
        assert_eq!((v6.state, v6.timer_left), (TCP_LISTEN, Duration::ZERO));
        assert!(parse_diag_msg(&diag_msg(1, 1, 0, &[], &[])).is_err());
        use crate::Evidence;
        assert_eq!(
            v4.render(),
            "10.1.2.3:8080 -> 10.4.5.6:43210 TIME_WAIT, inode 16909060, timer 60 s"
        );
        assert_eq!(
            v6.render(),
            "[::1]:8080 -> [::]:43210 LISTEN, inode 16909060"
        );
    }

    #[test]
    fn a_dump_is_read_message_by_message_until_done() {
        let one = diag_msg(libc::AF_INET as u8, 1, 0, &[127, 0, 0, 1], &[127, 0, 0, 1]);
        // A body one byte longer than the message: the next header starts aligned.
        let mut long = one.clone();
        long.push(9);
        let mut out = Vec::new();
        let datagram = [
            nl(SOCK_DIAG_BY_FAMILY, &long),
            nl(SOCK_DIAG_BY_FAMILY, &one),
        ]
        .concat();
        assert!(!parse_diag(&datagram, &mut out).unwrap(), "not done yet");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], out[1]);
        assert!(parse_diag(&nl(NLMSG_DONE, &[0; 4]), &mut out).unwrap());
        assert_eq!(out.len(), 2);
        // A message shorter than an inet_diag_msg, and one of another type, are refused.
        assert!(parse_diag(&nl(SOCK_DIAG_BY_FAMILY, &one[..MSG_LEN - 1]), &mut out).is_err());
        assert!(parse_diag(&nl(99, &one), &mut out).is_err());
        // The kernel's error, as its errno.
        let err =
            parse_diag(&nl(NLMSG_ERROR, &(-libc::EPERM).to_ne_bytes()), &mut out).unwrap_err();
        let errno = err
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error);
        assert_eq!(errno, Some(libc::EPERM), "{err:#}");
        let err = parse_diag(&nl(NLMSG_ERROR, &[]), &mut out).unwrap_err();
        let errno = err
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error);
        assert_eq!(errno, Some(0), "{err:#}");
        // A length that is too short, or runs past the datagram, is malformed.
        let mut bad = nl(SOCK_DIAG_BY_FAMILY, &one);
        bad[..4].copy_from_slice(&((NLMSG_HDRLEN - 1) as u32).to_ne_bytes());
        assert!(parse_diag(&bad, &mut out).is_err());
        let past = (bad.len() + 1) as u32;
        bad[..4].copy_from_slice(&past.to_ne_bytes());
        assert!(parse_diag(&bad, &mut out).is_err());
        // Less than a header: nothing more in this datagram.
        assert!(!parse_diag(&[0u8; NLMSG_HDRLEN - 1], &mut out).unwrap());
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn the_query_asks_for_every_tcp_state_on_the_port() {
        let q = diag_request(libc::AF_INET6 as u8, 8080);
        assert_eq!(q.len(), NLMSG_HDRLEN + REQ_LEN);
        assert_eq!(u32_at(&q, 0) as usize, q.len());
        assert_eq!(u16::from_ne_bytes([q[4], q[5]]), SOCK_DIAG_BY_FAMILY);
        assert_eq!(u16::from_ne_bytes([q[6], q[7]]), 0x301);
        assert_eq!(q[16..18], [libc::AF_INET6 as u8, libc::IPPROTO_TCP as u8]);
        assert_eq!(u32_at(&q, 20), u32::MAX);
        assert_eq!(q[24..26], 8080u16.to_be_bytes());
    }

    #[test]
    fn waiting_for_a_socket_finds_it_or_gives_up_at_the_timeout() {
        let (l, addr) = crate::net::tcp_listener().unwrap();
        let found = wait_tcp_socket(addr.port(), Duration::from_secs(1), |e| {
            e.state == TCP_LISTEN
        })
        .unwrap();
        assert_eq!(found.source(), "sock_diag");
        assert_eq!(found.value().map(|e| e.local), Some(addr));
        let t0 = Instant::now();
        let none = wait_tcp_socket(addr.port(), Duration::from_millis(200), |e| {
            e.state == TCP_TIME_WAIT
        })
        .unwrap();
        assert_eq!(*none.value(), None);
        let waited = t0.elapsed();
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_secs(5),
            "{waited:?}"
        );
        drop(l);
    }

    #[test]
    fn a_bound_socket_reports_its_address() {
        let s = bind_tcp("127.0.0.1:0".parse().unwrap(), true).unwrap();
        let addr = local_addr(&s).unwrap();
        assert_eq!(addr.ip(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_ne!(addr.port(), 0);
        assert!(s.reuse_address().unwrap());
        let plain = bind_tcp("127.0.0.1:0".parse().unwrap(), false).unwrap();
        assert!(!plain.reuse_address().unwrap());
    }
}
