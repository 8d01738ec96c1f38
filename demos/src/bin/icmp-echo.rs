//! Ping needs no privilege where net.ipv4.ping_group_range allows it (an ICMP datagram socket), while raw and packet sockets need CAP_NET_RAW.
//!
//! icmp(7), ping_group_range: the "range of the group IDs ... that are allowed to create
//! ICMP Echo sockets. The default is "1 0", which means no group is allowed". raw(7): only
//! processes with "the CAP_NET_RAW capability are allowed to open raw sockets"; packet(7)
//! says the same of packet sockets.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::netns::NetNs;
use demos::{Break, Demo, Result, brk, net, privilege};
use nix::errno::Errno;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const BREAKS: &[Break] = &[
    brk(
        "range-closed",
        "the namespace keeps ping_group_range \"1 0\": no group may ping",
    ),
    brk(
        "child-keeps-root",
        "the child keeps root instead of dropping to nobody",
    ),
    brk(
        "root-group-only",
        "the namespace's ping_group_range is \"0 0\": root's group only, not nobody's",
    ),
];

const ECHOES: u16 = 3;

fn icmp_socket() -> std::io::Result<Socket> {
    Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4))
}

/// Sends `ECHOES` echo requests to 127.0.0.1 on an ICMP datagram socket; returns the
/// sequence numbers of the echo replies the kernel handed back (type 0, our payload),
/// and the round-trip times by the demo's clock. The kernel fills in the identifier
/// (the socket's "port") and the checksum.
fn ping_loopback(sock: &Socket) -> std::io::Result<(Vec<u16>, Vec<Duration>)> {
    let to = SockAddr::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
    sock.connect(&to)?;
    let (mut seqs, mut rtts) = (Vec::new(), Vec::new());
    for seq in 1..=ECHOES {
        let mut request = vec![8u8, 0, 0, 0, 0, 0];
        request.extend_from_slice(&seq.to_be_bytes());
        request.extend_from_slice(b"everything you know is wrong");
        let t0 = Instant::now();
        sock.send(&request)?;
        let mut reply = [std::mem::MaybeUninit::<u8>::uninit(); 128];
        let n = sock.recv(&mut reply)?;
        let rtt = t0.elapsed();
        // SAFETY: recv initialised the first n bytes.
        let reply: Vec<u8> = reply[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect();
        // Counted only if it is the echo reply to this request.
        if n >= 8 && reply[0] == 0 && reply[8..] == request[8..] {
            seqs.push(u16::from_be_bytes([reply[6], reply[7]]));
            rtts.push(rtt);
        }
    }
    Ok((seqs, rtts))
}

/// The effective capabilities of this process (`CapEff` in /proc/self/status).
fn effective_caps() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .context("no CapEff line in /proc/self/status")
}

/// In a child that runs as nobody, which prints what the kernel answered it and checks
/// it: its uid and capabilities, what a raw and a packet socket say, and the pings.
fn unprivileged(d: &mut Demo, ns: Option<&NetNs>, keep_root: bool) -> Result<()> {
    if let Some(ns) = ns {
        ns.enter()?;
    }
    if !keep_root {
        privilege::drop_to_nobody()?;
    }
    let uid = demos::evidence::read("getuid", || Ok(nix::unistd::getuid().as_raw()))?;
    let caps = demos::evidence::read("/proc/self/status CapEff", effective_caps)?;
    d.saw(&uid.and(&caps));
    let raw = d.syscall("socket(SOCK_RAW, IPPROTO_ICMP)", || {
        Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4))
    });
    d.saw(&raw);
    let eth_p_all = Protocol::from(i32::from((libc::ETH_P_ALL as u16).to_be()));
    let packet = d.syscall("socket(AF_PACKET, SOCK_RAW)", || {
        Socket::new(Domain::PACKET, Type::RAW, Some(eth_p_all))
    });
    d.saw(&packet);
    let icmp = d.syscall("socket(SOCK_DGRAM, IPPROTO_ICMP)", icmp_socket);
    d.saw(&icmp);
    let mut rtts = Vec::new();
    let replies: Vec<u16> = match icmp.into_value() {
        Ok(sock) => {
            net::with_timeouts(&sock)?;
            let answered = d.syscall("send, recv: the echo replies' sequence numbers", || {
                ping_loopback(&sock).map(|(seqs, times)| {
                    rtts = times;
                    seqs
                })
            });
            d.key(&answered);
            answered.into_value().unwrap_or_default()
        }
        Err(_) => Vec::new(),
    };
    if !rtts.is_empty() {
        d.derived(format_args!(
            "round trips by our clock: {} µs",
            rtts.iter()
                .map(|t| format!("{:.0}", t.as_secs_f64() * 1e6))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let unprivileged = *uid.value() != 0 && *caps.value() == 0;
    d.check(
        replies == (1..=ECHOES).collect::<Vec<u16>>() && unprivileged,
        format_args!(
            "all {ECHOES} echo requests answered, without any privilege (not root, no capability)"
        ),
    )?;
    d.check(
        raw.failed_with(Errno::EPERM) && packet.failed_with(Errno::EPERM),
        "raw and packet sockets need CAP_NET_RAW (EPERM)",
    )?;
    rtts.sort();
    if let Some(median) = rtts.get(rtts.len() / 2) {
        d.metric("icmp.rtt_median", median.as_secs_f64() * 1e6, "µs");
    }
    Ok(())
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("an ordinary user pings 127.0.0.1 once ping_group_range allows it; raw and packet sockets stay EPERM");
        let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
            .context("reading net.ipv4.ping_group_range")?;
        let range = range.split_whitespace().collect::<Vec<_>>().join(" ");
        let broken = d.breaks("range-closed");
        let root_only = d.breaks("root-group-only");
        let keep_root = d.breaks("child-keeps-root");
        if keep_root && !demos::is_root() {
            return Err(d.skip("the child-keeps-root break needs root"));
        }
        d.said_by(
            "/proc/sys/net/ipv4/ping_group_range",
            format_args!("\"{range}\" here"),
        );
        let here_sock = d.syscall("socket(SOCK_DGRAM, IPPROTO_ICMP) here", icmp_socket);
        d.saw(&here_sock);
        let here = match here_sock.value() {
            Ok(_) => "ok".to_owned(),
            Err(e) => net::errno_name(e),
        };

        let ns = if demos::netns::can_create() {
            let ns = NetNs::new()?;
            ns.loopback_up()?;
            let range = match (broken, root_only) {
                (true, _) => "1 0",
                (_, true) => "0 0",
                _ => "0 2147483647",
            };
            ns.sysctl("net/ipv4/ping_group_range", range)?;
            d.step(format_args!(
                "in a network namespace of our own: lo up, ping_group_range = \"{range}\""
            ));
            Some(ns)
        } else if broken || root_only {
            return Err(
                d.skip("--break sets ping_group_range in a namespace of its own: needs root")
            );
        } else if here == "ok" {
            None
        } else {
            return Err(d.skip(format!(
                "ping_group_range \"{range}\" excludes us, and changing it in a namespace of our own needs root"
            )));
        };

        if ns.is_some() {
            // We are root here: gid 0 must be inside the host's range to be allowed.
            let bounds: Vec<i64> = range.split(' ').filter_map(|v| v.parse().ok()).collect();
            let allowed = matches!(bounds[..], [low, high] if low <= 0 && 0 <= high);
            let (expected, what) = if allowed {
                ("ok", "outside, the host's range lets gid 0 in")
            } else {
                (
                    "EACCES",
                    "outside, the host's range refuses even root (EACCES): it is not a capability check",
                )
            };
            d.check(here.starts_with(expected), what)?;
        }

        d.step("a child process, as nobody, opens sockets and pings 127.0.0.1");
        d.in_child(|d| unprivileged(d, ns.as_ref(), keep_root))?;
        Ok(())
    })
}
