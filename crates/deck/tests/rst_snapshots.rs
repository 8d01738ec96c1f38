//! Snapshots: the Markdown (and warnings) the reader makes of every fixture, stored in
//! `tests/rst/snapshots/`, so any change in output shows up as a diff to review.
//! `UPDATE_SNAPSHOTS=1 cargo test -p deck --test rst_snapshots` rewrites them.

use std::path::{Path, PathBuf};

use deck::rst;

fn fixtures() -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rst");
    let mut out = Vec::new();
    for dir in [base.clone(), base.join("constructs")] {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "rst") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// What a snapshot holds: the Markdown, then each warning and error at its line.
fn snapshot(path: &Path) -> String {
    let src = std::fs::read_to_string(path).expect("reading a fixture");
    let dir = path.parent().expect("a fixture's directory").to_path_buf();
    let options = rst::Options {
        files: Some(rst::Files {
            dir: dir.clone(),
            root: dir,
        }),
        ..rst::Options::default()
    };
    let c = rst::convert(&src, &options);
    let mut out = c.markdown;
    for w in &c.warnings {
        out.push_str(&format!("<!-- warning {}: {} -->\n", w.line, w.message));
    }
    for e in &c.reported {
        out.push_str(&format!("<!-- reported {}: {} -->\n", e.line, e.message));
    }
    for e in &c.errors {
        out.push_str(&format!("<!-- error {}: {} -->\n", e.line, e.message));
    }
    out
}

#[test]
fn every_fixture_converts_as_its_snapshot_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rst/snapshots");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut stale = Vec::new();
    for path in fixtures() {
        let parent = path.parent().and_then(Path::file_name).unwrap_or_default();
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let name = if parent == "constructs" {
            format!("constructs-{stem}.md")
        } else {
            format!("{stem}.md")
        };
        let got = snapshot(&path);
        let file = dir.join(&name);
        if update {
            std::fs::create_dir_all(&dir).expect("creating the snapshot directory");
            std::fs::write(&file, &got).expect("writing a snapshot");
            continue;
        }
        match std::fs::read_to_string(&file) {
            Ok(want) if want == got => {}
            Ok(want) => {
                let line = want
                    .lines()
                    .zip(got.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(want.lines().count().min(got.lines().count()));
                stale.push(format!("{name}: differs from line {}", line + 1));
            }
            Err(_) => stale.push(format!("{name}: no snapshot")),
        }
    }
    assert!(
        stale.is_empty(),
        "{}\n(review, then rerun with UPDATE_SNAPSHOTS=1)",
        stale.join("\n")
    );
}
