//! The built talk loads nothing from another host (defect 11 of issue 27): every
//! chapter, in the reading view and in the slide view, opened in headless Chromium
//! whose proxy is a recorder on loopback. Chromium reaches 127.0.0.1 directly and
//! everything else only through the proxy, so any request to another host (a script,
//! a font, mdBook's playground crate list) is recorded there; the page's own resource
//! list is checked too. The same file checks that a slide view whose player cannot
//! load says so and never shows the reading page with its notes (defect 2).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use browser_tests::{Driver, Server, browser, chapter_pages, js};
use fantoccini::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A proxy that answers every request 502 and remembers its first line.
async fn recorder() -> Result<(SocketAddr, Arc<Mutex<Vec<String>>>)> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .unwrap_or(0);
                let text = String::from_utf8_lossy(&buf[..n]);
                let line = text.lines().next().unwrap_or("(nothing)").to_string();
                record.lock().unwrap_or_else(|e| e.into_inner()).push(line);
                let _ = s
                    .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    Ok((addr, seen))
}

/// Chromium's own services (not any page's), which it may call through the proxy
/// whatever the flags below say: exact host names, none a page would load from.
const CHROMIUM_SERVICES: &[&str] = &[
    "content-autofill.googleapis.com",
    "optimizationguide-pa.googleapis.com",
    "update.googleapis.com",
    "safebrowsing.googleapis.com",
    "clients2.google.com",
    "accounts.google.com",
    "android.clients.google.com",
];

/// Whether a line the proxy recorded is a page's request: not an empty connection (a
/// preconnect) nor one of Chromium's own services.
fn from_a_page(line: &str) -> bool {
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let host = target
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .split([':', '/'])
        .next()
        .unwrap_or("");
    line != "(nothing)" && !CHROMIUM_SERVICES.contains(&host)
}

/// A Chromium session (the usual one: [`Driver::session`]) whose every request to
/// another host goes to `proxy`.
async fn session(driver: &Driver, chromium: &std::path::Path, proxy: SocketAddr) -> Result<Client> {
    let extra = [
        format!("--proxy-server=http://{proxy}"),
        // Chromium's own traffic, which is not the deck's.
        "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate"
            .into(),
        "--disable-client-side-phishing-detection".into(),
        "--disable-domain-reliability".into(),
        "--disable-default-apps".into(),
        "--disable-extensions".into(),
        "--no-pings".into(),
    ];
    driver.session_with(chromium, &extra).await
}

/// The URLs of every resource the page loaded that are not on 127.0.0.1.
async fn foreign_resources(c: &Client) -> Result<Vec<String>> {
    let list = js(
        c,
        "return performance.getEntriesByType('resource').map(e => e.name)
           .filter(u => !/^(https?:\\/\\/127\\.0\\.0\\.1[:/]|data:|blob:)/.test(u));",
    )
    .await?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chapter_in_both_views_loads_nothing_from_another_host() -> Result<()> {
    let (chromium, chromedriver) = browser()?;
    let site = browser_tests::build_talk()?;
    let server = Server::start(&site).await?;
    let (proxy, seen) = recorder().await?;
    let driver = Driver::start(&chromedriver)?;
    let c = session(&driver, &chromium, proxy).await?;
    let outcome = async {
        // The proxy works: a request to another host reaches it (and goes no further).
        c.goto("http://example.invalid/probe").await.ok();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let probe = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
        ensure!(
            probe.iter().any(|l| l.contains("example.invalid")),
            "the recording proxy saw no request: {probe:?}"
        );
        let mut foreign = Vec::new();
        let pages = chapter_pages(&site)?;
        ensure!(!pages.is_empty(), "no chapters in {}", site.display());
        for (page, _) in &pages {
            for view in ["", "?slides"] {
                let url = server.url(&format!("{page}{view}"));
                c.goto(&url).await?;
                // mdBook's scripts run at load; give late fetches their moment.
                tokio::time::sleep(Duration::from_millis(1500)).await;
                for r in foreign_resources(&c).await? {
                    foreign.push(format!("{url}: {r}"));
                }
                let proxied = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
                for line in proxied {
                    if from_a_page(&line) {
                        foreign.push(format!("{url}: {line}"));
                    } else {
                        eprintln!("ignored (Chromium's own): {line}");
                    }
                }
            }
        }
        eprintln!("{} chapter(s) in both views checked", pages.len());
        ensure!(
            foreign.is_empty(),
            "requests to another host:\n  {}",
            foreign.join("\n  ")
        );
        Ok(())
    }
    .await;
    let _ = c.close().await;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slide_view_without_its_player_says_so_and_never_shows_the_notes() -> Result<()> {
    let (chromium, chromedriver) = browser()?;
    let fixture = browser_tests::build_fixture()?;
    // A copy of the built book without its player, as a failed deploy would leave it.
    let broken = std::env::temp_dir().join(format!("deck-no-player-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&broken);
    browser_tests::copy_tree(&fixture, &broken)?;
    for file in ["player.js", "player_bg.wasm"] {
        std::fs::remove_file(broken.join("deck").join(file))?;
    }
    let server = Server::start(&broken).await?;
    let (proxy, _) = recorder().await?;
    let driver = Driver::start(&chromedriver)?;
    let c = session(&driver, &chromium, proxy).await?;
    let outcome = async {
        // A chapter (mdBook's 404 page is made for the site's root, not a sub-path).
        let (page, _) = chapter_pages(&broken)?
            .into_iter()
            .find(|(name, _)| name != "404.html")
            .context("a chapter")?;
        c.goto(&server.url(&format!("{page}?slides"))).await?;
        // Past the loader's 4 s, when the old loader showed the reading page.
        tokio::time::sleep(Duration::from_millis(5500)).await;
        let state = js(
            &c,
            "const note = document.querySelector('.deck-unavailable');
             return [getComputedStyle(document.body).visibility,
                     note ? getComputedStyle(note).visibility + '|' + note.textContent : ''];",
        )
        .await?;
        ensure!(
            state[0] == "hidden",
            "the reading page (with its notes) shows in the slide view: {state}"
        );
        let note = state[1].as_str().unwrap_or("");
        ensure!(
            note.starts_with("visible|") && note.contains("cannot start"),
            "the page does not say why the slides are missing: {state}"
        );
        Ok(())
    }
    .await;
    let _ = c.close().await;
    let _ = std::fs::remove_dir_all(&broken);
    outcome
}
