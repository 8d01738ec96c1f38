//! The deck in a real browser: the fixture book, built with the deck engine, served
//! under a sub-path (`/talk/`) on 127.0.0.1, driven in headless Chromium through
//! chromedriver. One session walks through everything a presenter does; screenshots
//! of the main views land in `target/browser-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them this fails at once
//! saying so (`cargo xtask test` skips it with the same message).

#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use browser_tests::{
    Server, WAIT, WINDOW, artifacts_dir, chapter_pages, gzip_size, has_class, js, media_box, open,
    page_count, press, ready, screenshot, screenshot_on_error, slide, viewport, wait_class,
    wait_for, wait_page, xtask_pdf,
};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deck_in_headless_chromium() -> Result<()> {
    browser_tests::on_the_fixture(async |c, s| {
        // The page itself (not the window around it) 1280×720, a 16:9 projector.
        viewport(c, s, WINDOW.0, WINDOW.1).await?;
        let result = screenshot_on_error(c, "failure", scenarios(c, s).await).await;
        let printed = print(c, s, s.dir()).await;
        let measured = measure(c, s, s.dir()).await;
        result?;
        printed?;
        measured
    })
    .await
}

async fn scenarios(c: &Client, s: &Server) -> Result<()> {
    for (name, outcome) in [
        ("entering the slide view and every key", keys(c, s).await),
        ("moving between chapters", chapters(c, s).await),
        (
            "deep links, reload, Back and Forward",
            deep_links(c, s).await,
        ),
        ("swipes", swipes(c, s).await),
        ("the speaker window follows and drives", speaker(c, s).await),
        ("demos on a slide: fit, replay, copy", replay(c, s).await),
        (
            "a terminal that gives way to its ladder: nothing unseen beside it",
            ladder_room(c, s).await,
        ),
        ("nothing from another host", offline(c, s).await),
    ] {
        outcome.with_context(|| format!("scenario: {name}"))?;
        eprintln!("ok: {name}");
    }
    Ok(())
}

async fn url(c: &Client) -> Result<String> {
    Ok(c.current_url().await?.to_string())
}

/// Waits for slide `n` and checks that the URL names it.
async fn expect_slide(c: &Client, n: u64) -> Result<()> {
    let waited = wait_for(
        c,
        &format!("document.documentElement.dataset.slide === '{n}'"),
        WAIT,
    )
    .await;
    if waited.is_err() {
        bail!(
            "expected slide {n}, showing {} at {}",
            slide(c).await?,
            url(c).await?
        );
    }
    let url = url(c).await?;
    ensure!(
        url.ends_with(&format!("#slide-{n}")),
        "slide {n} but the URL is {url}"
    );
    Ok(())
}

async fn visible(c: &Client, selector: &str) -> Result<bool> {
    let script = format!(
        "const el = document.querySelector('{selector}'); \
         if (!el) return false; const r = el.getBoundingClientRect(); \
         return getComputedStyle(el).display !== 'none' && r.width > 0 && r.height > 0;"
    );
    Ok(js(c, &script).await?.as_bool() == Some(true))
}

async fn keys(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "opening.html").await?;
    ensure!(
        !has_class(c, "deck-on").await?,
        "the reading view is mdbook's own"
    );
    ensure!(
        visible(c, "#mdbook-menu-bar").await?,
        "mdbook's menu bar shows while reading"
    );
    screenshot(c, "reading").await?;

    press(c, 'd').await?;
    wait_class(c, "deck-slides", true).await?;
    expect_slide(c, 1).await?;
    ensure!(
        url(c).await?.contains("opening.html?slides#slide-1"),
        "{}",
        url(c).await?
    );
    ensure!(
        !visible(c, "#mdbook-menu-bar").await?,
        "no mdbook chrome on a slide"
    );
    let fills = js(
        c,
        "const r = document.querySelector('section.slide.deck-current').getBoundingClientRect(); \
         return [r.left, r.top, r.width, r.height];",
    )
    .await?;
    ensure!(
        fills == serde_json::json!([0, 0, 1280, 720]),
        "a 16:9 slide fills a 16:9 window: {fills}"
    );
    screenshot(c, "slide").await?;

    let steps: &[(char, u64)] = &[
        (Key::Right.into(), 2),
        (Key::Down.into(), 3),
        (' ', 4),
        (Key::PageUp.into(), 3),
        (Key::Left.into(), 2),
        (Key::Up.into(), 1),
        ('n', 2),
        ('N', 3),
        ('p', 2),
        ('P', 1),
        (Key::PageDown.into(), 2),
        (Key::End.into(), 4),
        (Key::Home.into(), 1),
    ];
    for &(key, n) in steps {
        press(c, key).await?;
        expect_slide(c, n)
            .await
            .with_context(|| format!("after {key:?}"))?;
    }
    press(c, '3').await?;
    let hud = c.find(Locator::Css("#deck-hud")).await?.text().await?;
    ensure!(
        hud.contains("go to 3"),
        "the HUD shows the number being typed: {hud:?}"
    );
    press(c, Key::Enter.into()).await?;
    expect_slide(c, 3).await.context("3 Enter")?;

    for key in ['b', '.'] {
        press(c, key).await?;
        wait_class(c, "deck-black", true).await?;
        ensure!(
            visible(c, "#deck-black").await?,
            "{key}: the screen is black"
        );
        press(c, key).await?;
        wait_class(c, "deck-black", false).await?;
    }

    press(c, '?').await?;
    ensure!(visible(c, "#deck-help").await?, "? shows the keys");
    screenshot(c, "help").await?;
    press(c, Key::Escape.into()).await?;
    ensure!(!visible(c, "#deck-help").await?, "Esc closes the help");
    ensure!(
        !has_class(c, "deck-overview").await?,
        "... and only the help"
    );

    press(c, 'f').await?;
    wait_for(c, "document.fullscreenElement !== null", WAIT)
        .await
        .context("F enters fullscreen")?;
    press(c, 'f').await?;
    wait_for(c, "document.fullscreenElement === null", WAIT)
        .await
        .context("F leaves fullscreen")?;

    press(c, 't').await?;
    wait_class(c, "deck-dark", true).await?;
    let colours = js(
        c,
        "const s = getComputedStyle(document.querySelector('section.slide.deck-current')); \
         return [s.backgroundColor, s.color];",
    )
    .await?;
    ensure!(
        colours == serde_json::json!(["rgb(16, 17, 20)", "rgb(244, 244, 244)"]),
        "dark slides are light on dark: {colours}"
    );
    screenshot(c, "slide-dark").await?;
    press(c, 't').await?;
    wait_class(c, "deck-light", true).await?;

    press(c, 'o').await?;
    wait_class(c, "deck-overview", true).await?;
    wait_for(
        c,
        "document.querySelectorAll('.deck-overview-chapter[data-loaded]').length === 2",
        WAIT,
    )
    .await
    .context("the overview fetches the other chapters")?;
    let tiles = js(
        c,
        "const shown = (s) => s.getBoundingClientRect().width > 0; \
         const all = [...document.querySelectorAll('main section.slide')]; \
         return [all.filter(s => s.id && shown(s)).length, all.filter(shown).length];",
    )
    .await?;
    ensure!(
        tiles == serde_json::json!([4, 11]),
        "the overview shows this chapter's 4 slides and all 11 of the talk: {tiles}"
    );
    let chapters = js(
        c,
        "return [...document.querySelectorAll('.deck-overview-before > h2, .deck-overview-chapter > h2')] \
         .map(h => h.textContent.replace(/^[0-9. ]+/, ''));",
    )
    .await?;
    ensure!(
        chapters == serde_json::json!(["Opening", "Demo", "Closing"]),
        "chapter titles in talk order: {chapters}"
    );
    screenshot(c, "overview").await?;
    c.find(Locator::Css("section#slide-2"))
        .await?
        .click()
        .await?;
    wait_class(c, "deck-overview", false).await?;
    expect_slide(c, 2).await.context("clicking a tile")?;
    press(c, 'O').await?;
    wait_class(c, "deck-overview", true).await?;
    press(c, 'o').await?;
    wait_class(c, "deck-overview", false).await?;

    press(c, Key::Escape.into()).await?;
    wait_class(c, "deck-overview", true)
        .await
        .context("Esc in the slide view opens the overview")?;
    press(c, Key::Escape.into()).await?;
    wait_class(c, "deck-on", false)
        .await
        .context("Esc in the overview goes back to reading")?;
    let back = url(c).await?;
    ensure!(
        back.ends_with("opening.html#slide-2"),
        "reading at the slide, no flag: {back}"
    );
    ensure!(
        visible(c, "#mdbook-menu-bar").await?,
        "mdbook's chrome is back"
    );
    ensure!(
        !visible(c, ".deck-overview-chapter section.slide").await?,
        "other chapters' tiles are not part of the article"
    );

    // A tile of another chapter opens that chapter at that slide, in the slide view.
    press(c, 'd').await?;
    press(c, 'o').await?;
    c.find(Locator::Css(
        ".deck-overview-after .deck-overview-chapter section.slide[data-n='2']",
    ))
    .await?
    .click()
    .await?;
    wait_page(c, "demo.html")
        .await
        .context("clicking another chapter's tile")?;
    expect_slide(c, 2).await?;
    ensure!(has_class(c, "deck-slides").await?, "in the slide view");
    Ok(())
}

async fn chapters(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "opening.html?slides#slide-4").await?;
    expect_slide(c, 4).await?;
    press(c, Key::Right.into()).await?;
    wait_page(c, "demo.html")
        .await
        .context("→ on the last slide opens the next chapter")?;
    expect_slide(c, 1).await?;
    ensure!(
        has_class(c, "deck-slides").await?,
        "still in the slide view"
    );
    press(c, Key::Left.into()).await?;
    wait_page(c, "opening.html")
        .await
        .context("← on the first slide opens the previous chapter")?;
    expect_slide(c, 4).await.context("... on its last slide")?;
    Ok(())
}

async fn deep_links(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "opening.html?slides#slide-3").await?;
    expect_slide(c, 3).await?;
    c.refresh().await?;
    ready(c).await?;
    expect_slide(c, 3)
        .await
        .context("reload stays on the slide")?;
    press(c, Key::Right.into()).await?;
    expect_slide(c, 4).await?;
    c.back().await?;
    expect_slide(c, 3).await.context("Back")?;
    c.forward().await?;
    expect_slide(c, 4).await.context("Forward")?;
    // A reader's deep link: the slide, in the reading view.
    open(c, s, "demo.html#slide-3").await?;
    ensure!(!has_class(c, "deck-on").await?, "no flag, no slide view");
    let seen = js(
        c,
        "const r = document.getElementById('slide-3').getBoundingClientRect(); \
         return scrollY > 0 && r.top >= -1 && r.top < innerHeight / 2;",
    )
    .await?;
    ensure!(seen == true, "scrolled to slide 3");
    Ok(())
}

async fn swipes(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "opening.html?slides#slide-2").await?;
    let swipe = |from: i32, to: i32| {
        format!(
            "const t = (x) => new Touch({{identifier: 1, target: document.body, clientX: x, clientY: 300}}); \
             document.body.dispatchEvent(new TouchEvent('touchstart', {{bubbles: true, touches: [t({from})], changedTouches: [t({from})]}})); \
             document.body.dispatchEvent(new TouchEvent('touchend', {{bubbles: true, touches: [], changedTouches: [t({to})]}}));"
        )
    };
    js(c, &swipe(900, 400)).await?;
    expect_slide(c, 3).await.context("swipe left: next")?;
    js(c, &swipe(300, 800)).await?;
    expect_slide(c, 2).await.context("swipe right: previous")?;
    js(c, &swipe(300, 320)).await?;
    tokio::time::sleep(Duration::from_millis(100)).await;
    ensure!(slide(c).await? == 2, "a tap is not a swipe");
    Ok(())
}

async fn speaker(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "opening.html?slides#slide-2").await?;
    let main = browser_tests::open_speaker_window(c).await?;
    let other = c.window().await?;
    ready(c).await?;
    ensure!(has_class(c, "deck-speaker").await?, "the speaker view");
    expect_slide(c, 2).await?;
    ensure!(
        visible(c, "section#slide-2.deck-current").await?,
        "current slide shows"
    );
    ensure!(
        visible(c, "section#slide-3.deck-next").await?,
        "next slide shows"
    );
    ensure!(
        visible(c, "section.deck-current aside.notes").await?,
        "notes show"
    );
    let notes = c
        .find(Locator::Css("section.deck-current aside.notes"))
        .await?
        .text()
        .await?;
    ensure!(
        notes.contains("Notes of the second slide"),
        "the notes: {notes:?}"
    );
    c.set_window_size(1280, 800).await?;
    let size = js(
        c,
        "return parseFloat(getComputedStyle(document.querySelector('section.deck-current aside.notes p')).fontSize) / innerWidth;",
    )
    .await?;
    ensure!(
        size.as_f64().is_some_and(|r| r >= 0.02),
        "notes in large type (at least 2% of the window width): {size}"
    );
    let labels = js(
        c,
        "return [...document.querySelectorAll('.deck-preview-label')] \
           .filter(l => l.getClientRects().length > 0).map(l => l.textContent);",
    )
    .await?;
    ensure!(
        labels == serde_json::json!(["Now", "Next"]),
        "the previews are labelled Now and Next: {labels}"
    );
    let position = c.find(Locator::Css(".deck-position")).await?.text().await?;
    ensure!(
        position.ends_with("· Opening"),
        "the status line names the chapter (as the table of contents does): {position:?}"
    );
    let clock = c.find(Locator::Css(".deck-clock")).await?.text().await?;
    ensure!(
        clock.len() == 5 && clock.as_bytes()[2] == b':',
        "a clock: {clock:?}"
    );

    let elapsed = || async {
        c.find(Locator::Css(".deck-elapsed"))
            .await?
            .text()
            .await
            .map_err(anyhow::Error::from)
    };
    c.find(Locator::Css(".deck-timer-reset"))
        .await?
        .click()
        .await?;
    ensure!(elapsed().await? == "0:00:00", "reset");
    c.find(Locator::Css(".deck-timer-toggle"))
        .await?
        .click()
        .await?;
    wait_for(
        c,
        "document.querySelector('.deck-elapsed').textContent !== '0:00:00'",
        Duration::from_secs(3),
    )
    .await
    .context("the timer runs")?;
    let toggle_text = || async {
        c.find(Locator::Css(".deck-timer-toggle"))
            .await?
            .text()
            .await
            .map_err(anyhow::Error::from)
    };
    ensure!(
        toggle_text().await? == "Pause",
        "while the timer runs its button says Pause, not {:?}",
        toggle_text().await?
    );
    c.find(Locator::Css(".deck-timer-toggle"))
        .await?
        .click()
        .await?;
    ensure!(
        toggle_text().await? == "Start",
        "paused, the button says Start"
    );
    let paused = elapsed().await?;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    ensure!(
        elapsed().await? == paused,
        "pause stops the timer at {paused}"
    );
    c.find(Locator::Css(".deck-timer-reset"))
        .await?
        .click()
        .await?;
    ensure!(elapsed().await? == "0:00:00", "reset after pause");
    screenshot(c, "speaker").await?;

    c.switch_to_window(main.clone()).await?;
    press(c, Key::Right.into()).await?;
    expect_slide(c, 3).await?;
    c.switch_to_window(other.clone()).await?;
    expect_slide(c, 3)
        .await
        .context("the speaker window follows the main one")?;
    ensure!(
        visible(c, "section#slide-4.deck-next").await?,
        "... and shows the new next slide"
    );
    press(c, Key::Right.into()).await?;
    expect_slide(c, 4).await?;
    let upnext = c.find(Locator::Css(".deck-upnext")).await?.text().await?;
    // The next chapter by its name in the table of contents ("2. Demo"), without its
    // number: not its file name ("demo"), not empty.
    ensure!(
        upnext.contains("Next: Demo"),
        "at a chapter's end the speaker sees the next chapter's name: {upnext:?}"
    );
    wait_for(
        c,
        "(() => { const n = document.querySelector('section.deck-next-remote'); \
         return !!n && n.getBoundingClientRect().width > 0 && n.textContent.includes('A demo'); })()",
        WAIT,
    )
    .await
    .context("at a chapter's end the next chapter's first slide is the next slide")?;
    screenshot(c, "speaker-chapter-end").await?;
    c.switch_to_window(main.clone()).await?;
    expect_slide(c, 4)
        .await
        .context("the main window follows the speaker window")?;

    press(c, 'b').await?;
    c.switch_to_window(other.clone()).await?;
    wait_class(c, "deck-black", true)
        .await
        .context("the speaker window knows the screen is black")?;
    ensure!(
        visible(c, "section.deck-current").await?,
        "... and still shows the slide"
    );
    c.switch_to_window(main.clone()).await?;
    press(c, 'b').await?;

    press(c, Key::Right.into()).await?;
    wait_page(c, "demo.html").await?;
    c.switch_to_window(other.clone()).await?;
    wait_for(
        c,
        "location.pathname === '/talk/demo.html' && document.documentElement.dataset.player === 'ready' \
         && document.documentElement.classList.contains('deck-speaker')",
        WAIT,
    )
    .await
    .context("the speaker window follows into the next chapter")?;
    expect_slide(c, 1).await?;

    // A replay started from the speaker window plays on the main screen too.
    press(c, Key::Right.into()).await?;
    expect_slide(c, 2).await?;
    c.find(Locator::Css(
        "section.deck-current button.demo-replay[data-speed='2']",
    ))
    .await?
    .click()
    .await?;
    c.switch_to_window(main.clone()).await?;
    expect_slide(c, 2).await?;
    wait_for(
        c,
        "document.querySelector('section.deck-current figure.demo').dataset.state === 'replaying'",
        WAIT,
    )
    .await
    .context("a replay started in the speaker window plays in the main one")?;
    c.switch_to_window(other).await?;
    c.close_window().await?;
    c.switch_to_window(main).await?;
    Ok(())
}

async fn replay(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "demo.html?slides#slide-2").await?;
    // The same URL as the last scenario's, so a fragment navigation: load it afresh.
    c.refresh().await?;
    ready(c).await?;
    let fits = js(
        c,
        "const sec = document.querySelector('section.slide.deck-current'); \
         const fig = sec.querySelector('figure.demo'); const pre = fig.querySelector('pre.terminal'); \
         const r = sec.getBoundingClientRect(), f = fig.getBoundingClientRect(); \
         return [f.bottom <= r.bottom + 1, sec.scrollHeight <= sec.clientHeight + 1, pre.scrollHeight <= pre.clientHeight + 1, \
                 getComputedStyle(pre).overflowY];",
    )
    .await?;
    ensure!(
        fits == serde_json::json!([true, true, true, "hidden"]),
        "the terminal fits the slide and never scrolls (figure inside, slide not overflowing, terminal not scrolling, overflow): {fits}"
    );
    screenshot(c, "demo-slide").await?;
    let state = "document.querySelector('section.deck-current figure.demo').dataset.state";
    let lines = "document.querySelector('section.deck-current pre.terminal samp').textContent.split('\\n').length - 1";
    for (speed, min, max) in [("1", 3.0, 5.5), ("2", 1.4, 3.2)] {
        c.find(Locator::Css(&format!(
            "section.deck-current button.demo-replay[data-speed='{speed}']"
        )))
        .await?
        .click()
        .await?;
        let t0 = Instant::now();
        ensure!(
            js(c, &format!("return {state};")).await? == "replaying",
            "{speed}×: replaying"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
        let shown = js(c, &format!("return {lines};"))
            .await?
            .as_u64()
            .unwrap_or(0);
        ensure!(
            (2..40).contains(&shown),
            "{speed}× shows the run line by line: {shown} lines after 0.7 s"
        );
        wait_for(c, &format!("{state} === 'done'"), Duration::from_secs(8)).await?;
        let took = t0.elapsed().as_secs_f64();
        ensure!(
            (min..max).contains(&took),
            "{speed}× replay of a 3.3 s run took {took:.2} s"
        );
        ensure!(
            js(c, &format!("return {lines};")).await? == 42,
            "the whole run at the end"
        );
    }
    c.find(Locator::Css(
        "section.deck-current button.demo-replay[data-speed='0']",
    ))
    .await?
    .click()
    .await?;
    ensure!(
        js(c, &format!("return {state};")).await? == "done",
        "instant replay is done at once"
    );
    ensure!(
        js(c, &format!("return {lines};")).await? == 42,
        "... with the whole run"
    );
    let bottom = js(c, "const p = document.querySelector('section.deck-current pre.terminal'); return p.scrollTop + p.clientHeight >= p.scrollHeight - 2;").await?;
    ensure!(bottom == true, "the terminal follows the output to its end");

    c.find(Locator::Css("section.deck-current button.demo-copy"))
        .await?
        .click()
        .await?;
    wait_for(
        c,
        "(() => { const f = document.querySelector('section.deck-current figure.demo'); return f.hasAttribute('data-copied') || f.hasAttribute('data-copy-failed'); })()",
        WAIT,
    )
    .await?;
    ensure!(
        js(c, "return document.querySelector('section.deck-current figure.demo').hasAttribute('data-copied');").await? == true,
        "the rerun command was copied"
    );

    // A slide with more text than room: shrunk until it fits. (Space after clicking a
    // button turns the page rather than pressing the button again.)
    press(c, ' ').await?;
    expect_slide(c, 3).await.context("Space after a click")?;
    let fit = js(
        c,
        "const sec = document.querySelector('section.slide.deck-current'); \
         return [sec.scrollHeight <= sec.clientHeight + 1, sec.style.getPropertyValue('--deck-fit')];",
    )
    .await?;
    ensure!(fit[0] == true, "a long slide fits: {fit}");
    eprintln!("long slide: fit factor {:?}", fit[1]);
    screenshot(c, "long-slide").await?;

    // A slide with a table wider than the slide (and not too tall): shrunk until it
    // fits across too.
    press(c, ' ').await?;
    expect_slide(c, 4).await?;
    let fit = js(
        c,
        "const sec = document.querySelector('section.slide.deck-current'); \
         return [sec.scrollWidth <= sec.clientWidth + 1, sec.style.getPropertyValue('--deck-fit'), \
                 sec.scrollWidth, sec.clientWidth];",
    )
    .await?;
    ensure!(fit[0] == true, "a wide slide fits: {fit}");
    // Else the fixture tests nothing: its table must be too wide for the slide.
    ensure!(
        fit[1]
            .as_str()
            .and_then(|f| f.parse::<f64>().ok())
            .is_some_and(|f| f < 1.0),
        "the wide slide was not shrunk (is its table still too wide?): {fit}"
    );
    eprintln!("wide slide: fit factor {:?}", fit[1]);
    screenshot(c, "wide-slide").await?;
    Ok(())
}

/// A slide whose terminal a ladder replaces in a later step (demo.html's fifth: 15
/// rows of terminal, as full as the talk's fullest): while the terminal shows, nothing
/// that can never show beside it takes room: not the steps after the ladder's (they
/// show once the terminal has gone) nor the demo's claim (it waits for the slide's last
/// step); the slide fits unshrunk. Kept as hidden room, they put the slide 19 px over
/// even with its title shrunk (x0.75), as they did connect-timeout's in the talk. From
/// the ladder's step on, a later step keeps its room hidden (its reveal moves nothing).
async fn ladder_room(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "demo.html?slides#slide-5").await?;
    expect_slide(c, 5).await?;
    let state = "const sec = document.querySelector('section.slide.deck-current'); \
         const room = (el) => !!el && el.getClientRects().length > 0; \
         const takeaway = [...sec.querySelectorAll(':scope > .deck-step')].pop().firstElementChild; \
         return { fits: sec.scrollHeight <= sec.clientHeight + 1, over: sec.scrollHeight - sec.clientHeight, \
           fit: sec.style.getPropertyValue('--deck-fit') || '1', \
           terminal: room(sec.querySelector(':scope > figure.demo > pre.terminal')), \
           rows: Math.round(sec.querySelector(':scope > figure.demo > pre.terminal samp').getBoundingClientRect().height \
             / parseFloat(getComputedStyle(sec.querySelector(':scope > figure.demo > pre.terminal')).lineHeight)), \
           claim: room(sec.querySelector(':scope > figure.demo > figcaption')), \
           ladder: room(sec.querySelector('figure.ladder')), \
           takeaway: room(takeaway) ? getComputedStyle(takeaway).visibility : 'no room' };";
    let at = js(c, state).await?;
    ensure!(
        at["terminal"] == true && at["rows"].as_u64().is_some_and(|r| r >= 15),
        "the fixture's terminal shows 15 rows or more (else it tests nothing): {at}"
    );
    ensure!(
        at["claim"] == false,
        "the claim takes room beside the terminal, where it never shows: {at}"
    );
    ensure!(
        at["ladder"] == false && at["takeaway"] == "no room",
        "a step after the ladder's takes room beside the terminal: {at}"
    );
    ensure!(
        at["fits"] == true && at["fit"] == "1",
        "the terminal's step does not fit unshrunk: {at}"
    );
    screenshot(c, "ladder-room-terminal").await?;
    press(c, ' ').await?;
    wait_for(
        c,
        "document.querySelector('section.deck-current').dataset.step === '1'",
        WAIT,
    )
    .await?;
    let at = js(c, state).await?;
    ensure!(
        at["terminal"] == false && at["ladder"] == true && at["takeaway"] == "hidden",
        "at the ladder's step: the ladder in the terminal's place, the takeaway's room kept: {at}"
    );
    ensure!(at["fits"] == true, "the ladder's step fits: {at}");
    press(c, ' ').await?;
    wait_for(
        c,
        "document.querySelector('section.deck-current').dataset.step === '2'",
        WAIT,
    )
    .await?;
    let at = js(c, state).await?;
    ensure!(
        at["takeaway"] == "visible" && at["fits"] == true,
        "the last step shows the takeaway and fits: {at}"
    );
    Ok(())
}

async fn offline(c: &Client, s: &Server) -> Result<()> {
    open(c, s, "demo.html?slides#slide-2").await?;
    wait_for(c, "document.fonts.status === 'loaded'", WAIT).await?;
    let foreign = js(
        c,
        "const here = location.origin + '/talk/'; \
         return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(here));",
    )
    .await?;
    ensure!(
        foreign == serde_json::json!([]),
        "everything comes from the book's own sub-path: {foreign}"
    );
    let fonts = js(
        c,
        "return [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family);",
    )
    .await?;
    ensure!(
        fonts.as_array().is_some_and(|f| !f.is_empty()),
        "the slide's fonts load from the book: {fonts}"
    );
    Ok(())
}

/// Print layout on screen, and as a PDF with one slide per page.
async fn print(c: &Client, s: &Server, site: &std::path::Path) -> Result<()> {
    open(c, s, "demo.html?print").await?;
    ensure!(
        has_class(c, "deck-print").await?,
        "?print: the print layout"
    );
    let shapes = js(
        c,
        "return [...document.querySelectorAll('main section.slide')].map(s => { \
           const r = s.getBoundingClientRect(); return Math.round(1000 * r.width / r.height) / 1000; });",
    )
    .await?;
    ensure!(
        shapes == serde_json::json!([1.778, 1.778, 1.778, 1.778, 1.778]),
        "every slide is a 16:9 page: {shapes}"
    );
    ensure!(!visible(c, "aside.notes").await?, "no notes unless asked");
    screenshot(c, "print").await?;
    open(c, s, "opening.html?print&notes").await?;
    ensure!(
        visible(c, "section#slide-2 aside.notes").await?,
        "?print&notes: notes on the page"
    );
    screenshot(c, "print-notes").await?;

    let html = std::fs::read_to_string(site.join("print.html")).context("reading print.html")?;
    let slides = html.matches("<section class=\"slide\"").count();
    ensure!(
        slides == 11,
        "the fixture has 11 slides in print.html, found {slides}"
    );
    for (notes, name) in [(false, "fixture.pdf"), (true, "fixture-notes.pdf")] {
        let pdf = xtask_pdf(notes, &artifacts_dir()?.join(name))?;
        let pages = page_count(&pdf);
        ensure!(pages == slides, "{name}: {pages} pages for {slides} slides");
        let (w, h) = media_box(&pdf).context("the PDF has no page size")?;
        ensure!(
            ((w / h) - 16.0 / 9.0).abs() < 0.01,
            "{name}: pages are 16:9, not {w}×{h}"
        );
    }
    // Printing from the reading view (Ctrl+P) prints slides too, one per page.
    open(c, s, "opening.html").await?;
    let page = fantoccini::wd::PrintConfiguration::builder()
        .size(fantoccini::wd::PrintSize {
            width: 13.333 * 2.54,
            height: 7.5 * 2.54,
        })
        .margins(fantoccini::wd::PrintMargins {
            top: 0.0,
            bottom: 0.0,
            left: 0.0,
            right: 0.0,
        })
        .shrink_to_fit(false)
        .background(true)
        .build()
        .map_err(|e| anyhow::anyhow!("a print configuration: {e:?}"))?;
    let pdf = c.print(page).await.context("printing the reading view")?;
    std::fs::write(artifacts_dir()?.join("reading-printed.pdf"), &pdf)?;
    ensure!(
        page_count(&pdf) == 4,
        "printing the reading view of a 4-slide chapter: {} pages",
        page_count(&pdf)
    );
    ensure!(
        !has_class(c, "deck-print").await?,
        "the reading view comes back after printing"
    );
    eprintln!("ok: print layout and PDF ({slides} pages)");
    Ok(())
}

/// The two numbers the deck promises: a slide change under 16 ms and under 250 KB of
/// its own gzipped assets.
async fn measure(c: &Client, s: &Server, site: &std::path::Path) -> Result<()> {
    open(c, s, "demo.html?slides#slide-1").await?;
    let [median, p95, max] = slide_change_times(c).await?;
    eprintln!(
        "slide change (key to style and layout done), 120 changes: median {median:.2} ms, p95 {p95:.2} ms, max {max:.2} ms"
    );
    ensure!(
        p95 < 16.0,
        "slide changes must take under 16 ms: p95 {p95:.2} ms"
    );

    let assets = site.join("deck");
    let mut total = 0;
    for entry in
        std::fs::read_dir(&assets).with_context(|| format!("listing {}", assets.display()))?
    {
        let path = entry?.path();
        let size = gzip_size(&std::fs::read(&path)?)?;
        eprintln!(
            "  {}: {:.1} KiB gzipped",
            path.file_name().unwrap_or_default().to_string_lossy(),
            size as f64 / 1024.0
        );
        total += size;
    }
    eprintln!(
        "deck assets (CSS, JS, wasm): {:.1} KiB gzipped",
        total as f64 / 1024.0
    );
    ensure!(
        total < 250 * 1024,
        "the deck's own assets must stay under 250 KB gzipped: {total} bytes"
    );
    Ok(())
}

/// Median, 95th percentile and maximum of 120 slide changes (back and forth through
/// the chapter), from the key event to style and layout done; the best of three runs,
/// so that other work on the machine does not fail the deck.
async fn slide_change_times(c: &Client) -> Result<[f64; 3]> {
    let mut best: Option<[f64; 3]> = None;
    for _ in 0..3 {
        let times = js(
            c,
            "const count = document.querySelectorAll('main > section.slide').length; \
             const times = []; let key = 'ArrowRight'; \
             for (let i = 0; i < 120; i++) { \
               const at = Number(document.documentElement.dataset.slide); \
               if (at >= count) key = 'ArrowLeft'; if (at <= 1) key = 'ArrowRight'; \
               const t0 = performance.now(); \
               window.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true})); \
               document.querySelector('section.slide.deck-current').getBoundingClientRect(); \
               document.body.offsetHeight; \
               times.push(performance.now() - t0); } \
             times.sort((a, b) => a - b); \
             return [times[60], times[114], times[119]];",
        )
        .await?;
        let run = [0, 1, 2].map(|i| times[i].as_f64().unwrap_or(f64::NAN));
        if best.is_none_or(|b| run[1] < b[1]) {
            best = Some(run);
        }
    }
    best.context("no measurement")
}

/// The same measurements on the real talk, when it has been built (`cargo xtask
/// build`): `cargo test -p browser-tests -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measures the built talk in book/; run with --ignored after cargo xtask build"]
async fn the_talk_in_headless_chromium() -> Result<()> {
    let site = browser_tests::workspace_root().join("book");
    ensure!(
        site.join("print.html").is_file(),
        "{} has no built talk: run `cargo xtask build` first",
        site.display()
    );
    // The chapter with the most slides.
    let biggest = chapter_pages(&site)?
        .into_iter()
        .map(|(name, html)| (html.matches("<section class=\"slide\"").count(), name))
        .max()
        .context("the built talk has no chapter pages")?;
    let p95 = browser_tests::on_site(&site, async |c, s| {
        viewport(c, s, WINDOW.0, WINDOW.1).await?;
        open(c, s, &format!("{}?slides#slide-1", biggest.1)).await?;
        let [median, p95, max] = slide_change_times(c).await?;
        eprintln!(
            "the talk, {} ({} slides): slide change median {median:.2} ms, p95 {p95:.2} ms, max {max:.2} ms",
            biggest.1, biggest.0
        );
        let t0 = Instant::now();
        press(c, 'o').await?;
        wait_for(
            c,
            "[...document.querySelectorAll('.deck-overview-chapter')].every(g => g.hasAttribute('data-loaded'))",
            Duration::from_secs(10),
        )
        .await?;
        eprintln!(
            "the talk: overview of every chapter in {:.0} ms",
            t0.elapsed().as_secs_f64() * 1000.0
        );
        screenshot(c, "talk-overview").await?;
        Ok(p95)
    })
    .await?;
    ensure!(
        p95 < 16.0,
        "slide changes must take under 16 ms: p95 {p95:.2} ms"
    );

    let mut deck = 0;
    let mut html = 0;
    for dir in [site.join("deck"), site.join("theme"), site.clone()] {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let size = gzip_size(&std::fs::read(&path).unwrap_or_default())?;
            if dir == site && name.ends_with(".html") {
                html += size;
            } else if dir != site && (name.starts_with("player") || name.starts_with("deck")) {
                deck += size;
            }
        }
    }
    eprintln!(
        "the talk: deck assets (CSS, JS, wasm) {:.1} KiB gzipped; all chapter pages (HTML, with the embedded transcripts) {:.1} KiB gzipped",
        deck as f64 / 1024.0,
        html as f64 / 1024.0
    );
    ensure!(
        deck < 250 * 1024,
        "the deck's own assets must stay under 250 KB gzipped"
    );
    Ok(())
}
