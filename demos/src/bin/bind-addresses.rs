//! The address you bind decides who can reach you: 0.0.0.0 is every local address (each one the interfaces list, and 127.0.0.2 too), 127.0.0.1 is that one alone, and [::] takes IPv4 clients as ::ffff:a.b.c.d.
//!
//! ip(7): "When INADDR_ANY is specified in the bind call, the socket will be bound to
//! all local interfaces." On Linux all of 127.0.0.0/8 is a local address of `lo`.
//! ipv6(7): "IPv4 connections can be handled with the v6 API by using the
//! v4-mapped-on-v6 address type"; `IPV6_V6ONLY` off (net.ipv6.bindv6only = 0, the
//! default) lets an AF_INET6 socket bound to [::] accept them. The demo leaves
//! IPV6_V6ONLY at the system's default, as a server that does not set it does: on a
//! machine with bindv6only = 1 the [::] listener refuses IPv4, and the demo fails.
//!
//! As root the demo works in a network namespace of its own and gives it a second,
//! non-loopback address (192.0.2.1, a documentation address, on one end of a veth
//! pair), then connects to every IPv4 address getifaddrs lists there. An ordinary user
//! stays in the machine's namespace, where it tries only the loopback ones: the demos
//! send nothing to the machine's other addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};

use anyhow::Context;
use demos::net::{accept_timeout, is_errno};
use demos::{Break, Evidence, IO_TIMEOUT, Observed, Result, brk};
use nix::errno::Errno;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const BREAKS: &[Break] = &[
    brk(
        "v6only",
        "the [::] listener sets IPV6_V6ONLY = 1 (as bindv6only = 1 would)",
    ),
    brk("any-is-lo", "the \"0.0.0.0\" listener binds 127.0.0.1"),
    brk("lo-is-any", "the \"127.0.0.1\" listener binds 0.0.0.0"),
    brk(
        "listener-name",
        "each connection's address is read with getsockname on the listener (0.0.0.0), \
         not on the accepted socket",
    ),
    brk(
        "no-extra",
        "as root, the second address is not added: only loopback addresses are tried",
    ),
];

/// The address the demo adds to its own namespace: TEST-NET-1 (RFC 5737).
const EXTRA: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// Gives the calling thread's network namespace (the demo's own) a non-loopback
/// address: one end of a veth pair, both ends up, with [`EXTRA`].
fn add_extra_address() -> Result<()> {
    let a = format!("eb{}a", std::process::id());
    let b = format!("eb{}b", std::process::id());
    let addr = format!("{EXTRA}/24");
    for args in [
        &["link", "add", &a, "type", "veth", "peer", "name", &b][..],
        &["addr", "add", &addr, "dev", &a],
        &["link", "set", &a, "up"],
        &["link", "set", &b, "up"],
    ] {
        let out = std::process::Command::new("ip")
            .args(args)
            .output()
            .with_context(|| format!("running ip {}", args.join(" ")))?;
        anyhow::ensure!(
            out.status.success(),
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The IPv4 addresses of this namespace's interfaces, as getifaddrs(3) lists them
/// (from the kernel's netlink answer).
fn local_ipv4() -> Result<Observed<Vec<IpAddr>>> {
    demos::evidence::read("getifaddrs, IPv4", || {
        let mut all = Vec::new();
        for ifa in nix::ifaddrs::getifaddrs().context("getifaddrs")? {
            if let Some(sin) = ifa.address.as_ref().and_then(|a| a.as_sockaddr_in()) {
                all.push(IpAddr::V4(sin.ip()));
            }
        }
        Ok(all)
    })
}

/// getsockname and getpeername of one accepted socket.
struct Names(SocketAddr, SocketAddr);

impl Evidence for Names {
    fn render(&self) -> String {
        format!("{} <- {}", self.0, self.1)
    }
}

/// accept, then getsockname and getpeername of the accepted socket.
fn accept_names(l: &TcpListener) -> Observed<std::io::Result<Names>> {
    demos::evidence::call("accept, getsockname, getpeername", || {
        let (conn, from) =
            accept_timeout(l).map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        Ok::<_, std::io::Error>(Names(conn.local_addr()?, from))
    })
}

/// A listener on `addr` (port 0: the kernel picks) and the address it got.
fn listen_on(addr: &str) -> Result<(TcpListener, SocketAddr)> {
    let addr: SocketAddr = addr.parse().context("parsing the listen address")?;
    let l = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    let got = l.local_addr().context("getsockname")?;
    Ok((l, got))
}

fn connect(ip: &str, port: u16) -> Result<Observed<std::io::Result<TcpStream>>> {
    let to = SocketAddr::new(ip.parse().context("parsing the address")?, port);
    Ok(demos::evidence::call(
        format_args!("connect to {ip}"),
        || TcpStream::connect_timeout(&to, IO_TIMEOUT),
    ))
}

/// An IPv6 listener on [::]:0 with IPV6_V6ONLY at the system default, or set to 1 if
/// `v6only`; None if this machine has no IPv6.
fn dual_stack_listener(v6only: bool) -> Result<Option<(TcpListener, SocketAddr)>> {
    let sock = match Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP)) {
        Ok(s) => s,
        Err(e) if is_errno(&e, Errno::EAFNOSUPPORT) => return Ok(None),
        Err(e) => return Err(e).context("socket(AF_INET6)"),
    };
    if v6only {
        sock.set_only_v6(true).context("IPV6_V6ONLY = 1")?;
    }
    let any = SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0));
    match sock.bind(&SockAddr::from(any)) {
        Ok(()) => {}
        Err(e) if is_errno(&e, Errno::EADDRNOTAVAIL) => return Ok(None),
        Err(e) => return Err(e).context("binding [::]:0"),
    }
    sock.listen(8).context("listen on [::]")?;
    let l = TcpListener::from(sock);
    let got = l.local_addr().context("getsockname")?;
    Ok(Some((l, got)))
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "0.0.0.0 answers on every local address, 127.0.0.1 on itself alone; [::] takes \
             IPv4 clients",
        );

        // As root: a namespace of its own, with a second, non-loopback address.
        let own = demos::netns::isolate()?;
        let extra = !d.breaks("no-extra");
        if !own && !extra {
            return Err(d.skip("the no-extra break needs root, for a namespace of its own"));
        }
        if own && extra {
            if std::process::Command::new("ip").arg("-V").output().is_err() {
                return Err(d.skip("as root it needs iproute2's ip, to add an address"));
            }
            add_extra_address()?;
        }
        d.step(if own {
            "listen on 0.0.0.0 port 0 in a namespace of our own with 192.0.2.1 on a veth; \
             a client connects to each local address"
        } else {
            "listen on 0.0.0.0 port 0; a client connects to each loopback address, and 127.0.0.2"
        });
        let any_is = if d.breaks("any-is-lo") {
            "127.0.0.1:0"
        } else {
            "0.0.0.0:0"
        };
        let (any, any_addr) = listen_on(any_is)?;
        let listed = local_ipv4()?;
        d.saw(&listed);
        let mut targets: Vec<IpAddr> = listed
            .value()
            .iter()
            .filter(|ip| own || ip.is_loopback())
            .copied()
            .collect();
        targets.push(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        let listener_name = d.breaks("listener-name");
        let mut clients = Vec::new();
        let reached = demos::evidence::call("connect, accept, getsockname to each", || {
            let mut names = Vec::new();
            for ip in &targets {
                let to = SocketAddr::new(*ip, any_addr.port());
                let client = TcpStream::connect_timeout(&to, IO_TIMEOUT)?;
                clients.push(client.local_addr()?);
                let (conn, from) =
                    accept_timeout(&any).map_err(|e| std::io::Error::other(format!("{e:#}")))?;
                // getsockname on the accepted socket: the address this connection came to.
                let named = if listener_name {
                    any.local_addr()?
                } else {
                    conn.local_addr()?
                };
                names.push(Names(named, from));
            }
            Ok::<_, std::io::Error>(names)
        });
        d.key(&reached);
        // The call is Ok only once every target was reached: one name per target.
        let every =
            reached.value().as_ref().is_ok_and(|names| {
                names.iter().zip(&targets).zip(&clients).all(
                    |((Names(named, from), ip), client)| {
                        *named == SocketAddr::new(*ip, any_addr.port()) && from == client
                    },
                )
            });
        d.check(
            every && (!own || targets.contains(&IpAddr::V4(EXTRA))),
            if own {
                "0.0.0.0 is every local address: each IPv4 address of the namespace \
                 (192.0.2.1 too) and 127.0.0.2; each connection names the one it came to"
            } else {
                "0.0.0.0 is every loopback address tried (127.0.0.2 too; as root, every \
                 address of a namespace of its own); each connection names the one it came to"
            },
        )?;

        d.step("listen on 127.0.0.1 port 0; clients connect to 127.0.0.2, then 127.0.0.1");
        let lo_is = if d.breaks("lo-is-any") {
            "0.0.0.0:0"
        } else {
            "127.0.0.1:0"
        };
        let (lo, lo_addr) = listen_on(lo_is)?;
        let other = connect("127.0.0.2", lo_addr.port())?;
        let same = connect("127.0.0.1", lo_addr.port())?;
        d.key(&other);
        d.saw(&same);
        let accepted = same.is_ok() && accept_timeout(&lo).is_ok();
        d.check(
            other.failed_with(Errno::ECONNREFUSED) && accepted,
            "bound to 127.0.0.1, a server does not hear 127.0.0.2, though both are loopback",
        )?;

        let sysctl = std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|e| format!("unreadable: {e}"));
        let _ = &sysctl;
        let v6only = d.breaks("v6only");
        d.step(format_args!(
            "listen on [::] port 0, IPV6_V6ONLY left at the default \
             (net.ipv6.bindv6only = {sysctl}); an IPv4 client connects"
        ));
        let Some((six, six_addr)) = dual_stack_listener(v6only)? else {
            return Err(d.skip("IPv6 is disabled, so [::] cannot be shown taking IPv4"));
        };
        let v4 = connect("127.0.0.1", six_addr.port())?;
        let from6 = if v4.is_ok() {
            let names = accept_names(&six);
            d.key(&names);
            names.into_value().ok().map(|n| n.1)
        } else {
            d.key(&v4);
            None
        };
        let mapped = match from6 {
            Some(SocketAddr::V6(a)) => a.ip().to_ipv4_mapped() == Some([127, 0, 0, 1].into()),
            _ => false,
        };
        d.check(
            mapped,
            "an IPv4 client of an IPv6 socket appears as ::ffff:127.0.0.1",
        )?;
        d.detail(
            "with net.ipv6.bindv6only = 1 (or IPV6_V6ONLY set), [::] takes IPv6 only \
             and 0.0.0.0 needs a socket of its own",
        );
        Ok(())
    })
}
