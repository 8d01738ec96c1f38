//! shutdown(SHUT_WR) closes one direction only: the peer reads EOF (recv returns 0) and can still answer, and the half-closed side still reads the answer.
//!
//! shutdown(2): "If how is SHUT_WR, further transmissions will be disallowed." recv(2):
//! "When a stream socket peer has performed an orderly shutdown, the return value will
//! be 0 (the traditional \"end-of-file\" return)."

use std::io::Write;
use std::net::{Shutdown, TcpStream};

use anyhow::Context;
use demos::wire::{self, Capture};
use demos::{Break, Bytes, Demo, IO_TIMEOUT, Observed, Result, brk, fd, net};

const BREAKS: &[Break] = &[
    brk(
        "shut-rdwr",
        "the client shuts down both directions (SHUT_RDWR)",
    ),
    brk("shut-rd", "SHUT_RD in place of SHUT_WR"),
    brk(
        "server-closes",
        "the server closes its socket after reading EOF, before answering",
    ),
];

/// Reads until EOF (a recv of 0), each recv waiting at most [`IO_TIMEOUT`]: what every
/// recv returned, or how the reading failed.
fn recv_to_eof(stream: &mut TcpStream) -> Observed<std::io::Result<(Bytes, Vec<usize>)>> {
    demos::evidence::call("recv until it returns 0", || {
        let mut all = Vec::new();
        let mut calls = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = fd::read_within(&*stream, &mut buf, IO_TIMEOUT)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::TimedOut, format!("{e:#}")))?;
            calls.push(n);
            if n == 0 {
                return Ok::<_, std::io::Error>((Bytes(all), calls));
            }
            all.extend_from_slice(&buf[..n]);
        }
    })
}

/// On the wire: the client's FIN, then the server's data, which the half-closed client
/// acknowledges (and does not answer with RST).
fn half_close_on_wire(
    d: &mut Demo,
    w: &Option<Capture>,
    ends: [std::net::SocketAddr; 2],
) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    let seen = w.connection("half-close", ends[0], ends[1]);
    let mut c = seen.value().clone();
    let fin = wire::first(&c, true, "FIN", 0);
    let data = fin.and_then(|f| wire::first(&c, false, "DATA", f));
    // The client's first packet after the answer: is it a plain ACK (not a RST), and
    // does it acknowledge all of the answer?
    let next = data.and_then(|i| (i..c.packets.len()).find(|&k| c.packets[k].from_client));
    let reply = data.zip(next).map(|(i, k)| {
        let (answer, p) = (&c.packets[i], &c.packets[k]);
        (p.flags == ["ACK"], p.ack >= answer.seq + answer.len)
    });
    c.key = data;
    for k in [fin, data, next].into_iter().flatten() {
        if let Some(packet) = wire::packet(&seen, k) {
            d.saw(&packet);
        }
    }
    wire::record(&c);
    d.check(
        reply == Some((true, true)),
        "on the wire: FIN from the client, then the answer the other way, acknowledged (an ACK, no RST)",
    )
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("after SHUT_WR the peer reads EOF, then answers over the open direction");
        // Loopback of its own (as root): the capture sees this demo's packets only.
        demos::netns::isolate()?;
        let w = wire::open(d)?;
        let (mut client, mut server) = net::tcp_pair()?;
        let ends = [client.local_addr()?, client.peer_addr()?];

        d.step("client sends a request of unknown length, then shutdown(SHUT_WR)");
        let request = b"count the words in this request, however long it is";
        client.write_all(request).context("send the request")?;
        let how = if d.breaks("shut-rdwr") {
            Shutdown::Both
        } else if d.breaks("shut-rd") {
            Shutdown::Read
        } else {
            Shutdown::Write
        };
        client.shutdown(how).context("shutdown(SHUT_WR)")?;

        d.step("server reads until recv returns 0, then answers");
        let got = recv_to_eof(&mut server);
        d.saw_that(&got, "the server's recvs; the last, 0, is EOF");
        let got = d.require(got, "the server read until EOF")?;
        let (got, calls) = got.value();
        d.check(
            got.0 == request && calls.last() == Some(&0),
            "the server saw the whole request and then EOF",
        )?;
        let words = String::from_utf8_lossy(&got.0).split_whitespace().count();
        let answer = format!("{words} words");
        if d.breaks("server-closes") {
            server.shutdown(Shutdown::Both).context("shutdown")?;
        }
        let sent = d.syscall("server: send after reading EOF", || {
            server.write(answer.as_bytes())
        });
        d.saw(&sent);
        d.check(
            sent.value().as_ref().is_ok_and(|&n| n == answer.len()),
            "EOF from the peer did not stop the server from sending",
        )?;
        // Under --break the client's RST may have closed the connection already; what
        // the client then reads is the evidence, so this error is not the experiment's.
        let _ = server.shutdown(Shutdown::Write);

        d.step("client, half-closed, reads the answer; then tries to send again");
        let reply = recv_to_eof(&mut client).map(|r| r.map(|(bytes, _)| bytes));
        let again = d.syscall("client: a new send", || client.write(b"one more thing"));
        d.key_that(&reply, "the client, half-closed, reads");
        d.key(&again);
        half_close_on_wire(d, &w, ends)?;
        d.check(
            reply
                .value()
                .as_ref()
                .is_ok_and(|r| r.0 == answer.as_bytes()),
            "the half-closed side still reads the whole answer, then EOF",
        )?;
        d.check(
            again.failed_with(nix::errno::Errno::EPIPE),
            "only its sending direction is closed (EPIPE)",
        )?;
        Ok(())
    })
}
