//! Two descriptors can name one socket: closing one leaves the connection up, but shutdown() through either one ends it for both.
//!
//! dup(2): "the old and new file descriptors may be used interchangeably." close(2):
//! "If fd is the last file descriptor referring to the underlying open file description
//! [...], the resources associated with the open file description are freed".
//! shutdown(2) acts on "the socket associated with sockfd", whichever descriptor names it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use anyhow::Context;
use demos::{IO_TIMEOUT, fd, net};

/// How long the peer waits for an EOF that must not come.
const QUIET: Duration = Duration::from_millis(200);

fn main() {
    demos::run(|d| {
        d.expect("close() drops one descriptor only; shutdown() ends the connection for all");
        let (client, mut server) = net::tcp_pair()?;

        d.step("dup the client's socket descriptor");
        let first = OwnedFd::from(client);
        let second = nix::unistd::dup(&first).context("dup")?;
        let (link1, link2) = (fd::proc_link(&first)?, fd::proc_link(&second)?);
        d.saw(format_args!("both descriptors -> {link1} / {link2}"));
        d.check(
            link1 == link2 && link1.starts_with("socket:["),
            "two descriptors, one socket",
        )?;

        let shut = d.breaks("the first descriptor is shut down (SHUT_RDWR) before its close");
        d.step("close the first descriptor; the peer waits 200 ms for an EOF");
        if shut {
            nix::sys::socket::shutdown(first.as_raw_fd(), nix::sys::socket::Shutdown::Both)
                .context("shutdown")?;
        }
        drop(first);
        let peer_woke = fd::readable_within(&server, QUIET)?;
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
        let flowed = exchange();
        d.key(format_args!(
            "peer: {} in 200 ms; then {}",
            if peer_woke { "readable" } else { "no EOF" },
            match &flowed {
                Ok((got, back)) => format!(
                    "got {:?} and answered {:?}",
                    String::from_utf8_lossy(got),
                    String::from_utf8_lossy(back)
                ),
                Err(e) => format!("sending through the dup: {}", net::errno_name(e)),
            }
        ));
        d.check(
            !peer_woke && flowed.is_ok_and(|(got, back)| &got == b"still here" && &back == b"pong"),
            "closing one descriptor sent nothing: no EOF, data still flows both ways",
        )?;

        d.step("dup again and shutdown(SHUT_RDWR) through the new descriptor only");
        let third = second.try_clone().context("dup")?;
        third.shutdown(Shutdown::Both).context("shutdown")?;
        let mut buf = [0u8; 16];
        let peer_read = fd::read_within(&server, &mut buf, IO_TIMEOUT).context("peer recv")?;
        let other_read = second
            .read(&mut buf)
            .context("read through the other descriptor")?;
        let other_write = second.write(b"more");
        d.saw(format_args!("peer: recv = {peer_read} (EOF)"));
        d.saw(format_args!(
            "other descriptor: read = {other_read}, write: {}",
            match &other_write {
                Ok(n) => format!("{n} bytes"),
                Err(e) => net::errno_name(e),
            }
        ));
        d.check(peer_read == 0, "the peer saw the end of the connection")?;
        d.check(
            other_read == 0
                && other_write
                    .as_ref()
                    .is_err_and(|e| net::is_errno(e, nix::errno::Errno::EPIPE)),
            "and the still-open descriptor is shut down too (EOF, EPIPE)",
        )?;
        Ok(())
    })
}
