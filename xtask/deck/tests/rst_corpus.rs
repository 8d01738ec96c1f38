//! Public hieroglyph talks, built by our reader and compared slide for slide with what
//! hieroglyph 2.1 itself made of them (`tests/corpus/expected/*.json`, written by
//! `tests/corpus/regen.py`; sources and licences in `tests/corpus/README.md`).
//!
//! The measure is the one the issue sets: of hieroglyph's slides, how many appear here
//! with the same title in the same order (the longest common subsequence of the two
//! title lists). Below 95 % over the corpus fails, and so does a warning of ours at a
//! line where hieroglyph reported none, or on a talk that hieroglyph builds cleanly
//! (its only warnings being the images the corpus leaves out).

use std::path::{Path, PathBuf};

use deck::rst;
use deck::slides::{self, Embed};

struct NoEmbeds;

impl Embed for NoEmbeds {
    fn demo(&mut self, name: &str) -> Result<String, String> {
        Err(format!("no demo `{name}` in the corpus"))
    }
    fn chart(&mut self, demo: &str, _: &[String]) -> Result<String, String> {
        Err(format!("no demo `{demo}` in the corpus"))
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every talk: (name, source path), named as its expected file is.
fn talks() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let dir = corpus_dir();
    for author in ["edunham", "hieroglyph"] {
        collect(&dir.join(author), &format!("{author}-"), &mut out);
    }
    out.sort();
    out
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("reading the corpus directory").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            collect(&path, &format!("{prefix}{name}-"), out);
        } else if let Some(stem) = name.strip_suffix(".rst") {
            out.push((format!("{prefix}{stem}"), path));
        }
    }
}

struct Expected {
    slides: Vec<String>,
    /// hieroglyph warned about something other than a missing image.
    warned: bool,
    /// The lines of those warnings.
    warning_lines: Vec<usize>,
}

fn expected(name: &str) -> Expected {
    let path = corpus_dir().join("expected").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("expected titles are JSON");
    let strings = |key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .unwrap_or_else(|| panic!("{name}: no {key}"))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect()
    };
    let real: Vec<String> = strings("warnings")
        .into_iter()
        .filter(|w| {
            !w.contains("image file not readable") && !w.contains("Could not obtain image size")
        })
        .collect();
    // `FILE:LINE: WARNING: ...` (a few have no line).
    let warning_lines = real
        .iter()
        .filter_map(|w| w.split(':').nth(1)?.parse().ok())
        .collect();
    Expected {
        slides: strings("slides").iter().map(|t| normalize(t)).collect(),
        warned: !real.is_empty(),
        warning_lines,
    }
}

/// The settings a talk is read with: hieroglyph's docs are one book, whose chapters
/// refer to each other's sections.
fn book_options(name: &str) -> rst::Options {
    let mut options = rst::Options::default();
    if name.starts_with("hieroglyph-") {
        let dir = corpus_dir().join("hieroglyph");
        for (_, path) in talks().iter().filter(|(n, _)| n.starts_with("hieroglyph-")) {
            let src = std::fs::read_to_string(path).expect("reading a corpus document");
            let rel = path
                .strip_prefix(&dir)
                .expect("inside the docs")
                .with_extension("");
            options.add_chapter(&rel.to_string_lossy(), &rst::chapter(&src));
        }
    }
    options
}

/// Titles compared as text: tags, entities, Sphinx's smart quotes and spacing aside.
fn normalize(title: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in title.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace(['\u{2018}', '\u{2019}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace('\u{2013}', "--")
        .replace('\u{2014}', "---")
        .replace('\u{2026}', "...")
        .replace('\u{a0}', " ")
        .replace('\u{b6}', "");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Our slides of a talk: the title of each (the heading it opens with, or "").
fn our_slides(
    name: &str,
    src: &str,
    options: &rst::Options,
) -> (Vec<String>, Vec<(usize, String)>) {
    let converted = rst::convert(src, options);
    let warnings = converted
        .warnings
        .iter()
        .map(|w| (w.line, w.message.clone()))
        .collect();
    let md = slides::to_slides(&converted.markdown, &mut NoEmbeds)
        .unwrap_or_else(|p| panic!("{name}: {p:?}"));
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, slides::parser(&md));
    let titles = html
        .split("<section class=\"slide\"")
        .skip(1)
        .map(slide_title)
        .collect();
    (titles, warnings)
}

fn slide_title(slide: &str) -> String {
    let body = slide.split_once('>').map_or("", |(_, b)| b).trim_start();
    let Some(rest) = body.strip_prefix("<h") else {
        return String::new();
    };
    let Some(level) = rest.chars().next().filter(char::is_ascii_digit) else {
        return String::new();
    };
    let inner = rest.split_once('>').map_or("", |(_, b)| b);
    let end = inner.find(&format!("</h{level}>")).unwrap_or(inner.len());
    normalize(&inner[..end])
}

/// The length of the longest common subsequence of two title lists.
fn matched_in_order(ours: &[String], theirs: &[String]) -> usize {
    let mut row = vec![0usize; theirs.len() + 1];
    for a in ours {
        let mut diagonal = 0;
        for (j, b) in theirs.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if a == b {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[theirs.len()]
}

#[test]
fn lcs_counts_titles_in_order() {
    let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
    assert_eq!(
        matched_in_order(&s(&["a", "b", "c"]), &s(&["a", "c", "b"])),
        2
    );
    assert_eq!(matched_in_order(&s(&["x"]), &s(&["a", "b"])), 0);
    assert_eq!(
        matched_in_order(&s(&["a", "", "b"]), &s(&["a", "", "b"])),
        3
    );
}

#[test]
fn corpus_talks_make_hieroglyphs_slides_and_warn_only_where_hieroglyph_does() {
    let (mut total, mut matched) = (0, 0);
    let mut strict_failures = Vec::new();
    let mut extra_warnings = Vec::new();
    let mut report = String::new();
    for (name, path) in talks() {
        let src = std::fs::read_to_string(&path).expect("reading a corpus talk");
        let want = expected(&name);
        let (ours, warnings) = our_slides(&name, &src, &book_options(&name));
        let m = matched_in_order(&ours, &want.slides);
        report.push_str(&format!(
            "{name}: {} here, {} in hieroglyph, {m} matched, {} warning(s)\n",
            ours.len(),
            want.slides.len(),
            warnings.len()
        ));
        if std::env::var_os("CORPUS_VERBOSE").is_some() {
            report.push_str(&format!(
                "  ours:   {ours:?}\n  theirs: {:?}\n",
                want.slides
            ));
            for (line, message) in &warnings {
                report.push_str(&format!("  warning {line}: {message}\n"));
            }
        }
        total += want.slides.len();
        matched += m;
        if !want.warned && !warnings.is_empty() {
            strict_failures.push(format!("{name}: {warnings:?}"));
        }
        // Where we warn, docutils/hieroglyph warned too.
        for (line, message) in &warnings {
            if !want.warning_lines.contains(line) {
                extra_warnings.push(format!("{name}:{line}: {message}"));
            }
        }
    }
    eprintln!("{report}corpus: {matched} of {total} slides matched");
    assert!(total > 400, "the corpus has only {total} slides");
    assert!(
        matched * 100 >= total * 95,
        "only {matched} of {total} of hieroglyph's slides matched by title in order:\n{report}"
    );
    assert!(
        extra_warnings.is_empty(),
        "warnings where hieroglyph has none:\n{}",
        extra_warnings.join("\n")
    );
    assert!(
        strict_failures.is_empty(),
        "warnings on talks hieroglyph builds cleanly:\n{}",
        strict_failures.join("\n")
    );
}
