//! A name in Linux's abstract socket namespace is a single-instance lock that the kernel releases the moment its holder dies; a PID file outlives a crash and lies.
//!
//! unix(7): "an abstract socket address is distinguished (from a pathname socket) by
//! the fact that sun_path[0] is a null byte ('\0'). [...] The name has no connection
//! with filesystem pathnames." and "Abstract sockets automatically disappear when all
//! open references to the socket are closed." /proc/net/unix shows them with a
//! leading '@'.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use demos::fd::readable_within;
use demos::{Break, IO_TIMEOUT, Observed, Result, brk, peer};
use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, bind, socket};
use nix::unistd::Pid;

/// "At once": the demo's first bind after the kill, with no retry and no wait, comes
/// within this (microseconds on an idle machine; the bound leaves room for a loaded one).
const AT_ONCE: Duration = Duration::from_secs(1);

const BREAKS: &[Break] = &[
    brk(
        "bound-before-fork",
        "the name is bound before the fork: another process holds it too",
    ),
    brk(
        "pathname",
        "a pathname socket in the private directory replaces the abstract name",
    ),
    brk(
        "not-killed",
        "the holder is sent SIGSTOP instead of SIGKILL",
    ),
    brk(
        "second-in-netns",
        "the second instance binds from a network namespace of its own",
    ),
];

/// An AF_UNIX socket bound to the abstract name `name` (or, a name starting with
/// '/', that path): what bind answered.
fn bind_abstract(name: &str) -> Result<Observed<std::io::Result<OwnedFd>>> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("socket(AF_UNIX)")?;
    let addr = if name.starts_with('/') {
        UnixAddr::new(name).context("a path address")?
    } else {
        UnixAddr::new_abstract(name.as_bytes()).context("abstract address")?
    };
    Ok(demos::evidence::call("bind", || {
        bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr).map(|()| fd)
    }))
}

/// How /proc/net/unix lists `@name` ("@name (inode N)"), if it does.
///
/// The file is produced a page at a time, so a reader racing other programs' sockets
/// can miss a line: a name not found is looked for a few more times.
fn proc_net_unix(name: &str) -> Result<Observed<Option<String>>> {
    demos::evidence::read("/proc/net/unix", || proc_net_unix_raw(name))
}

fn proc_net_unix_raw(name: &str) -> Result<Option<String>> {
    let wanted = if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("@{name}")
    };
    for _ in 0..5 {
        let text = std::fs::read_to_string("/proc/net/unix").context("reading /proc/net/unix")?;
        let found = text.lines().find_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.last() == Some(&wanted.as_str()) && cols.len() >= 8)
                .then(|| format!("{wanted} (inode {})", cols[6]))
        });
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The holder: writes its pid file, takes the name, says so, and waits to be killed.
/// (`bind` false: it only inherited the socket its parent bound, `--break`.)
fn holder(pidfile: &Path, name: &str, ready: &mut std::io::PipeWriter, bind: bool) -> Result<()> {
    std::fs::write(pidfile, format!("{}\n", std::process::id())).context("writing the pid file")?;
    let _lock = if bind {
        Some(
            bind_abstract(name)?
                .into_value()
                .context("the holder's bind")?,
        )
    } else {
        None
    };
    ready.write_all(b"!").context("saying ready")?;
    std::thread::sleep(Duration::from_secs(30));
    Ok(())
}

fn main() {
    demos::run(BREAKS, |d| {
        d.expect("the abstract name is freed when its holder dies; the PID file stays behind");
        let dir = demos::private_dir()?;
        let pidfile = dir.path().join("server.pid");
        let name = if d.breaks("pathname") {
            dir.path().join("lock.sock").to_string_lossy().into_owned()
        } else {
            demos::unique_name("lock")
        };

        d.step(format_args!(
            "holder process writes server.pid, binds abstract \"\\0{name}\""
        ));
        let (mut ready_rx, mut ready_tx) = std::io::pipe().context("pipe")?;
        // --break: the name is bound before the fork, so the demo itself holds it too.
        let inherited = if d.breaks("bound-before-fork") {
            Some(
                bind_abstract(&name)?
                    .into_value()
                    .context("binding before the fork")?,
            )
        } else {
            None
        };
        let (path, lock_name, bind) = (pidfile.clone(), name.clone(), inherited.is_none());
        let mut child = peer::fork_fallible("holder", move || {
            holder(&path, &lock_name, &mut ready_tx, bind)
        })?;
        let pid = child.pid();
        anyhow::ensure!(
            readable_within(&ready_rx, IO_TIMEOUT)?,
            "the holder did not take the name"
        );
        let mut byte = [0u8; 1];
        ready_rx.read_exact(&mut byte).context("holder ready")?;
        let listed = proc_net_unix(&name)?;
        d.saw(&listed);

        d.step("a second instance binds the same name");
        let second = if d.breaks("second-in-netns") {
            if !demos::netns::can_create() {
                return Err(d.skip("the second-in-netns break needs root for a namespace"));
            }
            // Abstract names belong to a network namespace: another one has its own.
            demos::netns::NetNs::new()?.run(|| bind_abstract(&name))?
        } else {
            bind_abstract(&name)?
        };
        d.saw(&second);
        d.check(
            listed.value().is_some() && second.failed_with(Errno::EADDRINUSE),
            "while the holder lives the name is taken: one instance only",
        )?;

        d.step(format_args!(
            "SIGKILL the holder (pid {pid}): no cleanup code runs"
        ));
        let killed_at = std::time::Instant::now();
        let stopped = if d.breaks("not-killed") {
            kill(pid, nix::sys::signal::Signal::SIGSTOP).context("SIGSTOP")?;
            true
        } else {
            child.kill();
            false
        };
        let recorded = std::fs::read_to_string(&pidfile).unwrap_or_default();
        let recorded = recorded.trim().to_owned();
        d.said_by("server.pid", format_args!("{recorded:?}"));
        // The file's text is the holder's own writing: a pid that does not parse is a
        // broken experiment, not an answer of the kernel's.
        let recorded: i32 = recorded
            .parse()
            .with_context(|| format!("server.pid holds no pid: {recorded:?}"))?;
        let alive = d.syscall("kill(pid from server.pid, 0)", || {
            kill(Pid::from_raw(recorded), None)
        });
        d.saw(&alive);
        d.check(
            alive.failed_with(Errno::ESRCH),
            "the PID file lies: kill(its pid, 0) says no such process (ESRCH)",
        )?;

        // One look and one bind, no retry: the name must be free the moment the holder
        // is gone (reaped by child.kill() above), not some time later.
        let after = proc_net_unix(&name)?;
        let again = bind_abstract(&name)?;
        let took = killed_at.elapsed();
        d.key_that(&after, "after the holder died");
        d.key_that(&again, "bind again");
        d.derived(format_args!(
            "that bind, our first try, came {} after the SIGKILL",
            demos::human(took)
        ));
        if stopped {
            child.kill();
        }
        d.check(
            after.value().is_none() && again.is_ok() && took < AT_ONCE,
            "the kernel freed the name with the process: the first bind after it died succeeds (well under 1 s after the kill)",
        )?;
        d.detail("kill(pid, 0) cannot rescue a PID file: the pid may already belong to");
        d.detail("  another process. Abstract names are per network namespace, no file.");
        Ok(())
    })
}
