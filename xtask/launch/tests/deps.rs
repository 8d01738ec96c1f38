//! The launcher stays small: `cargo xtask` builds it before anything else on a fresh
//! clone and checks it on every run, so what it depends on is what a newcomer waits for
//! before the first line of progress.

use std::process::Command;

/// Crates that would bring a proc-macro toolchain (and seconds of compiling) into the
/// launcher.
const HEAVY: &[&str] = &[
    "serde",
    "serde_core",
    "serde_derive",
    "serde_json",
    "syn",
    "proc-macro2",
    "quote",
];

#[test]
fn the_launcher_builds_without_serde_or_syn() {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "tree",
            "-p",
            "xtask-launch",
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let heavy: Vec<&&str> = names.iter().filter(|n| HEAVY.contains(n)).collect();
    assert!(
        heavy.is_empty(),
        "the launcher depends on {heavy:?}:\n{tree}"
    );
    assert!(names.contains(&"contract"), "{tree}");
}
