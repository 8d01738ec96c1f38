//! Ping needs no privilege where net.ipv4.ping_group_range allows it (an ICMP datagram socket), while raw and packet sockets need CAP_NET_RAW.
//!
//! icmp(7), ping_group_range: the "range of the group IDs ... that are allowed to create
//! ICMP Echo sockets. The default is "1 0", which means no group is allowed". raw(7): only
//! processes with "the CAP_NET_RAW capability are allowed to open raw sockets"; packet(7)
//! says the same of packet sockets.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use demos::netns::NetNs;
use demos::{Break, Result, brk, net, privilege};
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

/// socket(2) with the given type, as "ok" or the errno it failed with.
fn try_socket(domain: Domain, ty: Type, proto: Protocol) -> String {
    match Socket::new(domain, ty, Some(proto)) {
        Ok(_) => "ok".into(),
        Err(e) => net::errno_name(&e),
    }
}

fn icmp_socket() -> std::io::Result<Socket> {
    Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4))
}

/// Sends `ECHOES` echo requests to 127.0.0.1 on an ICMP datagram socket and returns
/// the round-trip times of the replies. The kernel fills in the identifier (the
/// socket's "port") and the checksum.
fn ping_loopback() -> Result<Vec<Duration>> {
    let sock = icmp_socket().context("socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)")?;
    net::with_timeouts(&sock)?;
    let to = SockAddr::from(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0));
    sock.connect(&to).context("connect to 127.0.0.1")?;
    let mut rtts = Vec::new();
    for seq in 1..=ECHOES {
        let mut request = vec![8u8, 0, 0, 0, 0, 0];
        request.extend_from_slice(&seq.to_be_bytes());
        request.extend_from_slice(b"everything you know is wrong");
        let t0 = Instant::now();
        sock.send(&request).context("send an echo request")?;
        let mut reply = [std::mem::MaybeUninit::<u8>::uninit(); 128];
        let n = sock.recv(&mut reply).context("recv the echo reply")?;
        let rtt = t0.elapsed();
        // SAFETY: recv initialised the first n bytes.
        let reply: Vec<u8> = reply[..n]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect();
        if n < 8 || reply[0] != 0 || reply[6..8] != seq.to_be_bytes() || reply[8..] != request[8..]
        {
            bail!("unexpected reply to echo {seq}: {reply:?}");
        }
        rtts.push(rtt);
    }
    Ok(rtts)
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

/// In a child that runs as nobody: its uid and capabilities, what a raw and a packet
/// socket say, and the pings (or, after `!`, why they failed).
fn unprivileged(ns: Option<&NetNs>, keep_root: bool) -> Result<String> {
    if let Some(ns) = ns {
        ns.enter()?;
    }
    if !keep_root {
        privilege::drop_to_nobody()?;
    }
    let raw = try_socket(Domain::IPV4, Type::RAW, Protocol::ICMPV4);
    let eth_p_all = Protocol::from(i32::from((libc::ETH_P_ALL as u16).to_be()));
    let packet = try_socket(Domain::PACKET, Type::RAW, eth_p_all);
    let pings = match ping_loopback() {
        Ok(rtts) => rtts
            .iter()
            .map(|d| format!("{:.0}", d.as_secs_f64() * 1e6))
            .collect::<Vec<_>>()
            .join(","),
        Err(e) => format!("!{e:#}"),
    };
    Ok(format!(
        "{}|{:x}|{raw}|{packet}|{pings}",
        nix::unistd::getuid(),
        effective_caps()?
    ))
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

        d.step("a child process, as nobody, opens sockets and pings 127.0.0.1");
        let report = privilege::in_child(|| unprivileged(ns.as_ref(), keep_root))?;
        let fields: Vec<&str> = report.split('|').collect();
        let [uid, caps, raw, packet, pings] = fields[..] else {
            bail!("unexpected report from the child: {report:?}");
        };
        let reported = |what: &str, value: &str| {
            demos::evidence::read(format_args!("the child's {what}, as it reported"), || {
                Ok(value.to_owned())
            })
        };
        let rtts: Vec<f64> = match pings.strip_prefix('!') {
            Some(why) => {
                d.key(&reported("ping", why)?);
                Vec::new()
            }
            None => pings
                .split(',')
                .map(|s| s.parse().context("a round-trip time"))
                .collect::<Result<_>>()?,
        };
        let unprivileged = uid != "0" && caps == "0";
        d.saw(&reported(
            "getuid, CapEff",
            &format!("uid {uid}, CapEff {caps}"),
        )?);
        d.saw(&reported("socket(SOCK_RAW, IPPROTO_ICMP)", raw)?);
        d.saw(&reported("socket(AF_PACKET, SOCK_RAW)", packet)?);
        d.key(&reported("echo round trips in µs (its clock)", pings)?);
        d.derived(format_args!("{} echo replies from 127.0.0.1", rtts.len()));
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
        d.check(
            rtts.len() == usize::from(ECHOES) && unprivileged,
            format_args!(
                "all {ECHOES} echo requests answered, without any privilege (not root, no capability)"
            ),
        )?;
        d.check(
            raw.starts_with("EPERM") && packet.starts_with("EPERM"),
            "raw and packet sockets need CAP_NET_RAW (EPERM)",
        )?;
        let mut sorted = rtts.clone();
        sorted.sort_by(f64::total_cmp);
        if let Some(median) = sorted.get(sorted.len() / 2) {
            d.metric("icmp.rtt_median", *median, "µs");
        }
        Ok(())
    })
}
