//! The presenter's cockpit on the REAL talk (`cargo xtask build`, served under
//! `/talk/`): the notes measured on every slide of the speaker window, the pacing
//! against a fake clock, steps across a chapter boundary, talk-wide numbers, the
//! overview, blackout and the page change between chapters, the pop-up-blocked
//! fallback, search in the notes and the reading view on a phone.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use browser_tests::{
    BOOK, Server, has_class, js, open, open_phone, press, ready, screenshot, screenshot_on_error,
    slide, viewport, wait_for, wait_page,
};
use fantoccini::Client;
use fantoccini::key::Key;
use serde_json::Value;

/// The waits of the scenarios here, on the real talk: longer than a page's
/// ([`browser_tests::WAIT`], 5 s), since some fetch every chapter (the overview's tiles,
/// the search index).
const WAIT: Duration = Duration::from_secs(8);

/// The talk's pages in reading order, from its SUMMARY (chapters with slides).
fn chapters(site: &std::path::Path) -> Result<Vec<(String, usize)>> {
    let html = std::fs::read_to_string(site.join("title.html")).context("reading title.html")?;
    browser_tests::chapter_order(&html).context("the talk's pages carry the page contract")
}

async fn num(c: &Client, script: &str) -> Result<f64> {
    js(c, script)
        .await?
        .as_f64()
        .with_context(|| format!("not a number: {script}"))
}

async fn step(c: &Client) -> Result<u64> {
    Ok(num(
        c,
        "const s = document.querySelector('section.slide.deck-current'); return Number(s && s.dataset.step || 0);",
    )
    .await? as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cockpit_on_the_real_talk() -> Result<()> {
    // Both tests write the talk's `book/` (one builds it, the other presents it).
    let _book = BOOK.lock().await;
    browser_tests::on_the_talk(async |c, server| {
        let chapters = chapters(server.dir())?;
        let result = async {
            for (name, outcome) in [
                (
                    "notes show whole on every slide",
                    notes(c, server, &chapters).await,
                ),
                ("the pacing against a fake clock", pacing(c, server).await),
                ("steps across a chapter boundary", steps(c, server).await),
                ("talk-wide numbers", numbers(c, server, &chapters).await),
                ("a right swipe goes back a slide", swipe(c, server).await),
                (
                    "the overview opens at the current slide",
                    overview(c, server).await,
                ),
                (
                    "blackout and no reading frame across chapters",
                    chapter_change(c, server, &chapters).await,
                ),
                (
                    "the pop-up blocked fallback",
                    popup_blocked(c, server).await,
                ),
                (
                    "search finds words of the notes",
                    search(c, server, &chapters).await,
                ),
                (
                    "tables and diagrams on a phone",
                    phone(c, server, &chapters).await,
                ),
            ] {
                outcome.with_context(|| format!("scenario: {name}"))?;
                eprintln!("ok: {name}");
            }
            Ok::<(), anyhow::Error>(())
        }
        .await;
        screenshot_on_error(c, "cockpit-failure", result).await
    })
    .await
}

/// Every slide in the speaker window: is the spoken paragraph (the notes' first) whole
/// in view without scrolling, in type of at least 22 px? Returns (whole, slides with
/// notes, the slides that fail).
async fn measure_notes(
    c: &Client,
    s: &Server,
    chapters: &[(String, usize)],
) -> Result<(usize, usize, Vec<String>)> {
    let (mut whole, mut with_notes, mut failing) = (0, 0, Vec::new());
    for (page, _) in chapters {
        open(c, s, &format!("{page}?speaker#slide-1")).await?;
        let count = num(
            c,
            "return document.querySelectorAll('main > section.slide[id^=slide-]').length;",
        )
        .await? as usize;
        for n in 1..=count {
            js(c, &format!("location.hash = '#slide-{n}'; return 0;")).await?;
            wait_for(
                c,
                &format!("document.documentElement.dataset.slide === '{n}'"),
                WAIT,
            )
            .await
            .with_context(|| format!("{page}: going to slide {n} of {count}"))?;
            let m = js(
                c,
                "const notes = document.querySelector('section.slide.deck-current > aside.notes');
                 if (!notes) return null;
                 const p = notes.querySelector(':scope > :not(.deck-step)');
                 if (!p) return null;
                 const a = notes.getBoundingClientRect(), b = p.getBoundingClientRect();
                 return [notes.scrollTop, b.top - a.top, a.bottom - b.bottom,
                         parseFloat(getComputedStyle(p).fontSize), a.width, a.height, innerHeight];",
            )
            .await?;
            let Some(m) = m.as_array() else { continue };
            with_notes += 1;
            let f = |i: usize| m[i].as_f64().unwrap_or(f64::NAN);
            let ok = f(0) == 0.0 && f(1) >= 0.0 && f(2) >= 0.0 && f(3) >= 22.0;
            if ok {
                whole += 1;
            } else {
                failing.push(format!(
                    "{page}#slide-{n} (overflows by {:.0} px, type {:.1} px)",
                    -f(2),
                    f(3)
                ));
            }
        }
    }
    Ok((whole, with_notes, failing))
}

async fn notes(c: &Client, s: &Server, chapters: &[(String, usize)]) -> Result<()> {
    viewport(c, s, 1920, 1080).await?;
    let (big, big_of, _) = measure_notes(c, s, chapters).await?;
    eprintln!(
        "notes at 1920×1080: the spoken paragraph shows whole on {big} of {big_of} slides with notes"
    );
    viewport(c, s, 1280, 800).await?;
    let (whole, of, failing) = measure_notes(c, s, chapters).await?;
    eprintln!(
        "notes at 1280×800: the spoken paragraph shows whole on {whole} of {of} slides with notes"
    );
    ensure!(of > 0, "no slide of the talk has notes");
    ensure!(
        failing.is_empty(),
        "at 1280×800 the spoken paragraph is cut on {} slides: {}",
        failing.len(),
        failing.join("; ")
    );
    // The notes are the largest panel.
    open(c, s, "tcp.html?speaker#slide-2").await?;
    screenshot(c, "cockpit-speaker-1280x800").await?;
    let areas = js(
        c,
        "const area = (sel) => { const e = document.querySelector(sel); if (!e) return 0;
           const r = e.getBoundingClientRect(); return r.width * r.height; };
         return [area('section.slide.deck-current > aside.notes'), area('section.slide.deck-current'),
                 area('section.slide.deck-next'), area('#deck-speaker')];",
    )
    .await?;
    let a = |i: usize| areas[i].as_f64().unwrap_or(0.0);
    ensure!(
        a(0) > a(1) && a(0) > a(2) && a(0) > a(3),
        "the notes are the largest panel: {areas}"
    );
    ensure!(
        a(1) > 0.0 && a(2) > 0.0,
        "current and next slide previews show: {areas}"
    );
    // + makes the type larger, and the choice is remembered; − makes it smaller.
    let size = "return parseFloat(getComputedStyle(document.querySelector('section.slide.deck-current > aside.notes')).fontSize);";
    let before = num(c, size).await?;
    press(c, '+').await?;
    let larger = num(c, size).await?;
    ensure!(
        larger > before * 1.05,
        "+ makes the notes larger ({before} → {larger})"
    );
    c.refresh().await?;
    ready(c).await?;
    ensure!(
        (num(c, size).await? - larger).abs() < 0.5,
        "the size is remembered after a reload"
    );
    press(c, '-').await?;
    ensure!(
        (num(c, size).await? - before).abs() < 0.5,
        "− makes it smaller again"
    );
    // J and K scroll the notes (the arrows turn slides).
    let top =
        "return document.querySelector('section.slide.deck-current > aside.notes').scrollTop;";
    js(c, "document.querySelector('section.slide.deck-current > aside.notes').style.height = '120px'; return 0;").await?;
    press(c, 'j').await?;
    ensure!(num(c, top).await? > 0.0, "J scrolls the notes down");
    press(c, 'k').await?;
    ensure!(num(c, top).await? == 0.0, "K scrolls them back up");
    // More notes than show: a cue says so, until the end is in view.
    let more = "document.querySelector('section.slide.deck-current > aside.notes').hasAttribute('data-more')";
    wait_for(c, more, WAIT)
        .await
        .context("notes taller than their panel show a cue that more follows")?;
    js(c, "const n = document.querySelector('section.slide.deck-current > aside.notes'); n.scrollTop = n.scrollHeight; return 0;").await?;
    wait_for(c, &format!("!{more}"), WAIT)
        .await
        .context("scrolled to the end, the cue goes")?;
    // The spoken paragraph is set apart from the depth below it.
    let apart = js(
        c,
        "const notes = document.querySelector('section.slide.deck-current > aside.notes');
         const [spoken, depth] = notes.querySelectorAll(':scope > p');
         const a = getComputedStyle(spoken), b = depth && getComputedStyle(depth);
         return [a.borderBottomStyle, a.fontWeight, b ? b.color : null, a.color];",
    )
    .await?;
    ensure!(
        apart[0] != "none" && apart[1].as_str() >= Some("600") && apart[2] != apart[3],
        "the spoken paragraph stands apart (a rule under it, bolder, the depth in another colour): {apart}"
    );
    // The status line names the chapter as the table of contents does, not its
    // first slide's title.
    let position = js(
        c,
        "return document.querySelector('.deck-position').textContent;",
    )
    .await?;
    let position = position
        .as_str()
        .unwrap_or_default()
        .replace('\u{2019}', "'");
    ensure!(
        position.ends_with("· TCP's defaults are for file transfer"),
        "the chapter's name in the status line: {position:?}"
    );
    Ok(())
}

/// The speaker window's plan against a fake clock (`Date.now` replaced by the test).
async fn pacing(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "tcp.html?speaker#slide-1").await?;
    js(c, "localStorage.removeItem('deck.timer'); window.__now = 1.7e12; Date.now = () => window.__now; return 0;").await?;
    c.refresh().await?;
    ready(c).await?;
    js(
        c,
        "window.__now = 1.7e12; Date.now = () => window.__now; return 0;",
    )
    .await?;
    // The page contract as the browser holds it, read as the player reads it.
    let page = js(
        c,
        "return document.querySelector('.deck-config').dataset.page;",
    )
    .await?;
    let page = contract::page::Page::from_json(page.as_str().context("the page's contract")?)
        .map_err(anyhow::Error::msg)?;
    let plan = page.plan;
    let duration = page.duration.map_or(f64::NAN, |d| d.0);
    ensure!(duration == 2400.0, "book.toml says 40 minutes: {duration}");
    let text = |sel: &'static str| async move {
        js(
            c,
            &format!("return document.querySelector('{sel}').textContent;"),
        )
        .await
        .map(|v| v.as_str().unwrap_or_default().to_string())
    };
    ensure!(
        text(".deck-elapsed").await? == "0:00:00",
        "the timer waits for the first slide change"
    );
    // Next (a step or a slide) starts the timer, 0 s in; the slide now shown is
    // planned for plan[k - 1]..plan[k].
    press(c, 'n').await?;
    let k = slide(c).await? as usize;
    let (start, end) = (plan[k - 1], plan[k]);
    wait_for(
        c,
        "document.querySelector('.deck-elapsed').dataset.running === 'true'",
        WAIT,
    )
    .await?;
    let expect = |t: f64| {
        let lead = if t < start {
            start - t
        } else if t > end {
            end - t
        } else {
            0.0
        };
        let s = lead.abs().round() as u64;
        if s == 0 {
            "on time".to_string()
        } else {
            format!(
                "{}:{:02} {}",
                s / 60,
                s % 60,
                if lead > 0.0 { "ahead" } else { "behind" }
            )
        }
    };
    for t in [0.0, (start + end) / 2.0, end + 95.0, 2300.0] {
        js(
            c,
            &format!("window.__now = 1.7e12 + {}; return 0;", t * 1000.0),
        )
        .await?;
        let want = expect(t);
        wait_for(
            c,
            &format!("document.querySelector('.deck-pace').textContent === '{want}'"),
            WAIT,
        )
        .await
        .with_context(|| format!("at {t} s the pace says {want}"))?;
        let left = 2400.0 - t;
        let want_left = format!("0:{:02}:{:02} left", (left as u64) / 60, (left as u64) % 60);
        wait_for(
            c,
            &format!("document.querySelector('.deck-left').textContent === '{want_left}'"),
            WAIT,
        )
        .await?;
    }
    ensure!(
        expect(0.0).ends_with("ahead") && expect(2300.0).ends_with("behind"),
        "both sides were seen"
    );
    // Z pauses: the fake clock moves, the timer does not; R resets.
    press(c, 'z').await?;
    let held = text(".deck-elapsed").await?;
    js(c, "window.__now += 60000; return 0;").await?;
    tokio::time::sleep(Duration::from_millis(400)).await;
    ensure!(text(".deck-elapsed").await? == held, "Z pauses the timer");
    press(c, 'r').await?;
    wait_for(
        c,
        "document.querySelector('.deck-elapsed').textContent === '0:00:00'",
        WAIT,
    )
    .await?;
    Ok(())
}

/// Whether the current slide's step `i` (0-based) is visible.
async fn step_visible(c: &Client, i: usize) -> Result<bool> {
    let v = js(
        c,
        &format!(
            "const st = document.querySelectorAll('section.slide.deck-current .deck-step')[{i}];
             return !!st && getComputedStyle(st).visibility === 'visible';"
        ),
    )
    .await?;
    Ok(v.as_bool() == Some(true))
}

/// Next reveals the steps of a chapter's last slide, then opens the next chapter;
/// Previous comes back to the last slide with every step shown, then hides them.
async fn steps(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "files.html?slides#slide-1").await?;
    let last = num(
        c,
        "return document.querySelectorAll('main > section.slide[id^=slide-]').length;",
    )
    .await? as u64;
    open(c, s, &format!("files.html?slides#slide-{last}")).await?;
    let total = num(
        c,
        "return Number(document.querySelector('section.slide.deck-current').dataset.steps || 0);",
    )
    .await? as u64;
    ensure!(
        total >= 1,
        "files.html's last slide has steps (<!-- pause -->)"
    );
    ensure!(
        step(c).await? == 0 && !step_visible(c, 0).await?,
        "the slide opens with its steps hidden"
    );
    for k in 1..=total {
        press(c, 'n').await?;
        ensure!(
            slide(c).await? == last && step(c).await? == k,
            "Next shows step {k} before moving on"
        );
        ensure!(
            step_visible(c, k as usize - 1).await?,
            "step {k} is visible"
        );
        let hash = js(c, "return location.hash;").await?;
        ensure!(
            hash == serde_json::json!(format!("#slide-{last}.{k}")),
            "the URL names the step: {hash}"
        );
    }
    press(c, 'n').await?;
    wait_page(c, "sockets.html").await?;
    ensure!(slide(c).await? == 1, "then Next opens the next chapter");
    press(c, Key::Left.into()).await?;
    wait_page(c, "files.html").await?;
    ensure!(
        slide(c).await? == last
            && step(c).await? == total
            && step_visible(c, total as usize - 1).await?,
        "Previous comes back to the last slide with all its steps"
    );
    press(c, 'p').await?;
    ensure!(
        step(c).await? == total - 1 && !step_visible(c, total as usize - 1).await?,
        "Previous hides the last step"
    );
    // A deep link names a step; the speaker window shows the step and the next step.
    open(c, s, &format!("files.html?speaker#slide-{last}")).await?;
    ensure!(step(c).await? == 0, "the speaker view at step 0");
    let next = js(
        c,
        "const n = document.querySelector('section.deck-next-step');
         if (!n) return null;
         const st = n.querySelector('.deck-step');
         return [getComputedStyle(n).display, st.classList.contains('deck-shown'), getComputedStyle(st).visibility];",
    )
    .await?;
    ensure!(
        next == serde_json::json!(["flex", true, "visible"]),
        "Next's preview is this slide with its first step: {next}"
    );
    open(c, s, &format!("files.html?slides#slide-{last}.1")).await?;
    ensure!(
        step(c).await? == 1 && step_visible(c, 0).await?,
        "#slide-N.1 opens with one step shown"
    );
    // The overview and print show every step.
    open(c, s, &format!("files.html?slides#slide-{last}")).await?;
    press(c, 'o').await?;
    ensure!(step_visible(c, 0).await?, "the overview shows all steps");
    open(c, s, &format!("files.html?print#slide-{last}")).await?;
    let all = js(c, "return [...document.querySelectorAll('.deck-step')].every(e => getComputedStyle(e).visibility === 'visible');").await?;
    ensure!(all == serde_json::json!(true), "print shows all steps");
    Ok(())
}

/// The HUD counts slides through the whole talk, and "a number, then Enter" goes to
/// that slide in whichever chapter holds it.
async fn numbers(c: &Client, s: &Server, chapters: &[(String, usize)]) -> Result<()> {
    let (page, first) = chapters.get(2).context("the talk has three chapters")?;
    open(c, s, &format!("{page}?slides#slide-2")).await?;
    let total = chapters.last().map(|_| ()).and(Some(())).map(|_| ());
    let _ = total;
    let hud = js(c, "return document.getElementById('deck-hud').textContent;").await?;
    let want_prefix = format!("{} / ", first + 1);
    ensure!(
        hud.as_str().is_some_and(|h| h.starts_with(&want_prefix)),
        "the HUD gives the talk-wide number {want_prefix}…: {hud}"
    );
    // Jump to a slide of another chapter: the first slide of the fifth chapter, plus 1.
    let (target_page, target_first) = chapters.get(4).context("the talk has five chapters")?;
    let number = target_first + 1;
    for d in number.to_string().chars() {
        press(c, d).await?;
    }
    press(c, Key::Enter.into()).await?;
    wait_page(c, target_page).await?;
    ensure!(
        slide(c).await? == 2,
        "{number} Enter opens slide 2 of {target_page}"
    );
    let hud = js(c, "return document.getElementById('deck-hud').textContent;").await?;
    ensure!(
        hud.as_str()
            .is_some_and(|h| h.starts_with(&format!("{number} / "))),
        "and the HUD says {number}: {hud}"
    );
    Ok(())
}

/// A real touch swipe to the right (WebDriver's touch pointer) goes to the previous
/// slide and stays in the deck; the page also tells the browser not to turn the
/// sideways overscroll into Back.
async fn swipe(c: &Client, s: &Server) -> Result<()> {
    use fantoccini::actions::{InputSource, PointerAction, TouchActions};
    open(c, s, "tcp.html?slides#slide-3").await?;
    let touch = TouchActions::new("finger".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x: 300.0,
            y: 400.0,
        })
        .then(PointerAction::Down { button: 0 })
        .then(PointerAction::MoveTo {
            duration: Some(Duration::from_millis(150)),
            x: 900.0,
            y: 410.0,
        })
        .then(PointerAction::Up { button: 0 });
    c.perform_actions(touch).await.context("a touch swipe")?;
    wait_for(c, "document.documentElement.dataset.slide === '2'", WAIT)
        .await
        .context("a right swipe shows the previous slide")?;
    let here = js(c, "return [location.pathname, location.search, getComputedStyle(document.documentElement).overscrollBehaviorX];").await?;
    ensure!(
        here[0].as_str().is_some_and(|p| p.ends_with("/tcp.html"))
            && here[1] == serde_json::json!("?slides"),
        "still in the deck: {here}"
    );
    ensure!(
        here[2] == serde_json::json!("none"),
        "no overscroll navigation: {here}"
    );
    Ok(())
}

/// O opens the overview with the current slide's tile in view, even after the other
/// chapters' tiles (fetched when it opens) are placed above it.
async fn overview(c: &Client, s: &Server) -> Result<()> {
    viewport(c, s, 1280, 720).await?;
    open(c, s, "tcp.html?slides#slide-3").await?;
    press(c, 'o').await?;
    wait_for(
        c,
        "[...document.querySelectorAll('.deck-overview-chapter')].every(g => g.dataset.loaded) && document.querySelectorAll('.deck-overview-chapter').length > 3",
        WAIT,
    )
    .await
    .context("the other chapters' tiles load")?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rect = js(
        c,
        "const r = document.querySelector('main > section.slide.deck-current').getBoundingClientRect();
         const above = document.querySelector('.deck-overview-before').getElementsByTagName('section').length;
         return [r.top, r.bottom, innerHeight, above];",
    )
    .await?;
    let f = |i: usize| rect[i].as_f64().unwrap_or(f64::NAN);
    ensure!(
        f(3) > 10.0,
        "earlier chapters' tiles are above this chapter's: {rect}"
    );
    ensure!(
        f(0) >= 0.0 && f(1) <= f(2),
        "the current tile is in view: {rect}"
    );
    let outline = js(c, "return getComputedStyle(document.querySelector('main > section.slide.deck-current')).outlineColor;").await?;
    ensure!(
        outline == serde_json::json!("rgb(245, 184, 0)"),
        "and marked as the current one: {outline}"
    );
    Ok(())
}

/// Next from a chapter's last slide, blacked out: the next chapter opens still black,
/// and no frame of its reading page was painted before the player took over.
async fn chapter_change(c: &Client, s: &Server, chapters: &[(String, usize)]) -> Result<()> {
    let (page, _) = &chapters[3];
    let (next, _) = &chapters[4];
    open(c, s, &format!("{page}?slides#slide-last")).await?;
    press(c, 'b').await?;
    ensure!(has_class(c, "deck-black").await?, "B blacks out");
    // Slide numbers (not steps) decide when Next leaves the chapter.
    let steps = num(c, "return Number(document.querySelector('section.slide.deck-current').dataset.steps || 0) - Number(document.querySelector('section.slide.deck-current').dataset.step || 0);").await? as usize;
    for _ in 0..=steps {
        press(c, 'n').await?;
    }
    wait_page(c, next).await?;
    ensure!(
        has_class(c, "deck-black").await?,
        "blackout survives the chapter change"
    );
    wait_for(
        c,
        "performance.getEntriesByName('first-contentful-paint').length > 0",
        WAIT,
    )
    .await
    .context("the new chapter paints")?;
    let paint = js(
        c,
        "const fcp = performance.getEntriesByName('first-contentful-paint')[0];
         return [fcp ? fcp.startTime : null, Number(document.documentElement.dataset.tookOver)];",
    )
    .await?;
    let (Some(painted), Some(took)) = (paint[0].as_f64(), paint[1].as_f64()) else {
        anyhow::bail!("no paint time or no take-over time: {paint}");
    };
    ensure!(
        painted >= took,
        "the page painted content at {painted} ms, before the player took over at {took} ms"
    );
    press(c, 'b').await?;
    ensure!(
        !has_class(c, "deck-black").await?,
        "B again shows the slides"
    );
    Ok(())
}

/// When the browser blocks the speaker pop-up, the deck says so and offers the speaker
/// view in a tab, which then drives the audience window like the pop-up would.
async fn popup_blocked(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "tcp.html?slides#slide-2").await?;
    let main = c.window().await?;
    js(c, "window.open = () => null; return 0;").await?;
    press(c, 's').await?;
    wait_for(c, "document.getElementById('deck-popup-blocked')", WAIT).await?;
    let href = js(
        c,
        "return document.querySelector('#deck-popup-blocked a.deck-speaker-tab').href;",
    )
    .await?;
    let href = href
        .as_str()
        .context("the notice links to the speaker view")?
        .to_string();
    ensure!(
        href.contains("?speaker") && href.ends_with("#slide-2"),
        "the link: {href}"
    );
    ensure!(
        js(
            c,
            "return !!document.querySelector('#deck-popup-blocked .deck-speaker-here');"
        )
        .await?
            == serde_json::json!(true),
        "and offers this very tab"
    );
    let tab = c.new_window(true).await?;
    c.switch_to_window(tab.handle.clone()).await?;
    c.goto(&href).await?;
    ready(c).await?;
    ensure!(
        has_class(c, "deck-speaker").await? && slide(c).await? == 2,
        "the tab is the speaker view at slide 2"
    );
    press(c, 'n').await?;
    c.switch_to_window(main.clone()).await?;
    wait_for(c, "document.documentElement.dataset.slide === '3'", WAIT)
        .await
        .context("the speaker tab drives the audience window")?;
    c.switch_to_window(tab.handle).await?;
    c.close_window().await?;
    c.switch_to_window(main).await?;
    Ok(())
}

/// mdbook's search in the reading view finds a word that only the speaker notes have.
async fn search(c: &Client, s: &Server, chapters: &[(String, usize)]) -> Result<()> {
    let mut only_notes: Option<String> = None;
    let mut elsewhere = std::collections::HashSet::new();
    let mut in_notes = std::collections::BTreeSet::new();
    for (page, _) in chapters {
        open(c, s, page).await?;
        let words = js(
            c,
            "const main = document.querySelector('main').cloneNode(true);
             const notes = [...main.querySelectorAll('aside.notes')].map(a => { a.remove(); return [...a.querySelectorAll('p, li')].map(e => e.textContent).join(' '); }).join(' ');
             const split = (t) => t.toLowerCase().match(/\\b[a-z]{9,20}\\b/g) || [];
             return [split(notes), split(main.textContent + ' ' + document.title)];",
        )
        .await?;
        for w in words[0]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            in_notes.insert(w.to_string());
        }
        for w in words[1]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            elsewhere.insert(w.to_string());
        }
    }
    // The longest such word: mdbook's search stems words, and a long one is least
    // likely to share its stem with a word on the slides.
    for w in &in_notes {
        if !elsewhere.contains(w) && only_notes.as_ref().is_none_or(|o| w.len() > o.len()) {
            only_notes = Some(w.clone());
        }
    }
    let word = only_notes.context("no word is only in the notes")?;
    open(c, s, &chapters[0].0).await?;
    c.find(fantoccini::Locator::Css("#mdbook-search-toggle"))
        .await?
        .click()
        .await?;
    let bar = c
        .find(fantoccini::Locator::Css("#mdbook-searchbar"))
        .await?;
    bar.send_keys(&word).await?;
    wait_for(
        c,
        "document.querySelectorAll('#mdbook-searchresults li').length > 0",
        WAIT,
    )
    .await
    .with_context(|| format!("searching for `{word}`, a word only in the notes"))?;
    let found = js(
        c,
        &format!("return [...document.querySelectorAll('#mdbook-searchresults li')].some(li => li.textContent.toLowerCase().includes('{word}'));"),
    )
    .await?;
    ensure!(found == serde_json::json!(true), "a result shows `{word}`");
    eprintln!("search found `{word}`, which only the notes have");
    Ok(())
}

/// On a phone (390×844), no table or diagram of the reading view runs past the screen's
/// right edge: it scrolls sideways inside its box instead. (Chromium's window is at
/// least 500 px wide, so the phone is an iframe of that size.)
async fn phone(c: &Client, s: &Server, chapters: &[(String, usize)]) -> Result<()> {
    viewport(c, s, 1280, 900).await?;
    let mut checked = 0;
    for (page, _) in chapters {
        open_phone(c, s, page).await?;
        let cut = js(
            c,
            "const w = document.getElementById('phone').contentWindow, d = w.document, out = [];
             for (const e of d.querySelectorAll('main table, main .diagram, main figure.chart svg, main pre')) {
               // What scrolls sideways is measured by its box, the part on screen.
               let box = e;
               for (let a = e; a && a.tagName !== 'MAIN'; a = a.parentElement) {
                 const o = w.getComputedStyle(a).overflowX;
                 if ((o === 'auto' || o === 'scroll') && a.scrollWidth > a.clientWidth) { box = a; break; }
               }
               const r = box.getBoundingClientRect();
               if (r.width && r.right > w.innerWidth + 1) out.push(e.tagName + ' ' + Math.round(r.right));
             }
             return [out, d.querySelectorAll('main table, main .diagram').length, w.innerWidth];",
        )
        .await?;
        ensure!(
            cut[2] == serde_json::json!(390),
            "the phone is 390 px wide: {cut}"
        );
        ensure!(
            cut[0].as_array().is_some_and(|a| a.is_empty()),
            "{page}: cut at the right edge: {cut}"
        );
        checked += cut[1].as_u64().unwrap_or(0);
    }
    ensure!(checked > 0, "the talk has tables or diagrams to check");
    eprintln!("phone: {checked} tables and diagrams stay within 390 px");
    Ok(())
}

/// Run live clicked in the speaker window plays in the audience window too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_live_from_the_speaker_window_plays_in_the_main_window() -> Result<()> {
    const DEMO: &str = "read-without-consuming";
    // Both tests write the talk's `book/` (one builds it, the other presents it).
    let _book = BOOK.lock().await;
    browser_tests::on_present(&[], async |c, present| {
        let outcome = speaker_runs_live(c, present, DEMO).await;
        screenshot_on_error(c, "cockpit-live-failure", outcome).await
    })
    .await
}

/// Run live in the speaker window on `demo`'s slide; the main window shows the run, and E
/// in either window shows all lines in both.
async fn speaker_runs_live(c: &Client, present: &browser_tests::Present, demo: &str) -> Result<()> {
    let (page, n) = browser_tests::slide_of_demo(demo)?;
    c.goto(&format!("{}{page}?slides#slide-{n}", present.url))
        .await?;
    ready(c).await?;
    let main = browser_tests::open_speaker_window(c).await?;
    let speaker = c.window().await?;
    ready(c).await?;
    let figure =
        format!("document.querySelector('section.deck-current figure.demo[data-demo=\"{demo}\"]')");
    browser_tests::live_ready(c, &figure)
        .await
        .context("Run live is offered in the speaker window")?;
    browser_tests::run_live(c, &figure, "").await?;
    c.switch_to_window(main.clone()).await?;
    let there = format!("document.querySelector('figure.demo[data-demo=\"{demo}\"]')");
    wait_for(c, &format!("{there}.dataset.state === 'live-done'"), WAIT)
        .await
        .context("the main window shows the live run")?;
    let meta = js(
        c,
        &format!("return {there}.querySelector('.demo-meta').textContent;"),
    )
    .await?;
    ensure!(
        meta.as_str().is_some_and(|m| m.starts_with("live run")),
        "the main window's caption: {meta}"
    );
    let text = js(
        c,
        &format!("return {there}.querySelector('pre.terminal samp').textContent;"),
    )
    .await?;
    ensure!(
        text.as_str().is_some_and(|t| t.contains("PASS")),
        "the live output reached the main window: {text}"
    );
    // E (all lines / focus lines) in the speaker window shows on the main screen,
    // and back.
    c.switch_to_window(speaker.clone()).await?;
    press(c, 'e').await?;
    wait_for(c, &format!("{figure}.hasAttribute('data-expanded')"), WAIT)
        .await
        .context("E in the speaker window shows all lines there")?;
    c.switch_to_window(main).await?;
    wait_for(c, &format!("{there}.hasAttribute('data-expanded')"), WAIT)
        .await
        .context("E in the speaker window shows all lines on the main screen")?;
    press(c, 'e').await?;
    c.switch_to_window(speaker).await?;
    wait_for(c, &format!("!{figure}.hasAttribute('data-expanded')"), WAIT)
        .await
        .context("E on the main screen goes back to focus lines in the speaker window")?;
    Ok(())
}
