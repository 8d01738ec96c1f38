//! A TCP port outlives the server process that used it: its connection waits in TIME_WAIT, and binding the port again fails with EADDRINUSE.
//!
//! socket(7): `SO_REUSEADDR` "Indicates that the rules used in validating addresses
//! supplied in a bind(2) call should allow reuse of local addresses. For AF_INET
//! sockets this means that a socket may bind, except when there is an active listening
//! socket bound to the address." Linux checks the flag on both sides: the new socket
//! and the one still holding the port (here the dead server's connection, which got it
//! from its listener). Two listeners on one port need `SO_REUSEPORT` instead.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;

use anyhow::Context;
use demos::inet::{self, TCP_TIME_WAIT, bind_tcp};
use demos::net::{LOOPBACK_ANY_PORT, errno_name, with_timeouts};
use demos::peer::{self, Exit};
use demos::wire::{self, Capture};
use demos::{IO_TIMEOUT, Result};
use nix::errno::Errno;
use socket2::Socket;

/// The server: binds port 0, tells the parent the port, accepts one client and exits
/// without closing anything, as a crashed or killed server does (after the client's
/// FIN if `client_first`).
fn server(reuseaddr: bool, client_first: bool, report: &mut UnixStream) -> Result<()> {
    let listener = bind_tcp(LOOPBACK_ANY_PORT, reuseaddr).context("server bind")?;
    listener.listen(8).context("listen")?;
    let port = inet::local_addr(&listener)?.port();
    report
        .write_all(&port.to_be_bytes())
        .context("reporting the port")?;
    anyhow::ensure!(
        demos::fd::readable_within(&listener, IO_TIMEOUT)?,
        "no client came"
    );
    let (conn, _) = listener.accept().context("accept")?;
    if client_first {
        demos::fd::readable_within(&conn, IO_TIMEOUT)?;
    }
    // Not closed: the process just ends, and the kernel closes both sockets for it.
    std::mem::forget((listener, conn));
    Ok(())
}

/// On the wire: the dead server sent the first FIN, and its side holds TIME_WAIT.
fn first_fin_on_wire(
    d: &mut demos::Demo,
    w: &Option<Capture>,
    ends: [SocketAddr; 2],
    time_wait: Option<SocketAddr>,
) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    let mut c = w.connection("server A", ends[0], ends[1]);
    c.key = c.packets.iter().position(|p| p.has("FIN"));
    let by_server = c.key.is_some_and(|k| !c.packets[k].from_client);
    let holder = match time_wait {
        Some(a) if a == ends[1] => "the server's side",
        Some(_) => "the client's side",
        None => "not on the server's port",
    };
    if let Some(k) = c.key {
        d.wire(format_args!(
            "first FIN: {}; TIME_WAIT: {holder}",
            wire::describe(&c.packets[k])
        ));
    }
    wire::record(&c);
    d.check(
        by_server && time_wait == Some(ends[1]),
        "on the wire: the server sent the first FIN, and its side holds TIME_WAIT",
    )
}

/// Runs one server life; returns its port once it has exited and its connection is in
/// TIME_WAIT. `tell` prints the story (the second time it is only in --verbose).
/// `client_first`: the client closes first (`--break`).
fn serve_once(d: &mut demos::Demo, reuseaddr: bool, tell: bool, client_first: bool) -> Result<u16> {
    let w = if tell { wire::open(d)? } else { None };
    let (mut here, mut there) = UnixStream::pair().context("socketpair")?;
    with_timeouts(&here)?;
    let child = peer::fork_fallible("server", move || {
        server(reuseaddr, client_first, &mut there)
    })?;
    let pid = child.pid();
    let mut port = [0u8; 2];
    here.read_exact(&mut port)
        .context("reading the server's port")?;
    let port = u16::from_be_bytes(port);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));

    let mut client = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .with_context(|| format!("connecting to {addr}"))?;
    with_timeouts(&client)?;
    let ends = [client.local_addr()?, addr];
    if client_first {
        client
            .shutdown(std::net::Shutdown::Write)
            .context("client shutdown")?;
    }
    let status = child.wait(IO_TIMEOUT)?;
    anyhow::ensure!(status == Exit::Code(0), "the server ended with {status:?}");
    let n = client.read(&mut [0u8; 16]).context("client recv")?;
    drop(client);
    let gone =
        format!("server pid {pid} exited without close(); its client's recv returned {n} (FIN)");
    let tw = inet::wait_tcp_socket(port, IO_TIMEOUT, |e| e.state == TCP_TIME_WAIT)?;
    first_fin_on_wire(d, &w, ends, tw.as_ref().map(|e| e.local))?;
    let entry = match tw {
        Some(e) => {
            let server = if reuseaddr { "b" } else { "a" };
            d.metric(
                &format!("tcp.time_wait.left.{server}"),
                e.timer_left.as_secs_f64(),
                "s",
            );
            format!(
                "ss: {} -> {} {}, inode {}, freed in {:.0} s",
                e.local,
                e.remote,
                inet::tcp_state_name(e.state),
                e.inode,
                e.timer_left.as_secs_f64()
            )
        }
        None => format!("ss: no socket in TIME_WAIT on port {port}"),
    };
    if tell {
        d.saw(gone);
        d.saw(entry);
    } else {
        d.detail(gone);
        d.detail(entry);
    }
    d.check(
        tw.is_some_and(|e| e.inode == 0),
        format_args!("no process (no file, inode 0) holds port {port}, but the kernel does"),
    )?;
    Ok(port)
}

/// Binds 127.0.0.1:port (with SO_REUSEADDR or not) and says what the kernel answered
/// (as a focus line if `key`).
fn try_bind(
    d: &demos::Demo,
    port: u16,
    reuseaddr: bool,
    key: bool,
) -> Result<Result<Socket, Errno>> {
    let say = |what: std::fmt::Arguments<'_>| if key { d.key(what) } else { d.saw(what) };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let how = if reuseaddr {
        "bind with SO_REUSEADDR:   "
    } else {
        "bind without SO_REUSEADDR:"
    };
    match bind_tcp(addr, reuseaddr) {
        Ok(sock) => {
            say(format_args!("{how} ok"));
            Ok(Ok(sock))
        }
        Err(e) => match e.raw_os_error() {
            Some(code) => {
                say(format_args!("{how} {}", errno_name(&e)));
                Ok(Err(Errno::from_raw(code)))
            }
            None => Err(e).context("bind"),
        },
    }
}

fn main() {
    demos::run(|d| {
        d.expect(
            "a dead server's port stays taken (TIME_WAIT); SO_REUSEADDR frees it only if \
             the old server set it too, and never lets two listeners share it",
        );
        let in_use = |r: &Result<Socket, Errno>| matches!(r, Err(Errno::EADDRINUSE));

        let client_first =
            d.breaks("A's client closes first, so TIME_WAIT lands on the client's side");
        d.step("server A (no SO_REUSEADDR) listens on 127.0.0.1:0, accepts one client, exits");
        let port = serve_once(d, false, true, client_first)?;
        let plain = try_bind(d, port, false, false)?;
        let reuse = try_bind(d, port, true, true)?;
        d.check(
            in_use(&plain) && in_use(&reuse),
            "EADDRINUSE, even with SO_REUSEADDR now: the dead server did not set it",
        )?;

        d.step("server B sets SO_REUSEADDR, as servers should, and exits the same way");
        let port = serve_once(d, true, false, false)?;
        let plain = try_bind(d, port, false, false)?;
        let restarted = try_bind(d, port, true, true)?;
        d.check(
            in_use(&plain) && restarted.is_ok(),
            "SO_REUSEADDR on old and new server lets the new one bind over TIME_WAIT",
        )?;
        let restarted = restarted.context("bind with SO_REUSEADDR")?;

        d.step(format_args!(
            "new server listens on {port}; another SO_REUSEADDR socket tries to bind it too"
        ));
        restarted
            .listen(8)
            .context("listen on the restarted server")?;
        let second = try_bind(d, port, true, false)?;
        d.check(
            in_use(&second),
            "SO_REUSEADDR never lets two listeners share a port (that is SO_REUSEPORT)",
        )?;
        d.detail(
            "TIME_WAIT lasts 60 s (TCP_TIMEWAIT_LEN, a constant; tcp_fin_timeout is FIN_WAIT2's)",
        );
        Ok(())
    })
}
