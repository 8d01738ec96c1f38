// Measures the slide showing in the slide view (section.slide.deck-current): what
// is cut or hidden in a scroll box, the smallest text of each kind, and the lowest text
// contrast. Loaded by tests/talk.rs into each chapter page as window.__deckMeasure.
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
  if (over[0] > 1 || over[1] > 1) problems.push(`content overflows the slide by ${over[0]}px down, ${over[1]}px across`);
  for (const el of sec.querySelectorAll("*")) {
    if (el.closest("aside.notes, .demo-controls, script, style, svg")) continue;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.display === "contents") continue;
    const clips = cs.overflowX !== "visible" || cs.overflowY !== "visible";
    const cut = [el.scrollHeight - el.clientHeight, el.scrollWidth - el.clientWidth];
    if (clips && (cut[0] > 1 || cut[1] > 1) && el.textContent.trim())
      problems.push(`${name(el)} hides ${cut[0]}px down, ${cut[1]}px across ("${short(el.textContent)}")`);
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
    if (el.closest("aside.notes, .demo-controls, script, style, title")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
    if (!rects.length) continue; // hidden (a terminal's other lines, the other view's content)
    const cs = getComputedStyle(el);
    if (cs.visibility === "hidden" || Number(cs.opacity) === 0) continue;
    for (const r of rects) {
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        problems.push(`text outside the slide: "${short(text)}"`);
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
    if (px < min - 0.05) problems.push(`${k} text at ${px}px (at 1280x720) < ${min}px: "${text}"`);
  }
  if (worst && worst[0] < 4.5) problems.push(`contrast ${worst[0]}:1 < 4.5:1 for "${worst[1]}" (${worst[2]} on ${worst[3]})`);
  return {
    problems,
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
