//! TCP/IP helpers for the socket demos: sockets with options set before `bind`, and the
//! kernel's own list of TCP sockets on a port (what `ss -tan sport = :PORT` shows),
//! which includes sockets no process holds any more.
//!
//! The list comes from a sock_diag netlink query (sock_diag(7)) that the kernel filters
//! by port. `/proc/net/tcp` says the same, but a reader racing other programs' sockets
//! can see a row twice or miss one, because the file is produced a page at a time.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd};
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
pub const TCP_TIME_WAIT: u8 = 6;
pub const TCP_LISTEN: u8 = 10;

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

fn tcp_sockets_raw(port: u16) -> Result<Vec<TcpEntry>> {
    let mut all = diag_dump(libc::AF_INET as u8, port)?;
    all.extend(diag_dump(libc::AF_INET6 as u8, port)?);
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
    let deadline = Instant::now() + timeout;
    crate::evidence::read("sock_diag", || {
        loop {
            if let Some(e) = tcp_sockets_raw(port)?.into_iter().find(&matches) {
                return Ok(Some(e));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })
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
        // Messages are 4-byte aligned.
        buf = &buf[((len + 3) & !3).min(buf.len())..];
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
}
