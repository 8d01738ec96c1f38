//! Becoming an ordinary user, for demos that show what the kernel refuses to one.
//!
//! `setuid` changes every thread of a process, so demos drop privileges only in a
//! forked peer ([`crate::peer::fork`]), never in the demo process itself.

use anyhow::Context;
use nix::unistd::{Gid, Uid, setgid, setgroups, setuid};

use crate::Result;

/// The user and group `nobody` (65534 on Debian and most distributions).
pub const NOBODY: u32 = 65534;

/// Drops every privilege for good: no supplementary groups, gid and uid `nobody`.
/// Does nothing if the process is not root (it is already unprivileged).
/// Call it in a forked peer only.
pub fn drop_to_nobody() -> Result<()> {
    if !crate::is_root() {
        return Ok(());
    }
    setgroups(&[]).context("setgroups([])")?;
    setgid(Gid::from_raw(NOBODY)).context("setgid(nobody)")?;
    setuid(Uid::from_raw(NOBODY)).context("setuid(nobody)")?;
    anyhow::ensure!(
        !crate::is_root() && setuid(Uid::from_raw(0)).is_err(),
        "still privileged after setuid(nobody)"
    );
    Ok(())
}

/// Runs `body` in a forked peer (where it may drop privileges or change namespaces
/// without touching the demo process) and returns the text it produced, or its error.
pub fn in_child(body: impl FnOnce() -> Result<String>) -> Result<String> {
    use std::os::unix::net::UnixDatagram;
    let (ours, theirs) = UnixDatagram::pair().context("socketpair for the child's report")?;
    crate::net::with_timeouts(&ours)?;
    let peer = crate::peer::fork(move || {
        let report = match body() {
            Ok(text) => format!("ok:{text}"),
            Err(e) => format!("error:{e:#}"),
        };
        match theirs.send(report.as_bytes()) {
            Ok(_) => 0,
            Err(_) => crate::exit::ERROR,
        }
    })?;
    let mut buf = vec![0u8; 64 * 1024];
    let n = ours
        .recv(&mut buf)
        .context("receiving the child's report")?;
    peer.wait(crate::IO_TIMEOUT)?;
    let report = String::from_utf8_lossy(&buf[..n]).into_owned();
    match report.split_once(':') {
        Some(("ok", text)) => Ok(text.to_owned()),
        Some(("error", why)) => anyhow::bail!("in the child process: {why}"),
        _ => anyhow::bail!("the child sent a malformed report: {report:?}"),
    }
}
