//! TCP keeps no message boundaries: many small sends arrive as a few recvs, one big send arrives in pieces, and a non-blocking send may take only part of the buffer.
//!
//! send(2): "When the message does not fit into the send buffer of the socket, send()
//! normally blocks [...] In nonblocking mode it would fail with the error EAGAIN" and
//! otherwise returns "the number of bytes sent". recv(2): "The receive calls normally
//! return any data available, up to the requested amount, rather than waiting for
//! receipt of the full amount requested."

use std::io::Write;
use std::net::TcpStream;
use std::os::fd::AsRawFd;

use anyhow::Context;
use demos::{Break, IO_TIMEOUT, Observed, brk, fd, net};
use nix::sys::socket::{MsgFlags, send};

const BREAKS: &[Break] = &[
    brk(
        "lockstep",
        "the receiver reads each message before the next send",
    ),
    brk(
        "one-recv",
        "the receiver of the big send calls recv only once",
    ),
    brk(
        "waitall",
        "the receiver of the big send passes MSG_WAITALL: recv waits for all 4 MiB",
    ),
    brk(
        "big-buffers",
        "the non-blocking sender's SO_SNDBUF holds 64 MiB: all 4 MiB fit at once",
    ),
    brk(
        "already-full",
        "the queues are full before the non-blocking send is measured",
    ),
    brk(
        "two-streams",
        "the small messages alternate between two connections, read one after the other",
    ),
];

const SMALL: usize = 100;
const BIG: usize = 4 << 20;

/// Reads until `want` bytes have arrived or the peer closed: the size every recv
/// returned (a last 0 is EOF). The bytes go to the end of `got`.
fn recv_all(
    stream: &mut TcpStream,
    want: usize,
    buf_size: usize,
    got: &mut Vec<u8>,
) -> Observed<std::io::Result<Vec<usize>>> {
    demos::evidence::call("recv, until all bytes are in", || {
        let mut buf = vec![0u8; buf_size];
        let mut pieces = Vec::new();
        let mut total = 0;
        while total < want {
            let n = fd::read_within(&*stream, &mut buf, IO_TIMEOUT).map_err(|e| {
                std::io::Error::other(format!("after {total} of {want} bytes: {e:#}"))
            })?;
            pieces.push(n);
            if n == 0 {
                break; // EOF early: the pieces say so, and the byte checks fail
            }
            got.extend_from_slice(&buf[..n]);
            total += n;
        }
        Ok::<_, std::io::Error>(pieces)
    })
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("sends and recvs do not pair up; the protocol must frame its own messages");

        d.step(format_args!(
            "{SMALL} sends of 7 bytes (\"msg-NN;\"), then recv with a 64 KiB buffer"
        ));
        let lockstep = d.breaks("lockstep");
        let (mut client, mut server) = net::tcp_pair()?;
        // Under `two-streams`, the odd messages go over a second connection.
        let mut second = if d.breaks("two-streams") {
            Some(net::tcp_pair()?)
        } else {
            None
        };
        let mut pieces = Vec::new();
        let (mut sent, mut received) = (Vec::new(), Vec::new());
        for i in 0..SMALL {
            let message = format!("msg-{:02};", i % 100);
            let to = match &mut second {
                Some((other, _)) if i % 2 == 1 => other,
                _ => &mut client,
            };
            to.write_all(message.as_bytes()).context("send")?;
            sent.extend_from_slice(message.as_bytes());
            if lockstep {
                let got = recv_all(&mut server, 7, 64 << 10, &mut received);
                pieces.extend(d.require(got, "every message arrived")?.into_value());
            }
        }
        if let Some((_, other)) = &mut second {
            for stream in [&mut server, other] {
                let got = recv_all(stream, SMALL / 2 * 7, 64 << 10, &mut received);
                d.key(&got);
                pieces.extend(d.require(got, "all 350 bytes arrived")?.into_value());
            }
        } else if !lockstep {
            let got = recv_all(&mut server, SMALL * 7, 64 << 10, &mut received);
            d.key(&got);
            pieces = d.require(got, "all 700 bytes arrived")?.into_value();
        }
        d.derived(format_args!(
            "{} recv call(s) for {SMALL} sends",
            pieces.len()
        ));
        let small_recvs = pieces.len();
        d.check(
            small_recvs <= SMALL / 10,
            format_args!(
                "{SMALL} sends arrived in far fewer recvs (at most 10): the boundaries are gone"
            ),
        )?;
        d.check(
            received == sent,
            "and every byte came out once, in the order it was sent",
        )?;

        d.step("one blocking send() of 4 MiB; recv with a 4 MiB buffer until all is there");
        let (client, mut server) = net::tcp_pair()?;
        // A pattern that does not repeat at any piece's size, so that a piece out of
        // place would show.
        let data: Vec<u8> = (0..BIG).map(|i| (i % 251) as u8).collect();
        let mut received = Vec::new();
        let once = d.breaks("one-recv");
        let waitall = d.breaks("waitall");
        let (sent, pieces) = std::thread::scope(|s| {
            let sender = s.spawn(|| {
                demos::evidence::call("send(4 MiB)", || {
                    send(client.as_raw_fd(), &data, MsgFlags::empty())
                })
            });
            let pieces = if waitall {
                // recv(2): MSG_WAITALL "requests that the operation block until the
                // full request is satisfied": the kernel joins the pieces itself.
                let mut buf = vec![0u8; BIG];
                demos::evidence::call("recv(MSG_WAITALL)", || {
                    let n = nix::sys::socket::recv(
                        server.as_raw_fd(),
                        &mut buf,
                        MsgFlags::MSG_WAITALL,
                    )?;
                    received.extend_from_slice(&buf[..n]);
                    Ok::<_, nix::errno::Errno>(vec![n])
                })
            } else if once {
                // One read, so what it returns is all this side counts.
                let mut buf = vec![0u8; BIG];
                let first = demos::evidence::call("recv", || {
                    let n = fd::read_within(&server, &mut buf, IO_TIMEOUT)
                        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
                    received.extend_from_slice(&buf[..n]);
                    Ok::<_, std::io::Error>(n)
                });
                first.map(|r| r.map(|n| vec![n; 1]))
            } else {
                recv_all(&mut server, BIG, BIG, &mut received)
            };
            let sent = sender
                .join()
                .map_err(|_| anyhow::anyhow!("the sender thread panicked"))?;
            Ok::<_, anyhow::Error>((sent, pieces))
        })?;
        d.saw(&sent);
        let sent = d.require(sent, "the 4 MiB send succeeded")?.into_value();
        let pieces = d.require(pieces, "the 4 MiB arrived")?.into_value();
        let largest = pieces.iter().copied().max().unwrap_or(0);
        d.derived(format_args!(
            "recv needed {} calls, the largest {largest} bytes",
            pieces.len()
        ));
        d.check(
            // All of it, in order, in more than one piece (so none was the whole 4 MiB).
            sent == BIG && received == data && pieces.len() > 1,
            "one send of 4 MiB arrived whole and in order, in more than one piece",
        )?;

        d.step("non-blocking send() of 4 MiB to a peer that reads nothing, then again");
        let (fresh, _idle) = net::tcp_pair()?;
        fd::set_nonblocking(&fresh, true)?;
        if d.breaks("big-buffers") {
            if !demos::is_root() {
                return Err(d.skip("the big-buffers break needs root (SO_SNDBUFFORCE)"));
            }
            // Past net.core.wmem_max, which only SO_SNDBUFFORCE may exceed.
            nix::sys::socket::setsockopt(
                &fresh,
                nix::sys::socket::sockopt::SndBufForce,
                &(64 << 20),
            )
            .context("SO_SNDBUFFORCE")?;
        }
        if d.breaks("already-full") {
            while send(fresh.as_raw_fd(), &data, MsgFlags::empty()).is_ok() {}
        }
        let first = d.syscall("send(4 MiB, non-blocking)", || {
            send(fresh.as_raw_fd(), &data, MsgFlags::empty())
        });
        // Until the queues are full: what moves on to the peer's receive buffer while
        // we send makes room for a little more, but a peer that reads nothing stops it.
        let mut more = demos::Tally::start("send(4 MiB, non-blocking) again, until it fails");
        let mut total = 0;
        while let Ok(n) = more.call(|| send(fresh.as_raw_fd(), &data, MsgFlags::empty())) {
            total += n;
            if total > 4 * BIG {
                break;
            }
        }
        let more = more.finish();
        d.key(&first);
        d.saw(&more);
        let partial = *first.value().as_ref().unwrap_or(&0);
        d.check(
            partial > 0 && partial < BIG,
            "send took only part of the 4 MiB buffer (loop, like write_all or sendall)",
        )?;
        d.check(
            more.value().failed_with(nix::errno::Errno::EAGAIN) == 1,
            "and once the queues were full, the next send failed with EAGAIN",
        )?;

        d.metric("stream.small_sends", SMALL as f64, "sends");
        d.metric("stream.small_recvs", small_recvs as f64, "recvs");
        d.metric("stream.big_recvs", pieces.len() as f64, "recvs");
        d.metric("stream.big_largest_recv", largest as f64, "bytes");
        d.metric("stream.partial_send", partial as f64, "bytes");
        Ok(())
    })
}
