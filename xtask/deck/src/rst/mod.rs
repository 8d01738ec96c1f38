//! reStructuredText chapters, read the way hieroglyph (the Sphinx slide builder) reads
//! them, and turned into the Markdown + HTML that [`crate::slides`] makes slides of.
//!
//! A chapter whose file ends in `.rst` goes through [`to_markdown`] first; everything
//! after that (slides, notes, demo figures) is the same as for a Markdown chapter.
//!
//! # What is understood
//!
//! Slides (hieroglyph's rules):
//! - First- and second-level section titles start a slide (`#`, `##`); deeper ones stay
//!   inside it. Titles are underlined, or over- and underlined, with any punctuation
//!   character; levels follow the order in which the styles first appear, as in docutils.
//! - `.. note::` is a speaker note. Notes may appear anywhere in a slide; they are moved
//!   to its end (after a `Notes:` paragraph), hidden in the slide view.
//! - `.. nextslide::` starts a new slide with the previous slide's title (or the title
//!   given as its argument; `:increment:` numbers it). `.. slide:: TITLE` is a slide with
//!   its content in the directive (`:level:` 1 or 2, default 2).
//! - `.. ifslides::` / `.. ifnotslides::`: content only in the slide view / only in the
//!   reading view (`<div class="only-slides">` / `<div class="only-reading">`).
//! - `.. demo:: NAME` and a paragraph that is exactly `{{#demo NAME}}` embed a demo;
//!   `.. chart:: DEMO METRIC...` and `{{#chart DEMO METRIC...}}` a chart of its metrics.
//!   `.. code-block:: svgbob` is drawn as a diagram, as in Markdown.
//! - `.. rst-class:: CLASSES` / `.. class::` give the next element (or the directive's
//!   content) those classes; before a title they go on the heading. `.. container::`.
//!
//! Body: paragraphs; bullet lists (`-`, `*`, `+`, `•`) and enumerated lists (`1.`, `(a)`,
//! `iv)`, `#.`), nested; definition lists (tab-indented ones too, with ` : classifier`);
//! field lists; block quotes (with `-- attribution`); line blocks (`| `); simple and grid
//! tables (column spans in grid tables; no row spans); `::` literal blocks (indented or
//! quoted); `.. code-block:: LANG` (also `code`, `sourcecode`; `.. highlight:: LANG`
//! sets the language of later `::` blocks); `.. parsed-literal::`; doctest blocks;
//! transitions (`<hr>`); `.. figure::` and `.. image::` with `:alt:`, `:width:`,
//! `:height:`, `:class:`, `:align:`, `:target:` (`:scale:`, `:name:` accepted), a caption
//! and a legend; admonitions `warning`, `tip`, `caution`, `danger`, `error`, `hint`,
//! `important`, `attention`, `seealso` and `.. admonition:: TITLE`, `topic`, `sidebar`
//! (visible boxes: `<div class="admonition warning">`); `rubric`; `epigraph`,
//! `highlights`, `pull-quote`; `.. raw:: html`; footnotes `.. [1]` / `[1]_`; comments.
//!
//! Inline: `*emphasis*`, `**strong**`, ``` ``literal`` ```, `` `interpreted` `` (a
//! citation), roles (`:emphasis:`, `:strong:`, `:literal:`, `:code:`, `:sub:`, `:sup:`,
//! `:title:`, `:abbr:`, `:kbd:`, `:file:`, `:command:`, `:manpage:`, `:rfc:`, `:pep:`,
//! `:ref:`/`:doc:`/`:term:` as plain text, and a few more); hyperlinks `name_`,
//! `` `a phrase`_ ``, `` `text <https://...>`_ `` (embedded), anonymous `__` with
//! `.. __: URL`, targets `.. _name: URL`, section titles as targets; bare URLs;
//! substitutions `|name|` with `replace::`, `image::` and `unicode::`; backslash escapes.
//!
//! Anything else (an unknown directive or role, bad indentation, a title underline too
//! short, an unmatched `*`) is shown as plainly as possible and reported as a warning
//! with its line; the deck prints warnings, or fails on them in strict mode.
//!
//! # Why our own reader
//!
//! The Rust candidates do not fit: `rst_parser`/`rst_renderer` (the rust-rst project,
//! 0.4) is a pest grammar with tables commented out, a fixed set of directives (an
//! unknown one such as `nextslide` fails the parse instead of degrading), no line
//! numbers in its tree to report problems at, and PEG backtracking with no bound on its
//! time. Other crates are Sphinx/docutils wrappers (needing Python) or abandoned
//! fragments. This reader is small, keeps every line number, never fails (every input
//! renders), and runs in linear time; it is fuzzed (see `xtask/deck/fuzz`).

mod block;
mod inline;

use crate::slides::{Problem, parse_chart_directive, parse_demo_directive};
use block::{Block, Cell, Kind, Line, Reader, Sequence};
use inline::{Inline, Mode, escape_html};

/// An rST chapter as Markdown, with where each output line came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub markdown: String,
    /// The 1-based rST line of each Markdown line (index 0 is Markdown line 1).
    pub line_map: Vec<usize>,
    /// Things not understood, at their rST line; they render as plainly as possible.
    pub warnings: Vec<Problem>,
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

/// Converts a chapter whose images' root-relative paths (`/_static/x.png`) are relative
/// to the book's source root and the chapter is at the root.
pub fn to_markdown(src: &str) -> Converted {
    to_markdown_at(src, "")
}

/// As [`to_markdown`], for a chapter `depth` directories below the source root: `root`
/// is the prefix that leads back to it (`"../"` per level).
pub fn to_markdown_at(src: &str, root: &str) -> Converted {
    let expanded: Vec<String> = src.split('\n').map(expand_line).collect();
    let lines: Vec<Line> = expanded
        .iter()
        .enumerate()
        .map(|(n, text)| Line {
            text: text.as_str(),
            no: n + 1,
        })
        .collect();
    let mut reader = Reader::new();
    let blocks = reader.document(&lines);
    let mut warnings = std::mem::take(&mut reader.warnings);
    let refs = reader.refs;
    let budget = 4 * src.len() + 65_536;
    let mut render = Render {
        inline: Inline::new(&refs, root, budget),
        notes: Out::default(),
        slide_title: None,
        increment: 1,
    };
    let mut out = Out::default();
    render.blocks(&mut out, &blocks, true, false);
    render.flush_notes(&mut out);
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
    }
}

/// Tabs to spaces (stops every 8 columns) and other whitespace to spaces, as docutils.
fn expand_line(line: &str) -> String {
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

/// Output lines, each with the rST line it came from.
#[derive(Debug, Default)]
struct Out(Vec<(String, usize)>);

impl Out {
    fn last_line(&self) -> usize {
        self.0.last().map_or(1, |l| l.1)
    }
    fn line(&mut self, text: impl Into<String>, no: usize) {
        self.0.push((text.into(), no));
    }
    /// A blank line, unless there is one already (or nothing yet).
    fn blank(&mut self) {
        if self.0.last().is_some_and(|l| !l.0.is_empty()) {
            let no = self.last_line();
            self.0.push((String::new(), no));
        }
    }
    /// Multi-line text, one output line per line, numbered from `no`.
    fn text(&mut self, text: &str, no: usize) {
        for (k, l) in text.split('\n').enumerate() {
            self.0.push((l.trim_end().to_string(), no + k));
        }
    }
    /// Another output, its first line prefixed by `first` and the others by `rest`
    /// (blank lines stay blank when `rest` is only spaces).
    fn nest(&mut self, other: Out, first: &str, rest: &str) {
        let blank_rest = rest.trim_end();
        for (k, (text, no)) in other.0.into_iter().enumerate() {
            let prefix = if k == 0 { first } else { rest };
            let line = if text.is_empty() {
                if k == 0 {
                    first.trim_end().to_string()
                } else {
                    blank_rest.to_string()
                }
            } else {
                format!("{prefix}{text}")
            };
            self.0.push((line, no));
        }
    }
    fn append(&mut self, other: Out) {
        self.0.extend(other.0);
    }
    /// `open`, a blank line, `body` as Markdown, a blank line, `close`: HTML around
    /// Markdown that still renders.
    fn wrap(&mut self, open: &str, body: Out, close: &str, no: usize) {
        self.line(open, no);
        self.line("", no);
        let end = body.0.last().map_or(no, |l| l.1);
        self.append(body);
        self.blank();
        self.line(close, end);
    }
}

struct Render<'r> {
    inline: Inline<'r>,
    notes: Out,
    /// The current slide's heading level and title, for `nextslide`.
    slide_title: Option<(usize, String)>,
    increment: usize,
}

fn is_slide_start(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Title { level: 1 | 2, .. } | Kind::NextSlide { .. } | Kind::Slide { .. }
    )
}

/// Whether a list renders tight (no paragraphs in its items): every item is at most a
/// paragraph and a nested list that can interrupt it (a bullet list, or one counting
/// from 1).
fn is_tight(items: &[Vec<Block>]) -> bool {
    items.iter().all(|item| match item.as_slice() {
        [] => true,
        [first, rest @ ..] => {
            matches!(first.kind, Kind::Para(_))
                && rest.len() <= 1
                && rest.iter().all(|b| {
                    matches!(
                        b.kind,
                        Kind::Bullets(_)
                            | Kind::Enumerated {
                                sequence: Sequence::Arabic,
                                start: 1,
                                ..
                            }
                    )
                })
        }
    })
}

fn heading_classes(classes: &[String]) -> String {
    if classes.is_empty() {
        return String::new();
    }
    let list: Vec<String> = classes.iter().map(|c| format!(".{c}")).collect();
    format!(" {{{}}}", list.join(" "))
}

fn admonition_title(class: &str) -> String {
    match class {
        "seealso" => "See also".to_string(),
        c => {
            let mut chars = c.chars();
            chars.next().map_or(String::new(), |f| {
                f.to_uppercase().collect::<String>() + chars.as_str()
            })
        }
    }
}

impl Render<'_> {
    fn flush_notes(&mut self, out: &mut Out) {
        if self.notes.0.is_empty() {
            return;
        }
        let notes = std::mem::take(&mut self.notes);
        let no = notes.0.first().map_or(out.last_line(), |l| l.1);
        out.blank();
        out.line("Notes:", no);
        out.line("", no);
        out.append(notes);
    }

    fn blocks(&mut self, out: &mut Out, blocks: &[Block], top: bool, tight: bool) {
        let mut previous: Option<&Kind> = None;
        let mut alternate = false;
        for b in blocks {
            if top && is_slide_start(&b.kind) {
                self.flush_notes(out);
            }
            if !tight {
                out.blank();
            }
            // Lists in a row stay separate lists: each uses the other marker.
            alternate = matches!(
                (previous, &b.kind),
                (Some(Kind::Bullets(_)), Kind::Bullets(_))
                    | (Some(Kind::Enumerated { .. }), Kind::Enumerated { .. })
            ) && !alternate;
            self.block(out, b, top, alternate);
            if !matches!(b.kind, Kind::Note(_)) {
                previous = Some(&b.kind);
            }
        }
    }

    fn para(&mut self, out: &mut Out, t: &block::Text) {
        let trimmed = t.text.trim();
        if parse_demo_directive(trimmed).is_some() || parse_chart_directive(trimmed).is_some() {
            out.text(trimmed, t.line);
            return;
        }
        let mut md = self.inline.render(t, Mode::Markdown);
        if md.trim() == "Notes:" {
            // Text, not the marker that starts speaker notes.
            md.push('\u{200B}');
        }
        out.text(&md, t.line);
    }

    /// Inline text for an HTML block (one or more lines).
    fn html(&mut self, t: &block::Text) -> String {
        self.inline.render(t, Mode::Html)
    }

    fn sub(&mut self, blocks: &[Block]) -> Out {
        let mut o = Out::default();
        self.blocks(&mut o, blocks, false, false);
        o
    }

    /// A list item's blocks; in a tight list, a nested list follows its paragraph
    /// without a blank line.
    fn item(&mut self, blocks: &[Block], tight: bool) -> Out {
        let mut o = Out::default();
        self.blocks(&mut o, blocks, false, tight);
        o
    }

    fn heading(&mut self, out: &mut Out, level: usize, text: &str, classes: &[String], no: usize) {
        let hashes = "#".repeat(level.clamp(1, 6));
        out.line(format!("{hashes} {text}{}", heading_classes(classes)), no);
        if level <= 2 {
            self.slide_title = Some((level, text.to_string()));
            self.increment = 1;
        }
    }

    fn block(&mut self, out: &mut Out, b: &Block, top: bool, alternate: bool) {
        let no = b.line;
        match &b.kind {
            Kind::Para(t) => self.para(out, t),
            Kind::Title {
                level,
                text,
                classes,
            } => {
                let text = self.inline.render(text, Mode::Heading).replace('\n', " ");
                self.heading(out, *level, &text, classes, no);
            }
            Kind::Bullets(items) => {
                let marker = if alternate { "*" } else { "-" };
                let tight = is_tight(items);
                for (k, item) in items.iter().enumerate() {
                    if k > 0 && !tight {
                        out.blank();
                    }
                    let body = self.item(item, tight);
                    if body.0.is_empty() {
                        out.line(marker, no);
                    } else {
                        out.nest(body, &format!("{marker} "), "  ");
                    }
                }
            }
            Kind::Enumerated {
                sequence,
                start,
                items,
            } => self.enumerated(out, *sequence, *start, items, alternate, no),
            Kind::Definitions(items) => {
                out.line("<dl>", no);
                for item in items {
                    let mut term = self.html(&item.term);
                    for c in &item.classifiers {
                        term.push_str(&format!(
                            " <span class=\"classifier-delimiter\">:</span> <span class=\"classifier\">{}</span>",
                            self.html(c)
                        ));
                    }
                    out.text(&format!("<dt>{term}</dt>"), item.term.line);
                    let body = self.sub(&item.body);
                    out.wrap("<dd>", body, "</dd>", item.term.line);
                }
                out.line("</dl>", out.last_line());
            }
            Kind::Fields(items) => {
                out.line("<dl class=\"field-list\">", no);
                for (name, body) in items {
                    let name_html = self.html(name);
                    out.line(format!("<dt>{name_html}</dt>"), name.line);
                    let body = self.sub(body);
                    out.wrap("<dd>", body, "</dd>", name.line);
                }
                out.line("</dl>", out.last_line());
            }
            Kind::Quote {
                body,
                attribution,
                class,
            } => {
                let mut inner = self.sub(body);
                if let Some(a) = attribution {
                    inner.blank();
                    let a_html = self.html(a);
                    inner.text(&format!("<p class=\"attribution\">— {a_html}</p>"), a.line);
                }
                if *class == "blockquote" {
                    let from = out.0.len();
                    out.nest(inner, "> ", "> ");
                    for l in &mut out.0[from..] {
                        if l.0 == "> " {
                            l.0 = ">".into();
                        }
                    }
                } else {
                    out.wrap(
                        &format!("<blockquote class=\"{class}\">"),
                        inner,
                        "</blockquote>",
                        no,
                    );
                }
            }
            Kind::LineBlock(lines) => {
                out.line("<div class=\"line-block\">", no);
                for (indent, t) in lines {
                    let pad = "&nbsp;".repeat(*indent);
                    if t.text.is_empty() {
                        out.line("<div class=\"line\"><br></div>", t.line);
                    } else {
                        let h = self.html(t);
                        out.text(&format!("<div class=\"line\">{pad}{h}</div>"), t.line);
                    }
                }
                out.line("</div>", out.last_line());
            }
            Kind::Literal { lang, text } => {
                let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
                let fence = "`".repeat(longest.max(2) + 1);
                let info: String = lang
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || "_+#.-".contains(*c))
                    .collect();
                out.line(format!("{fence}{info}"), no.saturating_sub(1).max(1));
                out.text(text, no);
                out.line(fence, out.last_line());
            }
            Kind::ParsedLiteral(t) => {
                let h = self.html(t);
                out.text(&format!("<pre class=\"parsed-literal\">{h}</pre>"), t.line);
            }
            Kind::Table { head, body } => {
                out.line("<table>", no);
                for (section, rows, cell) in [("thead", head, "th"), ("tbody", body, "td")] {
                    if rows.is_empty() {
                        continue;
                    }
                    out.line(format!("<{section}>"), out.last_line());
                    for row in rows {
                        out.line("<tr>", out.last_line());
                        for c in row {
                            self.cell(out, c, cell);
                        }
                        out.line("</tr>", out.last_line());
                    }
                    out.line(format!("</{section}>"), out.last_line());
                }
                out.line("</table>", out.last_line());
            }
            Kind::Note(body) => {
                let inner = self.sub(body);
                self.notes.blank();
                self.notes.append(inner);
            }
            Kind::Admonition { class, title, body } => {
                let kind = class.split(' ').next().unwrap_or("admonition");
                let title_html = match title {
                    Some(t) => self.html(t),
                    None => admonition_title(kind),
                };
                let inner = self.sub(body);
                out.line(
                    format!("<div class=\"admonition {}\">", escape_html(class)),
                    no,
                );
                out.line(
                    format!(
                        "<p class=\"admonition-title\">{}</p>",
                        title_html.replace('\n', " ")
                    ),
                    no,
                );
                out.line("", no);
                let end = inner.0.last().map_or(no, |l| l.1);
                out.append(inner);
                out.blank();
                out.line("</div>", end);
            }
            Kind::Embed(directive) => out.line(directive.as_str(), no),
            Kind::Only { slides, body } => {
                let class = if *slides {
                    "only-slides"
                } else {
                    "only-reading"
                };
                let inner = self.sub(body);
                out.wrap(&format!("<div class=\"{class}\">"), inner, "</div>", no);
            }
            Kind::Figure {
                image,
                class,
                caption,
                legend,
            } => {
                let mut classes = vec!["figure".to_string()];
                classes.extend(class.iter().cloned());
                classes.extend(image.classes.iter().cloned());
                let img = self.inline.img(image);
                out.line(
                    format!("<figure class=\"{}\">", escape_html(&classes.join(" "))),
                    no,
                );
                out.line(img, no);
                if let Some(c) = caption {
                    let h = self.html(c);
                    out.text(&format!("<figcaption>{h}</figcaption>"), c.line);
                }
                if !legend.is_empty() {
                    let inner = self.sub(legend);
                    out.wrap("<div class=\"legend\">", inner, "</div>", no);
                }
                out.line("</figure>", out.last_line());
            }
            Kind::Image(image) => {
                let img = self.inline.img(image);
                out.line(format!("<div class=\"image\">{img}</div>"), no);
            }
            Kind::NextSlide {
                title,
                increment,
                classes,
            } => {
                if !top {
                    self.warn(no, "`nextslide` inside another element is ignored");
                    return;
                }
                let Some((level, current)) = self.slide_title.clone() else {
                    if let Some(t) = title {
                        let text = self.inline.render(t, Mode::Heading).replace('\n', " ");
                        self.heading(out, 2, &text, classes, no);
                    } else {
                        self.warn(
                            no,
                            "`nextslide` before any slide title; starts an untitled slide",
                        );
                        out.line("---", no);
                    }
                    return;
                };
                let mut text = match title {
                    Some(t) => self.inline.render(t, Mode::Heading).replace('\n', " "),
                    None => current.clone(),
                };
                let count = self.increment + 1;
                if *increment {
                    text = format!("{text} ({count})");
                }
                out.line(
                    format!("{} {text}{}", "#".repeat(level), heading_classes(classes)),
                    no,
                );
                // The next `nextslide` continues the same base title.
                self.increment = count;
                if title.is_some() {
                    self.slide_title = Some((level, text));
                    self.increment = 1;
                }
            }
            Kind::Slide {
                title,
                level,
                classes,
                body,
            } => {
                let text = self.inline.render(title, Mode::Heading).replace('\n', " ");
                if top {
                    self.heading(out, *level, &text, classes, no);
                } else {
                    self.warn(
                        no,
                        "`slide` inside another element; its title is shown as text",
                    );
                    out.line(format!("**{text}**"), no);
                }
                let inner = self.sub(body);
                out.blank();
                out.append(inner);
            }
            Kind::Classed { classes, body } => {
                let inner = self.sub(body);
                out.wrap(
                    &format!("<div class=\"{}\">", escape_html(&classes.join(" "))),
                    inner,
                    "</div>",
                    no,
                );
            }
            Kind::Raw(html) => out.text(html, no),
            Kind::Rubric(t) => {
                let h = self.html(t);
                out.text(&format!("<p class=\"rubric\">{h}</p>"), t.line);
            }
            Kind::Transition => out.line("<hr class=\"transition\">", no),
            Kind::Footnote { label, body } => {
                let inner = self.sub(body);
                out.line("<div class=\"footnote\">", no);
                out.line(
                    format!(
                        "<span class=\"footnote-label\">[{}]</span>",
                        escape_html(label)
                    ),
                    no,
                );
                out.line("", no);
                out.append(inner);
                out.blank();
                out.line("</div>", out.last_line());
            }
        }
    }

    fn warn(&mut self, line: usize, message: &str) {
        self.inline.warnings.push(Problem {
            line,
            message: message.to_string(),
        });
    }

    fn cell(&mut self, out: &mut Out, c: &Cell, tag: &str) {
        let span = if c.span > 1 {
            format!(" colspan=\"{}\"", c.span)
        } else {
            String::new()
        };
        let no = out.last_line();
        match c.body.as_slice() {
            [] => out.line(format!("<{tag}{span}></{tag}>"), no),
            [
                Block {
                    kind: Kind::Para(t),
                    ..
                },
            ] => {
                let h = self.html(t);
                out.text(&format!("<{tag}{span}>{h}</{tag}>"), t.line);
            }
            blocks => {
                let inner = self.sub(blocks);
                let first = blocks[0].line;
                out.wrap(
                    &format!("<{tag}{span}>"),
                    inner,
                    &format!("</{tag}>"),
                    first,
                );
            }
        }
    }

    fn enumerated(
        &mut self,
        out: &mut Out,
        sequence: Sequence,
        start: u32,
        items: &[Vec<Block>],
        alternate: bool,
        no: usize,
    ) {
        let tight = is_tight(items);
        if sequence == Sequence::Arabic {
            let delim = if alternate { ")" } else { "." };
            for (k, item) in items.iter().enumerate() {
                if k > 0 && !tight {
                    out.blank();
                }
                let n = u64::from(start) + k as u64;
                let marker = format!("{n}{delim} ");
                let body = self.item(item, tight);
                if body.0.is_empty() {
                    out.line(marker.trim_end(), no);
                } else {
                    out.nest(body, &marker, &" ".repeat(marker.len()));
                }
            }
            return;
        }
        let kind = match sequence {
            Sequence::LowerAlpha => "a",
            Sequence::UpperAlpha => "A",
            Sequence::LowerRoman => "i",
            Sequence::UpperRoman => "I",
            Sequence::Arabic => "1",
        };
        out.line(format!("<ol type=\"{kind}\" start=\"{start}\">"), no);
        for item in items {
            if let [
                Block {
                    kind: Kind::Para(t),
                    ..
                },
            ] = item.as_slice()
                && tight
            {
                let h = self.html(t);
                out.text(&format!("<li>{h}</li>"), t.line);
                continue;
            }
            let body = self.sub(item);
            let first = item.first().map_or(no, |b| b.line);
            out.wrap("<li>", body, "</li>", first);
        }
        out.line("</ol>", out.last_line());
    }
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
}
