//! The one terminal renderer: a demo's output chunks (both streams, in the order they
//! arrived) as HTML lines, each `<span class="line">` with its own newline, `focus`
//! added to the lines the claim rests on and stderr wrapped in `<span class="stderr">`.
//! The preprocessor's static figure, the player's replay and Run live all render
//! through [`Screen`], so the three cannot drift apart.
//!
//! Which lines are focus lines ([`Pick`]): a transcript whose demo marks its lines
//! ([`crate::ansi::FOCUS_MARK`]) shows the marked ones; an older transcript without
//! marks falls back to the harness's check lines (✓ / ✗) and its verdict (PASS, FAIL,
//! ERROR, SKIP); a run with neither has no focus lines and shows everything.

use std::fmt::Write;

use crate::ansi::{FOCUS_MARK, Renderer};
use crate::{Stream, Transcript};

/// How a terminal picks its focus lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The lines the demo marked.
    Marked,
    /// No marks: the check and verdict lines.
    Checks,
    /// Neither: no focus, every line shows.
    All,
}

impl Pick {
    /// The rule for a whole captured run.
    pub fn of(t: &Transcript) -> Pick {
        if t.chunks.iter().any(|c| c.text.contains(FOCUS_MARK)) {
            return Pick::Marked;
        }
        let mut screen = Screen::new(Pick::Checks);
        let mut lines = Vec::new();
        for chunk in &t.chunks {
            lines.extend(screen.push(chunk.stream, &chunk.text));
        }
        lines.extend(screen.finish());
        if lines.iter().any(|l| l.focus) {
            Pick::Checks
        } else {
            Pick::All
        }
    }

    /// The value of the terminal's `data-focus` attribute (`None`: no attribute).
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            Pick::Marked => Some("marked"),
            Pick::Checks => Some("checks"),
            Pick::All => None,
        }
    }

    /// The rule an attribute value names (for a live run of a captured figure).
    pub fn from_attribute(value: Option<&str>) -> Pick {
        match value {
            Some("marked") => Pick::Marked,
            Some("checks") => Pick::Checks,
            _ => Pick::All,
        }
    }
}

/// One finished line of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Balanced HTML of the line's text, without its newline.
    pub html: String,
    pub focus: bool,
    /// Whether the line ended with a newline (the last line of a run may not).
    pub newline: bool,
}

impl Line {
    /// The line's text as the reader sees it: no escapes, no tags, no newline.
    pub fn text(&self) -> String {
        plain_text(&self.html)
    }

    /// The line as the element the page shows.
    pub fn to_html(&self) -> String {
        line_element(&self.html, self.focus, self.newline, false)
    }
}

fn line_element(html: &str, focus: bool, newline: bool, partial: bool) -> String {
    use crate::page::class::{FOCUS, LINE, PARTIAL};
    let mut class = String::from(LINE);
    for (on, name) in [(focus, FOCUS), (partial, PARTIAL)] {
        if on {
            class.push(' ');
            class.push_str(name);
        }
    }
    let newline = if newline { "\n" } else { "" };
    format!("<span class=\"{class}\">{html}{newline}</span>")
}

/// A streaming renderer of one run: one ANSI [`Renderer`] per stream (a terminal
/// keeps one style per writer) and the line being written.
#[derive(Debug, Clone)]
pub struct Screen {
    pick: Pick,
    stdout: Renderer,
    stderr: Renderer,
    html: String,
    marked: bool,
}

impl Screen {
    pub fn new(pick: Pick) -> Screen {
        Screen {
            pick,
            stdout: Renderer::new(),
            stderr: Renderer::new(),
            html: String::new(),
            marked: false,
        }
    }

    /// Feeds one chunk; returns the lines it finished.
    pub fn push(&mut self, stream: Stream, text: &str) -> Vec<Line> {
        let mut done = Vec::new();
        for piece in text.split_inclusive('\n') {
            let (body, newline) = match piece.strip_suffix('\n') {
                Some(body) => (body, true),
                None => (piece, false),
            };
            let renderer = match stream {
                Stream::Stdout => &mut self.stdout,
                Stream::Stderr => &mut self.stderr,
            };
            let html = renderer.push(body);
            if newline {
                // An escape sequence left open ends with its line.
                renderer.end_line();
            }
            self.marked |= renderer.take_focus_mark();
            match stream {
                Stream::Stdout => self.html.push_str(&html),
                Stream::Stderr if html.is_empty() => {}
                Stream::Stderr => {
                    let _ = write!(self.html, "<span class=\"{}\">", crate::page::class::STDERR);
                    self.html.push_str(&html);
                    self.html.push_str("</span>");
                }
            }
            if newline {
                done.push(self.take_line(true));
            }
        }
        done
    }

    /// The line written so far and not finished, as an element (`partial` class).
    pub fn partial(&self) -> Option<String> {
        (!self.html.is_empty() || self.marked)
            .then(|| line_element(&self.html, self.is_focus(), false, true))
    }

    /// Ends the run: the unfinished last line, if any.
    pub fn finish(&mut self) -> Option<Line> {
        (!self.html.is_empty() || self.marked).then(|| self.take_line(false))
    }

    fn is_focus(&self) -> bool {
        match self.pick {
            Pick::Marked => self.marked,
            // A demo marking lines on a screen that expected none still gets its focus.
            Pick::Checks => self.marked || is_check_or_verdict(&plain_text(&self.html)),
            Pick::All => false,
        }
    }

    fn take_line(&mut self, newline: bool) -> Line {
        let focus = self.is_focus();
        self.marked = false;
        Line {
            html: std::mem::take(&mut self.html),
            focus,
            newline,
        }
    }
}

/// The harness's check lines (`  ✓ ...`, `  ✗ ...`) and verdict (`PASS: ...`).
pub fn is_check_or_verdict(text: &str) -> bool {
    let text = text.trim_start();
    if text.starts_with(['✓', '✗']) {
        return true;
    }
    ["PASS", "FAIL", "ERROR", "SKIP"].iter().any(|verdict| {
        text.strip_prefix(verdict)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', ' ']))
    })
}

/// The text of rendered HTML: tags dropped, the renderer's entities decoded.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    crate::escape::decode(&out)
}

/// A whole captured run as finished lines, and the rule that picked its focus lines.
pub fn lines(t: &Transcript) -> (Vec<Line>, Pick) {
    let pick = Pick::of(t);
    let mut screen = Screen::new(pick);
    let mut lines = Vec::new();
    for chunk in &t.chunks {
        lines.extend(screen.push(chunk.stream, &chunk.text));
    }
    lines.extend(screen.finish());
    (lines, pick)
}

/// A whole captured run as the terminal's inner HTML, and the rule that picked its
/// focus lines.
pub fn transcript_html(t: &Transcript) -> (String, Pick) {
    let (lines, pick) = lines(t);
    (lines.iter().map(Line::to_html).collect(), pick)
}

/// The plain text of the lines a slide's terminal shows: the focus lines, or every
/// line when the run has none (the reading view shows them all). The talk's timing
/// counts the words the room reads here, so it is the renderer's choice, not a copy.
pub fn lines_on_stage(t: &Transcript) -> Vec<String> {
    let (lines, pick) = lines(t);
    lines
        .iter()
        .filter(|l| l.focus || pick == Pick::All)
        .map(Line::text)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Chunk;

    fn run(chunks: &[(Stream, &str)]) -> Transcript {
        Transcript {
            chunks: chunks
                .iter()
                .enumerate()
                .map(|(i, (stream, text))| Chunk {
                    at_ms: i as u64,
                    stream: *stream,
                    text: text.to_string(),
                })
                .collect(),
            ..crate::test_support::run("d")
        }
    }

    #[test]
    fn marked_lines_are_focus_lines_without_the_mark() {
        let t = run(&[
            (
                Stream::Stdout,
                "step one\n\x1b]99;f\x07  \x1b[32m✓\x1b[0m it",
            ),
            (Stream::Stdout, " held\nkernel: 3\n\x1b]99;f\x07PASS: yes\n"),
        ]);
        let (html, pick) = transcript_html(&t);
        assert_eq!(pick, Pick::Marked);
        assert_eq!(
            html,
            concat!(
                "<span class=\"line\">step one\n</span>",
                "<span class=\"line focus\">  <span class=\"ansi-fg-2\">✓</span> it held\n</span>",
                "<span class=\"line\">kernel: 3\n</span>",
                "<span class=\"line focus\">PASS: yes\n</span>",
            )
        );
    }

    #[test]
    fn without_marks_the_checks_and_verdict_are_the_focus() {
        let t = run(&[(
            Stream::Stdout,
            "\x1b[1mexpect\x1b[0m: x\n  \x1b[32m✓\x1b[0m a\n  kernel: PASS rate\n  \x1b[31m✗\x1b[0m b\n\x1b[1;31mFAIL\x1b[0m: no\n",
        )]);
        let (html, pick) = transcript_html(&t);
        assert_eq!(pick, Pick::Checks);
        assert_eq!(html.matches("class=\"line focus\"").count(), 3, "{html}");
        assert!(html.contains("<span class=\"line\">  kernel: PASS rate\n</span>"));
    }

    #[test]
    fn a_run_with_neither_shows_everything() {
        let (html, pick) = transcript_html(&run(&[(Stream::Stdout, "a\nb")]));
        assert_eq!(pick, Pick::All);
        assert_eq!(
            html,
            "<span class=\"line\">a\n</span><span class=\"line\">b</span>"
        );
        assert_eq!(pick.attribute(), None);
        assert_eq!(Pick::from_attribute(Pick::Marked.attribute()), Pick::Marked);
    }

    #[test]
    fn stderr_is_wrapped_inside_its_line_and_streams_share_a_line() {
        let mut screen = Screen::new(Pick::All);
        assert!(screen.push(Stream::Stdout, "out ").is_empty());
        assert_eq!(
            screen.partial().as_deref(),
            Some("<span class=\"line partial\">out </span>")
        );
        let lines = screen.push(Stream::Stderr, "</err>\nnext");
        assert_eq!(
            lines[0].to_html(),
            "<span class=\"line\">out <span class=\"stderr\">&lt;/err&gt;</span>\n</span>"
        );
        assert_eq!(
            screen.finish().map(|l| l.to_html()).as_deref(),
            Some("<span class=\"line\"><span class=\"stderr\">next</span></span>")
        );
        assert_eq!(screen.finish(), None);
    }

    #[test]
    fn the_stage_shows_the_focus_lines_as_plain_text() {
        let marked = run(&[(
            Stream::Stdout,
            "noise\n\x1b]99;f\x07  \x1b[32m✓\x1b[0m a < b\n\x1b]99;f\x07PASS",
        )]);
        assert_eq!(lines_on_stage(&marked), vec!["  ✓ a < b", "PASS"]);
        let checks = run(&[
            (Stream::Stdout, "step\n  ✓ held\n"),
            (Stream::Stderr, "\x1b[1;31mFAIL\x1b[0m: no\n"),
        ]);
        assert_eq!(lines_on_stage(&checks), vec!["  ✓ held", "FAIL: no"]);
        let plain = run(&[(Stream::Stdout, "a &\n\x1b[1mb\x1b[0m")]);
        assert_eq!(lines_on_stage(&plain), vec!["a &", "b"]);
        assert_eq!(lines(&plain).0[1].text(), "b");
    }

    #[test]
    fn defect_7_a_stray_osc_or_csi_never_hides_the_lines_after_it() {
        for bad in [
            "\x1b]",
            "\x1b]8;;http://x",
            "\x1b[",
            "\x1b[12;",
            "\x1b",
            "\x1b]0;t\x1b",
        ] {
            // In one chunk, and cut at every place into two.
            let text = format!("step {bad}rest\n\x1b[1;31mFAIL\x1b[0m: the claim\nlast line\n");
            for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
                let t = run(&[
                    (Stream::Stdout, &text[..cut]),
                    (Stream::Stdout, &text[cut..]),
                ]);
                let (lines, pick) = lines(&t);
                let texts: Vec<String> = lines.iter().map(Line::text).collect();
                assert_eq!(texts.len(), 3, "{bad:?} cut at {cut}: {texts:?}");
                assert_eq!(texts[1], "FAIL: the claim", "{bad:?} cut at {cut}");
                assert_eq!(texts[2], "last line", "{bad:?} cut at {cut}");
                assert_eq!(pick, Pick::Checks);
                assert!(lines[1].focus, "the verdict is a focus line: {bad:?}");
            }
        }
        // On stderr too, and the other stream is not touched.
        let t = run(&[
            (Stream::Stderr, "oops \x1b]99;\n"),
            (Stream::Stdout, "PASS: yes\n"),
            (Stream::Stderr, "after\n"),
        ]);
        let texts: Vec<String> = lines(&t).0.iter().map(Line::text).collect();
        assert_eq!(texts, ["oops ", "PASS: yes", "after"]);
    }

    #[test]
    fn check_and_verdict_lines_are_recognised() {
        for yes in ["  ✓ a", "✗ b", "PASS: x", "FAIL", "ERROR: y", "SKIP: z"] {
            assert!(is_check_or_verdict(yes), "{yes}");
        }
        for no in ["PASSED", "  kernel: FAIL", "expect: ✓", "SKIPPING"] {
            assert!(!is_check_or_verdict(no), "{no}");
        }
    }
}
