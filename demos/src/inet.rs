//! TCP/IP helpers for the socket demos: sockets with options set before `bind`,
//! waiting for readiness with a timeout, and the kernel's own table of IPv4 TCP
//! sockets (`/proc/net/tcp`), which shows sockets no process holds any more.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
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

/// One row of `/proc/net/tcp`: a TCP socket as the kernel sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpEntry {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    /// The state number (`st` column): 01 ESTABLISHED ... 06 TIME_WAIT, 0A LISTEN.
    pub state: u8,
    /// Time left on the socket's pending timer (`tm->when`), zero when none runs; for
    /// TIME_WAIT, how long until the kernel frees it.
    pub timer_left: Duration,
}

/// The `st` value of a connection in TIME_WAIT.
pub const TCP_TIME_WAIT: u8 = 6;

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

/// Every IPv4 TCP socket of this network namespace, from `/proc/net/tcp`.
pub fn tcp_table() -> Result<Vec<TcpEntry>> {
    let text = std::fs::read_to_string("/proc/net/tcp").context("reading /proc/net/tcp")?;
    parse_tcp_table(&text)
}

/// Waits until the kernel's table holds an entry that `matches`, at most `timeout`.
pub fn wait_tcp_entry(
    timeout: Duration,
    matches: impl Fn(&TcpEntry) -> bool,
) -> Result<Option<TcpEntry>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(e) = tcp_table()?.into_iter().find(&matches) {
            return Ok(Some(e));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn parse_tcp_table(text: &str) -> Result<Vec<TcpEntry>> {
    let mut entries = Vec::new();
    for line in text.lines().skip(1) {
        let mut cols = line.split_whitespace().skip(1);
        let (Some(local), Some(remote), Some(state), Some(_queues), Some(timer)) = (
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
            cols.next(),
        ) else {
            bail!("short line in /proc/net/tcp: {line:?}");
        };
        // `tr:tm->when`: which timer runs, and its expiry in clock ticks (USER_HZ).
        let ticks = timer
            .split_once(':')
            .and_then(|(_, when)| u64::from_str_radix(when, 16).ok())
            .with_context(|| format!("bad timer {timer:?} in /proc/net/tcp"))?;
        entries.push(TcpEntry {
            local: parse_hex_addr(local)?,
            remote: parse_hex_addr(remote)?,
            state: u8::from_str_radix(state, 16)
                .with_context(|| format!("bad state {state:?} in /proc/net/tcp"))?,
            timer_left: Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second()),
        });
    }
    Ok(entries)
}

/// USER_HZ, the unit of the timers in `/proc/net/tcp` (100 on every Linux build).
fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// `0100007F:1F90` is 127.0.0.1:8080: the address in host byte order, in hex.
fn parse_hex_addr(s: &str) -> Result<SocketAddrV4> {
    let (ip, port) = s
        .split_once(':')
        .with_context(|| format!("bad address {s:?} in /proc/net/tcp"))?;
    let ip = u32::from_str_radix(ip, 16).with_context(|| format!("bad IP {ip:?}"))?;
    let port = u16::from_str_radix(port, 16).with_context(|| format!("bad port {port:?}"))?;
    // The kernel prints the address's four network-order bytes as one native u32.
    Ok(SocketAddrV4::new(Ipv4Addr::from(ip.to_ne_bytes()), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_proc_net_tcp_row() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue\n   \
            0: 0100007F:1F90 0200007F:C350 06 00000000:00000000 03:00001770 00000000\n";
        let rows = parse_tcp_table(text).unwrap();
        assert_eq!(
            rows,
            [TcpEntry {
                local: "127.0.0.1:8080".parse().unwrap(),
                remote: "127.0.0.2:50000".parse().unwrap(),
                state: TCP_TIME_WAIT,
                timer_left: Duration::from_secs(60),
            }]
        );
        assert_eq!(tcp_state_name(rows[0].state), "TIME_WAIT");
    }

    #[test]
    fn a_listener_shows_up_in_the_table() {
        let (_l, addr) = crate::net::tcp_listener().unwrap();
        let found = tcp_table()
            .unwrap()
            .into_iter()
            .any(|e| SocketAddr::V4(e.local) == addr && e.state == 10);
        assert!(found, "listener {addr} not in /proc/net/tcp");
    }
}
