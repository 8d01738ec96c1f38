//! Two checkouts, one target directory: `cargo xtask` acts on the checkout it was
//! started in, not on the one its binary was first built in.
//!
//! This is what a shared `CARGO_TARGET_DIR` (CI caches, a developer's global target dir)
//! or a moved clone does: cargo finds the binary fresh and reuses it, so any path compiled
//! into it names the other checkout. The test copies this checkout twice, renames a demo
//! in the second copy (which changes no source of xtask, so cargo keeps the binary),
//! builds xtask once in the first, and asks each copy for its demo list.
//!
//! In a file of its own: it rebuilds `target/debug/xtask`, which the other xtask tests
//! run, and cargo runs test files one after another.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Copies a checkout's files, without build output or git's store.
fn copy_checkout(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if [".git", "target", "book"].iter().any(|n| name == *n) {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_checkout(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// `cargo xtask demo` in `checkout`, with the target directory the tests were built in.
fn list_demos(checkout: &Path, target: &Path) -> String {
    let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["xtask", "demo"])
        .current_dir(checkout)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .expect("running cargo xtask");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "cargo xtask demo in {}: {text}{}",
        checkout.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

// Cargo names a path crate's files by its path inside the workspace, so the copies
// overwrite the running tests' own libraries in the shared target dir (a doctest run
// after it then links a library built from the copy). `cargo xtask test` runs it last.
#[test]
#[ignore = "rebuilds this workspace's crates from copies in the shared target dir; `cargo xtask test` runs it last, alone"]
fn each_checkout_sharing_a_target_dir_lists_its_own_demos() {
    // The checkout under test, as cargo says at run time (a reused test binary may not be ours).
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let repo = manifest.parent().unwrap();
    // target/debug/deps/two_clones-HASH: three levels below the target directory.
    let exe = std::env::current_exe().unwrap();
    let target: PathBuf = exe.ancestors().nth(3).unwrap().to_path_buf();
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    copy_checkout(repo, &a);
    copy_checkout(repo, &b);
    let bin = b.join("demos/src/bin");
    std::fs::rename(
        bin.join("read-without-consuming.rs"),
        bin.join("only-in-clone-b.rs"),
    )
    .unwrap();

    let in_a = list_demos(&a, &target);
    let in_b = list_demos(&b, &target);
    let names = |listing: &str| -> Vec<String> {
        listing
            .lines()
            .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
            .collect()
    };
    assert!(
        names(&in_a).contains(&"read-without-consuming".into()),
        "{in_a}"
    );
    assert!(!names(&in_a).contains(&"only-in-clone-b".into()), "{in_a}");
    assert!(
        names(&in_b).contains(&"only-in-clone-b".into()),
        "clone b listed another checkout's demos: {in_b}"
    );
    assert!(
        !names(&in_b).contains(&"read-without-consuming".into()),
        "{in_b}"
    );
}
