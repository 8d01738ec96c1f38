//! Keeping a demo and everything it starts inside one run, whatever they do.
//!
//! A process group is not enough: a descendant that calls `setsid` (or double-forks
//! into a new session) leaves it, keeps the demo's pipes open and outlives the run.
//! Linux has two ways to hold on to such processes:
//!
//! - **cgroup v2** (preferred): each run gets a cgroup of its own, created under the
//!   cgroup xtask runs in; the demo is moved into it between fork and exec, so every
//!   descendant is born inside, and writing `1` to `cgroup.kill` ends them all at once,
//!   `setsid` or not. Needs a writable cgroup v2 hierarchy (root, or a delegated one).
//! - **fallback**: xtask becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`), so
//!   orphans are re-parented to it rather than to init, and every process of a run
//!   carries a marker in its environment; a kill scans `/proc` for the marker until
//!   none is left, and reaps what it killed.
//!
//! Either way the demo itself gets `PR_SET_PDEATHSIG` (SIGKILL): if xtask dies without a
//! chance to clean up (SIGKILL), the demo dies with it. What the demo started is killed
//! by a watchdog (cgroups: a shell that reads end-of-file on a pipe from xtask when
//! xtask is gone, then kills xtask's run cgroups), or found by its owner's process id
//! and killed when xtask next starts a run (the fallback).

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// The environment variable that marks every process of a run (`OWNERPID-N`).
pub const MARKER_ENV: &str = "EYKIW_RUN";
/// Prefix of the cgroups we create (`eykiw-OWNERPID-N`).
const CGROUP_PREFIX: &str = "eykiw-";
/// How long a kill may take to see every process gone.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// Set once xtask is stopping: no new run may start.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Whether xtask is stopping (a Ctrl-C came).
pub fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Which mechanism this machine gives us; decided once per process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// The cgroup v2 directory new run cgroups are created in.
    Cgroup(PathBuf),
    Subreaper,
}

impl std::fmt::Display for Mechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mechanism::Cgroup(dir) => write!(f, "a cgroup v2 per run under {}", dir.display()),
            Mechanism::Subreaper => f.write_str("child subreaper and an environment marker"),
        }
    }
}

/// The mechanism in use (probed the first time, with stale runs cleaned up).
pub fn mechanism() -> &'static Mechanism {
    static M: OnceLock<Mechanism> = OnceLock::new();
    M.get_or_init(|| {
        let m = match cgroup_base().filter(|b| probe_cgroup(b)) {
            Some(base) => {
                start_watchdog(&base);
                Mechanism::Cgroup(base)
            }
            None => {
                let _ = nix::sys::prctl::set_child_subreaper(true);
                Mechanism::Subreaper
            }
        };
        clean_stale(&m);
        m
    })
}

/// A shell that waits for xtask to die (its stdin is a pipe only xtask writes to, so
/// it reads end-of-file when xtask is gone, however it went) and then kills every run
/// cgroup xtask owned. Without it, a SIGKILLed xtask would leave what its demos started.
fn start_watchdog(base: &Path) {
    static STDIN: OnceLock<std::process::ChildStdin> = OnceLock::new();
    let script = r#"read _ignored; for c in "$0"/eykiw-"$1"-*; do [ -e "$c/cgroup.kill" ] && echo 1 > "$c/cgroup.kill"; done"#;
    let spawned = Command::new("/bin/sh")
        .args(["-c", script])
        .arg(base)
        .arg(std::process::id().to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn();
    if let Ok(mut child) = spawned
        && let Some(stdin) = child.stdin.take()
    {
        // Kept open for the life of the process; never written.
        let _ = STDIN.set(stdin);
    }
}

/// One run's container. Dropping it kills whatever is still inside.
#[derive(Debug)]
pub struct Jail {
    token: String,
    cgroup: Option<PathBuf>,
}

/// Every jail that is alive, so a Ctrl-C can kill them all.
fn live() -> &'static Mutex<HashMap<String, Option<PathBuf>>> {
    static LIVE: OnceLock<Mutex<HashMap<String, Option<PathBuf>>>> = OnceLock::new();
    LIVE.get_or_init(Default::default)
}

impl Jail {
    /// A new, empty jail; `cmd` is set up to start inside it.
    pub fn new(cmd: &mut Command) -> std::io::Result<Arc<Jail>> {
        Jail::with(cmd, mechanism())
    }

    fn with(cmd: &mut Command, mechanism: &Mechanism) -> std::io::Result<Arc<Jail>> {
        if stopping() {
            return Err(std::io::Error::other("stopping: no new runs"));
        }
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let token = format!(
            "{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let cgroup = match mechanism {
            Mechanism::Cgroup(base) => {
                let dir = base.join(format!("{CGROUP_PREFIX}{token}"));
                std::fs::create_dir(&dir)?;
                let procs = File::options().write(true).open(dir.join("cgroup.procs"))?;
                enter_on_exec(cmd, Some(procs));
                Some(dir)
            }
            Mechanism::Subreaper => {
                enter_on_exec(cmd, None);
                None
            }
        };
        cmd.env(MARKER_ENV, &token);
        live()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), cgroup.clone());
        Ok(Arc::new(Jail { token, cgroup }))
    }

    /// Kills every process in the jail and waits (briefly) until they are gone.
    pub fn kill(&self) {
        kill_one(&self.token, self.cgroup.as_deref());
    }

    /// Processes still inside.
    #[cfg(test)]
    pub fn members(&self) -> Vec<i32> {
        match &self.cgroup {
            Some(dir) => cgroup_members(dir),
            None => marked(&self.token),
        }
    }
}

impl Drop for Jail {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.cgroup {
            let _ = std::fs::remove_dir(dir);
        }
        live()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.token);
    }
}

/// Kills every run that is alive and refuses new ones (on Ctrl-C or SIGTERM).
pub fn kill_all() {
    STOPPING.store(true, Ordering::SeqCst);
    let all: Vec<_> = live()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(t, c)| (t.clone(), c.clone()))
        .collect();
    for (token, cgroup) in all {
        kill_one(&token, cgroup.as_deref());
        if let Some(dir) = cgroup {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

fn kill_one(token: &str, cgroup: Option<&Path>) {
    let t0 = Instant::now();
    match cgroup {
        Some(dir) => {
            let _ = std::fs::write(dir.join("cgroup.kill"), "1");
            while !cgroup_members(dir).is_empty() && t0.elapsed() < KILL_WAIT {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        None => loop {
            let pids = marked(token);
            if pids.is_empty() || t0.elapsed() >= KILL_WAIT {
                break;
            }
            for &pid in &pids {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(2));
            // Orphans re-parented to us (the subreaper) must be reaped by us.
            for pid in pids {
                let _ = waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG));
            }
        },
    }
}

/// Sets `cmd` up to join the cgroup (by writing `0`, "myself", to its `cgroup.procs`)
/// and to die with its parent, between fork and exec.
fn enter_on_exec(cmd: &mut Command, procs: Option<File>) {
    let parent = std::process::id() as i32;
    // SAFETY: the closure runs in the forked child of a multithreaded process before
    // exec, where only async-signal-safe calls are allowed: it makes three system calls,
    // write(2), prctl(2) and getppid(2), and allocates nothing: the file was opened
    // before the fork, and every error is a bare errno (`io::Error::from(Errno)` and
    // `from_raw_os_error` store the number inline; `io::Error::other` would box).
    // std sends the child's errno to the parent, which returns it from `spawn`.
    #[allow(unsafe_code)]
    unsafe {
        cmd.pre_exec(move || {
            if let Some(procs) = &procs {
                nix::unistd::write(procs.as_fd(), b"0")?;
            }
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
            // The parent may have died before the line above took effect: ESRCH, "no
            // such process", is the errno `spawn` then returns.
            if nix::unistd::getppid().as_raw() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// The cgroup v2 directory this process is in, if there is a cgroup v2 hierarchy.
fn cgroup_base() -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    // mountinfo: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE SUPER
    let mount = mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2").then(|| left.split(' ').nth(4))?
    })?;
    Some(Path::new(mount).join(rel.trim_start_matches('/')))
}

/// Whether a process can really be started inside a new cgroup there, and killed.
fn probe_cgroup(base: &Path) -> bool {
    let dir = base.join(format!("{CGROUP_PREFIX}{}-probe", std::process::id()));
    if std::fs::create_dir(&dir).is_err() {
        return false;
    }
    let ok = dir.join("cgroup.kill").exists()
        && File::options()
            .write(true)
            .open(dir.join("cgroup.procs"))
            .ok()
            .and_then(|procs| {
                let mut cmd = Command::new("/bin/true");
                enter_on_exec(&mut cmd, Some(procs));
                cmd.status().ok()
            })
            .is_some_and(|s| s.success());
    let _ = std::fs::remove_dir(&dir);
    ok
}

fn cgroup_members(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Processes whose environment holds `EYKIW_RUN=` followed by `token_prefix`.
fn marked(token_prefix: &str) -> Vec<i32> {
    let needle = format!("{MARKER_ENV}={token_prefix}");
    let exact = !token_prefix.ends_with('-');
    proc_pids()
        .filter(|&pid| {
            let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
                return false;
            };
            env.split(|&b| b == 0).any(|var| {
                let var = String::from_utf8_lossy(var);
                if exact {
                    var == needle
                } else {
                    var.starts_with(&needle)
                }
            })
        })
        .collect()
}

fn proc_pids() -> impl Iterator<Item = i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Kills what runs of an xtask that died without cleaning up (SIGKILL) left behind
/// (done once by [`mechanism`]; again whenever called).
#[cfg(test)]
pub fn clean_stale_runs() {
    clean_stale(mechanism());
}

fn clean_stale(m: &Mechanism) {
    match m {
        Mechanism::Cgroup(base) => {
            for entry in std::fs::read_dir(base).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if stale_owner(&name, CGROUP_PREFIX).is_some() {
                    kill_one("", Some(&entry.path()));
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
        Mechanism::Subreaper => {
            let owners: Vec<i32> = proc_pids()
                .filter_map(|pid| std::fs::read(format!("/proc/{pid}/environ")).ok())
                .flat_map(|env| {
                    env.split(|&b| b == 0)
                        .filter_map(|v| {
                            let v = String::from_utf8_lossy(v);
                            stale_owner(&v, &format!("{MARKER_ENV}="))
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            for owner in owners {
                kill_one(&format!("{owner}-"), None);
            }
        }
    }
}

/// The owner pid in `PREFIXOWNER-N`, if that owner is gone.
fn stale_owner(name: &str, prefix: &str) -> Option<i32> {
    let owner: i32 = name.strip_prefix(prefix)?.split('-').next()?.parse().ok()?;
    (owner != std::process::id() as i32 && !alive(owner)).then_some(owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mechanism_is_found_and_reported() {
        let m = mechanism();
        eprintln!("runs are contained with {m}");
        if let Mechanism::Cgroup(base) = m {
            assert!(base.join("cgroup.procs").exists(), "{}", base.display());
        }
    }

    /// Starts a shell whose grandchildren leave its session, and checks `kill` ends all.
    fn holds_a_setsid_grandchild(mechanism: &Mechanism, marker: &str) {
        let mut cmd = Command::new("/bin/sh");
        let script = format!("setsid sh -c 'sleep {marker} & sleep {marker}' & wait");
        cmd.args(["-c", &script]);
        let jail = Jail::with(&mut cmd, mechanism).unwrap();
        let mut child = cmd.spawn().unwrap();
        let t0 = Instant::now();
        let started = || jail.members().len() >= 3 && sleepers(marker) == 2;
        while !started() && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(started(), "{:?}", jail.members());
        let t0 = Instant::now();
        jail.kill();
        let _ = child.wait();
        eprintln!(
            "{mechanism}: all killed in {:.1} ms",
            t0.elapsed().as_secs_f64() * 1000.0
        );
        assert_eq!(jail.members(), Vec::<i32>::new());
        assert_eq!(crate::runner::tests::pids_with(marker), Vec::<i32>::new());
    }

    fn sleepers(marker: &str) -> usize {
        crate::runner::tests::pids_with(marker)
            .into_iter()
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
            .count()
    }

    #[test]
    fn a_jail_holds_a_setsid_grandchild_and_kill_ends_it() {
        holds_a_setsid_grandchild(mechanism(), "32.101");
    }

    #[test]
    fn the_fallback_jail_holds_a_setsid_grandchild_too() {
        holds_a_setsid_grandchild(&Mechanism::Subreaper, "32.102");
    }
}
