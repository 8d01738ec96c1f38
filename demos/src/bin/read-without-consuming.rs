//! Reading is not consuming: MSG_PEEK returns bytes that the next recv returns again, and FIONREAD counts what is waiting.
//!
//! socket(7), tcp(7), udp(7): `MSG_PEEK` "returns data from the beginning of the receive
//! queue without removing that data from the queue"; `FIONREAD` on a TCP socket is the
//! number of unread bytes, on a UDP socket the size of the next datagram.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};

use anyhow::Context;
use demos::{Result, net};
use nix::sys::socket::{MsgFlags, recv};

// FIONREAD (SIOCINQ): how many bytes can be read without blocking.
nix::ioctl_read_bad!(fionread, libc::FIONREAD, libc::c_int);

fn unread(fd: &impl AsRawFd) -> Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer we pass.
    unsafe { fionread(fd.as_raw_fd(), &mut n) }.context("ioctl(FIONREAD)")?;
    Ok(n as usize)
}

/// Waits until the socket has something to read, so counts are not racing the sender.
fn wait_readable(fd: &impl AsFd) -> Result<()> {
    use nix::poll::{PollFd, PollFlags, poll};
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, 2000u16).context("poll")?;
    anyhow::ensure!(ready == 1, "nothing arrived within 2 s");
    Ok(())
}

fn main() {
    demos::run(|d| {
        d.expect(
            "peeked bytes are read again; FIONREAD counts unread bytes (UDP: the next datagram)",
        );

        let peek = if d.breaks("the peek is a plain recv (no MSG_PEEK)") {
            MsgFlags::empty()
        } else {
            MsgFlags::MSG_PEEK
        };
        d.step("TCP: client sends \"hello, world\" (12 bytes)");
        let (mut client, server) = net::tcp_pair()?;
        client.write_all(b"hello, world").context("send")?;
        wait_readable(&server)?;
        let waiting = unread(&server)?;
        d.saw(format_args!("FIONREAD = {waiting}"));

        let mut peeked = [0u8; 5];
        let n = recv(server.as_raw_fd(), &mut peeked, peek).context("recv(MSG_PEEK)")?;
        let after_peek = unread(&server)?;
        d.key(format_args!(
            "recv(5, MSG_PEEK) = {:?}, FIONREAD still {after_peek}",
            String::from_utf8_lossy(&peeked[..n])
        ));

        let mut all = [0u8; 64];
        let m = recv(server.as_raw_fd(), &mut all, MsgFlags::empty()).context("recv")?;
        let left = unread(&server)?;
        d.key(format_args!(
            "recv(64) = {:?}, FIONREAD now {left}",
            String::from_utf8_lossy(&all[..m])
        ));
        d.check(
            waiting == 12 && after_peek == 12,
            "peeking did not consume: 12 bytes waiting before and after",
        )?;
        d.check(
            all[..n] == peeked[..n] && m == 12 && left == 0,
            "the real recv returned the peeked bytes again",
        )?;

        d.step("UDP: send datagrams of 100 and 7 bytes");
        let (rx, rx_addr) = net::udp_socket()?;
        let (tx, _) = net::udp_socket()?;
        tx.send_to(&[b'a'; 100], rx_addr)
            .context("sendto 100 bytes")?;
        tx.send_to(&[b'b'; 7], rx_addr).context("sendto 7 bytes")?;
        wait_readable(&rx)?;
        let next = unread(&rx)?;
        d.saw(format_args!("FIONREAD = {next} (not 107)"));
        let mut buf = [0u8; 200];
        let first = rx.recv(&mut buf).context("recv first datagram")?;
        let then = unread(&rx)?;
        d.saw(format_args!("recv = {first} bytes, then FIONREAD = {then}"));
        d.check(
            next == 100 && first == 100 && then == 7,
            "on UDP, FIONREAD is the size of the next datagram",
        )?;
        Ok(())
    })
}
