//! Running one demo binary and hearing everything it says, as it says it.
//!
//! Capture stores what it hears in a transcript; the presenter's server streams it to
//! the slide. Both get the same events: output chunks stamped with their time and
//! stream, in the order they were read, then the exit. Each run is contained in a
//! [`jail`] (a cgroup v2 of its own where Linux allows it), so a timeout, a cancelled
//! run or the end of the demo kills the demo and every process it started, including
//! those that left its process group or session, and nothing is left behind.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use contract::{Chunk, Outcome, Status, Stream};

pub mod jail;
pub mod stop;

use jail::Jail;

/// What a running demo reports.
#[derive(Debug, Clone)]
pub enum Event {
    Output(Chunk),
    /// The last event of a run.
    Exit {
        outcome: Outcome,
        duration_ms: u64,
        /// The demo printed more than the output cap and was stopped there.
        truncated: bool,
    },
}

/// How long the pipe readers may take after the demo's jail is empty. Nothing should
/// hold a pipe then; if something does, it does not hold the run.
const DRAIN: Duration = Duration::from_secs(1);

/// At most this many events wait for a slow consumer; then the readers wait, the
/// pipes fill and the demo blocks: memory per run stays bounded.
const QUEUE: usize = 32;

/// Bytes of output a run may print before it is stopped (`DEMO_MAX_OUTPUT` overrides).
pub const MAX_OUTPUT: usize = 4 << 20;

/// The output cap: `DEMO_MAX_OUTPUT` (bytes) if set and valid, else [`MAX_OUTPUT`].
pub fn max_output() -> usize {
    std::env::var("DEMO_MAX_OUTPUT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(MAX_OUTPUT)
}

/// A handle to stop a running demo early (a closed page, a Ctrl-C).
#[derive(Debug, Clone)]
pub struct Cancel {
    jail: Arc<Jail>,
    state: Arc<Mutex<RunState>>,
}

#[derive(Debug, Default)]
struct RunState {
    finished: bool,
    cancelled: bool,
    truncated: bool,
}

impl Cancel {
    /// Kills the demo and everything it started, unless the run is already over.
    pub fn cancel(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.finished {
            state.cancelled = true;
            drop(state);
            self.jail.kill();
        }
    }
}

/// Starts `binary args...` with the default output cap; see [`start_capped`].
pub fn start(
    binary: &Path,
    args: &[String],
    envs: &[(&str, &str)],
    limit: Duration,
) -> Result<(mpsc::Receiver<Event>, Cancel)> {
    start_capped(binary, args, envs, limit, max_output())
}

/// Starts `binary args...` and returns its events and a way to stop it. The run is
/// killed once `limit` has passed (then it reports `TimedOut`) or once it printed more
/// than `cap` bytes (then `Error`, truncated).
pub fn start_capped(
    binary: &Path,
    args: &[String],
    envs: &[(&str, &str)],
    limit: Duration,
    cap: usize,
) -> Result<(mpsc::Receiver<Event>, Cancel)> {
    let mut cmd = Command::new(binary);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A group of its own, so a terminal's Ctrl-C reaches xtask, which then ends the
        // run itself, rather than the demo half-way.
        .process_group(0);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let jail = Jail::new(&mut cmd).with_context(|| format!("a jail for {}", binary.display()))?;
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let cancel = Cancel {
        jail,
        state: Arc::new(Mutex::new(RunState::default())),
    };
    if jail::stopping() {
        // A Ctrl-C came between the jail and the spawn; the jail was emptied before.
        cancel.cancel();
    }
    let (tx, rx) = mpsc::sync_channel(QUEUE);
    let sink = Arc::new(Mutex::new(Sink {
        tx: tx.clone(),
        started,
        left: cap,
        cap,
        cancel: cancel.clone(),
    }));
    let pipes = [
        (
            Stream::Stdout,
            child.stdout.take().map(|p| Box::new(p) as Pipe),
        ),
        (
            Stream::Stderr,
            child.stderr.take().map(|p| Box::new(p) as Pipe),
        ),
    ];
    let readers: Vec<_> = pipes
        .into_iter()
        .filter_map(|(stream, pipe)| {
            let (sink, pipe) = (Arc::clone(&sink), pipe?);
            Some(std::thread::spawn(move || forward(pipe, stream, &sink)))
        })
        .collect();
    let watched = cancel.clone();
    std::thread::spawn(move || {
        let timed_out = wait_or_kill(&mut child, &watched, started + limit);
        let status = child.wait().ok();
        // The pipes close when the last writer is gone; then the readers finish.
        let drained = Instant::now();
        while readers.iter().any(|r| !r.is_finished()) && drained.elapsed() < DRAIN {
            std::thread::sleep(Duration::from_millis(2));
        }
        let duration_ms = started.elapsed().as_millis() as u64;
        let (cancelled, truncated) = {
            let mut state = watched.state.lock().unwrap_or_else(|e| e.into_inner());
            state.finished = true;
            (state.cancelled, state.truncated)
        };
        let outcome = outcome_of(status, timed_out || cancelled, truncated);
        let _ = tx.send(Event::Exit {
            outcome,
            duration_ms,
            truncated,
        });
    });
    Ok((rx, cancel))
}

type Pipe = Box<dyn Read + Send>;

/// Waits for the demo to exit or the deadline to pass, then kills whatever is left
/// of the run (the demo's forked peers must not outlive it). True if it timed out.
fn wait_or_kill(child: &mut Child, cancel: &Cancel, deadline: Instant) -> bool {
    let timed_out = loop {
        match child.try_wait() {
            Ok(None) if Instant::now() >= deadline => break true,
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            _ => break false,
        }
    };
    cancel.jail.kill();
    timed_out
}

/// Where both readers deliver: one lock, so chunks are stamped and queued in the
/// order they were read, and the output cap counts both streams.
struct Sink {
    tx: mpsc::SyncSender<Event>,
    started: Instant,
    /// Bytes still allowed, of `cap`.
    left: usize,
    cap: usize,
    cancel: Cancel,
}

impl Sink {
    /// Queues `text`; false when nobody listens any more.
    fn deliver(&mut self, stream: Stream, mut text: String) -> bool {
        if self.left == 0 {
            return true; // over the cap: the run is being killed; drain to the end
        }
        if text.len() > self.left {
            let mut cut = self.left;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(&format!(
                "\n[output stopped: more than {} bytes]\n",
                self.cap
            ));
            self.left = 0;
            self.cancel
                .state
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .truncated = true;
            self.cancel.jail.kill();
        } else {
            self.left -= text.len();
        }
        let at_ms = self.started.elapsed().as_millis() as u64;
        self.tx
            .send(Event::Output(Chunk {
                at_ms,
                stream,
                text,
            }))
            .is_ok()
    }
}

fn outcome_of(
    status: Option<std::process::ExitStatus>,
    killed_by_us: bool,
    truncated: bool,
) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    let code = status.and_then(|s| s.code());
    let signal = status.and_then(|s| s.signal());
    let status = if truncated {
        Status::Error
    } else if killed_by_us {
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

/// Reads a pipe until EOF, delivering each read as a chunk of text. A UTF-8 sequence
/// cut by a read boundary is carried over to the next read instead of being mangled.
fn forward(mut pipe: Pipe, stream: Stream, sink: &Mutex<Sink>) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut listened = true;
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let text = take_text(&mut pending, false);
        if listened && !text.is_empty() {
            listened = sink
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .deliver(stream, text);
        }
    }
    let text = take_text(&mut pending, true);
    if listened && !text.is_empty() {
        sink.lock()
            .unwrap_or_else(|e| e.into_inner())
            .deliver(stream, text);
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
    use nix::sys::signal::Signal;
    use nix::unistd::Pid;

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
            &["-c".into(), "sleep 30.4242 & sleep 30.4243; wait".into()],
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
        assert_eq!(
            pids_with("30.4242"),
            Vec::<i32>::new(),
            "the forked sleeper outlived the run"
        );
    }

    /// Drains every event until the channel closes, as capture does, or gives up.
    fn drain_within(rx: mpsc::Receiver<Event>, within: Duration) -> Option<Vec<Event>> {
        let (done_tx, done_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done_tx.send(rx.into_iter().collect::<Vec<_>>());
        });
        done_rx.recv_timeout(within).ok()
    }

    #[test]
    fn a_run_whose_setsid_descendant_holds_the_pipes_ends_at_the_limit_not_with_the_descendant() {
        let t0 = Instant::now();
        let (rx, _) = start(
            Path::new("/bin/sh"),
            &[
                "-c".into(),
                "setsid sh -c 'sleep 33.5151 & sleep 33.5152' & echo hi; sleep 33.5153".into(),
            ],
            &[],
            Duration::from_millis(300),
        )
        .unwrap();
        // The descendant sleeps 33 s: 10 s tells "ends at the limit" from "waits for it"
        // on a loaded machine (it took 0.3 s here); the figure is printed below.
        let events = drain_within(rx, Duration::from_secs(10));
        eprintln!(
            "the run ended {:?} after its start (limit 300 ms)",
            t0.elapsed()
        );
        let left = pids_with("33.515");
        for &pid in &left {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let events = events.expect("the event channel stayed open past limit + 2 s");
        eprintln!(
            "run ended {:.0} ms after start (limit 300 ms), {} descendants left",
            t0.elapsed().as_secs_f64() * 1000.0,
            left.len()
        );
        assert!(matches!(events.last(), Some(Event::Exit { .. })));
        assert_eq!(left, Vec::<i32>::new(), "descendants outlived the run");
    }

    #[test]
    fn chunks_of_both_streams_are_in_time_order() {
        for _ in 0..8 {
            let (rx, _) = start(
                Path::new("/bin/sh"),
                &[
                    "-c".into(),
                    "yes o | head -c 3000000 & yes e | head -c 3000000 >&2; wait".into(),
                ],
                &[],
                Duration::from_secs(10),
            )
            .unwrap();
            let mut last = 0;
            for event in rx {
                if let Event::Output(c) = event {
                    assert!(c.at_ms >= last, "{} ms after {last} ms", c.at_ms);
                    last = c.at_ms;
                }
            }
        }
    }

    #[test]
    fn output_beyond_the_cap_stops_the_run_and_is_marked_truncated() {
        let t0 = Instant::now();
        let (rx, _) = start_capped(
            Path::new("/bin/sh"),
            &["-c".into(), "yes 0123456789".into()],
            &[],
            Duration::from_secs(5),
            1 << 20,
        )
        .unwrap();
        let mut bytes = 0;
        let mut exit = None;
        for event in rx {
            match event {
                Event::Output(c) => bytes += c.text.len(),
                Event::Exit {
                    outcome, truncated, ..
                } => exit = Some((outcome, truncated)),
            }
        }
        let (outcome, truncated) = exit.expect("an exit event");
        eprintln!(
            "stopped after {bytes} bytes in {:.0} ms",
            t0.elapsed().as_secs_f64() * 1000.0
        );
        assert!(truncated, "the run is marked truncated");
        assert_eq!(outcome.status, Status::Error);
        assert!(bytes <= (1 << 20) + 200, "{bytes} bytes passed the cap");
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "it ran on past the cap"
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
