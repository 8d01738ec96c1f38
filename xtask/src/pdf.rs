//! `cargo xtask pdf`: the deck as `book/talk.pdf`, one slide per page, printed by
//! headless Chromium from `print.html?print` (every chapter, in the deck's print
//! layout) served by a short-lived server on loopback.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use tower_http::services::ServeDir;

use crate::book::{self, Player};
use chromium::cdp;

const INSTALL_HINT: &str = "`cargo xtask pdf` needs Chromium (or Chrome) to print the deck; \
     install it with `apt-get install chromium` (Debian/Ubuntu) or `dnf install chromium` \
     (Fedora), or point CHROMIUM at the binary";

/// How long Chromium may take for any one step: start, load and lay out, print.
const PRINT_TIMEOUT: Duration = Duration::from_secs(120);

pub fn run(book_dir: Option<&Path>, notes: bool) -> Result<ExitCode> {
    let Some(chromium) = chromium::chromium() else {
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

/// Resolves once the player has laid the slides out for print (or, in a stock
/// `mdbook build` without a player, once the page and its fonts have loaded).
const READY: &str = r#"new Promise((resolve, reject) => {
  const t0 = Date.now();
  // Between about:blank and the page there is a moment without a root element.
  const settled = () => {
    const root = document.documentElement;
    return !!root && ["ready", "unavailable"].includes(root.dataset.player);
  };
  const tick = () => {
    if (settled()) {
      document.fonts.ready.then(() =>
        requestAnimationFrame(() => requestAnimationFrame(() => resolve(document.documentElement.dataset.player))));
    } else if (Date.now() - t0 > 60000) {
      reject(new Error("the deck's player did not start within 60 s"));
    } else {
      setTimeout(tick, 50);
    }
  };
  tick();
})"#;

/// Serves `site` on 127.0.0.1 and prints `page?print` to `pdf` once the player says
/// the slides are laid out; returns the page count.
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

    let query = if notes { "print&notes" } else { "print" };
    let url = format!("http://{addr}/{page}?{query}");
    let mut browser = cdp::Browser::launch(chromium, PRINT_TIMEOUT)?;
    let session = browser.open(&url)?;
    browser
        .eval_after_navigation(&session, READY)
        .with_context(|| format!("waiting for {url} to lay out its slides"))?;
    let bytes = browser
        .print_pdf(&session)
        .with_context(|| format!("printing {url}"))?;
    drop(browser);
    std::fs::write(pdf, &bytes).with_context(|| format!("writing {}", pdf.display()))?;
    let pages = chromium::pdf_page_count(&bytes);
    anyhow::ensure!(pages > 0, "{} has no pages", pdf.display());
    Ok(pages)
}
