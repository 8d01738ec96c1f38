//! Is a cargo build output up to date? Answered from the dep-info file cargo writes next
//! to it, without starting cargo (which costs 100–300 ms even when nothing changed).
//!
//! `cargo build` writes `OUT.d` beside every final artifact: a Makefile rule listing the
//! absolute path of every source file the artifact was compiled from. The output is
//! fresh when it and its dep-info exist, every listed file is in this checkout (a build
//! from another checkout sharing the target dir is not ours) and none of them, nor any
//! manifest, the lock file or the toolchain file, is newer than the output. What this
//! cannot see (another toolchain, RUSTFLAGS, features) only ever means cargo runs; a
//! "no" here is always safe.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Whether `output` (built by cargo, with `output.d` beside it) is newer than all it was
/// built from, and was built from this checkout (`root`).
pub fn is_fresh(output: &Path, root: &Path) -> bool {
    let Some(built) = modified(output) else {
        return false;
    };
    // Cargo leaves an up-to-date output untouched, so a manifest edited since (a comment,
    // a profile of another package) would make it look stale for ever: the stamp says
    // when cargo last confirmed it.
    let built = modified(&stamp(output)).map_or(built, |s| s.max(built));
    let Ok(dep_info) = std::fs::read_to_string(output.with_extension("d")) else {
        return false;
    };
    let Some(sources) = dep_info_sources(&dep_info) else {
        return false;
    };
    if sources.is_empty() || !sources.iter().all(|s| s.starts_with(root)) {
        return false;
    }
    inputs(root, &sources)
        .iter()
        .all(|input| modified(input).is_some_and(|t| t <= built))
}

/// Records that cargo, started at `since`, found or made `output` up to date.
pub fn mark_fresh(output: &Path, since: SystemTime) -> std::io::Result<()> {
    let stamp = stamp(output);
    std::fs::write(&stamp, b"")?;
    std::fs::File::options()
        .write(true)
        .open(&stamp)?
        .set_modified(since)
}

fn stamp(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".xtask-fresh");
    PathBuf::from(name)
}

/// The sources plus what cargo reads besides them: the manifest of each package they
/// belong to, the workspace manifest, the lock file and the toolchain and cargo configs.
fn inputs(root: &Path, sources: &[PathBuf]) -> Vec<PathBuf> {
    let mut manifests = BTreeSet::new();
    for source in sources {
        if let Some(package) = source
            .ancestors()
            .skip(1)
            .take_while(|d| d.starts_with(root))
            .find(|d| d.join("Cargo.toml").is_file())
        {
            manifests.insert(package.join("Cargo.toml"));
        }
    }
    let workspace = ["Cargo.toml", "Cargo.lock", "rust-toolchain.toml"]
        .iter()
        .map(|f| root.join(f))
        .filter(|p| p.exists());
    let config = root.join(".cargo/config.toml");
    sources
        .iter()
        .cloned()
        .chain(manifests)
        .chain(workspace)
        .chain(config.exists().then_some(config))
        .collect()
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The prerequisites of the first rule of a Makefile-style dep-info file: the words
/// after `OUTPUT:`, where `\ ` is a space inside a path. None when it has no rule.
fn dep_info_sources(dep_info: &str) -> Option<Vec<PathBuf>> {
    let first = dep_info.lines().find(|l| !l.trim().is_empty())?;
    // The output path may itself contain `: ` only as `\:`; split at the first bare `: `.
    let at = find_unescaped(first, ": ")?;
    let mut sources = Vec::new();
    let mut word = String::new();
    let mut chars = first[at + 2..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.extend(chars.next()),
            ' ' => {
                if !word.is_empty() {
                    sources.push(PathBuf::from(std::mem::take(&mut word)));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        sources.push(PathBuf::from(word));
    }
    Some(sources)
}

fn find_unescaped(line: &str, pattern: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].find(pattern) {
        let at = from + i;
        if !line[..at].ends_with('\\') {
            return Some(at);
        }
        from = at + pattern.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn touch(path: &Path, age: Duration) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "x").unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
    }

    #[test]
    fn dep_info_lists_sources_with_escaped_spaces() {
        let d = "/t/release/demo: /r/src/a\\ b.rs /r/src/lib.rs\n\n/r/src/lib.rs:\n";
        assert_eq!(
            dep_info_sources(d).unwrap(),
            [
                PathBuf::from("/r/src/a b.rs"),
                PathBuf::from("/r/src/lib.rs")
            ]
        );
        assert_eq!(dep_info_sources("no rule here"), None);
    }

    #[test]
    fn an_output_is_fresh_only_when_newer_than_every_input_of_this_checkout() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        let hour = Duration::from_secs(3600);
        touch(&root.join("Cargo.toml"), 3 * hour);
        touch(&root.join("Cargo.lock"), 3 * hour);
        touch(&root.join("demos/Cargo.toml"), 3 * hour);
        let src = root.join("demos/src/bin/peek.rs");
        touch(&src, 2 * hour);
        let out = tmp.path().join("target/release/peek");
        touch(&out, hour);
        std::fs::write(
            out.with_extension("d"),
            format!("{}: {}\n", out.display(), src.display()),
        )
        .unwrap();
        assert!(is_fresh(&out, &root));

        // A source edited after the build.
        touch(&src, Duration::ZERO);
        assert!(!is_fresh(&out, &root));
        // Until cargo confirms the output again (started after the edit).
        mark_fresh(&out, SystemTime::now()).unwrap();
        assert!(is_fresh(&out, &root));
        std::fs::remove_file(stamp(&out)).unwrap();
        touch(&src, 2 * hour);
        // The package manifest (a dependency added) after the build.
        touch(&root.join("demos/Cargo.toml"), Duration::ZERO);
        assert!(!is_fresh(&out, &root));
        touch(&root.join("demos/Cargo.toml"), 3 * hour);
        assert!(is_fresh(&out, &root));
        // Built from another checkout sharing the target dir.
        assert!(!is_fresh(&out, &tmp.path().join("other")));
        // No dep-info, or no output.
        std::fs::remove_file(out.with_extension("d")).unwrap();
        assert!(!is_fresh(&out, &root));
        assert!(!is_fresh(&tmp.path().join("target/release/none"), &root));
    }
}
