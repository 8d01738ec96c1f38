//! Each construct hieroglyph talks use, read by our reader and compared with what
//! Sphinx 6.2 and docutils 0.19 make of the same source (`tests/rst/constructs/`,
//! expected HTML from `tests/rst/constructs/regen.py`).
//!
//! The comparison is of structure and text, not bytes: the words the reader sees, in
//! order, and how many of each telling element (table cells, list items, links, ...)
//! there are.

use std::path::{Path, PathBuf};

use deck::rst;
use deck::slides;
use deck::test_support::FakeEmbed;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rst/constructs")
}

/// Every fixture and the markers whose counts must agree with Sphinx's.
const FIXTURES: &[(&str, &[&str])] = &[
    ("nested-bullets", &["<li", "<dt", "<dd"]),
    ("list-table", &["<table", "<tr", "<th", "<td"]),
    ("csv-table", &["<table", "<tr", "<th", "<td"]),
    (
        "table-spans",
        &["<tr", "<th", "<td", "colspan=\"2\"", "rowspan=\"2\""],
    ),
    ("option-list", &["<dt", "<dd", "<kbd"]),
    ("footnotes", &["footnote-reference"]),
    ("ref-doc", &["href="]),
    ("code-options", &["code-block-caption", "linenos", "hll"]),
    ("raw-substitution", &["<br"]),
    ("math", &["class=\"math"]),
    ("only-toctree-contents", &["<li"]),
    ("include", &["<em", "<li", "<pre"]),
    ("domain-roles", &["<code", "<dt", "<dd"]),
    ("sphinx-directives", &["centered", "<dt", "<li", "<pre"]),
    (
        "image-next-line",
        &["<img", "<figcaption", "src=\"picture.png\""],
    ),
];

fn count(html: &str, marker: &str) -> usize {
    if let Some(tag) = marker.strip_prefix('<')
        && tag.chars().all(|c| c.is_ascii_alphanumeric())
    {
        // `<th` must not count `<thead`.
        return [" ", ">"]
            .iter()
            .map(|end| html.matches(&format!("<{tag}{end}")).count())
            .sum();
    }
    html.matches(marker).count()
}

/// The words of the visible text, lower-cased.
fn words(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = contract::escape::decode(&text).replace(['\u{2018}', '\u{2019}'], "'");
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn lcs(a: &[String], b: &[String]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut diagonal = 0;
        for (j, y) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if x == y {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

fn options() -> rst::Options {
    let mut options = rst::Options {
        files: Some(rst::Files {
            dir: dir(),
            root: dir(),
        }),
        ..rst::Options::default()
    };
    for (name, _) in FIXTURES.iter().chain([&("other", &[][..])]) {
        let src =
            std::fs::read_to_string(dir().join(format!("{name}.rst"))).expect("reading a fixture");
        options.add_chapter(name, &rst::chapter(&src));
    }
    options
}

fn ours(name: &str, options: &rst::Options) -> String {
    let src =
        std::fs::read_to_string(dir().join(format!("{name}.rst"))).expect("reading a fixture");
    let c = rst::convert(&src, options);
    assert!(c.warnings.is_empty(), "{name}: {:?}", c.warnings);
    assert!(c.errors.is_empty(), "{name}: {:?}", c.errors);
    assert!(c.reported.is_empty(), "{name}: {:?}", c.reported);
    let md = slides::to_slides(&c.markdown, &mut FakeEmbed::Missing)
        .unwrap_or_else(|p| panic!("{name}: {p:?}"));
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, slides::parser(&md));
    html
}

#[test]
fn constructs_match_what_sphinx_and_docutils_make() {
    let options = options();
    let mut failures = Vec::new();
    for (name, markers) in FIXTURES {
        let html = ours(name, &options);
        let path = dir().join("expected").join(format!("{name}.html"));
        let expected = std::fs::read_to_string(&path).expect("reading expected HTML");
        for marker in *markers {
            let (want, got) = (count(&expected, marker), count(&html, marker));
            if want != got {
                failures.push(format!("{name}: {want} × {marker:?} in Sphinx, {got} here"));
            }
        }
        // Math is TeX source in Sphinx (for MathJax), readable text here.
        if *name != "math" {
            let (theirs, mine) = (words(&expected), words(&html));
            let matched = lcs(&theirs, &mine);
            if matched * 100 < theirs.len() * 95 || mine.len() > theirs.len() * 5 / 4 + 4 {
                failures.push(format!(
                    "{name}: {matched} of {} words in order ({} here)\n  Sphinx: {theirs:?}\n  here:   {mine:?}",
                    theirs.len(),
                    mine.len()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn include_outside_the_book_is_an_error_at_its_line() {
    let options = rst::Options {
        files: Some(rst::Files {
            dir: dir(),
            root: dir(),
        }),
        ..rst::Options::default()
    };
    let c = rst::convert("T\n=\n\n.. include:: ../slides.rst\n", &options);
    assert_eq!(c.errors.len(), 1, "{:?}", c.errors);
    assert_eq!(c.errors[0].line, 4);
    assert!(
        c.errors[0].message.contains("outside the book"),
        "{:?}",
        c.errors
    );
    // Without a book, nothing is read: reported, and the build goes on.
    let c = rst::to_markdown(".. literalinclude:: snippet.py\n");
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.reported.len(), 1, "{:?}", c.reported);
}

#[test]
fn math_reads_as_text() {
    let html = ours("math", &options());
    assert!(html.contains("α² + β² ≤ γ"), "{html}");
}
