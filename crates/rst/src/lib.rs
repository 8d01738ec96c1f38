//! reStructuredText chapters, read the way hieroglyph (the Sphinx slide builder) reads
//! them, and turned into the Markdown + HTML that the deck engine (`deck::slides`) makes slides of.
//!
//! A chapter whose file ends in `.rst` goes through [`convert`] first; everything after
//! that (slides, notes, demo figures) is the same as for a Markdown chapter.
//!
//! The modules: `block` reads lines into blocks (docutils' indentation rules), with
//! `directive` (one function per directive, in a table), `table` and `include`;
//! `inline` reads inline markup once all targets are known; `render` turns blocks into
//! Markdown and decides where slides start; `math` makes LaTeX readable.
//!
//! # What is understood
//!
//! Slides (hieroglyph 2.1's rules, checked against hieroglyph itself on the talks in
//! `tests/corpus/`):
//! - Section titles down to `slide_levels` (3 by default; [`Options`], or
//!   `.. slideconf::` with `:slide_levels:`) start a slide; deeper ones stay inside it.
//!   A slide of level 1 or 2 is a `#`/`##` heading, a deeper one a break and `###`.
//!   Titles are underlined, or over- and underlined, with any punctuation character;
//!   levels follow the order in which the styles first appear, as in docutils.
//!   `.. slideconf::` with `:autoslides: False` makes only `.. slide::` slides; the rest
//!   is for the reading view (notes there too: visible boxes, not speaker notes; what
//!   comes before the first slide is kept inside it, hidden, so it makes no slide).
//! - `.. note::` is a speaker note. Notes may appear anywhere in a slide; they are moved
//!   to its end (after a `Notes:` paragraph), hidden in the slide view.
//! - `.. nextslide::` continues the current section on a new slide with its title (or
//!   the title given; `:increment:` numbers untitled ones from the section's title); one
//!   with nothing after it in its section makes no slide. `.. slide:: [TITLE]` is a
//!   slide with its content in the directive, at `:level:` or the current section's;
//!   what follows it in its section is in no slide (as hieroglyph), for readers only.
//! - `.. ifslides::` / `.. ifnotslides::`: content only in the slide view / only in the
//!   reading view (`<div class="only-slides">` / `<div class="only-reading">`); titles
//!   and `nextslide` inside `ifslides` split slides.
//! - `.. rst-class:: build`: each child of the next element (or of the directive's
//!   content) is one step of the slide (`class="deck-step"`, revealed by the player),
//!   as hieroglyph's `.build > *`: a list's items, a container's blocks, a paragraph's
//!   inline elements (plain text is no step), a table's head and body (hieroglyph also
//!   counts its invisible `<colgroup>`). Classes of `rst-class` lines in a row add up.
//! - `.. demo:: NAME` and a paragraph that is exactly `{{#demo NAME}}` embed a demo;
//!   `.. chart:: DEMO METRIC...` and `{{#chart DEMO METRIC...}}` a chart of its metrics.
//!   `.. code-block:: svgbob` is drawn as a diagram, as in Markdown.
//! - `.. rst-class:: CLASSES` / `.. class::` give the next element (or the directive's
//!   content) those classes; before a title they go on the heading. `.. container::`.
//!
//! Body: paragraphs; bullet lists (`-`, `*`, `+`, `•`) and enumerated lists (`1.`, `(a)`,
//! `iv)`, `#.`), nested (items indented as docutils: a deeper bullet right after the
//! text is a definition list); definition lists (with ` : classifier`); field lists;
//! option lists; block quotes (with `-- attribution`); line blocks (`| `); simple and
//! grid tables with row and column spans, `list-table`, `csv-table`, `table`; `::`
//! literal blocks (indented or quoted); `.. code-block:: LANG` (also `code`,
//! `sourcecode`) with `:caption:`, `:linenos:`, `:lineno-start:`, `:emphasize-lines:`;
//! `.. highlight:: LANG`; `literalinclude` and `include` (inside the book only: anything
//! else is an error); `testcode`, `testoutput`, `doctest`; `.. parsed-literal::`;
//! doctest blocks; transitions (`<hr>`); `.. figure::` and `.. image::` with `:alt:`,
//! `:width:`, `:height:`, `:class:`, `:align:`, `:target:`, `:figwidth:`, a caption and
//! a legend; admonitions (`warning`, `tip`, ..., `todo`, `admonition`, `topic`,
//! `sidebar`; visible boxes), `versionadded`/`versionchanged`/`deprecated`; `rubric`,
//! `centered`, `epigraph`, `highlights`, `pull-quote`, `glossary`, `hlist`; `math` (as
//! readable text: no MathJax); `only` (kept for HTML), `toctree` (hidden: nothing;
//! else links for readers: hieroglyph's toctree is empty in slides), `contents` (with
//! `:local:`, the section's subsections only); `graphviz`, `digraph`, `graph` (drawn
//! as SVG by Graphviz's `dot` when it is on the PATH; else a warning and the source); domain objects (`py:function`, `confval`, autodoc: the
//! signature and body; autodoc cannot read docstrings); `.. raw:: html` (with `:file:`
//! from inside the book, as `include`); footnotes
//! (`[1]_`, `[#]_`, `[#label]_`, numbered as docutils, linked); comments.
//!
//! Inline: `*emphasis*`, `**strong**`, ``` ``literal`` ```, `` `interpreted` `` (a
//! citation), roles (`:emphasis:`, `:strong:`, `:literal:`, `:code:`, `:sub:`, `:sup:`,
//! `:title:`, `:abbr:`, `:kbd:`, `:file:`, `:command:`, `:program:`, `:manpage:`,
//! `:rfc:`, `:pep:`; `:ref:` and `:doc:` as links with the target's title, across the
//! book's chapters; domain roles such as `:py:class:` or `:rst:dir:` as code;
//! `:term:` as text); hyperlinks `name_`, `` `a phrase`_ ``, `` `text <https://...>`_ ``
//! (embedded), anonymous `__` with `.. __: URL`, targets `.. _name: URL`, section titles
//! as targets; bare URLs; substitutions `|name|` with `replace::`, `image::`,
//! `unicode::` and `raw::`; backslash escapes.
//!
//! Problems are reported where docutils and Sphinx report them. An unknown directive
//! (with its content) and a missing include are left out and reported as errors
//! ([`Converted::reported`]): the build goes on, except in strict mode. Anything else
//! (an unknown role, bad indentation, a title underline too short, an unmatched `*`)
//! is shown as plainly as possible and reported as a warning with its line; the deck
//! prints warnings, or fails on them in strict mode. Comments are never reported,
//! and neither is a `:ref:` inside `ifnotslides` (hieroglyph never resolves it).
//!
//! # Why our own reader
//!
//! The Rust candidates do not fit: `rst_parser`/`rst_renderer` (the rust-rst project,
//! 0.4) is a pest grammar with tables commented out, a fixed set of directives (an
//! unknown one such as `nextslide` fails the parse instead of degrading), no line
//! numbers in its tree to report problems at, and PEG backtracking with no bound on its
//! time. Other crates are Sphinx/docutils wrappers (needing Python) or abandoned
//! fragments. This reader is small, keeps every line number, never fails (every input
//! renders), and runs in linear time; it is fuzzed (see `crates/deck/fuzz`).

use std::collections::HashMap;

mod block;
mod directive;
mod graphviz;
mod include;
mod inline;
mod math;
mod render;
mod table;

/// Something wrong in a chapter, at a 1-based line of its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

use block::Reader;
pub use include::Files;
use inline::Inline;
use render::{Render, SlideRules};

/// How a chapter is read.
#[derive(Debug, Clone)]
pub struct Options {
    /// Section titles up to this level start slides (hieroglyph's `slide_levels`, 3 by
    /// default); a document's `.. slideconf::` may say otherwise.
    pub slide_levels: usize,
    /// The prefix that leads from the chapter back to the book's source root (`"../"`
    /// per level), for root-relative image paths.
    pub root: String,
    /// Where the chapter is, for `include` and `literalinclude`; `None` reads nothing.
    pub files: Option<Files>,
    /// The book's section labels (for `:ref:`): label -> (title, path from the book
    /// root with `#id`). See [`Chapter`].
    pub labels: HashMap<String, (String, String)>,
    /// The book's chapters (for `:doc:`): path without extension -> (title, path).
    pub docs: HashMap<String, (String, String)>,
    /// Draw `graphviz` graphs with Graphviz's `dot` when it is on the PATH (true by
    /// default; the fuzzer turns it off).
    pub graphviz: bool,
}

/// What other chapters may refer to in one chapter: its title and section labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chapter {
    pub title: Option<String>,
    /// (label, section title)
    pub labels: Vec<(String, String)>,
}

/// Reads a chapter for its title and labels (without rendering it).
pub fn chapter(src: &str) -> Chapter {
    let mut reader = Reader::new();
    let blocks = read(src, &mut reader);
    let title = blocks.iter().find_map(|b| match &b.kind {
        block::Kind::Title { text, .. } => Some(text.text.clone()),
        _ => None,
    });
    let mut labels: Vec<(String, String)> = reader.refs.section_labels.into_iter().collect();
    labels.sort();
    Chapter { title, labels }
}

impl Options {
    /// Adds a chapter's labels and title, for the chapters that refer to it; `path` is
    /// its place from the book's source root, without extension (`talk/intro`).
    pub fn add_chapter(&mut self, path: &str, chapter: &Chapter) {
        let html = format!("{path}.html");
        for (label, title) in &chapter.labels {
            let href = format!("{html}#{}", block::slug(title));
            self.labels.insert(label.clone(), (title.clone(), href));
        }
        let title = chapter.title.clone().unwrap_or_else(|| path.to_string());
        self.docs.insert(path.to_string(), (title, html));
    }
}

impl Default for Options {
    fn default() -> Options {
        Options {
            slide_levels: 3,
            root: String::new(),
            files: None,
            labels: HashMap::new(),
            docs: HashMap::new(),
            graphviz: true,
        }
    }
}

/// An rST chapter as Markdown, with where each output line came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub markdown: String,
    /// The 1-based rST line of each Markdown line (index 0 is Markdown line 1).
    pub line_map: Vec<usize>,
    /// Things not understood, at their rST line; they render as plainly as possible.
    pub warnings: Vec<Problem>,
    /// What must stop the build (an include from outside the book), at its rST line.
    pub errors: Vec<Problem>,
    /// Errors docutils reports and goes on after (an unknown directive, a missing
    /// include), at their rST line: the build goes on, unless strict.
    pub reported: Vec<Problem>,
}

impl Converted {
    /// The rST line of a 1-based Markdown line (the last line for lines past the end).
    pub fn source_line(&self, markdown_line: usize) -> usize {
        let i = markdown_line.saturating_sub(1);
        self.line_map
            .get(i)
            .or(self.line_map.last())
            .copied()
            .unwrap_or(1)
    }
}

/// Converts a chapter at the book's source root, with the default settings.
pub fn to_markdown(src: &str) -> Converted {
    convert(src, &Options::default())
}

/// As [`to_markdown`], for a chapter `depth` directories below the source root: `root`
/// is the prefix that leads back to it (`"../"` per level).
pub fn to_markdown_at(src: &str, root: &str) -> Converted {
    convert(
        src,
        &Options {
            root: root.to_string(),
            ..Options::default()
        },
    )
}

/// Converts a chapter.
pub fn convert(src: &str, options: &Options) -> Converted {
    let mut reader = Reader::new();
    reader.files = options.files.clone();
    reader.graphviz = options.graphviz;
    let blocks = read(src, &mut reader);
    let mut warnings = std::mem::take(&mut reader.warnings);
    let errors = std::mem::take(&mut reader.errors);
    let mut reported = std::mem::take(&mut reader.reported);
    reported.sort_by_key(|p| p.line);
    let rules = SlideRules {
        slide_levels: reader
            .slideconf
            .slide_levels
            .unwrap_or(options.slide_levels),
        autoslides: reader.slideconf.autoslides.unwrap_or(true),
    };
    let mut refs = reader.refs;
    refs.external = options.labels.clone();
    refs.docs = options.docs.clone();
    let budget = 4 * src.len() + 65_536;
    let mut render = Render::new(Inline::new(&refs, &options.root, budget), rules);
    let out = render.document(&blocks);
    let (targets, used) = render.inline.anonymous_counts();
    if used != targets && targets > 0 {
        warnings.push(Problem {
            line: 1,
            message: format!(
                "{targets} anonymous target(s) (`.. __:`) but {used} anonymous reference(s)"
            ),
        });
    }
    warnings.append(&mut render.inline.warnings);
    warnings.sort_by_key(|p| p.line);
    let mut markdown = String::with_capacity(src.len() + src.len() / 2);
    let mut line_map = Vec::with_capacity(out.0.len());
    for (k, (text, no)) in out.0.iter().enumerate() {
        if k > 0 {
            markdown.push('\n');
        }
        markdown.push_str(text);
        line_map.push((*no).max(1));
    }
    if !line_map.is_empty() {
        markdown.push('\n');
    }
    Converted {
        markdown,
        line_map,
        warnings,
        errors,
        reported,
    }
}

/// A chapter's blocks, read by `reader` from its lines as docutils sees them: tabs
/// expanded, numbered from 1. The one place the source is split and expanded.
fn read(src: &str, reader: &mut Reader) -> Vec<block::Block> {
    let expanded: Vec<String> = src.split('\n').map(expand_line).collect();
    reader.document(&block::numbered(expanded.iter().map(String::as_str)))
}

/// Tabs to spaces (stops every 8 columns) and other whitespace to spaces, as docutils.
pub(crate) fn expand_line(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut out = String::with_capacity(line.len());
    let mut col = 0;
    for c in line.chars() {
        match c {
            '\t' => {
                let n = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            '\x0b' | '\x0c' | '\r' => {
                out.push(' ');
                col += 1;
            }
            c => {
                out.push(c);
                col += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_expand_to_stops_of_eight() {
        assert_eq!(expand_line("a\tb"), "a       b");
        assert_eq!(expand_line("\tx\r"), "        x");
    }

    #[test]
    fn line_map_points_into_the_source() {
        let c = to_markdown("Title\n=====\n\npara one\nline two\n");
        let md: Vec<&str> = c.markdown.lines().collect();
        let k = md.iter().position(|l| *l == "line two").unwrap();
        assert_eq!(c.line_map[k], 5);
        assert_eq!(c.source_line(k + 1), 5);
    }

    #[test]
    fn replacements_expand_up_to_four_times_the_source_and_64_kib_more() {
        // 70 uses of a 999-character replacement: 69,930 characters, more than the
        // fixed 65,536 but less than that and four times the source's 1,440.
        let uses = |n: usize| {
            let words = "word ".repeat(200);
            format!(".. |big| replace:: {words}\n\n{}\n", "|big| ".repeat(n))
        };
        let src = uses(70);
        let c = to_markdown(&src);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.markdown.matches("word").count(), 70 * 200);
        // 200 uses are beyond it: the later ones are not read, with a warning.
        let c = to_markdown(&uses(200));
        assert!(
            c.warnings
                .iter()
                .any(|w| w.message.contains("too much text")),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn an_anonymous_target_no_reference_uses_is_reported() {
        let c = to_markdown("No reference here.\n\n.. __: https://example.org/\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0]
                .message
                .contains("1 anonymous target(s) (`.. __:`) but 0 anonymous reference(s)"),
            "{:?}",
            c.warnings
        );
        let c = to_markdown("See `this`__.\n\n.. __: https://example.org/\n");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn tabs_stop_every_eight_columns_counted_over_every_character() {
        // Docutils (`string2lines`): vertical tab and form feed become one space each,
        // then tabs stop every 8 columns, counting what came before on the line.
        assert_eq!(expand_line("a\tb\tc"), "a       b       c");
        assert_eq!(expand_line("a\x0b\tb"), "a       b");
        assert_eq!(expand_line("\x0c\tc"), "        c");
        assert_eq!(expand_line("ab\x0c\x0b\tc"), "ab      c");
    }

    #[test]
    fn a_chapters_title_is_its_first_section_title() {
        let c = chapter(".. _intro:\n\nIntro\n=====\n\nPart\n----\n\nMore\n====\n");
        assert_eq!(c.title.as_deref(), Some("Intro"));
        assert_eq!(c.labels, [("intro".to_string(), "Intro".to_string())]);
        // Without a section title, a chapter has none.
        assert_eq!(chapter("Just text.\n").title, None);
    }
}
