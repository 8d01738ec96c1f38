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
use demos::inet::{self, TCP_LISTEN, TCP_TIME_WAIT, bind_tcp};
use demos::net::{LOOPBACK_ANY_PORT, with_timeouts};
use demos::peer::{self, Exit};
use demos::wire::{self, Capture};
use demos::{Break, IO_TIMEOUT, Observed, Result, brk};
use nix::errno::Errno;
use socket2::Socket;

const BREAKS: &[Break] = &[
    brk("a-reuses", "server A sets SO_REUSEADDR too"),
    brk(
        "linger-zero",
        "the servers set SO_LINGER {on, 0}: the kernel resets, no TIME_WAIT",
    ),
    brk("b-plain", "server B does not set SO_REUSEADDR"),
    brk("reuseport", "the last two sockets set SO_REUSEPORT as well"),
    brk(
        "client-first",
        "A's client closes first, so TIME_WAIT lands on the client's side",
    ),
    brk(
        "last-word",
        "the server sends one last byte before it exits: the client's recv returns it, not 0",
    ),
    brk(
        "supervisor-holds",
        "the demo opens the listener and forks the server with it, keeping its own copy",
    ),
    brk(
        "look-later",
        "the demo reads the kernel's list of sockets 2.5 s after the server died",
    ),
];

/// TIME_WAIT's fixed length (TCP_TIMEWAIT_LEN), and the least a look right after the
/// server's death may find left of it on a loaded machine.
const TIME_WAIT: std::time::Duration = std::time::Duration::from_secs(60);
const FRESH: std::time::Duration = std::time::Duration::from_secs(58);

/// The server: binds port 0, tells the parent the port, accepts one client and exits
/// without closing anything, as a crashed or killed server does (after the client's
/// FIN if `client_first`).
fn server(
    inherited: Option<Socket>,
    reuseaddr: bool,
    linger_zero: bool,
    client_first: bool,
    last_word: bool,
    report: &mut UnixStream,
) -> Result<()> {
    let listener = match inherited {
        Some(l) => l,
        None => bind_tcp(LOOPBACK_ANY_PORT, reuseaddr).context("server bind")?,
    };
    listener.listen(8).context("listen")?;
    let port = inet::local_addr(&listener)?.port();
    report
        .write_all(&port.to_be_bytes())
        .context("reporting the port")?;
    anyhow::ensure!(
        demos::fd::readable_within(&listener, IO_TIMEOUT)?,
        "no client came"
    );
    let (mut conn, _) = listener.accept().context("accept")?;
    if last_word {
        conn.write_all(b"x").context("the server's last byte")?;
    }
    if client_first {
        demos::fd::readable_within(&conn, IO_TIMEOUT)?;
    }
    if linger_zero {
        socket2::SockRef::from(&conn)
            .set_linger(Some(std::time::Duration::ZERO))
            .context("SO_LINGER")?;
    }
    // Exits only once the client's connect() has returned (else a reset can beat it).
    report
        .set_read_timeout(Some(IO_TIMEOUT))
        .context("timeout on the report socket")?;
    report
        .read_exact(&mut [0u8; 1])
        .context("waiting for the client to be connected")?;
    // Not closed: the process just ends, and the kernel closes both sockets for it.
    std::mem::forget((listener, conn));
    Ok(())
}

/// On the wire: whether the dead server sent the first FIN and its side holds
/// TIME_WAIT (`None` without a capture, no CAP_NET_RAW).
fn first_fin_on_wire(
    d: &demos::Demo,
    w: &Option<Capture>,
    ends: [SocketAddr; 2],
    time_wait: Option<SocketAddr>,
) -> Option<bool> {
    let w = w.as_ref()?;
    let seen = w.connection("server A", ends[0], ends[1]);
    let mut c = seen.value().clone();
    c.key = c.packets.iter().position(|p| p.has("FIN"));
    let by_server = c.key.is_some_and(|k| !c.packets[k].from_client);
    let holder = match time_wait {
        Some(a) if a == ends[1] => "the server's side",
        Some(_) => "the client's side",
        None => "not on the server's port",
    };
    if let Some(k) = c.key {
        d.saw(&wire::read(&seen, |c| {
            format!("first FIN: {}", wire::describe(&c.packets[k]))
        }));
        d.derived(format_args!("TIME_WAIT: {holder}"));
    }
    wire::record(&c);
    Some(by_server && time_wait == Some(ends[1]))
}

/// Runs one server life; returns its port once it has exited and its connection is in
/// TIME_WAIT. `tell` prints the story (the second time it is only in --verbose).
/// `client_first`: the client closes first (`--break`).
fn serve_once(d: &mut demos::Demo, reuseaddr: bool, tell: bool, client_first: bool) -> Result<u16> {
    let w = if tell { wire::open(d)? } else { None };
    let (mut here, mut there) = UnixStream::pair().context("socketpair")?;
    with_timeouts(&here)?;
    let linger_zero = d.breaks("linger-zero");
    let last_word = d.breaks("last-word");
    // A supervisor that opens the port and forks its server keeps a copy of it.
    let held = if d.breaks("supervisor-holds") {
        Some(bind_tcp(LOOPBACK_ANY_PORT, reuseaddr).context("the demo's bind")?)
    } else {
        None
    };
    let inherited = held.as_ref().map(Socket::try_clone).transpose()?;
    let child = peer::fork_fallible("server", move || {
        server(
            inherited,
            reuseaddr,
            linger_zero,
            client_first,
            last_word,
            &mut there,
        )
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
    here.write_all(b"c")
        .context("telling the server the client is connected")?;
    if client_first {
        client
            .shutdown(std::net::Shutdown::Write)
            .context("client shutdown")?;
    }
    let status = child.wait(IO_TIMEOUT)?;
    anyhow::ensure!(status == Exit::Code(0), "the server ended with {status:?}");
    let n = d.syscall("client recv", || client.read(&mut [0u8; 16]));
    // The client closes second: its ACK of the server's FIN must be in before its own
    // FIN goes out, or a late ACK can make its kernel reset the server's TIME_WAIT away.
    inet::ack_fin_before_close(&client, ends[0], ends[1], IO_TIMEOUT)
        .context("the client's ACK of the server's FIN")?;
    drop(client);
    let tw = inet::wait_tcp_socket(port, IO_TIMEOUT, |e| e.state == TCP_TIME_WAIT)?;
    let on_wire = first_fin_on_wire(d, &w, ends, tw.value().as_ref().map(|e| e.local));
    if let Some(first) = on_wire {
        // Before the errno and /proc check: a break that changes both fails here.
        d.check(
            first,
            "on the wire: the server's FIN came first, its side holds TIME_WAIT",
        )?;
    }
    if let Some(e) = tw.value() {
        let server = if reuseaddr { "b" } else { "a" };
        d.metric(
            &format!("tcp.time_wait.left.{server}"),
            e.timer_left.as_secs_f64(),
            "s",
        );
    }
    if d.breaks("look-later") {
        std::thread::sleep(std::time::Duration::from_millis(2500));
    }
    // Every socket on the port, not only the TIME_WAIT one: none may belong to a file.
    let all = inet::tcp_sockets(port)?;
    if tell {
        d.derived(format_args!("server pid {pid} exited without close()"));
        d.saw_that(&n, "0 is the FIN the kernel sent for it");
        d.saw_that(&all, "every socket on the port");
    } else if d.verbose() {
        d.saw_that(&n, "0 is the FIN the kernel sent for it");
        d.saw_that(&all, "every socket on the port");
    }
    let rows = all.value();
    let fresh = |e: &inet::TcpEntry| {
        e.state == TCP_TIME_WAIT && (FRESH..=TIME_WAIT).contains(&e.timer_left)
    };
    d.check(
        matches!(n.value(), Ok(0))
            && tw.value().is_some()
            && rows.iter().all(|e| e.inode == 0 && e.state != TCP_LISTEN)
            && rows.iter().any(fresh),
        format_args!(
            "the dead server's kernel closed in order (FIN: recv = 0), and no process \
             (no file, inode 0) holds port {port}, but the kernel does: TIME_WAIT, \
             58-60 s left of its fixed 60"
        ),
    )?;
    drop(held);
    Ok(port)
}

/// Binds 127.0.0.1:port (with SO_REUSEADDR or not) and says what the kernel answered
/// (as a focus line if `key`).
fn try_bind(
    d: &demos::Demo,
    port: u16,
    reuseaddr: bool,
    key: bool,
    reuseport: bool,
) -> Observed<std::io::Result<Socket>> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let how = if reuseaddr {
        "bind with SO_REUSEADDR"
    } else {
        "bind without SO_REUSEADDR"
    };
    let bound = d.syscall(how, || {
        if reuseport {
            let sock = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::STREAM,
                Some(socket2::Protocol::TCP),
            )?;
            sock.set_reuse_address(reuseaddr)?;
            sock.set_reuse_port(true)?;
            sock.bind(&addr.into())?;
            Ok(sock)
        } else {
            bind_tcp(addr, reuseaddr)
        }
    });
    if key {
        d.key(&bound);
    } else {
        d.saw(&bound);
    }
    bound
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "a dead server's port stays taken (TIME_WAIT); SO_REUSEADDR frees it only if \
             the old server set it too, and never lets two listeners share it",
        );
        // Loopback of its own (as root): the capture sees this demo's packets only.
        demos::netns::isolate()?;
        let in_use = |r: &Observed<std::io::Result<Socket>>| r.failed_with(Errno::EADDRINUSE);

        let a_reuses = d.breaks("a-reuses");
        let client_first = d.breaks("client-first");
        d.step(format_args!(
            "server A ({}) listens on 127.0.0.1:0, accepts one client, exits",
            if a_reuses {
                "with SO_REUSEADDR"
            } else {
                "no SO_REUSEADDR"
            }
        ));
        let port = serve_once(d, a_reuses, true, client_first)?;
        let plain = try_bind(d, port, false, false, false);
        let reuse = try_bind(d, port, true, true, false);
        d.check(
            in_use(&plain) && in_use(&reuse),
            "EADDRINUSE, even with SO_REUSEADDR now: the dead server did not set it",
        )?;

        d.step("server B sets SO_REUSEADDR, as servers should, and exits the same way");
        let b_reuses = !d.breaks("b-plain");
        let port = serve_once(d, b_reuses, false, false)?;
        let reuseport = d.breaks("reuseport");
        let plain = try_bind(d, port, false, false, false);
        let restarted = try_bind(d, port, true, false, reuseport);
        d.check(
            in_use(&plain) && restarted.is_ok(),
            "SO_REUSEADDR on old and new server lets the new one bind over TIME_WAIT",
        )?;
        let restarted = d.require(restarted, "the new server bound")?.into_value();

        d.step(format_args!(
            "new server listens on {port}; another SO_REUSEADDR socket tries to bind it too"
        ));
        restarted
            .listen(8)
            .context("listen on the restarted server")?;
        let second = try_bind(d, port, true, false, reuseport);
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
