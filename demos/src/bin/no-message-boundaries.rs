//! TCP keeps no message boundaries: many small sends arrive as a few recvs, one big send arrives in many pieces, and a non-blocking send may take only part of the buffer.
//!
//! send(2): "When the message does not fit into the send buffer of the socket, send()
//! normally blocks [...] In nonblocking mode it would fail with the error EAGAIN" and
//! otherwise returns "the number of bytes sent". recv(2): "The receive calls normally
//! return any data available, up to the requested amount, rather than waiting for
//! receipt of the full amount requested."

use std::io::Write;
use std::net::TcpStream;
use std::os::fd::AsRawFd;

use anyhow::{Context, bail};
use demos::{IO_TIMEOUT, Result, fd, net};
use nix::sys::socket::{MsgFlags, send};

const SMALL: usize = 100;
const BIG: usize = 4 << 20;

/// Reads until `want` bytes have arrived; returns the size of every recv.
fn recv_all(stream: &mut TcpStream, want: usize, buf_size: usize) -> Result<Vec<usize>> {
    let mut buf = vec![0u8; buf_size];
    let mut pieces = Vec::new();
    let mut total = 0;
    while total < want {
        let n = fd::read_within(&*stream, &mut buf, IO_TIMEOUT)
            .with_context(|| format!("after {total} of {want} bytes"))?;
        if n == 0 {
            bail!("EOF after {total} of {want} bytes");
        }
        pieces.push(n);
        total += n;
    }
    Ok(pieces)
}

fn main() {
    demos::run(|d| {
        d.expect("sends and recvs do not pair up; the protocol must frame its own messages");

        d.step(format_args!(
            "{SMALL} sends of 7 bytes (\"msg-NN;\"), then recv with a 64 KiB buffer"
        ));
        let lockstep = d.breaks("the receiver reads each message before the next send");
        let (mut client, mut server) = net::tcp_pair()?;
        let mut pieces = Vec::new();
        for i in 0..SMALL {
            client
                .write_all(format!("msg-{:02};", i % 100).as_bytes())
                .context("send")?;
            if lockstep {
                pieces.extend(recv_all(&mut server, 7, 64 << 10)?);
            }
        }
        if !lockstep {
            pieces = recv_all(&mut server, SMALL * 7, 64 << 10)?;
        }
        d.key(format_args!(
            "{} recv call(s) returned {:?} bytes",
            pieces.len(),
            pieces
        ));
        let small_recvs = pieces.len();
        d.check(
            small_recvs <= SMALL / 10,
            format_args!("{SMALL} sends arrived in far fewer recvs: the boundaries are gone"),
        )?;

        d.step("one blocking send() of 4 MiB; recv with a 4 MiB buffer until all is there");
        let (client, mut server) = net::tcp_pair()?;
        let data = vec![b'z'; BIG];
        let (sent, pieces) = std::thread::scope(|s| {
            let sender = s.spawn(|| send(client.as_raw_fd(), &data, MsgFlags::empty()));
            let pieces = recv_all(&mut server, BIG, BIG);
            let sent = sender
                .join()
                .map_err(|_| anyhow::anyhow!("the sender thread panicked"))?;
            Ok::<_, anyhow::Error>((sent.context("send 4 MiB")?, pieces?))
        })?;
        let largest = pieces.iter().copied().max().unwrap_or(0);
        d.saw(format_args!(
            "send returned {sent} in one call; recv needed {} calls, the largest {largest} bytes",
            pieces.len()
        ));
        d.detail(format_args!(
            "first recv sizes: {:?}",
            &pieces[..pieces.len().min(12)]
        ));
        d.check(
            sent == BIG && pieces.len() > 1 && largest < BIG,
            "one send arrived in many pieces",
        )?;

        d.step("non-blocking send() of 4 MiB to a peer that reads nothing, then again");
        let (fresh, _idle) = net::tcp_pair()?;
        fd::set_nonblocking(&fresh, true)?;
        let first = send(fresh.as_raw_fd(), &data, MsgFlags::empty());
        // Until the queues are full: what moves on to the peer's receive buffer while
        // we send makes room for a little more, but a peer that reads nothing stops it.
        let (mut more, mut second) = (0, send(fresh.as_raw_fd(), &data, MsgFlags::empty()));
        while let Ok(n) = second {
            more += n;
            if more > 4 * BIG {
                break;
            }
            second = send(fresh.as_raw_fd(), &data, MsgFlags::empty());
        }
        let show = |r: &nix::Result<usize>| match r {
            Ok(n) => format!("{n} bytes"),
            Err(e) => net::errno_name(&std::io::Error::from(*e)),
        };
        d.key(format_args!(
            "first send: {}; then {more} bytes more, then: {}",
            show(&first),
            show(&second)
        ));
        let partial = first.unwrap_or(0);
        d.check(
            partial > 0 && partial < BIG && second == Err(nix::errno::Errno::EAGAIN),
            "send took only part of the buffer (loop, like write_all or sendall)",
        )?;

        d.metric("stream.small_sends", SMALL as f64, "sends");
        d.metric("stream.small_recvs", small_recvs as f64, "recvs");
        d.metric("stream.big_recvs", pieces.len() as f64, "recvs");
        d.metric("stream.big_largest_recv", largest as f64, "bytes");
        d.metric("stream.partial_send", partial as f64, "bytes");
        Ok(())
    })
}
