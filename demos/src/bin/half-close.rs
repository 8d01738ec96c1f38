//! shutdown(SHUT_WR) closes one direction only: the peer reads EOF (recv returns 0) and can still answer, and the half-closed side still reads the answer.
//!
//! shutdown(2): "If how is SHUT_WR, further transmissions will be disallowed." recv(2):
//! "When a stream socket peer has performed an orderly shutdown, the return value will
//! be 0 (the traditional \"end-of-file\" return)."

use std::io::Write;
use std::net::{Shutdown, TcpStream};

use anyhow::Context;
use demos::wire::{self, Capture};
use demos::{Demo, IO_TIMEOUT, Result, fd, net};

/// Reads until EOF; returns the bytes and the sizes every recv returned (the last is 0).
fn recv_to_eof(stream: &mut TcpStream) -> Result<(Vec<u8>, Vec<usize>)> {
    let mut all = Vec::new();
    let mut calls = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = fd::read_within(&*stream, &mut buf, IO_TIMEOUT)?;
        calls.push(n);
        if n == 0 {
            return Ok((all, calls));
        }
        all.extend_from_slice(&buf[..n]);
    }
}

/// On the wire: the client's FIN, then the server's data, which the half-closed client
/// acknowledges (and does not answer with RST).
fn half_close_on_wire(
    d: &mut Demo,
    w: &Option<Capture>,
    ends: [std::net::SocketAddr; 2],
) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    let mut c = w.connection("half-close", ends[0], ends[1]);
    let fin = wire::first(&c, true, "FIN", 0);
    let data = fin.and_then(|f| wire::first(&c, false, "DATA", f));
    let end = data.map(|i| c.packets[i].seq + c.packets[i].len);
    let acked = end.is_some_and(|end| {
        c.packets
            .iter()
            .any(|p| p.from_client && p.has("ACK") && p.ack >= end)
    });
    let rst = wire::first(&c, true, "RST", 0);
    c.key = data;
    for k in [fin, data, rst].into_iter().flatten() {
        d.wire(wire::describe(&c.packets[k]));
    }
    wire::record(&c);
    d.check(
        data.is_some() && acked && rst.is_none(),
        "on the wire: FIN from the client, then the answer the other way, acknowledged",
    )
}

fn main() {
    demos::run(|d| {
        d.expect("after SHUT_WR the peer reads EOF, then answers over the open direction");
        let w = wire::open(d)?;
        let (mut client, mut server) = net::tcp_pair()?;
        let ends = [client.local_addr()?, client.peer_addr()?];

        d.step("client sends a request of unknown length, then shutdown(SHUT_WR)");
        let request = b"count the words in this request, however long it is";
        client.write_all(request).context("send the request")?;
        let how = if d.breaks("the client shuts down both directions (SHUT_RDWR)") {
            Shutdown::Both
        } else {
            Shutdown::Write
        };
        client.shutdown(how).context("shutdown(SHUT_WR)")?;

        d.step("server reads until recv returns 0, then answers");
        let (got, calls) = recv_to_eof(&mut server)?;
        d.saw(format_args!(
            "server: recv returned {calls:?}: {} bytes, then 0 = EOF",
            got.len()
        ));
        d.check(
            got == request && calls.last() == Some(&0),
            "the server saw the whole request and then EOF",
        )?;
        let words = String::from_utf8_lossy(&got).split_whitespace().count();
        let answer = format!("{words} words");
        let sent = server.write(answer.as_bytes());
        d.saw(format_args!(
            "server: send after reading EOF = {}",
            match &sent {
                Ok(n) => format!("{n} bytes"),
                Err(e) => net::errno_name(e),
            }
        ));
        d.check(
            sent.as_ref().is_ok_and(|&n| n == answer.len()),
            "EOF from the peer did not stop the server from sending",
        )?;
        // Under --break the client's RST may have closed the connection already; what
        // the client then reads is the evidence, so this error is not the experiment's.
        let _ = server.shutdown(Shutdown::Write);

        d.step("client, half-closed, reads the answer; then tries to send again");
        let reply = recv_to_eof(&mut client)
            .map(|(r, _)| String::from_utf8_lossy(&r).into_owned())
            .unwrap_or_else(|e| format!("(recv failed: {e:#})"));
        let again = client.write(b"one more thing");
        half_close_on_wire(d, &w, ends)?;
        d.key(format_args!(
            "client: got {reply:?}; a new send: {}",
            match &again {
                Ok(n) => format!("{n} bytes"),
                Err(e) => net::errno_name(e),
            }
        ));
        d.check(
            reply == answer,
            "the half-closed side still reads the answer",
        )?;
        d.check(
            again
                .as_ref()
                .is_err_and(|e| net::is_errno(e, nix::errno::Errno::EPIPE)),
            "only its sending direction is closed (EPIPE)",
        )?;
        Ok(())
    })
}
