// Measures the slide showing in the slide view (section.slide.deck-current): what
// is cut or hidden in a scroll box (rule "overflow"), the smallest text of each kind
// ("text-size") and the lowest text contrast ("contrast"), each problem as [rule, what]. Loaded by tests/talk.rs into each chapter page as window.__deckMeasure.
//
// scale: the slide's width / 1280 (the sizes are given for a 1280x720 slide).
// contrast: also measure contrast (it does not depend on the size).
window.__deckMeasure = (scale, contrast) => {
  const sec = document.querySelector("section.slide.deck-current");
  const box = sec.getBoundingClientRect();
  const problems = [];
  const sizes = {};
  let worst = null;
  const short = (s) => s.replace(/\s+/g, " ").trim().slice(0, 40);
  const name = (el) =>
    el.tagName.toLowerCase() + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "");

  // 1. Nothing outside the slide, nothing in a scroll box or clipped.
  const over = [sec.scrollHeight - sec.clientHeight, sec.scrollWidth - sec.clientWidth];
  if (over[0] > 1 || over[1] > 1) problems.push(["overflow", `content overflows the slide by ${over[0]}px down, ${over[1]}px across`]);
  for (const el of sec.querySelectorAll("*")) {
    // .chart-sr: words for screen readers only, clipped to nothing on purpose.
    if (el.closest("aside.notes, .demo-controls, .chart-sr, script, style, svg")) continue;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.display === "contents") continue;
    const clips = cs.overflowX !== "visible" || cs.overflowY !== "visible";
    const cut = [el.scrollHeight - el.clientHeight, el.scrollWidth - el.clientWidth];
    if (clips && (cut[0] > 1 || cut[1] > 1) && el.textContent.trim())
      problems.push(["overflow", `${name(el)} hides ${cut[0]}px down, ${cut[1]}px across ("${short(el.textContent)}")`]);
  }

  // 2. Every visible piece of text: inside the slide, large enough, readable.
  const kind = (el) => {
    if (el.closest("figure.chart, .diagram, svg")) return ["chart or diagram", 20];
    if (el.closest("pre, code, kbd, samp, table, .demo-claim, .demo-rerun, .demo-meta")) return ["terminal, code, table, claim", 22];
    return ["body", 26];
  };
  const walker = document.createTreeWalker(sec, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    if (!text.trim()) continue;
    const el = node.parentElement;
    if (el.closest("aside.notes, .demo-controls, .chart-sr, script, style, title")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
    if (!rects.length) continue; // hidden (a terminal's other lines, the other view's content)
    const cs = getComputedStyle(el);
    if (cs.visibility === "hidden" || Number(cs.opacity) === 0) continue;
    for (const r of rects) {
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        problems.push(["overflow", `text outside the slide: "${short(text)}"`]);
        break;
      }
    }
    let px = parseFloat(cs.fontSize);
    if (el instanceof SVGElement && el.getScreenCTM) {
      const m = el.getScreenCTM();
      if (m) px *= Math.hypot(m.a, m.b);
    }
    const [k, min] = kind(el);
    const at1280 = px / scale;
    if (!sizes[k] || at1280 < sizes[k][0]) sizes[k] = [Math.round(at1280 * 10) / 10, short(text)];
    if (contrast) {
      const c = contrastOf(el);
      if (c && (!worst || c.ratio < worst[0])) worst = [Math.round(c.ratio * 100) / 100, short(text), c.fg, c.bg];
    }
  }
  for (const [k, [px, text]] of Object.entries(sizes)) {
    const min = k === "body" ? 26 : k === "chart or diagram" ? 20 : 22;
    if (px < min - 0.05) problems.push(["text-size", `${k} text at ${px}px (at 1280x720) < ${min}px: "${text}"`]);
  }
  if (worst && worst[0] < 4.5) problems.push(["contrast", `${worst[0]}:1 < 4.5:1 for "${worst[1]}" (${worst[2]} on ${worst[3]})`]);
  return {
    problems,
    flaws: window.__deckFlaws(sec, contrast),
    sizes,
    contrast: worst,
    fit: parseFloat(sec.style.getPropertyValue("--deck-fit") || "1"),
  };
};

// The colour of an element's text and of what is behind it, as composited.
function rgba(text) {
  const m = text.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(top, bottom) {
  const a = top[3];
  return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
}
function luminance(c) {
  const [r, g, b] = c.slice(0, 3).map((v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function background(el) {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const bg = rgba(getComputedStyle(e).backgroundColor);
    if (bg && bg[3] > 0) {
      layers.push(bg);
      if (bg[3] >= 1) break;
    }
  }
  let colour = [255, 255, 255, 1];
  for (const layer of layers.reverse()) colour = over(layer, colour);
  return colour;
}
function contrastOf(el) {
  const cs = getComputedStyle(el);
  let fg = rgba(el instanceof SVGElement && cs.fill && cs.fill !== "none" ? cs.fill : cs.color);
  if (!fg) return null;
  const bg = background(el);
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
  fg = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
  const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
  const hex = (c) => "#" + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
  return { ratio: (l1 + 0.05) / (l2 + 0.05), fg: hex(fg), bg: hex(bg) };
}

// The look (issue 25): flaws a designer sees, each as [rule, what]. The rules:
//   status-split     a demo's status line on more than one line
//   terminal-wrap    a terminal line wrapped back to its first column (no hanging indent)
//   last-word-alone  a title or takeaway whose last line is one word, or a code span
//                    split across lines
//   bottom-crowded   content within 6 % of the slide's height from its bottom edge
//   terminal-apart   (dark theme) a terminal that does not stand apart from the slide:
//                    under 1.5:1 between the backgrounds and no border of 3:1
window.__deckFlaws = (sec, dark) => {
  const flaws = [];
  const short = (s) => s.replace(/\s+/g, " ").trim().slice(0, 40);
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  // The line boxes (rows) a range of text occupies, as their tops, rounded.
  const rows = (range) => {
    const tops = [];
    for (const r of range.getClientRects()) {
      if (r.width < 1 || r.height < 1) continue;
      if (!tops.some((t) => Math.abs(t - r.top) < r.height / 2)) tops.push(r.top);
    }
    return tops.sort((a, b) => a - b);
  };
  const rangeOf = (el) => {
    const r = document.createRange();
    r.selectNodeContents(el);
    return r;
  };

  for (const meta of sec.querySelectorAll("figure.demo .demo-meta")) {
    if (!shown(meta)) continue;
    if (rows(rangeOf(meta)).length > 1) flaws.push(["status-split", `"${short(meta.textContent)}"`]);
  }

  for (const line of sec.querySelectorAll("pre.terminal .line")) {
    if (!shown(line) || !line.textContent.trim()) continue;
    const rects = [...rangeOf(line).getClientRects()].filter((r) => r.width >= 1 && r.height >= 1);
    const tops = rows(rangeOf(line));
    if (tops.length < 2) continue;
    const lefts = tops.map((t) => Math.min(...rects.filter((r) => Math.abs(r.top - t) < r.height / 2).map((r) => r.left)));
    // Where the line's first row starts is column 0; a wrapped row must start further in.
    const em = parseFloat(getComputedStyle(line).fontSize);
    if (lefts.slice(1).some((l) => l < lefts[0] + em * 0.5))
      flaws.push(["terminal-wrap", `"${short(line.textContent)}"`]);
  }

  const wordy = [
    ...sec.querySelectorAll(":scope > :is(h1, h2), :scope > p, :scope > div.deck-pause > p, :scope > blockquote > p, figure.demo .demo-claim"),
  ];
  for (const el of wordy) {
    if (!shown(el) || !el.textContent.trim()) continue;
    for (const code of el.querySelectorAll("code")) {
      if (rows(rangeOf(code)).length > 1) flaws.push(["last-word-alone", `code span split: "${short(code.textContent)}"`]);
    }
    const lines = rows(rangeOf(el));
    if (lines.length < 2) continue;
    const last = lines[lines.length - 1];
    // The words on the last line.
    let words = 0;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const re = /\S+/g;
      for (let m = re.exec(n.textContent); m; m = re.exec(n.textContent)) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const rect = [...r.getClientRects()].filter((x) => x.width > 0).pop();
        if (rect && Math.abs(rect.top - last) < rect.height / 2) words++;
      }
    }
    if (words === 1) flaws.push(["last-word-alone", `${el.tagName.toLowerCase()} "${short(el.textContent)}"`]);
  }

  const box = sec.getBoundingClientRect();
  let bottom = box.top;
  const blocks = (parent) =>
    [...parent.children].flatMap((c) => (getComputedStyle(c).display === "contents" ? blocks(c) : [c]));
  for (const el of blocks(sec)) {
    if (el.matches("aside.notes, script, style") || !shown(el)) continue;
    bottom = Math.max(bottom, el.getBoundingClientRect().bottom);
  }
  const free = (box.bottom - bottom) / box.height;
  if (free < 0.06) flaws.push(["bottom-crowded", `${(free * 100).toFixed(1)} % of the height free under the content`]);

  if (dark && document.documentElement.classList.contains("deck-dark")) {
    const slideBg = background(sec);
    for (const pre of sec.querySelectorAll("pre.terminal")) {
      if (!shown(pre)) continue;
      const bg = background(pre);
      const cs = getComputedStyle(pre);
      const border = rgba(cs.borderTopColor);
      const borderW = parseFloat(cs.borderTopWidth);
      const apart = ratio(bg, slideBg);
      const edge = border && borderW >= 1 ? ratio(over(border, slideBg), slideBg) : 0;
      if (apart < 1.5 && edge < 3)
        flaws.push(["terminal-apart", `terminal ${apart.toFixed(2)}:1 against the slide, border ${edge.toFixed(2)}:1`]);
    }
  }
  return flaws;
};
function ratio(a, b) {
  const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}

// The reading view on a phone (issue 25), as [rule, what]:
//   phone-terminal  a terminal's last line (its verdict) is not in view inside its box
//   phone-chart     a chart narrower than the text column, or with text under 12 px
//   phone-table     a table wider than its box that does not show it scrolls (no
//                   scroll shadow on the box that scrolls)
window.__deckPhone = () => {
  const flaws = [];
  const main = document.querySelector(".content main");
  const column = main.getBoundingClientRect().width;
  const short = (s) => s.replace(/\s+/g, " ").trim().slice(0, 40);
  for (const pre of main.querySelectorAll("pre.terminal")) {
    const lines = [...pre.querySelectorAll(".line")].filter((l) => l.textContent.trim());
    const last = lines[lines.length - 1];
    if (!last) continue;
    const p = pre.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(last);
    const r = [...range.getClientRects()].filter((x) => x.width > 0);
    const end = r[r.length - 1];
    if (!end || end.right > p.right + 1 || end.bottom > p.bottom + 1 || end.top < p.top - 1 || pre.scrollWidth > pre.clientWidth + 1)
      flaws.push(["phone-terminal", `"${short(last.textContent)}" is not in view in its terminal`]);
  }
  for (const fig of main.querySelectorAll("figure.chart")) {
    const w = fig.getBoundingClientRect().width;
    if (w < column * 0.9) flaws.push(["phone-chart", `a chart ${Math.round(w)} px wide in a ${Math.round(column)} px column`]);
    let smallest = Infinity;
    for (const el of fig.querySelectorAll("*")) {
      if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      if (!el.getClientRects().length) continue;
      let px = parseFloat(getComputedStyle(el).fontSize);
      if (el instanceof SVGElement && el.getScreenCTM) {
        const m = el.getScreenCTM();
        if (m) px *= Math.hypot(m.a, m.b);
      }
      smallest = Math.min(smallest, px);
    }
    if (smallest < 12) flaws.push(["phone-chart", `chart text at ${smallest.toFixed(1)} px < 12 px`]);
  }
  for (const table of main.querySelectorAll("table")) {
    let scroller = null;
    for (let e = table; e && e !== main; e = e.parentElement) {
      if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "visible") { scroller = e; break; }
    }
    const cut = table.getBoundingClientRect().right > main.getBoundingClientRect().right + 1;
    if (!scroller && !cut) continue;
    if (!scroller || !getComputedStyle(scroller).backgroundImage.includes("gradient"))
      flaws.push(["phone-table", `a table ${Math.round(table.scrollWidth)} px wide shows no sign that it scrolls ("${short(table.rows[0]?.textContent || "")}")`]);
  }
  return flaws;
};

// A demo slide's hierarchy (issue 25), as ["hierarchy", what]: the title is the
// question; the lines the terminal shows (its focus lines) are the largest text below
// it, nothing else on the slide is larger; the claim, the command and the status are
// quieter (smaller); and the presenter's buttons (shown when pointed at) never cover a
// line of output. Slides without a demo have nothing to say here.
window.__deckHierarchy = (sec) => {
  const flaws = [];
  const short = (s) => s.replace(/\s+/g, " ").trim().slice(0, 40);
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const figures = [...sec.querySelectorAll("figure.demo")].filter((f) => shown(f) && f.querySelector("pre.terminal"));
  if (!figures.length) return flaws;
  const textRects = (el) => {
    const r = document.createRange();
    r.selectNodeContents(el);
    return [...r.getClientRects()].filter((x) => x.width >= 1 && x.height >= 1);
  };
  // The text nodes of an element that render, with their font size in px.
  const texts = (root) => {
    const out = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const el = n.parentElement;
      const cs = getComputedStyle(el);
      if (cs.visibility === "hidden" || Number(cs.opacity) === 0) continue;
      const r = document.createRange();
      r.selectNodeContents(n);
      if (![...r.getClientRects()].some((x) => x.width > 0 && x.height > 0)) continue;
      out.push([n, el, parseFloat(cs.fontSize)]);
    }
    return out;
  };
  let focusPx = Infinity;
  const output = [];
  for (const fig of figures) {
    const lines = [...fig.querySelectorAll("pre.terminal .line")].filter((l) => shown(l) && l.textContent.trim());
    output.push(...lines);
    for (const [, , px] of lines.flatMap(texts)) focusPx = Math.min(focusPx, px);
  }
  if (focusPx === Infinity) return [["hierarchy", "a demo whose terminal shows no line"]];
  const isTitle = (el) => el.closest("h1, h2") && el.closest("h1, h2").parentElement === sec;
  const skip = (el) => el.closest("aside.notes, .demo-controls, .chart-sr, script, style, title, pre.terminal") || isTitle(el);
  let loudest = null;
  for (const [n, el, px] of texts(sec)) {
    if (skip(el)) continue;
    if (px > focusPx + 0.05 && (!loudest || px > loudest[0])) loudest = [px, n.textContent];
    if (el.closest("figure.demo > :is(figcaption, .demo-rerun, .demo-meta)") && px > focusPx - 0.05)
      flaws.push(["hierarchy", `"${short(n.textContent)}" at ${px.toFixed(1)} px is not quieter than the focus lines (${focusPx.toFixed(1)} px)`]);
  }
  if (loudest)
    flaws.push(["hierarchy", `"${short(loudest[1])}" at ${loudest[0].toFixed(1)} px is larger than the focus lines (${focusPx.toFixed(1)} px)`]);
  for (const fig of figures) {
    const controls = fig.querySelector(".demo-controls");
    if (!controls || !controls.getClientRects().length) continue;
    const c = controls.getBoundingClientRect();
    if (c.width < 1 || c.height < 1) continue;
    // A line of output is its whole row (its box in the terminal), not just its ink.
    const hit = output.find((line) =>
      [...line.getClientRects(), ...textRects(line)].some((r) => r.left < c.right - 0.5 && r.right > c.left + 0.5 && r.top < c.bottom - 0.5 && r.bottom > c.top + 0.5),
    );
    if (hit) flaws.push(["hierarchy", `the demo's buttons cover the output line "${short(hit.textContent)}"`]);
  }
  return flaws;
};
