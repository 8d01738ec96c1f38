//! Terminal output to HTML: SGR colour and weight codes become `<span class>`es, every
//! other escape sequence is dropped, and text is HTML-escaped.
//!
//! The renderer is fed chunk by chunk, exactly as output arrived, and keeps its style
//! (and any escape sequence cut in half by a chunk boundary) between calls. Each call
//! returns well-formed HTML on its own, so a chunk can be appended to the page as soon
//! as it is rendered. Both the preprocessor (static figures) and the browser player
//! (replay and live runs) use this one renderer, so they cannot drift apart.
//!
//! A line that starts with the focus marker [`FOCUS_MARK`] (an OSC sequence that real
//! terminals ignore) is one the demo's claim rests on: the renderer drops the marker
//! like any other OSC and remembers that it saw it ([`Renderer::take_focus_mark`]);
//! [`crate::terminal`] turns that into a `focus` line.
//!
//! Classes: `ansi-bold`, `ansi-dim`, `ansi-italic`, `ansi-underline`, `ansi-fg-N` and
//! `ansi-bg-N` for the 16 standard colours (N = 0..15, bright = 8..15). 256-colour and
//! true-colour codes become an inline `style`.

use std::fmt::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Style {
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    fg: Option<Colour>,
    bg: Option<Colour>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    /// One of the 16 colours the theme defines.
    Named(u8),
    Rgb(u8, u8, u8),
}

impl Style {
    fn is_plain(&self) -> bool {
        *self == Style::default()
    }

    fn open_tag(&self) -> String {
        let mut classes = Vec::new();
        let mut style = String::new();
        use crate::page::{ansi_colour_class, class};
        for (on, class) in [
            (self.bold, class::ANSI_BOLD),
            (self.dim, class::ANSI_DIM),
            (self.italic, class::ANSI_ITALIC),
            (self.underline, class::ANSI_UNDERLINE),
        ] {
            if on {
                classes.push(class.to_string());
            }
        }
        for (colour, background, css) in [
            (self.fg, false, "color"),
            (self.bg, true, "background-color"),
        ] {
            match colour {
                Some(Colour::Named(n)) => classes.push(ansi_colour_class(background, n)),
                Some(Colour::Rgb(r, g, b)) => {
                    let _ = write!(style, "{css}:#{r:02x}{g:02x}{b:02x};");
                }
                None => {}
            }
        }
        let mut tag = String::from("<span");
        if !classes.is_empty() {
            let _ = write!(tag, " class=\"{}\"", classes.join(" "));
        }
        if !style.is_empty() {
            let _ = write!(tag, " style=\"{style}\"");
        }
        tag.push('>');
        tag
    }

    /// Applies one SGR sequence's parameters (`ESC [ p1 ; p2 ... m`).
    fn apply(&mut self, params: &[u16]) {
        if params.is_empty() {
            *self = Style::default();
            return;
        }
        let mut i = 0;
        while i < params.len() {
            match params[i] {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => {
                    self.bold = false;
                    self.dim = false;
                }
                23 => self.italic = false,
                24 => self.underline = false,
                n @ 30..=37 => self.fg = Some(Colour::Named((n - 30) as u8)),
                n @ 90..=97 => self.fg = Some(Colour::Named((n - 90 + 8) as u8)),
                39 => self.fg = None,
                n @ 40..=47 => self.bg = Some(Colour::Named((n - 40) as u8)),
                n @ 100..=107 => self.bg = Some(Colour::Named((n - 100 + 8) as u8)),
                49 => self.bg = None,
                n @ (38 | 48) => {
                    let (colour, used) = extended_colour(&params[i + 1..]);
                    i += used;
                    if n == 38 {
                        self.fg = colour;
                    } else {
                        self.bg = colour;
                    }
                }
                _ => {} // blink, inverse and friends: not worth showing on a slide
            }
            i += 1;
        }
    }
}

/// Reads `5;N` or `2;R;G;B` after a 38/48; returns the colour and how many params it used.
fn extended_colour(rest: &[u16]) -> (Option<Colour>, usize) {
    let byte = |v: u16| v.min(255) as u8;
    match rest {
        [5, n, ..] if *n < 16 => (Some(Colour::Named(*n as u8)), 2),
        [5, n, ..] => {
            let (r, g, b) = xterm_256(byte(*n));
            (Some(Colour::Rgb(r, g, b)), 2)
        }
        [2, r, g, b, ..] => (Some(Colour::Rgb(byte(*r), byte(*g), byte(*b))), 4),
        _ => (None, rest.len()),
    }
}

/// The xterm palette for colours 16..=255.
fn xterm_256(n: u8) -> (u8, u8, u8) {
    if n >= 232 {
        let v = 8 + 10 * (n - 232);
        return (v, v, v);
    }
    let n = n - 16;
    let level = |c: u8| if c == 0 { 0 } else { 55 + 40 * c };
    (level(n / 36), level((n / 6) % 6), level(n % 6))
}

/// What the demo harness prints at the start of a line the claim rests on:
/// `ESC ] 99 ; f BEL`, an OSC sequence no terminal acts on.
pub const FOCUS_MARK: &str = "\x1b]99;f\x07";

/// Text without ANSI escapes (CSI sequences, and OSC ones such as the focus mark).
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                // CSI: parameters, then one final byte in @..~.
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                for c in chars.by_ref() {
                    if c == '\x07' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// The payload of [`FOCUS_MARK`], between `ESC ]` and BEL.
const FOCUS_PAYLOAD: &str = "99;f";

/// Where the parser is inside an escape sequence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum Escape {
    #[default]
    None,
    /// Saw ESC.
    Start,
    /// Inside `ESC [`, collecting parameter bytes.
    Csi(String),
    /// Inside a CSI sequence whose parameters grew past [`MAX_CSI`]: the rest of it,
    /// up to its final byte, is dropped with it.
    CsiTooLong,
    /// Inside `ESC ]` (OSC), until BEL or ESC \; the start of the payload is kept to
    /// recognise [`FOCUS_MARK`].
    Osc { payload: String, saw_esc: bool },
}

/// A streaming ANSI-to-HTML converter. Use one per output stream.
#[derive(Debug, Clone, Default)]
pub struct Renderer {
    style: Style,
    escape: Escape,
    /// A focus marker was seen since the last [`Renderer::take_focus_mark`].
    focus_mark: bool,
}

/// Longest parameter string we collect; a longer sequence is garbage and is dropped
/// whole, up to its final byte.
const MAX_CSI: usize = 64;

/// Whether `c` may continue a CSI sequence: parameter and intermediate bytes
/// (0x20..=0x3f). Anything else ends it (a final byte) or breaks it off.
fn is_csi_param(c: char) -> bool {
    ('\x20'..='\x3f').contains(&c)
}

/// One SGR parameter as a number, saturating (a colour index of 999999 is clamped to
/// the palette's end later, not wrapped or read as 0); empty or malformed is 0.
fn sgr_number(p: &str) -> u16 {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    p.bytes().fold(0u32, |n, b| {
        (n * 10 + u32::from(b - b'0')).min(u32::from(u16::MAX))
    }) as u16
}

impl Renderer {
    pub fn new() -> Renderer {
        Renderer::default()
    }

    /// Whether a focus marker went by since the last call (and forgets it).
    pub fn take_focus_mark(&mut self) -> bool {
        std::mem::take(&mut self.focus_mark)
    }

    /// Renders one chunk. The result is balanced HTML: every span it opens, it closes.
    ///
    /// A newline ends any escape sequence left open (an unterminated OSC or CSI hides
    /// at most the rest of its own line), and so does [`Renderer::end_line`] for
    /// callers that split lines themselves.
    pub fn push(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 16);
        let mut open = false;
        let open_span = |out: &mut String, style: &Style, open: &mut bool| {
            if !*open && !style.is_plain() {
                out.push_str(&style.open_tag());
                *open = true;
            }
        };
        let mut chars = text.chars();
        // A character that broke a sequence off, to be read again as what it is.
        let mut again: Option<char> = None;
        while let Some(c) = again.take().or_else(|| chars.next()) {
            if c == '\n' {
                self.end_line();
            }
            match &mut self.escape {
                Escape::None => match c {
                    '\x1b' => self.escape = Escape::Start,
                    c if let Some(entity) = crate::escape::entity(c) => {
                        open_span(&mut out, &self.style, &mut open);
                        out.push_str(entity);
                    }
                    // Carriage returns and other controls would only confuse a static page.
                    '\r' => {}
                    c if c.is_control() && c != '\n' && c != '\t' => {}
                    c => {
                        open_span(&mut out, &self.style, &mut open);
                        out.push(c);
                    }
                },
                Escape::Start => {
                    self.escape = match c {
                        '[' => Escape::Csi(String::new()),
                        ']' => Escape::Osc {
                            payload: String::new(),
                            saw_esc: false,
                        },
                        '\x1b' => Escape::Start,
                        // A two-byte escape (`ESC 7`): dropped. Anything else after ESC
                        // is not an escape at all: it is text.
                        c if ('\x20'..='\x7e').contains(&c) => Escape::None,
                        c => {
                            again = Some(c);
                            Escape::None
                        }
                    }
                }
                Escape::CsiTooLong => {
                    // Dropped up to its final byte; a character no CSI holds ends it
                    // too, and is text.
                    if c == '\x1b' {
                        self.escape = Escape::Start;
                    } else if !is_csi_param(c) && !c.is_control() {
                        self.escape = Escape::None;
                        if !is_csi_final(c) {
                            again = Some(c);
                        }
                    }
                }
                Escape::Csi(params) => {
                    if is_csi_final(c) {
                        let params = std::mem::take(params);
                        self.escape = Escape::None;
                        if c == 'm' {
                            let parsed: Vec<u16> = if params.is_empty() {
                                Vec::new()
                            } else {
                                params.split(';').map(sgr_number).collect()
                            };
                            let before = self.style.clone();
                            self.style.apply(&parsed);
                            if open && self.style != before {
                                out.push_str("</span>");
                                open = false;
                            }
                        }
                    } else if c == '\x1b' {
                        // A new escape breaks this one off.
                        self.escape = Escape::Start;
                    } else if c.is_control() {
                        // Controls inside a CSI are not part of it; nothing to show.
                    } else if !is_csi_param(c) {
                        // No CSI holds this character (a letter outside ASCII): the
                        // sequence was broken off, and the character is text.
                        self.escape = Escape::None;
                        again = Some(c);
                    } else if params.len() < MAX_CSI {
                        params.push(c);
                    } else {
                        self.escape = Escape::CsiTooLong;
                    }
                }
                Escape::Osc { payload, saw_esc } => {
                    if c == '\x07' || (*saw_esc && c == '\\') {
                        self.focus_mark |= payload == FOCUS_PAYLOAD;
                        self.escape = Escape::None;
                    } else if *saw_esc {
                        // ESC and not `\`: the OSC was never terminated, and the ESC
                        // starts the next sequence.
                        self.escape = Escape::Start;
                        again = Some(c);
                    } else {
                        *saw_esc = c == '\x1b';
                        if !*saw_esc && payload.len() <= FOCUS_PAYLOAD.len() {
                            payload.push(c);
                        }
                    }
                }
            }
        }
        if open {
            out.push_str("</span>");
        }
        out
    }

    /// The end of a line: an escape sequence still open there is dropped, so that it
    /// cannot swallow the next line (a stray `ESC ]` would otherwise hide every later
    /// line of its stream, the verdict included). The style carries over.
    pub fn end_line(&mut self) {
        self.escape = Escape::None;
    }
}

/// A CSI sequence's final byte.
fn is_csi_final(c: char) -> bool {
    ('\x40'..='\x7e').contains(&c)
}

/// Renders a whole text at once.
pub fn to_html(text: &str) -> String {
    Renderer::new().push(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_escaped() {
        assert_eq!(
            to_html("a < b && \"c\" > d\n"),
            "a &lt; b &amp;&amp; &quot;c&quot; &gt; d\n"
        );
    }

    #[test]
    fn colours_become_classes_and_reset_closes_them() {
        assert_eq!(
            to_html("\x1b[1;32mPASS\x1b[0m done"),
            "<span class=\"ansi-bold ansi-fg-2\">PASS</span> done"
        );
        assert_eq!(
            to_html("\x1b[91mx\x1b[m"),
            "<span class=\"ansi-fg-9\">x</span>"
        );
    }

    #[test]
    fn extended_colours_become_inline_styles() {
        assert_eq!(
            to_html("\x1b[38;2;255;0;16mx"),
            "<span style=\"color:#ff0010;\">x</span>"
        );
        assert_eq!(
            to_html("\x1b[48;5;3mx"),
            "<span class=\"ansi-bg-3\">x</span>"
        );
        assert_eq!(
            to_html("\x1b[38;5;196mx"),
            "<span style=\"color:#ff0000;\">x</span>"
        );
    }

    #[test]
    fn style_and_half_escapes_survive_chunk_boundaries() {
        let mut r = Renderer::new();
        assert_eq!(r.push("\x1b[3"), "");
        assert_eq!(r.push("1mred"), "<span class=\"ansi-fg-1\">red</span>");
        assert_eq!(r.push(" still"), "<span class=\"ansi-fg-1\"> still</span>");
        assert_eq!(r.push("\x1b[0m plain"), " plain");
    }

    #[test]
    fn other_escapes_and_controls_are_dropped() {
        assert_eq!(
            to_html("a\x1b[2Kb\x1b]0;title\x07c\r\n\x08d\x1b7e"),
            "abc\nde"
        );
        assert_eq!(to_html("\x1b]8;;http://x\x1b\\link"), "link");
    }

    #[test]
    fn the_focus_mark_is_dropped_and_remembered() {
        let mut r = Renderer::new();
        assert_eq!(r.push("\x1b]99;f"), "");
        assert_eq!(r.push("\x07  ok\n"), "  ok\n");
        assert!(r.take_focus_mark());
        assert!(!r.take_focus_mark(), "taken once");
        assert_eq!(r.push("\x1b]99;fx\x07a\x1b]0;99;f\x07b"), "ab");
        assert!(!r.take_focus_mark(), "other OSC payloads are not the mark");
        assert_eq!(r.push(&format!("{FOCUS_MARK}c")), "c");
        assert!(r.take_focus_mark());
    }

    #[test]
    fn defect_7_an_unterminated_sequence_ends_at_the_line_end() {
        assert_eq!(to_html("a\x1b]0;title\nFAIL: x\n"), "a\nFAIL: x\n");
        assert_eq!(to_html("a\x1b[12;\nb"), "a\nb");
        assert_eq!(to_html("a\x1b\nb"), "a\nb");
        // Broken off by the next escape, which still works.
        assert_eq!(
            to_html("\x1b]0;t\x1b[31mred"),
            "<span class=\"ansi-fg-1\">red</span>"
        );
        // Fed in pieces, with the line's end told separately (as the screen does).
        let mut r = Renderer::new();
        assert_eq!(r.push("x \x1b]8;;http://a"), "x ");
        r.end_line();
        assert_eq!(r.push("FAIL: y"), "FAIL: y");
    }

    #[test]
    fn defect_8_overlong_csi_is_dropped_whole_and_colours_are_clamped() {
        let long = format!("\x1b[{}m", "1;".repeat(20_000));
        assert_eq!(to_html(&format!("a{long}b")), "ab");
        // Cut anywhere, still nothing of it shows.
        let mut r = Renderer::new();
        let mut html = r.push("a");
        for piece in long.as_bytes().chunks(7) {
            html.push_str(&r.push(std::str::from_utf8(piece).unwrap()));
        }
        html.push_str(&r.push("b"));
        assert_eq!(html, "ab");
        // An over-long sequence with a final byte other than m is dropped too.
        assert_eq!(to_html(&format!("a\x1b[{}Hb", "9".repeat(500))), "ab");
        // Colours out of range are clamped to the palette's end, not read as black.
        assert_eq!(
            to_html("\x1b[38;5;999999mx"),
            "<span style=\"color:#eeeeee;\">x</span>"
        );
        assert_eq!(
            to_html("\x1b[38;2;999;70000;-1mx"),
            "<span style=\"color:#ffff00;\">x</span>"
        );
        assert_eq!(
            to_html("\x1b[48;5;256mx"),
            "<span style=\"background-color:#eeeeee;\">x</span>"
        );
    }

    #[test]
    fn garbage_never_panics_and_output_stays_balanced() {
        let mut seed = 0x2545_f491_u32;
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..40 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                s.push(match seed % 8 {
                    0 => '\x1b',
                    1 => '[',
                    2 => ';',
                    3 => 'm',
                    4 => char::from(b'0' + (seed >> 8) as u8 % 10),
                    5 => '<',
                    6 => ']',
                    _ => 'x',
                });
            }
            let html = to_html(&s);
            assert_eq!(
                html.matches("<span").count(),
                html.matches("</span>").count(),
                "{s:?}"
            );
            assert!(!html.contains('\x1b'));
        }
    }
}
