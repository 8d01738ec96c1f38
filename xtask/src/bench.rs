//! `cargo xtask bench`: the numbers we promise, measured rather than asserted in tests.
//! Every figure is the median of several runs, on whatever machine runs it.
//!
//! - `cargo xtask demo NAME` on a built demo: time to its first line of output;
//! - a warm `cargo xtask build`, wall time as the user sees it (cargo included);
//! - the warm rebuild after a slide edit (what `present` does on save), in-process;
//! - the size of the built site and of the deck's own browser assets (gzipped);
//! - Run live: from a demo printing its first line to that line reaching the client.

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
