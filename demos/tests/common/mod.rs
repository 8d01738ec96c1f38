//! What the demos' integration tests share: where cargo put the demos, and a check's
//! words without the numbers that change from run to run.

use std::path::{Path, PathBuf};

/// A demo's binary: cargo builds every binary of the package before its integration
/// tests, next to the `deps/` folder the test runs from.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target profile dir")
        .join(name)
}

/// `text` with each number (digits, and a decimal point inside one) replaced by
/// `mark`: `took 43.8 ms` → `took # ms`.
#[allow(dead_code)] // each test binary uses what it needs
pub fn without_numbers(text: &str, mark: char) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() || (in_number && c == '.') {
            if !in_number {
                out.push(mark);
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out
}
