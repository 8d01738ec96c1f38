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
use demos::{Break, Evidence, Observed, brk, net};
use nix::sys::socket::{
    AddressFamily, MsgFlags, SockFlag, SockType, recv, recvmsg, send, socketpair,
};

const BREAKS: &[Break] = &[
    brk(
        "udp-is-stream",
        "an AF_UNIX stream pair replaces the UDP sockets",
    ),
    brk(
        "seqpacket-is-stream",
        "SOCK_STREAM in place of SOCK_SEQPACKET",
    ),
    brk(
        "no-msg-trunc",
        "the second recv goes without the MSG_TRUNC flag",
    ),
    brk(
        "extra-datagram",
        "a third datagram follows \"second\": the queue is not empty after two reads",
    ),
];

/// What one recvmsg returned: bytes copied, whether MSG_TRUNC was set, the bytes.
struct Msg {
    n: usize,
    trunc: bool,
    bytes: Vec<u8>,
}

impl Evidence for Msg {
    fn render(&self) -> String {
        let flags = if self.trunc { "MSG_TRUNC" } else { "0" };
        let text = String::from_utf8_lossy(&self.bytes);
        let text: String = text.chars().take(12).collect();
        format!("{} bytes {text:?}, msg_flags = {flags}", self.n)
    }
}

/// recvmsg into a buffer of `len` bytes, as the kernel answered it.
fn read_into(fd: &impl AsRawFd, len: usize) -> Observed<std::io::Result<Msg>> {
    demos::evidence::call(format_args!("recvmsg({len}-byte buffer)"), || {
        let mut buf = vec![0u8; len];
        let (n, flags) = {
            let mut iov = [IoSliceMut::new(&mut buf)];
            let msg = recvmsg::<()>(fd.as_raw_fd(), &mut iov, None, MsgFlags::empty())?;
            (msg.bytes, msg.flags)
        };
        buf.truncate(n);
        Ok::<_, nix::errno::Errno>(Msg {
            n,
            trunc: flags.contains(MsgFlags::MSG_TRUNC),
            bytes: buf,
        })
    })
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "a short read cuts a datagram and loses the rest; SEQPACKET keeps each message whole",
        );

        let (tx, rx) = if d.breaks("udp-is-stream") {
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
        if d.breaks("extra-datagram") {
            send_all(b"third")?;
        }
        let cut = read_into(&rx, 10);
        d.saw(&cut);
        let cut = d.require(cut, "the first datagram was read")?;
        let next = read_into(&rx, 10);
        d.key_that(&next, "the next recvmsg");
        let next = d.require(next, "the second datagram was read")?;
        // A datagram's rest is not kept anywhere: nothing is left to read.
        let mut probe = [0u8; 10];
        let left = d.syscall("recv(MSG_DONTWAIT)", || {
            recv(rx.as_raw_fd(), &mut probe, MsgFlags::MSG_DONTWAIT)
        });
        d.saw_that(&left, "a third read");
        let (cut, next) = (cut.value(), next.value());
        d.metric("udp.truncated.kept", cut.n as f64, "bytes");
        d.check(
            cut.n == 10 && cut.trunc,
            "the 100-byte datagram was cut to 10 bytes, and MSG_TRUNC said so",
        )?;
        // Whole: all 6 bytes of "second" fit the 10-byte buffer, so no MSG_TRUNC.
        d.check(
            next.bytes == b"second",
            "its other 90 bytes are gone: the next read is the next datagram, whole",
        )?;
        d.check(
            left.failed_with(nix::errno::Errno::EAGAIN),
            "and gone for good: after it the queue is empty (EAGAIN)",
        )?;

        d.step("send 100 bytes again; recv(10-byte buffer, flags = MSG_TRUNC)");
        send_all(&[b'y'; 100])?;
        let flag = if d.breaks("no-msg-trunc") {
            MsgFlags::empty()
        } else {
            MsgFlags::MSG_TRUNC
        };
        let mut small = [0u8; 10];
        let real = d.syscall("recv(10-byte buffer, MSG_TRUNC)", || {
            recv(rx.as_raw_fd(), &mut small, flag)
        });
        d.saw(&real);
        let real = d.require(real, "recv returned the datagram")?;
        d.check(
            *real.value() == 100,
            "with MSG_TRUNC, recv returns the datagram's real length (100, not 10)",
        )?;

        let seq = if d.breaks("seqpacket-is-stream") {
            SockType::Stream
        } else {
            SockType::SeqPacket
        };
        d.step("AF_UNIX SOCK_SEQPACKET pair: send 5, 300 and 7 bytes; read with 1000 bytes");
        let (a, b): (OwnedFd, OwnedFd) =
            socketpair(AddressFamily::Unix, seq, None, SockFlag::SOCK_CLOEXEC)
                .context("socketpair(AF_UNIX, SOCK_SEQPACKET)")?;
        net::with_timeouts(&b)?;
        let sizes = [5usize, 300, 7];
        for (i, &size) in sizes.iter().enumerate() {
            let msg = vec![b'a' + i as u8; size];
            send(a.as_raw_fd(), &msg, MsgFlags::empty()).context("send on SEQPACKET")?;
        }
        // Non-blocking from here: a missing message is an answer (EAGAIN), not a hang.
        demos::fd::set_nonblocking(&b, true)?;
        // The sizes differ, so the sizes read, in order, say which message each recv
        // returned, and that it was whole (each fits the 1000-byte buffer).
        let mut got = Vec::new();
        for _ in sizes {
            let msg = read_into(&b, 1000);
            match msg.value() {
                Ok(m) => got.push(m.n),
                Err(_) => d.saw(&msg),
            }
        }
        demos::fd::set_nonblocking(&b, false)?;
        d.derived(format_args!("recv sizes: {got:?}"));
        d.check(
            got == sizes,
            "one recv, one message: all 3 boundaries and their order kept, on a connection",
        )?;

        send(a.as_raw_fd(), &[b'z'; 300], MsgFlags::empty()).context("send")?;
        send(a.as_raw_fd(), b"after", MsgFlags::empty()).context("send")?;
        if d.verbose() {
            let cut = read_into(&b, 10);
            let after = read_into(&b, 10);
            d.saw_that(&cut, "SEQPACKET cuts too: 300 bytes into 10");
            d.saw_that(&after, "then");
            drop(a);
            let eof = read_into(&b, 10);
            d.saw_that(&eof, "after the peer closes: EOF, it is a connection");
        }
        Ok(())
    })
}
