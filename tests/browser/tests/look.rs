//! The deck beside reveal.js: the title slide, a demo slide, a chart slide and the
//! closing slide of the real talk, screenshotted at 1280×720 in the slide view, each
//! next to the same words set in reveal.js's white theme (a pinned npm package, see
//! `package.json`; its `dist/reveal.css` and `dist/theme/white.css`, served from
//! loopback, no CDN) in the same headless Chromium. The pairs land in
//! `target/browser-artifacts/look/` (`NAME-deck.png`, `NAME-reveal-white.png`, and
//! `index.html` showing them side by side), for a designer's eye; the test checks that
//! each is a 1280×720 picture with something drawn on it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use browser_tests::{
    Server, WAIT, WINDOW, artifacts_subdir, chapter_order, chapter_pages, js, open, screenshot,
    viewport, wait_for,
};
use fantoccini::Client;
use serde_json::Value;

/// The slides shown side by side: a name, and what marks the slide in the built HTML
/// (the first slide of the talk that holds it).
const PAIRS: &[(&str, &str)] = &[
    ("title", "data-title-slide"),
    ("demo", "data-focus="),
    ("chart", "<figure class=\"chart"),
    ("closing", "class=\"deck-closing\""),
];

/// The size of every picture: the browser's window, a 16:9 projector at 720p.
const SIZE: (u32, u32) = WINDOW;

/// reveal.js's files a page needs, from `node_modules/reveal.js/dist`.
const REVEAL_FILES: &[&str] = &["reset.css", "reveal.css", "theme/white.css", "reveal.js"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deck_stands_beside_reveal_js_white_theme() -> Result<()> {
    let out = artifacts_subdir("look")?;
    let (slides, shots) = browser_tests::on_the_talk(async |c, deck| {
        let reveal = reveal_dist()?;
        std::fs::create_dir_all(out.join("reveal/theme"))?;
        for file in REVEAL_FILES {
            std::fs::copy(reveal.join(file), out.join("reveal").join(file))
                .with_context(|| format!("copying reveal.js's {file}"))?;
        }
        let slides = PAIRS
            .iter()
            .map(|&(name, marker)| Ok((name, find_slide(deck.dir(), marker)?)))
            .collect::<Result<Vec<_>>>()?;
        let pages = Server::start(&out).await?;
        let shots = shoot(c, deck, &pages, &slides).await?;
        Ok((slides, shots))
    })
    .await?;
    let mut index = String::from(
        "<!doctype html><meta charset=\"utf-8\"><title>The deck beside reveal.js (white)</title>\
         <style>body{font:16px sans-serif;margin:1em}img{width:640px;border:1px solid #999}\
         td{vertical-align:top;padding:0.3em}</style>\
         <table><tr><th>the deck</th><th>reveal.js 6, white theme</th></tr>",
    );
    for (name, (page, n)) in &slides {
        index.push_str(&format!(
            "<tr><td colspan=\"2\">{name}: {page}#slide-{n}</td></tr>\
             <tr><td><img src=\"{name}-deck.png\" alt=\"\"></td>\
             <td><img src=\"{name}-reveal-white.png\" alt=\"\"></td></tr>"
        ));
    }
    index.push_str("</table>\n");
    std::fs::write(out.join("index.html"), index)?;
    for (path, inked) in &shots {
        let png = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let size = png_size(&png).with_context(|| format!("{} is no PNG", path.display()))?;
        ensure!(
            size == SIZE,
            "{} is {}×{}, not {}×{}",
            path.display(),
            size.0,
            size.1,
            SIZE.0,
            SIZE.1
        );
        ensure!(
            *inked > 0.01,
            "{} is blank: {:.2} % of its pixels differ from its background",
            path.display(),
            inked * 100.0
        );
        eprintln!(
            "{}: {}×{}, {:.1} % inked",
            path.display(),
            size.0,
            size.1,
            inked * 100.0
        );
    }
    Ok(())
}

/// reveal.js's `dist/` under this package's `node_modules` (installed with `npm ci` by
/// [`browser_tests::node_modules`] if missing).
fn reveal_dist() -> Result<PathBuf> {
    let dist = browser_tests::node_modules()?.join("reveal.js/dist");
    for file in REVEAL_FILES {
        ensure!(
            dist.join(file).is_file(),
            "{} is missing: is reveal.js in tests/browser/package-lock.json?",
            dist.join(file).display()
        );
    }
    Ok(dist)
}

/// The first slide of the talk, in the talk's order, whose HTML holds `marker`: its page
/// and number.
fn find_slide(site: &Path, marker: &str) -> Result<(String, usize)> {
    let mut pages = chapter_pages(site)?;
    // The order of the chapters, as every page's contract (contract::page::Page) gives it.
    let order: Vec<String> = pages
        .iter()
        .find_map(|(_, html)| chapter_order(html))
        .context("no page of the talk gives the chapters' order (its page contract)")?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    pages.retain(|(name, _)| order.contains(name));
    pages.sort_by_key(|(name, _)| order.iter().position(|o| o == name));
    pages
        .into_iter()
        .find_map(|(name, html)| {
            let at = html.find(marker)?;
            let n = html[..at].matches("<section class=\"slide\"").count();
            Some((name, n))
        })
        .with_context(|| format!("no slide of the talk holds {marker}"))
}

/// Screenshots each slide in the deck and its words in reveal.js; returns each PNG
/// with the share of its pixels that differ from its background (its most common
/// colour).
async fn shoot(
    c: &Client,
    deck: &Server,
    pages: &Server,
    slides: &[(&str, (String, usize))],
) -> Result<Vec<(PathBuf, f64)>> {
    let out = pages.dir();
    viewport(c, deck, SIZE.0, SIZE.1).await?;
    let mut shots = Vec::new();
    for (name, (page, n)) in slides {
        open(c, deck, &format!("{page}?slides#slide-{n}.999")).await?;
        wait_for(
            c,
            &format!("document.documentElement.dataset.slide === '{n}'"),
            WAIT,
        )
        .await
        .with_context(|| format!("{page}#slide-{n} in the slide view"))?;
        shots.push(screenshot(c, &format!("look/{name}-deck")).await?);
        let html = js(c, &format!("return ({SLIDE_AS_REVEAL})();")).await?;
        let html = html
            .as_str()
            .with_context(|| format!("{page}#slide-{n}: no words for reveal.js"))?;
        let file = format!("reveal-{name}.html");
        std::fs::write(out.join(&file), reveal_page(html))?;
        c.goto(&pages.url(&file)).await?;
        wait_for(
            c,
            "window.revealReady === true && document.fonts.status === 'loaded'",
            Duration::from_secs(10),
        )
        .await
        .with_context(|| format!("reveal.js on {file}"))?;
        // reveal.js laid the slide out: its title is on the screen.
        let shown = js(
            c,
            "const h = document.querySelector('.reveal .slides section.present :is(h1, h2)'); \
             if (!h) return false; const r = h.getBoundingClientRect(); \
             return r.width > 0 && r.top >= 0 && r.bottom <= innerHeight;",
        )
        .await?;
        ensure!(shown == true, "reveal.js did not show the title of {file}");
        shots.push(screenshot(c, &format!("look/{name}-reveal-white")).await?);
    }
    // How much of each picture is drawn on (differs from its most common colour), read
    // back through a canvas.
    let mut inked = Vec::new();
    for shot in shots {
        let file = shot.file_name().unwrap_or_default().to_string_lossy();
        let share = c
            .execute_async(
                "const done = arguments[arguments.length - 1]; const img = new Image(); \
                 img.onload = () => { const cv = document.createElement('canvas'); \
                   cv.width = img.naturalWidth; cv.height = img.naturalHeight; \
                   const g = cv.getContext('2d'); g.drawImage(img, 0, 0); \
                   const d = g.getImageData(0, 0, cv.width, cv.height).data; const seen = new Map(); \
                   for (let i = 0; i < d.length; i += 4) { const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2]; \
                     seen.set(k, (seen.get(k) || 0) + 1); } \
                   const bg = [...seen].reduce((a, b) => (b[1] > a[1] ? b : a))[0]; \
                   const [r, gr, b] = [bg >> 16, (bg >> 8) & 255, bg & 255]; let n = 0; \
                   for (let i = 0; i < d.length; i += 4) \
                     if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - gr) + Math.abs(d[i + 2] - b) > 30) n++; \
                   done(n / (d.length / 4)); }; \
                 img.onerror = () => done(-1); img.src = arguments[0];",
                vec![Value::String(pages.url(&file))],
            )
            .await?
            .as_f64()
            .unwrap_or(-1.0);
        if share < 0.0 {
            bail!("{} could not be loaded as an image", shot.display());
        }
        inked.push((shot, share));
    }
    Ok(inked)
}

/// The slide showing in the deck, as the HTML a reveal.js author would write for the
/// same words: the title, the paragraphs, a demo's lines as a code block with its claim
/// and status, a chart as a table, the closing slide's QR code and address.
const SLIDE_AS_REVEAL: &str = r#"function () {
  const sec = document.querySelector('section.slide.deck-current');
  const esc = (s) => { const d = document.createElement('div'); d.textContent = s.replace(/\s+/g, ' ').trim(); return d.innerHTML; };
  const visible = (el) => el.getClientRects().length > 0;
  const out = [];
  for (const el of sec.children) {
    if (el.matches('aside.notes, script, style, .deck-config') || !visible(el)) continue;
    if (el.matches('h1, h2, h3')) { out.push(`<${el.localName}>${esc(el.textContent)}</${el.localName}>`); continue; }
    const demos = el.matches('figure.demo') ? [el] : [...el.querySelectorAll('figure.demo')];
    const charts = el.matches('figure.chart') ? [el] : [...el.querySelectorAll('figure.chart')];
    if (demos.length) {
      for (const fig of demos) {
        const lines = [...fig.querySelectorAll('pre.terminal .line')].filter(visible).map((l) => {
          const d = document.createElement('div'); d.textContent = l.textContent.replace(/\n$/, ''); return d.innerHTML; });
        out.push(`<pre><code>${lines.join('\n')}</code></pre>`);
        const claim = fig.querySelector('.demo-claim');
        if (claim) out.push(`<p><small><em>${esc(claim.textContent)}</em></small></p>`);
        const cmd = fig.querySelector('.demo-rerun');
        const status = fig.querySelector('.demo-status');
        out.push(`<p><small><code>${esc(cmd ? cmd.textContent : '')}</code> ${esc(status ? status.textContent : '')}</small></p>`);
      }
      continue;
    }
    if (charts.length) {
      for (const fig of charts) {
        const rows = [...fig.querySelectorAll('.chart-row')].map((r) =>
          `<tr><td>${esc((r.querySelector('.chart-label') || r).textContent)}</td><td>${[...r.querySelectorAll('.chart-value')].map((v) => esc(v.textContent)).join(' / ')}</td></tr>`);
        out.push(`<table>${rows.join('')}</table>`);
        const cap = fig.querySelector(':scope > figcaption');
        if (cap) out.push(`<p><small>${esc(cap.textContent)}</small></p>`);
      }
      continue;
    }
    if (el.matches('.deck-closing')) {
      const qr = el.querySelector('svg');
      if (qr) out.push(`<div style="width:7.5em;height:7.5em;margin:0 auto">${qr.outerHTML}</div>`);
      for (const p of el.querySelectorAll('p')) out.push(`<p>${esc(p.textContent)}</p>`);
      continue;
    }
    for (const p of el.matches('p, ul, ol, blockquote') ? [el] : el.querySelectorAll('p, ul, ol, blockquote')) {
      if (p.matches('ul, ol')) out.push(`<${p.localName}>${[...p.children].map((li) => `<li>${esc(li.textContent)}</li>`).join('')}</${p.localName}>`);
      else out.push(`<p>${esc(p.textContent)}</p>`);
    }
  }
  return out.join('\n');
}"#;

/// A reveal.js page of one slide, in the white theme, with reveal.js's own slide size
/// (960×700, scaled to the window) and layout, as an author gets them out of the box.
fn reveal_page(slide: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reveal.js, white theme</title>
<link rel="stylesheet" href="reveal/reset.css">
<link rel="stylesheet" href="reveal/reveal.css">
<link rel="stylesheet" href="reveal/theme/white.css">
<style>.reveal svg {{ width: 100%; height: 100%; }}</style>
</head><body>
<div class="reveal"><div class="slides"><section>
{slide}
</section></div></div>
<script src="reveal/reveal.js"></script>
<script>
Reveal.initialize({{ controls: false, progress: false, hash: false, history: false,
  transition: "none", center: true, slideNumber: false }})
  .then(() => {{ window.revealReady = true; }});
</script>
</body></html>
"#
    )
}

/// A PNG's width and height, from its IHDR chunk.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let at = |i: usize| u32::from_be_bytes([png[i], png[i + 1], png[i + 2], png[i + 3]]);
    Some((at(16), at(20)))
}
