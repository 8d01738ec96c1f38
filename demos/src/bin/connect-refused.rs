//! Nobody listening means connect() fails at once with ECONNREFUSED, no retry and no waiting; a listener's accept() blocks until a client comes.
//!
//! connect(2): "ECONNREFUSED A connect() on a stream socket found no one listening on
//! the remote address." accept(2): "If no pending connections are present on the
//! queue, and the socket is not marked as nonblocking, accept() blocks the caller until
//! a connection is present." socket(7): `SO_RCVTIMEO` bounds that wait, after which
//! accept fails with EAGAIN.
//!
//! As root the demo runs in a network namespace of its own and watches the wire: the
//! one SYN, the RST that answers it, and no second SYN; TCP_INFO then says the socket
//! is CLOSE, with nothing left to resend.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::inet::{bind_tcp, local_addr, tcp_state_name};
use demos::net::{LOOPBACK_ANY_PORT, tcp_info};
use demos::peer::{self, Exit};
use demos::wire::{self, Capture};
use demos::{Break, Demo, IO_TIMEOUT, Result, brk, human};
use nix::errno::Errno;
use socket2::SockRef;

const BREAKS: &[Break] = &[
    brk("listen-first", "the socket listens before the connect()"),
    brk(
        "client-at-once",
        "the forked client connects at once, without its 300 ms delay",
    ),
    brk(
        "nonblocking-accept",
        "the listener is O_NONBLOCK, so accept() does not wait",
    ),
    brk(
        "retry",
        "the client connects again after the refusal, as a library that retries would",
    ),
];

const IDLE: Duration = Duration::from_millis(200);
const CLIENT_DELAY: Duration = Duration::from_millis(300);
/// How late after the client's delay accept() may return on a loaded machine.
const LATE: Duration = Duration::from_millis(200);
/// The kernel's `TCP_CLOSE` state (include/net/tcp_states.h), as TCP_INFO reports it.
const TCP_CLOSE: u8 = 7;

/// On the wire: the client's SYN and the RST that answered it, and no other SYN; and
/// TCP_INFO: the refused socket is CLOSE, so nothing is left to resend. Nothing
/// without a capture (no CAP_NET_RAW): the errno and time check stands alone.
fn refused_on_wire(
    d: &mut Demo,
    w: &Option<Capture>,
    client: &socket2::Socket,
    ends: (SocketAddr, SocketAddr),
) -> Result<()> {
    let Some(w) = w.as_ref() else {
        return Ok(());
    };
    let seen = w.connection("refused", ends.0, ends.1);
    let mut conn = seen.value().clone();
    let rst = wire::first(&conn, false, "RST", 0);
    // Either way: the client's SYN, and neither a SYN-ACK nor a second SYN.
    let syns = conn.packets.iter().filter(|p| p.has("SYN")).count();
    conn.key = rst;
    wire::record(&conn);
    d.key(&wire::read(&seen, |c| {
        let all: Vec<String> = c.packets.iter().map(wire::describe).collect();
        all.join("; ")
    }));
    let info = tcp_info(client)?;
    let state = info.value().tcpi_state;
    d.saw(&info.map(|i| format!("state {}", tcp_state_name(i.tcpi_state))));
    d.check(
        syns == 1 && rst.is_some() && state == TCP_CLOSE,
        "on the wire: one SYN, answered by RST; the socket is CLOSE: no retry",
    )
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("connect() with no listener: ECONNREFUSED at once; accept() waits for a client");

        // Loopback of its own (as root): the capture sees this demo's packets only.
        demos::netns::isolate()?;
        let w = wire::open(d)?;

        // Bound but not listening: the port is ours, so no other program can start
        // listening on it while we knock.
        let sock = bind_tcp(LOOPBACK_ANY_PORT, false).context("bind 127.0.0.1:0")?;
        let addr = local_addr(&sock)?;
        d.step(format_args!(
            "bind {addr} but do not listen; connect() to it"
        ));
        if d.breaks("listen-first") {
            sock.listen(8).context("listen")?;
        }
        // The client binds first, so that its address names its packets on the wire.
        let mut client = bind_tcp(LOOPBACK_ANY_PORT, false).context("bind the client")?;
        let from = local_addr(&client)?;
        let t0 = Instant::now();
        let refused = d.syscall("connect", || {
            client.connect_timeout(&addr.into(), IO_TIMEOUT)
        });
        let took = t0.elapsed();
        d.key(&refused);
        d.derived(format_args!("after {}", human(took)));
        d.metric("connect.refused_after", took.as_secs_f64() * 1e6, "µs");
        d.check(
            refused.failed_with(Errno::ECONNREFUSED) && took < Duration::from_millis(100),
            "refused at once (well under 100 ms), no waiting",
        )?;
        if d.breaks("retry") {
            if w.is_none() {
                return Err(d.skip("the retry break is seen on the wire, which needs CAP_NET_RAW"));
            }
            // A new socket on the same port: the refused one will not connect again.
            drop(client);
            client = bind_tcp(from, false).context("bind the client again")?;
            let _ = client.connect_timeout(&addr.into(), IO_TIMEOUT);
        }
        refused_on_wire(d, &w, &client, (from, addr))?;

        d.step(format_args!(
            "listen() on it; accept() with SO_RCVTIMEO {}, no client yet",
            human(IDLE)
        ));
        sock.listen(8).context("listen")?;
        let listener = TcpListener::from(sock);
        if d.breaks("nonblocking-accept") {
            listener.set_nonblocking(true).context("O_NONBLOCK")?;
        }
        SockRef::from(&listener)
            .set_read_timeout(Some(IDLE))
            .context("setting SO_RCVTIMEO")?;
        let t0 = Instant::now();
        let idle = d.syscall("accept", || listener.accept().map(|(s, _)| s));
        let waited = t0.elapsed();
        d.saw(&idle);
        d.derived(format_args!("after {}", human(waited)));
        d.check(
            idle.failed_with(Errno::EAGAIN) && waited >= IDLE.mul_f64(0.9),
            "accept() blocked for the whole 200 ms timeout: no client, no return",
        )?;

        d.step(format_args!(
            "a forked client connects after {}; accept() again (timeout {})",
            human(CLIENT_DELAY),
            human(IO_TIMEOUT)
        ));
        SockRef::from(&listener)
            .set_read_timeout(Some(IO_TIMEOUT))
            .context("setting SO_RCVTIMEO")?;
        let delay = if d.breaks("client-at-once") {
            Duration::ZERO
        } else {
            CLIENT_DELAY
        };
        let client = peer::fork(move || {
            std::thread::sleep(delay);
            match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                // The connection is complete before the server accepts it: connect()
                // only needs the kernel, accept() only takes it off the queue.
                Ok(_) => 0,
                Err(_) => demos::exit::ERROR,
            }
        })?;
        let pid = client.pid();
        let t0 = Instant::now();
        let came = d.syscall("accept", || listener.accept().map(|(_, from)| from));
        let waited = t0.elapsed();
        let peer_addr: Option<SocketAddr> = came.value().as_ref().ok().copied();
        d.saw(&came);
        d.derived(format_args!(
            "after {}, from the client pid {pid}",
            human(waited)
        ));
        let status = client.wait(IO_TIMEOUT)?;
        d.metric("accept.waited", waited.as_secs_f64() * 1e3, "ms");
        d.check(
            peer_addr.is_some()
                && status == Exit::Code(0)
                && waited >= CLIENT_DELAY.mul_f64(0.8)
                && waited < CLIENT_DELAY + LATE,
            "accept() returned when, and only when, the client came (within 200 ms of it)",
        )?;
        Ok(())
    })
}
