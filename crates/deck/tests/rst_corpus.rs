//! Public hieroglyph talks, built by our reader and compared slide for slide with what
//! hieroglyph 2.1 itself made of them (`tests/corpus/expected/*.json`, written by
//! `tests/corpus/regen.py`; sources and licences in `tests/corpus/README.md`).
//!
//! The measure is the one the issue sets: of hieroglyph's slides, how many appear here
//! with the same title in the same order (the longest common subsequence of the two
//! title lists). One slide fewer than the corpus reaches today fails (the floors below
//! equal what it reaches: no slack for a regression to hide in), and so does a warning
//! of ours at a line where hieroglyph reported none, or on a talk that hieroglyph builds
//! cleanly (its only warnings being the images the corpus leaves out).

use std::path::{Path, PathBuf};

use deck::rst;
use deck::slides;
use deck::test_support::FakeEmbed;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Every talk: (name, source path), named as its expected file is.
fn talks() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let dir = corpus_dir();
    for author in ["edunham", "hieroglyph", "own"] {
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

/// One slide, as hieroglyph's regen.py extracts it and as [`slide_content`] reads ours.
#[derive(Debug, Clone, Default)]
struct Slide {
    title: String,
    /// The slide's words (see [`words`]), its title and notes left out.
    body: Vec<String>,
    /// How many elements are revealed one by one.
    steps: usize,
    notes: Vec<String>,
}

struct Expected {
    slides: Vec<Slide>,
    /// hieroglyph warned about something other than a missing image.
    warned: bool,
    /// The lines of those warnings.
    warning_lines: Vec<usize>,
    /// How many warnings and errors Sphinx reported, images aside.
    warnings: usize,
}

fn expected(name: &str) -> Expected {
    let path = corpus_dir().join("expected").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).expect("expected slides are JSON");
    let str_of = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let real: Vec<String> = json["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no warnings"))
        .iter()
        .map(str_of)
        .filter(|w| {
            !w.contains("image file not readable") && !w.contains("Could not obtain image size")
        })
        .collect();
    // `FILE:LINE: WARNING: ...` (a few have no line).
    let warning_lines = real
        .iter()
        .filter_map(|w| w.split(':').nth(1)?.parse().ok())
        .collect();
    let slides = json["content"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: no content (rerun regen.py)"))
        .iter()
        .map(|s| Slide {
            title: normalize(&str_of(&s["title"])),
            body: words(&str_of(&s["body"])),
            steps: s["steps"].as_u64().unwrap_or_default() as usize,
            notes: words(&str_of(&s["notes"])),
        })
        .collect();
    Expected {
        slides,
        warned: !real.is_empty(),
        warnings: real.len(),
        warning_lines,
    }
}

/// Text as a list of lower-case words: runs of letters and digits (punctuation, smart
/// quotes and spacing aside).
fn words(text: &str) -> Vec<String> {
    normalize(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Two word lists differ by at most 10 %: of the longer one's words, at most a tenth
/// are not matched by a word of the other.
fn within_tenth(a: &[String], b: &[String]) -> bool {
    let mut count: std::collections::HashMap<&str, isize> = std::collections::HashMap::new();
    for w in a {
        *count.entry(w).or_default() += 1;
    }
    let mut common = 0;
    for w in b {
        let c = count.entry(w).or_default();
        if *c > 0 {
            common += 1;
            *c -= 1;
        }
    }
    let longer = a.len().max(b.len());
    (longer - common) * 10 <= longer
}

/// The settings a talk is read with: hieroglyph's docs are one book, whose chapters
/// refer to each other's sections.
fn book_options(name: &str, path: &Path, src: &str) -> rst::Options {
    let mut options = rst::Options::default();
    let author = name.split('-').next().unwrap_or_default();
    options.files = Some(rst::Files {
        dir: path
            .parent()
            .expect("a talk is in a directory")
            .to_path_buf(),
        root: corpus_dir().join(author),
    });
    // Our own documents name the `slide_levels` they are built with on their first line.
    if let Some(n) = src
        .lines()
        .next()
        .and_then(|l| l.strip_prefix(".. corpus: slide_levels = "))
    {
        options.slide_levels = n.trim().parse().expect("slide_levels is a number");
    }
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
    let text = contract::escape::decode(&text)
        .replace(['\u{2018}', '\u{2019}'], "'")
        .replace(['\u{201c}', '\u{201d}'], "\"")
        .replace('\u{2013}', "--")
        .replace('\u{2014}', "---")
        .replace('\u{2026}', "...")
        .replace('\u{a0}', " ")
        .replace('\u{b6}', "");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Our slides of a talk, and our warnings and errors (at their lines).
fn our_slides(name: &str, src: &str, options: &rst::Options) -> (Vec<Slide>, Vec<(usize, String)>) {
    let converted = rst::convert(src, options);
    let warnings = converted
        .warnings
        .iter()
        .chain(&converted.errors)
        .chain(&converted.reported)
        .map(|w| (w.line, w.message.clone()))
        .collect();
    let md = slides::to_slides(&converted.markdown, &mut FakeEmbed::Missing)
        .unwrap_or_else(|p| panic!("{name}: {p:?}"));
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, slides::parser(&md));
    let slides = html
        .split("<section class=\"slide\"")
        .skip(1)
        .map(|s| slide_content(s.split_once('>').map_or("", |(_, b)| b)))
        .collect();
    (slides, warnings)
}

/// Elements that hold no text of their own.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// One of our slides' HTML read as the slide view shows it: the first heading is the
/// title; notes (`<aside class="notes">`) apart; what only the reading view shows,
/// drawings (`<svg>`, whose labels hieroglyph's images do not have as text) and scripts
/// left out; each `deck-step` element is a step.
fn slide_content(html: &str) -> Slide {
    let mut stack: Vec<(String, Part)> = Vec::new();
    let (mut title, mut body, mut notes) = (String::new(), String::new(), String::new());
    let mut steps = 0;
    let mut seen_title = false;
    let mut rest = html;
    while !rest.is_empty() {
        let here = stack.last().map_or(Part::Body, |(_, i)| *i);
        let Some(lt) = rest.find('<') else {
            push_text(here, rest, &mut title, &mut body, &mut notes);
            break;
        };
        push_text(here, &rest[..lt], &mut title, &mut body, &mut notes);
        rest = &rest[lt..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.split_once("-->").map_or("", |(_, r)| r);
            continue;
        }
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = &rest[1..end.saturating_sub(1).max(1)];
        rest = &rest[end..];
        if let Some(closing) = tag.strip_prefix('/') {
            let closing = closing.trim().to_ascii_lowercase();
            if let Some(at) = stack.iter().rposition(|(t, _)| *t == closing) {
                stack.truncate(at);
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if name.is_empty() || tag.starts_with('!') {
            continue;
        }
        let classes = tag
            .split_once("class=\"")
            .map_or("", |(_, c)| c.split('"').next().unwrap_or_default());
        let has = |c: &str| classes.split_whitespace().any(|k| k == c);
        if here != Part::Hidden && here != Part::Notes && has("deck-step") {
            steps += 1;
        }
        let into = if here == Part::Hidden {
            Part::Hidden
        } else if name == "aside" && has("notes") {
            Part::Notes
        } else if has("only-reading") || matches!(name.as_str(), "svg" | "script" | "style") {
            Part::Hidden
        } else if here == Part::Body && !seen_title && name.len() == 2 && name.starts_with('h') {
            seen_title = true;
            Part::Title
        } else {
            here
        };
        if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
            stack.push((name, into));
        }
    }
    let notes = notes.trim_start();
    let notes = notes.strip_prefix("Notes:").unwrap_or(notes);
    Slide {
        title: normalize(&title),
        body: words(&body),
        steps,
        notes: words(notes),
    }
}

/// Where a piece of a slide's HTML goes.
#[derive(PartialEq, Clone, Copy)]
enum Part {
    Body,
    Title,
    Notes,
    Hidden,
}

fn push_text(part: Part, text: &str, title: &mut String, body: &mut String, notes: &mut String) {
    let to = match part {
        Part::Body => body,
        Part::Title => title,
        Part::Notes => notes,
        Part::Hidden => return,
    };
    to.push(' ');
    to.push_str(&contract::escape::decode(text));
}

/// Pairs of slides (ours, hieroglyph's) with the same title, the longest such list in
/// order (a longest common subsequence of the two title lists).
fn matched_in_order(ours: &[String], theirs: &[String]) -> Vec<(usize, usize)> {
    let (n, m) = (ours.len(), theirs.len());
    // table[i][j]: the longest common subsequence of ours[i..] and theirs[j..].
    let mut table = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i][j] = if ours[i] == theirs[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < n && j < m {
        if ours[i] == theirs[j] {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if table[i + 1][j] >= table[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// The slides compared for their content: those matched by title, and between two
/// matches (or the ends) runs of unmatched slides as long on both sides, in order (a
/// slide whose title differs still has its body, steps and notes compared).
fn aligned(pairs: &[(usize, usize)], ours: usize, theirs: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    for &(a, b) in pairs.iter().chain([&(ours, theirs)]) {
        if a - i == b - j {
            out.extend((i..a).zip(j..b));
        }
        if a < ours {
            out.push((a, b));
        }
        (i, j) = (a + 1, b + 1);
    }
    out
}

#[test]
fn unmatched_runs_of_equal_length_are_compared_in_order() {
    assert_eq!(
        aligned(&[(0, 0), (3, 3)], 5, 4),
        vec![(0, 0), (1, 1), (2, 2), (3, 3)]
    );
    assert_eq!(aligned(&[], 2, 2), vec![(0, 0), (1, 1)]);
    assert_eq!(aligned(&[(1, 0)], 2, 1), vec![(1, 0)]);
}

#[test]
fn lcs_counts_titles_in_order() {
    let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
    assert_eq!(
        matched_in_order(&s(&["a", "b", "c"]), &s(&["a", "c", "b"])).len(),
        2
    );
    assert!(matched_in_order(&s(&["x"]), &s(&["a", "b"])).is_empty());
    assert_eq!(
        matched_in_order(&s(&["a", "", "b"]), &s(&["a", "", "b"])),
        vec![(0, 0), (1, 1), (2, 2)]
    );
}

#[test]
fn slide_html_is_read_as_the_slide_view_shows_it() {
    let s = slide_content(
        "<h2>T <em>x</em></h2><p>One <b>two</b></p><div class=\"only-reading\"><p>hidden</p></div>\
         <ul class=\"build\"><li class=\"deck-step\">a</li><li class=\"deck-step\">b<br>c</li></ul>\
         <svg><text>label</text></svg><aside class=\"notes\"><p>Notes:</p><p>said</p></aside>",
    );
    assert_eq!(s.title, "T x");
    assert_eq!(s.body, ["one", "two", "a", "b", "c"]);
    assert_eq!(s.steps, 2);
    assert_eq!(s.notes, ["said"]);
}

#[test]
fn a_tenth_of_the_words_may_differ() {
    let w = |t: &str| words(t);
    assert!(within_tenth(
        &w("a b c d e f g h i j"),
        &w("a b c d e f g h i x")
    ));
    assert!(!within_tenth(
        &w("a b c d e f g h i j"),
        &w("a b c d e f g h x y")
    ));
    assert!(within_tenth(&[], &[]));
    assert!(!within_tenth(&w("a"), &[]));
}

/// What the corpus reaches today, over all its documents. Each is exact: one slide
/// fewer fails, and so does one more, until the floor is raised to it.
const FLOOR_TITLES: usize = 537;
const FLOOR_STEPS: usize = 540;
const FLOOR_BODY: usize = 537;
const FLOOR_NOTES: usize = 541;

#[test]
fn corpus_talks_make_hieroglyphs_slides_and_warn_only_where_hieroglyph_does() {
    let (mut total, mut titles, mut steps, mut body, mut notes) = (0, 0, 0, 0, 0);
    let mut strict_failures = Vec::new();
    let mut extra_warnings = Vec::new();
    let verbose = std::env::var_os("CORPUS_VERBOSE").is_some();
    let mut report = String::from(
        "document: slides here/hieroglyph, titles matched, slides compared, steps equal, body within 10 %, notes within 10 %, warnings here/Sphinx\n",
    );
    for (name, path) in talks() {
        let src = std::fs::read_to_string(&path).expect("reading a corpus talk");
        let want = expected(&name);
        let (ours, warnings) = our_slides(&name, &src, &book_options(&name, &path, &src));
        let our_titles: Vec<String> = ours.iter().map(|s| s.title.clone()).collect();
        let their_titles: Vec<String> = want.slides.iter().map(|s| s.title.clone()).collect();
        let pairs = matched_in_order(&our_titles, &their_titles);
        let (mut st, mut bo, mut no) = (0, 0, 0);
        for &(i, j) in &aligned(&pairs, ours.len(), want.slides.len()) {
            let (a, b) = (&ours[i], &want.slides[j]);
            st += usize::from(a.steps == b.steps);
            bo += usize::from(within_tenth(&a.body, &b.body));
            no += usize::from(within_tenth(&a.notes, &b.notes));
            if verbose
                && (a.steps != b.steps
                    || !within_tenth(&a.body, &b.body)
                    || !within_tenth(&a.notes, &b.notes))
            {
                report.push_str(&format!(
                    "  slide {:?}: steps {} / {}\n    ours:   {}\n    theirs: {}\n    notes ours:   {}\n    notes theirs: {}\n",
                    a.title,
                    a.steps,
                    b.steps,
                    a.body.join(" "),
                    b.body.join(" "),
                    a.notes.join(" "),
                    b.notes.join(" "),
                ));
            }
        }
        report.push_str(&format!(
            "{name}: {}/{}, {}, {}, {st}, {bo}, {no}, {}/{}\n",
            ours.len(),
            want.slides.len(),
            pairs.len(),
            aligned(&pairs, ours.len(), want.slides.len()).len(),
            warnings.len(),
            want.warnings,
        ));
        if verbose {
            report.push_str(&format!(
                "  ours:   {our_titles:?}\n  theirs: {their_titles:?}\n"
            ));
            for (line, message) in &warnings {
                report.push_str(&format!("  warning {line}: {message}\n"));
            }
        }
        total += want.slides.len();
        titles += pairs.len();
        steps += st;
        body += bo;
        notes += no;
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
    eprintln!(
        "{report}corpus: of {total} slides, {titles} matched by title, {steps} with the same steps, \
         {body} with the body text and {notes} with the notes within 10 %"
    );
    assert!(total > 400, "the corpus has only {total} slides");
    for (what, got, floor) in [
        ("matched by title", titles, FLOOR_TITLES),
        ("with hieroglyph's steps", steps, FLOOR_STEPS),
        ("with body text within 10 %", body, FLOOR_BODY),
        ("with notes within 10 %", notes, FLOOR_NOTES),
    ] {
        assert!(
            got >= floor,
            "{got} of {total} slides {what}, below the floor of {floor}:\n{report}"
        );
        // A ratchet: a floor below what the corpus reaches would let slides regress.
        assert!(
            got <= floor,
            "{got} of {total} slides {what}, above the floor of {floor}: raise it to {got}"
        );
    }
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
