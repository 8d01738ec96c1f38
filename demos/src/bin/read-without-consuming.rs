//! Reading is not consuming: MSG_PEEK returns bytes that the next recv returns again, and FIONREAD counts what is waiting.
//!
//! socket(7), tcp(7), udp(7): `MSG_PEEK` "returns data from the beginning of the receive
//! queue without removing that data from the queue"; `FIONREAD` on a TCP socket is the
//! number of unread bytes, on a UDP socket the size of the next datagram.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};

use anyhow::Context;
use demos::{Break, Bytes, Result, brk, fd, net};
use nix::sys::socket::{MsgFlags, recv};

const BREAKS: &[Break] = &[
    brk("plain-recv", "the peek is a plain recv (no MSG_PEEK)"),
    brk("zero-peek", "the peek buffer is empty (0 bytes)"),
    brk(
        "udp-second",
        "on UDP, FIONREAD is asked after the first datagram was read",
    ),
    brk(
        "short-buffer",
        "on UDP, the first recv has a 50-byte buffer: the 100-byte datagram is cut",
    ),
];

/// Waits until the socket has something to read, so counts are not racing the sender.
fn wait_readable(fd: &impl AsFd) -> Result<()> {
    anyhow::ensure!(
        fd::readable_within(fd, demos::IO_TIMEOUT)?,
        "nothing arrived within 2 s"
    );
    Ok(())
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "peeked bytes are read again; FIONREAD counts unread bytes (UDP: the next datagram)",
        );

        let peek = if d.breaks("plain-recv") {
            MsgFlags::empty()
        } else {
            MsgFlags::MSG_PEEK
        };
        let peek_len = if d.breaks("zero-peek") { 0 } else { 5 };
        const SENT: &[u8] = b"hello, world";
        d.step("TCP: client sends \"hello, world\" (12 bytes)");
        let (mut client, server) = net::tcp_pair()?;
        client.write_all(SENT).context("send")?;
        wait_readable(&server)?;
        let waiting = fd::unread(&server)?;
        d.saw(&waiting);

        let mut peeked = vec![0u8; peek_len];
        let got = d.syscall("recv(MSG_PEEK)", || {
            recv(server.as_raw_fd(), &mut peeked, peek).map(|n| Bytes(peeked[..n].to_vec()))
        });
        d.key(&got);
        let got = d.require(got, "the peek returned the first bytes")?;
        let after_peek = fd::unread(&server)?;
        d.saw_that(&after_peek, "after the peek");

        let mut all = [0u8; 64];
        let rest = d.syscall("recv", || {
            recv(server.as_raw_fd(), &mut all, MsgFlags::empty()).map(|n| Bytes(all[..n].to_vec()))
        });
        d.key(&rest);
        let rest = d.require(rest, "the real recv returned the bytes")?;
        let left = fd::unread(&server)?;
        d.saw_that(&left, "after the real recv");
        let peeked = &got.value().0;
        d.check(
            !peeked.is_empty() && SENT.starts_with(peeked),
            format!(
                "the peek saw the first bytes sent ({} of them)",
                peeked.len()
            ),
        )?;
        d.check(
            *waiting.value() == SENT.len() && *after_peek.value() == SENT.len(),
            "peeking did not consume: all 12 bytes waiting before and after",
        )?;
        d.check(
            rest.value().0 == SENT && *left.value() == 0,
            "the real recv returned every byte, the peeked ones again",
        )?;

        d.step("UDP: send datagrams of 100 and 7 bytes");
        let (rx, rx_addr) = net::udp_socket()?;
        let (tx, _) = net::udp_socket()?;
        tx.send_to(&[b'a'; 100], rx_addr)
            .context("sendto 100 bytes")?;
        tx.send_to(&[b'b'; 7], rx_addr).context("sendto 7 bytes")?;
        wait_readable(&rx)?;
        let mut buf = [0u8; 200];
        let late = d.breaks("udp-second");
        if late {
            rx.recv(&mut buf).context("recv before FIONREAD")?;
        }
        let next = fd::unread(&rx)?;
        d.saw_that(&next, "not 107");
        let size = if d.breaks("short-buffer") {
            50
        } else {
            buf.len()
        };
        let first = d.syscall("recv", || rx.recv(&mut buf[..size]));
        d.saw(&first);
        let first = d.require(first, "the first datagram was read whole")?;
        let then = fd::unread(&rx)?;
        d.saw_that(&then, "after one recv");
        d.check(
            *next.value() == 100 && *first.value() == 100 && *then.value() == 7,
            "on UDP, FIONREAD is the size of the next datagram (100, then 7)",
        )?;
        Ok(())
    })
}
