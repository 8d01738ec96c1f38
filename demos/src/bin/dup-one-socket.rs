//! Two descriptors can name one socket: closing one leaves the connection up, but shutdown() through either one ends it for both.
//!
//! dup(2): "the old and new file descriptors may be used interchangeably." close(2):
//! "If fd is the last file descriptor referring to the underlying open file description
//! [...], the resources associated with the open file description are freed".
//! shutdown(2) acts on "the socket associated with sockfd", whichever descriptor names it.
//!
//! As root the demo runs in a network namespace of its own and watches the wire: closing
//! one of two descriptors puts no FIN and no RST on it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use anyhow::Context;
use demos::wire::{self, Capture};
use demos::{Break, Bytes, Demo, IO_TIMEOUT, Result, brk, fd, net};

const BREAKS: &[Break] = &[
    brk(
        "shutdown-first",
        "the first descriptor is shut down (SHUT_RDWR) before its close",
    ),
    brk(
        "shut-wr",
        "SHUT_WR in place of SHUT_RDWR through the new descriptor",
    ),
    brk(
        "close-not-shutdown",
        "the new descriptor is closed instead of shut down",
    ),
    brk(
        "no-dup",
        "the second descriptor is a new connection, not a dup",
    ),
];

/// How long the peer waits for an EOF that must not come.
const QUIET: Duration = Duration::from_millis(200);

/// On the wire: nothing from the client's side closing (no FIN, no RST) so far.
/// Nothing without a capture (no CAP_NET_RAW): the peer's poll stands alone.
fn nothing_on_wire(
    d: &mut Demo,
    w: &Option<Capture>,
    ends: (std::net::SocketAddr, std::net::SocketAddr),
) -> Result<()> {
    let Some(w) = w.as_ref() else {
        return Ok(());
    };
    let seen = w.connection("close one", ends.0, ends.1);
    let mut conn = seen.value().clone();
    let (fin, rst) = (
        wire::first(&conn, true, "FIN", 0),
        wire::first(&conn, true, "RST", 0),
    );
    conn.key = fin.or(rst);
    wire::record(&conn);
    match conn.key.and_then(|k| wire::packet(&seen, k)) {
        Some(packet) => d.saw(&packet),
        None => d.saw(&wire::read(&seen, |c| {
            format!(
                "{} packets, none from the client with FIN or RST",
                c.packets.len()
            )
        })),
    }
    d.check(
        fin.is_none() && rst.is_none(),
        "on the wire: closing one descriptor sent nothing (no FIN, no RST)",
    )
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("close() drops one descriptor only; shutdown() ends the connection for all");
        // Loopback of its own (as root): the capture sees this demo's packets only.
        demos::netns::isolate()?;
        let w = wire::open(d)?;
        let (client, mut server) = net::tcp_pair()?;
        let ends = (client.local_addr()?, client.peer_addr()?);
        // Kept open to the end, so a second connection (no-dup) has a peer too.
        let (other_client, _other_server) = net::tcp_pair()?;

        d.step("dup the client's socket descriptor");
        let first = OwnedFd::from(client);
        let second = if d.breaks("no-dup") {
            OwnedFd::from(other_client)
        } else {
            nix::unistd::dup(&first).context("dup")?
        };
        let (link1, link2) = (fd::proc_link(&first)?, fd::proc_link(&second)?);
        d.saw(&link1);
        d.saw(&link2);
        d.check(
            link1.value() == link2.value() && link1.value().starts_with("socket:["),
            "two descriptors, one socket",
        )?;

        let shut = d.breaks("shutdown-first");
        d.step("close the first descriptor; the peer waits 200 ms for an EOF");
        if shut {
            nix::sys::socket::shutdown(first.as_raw_fd(), nix::sys::socket::Shutdown::Both)
                .context("shutdown")?;
        }
        drop(first);
        let woke = d.syscall("poll(peer, POLLIN, 200 ms)", || {
            fd::readable_within(&server, QUIET).map_err(std::io::Error::other)
        });
        let mut second = TcpStream::from(second);
        // Errors here are the kernel's answer, not a failed experiment: keep them.
        let mut exchange = || -> std::io::Result<([u8; 10], [u8; 4])> {
            second.write_all(b"still here")?;
            let mut got = [0u8; 10];
            server.read_exact(&mut got)?;
            server.write_all(b"pong")?;
            let mut back = [0u8; 4];
            second.read_exact(&mut back)?;
            Ok((got, back))
        };
        d.saw_that(&woke, "true: the peer saw an EOF");
        let flowed = d.syscall("send through the dup, the peer answers", || {
            exchange().map(|(got, back)| (Bytes(got.to_vec()), Bytes(back.to_vec())))
        });
        d.saw(&flowed);
        nothing_on_wire(d, &w, ends)?;
        d.check(
            matches!(woke.value(), Ok(false)),
            "closing one descriptor ended nothing: the peer saw no EOF in 200 ms",
        )?;
        d.check(
            flowed
                .value()
                .as_ref()
                .is_ok_and(|(got, back)| got.0 == b"still here" && back.0 == b"pong"),
            "data still flows both ways through the other descriptor",
        )?;

        d.step("dup again and shutdown(SHUT_RDWR) through the new descriptor only");
        let third = second.try_clone().context("dup")?;
        if d.breaks("close-not-shutdown") {
            drop(third);
        } else if d.breaks("shut-wr") {
            third.shutdown(Shutdown::Write).context("shutdown")?;
        } else {
            third.shutdown(Shutdown::Both).context("shutdown")?;
        }
        let mut buf = [0u8; 16];
        let peer_read = d.syscall("peer recv", || {
            fd::read_within(&server, &mut buf, IO_TIMEOUT).map_err(std::io::Error::other)
        });
        // Non-blocking: a read that would wait is an answer too (EAGAIN), not a hang.
        fd::set_nonblocking(&second, true)?;
        let other_read = d.syscall("read through the other descriptor", || {
            second.read(&mut buf)
        });
        let other_write = d.syscall("write through the other descriptor", || {
            second.write(b"more")
        });
        d.saw_that(&peer_read, "0 is EOF");
        d.saw(&other_read);
        d.saw(&other_write);
        d.check(
            matches!(peer_read.value(), Ok(0)),
            "the peer saw the end of the connection (recv = 0)",
        )?;
        d.check(
            matches!(other_read.value(), Ok(0)),
            "the still-open descriptor reads EOF: its receiving side is shut too",
        )?;
        d.check(
            other_write.failed_with(nix::errno::Errno::EPIPE),
            "and writing through it fails with EPIPE",
        )?;
        Ok(())
    })
}
