//! `cargo xtask ARGS`: start the built xtask (or, for `demo NAME`, the built demo)
//! without a second cargo run; see the crate documentation.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use xtask_launch::{find_root, fresh, run_demo, target_dir};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let root = std::env::current_dir()
        .map_err(|e| format!("current directory: {e}"))
        .and_then(|cwd| find_root(std::env::var_os("CARGO_MANIFEST_DIR").map(Into::into), &cwd));
    let root = match root {
        Ok(root) => root,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = target_dir();
    if let Some(target) = &target
        && let Some(code) = built_demo(&root, target, &args)
    {
        return code;
    }
    xtask(&root, target.as_deref(), &args)
}

/// `demo NAME [ARGS]` when NAME's release binary is up to date: run it now. Anything
/// else (a list, a misspelt name, a demo to build) is xtask's job.
fn built_demo(root: &Path, target: &Path, args: &[OsString]) -> Option<ExitCode> {
    let [command, name, rest @ ..] = args else {
        return None;
    };
    let name = name.to_str()?;
    let demos = root.join("demos");
    // A plain file name, so NAME cannot point outside src/bin or target/release.
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if command != "demo"
        || !plain
        || name.starts_with('-')
        || !transcript::catalog::source_path(&demos, name).is_file()
    {
        return None;
    }
    let bin = target.join("release").join(name);
    if !fresh::is_fresh(&bin, root) {
        return None;
    }
    match run_demo(&bin, name, rest) {
        Ok(code) => Some(code),
        Err(e) => {
            eprintln!("error: running {}: {e}", bin.display());
            Some(ExitCode::FAILURE)
        }
    }
}

/// Replaces this process with xtask, built first by cargo unless it is up to date.
fn xtask(root: &Path, target: Option<&Path>, args: &[OsString]) -> ExitCode {
    let cargo = || {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.current_dir(root);
        cmd
    };
    let Some(bin) = target.map(|t| t.join("debug").join("xtask")) else {
        // No target dir known: let cargo build and start it.
        let err = cargo()
            .args(["run", "--quiet", "--package", "xtask", "--"])
            .args(args)
            .exec();
        eprintln!("error: starting cargo: {err}");
        return ExitCode::FAILURE;
    };
    if !fresh::is_fresh(&bin, root) {
        let started = SystemTime::now();
        match cargo()
            .args(["build", "--quiet", "--package", "xtask"])
            .status()
        {
            Ok(s) if s.success() => {}
            Ok(_) => return ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: starting cargo: {e}");
                return ExitCode::FAILURE;
            }
        }
        if let Err(e) = fresh::mark_fresh(&bin, started) {
            eprintln!("warning: stamping {}: {e}", bin.display());
        }
    }
    // xtask finds the checkout from this, as if cargo had started it.
    let err = Command::new(&bin)
        .args(args)
        .env("CARGO_MANIFEST_DIR", root.join("xtask"))
        .exec();
    eprintln!("error: starting {}: {err}", bin.display());
    ExitCode::FAILURE
}
