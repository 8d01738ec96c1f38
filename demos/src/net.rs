//! Loopback plumbing the socket demos share: listeners on port 0, timeouts on every
//! socket, and errno names as a slide prints them.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};

use anyhow::Context;
use socket2::SockRef;

use crate::{IO_TIMEOUT, Result};

/// 127.0.0.1, port 0: the kernel picks a free port, so demos can run side by side.
pub const LOOPBACK_ANY_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// Gives a socket read and write timeouts, so no send or recv can block forever.
pub fn with_timeouts<'s>(socket: impl Into<SockRef<'s>>) -> Result<()> {
    let sock = socket.into();
    sock.set_read_timeout(Some(IO_TIMEOUT))
        .context("setting SO_RCVTIMEO")?;
    sock.set_write_timeout(Some(IO_TIMEOUT))
        .context("setting SO_SNDTIMEO")?;
    Ok(())
}

/// A TCP listener on 127.0.0.1 with a kernel-chosen port.
pub fn tcp_listener() -> Result<(TcpListener, SocketAddr)> {
    let listener =
        TcpListener::bind(LOOPBACK_ANY_PORT).context("binding a TCP listener on 127.0.0.1:0")?;
    let addr = listener
        .local_addr()
        .context("getsockname on the listener")?;
    Ok((listener, addr))
}

/// A connected pair of TCP streams over loopback (client, server side), with timeouts.
pub fn tcp_pair() -> Result<(TcpStream, TcpStream)> {
    let (listener, addr) = tcp_listener()?;
    let client = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .with_context(|| format!("connecting to {addr}"))?;
    let (server, _) = accept_timeout(&listener)?;
    with_timeouts(&client)?;
    with_timeouts(&server)?;
    Ok((client, server))
}

/// `accept` that gives up after [`IO_TIMEOUT`] instead of blocking forever.
pub fn accept_timeout(listener: &TcpListener) -> Result<(TcpStream, SocketAddr)> {
    use std::os::fd::AsFd;
    let mut fds = [nix::poll::PollFd::new(
        listener.as_fd(),
        nix::poll::PollFlags::POLLIN,
    )];
    let ms = u16::try_from(IO_TIMEOUT.as_millis()).unwrap_or(u16::MAX);
    let ready = nix::poll::poll(&mut fds, ms).context("poll on the listener")?;
    anyhow::ensure!(ready > 0, "no client connected within {IO_TIMEOUT:?}");
    // Non-blocking for this one call: a connection reset between poll and accept is
    // gone from the queue, and a blocking accept would then wait for the next client.
    // (The accepted socket does not inherit O_NONBLOCK on Linux.)
    listener
        .set_nonblocking(true)
        .context("O_NONBLOCK on the listener")?;
    let accepted = listener.accept();
    listener
        .set_nonblocking(false)
        .context("clearing O_NONBLOCK on the listener")?;
    accepted.context("accept after poll said a client was waiting")
}

/// getsockopt(TCP_INFO) on a TCP socket (tcp(7)): the kernel's view of the connection
/// (its state, congestion window, RTO, retransmissions).
pub fn tcp_info(conn: &impl std::os::fd::AsRawFd) -> Result<crate::Observed<libc::tcp_info>> {
    crate::evidence::read("TCP_INFO", || tcp_info_raw(conn))
}

fn tcp_info_raw(conn: &impl std::os::fd::AsRawFd) -> Result<libc::tcp_info> {
    // SAFETY: an all-zero tcp_info is a valid value of plain integers.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `info`.
    let r = unsafe {
        libc::getsockopt(
            conn.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error()).context("getsockopt(TCP_INFO)");
    }
    Ok(info)
}

/// A UDP socket on 127.0.0.1 with a kernel-chosen port and timeouts.
pub fn udp_socket() -> Result<(UdpSocket, SocketAddr)> {
    let sock = UdpSocket::bind(LOOPBACK_ANY_PORT).context("binding a UDP socket on 127.0.0.1:0")?;
    with_timeouts(&sock)?;
    let addr = sock.local_addr().context("getsockname on the UDP socket")?;
    Ok((sock, addr))
}

/// An errno as a slide shows it: `EADDRINUSE (errno 98: Address in use)`.
pub fn errno_name(err: &io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => {
            let errno = nix::errno::Errno::from_raw(code);
            format!("{errno:?} (errno {code}: {})", errno.desc())
        }
        None => err.to_string(),
    }
}

/// True when the error is exactly this errno.
pub fn is_errno(err: &io::Error, errno: nix::errno::Errno) -> bool {
    err.raw_os_error() == Some(errno as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_read_like_the_man_page() {
        let e = io::Error::from_raw_os_error(libc::EADDRINUSE);
        assert_eq!(
            errno_name(&e),
            "EADDRINUSE (errno 98: Address already in use)"
        );
        assert!(is_errno(&e, nix::errno::Errno::EADDRINUSE));
    }

    #[test]
    fn tcp_pair_is_connected() {
        use std::io::{Read, Write};
        let (mut c, mut s) = tcp_pair().unwrap();
        c.write_all(b"hi").unwrap();
        let mut buf = [0; 2];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
    }
}
