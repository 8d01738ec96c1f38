//! close() does not always say goodbye politely: with unread data in the receive queue, or with SO_LINGER {on, 0}, it sends RST and the peer gets ECONNRESET.
//!
//! RFC 1122, 4.2.2.13: "If such a host issues a CLOSE call while received data is still
//! pending in TCP, or if new data is received after CLOSE is called, its TCP SHOULD
//! send a RST to show that data was lost." socket(7), `SO_LINGER`: "When enabled, a
//! close(2) or shutdown(2) will not return until all queued messages for the socket
//! have been successfully sent or the linger timeout has been reached". With a timeout
//! of 0 there is nothing to wait for: Linux's tcp_close() aborts the connection with
//! RST instead of FIN (the man page does not say so; this demo does).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::Context;
use demos::fd::{readable_within, unread};
use demos::net::{errno_name, is_errno, tcp_pair};
use demos::wire::{self, Capture};
use demos::{Demo, Result};
use nix::errno::Errno;
use socket2::SockRef;

/// What the client's next call returned: a byte count or an errno.
fn outcome(r: &io::Result<usize>) -> String {
    match r {
        Ok(0) => "0 (end of file)".to_owned(),
        Ok(n) => format!("{n} (bytes accepted)"),
        Err(e) => errno_name(e),
    }
}

/// Waits until the server's close has reached the client (FIN or RST).
fn settled(client: &TcpStream) -> Result<()> {
    anyhow::ensure!(
        readable_within(client, demos::IO_TIMEOUT)?,
        "the server's close did not reach the client within {:?}",
        demos::IO_TIMEOUT
    );
    Ok(())
}

type Ends = (std::net::SocketAddr, std::net::SocketAddr);

/// The client's and the server's address, read while both are open.
fn ends(c: &TcpStream) -> Result<Ends> {
    Ok((c.local_addr()?, c.peer_addr()?))
}

/// On the wire: how the server's close reached the client. With `rst`, checks for
/// RST and no FIN (the decisive case); otherwise records it and tells it in --verbose.
fn close_on_wire(
    d: &mut Demo,
    w: &Option<Capture>,
    name: &str,
    ends: Ends,
    rst: bool,
) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    let mut conn = w.connection(name, ends.0, ends.1);
    let (r, f) = (
        wire::first(&conn, false, "RST", 0),
        wire::first(&conn, false, "FIN", 0),
    );
    conn.key = r.or(f);
    wire::record(&conn);
    let Some(k) = conn.key else {
        anyhow::ensure!(!rst, "no RST and no FIN on the wire");
        return Ok(());
    };
    let seen = wire::describe(&conn.packets[k]);
    if !rst {
        d.detail(format_args!("on the wire: {seen}"));
        return Ok(());
    }
    d.wire(seen);
    d.check(
        r.is_some() && f.is_none(),
        "on the wire: the server sent RST, and no FIN",
    )
}

fn main() {
    demos::run(|d| {
        d.expect("close() sends FIN (peer reads EOF), but RST with unread data or SO_LINGER 0");
        let w = wire::open(d)?;

        d.step("1. client sends 5 bytes; server reads them all, then close()");
        let (mut client, mut server) = tcp_pair()?;
        let e = ends(&client)?;
        client.write_all(b"hello").context("client send")?;
        server.read_exact(&mut [0u8; 5]).context("server recv")?;
        drop(server);
        settled(&client)?;
        close_on_wire(d, &w, "read", e, false)?;
        let r = client.read(&mut [0u8; 16]);
        d.saw(format_args!("client recv = {}", outcome(&r)));
        d.check(
            matches!(r, Ok(0)),
            "a normal close sends FIN: the peer reads end of file",
        )?;

        let drain = d.breaks("in case 2 the server reads the 5 bytes before close()");
        d.step("2. client sends 5 bytes; server close()s without reading them");
        let (mut client, mut server) = tcp_pair()?;
        let e = ends(&client)?;
        client.write_all(b"hello").context("client send")?;
        anyhow::ensure!(
            readable_within(&server, demos::IO_TIMEOUT)?,
            "the bytes did not arrive"
        );
        if drain {
            server.read_exact(&mut [0u8; 5]).context("server recv")?;
        }
        let pending = unread(&server)?;
        drop(server);
        settled(&client)?;
        close_on_wire(d, &w, "unread", e, true)?;
        let r = client.read(&mut [0u8; 16]);
        d.key(format_args!(
            "server had {pending} unread bytes; client recv = {}",
            outcome(&r)
        ));
        d.check(
            r.as_ref().is_err_and(|e| is_errno(e, Errno::ECONNRESET)),
            "unread data turns close() into RST: the peer gets ECONNRESET",
        )?;
        let again = client.read(&mut [0u8; 16]);
        d.detail(format_args!(
            "the error is reported once: the next recv = {}",
            outcome(&again)
        ));

        d.step("3. server sets SO_LINGER {on, 0} and close()s, nothing unread");
        let (mut client, server) = tcp_pair()?;
        let e = ends(&client)?;
        SockRef::from(&server)
            .set_linger(Some(Duration::ZERO))
            .context("setting SO_LINGER {on, 0}")?;
        drop(server);
        settled(&client)?;
        close_on_wire(d, &w, "linger", e, false)?;
        let r = client.write(b"are you there?");
        d.key(format_args!("client send = {}", outcome(&r)));
        d.check(
            r.as_ref().is_err_and(|e| is_errno(e, Errno::ECONNRESET)),
            "SO_LINGER 0 aborts: RST, the peer's next send gets ECONNRESET",
        )?;
        let then = client.write(b"still?");
        d.detail(format_args!(
            "after the reset, another send = {} (SIGPIPE unless ignored, as Rust does)",
            outcome(&then)
        ));
        Ok(())
    })
}
