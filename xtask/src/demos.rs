//! `cargo xtask demo`: list the demos, or build one and run it live.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use deck::DemoInfo;
use xshell::{Shell, cmd};

use xtask_launch::fresh;

use crate::{project_root, wasm};

/// The demos crate directory.
pub fn demos_dir() -> PathBuf {
    project_root().join("demos")
}

pub fn catalog() -> Result<Vec<DemoInfo>> {
    Ok(deck::catalog::list(&demos_dir())?)
}

/// Looks names up in the catalogue; an unknown one is an error that names the closest.
pub fn resolve<'a>(catalog: &'a [DemoInfo], name: &str) -> Result<&'a DemoInfo> {
    if let Some(d) = catalog.iter().find(|d| d.name == name) {
        return Ok(d);
    }
    let hint = deck::catalog::did_you_mean(&deck::catalog::closest(
        name,
        catalog.iter().map(|d| d.name.as_str()),
    ));
    bail!("no demo named `{name}`{hint}; `cargo xtask demo` lists them all")
}

/// Builds every demo (optimised: demos measure timings) and returns where binaries are.
pub fn build_all() -> Result<PathBuf> {
    let sh = Shell::new()?;
    let _dir = sh.push_dir(project_root());
    cmd!(sh, "cargo build --quiet --release --package demos --bins")
        .run()
        .context("building the demos")?;
    Ok(wasm::target_dir(&sh)?.join("release"))
}

pub fn list_cmd() -> Result<ExitCode> {
    let demos = catalog()?;
    let width = demos.iter().map(|d| d.name.len()).max().unwrap_or(0);
    for d in &demos {
        println!("{:<width$}  {}", d.name, d.claim);
    }
    eprintln!(
        "\n{} demos; run one with `cargo xtask demo NAME [--verbose]`",
        demos.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Builds one demo (optimised) unless its binary is already up to date, and returns it.
/// Freshness is decided from cargo's own dep-info without starting cargo, so a built
/// demo starts at once; a first run compiles this demo only, not all of them.
pub fn build_one(name: &str) -> Result<PathBuf> {
    let sh = Shell::new()?;
    let root = project_root();
    let bin = wasm::target_dir(&sh)?.join("release").join(name);
    if fresh::is_fresh(&bin, &root) {
        return Ok(bin);
    }
    let _dir = sh.push_dir(&root);
    let started = std::time::SystemTime::now();
    cmd!(
        sh,
        "cargo build --quiet --release --package demos --bin {name}"
    )
    .run()
    .with_context(|| format!("building demo {name}"))?;
    fresh::mark_fresh(&bin, started).with_context(|| format!("stamping {}", bin.display()))?;
    Ok(bin)
}

pub fn run_cmd(name: &str, args: &[String]) -> Result<ExitCode> {
    let demos = catalog()?;
    let demo = resolve(&demos, name)?;
    let bin = build_one(&demo.name)?;
    let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
    xtask_launch::run_demo(&bin, name, &args).with_context(|| format!("running {}", bin.display()))
}
