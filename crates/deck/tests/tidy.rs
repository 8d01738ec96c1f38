//! Tidy: the page contract (`contract::page`, `contract::live`) is the only place that
//! names what the preprocessor writes and the browser reads. In the style of
//! rust-analyzer's `xtask/src/tidy.rs`: plain tests that read the sources as text and
//! fail with every offending name and where it is.
//!
//! - the CSS (`theme/deck.css`, `theme/head.hbs`): every class, id and `data-*`
//!   attribute in a selector;
//! - the JavaScript (`theme/deck.js`): classes, ids, data attributes and selectors it
//!   uses, and the events it listens for;
//! - the player (`theme/player/src`): a class, attribute, id or selector passed to the
//!   DOM as a string literal names only HTML's or mdBook's names (the deck's own come
//!   from `contract::page`), and no string spells out one of the deck's names;
//! - the tests (`crates/deck/tests`, `tests/browser`, `xtask/tests`) and the runner
//!   (`xtask/src`): selectors, `class="..."`, `classList`, `dataset` and `data-*` in
//!   what they check, and every argument of a call that takes a selector, a class or
//!   an id (`Locator::Css("...")`, and every helper of theirs with a parameter named
//!   `selector` or `class`, found by its signature: `has_class(c, "...")`);
//! - everywhere: every `--deck-*` custom property is one of `contract::page::property`,
//!   and every storage key or channel name one of `contract::page::store`;
//! - the preprocessor (`crates/deck/src`, `crates/rst/src`, `crates/contract/src`):
//!   every `class="..."` and `data-*` it writes, and none of the page's own names
//!   spelt out (they come from `contract::page`);
//! - the present server (`xtask/src/present`): the events it sends come from
//!   `contract::live`, not spelt out;
//! - the keys: every key the player's key map handles is in the help (`?`), and keys
//!   are handled in `keys.rs` only.
//! - one HTML escaper: no code but `contract::escape` writes an escaper's entity
//!   (`&lt;`, `&amp;`, `&quot;`, `&#39;`, `&#10;`...).

use std::path::{Path, PathBuf};

use contract::page::{self, is_attribute, is_class, is_id, is_property};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Files under `dir` (recursively) whose name ends with one of `exts`.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !matches!(name, "node_modules" | "target" | "book" | "fixture-book") {
                    stack.push(path);
                }
            } else if exts.iter().any(|e| name.ends_with(e)) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// What kind of name a use is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name {
    Class,
    Id,
    Attribute,
    Event,
    /// A CSS custom property (`--deck-fit`).
    Property,
    /// A storage key, channel or window name (`deck.timer`).
    Storage,
    /// A bare name of the deck's shape: a class or an id.
    Bare,
}

/// A name used somewhere, for the report.
#[derive(Debug)]
struct Use {
    kind: Name,
    name: String,
    file: String,
    line: usize,
}

/// Names a test gives its own fixtures (an rST `:class:`, an iframe of its own), not
/// the deck's.
const TEST_OWN: &[&str] = &["wide", "from-file", "phone"];

impl Use {
    fn known(&self) -> bool {
        match self.kind {
            Name::Class => is_class(&self.name) || TEST_OWN.contains(&self.name.as_str()),
            Name::Id => is_id(&self.name) || TEST_OWN.contains(&self.name.as_str()),
            Name::Attribute => !self.name.starts_with("data-") || is_attribute(&self.name),
            Name::Event => {
                contract::live::EVENTS.contains(&self.name.as_str())
                    || DOM_EVENTS.contains(&self.name.as_str())
            }
            Name::Property => {
                is_property(&self.name) || page::FOREIGN_PROPERTIES.contains(&self.name.as_str())
            }
            Name::Storage => page::store::ALL.contains(&self.name.as_str()),
            Name::Bare => is_class(&self.name) || is_id(&self.name),
        }
    }
}

/// Events the browser itself sends (not the deck's protocol).
const DOM_EVENTS: &[&str] = &[
    "load",
    "resize",
    "keydown",
    "keyup",
    "click",
    "message",
    "error",
    "scroll",
    "touchstart",
    "touchend",
    "visibilitychange",
    "beforeunload",
    "pagehide",
    "hashchange",
    "popstate",
    "fullscreenchange",
    "storage",
    "focus",
    "blur",
    "input",
    "change",
];

fn line_at(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Characters of a CSS identifier.
fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The classes, ids and attributes a selector names. Placeholders (`{...}`) and
/// quoted values are skipped.
fn selector_names(selector: &str) -> Vec<(Name, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = selector.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    i += 1;
                }
                i += 1;
            }
            '{' => {
                while i < chars.len() && chars[i] != '}' {
                    i += 1;
                }
                i += 1;
            }
            '.' | '#' | '[' => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && ident_char(chars[end]) {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                // `.5em`, `#fff` in a value, `{placeholder}` right after: not names.
                let placeholder = chars.get(end) == Some(&'{');
                let first_ok = name.starts_with(|c: char| c.is_ascii_alphabetic());
                if first_ok && !placeholder {
                    let kind = match c {
                        '.' => Name::Class,
                        '#' => Name::Id,
                        _ => Name::Attribute,
                    };
                    out.push((kind, name));
                }
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

/// A style sheet with its comments as spaces (their newlines kept, so lines still
/// count).
fn css_without_comments(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(at) = rest.find("/*") {
        text.push_str(&rest[..at]);
        let end = rest[at..].find("*/").map_or(rest.len(), |e| at + e + 2);
        text.extend(
            rest[at..end]
                .chars()
                .map(|c| if c == '\n' { '\n' } else { ' ' }),
        );
        rest = &rest[end..];
    }
    text.push_str(rest);
    text
}

/// The selectors of a stylesheet (the text before each `{`), comments removed, with
/// their line.
fn css_selectors(css: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let text = css_without_comments(css);
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => {
                let selector = text[start..i].trim();
                if !selector.starts_with('@') {
                    out.push((line_at(&text, start + 1), selector.to_string()));
                }
                start = i + 1;
            }
            '}' | ';' => start = i + 1,
            _ => {}
        }
    }
    out
}

/// The deck's custom properties (`--deck-...`) anywhere in `text`, with their line.
fn custom_properties(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("--deck-") {
        if text[..at].ends_with(|c: char| ident_char(c)) {
            continue;
        }
        let rest = &text[at..];
        let end = rest.find(|c: char| !ident_char(c)).unwrap_or(rest.len());
        out.push((line_at(text, at), rest[..end].to_string()));
    }
    out
}

/// Every custom property (`--name`) a style sheet sets or reads, with its line;
/// comments left out.
fn css_custom_properties(css: &str) -> Vec<(usize, String)> {
    let text = css_without_comments(css);
    let mut out = Vec::new();
    for (at, _) in text.match_indices("--") {
        let name: String = text[at + 2..]
            .chars()
            .take_while(|c| ident_char(*c))
            .collect();
        let after_ident = text[..at].ends_with(|c: char| ident_char(c) || c == '-');
        if name.starts_with(|c: char| c.is_ascii_alphabetic()) && !after_ident {
            out.push((line_at(&text, at), format!("--{name}")));
        }
    }
    out
}

fn push_properties(file: &str, text: &str, uses: &mut Vec<Use>) {
    for (line, name) in custom_properties(text) {
        uses.push(Use {
            kind: Name::Property,
            name,
            file: file.to_string(),
            line,
        });
    }
}

fn check_css(file: &str, css: &str, uses: &mut Vec<Use>) {
    // In CSS every `--name` is a custom property: all of them, not only `--deck-*`
    // (a `--chart-bar` of the deck's own would otherwise escape the contract).
    for (line, name) in css_custom_properties(css) {
        uses.push(Use {
            kind: Name::Property,
            name,
            file: file.to_string(),
            line,
        });
    }
    for (line, selector) in css_selectors(css) {
        for (kind, name) in selector_names(&selector) {
            uses.push(Use {
                kind,
                name,
                file: file.to_string(),
                line,
            });
        }
    }
}

/// The double-quoted string literals of Rust code `text`, with where each starts and
/// its line; none inside a `//` comment, and a char literal (`'"'`) is not one.
fn code_literals(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text[i..].find('"') {
        let at = i + off;
        if text[..at].ends_with('\'') {
            i = at + 1;
            continue;
        }
        let Some((literal, end)) = literal_at(text, at) else {
            break;
        };
        i = end;
        let line_start = text[..at].rfind('\n').map_or(0, |p| p + 1);
        if !text[line_start..at].contains("//") {
            out.push((at, line_at(text, at), literal));
        }
    }
    out
}

/// The string literal (single, double or backtick quoted) that starts at `at`, and
/// where it ends.
fn literal_at(text: &str, at: usize) -> Option<(String, usize)> {
    let quote = text[at..].chars().next()?;
    if !matches!(quote, '"' | '\'' | '`') {
        return None;
    }
    let mut out = String::new();
    let mut escaped = false;
    for (i, c) in text[at + 1..].char_indices() {
        if escaped {
            out.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some((out, at + 1 + i + 1));
        } else {
            out.push(c);
        }
    }
    None
}

/// Uses in JavaScript, and in the JavaScript the tests send to the browser: selectors
/// given to `querySelector`/`closest`/`matches`, `classList`, `className`,
/// `getElementById`, `dataset.x`, `data-*` anywhere, `class="..."`, and listened-for
/// events (`addEventListener`, when `events` is set).
fn check_script(file: &str, text: &str, events: bool, uses: &mut Vec<Use>) {
    let mut push = |kind, name: &str, at: usize| {
        if !name.is_empty() && !name.contains('{') {
            uses.push(Use {
                kind,
                name: name.to_string(),
                file: file.to_string(),
                line: line_at(text, at),
            });
        }
    };
    for call in [
        "querySelector(",
        "querySelectorAll(",
        "closest(",
        "matches(",
    ] {
        for (at, _) in text.match_indices(call) {
            // `trim_end_matches(` is not `matches(`.
            if text[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            if let Some((selector, _)) = literal_at(text, at + call.len()) {
                for (kind, name) in selector_names(&selector) {
                    push(kind, &name, at);
                }
            }
        }
    }
    for call in [
        "classList.add(",
        "classList.remove(",
        "classList.toggle(",
        "classList.contains(",
    ] {
        for (at, _) in text.match_indices(call) {
            if let Some((name, _)) = literal_at(text, at + call.len()) {
                push(Name::Class, &name, at);
            }
        }
    }
    for (at, _) in text.match_indices("className = ") {
        if let Some((names, _)) = literal_at(text, at + "className = ".len()) {
            for name in names.split_whitespace() {
                push(Name::Class, name, at);
            }
        }
    }
    for (at, _) in text.match_indices("getElementById(") {
        if let Some((name, _)) = literal_at(text, at + "getElementById(".len()) {
            push(Name::Id, &name, at);
        }
    }
    for (at, _) in text.match_indices("dataset.") {
        let rest = &text[at + "dataset.".len()..];
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let kebab: String = rest[..end]
            .chars()
            .flat_map(|c| {
                if c.is_ascii_uppercase() {
                    vec!['-', c.to_ascii_lowercase()]
                } else {
                    vec![c]
                }
            })
            .collect();
        push(Name::Attribute, &format!("data-{kebab}"), at);
    }
    for (at, _) in text.match_indices("data-") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| ident_char(c) || c == '.') {
            continue;
        }
        let rest = &text[at..];
        let end = rest.find(|c: char| !ident_char(c)).unwrap_or(rest.len());
        let name = &rest[..end];
        // A name being built (`"data-" + x`) is not a name.
        if !name.ends_with('-') {
            push(Name::Attribute, name, at);
        }
    }
    for open in ["class=\"", "class=\\\"", "class='"] {
        for (at, _) in text.match_indices(open) {
            let rest = &text[at + open.len()..];
            let end = rest.find(['"', '\'', '\\']).unwrap_or(0);
            for name in rest[..end].split_whitespace() {
                push(Name::Class, name, at);
            }
        }
    }
    if events {
        for (at, _) in text.match_indices("addEventListener(") {
            if let Some((name, _)) = literal_at(text, at + "addEventListener(".len()) {
                push(Name::Event, &name, at);
            }
        }
    }
    push_properties(file, text, uses);
    for call in ["getItem(", "setItem(", "removeItem(", "BroadcastChannel("] {
        for (at, _) in text.match_indices(call) {
            if let Some((name, _)) = literal_at(text, at + call.len()) {
                uses.push(Use {
                    kind: Name::Storage,
                    name,
                    file: file.to_string(),
                    line: line_at(text, at),
                });
            }
        }
    }
}

/// The name of the call a string literal at `at` is an argument of, and which
/// argument (0-based): `("query_selector", 0)`.
fn enclosing_call(text: &str, at: usize) -> Option<(&str, usize)> {
    let mut depth = 0usize;
    let mut commas = 0;
    let bytes = text.as_bytes();
    let mut i = at;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b')' | b']' => depth += 1,
            b'(' | b'[' if depth > 0 => depth -= 1,
            b'(' => {
                let name_end = i;
                let name_start = text[..name_end]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(0, |p| p + 1);
                return Some((&text[name_start..name_end], commas));
            }
            b'[' => return None,
            b',' if depth == 0 => commas += 1,
            b';' | b'{' | b'}' if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

/// HTML's, SVG's and ARIA's own attributes the player may spell out (any `aria-*` too).
const HTML_ATTRIBUTES: &[&str] = &[
    "href",
    "hidden",
    "role",
    "style",
    "tabindex",
    "class",
    "id",
    "type",
    "target",
    "title",
    "readonly",
    "contenteditable",
    "viewBox",
    "viewbox",
];

/// Whether a name of `kind` is one the page does not own (HTML's, mdBook's,
/// highlight.js's), so that the player may spell it out rather than use a constant of
/// `contract::page`.
fn foreign(kind: Name, name: &str) -> bool {
    match kind {
        Name::Class => page::FOREIGN_CLASSES.contains(&name),
        Name::Id => page::FOREIGN_IDS.contains(&name),
        Name::Attribute => HTML_ATTRIBUTES.contains(&name) || name.starts_with("aria-"),
        Name::Event => true,
        Name::Property | Name::Storage | Name::Bare => false,
    }
}

/// The DOM calls that take a name, and what kind of name their argument `n` is
/// (`None`: every argument).
const DOM_CALLS: &[(&str, Option<usize>, Name)] = &[
    ("add_1", None, Name::Class),
    ("add_2", None, Name::Class),
    ("add_3", None, Name::Class),
    ("remove_1", None, Name::Class),
    ("remove_2", None, Name::Class),
    ("remove_3", None, Name::Class),
    ("toggle", Some(0), Name::Class),
    ("toggle_with_force", Some(0), Name::Class),
    ("set_class_name", Some(0), Name::Class),
    // dom::element(document, tag, class, text) and dom::button(document, class, ...).
    ("element", Some(2), Name::Class),
    ("button", Some(1), Name::Class),
    ("set_attribute", Some(0), Name::Attribute),
    ("get_attribute", Some(0), Name::Attribute),
    ("has_attribute", Some(0), Name::Attribute),
    ("remove_attribute", Some(0), Name::Attribute),
    ("toggle_attribute", Some(0), Name::Attribute),
    ("set_id", Some(0), Name::Id),
    ("get_element_by_id", Some(0), Name::Id),
    ("set_property", Some(0), Name::Property),
    ("get_property_value", Some(0), Name::Property),
    ("remove_property", Some(0), Name::Property),
    ("get_item", Some(0), Name::Storage),
    ("set_item", Some(0), Name::Storage),
    ("remove_item", Some(0), Name::Storage),
];

/// What the player check found: names to check against the contract, names of the
/// page spelt out where a constant of `contract::page` belongs, and how many DOM calls
/// that take a name it read.
#[derive(Default)]
struct PlayerCheck {
    uses: Vec<Use>,
    spelt: Vec<String>,
    calls: usize,
}

/// The player's Rust: a string literal passed to a DOM call that takes a class, an
/// attribute or an id (or a selector given to `query_selector`, `closest`...) may name
/// only HTML's, mdBook's or another foreign name; the deck's own come from
/// `contract::page`. Any other literal of the deck's shapes (`deck-...`, `demo-...`,
/// `data-...`) must be a name the contract knows and not one of its own classes or
/// attributes spelt out; a storage key (`deck.…`) or a `--deck-*` property spelt out
/// anywhere is too (they come from `contract::page::store` and `property`).
fn check_player(file: &str, text: &str, found: &mut PlayerCheck) {
    for (call, _, _) in DOM_CALLS {
        found.calls += text.matches(&format!(".{call}(")).count();
        found.calls += text.matches(&format!("::{call}(")).count();
    }
    found.calls += text.matches("class_list().contains(").count();
    for (at, line, literal) in code_literals(text) {
        let mut push = |kind, name: &str| {
            if !name.is_empty() && !name.contains('{') {
                found.uses.push(Use {
                    kind,
                    name: name.to_string(),
                    file: file.to_string(),
                    line,
                });
            }
        };
        let mut spelt = |kind: Name, name: &str, place: &str| {
            found.spelt.push(format!(
                "{file}:{line}: {kind:?} `{name}` spelt out {place}: use its constant in \
                 contract::page (crates/contract/src/page.rs), or add it there"
            ));
        };
        // The format string of a `format!` passed to the DOM (`query_selector(&format!(
        // "figure.{}", ...))`) is checked as that call's argument.
        let call = match enclosing_call(text, at) {
            // (`format!(` has no name before its `(`: the `!` ends it.)
            Some(("", 0)) if text[..at].trim_end().ends_with("format!(") => {
                enclosing_call(text, text[..at].trim_end().len() - "format!(".len())
            }
            call => call,
        };
        let dom_kind = call.and_then(|(name, arg)| {
            if name == "contains" && text[..at].trim_end().ends_with("class_list().contains(") {
                return Some(Name::Class);
            }
            DOM_CALLS
                .iter()
                .find(|(c, n, _)| *c == name && n.is_none_or(|n| n == arg))
                .map(|(_, _, kind)| *kind)
        });
        if let Some(kind) = dom_kind {
            let (name, _) = call.unwrap_or_default();
            let names: Vec<&str> = if kind == Name::Class {
                literal.split_whitespace().collect()
            } else {
                vec![literal.as_str()]
            };
            for n in names
                .into_iter()
                .filter(|n| !n.is_empty() && !n.contains('{'))
            {
                push(kind, n);
                if !foreign(kind, n) {
                    spelt(kind, n, &format!("in `{name}(`"));
                }
            }
            continue;
        }
        if let Some((name @ ("query_selector" | "query_selector_all" | "closest" | "matches"), 0)) =
            call
        {
            for (kind, n) in selector_names(&literal) {
                push(kind, &n);
                if !foreign(kind, &n) {
                    spelt(kind, &n, &format!("in `{name}(`"));
                }
            }
            continue;
        }
        // A bare name of the deck's shape, wherever it is (a constant, a match arm).
        let bare = literal.chars().all(ident_char)
            && ["deck-", "demo-", "chart-", "data-", "ladder-"]
                .iter()
                .any(|p| literal.starts_with(p) && literal.len() > p.len());
        if bare {
            let kind = if literal.starts_with("data-") {
                Name::Attribute
            } else {
                Name::Class
            };
            push(kind, &literal);
            let own = page::class::ALL.contains(&literal.as_str())
                || page::attr::ALL.contains(&literal.as_str())
                || page::id::ALL.contains(&literal.as_str());
            if own {
                spelt(kind, &literal, "as a literal");
            }
        } else if literal.starts_with(page::STORE_PREFIX) {
            // A storage key, the channel, the speaker window's name.
            push(Name::Storage, &literal);
            spelt(Name::Storage, &literal, "as a literal");
        } else if literal.contains("data-") {
            for (at2, _) in literal.match_indices("data-") {
                let rest = &literal[at2..];
                let end = rest.find(|c: char| !ident_char(c)).unwrap_or(rest.len());
                if !rest[..end].ends_with('-') {
                    push(Name::Attribute, &rest[..end]);
                    spelt(Name::Attribute, &rest[..end], "as a literal");
                }
            }
        }
        for (_, name) in custom_properties(&literal) {
            push(Name::Property, &name);
            spelt(Name::Property, &name, "as a literal");
        }
    }
}

/// The string literals of Rust source `text` outside comments, with where each starts:
/// plain (`"..."`, escapes read) and raw (`r"..."`, `r#"..."#`); char literals (`'"'`)
/// are skipped.
fn rust_literals(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |e| i + e);
            }
            b'\'' => {
                // A char literal ('"', '\'', 'x') or a lifetime ('a).
                let rest = &text[i + 1..];
                let close = if rest.starts_with('\\') {
                    rest[2..].find('\'').map(|e| e + 2)
                } else {
                    rest.char_indices()
                        .nth(1)
                        .filter(|(_, c)| *c == '\'')
                        .map(|(e, _)| e)
                };
                i += close.map_or(1, |e| e + 2);
            }
            b'r' if (bytes.get(i + 1) == Some(&b'"') || bytes.get(i + 1) == Some(&b'#'))
                && (i == 0 || !ident_char(char::from(bytes[i - 1]))) =>
            {
                let hashes = text[i + 1..].len() - text[i + 1..].trim_start_matches('#').len();
                if bytes.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let start = i + 2 + hashes;
                let close = format!("\"{}", "#".repeat(hashes));
                let end = text[start..]
                    .find(&close)
                    .map_or(bytes.len(), |e| start + e);
                out.push((i, text[start..end].to_string()));
                i = end + close.len();
            }
            b'"' => match literal_at(text, i) {
                Some((literal, end)) => {
                    out.push((i, literal));
                    i = end;
                }
                None => break,
            },
            _ => i += 1,
        }
    }
    out
}

/// What an argument is: a CSS selector, or one name of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    Selector,
    Name(Name),
}

/// Calls that take a selector or a name, and which argument (0-based, `self` not
/// counted): fantoccini's locators, here; the tests' own helpers are found by their
/// signatures ([`helper_calls`]).
const LOCATOR_CALLS: &[(&str, usize, Arg)] = &[
    ("Css", 0, Arg::Selector),
    ("Id", 0, Arg::Name(Name::Id)),
    ("attr", 0, Arg::Name(Name::Attribute)),
    ("prop", 0, Arg::Name(Name::Attribute)),
];

/// What a parameter's name says it takes.
fn param_arg(name: &str) -> Option<Arg> {
    match name {
        "selector" | "sel" | "css" | "selectors" => Some(Arg::Selector),
        "class" | "classes" | "class_name" => Some(Arg::Name(Name::Class)),
        "id" | "element_id" => Some(Arg::Name(Name::Id)),
        "attribute" | "attr" => Some(Arg::Name(Name::Attribute)),
        "storage_key" => Some(Arg::Name(Name::Storage)),
        "property" => Some(Arg::Name(Name::Property)),
        _ => None,
    }
}

/// Every function defined in `text` with a string parameter named for a selector or a
/// name (`async fn has_class(c: &Client, class: &str)`): its name, the parameter's
/// place (`self` not counted) and what it takes.
fn helper_calls(text: &str) -> Vec<(String, usize, Arg)> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("fn ") {
        if text[..at].ends_with(|c: char| ident_char(c)) {
            continue;
        }
        let rest = &text[at + 3..];
        let name_end = rest.find(|c: char| !ident_char(c)).unwrap_or(0);
        let name = &rest[..name_end];
        let Some(open) = rest.find('(') else { continue };
        // Only `fn name(` or `fn name<...>(`.
        if !rest[name_end..open].trim().is_empty() && !rest[name_end..].starts_with('<') {
            continue;
        }
        let mut depth = 0i32;
        let mut params = Vec::new();
        let mut start = open + 1;
        for (k, c) in rest[open..].char_indices() {
            let k = open + k;
            match c {
                '(' | '<' | '[' => depth += 1,
                ')' | '>' | ']' => {
                    depth -= 1;
                    if depth == 0 {
                        params.push(&rest[start..k]);
                        break;
                    }
                }
                ',' if depth == 1 => {
                    params.push(&rest[start..k]);
                    start = k + 1;
                }
                _ => {}
            }
        }
        let params: Vec<&str> = params
            .into_iter()
            .map(str::trim)
            .filter(|p| !p.is_empty() && !p.ends_with("self"))
            .collect();
        for (n, param) in params.iter().enumerate() {
            let Some((pname, ty)) = param.split_once(':') else {
                continue;
            };
            let pname = pname.trim().trim_start_matches("mut ");
            if let Some(arg) = param_arg(pname)
                && ty.contains("str")
            {
                out.push((name.to_string(), n, arg));
            }
        }
    }
    out
}

/// The arguments of the calls in `calls` that are string literals in `text` (also
/// inside `format!(...)`, `&format!(...)` and `Some(...)`), as uses of names.
fn check_calls(file: &str, text: &str, calls: &[(String, usize, Arg)], uses: &mut Vec<Use>) {
    for (at, literal) in rust_literals(text) {
        let mut call = enclosing_call(text, at);
        // Look through `format!(` and `Some(` to the call they are an argument of.
        for _ in 0..3 {
            let Some((name, 0)) = call else { break };
            let before = text[..at].trim_end();
            let wrapper = if name.is_empty() && before.ends_with("format!(") {
                Some("format!(")
            } else if name == "Some" {
                Some("Some(")
            } else {
                None
            };
            let Some(wrapper) = wrapper else { break };
            let Some(pos) = text[..at].rfind(wrapper) else {
                break;
            };
            call = enclosing_call(text, pos);
        }
        let Some((name, n)) = call else { continue };
        let Some((_, _, arg)) = calls.iter().find(|(c, k, _)| c == name && *k == n) else {
            continue;
        };
        let line = line_at(text, at);
        let mut push = |kind, name: &str| {
            if !name.is_empty() && !name.contains('{') {
                uses.push(Use {
                    kind,
                    name: name.to_string(),
                    file: file.to_string(),
                    line,
                });
            }
        };
        match arg {
            Arg::Selector => {
                for (kind, name) in selector_names(&literal) {
                    push(kind, &name);
                }
            }
            Arg::Name(Name::Class) => {
                for name in literal.split_whitespace() {
                    push(Name::Class, name);
                }
            }
            Arg::Name(kind) => push(*kind, &literal),
        }
    }
}

/// A constant holding a bare name of the deck's shape (`const CLASS: &str =
/// "deck-black";`, which a call then takes by name): it must be a class or an id the
/// contract knows. (Elsewhere such a literal is as often a fixture's, a screenshot's or
/// a binary's name: `deck-diagram`.)
fn check_bare(file: &str, text: &str, uses: &mut Vec<Use>) {
    for (at, literal) in rust_literals(text) {
        let statement = text[..at]
            .rfind([';', '{', '}'])
            .map_or(&text[..at], |s| &text[s + 1..at]);
        let statement = statement.trim_start().trim_start_matches("pub ");
        let constant = statement.starts_with("const ") || statement.starts_with("static ");
        let bare = constant
            && literal.chars().all(ident_char)
            && ["deck-", "demo-", "chart-", "ladder-", "kernel-"]
                .iter()
                .any(|p| literal.starts_with(p) && literal.len() > p.len());
        if bare {
            uses.push(Use {
                kind: Name::Bare,
                name: literal,
                file: file.to_string(),
                line: line_at(text, at),
            });
        }
    }
}

fn rel(path: &Path) -> String {
    path.strip_prefix(repo())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn report(uses: &[Use]) -> Vec<String> {
    uses.iter()
        .filter(|u| !u.known())
        .map(|u| {
            format!(
                "{}:{}: {:?} `{}` is not in the page contract (crates/contract/src/page.rs)",
                u.file, u.line, u.kind, u.name
            )
        })
        .collect()
}

#[test]
fn the_css_uses_only_names_the_contract_defines() {
    let mut uses = Vec::new();
    let css = repo().join("theme/deck.css");
    check_css(&rel(&css), &read(&css), &mut uses);
    let head = repo().join("theme/head.hbs");
    let head_text = read(&head);
    if let Some(style) = head_text.split("<style>").nth(1) {
        let style = style.split("</style>").next().unwrap_or_default();
        check_css(&rel(&head), style, &mut uses);
    }
    check_script(&rel(&head), &head_text, true, &mut uses);
    assert!(uses.len() > 300, "the CSS was read: {} names", uses.len());
    let bad = report(&uses);
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

#[test]
fn the_javascript_uses_only_names_and_events_the_contract_defines() {
    let mut uses = Vec::new();
    for path in files(&repo().join("theme"), &[".js"]) {
        check_script(&rel(&path), &read(&path), true, &mut uses);
    }
    assert!(uses.len() > 5, "deck.js was read: {uses:?}");
    let bad = report(&uses);
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

#[test]
fn the_player_uses_only_names_the_contract_defines() {
    let mut found = PlayerCheck::default();
    for path in files(&repo().join("theme/player/src"), &[".rs"]) {
        check_player(&rel(&path), &read(&path), &mut found);
    }
    assert!(
        found.calls > 100,
        "the player was read: {} DOM calls that take a name",
        found.calls
    );
    let mut bad = report(&found.uses);
    bad.extend(found.spelt);
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

/// The tests' and the runner's sources: `(path, text)` of every Rust and JavaScript
/// file under the directories that check or drive the page.
fn tests_and_runner() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for dir in [
        "crates/deck/tests",
        "tests/browser/tests",
        "tests/browser/src",
        "xtask/tests",
        "xtask/src",
    ] {
        for path in files(&repo().join(dir), &[".rs", ".js"]) {
            // This file names unknown names on purpose.
            if path.ends_with("crates/deck/tests/tidy.rs") {
                continue;
            }
            let text = read(&path);
            out.push((path, text));
        }
    }
    out
}

/// Checks the tests' and the runner's `sources`: their JavaScript and HTML as
/// [`check_script`] reads it, every literal argument of a call that takes a selector
/// or a name (fantoccini's locators and every helper with such a parameter, wherever
/// it is defined), and every bare name of the deck's shape.
fn check_tests(sources: &[(PathBuf, String)]) -> Vec<Use> {
    let mut calls: Vec<(String, usize, Arg)> = LOCATOR_CALLS
        .iter()
        .map(|(c, n, a)| (c.to_string(), *n, *a))
        .collect();
    for (_, text) in sources {
        calls.extend(helper_calls(text));
    }
    let mut uses = Vec::new();
    for (path, text) in sources {
        let file = rel(path);
        check_script(&file, text, false, &mut uses);
        if path.extension().is_some_and(|e| e == "rs") {
            check_calls(&file, text, &calls, &mut uses);
            check_bare(&file, text, &mut uses);
        }
    }
    uses
}

#[test]
fn the_tests_check_only_names_the_contract_defines() {
    let sources = tests_and_runner();
    assert!(
        sources.len() > 40,
        "the tests were read: {} files",
        sources.len()
    );
    let uses = check_tests(&sources);
    // Every shape of call is read: the locators and the helpers found by signature.
    let helpers: Vec<String> = sources
        .iter()
        .flat_map(|(_, t)| helper_calls(t))
        .map(|(name, _, _)| name)
        .collect();
    for helper in ["has_class", "wait_class", "axe"] {
        assert!(
            helpers.iter().any(|h| h == helper),
            "{helper} found: {helpers:?}"
        );
    }
    let classes = uses.iter().filter(|u| u.kind == Name::Class).count();
    assert!(
        uses.len() > 300 && classes > 100,
        "the tests' names were read: {} ({classes} classes)",
        uses.len()
    );
    let bad = report(&uses);
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

#[test]
fn every_shape_of_a_test_naming_a_class_is_checked() {
    let helpers = "async fn has_class(c: &Client, class: &str) -> Result<bool> { todo() }
        pub async fn axe(client: &Client, source: &str, selector: Option<&str>) -> R { x }
        impl A { fn pick(&self, sel: &str) {} }";
    let uses_of = |code: &str| {
        let sources = vec![
            (PathBuf::from("helpers.rs"), helpers.to_string()),
            (PathBuf::from("probe.rs"), code.to_string()),
        ];
        let mut bad: Vec<String> = check_tests(&sources)
            .into_iter()
            .filter(|u| u.file == "probe.rs" && !u.known())
            .map(|u| u.name)
            .collect();
        bad.dedup();
        bad
    };
    for (code, bogus) in [
        (r#"c.find(Locator::Css(".deck-bogus")).await"#, "deck-bogus"),
        (
            r#"c.find(fantoccini::Locator::Css(&format!("section.x-bogus #{id}")))"#,
            "x-bogus",
        ),
        (
            r#"ensure!(has_class(c, "deck-bogus").await?)"#,
            "deck-bogus",
        ),
        ("has_class(\n    c,\n    \"bogus-class\",\n)", "bogus-class"),
        (r#"axe(c, axe, Some("section.bogus-slide"))"#, "bogus-slide"),
        (r##"deck.pick("#bogus-id")"##, "bogus-id"),
        (
            r#"js(c, "return document.querySelector('.bogus-js')")"#,
            "bogus-js",
        ),
        (r#"const NAME: &str = "deck-bogus";"#, "deck-bogus"),
        (
            r#"js(c, "localStorage.removeItem('deck-timer')")"#,
            "deck-timer",
        ),
        (
            r#"js(c, "return getComputedStyle(s).getPropertyValue('--deck-bogus')")"#,
            "--deck-bogus",
        ),
        (r##"let s = r#"<p class="bogus-raw">"#;"##, "bogus-raw"),
    ] {
        assert_eq!(uses_of(code), vec![bogus.to_string()], "{code}");
    }
    assert_eq!(
        uses_of(r#"c.find(Locator::Css("section.slide.deck-current"))"#),
        Vec::<String>::new()
    );
}

/// The string literals of a match arm's patterns (`"n" | "N" => ...`).
fn arm_keys(line: &str) -> Vec<String> {
    let Some((patterns, _)) = line.split_once("=>") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = patterns[i..].find('"') {
        let at = i + off;
        match literal_at(patterns, at) {
            Some((key, end)) => {
                out.push(key);
                i = end;
            }
            None => break,
        }
    }
    out
}

/// The keys of the player's help (`keys::HELP`): the literals of every `keys: &[...]`
/// row of `keys.rs`.
fn help_keys(code: &str) -> Vec<String> {
    // The help's keys: the literals of every `keys: &[...]` row.
    let mut help = Vec::new();
    for (at, _) in code.match_indices("keys: &[") {
        let list = &code[at..at + code[at..].find(']').unwrap_or(0)];
        let mut i = 0;
        while let Some(off) = list[i..].find('"') {
            match literal_at(list, i + off) {
                Some((key, end)) => {
                    help.push(key);
                    i = end;
                }
                None => break,
            }
        }
    }
    help
}

/// What a test presses, as `KeyboardEvent.key` names it: `press(c, 'o')`,
/// `key(c, "Home")`, `Key::Right`.
fn pressed_keys(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for call in ["press(c, ", "key(c, "] {
        for (at, _) in text.match_indices(call) {
            if let Some((key, _)) = literal_at(text, at + call.len()) {
                out.push((line_at(text, at), key));
            }
        }
    }
    for (at, _) in text.match_indices("Key::") {
        let rest = &text[at + 5..];
        let name = &rest[..rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len())];
        let key = match name {
            "Right" | "Left" | "Up" | "Down" => format!("Arrow{name}"),
            other => other.to_string(),
        };
        out.push((line_at(text, at), key));
    }
    out
}

#[test]
fn the_tests_press_only_keys_the_help_names() {
    let keys_rs = read(&repo().join("theme/player/src/keys.rs"));
    let help = help_keys(keys_rs.split("#[cfg(test)]").next().unwrap_or_default());
    let mut unknown = Vec::new();
    let mut pressed = 0;
    for path in files(&repo().join("tests/browser/tests"), &[".rs"]) {
        for (line, key) in pressed_keys(&read(&path)) {
            pressed += 1;
            if !help.contains(&key) {
                unknown.push(format!(
                    "{}:{line}: presses {key:?}, which the help (?) does not name",
                    rel(&path)
                ));
            }
        }
    }
    assert!(pressed > 20, "the tests' keys were read: {pressed}");
    assert!(unknown.is_empty(), "\n{}", unknown.join("\n"));
}

#[test]
fn every_key_the_player_handles_is_in_the_help_and_handled_in_keys_rs() {
    let keys_rs = repo().join("theme/player/src/keys.rs");
    let text = read(&keys_rs);
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let help = help_keys(code);
    assert!(help.len() > 20, "the help's keys were read: {help:?}");
    // The handled keys: the literals of the match arms in `action` and `speaker_action`.
    let mut missing = Vec::new();
    let mut handled = 0;
    for function in ["pub fn action(", "fn speaker_action("] {
        let at = code
            .find(function)
            .unwrap_or_else(|| panic!("keys.rs has `{function}`"));
        let body = &code[at..];
        let body = &body[..body[1..]
            .find("\nfn ")
            .or(body[1..].find("\npub fn "))
            .map_or(body.len(), |e| e + 1)];
        for (n, line) in body.lines().enumerate() {
            for key in arm_keys(line) {
                handled += 1;
                if !help.contains(&key) {
                    missing.push(format!(
                        "{}: key {key:?} ({function}...) line {n} is handled but not in HELP (?)",
                        rel(&keys_rs)
                    ));
                }
            }
        }
    }
    assert!(handled > 20, "the key map was read: {handled} keys");
    // Keys are read in keys.rs only: a listener elsewhere would be missing from `?`.
    for path in files(&repo().join("theme/player/src"), &[".rs"]) {
        if path.ends_with("keys.rs") {
            continue;
        }
        let text = read(&path);
        for (at, _) in text.match_indices(".key()") {
            missing.push(format!(
                "{}:{}: reads a key outside keys.rs",
                rel(&path),
                line_at(&text, at)
            ));
        }
    }
    assert!(missing.is_empty(), "\n{}", missing.join("\n"));
}

/// The server sends the protocol's events by the contract's names, never spelt out.
#[test]
fn the_server_names_its_events_from_the_live_contract() {
    let mut spelt = Vec::new();
    let mut events = 0;
    for path in files(&repo().join("xtask/src/present"), &[".rs"]) {
        let text = read(&path);
        for (at, _) in text.match_indices(".event(") {
            events += 1;
            if literal_at(&text, at + ".event(".len()).is_some() {
                spelt.push(format!(
                    "{}:{}: an event name spelt out: use contract::live's",
                    rel(&path),
                    line_at(&text, at)
                ));
            }
        }
    }
    assert!(events >= 3, "the server's events were read: {events}");
    assert!(spelt.is_empty(), "\n{}", spelt.join("\n"));
}

#[test]
fn the_preprocessor_writes_only_names_the_contract_defines() {
    let mut uses = Vec::new();
    for dir in ["crates/deck/src", "crates/contract/src", "crates/rst/src"] {
        for path in files(&repo().join(dir), &[".rs"]) {
            // The contract's own list, and test code (after `#[cfg(test)]`) aside.
            if path.ends_with("page.rs") {
                continue;
            }
            let text = read(&path);
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            // Comments keep their lines (for the report) but say nothing.
            let code: String = code
                .lines()
                .map(|l| {
                    if l.trim_start().starts_with("//") {
                        ""
                    } else {
                        l
                    }
                })
                .flat_map(|l| [l, "\n"])
                .collect();
            check_script(&rel(&path), &code, false, &mut uses);
        }
    }
    assert!(
        // (its own names come from contract::page: these are docutils' and HTML's)
        uses.len() > 20,
        "the preprocessor was read: {} names",
        uses.len()
    );
    let bad = report(&uses);
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
}

/// Whether `name` is the page's own (a class, attribute or id the contract defines,
/// or a member of one of its own families: `status-passed`, `chart-s0`, `slide-3`),
/// which only `contract::page` may spell.
fn own(name: &str) -> bool {
    let families = [
        page::STATUS_PREFIX,
        page::CHART_SERIES_PREFIX,
        page::ANSI_FG_PREFIX,
        page::ANSI_BG_PREFIX,
        page::SLIDE_ID_PREFIX,
    ];
    page::class::ALL.contains(&name)
        || page::attr::ALL.contains(&name)
        || page::id::ALL.contains(&name)
        || families
            .iter()
            .any(|p| name.starts_with(p) && name.len() > p.len())
}

/// The preprocessor's Rust (`file`'s code before its tests): the page's own names
/// (classes, attributes, ids, family prefixes) come from `contract::page`, never spelt
/// in a string literal. A literal spells a name when it has one in `class="..."` or
/// `id="..."`, writes a `data-*` attribute, or is made only of class-like words of
/// which one is the page's own and hyphenated or there are several (`"chart-row"`,
/// `"arrow key"`); a lone plain word (`"demo"`, a directive's name) is prose.
fn preprocessor_spelt(file: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (_, line, literal) in code_literals(text) {
        let mut spelt = |name: &str, how: &str| {
            out.push(format!(
                "{file}:{line}: `{name}` spelt out {how}: use its constant in contract::page \
                 (crates/contract/src/page.rs), or add it there"
            ));
        };
        for open in ["class=\"", "id=\""] {
            for (at2, _) in literal.match_indices(open) {
                if literal[..at2].ends_with(|c: char| ident_char(c)) {
                    continue;
                }
                let rest = &literal[at2 + open.len()..];
                let value = &rest[..rest.find('"').unwrap_or(rest.len())];
                for name in value.split_whitespace() {
                    // `status-{}`, `chart-s{s}`: a family's prefix with a placeholder.
                    let name = name.split('{').next().unwrap_or_default();
                    let prefix = [
                        page::STATUS_PREFIX,
                        page::CHART_SERIES_PREFIX,
                        page::ANSI_FG_PREFIX,
                        page::ANSI_BG_PREFIX,
                        page::SLIDE_ID_PREFIX,
                    ]
                    .contains(&name);
                    if own(name) || prefix {
                        spelt(name, &format!("in `{open}`"));
                    }
                }
            }
        }
        for (at2, _) in literal.match_indices("data-") {
            if literal[..at2].ends_with(|c: char| ident_char(c) || c == '.') {
                continue;
            }
            let rest = &literal[at2..];
            let name = &rest[..rest.find(|c: char| !ident_char(c)).unwrap_or(rest.len())];
            spelt(name, "as an attribute");
        }
        for (_, name) in custom_properties(&literal) {
            spelt(&name, "as a custom property");
        }
        let words: Vec<&str> = literal.split_whitespace().collect();
        let bare = !words.is_empty()
            && words.iter().all(|w| w.chars().all(ident_char))
            && words.iter().all(|w| own(w) || is_class(w));
        if bare && (words.len() > 1 || words.iter().any(|w| w.contains('-'))) {
            for w in words.iter().filter(|w| own(w)) {
                spelt(w, "as a literal");
            }
        }
    }
    out
}

#[test]
fn the_preprocessor_spells_none_of_the_pages_own_names() {
    let mut spelt = Vec::new();
    let mut read_files = 0;
    for dir in ["crates/deck/src", "crates/contract/src", "crates/rst/src"] {
        for path in files(&repo().join(dir), &[".rs"]) {
            // The contract's own list.
            if path.ends_with("contract/src/page.rs") {
                continue;
            }
            let text = read(&path);
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            spelt.extend(preprocessor_spelt(&rel(&path), code));
            read_files += 1;
        }
    }
    assert!(
        read_files > 20,
        "the preprocessor was read: {read_files} files"
    );
    // The check sees each shape it claims to.
    let probe = preprocessor_spelt(
        "probe",
        r#"let a = "<div class=\"chart-row x\">"; let b = "status-{}"; let c = "<td class=\"status-{}\">";
           let d = " data-demo=\"x\""; let e = "arrow key"; let f = "demo"; let g = "<p class=\"caption\">";"#,
    );
    assert_eq!(probe.len(), 5, "{probe:#?}");
    assert!(spelt.is_empty(), "\n{}", spelt.join("\n"));
}

#[test]
fn the_contract_knows_the_names_the_preprocessor_writes() {
    // The names the deck crate writes, read from its output for a small chapter.
    let md = deck::slides::to_slides(
        "text\n\n## A\n\nx\n\n<!-- pause -->\n\ny\n\nNotes:\n\nn\n",
        &mut deck::test_support::FakeEmbed::Echo,
    )
    .unwrap();
    let mut uses = Vec::new();
    check_script("to_slides", &md, false, &mut uses);
    assert!(uses.iter().any(|u| u.name == page::class::STEP));
    let bad = report(&uses);
    assert!(bad.is_empty(), "\n{}", bad.join("\n"));
    for (kind, name) in selector_names("html.deck-on section.slide[data-n=\"3\"] #deck-hud .x{y}") {
        assert!(
            matches!(
                (kind, name.as_str()),
                (Name::Class, "deck-on" | "slide")
                    | (Name::Attribute, "data-n")
                    | (Name::Id, "deck-hud")
            ),
            "{kind:?} {name}"
        );
    }
}

/// The entities an HTML escaper writes; only `contract::escape` spells them.
const ESCAPER_ENTITIES: &[&str] = &[
    "&lt;", "&gt;", "&amp;", "&quot;", "&#39;", "&#x27;", "&apos;", "&#10;",
];

/// Where a string literal of `text` (code before its tests) writes an escaper's
/// entity: another HTML escaper, or a piece of one.
fn escapers(file: &str, text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    rust_literals(code)
        .into_iter()
        .filter(|(_, literal)| ESCAPER_ENTITIES.iter().any(|e| literal.contains(e)))
        .map(|(at, literal)| {
            format!(
                "{file}:{}: {literal:?} writes an HTML entity: escape with contract::escape \
                 (html, entity, one_line), the one escaper",
                line_at(code, at)
            )
        })
        .collect()
}

#[test]
fn there_is_one_html_escaper() {
    let mut found = Vec::new();
    let mut read_files = 0;
    for dir in [
        "crates",
        "theme/player/src",
        "xtask/src",
        "xtask/launch/src",
        "xtask/chromium",
        "tests/browser/src",
        "demos/src",
    ] {
        for path in files(&repo().join(dir), &[".rs"]) {
            // The escaper itself, and the tests (which spell what they expect).
            let p = path.to_string_lossy();
            if path.ends_with("contract/src/escape.rs") || p.contains("/tests/") {
                continue;
            }
            found.extend(escapers(&rel(&path), &read(&path)));
            read_files += 1;
        }
    }
    assert!(read_files > 80, "the sources were read: {read_files} files");
    let probe = escapers(
        "probe",
        "fn e(s: &str) -> String { s.replace('<', \"&lt;\") }\n#[cfg(test)]\nx(\"&amp;\")",
    );
    assert_eq!(probe.len(), 1, "{probe:?}");
    assert!(found.is_empty(), "\n{}", found.join("\n"));
}
