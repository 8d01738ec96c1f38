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
use demos::IO_TIMEOUT;
use demos::inet::{self, TCP_ESTABLISHED, TCP_LISTEN, TcpEntry};
use demos::net::{self, errno_name};

const CLIENTS: usize = 3;

fn main() {
    demos::run(|d| {
        d.expect("accepted sockets share the listener's address; the 4-tuple names each one");

        let (listener, addr) = net::tcp_listener()?;
        d.step(format_args!(
            "listen on {addr}; {CLIENTS} clients connect; accept() {CLIENTS} times"
        ));
        let peer = socket2::SockRef::from(&listener).peer_addr();
        d.saw(format_args!(
            "listener fd {}: getsockname {addr}, getpeername {}",
            listener.as_raw_fd(),
            match &peer {
                Ok(p) => format!("{:?}", p.as_socket()),
                Err(e) => errno_name(e),
            }
        ));
        let own_listeners = d.breaks("each client connects to a listener of its own");
        let mut clients: Vec<TcpStream> = Vec::new();
        let mut accepted = Vec::new();
        let mut extra = Vec::new();
        for _ in 0..CLIENTS {
            let (to, from) = if own_listeners {
                extra.push(net::tcp_listener()?);
                let (l, a) = extra.last().context("a listener")?;
                (*a, l)
            } else {
                (addr, &listener)
            };
            let c = TcpStream::connect_timeout(&to, IO_TIMEOUT)
                .with_context(|| format!("connecting to {to}"))?;
            clients.push(c);
            accepted.push(net::accept_timeout(from)?.0);
        }

        let mut tuples = BTreeSet::new();
        let mut mirrored = true;
        for (conn, client) in accepted.iter().zip(&clients) {
            let local = conn.local_addr().context("getsockname")?;
            let remote = conn.peer_addr().context("getpeername")?;
            d.key(format_args!(
                "accepted fd {}: getsockname {local}, getpeername {remote}",
                conn.as_raw_fd()
            ));
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
            tuples.len() == CLIENTS && peer.is_err(),
            "only the peer half of the 4-tuple differs; the listener has no peer at all",
        )?;
        d.check(
            mirrored,
            "each client's getsockname is the server's getpeername, and back",
        )?;

        d.step(format_args!(
            "ask the kernel for every TCP socket on port {} (what ss shows)",
            addr.port()
        ));
        let rows: Vec<TcpEntry> = inet::tcp_sockets(addr.port())?
            .into_iter()
            .filter(|e| e.local == addr)
            .collect();
        let count = |state| rows.iter().filter(|e| e.state == state).count();
        let (listening, established) = (count(TCP_LISTEN), count(TCP_ESTABLISHED));
        d.saw(format_args!(
            "local {addr}: {listening} LISTEN, {established} ESTABLISHED"
        ));
        for e in &rows {
            d.detail(format_args!(
                "{} -> {}  {}",
                e.local,
                e.remote,
                inet::tcp_state_name(e.state)
            ));
        }
        d.metric("tcp.connections_on_one_port", established as f64, "sockets");
        d.check(
            listening == 1 && established == CLIENTS,
            "one passive socket and one connected socket per client, all on one port",
        )?;
        Ok(())
    })
}
