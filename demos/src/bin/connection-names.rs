//! A port is not a connection: every socket accept() returns has the listener's own address, and only the 4-tuple (local and peer address) tells the connections apart.
//!
//! socket(7), accept(2): "It extracts the first connection request on the queue of
//! pending connections for the listening socket, sockfd, creates a new connected
//! socket, and returns a new file descriptor referring to that socket. [...] The
//! original socket sockfd is unaffected by this call." getsockname(2) names one end,
//! getpeername(2) the other.

use std::collections::BTreeSet;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;

use anyhow::Context;
use demos::inet::{self, TCP_ESTABLISHED, TCP_LISTEN, TcpEntry};
use demos::net;
use demos::{Break, Evidence, IO_TIMEOUT, brk};

const BREAKS: &[Break] = &[
    brk(
        "own-listeners",
        "each client connects to a listener of its own",
    ),
    brk(
        "one-accepted",
        "the first accepted socket is dup()ed in place of the others",
    ),
    brk(
        "close-listener",
        "the listener is closed before the kernel is asked",
    ),
    brk(
        "other-listener",
        "the clients connect to a second listener, not the first",
    ),
    brk(
        "pairs-reversed",
        "each accepted socket is compared with another client's",
    ),
];

/// getsockname and getpeername of one socket.
struct Names(SocketAddr, SocketAddr);

impl Evidence for Names {
    fn render(&self) -> String {
        format!("{} <- {}", self.0, self.1)
    }
}

const CLIENTS: usize = 3;

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("accepted sockets share the listener's address; the 4-tuple names each one");

        let (listener, addr) = net::tcp_listener()?;
        d.step(format_args!(
            "listen on {addr}; {CLIENTS} clients connect; accept() {CLIENTS} times"
        ));
        let peer = d.syscall("getpeername(listener)", || {
            socket2::SockRef::from(&listener).peer_addr().map(drop)
        });
        d.saw(&peer);
        let own_listeners = d.breaks("own-listeners");
        let other = if d.breaks("other-listener") {
            Some(net::tcp_listener()?)
        } else {
            None
        };
        let one_accepted = d.breaks("one-accepted");
        let mut clients: Vec<TcpStream> = Vec::new();
        let mut accepted = Vec::new();
        let mut extra = Vec::new();
        for _ in 0..CLIENTS {
            let (to, from) = if own_listeners {
                extra.push(net::tcp_listener()?);
                let (l, a) = extra.last().context("a listener")?;
                (*a, l)
            } else if let Some((l, a)) = &other {
                (*a, l)
            } else {
                (addr, &listener)
            };
            let c = TcpStream::connect_timeout(&to, IO_TIMEOUT)
                .with_context(|| format!("connecting to {to}"))?;
            clients.push(c);
            let conn = net::accept_timeout(from)?.0;
            match accepted.first() {
                Some(first) if one_accepted => {
                    accepted.push(TcpStream::try_clone(first).context("dup")?)
                }
                _ => accepted.push(conn),
            }
        }

        let mut tuples = BTreeSet::new();
        let mut mirrored = true;
        if d.breaks("pairs-reversed") {
            clients.reverse();
        }
        for (conn, client) in accepted.iter().zip(&clients) {
            let names = d.syscall(
                format_args!(
                    "getsockname, getpeername of accepted fd {}",
                    conn.as_raw_fd()
                ),
                || Ok::<_, std::io::Error>(Names(conn.local_addr()?, conn.peer_addr()?)),
            );
            d.key(&names);
            let Names(local, remote) = d
                .require(names, "an accepted socket has both names")?
                .into_value();
            mirrored &= client.local_addr().context("client getsockname")? == remote
                && client.peer_addr().context("client getpeername")? == local;
            tuples.insert((local, remote));
        }
        let locals: BTreeSet<SocketAddr> = tuples.iter().map(|&(l, _)| l).collect();
        d.check(
            locals.len() == 1 && locals.contains(&addr),
            format_args!("all {CLIENTS} connected sockets have the local address {addr}"),
        )?;
        d.check(
            tuples.len() == CLIENTS && peer.failed_with(nix::errno::Errno::ENOTCONN),
            "only the peer half of the 4-tuple differs; the listener has no peer at all (ENOTCONN)",
        )?;
        d.check(
            mirrored,
            "each client's getsockname is the server's getpeername, and back",
        )?;

        d.step(format_args!(
            "ask the kernel for every TCP socket on port {} (what ss shows)",
            addr.port()
        ));
        if d.breaks("close-listener") {
            drop(listener);
        }
        let rows = inet::tcp_sockets(addr.port())?.map(|rows| {
            rows.into_iter()
                .filter(|e| e.local == addr)
                .collect::<Vec<TcpEntry>>()
        });
        if d.verbose() {
            d.saw(&rows);
        }
        let count = |state| rows.value().iter().filter(|e| e.state == state).count();
        let (listening, established) = (count(TCP_LISTEN), count(TCP_ESTABLISHED));
        d.derived(format_args!(
            "local {addr}: {listening} LISTEN, {established} ESTABLISHED"
        ));
        d.metric("tcp.connections_on_one_port", established as f64, "sockets");
        d.check(
            listening == 1 && established == CLIENTS,
            "one passive socket and one connected socket per client, all on one port",
        )?;
        Ok(())
    })
}
