//! `cargo xtask capture`: run demos, several at once, and store what each printed, and
//! when, as a transcript the slides embed.
//!
//! A run that failed does not overwrite a good transcript (the failure is shown
//! instead), and a skipped run only replaces a transcript that was skipped too: a
//! machine without root must not erase the capture made on one with it.

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use transcript::{Status, Transcript};

use crate::demos::{self, demos_dir};
use crate::runner::{self, Event};

pub fn run(names: &[String], jobs: usize, limit: Duration) -> Result<ExitCode> {
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
    Ok(if bad.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub struct Saved {
    pub stored: bool,
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
    let envs = [
        ("CLICOLOR_FORCE", "1"),
        (transcript::METRICS_ENV, metrics_path.as_str()),
    ];
    let (events, _cancel) = runner::start(bin, &[], &envs, limit)?;
    let mut chunks = Vec::new();
    let mut exit = None;
    for event in events {
        match event {
            Event::Output(chunk) => chunks.push(chunk),
            Event::Exit {
                outcome,
                duration_ms,
            } => exit = Some((outcome, duration_ms)),
        }
    }
    let (outcome, duration_ms) = exit.context("the demo runner ended without an exit event")?;
    let t = transcript_of(name, claim, chunks, outcome, duration_ms, metrics.read()?);
    let saved = store(&t)?;
    if !saved.stored {
        // Show what went wrong, since it is not in any file.
        for c in &t.chunks {
            eprint!("    {name}: {}", c.text);
        }
    }
    Ok((saved, t))
}

/// Writes the transcript unless that would lose a better one.
pub fn store(t: &Transcript) -> Result<Saved> {
    store_in(&demos_dir(), t)
}

/// [`store`] for the demos crate at `demos_dir`.
pub fn store_in(demos_dir: &Path, t: &Transcript) -> Result<Saved> {
    let path = deck::transcript_path(demos_dir, &t.demo);
    let previous: Option<Transcript> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok());
    let keep_previous = match t.outcome.status {
        Status::Passed => false,
        Status::Skipped => previous
            .as_ref()
            .is_some_and(|p| p.outcome.status != Status::Skipped),
        _ => previous.is_some(),
    };
    if keep_previous {
        return Ok(Saved {
            stored: false,
            why: "kept the previous transcript",
        });
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut json = serde_json::to_string_pretty(t).context("serialising the transcript")?;
    json.push('\n');
    // Write then rename: an interrupted capture never leaves half a transcript.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
    let stored = matches!(t.outcome.status, Status::Passed | Status::Skipped);
    Ok(Saved {
        stored,
        why: if stored {
            "stored"
        } else {
            "stored (no earlier transcript)"
        },
    })
}

/// A run as a transcript, stamped with this machine's kernel and the time now.
pub fn transcript_of(
    name: &str,
    claim: &str,
    chunks: Vec<transcript::Chunk>,
    outcome: transcript::Outcome,
    duration_ms: u64,
    metrics: Vec<transcript::Metric>,
) -> Transcript {
    Transcript {
        format: transcript::FORMAT,
        demo: name.to_string(),
        claim: claim.to_string(),
        args: Vec::new(),
        chunks,
        outcome,
        duration_ms,
        kernel: kernel_release(),
        captured_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        metrics,
    }
}

/// The file a demo appends its metrics to ([`transcript::METRICS_ENV`]), inside a
/// fresh private directory: no other user can plant a link or fake numbers there, and
/// it is removed when this is dropped.
pub struct MetricsFile {
    dir: tempfile::TempDir,
}

impl MetricsFile {
    pub fn new() -> Result<MetricsFile> {
        let dir = tempfile::Builder::new()
            .prefix("eykiw-metrics-")
            .tempdir()
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

    /// The metrics the demo recorded (none, if it recorded none).
    pub fn read(&self) -> Result<Vec<transcript::Metric>> {
        let path = self.path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(Vec::new());
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .with_context(|| format!("metric line {} of {}", i + 1, path.display()))
            })
            .collect()
    }
}

pub fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}
