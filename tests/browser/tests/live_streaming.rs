//! Run live streams, in a real browser: a demo of the talk that pauses after its first
//! line (picked from the captured runs: the longest pause after the first line) runs
//! live, and its first line must be on the page while the demo is still pausing, not
//! when it ends. A server, player or proxy that holds the output until the exit fails
//! this; a demo that ends in a few milliseconds could not tell.

#![forbid(unsafe_code)]

use anyhow::{Context, Result, ensure};
use browser_tests::{js, live_ready, run_live, slide_of_demo, workspace_root};

/// The shortest pause after the first line that can tell streaming from holding back.
const MIN_PAUSE_MS: f64 = 500.0;
/// Output chunks closer than this are one burst of output.
const BURST_MS: f64 = 50.0;

/// The demo of the talk whose captured run pauses longest after its first line, with
/// that pause in ms, and the page that embeds it.
fn pausing_demo() -> Result<(String, f64, String)> {
    let transcripts = workspace_root().join("demos/transcripts");
    let mut best: Option<(String, f64)> = None;
    for entry in std::fs::read_dir(&transcripts)
        .with_context(|| format!("listing {}", transcripts.display()))?
    {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let run: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if run["outcome"]["status"] != "passed" {
            continue;
        }
        // The first output may come in several pipe reads a few ms apart (how the
        // kernel splits a demo's first lines is chance): the pause is the first gap
        // after that first burst.
        let times: Vec<f64> = run["chunks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["at_ms"].as_f64())
            .collect();
        let Some(&first) = times.first() else {
            continue;
        };
        let Some(second) = times
            .windows(2)
            .find(|w| w[1] - w[0] >= BURST_MS)
            .map(|w| w[1])
        else {
            continue;
        };
        let first = times
            .iter()
            .copied()
            .take_while(|&t| t < second)
            .fold(first, f64::max);
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if best
            .as_ref()
            .is_none_or(|(_, pause)| second - first > *pause)
        {
            best = Some((name, second - first));
        }
    }
    let (name, pause) = best.context("no captured run of a demo that passed")?;
    ensure!(
        pause >= MIN_PAUSE_MS,
        "no demo pauses after its first line (longest: {name}, {pause} ms)"
    );
    // The page with the demo's terminal figure (a chart or a ladder of the same demo
    // may be on another page).
    let (page, _) = slide_of_demo(&name)?;
    Ok((name, pause, page))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_live_shows_the_first_line_while_the_demo_still_runs() -> Result<()> {
    browser_tests::on_present(&[], async |c, present| {
        let (demo, pause, page) = pausing_demo()?;
        c.goto(&format!("{}{page}", present.url)).await?;
        let figure = format!("document.querySelector('figure.demo[data-demo=\"{demo}\"]')");
        live_ready(c, &figure).await?;
        // What the terminal shows the moment output first appears, and when the run ends.
        let watch = format!(
                "const f = {figure}; const samp = f.querySelector('pre.terminal samp');
                 window.__live = {{}};
                 new MutationObserver(() => {{
                   if (window.__live.first === undefined && window.__live.click !== undefined && samp.textContent.length > 0) {{
                     window.__live.first = performance.now();
                     window.__live.text = samp.textContent;
                     window.__live.state = f.dataset.state;
                   }}
                 }}).observe(samp, {{ childList: true, subtree: true, characterData: true }});
                 new MutationObserver(() => {{
                   if (f.dataset.state === 'live-done') window.__live.done = performance.now();
                 }}).observe(f, {{ attributes: true, attributeFilter: ['data-state'] }});
                 window.__live.click = performance.now();"
            );
        run_live(c, &figure, &watch).await?;
        let seen = js(
            c,
            "const l = window.__live; return [l.text ?? '', l.state ?? '', l.first - l.click, l.done - l.first];",
        )
        .await?;
        let text = seen[0].as_str().unwrap_or_default();
        let state = seen[1].as_str().unwrap_or_default();
        let (first, rest) = (seen[2].as_f64().unwrap_or(f64::NAN), seen[3].as_f64().unwrap_or(f64::NAN));
        eprintln!(
            "{demo} (captured pause after its first line: {pause:.0} ms): first output {first:.0} ms after the click, \
             the end {rest:.0} ms after that; shown first: {text:?}"
        );
        ensure!(
            state == "live" && !text.contains("PASS"),
            "{demo}: the first output came with the end of the run (state {state:?}): {text:?}"
        );
        ensure!(
            rest >= MIN_PAUSE_MS / 2.0,
            "{demo}: the run ended {rest:.0} ms after its first output appeared: it was held back"
        );
        Ok(())
    })
    .await
}
