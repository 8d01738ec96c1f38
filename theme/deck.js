// The deck's loader: the only hand-written JavaScript. The work happens in the
// WebAssembly player (theme/player); this file loads it. The names it uses are the
// page contract's (crates/contract/src/page.rs), checked by crates/deck/tests/tidy.rs.
"use strict";
(function () {
  const root = typeof path_to_root === "string" ? path_to_root : "";

  // ?print lays the slides out one per page with CSS alone, before the player loads:
  // a headless `--print-to-pdf` may print before the WebAssembly is ready.
  const flags = new URLSearchParams(location.search);
  // Hide the reading page until the player shows the slides (theme/head.hbs does the
  // same earlier, for books whose pages load this file at the end of <body>).
  const hidden = flags.has("slides") || flags.has("speaker");
  // The slide view without its player would be the reading page, speaker notes and
  // all, on the projector: it stays hidden, and says what is wrong instead.
  const explain = (text) => {
    if (!document.documentElement.classList.contains("deck-loading")) return;
    let note = document.querySelector(".deck-unavailable");
    if (!note) {
      note = document.createElement("p");
      note.className = "deck-unavailable";
      // Visible inside the hidden body, whatever stylesheet did or did not load.
      note.style.cssText =
        "visibility:visible;position:fixed;inset:40% 10% auto;margin:0;z-index:2147483647;" +
        "color:#fff;font:24px/1.4 sans-serif;text-align:center";
      (document.body || document.documentElement).append(note);
    }
    note.textContent = text;
  };
  if (hidden) {
    document.documentElement.classList.add("deck-loading");
    // Never a blank page without a word: after a while, say it is still loading.
    setTimeout(() => {
      if (!document.querySelector(".deck-unavailable")) explain("The slide view is still loading its player…");
    }, 4000);
  }
  if (flags.has("print")) {
    // mdbook's print.html opens the print dialog on load; ?print is the deck's own
    // preview (and what `cargo xtask pdf` prints through DevTools, which a dialog
    // opened at the same moment makes fail with "Page is already being printed").
    // Ctrl+P still prints.
    window.print = () => {};
    document.documentElement.classList.add("deck-print");
    if (flags.has("notes")) document.documentElement.classList.add("deck-print-notes");
  }

  // mdBook's sidebar toggle is a <label> for a hidden checkbox, carrying aria-expanded
  // and aria-label, which a label may not (axe-core: aria-allowed-attr,
  // aria-prohibited-attr), and it cannot be reached with the keyboard. Until mdBook
  // renders a <button> (its index.hbs), make it one in the ways that matter: the role,
  // a place in the tab order, and Enter or Space to press it.
  const toggle = document.getElementById("mdbook-sidebar-toggle");
  if (toggle && toggle.tagName === "LABEL") {
    toggle.setAttribute("role", "button");
    toggle.tabIndex = 0;
    toggle.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        toggle.click();
      }
    });
  }

  // A wide table on a narrow screen scrolls sideways: say so on the box that scrolls
  // (the CSS shows a shadow at the edge that has more, and this label).
  const markScrolling = () => {
    for (const box of document.querySelectorAll(".content main .table-wrapper, .content main table")) {
      const scrolls = box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== "visible";
      box.classList.toggle("deck-scrolls", scrolls);
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0; // so that a keyboard can scroll it too
        if (box.tagName !== "TABLE") box.setAttribute("role", "region");
        box.setAttribute("aria-label", "Table, scrolls sideways");
      }
    }
  };
  addEventListener("load", markScrolling);
  addEventListener("resize", markScrolling);

  // A bare "deck/player.js" would be a module specifier, not a path: resolve it.
  const asset = (name) => new URL(root + "deck/" + name, location.href);
  const loaded = import(asset("player.js").href).then(async (player) => {
    await player.default({ module_or_path: asset("player_bg.wasm") });
    return player;
  });
  loaded
    .then((player) => {
      player.attach();
      const note = document.querySelector(".deck-unavailable");
      if (note) note.remove();
      // Served by `cargo xtask present`: Run live, and a reload after each rebuild
      // (the protocol is contract::live's, spoken by the player).
      player.present(root);
    })
    .catch((err) => {
      // A stock `mdbook build` has no player: the captured output still shows.
      document.documentElement.dataset.player = "unavailable";
      if (hidden) {
        explain(
          "The slide view cannot start: its player did not load (" + err +
            "). Reload, or open this page without ?slides to read it.",
        );
      } else {
        document.documentElement.classList.remove("deck-loading");
      }
      console.info("deck: replay unavailable (build with `cargo xtask build`)", err);
    });
})();
