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
use demos::net::errno_name;
use demos::{IO_TIMEOUT, Result, peer};
use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, bind, socket};
use nix::unistd::Pid;

/// An AF_UNIX socket bound to the abstract name `name`.
fn bind_abstract(name: &str) -> Result<Result<OwnedFd, Errno>> {
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .context("socket(AF_UNIX)")?;
    let addr = UnixAddr::new_abstract(name.as_bytes()).context("abstract address")?;
    Ok(bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr).map(|()| fd))
}

/// How /proc/net/unix lists `@name` ("@name (inode N)"), if it does.
///
/// The file is produced a page at a time, so a reader racing other programs' sockets
/// can miss a line: a name not found is looked for a few more times.
fn proc_net_unix(name: &str) -> Result<Option<String>> {
    let wanted = format!("@{name}");
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
        Some(bind_abstract(name)?.context("the holder's bind")?)
    } else {
        None
    };
    ready.write_all(b"!").context("saying ready")?;
    std::thread::sleep(Duration::from_secs(30));
    Ok(())
}

fn main() {
    demos::run(|d| {
        d.expect("the abstract name is freed when its holder dies; the PID file stays behind");
        let dir = demos::private_dir()?;
        let pidfile = dir.path().join("server.pid");
        let name = demos::unique_name("lock");

        d.step(format_args!(
            "holder process writes server.pid, binds abstract \"\\0{name}\""
        ));
        let (mut ready_rx, mut ready_tx) = std::io::pipe().context("pipe")?;
        // --break: the name is bound before the fork, so the demo itself holds it too.
        let inherited =
            if d.breaks("the name is bound before the fork: another process holds it too") {
                Some(bind_abstract(&name)?.context("binding before the fork")?)
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
        d.saw(format_args!(
            "/proc/net/unix: {}",
            listed.as_deref().unwrap_or("(not listed)")
        ));

        d.step("a second instance binds the same name");
        let second = bind_abstract(&name)?;
        d.saw(format_args!(
            "bind: {}",
            match &second {
                Ok(_) => "ok".to_string(),
                Err(e) => errno_name(&std::io::Error::from(*e)),
            }
        ));
        d.check(
            listed.is_some() && second.as_ref().err() == Some(&Errno::EADDRINUSE),
            "while the holder lives the name is taken: one instance only",
        )?;

        d.step(format_args!(
            "SIGKILL the holder (pid {pid}): no cleanup code runs"
        ));
        child.kill();
        let recorded = std::fs::read_to_string(&pidfile).unwrap_or_default();
        let recorded = recorded.trim();
        let alive = recorded
            .parse::<i32>()
            .map(|p| kill(Pid::from_raw(p), None));
        d.saw(format_args!(
            "server.pid still says {recorded:?}; kill({recorded}, 0) = {}",
            match &alive {
                Ok(Ok(())) => "0 (alive)".to_string(),
                Ok(Err(e)) => errno_name(&std::io::Error::from(*e)),
                Err(_) => "not a pid".to_string(),
            }
        ));
        d.check(
            recorded == pid.to_string() && matches!(alive, Ok(Err(Errno::ESRCH))),
            "the PID file outlived its process: it names a dead pid",
        )?;

        let after = proc_net_unix(&name)?;
        let again = bind_abstract(&name)?;
        d.key(format_args!(
            "/proc/net/unix: {}; bind again: {}",
            after.as_deref().unwrap_or("name gone"),
            match &again {
                Ok(_) => "ok".to_string(),
                Err(e) => errno_name(&std::io::Error::from(*e)),
            }
        ));
        d.check(
            after.is_none() && again.is_ok(),
            "the kernel freed the name with the process: a new instance starts at once",
        )?;
        d.detail("kill(pid, 0) cannot rescue a PID file: the pid may already belong to");
        d.detail("  another process. Abstract names are per network namespace, no file.");
        Ok(())
    })
}
