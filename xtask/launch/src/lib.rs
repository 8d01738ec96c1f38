//! What `cargo xtask` runs first (the alias in `.cargo/config.toml` names this package).
//!
//! Cargo checks a package's whole dependency graph before `cargo run` starts it; for
//! xtask (mdbook, axum, tokio, wasm-bindgen) that check alone is most of the time to a
//! demo's first line. This package depends on nearly nothing, so cargo's check is short;
//! it then starts the built xtask, or a built demo for `cargo xtask demo NAME`, directly
//! when cargo's own dep-info says they are up to date ([`fresh`]), and asks cargo to
//! build them otherwise. Either way it acts on the checkout it was started in
//! ([`find_root`]), never on a path compiled into a binary.

#![forbid(unsafe_code)]

pub mod fresh;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The workspace root of the checkout we run in: found from the `CARGO_MANIFEST_DIR` that
/// `cargo run` (and so `cargo xtask`) sets at run time, else from the current directory
/// (the binary started by hand). Either way it is the nearest directory upwards that
/// holds this workspace's `Cargo.toml` and `xtask/Cargo.toml`.
pub fn find_root(manifest_dir: Option<PathBuf>, cwd: &Path) -> Result<PathBuf, String> {
    let is_root =
        |dir: &Path| dir.join("Cargo.toml").is_file() && dir.join("xtask/Cargo.toml").is_file();
    let starts = manifest_dir.into_iter().chain([cwd.to_path_buf()]);
    for start in starts {
        let start = if start.is_absolute() {
            start
        } else {
            cwd.join(start)
        };
        if let Some(root) = start.ancestors().find(|d| is_root(d)) {
            return Ok(root.to_path_buf());
        }
    }
    Err(format!(
        "{} is not inside this talk's repository (no Cargo.toml with an xtask/ next to it above it); run `cargo xtask` from the checkout",
        cwd.display()
    ))
}

/// Cargo's target directory: CARGO_TARGET_DIR, else the one the running binary was built
/// into (`cargo run` starts TARGET/debug/NAME; cargo marks TARGET with CACHEDIR.TAG).
/// None when neither says (the binary was copied elsewhere): then ask cargo.
pub fn target_dir() -> Option<PathBuf> {
    if let Some(dir) = target_dir_from_env() {
        return Some(dir);
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?;
    dir.join("CACHEDIR.TAG")
        .is_file()
        .then(|| dir.to_path_buf())
}

/// CARGO_TARGET_DIR made absolute: cargo reads a relative one from where it was started,
/// and the cargo and xtask this launcher starts run from the repository root.
pub fn target_dir_from_env() -> Option<PathBuf> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")?;
    std::path::absolute(&dir).ok()
}

/// Runs a built demo with the terminal as its stdio (output streams as it prints) and
/// says so when the kernel did not agree; the exit status is the demo's.
pub fn run_demo(bin: &Path, name: &str, args: &[std::ffi::OsString]) -> std::io::Result<ExitCode> {
    let status = std::process::Command::new(bin).args(args).status()?;
    let code = status.code().unwrap_or(contract::exit::ERROR);
    let verdict = contract::Status::from_exit_code(code);
    if verdict != contract::Status::Passed {
        eprintln!("demo {name}: {verdict} (exit {code})");
    }
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_found_from_run_time_paths_not_the_compiled_in_one() {
        let tmp = tempfile::tempdir().unwrap();
        let checkout = tmp.path().join("clone");
        std::fs::create_dir_all(checkout.join("xtask/src")).unwrap();
        std::fs::write(checkout.join("Cargo.toml"), "").unwrap();
        std::fs::write(checkout.join("xtask/Cargo.toml"), "").unwrap();
        let deep = checkout.join("xtask/src");
        // From cargo's CARGO_MANIFEST_DIR, wherever the user stands.
        assert_eq!(
            find_root(Some(checkout.join("xtask")), tmp.path()),
            Ok(checkout.clone())
        );
        // From the current directory, when the binary is started by hand.
        assert_eq!(find_root(None, &deep), Ok(checkout.clone()));
        let err = find_root(None, tmp.path()).unwrap_err();
        assert!(err.contains("not inside this talk's repository"), "{err}");
    }
}
