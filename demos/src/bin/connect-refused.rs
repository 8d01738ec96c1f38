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
use demos::net::{LOOPBACK_ANY_PORT, errno_name, is_errno};
use demos::peer::{self, Exit};
use demos::{IO_TIMEOUT, human};
use nix::errno::Errno;
use socket2::SockRef;

const IDLE: Duration = Duration::from_millis(200);
const CLIENT_DELAY: Duration = Duration::from_millis(300);

fn main() {
    demos::run(|d| {
        d.expect("connect() with no listener: ECONNREFUSED at once; accept() waits for a client");

        // Bound but not listening: the port is ours, so no other program can start
        // listening on it while we knock.
        let sock = bind_tcp(LOOPBACK_ANY_PORT, false).context("bind 127.0.0.1:0")?;
        let addr = local_addr(&sock)?;
        d.step(format_args!(
            "bind {addr} but do not listen; connect() to it"
        ));
        if d.breaks("the socket listens before the connect()") {
            sock.listen(8).context("listen")?;
        }
        let t0 = Instant::now();
        let refused = TcpStream::connect_timeout(&addr, IO_TIMEOUT);
        let took = t0.elapsed();
        match &refused {
            Ok(_) => d.key("connect: connected (someone was listening)"),
            Err(e) => d.key(format_args!(
                "connect: {} after {}",
                errno_name(e),
                human(took)
            )),
        }
        d.metric("connect.refused_after", took.as_secs_f64() * 1e6, "µs");
        d.check(
            refused
                .as_ref()
                .is_err_and(|e| is_errno(e, Errno::ECONNREFUSED))
                && took < Duration::from_millis(100),
            "refused at once: the kernel answers the SYN with RST",
        )?;

        d.step(format_args!(
            "listen() on it; accept() with SO_RCVTIMEO {}, no client yet",
            human(IDLE)
        ));
        sock.listen(8).context("listen")?;
        let listener = TcpListener::from(sock);
        SockRef::from(&listener)
            .set_read_timeout(Some(IDLE))
            .context("setting SO_RCVTIMEO")?;
        let t0 = Instant::now();
        let idle = listener.accept();
        let waited = t0.elapsed();
        if let Err(e) = &idle {
            d.saw(format_args!(
                "accept: {} after {}",
                errno_name(e),
                human(waited)
            ));
        }
        d.check(
            idle.as_ref().is_err_and(|e| is_errno(e, Errno::EAGAIN)) && waited >= IDLE.mul_f64(0.9),
            "accept() blocked for the whole timeout: no client, no return",
        )?;

        d.step(format_args!(
            "a forked client connects after {}; accept() again (timeout {})",
            human(CLIENT_DELAY),
            human(IO_TIMEOUT)
        ));
        SockRef::from(&listener)
            .set_read_timeout(Some(IO_TIMEOUT))
            .context("setting SO_RCVTIMEO")?;
        let client = peer::fork(move || {
            std::thread::sleep(CLIENT_DELAY);
            match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
                // The connection is complete before the server accepts it: connect()
                // only needs the kernel, accept() only takes it off the queue.
                Ok(_) => 0,
                Err(_) => demos::exit::ERROR,
            }
        })?;
        let pid = client.pid();
        let t0 = Instant::now();
        let came = listener.accept();
        let waited = t0.elapsed();
        let peer_addr: Option<SocketAddr> = came.as_ref().ok().map(|(_, a)| *a);
        match &came {
            Ok((_, from)) => d.saw(format_args!(
                "accept returned after {}: client {from} (pid {pid})",
                human(waited)
            )),
            Err(e) => d.saw(format_args!(
                "accept: {} after {}",
                errno_name(e),
                human(waited)
            )),
        }
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
