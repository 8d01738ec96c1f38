//! The real talk, every slide, as the audience sees it: built with `cargo xtask build`
//! into `book/`, walked slide by slide in the slide view at 1280×720, 1920×1080 and a
//! 4:3 projector (1024×768, letterboxed). On each slide nothing may be cut, outside the
//! slide or in a scroll box; text keeps the sizes that read from the back row (at
//! 1280×720, scaled with the slide: terminal, code, tables and a demo's claim 22 px,
//! charts and diagrams 20 px, body text 26 px); and at 1280×720 every piece of text has
//! a contrast of at least 4.5:1 in both themes (T). Then the look (issue 25) and, on a
//! demo slide, its one hierarchy; another test audits both views with axe-core and
//! reads the chapters on a phone.
//!
//! Every rule has a name ([`RULES`]). A slide that cannot meet one yet goes in
//! [`EXEMPT`] with the rule and the reason; a test fails when an exempt slide stops
//! breaking its rule, so the list only shrinks (the way Comprehensive Rust's slide
//! style test works). Screenshots of every slide at 1280×720 and a report land in
//! `target/browser-artifacts/talk/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use anyhow::{Context, Result, ensure};
use browser_tests::{
    BOOK, Exemption, Findings, MEASURE, SIZES, Server, artifacts_subdir, chapter_pages, has_class,
    js, judge, measure, open, open_measured, open_phone, screenshot, show_slide, show_step,
    viewport,
};
use fantoccini::actions::{InputSource, MouseActions, PointerAction};
use fantoccini::{Client, Locator};
use serde_json::Value;

/// Slides and pages allowed to break a rule, as (rule, URL, reason): a slide is
/// `page.html#slide-N`, a page of the reading view `page.html`. One list for every rule
/// of the tests here, judged by one mechanism ([`browser_tests::judge`]): a test fails
/// on every slide that breaks a rule and is not listed, and on every listed slide that
/// complies now, so the list only shrinks. Update it when the talk changes.
const EXEMPT: &[Exemption] = &[];

/// Every rule, so that a misspelt rule cannot exempt anything.
const RULES: &[&str] = &[
    // The stage (measure.js, every slide at every size): nothing cut or in a scroll box
    // or outside the slide; text large enough; text contrast 4.5:1 in both themes.
    "overflow",
    "text-size",
    "contrast",
    // The look (issue 25, measure.js's __deckFlaws): status-split, terminal-wrap,
    // last-word-alone, bottom-crowded (at every size) and terminal-apart (dark theme).
    "status-split",
    "terminal-wrap",
    "last-word-alone",
    "bottom-crowded",
    "terminal-apart",
    // A demo slide's one hierarchy (measure.js's __deckHierarchy, at 1280x720).
    "hierarchy",
    // The reading view and accessibility: axe-core (WCAG 2 A and AA, 0 violations) in
    // the reading view and on each slide; at 390x844 phone-terminal, phone-chart and
    // phone-table (measure.js's __deckPhone).
    "axe-reading",
    "axe-slides",
    "phone-terminal",
    "phone-chart",
    "phone-table",
];

/// The rules [`every_slide_of_the_talk_fits_reads_and_contrasts`] measures.
const WALK_RULES: &[&str] = &[
    "overflow",
    "text-size",
    "contrast",
    "status-split",
    "terminal-wrap",
    "last-word-alone",
    "bottom-crowded",
    "terminal-apart",
    "hierarchy",
];

/// The rules [`every_chapter_passes_axe_in_both_views_and_reads_on_a_phone`] measures.
const READ_RULES: &[&str] = &[
    "axe-reading",
    "axe-slides",
    "phone-terminal",
    "phone-chart",
    "phone-table",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_slide_of_the_talk_fits_reads_and_contrasts() -> Result<()> {
    // The tests here share `book/` (each builds it, the handout test prints it).
    let _one_at_a_time = BOOK.lock().await;
    let report = browser_tests::on_the_talk(async |c, s| walk(c, s, s.dir()).await).await?;
    std::fs::write(talk_dir()?.join("report.txt"), &report.text)?;
    eprintln!("{}", report.text);
    let failures = judge(EXEMPT, RULES, WALK_RULES, &report.checked, &report.found);
    ensure!(
        failures.is_empty(),
        "{} finding(s) against the exemption list:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    Ok(())
}

fn talk_dir() -> Result<std::path::PathBuf> {
    artifacts_subdir("talk")
}

#[derive(Default)]
struct Report {
    /// Every slide URL walked.
    checked: BTreeSet<String>,
    /// (rule, slide URL) → what is wrong (at which size and theme).
    found: Findings,
    text: String,
}

/// Walks every chapter at every size; at 1280×720 in both themes.
async fn walk(c: &Client, s: &Server, site: &std::path::Path) -> Result<Report> {
    let mut report = Report::default();
    let mut smallest: BTreeMap<String, (f64, String)> = BTreeMap::new();
    // The same, on the slides that are not exempt.
    let mut smallest_kept: BTreeMap<String, (f64, String)> = BTreeMap::new();
    let exempt: BTreeSet<&str> = EXEMPT
        .iter()
        .filter(|(rule, _, _)| *rule == "text-size")
        .map(|(_, url, _)| *url)
        .collect();
    let mut shrunk = BTreeMap::new();
    let mut lowest: Option<(f64, String)> = None;
    // mdbook's 404 page is no chapter.
    let pages: Vec<_> = chapter_pages(site)?
        .into_iter()
        .filter(|(name, html)| name != "404.html" && html.contains("<section class=\"slide\""))
        .collect();
    for &(w, h) in SIZES {
        viewport(c, s, w, h).await?;
        for (page, _) in &pages {
            open_measured(c, s, &format!("{page}?slides#slide-1")).await?;
            let count = js(
                c,
                "return document.querySelectorAll('main > section.slide').length;",
            )
            .await?
            .as_u64()
            .unwrap_or(0);
            let themes: &[bool] = if w == 1280 { &[false, true] } else { &[false] };
            for &dark in themes {
                set_theme(c, dark).await?;
                key(c, "Home").await?;
                for n in 1..=count {
                    // Slide n with all its steps (`#slide-N.K`): ArrowRight would
                    // reveal a step before it moves on.
                    show_slide(c, n).await?;
                    let url = format!("{page}#slide-{n}");
                    // Contrast at 1280×720 in both themes (it does not depend on the size).
                    let contrast = dark || (w, h) == (1280, 720);
                    let mut m = measure(c, w, h, contrast).await?;
                    // A ladder step takes the terminal's place (the layout changes): the
                    // step before it, with the terminal, must fit and read too.
                    if let Some((before, all)) = before_ladder(c).await? {
                        show_step(c, n, before).await?;
                        let t = measure(c, w, h, contrast).await?;
                        // Each finding ([rule, what]) says it is of that step: the
                        // screenshot below is of the slide's last step, and a finding
                        // that does not say so sends the reader to the wrong layout.
                        let at = format!("at step {before}, with its terminal");
                        for k in ["problems", "flaws"] {
                            let list = t[k].as_array().cloned().unwrap_or_default();
                            if let Some(all) = m[k].as_array_mut() {
                                all.extend(list.into_iter().map(|f| of_step(f, &at)));
                            }
                        }
                        if (w, h) == (1280, 720) {
                            let theme = if dark { "-dark" } else { "" };
                            let name = format!(
                                "talk/{}-{n:02}{theme}-step{before}",
                                page.trim_end_matches(".html")
                            );
                            screenshot(c, &name).await?;
                        }
                        show_step(c, n, all).await?;
                    }
                    let label = format!("{w}x{h}{}", if dark { " dark" } else { "" });
                    report.checked.insert(url.clone());
                    if (w, h) == (1280, 720) {
                        let theme = if dark { "-dark" } else { "" };
                        let name = format!("talk/{}-{n:02}{theme}", page.trim_end_matches(".html"));
                        screenshot(c, &name).await?;
                    }
                    // After the screenshot: it points at the demos.
                    let hierarchy = if (w, h) == (1280, 720) && !dark {
                        hierarchy(c).await?
                    } else {
                        Value::Null
                    };
                    for f in [&m["problems"], &m["flaws"], &hierarchy]
                        .into_iter()
                        .filter_map(Value::as_array)
                        .flatten()
                    {
                        let rule = f[0].as_str().unwrap_or_default().to_string();
                        let what = f[1].as_str().unwrap_or_default();
                        report
                            .found
                            .entry((rule, url.clone()))
                            .or_default()
                            .push(format!("[{label}] {what}"));
                    }
                    let fit = m["fit"].as_f64().unwrap_or(1.0);
                    if fit < 0.999 && !dark {
                        shrunk
                            .entry(url.clone())
                            .or_insert_with(Vec::new)
                            .push(format!("{w}x{h} ×{fit:.2}"));
                    }
                    if (w, h) == (1280, 720) && !dark {
                        for (k, v) in m["sizes"].as_object().into_iter().flatten() {
                            let px = v[0].as_f64().unwrap_or(f64::NAN);
                            let at = format!("{url} \"{}\"", v[1].as_str().unwrap_or(""));
                            if smallest.get(k).is_none_or(|(min, _)| px < *min) {
                                smallest.insert(k.clone(), (px, at.clone()));
                            }
                            if !exempt.contains(url.as_str())
                                && smallest_kept.get(k).is_none_or(|(min, _)| px < *min)
                            {
                                smallest_kept.insert(k.clone(), (px, at));
                            }
                        }
                    }
                    if let Some(ratio) = m["contrast"][0].as_f64()
                        && lowest.as_ref().is_none_or(|(r, _)| ratio < *r)
                    {
                        let theme = if dark { "dark" } else { "light" };
                        lowest = Some((ratio, format!("{url} ({theme}) {}", m["contrast"])));
                    }
                }
            }
            set_theme(c, false).await?;
        }
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "the talk: {} slides checked at {} sizes",
        report.checked.len(),
        SIZES.len()
    );
    for (k, (px, at)) in &smallest {
        let _ = writeln!(text, "  smallest {k} text at 1280x720: {px} px, {at}");
    }
    for (k, (px, at)) in &smallest_kept {
        let _ = writeln!(
            text,
            "  smallest {k} text at 1280x720 outside EXEMPT: {px} px, {at}"
        );
    }
    if let Some((ratio, at)) = &lowest {
        let _ = writeln!(text, "  lowest text contrast: {ratio}:1, {at}");
    }
    let _ = writeln!(text, "  slides shrunk to fit: {}", shrunk.len());
    for (url, how) in &shrunk {
        let _ = writeln!(text, "    {url}: {}", how.join(", "));
    }
    for rule in WALK_RULES {
        count_rule(&mut text, rule, &report.found);
    }
    report.text = text;
    Ok(report)
}

/// A finding (`[rule, what]`, as measure.js gives it) of another step than the slide's
/// last, with the step named after its `what`.
fn of_step(finding: Value, step: &str) -> Value {
    match finding {
        Value::Array(mut f) if f.len() == 2 => {
            let what = f[1].as_str().unwrap_or_default();
            f[1] = Value::String(format!("{what} ({step})"));
            Value::Array(f)
        }
        f => f,
    }
}

#[test]
fn a_finding_of_an_earlier_step_names_the_step() {
    let f = of_step(
        serde_json::json!(["overflow", "content overflows the slide by 35px down"]),
        "at step 0, with its terminal",
    );
    assert_eq!(
        f,
        serde_json::json!([
            "overflow",
            "content overflows the slide by 35px down (at step 0, with its terminal)"
        ])
    );
}

/// One line for a rule with the number of slides (or pages) that break it, then one
/// per slide with what breaks it.
fn count_rule(text: &mut String, rule: &str, found: &Findings) {
    let slides: Vec<_> = found.iter().filter(|((r, _), _)| r == rule).collect();
    let _ = writeln!(text, "  {rule}: {} slide(s) or page(s)", slides.len());
    for ((_, url), what) in slides {
        let _ = writeln!(text, "    {url}: {}", what.join("; "));
    }
}

/// A demo slide's hierarchy (measure.js's `__deckHierarchy`), measured with the pointer
/// on each demo, so that the presenter's buttons show where they show when pointed at.
async fn hierarchy(c: &Client) -> Result<Value> {
    // Only figures on the screen: from a ladder's step on, the ladder takes its
    // terminal's place and the figure has no box to point at.
    let mut figures = Vec::new();
    for figure in c
        .find_all(Locator::Css("section.slide.deck-current figure.demo"))
        .await?
    {
        if figure.is_displayed().await? {
            figures.push(figure);
        }
    }
    let mut flaws = Vec::new();
    let measure =
        "return window.__deckHierarchy(document.querySelector('section.slide.deck-current'));";
    if figures.is_empty() {
        flaws.extend(
            js(c, measure)
                .await?
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    for figure in figures {
        let hover = MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element: figure,
            duration: None,
            x: 0.0,
            y: 0.0,
        });
        c.perform_actions(hover).await?;
        flaws.extend(
            js(c, measure)
                .await?
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    // The pointer off the slide's content again.
    let away = MouseActions::new("mouse".into()).then(PointerAction::MoveTo {
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    c.perform_actions(away).await?;
    flaws.dedup();
    Ok(Value::Array(flaws))
}

/// A key as the deck's keyboard handler gets it.
async fn key(c: &Client, key: &str) -> Result<()> {
    js(
        c,
        &format!("window.dispatchEvent(new KeyboardEvent('keydown', {{key: '{key}', bubbles: true, cancelable: true}})); return true;"),
    )
    .await?;
    Ok(())
}

/// The steps shown just before the current slide's ladder takes its terminal's place
/// (deck.css), and all its steps, if it has such a step.
async fn before_ladder(c: &Client) -> Result<Option<(u64, u64)>> {
    let k = js(
        c,
        "const s = document.querySelector('section.deck-current'); \
         const step = s.querySelector(':scope > .deck-step > figure.ladder')?.parentElement; \
         if (!step || !s.querySelector(':scope > figure.demo')) return null; \
         const steps = [...s.querySelectorAll('.deck-step:not(aside.notes .deck-step)')]; \
         return [steps.indexOf(step), steps.length];",
    )
    .await?;
    Ok(k[0].as_u64().zip(k[1].as_u64()))
}

/// Dark or light slides, with T as the presenter would.
async fn set_theme(c: &Client, dark: bool) -> Result<()> {
    if has_class(c, "deck-dark").await? != dark {
        key(c, "t").await?;
    }
    Ok(())
}

/// Every chapter in the reading view and on every slide passes axe-core (WCAG 2 A and
/// AA) with no violation, mdBook's own chrome included; and on a phone (390×844) a
/// terminal shows its verdict, a chart takes the column's width with text of at least
/// 12 px, and a table too wide for the screen shows that it scrolls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chapter_passes_axe_in_both_views_and_reads_on_a_phone() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    let (checked, found) = browser_tests::on_the_talk(async |c, s| {
        let axe = browser_tests::axe_source()?;
        audit(c, s, s.dir(), &axe).await
    })
    .await?;
    let mut text = String::new();
    for rule in READ_RULES {
        count_rule(&mut text, rule, &found);
    }
    std::fs::write(talk_dir()?.join("reading-report.txt"), &text)?;
    eprintln!("the reading view and axe-core:\n{text}");
    let failures = judge(EXEMPT, RULES, READ_RULES, &checked, &found);
    ensure!(
        failures.is_empty(),
        "{} finding(s) against the exemption list:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    Ok(())
}

async fn audit(
    c: &Client,
    s: &Server,
    site: &std::path::Path,
    axe: &str,
) -> Result<(BTreeSet<String>, Findings)> {
    let mut found = Findings::new();
    let mut checked = BTreeSet::new();
    let pages: Vec<_> = chapter_pages(site)?
        .into_iter()
        .filter(|(name, html)| name != "404.html" && html.contains("<section class=\"slide\""))
        .collect();
    let mut add = |rule: &str, url: &str, what: Vec<String>| {
        checked.insert(url.to_string());
        if !what.is_empty() {
            found
                .entry((rule.to_string(), url.to_string()))
                .or_default()
                .extend(what);
        }
    };
    // The reading view, on a laptop; then on a phone, as an iframe of 390×844 (Chromium's
    // window is at least 500 px wide).
    viewport(c, s, 1280, 720).await?;
    for (page, _) in &pages {
        open(c, s, page).await?;
        let violations = browser_tests::axe(c, axe, None).await?;
        add("axe-reading", page, violations);
    }
    viewport(c, s, 1280, 900).await?;
    for (page, _) in &pages {
        open_phone(c, s, page).await?;
        c.execute(
            "const w = document.getElementById('phone').contentWindow; w.eval(arguments[0]); return 0;",
            vec![Value::String(MEASURE.to_string())],
        )
        .await
        .context("loading measure.js into the phone's frame")?;
        let phone = js(
            c,
            "return document.getElementById('phone').contentWindow.__deckPhone();",
        )
        .await?;
        for f in phone.as_array().into_iter().flatten() {
            add(
                f[0].as_str().unwrap_or_default(),
                page,
                vec![f[1].as_str().unwrap_or_default().to_string()],
            );
        }
        screenshot(c, &format!("talk/phone-{}", page.trim_end_matches(".html"))).await?;
    }
    // The slide view: the page as a whole on its first slide, then each slide.
    viewport(c, s, 1280, 720).await?;
    for (page, _) in &pages {
        open(c, s, &format!("{page}?slides#slide-1")).await?;
        let count = js(
            c,
            "return document.querySelectorAll('main > section.slide').length;",
        )
        .await?
        .as_u64()
        .unwrap_or(0);
        let violations = browser_tests::axe(c, axe, None).await?;
        add("axe-slides", &format!("{page}#slide-1"), violations);
        for n in 2..=count {
            show_slide(c, n).await?;
            let violations = browser_tests::axe(c, axe, Some("section.slide.deck-current")).await?;
            add("axe-slides", &format!("{page}#slide-{n}"), violations);
        }
    }
    Ok((checked, found))
}

/// The handout: `cargo xtask pdf --notes` (xtask's own code) prints one page per slide,
/// in order, and no page cuts its slide or its notes. The print layout is measured in
/// the browser (what Chromium prints), and each page's text (pdftotext) must hold the
/// last words of its own slide's notes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handout_has_one_whole_page_per_slide() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    let pdftotext = std::path::Path::new("/usr/bin/pdftotext");
    ensure!(
        pdftotext.is_file(),
        "pdftotext is missing: apt-get install poppler-utils"
    );
    let site = browser_tests::build_talk()?;
    let status = browser_tests::xtask()
        .args(["pdf", "--notes"])
        .status()
        .context("running cargo xtask pdf --notes")?;
    ensure!(
        status.success(),
        "cargo xtask pdf --notes failed ({status})"
    );
    let pdf = std::fs::read(site.join("talk.pdf")).context("reading book/talk.pdf")?;
    std::fs::write(talk_dir()?.join("talk-notes.pdf"), &pdf)?;

    let slides = browser_tests::on_site(&site, print_layout).await?;
    let pages = browser_tests::page_count(&pdf);
    eprintln!("the handout: {pages} pages for {} slides", slides.len());
    ensure!(
        pages == slides.len(),
        "book/talk.pdf has {pages} pages for {} slides",
        slides.len()
    );
    let cut: Vec<String> = slides
        .iter()
        .filter_map(|s| {
            s["cut"]
                .as_str()
                .filter(|c| !c.is_empty())
                .map(|c| format!("{}: {c}", s["id"]))
        })
        .collect();
    ensure!(
        cut.is_empty(),
        "pages that cut text:\n  {}",
        cut.join("\n  ")
    );

    let text = std::process::Command::new(pdftotext)
        .arg(site.join("talk.pdf"))
        .arg("-")
        .output()
        .context("running pdftotext")?;
    ensure!(text.status.success(), "pdftotext failed");
    let text = String::from_utf8_lossy(&text.stdout);
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    let page_texts: Vec<String> = text.split('\u{c}').map(squash).collect();
    let mut misplaced = Vec::new();
    for (i, s) in slides.iter().enumerate() {
        let tail = squash(s["tail"].as_str().unwrap_or_default());
        if !tail.is_empty() && !page_texts.get(i).is_some_and(|p| p.contains(&tail)) {
            misplaced.push(format!("page {}: {} ends \"{tail}\"", i + 1, s["id"]));
        }
    }
    ensure!(
        misplaced.is_empty(),
        "pages without the end of their slide's notes:\n  {}",
        misplaced.join("\n  ")
    );
    Ok(())
}

/// `print.html?print&notes` as laid out for print: per slide, what is cut (slide or
/// notes taller than their box) and the last words of its notes.
async fn print_layout(c: &Client, s: &Server) -> Result<Vec<Value>> {
    c.goto(&s.url("print.html?print&notes")).await?;
    browser_tests::wait_for(
        c,
        "document.documentElement.dataset.player === 'ready' && document.fonts.status === 'loaded'",
        std::time::Duration::from_secs(20),
    )
    .await?;
    let slides = js(
        c,
        "return [...document.querySelectorAll('main section.slide')].map((s, i) => { \
           const notes = s.querySelector(':scope > aside.notes'); \
           const cut = []; \
           if (s.scrollHeight > s.clientHeight + 1 || s.scrollWidth > s.clientWidth + 1) \
             cut.push(`slide ${s.scrollHeight - s.clientHeight}px too tall, ${s.scrollWidth - s.clientWidth}px too wide`); \
           if (notes && notes.scrollHeight > notes.clientHeight + 1) \
             cut.push(`notes ${notes.scrollHeight - notes.clientHeight}px too tall`); \
           const words = notes ? notes.innerText.trim().split(/\\s+/) : []; \
           return {id: `#${i + 1} ${s.id}`, cut: cut.join(', '), tail: words.slice(-4).join(' ')}; });",
    )
    .await?;
    Ok(slides.as_array().cloned().unwrap_or_default())
}

/// On a slide a demo's terminal shows its focus lines only (at most 8), E shows the
/// whole run and E again the focus lines; a click on the terminal does the same; the
/// reading view shows every line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_slide_shows_its_focus_lines_and_the_whole_run_on_e() -> Result<()> {
    let _one_at_a_time = BOOK.lock().await;
    browser_tests::on_the_talk(async |c, s| focus_lines(c, s, s.dir()).await).await
}

async fn focus_lines(c: &Client, s: &Server, site: &std::path::Path) -> Result<()> {
    // The first slide of the talk with a terminal that has focus lines.
    let (page, n) = chapter_pages(site)?
        .into_iter()
        .find_map(|(name, html)| {
            let at = html.find("data-focus=")?;
            let n = html[..at].matches("<section class=\"slide\"").count();
            Some((name, n))
        })
        .context("no slide of the talk has a terminal with focus lines")?;
    viewport(c, s, 1280, 720).await?;
    open(c, s, &format!("{page}?slides#slide-{n}")).await?;
    let lines = "(() => { const pre = document.querySelector('section.deck-current pre.terminal[data-focus]'); \
                 const all = [...pre.querySelectorAll('.line')]; \
                 return [all.filter(l => l.getClientRects().length > 0).length, all.length, \
                         all.filter(l => l.classList.contains('focus')).length]; })()";
    let count = |v: Value| -> Vec<u64> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .collect()
    };
    let focus = count(js(c, &format!("return {lines};")).await?);
    ensure!(
        focus[0] == focus[2] && (1..=8).contains(&focus[0]) && focus[1] > focus[0],
        "{page}#slide-{n}: the slide shows only its focus lines, at most 8 (shown, all, focus): {focus:?}"
    );
    key(c, "e").await?;
    let all = count(js(c, &format!("return {lines};")).await?);
    ensure!(all[0] == all[1], "E shows every line: {all:?}");
    let fits = js(c, "const s = document.querySelector('section.deck-current'); return s.scrollHeight <= s.clientHeight + 1;").await?;
    ensure!(
        fits == true,
        "with every line the slide still fits (shrunk)"
    );
    screenshot(c, "talk/focus-all-lines").await?;
    key(c, "e").await?;
    ensure!(
        count(js(c, &format!("return {lines};")).await?) == focus,
        "E again: the focus lines"
    );
    js(c, "document.querySelector('section.deck-current pre.terminal[data-focus]').click(); return 1;").await?;
    ensure!(
        count(js(c, &format!("return {lines};")).await?)[0] == all[1],
        "a click shows every line"
    );
    open(c, s, &page).await?;
    let reading = js(
        c,
        &format!("const pre = document.querySelectorAll('section.slide')[{}].querySelector('pre.terminal[data-focus]'); \
                  return [...pre.querySelectorAll('.line')].every(l => l.getClientRects().length > 0);", n - 1),
    )
    .await?;
    ensure!(reading == true, "the reading view shows every line");
    eprintln!(
        "focus lines: {page}#slide-{n} shows {} of {} lines; E shows all",
        focus[0], focus[1]
    );
    Ok(())
}
