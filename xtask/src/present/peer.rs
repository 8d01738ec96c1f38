//! Who is at the other end of a TCP connection on this machine: the kernel knows each
//! socket's owner. The peer's socket is the one whose local address is the peer's and
//! whose remote address is ours.
//!
//! The kernel is asked for that one socket by its addresses (sock_diag(7), an exact
//! lookup in its hash table), so the answer costs the same with ten sockets on the
//! machine or ten thousand; `present` asks on every Run live and every event stream.
//! Where sock_diag is missing (a kernel without `inet_diag`), the socket tables
//! `/proc/net/tcp` and `/proc/net/tcp6` are read whole instead.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, recv, setsockopt, socket, sockopt,
};
use nix::sys::time::{TimeVal, TimeValLike};

/// The uid owning the socket at `peer` that is connected to `local`, if that socket is
/// on this machine (in this network namespace).
pub fn uid(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let (peer, local) = (canonical(peer), canonical(local));
    diag_uid(peer, local).unwrap_or_else(|_| table_uid(peer, local))
}

/// The same answer from the socket tables, read whole.
fn table_uid(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            find(&text, peer, local)
        })
}

// netlink(7) and sock_diag(7) constants (linux/netlink.h, linux/sock_diag.h).
const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `struct inet_diag_req_v2`; `idiag_uid` is at this offset of a `struct inet_diag_msg`.
const REQ_LEN: usize = 56;
const UID_AT: usize = 64;

/// One sock_diag question: the TCP socket `from` → `to`, and its owner. `Ok(None)`: the
/// kernel has no such socket; `Err`: sock_diag could not be asked.
fn diag_uid(from: SocketAddr, to: SocketAddr) -> io::Result<Option<u32>> {
    let fd: OwnedFd = socket(
        AddressFamily::Netlink,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkSockDiag,
    )?;
    // The kernel answers within the `write` (sock_diag runs in the sender's context),
    // so an answer not there at once is not coming: a malformed question gets none.
    // The wait is short, since every Run live and event stream asks.
    setsockopt(&fd, sockopt::ReceiveTimeout, &TimeVal::milliseconds(50))?;
    let Some(question) = diag_request(from, to) else {
        return Ok(None); // one end IPv4, the other IPv6: no such socket
    };
    nix::unistd::write(&fd, &question)?;
    let mut answer = [0u8; 512];
    let n = recv(
        std::os::fd::AsRawFd::as_raw_fd(&fd),
        &mut answer,
        MsgFlags::empty(),
    )?;
    parse_answer(&answer[..n])
}

/// `nlmsghdr` and `inet_diag_req_v2` for the one socket `from` → `to` (no dump flag:
/// the kernel looks it up, see `inet_diag_find_one_icsk`).
fn diag_request(from: SocketAddr, to: SocketAddr) -> Option<Vec<u8>> {
    // `idiag_src` and `idiag_dst` hold 16 bytes; an IPv4 address is the first four.
    let v4 = |a: Ipv4Addr| -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&a.octets());
        b
    };
    let (family, src, dst) = match (from.ip(), to.ip()) {
        (IpAddr::V4(f), IpAddr::V4(t)) => (libc::AF_INET, v4(f), v4(t)),
        (IpAddr::V6(f), IpAddr::V6(t)) => (libc::AF_INET6, f.octets(), t.octets()),
        _ => return None,
    };
    let mut msg = Vec::with_capacity(NLMSG_HDRLEN + REQ_LEN);
    msg.extend_from_slice(&((NLMSG_HDRLEN + REQ_LEN) as u32).to_ne_bytes());
    msg.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg.extend_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
    msg.extend_from_slice(&[family as u8, libc::IPPROTO_TCP as u8, 0, 0]);
    msg.extend_from_slice(&u32::MAX.to_ne_bytes()); // every state
    msg.extend_from_slice(&from.port().to_be_bytes());
    msg.extend_from_slice(&to.port().to_be_bytes());
    msg.extend_from_slice(&src);
    msg.extend_from_slice(&dst);
    msg.extend_from_slice(&0u32.to_ne_bytes()); // interface: any
    msg.extend_from_slice(&[0xff; 8]); // cookie: INET_DIAG_NOCOOKIE
    Some(msg)
}

/// The kernel's answer: one `inet_diag_msg`, or an error (`ENOENT`: no such socket).
fn parse_answer(buf: &[u8]) -> io::Result<Option<u32>> {
    let word = |at: usize| -> io::Result<u32> {
        let b = buf
            .get(at..at + 4)
            .ok_or_else(|| io::Error::other("sock_diag: short answer"))?;
        Ok(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    match u16::from_ne_bytes([
        buf.get(4).copied().unwrap_or(0),
        buf.get(5).copied().unwrap_or(0),
    ]) {
        SOCK_DIAG_BY_FAMILY => Ok(Some(word(NLMSG_HDRLEN + UID_AT)?)),
        NLMSG_ERROR => match Errno::from_raw(-(word(NLMSG_HDRLEN)? as i32)) {
            Errno::ENOENT => Ok(None),
            errno => Err(errno.into()),
        },
        other => Err(io::Error::other(format!("sock_diag: message type {other}"))),
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 one.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// The uid of the line of `table` for the socket `from` → `to`.
fn find(table: &str, from: SocketAddr, to: SocketAddr) -> Option<u32> {
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (local, remote, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        (parse_addr(local)? == from && parse_addr(remote)? == to)
            .then(|| uid.parse().ok())
            .flatten()
    })
}

/// `0100007F:1F90` (the address as the kernel's 32-bit words in this machine's byte
/// order, the port in hex) as an address.
fn parse_addr(text: &str) -> Option<SocketAddr> {
    let (ip, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(canonical(SocketAddr::new(ip, port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_connection_is_ours_and_a_stranger_is_not_found_by_sock_diag_or_the_tables() {
        let me = nix::unistd::geteuid().as_raw();
        for at in ["127.0.0.1:0", "[::1]:0"] {
            let listener = std::net::TcpListener::bind(at).unwrap();
            let ours = listener.local_addr().unwrap();
            let client = std::net::TcpStream::connect(ours).unwrap();
            let (_server, peer) = listener.accept().unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(diag_uid(peer, ours).unwrap(), Some(me), "sock_diag, {at}");
            assert_eq!(table_uid(peer, ours), Some(me), "the tables, {at}");
            assert_eq!(uid(peer, ours), Some(me), "{at}");
            // No socket goes from there to a port nobody listens on.
            let nowhere = SocketAddr::new(ours.ip(), 1);
            assert_eq!(diag_uid(peer, nowhere).unwrap(), None, "{at}");
            assert_eq!(table_uid(peer, nowhere), None, "{at}");
        }
        // A dual-stack listener sees an IPv4 client as an IPv4-mapped address.
        let listener = std::net::TcpListener::bind("[::]:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let _client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, peer) = listener.accept().unwrap();
        assert!(peer.to_string().starts_with("[::ffff:127.0.0.1]"), "{peer}");
        assert_eq!(uid(peer, server.local_addr().unwrap()), Some(me), "{peer}");
        assert_eq!(
            diag_uid(canonical(peer), canonical(server.local_addr().unwrap())).unwrap(),
            Some(me)
        );
        // One end IPv4 and the other IPv6: no socket, and sock_diag is not asked.
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(diag_uid(v4, v6).unwrap(), None);
    }

    #[test]
    fn the_kernels_refusals_are_errors_and_no_such_socket_is_none() {
        let message = |kind: u16, body: &[u8]| -> Vec<u8> {
            let mut m = ((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes().to_vec();
            m.extend_from_slice(&kind.to_ne_bytes());
            m.extend_from_slice(&[0; 10]);
            m.extend_from_slice(body);
            m
        };
        let errno = |e: i32| (-e).to_ne_bytes();
        assert_eq!(
            parse_answer(&message(NLMSG_ERROR, &errno(libc::ENOENT))).unwrap(),
            None
        );
        let refused = parse_answer(&message(NLMSG_ERROR, &errno(libc::EPERM))).unwrap_err();
        assert_eq!(refused.raw_os_error(), Some(libc::EPERM));
        let mut found = vec![0u8; 72];
        found[UID_AT..UID_AT + 4].copy_from_slice(&1234u32.to_ne_bytes());
        assert_eq!(
            parse_answer(&message(SOCK_DIAG_BY_FAMILY, &found)).unwrap(),
            Some(1234)
        );
        assert!(
            parse_answer(&message(SOCK_DIAG_BY_FAMILY, &found[..UID_AT])).is_err(),
            "short"
        );
        assert!(parse_answer(&message(99, &found)).is_err(), "another type");
        assert!(parse_answer(&[]).is_err(), "nothing");
    }

    #[test]
    fn a_socket_opened_as_another_user_is_that_users_in_both_answers() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("skipped: only root can open a socket as another user");
            return;
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let ours = listener.local_addr().unwrap();
        // A socket belongs to the file-system uid of the thread that opened it; that
        // uid is per thread, so this thread alone becomes nobody for the `connect`.
        let client = std::thread::spawn(move || {
            nix::unistd::setfsuid(nix::unistd::Uid::from_raw(65534));
            std::net::TcpStream::connect(ours).unwrap()
        })
        .join()
        .unwrap();
        let (_server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(diag_uid(peer, ours).unwrap(), Some(65534), "sock_diag");
        assert_eq!(table_uid(peer, ours), Some(65534), "the tables");
    }

    /// How the kernel prints an address in its socket table: each 32-bit word of the
    /// address as this machine stores it, in hex, then the port.
    fn as_the_kernel_prints(addr: SocketAddr) -> String {
        let words: Vec<[u8; 4]> = match addr.ip() {
            IpAddr::V4(v4) => vec![v4.octets()],
            IpAddr::V6(v6) => v6
                .octets()
                .chunks(4)
                .map(|w| w.try_into().unwrap())
                .collect(),
        };
        let hex: String = words
            .iter()
            .map(|w| format!("{:08X}", u32::from_ne_bytes(*w)))
            .collect();
        format!("{hex}:{:04X}", addr.port())
    }

    #[test]
    fn every_word_of_a_table_address_is_read_in_its_place() {
        for text in [
            "127.0.0.1:8080",
            "192.0.2.7:50000",
            "[::1]:443",
            "[2001:db8:1:2:3:4:5:6]:443",
            "[fe80::abcd:1]:1",
        ] {
            let addr: SocketAddr = text.parse().unwrap();
            let table = as_the_kernel_prints(addr);
            assert_eq!(parse_addr(&table), Some(addr), "{table}");
        }
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:80".parse().unwrap();
        assert_eq!(
            parse_addr(&as_the_kernel_prints(mapped)),
            Some("127.0.0.1:80".parse().unwrap()),
            "an IPv4-mapped address is the IPv4 one"
        );
        #[cfg(target_endian = "little")]
        assert_eq!(
            parse_addr("0100007F:1F90"),
            Some("127.0.0.1:8080".parse().unwrap()),
            "as /proc/net/tcp prints it on x86"
        );
        for bad in [
            "0100007F",
            "0100007F:XYZ",
            "0100007F00:1F90",
            "GG00007F:1F90",
        ] {
            assert_eq!(parse_addr(bad), None, "{bad}");
        }
    }
}
