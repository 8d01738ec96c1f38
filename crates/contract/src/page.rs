//! The page contract: every name the preprocessor (`crates/deck`) writes into a chapter's
//! HTML and the player (`theme/player`), `theme/deck.css`, `theme/deck.js` and the tests
//! read back, and the one type ([`Page`]) that carries what the preprocessor tells the
//! player about the talk.
//!
//! Nothing outside this module spells a class, a `data-*` attribute or an id of the
//! deck's own: the preprocessor and the player use the constants, and the tidy test
//! (`crates/deck/tests/tidy.rs`) fails when the CSS, the JavaScript, the player or a test
//! uses a name that is not defined here (see [`is_class`], [`is_attribute`], [`is_id`]).
//!
//! The names come in three groups:
//! - [`class`], [`attr`] and [`id`]: the deck's own, each with who writes it;
//! - families ([`CLASS_FAMILIES`], [`ID_FAMILIES`]): a prefix and a number or a name,
//!   such as `ansi-fg-3`, `status-passed`, `slide-7` or `demo-peek`;
//! - [`FOREIGN_CLASSES`] and [`FOREIGN_IDS`]: names mdBook, highlight.js or a slide's
//!   author writes, which the deck styles or reads but does not define.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares string constants and the list of all of them.
macro_rules! names {
    ($(#[$list_doc:meta])* $list:ident; $($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        $($(#[$doc])* pub const $name: &str = $value;)*
        $(#[$list_doc])*
        pub const $list: &[&str] = &[$($name),*];
    };
}

/// Classes of the deck's own.
pub mod class {
    names! {
        /// Every class of the deck's own.
        ALL;
        // Written by the preprocessor (crates/deck), read by the player and the CSS.
        /// A slide: `<section class="slide" id="slide-N">`.
        SLIDE = "slide",
        /// A slide's speaker notes: `<aside class="notes">`.
        NOTES = "notes",
        /// A step the player reveals by itself (`<!-- pause -->` and rST steps).
        STEP = "deck-step",
        /// A step made by `<!-- pause -->`: the CSS makes its wrapper transparent.
        PAUSE = "deck-pause",
        /// The hidden element that carries the [`super::Page`] ([`super::attr::PAGE`]).
        CONFIG = "deck-config",
        /// Shown in the reading view only.
        ONLY_READING = "only-reading",
        /// Shown on slides only.
        ONLY_SLIDES = "only-slides",
        /// The title slide's lines (from book.toml).
        TITLE_SUBTITLE = "deck-title-subtitle",
        TITLE_BY = "deck-title-by",
        TITLE_EVENT = "deck-title-event",
        TITLE_URL = "deck-title-url",
        /// The closing slide's box, address, QR code and byline.
        CLOSING = "deck-closing",
        CLOSING_URL = "deck-closing-url",
        CLOSING_BY = "deck-closing-by",
        QR = "deck-qr",
        /// A captured demo run: `<figure class="demo">` and its parts.
        DEMO = "demo",
        DEMO_CLAIM = "demo-claim",
        DEMO_RERUN = "demo-rerun",
        DEMO_META = "demo-meta",
        DEMO_STATUS = "demo-status",
        /// The run's kernel and day in the status line (a slide shows the kernel line instead).
        DEMO_RUN_ON = "demo-run-on",
        DEMO_KERNELS = "demo-kernels",
        /// The run as JSON: `<script type="application/json" class="demo-transcript">`.
        DEMO_TRANSCRIPT = "demo-transcript",
        /// A terminal (`<pre class="terminal"><samp>`) and its lines.
        TERMINAL = "terminal",
        LINE = "line",
        /// A line the claim rests on (shown on a slide).
        FOCUS = "focus",
        /// The unfinished last line of a terminal being written.
        PARTIAL = "partial",
        STDERR = "stderr",
        ANSI_BOLD = "ansi-bold",
        ANSI_DIM = "ansi-dim",
        ANSI_ITALIC = "ansi-italic",
        ANSI_UNDERLINE = "ansi-underline",
        /// An svgbob diagram (crates/deck/src/diagram.rs).
        DIAGRAM = "diagram",
        SVGBOB = "svgbob",
        BACKDROP = "backdrop",
        /// A chart of a demo's metrics (crates/deck/src/chart.rs) and its parts.
        CHART = "chart",
        CHART_BARS = "chart-bars",
        CHART_BAR = "chart-bar",
        CHART_BEST = "chart-best",
        CHART_GROUP = "chart-group",
        CHART_KEY = "chart-key",
        CHART_LABEL = "chart-label",
        CHART_LEGEND = "chart-legend",
        CHART_ROW = "chart-row",
        CHART_SR = "chart-sr",
        CHART_TRACK = "chart-track",
        CHART_UNIT = "chart-unit",
        CHART_VALUE = "chart-value",
        CHART_ZERO = "chart-zero",
        BAR = "bar",
        /// A ladder of packets (crates/deck/src/ladder.rs).
        LADDER = "ladder",
        /// One packet's arrow in a ladder (crates/contract/src/ladder.rs draws it).
        ARROW = "arrow",
        /// A ladder's caption: the run's kernel and day.
        LADDER_RUN_ON = "ladder-run-on",
        KEY = "key",
        /// The kernels table and side-by-side lines (crates/deck/src/kernels.rs).
        KERNEL_TABLE = "kernel-table",
        KERNEL_SIDE_BY_SIDE = "kernel-side-by-side",
        /// In a side-by-side: the kernels that printed the same words.
        KERNEL_NAMES = "kernel-names",

        // Written by theme/deck.js and theme/head.hbs, before the player runs.
        /// On `<html>` while a slide or speaker page waits for the player.
        LOADING = "deck-loading",
        /// What deck.js says when the player cannot start.
        UNAVAILABLE = "deck-unavailable",
        /// On `<html>`: one slide a page for print (`?print`), with notes (`&notes`).
        PRINT = "deck-print",
        PRINT_NOTES = "deck-print-notes",
        /// A table that scrolls sideways in the reading view.
        SCROLLS = "deck-scrolls",

        // Written by the player (theme/player), read by the CSS and the tests.
        /// On `<html>`: the slide view is on.
        ON = "deck-on",
        /// On a ladder arrow: its packet has not left yet in this replay or live run.
        LADDER_PENDING = "ladder-pending",
        /// On `<html>`: the slide view (not the speaker window).
        SLIDES = "deck-slides",
        /// On `<html>`: the speaker window.
        SPEAKER = "deck-speaker",
        /// On `<html>`: the overview grid.
        OVERVIEW = "deck-overview",
        OVERVIEW_BEFORE = "deck-overview-before",
        OVERVIEW_AFTER = "deck-overview-after",
        OVERVIEW_CHAPTER = "deck-overview-chapter",
        OVERVIEW_HERE = "deck-overview-here",
        /// On `<html>`: the key help is open.
        HELP_OPEN = "deck-help-open",
        DARK = "deck-dark",
        LIGHT = "deck-light",
        /// The slide on screen, the next one, a revealed step.
        CURRENT = "deck-current",
        NEXT = "deck-next",
        NEXT_REMOTE = "deck-next-remote",
        NEXT_STEP = "deck-next-step",
        SHOWN = "deck-shown",
        EMPTY = "deck-empty",
        /// On `<html>`: the blackout is on.
        BLACK = "deck-black",
        /// The menu bar's "present" button.
        PRESENT = "deck-present",
        /// The speaker window's parts.
        CLOCK = "deck-clock",
        ELAPSED = "deck-elapsed",
        LEFT = "deck-left",
        PACE = "deck-pace",
        POSITION = "deck-position",
        TIMES = "deck-times",
        TIMER = "deck-timer",
        TIMER_BUTTONS = "deck-timer-buttons",
        TIMER_TOGGLE = "deck-timer-toggle",
        TIMER_RESET = "deck-timer-reset",
        UPNEXT = "deck-upnext",
        PREVIEW_LABEL = "deck-preview-label",
        PREVIEW_NOW = "deck-preview-now",
        PREVIEW_NEXT = "deck-preview-next",
        NOTES_SCALE = "deck-notes-scale",
        POPUP_CLOSE = "deck-popup-close",
        SPEAKER_HERE = "deck-speaker-here",
        SPEAKER_TAB = "deck-speaker-tab",
        /// A demo figure's control bar and its buttons.
        DEMO_CONTROLS = "demo-controls",
        DEMO_COPY = "demo-copy",
        DEMO_EXPAND = "demo-expand",
        DEMO_REPLAY = "demo-replay",
        DEMO_RUN_LIVE = "demo-run-live",
        DEMO_SAVE = "demo-save",
        DEMO_SHOW_CAPTURED = "demo-show-captured",
        /// The part of a claim that repeats the slide's title (hidden on the slide).
        DEMO_CLAIM_TITLE = "demo-claim-title",
        /// The pace of the talk against its plan.
        ON_TIME = "on-time",
        LIVE_DONE = "live-done",
        LIVE_ERROR = "live-error",
    }
}

/// Selectors of the page's main parts, for the player (`querySelector`, `closest`);
/// a test checks each is made of the names above.
pub mod select {
    /// A slide.
    pub const SLIDE: &str = "section.slide";
    /// The slide on screen.
    pub const CURRENT_SLIDE: &str = "section.slide.deck-current";
    /// A slide's notes.
    pub const NOTES: &str = "aside.notes";
    /// A captured demo's figure.
    pub const DEMO: &str = "figure.demo";
    /// A ladder of packets' figure.
    pub const LADDER: &str = "figure.ladder";
    /// A figure's terminal, and one that shows only its focus lines on a slide.
    pub const TERMINAL: &str = "pre.terminal";
    pub const FOCUSED_TERMINAL: &str = "pre.terminal[data-focus]";
    /// A figure's claim.
    pub const DEMO_CLAIM: &str = ".demo-claim";
    /// The unfinished last line of a terminal being written.
    pub const PARTIAL_LINE: &str = ":scope > .line.partial";
    /// The element that carries the [`super::Page`].
    pub const CONFIG: &str = ".deck-config";
}

/// Class families: a prefix, then a number or a name (`ansi-fg-3`, `status-passed`).
pub const CLASS_FAMILIES: &[&str] = &[
    // ANSI colours 0-15 (contract::ansi).
    ANSI_FG_PREFIX,
    ANSI_BG_PREFIX,
    // A run's status (contract::Status::as_str with `-` for spaces).
    STATUS_PREFIX,
    // A chart's series (chart-s0, chart-s1...).
    CHART_SERIES_PREFIX,
    // svgbob's own classes.
    "svgbob-",
    // highlight.js token classes (`hljs-keyword`).
    "hljs-",
    // Fenced code's language (`language-rust`).
    "language-",
];

/// Classes mdBook, highlight.js or a slide's author writes; the deck styles or reads
/// them but does not define them.
pub const FOREIGN_CLASSES: &[&str] = &[
    // reveal.js's own page, which the look test (tests/browser/tests/look.rs) builds to
    // set our slides beside reveal.js's white theme.
    "reveal",
    "slides",
    "present",
    // mdBook's page.
    "js",
    "hljs",
    "content",
    "page",
    "page-wrapper",
    "nav-wrapper",
    "nav-wide-wrapper",
    "nav-chapters",
    "mobile-nav-chapters",
    "menu-bar",
    "right-buttons",
    "icon-button",
    "header",
    "table-wrapper",
    "sidebar",
    "chapter",
    // mdBook's themes.
    "light",
    "rust",
    "coal",
    "navy",
    "ayu",
    // mdBook's admonitions (GFM `> [!NOTE]`) and their kinds.
    "admonition",
    "admonition-title",
    "note",
    "tip",
    "hint",
    "important",
    "warning",
    "caution",
    "danger",
    "error",
    // Code blocks by language, as mdBook marks them.
    "rs",
    "toml",
    "hbs",
    "sh",
    "console",
    // mdBook's runnable code blocks (xtask/src/book.rs checks that none is runnable).
    "playground",
    // A slide author's: an image or figure as wide as the slide.
    "fill",
    // docutils' and hieroglyph's classes, which the rST reader (crates/rst) keeps.
    "build",
    "classifier",
    "classifier-delimiter",
    "field-list",
    "attribution",
    "figure",
    "legend",
    "transition",
    "math",
    "topic",
    "topic-title",
    "contents",
    "rubric",
    "line-block",
    "option-list",
    "option",
    "literal-block",
    "parsed-literal",
    "footnote",
    "footnote-label",
    "footnote-reference",
    "code-block-caption",
    "toctree-wrapper",
    "image",
    "linenos",
    "hll",
    "sig",
    "sig-name",
    "descname",
    "caption",
    "centered",
    "nohighlight",
];

/// `data-*` attributes of the deck's own.
pub mod attr {
    names! {
        /// Every `data-*` attribute of the deck's own.
        ALL;
        // Written by the preprocessor.
        /// On the [`super::class::CONFIG`] element: the [`super::Page`], as JSON.
        PAGE = "data-page",
        /// On the title slide's section.
        TITLE_SLIDE = "data-title-slide",
        /// A demo figure's (or chart's, or ladder's) demo.
        DEMO = "data-demo",
        /// A terminal's focus rule ([`crate::terminal::Pick::attribute`]).
        FOCUS = "data-focus",
        /// Which way a chart's bars are better.
        BETTER = "data-better",
        /// A ladder's connection.
        CONNECTION = "data-connection",
        /// A ladder's connection's flow in its run's capture (`wire::Connection::flow`).
        FLOW = "data-flow",
        /// On a ladder in a Run live: when its newest packet was seen, in µs since the
        /// Unix epoch (the kernel's timestamp; the player writes it).
        SEEN_US = "data-seen-us",
        /// A ladder arrow's time: when its packet left, in ms from the first packet.
        AT_MS = "data-at-ms",

        // Written by deck.js and the player, read by the CSS and the tests.
        /// On a ladder: which replay or live run owns its arrows (a newer one cancels).
        GENERATION = "data-generation",
        /// On `<html>`: `ready` once the player runs, `unavailable` when it cannot load.
        PLAYER = "data-player",
        /// On `<html>`: why the player stopped (its panic or error).
        PLAYER_ERROR = "data-player-error",
        /// On `<html>`: the page is served by `cargo xtask present`.
        PRESENT = "data-present",
        /// On a figure: the demo can run live here.
        LIVE = "data-live",
        /// A figure showing its whole output rather than its focus lines.
        EXPANDED = "data-expanded",
        /// A replay or live run in progress, and its state.
        RUNNING = "data-running",
        STATE = "data-state",
        SPEED = "data-speed",
        /// The copy button's outcome.
        COPIED = "data-copied",
        COPY_FAILED = "data-copy-failed",
        /// A figure whose claim repeats the slide's title.
        CLAIM_REPEATS = "data-claim-repeats",
        /// A terminal that has more lines than it shows.
        MORE = "data-more",
        /// The overview: a slide's talk-wide number, a chapter's page and whether it loaded.
        N = "data-n",
        CHAPTER = "data-chapter",
        HREF = "data-href",
        LOADED = "data-loaded",
        /// The speaker window: the pace against the plan.
        PACE = "data-pace",
        /// The speaker window's slide and step, and the slide's steps.
        SLIDE = "data-slide",
        STEP = "data-step",
        STEPS = "data-steps",
        /// The speaker window took over from another one.
        TOOK_OVER = "data-took-over",
        /// A slide fitted to the screen: the scale the fit chose.
        FIT = "data-fit",
    }
}

/// Ids of the deck's own.
pub mod id {
    names! {
        /// Every id of the deck's own.
        ALL;
        /// The key help overlay (`?`).
        HELP = "deck-help",
        /// The slide counter and the typed number.
        HUD = "deck-hud",
        /// The blackout.
        BLACK = "deck-black",
        /// The speaker window's panel.
        SPEAKER = "deck-speaker",
        /// What the slide view says when the browser blocked the speaker window.
        POPUP_BLOCKED = "deck-popup-blocked",
        /// The print page size (`@page`).
        PAGE_SIZE = "deck-page-size",
    }
}

/// Id families: `slide-N` (and `slide-N.STEP` in a URL), `demo-NAME`, svgbob's
/// `arrow-...` markers.
pub const ID_FAMILIES: &[&str] = &[SLIDE_ID_PREFIX, "demo-", "arrow-"];

/// Ids mdBook writes that the deck styles or reads.
pub const FOREIGN_IDS: &[&str] = &[
    "mdbook-body-container",
    "mdbook-help-container",
    "mdbook-menu-bar",
    "mdbook-menu-bar-hover-placeholder",
    "mdbook-sidebar",
    "mdbook-sidebar-toggle",
    "mdbook-search-toggle",
    "mdbook-searchbar",
    "mdbook-searchresults",
    "mdbook-content",
];

/// The prefix of a slide's id.
pub const SLIDE_ID_PREFIX: &str = "slide-";

/// The id of a chapter's slide `n` (1-based): `slide-N`, the page's `#slide-N`.
pub fn slide_id(n: usize) -> String {
    format!("{SLIDE_ID_PREFIX}{n}")
}

/// The slide number (1-based) of an id or fragment `slide-N` (also `slide-N.STEP`).
pub fn slide_number(id: &str) -> Option<usize> {
    let rest = id
        .strip_prefix('#')
        .unwrap_or(id)
        .strip_prefix(SLIDE_ID_PREFIX)?;
    let number = rest.split('.').next()?;
    number.parse().ok().filter(|&n| n > 0)
}

/// The id of a demo's figure: `demo-NAME`.
pub fn demo_id(name: &str) -> String {
    format!("demo-{name}")
}

/// The prefix of a run's status class ([`status_class`]).
pub const STATUS_PREFIX: &str = "status-";
/// The prefix of a chart series' class ([`chart_series_class`]).
pub const CHART_SERIES_PREFIX: &str = "chart-s";
/// The prefixes of a terminal's ANSI colour classes ([`ansi_colour_class`]).
pub const ANSI_FG_PREFIX: &str = "ansi-fg-";
pub const ANSI_BG_PREFIX: &str = "ansi-bg-";

/// The class of a run's status: `status-passed`, `status-timed-out`.
pub fn status_class(status: crate::Status) -> String {
    format!("{STATUS_PREFIX}{}", status.as_str().replace(' ', "-"))
}

/// The class of a chart's series `n` (0-based): `chart-s0`.
pub fn chart_series_class(n: usize) -> String {
    format!("{CHART_SERIES_PREFIX}{n}")
}

/// The class of ANSI colour `n` (0-15), of the text or (`background`) behind it:
/// `ansi-fg-3`, `ansi-bg-12`.
pub fn ansi_colour_class(background: bool, n: u8) -> String {
    let prefix = if background {
        ANSI_BG_PREFIX
    } else {
        ANSI_FG_PREFIX
    };
    format!("{prefix}{n}")
}

/// Whether `name` is a class the contract knows (the deck's own, a family's, or a
/// foreign one).
pub fn is_class(name: &str) -> bool {
    class::ALL.contains(&name)
        || FOREIGN_CLASSES.contains(&name)
        || CLASS_FAMILIES
            .iter()
            .any(|p| name.len() > p.len() && name.starts_with(p))
}

/// Whether `name` (with its `data-` prefix) is a `data-*` attribute the contract knows.
pub fn is_attribute(name: &str) -> bool {
    attr::ALL.contains(&name)
        // A fit's scale per custom property: `data-fit--deck-fit`.
        || name.strip_prefix(attr::FIT).is_some_and(|rest| rest.starts_with("--"))
}

/// CSS custom properties of the deck's own (`--deck-*`): those the player or the
/// preprocessor sets and `theme/deck.css` reads, and the theme's own, which the CSS
/// sets and the drawings and tests read. The tidy test fails on a `--deck-*` property
/// used anywhere (CSS, JavaScript, Rust) that is not here.
pub mod property {
    names! {
        /// Every custom property of the deck's own.
        ALL;
        // Set by the player (theme/player).
        /// A slide's fitted font scale.
        FIT = "--deck-fit",
        /// A slide's notes' fitted font scale (print with notes, the speaker window).
        FIT_NOTES = "--deck-fit-notes",
        /// The slide's aspect, width and height (`theme/player/src/config.rs`, from
        /// [`super::Page::aspect`]).
        ASPECT_W = "--deck-aw",
        ASPECT_H = "--deck-ah",
        /// The printed page's width and height (`?print`).
        PAGE_W = "--deck-page-w",
        PAGE_H = "--deck-page-h",
        /// The speaker's notes' own scale (the speaker window's A-/A+).
        NOTES_SCALE = "--deck-notes-scale",
        /// A diagram's width in em.
        DIAGRAM_W = "--deck-diagram-w",
        // Set by the preprocessor (crates/deck/src/chart.rs), inline on each bar.
        /// A chart bar's length, 0 to 1 of the longest.
        CHART_V = "--deck-chart-v",
        // A chart's colours (deck.css, per theme).
        CHART_BAR_COLOUR = "--deck-chart-bar",
        CHART_BEST_COLOUR = "--deck-chart-best",
        CHART_S0_COLOUR = "--deck-chart-s0",
        CHART_S1_COLOUR = "--deck-chart-s1",
        // Set and read by theme/deck.css: the slide's geometry.
        W = "--deck-w",
        PX = "--deck-px",
        UNIT = "--deck-unit",
        MARGIN = "--deck-margin",
        SHRINK = "--deck-shrink",
        TILE = "--deck-tile",
        // The theme's colours (deck.css; the ladder's key arrow reads ACCENT).
        FG = "--deck-fg",
        BG = "--deck-bg",
        MUTED = "--deck-muted",
        ACCENT = "--deck-accent",
        RULE = "--deck-rule",
        SLIDE_RULE = "--deck-slide-rule",
        ROW_ALT = "--deck-row-alt",
        CODE_BG = "--deck-code-bg",
        NOTES_BG = "--deck-notes-bg",
        TERM_BG = "--deck-term-bg",
        TERM_FG = "--deck-term-fg",
        TERM_ERR = "--deck-term-err",
        SYN_KW = "--deck-syn-kw",
        SYN_STR = "--deck-syn-str",
        SYN_NUM = "--deck-syn-num",
        SYN_FN = "--deck-syn-fn",
        SYN_TYPE = "--deck-syn-type",
        SYN_COM = "--deck-syn-com",
    }
}

/// mdBook's own theme variables, which the deck's CSS reads (with a fallback) so that a
/// slide follows the reader's chosen theme; the deck defines none of them.
pub const FOREIGN_PROPERTIES: &[&str] = &[
    "--bg",
    "--fg",
    "--links",
    "--quote-bg",
    "--table-border-color",
    "--mono-font",
];

/// Whether `name` is a custom property of the deck's own (`--deck-fit`).
pub fn is_property(name: &str) -> bool {
    property::ALL.contains(&name)
}

/// Where the player keeps things outside the page: storage keys (localStorage and
/// sessionStorage), the channel the slide and speaker windows talk on, and the
/// speaker window's name. They start with [`STORE_PREFIX`] (`deck.`), which no class,
/// attribute or id can: a name of one kind is never mistaken for one of another.
pub mod store {
    names! {
        /// Every name the player keeps something under.
        ALL;
        /// localStorage: the theme the presenter chose (`dark` or `light`).
        THEME = "deck.theme",
        /// localStorage: the speaker window's timer.
        TIMER = "deck.timer",
        /// localStorage: the speaker's notes' scale.
        NOTES_SCALE = "deck.notes-scale",
        /// sessionStorage: a blackout waiting for the next chapter's page.
        BLACKOUT = "deck.black",
        /// The BroadcastChannel between the slide and speaker windows.
        CHANNEL = "deck.sync",
        /// The speaker window's name (`window.open`'s target).
        SPEAKER_WINDOW = "deck.speaker",
    }
}

/// The prefix of every name in [`store`].
pub const STORE_PREFIX: &str = "deck.";

/// The attribute that records the box a fit of custom property `property` was made
/// for: `data-fit--deck-fit` (removing it makes the next fit measure again).
pub fn fit_attribute(property: &str) -> String {
    format!("{}{property}", attr::FIT)
}

/// Whether `name` is an id the contract knows.
pub fn is_id(name: &str) -> bool {
    id::ALL.contains(&name)
        || FOREIGN_IDS.contains(&name)
        || ID_FAMILIES
            .iter()
            .any(|p| name.strip_prefix(p).is_some_and(|rest| !rest.is_empty()))
}

/// The shape of a slide, `W:H` in `book.toml` (`aspect = "16:9"`), checked once when
/// it is read: both numbers finite and positive.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Aspect {
    pub width: f64,
    pub height: f64,
}

impl Default for Aspect {
    fn default() -> Aspect {
        Aspect {
            width: 16.0,
            height: 9.0,
        }
    }
}

impl FromStr for Aspect {
    type Err = String;

    fn from_str(text: &str) -> Result<Aspect, String> {
        let bad = || format!("aspect `{text}`: write it as W:H, e.g. \"16:9\" or \"4:3\"");
        let (w, h) = text.split_once(':').ok_or_else(bad)?;
        let number = |s: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(bad)
        };
        Ok(Aspect {
            width: number(w)?,
            height: number(h)?,
        })
    }
}

impl TryFrom<String> for Aspect {
    type Error = String;
    fn try_from(text: String) -> Result<Aspect, String> {
        text.parse()
    }
}

impl From<Aspect> for String {
    fn from(a: Aspect) -> String {
        a.to_string()
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.width, self.height)
    }
}

/// A length of time, written as people write it (`40m`, `1h30m`, `90s`, `45m 30s`, or
/// a number of seconds), checked once when it is read: finite and not negative.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Seconds(pub f64);

impl FromStr for Seconds {
    type Err = String;

    fn from_str(text: &str) -> Result<Seconds, String> {
        let bad = || {
            format!("`{text}` is not a length of time (write e.g. \"40m\", \"1h30m\" or \"90s\")")
        };
        let trimmed = text.trim();
        if let Ok(seconds) = trimmed.parse::<f64>() {
            return (seconds.is_finite() && seconds >= 0.0)
                .then_some(Seconds(seconds))
                .ok_or_else(bad);
        }
        let mut total = 0.0;
        let mut number = String::new();
        for c in trimmed.chars() {
            match c {
                '0'..='9' | '.' => number.push(c),
                'h' | 'm' | 's' => {
                    let n: f64 = number.parse().map_err(|_| bad())?;
                    total += n * match c {
                        'h' => 3600.0,
                        'm' => 60.0,
                        _ => 1.0,
                    };
                    number.clear();
                }
                ' ' => {}
                _ => return Err(bad()),
            }
        }
        if !number.is_empty() || trimmed.is_empty() || !total.is_finite() {
            return Err(bad());
        }
        Ok(Seconds(total))
    }
}

impl TryFrom<String> for Seconds {
    type Error = String;
    fn try_from(text: String) -> Result<Seconds, String> {
        text.parse()
    }
}

impl From<Seconds> for String {
    fn from(s: Seconds) -> String {
        s.to_string()
    }
}

impl fmt::Display for Seconds {
    /// As a number of seconds, which reads back as the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A chapter's page (relative to the book's root) and the talk-wide number of its
/// first slide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChapterStart {
    pub page: String,
    pub first: usize,
}

/// What the preprocessor tells the player on every chapter's page: the slide shape,
/// where this chapter's slides stand in the whole talk, and the plan. Written as JSON
/// in one attribute of one hidden [`class::CONFIG`] element ([`Page::to_html`]) and read
/// back by the player with serde as the same type ([`Page::from_json`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Page {
    /// The slide shape.
    pub aspect: Aspect,
    /// The talk-wide number of this chapter's first slide (1-based).
    pub first: usize,
    /// Slides in the whole talk (0: unknown, numbers stay per chapter).
    pub total: usize,
    /// Every chapter's page and first slide, in the talk's order.
    pub chapters: Vec<ChapterStart>,
    /// The book's root relative to this page (`""`, `"../"`, ...).
    pub root: String,
    /// The talk's length, when book.toml gives one.
    pub duration: Option<Seconds>,
    /// With a duration: the planned start of each of this chapter's slides (seconds
    /// from the start of the talk), then the chapter's planned end.
    pub plan: Vec<f64>,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            aspect: Aspect::default(),
            first: 1,
            total: 0,
            chapters: Vec::new(),
            root: String::new(),
            duration: None,
            plan: Vec::new(),
        }
    }
}

impl Page {
    /// The page as JSON: the one value the player reads back ([`Page::from_json`]).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a page always serialises")
    }

    /// The page from its JSON; what is missing keeps its default, and anything
    /// malformed or unknown is an error that says what.
    pub fn from_json(json: &str) -> Result<Page, String> {
        serde_json::from_str(json).map_err(|e| format!("the page's {}: {e}", attr::PAGE))
    }

    /// The hidden element that carries the page, on one line of HTML: its JSON in one
    /// attribute ([`attr::PAGE`]), escaped by the one escaper ([`crate::escape::html`]),
    /// so the browser's `getAttribute` gives the JSON back exactly.
    pub fn to_html(&self) -> String {
        format!(
            "<div class=\"{}\" {}=\"{}\" hidden></div>",
            class::CONFIG,
            attr::PAGE,
            crate::escape::html(&self.to_json())
        )
    }

    /// The page written into `html` (a built chapter, or the preprocessor's Markdown),
    /// read as the browser reads it: the first [`class::CONFIG`] element's
    /// [`attr::PAGE`], decoded ([`crate::escape::decode`]), as JSON. For what reads
    /// pages as text (the tests); the player reads the element.
    pub fn in_html(html: &str) -> Result<Page, String> {
        let open = format!("<div class=\"{}\"", class::CONFIG);
        let at = html
            .find(&open)
            .ok_or_else(|| format!("no `{open}` element"))?;
        let tag = &html[at..at + html[at..].find('>').unwrap_or(html.len() - at)];
        let key = format!(" {}=\"", attr::PAGE);
        let start = tag
            .find(&key)
            .ok_or_else(|| format!("no {} on the page's element", attr::PAGE))?
            + key.len();
        let end = tag[start..]
            .find('"')
            .ok_or_else(|| format!("{} is not closed", attr::PAGE))?;
        Page::from_json(&crate::escape::decode(&tag[start..start + end]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Page {
        Page {
            aspect: "4:3".parse().unwrap(),
            first: 8,
            total: 20,
            chapters: vec![
                ChapterStart {
                    page: "title.html".into(),
                    first: 1,
                },
                ChapterStart {
                    // A comma, quotes, markup, an ampersand, a space before a number,
                    // non-ASCII: none of it is syntax in the written page.
                    page: "part/tcp, \"udp\" & <raw> 'ipc' 8/théorie ünd 套接字 1.html".into(),
                    first: 8,
                },
            ],
            root: "../".into(),
            duration: Some(Seconds(2400.0)),
            plan: vec![0.0, 12.5, 300.0, 1.0 / 3.0],
        }
    }

    #[test]
    fn a_page_reads_back_as_written_whatever_its_chapter_paths_hold() {
        let page = page();
        let html = page.to_html();
        assert!(
            html.starts_with("<div class=\"deck-config\" data-page=\""),
            "{html}"
        );
        // One line of HTML that nothing in a path can end early or break.
        assert!(!html.contains('\n') && !html.contains("<raw>"), "{html}");
        assert_eq!(html.matches('"').count(), 4, "{html}");
        assert_eq!(Page::in_html(&html), Ok(page.clone()));
        let in_chapter = format!("<p>x</p>\n\n{html}\n\n<section class=\"slide\">");
        assert_eq!(Page::in_html(&in_chapter), Ok(page.clone()));
        let untimed = Page {
            duration: None,
            plan: vec![],
            ..page
        };
        assert_eq!(Page::in_html(&untimed.to_html()), Ok(untimed));
        assert!(Page::in_html("<p>no page</p>").is_err());
    }

    #[test]
    fn a_malformed_page_is_an_error_that_says_what_and_a_missing_field_its_default() {
        let err = Page::from_json(r#"{"aspect":"wide"}"#).unwrap_err();
        assert!(
            err.contains("data-page") && err.contains("aspect `wide`"),
            "{err}"
        );
        let err = Page::from_json(r#"{"plan":[1,"x"]}"#).unwrap_err();
        assert!(err.contains("data-page"), "{err}");
        let err = Page::from_json(r#"{"firts":3}"#).unwrap_err();
        assert!(err.contains("firts"), "{err}");
        assert_eq!(Page::from_json("{}"), Ok(Page::default()));
        assert_eq!(
            Page::from_json(r#"{"first":8}"#).map(|p| (p.first, p.aspect)),
            Ok((8, Aspect::default()))
        );
    }

    #[test]
    fn aspects_and_lengths_of_time_are_checked_when_read() {
        assert_eq!(
            " 4 : 3 ".parse::<Aspect>(),
            Ok(Aspect {
                width: 4.0,
                height: 3.0
            })
        );
        for bad in ["16x9", "16:0", "-4:3", "inf:1", "wide"] {
            assert!(bad.parse::<Aspect>().is_err(), "{bad}");
        }
        assert_eq!("40m".parse(), Ok(Seconds(2400.0)));
        assert_eq!("1h30m".parse(), Ok(Seconds(5400.0)));
        assert_eq!("45m 30s".parse(), Ok(Seconds(2730.0)));
        assert_eq!("90".parse(), Ok(Seconds(90.0)));
        for bad in ["40 minutes", "m", "", "4x", "-5", "NaN"] {
            assert!(bad.parse::<Seconds>().is_err(), "{bad}");
        }
        let a: Aspect = serde_json::from_str("\"1.85:1\"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"1.85:1\"");
        assert!(serde_json::from_str::<Seconds>("\"forever\"").is_err());
    }

    #[test]
    fn the_selectors_are_made_of_the_contracts_names() {
        use select::*;
        let expected = [
            (SLIDE, format!("section.{}", class::SLIDE)),
            (
                CURRENT_SLIDE,
                format!("section.{}.{}", class::SLIDE, class::CURRENT),
            ),
            (NOTES, format!("aside.{}", class::NOTES)),
            (DEMO, format!("figure.{}", class::DEMO)),
            (LADDER, format!("figure.{}", class::LADDER)),
            (TERMINAL, format!("pre.{}", class::TERMINAL)),
            (
                FOCUSED_TERMINAL,
                format!("pre.{}[{}]", class::TERMINAL, attr::FOCUS),
            ),
            (DEMO_CLAIM, format!(".{}", class::DEMO_CLAIM)),
            (
                PARTIAL_LINE,
                format!(":scope > .{}.{}", class::LINE, class::PARTIAL),
            ),
            (CONFIG, format!(".{}", class::CONFIG)),
        ];
        for (selector, made) in expected {
            assert_eq!(selector, made);
        }
    }

    #[test]
    fn names_are_unique_and_known() {
        for list in [class::ALL, attr::ALL, id::ALL, property::ALL, store::ALL] {
            let mut seen = std::collections::BTreeSet::new();
            for name in list {
                assert!(seen.insert(name), "{name} twice");
            }
        }
        assert!(attr::ALL.iter().all(|a| a.starts_with("data-")));
        assert!(property::ALL.iter().all(|p| p.starts_with("--deck-")));
        assert!(store::ALL.iter().all(|k| k.starts_with(STORE_PREFIX)));
        // No storage key is spelt like a class, an attribute or an id.
        assert!(
            store::ALL
                .iter()
                .all(|k| !is_class(k) && !is_id(k) && !is_attribute(k))
        );
        assert!(is_class("ansi-fg-12") && is_class("status-timed-out") && is_class("hljs"));
        assert!(is_class("hljs-keyword") && is_class("deck-on"));
        assert!(!is_class("deck-nope") && !is_class("ansi-fg-") && !is_class("hljsx"));
        assert!(is_id("slide-3") && is_id("deck-help") && !is_id("slide-") && !is_id("nope"));
        assert!(is_attribute("data-fit--deck-fit") && !is_attribute("data-nope"));
        assert!(is_attribute(&fit_attribute(property::FIT)));
        assert!(is_attribute(&fit_attribute(property::FIT_NOTES)));
        assert_eq!(slide_id(7), "slide-7");
        assert_eq!(slide_number("#slide-7.2"), Some(7));
        assert_eq!(slide_number("slide-0"), None);
        assert_eq!(slide_number("demo-7"), None);
    }
}
