//! `cargo xtask bench`: the numbers we promise, measured rather than asserted in tests.
//!
//! - the warm rebuild after a slide edit (what `present` does on save), median of runs;
//! - the size of the built site and of the deck's own browser assets (gzipped);
//! - Run live: from a demo printing its first line to that line reaching the client.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::book::{self, Player};
use crate::project_root;

const RUNS: usize = 15;

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

    let mut rebuilds = Vec::new();
    for _ in 0..RUNS {
        let t0 = Instant::now();
        book::build(&root, false, Player::Reuse)?;
        rebuilds.push(t0.elapsed());
    }

    let site = book::dir_size(&out);
    let assets = out.join(book::ASSET_DIR);
    let mut deck_gz = 0;
    for entry in
        std::fs::read_dir(&assets).with_context(|| format!("listing {}", assets.display()))?
    {
        deck_gz += gzip_size(&std::fs::read(entry?.path())?)?;
    }
    println!(
        "warm rebuild (mdbook + preprocessor + assets), median of {RUNS}: {}",
        ms(median(rebuilds))
    );
    println!("built site: {} KiB in {}", site / 1024, out.display());
    let first = crate::present::first_chunk_latencies(RUNS)?;
    println!(
        "Run live, demo prints to client reads its first line, median of {RUNS}: {}",
        ms(median(first))
    );
    println!(
        "deck assets ({}/): {} KiB gzipped",
        book::ASSET_DIR,
        deck_gz / 1024
    );
    Ok(ExitCode::SUCCESS)
}

/// Gzipped size, measured with the system gzip (what a static host serves).
fn gzip_size(bytes: &[u8]) -> Result<u64> {
    let mut child = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("running gzip")?;
    child.stdin.take().context("gzip stdin")?.write_all(bytes)?;
    let out = child.wait_with_output()?;
    Ok(out.stdout.len() as u64)
}
