//! Run live, in a real browser: `cargo xtask present` serves the talk, Chromium clicks
//! "Run live" on a demo figure, and the demo's real output streams into the slide.
//! Also measures click-to-first-output (printed, not asserted beyond a sanity bound),
//! and checks that saving a slide reloads an open page on the slide it showed, and that
//! a page of another origin cannot frame the deck (so it cannot trick a click on Run live).

#![forbid(unsafe_code)]

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use browser_tests::{
    BOOK, Driver, Present, browser, copy_tree, js, live_ready, run_live, screenshot, slide_of_demo,
    wait_for,
};

const DEMO: &str = "read-without-consuming";

/// The page of the built talk whose slide embeds [`DEMO`]'s terminal.
fn page_with_demo() -> Result<String> {
    Ok(slide_of_demo(DEMO)?.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_live_streams_the_real_demo_into_the_slide() -> Result<()> {
    // Tests that serve the talk itself take turns: each `present` rebuilds `book/`, and
    // two rebuilds at once trip over each other's files.
    let _talk = BOOK.lock().await;
    browser_tests::on_present(&[], async |c, present| {
        let page = page_with_demo()?;
        c.goto(&format!("{}{page}", present.url)).await?;
        let figure = format!("document.querySelector('figure.demo[data-demo=\"{DEMO}\"]')");
        live_ready(c, &figure).await?;
        // Click, and time the first output appearing in the terminal.
        let watch = format!(
                "const f = {figure}; const samp = f.querySelector('pre.terminal samp');
                 window.__live = {{}};
                 new MutationObserver(() => {{
                   if (!window.__live.first && samp.textContent.length > 0) window.__live.first = performance.now();
                 }}).observe(samp, {{ childList: true, subtree: true, characterData: true }});
                 window.__live.click = performance.now();"
            );
        run_live(c, &figure, &watch).await?;
        let seen = js(
            c,
            &format!(
                "const f = {figure}; return [f.querySelector('pre.terminal samp').textContent,
                 f.querySelector('.demo-meta').textContent, window.__live.first - window.__live.click];"
            ),
        )
        .await?;
        let terminal = seen[0].as_str().unwrap_or_default();
        let meta = seen[1].as_str().unwrap_or_default();
        let latency = seen[2].as_f64().unwrap_or(f64::NAN);
        eprintln!("click to first output: {latency:.0} ms (server, demo start, stream, render)");
        ensure!(terminal.contains("PASS"), "the live output has no verdict: {terminal}");
        ensure!(meta.starts_with("live run · passed"), "meta says {meta:?}");
        ensure!(latency.is_finite() && latency < 2000.0, "first output after {latency} ms");
        screenshot(c, "run-live").await?;
        // And back to the captured run.
        js(c, &format!("{figure}.querySelector('.demo-show-captured').click(); return true;")).await?;
        wait_for(c, &format!("{figure}.dataset.state === 'captured'"), Duration::from_secs(5)).await?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saving_a_slide_reloads_open_pages_on_the_same_slide() -> Result<()> {
    let (chromium, chromedriver) = browser()?;
    // A private copy of the fixture book: the test edits a chapter.
    let dir = std::env::temp_dir().join(format!("deck-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_tree(&browser_tests::fixture_book(), &dir)?;
    let present = Present::start(&["--book".as_ref(), dir.as_os_str()])?;
    let driver = Driver::start(&chromedriver)?;
    let c = driver.session(&chromium).await?;
    let result = async {
        c.goto(&format!("{}opening.html?slides#slide-2", present.url))
            .await?;
        wait_for(
            &c,
            "document.documentElement.dataset.present === 'true'",
            Duration::from_secs(10),
        )
        .await?;
        js(&c, "window.__before_reload = true; return true;").await?;
        let chapter = dir.join("src/opening.md");
        let text = std::fs::read_to_string(&chapter)?;
        let saved = std::time::Instant::now();
        std::fs::write(&chapter, format!("{text}\nSaved during the talk.\n"))?;
        wait_for(
            &c,
            "window.__before_reload === undefined",
            Duration::from_secs(5),
        )
        .await
        .context("the page did not reload after the save")?;
        let took = saved.elapsed();
        wait_for(
            &c,
            "document.body.textContent.includes('Saved during the talk.')",
            Duration::from_secs(5),
        )
        .await?;
        let hash = js(&c, "return location.hash;").await?;
        eprintln!(
            "save to reloaded page: {:.0} ms",
            took.as_secs_f64() * 1000.0
        );
        ensure!(
            hash == "#slide-2",
            "the reloaded page is on {hash}, not #slide-2"
        );
        // A hang detector; the figure is printed above (0.8 s here).
        ensure!(took < Duration::from_secs(10), "reload took {took:?}");
        Ok::<(), anyhow::Error>(())
    }
    .await;
    let _ = c.close().await;
    drop(present);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Serves one page on another origin (another port) of loopback: the deck page in a
/// nearly transparent iframe, as a clickjacking page would. Returns its URL.
async fn hostile_page(deck_page: &str) -> Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let html = format!(
        "<!doctype html><title>win a prize</title><p>Click the button!</p>\
         <iframe src=\"{deck_page}\" style=\"opacity:0.05;width:1200px;height:800px\" \
         onload=\"window.__framed = true\"></iframe>"
    );
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
                html.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(html.as_bytes()).await;
        }
    });
    Ok(url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_origin_cannot_frame_the_deck_so_run_live_cannot_be_clicked() -> Result<()> {
    let _talk = BOOK.lock().await;
    browser_tests::on_present(&[], async |c, present| {
        let page = page_with_demo()?;
        let deck_page = format!("{}{page}", present.url);
        let hostile = hostile_page(&deck_page).await?;
        let button = format!("document.querySelector('figure.demo[data-demo=\"{DEMO}\"] .demo-run-live')");
        // The control: on its own, the page shows Run live.
        c.goto(&deck_page).await?;
        wait_for(c, &format!("{button} !== null"), Duration::from_secs(10))
            .await
            .context("Run live did not appear on the deck itself")?;
        // Framed by another origin, the deck is not even loaded.
        c.goto(&hostile).await?;
        wait_for(c, "window.__framed === true", Duration::from_secs(10))
            .await
            .context("the hostile page's frame never loaded")?;
        // Give a deck that did load time to add its controls, as it did above.
        tokio::time::sleep(Duration::from_secs(2)).await;
        c.clone().enter_frame(0).await?;
        let inside = js(
            c,
            &format!("return [location.href, {button} !== null, document.querySelectorAll('figure.demo').length];"),
        )
        .await?;
        eprintln!("inside the hostile page's frame: {inside}");
        ensure!(inside[1] == false, "Run live is clickable in a frame of another origin: {inside}");
        ensure!(inside[2] == 0, "the deck rendered inside a frame of another origin: {inside}");
        Ok(())
    })
    .await
}
