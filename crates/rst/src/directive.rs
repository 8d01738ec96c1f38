//! Directives: one function per directive, found by name in [`TABLE`].
//!
//! Each function gets the directive's call (name, argument/option/content lines, where
//! it is) and pushes the blocks it stands for. A name not in the table is
//! an error (as docutils: left out, the build goes on unless strict); an option a
//! directive does not take is a warning.

use super::block::{Block, Call, Image, Kind, Reader, Text, classes_of, dedent, join};
use super::include;

/// What reads a directive.
type Handler = fn(&mut Reader, &Call, &mut Vec<Block>);

/// Every directive the reader knows, by lower-case name.
pub(crate) const TABLE: &[(&str, Handler)] = &[
    ("note", note),
    ("warning", admonition),
    ("tip", admonition),
    ("caution", admonition),
    ("danger", admonition),
    ("error", admonition),
    ("hint", admonition),
    ("important", admonition),
    ("attention", admonition),
    ("seealso", admonition),
    ("todo", admonition),
    ("admonition", titled_box),
    ("topic", titled_box),
    ("sidebar", titled_box),
    ("versionadded", version_note),
    ("versionchanged", version_note),
    ("deprecated", version_note),
    ("nextslide", next_slide),
    ("slide", slide),
    ("slideconf", slideconf),
    ("ifslides", only_slides),
    ("ifnotslides", only_slides),
    ("only", only),
    ("image", image),
    ("figure", figure),
    ("code-block", code_block),
    ("code", code_block),
    ("sourcecode", code_block),
    ("literalinclude", include::literal_include),
    ("include", include::include),
    ("testcode", doctest_block),
    ("testoutput", doctest_block),
    ("doctest", doctest_block),
    ("testsetup", hidden),
    ("testcleanup", hidden),
    ("highlight", highlight),
    ("parsed-literal", parsed_literal),
    ("rst-class", classed),
    ("class", classed),
    ("container", classed),
    ("demo", embed),
    ("chart", embed),
    ("ladder", embed),
    ("raw", raw),
    ("rubric", rubric),
    ("centered", centered),
    ("epigraph", quote_box),
    ("highlights", quote_box),
    ("pull-quote", quote_box),
    ("list-table", super::table::list_table),
    ("csv-table", super::table::csv_table),
    ("table", super::table::titled_table),
    ("math", math),
    ("toctree", toctree),
    ("contents", contents),
    ("glossary", glossary),
    ("hlist", hlist),
    ("autoclass", autodoc),
    ("automodule", autodoc),
    ("autofunction", autodoc),
    ("automethod", autodoc),
    ("autoattribute", autodoc),
    ("graphviz", super::graphviz::graphviz),
    ("digraph", super::graphviz::graphviz),
    ("graph", super::graphviz::graphviz),
    ("confval", object_description),
];

/// Domain directives (`py:class`, `rst:directive`, ...): a description of an object.
fn is_domain_directive(name: &str) -> bool {
    let Some((domain, _)) = name.split_once(':') else {
        return false;
    };
    matches!(domain, "py" | "rst" | "c" | "cpp" | "js" | "std" | "rust")
}

/// Reads the directive `call` names, or reports it unknown.
pub(crate) fn read(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let lower = call.name.to_ascii_lowercase();
    if let Some((_, handler)) = TABLE.iter().find(|(n, _)| *n == lower) {
        handler(r, call, out);
    } else if is_domain_directive(&lower) {
        object_description(r, call, out);
    } else {
        unknown(r, call, out);
    }
}

/// As docutils: an error at the directive's line, and the directive (its content
/// too) left out.
fn unknown(r: &mut Reader, call: &Call, _: &mut Vec<Block>) {
    r.report(
        call.line,
        format!(
            "unknown directive type `{}`; left out (its content too)",
            call.name
        ),
    );
}

/// A literal block with no options.
pub(crate) fn literal(lang: Option<String>, text: String) -> super::block::Literal {
    super::block::Literal {
        lang,
        text,
        caption: None,
        numbered_from: None,
        emphasized: Vec::new(),
    }
}

fn note(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, false, true);
    r.check_options(call.name, &d, &["class", "name"]);
    let body = r.body(&d.content, call.depth + 1, false);
    call.push(out, Kind::Note(body));
}

fn admonition(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, false, true);
    r.check_options(call.name, &d, &["class", "name"]);
    let body = r.body(&d.content, call.depth + 1, false);
    let class = call.name.to_ascii_lowercase();
    call.push(
        out,
        Kind::Admonition {
            class,
            title: None,
            body,
        },
    );
}

fn titled_box(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, &["class", "name", "subtitle"]);
    let mut class = call.name.to_ascii_lowercase();
    if let Some(c) = Reader::option(&d, "class") {
        for c in classes_of(c) {
            class.push(' ');
            class.push_str(&c);
        }
    }
    let body = r.body(&d.content, call.depth + 1, false);
    let title = Some(Text {
        text: d.args.clone(),
        line: call.line,
    });
    call.push(out, Kind::Admonition { class, title, body });
}

/// `versionadded`, `versionchanged`, `deprecated`: "New in version X: text", as Sphinx.
fn version_note(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, false);
    let lower = call.name.to_ascii_lowercase();
    let (version, explanation) = match d.args.split_once(' ') {
        Some((v, rest)) => (v.to_string(), rest.trim().to_string()),
        None => (d.args.clone(), String::new()),
    };
    let lead = match lower.as_str() {
        "versionadded" => "New in version",
        "versionchanged" => "Changed in version",
        _ => "Deprecated since version",
    };
    let text = if explanation.is_empty() && d.content.is_empty() {
        format!("*{lead} {version}.*")
    } else {
        format!("*{lead} {version}:* {explanation}")
    };
    let mut body = vec![Block {
        line: call.line,
        kind: Kind::Para(Text {
            text,
            line: call.line,
        }),
    }];
    body.extend(r.body(&d.content, call.depth + 1, false));
    call.push(
        out,
        Kind::Classed {
            classes: vec![lower],
            body,
        },
    );
}

fn next_slide(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, &["increment", "classes", "class"]);
    r.no_content(call.name, &d);
    let classes = Reader::option(&d, "classes")
        .or(Reader::option(&d, "class"))
        .map(classes_of)
        .unwrap_or_default();
    let title = (!d.args.is_empty()).then(|| Text {
        text: d.args.clone(),
        line: call.line,
    });
    let increment = d.options.iter().any(|(n, _, _)| n == "increment");
    call.push(
        out,
        Kind::NextSlide {
            title,
            increment,
            classes,
        },
    );
}

fn slide(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(
        call.name,
        &d,
        &["level", "class", "name", "inline-contents"],
    );
    let level = Reader::option(&d, "level").and_then(|l| l.trim().parse().ok());
    let body = r.body(&d.content, call.depth + 1, false);
    let classes = Reader::option(&d, "class")
        .map(classes_of)
        .unwrap_or_default();
    let title = (!d.args.is_empty()).then(|| Text {
        text: d.args.clone(),
        line: call.line,
    });
    call.push(
        out,
        Kind::Slide {
            title,
            level,
            classes,
            body,
        },
    );
}

/// `.. slideconf::`: this document's `autoslides` and `slide_levels` (and a theme,
/// which the deck has no use for).
fn slideconf(r: &mut Reader, call: &Call, _: &mut Vec<Block>) {
    let d = r.split(call.inner, false, true);
    r.check_options(
        call.name,
        &d,
        &["autoslides", "slide_levels", "theme", "slide_classes"],
    );
    r.no_content(call.name, &d);
    if let Some(v) = Reader::option(&d, "autoslides") {
        let v = v.trim().to_ascii_lowercase();
        r.slideconf.autoslides = Some(matches!(v.as_str(), "true" | "yes" | "1"));
    }
    if let Some(v) = Reader::option(&d, "slide_levels") {
        match v.trim().parse() {
            Ok(n) => r.slideconf.slide_levels = Some(n),
            Err(_) => r.warn(call.line, "`:slide_levels:` must be a number; ignored"),
        }
    }
}

fn only_slides(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, false, false);
    // As in hieroglyph, section titles inside count (at the top level).
    let body = r.body(&d.content, call.depth + 1, call.depth == 0);
    let slides = call.name.eq_ignore_ascii_case("ifslides");
    call.push(out, Kind::Only { slides, body });
}

/// Sphinx's `only`: kept for the HTML builder (`html`, `slides`, or no tags), else dropped.
fn only(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, false);
    let expr = d.args.to_ascii_lowercase();
    let keep = expr
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .any(|w| matches!(w, "html" | "slides" | "html5slides" | "singlehtml"))
        && !expr.contains("not");
    if keep {
        let mut body = r.body(&d.content, call.depth + 1, call.depth == 0);
        out.append(&mut body);
    }
}

fn image(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, IMAGE_OPTIONS);
    r.no_content(call.name, &d);
    let image = r.image(&d, call.line);
    call.push(out, Kind::Image(image));
}

pub(crate) const IMAGE_OPTIONS: &[&str] = &[
    "alt", "height", "width", "scale", "align", "target", "class", "name", "loading",
];

fn figure(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    let mut known = IMAGE_OPTIONS.to_vec();
    known.extend(["figwidth", "figclass"]);
    r.check_options(call.name, &d, &known);
    let image: Image = r.image(&d, call.line);
    let class = Reader::option(&d, "figclass")
        .map(classes_of)
        .unwrap_or_default();
    let width = Reader::option(&d, "figwidth").map(str::to_string);
    let mut body = r.body(&d.content, call.depth + 1, false);
    let caption = match body.first() {
        Some(Block {
            kind: Kind::Para(t),
            ..
        }) => {
            let t = t.clone();
            body.remove(0);
            Some(t)
        }
        Some(b) => {
            // docutils: an empty comment stands for "no caption"; anything else first
            // is an error. Keep it as the legend.
            r.warn(
                b.line,
                "a figure's caption must be a paragraph; shown as the legend",
            );
            None
        }
        None => None,
    };
    call.push(
        out,
        Kind::Figure {
            image,
            class,
            width,
            caption,
            legend: body,
        },
    );
}

const CODE_OPTIONS: &[&str] = &[
    "linenos",
    "lineno-start",
    "emphasize-lines",
    "caption",
    "name",
    "class",
    "dedent",
    "force",
    "number-lines",
];

fn code_block(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, CODE_OPTIONS);
    let lang = d
        .args
        .split_whitespace()
        .next()
        .map(str::to_string)
        .or(r.default_lang.clone());
    if d.content.is_empty() {
        r.warn(call.line, format!("`{}` without content", call.name));
    }
    let text = join(&dedent(&d.content));
    let first = d.content.first().map_or(call.line, |l| l.no);
    let code = code_options(r, &d, lang, text, call.line);
    out.push(Block {
        line: first,
        kind: Kind::Literal(code),
    });
}

/// A code block's `:caption:`, `:linenos:`/`:lineno-start:`/`:number-lines:` and
/// `:emphasize-lines:`.
pub(crate) fn code_options(
    r: &mut Reader,
    d: &super::block::Directive,
    lang: Option<String>,
    text: String,
    line: usize,
) -> super::block::Literal {
    let mut code = literal(lang, text);
    code.caption = Reader::option(d, "caption").map(|c| Text {
        text: c.to_string(),
        line,
    });
    let start = Reader::option(d, "lineno-start")
        .or(Reader::option(d, "number-lines"))
        .map(|s| s.trim().parse().unwrap_or(1));
    let numbered = d
        .options
        .iter()
        .any(|(n, _, _)| n == "linenos" || n == "number-lines");
    code.numbered_from = start.or(numbered.then_some(1));
    if let Some(spec) = Reader::option(d, "emphasize-lines") {
        match line_numbers(spec) {
            Some(lines) => code.emphasized = lines,
            None => r.warn(
                line,
                format!("`:emphasize-lines:` {spec:?} is not a list of lines"),
            ),
        }
    }
    code
}

/// `1,3-5` as line numbers; `None` when it does not read as one. Ranges are capped so a
/// huge one cannot take time or memory.
fn line_numbers(spec: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b): (usize, usize) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
            None => {
                let n = part.parse().ok()?;
                (n, n)
            }
        };
        if a > b || b - a > 10_000 {
            return None;
        }
        out.extend(a..=b);
    }
    Some(out)
}

/// `testcode`, `testoutput`, `doctest` (sphinx.ext.doctest): shown as code.
fn doctest_block(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    let lang = match call.name.to_ascii_lowercase().as_str() {
        "testoutput" => None,
        "doctest" => Some("pycon".to_string()),
        _ => Some("python".to_string()),
    };
    let first = d.content.first().map_or(call.line, |l| l.no);
    out.push(Block {
        line: first,
        kind: Kind::Literal(literal(lang, join(&dedent(&d.content)))),
    });
}

/// Set-up and clean-up code of doctests: not shown, as in Sphinx.
fn hidden(_: &mut Reader, _: &Call, _: &mut Vec<Block>) {}

fn highlight(r: &mut Reader, call: &Call, _: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, &["linenothreshold", "force"]);
    r.default_lang = d.args.split_whitespace().next().map(str::to_string);
}

fn parsed_literal(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, false, true);
    r.check_options(call.name, &d, &["class", "name"]);
    let first = d.content.first().map_or(call.line, |l| l.no);
    out.push(Block {
        line: first,
        kind: Kind::ParsedLiteral(Text {
            text: join(&dedent(&d.content)),
            line: first,
        }),
    });
}

fn classed(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, &["name"]);
    let lower = call.name.to_ascii_lowercase();
    let mut classes = classes_of(&d.args);
    if classes.is_empty() && lower != "container" {
        r.warn(
            call.line,
            format!("`{}` needs at least one class name", call.name),
        );
    }
    let body = r.body(&d.content, call.depth + 1, false);
    if lower == "container" {
        classes.insert(0, "container".into());
        if body.is_empty() {
            r.warn(call.line, "`container` without content");
            return;
        }
    }
    call.push(out, Kind::Classed { classes, body });
}

fn embed(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, false);
    r.no_content(call.name, &d);
    let lower = call.name.to_ascii_lowercase();
    call.push(out, Kind::Embed(format!("{{{{#{lower} {}}}}}", d.args)));
}

/// `.. raw:: html`: the content, or with `:file:` a file from inside the book (read as
/// `include` reads, relative to the chapter). `:url:` is not fetched (the build loads
/// nothing from the network): a warning. Other formats stand for nothing in HTML.
fn raw(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, &["file", "url", "encoding"]);
    let file = Reader::option(&d, "file").map(|f| f.trim().to_string());
    let url = Reader::option(&d, "url").map(|u| u.trim().to_string());
    if (file.is_some() || url.is_some()) && !d.content.is_empty() {
        r.report(
            call.line,
            "`raw` with both content and `:file:` or `:url:`; left out",
        );
        return;
    }
    if !d
        .args
        .split_whitespace()
        .any(|f| f.eq_ignore_ascii_case("html"))
    {
        return;
    }
    let html = match (file, url) {
        (Some(file), _) => match include::read(r, &file, call.line) {
            Some(text) => text,
            None => return,
        },
        (None, Some(url)) => {
            r.warn(
                call.line,
                format!(
                    "`raw` `:url:` {url} is not fetched (the build reads no network); left out"
                ),
            );
            return;
        }
        (None, None) => join(&dedent(&d.content)),
    };
    out.push(Block {
        line: d.content.first().map_or(call.line, |l| l.no),
        kind: Kind::Raw(html),
    });
}

fn rubric(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, &["class", "name"]);
    let text = Text {
        text: d.args.clone(),
        line: call.line,
    };
    call.push(out, Kind::Rubric(text));
}

/// Sphinx's `centered`: a centred, bold line.
fn centered(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, false);
    let text = Text {
        text: d.args.clone(),
        line: call.line,
    };
    call.push(out, Kind::Centered(text));
}

fn quote_box(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, false, false);
    let class = match call.name.to_ascii_lowercase().as_str() {
        "epigraph" => "epigraph",
        "highlights" => "highlights",
        _ => "pull-quote",
    };
    if !d.content.is_empty() {
        let block = r.quote(&d.content, call.depth, class);
        out.push(block);
    }
}

/// `math`: LaTeX shown as readable text (no MathJax: nothing is loaded from the web).
fn math(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, &["label", "name", "class", "nowrap"]);
    let mut tex = d.args.clone();
    if !d.content.is_empty() {
        if !tex.is_empty() {
            tex.push('\n');
        }
        tex.push_str(&join(&dedent(&d.content)));
    }
    call.push(out, Kind::Math(tex));
}

/// A toctree in a single-document build: hidden ones vanish; others list their entries.
fn toctree(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, false, true);
    if d.options.iter().any(|(n, _, _)| n == "hidden") {
        return;
    }
    let entries: Vec<Text> = d
        .content
        .iter()
        .filter(|l| !l.blank() && !l.text.trim_start().starts_with(':'))
        .map(|l| Text {
            text: l.text.trim().to_string(),
            line: l.no,
        })
        .collect();
    if !entries.is_empty() {
        // hieroglyph's toctree is empty in slides: the links are for readers.
        let line = call.line;
        call.push(
            out,
            Kind::Only {
                slides: false,
                body: vec![Block {
                    line,
                    kind: Kind::Toctree(entries),
                }],
            },
        );
    }
}

/// `contents`: a list of this document's section titles, filled in when rendering.
fn contents(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, &["depth", "local", "backlinks", "class"]);
    let depth = Reader::option(&d, "depth")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(usize::MAX);
    let title = (!d.args.is_empty()).then(|| d.args.clone());
    let local = Reader::option(&d, "local").is_some();
    call.push(
        out,
        Kind::Contents {
            title,
            depth,
            local,
        },
    );
}

/// `glossary`: a definition list of terms.
fn glossary(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, false, true);
    r.check_options(call.name, &d, &["sorted"]);
    let body = r.body(&d.content, call.depth + 1, false);
    call.push(
        out,
        Kind::Classed {
            classes: vec!["glossary".into()],
            body,
        },
    );
}

/// `hlist`: a list shown in columns; one list here.
fn hlist(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, false, true);
    r.check_options(call.name, &d, &["columns"]);
    let body = r.body(&d.content, call.depth + 1, false);
    call.push(
        out,
        Kind::Classed {
            classes: vec!["hlist".into()],
            body,
        },
    );
}

/// Sphinx's autodoc reads Python docstrings, which a book does not have: the object's
/// name is shown as its signature.
fn autodoc(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    let body = r.body(&d.content, call.depth + 1, false);
    let signature = d.args.clone();
    call.push(
        out,
        Kind::Describe {
            class: call.name.to_ascii_lowercase().replace("auto", "py "),
            signature,
            body,
        },
    );
}

/// `graphviz`: the DOT source as code (drawing it needs Graphviz).
/// A domain object (`py:class`, `rst:directive`, `confval`, ...): its signature and
/// description, as Sphinx's `<dl class="...">`.
fn object_description(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    let body = r.body(&d.content, call.depth + 1, false);
    call.push(
        out,
        Kind::Describe {
            class: call.name.to_ascii_lowercase().replace(':', " "),
            signature: d.args.clone(),
            body,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_read_ranges_and_refuse_junk() {
        assert_eq!(line_numbers("1,3-5"), Some(vec![1, 3, 4, 5]));
        assert_eq!(line_numbers("x"), None);
        assert_eq!(line_numbers("1-999999999"), None);
    }

    #[test]
    fn every_table_entry_is_lower_case_and_unique() {
        for (k, (name, _)) in TABLE.iter().enumerate() {
            assert_eq!(*name, name.to_ascii_lowercase());
            assert!(TABLE[k + 1..].iter().all(|(n, _)| n != name), "{name}");
        }
    }

    fn read(src: &str) -> Vec<Block> {
        Reader::new().document(&crate::block::numbered(src.lines()))
    }

    #[test]
    fn each_version_note_says_its_own_lead() {
        for (name, lead) in [
            ("versionadded", "New in version"),
            ("versionchanged", "Changed in version"),
            ("deprecated", "Deprecated since version"),
        ] {
            let blocks = read(&format!(".. {name}:: 2.0\n"));
            let [
                Block {
                    kind: Kind::Classed { body, .. },
                    ..
                },
            ] = &blocks[..]
            else {
                panic!("{blocks:?}")
            };
            let [
                Block {
                    kind: Kind::Para(t),
                    ..
                },
            ] = &body[..]
            else {
                panic!("{body:?}")
            };
            assert_eq!(t.text, format!("*{lead} 2.0.*"));
        }
    }

    #[test]
    fn only_keeps_an_expression_naming_html_and_its_titles_at_the_top_level() {
        // Words of the expression are split at every character other than a letter,
        // a digit or `_`: `html or latex` names `html`; `html_x` does not.
        let kept = |src: &str| !read(src).is_empty();
        assert!(kept(".. only:: html or latex\n\n   text\n"));
        assert!(kept(".. only:: (latex or html)\n\n   text\n"));
        assert!(!kept(".. only:: html_x\n\n   text\n"));
        // At the top level a section title inside is a title; in a quote it may not be.
        let titled = ".. only:: html\n\n   Title\n   =====\n\n   text\n";
        let blocks = read(titled);
        assert!(
            matches!(blocks.first().map(|b| &b.kind), Some(Kind::Title { .. })),
            "{blocks:?}"
        );
        let quoted: String = titled.lines().map(|l| format!("  {l}\n")).collect();
        let blocks = read(&format!("para\n\n{quoted}"));
        assert!(!format!("{blocks:?}").contains("Title {"), "{blocks:?}");
    }

    #[test]
    fn each_quote_directive_gives_its_own_class() {
        for name in ["epigraph", "highlights", "pull-quote"] {
            let blocks = read(&format!(".. {name}::\n\n   text\n"));
            let [
                Block {
                    kind: Kind::Quote { class, .. },
                    ..
                },
            ] = &blocks[..]
            else {
                panic!("{blocks:?}")
            };
            assert_eq!(*class, name);
        }
    }

    #[test]
    fn a_toctree_lists_its_entries_without_blank_lines_or_options() {
        let blocks = read(".. toctree::\n   :maxdepth: 2\n\n   intro\n\n   usage\n");
        let [
            Block {
                kind: Kind::Only { body, .. },
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        let [
            Block {
                kind: Kind::Toctree(entries),
                ..
            },
        ] = &body[..]
        else {
            panic!("{body:?}")
        };
        let entries: Vec<&str> = entries.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(entries, ["intro", "usage"]);
    }

    #[test]
    fn an_autodoc_directive_shows_its_object_as_a_python_signature() {
        let blocks = read(".. autoclass:: pkg.Thing\n\n   Said of it.\n");
        let [
            Block {
                kind:
                    Kind::Describe {
                        class,
                        signature,
                        body,
                    },
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(
            (class.as_str(), signature.as_str()),
            ("py class", "pkg.Thing")
        );
        assert_eq!(body.len(), 1, "{body:?}");
    }

    #[test]
    fn directives_nested_past_the_limit_are_shown_as_literal_text() {
        // Each directive that reads its content as body elements counts a level: `n`
        // of them, one inside the next, read the innermost text at depth `n`. Up to
        // `MAX_DEPTH` all is read; one more is literal text, with a warning.
        use crate::block::MAX_DEPTH;
        let nested = |head: &str, n: usize| -> String {
            (0..n)
                .map(|k| format!("{}.. {head}\n\n", " ".repeat(3 * k)))
                .collect::<String>()
                + &" ".repeat(3 * n)
                + "x\n"
        };
        for head in [
            "note::",
            "warning::",
            "versionadded:: 1.0",
            "ifslides::",
            "only:: html",
            "container::",
            "hlist::",
            "autofunction:: f()",
            "confval:: x",
            "py:function:: f()",
            "epigraph::",
            "slide:: T",
        ] {
            let mut r = Reader::new();
            let blocks = r.document(&crate::block::numbered(nested(head, MAX_DEPTH).lines()));
            assert!(r.warnings.is_empty(), "{head}: {:?}", r.warnings);
            assert!(
                !format!("{blocks:?}").contains("Literal"),
                "{head}: {blocks:?}"
            );
            let mut r = Reader::new();
            let blocks = r.document(&crate::block::numbered(nested(head, MAX_DEPTH + 1).lines()));
            assert!(
                format!("{blocks:?}").contains("Literal"),
                "{head}: {blocks:?}"
            );
            assert_eq!(r.warnings.len(), 1, "{head}: {:?}", r.warnings);
            assert!(
                r.warnings[0].message.contains("nested too deeply"),
                "{head}: {:?}",
                r.warnings
            );
        }
    }

    #[test]
    fn titles_inside_ifslides_and_only_at_the_top_level_are_titles() {
        // As hieroglyph and Sphinx: section titles in their content count.
        let mut r = Reader::new();
        let blocks = r.document(&crate::block::numbered(
            ".. ifslides::\n\n   Title\n   =====\n\n   text\n".lines(),
        ));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let [
            Block {
                kind: Kind::Only { slides: true, body },
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert!(matches!(body[0].kind, Kind::Title { .. }), "{body:?}");
        let mut r = Reader::new();
        let blocks = r.document(&crate::block::numbered(
            ".. only:: html\n\n   Title\n   =====\n\n   text\n".lines(),
        ));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert!(matches!(blocks[0].kind, Kind::Title { .. }), "{blocks:?}");
    }

    /// The blocks of `src` and its warnings and reported errors, `dot` not run.
    fn read_problems(src: &str) -> (Vec<Block>, Vec<crate::Problem>) {
        let mut r = Reader::new();
        r.graphviz = false;
        let blocks = r.document(&crate::block::numbered(src.lines()));
        let mut problems = r.warnings;
        problems.extend(r.reported);
        (blocks, problems)
    }

    /// The one literal block of `src`.
    fn literal_of(src: &str) -> crate::block::Literal {
        let (blocks, problems) = read_problems(src);
        assert!(problems.is_empty(), "{src:?}: {problems:?}");
        match &blocks[..] {
            [
                ..,
                Block {
                    kind: Kind::Literal(l),
                    ..
                },
            ] => l.clone(),
            _ => panic!("{src:?}: {blocks:?}"),
        }
    }

    #[test]
    fn emphasized_lines_are_numbers_and_ranges() {
        // Sphinx's `parselinenos`: `1,3-5`; a range backwards is no spec.
        assert_eq!(line_numbers("1, 3-5"), Some(vec![1, 3, 4, 5]));
        assert_eq!(line_numbers("7"), Some(vec![7]));
        assert_eq!(line_numbers("2-2"), Some(vec![2]));
        assert_eq!(line_numbers("5-3"), None);
        assert_eq!(line_numbers("x"), None);
        // Ranges are capped at 10,000 lines past their start.
        assert_eq!(line_numbers("1-10001").map(|l| l.len()), Some(10_001));
        assert_eq!(line_numbers("1-10002"), None);
    }

    #[test]
    fn doctest_directives_are_python_console_python_and_plain_code() {
        // sphinx.ext.doctest: `doctest` blocks are console sessions (`pycon`),
        // `testcode` Python, `testoutput` plain output.
        for (name, lang) in [
            ("doctest", Some("pycon")),
            ("testcode", Some("python")),
            ("testoutput", None),
        ] {
            let l = literal_of(&format!(".. {name}::\n\n   >>> 1 + 1\n   2\n"));
            assert_eq!(l.lang.as_deref(), lang, "{name}");
            assert_eq!(l.text, ">>> 1 + 1\n2", "{name}");
        }
    }

    #[test]
    fn highlight_sets_the_language_of_the_literal_blocks_after_it() {
        let src = "Before::\n\n   a\n\n.. highlight:: rust\n\nAfter::\n\n   let x = 1;\n";
        let (blocks, problems) = read_problems(src);
        assert!(problems.is_empty(), "{problems:?}");
        let langs: Vec<Option<&str>> = blocks
            .iter()
            .filter_map(|b| match &b.kind {
                Kind::Literal(l) => Some(l.lang.as_deref()),
                _ => None,
            })
            .collect();
        assert_eq!(langs, [None, Some("rust")]);
    }

    #[test]
    fn raw_with_a_file_or_url_and_content_is_left_out_and_reported() {
        // Docutils: `"raw" directive may not both specify an external file and have
        // content.`
        for option in [":file: x.html", ":url: https://x.org/a.html"] {
            let src = format!(".. raw:: html\n   {option}\n\n   <b>content</b>\n");
            let (blocks, problems) = read_problems(&src);
            assert!(blocks.is_empty(), "{src:?}: {blocks:?}");
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert!(
                problems[0]
                    .message
                    .contains("both content and `:file:` or `:url:`"),
                "{src:?}: {problems:?}"
            );
        }
    }

    #[test]
    fn a_rubric_is_its_text() {
        let (blocks, problems) = read_problems(".. rubric:: Notes\n");
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            matches!(&blocks[..], [Block { kind: Kind::Rubric(t), .. }] if t.text == "Notes"),
            "{blocks:?}"
        );
    }

    #[test]
    fn a_math_directive_keeps_its_argument_and_content_on_lines_of_their_own() {
        // Sphinx: the argument is an equation before the content's.
        for (src, tex) in [
            (".. math:: a + b\n\n   c + d\n", "a + b\nc + d"),
            (".. math::\n\n   c + d\n", "c + d"),
            (".. math:: a + b\n", "a + b"),
        ] {
            let (blocks, problems) = read_problems(src);
            assert!(problems.is_empty(), "{src:?}: {problems:?}");
            assert!(
                matches!(&blocks[..], [Block { kind: Kind::Math(t), .. }] if t == tex),
                "{src:?}: {blocks:?}"
            );
        }
    }

    #[test]
    fn a_graphviz_directive_with_a_file_argument_is_reported_and_left_out() {
        for src in [
            ".. graphviz:: a.dot\n",
            ".. graphviz:: a.dot\n\n   digraph { a -> b }\n",
        ] {
            let (blocks, problems) = read_problems(src);
            assert!(blocks.is_empty(), "{src:?}: {blocks:?}");
            assert_eq!(problems.len(), 1, "{src:?}: {problems:?}");
            assert!(
                problems[0]
                    .message
                    .contains("with a file argument is not read"),
                "{src:?}: {problems:?}"
            );
        }
    }
}
