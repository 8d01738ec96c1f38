//! Who is at the other end of a TCP connection on this machine: the kernel's socket
//! table (`/proc/net/tcp`, `/proc/net/tcp6`) lists every socket with its owner's uid.
//! The peer's socket is the one whose local address is the peer's and whose remote
//! address is ours.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The uid owning the socket at `peer` that is connected to `local`, if that socket is
/// on this machine (in this network namespace).
pub fn uid(peer: SocketAddr, local: SocketAddr) -> Option<u32> {
    let (peer, local) = (canonical(peer), canonical(local));
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            find(&text, peer, local)
        })
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
    fn our_own_connection_is_ours_and_a_stranger_is_not_found() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, peer) = listener.accept().unwrap();
        let me = nix::unistd::geteuid().as_raw();
        assert_eq!(uid(peer, listener.local_addr().unwrap()), Some(me));
        assert_eq!(peer, client.local_addr().unwrap());
        // No socket goes from there to a port nobody listens on.
        let nowhere: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(uid(peer, nowhere), None);
        let listener = std::net::TcpListener::bind("[::1]:0").unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, peer) = listener.accept().unwrap();
        assert_eq!(uid(peer, listener.local_addr().unwrap()), Some(me));
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
