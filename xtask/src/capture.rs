//! `cargo xtask capture`: run demos, several at once, and store what each printed, and
//! when, as a transcript the slides embed.
//!
//! A run that failed does not overwrite a good transcript (the failure is shown
//! instead), and a skipped run only replaces a transcript that was skipped too: a
//! machine without root must not erase the capture made on one with it. Every
//! transcript is checked as the build will check it before it replaces anything, and
//! a Ctrl-C stops the running demos (with all they started) and stores nothing more.

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use contract::{Status, Transcript};

use crate::demos::{self, demos_dir};
use crate::runner::{self, Event};

pub fn run(names: &[String], jobs: usize, limit: Duration) -> Result<ExitCode> {
    // First: from here on a Ctrl-C kills every run and nothing more is stored.
    runner::stop::on_stop(|| {})?;
    let catalog = demos::catalog()?;
    let chosen: Vec<_> = if names.is_empty() {
        catalog.iter().collect()
    } else {
        names
            .iter()
            .map(|n| demos::resolve(&catalog, n))
            .collect::<Result<_>>()?
    };
    eprintln!("building {} demo(s)…", chosen.len());
    let bin_dir = demos::build_all()?;
    let total = chosen.len();
    let t0 = Instant::now();
    let queue = Arc::new(Mutex::new(
        chosen
            .iter()
            .map(|d| (d.name.clone(), d.claim.clone()))
            .collect::<Vec<_>>(),
    ));
    let done = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..jobs.max(1))
        .map(|_| {
            let queue = Arc::clone(&queue);
            let done = Arc::clone(&done);
            let bin_dir = bin_dir.clone();
            std::thread::spawn(move || {
                loop {
                    if runner::jail::stopping() {
                        break;
                    }
                    let Some((name, claim)) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop()
                    else {
                        break;
                    };
                    let result = capture_one(&bin_dir.join(&name), &name, &claim, limit);
                    let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
                    let line = report_line(done.len() + 1, total, &name, &result);
                    eprintln!("{line}");
                    done.push((name, result));
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let done = std::mem::take(&mut *done.lock().unwrap_or_else(|e| e.into_inner()));
    let bad: Vec<_> = done
        .iter()
        .filter(|(_, r)| !matches!(r, Ok((s, _)) if s.stored))
        .collect();
    eprintln!(
        "captured {} of {total} in {:.1} s",
        total - bad.len(),
        t0.elapsed().as_secs_f64()
    );
    if runner::jail::stopping() {
        eprintln!("stopped: the demos that were running are killed, their runs not stored");
        return Ok(ExitCode::from(130));
    }
    Ok(if bad.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Debug)]
pub struct Saved {
    /// A good run (passed, or a skip over no better) is now the transcript.
    pub stored: bool,
    /// The file was written at all (a failed run is written where nothing good was).
    pub written: bool,
    pub why: &'static str,
}

fn report_line(k: usize, total: usize, name: &str, result: &Result<(Saved, Transcript)>) -> String {
    match result {
        Ok((saved, t)) => format!(
            "[{k}/{total}] {name:<28} {:<9} {:>6.2} s  {}",
            t.outcome.status.as_str(),
            t.duration_ms as f64 / 1000.0,
            saved.why
        ),
        Err(e) => format!("[{k}/{total}] {name:<28} error: {e:#}"),
    }
}

fn capture_one(
    bin: &Path,
    name: &str,
    claim: &str,
    limit: Duration,
) -> Result<(Saved, Transcript)> {
    let metrics = MetricsFile::new()?;
    let metrics_path = metrics.path_str();
    let wire_path = metrics.wire_path_str();
    let envs = [
        ("CLICOLOR_FORCE", "1"),
        (contract::METRICS_ENV, metrics_path.as_str()),
        (contract::WIRE_ENV, wire_path.as_str()),
    ];
    let (chunks, outcome, duration_ms) = run_to_exit(bin, &envs, limit)?;
    let mut t = transcript_of(name, claim, chunks, outcome, duration_ms, metrics.read()?);
    t.wire = metrics.read_wire()?;
    anyhow::ensure!(!runner::jail::stopping(), "stopped by a signal: not stored");
    let saved = store(&t)?;
    if !saved.stored {
        // Show what went wrong, since it is not in any file.
        for c in &t.chunks {
            eprint!("    {name}: {}", c.text);
        }
    }
    Ok((saved, t))
}

/// Runs a demo in its jail to its exit: its output chunks, its outcome and how long it
/// took. Shared by capture and `cargo xtask kernels`' guest.
pub(crate) fn run_to_exit(
    bin: &Path,
    envs: &[(&str, &str)],
    limit: Duration,
) -> Result<(Vec<contract::Chunk>, contract::Outcome, u64)> {
    let (events, _cancel) = runner::start(bin, &[], envs, limit)?;
    let mut chunks = Vec::new();
    // The exit is the last event; a reader still blocked on a pipe does not hold us.
    for event in events {
        match event {
            Event::Output(chunk) => chunks.push(chunk),
            Event::Exit {
                outcome,
                duration_ms,
                ..
            } => return Ok((chunks, outcome, duration_ms)),
        }
    }
    anyhow::bail!("the demo runner ended without an exit event")
}

/// Writes the transcript unless that would lose a better one.
pub fn store(t: &Transcript) -> Result<Saved> {
    store_in(&demos_dir(), t)
}

/// [`store`] for the demos crate at `demos_dir`.
pub fn store_in(demos_dir: &Path, t: &Transcript) -> Result<Saved> {
    let path = deck::transcript_path(demos_dir, &t.demo);
    t.validate()
        .map_err(|e| anyhow::anyhow!("{}: not stored: {e}", path.display()))?;
    let previous = read_previous(&path);
    let keep_previous = match (&previous, t.outcome.status) {
        (_, Status::Passed) => false,
        (Previous::Good(p), Status::Skipped) => p.outcome.status != Status::Skipped,
        (Previous::Good(_), _) => true,
        _ => false,
    };
    if keep_previous {
        return Ok(Saved {
            stored: false,
            written: false,
            why: "kept the previous transcript",
        });
    }
    write_atomically(&path, t)?;
    let stored = matches!(t.outcome.status, Status::Passed | Status::Skipped);
    Ok(Saved {
        stored,
        written: true,
        why: match (stored, previous) {
            (true, _) => "stored",
            (false, Previous::Unreadable) => "stored (over an unreadable transcript)",
            (false, _) => "stored (no earlier transcript)",
        },
    })
}

enum Previous {
    None,
    /// There is a file, but the build would reject it.
    Unreadable,
    Good(Box<Transcript>),
}

fn read_previous(path: &Path) -> Previous {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Previous::None;
    };
    match serde_json::from_str::<Transcript>(&text) {
        Ok(t) if t.validate().is_ok() => Previous::Good(Box::new(t)),
        _ => Previous::Unreadable,
    }
}

/// The hidden temporary file a transcript is written to first: `.transcript-PID-…`.
const TMP_PREFIX: &str = ".transcript-";

/// Write to a hidden temporary file next to it, then rename: an interrupted capture
/// never leaves half a transcript, and the temporary file is removed on any error. One
/// left by a capture that was killed (its process is gone) is removed here, the next
/// time. The transcript keeps the mode of the file it replaces (0644 when new: others
/// who share the checkout read it), not the temporary file's 0600.
pub(crate) fn write_atomically(path: &Path, t: &Transcript) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().context("a transcript path has a directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    remove_stale_temporaries(dir, TMP_PREFIX);
    let mut json = serde_json::to_string_pretty(t).context("serialising the transcript")?;
    json.push('\n');
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TMP_PREFIX}{}-", std::process::id()))
        .tempfile_in(dir)
        .with_context(|| format!("a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, json.as_bytes())
        .with_context(|| format!("writing {}", tmp.path().display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("setting the mode of {}", tmp.path().display()))?;
    tmp.persist(path)
        .with_context(|| format!("renaming to {}", path.display()))?;
    // Left by captures before temporary files were hidden and removed on error.
    let _ = std::fs::remove_file(path.with_extension("json.tmp"));
    Ok(())
}

/// Removes entries of `dir` named `PREFIX` + the pid of a process that is gone (a
/// capture or server killed with SIGKILL could not clean up after itself).
pub fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = entry.path();
        let _ = if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

/// A run as a transcript, stamped with this machine's kernel and the time now.
pub fn transcript_of(
    name: &str,
    claim: &str,
    chunks: Vec<contract::Chunk>,
    outcome: contract::Outcome,
    duration_ms: u64,
    metrics: Vec<contract::Metric>,
) -> Transcript {
    Transcript {
        format: contract::FORMAT,
        demo: name.to_string(),
        claim: claim.to_string(),
        args: Vec::new(),
        chunks,
        outcome,
        duration_ms,
        kernel: kernel_release(),
        captured_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        metrics,
        wire: Vec::new(),
    }
}

/// The file a demo appends its metrics to ([`contract::METRICS_ENV`]), inside a
/// fresh private directory: no other user can plant a link or fake numbers there, and
/// it is removed when this is dropped.
pub struct MetricsFile {
    dir: tempfile::TempDir,
}

/// The name of a metrics directory: `eykiw-metrics-PID-…`.
const METRICS_PREFIX: &str = "eykiw-metrics-";

impl MetricsFile {
    pub fn new() -> Result<MetricsFile> {
        Self::new_in(&std::env::temp_dir())
    }

    /// In `parent`; directories there left by a process that was killed are removed
    /// first (theirs is named after their pid).
    fn new_in(parent: &Path) -> Result<MetricsFile> {
        remove_stale_temporaries(parent, METRICS_PREFIX);
        let dir = tempfile::Builder::new()
            .prefix(&format!("{METRICS_PREFIX}{}-", std::process::id()))
            .tempdir_in(parent)
            .context("creating a private directory for the demo's metrics")?;
        Ok(MetricsFile { dir })
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("metrics.jsonl")
    }

    /// The path, for the demo's environment.
    pub fn path_str(&self) -> String {
        self.path().to_string_lossy().into_owned()
    }

    /// Where the demo appends the packets it captured ([`contract::WIRE_ENV`]).
    pub fn wire_path_str(&self) -> String {
        self.dir
            .path()
            .join("wire.jsonl")
            .to_string_lossy()
            .into_owned()
    }

    /// Where the demo writes each packet its capture reads, as it reads it
    /// ([`contract::PACKETS_ENV`]; Run live only).
    pub fn packets_path(&self) -> std::path::PathBuf {
        self.dir.path().join("packets.jsonl")
    }

    /// The metrics the demo recorded (none, if it recorded none).
    pub fn read(&self) -> Result<Vec<contract::Metric>> {
        read_json_lines(&self.path())
    }

    /// The connections whose packets the demo captured (none without CAP_NET_RAW).
    pub fn read_wire(&self) -> Result<Vec<contract::wire::Connection>> {
        read_json_lines(std::path::Path::new(&self.wire_path_str()))
    }
}

/// One JSON value a line; a missing file is none.
fn read_json_lines<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(Vec::new());
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("line {} of {}", i + 1, path.display()))
        })
        .collect()
}

pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::{Chunk, Outcome, Stream};

    fn run(status: Status, times: &[u64]) -> Transcript {
        let chunks = times
            .iter()
            .map(|&at_ms| Chunk {
                at_ms,
                stream: Stream::Stdout,
                text: "x\n".into(),
            })
            .collect();
        let outcome = Outcome {
            status,
            code: Some(0),
            signal: None,
        };
        transcript_of("demo-x", "a claim", chunks, outcome, 10, Vec::new())
    }

    fn files_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_transcript_the_build_would_reject_is_never_stored() {
        let dir = tempfile::tempdir().unwrap();
        store_in(dir.path(), &run(Status::Passed, &[1, 5])).unwrap();
        let path = deck::transcript_path(dir.path(), "demo-x");
        let good = std::fs::read_to_string(&path).unwrap();
        let err = store_in(dir.path(), &run(Status::Passed, &[9, 7])).unwrap_err();
        assert!(format!("{err:#}").contains("backwards"), "{err:#}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            good,
            "the good one stays"
        );
        assert_eq!(
            files_in(path.parent().unwrap()),
            ["demo-x.json"],
            "no temporary file left"
        );
    }

    /// A process id that is certainly gone: a child that has exited and been reaped.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn defect_9_a_killed_captures_temporary_file_and_metrics_dir_are_removed_next_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = deck::transcript_path(dir.path(), "demo-x");
        let transcripts = path.parent().unwrap();
        std::fs::create_dir_all(transcripts).unwrap();
        let dead = dead_pid();
        // What a capture killed while writing leaves, and one still being written by a
        // live process (ours, here), which must stay.
        let stale = transcripts.join(format!(".transcript-{dead}-AbC123"));
        std::fs::write(&stale, "half a transcript").unwrap();
        let live = transcripts.join(format!(".transcript-{}-XyZ789", std::process::id()));
        std::fs::write(&live, "being written").unwrap();
        store_in(dir.path(), &run(Status::Passed, &[1])).unwrap();
        assert!(
            !stale.exists(),
            "the killed capture's temporary file stayed"
        );
        assert!(live.exists(), "a live writer's temporary file was removed");
        // Metrics directories: a killed run's is removed when the next one is made.
        let tmp = tempfile::tempdir().unwrap();
        let stale = tmp.path().join(format!("{METRICS_PREFIX}{dead}-q1w2e3"));
        std::fs::create_dir_all(&stale).unwrap();
        std::fs::write(stale.join("metrics.jsonl"), "{}").unwrap();
        let m = MetricsFile::new_in(tmp.path()).unwrap();
        assert!(!stale.exists(), "the killed run's metrics directory stayed");
        let own = m.dir.path().to_path_buf();
        assert!(own.exists());
        drop(m);
        assert!(!own.exists(), "a run's metrics directory outlived it");
        // The real MetricsFile names its directory so that this works.
        let m = MetricsFile::new().unwrap();
        let name = m
            .dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(&format!("{METRICS_PREFIX}{}-", std::process::id())),
            "{name}"
        );
    }

    #[test]
    fn defect_10_transcripts_keep_the_mode_they_replace_and_are_0644_when_new() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = deck::transcript_path(dir.path(), "demo-x");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        store_in(dir.path(), &run(Status::Passed, &[1])).unwrap();
        assert_eq!(mode(&path), 0o644, "a new transcript");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
        store_in(dir.path(), &run(Status::Passed, &[2])).unwrap();
        assert_eq!(mode(&path), 0o664, "a replaced transcript keeps its mode");
    }

    #[test]
    fn a_failed_run_over_an_unreadable_transcript_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = deck::transcript_path(dir.path(), "demo-x");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{ not json").unwrap();
        std::fs::write(path.with_extension("json.tmp"), "half a transcript").unwrap();
        let saved = store_in(dir.path(), &run(Status::Failed, &[1])).unwrap();
        assert!(!saved.stored);
        assert_eq!(saved.why, "stored (over an unreadable transcript)");
        let back: Transcript =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back.outcome.status, Status::Failed);
        assert_eq!(files_in(path.parent().unwrap()), ["demo-x.json"]);
    }
}
