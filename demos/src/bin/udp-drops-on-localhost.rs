//! UDP drops datagrams even on localhost when the receiver is slow, and the sender never hears of it; a Unix-domain datagram socket pushes back on the sender instead, and loses nothing.
//!
//! udp(7): "a connectionless, unreliable datagram packet service"; the `RcvbufErrors`
//! counter in /proc/net/snmp counts datagrams dropped for a full receive buffer.
//! ip(7), `IP_RECVERR`: with it on, errors the kernel learns of for a datagram socket
//! (an ICMP port unreachable) are queued on the socket's error queue and set
//! `SO_ERROR`; the demo's sender turns it on, and still hears nothing of the drops.
//! unix(7): for datagram sockets "the SO_SNDBUF socket option does have an effect for
//! UNIX domain sockets, but the SO_RCVBUF option does not", and "UNIX domain datagram
//! sockets are always reliable and don't reorder datagrams."

use std::os::unix::net::UnixDatagram;

use anyhow::Context;
use demos::{Break, Observed, Result, Tally, brk, fd, kstat, net};
use socket2::SockRef;

const BREAKS: &[Break] = &[
    brk("keeps-up", "the UDP receiver reads after every send"),
    brk(
        "unix-rcvbuf",
        "the AF_UNIX sender's SO_SNDBUF is set as small as the receiver's SO_RCVBUF",
    ),
    brk(
        "no-retry",
        "on EAGAIN the AF_UNIX sender drops the datagram and goes on, as UDP's queue does",
    ),
    brk(
        "to-nowhere",
        "the UDP sender first sends one datagram to a closed port and reads SO_ERROR once: \
         the ICMP error waits on its error queue",
    ),
    brk(
        "filtered",
        "a socket filter (BPF) on the UDP receiver drops every datagram: lost, but not for a full buffer",
    ),
];

const COUNT: u32 = 10_000;
const SIZE: usize = 100;
const RCVBUF: usize = 4096;

/// Datagram number `seq`: its number in the first four bytes, then padding.
fn datagram(seq: u32) -> [u8; SIZE] {
    let mut d = [b'.'; SIZE];
    d[..4].copy_from_slice(&seq.to_le_bytes());
    d
}

fn seq_of(d: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(..4)?.try_into().ok()?))
}

/// Receives everything queued on a non-blocking socket; appends the sequence numbers.
fn drain(recv: impl Fn(&mut [u8]) -> std::io::Result<usize>, seqs: &mut Vec<u32>) -> Result<()> {
    let mut buf = [0u8; 2 * SIZE];
    loop {
        match recv(&mut buf) {
            Ok(n) => seqs.extend(seq_of(&buf[..n])),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e).context("recv"),
        }
    }
}

/// A socketpair whose non-blocking sender sends until a send fails: the pair, how many
/// datagrams went out, and the failed send, as the kernel answered it.
fn unix_until_eagain(
    sndbuf: Option<usize>,
    rcvbuf: Option<usize>,
) -> Result<(
    UnixDatagram,
    UnixDatagram,
    u32,
    Observed<std::io::Result<usize>>,
)> {
    let (tx, rx) = UnixDatagram::pair().context("socketpair(AF_UNIX, SOCK_DGRAM)")?;
    if let Some(size) = sndbuf {
        SockRef::from(&tx)
            .set_send_buffer_size(size)
            .context("setting SO_SNDBUF")?;
    }
    if let Some(size) = rcvbuf {
        SockRef::from(&rx)
            .set_recv_buffer_size(size)
            .context("setting SO_RCVBUF")?;
    }
    tx.set_nonblocking(true).context("O_NONBLOCK")?;
    rx.set_nonblocking(true).context("O_NONBLOCK")?;
    let mut sent = 0u32;
    loop {
        let send = demos::evidence::call("send, non-blocking, until it fails", || {
            tx.send(&datagram(sent))
        });
        if send.is_ok() {
            sent += 1;
        } else {
            return Ok((tx, rx, sent, send));
        }
    }
}

/// What the UDP sender heard after its sends: SO_ERROR (read, which clears it) and
/// one recv(MSG_ERRQUEUE | MSG_DONTWAIT), EAGAIN when the error queue is empty.
fn sender_heard(tx: &std::net::UdpSocket) -> Result<Observed<(i32, std::io::Result<usize>)>> {
    use nix::sys::socket::{MsgFlags, recv};
    use std::os::fd::AsRawFd;
    demos::evidence::read("getsockopt(SO_ERROR), recv(MSG_ERRQUEUE)", || {
        let so_error = SockRef::from(tx)
            .take_error()
            .context("getsockopt(SO_ERROR)")?
            .map_or(0, |e| e.raw_os_error().unwrap_or(-1));
        let mut buf = [0u8; 2 * SIZE];
        let queued = recv(
            tx.as_raw_fd(),
            &mut buf,
            MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT,
        )
        .map_err(std::io::Error::from);
        Ok((so_error, queued))
    })
}

/// A client connected to a bound AF_UNIX datagram server: how many datagrams it sends
/// (non-blocking) before EAGAIN. Here the server's queue length counts, not bytes.
fn bound_server_queue() -> Result<u32> {
    use socket2::{Domain, SockAddr, Socket, Type};
    let addr = SockAddr::unix(format!("\0{}", demos::unique_name("dgram-qlen")))
        .context("an abstract socket address")?;
    let server = Socket::new(Domain::UNIX, Type::DGRAM, None).context("socket")?;
    server.bind(&addr).context("bind the AF_UNIX server")?;
    let client = Socket::new(Domain::UNIX, Type::DGRAM, None).context("socket")?;
    client
        .connect(&addr)
        .context("connect to the AF_UNIX server")?;
    client.set_nonblocking(true).context("O_NONBLOCK")?;
    let mut sent = 0u32;
    while client.send(&datagram(sent)).is_ok() {
        sent += 1;
        anyhow::ensure!(sent < 100_000, "the bound server's queue never filled");
    }
    Ok(sent)
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect(
            "UDP on localhost loses datagrams silently; AF_UNIX datagrams block the sender instead",
        );

        // As root, a network namespace of its own: RcvbufErrors counts this demo only.
        demos::netns::isolate()?;
        let keeps_up = d.breaks("keeps-up");
        let (rx, rx_addr) = net::udp_socket()?;
        if d.breaks("filtered") {
            // BPF_RET | BPF_K, 0: keep no byte of any datagram.
            SockRef::from(&rx)
                .attach_filter(&[socket2::SockFilter::new(0x06, 0, 0, 0)])
                .context("SO_ATTACH_FILTER")?;
        }
        rx.set_nonblocking(true).context("O_NONBLOCK")?;
        let default_rcvbuf = SockRef::from(&rx)
            .recv_buffer_size()
            .context("getsockopt(SO_RCVBUF)")?;
        d.step(format_args!(
            "UDP: {COUNT} datagrams of {SIZE} bytes as fast as possible; the receiver keeps \
             its default SO_RCVBUF ({} KiB) and reads {}",
            default_rcvbuf / 1024,
            if keeps_up {
                "after every send"
            } else {
                "only afterwards"
            }
        ));
        let (tx, _) = net::udp_socket()?;
        // Ask to hear of errors: without IP_RECVERR an unconnected sender gets none.
        nix::sys::socket::setsockopt(&tx, nix::sys::socket::sockopt::Ipv4RecvErr, &true)
            .context("setting IP_RECVERR")?;
        if d.breaks("to-nowhere") {
            let (closed, nowhere) = net::udp_socket()?;
            drop(closed);
            tx.send_to(&datagram(0), nowhere)
                .context("sending to a closed port")?;
            // Wait for the port unreachable (it sets SO_ERROR), and clear SO_ERROR, so
            // that the sends below go through and only the error queue still tells.
            let deadline = std::time::Instant::now() + demos::IO_TIMEOUT;
            while SockRef::from(&tx)
                .take_error()
                .context("getsockopt(SO_ERROR)")?
                .is_none()
            {
                anyhow::ensure!(
                    std::time::Instant::now() < deadline,
                    "no ICMP error for the datagram sent to a closed port"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        let mut got = Vec::new();
        let errors_before = kstat::snmp("Udp", "RcvbufErrors")?;
        let mut sends = Tally::start("sendto");
        for seq in 0..COUNT {
            let _ = sends.call(|| tx.send_to(&datagram(seq), rx_addr));
            if keeps_up {
                fd::readable_within(&rx, demos::IO_TIMEOUT)?;
                drain(|b| rx.recv(b), &mut got)?;
            }
        }
        drain(|b| rx.recv(b), &mut got)?;
        let errors_after = kstat::snmp("Udp", "RcvbufErrors")?;
        let socket_drops = kstat::udp_drops(*fd::inode(&rx)?.value())?;
        let rcvbuf_errors = errors_after.since(&errors_before);
        let sends = sends.finish();
        let heard = sender_heard(&tx)?;
        let sent = sends.value().ok() as u32;
        let lost = u64::from(sent) - got.len() as u64;
        d.key(&sends);
        d.saw_that(
            &heard,
            "what the sender heard: SO_ERROR; its error queue (EAGAIN: empty)",
        );
        d.derived(format_args!("received {}; lost {lost}", got.len()));
        d.saw(&socket_drops);
        d.saw(&rcvbuf_errors);
        let (socket_drops, rcvbuf_errors) = (*socket_drops.value(), rcvbuf_errors.value().delta());
        d.detail(format_args!("received {:?}", &got[..got.len().min(12)]));
        let (so_error, queued) = heard.value();
        let silent = *so_error == 0
            && queued
                .as_ref()
                .is_err_and(|e| net::is_errno(e, nix::errno::Errno::EAGAIN));
        d.check(
            sent == COUNT && lost > 0 && silent,
            "UDP lost datagrams on localhost, and the sender never heard: every sendto said \
             success, SO_ERROR 0, its error queue empty (IP_RECVERR on)",
        )?;
        d.check(
            socket_drops == lost && rcvbuf_errors >= lost,
            "the kernel counted each loss, as a full receive buffer (socket drops = lost, RcvbufErrors grew at least as much)",
        )?;

        d.step(format_args!(
            "AF_UNIX SOCK_DGRAM socketpair, receiver SO_RCVBUF {RCVBUF}, non-blocking sender"
        ));
        let small_snd = if d.breaks("unix-rcvbuf") {
            Some(RCVBUF)
        } else {
            None
        };
        let (utx, urx, before_eagain, eagain) = unix_until_eagain(small_snd, Some(RCVBUF))?;
        let mut useqs = Vec::new();
        drain(|b| urx.recv(b), &mut useqs)?;
        let first_batch_whole = useqs == (0..before_eagain).collect::<Vec<_>>();
        let sndbuf = SockRef::from(&utx)
            .send_buffer_size()
            .context("getsockopt(SO_SNDBUF)")?;
        d.saw(&eagain);
        d.derived(format_args!("after {before_eagain} datagrams went out"));
        // unix(7) says which buffer counts; measure it rather than take its word.
        let (_, _, default_rcvbuf, _) = unix_until_eagain(None, None)?;
        let (_, _, small_sndbuf, _) = unix_until_eagain(Some(RCVBUF), None)?;
        d.derived(format_args!(
            "with the receiver's SO_RCVBUF at its default: {default_rcvbuf}; with the sender's SO_SNDBUF {RCVBUF}: {small_sndbuf}"
        ));
        if d.verbose() {
            let qlen = std::fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen")
                .map(|v| v.trim().to_owned())
                .unwrap_or_else(|_| "?".into());
            d.derived(format_args!(
                "a client of a bound AF_UNIX server: EAGAIN after {} datagrams \
                 (net.unix.max_dgram_qlen = {qlen}: the queue holds one more)",
                bound_server_queue()?
            ));
        }
        d.check(
            eagain.failed_with(nix::errno::Errno::EAGAIN),
            "the sender was pushed back (EAGAIN) instead of the datagrams being dropped",
        )?;
        d.check(
            small_sndbuf < before_eagain / 4,
            format_args!(
                "the limit is the sender's SO_SNDBUF ({} KiB): at {RCVBUF} bytes, under a quarter as many",
                sndbuf / 1024
            ),
        )?;
        d.check(
            default_rcvbuf == before_eagain,
            "not the receiver's SO_RCVBUF: at its default, exactly as many",
        )?;

        d.step(format_args!(
            "drain, then send all {COUNT}; on EAGAIN the receiver drains and the sender retries"
        ));
        useqs.clear();
        let mut pushbacks = 0;
        let retry = !d.breaks("no-retry");
        for seq in 0..COUNT {
            loop {
                match utx.send(&datagram(seq)) {
                    Ok(_) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        pushbacks += 1;
                        drain(|b| urx.recv(b), &mut useqs)?;
                        if !retry {
                            break;
                        }
                    }
                    Err(e) => return Err(e).context("send on the AF_UNIX socket"),
                }
            }
        }
        drain(|b| urx.recv(b), &mut useqs)?;
        let ulost = u64::from(COUNT) - useqs.len() as u64;
        d.derived(format_args!(
            "sent {COUNT}, received {}, lost {ulost}, in order: {}; the sender was pushed back {pushbacks} times",
            useqs.len(),
            useqs.is_sorted()
        ));
        d.check(
            first_batch_whole && useqs == (0..COUNT).collect::<Vec<_>>(),
            "every datagram arrived, in order: nothing lost",
        )?;

        d.metric("udp.sent", f64::from(sent), "datagrams");
        d.metric("udp.received", got.len() as f64, "datagrams");
        d.metric("udp.lost", lost as f64, "datagrams");
        d.metric("udp.socket_drops", socket_drops as f64, "datagrams");
        d.metric("udp.rcvbuf_errors", rcvbuf_errors as f64, "datagrams");
        d.metric(
            "unix.sent_before_eagain",
            f64::from(before_eagain),
            "datagrams",
        );
        d.metric("unix.pushbacks", f64::from(pushbacks), "times");
        d.metric("unix.received", useqs.len() as f64, "datagrams");
        d.metric("unix.lost", ulost as f64, "datagrams");
        Ok(())
    })
}
