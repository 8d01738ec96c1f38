//! What the tests need from the system besides Rust: Debian's Chromium and its
//! chromedriver for the browser tests (Playwright's own browser download cannot work on
//! our machines), pdftotext for the handout test, iproute2 (`ip`, `tc`) for the
//! demos that build network namespaces, Graphviz (`dot`) for the rST `graphviz`
//! directive's drawings, and tshark to read the `.pcap` files back. `cargo xtask test`
//! installs them itself where
//! it can (root with apt-get, as on CI), so the README's one test command is the set-up.

use std::path::PathBuf;

use anyhow::{Context, Result};
use xshell::{Shell, cmd};

/// How a tool's binary is found.
type Find = fn() -> Option<PathBuf>;

/// The Debian packages the browser tests need, and how each one's binary is found.
pub const BROWSER: &[(&str, Find)] = &[
    ("chromium", chromium::chromium),
    ("chromium-driver", chromium::chromedriver),
    ("poppler-utils", chromium::pdftotext),
    // npm installs axe-core (the accessibility audit) and reveal.js (the look comparison)
    // from tests/browser' lockfile.
    ("npm", npm),
];

fn npm() -> Option<PathBuf> {
    on_path("npm")
}

/// The Debian packages the demos need as root (network namespaces, queueing disciplines),
/// Graphviz, with which the deck draws rST `graphviz` graphs (without it they show as
/// source, with a warning), and tshark, which the test of the `.pcap` files reads them
/// with. (tshark asks a debconf question when installed; `DEBIAN_FRONTEND=noninteractive`
/// answers it.)
pub const DEMOS: &[(&str, Find)] = &[
    ("iproute2", iproute2),
    ("graphviz", graphviz),
    ("tshark", || on_path("tshark")),
];

fn graphviz() -> Option<PathBuf> {
    on_path("dot")
}

fn iproute2() -> Option<PathBuf> {
    ["ip", "tc"]
        .iter()
        .map(|tool| on_path(tool))
        .reduce(|a, b| a.and(b))?
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Fonts the slides fall back to for symbols the book's own fonts lack (✓, ▸).
const FONTS: &str = "fonts-dejavu-core";

/// The packages of `wanted` whose binary is missing.
pub fn missing(wanted: &[(&'static str, Find)]) -> Vec<&'static str> {
    wanted
        .iter()
        .filter(|(_, find)| find().is_none())
        .map(|(package, _)| *package)
        .collect()
}

/// Installs what is missing with apt-get when we are root on Debian (or a derivative
/// with Debian's package names); returns what is still missing (empty: all there).
pub fn ensure(sh: &Shell) -> Result<Vec<&'static str>> {
    let wanted = [BROWSER, DEMOS].concat();
    let missing = missing(&wanted);
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
        .context("installing them with apt-get")?;
    Ok(self::missing(&wanted))
}

fn can_install() -> bool {
    nix::unistd::geteuid().is_root() && PathBuf::from("/usr/bin/apt-get").is_file()
}
