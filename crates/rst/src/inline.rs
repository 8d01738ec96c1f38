//! Inline markup: emphasis, literals, interpreted text and roles, references,
//! substitutions, footnote references and bare URLs, with docutils' recognition rules
//! (a start-string follows whitespace or an opening punctuation and is followed by
//! non-whitespace; an end-string is the reverse; markup does not nest).
//!
//! Output is Markdown text with inline HTML tags (`<em>`, `<a href>`...), which reads the
//! same inside a Markdown paragraph and inside an HTML block.
//!
//! Every search for an end-string either succeeds (and the scan continues after it) or
//! fails once and is not repeated for that kind of markup, so the time is linear in
//! the length of the text.

use std::collections::HashMap;

use super::Problem;
use super::block::{Image, Refs, Substitution, Target, Text, normalize_name, slug};

/// Where rendered inline text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A Markdown paragraph: Markdown syntax characters are escaped.
    Markdown,
    /// A Markdown heading: as `Markdown`, and `#` and `{` are escaped anywhere.
    Heading,
    /// Inside an HTML block: only HTML is escaped.
    Html,
}

/// Markup kinds whose end-string search can fail (indexes into `failed`).
const LIT: usize = 0;
const STRONG: usize = 1;
const EMPH: usize = 2;
const INTERP: usize = 3;
const SUBST: usize = 4;

/// How far a role name or footnote label may reach.
const MAX_NAME: usize = 64;

pub(crate) struct Inline<'r> {
    refs: &'r Refs,
    /// Prefix that makes a root-relative (`/x`) path relative to the page.
    root: String,
    anonymous_used: usize,
    auto_footnote: u32,
    /// `.. [#]` definitions rendered so far.
    auto_footnote_defs: u32,
    /// Targets defined by embedded URIs (`` `text <url>`_ ``).
    embedded: HashMap<String, String>,
    /// Characters substitutions may still add (bounds nested/repeated expansion).
    budget: usize,
    pub warnings: Vec<Problem>,
    /// Rendering what slides never show (`ifnotslides`, prose outside `.. slide::`):
    /// hieroglyph never resolves `:ref:` there, so an unknown label is not reported.
    pub(crate) reading_only: bool,
}

/// Typographic punctuation for the text at `i` (and how many characters it replaces):
/// `"` and `'` open after a space or an opening bracket and close elsewhere (`'`
/// after a letter is an apostrophe), `--` is an en dash, `---` an em dash, `...` an
/// ellipsis.
fn smart(chars: &[char], i: usize) -> Option<(&'static str, usize)> {
    let at = |k: usize| chars.get(k).copied();
    let opens = i == 0 || {
        let p = chars[i - 1];
        p.is_whitespace() || "([{<-\u{2013}\u{2014}".contains(p)
    };
    match chars[i] {
        '-' if at(i + 1) == Some('-') && at(i + 2) == Some('-') => Some(("\u{2014}", 3)),
        '-' if at(i + 1) == Some('-') => Some(("\u{2013}", 2)),
        '.' if at(i + 1) == Some('.') && at(i + 2) == Some('.') => Some(("\u{2026}", 3)),
        '"' if opens => Some(("\u{201c}", 1)),
        '"' => Some(("\u{201d}", 1)),
        '\'' if opens => Some(("\u{2018}", 1)),
        '\'' => Some(("\u{2019}", 1)),
        _ => None,
    }
}

fn start_context(chars: &[char], i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let p = chars[i - 1];
    p.is_whitespace() || "-:/'\"<([{".contains(p) || (!p.is_ascii() && !p.is_alphanumeric())
}

fn end_context(chars: &[char], i: usize) -> bool {
    match chars.get(i) {
        None => true,
        Some(&c) => {
            c.is_whitespace()
                || "-.,:;!?\\/'\")]}>".contains(c)
                || (!c.is_ascii() && !c.is_alphanumeric())
        }
    }
}

/// The closing bracket for an opening one, for the "`(*)` is not markup" rule.
fn closer(c: char) -> Option<char> {
    match c {
        '(' => Some(')'),
        '[' => Some(']'),
        '{' => Some('}'),
        '<' => Some('>'),
        '\'' => Some('\''),
        '"' => Some('"'),
        _ => None,
    }
}

/// Whether a start-string of `len` chars at `i` may open markup.
fn opens(chars: &[char], i: usize, len: usize) -> bool {
    let Some(&next) = chars.get(i + len) else {
        return false;
    };
    if next.is_whitespace() {
        return false;
    }
    if i > 0
        && let Some(c) = closer(chars[i - 1])
        && c == next
    {
        return false;
    }
    true
}

fn starts_with(chars: &[char], i: usize, s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(k, c)| chars.get(i + k) == Some(&c))
}

pub(crate) use contract::escape::html as escape_html;

/// Removes backslash escapes (`\*` -> `*`, backslash-space -> nothing).
fn unescape(chars: &[char]) -> String {
    let mut out = String::with_capacity(chars.len());
    let mut k = 0;
    while k < chars.len() {
        if chars[k] == '\\' && k + 1 < chars.len() {
            if chars[k + 1] != ' ' && chars[k + 1] != '\n' {
                out.push(chars[k + 1]);
            }
            k += 2;
        } else {
            out.push(chars[k]);
            k += 1;
        }
    }
    out
}

/// `text <target>` at the end of interpreted text: (text, target).
/// A cross-reference's shown text (if given) and target: `text <target>` (Sphinx needs
/// no space before the `<`) or `target`.
fn xref_target(text: &str) -> (Option<String>, String) {
    let t = text.trim();
    if let Some(inner) = t.strip_suffix('>')
        && let Some(open) = inner.rfind('<')
    {
        let shown = inner[..open]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let target = inner[open + 1..].trim().to_string();
        return ((!shown.is_empty()).then_some(shown), target);
    }
    (None, t.to_string())
}

/// Sphinx's domain roles (`:py:class:`, `:rst:dir:`, `:confval:`, ...), shown as code.
fn is_domain_role(role: &str) -> bool {
    const ROLES: &[&str] = &[
        "func",
        "class",
        "meth",
        "attr",
        "mod",
        "data",
        "const",
        "exc",
        "obj",
        "confval",
        "dir",
        "role",
        "option",
        "envvar",
        "token",
        "event",
        "setting",
        "type",
        "macro",
        "member",
        "var",
        "struct",
        "enum",
        "enumerator",
        "union",
        "expr",
        "texpr",
    ];
    match role.rsplit_once(':') {
        Some((domain, _)) => {
            matches!(
                domain,
                "py" | "rst" | "c" | "cpp" | "js" | "std" | "rust" | "math"
            )
        }
        None => ROLES.contains(&role),
    }
}

/// `~a.b.C` shows `C`; a leading `!` (no link) is dropped.
fn object_name(target: &str) -> String {
    let t = target.trim().trim_start_matches('!');
    match t.strip_prefix('~') {
        Some(rest) => rest.rsplit('.').next().unwrap_or(rest).to_string(),
        None => t.to_string(),
    }
}

fn embedded(content: &str) -> Option<(&str, &str)> {
    let t = content.trim_end();
    let inner = t.strip_suffix('>')?;
    let open = inner.rfind('<')?;
    let text = &inner[..open];
    if !text.is_empty() && !text.ends_with([' ', '\n']) {
        return None;
    }
    Some((text.trim_end(), &inner[open + 1..]))
}

impl<'r> Inline<'r> {
    pub(crate) fn new(refs: &'r Refs, root: &str, budget: usize) -> Inline<'r> {
        Inline {
            refs,
            root: root.to_string(),
            anonymous_used: 0,
            auto_footnote: 0,
            auto_footnote_defs: 0,
            embedded: HashMap::new(),
            budget,
            warnings: Vec::new(),
            reading_only: false,
        }
    }

    /// The number of the `n`-th `.. [#]` footnote.
    fn nth_anonymous_footnote(&self, n: u32) -> Option<String> {
        self.refs
            .auto_footnotes
            .iter()
            .filter(|(l, _)| l == "#")
            .nth(n.checked_sub(1)? as usize)
            .map(|(_, k)| k.to_string())
    }

    /// The number of `.. [#label]`, or `None` for other labels (shown as written).
    fn labelled_footnote(&self, label: &str) -> Option<String> {
        self.refs
            .auto_footnotes
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, k)| k.to_string())
    }

    /// A footnote definition's anchor id and shown label, in definition order.
    pub(crate) fn footnote_label(&mut self, label: &str) -> (String, String) {
        let shown = if label == "#" {
            self.auto_footnote_defs += 1;
            self.nth_anonymous_footnote(self.auto_footnote_defs)
                .unwrap_or_else(|| label.to_string())
        } else {
            self.labelled_footnote(label)
                .unwrap_or_else(|| label.to_string())
        };
        (format!("footnote-{}", slug(&shown)), shown)
    }

    /// How many anonymous targets exist and how many references used one.
    pub(crate) fn anonymous_counts(&self) -> (usize, usize) {
        (self.refs.anonymous.len(), self.anonymous_used)
    }

    /// Renders a block's raw inline text.
    pub(crate) fn render(&mut self, text: &Text, mode: Mode) -> String {
        let chars: Vec<char> = text.text.chars().collect();
        let mut out = String::with_capacity(text.text.len() + 16);
        let mut run = Run {
            chars: &chars,
            line: text.line,
            mode,
            failed: [false; 5],
            newlines: newlines(&chars),
            escape_at: None,
        };
        self.run(&mut run, &mut out, 0);
        out
    }

    /// A URI as written in a document, made usable from the page.
    pub(crate) fn uri(&self, uri: &str) -> String {
        match uri.strip_prefix('/') {
            Some(rest) if !rest.starts_with('/') => format!("{}{rest}", self.root),
            _ => uri.to_string(),
        }
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(Problem { line, message });
    }

    fn run(&mut self, r: &mut Run, out: &mut String, depth: usize) {
        let chars = r.chars;
        let n = chars.len();
        let mut i = 0;
        while i < n {
            let c = chars[i];
            if c == '\\' {
                match chars.get(i + 1) {
                    // Docutils: escaped whitespace is removed, the backslash with it.
                    Some(' ' | '\n') => i += 2,
                    Some(&d) => {
                        r.text(out, d, i + 1);
                        i += 2;
                    }
                    None => {
                        r.text(out, '\\', i);
                        i += 1;
                    }
                }
                continue;
            }
            if start_context(chars, i)
                && let Some(next) = self.markup(r, out, i, depth)
            {
                i = next;
                continue;
            }
            if start_context(chars, i) && c.is_alphanumeric() {
                i = self.word(r, out, i);
                continue;
            }
            // Inside HTML, which mdBook's smart punctuation does not reach: quotes and
            // dashes as docutils' smartquotes makes them.
            if r.mode == Mode::Html
                && let Some((typographic, len)) = smart(chars, i)
            {
                out.push_str(typographic);
                i += len;
                continue;
            }
            r.text(out, c, i);
            i += 1;
        }
    }

    /// Inline markup starting at `i` (in start context): where it ends, or `None`.
    fn markup(&mut self, r: &mut Run, out: &mut String, i: usize, depth: usize) -> Option<usize> {
        let chars = r.chars;
        let c = chars[i];
        match c {
            '`' if starts_with(chars, i, "``") => {
                if !opens(chars, i, 2) {
                    return None;
                }
                let Some(end) = r.find_end(i + 2, "``", LIT, false) else {
                    self.unmatched(r, i, "inline literal");
                    return None;
                };
                let content: String = chars[i + 2..end].iter().collect();
                r.literal(out, &content);
                Some(end + 2)
            }
            '*' if starts_with(chars, i, "**") => {
                if !opens(chars, i, 2) {
                    return None;
                }
                let Some(end) = r.find_end(i + 2, "**", STRONG, true) else {
                    self.unmatched(r, i, "strong");
                    return None;
                };
                r.wrap(out, "strong", &unescape(&chars[i + 2..end]), i + 2);
                Some(end + 2)
            }
            '*' => {
                if !opens(chars, i, 1) {
                    return None;
                }
                let Some(end) = r.find_end(i + 1, "*", EMPH, true) else {
                    self.unmatched(r, i, "emphasis");
                    return None;
                };
                r.wrap(out, "em", &unescape(&chars[i + 1..end]), i + 1);
                Some(end + 1)
            }
            '`' => {
                if !opens(chars, i, 1) {
                    return None;
                }
                self.interpreted(r, out, i, i + 1, None, depth)
            }
            ':' => self.role_reference(r, out, i, depth),
            '|' => self.substitution_reference(r, out, i, depth),
            '_' if chars.get(i + 1) == Some(&'`') => {
                if !opens(chars, i, 2) {
                    return None;
                }
                let end = r.find_end(i + 2, "`", INTERP, true)?;
                if !end_context(chars, end + 1) {
                    return None;
                }
                let text = unescape(&chars[i + 2..end]);
                r.plain(out, &text, i + 2);
                Some(end + 1)
            }
            '[' => self.footnote_reference(r, out, i),
            'h' | 'H' | 'f' | 'F' | 'm' | 'M' => self.standalone_url(r, out, i),
            _ => None,
        }
    }

    /// `:role:` followed by interpreted text.
    fn role_reference(
        &mut self,
        r: &mut Run,
        out: &mut String,
        i: usize,
        depth: usize,
    ) -> Option<usize> {
        let chars = r.chars;
        // `:role:` followed by interpreted text.
        let mut k = i + 1;
        while k < chars.len() && k - i <= MAX_NAME {
            let ch = chars[k];
            if ch == '`' {
                break;
            }
            if !(ch.is_ascii_alphanumeric() || "-_.+:".contains(ch)) {
                return None;
            }
            k += 1;
        }
        if chars.get(k) != Some(&'`') || chars[k - 1] != ':' || k < i + 3 {
            return None;
        }
        let role: String = chars[i + 1..k - 1].iter().collect();
        if !opens(chars, k, 1) || chars.get(k + 1) == Some(&'`') {
            return None;
        }
        self.interpreted(r, out, k, k + 1, Some(role), depth)
    }

    /// `|name|`, and `|name|_` linking the substitution.
    fn substitution_reference(
        &mut self,
        r: &mut Run,
        out: &mut String,
        i: usize,
        depth: usize,
    ) -> Option<usize> {
        let chars = r.chars;
        if !opens(chars, i, 1) || chars.get(i + 1) == Some(&'|') {
            return None;
        }
        let Some(end) = r.find_end_suffixed(i + 1, '|', SUBST) else {
            self.unmatched(r, i, "substitution reference");
            return None;
        };
        let (after, reference) = suffix(chars, end + 1);
        let name: String = unescape(&chars[i + 1..end]);
        let line = r.line_at(i);
        let mut rendered = String::new();
        self.substitute(r, &mut rendered, &name, line, depth);
        match reference {
            Some(anonymous) => {
                let text = name.clone();
                match self.href(&text, anonymous, line) {
                    Some(href) => out.push_str(&format!(
                        "<a href=\"{}\">{rendered}</a>",
                        escape_html(&href)
                    )),
                    None => out.push_str(&rendered),
                }
            }
            None => out.push_str(&rendered),
        }
        Some(after)
    }

    /// `[1]_`, `[#]_`, `[#label]_`: a link to the footnote, with its number.
    fn footnote_reference(&mut self, r: &mut Run, out: &mut String, i: usize) -> Option<usize> {
        let chars = r.chars;
        let mut k = i + 1;
        while k < chars.len() && k - i <= MAX_NAME && chars[k] != ']' {
            if chars[k].is_whitespace() {
                return None;
            }
            k += 1;
        }
        if k == i + 1 || !starts_with(chars, k, "]_") || !end_context(chars, k + 2) {
            return None;
        }
        let label: String = chars[i + 1..k].iter().collect();
        let shown = if label == "#" {
            self.auto_footnote += 1;
            self.nth_anonymous_footnote(self.auto_footnote)
                .unwrap_or_else(|| self.auto_footnote.to_string())
        } else {
            self.labelled_footnote(&label).unwrap_or(label)
        };
        out.push_str(&format!(
            "<a class=\"footnote-reference\" href=\"#footnote-{}\"><sup>[{}]</sup></a>",
            escape_html(&slug(&shown)),
            escape_html(&shown)
        ));
        Some(k + 2)
    }

    /// A bare URL (`https://...`), without the punctuation that ends its sentence.
    fn standalone_url(&mut self, r: &mut Run, out: &mut String, i: usize) -> Option<usize> {
        let chars = r.chars;
        let len = ["https://", "http://", "ftp://", "mailto:"]
            .iter()
            .find(|s| {
                s.chars().enumerate().all(|(k, sc)| {
                    chars
                        .get(i + k)
                        .is_some_and(|ch| ch.eq_ignore_ascii_case(&sc))
                })
            })?
            .len();
        let mut end = i + len;
        while end < chars.len() && !chars[end].is_whitespace() && !"<>\"`\\".contains(chars[end]) {
            end += 1;
        }
        // Trailing punctuation ends the sentence, not the URL; `)` counts when unbalanced.
        let opened = chars[i..end].iter().filter(|&&x| x == '(').count();
        let mut closed = chars[i..end].iter().filter(|&&x| x == ')').count();
        while let Some(&last) = chars[i + len..end].last() {
            if ".,;:!?'\"]}".contains(last) {
                end -= 1;
            } else if last == ')' && closed > opened {
                closed -= 1;
                end -= 1;
            } else {
                break;
            }
        }
        // Docutils links a scheme with `//` and nothing more (`http://`), not a bare
        // `mailto:`.
        if end == i + len && chars[end - 1] != '/' {
            return None;
        }
        let url: String = chars[i..end].iter().collect();
        r.link(out, &url, &url, i);
        Some(end)
    }

    fn unmatched(&mut self, r: &Run, i: usize, what: &str) {
        let line = r.line_at(i);
        self.warn(
            line,
            format!("{what} start-string without end-string; shown as text"),
        );
    }

    /// A simple reference name (`name_`, `name__`) or a plain word.
    fn word(&mut self, r: &mut Run, out: &mut String, i: usize) -> usize {
        let chars = r.chars;
        let mut end = i;
        while end < chars.len() {
            if chars[end].is_alphanumeric() {
                end += 1;
            } else if "-._+:".contains(chars[end])
                && chars.get(end + 1).is_some_and(|c| c.is_alphanumeric())
            {
                end += 2;
            } else {
                break;
            }
        }
        let (after, reference) = suffix(chars, end);
        let name: String = chars[i..end].iter().collect();
        match reference {
            Some(anonymous) => {
                let line = r.line_at(i);
                match self.href(&name, anonymous, line) {
                    Some(href) => r.link(out, &href, &name, i),
                    None => r.plain(out, &name, i),
                }
                after
            }
            None => {
                for (k, c) in chars[i..end].iter().enumerate() {
                    r.text(out, *c, i + k);
                }
                end
            }
        }
    }

    /// Interpreted text whose opening backquote is at `open`; `from` is where its
    /// content starts.
    fn interpreted(
        &mut self,
        r: &mut Run,
        out: &mut String,
        open: usize,
        from: usize,
        prefix_role: Option<String>,
        depth: usize,
    ) -> Option<usize> {
        let chars = r.chars;
        let Some(end) = r.find_end_interpreted(from) else {
            self.unmatched(r, open, "interpreted text or phrase reference");
            return None;
        };
        let raw = &chars[from..end];
        let line = r.line_at(from);
        let mut after = end + 1;
        let mut role = prefix_role;
        let mut reference = None;
        if role.is_none() {
            let (a, rf) = suffix(chars, end + 1);
            if rf.is_some() {
                after = a;
                reference = rf;
            } else if chars.get(end + 1) == Some(&':') {
                let mut k = end + 2;
                while k < chars.len()
                    && k - end <= MAX_NAME
                    && (chars[k].is_ascii_alphanumeric() || "-_.+".contains(chars[k]))
                {
                    k += 1;
                }
                if chars.get(k) == Some(&':') && k > end + 2 && end_context(chars, k + 1) {
                    role = Some(chars[end + 2..k].iter().collect());
                    after = k + 1;
                }
            }
        }
        if let Some(anonymous) = reference {
            let content = unescape(raw);
            let (text, href) = match embedded(&content) {
                Some((text, target)) => {
                    let href = if let Some(alias) = target.strip_suffix('_')
                        && !target.contains(char::is_whitespace)
                    {
                        self.href(alias.trim_matches('`'), false, line)
                    } else {
                        let url: String = target.split_whitespace().collect();
                        Some(self.uri(&url))
                    };
                    let shown = if text.is_empty() {
                        target.to_string()
                    } else {
                        text.to_string()
                    };
                    if !anonymous
                        && let Some(h) = &href
                        && !text.is_empty()
                    {
                        self.embedded.insert(normalize_name(text), h.clone());
                    }
                    (shown, href)
                }
                None => {
                    let href = self.href(&content, anonymous, line);
                    (content, href)
                }
            };
            match href {
                Some(href) => r.link(out, &href, &text, from),
                None => r.plain(out, &text, from),
            }
            return Some(after);
        }
        let content: String = raw.iter().collect();
        self.role(
            r,
            out,
            role.as_deref().unwrap_or("title-reference"),
            &content,
            from,
            depth,
        );
        Some(after)
    }

    fn role(
        &mut self,
        r: &mut Run,
        out: &mut String,
        role: &str,
        content: &str,
        at: usize,
        _depth: usize,
    ) {
        let text = unescape(&content.chars().collect::<Vec<_>>());
        let tag =
            match role.to_ascii_lowercase().as_str() {
                "emphasis" | "manpage" => "em",
                "strong" => "strong",
                "sub" | "subscript" => "sub",
                "sup" | "superscript" => "sup",
                "title-reference" | "title" | "t" => "cite",
                "abbreviation" | "ab" | "abbr" | "acronym" | "ac" => "abbr",
                "dfn" => "dfn",
                "kbd" => "kbd",
                "program" => "strong",
                "literal" | "code" | "file" | "samp" | "command" | "envvar" | "option"
                | "mimetype" | "makevar" | "regexp" | "math" => {
                    r.literal(out, content);
                    return;
                }
                "guilabel" | "menuselection" => "span",
                "ref" | "numref" => {
                    self.ref_role(r, out, &text, at);
                    return;
                }
                "doc" => {
                    self.doc_role(r, out, &text, at);
                    return;
                }
                "term" | "any" | "keyword" => {
                    let shown = embedded(&text).map_or(text.as_str(), |(t, target)| {
                        if t.is_empty() { target } else { t }
                    });
                    r.plain(out, shown, at);
                    return;
                }
                lower if is_domain_role(lower) => {
                    let shown = embedded(&text).map_or(text.as_str(), |(t, target)| {
                        if t.is_empty() { target } else { t }
                    });
                    let mut name = object_name(shown);
                    // Sphinx adds the call parentheses to functions and methods.
                    if lower.ends_with("func") || lower.ends_with("meth") {
                        name.push_str("()");
                    }
                    r.literal(out, &name);
                    return;
                }
                "rfc" | "pep" => {
                    let number: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
                    if number.is_empty() {
                        let line = r.line_at(at);
                        self.warn(line, format!("`:{role}:` needs a number"));
                        r.plain(out, &text, at);
                        return;
                    }
                    let (href, shown) = if role.eq_ignore_ascii_case("rfc") {
                        (
                            format!("https://datatracker.ietf.org/doc/html/rfc{number}"),
                            format!("RFC {number}"),
                        )
                    } else {
                        (
                            format!("https://peps.python.org/pep-{number:0>4}/"),
                            format!("PEP {number}"),
                        )
                    };
                    r.link(out, &href, &shown, at);
                    return;
                }
                _ => {
                    let line = r.line_at(at);
                    self.warn(
                        line,
                        format!("unknown role `:{role}:`; shown as plain text"),
                    );
                    r.plain(out, &text, at);
                    return;
                }
            };
        r.wrap(out, tag, &text, at);
    }

    /// `:ref:`label`` and `:ref:`text <label>``: a link to the section the label is
    /// on, showing its title (this chapter's labels, then the book's).
    fn ref_role(&mut self, r: &mut Run, out: &mut String, text: &str, at: usize) {
        let (given, label) = xref_target(text);
        let key = normalize_name(&label);
        // Sphinx's own pages: a single-page book has none of them; their names show.
        if let Some(title) = match key.as_str() {
            "genindex" => Some("Index"),
            "modindex" => Some("Module Index"),
            "search" => Some("Search Page"),
            _ => None,
        } {
            r.plain(out, given.as_deref().unwrap_or(title), at);
            return;
        }
        let found = match self.refs.section_labels.get(&key) {
            Some(title) => Some((title.clone(), format!("#{}", slug(title)))),
            None => self
                .refs
                .external
                .get(&key)
                .map(|(title, href)| (title.clone(), format!("{}{href}", self.root))),
        };
        match found {
            Some((title, href)) => r.link(out, &href, given.as_deref().unwrap_or(&title), at),
            None => {
                let line = r.line_at(at);
                if !self.reading_only {
                    self.warn(
                        line,
                        format!("undefined label `{label}` in `:ref:`; shown as text"),
                    );
                }
                r.plain(out, given.as_deref().unwrap_or(&label), at);
            }
        }
    }

    /// `:doc:`name`` (and `text <name>`): a link to that chapter, showing its title
    /// when the book knows it.
    fn doc_role(&mut self, r: &mut Run, out: &mut String, text: &str, at: usize) {
        let (given, doc) = xref_target(text);
        // A target written across lines is one name (its line breaks would otherwise
        // appear twice, in the href and the text, and shift every later line).
        let key = doc
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .trim_start_matches('/')
            .to_string();
        let (title, href) = match self.refs.docs.get(&key) {
            Some((title, href)) => (title.clone(), format!("{}{href}", self.root)),
            None => (key.clone(), format!("{key}.html")),
        };
        r.link(out, &href, given.as_deref().unwrap_or(&title), at);
    }

    /// The URL a reference name points to, or a warning.
    fn href(&mut self, name: &str, anonymous: bool, line: usize) -> Option<String> {
        if anonymous {
            let Some(t) = self.refs.anonymous.get(self.anonymous_used) else {
                self.warn(
                    line,
                    format!("anonymous reference `{name}__` has no matching `.. __:` target"),
                );
                return None;
            };
            self.anonymous_used += 1;
            return self.resolve(t.clone(), name, line);
        }
        let key = normalize_name(name);
        if let Some(url) = self.embedded.get(&key) {
            return Some(url.clone());
        }
        match self.refs.targets.get(&key) {
            Some(t) => self.resolve(t.clone(), name, line),
            None => {
                self.warn(
                    line,
                    format!("unknown target name `{name}`; shown as plain text"),
                );
                None
            }
        }
    }

    fn resolve(&mut self, mut target: Target, name: &str, line: usize) -> Option<String> {
        let mut current = name.to_string();
        for _ in 0..8 {
            match target {
                Target::Url(url) => return Some(self.uri(&url)),
                Target::Anchor(id) if id.is_empty() => return Some(format!("#{}", slug(&current))),
                Target::Anchor(id) => return Some(format!("#{id}")),
                Target::Alias(next) => {
                    if let Some(url) = self.embedded.get(&next) {
                        return Some(url.clone());
                    }
                    let Some(t) = self.refs.targets.get(&next) else {
                        self.warn(
                            line,
                            format!(
                                "`{name}` points to unknown target `{next}`; shown as plain text"
                            ),
                        );
                        return None;
                    };
                    current = next;
                    target = t.clone();
                }
            }
        }
        self.warn(
            line,
            format!("target `{name}` is an alias chain that is too long (or a loop)"),
        );
        None
    }

    fn substitute(&mut self, r: &mut Run, out: &mut String, name: &str, line: usize, depth: usize) {
        let key = normalize_name(name);
        let Some(sub) = self.refs.substitutions.get(&key) else {
            self.warn(
                line,
                format!("undefined substitution `|{name}|`; shown as text"),
            );
            for c in format!("|{name}|").chars() {
                r.text_raw(out, c);
            }
            return;
        };
        match sub {
            Substitution::Image(image) => {
                let image = image.clone();
                out.push_str(&self.img(&image));
            }
            Substitution::Raw(html) => {
                // The same budget as text: many uses of a long one cannot blow up.
                if html.len() > self.budget {
                    self.warn(
                        line,
                        format!("substitution `|{name}|` not expanded (too much text)"),
                    );
                    return;
                }
                self.budget -= html.len();
                out.push_str(&html.replace('\n', " "));
            }
            Substitution::Text(text) => {
                let size = text.text.len();
                if depth >= 2 || size > self.budget {
                    self.warn(
                        line,
                        format!("substitution `|{name}|` not expanded (nested too deep or too much text)"),
                    );
                    for c in text.text.chars() {
                        r.text_raw(out, c);
                    }
                    return;
                }
                self.budget -= size;
                let chars: Vec<char> = text.text.chars().collect();
                let mut inner = Run {
                    chars: &chars,
                    line: text.line,
                    mode: r.mode,
                    failed: [false; 5],
                    newlines: newlines(&chars),
                    escape_at: None,
                };
                let mut piece = String::new();
                self.run(&mut inner, &mut piece, depth + 1);
                // A replacement is inline: its line breaks are spaces.
                out.push_str(&piece.replace('\n', " "));
            }
        }
    }

    /// An `<img>` tag for an image.
    pub(crate) fn img(&mut self, image: &Image) -> String {
        let mut tag = format!("<img src=\"{}\"", escape_html(&self.uri(&image.uri)));
        let alt = image
            .alt
            .clone()
            .unwrap_or_else(|| image.uri.rsplit('/').next().unwrap_or("").to_string());
        tag.push_str(&format!(" alt=\"{}\"", escape_html(&alt)));
        let mut style = String::new();
        for (attr, value) in [("width", &image.width), ("height", &image.height)] {
            if let Some(v) = value {
                let v = v.trim();
                if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    tag.push_str(&format!(" {attr}=\"{v}\""));
                } else if !v.is_empty() {
                    style.push_str(&format!("{attr}: {}; ", escape_html(v)));
                }
            }
        }
        if !style.is_empty() {
            tag.push_str(&format!(" style=\"{}\"", style.trim_end()));
        }
        let mut classes = image.classes.clone();
        if let Some(align) = &image.align {
            classes.push(format!("align-{}", slug(align)));
        }
        if !classes.is_empty() {
            tag.push_str(&format!(" class=\"{}\"", escape_html(&classes.join(" "))));
        }
        tag.push('>');
        if let Some(target) = &image.target {
            let t = target.trim();
            let href = if let Some(name) = t.strip_suffix('_')
                && !t.contains("://")
            {
                self.href(name.trim_matches('`'), false, 0)
            } else {
                Some(self.uri(t))
            };
            if let Some(href) = href {
                return format!("<a href=\"{}\">{tag}</a>", escape_html(&href));
            }
        }
        tag
    }
}

fn newlines(chars: &[char]) -> Vec<usize> {
    chars
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == '\n')
        .map(|(k, _)| k)
        .collect()
}

/// A reference suffix at `i`: `__` (anonymous) or `_`, followed by end context.
/// Returns where the markup ends and `Some(anonymous)` if it is a reference.
fn suffix(chars: &[char], i: usize) -> (usize, Option<bool>) {
    if starts_with(chars, i, "__") && end_context(chars, i + 2) {
        (i + 2, Some(true))
    } else if chars.get(i) == Some(&'_') && end_context(chars, i + 1) {
        (i + 1, Some(false))
    } else {
        (i, None)
    }
}

/// The text being rendered and how.
struct Run<'c> {
    chars: &'c [char],
    line: usize,
    mode: Mode,
    failed: [bool; 5],
    /// Where the text's line breaks are, for line numbers in warnings.
    newlines: Vec<usize>,
    /// A `.` or `)` after a number at the start of a line, escaped so that it does
    /// not start an ordered list.
    escape_at: Option<usize>,
}

impl Run<'_> {
    fn line_at(&self, i: usize) -> usize {
        self.line + self.newlines.partition_point(|&p| p < i)
    }

    /// The first valid `end` string after `from`, the markup's first character (read
    /// from there, so that an escape there is one: docutils' `*\* x*` is `* x`).
    fn find_end(&mut self, from: usize, end: &str, kind: usize, escapes: bool) -> Option<usize> {
        if self.failed[kind] {
            return None;
        }
        let chars = self.chars;
        let len = end.chars().count();
        let mut k = from;
        while k < chars.len() {
            if escapes && chars[k] == '\\' {
                k += 2;
                continue;
            }
            if k > from
                && starts_with(chars, k, end)
                && !chars[k - 1].is_whitespace()
                && end_context(chars, k + len)
            {
                return Some(k);
            }
            k += 1;
        }
        self.failed[kind] = true;
        None
    }

    /// The closing char of markup that may take a reference suffix (`|x|_`), after
    /// `from` (its first character, as for `find_end`).
    fn find_end_suffixed(&mut self, from: usize, end: char, kind: usize) -> Option<usize> {
        if self.failed[kind] {
            return None;
        }
        let chars = self.chars;
        let mut k = from;
        while k < chars.len() {
            if chars[k] == '\\' {
                k += 2;
                continue;
            }
            if k > from && chars[k] == end && !chars[k - 1].is_whitespace() {
                let (after, _) = suffix(chars, k + 1);
                if end_context(chars, after) {
                    return Some(k);
                }
            }
            k += 1;
        }
        self.failed[kind] = true;
        None
    }

    /// The closing backquote of interpreted text: followed by end context, a reference
    /// suffix, or a `:role:` suffix; after `from` (its first character, as for
    /// `find_end`).
    fn find_end_interpreted(&mut self, from: usize) -> Option<usize> {
        if self.failed[INTERP] {
            return None;
        }
        let chars = self.chars;
        let mut k = from;
        while k < chars.len() {
            if chars[k] == '\\' {
                k += 2;
                continue;
            }
            if k > from
                && chars[k] == '`'
                && !chars[k - 1].is_whitespace()
                && chars.get(k + 1) != Some(&'`')
            {
                let (after, _) = suffix(chars, k + 1);
                if end_context(chars, after) || chars.get(k + 1) == Some(&':') {
                    return Some(k);
                }
            }
            k += 1;
        }
        self.failed[INTERP] = true;
        None
    }

    fn at_line_start(out: &str) -> bool {
        out.is_empty() || out.ends_with('\n')
    }

    /// One character of text at `i` in the source, escaped for the mode.
    fn text(&mut self, out: &mut String, c: char, i: usize) {
        if self.mode != Mode::Html && Self::at_line_start(out) && c.is_ascii_digit() {
            // CommonMark: an ordered list marker has at most nine digits.
            let mut k = i;
            while k < self.chars.len() && k - i < 9 && self.chars[k].is_ascii_digit() {
                k += 1;
            }
            if matches!(self.chars.get(k), Some('.' | ')')) {
                self.escape_at = Some(k);
            }
        }
        if self.escape_at == Some(i) {
            out.push('\\');
            out.push(c);
            return;
        }
        self.text_raw(out, c);
    }

    /// One character of text, escaped for the mode (no position-dependent rules).
    fn text_raw(&mut self, out: &mut String, c: char) {
        match self.mode {
            Mode::Html => match contract::escape::entity(c) {
                Some(entity) => out.push_str(entity),
                None => out.push(c),
            },
            Mode::Markdown | Mode::Heading => {
                let bol = Self::at_line_start(out);
                match c {
                    ' ' | '\t' if bol => {}
                    '\n' => {
                        let trimmed = out.trim_end_matches([' ', '\t']).len();
                        out.truncate(trimmed);
                        out.push('\n');
                    }
                    '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                        out.push('\\');
                        out.push(c);
                    }
                    // Markup and entities, through the one escaper; a double quote
                    // means nothing in Markdown text and stays itself.
                    c if c != '"'
                        && let Some(entity) = contract::escape::entity(c) =>
                    {
                        out.push_str(entity)
                    }
                    // `:` too: mdBook reads `term` + `: text` as a definition list.
                    '#' | '-' | '+' | '=' | ':' if bol => {
                        out.push('\\');
                        out.push(c);
                    }
                    '#' | '{' | '}' if self.mode == Mode::Heading => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
        }
    }

    fn plain(&mut self, out: &mut String, text: &str, _at: usize) {
        for c in text.chars() {
            self.text_raw(out, c);
        }
    }

    fn wrap(&mut self, out: &mut String, tag: &str, text: &str, at: usize) {
        out.push_str(&format!("<{tag}>"));
        self.plain(out, text, at);
        out.push_str(&format!("</{tag}>"));
    }

    fn link(&mut self, out: &mut String, href: &str, text: &str, at: usize) {
        out.push_str(&format!("<a href=\"{}\">", escape_html(href)));
        self.plain(out, text, at);
        out.push_str("</a>");
    }

    fn literal(&mut self, out: &mut String, content: &str) {
        if self.mode != Mode::Html && !content.contains('\n') {
            let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = "`".repeat(longest + 1);
            let pad =
                if content.starts_with('`') || content.ends_with('`') || content.starts_with(' ') {
                    " "
                } else {
                    ""
                };
            out.push_str(&format!("{fence}{pad}{content}{pad}{fence}"));
            return;
        }
        out.push_str("<code>");
        for c in content.chars() {
            match (self.mode, c) {
                (Mode::Html, '{') => out.push_str("&#123;"),
                _ => self.text_raw(out, c),
            }
        }
        out.push_str("</code>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(src: &str) -> (String, Vec<Problem>) {
        let refs = Refs::default();
        let mut inline = Inline::new(&refs, "", 1 << 20);
        let out = inline.render(
            &Text {
                text: src.into(),
                line: 1,
            },
            Mode::Markdown,
        );
        (out, inline.warnings)
    }

    #[test]
    fn emphasis_strong_literal() {
        assert_eq!(md("*a* **b** ``c``").0, "<em>a</em> <strong>b</strong> `c`");
    }

    #[test]
    fn markup_needs_context() {
        assert_eq!(md("2 * 3 * 4").0, "2 \\* 3 \\* 4");
        assert_eq!(md("a*b*c").0, "a\\*b\\*c");
        assert_eq!(md("(*)").0, "(\\*)");
    }

    #[test]
    fn literal_with_leading_space_is_not_markup() {
        let (out, w) = md("``    # x``");
        assert!(!out.contains("<code>") && !out.starts_with('`'), "{out}");
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn unmatched_start_string_warns() {
        let (out, w) = md("a *b c");
        assert_eq!(out, "a \\*b c");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn line_starts_are_protected() {
        assert_eq!(md("a\n- b\n1. c\n# d").0, "a\n\\- b\n1\\. c\n\\# d");
    }

    #[test]
    fn bare_urls_lose_trailing_punctuation() {
        assert_eq!(
            md("see http://x.org/a_(b), ok").0,
            "see <a href=\"http://x.org/a_(b)\">http://x.org/a\\_(b)</a>, ok"
        );
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn only_three_dots_are_an_ellipsis() {
        assert_eq!(smart(&chars("..."), 0), Some(("\u{2026}", 3)));
        assert_eq!(smart(&chars("..x"), 0), None);
        assert_eq!(smart(&chars(".x."), 0), None);
    }

    #[test]
    fn markup_may_start_after_punctuation_but_not_after_a_letter_beyond_ascii() {
        // Docutils: a start-string follows whitespace, ASCII openers and delimiters,
        // or any non-ASCII punctuation (Unicode categories Pd, Po, Ps, ...).
        assert!(start_context(&chars("\u{2014}*"), 1));
        assert!(start_context(&chars("\u{ab}*"), 1));
        assert!(!start_context(&chars("\u{e9}*"), 1));
        assert!(!start_context(&chars("a*"), 1));
    }

    #[test]
    fn a_start_string_between_matching_brackets_or_quotes_is_text() {
        for src in ["(*)", "[*]", "{*}", "<*>", "'*'", "\"*\""] {
            let (out, w) = md(src);
            assert!(w.is_empty(), "{src}: {w:?}");
            assert!(!out.contains("<em>"), "{src}: {out}");
        }
        // Between brackets that do not match, it opens (and here warns: no end).
        assert_eq!(md("(*]").1.len(), 1);
    }

    #[test]
    fn unescape_drops_backslashes_and_escaped_spaces() {
        assert_eq!(unescape(&chars("\\*a\\*")), "*a*");
        assert_eq!(unescape(&chars("a\\ b")), "ab");
        assert_eq!(unescape(&chars("a\\\nb")), "ab");
        // A backslash at the very end has nothing to escape and stays.
        assert_eq!(unescape(&chars("a\\")), "a\\");
    }

    #[test]
    fn backslashes_in_text() {
        // An escaped space is nothing; an escaped character is itself, and still
        // counts where it stands: `\1.` at a line's start is no Markdown list.
        assert_eq!(md("a\\ b").0, "ab");
        assert_eq!(md("a\\*b*").0, "a\\*b\\*");
        assert_eq!(md("x\n\\1. item").0, "x\n1\\. item");
        assert_eq!(md("x\n\\12) item").0, "x\n12\\) item");
        // A backslash at the end stays, escaped for Markdown.
        assert_eq!(md("a\\").0, "a\\\\");
    }

    #[test]
    fn an_inline_target_is_its_text() {
        // `_` then interpreted text: a target here, shown as its text.
        assert_eq!(
            md("_`first` and _`a target`, then").0,
            "first and a target, then"
        );
        // Not markup: a space after the start-string, or a letter after the end.
        assert_eq!(md("a _` b` c").1.len(), 0);
        assert!(md("a _` b` c").0.contains("\\_"));
        assert!(md("a _`b`c d").0.contains("\\_"));
    }

    #[test]
    fn a_role_needs_interpreted_text_right_after_it() {
        // Docutils: `:code:` then a literal is text then the literal; a space after
        // the backquote is no interpreted text, and all of it is text.
        let (out, w) = md("a :code:``x`` b");
        assert_eq!(out, "a :code:`x` b");
        assert!(w.is_empty(), "{w:?}");
        let (out, w) = md("a :code:` x` b");
        assert!(!out.contains("<code>"), "{out}");
        assert!(out.starts_with("a :code:\\`"), "{out}");
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn empty_brackets_are_no_footnote_reference() {
        for src in ["see []_ here", "[]_ here"] {
            let (out, w) = md(src);
            assert!(out.ends_with("\\[\\]\\_ here"), "{out}");
            assert!(w.is_empty(), "{w:?}");
        }
    }

    #[test]
    fn two_or_three_hyphens_in_a_row_are_dashes_and_no_others() {
        assert_eq!(smart(&chars("---"), 0), Some(("\u{2014}", 3)));
        assert_eq!(smart(&chars("--x"), 0), Some(("\u{2013}", 2)));
        assert_eq!(smart(&chars("-x-"), 0), None);
        assert_eq!(smart(&chars("-x"), 0), None);
    }

    #[test]
    fn markup_may_end_before_punctuation_but_not_before_a_letter_beyond_ascii() {
        // Docutils: an end-string is followed by whitespace, ASCII closers and
        // delimiters, or non-ASCII punctuation; `*a*é` is no emphasis (and warns).
        assert!(end_context(&chars("*a*\u{2014}"), 3));
        assert!(end_context(&chars("*a*\u{bb}"), 3));
        assert!(!end_context(&chars("*a*\u{e9}"), 3));
        assert!(!end_context(&chars("*a*b"), 3));
        assert_eq!(md("*a*\u{2014}b").0, "<em>a</em>\u{2014}b");
        let (out, w) = md("*a*\u{e9} x");
        assert!(!out.contains("<em>"), "{out}");
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn an_embedded_uri_follows_a_space_or_is_the_whole_reference() {
        // Docutils: `` `<url>`_ `` links the URL, shown as itself; `` `text<url>`_ ``
        // (no space) is a reference to a target of that whole name, not a link there.
        let (out, w) = md("See `<https://example.org/>`_ here.");
        assert_eq!(
            out,
            "See <a href=\"https://example.org/\">https://example.org/</a> here."
        );
        assert!(w.is_empty(), "{w:?}");
        let (out, w) = md("See `text<https://example.org/>`_ here.");
        assert!(!out.contains("href=\"https://example.org/\""), "{out}");
        assert_eq!(w.len(), 1, "{w:?}");
    }

    #[test]
    fn a_backslash_before_a_line_break_removes_both() {
        // Docutils: `a\` then `b` on the next line is `ab`, in text as in markup.
        assert_eq!(md("a\\\nb *c\\\nd*").0, "ab <em>cd</em>");
        assert_eq!(md("a\\\n\\\nb").0, "ab");
    }

    #[test]
    fn a_root_relative_path_is_made_relative_to_the_page_and_no_other() {
        let refs = Refs::default();
        let inline = Inline::new(&refs, "../", 1 << 20);
        assert_eq!(inline.uri("/_static/a.png"), "../_static/a.png");
        // `//host/path` names a host (a network-path reference), not a path.
        assert_eq!(
            inline.uri("//cdn.example.org/a.png"),
            "//cdn.example.org/a.png"
        );
        assert_eq!(inline.uri("a.png"), "a.png");
        assert_eq!(inline.uri("https://example.org/"), "https://example.org/");
    }

    #[test]
    fn an_underscore_not_before_a_backquote_is_text() {
        // Only `` _` `` starts an inline target; `_xy` then a backquote is all text.
        let (out, w) = md("a _xy` b");
        assert_eq!(out, "a \\_xy\\` b");
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn a_role_is_a_name_between_two_colons_right_before_the_backquote() {
        // Docutils: `:abc` then a backquote after a letter is all text; `::` then
        // interpreted text is `::` and a title reference; `:a:` is a (here unknown) role
        // of one letter; a name then more text before the backquote is no role.
        assert_eq!(md("a :abc`x` b"), ("a :abc\\`x\\` b".into(), vec![]));
        assert_eq!(md("a ::`x` b"), ("a ::<cite>x</cite> b".into(), vec![]));
        let (out, w) = md("a :a:`x` b");
        assert_eq!(out, "a x b");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("`:a:`"), "{w:?}");
        assert_eq!(md("a :sub:`x` b").0, "a <sub>x</sub> b");
        let long = format!(":{}:bx` c", "a".repeat(MAX_NAME - 1));
        let (out, w) = md(&long);
        assert!(out.ends_with(":bx\\` c"), "{out}");
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn a_footnote_reference_is_a_label_in_brackets_then_an_underscore_at_a_word_end() {
        // Docutils: `[1]_,` refers to footnote 1; `[1].` and `[1]_x` are text, and so is
        // a bracket that never closes.
        assert!(
            md("see [1]_, x")
                .0
                .starts_with("see <a class=\"footnote-reference\"")
        );
        for src in ["see [1]. x", "see [1]_x y", "see [abc", "see ["] {
            let (out, w) = md(src);
            assert!(!out.contains("<a"), "{src}: {out}");
            assert!(out.starts_with("see \\["), "{src}: {out}");
            assert!(w.is_empty(), "{src}: {w:?}");
        }
    }

    #[test]
    fn a_closing_parenthesis_after_a_bare_url_is_text_when_nothing_in_it_opened() {
        // Docutils: `(see http://x.org/a)` links `http://x.org/a`; the `)` is text.
        assert_eq!(
            md("(see http://x.org/a)").0,
            "(see <a href=\"http://x.org/a\">http://x.org/a</a>)"
        );
        // One `)` closes what the URL opened and stays in it (docutils would cut at
        // the first `)`: we keep Wikipedia's `a_(b)` whole, as `bare_urls_lose_...`).
        assert_eq!(
            md("(see http://x.org/a_(b))").0,
            "(see <a href=\"http://x.org/a_(b)\">http://x.org/a\\_(b)</a>)"
        );
    }

    #[test]
    fn a_bare_url_needs_something_after_its_scheme_but_slashes_will_do() {
        // Docutils: `http://` alone is a link (the slashes are its URI characters);
        // `mailto:` alone is text.
        assert_eq!(
            md("see http:// here").0,
            "see <a href=\"http://\">http://</a> here"
        );
        assert_eq!(
            md("see (ftp://). x").0,
            "see (<a href=\"ftp://\">ftp://</a>). x"
        );
        assert_eq!(md("see mailto: here").0, "see mailto: here");
        assert_eq!(
            md("see mailto:a here").0,
            "see <a href=\"mailto:a\">mailto:a</a> here"
        );
    }

    #[test]
    fn a_role_may_follow_the_interpreted_text() {
        // Docutils: `` `x`:sub: `` is a subscript; `` `x`,sub: `` a title reference and
        // text.
        assert_eq!(md("some text `x`:sub: y").0, "some text <sub>x</sub> y");
        assert_eq!(md("`x`:sub: y").0, "<sub>x</sub> y");
        assert_eq!(md("`x`,sub: y").0, "<cite>x</cite>,sub: y");
        // A name that never closes is text, also at the very end.
        assert_eq!(md("`x`:sub").0, "<cite>x</cite>:sub");
        assert_eq!(md("`x`:sub y").0, "<cite>x</cite>:sub y");
        // The role's closing colon must end a word.
        assert_eq!(md("`x`:sub:y z").0, "<cite>x</cite>:sub:y z");
        // Far into a line as at its start; a name is at most MAX_NAME long (a bound on
        // the scan: docutils has none, and would report an unknown role).
        let far = format!("{} `x`:sub: y", "w".repeat(2 * MAX_NAME));
        assert!(md(&far).0.ends_with(" <sub>x</sub> y"), "{:?}", md(&far));
        let long = format!("`x`:{}: y", "a".repeat(MAX_NAME + 1));
        assert_eq!(
            md(&long),
            (
                format!("<cite>x</cite>:{}: y", "a".repeat(MAX_NAME + 1)),
                vec![]
            )
        );
    }

    #[test]
    fn a_reference_name_may_hold_single_punctuation_between_its_letters() {
        // Docutils: alphanumerics and isolated `-`, `_`, `.`, `:`, `+` inside.
        let c = crate::to_markdown("See foo-bar.baz_ x.\n\n.. _foo-bar.baz: http://x.org/\n");
        assert!(
            c.markdown
                .contains("See <a href=\"http://x.org/\">foo-bar.baz</a> x."),
            "{}",
            c.markdown
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        // Two in a row end the name: `foo--` is text, `bar_` the reference.
        let c = crate::to_markdown("See foo--bar_ x.\n\n.. _bar: http://x.org/\n");
        assert!(
            c.markdown
                .contains("See foo--<a href=\"http://x.org/\">bar</a> x."),
            "{}",
            c.markdown
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn an_escape_right_after_a_start_string_is_read_as_one() {
        // Docutils: the markup's first character may be escaped, even an end-string
        // (here escaped again for Markdown).
        assert_eq!(md("a *\\* x* y").0, "a <em>\\* x</em> y");
        assert_eq!(md("a **\\** x** y").0, "a <strong>\\*\\* x</strong> y");
        assert_eq!(md("a `\\` x` y").0, "a <cite>\\` x</cite> y");
        assert_eq!(md("a :sub:`\\` x` y").0, "a <sub>\\` x</sub> y");
        assert_eq!(md("a _`\\` x` y").0, "a \\` x y");
        // Markup is never empty: `****` is a strong start-string without end (docutils
        // warns too), `**` and ```` ```` text.
        assert_eq!(md("a **** b").1.len(), 1);
        for src in ["a **** b", "a ** b", "a `` b"] {
            assert!(!md(src).0.contains('<'), "{src}: {:?}", md(src));
        }
    }

    #[test]
    fn each_standard_role_shows_its_text_its_own_way() {
        // Docutils' and Sphinx's roles, each as HTML or Markdown of its kind, none unknown.
        let tagged: &[(&[&str], &str)] = &[
            (&["emphasis", "manpage"], "<em>x</em>"),
            (&["strong", "program"], "<strong>x</strong>"),
            (&["sub", "subscript"], "<sub>x</sub>"),
            (&["sup", "superscript"], "<sup>x</sup>"),
            (&["title-reference", "title", "t"], "<cite>x</cite>"),
            (
                &["abbreviation", "ab", "abbr", "acronym", "ac"],
                "<abbr>x</abbr>",
            ),
            (&["dfn"], "<dfn>x</dfn>"),
            (&["kbd"], "<kbd>x</kbd>"),
            (
                &[
                    "literal", "code", "file", "samp", "command", "envvar", "option", "mimetype",
                    "makevar", "regexp", "math",
                ],
                "`x`",
            ),
            (&["guilabel", "menuselection"], "<span>x</span>"),
            (&["term", "any", "keyword"], "x"),
        ];
        for (roles, shown) in tagged {
            for role in *roles {
                assert_eq!(
                    md(&format!(":{role}:`x`")),
                    (shown.to_string(), vec![]),
                    "{role}"
                );
            }
        }
        assert_eq!(
            md(":rfc:`2616` :PEP:`8`"),
            (
                "<a href=\"https://datatracker.ietf.org/doc/html/rfc2616\">RFC 2616</a> \
                 <a href=\"https://peps.python.org/pep-0008/\">PEP 8</a>"
                    .to_string(),
                vec![]
            )
        );
        let (out, w) = md(":rfc:`x`");
        assert_eq!(out, "x");
        assert!(
            w.len() == 1 && w[0].message.contains("needs a number"),
            "{w:?}"
        );
    }

    #[test]
    fn a_named_embedded_uri_defines_its_text_as_a_target_and_an_alias_links_on() {
        // Docutils: `` `text <foo_>`_ `` links where the target `foo` does;
        // `` `a <url>`_ `` makes `a_` link there later; an anonymous one (`__`) does not.
        let c = crate::to_markdown("See `this <foo_>`_.\n\n.. _foo: http://x.org/\n");
        assert!(
            c.markdown
                .contains("See <a href=\"http://x.org/\">this</a>."),
            "{}",
            c.markdown
        );
        let c = crate::to_markdown("See `a <http://x.org/>`_ and later a_.\n");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(
            c.markdown
                .matches("<a href=\"http://x.org/\">a</a>")
                .count(),
            2,
            "{}",
            c.markdown
        );
        let c = crate::to_markdown("See `b <http://y.org/>`__ and later b_.\n");
        assert_eq!(c.markdown.matches("<a href").count(), 1, "{}", c.markdown);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }

    #[test]
    fn a_target_before_a_title_links_to_the_title_and_elsewhere_to_its_name() {
        // `.. _lbl:` before a section title is the title's anchor; before anything
        // else, its own name's.
        let c = crate::to_markdown(".. _lbl:\n\nMy Title\n========\n\nSee lbl_.\n");
        assert!(
            c.markdown.contains("See <a href=\"#my-title\">lbl</a>."),
            "{}",
            c.markdown
        );
        let c = crate::to_markdown(".. _Here Now:\n\nA paragraph.\n\nSee `here now`_.\n");
        assert!(
            c.markdown
                .contains("See <a href=\"#here-now\">here now</a>."),
            "{}",
            c.markdown
        );
    }

    #[test]
    fn raw_substitutions_expand_while_they_fit_the_budget_to_the_last_character() {
        // The budget is four times the source and 64 KiB (`convert`): 77 uses of a
        // 916-character raw substitution fill it exactly, and are all expanded; with a
        // 78th use it is 16 characters larger, and that use is not, with a warning.
        let raw = "x".repeat(916);
        let src = |n: usize| format!(".. |r| raw:: html\n\n   {raw}\n\n{}\n", "|r| ".repeat(n));
        assert_eq!(77 * raw.len(), 4 * src(77).len() + 65_536);
        let c = crate::to_markdown(&src(77));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.markdown.matches(&raw).count(), 77);
        let c = crate::to_markdown(&src(78));
        assert_eq!(c.markdown.matches(&raw).count(), 77);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].message.contains("too much text"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn an_image_target_ending_in_an_underscore_is_a_reference_unless_a_url() {
        // Docutils: `:target: foo_` links where `foo` does; `http://x.org/a_` is no
        // reference name (it is a URL).
        let c = crate::to_markdown(
            ".. |i| image:: a.png\n   :target: foo_\n\nSee |i|.\n\n.. _foo: http://x.org/\n",
        );
        assert!(
            c.markdown.contains("See <a href=\"http://x.org/\"><img"),
            "{}",
            c.markdown
        );
        let c =
            crate::to_markdown(".. |i| image:: a.png\n   :target: http://x.org/a_\n\nSee |i|.\n");
        assert!(
            c.markdown.contains("See <a href=\"http://x.org/a_\"><img"),
            "{}",
            c.markdown
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn substitutions_nest_two_deep_and_a_third_is_shown_as_written() {
        // A bound on the work (docutils has none short of a loop): `|a|` in `|b|` is
        // read as markup; a third level is its text, with a warning.
        let two = crate::to_markdown(".. |a| replace:: A |b|\n.. |b| replace:: *B*\n\nx |a| y\n");
        assert_eq!(two.markdown, "x A <em>B</em> y\n");
        assert!(two.warnings.is_empty(), "{:?}", two.warnings);
        let three = crate::to_markdown(
            ".. |a| replace:: A |b|\n.. |b| replace:: B |c|\n.. |c| replace:: *C*\n\nx |a| y\n",
        );
        assert_eq!(three.markdown, "x A B \\*C\\* y\n");
        assert_eq!(three.warnings.len(), 1, "{:?}", three.warnings);
        assert!(
            three.warnings[0].message.contains("nested too deep"),
            "{:?}",
            three.warnings
        );
    }

    #[test]
    fn replacements_expand_while_they_fit_the_budget_to_the_last_character() {
        // As raw substitutions: 84 uses of 837 characters fill the budget exactly.
        let text = "x".repeat(837);
        let src = |n: usize| format!(".. |r| replace:: {text}\n\n{}\n", "|r| ".repeat(n));
        assert_eq!(84 * text.len(), 4 * src(84).len() + 65_536);
        let c = crate::to_markdown(&src(84));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.markdown.matches(&text).count(), 84);
        let c = crate::to_markdown(&src(85));
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }

    #[test]
    fn a_warning_names_the_line_of_the_markup_in_a_paragraph() {
        let (_, w) = md("a\nb *c\nd");
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].line, 2);
        let (_, w) = md("a\nb\n\nc :nope:`x`");
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].line, 4);
    }

    #[test]
    fn an_escaped_end_string_inside_markup_is_text_and_the_markup_goes_on() {
        assert_eq!(md("*abc\\*d* e f"), ("<em>abc\\*d</em> e f".into(), vec![]));
        assert_eq!(
            md("**abc\\**d** e f"),
            ("<strong>abc\\*\\*d</strong> e f".into(), vec![])
        );
    }

    #[test]
    fn an_anonymous_reference_is_two_underscores_at_a_word_end() {
        let c = crate::to_markdown("See word__ and more words.\n\n__ http://x.org/\n");
        assert!(
            c.markdown
                .contains("See <a href=\"http://x.org/\">word</a> and more"),
            "{}",
            c.markdown
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn an_escaped_bar_inside_a_substitution_reference_is_part_of_its_name() {
        let (_, w) = md("see |abc\\|d| x");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].message.contains("undefined substitution `|abc|d|`"),
            "{w:?}"
        );
    }

    #[test]
    fn an_end_string_follows_text_not_whitespace() {
        // Docutils: `*a * b*` is emphasis of `a * b`, `` `a ` b` `` a title reference
        // of `` a ` b``; `` `a`` b` `` ends at the backquote before the space.
        assert_eq!(md("a *a * b* c").0, "a <em>a \\* b</em> c");
        assert_eq!(md("a `a ` b` x").0, "a <cite>a \\` b</cite> x");
        assert_eq!(md("a `abc\\`d` x").0, "a <cite>abc\\`d</cite> x");
        assert_eq!(md("a `a`` b` x").0, "a <cite>a\\`</cite> b\\` x");
    }

    #[test]
    fn a_substitution_reference_ends_at_a_bar_after_text() {
        // Docutils: `|ab, cd|` names `ab, cd`; `|abc` never closes (and warns).
        let (_, w) = md("see |ab, cd| x");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].message.contains("undefined substitution `|ab, cd|`"),
            "{w:?}"
        );
        let (out, w) = md("see |abc");
        assert_eq!(out, "see \\|abc");
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("without end-string"), "{w:?}");
    }

    #[test]
    fn only_what_could_start_a_markdown_list_is_escaped_at_a_line_start() {
        // CommonMark: `123456789.` starts an ordered list, ten digits do not; spaces at
        // a line's start are dropped (four would make an indented code block).
        assert_eq!(md("x\n123456789. y").0, "x\n123456789\\. y");
        assert_eq!(md("x\n1234567890. y").0, "x\n1234567890. y");
        assert_eq!(md("x\n12345678901) y").0, "x\n12345678901) y");
        assert_eq!(md("a\n    b").0, "a\nb");
    }

    #[test]
    fn interpreted_text_ends_at_a_backquote_before_end_context_only() {
        // Docutils: `` `a`b` `` is a title reference of ``a`b``, and so on.
        assert_eq!(md("a `a`b` x").0, "a <cite>a\\`b</cite> x");
        assert_eq!(md("a `a:`b` x").0, "a <cite>a:\\`b</cite> x");
        let (_, w) = md("see |ab | c| x");
        assert!(w.len() == 1 && w[0].message.contains("`|ab | c|`"), "{w:?}");
        let (out, w) = md("see `abc");
        assert_eq!(out, "see \\`abc");
        assert!(
            w.len() == 1 && w[0].message.contains("without end-string"),
            "{w:?}"
        );
    }

    fn rendered(src: &str, mode: Mode) -> String {
        let refs = Refs::default();
        let mut inline = Inline::new(&refs, "", 1 << 20);
        let text = Text {
            text: src.into(),
            line: 1,
        };
        inline.render(&text, mode)
    }

    #[test]
    fn a_heading_escapes_hashes_and_braces_anywhere() {
        // mdBook reads `#` and `{...}` in a heading (closing hashes, attributes).
        assert_eq!(rendered("a # b {c}", Mode::Heading), "a \\# b \\{c\\}");
        assert_eq!(rendered("a # b {c}", Mode::Markdown), "a # b {c}");
    }

    #[test]
    fn a_literal_that_starts_or_ends_with_a_backquote_is_padded_in_its_fence() {
        // CommonMark strips one space inside the fence on each side.
        assert_eq!(md("x ``a``` y").0, "x `` a` `` y");
        assert_eq!(md("x ```a`` y").0, "x `` `a `` y");
        assert_eq!(md("x ``a`b`` y").0, "x ``a`b`` y");
    }

    #[test]
    fn a_literal_in_html_hides_its_braces_from_mdbook() {
        // `{{#include}}` and the like are mdBook's, also inside `<code>`.
        assert_eq!(
            rendered("``{{#x}}``", Mode::Html),
            "<code>&#123;&#123;#x}}</code>"
        );
    }
}
