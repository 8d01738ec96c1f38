//! Ladders on stage (issue 22): the packets of a demo's run, drawn as a ladder, take the
//! place of its terminal in a step of the talk's main slides, and fit there; in replay
//! each arrow shows when its packet left.
//!
//! Built with `cargo xtask build` into `book/`, like the talk's fit walk. Screenshots of
//! each ladder step at 1280×720 and a report land in `target/browser-artifacts/ladder/`.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use browser_tests::{
    BOOK, SIZES, Server, WAIT, artifacts_subdir, js, measure, open, open_measured, ready,
    screenshot, show_step, viewport, wait_for, workspace_root,
};
use fantoccini::Client;
use serde_json::Value;

/// The main slides that must show the wire.
const AT_LEAST: usize = 4;

/// The pages of the main talk: the chapters of `slides/SUMMARY.md` before the appendix.
fn main_pages() -> Result<Vec<String>> {
    let summary = std::fs::read_to_string(workspace_root().join("slides/SUMMARY.md"))?;
    let mut pages = Vec::new();
    for line in summary.lines() {
        let line = line.trim_start();
        if line.starts_with("[Appendix") {
            break;
        }
        if let Some((_, rest)) = line.split_once("](")
            && let Some((file, _)) = rest.split_once(')')
        {
            let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
            pages.push(format!("{stem}.html"));
        }
    }
    Ok(pages)
}

/// The slides (page, 1-based number, the step that shows the ladder) whose terminal a
/// ladder replaces.
async fn wire_slides(c: &Client, s: &Server) -> Result<Vec<(String, u64, u64)>> {
    let mut found = Vec::new();
    for page in main_pages()? {
        open(c, s, &format!("{page}?slides#slide-1")).await?;
        let slides = js(
            c,
            "return [...document.querySelectorAll('main > section.slide')].flatMap((s, i) => { \
               const step = s.querySelector(':scope > .deck-step > figure.ladder')?.parentElement; \
               if (!step || !s.querySelector(':scope > figure.demo')) return []; \
               const steps = [...s.querySelectorAll('.deck-step:not(aside.notes .deck-step)')]; \
               return [[i + 1, steps.indexOf(step) + 1]]; });",
        )
        .await?;
        for v in slides.as_array().into_iter().flatten() {
            found.push((
                page.clone(),
                v[0].as_u64().unwrap_or(0),
                v[1].as_u64().unwrap_or(0),
            ));
        }
    }
    Ok(found)
}

/// Whether the current slide lays out its terminal and its ladder (each takes room only
/// when it is the one shown: a hidden one would shrink the slide for nothing) and shows
/// them (laid out and visible).
async fn displayed(c: &Client) -> Result<(bool, String)> {
    let v = js(
        c,
        "const s = document.querySelector('section.deck-current'); \
         const room = (el) => !!el && el.getClientRects().length > 0; \
         const on = (el) => room(el) && getComputedStyle(el).visibility !== 'hidden'; \
         const [t, l] = [s.querySelector(':scope > figure.demo'), s.querySelector('figure.ladder')]; \
         return [on(t), on(l) ? 'shown' : room(l) ? 'takes room unseen' : 'no room'];",
    )
    .await?;
    Ok((v[0] == true, v[1].as_str().unwrap_or_default().to_string()))
}

/// At least four main slides reveal a ladder in their terminal's place, say where to
/// look, and in that step fit at 1280×720, 1920×1080 and 1024×768 with no rule of the
/// fit walk broken (diagram text ≥ 20 px, body ≥ 26 px at 1280×720 scale, nothing cut).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_slides_swap_a_terminal_for_its_ladder_and_fit() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    let outcome = browser_tests::on_the_talk(swap_and_fit).await;
    let report = outcome?;
    std::fs::write(artifacts_subdir("ladder")?.join("report.txt"), &report)?;
    eprintln!("{report}");
    Ok(())
}

async fn swap_and_fit(c: &Client, s: &Server) -> Result<String> {
    let mut report = String::new();
    let mut problems = Vec::new();
    let mut slides = Vec::new();
    for &(w, h) in SIZES {
        viewport(c, s, w, h).await?;
        if slides.is_empty() {
            slides = wire_slides(c, s).await?;
            ensure!(
                slides.len() >= AT_LEAST,
                "only {} main slide(s) show a ladder in place of a terminal (at least {AT_LEAST}): {slides:?}",
                slides.len()
            );
        }
        let mut page_open = String::new();
        for (page, n, step) in &slides {
            if page_open != *page {
                open_measured(c, s, &format!("{page}?slides#slide-1")).await?;
                page_open = page.clone();
            }
            let url = format!("{page}#slide-{n}");
            show_step(c, *n, step - 1).await?;
            let before = displayed(c).await?;
            ensure!(
                before == (true, "no room".into()),
                "{url} before its ladder step: the terminal, and the ladder takes no room: {before:?}"
            );
            show_step(c, *n, *step).await?;
            let at = displayed(c).await?;
            ensure!(
                at == (false, "shown".into()),
                "{url} at its ladder step: the ladder in the terminal's place: {at:?}"
            );
            let look = js(
                c,
                "const l = document.querySelector('section.deck-current figure.ladder'); \
                 return l.parentElement.textContent.includes('Look at') \
                   && l.querySelectorAll('g.arrow.key').length === 1;",
            )
            .await?;
            ensure!(
                look == true,
                "{url}: the ladder's step says where to look (\"Look at ...\") at its highlighted packet"
            );
            let m = measure(c, w, h, false).await?;
            for p in m["problems"].as_array().into_iter().flatten() {
                // A finding is [rule, what] (measure.js).
                problems.push(format!(
                    "{url} [{w}x{h}] {}: {}",
                    p[0].as_str().unwrap_or_default(),
                    p[1].as_str().unwrap_or_default()
                ));
            }
            let size = |k: &str| m["sizes"][k][0].as_f64().unwrap_or(f64::NAN);
            let px = js(
                c,
                "const t = document.querySelector('section.deck-current figure.ladder svg text'); \
                 return parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;",
            )
            .await?
            .as_f64()
            .unwrap_or(f64::NAN);
            let _ = writeln!(
                report,
                "{url} step {step} at {w}x{h}: ladder text {px:.1} px on screen ({:.1} px at 1280x720 scale), body {:.1}, fit x{:.2}",
                size("chart or diagram"),
                size("body"),
                m["fit"].as_f64().unwrap_or(1.0)
            );
            if (w, h) == (1280, 720) {
                let name = format!("ladder/{}-{n:02}", page.trim_end_matches(".html"));
                screenshot(c, &name).await?;
            }
        }
    }
    ensure!(
        problems.is_empty(),
        "ladder steps break the stage rules:\n  {}",
        problems.join("\n  ")
    );
    Ok(report)
}

/// In a replay each arrow shows when its packet left: on connect-timeout's ladder (a SYN,
/// then the same SYN resent about a second later) the resent SYN is hidden while the
/// first shows, then shows too; from the ladder's own Replay and from its terminal's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_shows_each_arrow_when_its_packet_left() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    browser_tests::on_the_talk(replay_pace).await
}

async fn replay_pace(c: &Client, s: &Server) -> Result<()> {
    viewport(c, s, 1280, 720).await?;
    let slides = wire_slides(c, s).await?;
    let (page, n, step) = slides
        .iter()
        .find(|(page, n, _)| *page == "tcp.html" && *n == 3)
        .or(slides.first())
        .context("no ladder slide")?
        .clone();
    open(c, s, &format!("{page}?slides#slide-1")).await?;
    show_step(c, n, step).await?;
    let ladder = "document.querySelector('section.deck-current figure.ladder')";
    let times = js(
        c,
        &format!(
            "return [...{ladder}.querySelectorAll('g.arrow')].map(g => parseFloat(g.dataset.atMs));"
        ),
    )
    .await?;
    let times: Vec<f64> = times
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect();
    ensure!(
        times.len() >= 2 && times[0] == 0.0,
        "each arrow carries its time: {times:?}"
    );
    // The first arrow later than 400 ms: shown only after it, at the replay's pace.
    let late = times
        .iter()
        .position(|t| *t >= 400.0)
        .context(format!("no packet left 400 ms after the first: {times:?}"))?;
    let visible = format!(
        "[...{ladder}.querySelectorAll('g.arrow')].map(g => getComputedStyle(g).visibility === 'visible')"
    );
    for (button, what) in [
        (
            "figure.ladder .demo-replay[data-speed=\"1\"]",
            "the ladder's Replay",
        ),
        (
            ":scope > figure.demo .demo-replay[data-speed=\"1\"]",
            "the terminal's Replay",
        ),
    ] {
        let shown = js(
            c,
            &format!(
                "document.querySelector('section.deck-current').querySelector('{}').click(); \
                 const t0 = performance.now(); \
                 return new Promise(r => setTimeout(() => r([performance.now() - t0, {visible}]), 150));",
                button.replace('\'', "\\'")
            ),
        )
        .await?;
        let after = shown[0].as_f64().unwrap_or(f64::NAN);
        let flags: Vec<bool> = shown[1]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| v == true)
            .collect();
        ensure!(
            after < times[late] && flags.first() == Some(&true) && flags.get(late) == Some(&false),
            "{what}, {after:.0} ms in: the first arrow shows and the one at {:.0} ms does not yet: {flags:?}",
            times[late]
        );
        wait_for(
            c,
            &format!("{visible}.every(v => v) && {ladder}.dataset.state === 'done'"),
            Duration::from_millis((times.last().copied().unwrap_or(0.0) + 3000.0) as u64),
        )
        .await
        .with_context(|| format!("{what}: every arrow shows by the end"))?;
    }
    Ok(())
}

/// Run live redraws the demo's ladder from the packets of this run: the demo records
/// each connection as its check reads it, the server forwards it as a `wire` event, and
/// the ladder shows the live run's arrows (new client port), each at its pace; Captured
/// brings the captured ladder back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_live_draws_the_ladder_from_the_live_packets() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    browser_tests::on_present(&[], async |c, present| {
        c.goto(&format!("{}closing.html", present.url)).await?;
        let figure = "document.querySelector('figure.demo[data-demo=\"close-sends-rst\"]')";
        let ladder = "document.querySelector('figure.ladder[data-demo=\"close-sends-rst\"]')";
        live_ready(c, figure, ladder).await?;
        let head = format!("{ladder}.querySelector('svg text').textContent");
        let captured = js(c, &format!("return {head};")).await?;
        if run_live(c, figure, "").await?.is_none() {
            return Ok(());
        }
        let state = js(c, &format!("return [{ladder}.dataset.live, {head}];")).await?;
        ensure!(
            state[0] == "drawn",
            "the ladder was not drawn from the live run: {state}"
        );
        ensure!(
            state[1] != captured,
            "the live ladder names this run's client port, not the captured one ({captured}): {state}"
        );
        wait_for(
            c,
            &format!("{ladder}.dataset.state === 'done' && {ladder}.querySelector('g.arrow.key:not(.ladder-pending)')"),
            Duration::from_secs(5),
        )
        .await
        .context("the live ladder's arrows did not all show")?;
        js(
            c,
            &format!("{figure}.querySelector('.demo-show-captured').click(); return true;"),
        )
        .await?;
        let back = js(c, &format!("return {head};")).await?;
        ensure!(back == captured, "Captured brings the captured ladder back: {back}");
        Ok(())
    })
    .await
}

/// Waits until the demo `figure` offers Run live ([`browser_tests::live_ready`], 10 s)
/// and its `ladder` is on the page ([`WAIT`], 5 s; both JS expressions).
async fn live_ready(c: &Client, figure: &str, ladder: &str) -> Result<()> {
    browser_tests::live_ready(c, figure)
        .await
        .with_context(|| format!("no Run live control on {figure}"))?;
    wait_for(c, ladder, WAIT)
        .await
        .with_context(|| format!("no ladder {ladder}"))
}

/// [`browser_tests::run_live`] (`setup`, the click, at most 20 s for the run); the
/// terminal's text, or `None` (said on stderr) when the run could not capture packets
/// on this machine, so there is no live ladder to check.
async fn run_live(c: &Client, figure: &str, setup: &str) -> Result<Option<String>> {
    let output = browser_tests::run_live(c, figure, setup).await?;
    if output.contains("CAP_NET_RAW") || output.contains("wire is not shown") {
        eprintln!("SKIP: the live run could not capture packets here:\n{output}");
        return Ok(None);
    }
    Ok(Some(output))
}

/// A script that records in `window.__wire` each packet `ladder` (a JS expression)
/// shows while it streams (`seen`: the kernel's time of the packet, ms since the Unix
/// epoch; `at`: when its arrow was added, same clock; `shown`: the arrows then;
/// `height`: its drawing's) and when it is drawn from the recorded connection (`drawn`).
fn watch_arrows(ladder: &str) -> String {
    format!(
        "const l = {ladder}; const w = window.__wire = {{ arrows: [], drawn: null, states: [] }};
         new MutationObserver(() => {{
           const now = performance.timeOrigin + performance.now();
           if (w.states[w.states.length - 1] !== l.dataset.live) w.states.push(l.dataset.live);
           if (l.dataset.live === 'streaming') {{
             const seen = Number(l.dataset.seenUs) / 1000;
             const shown = l.querySelectorAll('g.arrow:not(.ladder-pending)').length;
             const height = l.querySelector(':scope > svg').viewBox.baseVal.height;
             if (!w.arrows.length || w.arrows[w.arrows.length - 1].seen !== seen)
               w.arrows.push({{ seen, at: now, shown, height }});
           }}
           if (l.dataset.live === 'drawn' && w.drawn === null) w.drawn = now;
         }}).observe(l, {{ childList: true, subtree: true, attributes: true }});"
    )
}

/// Run live streams the packets as they are seen: connect-timeout's first SYN is
/// dropped and resent a second later while the demo watches its connect() for 1.5 s,
/// and only then does its check read the capture and record the connection. Each SYN's
/// arrow must appear on the ladder as the kernel sends it: the first well before the
/// connection is recorded, the second about a second after the first. A server or
/// player that held the packets until the connection was recorded (or the run ended)
/// fails this. Prints how long each arrow took from the kernel's timestamp of its
/// packet to the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_live_adds_each_arrow_as_its_packet_is_seen() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    browser_tests::on_present(&[], async |c, present| {
        c.goto(&format!("{}tcp.html", present.url)).await?;
        let figure = "document.querySelector('figure.demo[data-demo=\"connect-timeout\"]')";
        let ladder = "document.querySelector('figure.ladder[data-demo=\"connect-timeout\"][data-connection=\"blocking\"]')";
        live_ready(c, figure, ladder).await?;
        ensure!(
            js(c, &format!("return {ladder}.dataset.flow;")).await? == "0",
            "the captured ladder names its flow (data-flow): recapture connect-timeout"
        );
        if run_live(c, figure, &watch_arrows(ladder)).await?.is_none() {
            return Ok(());
        }
        let w = js(c, "return window.__wire;").await?;
        let arrows: Vec<(f64, f64, u64)> = w["arrows"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    a["seen"].as_f64().unwrap_or(f64::NAN),
                    a["at"].as_f64().unwrap_or(f64::NAN),
                    a["shown"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        let drawn = w["drawn"].as_f64().context(format!("the ladder was never drawn from the recorded connection: {w}"))?;
        let late: Vec<String> = arrows.iter().map(|(seen, at, _)| format!("{:.1} ms", at - seen)).collect();
        eprintln!(
            "connect-timeout live: {} packets streamed before the connection was recorded; \
             from the kernel's timestamp to the arrow on the page: {}; the first arrow {:.0} ms \
             before the recorded connection",
            arrows.len(),
            late.join(", "),
            arrows.first().map_or(f64::NAN, |a| drawn - a.1)
        );
        ensure!(
            arrows.len() >= 2,
            "the SYN and its resend were not added one by one before the connection was recorded: {w}"
        );
        let (first, second) = (arrows[0], arrows[1]);
        ensure!(
            first.2 == 1 && second.2 == 2,
            "each packet adds one arrow: {w}"
        );
        ensure!(
            drawn - first.1 >= 1000.0,
            "the first arrow came only {:.0} ms before the recorded connection: held back ({w})",
            drawn - first.1
        );
        ensure!(
            second.1 - first.1 >= 700.0 && (second.1 - first.1) - (second.0 - first.0) < 300.0,
            "the resent SYN's arrow came {:.0} ms after the first, its packet {:.0} ms after: not at the capture's pace ({w})",
            second.1 - first.1,
            second.0 - first.0
        );
        ensure!(
            arrows.iter().all(|(seen, at, _)| at - seen < 500.0),
            "an arrow came more than 500 ms after its packet was seen: {}",
            late.join(", ")
        );
        Ok(())
    })
    .await
}

/// A ladder growing in Run live keeps the room its captured one had on the slide (the
/// fit walk measured that one): nagle-delayed-ack streams 130 packets of its first
/// connection in a second, each added as it comes, the oldest leaving at the top, and
/// the drawing is never taller than the captured one; then the recorded request shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_ladder_keeps_the_room_of_its_captured_one() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    browser_tests::on_present(&[], async |c, present| {
        c.goto(&format!("{}tcp.html", present.url)).await?;
        let figure = "document.querySelector('figure.demo[data-demo=\"nagle-delayed-ack\"]')";
        let ladder = "document.querySelector('figure.ladder[data-demo=\"nagle-delayed-ack\"]')";
        live_ready(c, figure, ladder).await?;
        let room = js(c, &format!("return {ladder}.querySelector(':scope > svg').viewBox.baseVal.height;"))
            .await?
            .as_f64()
            .unwrap_or(0.0);
        if run_live(c, figure, &watch_arrows(ladder)).await?.is_none() {
            return Ok(());
        }
        wait_for(
            c,
            &format!("{ladder}.dataset.live === 'drawn' && {ladder}.dataset.state === 'done'"),
            Duration::from_secs(5),
        )
        .await
        .context("the ladder was not drawn from the recorded connection")?;
        let w = js(c, "return window.__wire;").await?;
        let arrows = w["arrows"].as_array().cloned().unwrap_or_default();
        let tallest = arrows
            .iter()
            .filter_map(|a| a["height"].as_f64())
            .fold(0.0, f64::max);
        eprintln!(
            "nagle-delayed-ack live: {} packets streamed into its ladder, drawings up to {tallest:.0} units tall (captured: {room:.0})",
            arrows.len()
        );
        ensure!(
            arrows.len() >= 20,
            "the ladder did not grow packet by packet: {} streamed drawings ({w})",
            arrows.len()
        );
        ensure!(
            tallest <= room + 0.5,
            "a live drawing was {tallest} units tall, taller than the captured ladder's {room}"
        );
        let key = js(c, &format!("return !!{ladder}.querySelector('g.arrow.key:not(.ladder-pending)');")).await?;
        ensure!(key == true, "the recorded request shows with its key packet");
        Ok(())
    })
    .await
}

/// Run live clicked in the speaker window draws the ladder in the audience window too,
/// an arrow as each packet is seen: connect-timeout's SYN and its resend reach the main
/// window's ladder one by one, long before the demo records the connection, and the
/// ladder ends drawn from the live run (this run's client port).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_live_from_the_speaker_window_streams_the_ladder_in_the_main_window() -> Result<()> {
    const DEMO: &str = "connect-timeout";
    let _one_at_a_time = BOOK.lock().await;
    browser_tests::on_present(&[], async |c, present| {
        let wait = Duration::from_secs(10);
        let (page, n) = browser_tests::slide_of_demo(DEMO)?;
        c.goto(&format!("{}{page}?slides#slide-{n}", present.url))
            .await?;
        ready(c).await?;
        let ladder = format!(
            "document.querySelector('figure.ladder[data-demo=\"{DEMO}\"][data-connection=\"blocking\"]')"
        );
        let head = format!("{ladder}.querySelector('svg text').textContent");
        let captured = js(c, &format!("return {head};")).await?;
        js(c, &format!("{} return true;", watch_arrows(&ladder))).await?;
        let main = browser_tests::open_speaker_window(c).await?;
        ready(c).await?;
        let figure = format!(
            "document.querySelector('section.deck-current figure.demo[data-demo=\"{DEMO}\"]')"
        );
        browser_tests::live_ready(c, &figure)
            .await
            .context("Run live is offered in the speaker window")?;
        let output = run_live(c, &figure, "").await?;
        c.switch_to_window(main).await?;
        if output.is_none() {
            return Ok(());
        }
        wait_for(c, &format!("{ladder}.dataset.live === 'drawn'"), wait)
            .await
            .context("the main window's ladder was not drawn from the live run")?;
        let w = js(c, "return window.__wire;").await?;
        let arrows = w["arrows"].as_array().cloned().unwrap_or_default();
        let drawn = w["drawn"].as_f64().unwrap_or(f64::NAN);
        let first = arrows.first().and_then(|a| a["at"].as_f64()).unwrap_or(f64::NAN);
        eprintln!(
            "main window: {} arrows streamed, the first {:.0} ms before the recorded connection",
            arrows.len(),
            drawn - first
        );
        let shown: Vec<u64> = arrows.iter().filter_map(|a| a["shown"].as_u64()).collect();
        ensure!(
            shown.contains(&1) && shown.contains(&2) && drawn - first >= 1000.0,
            "the main window's ladder did not get its arrows one by one as the packets were seen: {w}"
        );
        let now = js(c, &format!("return {head};")).await?;
        ensure!(now != captured, "the main window's ladder names the live run's client port, not the captured one ({captured}): {now}");
        Ok(())
    })
    .await
}

/// The reading view shows every ladder of the talk whole at 1280×800: every packet the
/// ladder's transcript shows has its arrow, visible, nothing cut or scrolled, text of
/// 16 px at least; and its caption links the run's `.pcap`, which the build wrote
/// beside the book.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reading_view_shows_each_ladder_whole_with_its_pcap() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    let checked = browser_tests::on_the_talk(reading_ladders).await?;
    eprintln!("reading view: {checked} ladders whole, each with its pcap");
    Ok(())
}

async fn reading_ladders(c: &Client, s: &Server) -> Result<usize> {
    let site = workspace_root().join("book");
    viewport(c, s, 1280, 800).await?;
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (page, html) in browser_tests::chapter_pages(&site)? {
        if !html.contains("figure class=\"chart ladder\"") {
            continue;
        }
        open(c, s, &page).await?;
        let ladders = js(
            c,
            "return [...document.querySelectorAll('figure.ladder')].map(f => { \
               const svg = f.querySelector(':scope > svg'); const r = svg.getBoundingClientRect(); \
               const scale = r.width / svg.viewBox.baseVal.width; \
               const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale); \
               const a = f.querySelector('figcaption a[href$=\".pcap\"]'); \
               return { demo: f.dataset.demo, conn: f.dataset.connection, \
                 arrows: svg.querySelectorAll('g.arrow').length, \
                 hidden: [...svg.querySelectorAll('g.arrow')].filter(g => getComputedStyle(g).visibility === 'hidden').length, \
                 cut: f.scrollWidth > f.clientWidth + 1 || r.right > innerWidth + 1 || r.left < -1 || r.height < 10, \
                 text: Math.min(...sizes), pcap: a ? a.getAttribute('href') : null }; });",
        )
        .await?;
        for l in ladders.as_array().into_iter().flatten() {
            checked += 1;
            let demo = l["demo"].as_str().unwrap_or_default();
            let conn = l["conn"].as_str().unwrap_or_default();
            let t: Value = serde_json::from_str(&std::fs::read_to_string(
                workspace_root().join(format!("demos/transcripts/{demo}.json")),
            )?)?;
            let c = t["wire"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"] == conn)
                .with_context(|| format!("{page}: {demo} has no connection {conn}"))?;
            let shown = match c["show"].as_array() {
                Some(r) => r[1].as_u64().unwrap_or(0) - r[0].as_u64().unwrap_or(0) + 1,
                None => c["packets"].as_array().map_or(0, |p| p.len() as u64),
            };
            let pcap = l["pcap"].as_str().unwrap_or_default();
            let bytes = std::fs::read(site.join(pcap)).unwrap_or_default();
            let whole = l["arrows"].as_u64() == Some(shown)
                && l["hidden"] == 0
                && l["cut"] == false
                && l["text"].as_f64().unwrap_or(0.0) >= 16.0;
            let linked = pcap == format!("pcap/{demo}.pcap")
                && bytes.starts_with(&0xa1b2_c3d4u32.to_le_bytes());
            if !whole || !linked {
                wrong.push(format!(
                    "{page}: ladder {demo} {conn} ({shown} packets shown in its transcript; \
                     the pcap {pcap:?}, {} bytes): {l}",
                    bytes.len()
                ));
            }
        }
    }
    ensure!(checked >= 6, "only {checked} ladders in the reading view");
    ensure!(wrong.is_empty(), "{}", wrong.join("\n"));
    Ok(checked)
}

/// Every demo on a main slide says, in its status line, on which kernels its claim held
/// ("holds on 6.1 · 6.12 · 6.18", from `demos/transcripts/kernels/`), in place of the
/// run's own kernel and date, and the status line stays one line at every size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_demo_slide_says_on_which_kernels_its_claim_held() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    let outcome = browser_tests::on_the_talk(kernel_lines).await;
    let checked = outcome?;
    eprintln!("kernel line: {checked} demo slides at 3 sizes");
    Ok(())
}

async fn kernel_lines(c: &Client, s: &Server) -> Result<usize> {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for &(w, h) in SIZES {
        viewport(c, s, w, h).await?;
        for page in main_pages()? {
            open(c, s, &format!("{page}?slides#slide-1")).await?;
            let demos = js(
                c,
                "return [...document.querySelectorAll('main > section.slide')].flatMap((s, i) => \
                   s.querySelector(':scope > figure.demo') ? [i + 1] : []);",
            )
            .await?;
            for n in demos
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_u64)
            {
                // Step 0: a ladder step would take the terminal's place.
                show_step(c, n, 0).await?;
                let v = js(
                    c,
                    "const f = document.querySelector('section.deck-current > figure.demo'); \
                     const k = f.querySelector('.demo-meta .demo-kernels'); \
                     const run = f.querySelector('.demo-meta .demo-run-on'); \
                     const meta = f.querySelector('.demo-meta'); \
                     const lh = parseFloat(getComputedStyle(meta).fontSize) * 1.6; \
                     return [k ? k.textContent : null, \
                             !!k && k.getClientRects().length > 0 && getComputedStyle(k).visibility !== 'hidden', \
                             !!run && run.getClientRects().length > 0, \
                             meta.getBoundingClientRect().height <= lh];",
                )
                .await?;
                let text = v[0].as_str().unwrap_or("");
                let url = format!("{page}#slide-{n} [{w}x{h}]");
                if !text.contains("holds on") || v[1] != true {
                    wrong.push(format!("{url}: no kernel line shown ({text:?})"));
                }
                if v[2] == true {
                    wrong.push(format!("{url}: the run's kernel and date show too"));
                }
                if v[3] != true {
                    wrong.push(format!("{url}: the status line takes more than one line"));
                }
                checked += 1;
            }
        }
    }
    ensure!(
        wrong.is_empty(),
        "demo slides without their kernel line:\n  {}",
        wrong.join("\n  ")
    );
    ensure!(checked >= 20, "only {checked} demo slides checked");
    Ok(checked / SIZES.len())
}
