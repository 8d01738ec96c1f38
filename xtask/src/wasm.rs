//! The browser player: `theme/player` compiled to wasm32, with its JavaScript glue
//! generated in-process by wasm-bindgen's own library (no wasm-bindgen-cli install).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use xshell::{Shell, cmd};

use xtask_launch::fresh;

use crate::project_root;

const TARGET: &str = "wasm32-unknown-unknown";

/// Installs the wasm target if rustup lacks it. Our machines set RUSTUP_AUTO_INSTALL=0,
/// so a `targets` line in rust-toolchain.toml would not do it.
pub fn ensure_target(sh: &Shell) -> Result<()> {
    let installed = cmd!(sh, "rustup target list --installed")
        .read()
        .context("asking rustup which targets are installed (is rustup on PATH?)")?;
    if !installed.lines().any(|l| l.trim() == TARGET) {
        eprintln!("adding the {TARGET} target (once)");
        cmd!(sh, "rustup target add {TARGET}")
            .run()
            .context("rustup target add")?;
    }
    Ok(())
}

/// Builds the player and writes `player.js` and `player_bg.wasm` into `out_dir`. Each step
/// is skipped when its output is newer than its inputs (see [`fresh`]), so a warm build
/// starts neither rustup nor cargo and does not regenerate the glue.
pub fn build_player(sh: &Shell, out_dir: &Path) -> Result<()> {
    let root = project_root();
    let wasm = target_dir(sh)?
        .join(TARGET)
        .join("wasm")
        .join("player.wasm");
    if !fresh::is_fresh(&wasm, &root) {
        ensure_target(sh)?;
        let _dir = sh.push_dir(&root);
        let started = std::time::SystemTime::now();
        cmd!(
            sh,
            "cargo build --quiet --package player --target {TARGET} --profile wasm"
        )
        .run()
        .context("building theme/player for wasm32")?;
        fresh::mark_fresh(&wasm, started)
            .with_context(|| format!("stamping {}", wasm.display()))?;
    }
    if !wasm.exists() {
        bail!("cargo did not produce {}", wasm.display());
    }
    let glue = out_dir.join("player_bg.wasm");
    if newer_or_same(&glue, &wasm) && out_dir.join("player.js").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .context("wasm-bindgen --target web")?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(out_dir)
        .with_context(|| format!("generating the player's JS glue into {}", out_dir.display()))?;
    Ok(())
}

/// Whether `a` exists and was written no earlier than `b`.
fn newer_or_same(a: &Path, b: &Path) -> bool {
    let time = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((time(a), time(b)), (Some(a), Some(b)) if a >= b)
}

/// Cargo's target directory ([`xtask_launch::target_dir`]), else what `cargo metadata`
/// says (one more cargo start, about 100 ms).
pub fn target_dir(sh: &Shell) -> Result<PathBuf> {
    if let Some(dir) = xtask_launch::target_dir() {
        return Ok(dir);
    }
    let meta = cmd!(sh, "cargo metadata --format-version 1 --no-deps")
        .quiet()
        .read()
        .context("cargo metadata")?;
    let meta: serde_json::Value = serde_json::from_str(&meta).context("parsing cargo metadata")?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}
