//! `cargo xtask ARGS`: start the built xtask (or, for `demo NAME`, the built demo)
//! without a second cargo run; see the crate documentation.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::SystemTime;

use xtask_launch::{find_root, fresh, run_demo, target_dir, target_dir_from_env};

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
        || !contract::catalog::source_path(&demos, name).is_file()
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
        if let Some(dir) = target_dir_from_env() {
            cmd.env("CARGO_TARGET_DIR", dir);
        }
        cmd
    };
    let Some(bin) = target.map(|t| t.join("debug").join("xtask")) else {
        // No target dir known: let cargo build and start it.
        building(false);
        let err = cargo()
            .args(["run", "--package", "xtask", "--"])
            .args(args)
            .exec();
        eprintln!("error: starting cargo: {err}");
        return ExitCode::FAILURE;
    };
    if !fresh::is_fresh(&bin, root) {
        let started = SystemTime::now();
        let player = needs_player(args);
        // The words first: they are the newcomer's first sign of life.
        building(player);
        if player {
            build_player_alongside(&cargo);
        }
        // Not --quiet: cargo's own progress (its bar on a terminal, and a line per
        // crate) is what a newcomer watches while a fresh clone compiles.
        match cargo().args(["build", "--package", "xtask"]).status() {
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
    let mut command = Command::new(&bin);
    command
        .args(args)
        .env("CARGO_MANIFEST_DIR", root.join("xtask"));
    if let Some(dir) = target_dir_from_env() {
        command.env("CARGO_TARGET_DIR", dir);
    }
    let err = command.exec();
    eprintln!("error: starting {}: {err}", bin.display());
    ExitCode::FAILURE
}

/// Says what is about to be built, before cargo says anything: on a fresh clone the
/// build takes a minute or more, and the first thing a newcomer sees should be why.
fn building(player: bool) {
    eprintln!(
        "cargo xtask: building xtask, the project's commands (on a fresh clone this \
         compiles about 200 crates, a minute or more; then only what changed){}",
        if player {
            ", and beside it the browser player (theme/player, for wasm32)"
        } else {
            ""
        }
    );
}

/// The commands that build the book, and so the WebAssembly player.
fn needs_player(args: &[OsString]) -> bool {
    args.first()
        .is_some_and(|c| c == "present" || c == "build" || c == "pdf")
}

/// Starts the player's build (the same command xtask's `wasm.rs` runs) beside xtask's:
/// each has serial stretches (the last crates, the links) that leave a core idle, and
/// they lock different profile directories, so neither waits for the other. Quiet and
/// not waited for: xtask runs the same build when it needs the player, which then
/// finds it done (or waits for it, or reports why it failed, e.g. a missing wasm32
/// target, which xtask adds). Started through `sh -c '... &'`, so that it is nobody's
/// child once it ends (this process becomes xtask, which would never reap it), and in
/// our process group, so that a Ctrl-C stops it too. Nothing to report when it cannot
/// start: xtask builds the player itself then.
fn build_player_alongside(cargo: &dyn Fn() -> Command) {
    let build = cargo();
    let mut sh = Command::new("sh");
    sh.current_dir(root_of(&build))
        .args(["-c", "\"$0\" \"$@\" </dev/null >/dev/null 2>&1 &"])
        .arg(build.get_program())
        .args(["build", "--quiet", "--package", "player"])
        .args(["--target", "wasm32-unknown-unknown", "--profile", "wasm"]);
    for (key, value) in build.get_envs() {
        if let Some(value) = value {
            sh.env(key, value);
        }
    }
    let _ = sh.status();
}

/// The directory a command runs in (the checkout).
fn root_of(cmd: &Command) -> &Path {
    cmd.get_current_dir().unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A checkout with one demo `hello`, and a target dir whose release `hello` (a shell
    /// script) leaves a mark when it runs.
    fn fixture(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
        let root = tmp.join("repo");
        let source = root.join("demos/src/bin/hello.rs");
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        std::fs::create_dir_all(root.join("xtask")).unwrap();
        for manifest in ["Cargo.toml", "xtask/Cargo.toml", "demos/Cargo.toml"] {
            std::fs::write(root.join(manifest), "").unwrap();
        }
        std::fs::write(&source, "//! Hello.\n").unwrap();
        let target = tmp.join("target");
        let bin = target.join("release/hello");
        std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
        let mark = tmp.join("ran");
        std::fs::write(
            &bin,
            format!("#!/bin/sh\necho \"$@\" > {}\n", mark.display()),
        )
        .unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        let dep_info = format!("{}: {}\n", bin.display(), source.display());
        std::fs::write(bin.with_extension("d"), dep_info).unwrap();
        (root, target, mark)
    }

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(Into::into).collect()
    }

    #[test]
    fn only_the_commands_that_build_the_book_build_the_player_beside_xtask() {
        for yes in [&["present"][..], &["build", "--book", "x"], &["pdf"]] {
            assert!(needs_player(&args(yes)), "{yes:?}");
        }
        for no in [&[][..], &["demo", "present"], &["test"], &["capture"]] {
            assert!(!needs_player(&args(no)), "{no:?}");
        }
    }

    #[test]
    fn a_built_demo_runs_at_once_and_anything_else_goes_to_xtask() {
        let tmp = tempfile::tempdir().unwrap();
        let (root, target, mark) = fixture(tmp.path());
        for other in [
            &["demo"][..],
            &["build"],
            &["demo", "nope"],
            &["demo", "--help"],
            &["demo", "../bin/hello"],
        ] {
            assert!(
                built_demo(&root, &target, &args(other)).is_none(),
                "{other:?}"
            );
        }
        assert!(!mark.exists());

        let ran = built_demo(&root, &target, &args(&["demo", "hello", "--verbose"]));
        assert!(ran.is_some());
        assert_eq!(std::fs::read_to_string(&mark).unwrap().trim(), "--verbose");

        // Edited since the build: xtask (cargo) must build it first.
        std::fs::remove_file(&mark).unwrap();
        let source = root.join("demos/src/bin/hello.rs");
        let later = SystemTime::now() + std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&source)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert!(built_demo(&root, &target, &args(&["demo", "hello"])).is_none());
        assert!(!mark.exists());
    }
}
