//! `cargo xtask pdf`: the deck as `book/talk.pdf`, one slide per page, printed by
//! headless Chromium from `print.html?print` (every chapter, in the deck's print
//! layout) served by a short-lived server on loopback.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tower_http::services::ServeDir;

use crate::book::{self, Player};

/// Browsers that can print to PDF headless, in the order we try them.
const BROWSERS: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

const INSTALL_HINT: &str = "`cargo xtask pdf` needs Chromium (or Chrome) to print the deck; \
     install it with `apt-get install chromium` (Debian/Ubuntu) or `dnf install chromium` \
     (Fedora), or point CHROMIUM at the binary";

/// How long Chromium may take to load, lay out and print the whole deck.
const PRINT_TIMEOUT: Duration = Duration::from_secs(120);

pub fn run(book_dir: Option<&Path>, notes: bool) -> Result<ExitCode> {
    let Some(chromium) = find_chromium() else {
        eprintln!("{INSTALL_HINT}");
        return Ok(ExitCode::FAILURE);
    };
    let root = book::book_root(book_dir)?;
    let out = book::build(&root, false, Player::Rebuild)?;
    let pdf = out.join("talk.pdf");
    let pages = print(&chromium, &out, "print.html", notes, &pdf)?;
    println!("wrote {} ({pages} pages)", pdf.display());
    Ok(ExitCode::SUCCESS)
}

/// `$CHROMIUM`, or the first known browser on PATH.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| BROWSERS.iter().map(move |b| dir.join(b)))
        .find(|p| p.is_file())
}

/// Serves `site` on 127.0.0.1 and prints `page?print` to `pdf`; returns the page count.
pub fn print(chromium: &Path, site: &Path, page: &str, notes: bool, pdf: &Path) -> Result<usize> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .context("listening on 127.0.0.1")?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().fallback_service(ServeDir::new(site));
    runtime.spawn(async move { axum::serve(listener, app).await });

    let profile = std::env::temp_dir().join(format!("deck-pdf-{}", std::process::id()));
    let query = if notes { "print&notes" } else { "print" };
    let url = format!("http://{addr}/{page}?{query}");
    let _ = std::fs::remove_file(pdf);
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
            // Time for the player (WebAssembly) to load and lay the slides out.
            "--virtual-time-budget=15000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(&url)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", chromium.display()))?;
    let t0 = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if t0.elapsed() > PRINT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&profile);
            bail!(
                "{} did not finish printing {url} in {PRINT_TIMEOUT:?}",
                chromium.display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = std::fs::remove_dir_all(&profile);
    let bytes = std::fs::read(pdf).with_context(|| {
        format!(
            "{} exited with {status} and wrote no {}",
            chromium.display(),
            pdf.display()
        )
    })?;
    let pages = page_count(&bytes);
    anyhow::ensure!(pages > 0, "{} has no pages", pdf.display());
    Ok(pages)
}

/// Pages in a PDF: its `/Type /Page` objects (not `/Pages`).
pub fn page_count(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| w.starts_with(needle) && !w[needle.len()].is_ascii_alphanumeric())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_counted_without_the_page_tree() {
        let pdf = b"1 0 obj << /Type /Pages /Count 2 >> 2 0 obj << /Type /Page /Parent 1 0 R >> 3 0 obj << /Type /Page\n>>";
        assert_eq!(page_count(pdf), 2);
        assert_eq!(page_count(b"nothing"), 0);
    }
}
