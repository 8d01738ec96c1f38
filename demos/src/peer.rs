//! Forked peers: the other end of a conversation, in its own process.
//!
//! Many claims are about processes ("the socket outlives the process", "an unrelated
//! process receives the descriptor"), so the peer must be a real process, not a thread.
//! Every peer is registered, dies with its parent (`PR_SET_PDEATHSIG`), is killed by
//! the watchdog, and is killed and reaped when its [`Peer`] handle is dropped: a demo
//! cannot leave a child behind.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};

use crate::Result;

/// Pids of peers not yet reaped, for the watchdog.
static LIVE: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// A forked child process running a closure.
#[derive(Debug)]
pub struct Peer {
    pid: Pid,
    reaped: bool,
}

/// How a peer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(Signal),
}

/// Forks a child that runs `body` and exits with the code it returns.
///
/// The child shares the parent's descriptors as they are at the fork, which is the
/// point: set up sockets first, then fork. Its stdout is the demo's stdout.
pub fn fork(body: impl FnOnce() -> i32) -> Result<Peer> {
    let parent = nix::unistd::getpid();
    // Anything buffered now would otherwise be printed twice, once by each process.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: the child only runs `body` and then `_exit`s; demos are single-threaded
    // apart from the watchdog, which sleeps and holds no lock.
    match unsafe { nix::unistd::fork() }.context("fork")? {
        ForkResult::Child => {
            // Die with the parent; if the parent died before this took effect, or it
            // cannot take effect, the peer would outlive the demo: end it now.
            let dies_with_parent = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            if dies_with_parent.is_err() || nix::unistd::getppid() != parent {
                if let Err(e) = dies_with_parent {
                    eprintln!("peer: prctl(PR_SET_PDEATHSIG): {e}");
                }
                // SAFETY: _exit as below (nix has no `_exit`; std's `exit` would run the
                // parent's atexit handlers a second time).
                unsafe { libc::_exit(crate::exit::ERROR) };
            }
            let code = body();
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            // SAFETY: _exit skips the parent's atexit handlers, which must not run twice.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            LIVE.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(child.as_raw());
            Ok(Peer {
                pid: child,
                reaped: false,
            })
        }
    }
}

/// [`fork`] for a body that can fail: the peer prints the error on stderr as
/// `WHO: error` and exits with [`crate::exit::ERROR`]; `Ok` exits with 0.
pub fn fork_fallible(who: &'static str, body: impl FnOnce() -> Result<()>) -> Result<Peer> {
    fork(move || match body() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{who}: {e:#}");
            crate::exit::ERROR
        }
    })
}

impl Peer {
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Waits for the peer to exit, at most `timeout`; on timeout it is killed and this
    /// is an error, because a demo's peer that hangs is a bug in the experiment.
    pub fn wait(mut self, timeout: Duration) -> Result<Exit> {
        let deadline = Instant::now() + timeout;
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)).context("waitpid")? {
                WaitStatus::Exited(_, code) => {
                    self.forget();
                    return Ok(Exit::Code(code));
                }
                WaitStatus::Signaled(_, sig, _) => {
                    self.forget();
                    return Ok(Exit::Signal(sig));
                }
                _ if Instant::now() >= deadline => {
                    self.kill();
                    bail!("peer process {} did not exit within {timeout:?}", self.pid);
                }
                _ => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    }

    /// Kills the peer (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if !self.reaped {
            let _ = kill(self.pid, Signal::SIGKILL);
            let _ = waitpid(self.pid, None);
            self.forget();
        }
    }

    fn forget(&mut self) {
        self.reaped = true;
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|&p| p != self.pid.as_raw());
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills and reaps every peer still running (the harness's cleanup at exit, and the
/// watchdog's last act).
pub(crate) fn reap_all() {
    let live: Vec<i32> = std::mem::take(&mut *LIVE.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in live {
        let pid = Pid::from_raw(pid);
        let _ = kill(pid, Signal::SIGKILL);
        let _ = waitpid(pid, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_exit_code_is_reported() {
        let p = fork(|| 7).unwrap();
        assert_eq!(p.wait(Duration::from_secs(2)).unwrap(), Exit::Code(7));
    }

    #[test]
    fn a_hanging_peer_is_killed_at_the_timeout() {
        let p = fork(|| {
            std::thread::sleep(Duration::from_secs(30));
            0
        })
        .unwrap();
        let pid = p.pid();
        let err = p.wait(Duration::from_millis(50)).unwrap_err();
        assert!(err.to_string().contains("did not exit"), "{err}");
        // Reaped: the pid no longer names our child.
        assert!(waitpid(pid, Some(WaitPidFlag::WNOHANG)).is_err());
    }

    #[test]
    fn dropping_a_peer_kills_it() {
        let p = fork(|| {
            std::thread::sleep(Duration::from_secs(30));
            0
        })
        .unwrap();
        let pid = p.pid();
        drop(p);
        assert!(waitpid(pid, Some(WaitPidFlag::WNOHANG)).is_err());
    }
}
