//! Headless Chromium as this project drives it, defined once for `cargo xtask pdf`
//! and the browser tests: where the binaries are, how the browser is started, and
//! [`cdp`], just enough of the DevTools protocol to print a page once it is ready.

#![forbid(unsafe_code)]

pub mod cdp;

use std::path::PathBuf;

/// Flags for a quiet headless Chromium on a machine with no network: no sandbox
/// (CI runs as root) and none of the browser's own background traffic.
pub const HEADLESS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Chromium's names on PATH, in the order they are tried.
const BROWSERS: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The browser: `$CHROMIUM`, or the first known name on PATH.
pub fn chromium() -> Option<PathBuf> {
    from_env_or_path("CHROMIUM", BROWSERS)
}

/// The WebDriver server the browser tests use: `$CHROMEDRIVER`, or `chromedriver` on PATH.
pub fn chromedriver() -> Option<PathBuf> {
    from_env_or_path("CHROMEDRIVER", &["chromedriver"])
}

/// poppler's `pdftotext`, which reads a printed handout back: `$PDFTOTEXT` or PATH.
pub fn pdftotext() -> Option<PathBuf> {
    from_env_or_path("PDFTOTEXT", &["pdftotext"])
}

/// Pages in a PDF (as Chromium writes them): its `/Type /Page` objects, not `/Pages`.
pub fn pdf_page_count(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && !w[needle.len()].is_ascii_alphanumeric())
        .count()
}

fn from_env_or_path(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(var) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pages_are_counted_without_the_page_tree() {
        let pdf = b"1 0 obj << /Type /Pages /Count 2 >> 2 0 obj << /Type /Page /Parent 1 0 R >> 3 0 obj << /Type /Page\n>>";
        assert_eq!(super::pdf_page_count(pdf), 2);
        assert_eq!(super::pdf_page_count(b"nothing"), 0);
    }
}
