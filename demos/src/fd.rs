//! Descriptor plumbing the file, pipe and socket demos share: what `/proc/self/fd`
//! says a descriptor is, `O_NONBLOCK`, waiting with a timeout, how many bytes sit in a
//! socket's queues, and filling a buffer until the kernel pushes back.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use anyhow::Context;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::{Observed, Result};

/// What `/proc/self/fd/N` points at: a path for a file, `socket:[INODE]` for a
/// socket, `pipe:[INODE]` for a pipe, a path with ` (deleted)` for an unlinked file.
pub fn proc_link(fd: &impl AsRawFd) -> Result<Observed<String>> {
    let path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    crate::evidence::read(format_args!("readlink {path}"), || {
        let target = std::fs::read_link(&path).with_context(|| format!("readlink {path}"))?;
        Ok(target.to_string_lossy().into_owned())
    })
}

/// The inode number `fstat` reports for a descriptor.
pub fn inode(fd: &impl AsFd) -> Result<Observed<u64>> {
    crate::evidence::read("fstat st_ino", || {
        let st = nix::sys::stat::fstat(fd.as_fd()).context("fstat")?;
        Ok(st.st_ino)
    })
}

/// Turns `O_NONBLOCK` on or off with `fcntl(F_SETFL)`, for any kind of descriptor.
pub fn set_nonblocking(fd: &impl AsFd, on: bool) -> Result<()> {
    let bits = fcntl(fd.as_fd(), FcntlArg::F_GETFL).context("fcntl(F_GETFL)")?;
    let mut flags = OFlag::from_bits_retain(bits);
    flags.set(OFlag::O_NONBLOCK, on);
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags)).context("fcntl(F_SETFL)")?;
    Ok(())
}

fn ready_within(fd: &impl AsFd, events: PollFlags, timeout: Duration) -> Result<bool> {
    let ms = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(fd.as_fd(), events)];
    let ready = poll(&mut fds, ms).context("poll")?;
    Ok(ready > 0)
}

/// True when a read would not block (data or EOF) within `timeout`.
pub fn readable_within(fd: &impl AsFd, timeout: Duration) -> Result<bool> {
    ready_within(fd, PollFlags::POLLIN, timeout)
}

/// True when a write would not block within `timeout`.
pub fn writable_within(fd: &impl AsFd, timeout: Duration) -> Result<bool> {
    ready_within(fd, PollFlags::POLLOUT, timeout)
}

/// One `read` that fails instead of blocking when nothing (not even EOF) arrives
/// within `timeout`. Returns what `read` returned: 0 is EOF.
pub fn read_within(
    mut reader: impl io::Read + AsFd,
    buf: &mut [u8],
    timeout: Duration,
) -> Result<usize> {
    anyhow::ensure!(
        readable_within(&reader, timeout)?,
        "nothing to read within {timeout:?}"
    );
    reader.read(buf).context("read")
}

// SIOCINQ (= FIONREAD) and SIOCOUTQ (= TIOCOUTQ): bytes in a socket's queues.
nix::ioctl_read_bad!(siocinq, libc::FIONREAD, libc::c_int);
nix::ioctl_read_bad!(siocoutq, libc::TIOCOUTQ, libc::c_int);

/// Bytes waiting in the receive queue, not yet read (`ioctl(SIOCINQ)`).
pub fn unread(fd: &impl AsRawFd) -> Result<Observed<usize>> {
    crate::evidence::read("ioctl(SIOCINQ)", || {
        let mut n: libc::c_int = 0;
        // SAFETY: SIOCINQ writes one int through the pointer we pass.
        unsafe { siocinq(fd.as_raw_fd(), &mut n) }.context("ioctl(SIOCINQ)")?;
        Ok(usize::try_from(n).unwrap_or(0))
    })
}

/// Bytes in a TCP socket's send queue, not yet acknowledged (`ioctl(SIOCOUTQ)`).
pub fn unsent(fd: &impl AsRawFd) -> Result<Observed<usize>> {
    crate::evidence::read("ioctl(SIOCOUTQ)", || {
        let mut n: libc::c_int = 0;
        // SAFETY: SIOCOUTQ writes one int through the pointer we pass.
        unsafe { siocoutq(fd.as_raw_fd(), &mut n) }.context("ioctl(SIOCOUTQ)")?;
        Ok(usize::try_from(n).unwrap_or(0))
    })
}

/// Writes `chunk`-sized pieces into a non-blocking descriptor until the kernel
/// answers `EAGAIN`; returns how many bytes it accepted in all.
/// The total is the sum of what each `write` returned.
pub fn fill(fd: &impl AsFd, chunk: usize) -> Result<Observed<usize>> {
    let buf = vec![b'x'; chunk];
    let mut total = 0;
    crate::evidence::read("write until EAGAIN", || {
        loop {
            match nix::unistd::write(fd.as_fd(), &buf) {
                Ok(n) => total += n,
                Err(Errno::EAGAIN) => return Ok(total),
                Err(e) => return Err(io::Error::from(e)).context("write until EAGAIN"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_fills_and_reports_itself() {
        let (r, w) = std::io::pipe().unwrap();
        assert!(proc_link(&w).unwrap().value().starts_with("pipe:["));
        assert!(!readable_within(&r, Duration::from_millis(1)).unwrap());
        set_nonblocking(&w, true).unwrap();
        let n = fill(&w, 4096).unwrap().into_value();
        assert!(n >= 4096, "a pipe holds at least one page, took {n}");
        assert!(!writable_within(&w, Duration::ZERO).unwrap());
        assert!(readable_within(&r, Duration::ZERO).unwrap());
        assert_eq!(
            proc_link(&r).unwrap().into_value(),
            proc_link(&w).unwrap().into_value()
        );
    }

    #[test]
    fn read_within_times_out_then_reads() {
        let (r, mut w) = std::io::pipe().unwrap();
        let mut buf = [0u8; 4];
        assert!(read_within(&r, &mut buf, Duration::from_millis(1)).is_err());
        io::Write::write_all(&mut w, b"hi").unwrap();
        assert_eq!(read_within(&r, &mut buf, Duration::ZERO).unwrap(), 2);
        drop(w);
        assert_eq!(read_within(&r, &mut buf, Duration::ZERO).unwrap(), 0);
    }
}
