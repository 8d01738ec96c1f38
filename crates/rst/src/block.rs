//! Body elements: from lines to a tree of blocks, the way docutils' state machine reads
//! them (indentation decides nesting; a blank line ends most constructs).
//!
//! Text inside blocks is kept raw (inline markup is read when rendering, once every
//! hyperlink target and substitution of the document is known).

use std::collections::HashMap;

use super::Problem;

/// How deep blocks may nest before the rest is shown as literal text. Bounds the
/// work (each level copies its line list), so time stays linear in the input.
pub(crate) const MAX_DEPTH: usize = 24;

/// One line of input: its text (indentation relative to the enclosing block) and its
/// 1-based line number in the source file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub text: &'a str,
    pub no: usize,
}

/// Lines numbered from 1, as a chapter's are (`lib.rs` expands them first).
pub(crate) fn numbered<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Line<'a>> {
    texts
        .into_iter()
        .enumerate()
        .map(|(n, text)| Line { text, no: n + 1 })
        .collect()
}

impl Line<'_> {
    pub(crate) fn blank(&self) -> bool {
        self.text.trim().is_empty()
    }
    fn indent(&self) -> usize {
        self.text.len() - self.text.trim_start_matches(' ').len()
    }
}

/// Raw inline text, lines joined with `\n`, and the source line of its first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text {
    pub text: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Image {
    pub uri: String,
    pub alt: Option<String>,
    pub width: Option<String>,
    pub height: Option<String>,
    pub classes: Vec<String>,
    pub align: Option<String>,
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cell {
    pub span: usize,
    /// Rows the cell spans.
    pub rows: usize,
    pub body: Vec<Block>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sequence {
    Arabic,
    LowerAlpha,
    UpperAlpha,
    LowerRoman,
    UpperRoman,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DefItem {
    pub term: Text,
    pub classifiers: Vec<Text>,
    pub body: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Para(Text),
    Title {
        level: usize,
        text: Text,
        classes: Vec<String>,
    },
    Bullets(Vec<Vec<Block>>),
    Enumerated {
        sequence: Sequence,
        start: u32,
        items: Vec<Vec<Block>>,
    },
    Definitions(Vec<DefItem>),
    Fields(Vec<(Text, Vec<Block>)>),
    /// An option list: (options as written, description).
    Options(Vec<(Text, Vec<Block>)>),
    Quote {
        body: Vec<Block>,
        attribution: Option<Text>,
        class: &'static str,
    },
    LineBlock(Vec<(usize, Text)>),
    Literal(Literal),
    ParsedLiteral(Text),
    Table {
        head: Vec<Vec<Cell>>,
        body: Vec<Vec<Cell>>,
    },
    Note(Vec<Block>),
    Admonition {
        class: String,
        title: Option<Text>,
        body: Vec<Block>,
    },
    /// A deck embed as its Markdown directive (`{{#demo NAME}}`, `{{#chart ...}}`).
    Embed(String),
    Only {
        slides: bool,
        body: Vec<Block>,
    },
    Figure {
        image: Image,
        class: Vec<String>,
        /// `:figwidth:`.
        width: Option<String>,
        caption: Option<Text>,
        legend: Vec<Block>,
    },
    Image(Image),
    NextSlide {
        title: Option<Text>,
        increment: bool,
        classes: Vec<String>,
    },
    Slide {
        title: Option<Text>,
        /// `:level:`; the current section's level when not given.
        level: Option<usize>,
        classes: Vec<String>,
        body: Vec<Block>,
    },
    Classed {
        classes: Vec<String>,
        body: Vec<Block>,
    },
    Raw(String),
    Rubric(Text),
    Transition,
    Footnote {
        label: String,
        body: Vec<Block>,
    },
    Centered(Text),
    /// LaTeX source of a `math` block.
    Math(String),
    /// The entries of a visible `toctree`.
    Toctree(Vec<Text>),
    /// A table of contents of the document's titles.
    Contents {
        title: Option<String>,
        depth: usize,
        /// `:local:`: only the current section's subsections, no default title.
        local: bool,
    },
    /// An object description (`confval`, `py:class`, autodoc): signature and body.
    Describe {
        class: String,
        signature: String,
        body: Vec<Block>,
    },
}

/// A code block and its Sphinx options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Literal {
    pub lang: Option<String>,
    pub text: String,
    pub caption: Option<Text>,
    /// Line numbers shown, starting here.
    pub numbered_from: Option<usize>,
    /// 1-based lines to highlight.
    pub emphasized: Vec<usize>,
}

/// A directive call as the directive table sees it.
pub(crate) struct Call<'l, 'a> {
    pub name: &'l str,
    /// Arguments, options and content, the first line after the `::`.
    pub inner: &'l [Line<'a>],
    pub line: usize,
    pub depth: usize,
}

impl Call<'_, '_> {
    pub(crate) fn push(&self, out: &mut Vec<Block>, kind: Kind) {
        out.push(Block {
            line: self.line,
            kind,
        });
    }
}

/// A document's own slide settings (`.. slideconf::`).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SlideConf {
    pub autoslides: Option<bool>,
    pub slide_levels: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub line: usize,
    pub kind: Kind,
}

/// Where a hyperlink target points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Url(String),
    /// Another reference name (`.. _a: b_`).
    Alias(String),
    /// A place in this document (an anchor id).
    Anchor(String),
}

/// What a substitution definition stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Substitution {
    Text(Text),
    Image(Image),
    /// `raw:: html` content, inserted as it is.
    Raw(String),
}

/// Definitions collected while reading blocks, used when rendering inline text.
#[derive(Debug, Default)]
pub(crate) struct Refs {
    pub targets: HashMap<String, Target>,
    pub anonymous: Vec<Target>,
    pub substitutions: HashMap<String, Substitution>,
    /// Auto-numbered footnotes (`.. [#]`, `.. [#label]`) in order, with their numbers.
    pub auto_footnotes: Vec<(String, u32)>,
    /// Labels (`.. _label:`) right before a section title: the title, for `:ref:`.
    pub section_labels: HashMap<String, String>,
    /// Labels of the book's other chapters: (title, path from the book root with `#id`).
    pub external: HashMap<String, (String, String)>,
    /// The book's chapters by path without extension: (title, path from the root).
    pub docs: HashMap<String, (String, String)>,
}

/// Reference names compare without case and with whitespace collapsed.
pub(crate) fn normalize_name(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// An anchor id the way mdBook makes heading ids (`id_from_content` in mdbook-html
/// 0.5's `src/utils.rs`): the whole text lowercased first, with Unicode's rules (`Ü` is
/// `ü`, a word-final `Σ` is `ς`), then letters, digits, `_` and `-` kept and whitespace
/// made `-`.
pub(crate) fn slug(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Whether `c` may adorn a section title (any printable 7-bit non-alphanumeric).
fn is_adornment(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// A line made of one adornment character repeated (trailing spaces allowed).
fn adornment_line(text: &str) -> Option<(char, usize)> {
    let t = text.trim_end();
    let c = t.chars().next()?;
    if !is_adornment(c) || !t.chars().all(|x| x == c) {
        return None;
    }
    Some((c, t.len()))
}

/// Display width of a title, counting characters.
fn width(text: &str) -> usize {
    text.trim_end().chars().count()
}

fn directive_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '+')
}

/// `NAME::` at the start of `s` (after `.. `): the name and what follows the `::`.
fn split_directive(s: &str) -> Option<(&str, &str)> {
    let end = s.find("::")?;
    let name = &s[..end];
    let first = name.chars().next()?;
    if !first.is_ascii_alphanumeric() || !name.chars().all(directive_name_char) {
        return None;
    }
    let rest = &s[end + 2..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((name, rest.trim_start()))
}

/// A directive's parts: arguments, options, and content lines.
pub(crate) struct Directive<'a> {
    pub args: String,
    pub options: Vec<(String, String, usize)>,
    pub content: Vec<Line<'a>>,
}

pub(crate) struct Reader {
    /// Title adornment styles in the order they appeared: (char, overlined).
    styles: Vec<(char, bool)>,
    level: usize,
    pub default_lang: Option<String>,
    pub slideconf: SlideConf,
    pub refs: Refs,
    pub warnings: Vec<Problem>,
    /// Titles seen, for implicit hyperlink targets.
    titles: Vec<String>,
    /// Where the chapter is, for `include`; `None` without a book.
    pub files: Option<super::include::Files>,
    /// How many includes deep the reader is.
    pub include_depth: usize,
    /// What stops the build (an include outside the book), at its line.
    pub errors: Vec<Problem>,
    /// Errors docutils reports and goes on after (an unknown directive, a missing
    /// include): the build goes on, except in strict mode.
    pub reported: Vec<Problem>,
    /// Whether `graphviz` may run `dot`.
    pub graphviz: bool,
    /// Labels (`.. _name:`) waiting for the title they may stand before.
    pending_labels: Vec<String>,
    /// Numbers of manually numbered footnotes (`.. [3]`).
    manual_footnotes: std::collections::HashSet<u32>,
}

fn blank_finish(lines: &[Line], next: usize) -> bool {
    next >= lines.len() || lines[next].blank()
}

/// The lines of an indented block starting at `start`: the first line cut at byte
/// `first` (when known), then every following line that is blank or indented, with the
/// smallest indentation of those removed. Returns the block and the index of the first
/// line after it (trailing blank lines are not part of it).
fn indented<'a>(lines: &[Line<'a>], start: usize, first: Option<usize>) -> (Vec<Line<'a>>, usize) {
    let from = if first.is_some() { start + 1 } else { start };
    let mut end = from;
    let mut last = from;
    let mut min = usize::MAX;
    while end < lines.len() {
        let l = &lines[end];
        if l.blank() {
            end += 1;
            continue;
        }
        let ind = l.indent();
        if ind == 0 {
            break;
        }
        min = min.min(ind);
        end += 1;
        last = end;
    }
    let mut out = Vec::with_capacity(last - start + 1);
    if let Some(cut) = first {
        let t = lines[start].text;
        let cut = cut.min(t.len());
        let text = if t.is_char_boundary(cut) {
            &t[cut..]
        } else {
            ""
        };
        out.push(Line {
            text,
            no: lines[start].no,
        });
    }
    for l in &lines[from..last] {
        let text = if l.blank() { "" } else { &l.text[min..] };
        out.push(Line { text, no: l.no });
    }
    (out, last)
}

/// One option of an option list: `-a`, `-a ARG`, `--long`, `--long=ARG`, `/V`, `+o`.
fn is_option(s: &str) -> bool {
    let (name, arg) = match s.find([' ', '=']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let body = name
        .strip_prefix("--")
        .or_else(|| name.strip_prefix('-'))
        .or_else(|| name.strip_prefix('/'))
        .or_else(|| name.strip_prefix('+'));
    let Some(body) = body else {
        return false;
    };
    let short = !name.starts_with("--");
    let name_ok = body
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && (!short || body.chars().count() == 1 || name.starts_with('/'));
    let arg_ok = arg.is_none_or(|a| {
        !a.is_empty() && (a.starts_with('<') && a.ends_with('>') || !a.contains(' '))
    });
    name_ok && arg_ok
}

/// The option group at the start of line `i` and where its description starts, if
/// the line is an option list item: options separated by `, `, then two spaces and the
/// description, or the description on the indented line below.
fn option_group<'a>(lines: &[Line<'a>], i: usize) -> Option<(&'a str, usize)> {
    let t = lines[i].text;
    if !t.starts_with(['-', '/', '+']) || t.starts_with("- ") || t.starts_with("+ ") {
        return None;
    }
    let end = t.find("  ").unwrap_or(t.trim_end().len());
    let group = &t[..end];
    if !group.split(", ").all(is_option) {
        return None;
    }
    let rest = t[end..].trim_start();
    if rest.is_empty() {
        let next = lines.get(i + 1)?;
        if next.blank() || next.indent() == 0 {
            return None;
        }
        return Some((group, t.len()));
    }
    Some((group, t.len() - rest.len()))
}

/// A list item's lines (docutils' `list_item`): with text after the marker, every
/// line is indented by exactly the marker's width (`len`), and a line indented less
/// ends the item; with nothing after it, the smallest indentation of the lines after.
fn item_lines<'a>(lines: &[Line<'a>], start: usize, len: usize) -> (Vec<Line<'a>>, usize) {
    let first = lines[start].text;
    if first.len() <= len || first[len.min(first.len())..].trim().is_empty() {
        return indented(lines, start, Some(len));
    }
    let mut end = start + 1;
    let mut last = end;
    while end < lines.len() {
        let l = &lines[end];
        if !l.blank() {
            if l.indent() < len {
                break;
            }
            last = end + 1;
        }
        end += 1;
    }
    let mut out = Vec::with_capacity(last - start);
    let text = if first.is_char_boundary(len) {
        &first[len..]
    } else {
        ""
    };
    out.push(Line {
        text,
        no: lines[start].no,
    });
    for l in &lines[start + 1..last] {
        let text = if l.blank() { "" } else { &l.text[len..] };
        out.push(Line { text, no: l.no });
    }
    (out, last)
}

pub(crate) fn trim_blank_edges<'a>(mut lines: Vec<Line<'a>>) -> Vec<Line<'a>> {
    while lines.last().is_some_and(|l| l.blank()) {
        lines.pop();
    }
    let lead = lines.iter().take_while(|l| l.blank()).count();
    lines.drain(..lead);
    lines
}

pub(crate) fn join(lines: &[Line]) -> String {
    let mut s = String::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        s.push_str(l.text.trim_end());
    }
    s
}

/// Removes the smallest indentation from non-blank lines.
pub(crate) fn dedent<'a>(lines: &[Line<'a>]) -> Vec<Line<'a>> {
    let min = lines
        .iter()
        .filter(|l| !l.blank())
        .map(|l| l.indent())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| Line {
            text: if l.blank() { "" } else { &l.text[min..] },
            no: l.no,
        })
        .collect()
}

/// A bullet at the start of a line: its byte length including the space after it.
fn bullet(text: &str) -> Option<(char, usize)> {
    let c = text.chars().next()?;
    if !matches!(c, '*' | '+' | '-' | '•' | '‣' | '⁃') {
        return None;
    }
    let rest = &text[c.len_utf8()..];
    if rest.is_empty() {
        return Some((c, c.len_utf8()));
    }
    if rest.starts_with(' ') {
        let spaces = rest.len() - rest.trim_start_matches(' ').len();
        return Some((c, c.len_utf8() + spaces));
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EnumFormat {
    Period,
    Paren,
    Parens,
}

struct Enumerator {
    format: EnumFormat,
    sequence: Option<Sequence>,
    ordinal: u32,
    /// Byte length including following spaces.
    len: usize,
}

fn roman_value(s: &str) -> Option<u32> {
    let upper = s.to_ascii_uppercase();
    let mut total = 0u32;
    let mut prev = 0u32;
    for c in upper.chars().rev() {
        let v = match c {
            'I' => 1,
            'V' => 5,
            'X' => 10,
            'L' => 50,
            'C' => 100,
            'D' => 500,
            'M' => 1000,
            _ => return None,
        };
        if v < prev {
            total = total.checked_sub(v)?;
        } else {
            total += v;
            prev = v;
        }
    }
    (total > 0 && to_roman(total) == upper).then_some(total)
}

pub(crate) fn to_roman(mut n: u32) -> String {
    let table = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut s = String::new();
    for (v, r) in table {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    s
}

/// An enumerator (`1.`, `(a)`, `iv)`, `#.`) at the start of a line.
fn enumerator(text: &str, expect: Option<Sequence>) -> Option<Enumerator> {
    let (format, body, after) = if let Some(rest) = text.strip_prefix('(') {
        let close = rest.find(')')?;
        (EnumFormat::Parens, &rest[..close], close + 2)
    } else {
        let end = text.find(['.', ')'])?;
        let format = if text.as_bytes()[end] == b'.' {
            EnumFormat::Period
        } else {
            EnumFormat::Paren
        };
        (format, &text[..end], end + 1)
    };
    if body.is_empty() || body.len() > 9 {
        return None;
    }
    let rest = &text[after..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    let spaces = rest.len() - rest.trim_start_matches(' ').len();
    let (sequence, ordinal) = if body == "#" {
        (None, 0)
    } else if body.bytes().all(|b| b.is_ascii_digit()) {
        (Some(Sequence::Arabic), body.parse().ok()?)
    } else {
        let roman_ok = body.chars().all(|c| "ivxlcdmIVXLCDM".contains(c));
        let single = body.chars().count() == 1;
        let lower = body.chars().all(|c| c.is_ascii_lowercase());
        let upper = body.chars().all(|c| c.is_ascii_uppercase());
        let prefer_roman = match expect {
            Some(Sequence::LowerRoman | Sequence::UpperRoman) => true,
            Some(Sequence::LowerAlpha | Sequence::UpperAlpha) => false,
            _ => !single || body == "i" || body == "I",
        };
        if roman_ok && prefer_roman {
            let v = roman_value(body)?;
            (
                Some(if lower {
                    Sequence::LowerRoman
                } else if upper {
                    Sequence::UpperRoman
                } else {
                    return None;
                }),
                v,
            )
        } else if single && lower {
            (
                Some(Sequence::LowerAlpha),
                u32::from(body.as_bytes()[0] - b'a') + 1,
            )
        } else if single && upper {
            (
                Some(Sequence::UpperAlpha),
                u32::from(body.as_bytes()[0] - b'A') + 1,
            )
        } else {
            return None;
        }
    };
    Some(Enumerator {
        format,
        sequence,
        ordinal,
        len: after + spaces,
    })
}

/// docutils' test that an enumerator really starts a list, or an item (any item:
/// `is_enumerated_list_item`): the next line is blank, indented, or the next item:
/// `#.` (in the same format), or the next enumerator of the same sequence (none after
/// `#.`).
fn enumerated_ok(lines: &[Line], i: usize, e: &Enumerator) -> bool {
    let Some(next) = lines.get(i + 1) else {
        return true;
    };
    if next.blank() || next.indent() > 0 {
        return true;
    }
    enumerator(next.text, e.sequence).is_some_and(|n| {
        n.format == e.format
            && (n.sequence.is_none() || (n.sequence == e.sequence && n.ordinal == e.ordinal + 1))
    })
}

/// Explicit markup starts here: `..` alone or followed by a space.
fn explicit_start(t: &str) -> bool {
    t.starts_with("..") && (t.trim_end().len() == 2 || t.as_bytes()[2] == b' ')
}

/// The short form of an anonymous target: `__ URL`, or `__` alone.
fn anonymous_short_form(t: &str) -> bool {
    t.starts_with("__ ") || t.trim_end() == "__"
}

/// `:name: body` at the start of a line: the name and the byte offset of the body.
fn field_marker(text: &str) -> Option<(&str, usize)> {
    let rest = text.strip_prefix(':')?;
    if rest.starts_with(' ') {
        return None;
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b':' => {
                let name = &rest[..i];
                let after = &rest[i + 1..];
                if name.is_empty() || name.ends_with(' ') {
                    return None;
                }
                if after.is_empty() {
                    return Some((name, text.len()));
                }
                if after.starts_with(' ') {
                    let spaces = after.len() - after.trim_start_matches(' ').len();
                    return Some((name, 1 + i + 1 + spaces));
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

pub(crate) fn simple_table_border(text: &str) -> bool {
    let t = text.trim_end();
    t.starts_with('=')
        && t.chars().all(|c| c == '=' || c == ' ')
        && t.split(' ').filter(|s| !s.is_empty()).count() >= 2
}

fn grid_border(text: &str) -> bool {
    let t = text.trim_end();
    t.len() >= 3
        && t.starts_with('+')
        && t.ends_with('+')
        && t.chars().all(|c| matches!(c, '+' | '-' | '='))
        && t.contains(['-', '='])
}

/// The class names of a `:class:` value as docutils makes them (`nodes.make_id`): lower
/// case, every run of characters other than ASCII letters and digits one `-`, no
/// leading digits or dashes, no trailing dash; a name left empty is dropped. (Docutils
/// first folds accented letters to ASCII, `é` to `e`; here they count as other
/// characters.)
pub(crate) fn classes_of(value: &str) -> Vec<String> {
    value
        .split_whitespace()
        .map(|c| {
            let mut id = String::new();
            for ch in c.chars().map(|ch| ch.to_ascii_lowercase()) {
                if ch.is_ascii_alphanumeric() {
                    id.push(ch);
                } else if !id.is_empty() && !id.ends_with('-') {
                    id.push('-');
                }
            }
            let id = id.trim_start_matches(|ch: char| ch.is_ascii_digit() || ch == '-');
            id.trim_end_matches('-').to_string()
        })
        .filter(|id| !id.is_empty())
        .collect()
}

impl Reader {
    pub(crate) fn new() -> Reader {
        Reader {
            styles: Vec::new(),
            level: 0,
            default_lang: None,
            slideconf: SlideConf::default(),
            refs: Refs::default(),
            warnings: Vec::new(),
            titles: Vec::new(),
            files: None,
            include_depth: 0,
            errors: Vec::new(),
            reported: Vec::new(),
            graphviz: true,
            pending_labels: Vec::new(),
            manual_footnotes: std::collections::HashSet::new(),
        }
    }

    pub(crate) fn error(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(Problem {
            line,
            message: message.into(),
        });
    }

    /// An error docutils reports and goes on after.
    pub(crate) fn report(&mut self, line: usize, message: impl Into<String>) {
        self.reported.push(Problem {
            line,
            message: message.into(),
        });
    }

    pub(crate) fn warn(&mut self, line: usize, message: impl Into<String>) {
        self.warnings.push(Problem {
            line,
            message: message.into(),
        });
    }

    /// Reads a whole document.
    pub(crate) fn document(&mut self, lines: &[Line]) -> Vec<Block> {
        let blocks = self.body(lines, 0, true);
        // Docutils' rules for where a transition may be (its `Transitions` transform):
        // not first in the document or a section, not right after another, not last.
        for (k, b) in blocks.iter().enumerate() {
            if !matches!(b.kind, Kind::Transition) {
                continue;
            }
            match k.checked_sub(1).map(|p| &blocks[p].kind) {
                None | Some(Kind::Title { .. }) => self.warn(
                    b.line,
                    "a document or section may not begin with a transition",
                ),
                Some(Kind::Transition) => self.warn(
                    b.line,
                    "at least one body element must separate transitions",
                ),
                _ => {}
            }
            if k + 1 == blocks.len() {
                self.warn(b.line, "a document may not end with a transition");
            }
        }
        // As docutils: auto-numbers skip the numbers manual footnotes use.
        let mut next = 1;
        for (_, n) in &mut self.refs.auto_footnotes {
            while self.manual_footnotes.contains(&next) {
                next += 1;
            }
            *n = next;
            next += 1;
        }
        for title in std::mem::take(&mut self.titles) {
            let name = normalize_name(&title);
            let anchor = Target::Anchor(slug(&title));
            self.refs.targets.entry(name).or_insert(anchor);
        }
        blocks
    }

    /// Reads body elements. Section titles are only allowed at the top level.
    pub(crate) fn body(&mut self, lines: &[Line], depth: usize, titles: bool) -> Vec<Block> {
        let mut out: Vec<Block> = Vec::new();
        if depth > MAX_DEPTH {
            let lines = trim_blank_edges(dedent(lines));
            if let Some(first) = lines.first() {
                self.warn(first.no, "blocks nested too deeply; shown as literal text");
                out.push(Block {
                    line: first.no,
                    kind: Kind::Literal(super::directive::literal(None, join(&lines))),
                });
            }
            return out;
        }
        let mut pending_classes: Option<(Vec<String>, usize)> = None;
        let mut i = 0;
        while i < lines.len() {
            if lines[i].blank() {
                i += 1;
                continue;
            }
            let before = out.len();
            let class_directive_at = i;
            i = self.block(lines, i, depth, titles, &mut out);
            if out.len() > before && !matches!(out[before].kind, Kind::Title { .. }) {
                self.pending_labels.clear();
            }
            // `.. class::` without content applies to the next element.
            if let Some(last) = out.last()
                && out.len() == before + 1
                && let Kind::Classed { classes, body } = &last.kind
                && body.is_empty()
            {
                let classes = classes.clone();
                out.pop();
                // Classes accumulate, as docutils' pending class attributes do.
                match &mut pending_classes {
                    Some((before, _)) => before.extend(classes),
                    None => pending_classes = Some((classes, lines[class_directive_at].no)),
                }
                continue;
            }
            if out.len() > before
                && let Some((classes, _)) = pending_classes.take()
            {
                let first = out.remove(before);
                let rest: Vec<Block> = out.drain(before..).collect();
                let line = first.line;
                let wrapped = match first.kind {
                    Kind::Title {
                        level,
                        text,
                        classes: mut own,
                    } => Block {
                        line,
                        kind: Kind::Title {
                            level,
                            text,
                            classes: {
                                own.extend(classes);
                                own
                            },
                        },
                    },
                    kind => Block {
                        line,
                        kind: Kind::Classed {
                            classes,
                            body: vec![Block { line, kind }],
                        },
                    },
                };
                out.push(wrapped);
                out.extend(rest);
            }
        }
        if let Some((_, line)) = pending_classes {
            self.warn(line, "`class` directive with nothing after it");
        }
        out
    }

    /// Reads one block starting at the non-blank line `i`; returns the next index.
    fn block(
        &mut self,
        lines: &[Line],
        i: usize,
        depth: usize,
        titles: bool,
        out: &mut Vec<Block>,
    ) -> usize {
        let l = lines[i];
        let t = l.text;
        if l.indent() > 0 {
            if i > 0 && !lines[i - 1].blank() {
                self.warn(l.no, "unexpected indentation");
            }
            let (inner, next) = indented(lines, i, None);
            out.push(self.quote(&inner, depth, "blockquote"));
            self.ends_without_blank(lines, next, "block quote");
            return next;
        }
        if explicit_start(t) {
            return self.explicit(lines, i, depth, out);
        }
        if let Some((c, _)) = bullet(t) {
            return self.bullet_list(lines, i, c, depth, out);
        }
        if let Some(e) = enumerator(t, None)
            && enumerated_ok(lines, i, &e)
        {
            return self.enumerated_list(lines, i, depth, out);
        }
        if field_marker(t).is_some() {
            return self.field_list(lines, i, depth, out);
        }
        if option_group(lines, i).is_some() {
            return self.option_list(lines, i, depth, out);
        }
        if t == "|" || t.starts_with("| ") {
            return self.line_block(lines, i, out);
        }
        if grid_border(t) {
            return self.grid_table(lines, i, depth, out);
        }
        if simple_table_border(t) {
            return super::table::simple_table(self, lines, i, depth, out);
        }
        if anonymous_short_form(t) {
            let (block, next) = indented(lines, i, Some(2.min(t.len())));
            self.explicit_ends(lines, next);
            let url = join(&block);
            let target = self.target_value(&url);
            self.refs.anonymous.push(target);
            return next;
        }
        if t.trim_end() == "::" {
            return self.literal_after(lines, i + 1, l.no, out);
        }
        if t.starts_with(">>> ") || t.trim_end() == ">>>" {
            let mut end = i;
            while end < lines.len() && !lines[end].blank() {
                end += 1;
            }
            out.push(Block {
                line: l.no,
                kind: Kind::Literal(super::directive::literal(
                    Some("pycon".into()),
                    join(&lines[i..end]),
                )),
            });
            return end;
        }
        self.titled_or_text(lines, i, depth, titles, out)
    }

    /// An overlined title, a transition, an underlined title, a definition list or a
    /// paragraph, starting at the non-blank line `i`.
    fn titled_or_text(
        &mut self,
        lines: &[Line],
        i: usize,
        depth: usize,
        titles: bool,
        out: &mut Vec<Block>,
    ) -> usize {
        let l = lines[i];
        let t = l.text;
        if let Some((c, len)) = adornment_line(t) {
            // An overlined title: overline, title, underline.
            // As docutils: an overline shorter than its title and than 4 characters
            // makes no title (the lines are text); a longer one too short is reported
            // at the overline.
            if titles
                && i + 2 < lines.len()
                && !lines[i + 1].blank()
                && adornment_line(lines[i + 2].text) == Some((c, len))
                && !(len < 4 && width(lines[i + 1].text.trim()) > len)
            {
                let title = lines[i + 1].text.trim();
                if width(title) > len {
                    self.warn(l.no, "title overline too short");
                }
                self.title(lines[i + 1].no, title, (c, true), out);
                return i + 3;
            }
            // As docutils: 4 or more adornment characters that start a block where no
            // title or transition may be, or with text below them that makes no title,
            // are reported, and the lines are text.
            if len >= 4 {
                let why = if !titles {
                    Some("a section title or transition cannot be nested here")
                } else if i + 1 < lines.len() && !lines[i + 1].blank() {
                    Some(if adornment_line(lines[i + 1].text).is_some() {
                        "invalid section title or transition marker"
                    } else if i + 2 >= lines.len() || adornment_line(lines[i + 2].text).is_none() {
                        "missing matching underline for section title overline"
                    } else {
                        "title overline and underline mismatch"
                    })
                } else {
                    None
                };
                if let Some(why) = why {
                    self.warn(l.no, format!("{why}; shown as text"));
                    return self.paragraph(lines, i, out);
                }
            }
            // As docutils: a block that starts with a line of 4 or more adornment
            // characters and a blank line (or the end) below it is a transition, even
            // right below a list that ends without a blank line.
            let next_blank = i + 1 >= lines.len() || lines[i + 1].blank();
            if len >= 4 && next_blank {
                out.push(Block {
                    line: l.no,
                    kind: Kind::Transition,
                });
                return i + 1;
            }
        }
        // Text: a section title, a definition list, or a paragraph.
        if i + 1 < lines.len() && !lines[i + 1].blank() {
            let next = lines[i + 1];
            if next.indent() == 0
                && let Some((c, len)) = adornment_line(next.text)
                && !(len < 4 && width(t) > len)
            {
                // As docutils: where no title may be, an underline is reported
                // whatever follows it.
                if !titles {
                    self.warn(l.no, "a section title cannot be nested here; shown as text");
                    return self.paragraph(lines, i, out);
                }
                if width(t) > len {
                    self.warn(next.no, "title underline too short");
                }
                self.title(l.no, t.trim(), (c, false), out);
                return i + 2;
            }
            if next.indent() > 0 {
                return self.definition_list(lines, i, depth, out);
            }
        }
        self.paragraph(lines, i, out)
    }

    fn title(&mut self, line: usize, text: &str, style: (char, bool), out: &mut Vec<Block>) {
        let level = match self.styles.iter().position(|s| *s == style) {
            Some(p) => p + 1,
            None => {
                if self.styles.len() > self.level {
                    self.warn(line, "title level inconsistent with the titles before it");
                }
                self.styles.push(style);
                self.styles.len()
            }
        };
        self.level = level;
        self.titles.push(text.to_string());
        for label in std::mem::take(&mut self.pending_labels) {
            self.refs
                .targets
                .insert(label.clone(), Target::Anchor(slug(text)));
            self.refs.section_labels.insert(label, text.to_string());
        }
        out.push(Block {
            line,
            kind: Kind::Title {
                level,
                text: Text {
                    text: text.to_string(),
                    line,
                },
                classes: Vec::new(),
            },
        });
    }

    fn paragraph(&mut self, lines: &[Line], i: usize, out: &mut Vec<Block>) -> usize {
        let mut end = i + 1;
        while end < lines.len() && !lines[end].blank() && lines[end].indent() == 0 {
            end += 1;
        }
        let mut text = join(&lines[i..end]);
        let line = lines[i].no;
        let literal_follows = text.ends_with("::");
        if literal_follows {
            text.truncate(text.len() - 2);
            if text.ends_with([' ', '\n']) {
                text = text.trim_end().to_string();
            } else {
                text.push(':');
            }
        }
        if !text.trim().is_empty() {
            out.push(Block {
                line,
                kind: Kind::Para(Text { text, line }),
            });
        }
        if literal_follows {
            return self.literal_after(lines, end, lines[end - 1].no, out);
        }
        end
    }

    /// The literal block announced by `::` on the line before `i`.
    fn literal_after(
        &mut self,
        lines: &[Line],
        i: usize,
        marker: usize,
        out: &mut Vec<Block>,
    ) -> usize {
        let mut j = i;
        while j < lines.len() && lines[j].blank() {
            j += 1;
        }
        if j >= lines.len() {
            self.warn(marker, "literal block expected after `::`; none found");
            return j;
        }
        if lines[j].indent() > 0 {
            let (block, next) = indented(lines, j, None);
            out.push(Block {
                line: lines[j].no,
                kind: Kind::Literal(super::directive::literal(
                    self.default_lang.clone(),
                    join(&block),
                )),
            });
            return next;
        }
        // A quoted literal block: every line starts with the same punctuation.
        let q = lines[j].text.chars().next().filter(|c| is_adornment(*c));
        if let Some(q) = q {
            let mut end = j;
            while end < lines.len() && lines[end].text.starts_with(q) {
                end += 1;
            }
            out.push(Block {
                line: lines[j].no,
                kind: Kind::Literal(super::directive::literal(None, join(&lines[j..end]))),
            });
            return end;
        }
        self.warn(marker, "literal block expected after `::`; none found");
        j
    }

    pub(crate) fn quote(&mut self, inner: &[Line], depth: usize, class: &'static str) -> Block {
        let line = inner.first().map_or(0, |l| l.no);
        let mut body = self.body(inner, depth + 1, false);
        let mut attribution = None;
        if let Some(Block {
            kind: Kind::Para(t),
            ..
        }) = body.last()
        {
            let stripped = ["-- ", "--- ", "— "]
                .iter()
                .find_map(|p| t.text.strip_prefix(p));
            if let Some(rest) = stripped
                && body.len() > 1
            {
                attribution = Some(Text {
                    text: rest.to_string(),
                    line: t.line,
                });
                body.pop();
            }
        }
        Block {
            line,
            kind: Kind::Quote {
                body,
                attribution,
                class,
            },
        }
    }

    /// Docutils' warning when explicit markup (or a run of it, each construct right
    /// below the one before) ends at a line that is not blank.
    fn explicit_ends(&mut self, lines: &[Line], next: usize) {
        let Some(l) = lines.get(next) else {
            return;
        };
        if !explicit_start(l.text) && !anonymous_short_form(l.text) {
            self.ends_without_blank(lines, next, "explicit markup");
        }
    }

    fn ends_without_blank(&mut self, lines: &[Line], next: usize, what: &str) {
        if !blank_finish(lines, next) {
            self.warn(
                lines[next].no,
                format!("{what} ends without a blank line; unexpected unindent"),
            );
        }
    }

    /// The loop every list shares: `item` reads the item at line `i` (or `None`: the
    /// list ended before it) and gives the line after it; blank lines between items are
    /// skipped while `continues` says that another item starts after them. A list that
    /// ends without a blank line gets docutils' warning. The items and the line after
    /// the list.
    fn list<T>(
        &mut self,
        lines: &[Line],
        mut i: usize,
        what: &str,
        mut item: impl FnMut(&mut Self, usize) -> Option<(T, usize)>,
        continues: impl Fn(usize) -> bool,
    ) -> (Vec<T>, usize) {
        let mut items = Vec::new();
        while let Some((read, next)) = item(self, i) {
            items.push(read);
            i = next;
            let mut j = i;
            while j < lines.len() && lines[j].blank() {
                j += 1;
            }
            if j < lines.len() && continues(j) {
                i = j;
                continue;
            }
            self.ends_without_blank(lines, i, what);
            break;
        }
        (items, i)
    }

    fn bullet_list(
        &mut self,
        lines: &[Line],
        i: usize,
        c: char,
        depth: usize,
        out: &mut Vec<Block>,
    ) -> usize {
        let line = lines[i].no;
        let (items, i) = self.list(
            lines,
            i,
            "bullet list",
            |r, i| {
                let (_, len) = bullet(lines[i].text).filter(|(b, _)| *b == c)?;
                let (item, next) = item_lines(lines, i, len);
                Some((r.body(&item, depth + 1, false), next))
            },
            |j| bullet(lines[j].text).is_some_and(|(b, _)| b == c),
        );
        out.push(Block {
            line,
            kind: Kind::Bullets(items),
        });
        i
    }

    fn enumerated_list(
        &mut self,
        lines: &[Line],
        i: usize,
        depth: usize,
        out: &mut Vec<Block>,
    ) -> usize {
        let line = lines[i].no;
        let first = enumerator(lines[i].text, None);
        let Some(first) = first else {
            return self.paragraph(lines, i, out);
        };
        let sequence = first.sequence;
        // The ordinal the next item must have, and whether an item was `#.` (after
        // one, docutils takes only `#.`); read by both closures below.
        let expected = std::cell::Cell::new(first.ordinal);
        let auto = std::cell::Cell::new(sequence.is_none());
        let (items, i) = self.list(
            lines,
            i,
            "enumerated list",
            |r, i| {
                let e = enumerator(lines[i].text, sequence)?;
                if e.format != first.format
                    || (e.sequence.is_some() && e.sequence != sequence)
                    || (e.sequence.is_some() && sequence.is_some() && e.ordinal != expected.get())
                {
                    return None;
                }
                let (item, next) = item_lines(lines, i, e.len);
                expected.set(expected.get().saturating_add(1));
                if e.sequence.is_none() {
                    auto.set(true);
                }
                Some((r.body(&item, depth + 1, false), next))
            },
            |j| {
                enumerator(lines[j].text, sequence).is_some_and(|n| {
                    // As docutils: an item must also pass the test of the line
                    // below it, or the list ends (with a warning) before it.
                    n.format == first.format
                        && (n.sequence.is_none()
                            || (!auto.get()
                                && n.sequence == sequence
                                && n.ordinal == expected.get()))
                        && enumerated_ok(lines, j, &n)
                })
            },
        );
        out.push(Block {
            line,
            kind: Kind::Enumerated {
                sequence: sequence.unwrap_or(Sequence::Arabic),
                start: if sequence.is_some() { first.ordinal } else { 1 },
                items,
            },
        });
        i
    }

    fn definition_list(
        &mut self,
        lines: &[Line],
        i: usize,
        depth: usize,
        out: &mut Vec<Block>,
    ) -> usize {
        let line = lines[i].no;
        let (items, i) = self.list(
            lines,
            i,
            "definition list",
            |r, i| {
                let term_line = lines[i];
                let mut parts = term_line.text.trim_end().split(" : ");
                let term = parts.next().unwrap_or("").to_string();
                let classifiers = parts
                    .map(|c| Text {
                        text: c.trim().to_string(),
                        line: term_line.no,
                    })
                    .collect();
                let (def, next) = indented(lines, i + 1, None);
                let item = DefItem {
                    term: Text {
                        text: term,
                        line: term_line.no,
                    },
                    classifiers,
                    body: r.body(&def, depth + 1, false),
                };
                Some((item, next))
            },
            |j| {
                j + 1 < lines.len()
                    && lines[j].indent() == 0
                    && !lines[j + 1].blank()
                    && lines[j + 1].indent() > 0
                    && !lines[j].text.starts_with("..")
                    && bullet(lines[j].text).is_none()
                    && field_marker(lines[j].text).is_none()
            },
        );
        out.push(Block {
            line,
            kind: Kind::Definitions(items),
        });
        i
    }

    fn field_list(
        &mut self,
        lines: &[Line],
        i: usize,
        depth: usize,
        out: &mut Vec<Block>,
    ) -> usize {
        let line = lines[i].no;
        let (items, i) = self.list(
            lines,
            i,
            "field list",
            |r, i| {
                let (name, at) = field_marker(lines[i].text)?;
                let name = Text {
                    text: name.to_string(),
                    line: lines[i].no,
                };
                let (body, next) = indented(lines, i, Some(at));
                Some(((name, r.body(&body, depth + 1, false)), next))
            },
            |j| field_marker(lines[j].text).is_some(),
        );
        out.push(Block {
            line,
            kind: Kind::Fields(items),
        });
        i
    }

    /// An option list: `-a`, `--all`, `-f FILE, --file=FILE`, `/V`, each with its
    /// description after two spaces or on the indented lines below.
    fn option_list(
        &mut self,
        lines: &[Line],
        i: usize,
        depth: usize,
        out: &mut Vec<Block>,
    ) -> usize {
        let line = lines[i].no;
        let (items, i) = self.list(
            lines,
            i,
            "option list",
            |r, i| {
                let (group, at) = option_group(lines, i)?;
                let (body, next) = indented(lines, i, Some(at));
                let group = Text {
                    text: group.to_string(),
                    line: lines[i].no,
                };
                Some((
                    (group, r.body(&trim_blank_edges(body), depth + 1, false)),
                    next,
                ))
            },
            |j| option_group(lines, j).is_some(),
        );
        out.push(Block {
            line,
            kind: Kind::Options(items),
        });
        i
    }

    fn line_block(&mut self, lines: &[Line], mut i: usize, out: &mut Vec<Block>) -> usize {
        let line = lines[i].no;
        let mut items: Vec<(usize, Text)> = Vec::new();
        while i < lines.len() {
            let t = lines[i].text;
            if t.trim_end() == "|" {
                items.push((
                    0,
                    Text {
                        text: String::new(),
                        line: lines[i].no,
                    },
                ));
            } else if let Some(rest) = t.strip_prefix("| ") {
                let indent = rest.len() - rest.trim_start_matches(' ').len();
                items.push((
                    indent,
                    Text {
                        text: rest.trim().to_string(),
                        line: lines[i].no,
                    },
                ));
            } else if !lines[i].blank() && lines[i].indent() > 0 && !items.is_empty() {
                if let Some((_, last)) = items.last_mut() {
                    last.text.push('\n');
                    last.text.push_str(t.trim());
                }
            } else {
                break;
            }
            i += 1;
        }
        self.ends_without_blank(lines, i, "line block");
        out.push(Block {
            line,
            kind: Kind::LineBlock(items),
        });
        i
    }

    /// A table that could not be read: shown as literal text, with a warning.
    pub(crate) fn bad_table(
        &mut self,
        lines: &[Line],
        i: usize,
        end: usize,
        why: &str,
        out: &mut Vec<Block>,
    ) -> usize {
        self.warn(
            lines[i].no,
            format!("malformed table ({why}); shown as text"),
        );
        out.push(Block {
            line: lines[i].no,
            kind: Kind::Literal(super::directive::literal(None, join(&lines[i..end]))),
        });
        end
    }

    fn grid_table(
        &mut self,
        lines: &[Line],
        i: usize,
        depth: usize,
        out: &mut Vec<Block>,
    ) -> usize {
        let mut end = i;
        while end < lines.len() && lines[end].text.starts_with(['+', '|']) {
            end += 1;
        }
        let rows: Vec<Vec<char>> = lines[i..end]
            .iter()
            .map(|l| l.text.trim_end().chars().collect())
            .collect();
        let top = &rows[0];
        if rows.iter().any(|r| r.len() != top.len()) {
            return self.bad_table(lines, i, end, "lines of different lengths", out);
        }
        if !grid_border(&rows[rows.len() - 1].iter().collect::<String>()) {
            return self.bad_table(lines, i, end, "no bottom border", out);
        }
        let Some(mut cells) = super::table::grid_cells(&rows) else {
            return self.bad_table(lines, i, end, "its cells do not close", out);
        };
        cells.sort_by_key(|c| (c.top, c.left));
        // Row and column boundaries: every cell's top and left border.
        let mut tops: Vec<usize> = cells.iter().map(|c| c.top).collect();
        tops.dedup();
        let mut lefts: Vec<usize> = cells.iter().map(|c| c.left).collect();
        lefts.sort_unstable();
        lefts.dedup();
        // The header ends at a border line of `=`: one at most, neither the first
        // line nor the last (docutils: `Malformed table`).
        let separators: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.contains(&'=') && grid_border(&r.iter().collect::<String>()))
            .map(|(k, _)| k)
            .collect();
        let separator = match separators[..] {
            [] => None,
            [k] if k > 0 && k + 1 < rows.len() => Some(k),
            [_] => {
                let why = "a head/body separator as its first or last line";
                return self.bad_table(lines, i, end, why, out);
            }
            _ => return self.bad_table(lines, i, end, "more than one head/body separator", out),
        };
        let mut table: Vec<Vec<Cell>> = vec![Vec::new(); tops.len()];
        let mut head_rows = 0;
        for c in &cells {
            let row = tops.partition_point(|t| *t < c.top);
            let span =
                lefts.partition_point(|l| *l < c.right) - lefts.partition_point(|l| *l < c.left);
            let rows_spanned = tops.partition_point(|t| *t < c.bottom) - row;
            let cell_lines: Vec<(String, usize)> = (c.top + 1..c.bottom)
                .map(|k| {
                    (
                        rows[k][c.left + 1..c.right].iter().collect(),
                        lines[i + k].no,
                    )
                })
                .collect();
            let cell: Vec<Line> = cell_lines
                .iter()
                .map(|(t, no)| Line {
                    text: t.as_str(),
                    no: *no,
                })
                .collect();
            let cell = trim_blank_edges(dedent(&cell));
            let body = self.body(&cell, depth + 1, false);
            table[row].push(Cell {
                span,
                rows: rows_spanned,
                body,
            });
            if separator.is_some_and(|s| c.bottom <= s) {
                head_rows = head_rows.max(row + 1);
            }
        }
        let body = table.split_off(head_rows);
        let head = table;
        out.push(Block {
            line: lines[i].no,
            kind: Kind::Table { head, body },
        });
        end
    }

    /// Explicit markup: `.. ` directives, comments, targets, footnotes, substitutions.
    fn explicit(&mut self, lines: &[Line], i: usize, depth: usize, out: &mut Vec<Block>) -> usize {
        let l = lines[i];
        let first = 3.min(l.text.len());
        let (block, next) = indented(lines, i, Some(first));
        self.explicit_ends(lines, next);
        let head = block[0].text;
        if let Some(rest) = head.strip_prefix('[')
            && let Some(close) = rest.find(']')
            && !rest[..close].contains(' ')
        {
            let label = rest[..close].to_string();
            if label.starts_with('#') {
                // Numbered once the manual numbers are known (see `document`).
                self.refs.auto_footnotes.push((label.clone(), 0));
            } else if let Ok(n) = label.parse::<u32>() {
                self.manual_footnotes.insert(n);
            }
            let mut inner = block.clone();
            let after = &rest[close + 1..];
            inner[0].text = after.trim_start();
            let body = self.body(&trim_blank_edges(inner), depth + 1, false);
            out.push(Block {
                line: l.no,
                kind: Kind::Footnote { label, body },
            });
            return next;
        }
        if head.starts_with('_') {
            self.target(&block, l.no);
            return next;
        }
        if let Some(rest) = head.strip_prefix('|')
            && let Some(close) = rest.find('|')
        {
            let name = normalize_name(&rest[..close]);
            let after = rest[close + 1..].trim_start();
            let mut inner = block.clone();
            inner[0].text = after;
            self.substitution(name, &inner, l.no);
            return next;
        }
        if let Some((name, args)) = split_directive(head) {
            let mut inner = block.clone();
            inner[0].text = args;
            let call = Call {
                name,
                inner: &inner,
                line: l.no,
                depth,
            };
            super::directive::read(self, &call, out);
            return next;
        }
        // A comment, also `.. note:` with one colon: docutils says nothing, nor do we.
        next
    }

    fn target(&mut self, block: &[Line], line: usize) {
        let all = join(block);
        let text = all.trim();
        let Some(rest) = text.strip_prefix('_') else {
            return;
        };
        // Anonymous: `.. __: url`.
        if let Some(url) = rest.strip_prefix("_:") {
            let t = self.target_value(url);
            self.refs.anonymous.push(t);
            return;
        }
        let (name, value) = if let Some(quoted) = rest.strip_prefix('`') {
            match quoted.find("`:") {
                Some(end) => (&quoted[..end], &quoted[end + 2..]),
                None => {
                    self.warn(line, "malformed hyperlink target; ignored");
                    return;
                }
            }
        } else {
            let mut end = None;
            let bytes = rest.as_bytes();
            let mut k = 0;
            while k < bytes.len() {
                if bytes[k] == b'\\' {
                    k += 2;
                    continue;
                }
                if bytes[k] == b':' && (k + 1 == bytes.len() || bytes[k + 1].is_ascii_whitespace())
                {
                    end = Some(k);
                    break;
                }
                k += 1;
            }
            match end {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => {
                    self.warn(
                        line,
                        "malformed hyperlink target (no `:` after the name); ignored",
                    );
                    return;
                }
            }
        };
        let name = normalize_name(&name.replace('\\', ""));
        let target = self.target_value(value);
        if value.trim().is_empty() {
            self.pending_labels.push(name.clone());
        }
        self.refs.targets.insert(name, target);
    }

    fn target_value(&self, value: &str) -> Target {
        let v = value.trim();
        if v.is_empty() {
            return Target::Anchor(String::new());
        }
        if let Some(alias) = v.strip_suffix('_')
            && !alias.ends_with('_')
            && !v.contains("://")
        {
            let alias = alias.trim_matches('`');
            return Target::Alias(normalize_name(alias));
        }
        Target::Url(v.split_whitespace().collect::<String>().replace("\\_", "_"))
    }

    fn substitution(&mut self, name: String, block: &[Line], line: usize) {
        let head = block[0].text;
        let Some((directive, args)) = split_directive(head) else {
            self.warn(
                line,
                format!("substitution `|{name}|` has no directive; ignored"),
            );
            return;
        };
        let mut inner = block.to_vec();
        inner[0].text = args;
        match directive {
            "replace" => {
                let lines = trim_blank_edges(inner);
                let text = lines.iter().map(|l| l.text.trim()).collect::<Vec<_>>().join("\n");
                self.refs.substitutions.insert(
                    name,
                    Substitution::Text(Text {
                        text,
                        line: lines.first().map_or(line, |l| l.no),
                    }),
                );
            }
            "unicode" => {
                let mut text = String::new();
                for word in args.split_whitespace() {
                    if word == ".." {
                        break;
                    }
                    let hex = word
                        .strip_prefix("U+")
                        .or_else(|| word.strip_prefix("u+"))
                        .or_else(|| word.strip_prefix("0x"))
                        .or_else(|| word.strip_prefix("\\x"));
                    match hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32) {
                        Some(c) => text.push(c),
                        None => text.push_str(word),
                    }
                }
                self.refs
                    .substitutions
                    .insert(name, Substitution::Text(Text { text, line }));
            }
            "image" => {
                let d = self.split(&inner, true, true);
                let image = self.image(&d, line);
                self.refs.substitutions.insert(name, Substitution::Image(image));
            }
            "raw" => {
                let d = self.split(&inner, true, true);
                let html = d.args.split_whitespace().any(|f| f.eq_ignore_ascii_case("html"));
                // Raw content for other formats stands for nothing in HTML.
                let text = if html { join(&dedent(&d.content)) } else { String::new() };
                self.refs.substitutions.insert(name, Substitution::Raw(text));
            }
            other => self.warn(
                line,
                format!("substitution `|{name}|` uses `{other}`, which this reader does not know; ignored"),
            ),
        }
    }

    /// Splits a directive block into arguments, options and content.
    pub(crate) fn split<'a>(
        &mut self,
        block: &[Line<'a>],
        takes_args: bool,
        takes_options: bool,
    ) -> Directive<'a> {
        let mut k = 0;
        let mut args = Vec::new();
        // As docutils: an empty first line is skipped, so arguments may start below it;
        // they end at a blank line, or at the first option (a field marker, on the first
        // line too) of a directive that takes options.
        if takes_args
            && block.first().is_some_and(|l| l.blank())
            && block.get(1).is_some_and(|l| !l.blank())
        {
            k = 1;
        }
        if takes_args {
            while k < block.len()
                && !block[k].blank()
                && !(takes_options && field_marker(block[k].text).is_some())
            {
                args.push(block[k].text.trim());
                k += 1;
            }
        } else if k < block.len() && block[k].blank() {
            k += 1;
        }
        let mut options = Vec::new();
        let mut lead = 0;
        if takes_options {
            // Options may also start on the line after an empty first line.
            let mut s = k;
            if s == 0 && block.first().is_some_and(|l| l.blank()) {
                s = 1;
            }
            // Without arguments, text from the first line on is content, and options
            // may follow it in the same paragraph (docutils: `content = arg_block +
            // indented[i:]`): content before them, then after them.
            if !takes_args && s == 0 {
                let first = block
                    .iter()
                    .take_while(|l| !l.blank() && field_marker(l.text).is_none())
                    .count();
                if block.get(first).is_some_and(|l| !l.blank()) {
                    lead = first;
                    s = first;
                }
            }
            while s < block.len() {
                let Some((name, at)) = field_marker(block[s].text) else {
                    break;
                };
                let mut value = block[s].text[at..].trim().to_string();
                let no = block[s].no;
                s += 1;
                while s < block.len() && !block[s].blank() && block[s].indent() > 0 {
                    value.push(' ');
                    value.push_str(block[s].text.trim());
                    s += 1;
                }
                options.push((name.to_lowercase(), value, no));
            }
            if !options.is_empty() {
                k = s;
            }
        }
        let mut content = block[..lead].to_vec();
        content.extend_from_slice(&block[k.min(block.len())..]);
        let content = trim_blank_edges(content);
        Directive {
            args: args.join(" "),
            options,
            content,
        }
    }

    pub(crate) fn check_options(&mut self, name: &str, d: &Directive, known: &[&str]) {
        for (opt, _, no) in &d.options {
            if !known.contains(&opt.as_str()) {
                self.warn(
                    *no,
                    format!("unknown option `:{opt}:` for `{name}`; ignored"),
                );
            }
        }
    }

    pub(crate) fn option<'d>(d: &'d Directive, name: &str) -> Option<&'d str> {
        d.options
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, _)| v.as_str())
    }

    pub(crate) fn image(&mut self, d: &Directive, line: usize) -> Image {
        let uri: String = d.args.split_whitespace().collect();
        if uri.is_empty() {
            self.warn(line, "image without a URI");
        }
        Image {
            uri,
            alt: Self::option(d, "alt").map(str::to_string),
            width: Self::option(d, "width").map(str::to_string),
            height: Self::option(d, "height").map(str::to_string),
            classes: Self::option(d, "class").map(classes_of).unwrap_or_default(),
            align: Self::option(d, "align").map(str::to_string),
            target: Self::option(d, "target").map(str::to_string),
        }
    }

    pub(crate) fn no_content(&mut self, name: &str, d: &Directive) {
        if let Some(first) = d.content.first() {
            self.warn(
                first.no,
                format!("`{name}` takes no content; the content is ignored"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> (Vec<Block>, Vec<Problem>) {
        let mut r = Reader::new();
        let blocks = r.document(&numbered(src.split('\n')));
        (blocks, r.warnings)
    }

    /// The blocks and every problem found (warnings, errors, reported errors).
    fn read_all(src: &str) -> (Vec<Block>, Vec<Problem>) {
        let mut r = Reader::new();
        let blocks = r.document(&numbered(src.split('\n')));
        let mut problems = r.warnings;
        problems.extend(r.errors);
        problems.extend(r.reported);
        (blocks, problems)
    }

    #[test]
    fn enumerators() {
        assert_eq!(enumerator("3. x", None).map(|e| e.ordinal), Some(3));
        assert_eq!(
            enumerator("(iv) x", None).map(|e| e.sequence),
            Some(Some(Sequence::LowerRoman))
        );
        assert_eq!(enumerator("b) x", None).map(|e| e.ordinal), Some(2));
        assert!(enumerator("3: x", None).is_none());
        assert!(enumerator("1.5 x", None).is_none());
        assert!(enumerator("ab. x", None).is_none());
    }

    #[test]
    fn title_levels_follow_first_appearance() {
        let (blocks, w) = read("A\n=\n\nB\n-\n\n===\nD\n===\n\nC\n=\n");
        let levels: Vec<usize> = blocks
            .iter()
            .filter_map(|b| match &b.kind {
                Kind::Title { level, .. } => Some(*level),
                _ => None,
            })
            .collect();
        assert_eq!(levels, vec![1, 2, 3, 1]);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn bullet_item_lines_are_indented_by_the_marker_width() {
        // As docutils: deeper lines keep their extra indentation (a block quote here),
        let (blocks, _) = read("- one\n\n        - two\n");
        let Kind::Bullets(items) = &blocks[0].kind else {
            panic!("{blocks:?}")
        };
        assert!(matches!(items[0][1].kind, Kind::Quote { .. }), "{items:?}");
        // and a deeper bullet right after the text makes a definition list, no warning.
        let (blocks, warnings) = read("* top\n    * deeper\n    * again\n");
        assert!(warnings.is_empty(), "{warnings:?}");
        let Kind::Bullets(items) = &blocks[0].kind else {
            panic!("{blocks:?}")
        };
        assert!(
            matches!(items[0][0].kind, Kind::Definitions(_)),
            "{items:?}"
        );
    }

    #[test]
    fn a_comment_with_two_colons_is_no_directive() {
        // A directive's name is one word of letters, digits and `-_.:+`, starting with
        // a letter or digit; anything else before `::` makes the whole a comment.
        for src in [
            ".. see also: man 7 unix:: for more\n",
            ".. -x:: y\n",
            ".. a/b:: c\n",
        ] {
            let (blocks, problems) = read_all(src);
            assert!(blocks.is_empty(), "{src:?}: {blocks:?}");
            assert!(problems.is_empty(), "{src:?}: {problems:?}");
        }
        assert_eq!(
            split_directive("code-block:: rust"),
            Some(("code-block", "rust"))
        );
        assert_eq!(split_directive("py:func:: f"), Some(("py:func", "f")));
        assert_eq!(split_directive("see also: x:: y"), None);
        assert_eq!(split_directive("-x:: y"), None);
    }

    #[test]
    fn option_names_are_letters_digits_dashes_and_underscores() {
        assert!(is_option("--dry_run"));
        assert!(is_option("--dry-run=WHEN"));
        assert!(is_option("-o <a file>"));
        assert!(!is_option("--foo.bar"));
        assert!(!is_option("---foo"));
        assert!(!is_option("-o <a file"));
        assert!(!is_option("-o a file>"));
        // In a document: an option list, and two paragraphs.
        let (blocks, problems) = read_all("--dry_run  Say what would be done.\n");
        assert!(matches!(blocks[0].kind, Kind::Options(_)), "{blocks:?}");
        assert!(problems.is_empty(), "{problems:?}");
        for src in [
            "--foo.bar  is not an option.\n",
            "-o <a b  is no option either.\n",
        ] {
            let (blocks, problems) = read_all(src);
            assert!(
                matches!(
                    blocks[..],
                    [Block {
                        kind: Kind::Para(_),
                        ..
                    }]
                ),
                "{src:?}: {blocks:?}"
            );
            assert!(problems.is_empty(), "{src:?}: {problems:?}");
        }
    }

    #[test]
    fn roman_numerals_are_read_only_in_their_one_proper_form() {
        assert_eq!(roman_value("xc"), Some(90));
        assert_eq!(roman_value("C"), Some(100));
        assert_eq!(roman_value("MCMXCIV"), Some(1994));
        assert_eq!(roman_value("iiii"), None);
        assert_eq!(roman_value("IC"), None);
        assert_eq!(roman_value("vv"), None);
        // A list item `iiii.` is a paragraph, as in docutils.
        let (blocks, _) = read_all("iiii. Four?\n");
        assert!(
            matches!(
                blocks[..],
                [Block {
                    kind: Kind::Para(_),
                    ..
                }]
            ),
            "{blocks:?}"
        );
        let (blocks, _) = read_all("xcix. Ninety-nine.\n");
        assert!(
            matches!(
                blocks[..],
                [Block {
                    kind: Kind::Enumerated { start: 99, .. },
                    ..
                }]
            ),
            "{blocks:?}"
        );
    }

    #[test]
    fn enumerators_of_nine_characters_and_upper_case_letters() {
        assert_eq!(
            enumerator("123456789. x", None).map(|e| e.ordinal),
            Some(123_456_789)
        );
        assert!(enumerator("1234567890. x", None).is_none());
        assert_eq!(enumerator("B. x", None).map(|e| e.ordinal), Some(2));
        assert_eq!(
            enumerator("(A) x", None).map(|e| (e.sequence, e.ordinal)),
            Some((Some(Sequence::UpperAlpha), 1))
        );
    }

    #[test]
    fn a_single_letter_continues_a_roman_list_as_a_numeral() {
        // `v` alone is the letter v, unless a roman list is going on.
        assert_eq!(
            enumerator("v. x", None).map(|e| (e.sequence, e.ordinal)),
            Some((Some(Sequence::LowerAlpha), 22))
        );
        assert_eq!(
            enumerator("v. x", Some(Sequence::LowerRoman)).map(|e| (e.sequence, e.ordinal)),
            Some((Some(Sequence::LowerRoman), 5))
        );
        assert_eq!(
            enumerator("X) x", Some(Sequence::UpperRoman)).map(|e| (e.sequence, e.ordinal)),
            Some((Some(Sequence::UpperRoman), 10))
        );
        let (blocks, problems) = read_all("iv. four\nv. five\n");
        let [
            Block {
                kind:
                    Kind::Enumerated {
                        sequence,
                        start: 4,
                        items,
                    },
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!((*sequence, items.len()), (Sequence::LowerRoman, 2));
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_field_name_may_hold_an_escaped_colon() {
        assert_eq!(field_marker(":a\\: b: body"), Some(("a\\: b", 8)));
        assert_eq!(field_marker(":name: body"), Some(("name", 7)));
        assert_eq!(field_marker(":a\\"), None);
    }

    #[test]
    fn a_paragraph_may_start_with_a_plus() {
        assert!(grid_border("+---+===+"));
        assert!(!grid_border("+5 dB"));
        assert!(!grid_border("--+"));
        let (blocks, problems) = read_all("+5 dB is louder.\n");
        assert!(
            matches!(
                blocks[..],
                [Block {
                    kind: Kind::Para(_),
                    ..
                }]
            ),
            "{blocks:?}"
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn class_names_are_lower_case_with_dashes_for_other_characters() {
        assert_eq!(classes_of("Big.Red  x/y"), ["big-red", "x-y"]);
        // As docutils' make_id: runs of other characters are one dash, no leading
        // digits or dashes, no trailing dash, and a name with nothing left is dropped.
        assert_eq!(
            classes_of("x_y a__b 1abc -2-c- wide. 42 ...  Ok9"),
            ["x-y", "a-b", "abc", "c", "wide", "ok9"]
        );
    }

    #[test]
    fn a_doctest_block_is_python_console_code_up_to_a_blank_line() {
        let (blocks, problems) = read_all(">>> 1 + 1\n2\n\nAfter.\n");
        let [
            Block {
                kind: Kind::Literal(code),
                ..
            },
            Block {
                kind: Kind::Para(after),
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(code.lang.as_deref(), Some("pycon"));
        assert_eq!(code.text, ">>> 1 + 1\n2");
        assert_eq!(after.text, "After.");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn an_overline_and_text_at_the_very_end_are_a_paragraph() {
        // No underline can follow: the source ends (no newline) after the text.
        let (blocks, _) = read_all("Para.\n\n=====\nTitle");
        let [
            _,
            Block {
                kind: Kind::Para(text),
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(text.text, "=====\nTitle");
    }

    #[test]
    fn a_line_of_dashes_right_above_text_is_no_transition() {
        for src in ["-----\nText after.\n", "Para.\n\n-----\nText after.\n"] {
            let (blocks, _) = read_all(src);
            assert!(
                !blocks.iter().any(|b| matches!(b.kind, Kind::Transition)),
                "{src:?}: {blocks:?}"
            );
            let Some(Block {
                kind: Kind::Para(text),
                ..
            }) = blocks.last()
            else {
                panic!("{src:?}: {blocks:?}")
            };
            assert_eq!(text.text, "-----\nText after.", "{src:?}");
        }
    }

    #[test]
    fn every_underlined_title_where_none_may_be_is_reported() {
        // As docutils (`Unexpected section title`): whatever follows the underline,
        // and also at the very end of the source.
        for src in [
            "Para.\n\n   Text\n   ====\n   more\n",
            "Para.\n\n   Text\n   ====\n",
            "Para.\n\n   Text\n   ====",
            "- Text\n  ----\n  more\n",
        ] {
            let (blocks, problems) = read_all(src);
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert!(
                problems[0].message.contains("cannot be nested"),
                "{src:?}: {problems:?}"
            );
            assert!(
                !format!("{blocks:?}").contains("Title"),
                "{src:?}: {blocks:?}"
            );
        }
    }

    #[test]
    fn a_literal_marker_at_the_very_end_warns_that_no_block_follows() {
        // As docutils: `Literal block expected; none found`, the text kept.
        for src in ["Para::\n\n\n", "Para::", "Para.\n\n::\n"] {
            let (blocks, problems) = read_all(src);
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert!(
                problems[0].message.contains("literal block expected"),
                "{src:?}: {problems:?}"
            );
            assert!(
                matches!(&blocks[0].kind, Kind::Para(t) if t.text == "Para:" || t.text == "Para."),
                "{src:?}: {blocks:?}"
            );
        }
    }

    #[test]
    fn a_quoted_literal_block_is_its_lines_as_they_are() {
        let (blocks, problems) = read_all("Para::\n\n> quoted\n>   lines\n\nAfter.\n");
        let [
            Block {
                kind: Kind::Para(para),
                ..
            },
            Block {
                kind: Kind::Literal(code),
                ..
            },
            Block {
                kind: Kind::Para(after),
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(
            (para.text.as_str(), code.text.as_str(), after.text.as_str()),
            ("Para:", "> quoted\n>   lines", "After.")
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn blocks_nested_past_the_limit_are_shown_as_literal_text() {
        // One construct inside the next, `n` deep: the innermost text is read at depth
        // `n`. Up to `MAX_DEPTH` all is read; one level more is literal text, with a
        // warning. Each construct counts its level.
        let nested = |what: &str, n: usize| -> String {
            match what {
                "bullets" => "- ".repeat(n) + "x\n",
                "enumerated" => "1. ".repeat(n) + "x\n",
                "fields" => ":f: ".repeat(n) + "x\n",
                "options" => "-o  ".repeat(n) + "x\n",
                "footnotes" => (0..n).map(|k| format!(".. [{k}] ")).collect::<String>() + "x\n",
                "topics" => {
                    (0..n)
                        .map(|k| format!("{}.. topic:: t{k}\n\n", " ".repeat(3 * k)))
                        .collect::<String>()
                        + &" ".repeat(3 * n)
                        + "x\n"
                }
                "glossaries" => {
                    (0..n)
                        .map(|k| format!("{}.. glossary::\n\n", " ".repeat(3 * k)))
                        .collect::<String>()
                        + &" ".repeat(3 * n)
                        + "x\n"
                }
                "figures" => {
                    (0..n)
                        .map(|k| {
                            let pad = " ".repeat(3 * k);
                            format!("{pad}.. figure:: a.png\n\n{pad}   caption {k}\n\n")
                        })
                        .collect::<String>()
                        + &" ".repeat(3 * n)
                        + "x\n"
                }
                "tables" => {
                    // A grid table of one cell around the one inside it.
                    let mut rows = vec!["x".to_string()];
                    for _ in 0..n {
                        let border = format!("+{}+", "-".repeat(rows[0].len() + 2));
                        rows = std::iter::once(border.clone())
                            .chain(rows.iter().map(|r| format!("| {r} |")))
                            .chain(std::iter::once(border))
                            .collect();
                    }
                    rows.join("\n") + "\n"
                }
                "quotes" => (0..=n)
                    .map(|k| format!("{}level {k}\n\n", " ".repeat(2 * k)))
                    .collect(),
                _ => {
                    (0..n)
                        .map(|k| format!("{}term {k}\n", " ".repeat(2 * k)))
                        .collect::<String>()
                        + &" ".repeat(2 * n)
                        + "x\n"
                }
            }
        };
        for what in [
            "bullets",
            "enumerated",
            "fields",
            "options",
            "tables",
            "footnotes",
            "topics",
            "glossaries",
            "figures",
            "quotes",
            "definitions",
        ] {
            let (blocks, problems) = read_all(&nested(what, MAX_DEPTH));
            assert!(problems.is_empty(), "{what}: {problems:?}");
            assert!(
                !format!("{blocks:?}").contains("Literal"),
                "{what}: {blocks:?}"
            );
            let (blocks, mut problems) = read_all(&nested(what, MAX_DEPTH + 1));
            if what == "figures" {
                // The innermost figure's content, literal text, is no caption either.
                let legend = problems.pop().map(|p| p.message);
                assert!(
                    legend.is_some_and(|m| m.contains("caption must be a paragraph")),
                    "{problems:?}"
                );
            }
            assert_eq!(problems.len(), 1, "{what}: {problems:?}");
            assert!(
                problems[0].message.contains("nested too deeply"),
                "{what}: {problems:?}"
            );
            assert!(
                format!("{blocks:?}").contains("Literal"),
                "{what}: {blocks:?}"
            );
        }
    }

    #[test]
    fn a_line_of_spaces_below_a_term_ends_the_definition_list() {
        // A line of spaces is blank (as docutils strips it), not an indented
        // definition: `term two` is a paragraph.
        let (blocks, problems) = read_all("term one\n  def one\n\nterm two\n   \npara\n");
        let [
            Block {
                kind: Kind::Definitions(items),
                ..
            },
            Block {
                kind: Kind::Para(two),
                ..
            },
            Block {
                kind: Kind::Para(para),
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(items.len(), 1);
        assert_eq!(
            (two.text.as_str(), para.text.as_str()),
            ("term two", "para")
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn an_unindented_line_right_below_a_line_block_ends_it_with_a_warning() {
        // Only an indented line continues a line block's last line; docutils ends the
        // block at an unindented one and warns ("Line block ends without a blank line").
        let (blocks, problems) = read_all("| one\n  more\ntwo\n");
        let [
            Block {
                kind: Kind::LineBlock(items),
                ..
            },
            Block {
                kind: Kind::Para(two),
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        let texts: Vec<&str> = items.iter().map(|(_, t)| t.text.as_str()).collect();
        assert_eq!(texts, ["one\nmore"]);
        assert_eq!(two.text, "two");
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn a_malformed_grid_table_is_literal_text_and_reading_goes_on_below_it() {
        // One table per reason: lines of different lengths, no bottom border, cells
        // that do not close, a head/body separator (`=`) as the first or the last
        // line, two separators (docutils: `Malformed table` for each). Each is its own
        // lines as they are, with a warning, and the paragraph below each is read.
        for table in [
            "+---+\n| a  |\n+---+",
            "+---+\n| a |\n| b |",
            "+---+\n| a a\n+---+",
            "+===+\n| a |\n+---+",
            "+---+\n| a |\n+===+",
            "+---+\n| a |\n+===+\n| b |\n+===+\n| c |\n+---+",
        ] {
            let (blocks, problems) = read_all(&format!("{table}\n\nafter\n"));
            let [
                Block {
                    kind: Kind::Literal(text),
                    ..
                },
                Block {
                    kind: Kind::Para(after),
                    ..
                },
            ] = &blocks[..]
            else {
                panic!("{table}: {blocks:?}")
            };
            assert_eq!(text.text, table);
            assert_eq!(after.text, "after");
            assert_eq!(problems.len(), 1, "{table}: {problems:?}");
            assert!(
                problems[0].message.contains("malformed table"),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn a_target_name_may_hold_escaped_colons() {
        // The name ends at the first unescaped colon followed by a space or the end
        // (docutils: `names="abc:"`), wherever the escape stands.
        for (src, name) in [
            (".. _abc\\:: https://x.org\n", "abc:"),
            (".. _\\:a: https://x.org\n", ":a"),
        ] {
            let lines: Vec<Line> = src
                .lines()
                .enumerate()
                .map(|(n, t)| Line { text: t, no: n + 1 })
                .collect();
            let mut r = Reader::new();
            r.document(&lines);
            assert_eq!(
                r.refs.targets.get(name),
                Some(&Target::Url("https://x.org".into())),
                "{src}: {:?}",
                r.refs.targets
            );
            assert!(r.warnings.is_empty(), "{src}: {:?}", r.warnings);
        }
    }

    #[test]
    fn a_target_ending_in_one_underscore_is_an_alias_and_in_two_a_url() {
        // Docutils: `.. _a: b_` refers to target `b`; `.. _a: b__` is the URI `b__`.
        let r = Reader::new();
        assert_eq!(r.target_value("b_"), Target::Alias("b".into()));
        assert_eq!(r.target_value(" `B c`_ "), Target::Alias("b c".into()));
        assert_eq!(r.target_value("b__"), Target::Url("b__".into()));
    }

    #[test]
    fn a_directive_option_value_goes_on_over_indented_lines() {
        // A directive's block: `a.png`, then `:alt:` whose value goes on over the
        // indented line below it, then content after a blank line.
        let lines = numbered("a.png\n:alt: one\n   two\n:width: 3\n\nbody".lines());
        let d = Reader::new().split(&lines, true, true);
        assert_eq!(d.args, "a.png");
        assert_eq!(
            d.options,
            [
                ("alt".to_string(), "one two".to_string(), 2),
                ("width".to_string(), "3".to_string(), 4)
            ]
        );
        let content: Vec<&str> = d.content.iter().map(|l| l.text).collect();
        assert_eq!(content, ["body"]);
    }

    #[test]
    fn options_may_follow_text_on_the_first_line_of_a_directive_without_arguments() {
        // `.. note:: text` then `:class: x`: docutils reads the option, and `text`
        // and what follows the blank line are the content.
        let lines = numbered("text\n:class: x\n\nmore".lines());
        let d = Reader::new().split(&lines, false, true);
        assert_eq!(d.args, "");
        assert_eq!(d.options, [("class".to_string(), "x".to_string(), 2)]);
        let content: Vec<&str> = d.content.iter().map(|l| l.text).collect();
        assert_eq!(content, ["text", "", "more"]);
        // Without options, all of it is content.
        let lines = numbered("text\n\nmore".lines());
        let d = Reader::new().split(&lines, false, true);
        assert!(d.options.is_empty());
        let content: Vec<&str> = d.content.iter().map(|l| l.text).collect();
        assert_eq!(content, ["text", "", "more"]);
    }

    #[test]
    fn only_punctuation_adorns_a_title() {
        // Docutils: a line of one repeated letter or digit under text is no underline,
        // and a line starting with a letter after `::` is no quoted literal block.
        for src in ["Title\naaaaa\n", "Title\n55555\n", "xxxxx\nTitle\nxxxxx\n"] {
            let (blocks, problems) = read_all(src);
            assert!(
                matches!(
                    blocks[..],
                    [Block {
                        kind: Kind::Para(_),
                        ..
                    }]
                ),
                "{src:?}: {blocks:?}"
            );
            assert!(problems.is_empty(), "{src:?}: {problems:?}");
        }
        let (blocks, problems) = read_all("Para::\n\nxx\n");
        assert!(
            matches!(
                blocks[..],
                [
                    Block {
                        kind: Kind::Para(_),
                        ..
                    },
                    Block {
                        kind: Kind::Para(_),
                        ..
                    }
                ]
            ),
            "{blocks:?}"
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("literal block expected"),
            "{problems:?}"
        );
    }

    #[test]
    fn an_option_alone_on_its_line_needs_its_description_indented_below() {
        // Docutils: `-a` with its description on the indented line below is an
        // option list; with text or a blank line (of spaces, too) below, a paragraph.
        let (blocks, problems) = read_all("-a\n    description\n");
        let Kind::Options(items) = &blocks[0].kind else {
            panic!("{blocks:?}")
        };
        assert_eq!(items[0].0.text, "-a");
        assert!(
            matches!(items[0].1[..], [Block { kind: Kind::Para(ref t), .. }] if t.text == "description"),
            "{items:?}"
        );
        assert!(problems.is_empty(), "{problems:?}");
        for (src, paras) in [("-a\ntext\n", 1), ("-a\n   \ntext\n", 2)] {
            let (blocks, problems) = read_all(src);
            assert_eq!(blocks.len(), paras, "{src:?}: {blocks:?}");
            assert!(
                blocks.iter().all(|b| matches!(b.kind, Kind::Para(_))),
                "{src:?}: {blocks:?}"
            );
            assert!(problems.is_empty(), "{src:?}: {problems:?}");
        }
    }

    #[test]
    fn a_list_marker_with_only_whitespace_after_it_takes_the_indentation_of_the_next_line() {
        // Docutils strips every line's trailing whitespace (Unicode's too), so nothing
        // but whitespace after the marker is nothing after it: the item is the lines
        // below at their smallest indentation (here past the marker's width).
        for src in [
            "-   \n    text\n",
            "- \u{a0}\n    text\n",
            "1. \u{3000}\n     text\n",
        ] {
            let (blocks, problems) = read_all(src);
            let items = match &blocks[..] {
                [
                    Block {
                        kind: Kind::Bullets(items) | Kind::Enumerated { items, .. },
                        ..
                    },
                ] => items,
                _ => panic!("{src:?}: {blocks:?}"),
            };
            assert!(
                matches!(items[0][..], [Block { kind: Kind::Para(ref t), .. }] if t.text == "text"),
                "{src:?}: {items:?}"
            );
            assert!(problems.is_empty(), "{src:?}: {problems:?}");
        }
    }

    #[test]
    fn every_roman_digit_counts_with_its_own_value() {
        for (numeral, value) in [
            ("i", 1),
            ("V", 5),
            ("x", 10),
            ("L", 50),
            ("c", 100),
            ("D", 500),
            ("m", 1000),
            ("xl", 40),
            ("CD", 400),
            ("MDCLXVI", 1666),
        ] {
            assert_eq!(roman_value(numeral), Some(value), "{numeral}");
        }
        // In a document, as docutils: `xl.`, `cd.` and `MDCLXVI.` start lists at 40,
        // 400 and 1666.
        for (src, value) in [("xl. x\n", 40), ("cd. x\n", 400), ("MDCLXVI. x\n", 1666)] {
            let (blocks, _) = read_all(src);
            assert!(
                matches!(blocks[..], [Block { kind: Kind::Enumerated { start, .. }, .. }] if start == value),
                "{src:?}: {blocks:?}"
            );
        }
    }

    #[test]
    fn a_single_i_is_a_roman_one_unless_a_list_of_letters_is_going_on() {
        // Docutils: `i.` and `I.` alone are roman 1; after `h.`, `i.` is the letter i.
        for (src, roman) in [
            ("i. one\n", Sequence::LowerRoman),
            ("I. one\n", Sequence::UpperRoman),
        ] {
            let (blocks, _) = read_all(src);
            assert!(
                matches!(blocks[..], [Block { kind: Kind::Enumerated { sequence, start: 1, .. }, .. }] if sequence == roman),
                "{src:?}: {blocks:?}"
            );
        }
        assert_eq!(
            enumerator("i. x", Some(Sequence::LowerAlpha)).map(|e| (e.sequence, e.ordinal)),
            Some((Some(Sequence::LowerAlpha), 9))
        );
        let (blocks, problems) = read_all("h. eight\ni. nine\n");
        let [
            Block {
                kind:
                    Kind::Enumerated {
                        sequence: Sequence::LowerAlpha,
                        start: 8,
                        items,
                    },
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn an_enumerator_of_letters_is_one_letter_or_a_roman_numeral() {
        // Docutils: `AB.` is neither (a paragraph), nor is `IIII.`; an empty string is
        // no roman numeral.
        for text in ["AB. text", "ab. text", "IIII. text"] {
            assert!(enumerator(text, None).is_none(), "{text}");
            let (blocks, problems) = read_all(text);
            assert!(
                matches!(
                    blocks[..],
                    [Block {
                        kind: Kind::Para(_),
                        ..
                    }]
                ),
                "{text:?}: {blocks:?}"
            );
            assert!(problems.is_empty(), "{text:?}: {problems:?}");
        }
        assert_eq!(roman_value(""), None);
    }

    #[test]
    fn a_label_before_a_paragraph_is_no_label_of_the_title_after_it() {
        // Docutils: `.. _lbl:` refers to the element right after it, here the
        // paragraph, not the section below; labels in a row all refer to the title.
        let mut r = Reader::new();
        r.document(&numbered(
            ".. _lbl:\n\nPara.\n\n.. _a:\n.. _b:\n\nTitle\n=====\n".split('\n'),
        ));
        let mut labels: Vec<(&str, &str)> = r
            .refs
            .section_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        labels.sort();
        assert_eq!(labels, [("a", "Title"), ("b", "Title")]);
        assert_ne!(
            r.refs.targets.get("lbl"),
            Some(&Target::Anchor("title".into()))
        );
    }

    #[test]
    fn a_class_without_content_skips_comments_and_targets_to_the_next_element() {
        // Docutils (`ClassAttribute`): invisible elements in between are passed over.
        let (blocks, problems) = read_all(".. class:: x\n\n.. a comment\n\n.. _t:\n\nPara.\n");
        let [
            Block {
                kind: Kind::Classed { classes, body },
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(classes, &["x"]);
        assert!(
            matches!(body[..], [Block { kind: Kind::Para(ref t), .. }] if t.text == "Para."),
            "{body:?}"
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    /// The kinds of the blocks, by name, for a quick look at a document's shape.
    fn kinds(blocks: &[Block]) -> Vec<&'static str> {
        blocks
            .iter()
            .map(|b| match b.kind {
                Kind::Para(_) => "para",
                Kind::Title { .. } => "title",
                Kind::Transition => "transition",
                Kind::Bullets(_) => "bullets",
                Kind::Literal(_) => "literal",
                _ => "other",
            })
            .collect()
    }

    #[test]
    fn a_doctest_block_may_end_the_document_without_a_newline() {
        let (blocks, problems) = read_all(">>> 1 + 1\n2");
        assert_eq!(kinds(&blocks), ["literal"], "{blocks:?}");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn an_overline_and_an_underline_around_a_blank_line_are_two_transitions() {
        // Docutils: each line of `=` with a blank line below is a transition (and it
        // reports the two in a row); no title with empty text.
        let (blocks, _) = read_all("Para.\n\n======\n\n======\n\nText.\n");
        assert_eq!(
            kinds(&blocks),
            ["para", "transition", "transition", "para"],
            "{blocks:?}"
        );
    }

    #[test]
    fn a_title_overline_too_short_is_reported_at_the_overline_and_under_4_is_text() {
        // Docutils: `Title overline too short.` at the overline's line (3), the
        // title read all the same;
        let (blocks, problems) = read_all("Para.\n\n=====\nTitle text\n=====\n");
        assert_eq!(kinds(&blocks), ["para", "title"], "{blocks:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].line, problems[0].message.as_str()),
            (3, "title overline too short")
        );
        // shorter than 4 and than the title, it makes no title: the lines are a
        // paragraph (docutils' notice is only informational); as long as the title,
        // it is one.
        let (blocks, problems) = read_all("===\nTitle text\n===\n");
        assert_eq!(kinds(&blocks), ["para"], "{blocks:?}");
        assert!(problems.is_empty(), "{problems:?}");
        let (blocks, problems) = read_all("===\nTi\n===\n");
        assert_eq!(kinds(&blocks), ["title"], "{blocks:?}");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn an_overlined_titles_line_is_the_line_of_its_text() {
        // As for an underlined title: the heading points at its words in the source.
        for (src, line) in [("Para.\n\n=====\nTitle\n=====\n", 4), ("Title\n=====\n", 1)] {
            let (blocks, _) = read_all(src);
            let Some(Block {
                line: block_line,
                kind: Kind::Title { text, .. },
            }) = blocks.last()
            else {
                panic!("{src:?}: {blocks:?}")
            };
            assert_eq!((*block_line, text.line), (line, line), "{src:?}");
        }
    }

    #[test]
    fn a_transition_may_end_the_document_or_follow_a_block_without_a_blank_line() {
        // Docutils: a block starting with 4 or more adornment characters and a blank
        // line or the end below is a transition, whatever is above it (the end of a
        // list or of explicit markup without a blank line); at the very end docutils
        // also reports it.
        let (blocks, _) = read_all("Para.\n\n-----");
        assert_eq!(kinds(&blocks), ["para", "transition"], "{blocks:?}");
        let (blocks, problems) = read_all("- item\n-----\n\nPara.\n");
        assert_eq!(
            kinds(&blocks),
            ["bullets", "transition", "para"],
            "{blocks:?}"
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .message
                .contains("bullet list ends without a blank line"),
            "{problems:?}"
        );
        let (blocks, _) = read_all(".. comment\n-----\n\nPara.\n");
        assert_eq!(kinds(&blocks), ["transition", "para"], "{blocks:?}");
    }

    #[test]
    fn an_underline_of_four_too_short_makes_a_title_and_of_three_a_paragraph() {
        // Docutils: `Title underline too short.` at the underline for 4 characters;
        // under 4 (and shorter than the title) the two lines are a paragraph.
        let (blocks, problems) = read_all("Title text\n----\n");
        assert_eq!(kinds(&blocks), ["title"], "{blocks:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].line, problems[0].message.as_str()),
            (2, "title underline too short")
        );
        let (blocks, problems) = read_all("Title text\n---\n");
        assert_eq!(kinds(&blocks), ["para"], "{blocks:?}");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_title_two_levels_deeper_than_the_section_it_is_in_is_reported() {
        // Docutils: `D` with a new style right under `C` (level 1), where the styles
        // seen make it level 3, is `Title level inconsistent`, at D's line.
        let (blocks, problems) = read_all("A\n=\n\nB\n-\n\nC\n=\n\nD\n~\n\nx\n");
        assert_eq!(kinds(&blocks)[..4], ["title"; 4], "{blocks:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].line, problems[0].message.as_str()),
            (10, "title level inconsistent with the titles before it")
        );
        // One level deeper is fine.
        let (_, problems) = read_all("A\n=\n\nB\n-\n\nC\n~\n");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_block_quote_of_only_an_attribution_line_is_a_paragraph() {
        // Docutils: an attribution needs a body element before it in the quote.
        let (blocks, _) = read_all("Para.\n\n  -- Alone\n");
        let Some(Block {
            kind: Kind::Quote {
                body, attribution, ..
            },
            ..
        }) = blocks.last()
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(attribution, &None);
        assert!(
            matches!(body[..], [Block { kind: Kind::Para(ref t), .. }] if t.text == "-- Alone"),
            "{body:?}"
        );
    }

    #[test]
    fn explicit_markup_ending_at_a_line_that_is_not_blank_is_reported() {
        // Docutils: `Explicit markup ends without a blank line; unexpected unindent.`
        // after a comment, target, footnote, substitution, directive or `__` target
        // with text right below it;
        for src in [
            ".. comment\nText.\n",
            "..\nText.\n",
            ".. _t: https://x.org\nText.\n",
            ".. [1] A note.\nText.\n",
            ".. |x| replace:: y\nText.\n",
            ".. note:: A note.\nText.\n",
            "__ https://x.org\nText.\n",
        ] {
            let (_, problems) = read_all(src);
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert_eq!(
                (problems[0].line, problems[0].message.as_str()),
                (
                    2,
                    "explicit markup ends without a blank line; unexpected unindent"
                ),
                "{src:?}"
            );
        }
        // constructs one right below another are one run, reported only where it ends.
        let (_, problems) =
            read_all(".. _a: https://a.org\n.. _b: https://b.org\n__ https://c.org\n\nText.\n");
        assert!(problems.is_empty(), "{problems:?}");
        let (_, problems) = read_all(".. _a: https://a.org\n.. _b: https://b.org\nText.\n");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 3, "{problems:?}");
    }

    #[test]
    fn an_enumerator_starts_a_list_only_if_the_next_line_is_its_next_item() {
        // Docutils: the line below must be blank, indented, `#.` or the next
        // enumerator of the same sequence and format; else the lines are a paragraph.
        for src in [
            "1. a\n2) b\n",
            "1. a\n3. b\n",
            "1. a\nb. b\n",
            "#. a\n5. b\n",
            "a. x\nii. y\n",
        ] {
            let (blocks, problems) = read_all(src);
            assert_eq!(kinds(&blocks), ["para"], "{src:?}: {blocks:?}");
            assert!(problems.is_empty(), "{src:?}: {problems:?}");
        }
        for (src, len) in [
            ("1. a\n2. b\n", 2),
            ("1. a\n#. b\n", 2),
            ("#. a\n#. b\n", 2),
            ("a) x\nb) y\n", 2),
            ("a. x\n#. y\n", 2),
            ("1. a\n\n3. b\n", 1),
        ] {
            let (blocks, _) = read_all(src);
            let Some(Block {
                kind: Kind::Enumerated { items, .. },
                ..
            }) = blocks.first()
            else {
                panic!("{src:?}: {blocks:?}")
            };
            assert_eq!(items.len(), len, "{src:?}: {blocks:?}");
        }
    }

    #[test]
    fn every_item_of_an_enumerated_list_needs_the_line_below_it_to_fit() {
        // Docutils tests each item as the first (`is_enumerated_list_item`): here `2.`
        // (or `#.`) has a line below that is no next item, so the list ends after `a`
        // with a warning at line 2, and the two lines left are a paragraph.
        for src in [
            "1. a\n2. b\n3) c\n",
            "1. a\n2. b\n4. c\n",
            "#. a\n#. b\n3. c\n",
            "1. a\n#. b\n3. c\n",
        ] {
            let (blocks, problems) = read_all(src);
            assert_eq!(kinds(&blocks), ["other", "para"], "{src:?}: {blocks:?}");
            let Kind::Enumerated { items, .. } = &blocks[0].kind else {
                panic!("{src:?}: {blocks:?}")
            };
            assert_eq!(items.len(), 1, "{src:?}: {items:?}");
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert_eq!(
                (problems[0].line, problems[0].message.as_str()),
                (
                    2,
                    "enumerated list ends without a blank line; unexpected unindent"
                ),
                "{src:?}"
            );
        }
        // After a `#.` item, only `#.` goes on: `3.` starts a list of its own.
        let (blocks, problems) = read_all("1. a\n\n#. b\n\n3. c\n");
        let lists: Vec<(u32, usize)> = blocks
            .iter()
            .filter_map(|b| match &b.kind {
                Kind::Enumerated { start, items, .. } => Some((*start, items.len())),
                _ => None,
            })
            .collect();
        assert_eq!(lists, [(1, 2), (3, 1)], "{blocks:?}");
        assert!(problems.is_empty(), "{problems:?}");
        // In order, every item fits.
        let (blocks, problems) = read_all("1. a\n2. b\n3. c\n");
        let [
            Block {
                kind: Kind::Enumerated { items, .. },
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(items.len(), 3);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn definitions_apart_by_a_blank_line_are_one_list() {
        // Docutils: one definition list of two items.
        let (blocks, problems) = read_all("term1\n  def1\n\nterm2\n  def2\n");
        let [
            Block {
                kind: Kind::Definitions(items),
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        let terms: Vec<&str> = items.iter().map(|d| d.term.text.as_str()).collect();
        assert_eq!(terms, ["term1", "term2"]);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_line_block_may_end_the_document_without_a_newline() {
        let (blocks, problems) = read_all("| a\n| b");
        let [
            Block {
                kind: Kind::LineBlock(items),
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        let texts: Vec<&str> = items.iter().map(|(_, t)| t.text.as_str()).collect();
        assert_eq!(texts, ["a", "b"]);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_grid_table_with_one_separator_as_its_last_line_is_reported_as_such() {
        // Docutils: `Malformed table.`; the reader says why: not "more than one".
        let (blocks, problems) = read_all("+---+\n| a |\n+===+\n");
        assert_eq!(kinds(&blocks), ["literal"], "{blocks:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .message
                .contains("a head/body separator as its first or last line"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_quoted_target_name_may_hold_spaces() {
        // Docutils: `.. _`A phrase`: URL` names the target `a phrase`.
        for (src, name, url) in [
            (
                ".. _`A phrase`: https://x.org\n",
                "a phrase",
                "https://x.org",
            ),
            (".. _`a`: https://y.org\n", "a", "https://y.org"),
        ] {
            let mut r = Reader::new();
            r.document(&numbered(src.split('\n')));
            assert_eq!(
                r.refs.targets.get(name),
                Some(&Target::Url(url.into())),
                "{src:?}: {:?}",
                r.refs.targets
            );
            assert!(r.warnings.is_empty(), "{src:?}: {:?}", r.warnings);
        }
    }

    #[test]
    fn a_target_without_a_colon_is_reported() {
        // Docutils: `malformed hyperlink target.`, and the text is a comment.
        let (blocks, problems) = read_all(".. _name no colon\n");
        assert!(blocks.is_empty(), "{blocks:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("malformed hyperlink target"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_unicode_substitution_ends_at_two_dots() {
        // Docutils: `..` starts a comment among the codes.
        let mut r = Reader::new();
        r.document(&numbered(
            ".. |mdash| unicode:: U+2014 .. em dash\n".split('\n'),
        ));
        let Some(Substitution::Text(t)) = r.refs.substitutions.get("mdash") else {
            panic!("{:?}", r.refs.substitutions)
        };
        assert_eq!(t.text, "\u{2014}");
    }

    #[test]
    fn a_field_marker_starts_the_options_even_on_a_directives_first_line() {
        // Docutils (`parse_directive_options`): the options start at the first line
        // that is a field marker, the first line too (`.. code:: :number-lines: 3`:
        // no argument); and a directive without options has such lines as arguments.
        let lines = numbered(":number-lines: 3\n\nx = 1".lines());
        let d = Reader::new().split(&lines, true, true);
        assert_eq!(d.args, "");
        assert_eq!(
            d.options,
            [("number-lines".to_string(), "3".to_string(), 1)]
        );
        let content: Vec<&str> = d.content.iter().map(|l| l.text).collect();
        assert_eq!(content, ["x = 1"]);
        for src in ["1.2\n:foo: bar\n\nbody", "\n1.2\n:foo: bar\n\nbody"] {
            let lines = numbered(src.lines());
            let d = Reader::new().split(&lines, true, false);
            assert_eq!(d.args, "1.2 :foo: bar", "{src:?}");
            assert!(d.options.is_empty(), "{src:?}");
            let content: Vec<&str> = d.content.iter().map(|l| l.text).collect();
            assert_eq!(content, ["body"], "{src:?}");
        }
        let lines = numbered("\n:foo: bar\n\nbody".lines());
        let d = Reader::new().split(&lines, true, false);
        assert_eq!(d.args, ":foo: bar");
        // After an empty first line, options below it are options all the same.
        let lines = numbered("\n:class: x\n\nbody".lines());
        let d = Reader::new().split(&lines, true, true);
        assert_eq!(d.args, "");
        assert_eq!(d.options, [("class".to_string(), "x".to_string(), 2)]);
    }

    #[test]
    fn an_unknown_option_and_content_where_none_is_taken_are_reported() {
        // Docutils fails the directive (`unknown option: "foo"`, `no content
        // permitted`); the reader reports each where it is and reads the rest.
        let (blocks, problems) = read_all(".. image:: a.png\n   :foo: bar\n");
        assert_eq!(blocks.len(), 1, "{blocks:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].line, problems[0].message.as_str()),
            (2, "unknown option `:foo:` for `image`; ignored")
        );
        let (blocks, problems) = read_all(".. image:: a.png\n\n   Some content.\n");
        assert_eq!(blocks.len(), 1, "{blocks:?}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].line, problems[0].message.as_str()),
            (3, "`image` takes no content; the content is ignored")
        );
    }

    #[test]
    fn a_broken_overlined_title_is_reported_at_its_overline_and_shown_as_text() {
        // Docutils (SEVERE, ERROR): each at the overline, line 3 here (at the very end,
        // docutils says `Incomplete section title`).
        for (src, why) in [
            (
                "=====\nTitle",
                "missing matching underline for section title overline",
            ),
            (
                "=====\nTitle\n",
                "missing matching underline for section title overline",
            ),
            (
                "=====\nTitle\nmore text\n",
                "missing matching underline for section title overline",
            ),
            (
                "=====\nTitle\n\nPara.\n",
                "missing matching underline for section title overline",
            ),
            (
                "=====\nTitle\n-----\n",
                "title overline and underline mismatch",
            ),
            (
                "=====\nTitle\n====\n",
                "title overline and underline mismatch",
            ),
            (
                "=====\n-----\n",
                "invalid section title or transition marker",
            ),
        ] {
            let src = format!("Para.\n\n{src}");
            let (blocks, problems) = read_all(&src);
            assert!(!kinds(&blocks).contains(&"title"), "{src:?}: {blocks:?}");
            assert_eq!(kinds(&blocks)[1], "para", "{src:?}: {blocks:?}");
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert_eq!(
                (problems[0].line, problems[0].message.as_str()),
                (3, format!("{why}; shown as text").as_str()),
                "{src:?}"
            );
        }
        // Under 4 characters, docutils' notice is only informational: text, no report.
        let (blocks, problems) = read_all("===\nTitle\n-----\n");
        assert_eq!(kinds(&blocks), ["para"], "{blocks:?}");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_title_or_transition_where_none_may_be_is_reported_and_shown_as_text() {
        // Docutils: `Unexpected section title or transition.` (SEVERE) in a list item,
        // a block quote, a directive's content.
        for src in [
            "- item\n\n  -----\n\n  more\n",
            "- item\n\n  =====\n  Title\n  =====\n",
            "Para.\n\n  Quoted.\n\n  -----\n",
            ".. note::\n\n   -----\n\n   more\n",
        ] {
            let (blocks, problems) = read_all(src);
            assert!(
                !format!("{blocks:?}").contains("Transition"),
                "{src:?}: {blocks:?}"
            );
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert_eq!(
                problems[0].message,
                "a section title or transition cannot be nested here; shown as text",
                "{src:?}"
            );
        }
    }

    #[test]
    fn a_transition_first_last_or_right_after_another_is_reported() {
        // Docutils' `Transitions` transform: each at the transition's line; one at the
        // end of a section (before the next title) is fine.
        for (src, line, why) in [
            (
                "-----\n\nPara.\n",
                1,
                "a document or section may not begin with a transition",
            ),
            (
                "Title\n=====\n\n-----\n\nPara.\n",
                4,
                "a document or section may not begin with a transition",
            ),
            (
                "Para.\n\n-----\n\n-----\n\nText.\n",
                5,
                "at least one body element must separate transitions",
            ),
            (
                "Para.\n\n-----\n",
                3,
                "a document may not end with a transition",
            ),
        ] {
            let (_, problems) = read_all(src);
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert_eq!(
                (problems[0].line, problems[0].message.as_str()),
                (line, why),
                "{src:?}"
            );
        }
        for src in [
            "Para.\n\n-----\n\nText.\n",
            "A\n=\n\ntext\n\n-----\n\nB\n=\n\nmore\n",
        ] {
            let (blocks, problems) = read_all(src);
            assert!(kinds(&blocks).contains(&"transition"), "{blocks:?}");
            assert!(problems.is_empty(), "{src:?}: {problems:?}");
        }
    }
}
