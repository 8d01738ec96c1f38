//! What the tests do on a page of the deck, defined once: open a page and wait for its
//! player, size the page, read the slide showing and the root element's classes, show a
//! slide at a step, load and run `measure.js`. Every wait here says in its doc what it
//! waits for and for how long; each gives up with an error naming what it waited for.

use std::time::Duration;

use anyhow::{Context, Result};
use fantoccini::Client;
use serde_json::Value;

use crate::{PREFIX, Server, js, set_viewport, wait_for};

/// How long the waits of this module wait for the page: [`open`], [`ready`],
/// [`wait_class`], [`show_step`], [`show_slide`]. A page of the real talk is ready in
/// about a second on a busy machine; the fixture's in less. The bound is the longest
/// the copies it replaced had (8 to 10 s): it costs nothing while the page is quick, and
/// a CI machine at a load of 10 is not.
pub const WAIT: Duration = Duration::from_secs(10);

/// The page's measurements (`window.__deckMeasure`, `__deckFlaws`, `__deckHierarchy`,
/// `__deckPhone`), loaded into a page by [`open_measured`].
pub const MEASURE: &str = include_str!("measure.js");

/// What [`ready`] waits for: the player has taken over and the page's fonts are loaded
/// (a size measured before the fonts load is another font's).
const READY: &str =
    "document.documentElement.dataset.player === 'ready' && document.fonts.status === 'loaded'";

/// Opens `page` of the book `s` serves (a path below the book's root, with any query and
/// fragment) and waits, at most [`WAIT`] (10 s), as [`ready`] does.
pub async fn open(c: &Client, s: &Server, page: &str) -> Result<()> {
    c.goto(&s.url(page))
        .await
        .with_context(|| format!("opening {page}"))?;
    ready(c)
        .await
        .with_context(|| format!("waiting for the player on {page}"))
}

/// Waits, at most [`WAIT`] (10 s), until the open page's player has taken over
/// (`data-player="ready"` on the root element) and its fonts are loaded: after a reload,
/// a navigation the page made itself, or in another window.
pub async fn ready(c: &Client) -> Result<()> {
    wait_for(c, READY, WAIT).await
}

/// Waits, at most [`WAIT`] (10 s), until the window shows `page` of the book a [`Server`]
/// serves (`location.pathname` is `/talk/PAGE`: after a navigation the deck made itself,
/// to the next chapter or by a tile of the overview) and, as [`ready`] waits for, its
/// player has taken over and its fonts are loaded.
pub async fn wait_page(c: &Client, page: &str) -> Result<()> {
    wait_for(
        c,
        &format!("location.pathname === '{PREFIX}/{page}' && {READY}"),
        WAIT,
    )
    .await
}

/// [`open`] (the same wait, at most 5 s), then loads [`MEASURE`] into the page.
pub async fn open_measured(c: &Client, s: &Server, page: &str) -> Result<()> {
    open(c, s, page).await?;
    js(c, MEASURE).await?;
    Ok(())
}

/// Opens the book's `index.html` (waiting as [`open`] does, at most 5 s) and makes the
/// page `w`×`h` ([`set_viewport`], which measures and corrects for at most about a
/// second); the pages opened after it keep the size.
pub async fn viewport(c: &Client, s: &Server, w: u32, h: u32) -> Result<()> {
    open(c, s, "index.html").await?;
    set_viewport(c, w, h).await
}

/// The number of the slide showing (`data-slide` on the root element), 0 when none; an
/// error when it is not a whole number. Does not wait.
pub async fn slide(c: &Client) -> Result<u64> {
    js(
        c,
        "return Number(document.documentElement.dataset.slide || 0);",
    )
    .await?
    .as_u64()
    .context("data-slide is not a number")
}

/// Whether the root element has `class` now (how the deck shows its views: `deck-on`,
/// `deck-slides`, `deck-black`, ...). Does not wait.
pub async fn has_class(c: &Client, class: &str) -> Result<bool> {
    let script = format!("return document.documentElement.classList.contains('{class}');");
    Ok(js(c, &script).await?.as_bool() == Some(true))
}

/// Waits, at most [`WAIT`] (10 s), until the root element has (`on`) or lacks `class`.
pub async fn wait_class(c: &Client, class: &str, on: bool) -> Result<()> {
    let not = if on { "" } else { "!" };
    wait_for(
        c,
        &format!("{not}document.documentElement.classList.contains('{class}')"),
        WAIT,
    )
    .await
}

/// Shows slide `n` of the open page with `step` of its steps revealed (`#slide-N.K`)
/// and waits, at most [`WAIT`] (10 s), until the page shows that slide at that step.
pub async fn show_step(c: &Client, n: u64, step: u64) -> Result<()> {
    js(
        c,
        &format!("location.hash = '#slide-{n}.{step}'; return true;"),
    )
    .await?;
    wait_for(
        c,
        &format!(
            "document.documentElement.dataset.slide === '{n}' && \
             document.querySelector('section.deck-current')?.dataset.step === '{step}'"
        ),
        WAIT,
    )
    .await
}

/// Shows slide `n` of the open page in its final state, every step revealed
/// (`#slide-N.999`), and waits, at most [`WAIT`] (10 s), until the page shows slide `n`.
pub async fn show_slide(c: &Client, n: u64) -> Result<()> {
    js(
        c,
        &format!("location.hash = '#slide-{n}.999'; return true;"),
    )
    .await?;
    wait_for(
        c,
        &format!("document.documentElement.dataset.slide === '{n}'"),
        WAIT,
    )
    .await
}

/// Measures the slide showing at a `w`×`h` screen with `measure.js`
/// (`window.__deckMeasure`, loaded by [`open_measured`]): the slide is as wide as the
/// screen or as a 16:9 box in it, and the sizes are judged at that scale of 1280×720;
/// `contrast` measures text contrast too. Does not wait.
pub async fn measure(c: &Client, w: u32, h: u32, contrast: bool) -> Result<Value> {
    let slide_w = f64::from(w).min(f64::from(h) * 16.0 / 9.0);
    let scale = slide_w / 1280.0;
    js(
        c,
        &format!("return window.__deckMeasure({scale}, {contrast});"),
    )
    .await
}

/// How long [`open_phone`] waits for the page in its frame.
const PHONE_WAIT: Duration = Duration::from_secs(8);

/// Opens `page` (as [`open`] does) and puts it again, whole, into an iframe `#phone` of
/// 390×844 in place of the body: a phone's screen (Chromium's window is at least 500 px
/// wide). Waits, at most 8 s, until the frame's player has taken over, its fonts are
/// loaded and its document is complete. The viewport must be larger than the phone.
pub async fn open_phone(c: &Client, s: &Server, page: &str) -> Result<()> {
    open(c, s, page).await?;
    js(
        c,
        &format!(
            "document.body.innerHTML = ''; const f = document.createElement('iframe'); \
             f.id = 'phone'; f.style.cssText = 'width:390px;height:844px;border:0;position:fixed;left:0;top:0'; \
             f.src = '{}'; document.body.appendChild(f); return 0;",
            s.url(page)
        ),
    )
    .await?;
    wait_for(
        c,
        "(() => { const d = document.getElementById('phone').contentDocument; \
           return !!d && !!d.documentElement && d.documentElement.dataset.player === 'ready' \
             && d.fonts.status === 'loaded' && d.readyState === 'complete'; })()",
        PHONE_WAIT,
    )
    .await
    .with_context(|| format!("{page} in a 390×844 frame"))
}

/// How long [`live_ready`] waits for Run live to be offered (the demos are built: see
/// [`crate::Present::wait_for_demos`]).
pub const LIVE_READY_WAIT: Duration = Duration::from_secs(10);

/// How long [`run_live`] waits for a live run to end (a demo's hard limit is 5 s).
pub const LIVE_RUN_WAIT: Duration = Duration::from_secs(20);

/// Waits, at most [`LIVE_READY_WAIT`] (10 s), until `figure` (a JS expression for a
/// demo's `<figure>`) is on the page and offers Run live (`data-live="ready"`). When it
/// does not, the error says the player's state and the figure's data attributes.
pub async fn live_ready(c: &Client, figure: &str) -> Result<()> {
    let waited = wait_for(
        c,
        &format!("{figure} && {figure}.dataset.live === 'ready'"),
        LIVE_READY_WAIT,
    )
    .await;
    if let Err(e) = waited {
        let state = js(
            c,
            &format!(
                "const f = {figure}; return [document.documentElement.dataset.player ?? null, \
                 f ? {{...f.dataset}} : null];"
            ),
        )
        .await?;
        return Err(e.context(format!(
            "the Run live control did not appear (player, figure): {state}"
        )));
    }
    Ok(())
}

/// Runs `setup` (a script, or nothing), clicks Run live on `figure` (a JS expression for
/// a demo's `<figure>` that offers it: [`live_ready`]) and waits, at most
/// [`LIVE_RUN_WAIT`] (20 s), until the run has ended (`data-state="live-done"`);
/// returns the text of the figure's terminal.
pub async fn run_live(c: &Client, figure: &str, setup: &str) -> Result<String> {
    js(
        c,
        &format!("{setup} {figure}.querySelector('.demo-run-live').click(); return true;"),
    )
    .await?;
    wait_for(
        c,
        &format!("{figure}.dataset.state === 'live-done'"),
        LIVE_RUN_WAIT,
    )
    .await
    .context("the live run did not finish")?;
    let output = js(
        c,
        &format!("return {figure}.querySelector('pre.terminal').textContent;"),
    )
    .await?;
    Ok(output.as_str().unwrap_or_default().to_string())
}
