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
