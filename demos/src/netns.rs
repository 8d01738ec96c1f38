//! Private network namespaces that cannot outlive the demo.
//!
//! A [`NetNs`] is an unnamed namespace held only by a descriptor of this process: no
//! `ip netns add`, no bind mount under `/run/netns`. When the demo exits, however it
//! exits (even killed by its watchdog), the kernel closes the descriptor and frees the
//! namespace with every interface, address and queue inside it.
//!
//! The network namespace is a per-thread attribute, so work inside the namespace runs
//! on a short-lived thread that has joined it ([`NetNs::run`]). A socket belongs to the
//! namespace it was created in and keeps working from any thread afterwards; a command
//! started from that thread ([`NetNs::cmd`]) inherits the namespace.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::process::Command;

use anyhow::{Context, bail};
use nix::sched::{CloneFlags, setns, unshare};

use crate::Result;

/// A network namespace of our own, alive as long as this value (or a socket in it).
#[derive(Debug)]
pub struct NetNs {
    fd: File,
}

impl NetNs {
    /// Creates a new, empty network namespace (only `lo`, and it is down). Needs
    /// CAP_SYS_ADMIN.
    pub fn new() -> Result<NetNs> {
        let fd = std::thread::scope(|s| {
            s.spawn(|| -> Result<File> {
                unshare(CloneFlags::CLONE_NEWNET).context("unshare(CLONE_NEWNET)")?;
                File::open("/proc/thread-self/ns/net").context("opening /proc/thread-self/ns/net")
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the namespace thread panicked"))?
        })?;
        Ok(NetNs { fd })
    }

    /// Runs `f` on a thread inside the namespace and returns its result.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        std::thread::scope(|s| {
            s.spawn(|| -> Result<T> {
                setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET)
                    .context("setns into the demo's network namespace")?;
                f()
            })
            .join()
            .map_err(|_| anyhow::anyhow!("a thread inside the namespace panicked"))?
        })
    }

    /// Joins the namespace with the calling thread for good. For a forked peer,
    /// whose only thread then lives inside it.
    pub fn enter(&self) -> Result<()> {
        setns(self.fd.as_fd(), CloneFlags::CLONE_NEWNET)
            .context("setns into the demo's network namespace")?;
        Ok(())
    }

    /// A path that names this namespace to other programs for as long as it lives,
    /// e.g. for `ip link set DEV netns PATH`.
    pub fn path(&self) -> String {
        format!("/proc/{}/fd/{}", std::process::id(), self.fd.as_raw_fd())
    }

    /// Runs a command (e.g. `ip`, `tc`) inside the namespace; fails with its stderr
    /// when it fails.
    pub fn cmd(&self, program: &str, args: &[&str]) -> Result<String> {
        let line = format!("{program} {}", args.join(" "));
        let out = self
            .run(|| {
                Command::new(program)
                    .args(args)
                    .output()
                    .with_context(|| format!("running {line}"))
            })
            .with_context(|| format!("inside the namespace: {line}"))?;
        if !out.status.success() {
            bail!(
                "{line} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Brings the namespace's loopback interface up (it starts down).
    pub fn loopback_up(&self) -> Result<()> {
        self.cmd("ip", &["link", "set", "lo", "up"]).map(drop)
    }

    /// Writes a sysctl of this namespace, e.g. `net/ipv4/ping_group_range`.
    pub fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        let path = format!("/proc/sys/{key}");
        self.run(|| {
            std::fs::write(&path, value).with_context(|| format!("writing {value:?} to {path}"))
        })
    }

    /// Reads a sysctl of this namespace.
    pub fn read_sysctl(&self, key: &str) -> Result<String> {
        let path = format!("/proc/sys/{key}");
        self.run(|| {
            std::fs::read_to_string(&path)
                .map(|s| s.trim().to_owned())
                .with_context(|| format!("reading {path}"))
        })
    }
}

/// Moves the calling thread (a demo's main thread, before it opens any socket) into a
/// network namespace of its own with `lo` up, when this process may (root): then its
/// loopback traffic, its packet capture and its counters are its own, and no other
/// demo running at the same time can crowd them (a capture on a shared `lo` drops
/// packets when another demo floods it). Threads and processes started afterwards
/// inherit it; the namespace goes with the process. Returns whether it moved; an
/// ordinary user stays where it is.
pub fn isolate() -> Result<bool> {
    if !can_create() {
        return Ok(false);
    }
    unshare(CloneFlags::CLONE_NEWNET).context("unshare(CLONE_NEWNET)")?;
    loopback_up_here().context("bringing lo up in the demo's own namespace")?;
    Ok(true)
}

/// `ip link set lo up` for the calling thread's namespace, with SIOCSIFFLAGS.
fn loopback_up_here() -> std::io::Result<()> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    // SAFETY: an all-zero ifreq is valid; the name is set below, NUL-terminated.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: `ifr` is a valid ifreq for SIOCGIFFLAGS/SIOCSIFFLAGS on a live socket.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe { ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &ifr) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// True when this process may create network namespaces and configure them
/// (CAP_SYS_ADMIN and CAP_NET_ADMIN in effect; in practice: root).
pub fn can_create() -> bool {
    fn has(cap: u32) -> bool {
        let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
            return false;
        };
        status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .is_some_and(|eff| eff & (1 << cap) != 0)
    }
    // capability(7) numbers: CAP_NET_ADMIN 12, CAP_SYS_ADMIN 21.
    has(21) && has(12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_namespace_has_its_own_sysctls() {
        if !can_create() {
            return;
        }
        let key = "/proc/sys/net/ipv4/ping_group_range";
        let host = std::fs::read_to_string(key).unwrap();
        let other = if host.trim() == "0\t0" { "1 0" } else { "0 0" };
        let ns = NetNs::new().unwrap();
        ns.sysctl("net/ipv4/ping_group_range", other).unwrap();
        assert_eq!(
            ns.read_sysctl("net/ipv4/ping_group_range").unwrap(),
            other.replace(' ', "\t")
        );
        assert_eq!(
            std::fs::read_to_string(key).unwrap(),
            host,
            "the host's sysctl must not change"
        );
        ns.loopback_up().unwrap();
        let links = ns.cmd("ip", &["-o", "link"]).unwrap();
        assert_eq!(links.lines().count(), 1, "{links}");
    }
}
