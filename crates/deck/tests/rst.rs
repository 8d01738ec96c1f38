//! reStructuredText chapters: each construct the reader supports, through the deck's
//! slide engine to HTML; hieroglyph's seed notes built as a real book; and the reader's
//! time growing linearly with its input.
//!
//! Fixtures are in `tests/rst/`: `slides.rst` (slide rules), `body.rst` (body and
//! inline markup), `demo.rst` (demo embeds, with a fixture demos crate in `demos/`),
//! `problems.rst` (what is reported), and the three seed notes copied verbatim.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deck::rst::{self, Converted};
use deck::slides;
use deck::test_support::FakeEmbed;

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rst")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A fixture converted, made into slides (the embeds named, `FakeEmbed::Echo`, so a
/// test can see where they went) and rendered as mdbook would.
fn render(name: &str) -> (Converted, String) {
    let converted = rst::to_markdown(&fixture(name));
    let slides = slides::to_slides(&converted.markdown, &mut FakeEmbed::Echo)
        .unwrap_or_else(|p| panic!("{name}: {p:?}\n{}", converted.markdown));
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, slides::parser(&slides));
    (converted, html)
}

/// The HTML of each slide, in order.
fn slide_chunks(html: &str) -> Vec<&str> {
    html.split("<section class=\"slide\"").skip(1).collect()
}

/// (shown part, notes part) of one slide's HTML.
fn shown_and_notes(slide: &str) -> (&str, &str) {
    match slide.find("<aside class=\"notes\">") {
        Some(at) => (&slide[..at], &slide[at..]),
        None => (slide, ""),
    }
}

fn assert_contains(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "missing {n:?} in:\n{haystack}");
    }
}

fn line_of(src: &str, needle: &str) -> usize {
    let at = src
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in fixture"));
    src[..at].matches('\n').count() + 1
}

/// Each slide's title: the text of the heading it opens with.
fn titles_of(slides: &[&str]) -> Vec<String> {
    slides
        .iter()
        .map(|s| {
            let open = s.find("<h").map(|k| &s[k..]).unwrap_or("");
            let text = open.find('>').map(|k| &open[k + 1..]).unwrap_or("");
            text[..text.find("</h").unwrap_or(0)].to_string()
        })
        .collect()
}

#[test]
fn titles_notes_and_slide_directives() {
    let (c, html) = render("slides.rst");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let slides = slide_chunks(&html);
    // hieroglyph's default `slide_levels` is 3: the third-level title is a slide, and
    // the `nextslide`s after it continue it; the `slide` directive takes its level.
    assert_eq!(
        titles_of(&slides),
        [
            "Sockets and files",
            "A second-level slide",
            "A third-level slide",
            "A third-level slide",
            "A third-level slide (3)",
            "A slide directive",
        ]
    );
    // The note given mid-slide is hidden in the notes, at the end of its slide.
    let (shown, notes) = shown_and_notes(slides[0]);
    assert_contains(
        shown,
        &["Opening words.", "After the note, still on the slide."],
    );
    assert_contains(notes, &["Said mid-slide, moved to the end of the slide."]);
    assert!(!shown.contains("Said mid-slide"));
    assert_contains(
        slides[2],
        &[
            "<h3",
            "A third-level slide</h3>",
            "On the third-level slide.",
        ],
    );
    assert_contains(slides[5], &["<h3", "Content of the slide directive."]);
    // A fourth title style is level 4 (by order of appearance, not by character),
    // deeper than slides go: it stays inside.
    assert_contains(slides[5], &["<h4", "Overlined once</h4>"]);
    assert_contains(
        slides[5],
        &[
            "<div class=\"only-slides\">\n<p>Only on the slides.</p>\n</div>",
            "<div class=\"only-reading\">\n<p>Only in the reading view.</p>\n</div>",
        ],
    );
}

#[test]
fn slide_levels_two_keeps_third_level_titles_inside() {
    let options = rst::Options {
        slide_levels: 2,
        ..rst::Options::default()
    };
    let c = rst::convert(&fixture("slides.rst"), &options);
    let html = html_of(&c);
    let slides = slide_chunks(&html);
    // As hieroglyph: the `nextslide`s and the `slide` are in the third-level section,
    // deeper than slides go, so they stay in the second slide too.
    assert_eq!(
        titles_of(&slides),
        ["Sockets and files", "A second-level slide"]
    );
    assert_contains(
        slides[1],
        &[
            "<h3",
            "A third-level slide</h3>",
            "A third-level slide (3)</h3>",
            "A slide directive</h3>",
        ],
    );
}

#[test]
fn slideconf_sets_levels_and_autoslides_for_its_document() {
    let src = ".. slideconf::\n   :slide_levels: 1\n\nTop\n===\n\nA\n-\n\ntext\n";
    let html = html_of(&rst::to_markdown(src));
    assert_eq!(titles_of(&slide_chunks(&html)), ["Top"]);
    // Without autoslides only `slide` directives make slides; the prose is kept for
    // the reading view.
    let src = ".. slideconf::\n   :autoslides: False\n\nDoc\n===\n\nProse.\n\n.. slide:: Only this\n   :level: 2\n\n   Shown.\n";
    let c = rst::to_markdown(src);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let html = html_of(&c);
    let slides = slide_chunks(&html);
    assert_eq!(
        titles_of(&slides).last().map(String::as_str),
        Some("Only this")
    );
    assert_contains(
        &html,
        &[
            "<div class=\"only-reading\">\n<h1 id=\"doc\">Doc</h1>",
            "<div class=\"only-reading\">\n<p>Prose.</p>",
        ],
    );
}

#[test]
fn nextslide_follows_hieroglyph() {
    let src = "T\n=\n\nS\n-\n\na\n\n.. nextslide:: Own title\n\nb\n\n.. nextslide::\n   :increment:\n\nc\n\n.. nextslide::\n\nNext\n----\n\n.. slide::\n\n   untitled\n";
    let c = rst::to_markdown(src);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let html = html_of(&c);
    // An explicit title is not numbered and does not reset the count; a `nextslide`
    // with nothing after it in its section makes no slide; `slide` needs no title.
    assert_eq!(
        titles_of(&slide_chunks(&html)),
        ["T", "S", "Own title", "S (3)", "Next", ""]
    );
}

#[test]
fn build_makes_each_child_a_step() {
    let src = "T\n=\n\n.. rst-class:: build\n\n- first\n- second\n\n.. rst-class:: build\n\n   One.\n\n   Two.\n\nAfter.\n";
    let html = html_of(&rst::to_markdown(src));
    assert_contains(
        &html,
        &[
            "<ul class=\"build\">\n<li class=\"deck-step\">\n<p>first</p>\n</li>",
            "<li class=\"deck-step\">\n<p>second</p>\n</li>",
            "<div class=\"deck-step\">\n<p>One.</p>\n</div>",
            "<div class=\"deck-step\">\n<p>Two.</p>\n</div>",
        ],
    );
    assert_eq!(html.matches("deck-step").count(), 4, "{html}");
}

/// A conversion made into slides and rendered.
fn html_of(c: &Converted) -> String {
    let slides = slides::to_slides(&c.markdown, &mut FakeEmbed::Echo)
        .unwrap_or_else(|p| panic!("{p:?}\n{}", c.markdown));
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, slides::parser(&slides));
    html
}

#[test]
fn body_elements_and_inline_markup() {
    let (c, html) = render("body.rst");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_contains(
        &html,
        &[
            // Inline markup.
            "<em>emphasis</em>",
            "<strong>strong</strong>",
            "<code>literal</code>",
            "<cite>a title</cite>",
            "<kbd>Ctrl-C</kbd>",
            "<a href=\"https://man7.org/linux/man-pages/man7/socket.7.html\">the man page</a>",
            "<a href=\"https://man7.org/linux/man-pages/man2/socket.2.html\">socket</a>",
            "<a href=\"https://example.org/phrase\">a phrase</a>",
            "<a href=\"https://example.org/anonymous\">one</a>",
            "<a href=\"https://example.org/path\">https://example.org/path</a>.",
            "<em>inter-process</em> communication",
            "an escaped *star*.",
            // Lists.
            "<li>bullet one</li>",
            "<ul>\n<li>nested bullet</li>",
            "<ol>\n<li>auto one</li>\n<li>auto two</li>\n</ol>",
            "<ol start=\"3\">\n<li>three</li>",
            "<ol type=\"a\" start=\"1\">",
            "alpha b",
            // Definition and field lists.
            "<dt>term</dt>",
            "<p>Its definition.</p>",
            "<span class=\"classifier\">classifier</span>",
            "<dl class=\"field-list\">\n<dt>Author</dt>",
            // Block quote with attribution, line block.
            "<blockquote>\n<p>A block quote.</p>",
            "<p class=\"attribution\">— An Author</p>",
            "<div class=\"line\">A line block,</div>",
            "<div class=\"line\">&nbsp;&nbsp;&nbsp;indented,</div>",
            // Literal blocks keep their text; code blocks their language.
            "<p>Literal follows:</p>",
            "<pre><code>int fd = socket(AF_UNIX, SOCK_STREAM, 0);\n*not emphasis*\n</code></pre>",
            "<pre><code class=\"language-c\">close(fd);\n</code></pre>",
            "<pre><code>raw text\n</code></pre>",
            // Tables.
            "<th>Left</th>",
            "<td>d <em>e</em></td>",
            "<th>Head A</th>",
            "<td>cell 2</td>",
            "<td colspan=\"2\">spans both</td>",
            // Admonitions are visible boxes.
            "<div class=\"admonition warning\">\n<p class=\"admonition-title\">Warning</p>",
            "<p>Do not do this.</p>",
            "<div class=\"admonition tip\">",
            "<p>Do this instead.</p>",
            // Figures and images.
            "<figure class=\"figure fill\">",
            "<a href=\"https://example.org/big.png\"><img src=\"_static/picture.png\" alt=\"A picture\" width=\"400\" class=\"fill\"></a>",
            "<figcaption>The caption, with <em>markup</em>.</figcaption>",
            "<div class=\"legend\">\n<p>A legend paragraph.</p>",
            "<img src=\"_static/other.png\" alt=\"other.png\" style=\"width: 50%;\">",
            // A transition is a rule inside the slide, not a new slide.
            "<hr class=\"transition\">",
            "After the transition.",
        ],
    );
    assert!(
        !html.contains("This is a comment"),
        "comments are not shown"
    );
    assert_eq!(slides::count_slides(&slides_of(&c)), 1);
}

fn slides_of(c: &Converted) -> String {
    slides::to_slides(&c.markdown, &mut FakeEmbed::Echo).unwrap_or_default()
}

#[test]
fn demo_embeds_in_both_forms() {
    let src =
        "Demo\n====\n\n.. demo:: a-demo\n\n{{#demo other-demo}}\n\n.. chart:: a-demo rx.bytes\n";
    let c = rst::to_markdown(src);
    let out = slides::to_slides(&c.markdown, &mut FakeEmbed::Echo).unwrap();
    assert_contains(
        &out,
        &["DEMO a-demo", "DEMO other-demo", "CHART a-demo rx.bytes"],
    );
}

#[test]
fn problems_are_warnings_at_their_line() {
    let src = fixture("problems.rst");
    let c = rst::to_markdown(&src);
    let got: Vec<(usize, &str)> = c
        .warnings
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    // An unknown directive is an error docutils reports and goes on after.
    let reported: Vec<(usize, &str)> = c
        .reported
        .iter()
        .map(|w| (w.line, w.message.as_str()))
        .collect();
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0].0, line_of(&src, ".. frobnicate"));
    assert!(
        reported[0]
            .1
            .starts_with("unknown directive type `frobnicate`"),
        "{reported:?}"
    );
    let expect = [
        (line_of(&src, "Text with"), "unknown role `:unknownrole:`"),
        (
            line_of(&src, "Text with"),
            "emphasis start-string without end-string",
        ),
        (
            line_of(&src, "A longer title") + 1,
            "title underline too short",
        ),
    ];
    for (line, start) in expect {
        assert!(
            got.iter().any(|(l, m)| *l == line && m.starts_with(start)),
            "no warning {start:?} at line {line}: {got:?}"
        );
    }
    assert_eq!(got.len(), expect.len(), "{got:?}");
    // The role's content is shown plainly; the unknown directive is left out, its
    // content too (as docutils), and a comment is a comment (no warning).
    let out = slides_of(&c);
    assert_contains(&out, &["Text with x and \\*unclosed"]);
    assert!(
        !out.contains("frobnicate") && !out.contains("body"),
        "{out}"
    );
    // A too-short underline under a short title is text, as in docutils.
    assert_contains(&out, &["Short\n\\==="]);
}

#[test]
fn later_problems_map_to_the_rst_line() {
    let src = "Title\n=====\n\nSome text.\n\n.. demo:: missing-demo\n";
    let c = rst::to_markdown(src);
    let err = slides::to_slides(&c.markdown, &mut FakeEmbed::Missing).unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(c.source_line(err[0].line), 6, "{}", c.markdown);
}

#[test]
fn seeds_convert_without_touching_their_text() {
    for seed in ["seed_000.rst", "seed_001.rst", "seed_002.rst"] {
        let (c, html) = render(seed);
        assert_eq!(c.line_map.len(), c.markdown.lines().count(), "{seed}");
        let lines = fixture(seed).lines().count();
        assert!(
            c.line_map.iter().all(|&l| (1..=lines).contains(&l)),
            "{seed}: {:?}",
            c.line_map
        );
        assert!(html.contains("<section class=\"slide\""), "{seed}");
    }
}

/// A fresh directory for a test book, removed when dropped.
struct TempBook(PathBuf);

impl TempBook {
    fn new(name: &str) -> TempBook {
        let dir = std::env::temp_dir().join(format!("deck-rst-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        TempBook(dir)
    }
    fn write(&self, path: &str, text: &str) {
        let path = self.0.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    fn build(&self) -> anyhow::Result<()> {
        let mut md = mdbook_driver::MDBook::load(&self.0)?;
        md.with_preprocessor(deck::Deck);
        md.build()
    }
    fn html(&self, page: &str) -> String {
        let path = self.0.join("book").join(page);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }
}

impl Drop for TempBook {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_demos(book: &TempBook) {
    book.write(
        "demos/src/bin/fixture-demo.rs",
        &fixture("demos/src/bin/fixture-demo.rs"),
    );
    book.write(
        "demos/transcripts/fixture-demo.json",
        &fixture("demos/transcripts/fixture-demo.json"),
    );
}

#[test]
fn seeds_build_as_a_book_with_the_slides_hieroglyph_makes() {
    let book = TempBook::new("seeds");
    book.write(
        "book.toml",
        "[book]\ntitle = \"Seeds\"\nsrc = \"src\"\n\n[preprocessor.deck]\ndemos = \"demos\"\n",
    );
    book.write(
        "src/SUMMARY.md",
        "# Summary\n\n- [Zero](000.rst)\n- [One](001.rst)\n- [Two](002.rst)\n- [Demo](demo.rst)\n- [Markdown](md.md)\n",
    );
    book.write("src/000.rst", &fixture("seed_000.rst"));
    book.write("src/001.rst", &fixture("seed_001.rst"));
    book.write("src/002.rst", &fixture("seed_002.rst"));
    book.write("src/demo.rst", &fixture("demo.rst"));
    book.write(
        "src/md.md",
        "# Markdown\n\nStill works.\n\nNotes:\n\nA Markdown note.\n",
    );
    copy_demos(&book);
    book.build().expect("the book builds");

    // Every first- and second-level title is a slide, in order, as docutils reads them.
    let expect: [(&str, &[&str], usize); 3] = [
        (
            "000.html",
            // mdbook's smart punctuation makes `...` an ellipsis.
            &[
                "everything you know is wrong",
                "waiting for delinquent packets",
                "UDP reliability",
                "well…",
            ],
            0,
        ),
        (
            "001.html",
            &[
                "yet more goodies",
                "Addresses",
                "Overview",
                "what is a file?",
                "what is a (TCP) socket?",
                "similar",
                "but… not really",
                "socket ~ stream of bytes",
                "files and sockets are APIs to kernel software",
                "but, what’s the application?",
                "UDP multicast",
                "Everything we Know is Wrong",
                ".",
                "zombie file!",
                "zombie: answer",
            ],
            1,
        ),
        ("002.html", &["References"], 1),
    ];
    for (page, titles, untitled) in expect {
        let html = book.html(page);
        let slides = slide_chunks(&html);
        assert_eq!(slides.len(), titles.len() + untitled, "{page}");
        for (slide, title) in slides[untitled..].iter().zip(titles) {
            let heading = slide.find("<h").map(|k| &slide[k..]).unwrap_or("");
            assert!(
                heading.contains(&format!("{title}</a></h"))
                    || heading.contains(&format!("{title}</h")),
                "{page}: slide should be titled {title:?}: {}",
                &slide[..slide.len().min(300)]
            );
        }
    }
    // Notes are hidden in the slide view: inside the slide's notes aside.
    let html = book.html("000.html");
    let slides = slide_chunks(&html);
    let (shown, notes) = shown_and_notes(slides[1]);
    assert_contains(notes, &["waiting for delinquent packets to flow into"]);
    assert!(!shown.contains("waiting for delinquent packets to flow"));
    assert_contains(shown_and_notes(slides[2]).1, &["NJ, LA, Amsterdam, Tokyo"]);
    // Missing images are not an error: the page refers to them.
    assert_contains(
        &html,
        &[
            "src=\"_static/KKKFerrisWheel.JPG\"",
            "src=\"_static/delinquent.jpg\"",
        ],
    );
    // The demo fixture is embedded in both forms; Markdown chapters still work.
    let demo = book.html("demo.html");
    assert_eq!(
        demo.matches("<figure class=\"demo\" data-demo=\"fixture-demo\"")
            .count(),
        2
    );
    assert_contains(&demo, &["Loopback datagrams arrive in order"]);
    let md = book.html("md.html");
    assert_contains(&md, &["Still works.", "<aside class=\"notes\">"]);
}

#[test]
fn a_missing_demo_stops_the_build_at_its_rst_line() {
    let book = TempBook::new("missing");
    book.write(
        "book.toml",
        "[book]\nsrc = \"src\"\n\n[preprocessor.deck]\ndemos = \"demos\"\n",
    );
    book.write("src/SUMMARY.md", "# Summary\n\n- [Bad](bad.rst)\n");
    book.write(
        "src/bad.rst",
        "Bad\n===\n\nText.\n\n.. demo:: no-such-demo\n",
    );
    copy_demos(&book);
    let err = format!("{:#}", book.build().unwrap_err());
    assert!(
        err.contains("bad.rst:6: no demo named `no-such-demo`"),
        "{err}"
    );
}

#[test]
fn strict_mode_turns_warnings_into_errors() {
    let book = TempBook::new("strict");
    book.write(
        "src/SUMMARY.md",
        "# Summary\n\n- [Problems](problems.rst)\n",
    );
    book.write("src/problems.rst", &fixture("problems.rst"));
    book.write(
        "book.toml",
        "[book]\nsrc = \"src\"\n\n[preprocessor.deck]\n",
    );
    book.build().expect("warnings alone do not fail a build");
    book.write(
        "book.toml",
        "[book]\nsrc = \"src\"\n\n[preprocessor.deck]\nstrict = true\n",
    );
    let err = format!("{:#}", book.build().unwrap_err());
    assert!(
        err.contains("problems.rst:4: unknown directive type `frobnicate`"),
        "{err}"
    );
}

#[test]
fn strict_mode_from_the_environment_through_the_command() {
    // The route a stock `mdbook build` takes: mdbook runs `mdbook-deck` as a command.
    let book = TempBook::new("strict-env");
    book.write(
        "src/SUMMARY.md",
        "# Summary\n\n- [Problems](problems.rst)\n",
    );
    book.write("src/problems.rst", &fixture("problems.rst"));
    let bin = env!("CARGO_BIN_EXE_mdbook-deck");
    let build = |strict: &str| {
        book.write(
            "book.toml",
            &format!(
                "[book]\nsrc = \"src\"\n\n[preprocessor.deck]\ncommand = \"env DECK_STRICT={strict} {bin}\"\n"
            ),
        );
        let md = mdbook_driver::MDBook::load(&book.0)?;
        md.build()
    };
    build("0").expect("warnings alone do not fail a build");
    assert!(build("1").is_err(), "DECK_STRICT=1 makes warnings errors");
}

/// CPU time this thread has run (Linux's schedstat, in nanoseconds): unlike wall time,
/// it does not grow when other processes take the CPU.
/// The construct fixtures (compared with Sphinx in `rst_constructs.rs`).
fn constructs() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rst/constructs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("reading tests/rst/constructs")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rst"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("reading a construct fixture"))
        .collect()
}

fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// How long converting `src` `times` times takes: CPU time where the kernel tells it,
/// else wall time.
fn time(src: &str, times: usize) -> Duration {
    let (cpu, wall) = (thread_cpu(), Instant::now());
    for _ in 0..times {
        let c = rst::to_markdown(src);
        assert!(!c.markdown.is_empty());
    }
    match (cpu, thread_cpu()) {
        (Some(before), Some(after)) if after > before => after - before,
        _ => wall.elapsed(),
    }
}

/// Converting `make(10 * n)` once may take at most twice as long as converting `make(n)`
/// ten times, i.e. 10x input at most 20x time (quadratic growth would be 100x). Both
/// measurements do the same amount of linear work, so they last long enough for the
/// clock; the best of three counts, and a failing comparison is retried, so a busy
/// machine does not fail it. (Counted in instructions with callgrind, 10x input costs
/// 9.5x.)
fn assert_linear(what: &str, make: impl Fn(usize) -> String, n: usize) {
    let (small, large) = (make(n), make(10 * n));
    assert!(large.len() >= 9 * small.len(), "{what}: input did not grow");
    let mut ratio = 0.0;
    for _attempt in 0..5 {
        let (mut ten_small, mut one_large) = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            ten_small = ten_small.min(time(&small, 10));
            one_large = one_large.min(time(&large, 1));
        }
        ratio = 10.0 * one_large.as_secs_f64() / ten_small.as_secs_f64().max(1e-9);
        eprintln!(
            "{what}: {} bytes in {:?}, {} bytes in {one_large:?}: 10x input, {ratio:.1}x time ({:.1} MB/s)",
            small.len(),
            ten_small / 10,
            large.len(),
            large.len() as f64 / one_large.as_secs_f64() / 1e6
        );
        if one_large < ten_small * 2 {
            return;
        }
    }
    panic!("{what}: 10x input took {ratio:.1}x time");
}

#[test]
fn time_is_linear_in_the_input() {
    let all: String = [
        "seed_000.rst",
        "seed_001.rst",
        "seed_002.rst",
        "body.rst",
        "slides.rst",
        "problems.rst",
    ]
    .iter()
    .map(|f| fixture(f) + "\n\n")
    .chain(constructs().into_iter().map(|c| c + "\n\n"))
    .collect();
    assert_linear("fixtures", |n| all.repeat(n), 4);
    // Tables, long and wide (grid cells are found by scanning their borders), a csv
    // quote that never closes, math groups that never close.
    assert_linear(
        "grid rows",
        |n| {
            format!(
                "+---+---+\n{}",
                "| a | b |\n+---+   +\n".repeat(n) + "| c |   |\n+---+---+\n"
            )
        },
        400,
    );
    assert_linear(
        "grid columns",
        |n| {
            let border = "+---".repeat(n) + "+\n";
            format!("{border}{}|\n{border}", "| a ".repeat(n))
        },
        400,
    );
    assert_linear(
        "csv quote",
        |n| format!(".. csv-table::\n\n   \"a\n{}", "   b, c\n".repeat(n)),
        2000,
    );
    assert_linear(
        "math groups",
        |n| format!(".. math::\n\n   {}\n", "^{".repeat(n)),
        2000,
    );
    // Inputs built to defeat naive scanning: start-strings without end-strings, which
    // a naive reader searches to the end of the text for, again and again.
    for piece in [
        "*a ",
        "**a ",
        "`x ",
        "``y ",
        "|s ",
        "[1 ",
        ":r:`x ",
        "_`t ",
        "http://x( ",
    ] {
        assert_linear(piece, |n| piece.repeat(n), 6000);
    }
    // Deep nesting, and tables whose bottom border never comes.
    assert_linear(
        "nesting",
        |n| {
            (0..n)
                .map(|k| format!("{}- item\n\n", "  ".repeat(k % 100)))
                .collect()
        },
        300,
    );
    assert_linear("open tables", |n| "=== ===\nx   y\n\n".repeat(n), 500);
    assert_linear("block quotes", |n| "a\n\n  b\n\n".repeat(n), 1000);
}

#[test]
fn a_line_starting_with_a_colon_stays_in_its_paragraph() {
    // mdBook's Markdown reads `text` + `: more` as a definition list.
    let c = rst::to_markdown("T\n=\n\nsee\n: this line\n");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let html = html_of(&c);
    assert!(!html.contains("<dl"), "{html}");
    assert!(html.contains("see\n: this line"), "{html}");
}

/// A heading with capitals outside ASCII gets the id mdBook gives it (lowercased with
/// Unicode's rules: `Ü` is `ü`, a word-final `Σ` is `ς`; `_` and `-` kept, other
/// punctuation dropped), and `:ref:` links to it, from its own chapter and another.
#[test]
fn a_ref_to_a_heading_with_non_ascii_capitals_lands_on_its_id() {
    let book = TempBook::new("unicode-ref");
    book.write(
        "book.toml",
        "[book]\ntitle = \"Refs\"\nsrc = \"src\"\n\n[preprocessor.deck]\n",
    );
    book.write(
        "src/SUMMARY.md",
        "# Summary\n\n- [One](one.rst)\n- [Two](two.rst)\n",
    );
    book.write(
        "src/one.rst",
        "One\n===\n\n.. _odos:\n\nÜber ΟΔΟΣ: send_to() re-tried\n-----------------------------\n\nSee :ref:`odos`.\n",
    );
    book.write(
        "src/two.rst",
        "Two\n===\n\nBack\n----\n\nSee :ref:`odos`.\n",
    );
    book.build().expect("the book builds");
    let one = book.html("one.html");
    let two = book.html("two.html");
    // Punctuation goes, `_` and `-` stay.
    let id = "über-οδος-send_to-re-tried";
    assert!(one.contains(&format!("id=\"{id}\"")), "mdBook's id: {one}");
    assert!(one.contains(&format!("href=\"#{id}\"")), "{one}");
    assert!(two.contains(&format!("href=\"one.html#{id}\"")), "{two}");
}

/// A chapter below the source root reaches root-relative paths (`/pics/a.png`) through
/// the prefix it is given (`../` per level).
#[test]
fn a_chapter_below_the_root_reaches_root_paths_through_its_prefix() {
    let src = "T\n=\n\n.. image:: /pics/a.png\n";
    let below = rst::to_markdown_at(src, "../");
    assert!(
        below.markdown.contains("src=\"../pics/a.png\""),
        "{}",
        below.markdown
    );
    let top = rst::to_markdown(src);
    assert!(
        top.markdown.contains("src=\"pics/a.png\""),
        "{}",
        top.markdown
    );
}

/// `.. ladder:: DEMO CONNECTION` in an rST chapter draws the same ladder as
/// `{{#ladder DEMO CONNECTION}}` in Markdown, from the demo's real captured transcript
/// (its flow, its key packet, its pcap link); a connection the demo did not record
/// stops the build naming the ones it did.
#[test]
fn an_rst_ladder_is_the_markdown_ladder() {
    let build = |name: &str, connection: &str| {
        let book = TempBook::new(name);
        book.write(
            "book.toml",
            "[book]\ntitle = \"Ladder\"\nsrc = \"src\"\n\n[preprocessor.deck]\ndemos = \"demos\"\n",
        );
        book.write(
            "src/SUMMARY.md",
            "# Summary\n\n- [Rst](from-rst.rst)\n- [Markdown](from-md.md)\n",
        );
        book.write(
            "src/from-rst.rst",
            &format!("On the wire\n===========\n\n.. ladder:: close-sends-rst {connection}\n"),
        );
        book.write(
            "src/from-md.md",
            "# On the wire\n\n{{#ladder close-sends-rst unread}}\n",
        );
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for file in [
            "demos/src/bin/close-sends-rst.rs",
            "demos/transcripts/close-sends-rst.json",
        ] {
            book.write(file, &std::fs::read_to_string(repo.join(file)).unwrap());
        }
        let built = book.build();
        (book, built)
    };
    let (book, built) = build("ladder", "unread");
    built.expect("the book builds");
    let figure = |page: &str| {
        let html = book.html(page);
        let start = html
            .find("<figure class=\"chart ladder\"")
            .unwrap_or_else(|| panic!("{page} has no ladder:\n{html}"));
        let end = start + html[start..].find("</figure>").unwrap();
        html[start..end].to_string()
    };
    let (from_rst, from_md) = (figure("from-rst.html"), figure("from-md.html"));
    assert_eq!(from_rst, from_md, "the same ladder in both forms");
    assert!(
        from_rst.contains("data-connection=\"unread\""),
        "{from_rst}"
    );
    assert!(from_rst.contains("data-flow=\""), "{from_rst}");
    assert!(from_rst.contains("class=\"arrow key\""), "{from_rst}");
    assert!(
        from_rst.contains("href=\"pcap/close-sends-rst.pcap\""),
        "{from_rst}"
    );
    let (_bad, built) = build("ladder-bad", "nosuch");
    let err = format!(
        "{:#}",
        built.expect_err("a connection the demo did not record")
    );
    assert!(
        err.contains("captured no connection `nosuch`") && err.contains("`unread`"),
        "{err}"
    );
}

/// `parsed-literal`: a preformatted block whose inline markup is read.
#[test]
fn a_parsed_literal_is_preformatted_and_reads_its_markup() {
    let c = rst::to_markdown("T\n=\n\n.. parsed-literal::\n\n   ss -tn  *state*\n   **LISTEN**\n");
    let md = &c.markdown;
    let pre = md.find("<pre class=\"parsed-literal\">").expect(md);
    let end = pre + md[pre..].find("</pre>").expect(md);
    let block = &md[pre..end];
    assert!(block.contains("ss -tn  <em>state</em>"), "{md}");
    assert!(block.contains("<strong>LISTEN</strong>"), "{md}");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

/// `` `text`:: `` is interpreted text followed by two colons: a role needs a name
/// between the colons.
#[test]
fn two_colons_after_interpreted_text_are_not_an_empty_role() {
    let c = rst::to_markdown("T\n=\n\nSee `send_to`:: here.\n");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert!(c.markdown.contains(":: here."), "{}", c.markdown);
}
