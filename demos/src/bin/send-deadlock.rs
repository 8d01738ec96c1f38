//! Two peers that both send without reading deadlock: once the send and receive buffers are full, each send waits for a read that never comes.
//!
//! tcp(7): the buffers are sized by `tcp_wmem` and `tcp_rmem` and grown by autotuning,
//! but never without limit. send(2): "When the message does not fit into the send
//! buffer of the socket, send() normally blocks", so two blocking senders wait forever;
//! here the sockets are non-blocking and a poll(2) for `POLLOUT` with a timeout shows it.

use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::{Result, fd, human, net};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::SockRef;

/// How long both peers may wait for buffer space before we call them stuck.
const STALL: Duration = Duration::from_millis(300);

/// How long the peers may keep sending before we call them not stuck.
const KEEPS_GOING: Duration = Duration::from_secs(1);

/// Two peers that both send and never read, in one event loop: each writes as much as
/// its socket takes (non-blocking), and when neither can write, both wait for
/// buffer space. Returns the bytes each sent and how long the loop ran, once a wait
/// of [`STALL`] brings no space to either, or after [`KEEPS_GOING`] if space keeps
/// coming (`server_reads`: the server also reads whatever has arrived).
fn send_without_reading(
    peers: [&TcpStream; 2],
    server_reads: bool,
) -> Result<([usize; 2], Duration)> {
    let t0 = Instant::now();
    let mut sent = [0; 2];
    let mut buf = vec![0u8; 256 << 10];
    loop {
        for (peer, total) in peers.iter().zip(sent.iter_mut()) {
            *total += fd::fill(peer, 64 << 10)?;
        }
        if server_reads {
            while fd::readable_within(peers[1], Duration::ZERO)?
                && std::io::Read::read(&mut &*peers[1], &mut buf).context("read")? > 0
            {}
        }
        let mut fds = peers.map(|p| PollFd::new(p.as_fd(), PollFlags::POLLOUT));
        let ready = poll(
            &mut fds,
            PollTimeout::try_from(STALL).unwrap_or(PollTimeout::MAX),
        )
        .context("poll for POLLOUT")?;
        if ready == 0 {
            return Ok((sent, t0.elapsed()));
        }
        if t0.elapsed() >= KEEPS_GOING {
            return Ok((sent, t0.elapsed()));
        }
    }
}

fn buffers(stream: &TcpStream) -> Result<(usize, usize)> {
    let s = SockRef::from(stream);
    Ok((
        s.send_buffer_size().context("getsockopt(SO_SNDBUF)")?,
        s.recv_buffer_size().context("getsockopt(SO_RCVBUF)")?,
    ))
}

fn kib(n: usize) -> String {
    format!("{} KiB", n / 1024)
}

fn main() {
    demos::run(|d| {
        d.expect("both sends stall for good once the buffers between the peers are full");
        let (client, server) = net::tcp_pair()?;
        let (snd0, rcv0) = buffers(&client)?;
        d.saw(format_args!(
            "at the start: SO_SNDBUF {}, SO_RCVBUF {}",
            kib(snd0),
            kib(rcv0)
        ));

        d.step("both peers send as much as they can and never read (non-blocking)");
        for s in [&client, &server] {
            fd::set_nonblocking(s, true)?;
        }
        let reads = d.breaks("the server reads what arrives while both send");
        let ([c_sent, s_sent], took) = send_without_reading([&client, &server], reads)?;
        d.saw(format_args!("the send loop ended after {}", human(took)));
        // A zero-window probe may still move a few bytes from one queue to the other,
        // but nothing leaves the two queues, because nobody reads.
        let (client_w, server_w) = (
            fd::writable_within(&client, STALL)?,
            fd::writable_within(&server, Duration::ZERO)?,
        );
        let still_stuck = !client_w && !server_w;
        d.key(format_args!(
            "poll(POLLOUT) {} ms later: client writable {client_w}, server writable {server_w}",
            STALL.as_millis()
        ));
        let (client_q, server_in) = (fd::unsent(&client)?, fd::unread(&server)?);
        let (server_q, client_in) = (fd::unsent(&server)?, fd::unread(&client)?);
        d.saw(format_args!(
            "client -> server: {} ({} in the client's send queue + {} in the server's receive queue)",
            kib(c_sent),
            kib(client_q),
            kib(server_in)
        ));
        d.saw(format_args!(
            "server -> client: {} ({} + {})",
            kib(s_sent),
            kib(server_q),
            kib(client_in)
        ));
        d.check(
            still_stuck,
            "another 300 ms later, still no room: blocking senders would wait forever",
        )?;
        d.check(
            client_q + server_in == c_sent && server_q + client_in == s_sent,
            "every byte sent sits in the queues between them; nobody reads, so none drains",
        )?;
        let (snd1, rcv1) = buffers(&client)?;
        let change = |before: usize, after: usize| match after.cmp(&before) {
            std::cmp::Ordering::Greater => format!("{} (grew from {})", kib(after), kib(before)),
            std::cmp::Ordering::Less => format!("{} (shrank from {})", kib(after), kib(before)),
            std::cmp::Ordering::Equal => format!("{} (unchanged)", kib(after)),
        };
        d.key(format_args!(
            "buffers now: SO_SNDBUF {}, SO_RCVBUF {}",
            change(snd0, snd1),
            change(rcv0, rcv1)
        ));

        d.step("the way out: the server reads everything the client sent");
        let mut drained = 0;
        let mut buf = vec![0u8; 256 << 10];
        while drained < c_sent {
            match fd::read_within(&server, &mut buf, demos::IO_TIMEOUT)? {
                0 => break,
                n => drained += n,
            }
        }
        let unstuck = fd::writable_within(&client, demos::IO_TIMEOUT)?;
        d.saw(format_args!(
            "server read {}; the client can send again: {unstuck}",
            kib(drained)
        ));
        d.check(unstuck, "reading while sending breaks the deadlock")?;

        d.metric("deadlock.client_to_server", c_sent as f64, "bytes");
        d.metric("deadlock.server_to_client", s_sent as f64, "bytes");
        d.metric("deadlock.sndbuf_start", snd0 as f64, "bytes");
        d.metric("deadlock.rcvbuf_start", rcv0 as f64, "bytes");
        d.metric("deadlock.sndbuf_end", snd1 as f64, "bytes");
        d.metric("deadlock.rcvbuf_end", rcv1 as f64, "bytes");
        Ok(())
    })
}
