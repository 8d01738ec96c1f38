//! ASCII diagrams in fenced ```` ```svgbob ```` blocks, drawn as inline SVG at build time.
//!
//! The source of every picture stays in the chapter as text, so a diagram is reviewed and
//! diffed like the prose around it. The SVG follows the page's text colour
//! (`currentColor`) and has no backdrop, so it reads in the light and the dark themes.
//!
//! The output is one line of HTML: Markdown ends an HTML block at a blank line, and
//! svgbob's own output has blank lines in its style sheet.
//!
//! svgbob's time grows faster than the diagram (measured: 2.5 kB 1.3 s, 9.8 kB 4.4 s,
//! 38.7 kB 26 s in a debug build), and `present` rebuilds on every save, so a diagram
//! has a size limit well above anything readable on a slide, and a time limit too.
//!
//! svgbob is the default cargo feature `svgbob` of this crate (it brings about 80
//! crates: nalgebra, parry2d, sauron, ...: a third of xtask's cold build). A build
//! without it draws through a [`Draw`] set with [`set_drawer`]: xtask runs the
//! `deck-diagram` command (this crate's binary, built with svgbob) there, so that a
//! fresh clone's `cargo xtask present` serves before svgbob is compiled. With no
//! drawer set, a diagram is an error at its file and line that says why.

use std::time::Duration;

#[cfg(feature = "svgbob")]
use svgbob::Settings;

/// At most this many characters per line, lines and characters in all: a slide shows
/// about 90 columns of monospace text at a readable size.
pub const MAX_COLUMNS: usize = 120;
pub const MAX_LINES: usize = 60;
pub const MAX_CHARS: usize = 4096;
/// A diagram within the size limits is drawn in well under a second; this is the
/// backstop, after which the build goes on with an error (the drawing is abandoned).
pub const MAX_TIME: Duration = Duration::from_secs(10);

/// The HTML of one diagram, a `<div class="diagram">` holding the SVG, or why not (the
/// caller adds the file and line).
pub fn render(ascii: &str) -> Result<String, String> {
    let cols = ascii.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let rows = ascii.lines().count();
    let chars = ascii.chars().count();
    if cols > MAX_COLUMNS || rows > MAX_LINES || chars > MAX_CHARS {
        return Err(format!(
            "svgbob diagram too large ({cols} columns, {rows} lines, {chars} characters; \
             the limit is {MAX_COLUMNS} columns, {MAX_LINES} lines, {MAX_CHARS} characters)"
        ));
    }
    draw_in_time(ascii)
}

/// What draws diagrams in a build of the engine without svgbob (see the module doc).
/// `draw` gets a source that passed the size limits and returns what [`render`] would.
pub trait Draw: Send + Sync {
    fn draw(&self, ascii: &str) -> Result<String, String>;
}

static DRAWER: std::sync::RwLock<Option<std::sync::Arc<dyn Draw>>> = std::sync::RwLock::new(None);

/// Sets (or with `None` clears) how a build without svgbob draws; process-wide. A
/// build with svgbob draws in-process and never asks it.
pub fn set_drawer(drawer: Option<std::sync::Arc<dyn Draw>>) {
    *DRAWER.write().unwrap_or_else(|e| e.into_inner()) = drawer;
}

/// Whether this build of the engine draws diagrams itself (the `svgbob` feature).
pub const IN_PROCESS: bool = cfg!(feature = "svgbob");

/// A diagram not drawn yet: its source, as the text it is, in the same `diagram` box
/// (one line of HTML: newlines as `&#10;`, since a blank line would end the block).
pub fn undrawn(ascii: &str) -> String {
    let text = contract::escape::one_line(&crate::figure::escape(ascii.trim_end_matches('\n')));
    format!(
        "<div class=\"{}\"><pre role=\"img\" aria-label=\"{}\">{text}</pre></div>",
        contract::page::class::DIAGRAM,
        crate::figure::escape(&alt_text(ascii))
    )
}

/// [`draw`], abandoned after [`MAX_TIME`].
#[cfg(feature = "svgbob")]
fn draw_in_time(ascii: &str) -> Result<String, String> {
    let owned = ascii.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(draw(&owned));
    });
    rx.recv_timeout(MAX_TIME).map_err(|_| {
        format!(
            "svgbob took more than {} s to draw this diagram",
            MAX_TIME.as_secs()
        )
    })
}

/// Without svgbob: the drawer set with [`set_drawer`], else why there is no picture.
#[cfg(not(feature = "svgbob"))]
fn draw_in_time(ascii: &str) -> Result<String, String> {
    let drawer = DRAWER.read().unwrap_or_else(|e| e.into_inner()).clone();
    match drawer {
        Some(drawer) => drawer.draw(ascii),
        None => Err(NO_SVGBOB.to_string()),
    }
}

/// The error for a diagram in a build without the `svgbob` feature.
pub const NO_SVGBOB: &str = "this svgbob diagram cannot be drawn: the deck engine was built \
     without its `svgbob` feature (a default feature of crates/deck; build without \
     `--no-default-features`, or remove the diagram)";

#[cfg(feature = "svgbob")]
fn draw(ascii: &str) -> String {
    let settings = Settings {
        stroke_color: "currentColor".into(),
        fill_color: "currentColor".into(),
        background: "transparent".into(),
        font_family: "ui-monospace, monospace".into(),
        include_backdrop: false,
        ..Settings::default()
    };
    // svgbob sizes the picture by its lines and boxes, and leaves out quoted text
    // (`"close()"`, drawn as text instead of as arcs), which then overflows the edge.
    // Size it by the source instead: every character is one cell.
    let cols = ascii.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let rows = ascii.lines().count();
    let (w, h) = (
        settings.scale * (cols + 1) as f32 * svgbob::Cell::width(),
        settings.scale * (rows + 1) as f32 * svgbob::Cell::height(),
    );
    let svg = svgbob::to_svg_with_override_size(ascii, &settings, w, h);
    let svg = scope(&svg, &format!("{:08x}", fnv1a(ascii.as_bytes())));
    let svg = scalable(&svg).replacen(
        "role=\"img\" ",
        &format!(
            "role=\"img\" aria-label=\"{}\" ",
            crate::figure::escape(&alt_text(ascii))
        ),
        1,
    );
    // svgbob puts every element, and every text run, on a line of its own, so dropping
    // the indentation and the line breaks changes nothing that is drawn.
    let one_line: String = svg.lines().map(str::trim).collect();
    format!(
        "<div class=\"{}\">{one_line}</div>",
        contract::page::class::DIAGRAM
    )
}

/// A picture's text alternative: "Diagram: " and the words written in it, in reading
/// order (the boxes and arrows are drawn; the words are what a reader needs).
fn alt_text(ascii: &str) -> String {
    let words: Vec<&str> = ascii
        .split(|c: char| !(c.is_alphanumeric() || "_()./:-'".contains(c)))
        .map(|w| w.trim_matches(|c: char| "-.:/'".contains(c)))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    format!("Diagram: {}", words.join(" "))
}

/// Marker ids and the style sheet are global to the page (and the print view puts every
/// chapter on one page): give each diagram its own, so one hidden slide cannot take the
/// arrows of another.
#[cfg(feature = "svgbob")]
fn scope(svg: &str, suffix: &str) -> String {
    use contract::page::class::SVGBOB;
    let mut out = svg
        .replace(
            &format!("class=\"{SVGBOB}\""),
            &format!("class=\"{SVGBOB} {SVGBOB}-{suffix}\""),
        )
        .replace(&format!(".{SVGBOB} "), &format!(".{SVGBOB}-{suffix} "));
    for id in [
        "arrow",
        "diamond",
        "circle",
        "open_circle",
        "big_open_circle",
    ] {
        out = out
            .replace(&format!("id=\"{id}\""), &format!("id=\"{id}-{suffix}\""))
            .replace(&format!("url(#{id})"), &format!("url(#{id}-{suffix})"));
    }
    out
}

/// How much larger than svgbob's natural size (14 px text) a diagram may be drawn,
/// when there is room: big enough to read from the back of a room.
#[cfg(feature = "svgbob")]
const ZOOM: f32 = 1.6;

/// Adds a `viewBox` next to svgbob's fixed `width`/`height`, so CSS can scale the
/// picture to the slide while the aspect ratio stays: up to [`ZOOM`] times its natural
/// size, never wider than the page nor taller than most of the screen.
#[cfg(feature = "svgbob")]
fn scalable(svg: &str) -> String {
    let attr = |name: &str| -> Option<&str> {
        let start = svg.find(&format!(" {name}=\""))? + name.len() + 3;
        let len = svg[start..].find('"')?;
        Some(&svg[start..start + len])
    };
    match (attr("width"), attr("height")) {
        (Some(w), Some(h)) => svg.replacen(
            "<svg ",
            &format!(
                "<svg viewBox=\"0 0 {w} {h}\" style=\"width:min(100%, {big}px);height:auto;\
                 max-height:70vh\" role=\"img\" ",
                big = w.parse::<f32>().map_or(0.0, |w| (w * ZOOM).round()),
            ),
            1,
        ),
        _ => svg.to_string(),
    }
}

/// A stable hash (FNV-1a), so a diagram's ids do not change from one build to the next.
#[cfg(feature = "svgbob")]
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// In a build with svgbob or without (first: the tidy test reads the code up to the
/// first `#[cfg(test)]`).
#[cfg(test)]
mod undrawn_tests {
    /// While the drawing command is built (xtask's `Drawer`), a diagram is shown as its
    /// source: escaped, on one line of HTML (a blank line would end the HTML block),
    /// with its words as its text alternative, in the same `diagram` box.
    #[test]
    fn an_undrawn_diagram_is_its_escaped_source_on_one_line_with_its_words_as_alt() {
        assert_eq!(
            super::undrawn("a --> \"b<c\"\n\nd & e\n\n"),
            "<div class=\"diagram\"><pre role=\"img\" \
             aria-label=\"Diagram: a b c d e\">a --&gt; &quot;b&lt;c&quot;&#10;&#10;d &amp; e</pre></div>"
        );
    }
}

/// A build without svgbob (`cargo test -p deck --no-default-features --lib`, which CI
/// runs): the drawer decides, and without one the error says why.
#[cfg(all(test, not(feature = "svgbob")))]
mod drawer_tests {
    use super::*;

    struct Echo;
    impl Draw for Echo {
        fn draw(&self, ascii: &str) -> Result<String, String> {
            Ok(format!("<drawn>{ascii}</drawn>"))
        }
    }

    // One test: the drawer is process-wide, and tests run in parallel.
    #[test]
    fn without_svgbob_a_diagram_is_the_drawers_picture_or_an_error_saying_why() {
        assert!(!IN_PROCESS);
        set_drawer(None);
        assert_eq!(render("a -> b").unwrap_err(), NO_SVGBOB);
        set_drawer(Some(std::sync::Arc::new(Echo)));
        assert_eq!(render("a -> b").unwrap(), "<drawn>a -> b</drawn>");
        // The size limits hold before the drawer is asked.
        let wide = "-".repeat(MAX_COLUMNS + 1);
        assert!(render(&wide).unwrap_err().contains("too large"));
        set_drawer(None);
        assert_eq!(render("a -> b").unwrap_err(), NO_SVGBOB);
    }
}

#[cfg(all(test, feature = "svgbob"))]
mod tests {
    use super::*;

    const BOXES: &str = "+------+     +------+\n| send |---->| recv |\n+------+     +------+\n";

    #[test]
    fn a_diagram_says_its_words_as_its_text_alternative() {
        let ascii =
            "+--------+     +-------+\n| client |---->| \"accept()\" |\n+--------+     +-------+\n";
        assert_eq!(alt_text(ascii), "Diagram: client accept()");
        let html = render(ascii).unwrap();
        assert!(
            html.contains("role=\"img\" aria-label=\"Diagram: client accept()\""),
            "{html}"
        );
    }

    #[test]
    fn a_diagram_is_one_line_of_svg_in_a_div() {
        let html = render(BOXES).unwrap();
        assert!(!html.contains('\n'), "{html}");
        assert!(html.starts_with("<div class=\"diagram\"><svg "), "{html}");
        assert!(html.ends_with("</svg></div>"), "{html}");
        assert!(html.contains(">send</text>") && html.contains(">recv</text>"));
    }

    #[test]
    fn it_follows_the_text_colour_and_has_no_backdrop() {
        let html = render(BOXES).unwrap();
        assert!(html.contains("stroke: currentColor"), "{html}");
        assert!(
            !html.contains("black") && !html.contains(": white"),
            "{html}"
        );
        assert!(!html.contains("class=\"backdrop\""), "{html}");
    }

    #[test]
    fn it_scales_and_keeps_its_ids_to_itself() {
        let a = render(BOXES).unwrap();
        let b = render("a --> b\n").unwrap();
        assert!(a.contains("viewBox=\"0 0 "), "{a}");
        // BOXES is 21 columns: 176 px wide by nature, drawn up to 1.6 times that.
        assert!(a.contains("width:min(100%, 282px)"), "{a}");
        let id_of = |html: &str| {
            let at = html.find("id=\"arrow-").unwrap() + 4;
            html[at..at + html[at..].find('"').unwrap()].to_string()
        };
        assert_ne!(id_of(&a), id_of(&b));
        assert!(a.contains(&format!("url(#{})", id_of(&a))), "{a}");
        assert!(!a.contains("url(#arrow)") && !a.contains(".svgbob line"));
        assert_eq!(
            render(BOXES).unwrap(),
            a,
            "the same source gives the same picture"
        );
    }

    #[test]
    fn quoted_text_is_text_and_fits_inside() {
        let html = render("a --> \"close(): send FIN, a long label\"\n").unwrap();
        assert!(
            html.contains(">close(): send FIN, a long label</text>"),
            "{html}"
        );
        let width: f32 = {
            let at = html.find(" width=\"").unwrap() + 8;
            html[at..at + html[at..].find('"').unwrap()]
                .parse()
                .unwrap()
        };
        // The source line is 39 characters of 8 px each; the text ends at the last.
        assert!(width >= 39.0 * 8.0, "width {width}: {html}");
    }

    #[test]
    fn text_is_escaped() {
        let html = render("<a&b>\n").unwrap();
        assert!(html.contains("&lt;a&amp;b&gt;"), "{html}");
    }

    #[test]
    fn an_oversized_diagram_is_an_error_naming_the_limit_not_a_stall() {
        // 38.7 kB took svgbob 26 s; the build must say so instead of drawing it.
        let big = "+---+  +---+  +---+  +---+  +---+  +---+  +---+  +---+\n".repeat(700);
        let t0 = std::time::Instant::now();
        let err = render(&big).unwrap_err();
        assert!(
            err.contains("too large") && err.contains("4096 characters"),
            "{err}"
        );
        eprintln!("refused {} bytes in {:?}", big.len(), t0.elapsed());
        let wide = format!("{}\n", "-".repeat(MAX_COLUMNS + 1));
        assert!(render(&wide).unwrap_err().contains("columns"));
        let widest = format!("{}\n", "-".repeat(MAX_COLUMNS));
        assert!(
            render(&widest).is_ok(),
            "exactly {MAX_COLUMNS} columns are drawn"
        );
        let fits = "a --> b\n".repeat(MAX_LINES);
        assert!(render(&fits).is_ok());
    }

    /// The picture is one cell high per source line (and one more), as it is one cell
    /// wide per character: a diagram of five lines is three times as high as one of one.
    #[test]
    fn its_height_grows_one_cell_per_line() {
        let height = |ascii: &str| -> f32 {
            let html = render(ascii).unwrap();
            let view = html.split_once("viewBox=\"0 0 ").unwrap().1;
            let view = &view[..view.find('"').unwrap()];
            view.split_whitespace().nth(1).unwrap().parse().unwrap()
        };
        let one = height("a --> b\n");
        let five = height(&"a --> b\n".repeat(5));
        assert!((five / one - 3.0).abs() < 1e-3, "{one} then {five}");
    }

    /// A cell is 8 px wide and 16 px high (svgbob's scale 8 times its cell of 1 by 2):
    /// one line is drawn 32 px high (the line and one cell more), five lines 96 px.
    #[test]
    fn a_line_is_one_cell_of_16_px_high() {
        let size = |ascii: &str| -> (String, String) {
            let html = render(ascii).unwrap();
            let view = html.split_once("viewBox=\"0 0 ").unwrap().1;
            let view = &view[..view.find('"').unwrap()];
            let (w, h) = view.split_once(' ').unwrap();
            (w.to_string(), h.to_string())
        };
        // "a --> b" is 7 columns: 8 cells of 8 px.
        assert_eq!(size("a --> b\n"), ("64".into(), "32".into()));
        assert_eq!(size(&"a --> b\n".repeat(5)), ("64".into(), "96".into()));
    }

    /// Each diagram's ids and classes end in the FNV-1a hash of its source (checked
    /// against the published test vectors), so two sources one bit apart do not share
    /// them: "A" and "E" differ only in a bit FNV's offset basis already has set.
    #[test]
    fn ids_are_the_fnv1a_hash_of_the_source_so_sources_one_bit_apart_get_their_own() {
        assert_eq!(fnv1a(b""), 0x811c_9dc5);
        assert_eq!(fnv1a(b"a"), 0xe40c_292c);
        assert_eq!(fnv1a(b"foobar"), 0xbf9c_f968);
        let class_of = |ascii: &str| {
            let html = render(ascii).unwrap();
            let at = html.find("class=\"svgbob svgbob-").unwrap() + 14;
            html[at..at + html[at..].find('"').unwrap()].to_string()
        };
        assert_eq!(
            class_of("A --> b\n"),
            format!("svgbob-{:08x}", fnv1a(b"A --> b\n"))
        );
        assert_ne!(class_of("A --> b\n"), class_of("E --> b\n"));
    }

    /// The picture is sized one cell per source character, which holds for text only
    /// in a monospace font.
    #[test]
    fn its_text_is_set_in_the_monospace_font_its_cells_are_sized_for() {
        let html = render("a --> \"label\"\n").unwrap();
        assert!(
            html.contains("font-family: ui-monospace, monospace;"),
            "{html}"
        );
    }

    /// The character limit holds on its own: a diagram within the columns and lines
    /// but over 4096 characters is refused before it is drawn; one of 4096 is drawn.
    #[test]
    fn more_than_4096_characters_are_refused_within_the_columns_and_lines() {
        let line = format!("{}\n", "a --> b ".repeat(9));
        let over = format!("{}a --> b\nx\n", line.repeat(56));
        assert_eq!(over.chars().count(), MAX_CHARS + 2);
        let err = render(&over).unwrap_err();
        assert!(
            err.contains("(72 columns, 58 lines, 4098 characters;"),
            "{err}"
        );
        // Exactly the limit is drawn (blank lines but one: svgbob draws that at once).
        let at_limit = format!("{}a --> b\n", format!("{}\n", " ".repeat(72)).repeat(56));
        assert_eq!(at_limit.chars().count(), MAX_CHARS);
        let t0 = std::time::Instant::now();
        assert!(
            render(&at_limit).is_ok(),
            "exactly 4096 characters are drawn"
        );
        eprintln!("drew {MAX_CHARS} characters in {:?}", t0.elapsed());
    }
}

#[cfg(all(test, not(feature = "svgbob")))]
mod without_svgbob {
    #[test]
    fn a_diagram_is_an_error_that_names_the_missing_feature() {
        let err = super::render("a --> b\n").unwrap_err();
        assert!(err.contains("without its `svgbob` feature"), "{err}");
    }
}
