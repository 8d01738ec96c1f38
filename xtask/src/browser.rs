//! The browser the tests and `cargo xtask pdf` drive: Debian's Chromium and its
//! chromedriver (Playwright's own browser download cannot work on our machines), plus
//! pdftotext for the handout test. `cargo xtask test` installs them itself where it
//! can (root with apt-get, as on CI), so the README's one test command is the set-up.

use std::path::PathBuf;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// The Debian packages, and the files that show each is there.
const PACKAGES: &[(&str, &str, &str)] = &[
    ("chromium", "CHROMIUM", "/usr/bin/chromium"),
    ("chromium-driver", "CHROMEDRIVER", "/usr/bin/chromedriver"),
    ("poppler-utils", "PDFTOTEXT", "/usr/bin/pdftotext"),
];

/// Fonts the slides fall back to for symbols the book's own fonts lack (✓, ▸).
const FONTS: &str = "fonts-dejavu-core";

/// The packages whose binary is missing (`CHROMIUM`, `CHROMEDRIVER` and `PDFTOTEXT`
/// point elsewhere).
pub fn missing() -> Vec<&'static str> {
    PACKAGES
        .iter()
        .filter(|(_, var, default)| {
            !std::env::var_os(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| default.into())
                .is_file()
        })
        .map(|(package, _, _)| *package)
        .collect()
}

/// Installs what is missing with apt-get when we are root on a Debian-like system;
/// returns what is still missing (empty: everything is there).
pub fn ensure(sh: &Shell) -> Result<Vec<&'static str>> {
    let missing = missing();
    if missing.is_empty() || !can_install() {
        return Ok(missing);
    }
    eprintln!("installing {} with apt-get (once)", missing.join(", "));
    let _frontend = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get update -qq")
        .run()
        .context("apt-get update")?;
    cmd!(sh, "apt-get install -y -qq {missing...} {FONTS}")
        .run()
        .context("installing the browser with apt-get")?;
    Ok(self::missing())
}

fn can_install() -> bool {
    nix::unistd::geteuid().is_root() && PathBuf::from("/usr/bin/apt-get").is_file()
}
