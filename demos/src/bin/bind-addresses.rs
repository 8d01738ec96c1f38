//! The address you bind decides who can reach you: 0.0.0.0 is every local address (127.0.0.2 too), 127.0.0.1 is that one alone, and [::] takes IPv4 clients as ::ffff:a.b.c.d.
//!
//! ip(7): "When INADDR_ANY is specified in the bind call, the socket will be bound to
//! all local interfaces." On Linux all of 127.0.0.0/8 is a local address of `lo`.
//! ipv6(7): "IPv4 connections can be handled with the v6 API by using the
//! v4-mapped-on-v6 address type"; `IPV6_V6ONLY` off (net.ipv6.bindv6only = 0, the
//! default) lets an AF_INET6 socket bound to [::] accept them. The demo leaves
//! IPV6_V6ONLY at the system's default, as a server that does not set it does: on a
//! machine with bindv6only = 1 the [::] listener refuses IPv4, and the demo fails.

use std::net::{Ipv6Addr, SocketAddr, TcpListener, TcpStream};

use anyhow::Context;
use demos::net::{accept_timeout, errno_name, is_errno};
use demos::{IO_TIMEOUT, Result};
use nix::errno::Errno;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// A listener on `addr` (port 0: the kernel picks) and the address it got.
fn listen_on(addr: &str) -> Result<(TcpListener, SocketAddr)> {
    let addr: SocketAddr = addr.parse().context("parsing the listen address")?;
    let l = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
    let got = l.local_addr().context("getsockname")?;
    Ok((l, got))
}

fn connect(ip: &str, port: u16) -> Result<std::io::Result<TcpStream>> {
    let to = SocketAddr::new(ip.parse().context("parsing the address")?, port);
    Ok(TcpStream::connect_timeout(&to, IO_TIMEOUT))
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
    demos::run(|d| {
        d.expect("0.0.0.0 answers on 127.0.0.2 too, 127.0.0.1 does not; [::] takes IPv4 clients");

        d.step("listen on 0.0.0.0 port 0; a client connects to 127.0.0.2");
        let (any, any_addr) = listen_on("0.0.0.0:0")?;
        let client = connect("127.0.0.2", any_addr.port())?
            .context("connecting to the 0.0.0.0 listener via 127.0.0.2")?;
        let (conn, from) = accept_timeout(&any)?;
        let named = conn.local_addr().context("getsockname")?;
        d.saw(format_args!(
            "listener: {any_addr}; accepted socket: {named}, peer {from}"
        ));
        d.check(
            any_addr.ip().is_unspecified()
                && named == SocketAddr::from(([127, 0, 0, 2], any_addr.port()))
                && client.local_addr().context("client getsockname")? == from,
            "0.0.0.0 is every local address; each connection names the one it came to",
        )?;

        d.step("listen on 127.0.0.1 port 0; clients connect to 127.0.0.2, then 127.0.0.1");
        let (lo, lo_addr) = listen_on("127.0.0.1:0")?;
        let other = connect("127.0.0.2", lo_addr.port())?;
        let same = connect("127.0.0.1", lo_addr.port())?;
        let say = |r: &std::io::Result<TcpStream>| match r {
            Ok(_) => "connected".to_string(),
            Err(e) => errno_name(e),
        };
        d.key(format_args!("to 127.0.0.2: {}", say(&other)));
        d.saw(format_args!("to 127.0.0.1: {}", say(&same)));
        let accepted = same.is_ok() && accept_timeout(&lo).is_ok();
        d.check(
            other
                .as_ref()
                .is_err_and(|e| is_errno(e, Errno::ECONNREFUSED))
                && accepted,
            "bound to 127.0.0.1, a server does not hear 127.0.0.2, though both are loopback",
        )?;

        let sysctl = std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|e| format!("unreadable: {e}"));
        let v6only = d.breaks("the [::] listener sets IPV6_V6ONLY = 1 (as bindv6only = 1 would)");
        d.step(format_args!(
            "listen on [::] port 0, IPV6_V6ONLY left at the default \
             (net.ipv6.bindv6only = {sysctl}); an IPv4 client connects"
        ));
        let Some((six, six_addr)) = dual_stack_listener(v6only)? else {
            return Err(d.skip("IPv6 is disabled, so [::] cannot be shown taking IPv4"));
        };
        let from6 = match connect("127.0.0.1", six_addr.port())? {
            Ok(v4) => {
                let (conn6, from6) = accept_timeout(&six)?;
                let named6 = conn6.local_addr().context("getsockname")?;
                d.key(format_args!(
                    "accepted socket: {named6}, peer {from6} (client sees itself as {})",
                    v4.local_addr().context("client getsockname")?
                ));
                Some(from6)
            }
            Err(e) => {
                d.key(format_args!("IPv4 client to [::]: {}", errno_name(&e)));
                None
            }
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
