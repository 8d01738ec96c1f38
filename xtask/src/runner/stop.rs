//! Ctrl-C, SIGTERM and SIGHUP for the commands that run demos (`present`, `capture`).
//!
//! The first signal kills every running demo with all it started, refuses new runs,
//! and asks the command to wind down (end its event streams, store nothing more); the
//! second exits at once. The handlers stay installed for the whole life of the process
//! (a handler that replaces the default one and then stops listening is how a second
//! Ctrl-C used to do nothing); they only wake a thread of our own.

use anyhow::{Context, Result};
use tokio::signal::unix::{SignalKind, signal};

use super::jail;

/// The exit status after a second signal (128 + SIGINT, as shells report it).
const EXIT_AT_ONCE: i32 = 130;

/// Takes over the stop signals; returns once they are caught. `on_first` runs on the
/// first signal, after every run has been killed.
pub fn on_stop(on_first: impl FnOnce() + Send + 'static) -> Result<()> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("stop-signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            {
                Ok(r) => r,
                Err(e) => return drop(ready_tx.send(Err(e))),
            };
            runtime.block_on(async move {
                let streams = [
                    SignalKind::interrupt(),
                    SignalKind::terminate(),
                    SignalKind::hangup(),
                ]
                .map(signal);
                let [Ok(mut int), Ok(mut term), Ok(mut hup)] = streams else {
                    let _ = ready_tx.send(Err(std::io::Error::other("installing handlers")));
                    return;
                };
                let _ = ready_tx.send(Ok(()));
                let mut next = async || {
                    tokio::select! {
                        _ = int.recv() => "SIGINT",
                        _ = term.recv() => "SIGTERM",
                        _ = hup.recv() => "SIGHUP",
                    }
                };
                let first = next().await;
                eprintln!("\n{first}: stopping the demos (again to quit at once)");
                jail::kill_all();
                on_first();
                next().await;
                jail::kill_all();
                std::process::exit(EXIT_AT_ONCE);
            });
        })
        .context("starting the signal thread")?;
    ready_rx
        .recv()
        .context("the signal thread ended early")?
        .context("catching SIGINT, SIGTERM and SIGHUP")
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    use crate::runner::jail;
    use crate::runner::tests::pids_with;

    const CHILD_ENV: &str = "EYKIW_STOP_TEST";

    /// The stand-in for `present`/`capture`, run in a process of its own by the tests
    /// below: starts a demo whose descendants leave its session, then waits.
    #[test]
    #[ignore = "run as a child process by the stop-signal tests"]
    fn child_with_a_running_demo() {
        let Ok(marker) = std::env::var(CHILD_ENV) else {
            return;
        };
        let exit_on_first = marker.ends_with('1');
        super::on_stop(move || {
            if exit_on_first {
                std::process::exit(0);
            }
        })
        .unwrap();
        let script = format!("setsid sh -c 'sleep {marker}' & sleep {marker}; wait");
        let (_rx, _cancel) = crate::runner::start(
            std::path::Path::new("/bin/sh"),
            &["-c".into(), script],
            &[],
            Duration::from_secs(30),
        )
        .unwrap();
        std::thread::sleep(Duration::from_secs(20));
    }

    /// Starts the child and waits until its demo's two sleepers run.
    fn child(marker: &str) -> std::process::Child {
        let child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "runner::stop::tests::child_with_a_running_demo",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_ENV, marker)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while sleepers(marker) < 2 && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(sleepers(marker), 2, "the child's demo did not start");
        child
    }

    fn sleepers(marker: &str) -> usize {
        pids_with(marker)
            .into_iter()
            .filter(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            })
            .count()
    }

    /// Waits for the child to exit; its exit code and how long after `since` it came.
    fn exit_of(child: &mut std::process::Child, since: Instant) -> Option<(Option<i32>, Duration)> {
        while since.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(status)) = child.try_wait() {
                return Some((status.code(), since.elapsed()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        let _ = child.wait();
        None
    }

    fn clean_up(marker: &str) -> usize {
        let left = pids_with(marker);
        for &pid in &left {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        left.len()
    }

    #[test]
    fn sigterm_kills_every_demo_and_all_it_started() {
        let marker = "34.0301";
        let mut c = child(marker);
        let t0 = Instant::now();
        kill(Pid::from_raw(c.id() as i32), Signal::SIGTERM).unwrap();
        let exit = exit_of(&mut c, t0);
        while sleepers(marker) > 0 && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let stopped_in = t0.elapsed();
        let left = clean_up(marker);
        eprintln!("SIGTERM: process exited {exit:?}, demos gone after {stopped_in:?}, {left} left");
        assert_eq!(left, 0, "descendants outlived a SIGTERM");
        assert!(exit.is_some(), "the process did not exit");
    }

    #[test]
    fn a_second_ctrl_c_exits_at_once() {
        let marker = "34.0402";
        let mut c = child(marker);
        let pid = Pid::from_raw(c.id() as i32);
        kill(pid, Signal::SIGINT).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            matches!(c.try_wait(), Ok(None)),
            "the first Ctrl-C only winds down"
        );
        let t0 = Instant::now();
        kill(pid, Signal::SIGINT).unwrap();
        let exit = exit_of(&mut c, t0);
        let left = clean_up(marker);
        eprintln!("second Ctrl-C: exit {exit:?}, {left} left");
        assert_eq!(left, 0, "descendants outlived two Ctrl-Cs");
        let (code, took) = exit.expect("the second Ctrl-C did not end the process");
        assert_eq!(code, Some(130));
        // A hang detector, not a benchmark: the measured time is printed above.
        assert!(took < Duration::from_secs(3), "{took:?}");
    }

    #[test]
    fn after_a_sigkill_of_xtask_nothing_it_started_is_left() {
        let marker = "34.0503";
        let demo = format!("setsid sh -c 'sleep {marker}'");
        // Probed (and stale runs cleaned) now, so that only the watchdog acts below.
        let cgroups = matches!(jail::mechanism(), jail::Mechanism::Cgroup(_));
        let mut c = child(marker);
        assert_eq!(pids_with(&demo).len(), 1, "the demo runs");
        kill(Pid::from_raw(c.id() as i32), Signal::SIGKILL).unwrap();
        let _ = c.wait();
        // The demo itself (the shell whose command line says `setsid`) had
        // PR_SET_PDEATHSIG. What it started is killed by xtask's watchdog (cgroups), or
        // carries its mark until the next xtask looks (the fallback).
        let t0 = Instant::now();
        while !pids_with(&demo).is_empty() && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let demo_left = pids_with(&demo).len();
        // With cgroups, xtask's watchdog kills them all as soon as xtask is gone.
        while cgroups && sleepers(marker) > 0 && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let after_sigkill = sleepers(marker);
        jail::clean_stale_runs();
        let left = clean_up(marker);
        eprintln!(
            "SIGKILL: demo left {demo_left}, {after_sigkill} sleeper(s) outlived xtask, {left} after the next start"
        );
        assert_eq!(demo_left, 0, "the demo did not die with its parent");
        if cgroups {
            assert_eq!(
                after_sigkill, 0,
                "the watchdog did not kill what the demo started"
            );
        }
        assert_eq!(
            left, 0,
            "the next start did not clean up what a killed xtask left"
        );
    }
}
