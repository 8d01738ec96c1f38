//! A datagram read into a buffer too small for it is cut, and the rest is gone for good; MSG_TRUNC tells you, and SOCK_SEQPACKET keeps message boundaries on a connection.
//!
//! udp(7): "All receive operations return only one packet. When the packet is smaller
//! than the passed buffer, only that much data is returned; when it is bigger, the
//! packet is truncated and the MSG_TRUNC flag is set." recv(2), `MSG_TRUNC` as a flag:
//! "return the real length of the packet or datagram, even when it was longer than the
//! passed buffer." unix(7): SOCK_SEQPACKET is "a sequenced-packet socket that is
//! connection-oriented, preserves message boundaries, and delivers messages in the
//! order that they were sent."

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, OwnedFd};

use anyhow::Context;
use demos::{Result, net};
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockType, recv, recvmsg, send, socketpair,
};

/// recvmsg into a buffer of `len` bytes: (bytes copied, MSG_TRUNC set, the bytes).
fn read_into(fd: &impl AsRawFd, len: usize) -> Result<(usize, bool, Vec<u8>)> {
    let mut buf = vec![0u8; len];
    let (n, flags) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg =
            recvmsg::<()>(fd.as_raw_fd(), &mut iov, None, MsgFlags::empty()).context("recvmsg")?;
        (msg.bytes, msg.flags)
    };
    buf.truncate(n);
    Ok((n, flags.contains(MsgFlags::MSG_TRUNC), buf))
}

fn flags_text(trunc: bool) -> &'static str {
    if trunc { "MSG_TRUNC" } else { "0" }
}

fn main() {
    demos::run(|d| {
        d.expect(
            "a short read cuts a datagram and loses the rest; SEQPACKET keeps each message whole",
        );

        let (tx, rx) = if d.breaks("an AF_UNIX stream pair replaces the UDP sockets") {
            let (a, b) = socketpair(
                AddressFamily::Unix,
                SockType::Stream,
                None,
                SockFlag::SOCK_CLOEXEC,
            )
            .context("socketpair(AF_UNIX, SOCK_STREAM)")?;
            net::with_timeouts(&b)?;
            (a, b)
        } else {
            let (rx, rx_addr) = net::udp_socket()?;
            let (tx, _) = net::udp_socket()?;
            tx.connect(rx_addr).context("connect the UDP sender")?;
            (OwnedFd::from(tx), OwnedFd::from(rx))
        };
        let send_all = |bytes: &[u8]| {
            send(tx.as_raw_fd(), bytes, MsgFlags::empty())
                .with_context(|| format!("send {} bytes", bytes.len()))
        };
        d.step("UDP: send a 100-byte datagram, then \"second\"; recvmsg with a 10-byte buffer");
        send_all(&[b'x'; 100])?;
        send_all(b"second")?;
        let (n, trunc, _) = read_into(&rx, 10)?;
        d.saw(format_args!(
            "recvmsg = {n} bytes, msg_flags = {}",
            flags_text(trunc)
        ));
        let (n2, trunc2, next) = read_into(&rx, 10)?;
        d.key(format_args!(
            "next recvmsg = {n2} bytes {:?}, msg_flags = {}",
            String::from_utf8_lossy(&next),
            flags_text(trunc2)
        ));
        d.metric("udp.truncated.kept", n as f64, "bytes");
        d.check(
            n == 10 && trunc && next == b"second" && !trunc2,
            "the datagram was cut to 10 bytes; its other 90 are gone, not left to read",
        )?;

        d.step("send 100 bytes again; recv(10-byte buffer, flags = MSG_TRUNC)");
        send_all(&[b'y'; 100])?;
        let mut small = [0u8; 10];
        let real = recv(rx.as_raw_fd(), &mut small, MsgFlags::MSG_TRUNC).context("recv")?;
        d.saw(format_args!(
            "recv returned {real}, though it copied only 10"
        ));
        d.check(
            real == 100,
            "with MSG_TRUNC, recv returns the datagram's real length",
        )?;

        d.step("AF_UNIX SOCK_SEQPACKET pair: send 5, 300 and 7 bytes; read with 1000 bytes");
        let (a, b): (OwnedFd, OwnedFd) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .context("socketpair(AF_UNIX, SOCK_SEQPACKET)")?;
        net::with_timeouts(&b)?;
        let sizes = [5usize, 300, 7];
        for (i, &size) in sizes.iter().enumerate() {
            let msg = vec![b'a' + i as u8; size];
            send(a.as_raw_fd(), &msg, MsgFlags::empty()).context("send on SEQPACKET")?;
        }
        let mut got = Vec::new();
        let mut in_order = true;
        for (i, _) in sizes.iter().enumerate() {
            let (n, trunc, bytes) = read_into(&b, 1000)?;
            in_order &= !trunc && bytes.iter().all(|&c| c == b'a' + i as u8);
            got.push(n);
        }
        d.saw(format_args!("recv sizes: {got:?}"));
        d.check(
            got == sizes && in_order,
            "one recv, one message: boundaries and order kept, on a connection",
        )?;

        send(a.as_raw_fd(), &[b'z'; 300], MsgFlags::empty()).context("send")?;
        send(a.as_raw_fd(), b"after", MsgFlags::empty()).context("send")?;
        let (n, trunc, _) = read_into(&b, 10)?;
        let (_, _, after) = read_into(&b, 10)?;
        d.detail(format_args!(
            "SEQPACKET cuts too: 300 bytes into 10 gave {n}, {}, then {:?}",
            flags_text(trunc),
            String::from_utf8_lossy(&after)
        ));
        drop(a);
        let eof = read_into(&b, 10)?.0;
        d.detail(format_args!(
            "and it is a connection: after the peer closes, recv returns {eof} (EOF)"
        ));
        Ok(())
    })
}
