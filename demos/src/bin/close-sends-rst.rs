//! close() does not always say goodbye politely: with unread data in the receive queue, or with SO_LINGER {on, 0}, it sends RST and the peer gets ECONNRESET.
//!
//! RFC 1122, 4.2.2.13: "If such a host issues a CLOSE call while received data is still
//! pending in TCP, or if new data is received after CLOSE is called, its TCP SHOULD
//! send a RST to show that data was lost." socket(7), `SO_LINGER`: "When enabled, a
//! close(2) or shutdown(2) will not return until all queued messages for the socket
//! have been successfully sent or the linger timeout has been reached". With a timeout
//! of 0 there is nothing to wait for: Linux's tcp_close() aborts the connection with
//! RST instead of FIN (the man page does not say so; this demo does).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::Context;
use demos::fd::{readable_within, unread};
use demos::net::tcp_pair;
use demos::wire::{self, Capture};
use demos::{Break, Demo, Result, brk};
use nix::errno::Errno;
use socket2::SockRef;

const BREAKS: &[Break] = &[
    brk(
        "drain",
        "in case 2 the server reads the 5 bytes before close()",
    ),
    brk("linger-off", "in case 3 SO_LINGER is off (a plain close)"),
    brk(
        "linger-zero-first",
        "in case 1 the server sets SO_LINGER {on, 0} before its close",
    ),
    brk(
        "late-write",
        "in case 1 the client writes after the server's close, which answers with RST",
    ),
    brk(
        "fin-first",
        "in case 2 the server shuts down its side (FIN) before its close",
    ),
];

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

/// On the wire: how the server's close reached the client. Records the connection,
/// prints the server's closing packet (a focus line when `key`), and checks it: `rst`,
/// the case expects a RST and no FIN from the server; else a FIN and no RST. The check
/// comes before the case's errno check, so that a break which changes both fails here.
/// Nothing without a capture (no CAP_NET_RAW): the errno checks stand alone.
fn close_on_wire(
    d: &mut Demo,
    w: &Option<Capture>,
    name: &str,
    ends: Ends,
    rst: bool,
    key: bool,
) -> Result<()> {
    let Some(w) = w.as_ref() else {
        return Ok(());
    };
    let seen = w.connection(name, ends.0, ends.1);
    let mut conn = seen.value().clone();
    let (r, f) = (
        wire::first(&conn, false, "RST", 0),
        wire::first(&conn, false, "FIN", 0),
    );
    conn.key = r.or(f);
    wire::record(&conn);
    match conn.key.and_then(|k| wire::packet(&seen, k)) {
        Some(packet) if key => d.key(&packet),
        Some(packet) => d.saw(&packet),
        None => d.saw(&wire::read(&seen, |c| {
            let from_server: Vec<String> = c
                .packets
                .iter()
                .filter(|p| !p.from_client)
                .map(|p| p.label())
                .collect();
            format!("server → client: {}", from_server.join(", "))
        })),
    }
    if rst {
        d.check(r.is_some() && f.is_none(), "on the wire: RST, no FIN")
    } else {
        d.check(f.is_some() && r.is_none(), "on the wire: FIN, no RST")
    }
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("close() sends FIN (peer reads EOF), but RST with unread data or SO_LINGER 0");
        // Loopback of its own (as root): the capture sees this demo's packets only.
        demos::netns::isolate()?;
        let w = wire::open(d)?;

        d.step("1. client sends 5 bytes; server reads them all, then close()");
        let (mut client, mut server) = tcp_pair()?;
        let e = ends(&client)?;
        client.write_all(b"hello").context("client send")?;
        server.read_exact(&mut [0u8; 5]).context("server recv")?;
        if d.breaks("linger-zero-first") {
            SockRef::from(&server)
                .set_linger(Some(Duration::ZERO))
                .context("setting SO_LINGER {on, 0}")?;
        }
        drop(server);
        settled(&client)?;
        if d.breaks("late-write") {
            // Data for a closed socket: it answers with RST. The reply is back within
            // the write on loopback; the pause is for a loaded machine.
            let _ = client.write(b"late");
            std::thread::sleep(Duration::from_millis(50));
        }
        close_on_wire(d, &w, "read", e, false, false)?;
        let r = d.syscall("client recv", || client.read(&mut [0u8; 16]));
        d.saw(&r);
        d.check(
            matches!(r.value(), Ok(0)),
            "a normal close sends FIN: the peer reads end of file",
        )?;

        let drain = d.breaks("drain");
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
        d.saw_that(&pending, "unread at the server's close");
        if d.breaks("fin-first") {
            server
                .shutdown(std::net::Shutdown::Write)
                .context("shutdown(SHUT_WR)")?;
        }
        drop(server);
        settled(&client)?;
        close_on_wire(d, &w, "unread", e, true, true)?;
        let r = d.syscall("client recv", || client.read(&mut [0u8; 16]));
        d.saw(&r);
        d.check(
            r.failed_with(Errno::ECONNRESET),
            "unread data turns close() into RST: the peer gets ECONNRESET",
        )?;
        let again = d.syscall("the next client recv", || client.read(&mut [0u8; 16]));
        if d.verbose() {
            d.saw_that(&again, "the error is reported once");
        }

        d.step("3. server sets SO_LINGER {on, 0} and close()s, nothing unread");
        let (mut client, server) = tcp_pair()?;
        let e = ends(&client)?;
        if !d.breaks("linger-off") {
            SockRef::from(&server)
                .set_linger(Some(Duration::ZERO))
                .context("setting SO_LINGER {on, 0}")?;
        }
        drop(server);
        settled(&client)?;
        close_on_wire(d, &w, "linger", e, true, false)?;
        let r = d.syscall("client send", || client.write(b"are you there?"));
        d.saw(&r);
        d.check(
            r.failed_with(Errno::ECONNRESET),
            "SO_LINGER 0 aborts: RST, the peer's next send gets ECONNRESET",
        )?;
        let then = d.syscall("another client send", || client.write(b"still?"));
        if d.verbose() {
            d.saw_that(
                &then,
                "after the reset: SIGPIPE unless ignored, as Rust does",
            );
        }
        Ok(())
    })
}
