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

/// How the server's close looked on the wire, for one case's check.
struct OnWire {
    /// The server's close was the packet expected (`rst`: RST and no FIN; else FIN
    /// and no RST).
    as_expected: bool,
}

impl OnWire {
    /// What the case's check adds when the wire was captured.
    fn claim(w: &Option<OnWire>, rst: bool) -> &'static str {
        match (w, rst) {
            (None, _) => "",
            (Some(_), true) => "; on the wire: RST, and no FIN",
            (Some(_), false) => "; on the wire: FIN, and no RST",
        }
    }

    /// True when not captured (the wire is skipped) or as expected.
    fn holds(w: &Option<OnWire>) -> bool {
        w.as_ref().is_none_or(|w| w.as_expected)
    }
}

/// On the wire: how the server's close reached the client (`rst`: the case expects a
/// RST and no FIN). Records the connection; prints the server's closing packet, as a
/// focus line when `key`. `None` without a capture (no CAP_NET_RAW).
fn close_on_wire(
    d: &Demo,
    w: &Option<Capture>,
    name: &str,
    ends: Ends,
    rst: bool,
    key: bool,
) -> Option<OnWire> {
    let w = w.as_ref()?;
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
        None => d.saw(&wire::read(&seen, |_| {
            "no FIN and no RST from the server".to_owned()
        })),
    }
    let as_expected = if rst {
        r.is_some() && f.is_none()
    } else {
        f.is_some() && r.is_none()
    };
    Some(OnWire { as_expected })
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("close() sends FIN (peer reads EOF), but RST with unread data or SO_LINGER 0");
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
        let on_wire = close_on_wire(d, &w, "read", e, false, false);
        let r = d.syscall("client recv", || client.read(&mut [0u8; 16]));
        d.saw(&r);
        d.check(
            matches!(r.value(), Ok(0)) && OnWire::holds(&on_wire),
            format_args!(
                "a normal close sends FIN: the peer reads end of file{}",
                OnWire::claim(&on_wire, false)
            ),
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
        drop(server);
        settled(&client)?;
        let on_wire = close_on_wire(d, &w, "unread", e, true, true);
        let r = d.syscall("client recv", || client.read(&mut [0u8; 16]));
        d.key(&r);
        d.check(
            r.failed_with(Errno::ECONNRESET) && OnWire::holds(&on_wire),
            format_args!(
                "unread data turns close() into RST: the peer gets ECONNRESET{}",
                OnWire::claim(&on_wire, true)
            ),
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
        let on_wire = close_on_wire(d, &w, "linger", e, true, false);
        let r = d.syscall("client send", || client.write(b"are you there?"));
        d.key(&r);
        d.check(
            r.failed_with(Errno::ECONNRESET) && OnWire::holds(&on_wire),
            format_args!(
                "SO_LINGER 0 aborts: RST, the peer's next send gets ECONNRESET{}",
                OnWire::claim(&on_wire, true)
            ),
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
