//! Running one demo binary and hearing everything it says, as it says it.
//!
//! Capture stores what it hears in a transcript; the presenter's server streams it to
//! the slide. Both get the same events: output chunks stamped with their time and
//! stream, then the exit. Each demo runs in its own process group, so a timeout or a
//! cancelled run kills the demo and every peer it forked, and nothing is left behind.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use transcript::{Chunk, Outcome, Status, Stream};

/// What a running demo reports.
#[derive(Debug, Clone)]
pub enum Event {
    Output(Chunk),
    /// The last event of a run.
    Exit {
        outcome: Outcome,
        duration_ms: u64,
    },
}

/// How long the pipe readers may take after the demo's group is dead. A descendant
/// that left the group (setsid) could hold a pipe open forever; it does not hold the run.
const DRAIN: Duration = Duration::from_secs(1);

/// A handle to stop a running demo early (a closed page, a Ctrl-C).
#[derive(Debug, Clone)]
pub struct Cancel {
    pgid: Pid,
    state: Arc<Mutex<RunState>>,
}

#[derive(Debug, Default)]
struct RunState {
    /// The group leader has been reaped: its id may now name someone else's group.
    finished: bool,
    cancelled: bool,
}

impl Cancel {
    /// Kills the demo's whole process group, unless the run is already over.
    pub fn cancel(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.finished {
            state.cancelled = true;
            let _ = killpg(self.pgid, Signal::SIGKILL);
        }
    }
}

/// Starts `binary args...` and returns its events and a way to stop it. The run is
/// killed (as a group) once `limit` has passed, and then reports `TimedOut`.
pub fn start(
    binary: &Path,
    args: &[String],
    envs: &[(&str, &str)],
    limit: Duration,
) -> Result<(mpsc::Receiver<Event>, Cancel)> {
    let mut cmd = Command::new(binary);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A group of its own: killing the group kills the demo's forked peers too.
        .process_group(0);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let pgid = Pid::from_raw(child.id() as i32);
    let cancel = Cancel {
        pgid,
        state: Arc::new(Mutex::new(RunState::default())),
    };
    let (tx, rx) = mpsc::channel();

    let mut readers = Vec::new();
    for (stream, pipe) in [
        (
            Stream::Stdout,
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
        (
            Stream::Stderr,
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ),
    ] {
        let Some(pipe) = pipe else { continue };
        let tx = tx.clone();
        readers.push(std::thread::spawn(move || {
            forward(pipe, stream, started, tx)
        }));
    }

    let state = Arc::clone(&cancel.state);
    std::thread::spawn(move || {
        let pid = Pid::from_raw(child.id() as i32);
        let mut timed_out = false;
        // Wait for the leader to exit without reaping it: while it is a zombie its id
        // (and so the group's) cannot be reused, so killing the group cannot hit a stranger.
        loop {
            match waitid(
                Id::Pid(pid),
                WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
            ) {
                Ok(WaitStatus::StillAlive) if started.elapsed() >= limit => {
                    timed_out = true;
                    break;
                }
                Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(5)),
                _ => break,
            }
        }
        let status = {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            // Whatever the demo forked shares the group; none may outlive it.
            let _ = killpg(pgid, Signal::SIGKILL);
            let status = child.wait().ok();
            state.finished = true;
            status
        };
        // The pipes close when the last writer is gone; then the readers finish.
        let drained = Instant::now();
        while readers.iter().any(|r| !r.is_finished()) && drained.elapsed() < DRAIN {
            std::thread::sleep(Duration::from_millis(5));
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        let cancelled = state.lock().unwrap_or_else(|e| e.into_inner()).cancelled;
        let outcome = outcome_of(status, timed_out || cancelled);
        let _ = tx.send(Event::Exit {
            outcome,
            duration_ms,
        });
    });
    Ok((rx, cancel))
}

fn outcome_of(status: Option<std::process::ExitStatus>, killed_by_us: bool) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let code = status.and_then(|s| s.code());
    let signal = status.and_then(|s| s.signal());
    let status = if killed_by_us {
        Status::TimedOut
    } else {
        match code {
            Some(c) => Status::from_exit_code(c),
            None => Status::Error,
        }
    };
    Outcome {
        status,
        code,
        signal,
    }
}

/// Reads a pipe until EOF, sending each read as a chunk of text. A UTF-8 sequence cut
/// by a read boundary is carried over to the next read instead of being mangled.
fn forward(
    mut pipe: Box<dyn Read + Send>,
    stream: Stream,
    started: Instant,
    tx: mpsc::Sender<Event>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let at_ms = started.elapsed().as_millis() as u64;
        pending.extend_from_slice(&buf[..n]);
        let text = take_text(&mut pending, false);
        if !text.is_empty() {
            let _ = tx.send(Event::Output(Chunk {
                at_ms,
                stream,
                text,
            }));
        }
    }
    let text = take_text(&mut pending, true);
    if !text.is_empty() {
        let at_ms = started.elapsed().as_millis() as u64;
        let _ = tx.send(Event::Output(Chunk {
            at_ms,
            stream,
            text,
        }));
    }
}

/// Decodes as much of `bytes` as forms whole UTF-8 characters (invalid ones become
/// U+FFFD) and leaves an incomplete trailing sequence in place, unless `at_end`.
fn take_text(bytes: &mut Vec<u8>, at_end: bool) -> String {
    let mut out = String::new();
    let mut rest: &[u8] = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                rest = &[];
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).expect("valid prefix"));
                match e.error_len() {
                    Some(len) => {
                        out.push('\u{fffd}');
                        rest = &bad[len..];
                    }
                    None if at_end => {
                        out.push('\u{fffd}');
                        rest = &[];
                        break;
                    }
                    None => {
                        rest = bad;
                        break;
                    }
                }
            }
        }
    }
    let keep = rest.to_vec();
    *bytes = keep;
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Pids of processes whose command line contains `marker` (test sleepers carry odd
    /// durations such as `sleep 31.777`, so they can be found).
    pub(crate) fn pids_with(marker: &str) -> Vec<i32> {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let pid = e.file_name().to_string_lossy().parse::<i32>().ok()?;
                let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
                String::from_utf8_lossy(&cmdline)
                    .replace('\0', " ")
                    .contains(marker)
                    .then_some(pid)
            })
            .collect()
    }

    #[test]
    fn split_utf8_is_carried_over() {
        let mut b = "é".as_bytes()[..1].to_vec();
        assert_eq!(take_text(&mut b, false), "");
        b.extend_from_slice(&"é".as_bytes()[1..]);
        b.extend_from_slice(b"x");
        assert_eq!(take_text(&mut b, false), "éx");
        assert!(b.is_empty());
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut b = vec![b'a', 0xff, b'b', 0xe2, 0x82];
        assert_eq!(take_text(&mut b, false), "a\u{fffd}b");
        assert_eq!(b, vec![0xe2, 0x82]);
        assert_eq!(take_text(&mut b, true), "\u{fffd}");
    }

    fn collect(rx: mpsc::Receiver<Event>) -> (String, Outcome) {
        let mut text = String::new();
        for ev in rx {
            match ev {
                Event::Output(c) => text.push_str(&c.text),
                Event::Exit { outcome, .. } => return (text, outcome),
            }
        }
        panic!("no exit event");
    }

    #[test]
    fn output_and_exit_code_are_reported() {
        let (rx, _) = start(
            Path::new("/bin/sh"),
            &["-c".into(), "echo out; echo err >&2; exit 77".into()],
            &[],
            Duration::from_secs(5),
        )
        .unwrap();
        let (text, outcome) = collect(rx);
        assert!(text.contains("out\n") && text.contains("err\n"), "{text}");
        assert_eq!(outcome.status, Status::Skipped);
        assert_eq!(outcome.code, Some(77));
    }

    #[test]
    fn the_whole_group_is_killed_at_the_limit() {
        let t0 = Instant::now();
        // The shell forks a sleeper; killing only the shell would leave it behind.
        let (rx, _) = start(
            Path::new("/bin/sh"),
            &["-c".into(), "sleep 30 & sleep 30; wait".into()],
            &[],
            Duration::from_millis(200),
        )
        .unwrap();
        let (_, outcome) = collect(rx);
        assert_eq!(outcome.status, Status::TimedOut);
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "readers did not hang on the orphan's pipe"
        );
    }

    #[test]
    fn a_descendant_that_left_the_group_cannot_hold_the_run_open() {
        let t0 = Instant::now();
        // setsid puts the sleeper in a session (and group) of its own, with our stdout.
        let (rx, _) = start(
            Path::new("/bin/sh"),
            &["-c".into(), "setsid sleep 31.777 & echo bye".into()],
            &[],
            Duration::from_secs(5),
        )
        .unwrap();
        let (text, outcome) = collect(rx);
        assert!(text.contains("bye"));
        assert_eq!(outcome.status, Status::Passed);
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "the run waited for the escaped sleeper"
        );
        // Clean up the escapee ourselves.
        for pid in pids_with("31.777") {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }

    #[test]
    fn cancel_after_the_end_signals_nobody() {
        let (rx, cancel) = start(Path::new("/bin/true"), &[], &[], Duration::from_secs(5)).unwrap();
        let (_, outcome) = collect(rx);
        assert_eq!(outcome.status, Status::Passed);
        cancel.cancel();
        assert!(
            !cancel.state.lock().unwrap().cancelled,
            "a finished run is not cancelled again"
        );
    }
}
