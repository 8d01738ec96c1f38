//! Nobody listening means connect() fails at once with ECONNREFUSED, no retry and no waiting; a listener's accept() blocks until a client comes.
//!
//! connect(2): "ECONNREFUSED A connect() on a stream socket found no one listening on
//! the remote address." accept(2): "If no pending connections are present on the
//! queue, and the socket is not marked as nonblocking, accept() blocks the caller until
//! a connection is present." socket(7): `SO_RCVTIMEO` bounds that wait, after which
//! accept fails with EAGAIN.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::inet::{bind_tcp, local_addr};
use demos::net::LOOPBACK_ANY_PORT;
use demos::peer::{self, Exit};
use demos::{Break, IO_TIMEOUT, brk, human};
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
];

const IDLE: Duration = Duration::from_millis(200);
const CLIENT_DELAY: Duration = Duration::from_millis(300);

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("connect() with no listener: ECONNREFUSED at once; accept() waits for a client");

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
        let t0 = Instant::now();
        let refused = d.syscall("connect", || TcpStream::connect_timeout(&addr, IO_TIMEOUT));
        let took = t0.elapsed();
        d.key(&refused);
        d.derived(format_args!("after {}", human(took)));
        d.metric("connect.refused_after", took.as_secs_f64() * 1e6, "µs");
        d.check(
            refused.failed_with(Errno::ECONNREFUSED) && took < Duration::from_millis(100),
            "refused at once (under 100 ms): the kernel answers the SYN with RST",
        )?;

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
                && waited < IO_TIMEOUT,
            "accept() returned when, and only when, the client came",
        )?;
        Ok(())
    })
}
