//! Ancillary data on Unix sockets (unix(7)): messages that carry descriptors
//! (`SCM_RIGHTS`) or credentials (`SCM_CREDENTIALS`) next to their bytes.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::AsRawFd;

use anyhow::Context;
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, UnixAddr, recvmsg, sendmsg};

use crate::Result;

/// Sends `bytes` with control messages on a connected Unix socket.
pub fn send(sock: &impl AsRawFd, bytes: &[u8], cmsgs: &[ControlMessage]) -> nix::Result<usize> {
    sendmsg::<UnixAddr>(
        sock.as_raw_fd(),
        &[IoSlice::new(bytes)],
        cmsgs,
        MsgFlags::empty(),
        None,
    )
}

/// Receives one message into `buf` and the control messages that came with it, with
/// room for `space` bytes of them (make it with `nix::cmsg_space!`).
pub fn recv(
    sock: &impl AsRawFd,
    buf: &mut [u8],
    mut space: Vec<u8>,
) -> Result<(usize, Vec<ControlMessageOwned>)> {
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<UnixAddr>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )
    .context("recvmsg")?;
    anyhow::ensure!(
        !msg.flags.contains(MsgFlags::MSG_CTRUNC),
        "the control messages did not fit (MSG_CTRUNC)"
    );
    let cmsgs = msg
        .cmsgs()
        .context("reading the control messages")?
        .collect();
    Ok((msg.bytes, cmsgs))
}
