//! `cargo xtask bench`: the numbers we promise, measured rather than asserted in tests.
//! Every figure is the median of several runs, on whatever machine runs it.
//!
//! - `cargo xtask demo NAME` on a built demo: time to its first line of output;
//! - a warm `cargo xtask build`, wall time as the user sees it (cargo included);
//! - the warm rebuild after a slide edit (what `present` does on save), in-process;
//! - the size of the built site and of the deck's own browser assets (gzipped);
//! - Run live: from a demo printing its first line to that line reaching the client.
//!
//! `cargo xtask bench --first-minute` measures a newcomer's first minute instead (see
//! [`first_minute`]): a fresh clone, an empty target dir, `cargo xtask present`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::book::{self, Player};
use crate::{demos, project_root};

const RUNS: usize = 15;

/// A demo that passes without root or extra kernel features, and prints at once.
const DEMO: &str = "read-without-consuming";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn run() -> Result<ExitCode> {
    let root = project_root();
    let out = book::build(&root, false, Player::Rebuild)?;
    demos::build_one(DEMO)?;

    let first_line = repeat(|| first_line_of_demo(&root, DEMO))?;
    let build = repeat(|| {
        let t0 = Instant::now();
        cargo_xtask(&root, &["build"])?;
        Ok(t0.elapsed())
    })?;
    let rebuild = repeat(|| {
        let t0 = Instant::now();
        book::build(&root, false, Player::Reuse)?;
        Ok(t0.elapsed())
    })?;

    let site = book::dir_size(&out);
    let assets = out.join(book::ASSET_DIR);
    let mut deck_gz = 0;
    for entry in
        std::fs::read_dir(&assets).with_context(|| format!("listing {}", assets.display()))?
    {
        let path = entry?.path();
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        deck_gz += gzip_size(&bytes)?;
    }
    println!("medians of {RUNS} runs:");
    println!(
        "  cargo xtask demo {DEMO} (built), first line: {}",
        ms(first_line)
    );
    println!("  cargo xtask build (warm), wall: {}", ms(build));
    println!(
        "  warm rebuild in-process (mdbook + preprocessor + assets): {}",
        ms(rebuild)
    );
    println!("built site: {} KiB in {}", site / 1024, out.display());
    let first = crate::present::first_chunk_latencies(RUNS)?;
    println!(
        "  Run live, demo prints to client reads its first line: {}",
        ms(median(first))
    );
    println!(
        "deck assets ({}/): {} KiB gzipped",
        book::ASSET_DIR,
        deck_gz / 1024
    );
    Ok(ExitCode::SUCCESS)
}

fn repeat(mut f: impl FnMut() -> Result<Duration>) -> Result<Duration> {
    let runs = (0..RUNS).map(|_| f()).collect::<Result<Vec<_>>>()?;
    Ok(median(runs))
}

/// `cargo xtask ARGS` in `root`, as a user types it, quietly; an error if it fails.
fn cargo_xtask(root: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .arg("xtask")
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running cargo xtask {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "cargo xtask {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// From Enter to the first line the demo prints, through `cargo xtask demo NAME`.
fn first_line_of_demo(root: &Path, name: &str) -> Result<Duration> {
    let t0 = Instant::now();
    let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["xtask", "demo", name])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("running cargo xtask demo {name}"))?;
    let stdout = child.stdout.take().context("piped stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .with_context(|| format!("reading the output of demo {name}"))?;
    let took = t0.elapsed();
    let status = child.wait()?;
    if line.is_empty() || !status.success() {
        bail!("cargo xtask demo {name} printed nothing or failed ({status})");
    }
    Ok(took)
}

/// Gzipped size at the best level (what a static host serves), in-process: streaming
/// through an external gzip would need a reader and a writer at once.
fn gzip_size(bytes: &[u8]) -> Result<u64> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).context("gzip")?;
    Ok(gz.finish().context("gzip")?.len() as u64)
}

/// What a newcomer waits for: how long from `cargo xtask present` in a fresh clone (of
/// this checkout's HEAD, with an empty target dir) to its first line of output, and to
/// the first `200` for the deck's page, and (when that page shows the svgbob diagrams
/// as text, see diagrams.rs) to the rebuild that draws them. Every line it prints is shown with its time,
/// so a slow first page shows what it waited for; the load average is printed with the
/// numbers, since the machine's other work slows a cold build. Everything it started
/// is killed at the end (it runs in a process group of its own).
pub fn first_minute() -> Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    const LIMIT: Duration = Duration::from_secs(1200);
    let root = project_root();
    let tmp = tempfile::tempdir().context("a directory for the fresh clone")?;
    let clone = tmp.path().join("clone");
    let target = tmp.path().join("target");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(&root)
        .arg(&clone)
        .status()
        .context("running git clone")?;
    anyhow::ensure!(status.success(), "git clone {} failed", root.display());
    let load_before = load_average();
    println!(
        "fresh clone of {} in {}; load average {load_before}",
        root.display(),
        clone.display()
    );
    let t0 = Instant::now();
    let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["xtask", "present", "--port", "0"])
        .current_dir(&clone)
        .env("CARGO_TARGET_DIR", &target)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .context("running cargo xtask present")?;
    let group = nix::unistd::Pid::from_raw(child.id() as i32);
    let (tx, rx) = std::sync::mpsc::channel::<(Duration, String)>();
    let stdout = child.stdout.take().context("piped stdout")?;
    let stderr = child.stderr.take().context("piped stderr")?;
    for stream in [
        Box::new(stdout) as Box<dyn std::io::Read + Send>,
        Box::new(stderr),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            // Cargo's progress bar ends its updates with \r, not \n: split on both.
            let mut reader = BufReader::new(stream);
            let mut line = Vec::new();
            let mut byte = [0u8; 1];
            while let Ok(1) = std::io::Read::read(&mut reader, &mut byte) {
                if byte[0] == b'\n' || byte[0] == b'\r' {
                    if !line.is_empty() {
                        let text = String::from_utf8_lossy(&line).into_owned();
                        let _ = tx.send((t0.elapsed(), text));
                        line.clear();
                    }
                } else {
                    line.push(byte[0]);
                }
            }
        });
    }
    drop(tx);
    let outcome = (|| -> Result<Minute> {
        let mut first_output = None;
        let mut compiling = 0;
        let mut diagrams_later = false;
        loop {
            let (at, line) = rx
                .recv_timeout(LIMIT.saturating_sub(t0.elapsed()))
                .map_err(|_| anyhow::anyhow!("nothing served within {} s", LIMIT.as_secs()))?;
            first_output.get_or_insert(at);
            let line = line.trim_end();
            // Cargo's "Compiling CRATE" lines: counted, the first and every 50th shown.
            if line.trim_start().starts_with("Compiling ") {
                compiling += 1;
                if compiling > 1 && compiling % 50 != 0 {
                    continue;
                }
                println!(
                    "{:7.1} s  [{compiling} crates compiled] {}",
                    at.as_secs_f64(),
                    line.trim()
                );
                continue;
            }
            println!("{:7.1} s  {line}", at.as_secs_f64());
            diagrams_later |= line.starts_with("the diagrams show as text");
            if let Some(rest) = line.strip_prefix("serving the deck at ") {
                let url = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let page = loop {
                    if http_status(&url).is_ok_and(|code| code == 200) {
                        break t0.elapsed();
                    }
                    anyhow::ensure!(t0.elapsed() < LIMIT, "{url} never answered 200");
                    std::thread::sleep(Duration::from_millis(50));
                };
                // The page served shows the diagrams as text until `deck-diagram` is
                // built in the background: wait for the rebuild that draws them.
                let mut drawn = None;
                while diagrams_later && drawn.is_none() {
                    let (at, line) = rx
                        .recv_timeout(LIMIT.saturating_sub(t0.elapsed()))
                        .map_err(|_| {
                            anyhow::anyhow!(
                                "the diagrams were not drawn within {} s",
                                LIMIT.as_secs()
                            )
                        })?;
                    println!("{:7.1} s  {line}", at.as_secs_f64());
                    if line.starts_with("rebuilt in ") {
                        drawn = Some(at);
                    }
                    anyhow::ensure!(
                        !line.starts_with("the diagrams stay as text"),
                        "deck-diagram did not build"
                    );
                }
                return Ok(Minute {
                    first_output: first_output.unwrap_or(page),
                    page,
                    crates: compiling,
                    drawn,
                });
            }
        }
    })();
    // Everything `present` started (cargo, rustc, the demos' build) is in its group.
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
    std::thread::sleep(Duration::from_millis(500));
    let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    let Minute {
        first_output,
        page,
        crates,
        drawn,
    } = outcome?;
    println!(
        "first output after {:.1} s, first page (HTTP 200) after {:.1} s ({crates} crates compiled before it); load average {load_before} before, {} after",
        first_output.as_secs_f64(),
        page.as_secs_f64(),
        load_average()
    );
    if let Some(drawn) = drawn {
        println!(
            "the page showed the svgbob diagrams as text; drawn (deck rebuilt) after {:.1} s",
            drawn.as_secs_f64()
        );
    }
    let ok = first_output <= FIRST_OUTPUT && page <= FIRST_PAGE;
    println!(
        "goal: output within {} s and the page within {} s: {}",
        FIRST_OUTPUT.as_secs(),
        FIRST_PAGE.as_secs(),
        if ok { "met" } else { "NOT met" }
    );
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The goals of `--first-minute` (issue 20, item 7).
const FIRST_OUTPUT: Duration = Duration::from_secs(2);
const FIRST_PAGE: Duration = Duration::from_secs(100);

/// What `--first-minute` measured: times from Enter.
struct Minute {
    first_output: Duration,
    page: Duration,
    /// Cargo's "Compiling" lines before the page was served.
    crates: usize,
    /// When the diagrams were drawn, if the first page showed them as text.
    drawn: Option<Duration>,
}

/// `/proc/loadavg`'s first three fields (1, 5 and 15 minutes).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The status code of a GET of `url` (http://HOST:PORT/PATH on loopback).
fn http_status(url: &str) -> Result<u16> {
    use std::io::Read;
    let rest = url.strip_prefix("http://").context("an http URL")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = std::net::TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("a status line from {url}: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_size_of_a_megabyte_of_noise_and_of_repetition() {
        // xorshift noise: gzip cannot shrink it, and its output is larger than any pipe.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let noise: Vec<u8> = (0..1 << 20)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect();
        assert!(gzip_size(&noise).unwrap() > 1 << 20);
        assert!(gzip_size(&vec![b'a'; 1 << 20]).unwrap() < 4096);
    }
}
