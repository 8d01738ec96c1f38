//! `cargo xtask flakes [DEMO...]`: the flake run of issue 21, rerunnable.
//!
//! Each demo runs 20 times in a row while busy threads keep every core loaded; then all
//! demos run at once, 5 rounds as root and 5 as the user nobody (as root; otherwise as
//! this user only), each round checked for leftovers. The run itself is the ignored test
//! `flakes_each_demo_passes_every_run_under_load_and_all_together_as_root_and_nobody`
//! in `demos/tests/all_demos.rs`, which shares the demo runner, the allowed skips and
//! the leftover checks of the other demo tests. The report, with load averages, goes to
//! `target/flakes.md`. Slow (about half an hour on two cores): not part of `cargo xtask
//! test`.

use std::process::{Command, ExitCode};

use anyhow::{Context, Result};
use xshell::Shell;

use crate::{demos, project_root, wasm};

pub fn run(names: &[String], runs: usize, rounds: usize, load: Option<usize>) -> Result<ExitCode> {
    let sh = Shell::new()?;
    let root = project_root();
    let catalog = demos::catalog()?;
    let selected = names
        .iter()
        .map(|n| demos::resolve(&catalog, n).map(|d| d.name.clone()))
        .collect::<Result<Vec<_>>>()?;
    let report = wasm::target_dir(&sh)?.join("flakes.md");
    let mut cmd = Command::new("cargo");
    cmd.current_dir(&root)
        .args(["test", "-p", "demos", "--test", "all_demos", "--"])
        .args(["--ignored", "--exact", "--nocapture"])
        .arg("flakes_each_demo_passes_every_run_under_load_and_all_together_as_root_and_nobody")
        .env("FLAKES_RUNS", runs.to_string())
        .env("FLAKES_ROUNDS", rounds.to_string())
        .env("FLAKES_DEMOS", selected.join(","))
        .env("FLAKES_REPORT", &report);
    if let Some(n) = load {
        cmd.env("FLAKES_LOAD", n.to_string());
    }
    let status = cmd.status().context("running the flake test")?;
    eprintln!("flakes: report in {}", report.display());
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
