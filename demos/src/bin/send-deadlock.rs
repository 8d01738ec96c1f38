//! Two peers that both send without reading deadlock: once the send and receive buffers are full, each send waits for a read that never comes.
//!
//! tcp(7): the buffers are sized by `tcp_wmem` and `tcp_rmem` and grown by autotuning
//! but never without limit (the demo checks the send buffer against `tcp_wmem`'s
//! maximum). send(2): "When the message does not fit into the send
//! buffer of the socket, send() normally blocks", so two blocking senders wait forever;
//! here the sockets are non-blocking and a poll(2) for `POLLOUT` with a timeout shows it.

use std::net::TcpStream;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use anyhow::Context;
use demos::{Break, Evidence, Observed, Result, brk, fd, human, net};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::SockRef;

const BREAKS: &[Break] = &[
    brk(
        "server-reads",
        "the server reads what arrives while both send",
    ),
    brk(
        "no-drain",
        "the way out is skipped: the server reads nothing",
    ),
    brk(
        "small-stall",
        "the client's socket is polled with a zero wait after the loop",
    ),
    brk(
        "client-reads",
        "the client reads what arrives while both send",
    ),
    brk(
        "client-reads-once",
        "the client reads once, early, then never again",
    ),
    brk(
        "forced-sndbuf",
        "the client forces an 8 MiB SO_SNDBUF first (SO_SNDBUFFORCE, root), past autotuning's limit",
    ),
];

/// SO_SNDBUF and SO_RCVBUF of a socket.
struct Buffers(usize, usize);

impl Evidence for Buffers {
    fn render(&self) -> String {
        format!("SO_SNDBUF {}, SO_RCVBUF {}", kib(self.0), kib(self.1))
    }
}

/// How long both peers may wait for buffer space before we call them stuck.
const STALL: Duration = Duration::from_millis(300);

/// How long the peers may keep sending before we call them not stuck.
const KEEPS_GOING: Duration = Duration::from_secs(1);

/// Two peers that both send and never read, in one event loop: each writes as much as
/// its socket takes (non-blocking), and when neither can write, both wait for
/// buffer space. Returns the bytes each sent and how long the loop ran, once a wait
/// of [`STALL`] brings no space to either, or after [`KEEPS_GOING`] if space keeps
/// coming. `reads`: for how many rounds of the loop each peer (client, server) also
/// reads whatever has arrived (0: never, as the story goes; the breaks read).
fn send_without_reading(peers: [&TcpStream; 2], reads: [u32; 2]) -> Result<([usize; 2], Duration)> {
    let t0 = Instant::now();
    let mut sent = [0; 2];
    let mut buf = vec![0u8; 256 << 10];
    for round in 0u32.. {
        for (peer, total) in peers.iter().zip(sent.iter_mut()) {
            *total += fd::fill(peer, 64 << 10)?.into_value();
        }
        for (peer, &rounds) in peers.iter().zip(&reads) {
            if round < rounds {
                while fd::readable_within(*peer, Duration::ZERO)?
                    && std::io::Read::read(&mut &**peer, &mut buf).context("read")? > 0
                {
                }
            }
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
    unreachable!("the loop returns")
}

/// The largest send buffer autotuning may give a TCP socket: tcp_wmem's third number.
fn wmem_max() -> Result<Observed<usize>> {
    demos::evidence::read("/proc/sys/net/ipv4/tcp_wmem, max", || {
        let path = "/proc/sys/net/ipv4/tcp_wmem";
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        text.split_whitespace()
            .nth(2)
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("no third number in {path}: {text:?}"))
    })
}

fn buffers(stream: &TcpStream) -> Result<Observed<Buffers>> {
    demos::evidence::read("getsockopt(SO_SNDBUF, SO_RCVBUF)", || {
        let s = SockRef::from(stream);
        Ok(Buffers(
            s.send_buffer_size().context("getsockopt(SO_SNDBUF)")?,
            s.recv_buffer_size().context("getsockopt(SO_RCVBUF)")?,
        ))
    })
}

/// Whether poll(POLLOUT) says the socket is writable within `wait`.
fn writable(stream: &TcpStream, wait: Duration) -> Observed<std::io::Result<bool>> {
    demos::evidence::call(
        format_args!("poll(POLLOUT, {} ms)", wait.as_millis()),
        || fd::writable_within(stream, wait).map_err(|e| std::io::Error::other(format!("{e:#}"))),
    )
}

fn kib(n: usize) -> String {
    format!("{} KiB", n / 1024)
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("both sends stall for good once the buffers between the peers are full");
        let (client, server) = net::tcp_pair()?;
        if d.breaks("forced-sndbuf") {
            if !demos::is_root() {
                return Err(d.skip("the forced-sndbuf break needs root (SO_SNDBUFFORCE)"));
            }
            nix::sys::socket::setsockopt(
                &client,
                nix::sys::socket::sockopt::SndBufForce,
                &(8 << 20),
            )
            .context("setting SO_SNDBUFFORCE")?;
        }
        let start = buffers(&client)?;
        d.saw_that(&start, "at the start");
        let Buffers(snd0, rcv0) = start.into_value();

        d.step("both peers send as much as they can and never read (non-blocking)");
        for s in [&client, &server] {
            fd::set_nonblocking(s, true)?;
        }
        let reads = if d.breaks("server-reads") {
            [0, u32::MAX]
        } else if d.breaks("client-reads") {
            [u32::MAX, 0]
        } else if d.breaks("client-reads-once") {
            [1, 0]
        } else {
            [0, 0]
        };
        let ([c_sent, s_sent], took) = send_without_reading([&client, &server], reads)?;
        d.derived(format_args!(
            "the send loop ended after {}: client sent {}, server {} (sums of what send returned)",
            human(took),
            kib(c_sent),
            kib(s_sent)
        ));
        // A zero-window probe may still move a few bytes from one queue to the other,
        // but nothing leaves the two queues, because nobody reads.
        let wait = if d.breaks("small-stall") {
            Duration::ZERO
        } else {
            STALL
        };
        let t_poll = Instant::now();
        let client_w = writable(&client, wait);
        let waited = t_poll.elapsed();
        let server_w = writable(&server, Duration::ZERO);
        let stuck = matches!(client_w.value(), Ok(false)) && matches!(server_w.value(), Ok(false));
        d.key_that(&client_w, "the client: writable?");
        d.saw_that(&server_w, "the server: writable?");
        let (client_q, server_in) = (fd::unsent(&client)?, fd::unread(&server)?);
        let (server_q, client_in) = (fd::unsent(&server)?, fd::unread(&client)?);
        d.saw_that(
            &client_q.and(&server_in),
            "client -> server: in the client's send queue; in the server's receive queue",
        );
        d.saw_that(
            &server_q.and(&client_in),
            "server -> client: the same the other way",
        );
        let (client_q, server_in) = (*client_q.value(), *server_in.value());
        let (server_q, client_in) = (*server_q.value(), *client_in.value());
        d.check(
            stuck && waited >= STALL.mul_f64(0.9),
            "another 300 ms later, still no room: blocking senders would wait forever",
        )?;
        d.check(
            client_q + server_in == c_sent && server_q + client_in == s_sent,
            "every byte sent sits in the queues between them; nobody reads, so none drains",
        )?;
        let now = buffers(&client)?;
        d.key_that(&now, "now");
        let max = wmem_max()?;
        d.saw(&max);
        let Buffers(snd1, rcv1) = now.into_value();
        d.check(
            snd1 <= *max.value(),
            "the send buffer is within tcp_wmem's maximum: autotuning has a limit",
        )?;

        d.step("the way out: the server reads everything the client sent");
        let mut drained = 0;
        let mut buf = vec![0u8; 256 << 10];
        if !d.breaks("no-drain") {
            while drained < c_sent {
                // Nothing more within 2 s ends the reading too: the check below says
                // whether the client can send again.
                match fd::read_within(&server, &mut buf, demos::IO_TIMEOUT) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => drained += n,
                }
            }
        }
        d.derived(format_args!("the server read {}", kib(drained)));
        let unstuck = writable(&client, Duration::from_millis(500));
        d.saw_that(&unstuck, "the client can send again");
        d.check(
            matches!(unstuck.value(), Ok(true)),
            "reading breaks the deadlock: the client may send again",
        )?;

        d.metric("deadlock.client_to_server", c_sent as f64, "bytes");
        d.metric("deadlock.server_to_client", s_sent as f64, "bytes");
        d.metric("deadlock.sndbuf_start", snd0 as f64, "bytes");
        d.metric("deadlock.rcvbuf_start", rcv0 as f64, "bytes");
        d.metric("deadlock.sndbuf_end", snd1 as f64, "bytes");
        d.metric("deadlock.rcvbuf_end", rcv1 as f64, "bytes");
        Ok(())
    })
}
