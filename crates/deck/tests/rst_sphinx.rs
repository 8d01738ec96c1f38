//! Where the reader reports problems as docutils and Sphinx do (and nowhere else),
//! and the directives whose output depends on the build machine or the book's files:
//! unknown directives, missing includes, `raw` with `:file:`, Graphviz, comments,
//! accumulated classes, `build` steps.

use std::path::PathBuf;

use deck::rst;
use deck::slides;
use deck::test_support::FakeEmbed;

/// A chapter's slides as HTML.
fn html_of(c: &rst::Converted) -> String {
    let md = slides::to_slides(&c.markdown, &mut FakeEmbed::Missing).expect("slides");
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, slides::parser(&md));
    html
}

struct TempBook(PathBuf);

impl TempBook {
    fn new(name: &str) -> TempBook {
        let dir =
            std::env::temp_dir().join(format!("deck-rst-sphinx-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        TempBook(dir)
    }
    fn write(&self, path: &str, text: &str) {
        let path = self.0.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    fn options(&self) -> rst::Options {
        rst::Options {
            files: Some(rst::Files {
                dir: self.0.join("src"),
                root: self.0.join("src"),
            }),
            ..rst::Options::default()
        }
    }
    /// Builds with the preprocessor run as a command (`env VARS... mdbook-deck`), so
    /// that its environment can differ from the test's.
    fn build(&self, env: &str, strict: bool) -> anyhow::Result<()> {
        let bin = env!("CARGO_BIN_EXE_mdbook-deck");
        self.write(
            "book.toml",
            &format!(
                "[book]\nsrc = \"src\"\n\n[preprocessor.deck]\ncommand = \"env {env} {bin}\"\nstrict = {strict}\n"
            ),
        );
        let md = mdbook_driver::MDBook::load(&self.0)?;
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

#[test]
fn unknown_directive_is_an_error_at_its_line_and_left_out() {
    let src = "T\n=\n\nBefore.\n\n.. ditaa::\n\n   +--+\n   |xx|\n\nAfter.\n";
    let c = rst::to_markdown(src);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert!(c.errors.is_empty(), "not fatal: {:?}", c.errors);
    assert_eq!(c.reported.len(), 1, "{:?}", c.reported);
    assert_eq!(c.reported[0].line, 6);
    assert!(
        c.reported[0].message.contains("`ditaa`"),
        "{:?}",
        c.reported
    );
    let html = html_of(&c);
    assert!(
        html.contains("Before.") && html.contains("After."),
        "{html}"
    );
    assert!(!html.contains("ditaa") && !html.contains("|xx|"), "{html}");
}

#[test]
fn missing_include_is_an_error_at_its_line_and_the_build_goes_on_unless_strict() {
    let book = TempBook::new("missing-include");
    book.write("src/SUMMARY.md", "# Summary\n\n- [Talk](talk.rst)\n");
    book.write(
        "src/talk.rst",
        "Talk\n====\n\nFirst.\n\n.. include:: missing.rst\n\nSecond\n------\n\nStill here.\n",
    );
    let c = rst::convert(
        &std::fs::read_to_string(book.0.join("src/talk.rst")).unwrap(),
        &book.options(),
    );
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.reported.len(), 1, "{:?}", c.reported);
    assert_eq!(c.reported[0].line, 6);
    assert!(
        c.reported[0].message.contains("missing.rst"),
        "{:?}",
        c.reported
    );
    book.build("DECK_STRICT=0", false)
        .expect("a missing include does not stop the build");
    let page = book.html("talk.html");
    assert!(
        page.contains("Still here."),
        "the slides after it are built"
    );
    let err = format!("{:#}", book.build("DECK_STRICT=0", true).unwrap_err());
    assert!(!err.is_empty());
    // An include from outside the book still stops every build.
    book.write("src/talk.rst", "Talk\n====\n\n.. include:: ../book.toml\n");
    assert!(book.build("DECK_STRICT=0", false).is_err());
}

#[test]
fn raw_html_file_is_read_from_inside_the_book_or_reported() {
    let book = TempBook::new("raw-file");
    book.write(
        "src/parts/frag.html",
        "<p class=\"from-file\">Raw from a file.</p>\n",
    );
    book.write("secret.html", "<p>outside</p>\n");
    let options = book.options();
    // Inside the book, relative to the chapter (and from the root with `/`).
    for arg in ["parts/frag.html", "/parts/frag.html"] {
        let c = rst::convert(
            &format!("T\n=\n\n.. raw:: html\n   :file: {arg}\n"),
            &options,
        );
        assert!(
            c.warnings.is_empty() && c.errors.is_empty() && c.reported.is_empty(),
            "{c:?}"
        );
        assert!(
            html_of(&c).contains("<p class=\"from-file\">Raw from a file.</p>"),
            "{arg}"
        );
    }
    // Missing: an error at its line, the build goes on.
    let c = rst::convert("T\n=\n\n.. raw:: html\n   :file: nope.html\n", &options);
    assert_eq!(c.reported.len(), 1, "{c:?}");
    assert_eq!(c.reported[0].line, 4);
    // Outside the book: an error that stops the build.
    let c = rst::convert(
        "T\n=\n\n.. raw:: html\n   :file: ../secret.html\n",
        &options,
    );
    assert_eq!(c.errors.len(), 1, "{c:?}");
    assert!(!html_of(&c).contains("outside"));
    // `:url:` is not fetched: a warning, never silence.
    let c = rst::convert(
        "T\n=\n\n.. raw:: html\n   :url: https://example.org/x.html\n",
        &options,
    );
    assert_eq!(c.warnings.len(), 1, "{c:?}");
    // Without a book: reported.
    let c = rst::to_markdown(".. raw:: html\n   :file: frag.html\n");
    assert_eq!(c.reported.len(), 1, "{c:?}");
}

fn dot_available() -> bool {
    std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn graphviz_is_drawn_with_dot_or_shown_as_its_source_with_a_warning() {
    let src = "T\n=\n\n.. digraph:: flow\n\n   client -> server\n\n.. graphviz::\n\n   graph g { a -- b }\n";
    let c = rst::to_markdown(src);
    let html = html_of(&c);
    if dot_available() {
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(html.matches("<svg").count(), 2, "{html}");
        assert!(
            html.contains(">client</text>") && html.contains(">server</text>"),
            "{html}"
        );
    } else {
        eprintln!("Graphviz's dot is not installed: only the fallback is tested");
    }
    // Without dot on the PATH: a warning at the directive's line, and the source.
    let book = TempBook::new("graphviz");
    book.write("src/SUMMARY.md", "# Summary\n\n- [Talk](talk.rst)\n");
    book.write("src/talk.rst", src);
    book.build("PATH=/nonexistent", false)
        .expect("no dot is a warning");
    let page = book.html("talk.html");
    assert!(
        !page.contains("<svg class") && page.contains("client -&gt; server"),
        "{page}"
    );
    assert!(page.contains("digraph flow {"), "{page}");
    assert!(
        book.build("PATH=/nonexistent", true).is_err(),
        "strict: no dot fails"
    );
    if dot_available() {
        book.build("DECK_STRICT=0", true)
            .expect("with dot, strict passes");
        assert!(book.html("talk.html").contains(">client</text>"));
    }
    // A graph dot rejects: a warning and the source.
    let c = rst::to_markdown("T\n=\n\n.. graphviz::\n\n   digraph { a -> }\n");
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert_eq!(c.warnings[0].line, 4);
    assert!(html_of(&c).contains("digraph { a -&gt; }"));
}

#[test]
fn comments_are_comments_and_classes_accumulate() {
    let src = "T\n=\n\n.. TODO: a comment\n\n.. note: also a comment\n\n.. rst-class:: wide\n.. rst-class:: build\n\n- a\n- b\n";
    let c = rst::to_markdown(src);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert!(c.reported.is_empty(), "{:?}", c.reported);
    let html = html_of(&c);
    assert!(!html.contains("a comment"), "{html}");
    assert!(html.contains("class=\"wide build\""), "{html}");
    assert_eq!(html.matches("deck-step").count(), 2, "{html}");
}

#[test]
fn refs_in_content_slides_never_show_are_not_resolved_for_slides() {
    let src = "T\n=\n\n.. ifnotslides::\n\n   See :ref:`nowhere`.\n\nShown :ref:`elsewhere`.\n";
    let c = rst::to_markdown(src);
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert_eq!(c.warnings[0].line, 8, "only the one slides show");
    // Prose outside `.. slide::` is resolved (and warned about) by Sphinx all the same.
    let src = ".. slideconf::\n   :autoslides: False\n\nT\n=\n\nProse, :ref:`nowhere`.\n\n.. slide:: S\n\n   On the slide.\n";
    let c = rst::to_markdown(src);
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
}

#[test]
fn build_reveals_the_children_of_the_element_as_hieroglyph() {
    let steps = |src: &str| {
        html_of(&rst::to_markdown(src))
            .matches("class=\"deck-step\"")
            .count()
    };
    // A container's children (hieroglyph: `.build > *` on the container's div).
    assert_eq!(
        steps(
            "T\n=\n\n.. rst-class:: build\n\n.. container::\n\n   One.\n\n   Two.\n\n   - three\n   - four\n"
        ),
        3
    );
    // A paragraph's inline elements; plain text has none.
    assert_eq!(
        steps("T\n=\n\n.. rst-class:: build\n\nA *b* **c** ``d`` and `e <https://x.org/>`_.\n"),
        4
    );
    assert_eq!(steps("T\n=\n\n.. rst-class:: build\n\nPlain text.\n"), 0);
    // A list's items.
    assert_eq!(
        steps("T\n=\n\n.. rst-class:: build\n\n#. a\n#. b\n#. c\n"),
        3
    );
    // A table's head and body.
    assert_eq!(
        steps("T\n=\n\n.. rst-class:: build\n\n=== ===\na   b\n=== ===\n1   2\n3   4\n=== ===\n"),
        2
    );
    // The revealed text is all there.
    let html = html_of(&rst::to_markdown(
        "T\n=\n\n.. rst-class:: build\n\nA *b* and ``c``.\n",
    ));
    assert!(html.contains("<p class=\"build\">A <span class=\"deck-step\"><em>b</em></span> and <span class=\"deck-step\"><code>c</code></span>.</p>"), "{html}");
}

#[test]
fn smart_quotes_and_dashes_inside_html_as_docutils() {
    let c = rst::to_markdown(
        "T\n=\n\n.. figure:: p.png\n\n   A \"quoted\" caption -- it's 'here'... --- yes\n",
    );
    let html = html_of(&c);
    assert!(
        html.contains("A \u{201c}quoted\u{201d} caption \u{2013} it\u{2019}s \u{2018}here\u{2019}\u{2026} \u{2014} yes"),
        "{html}"
    );
    // Literal text keeps its quotes.
    let html = html_of(&rst::to_markdown(
        "T\n=\n\n.. figure:: p.png\n\n   ``\"x\" -- y``\n",
    ));
    assert!(html.contains("&quot;x&quot; -- y"), "{html}");
}

#[test]
fn a_doc_role_across_lines_keeps_every_line_mapped() {
    // Found by the fuzzer: the target's line break appeared in both the href and the
    // text, so the Markdown had one line more than the source.
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/rst/fuzz/doc-role-lines.bin"
    ))
    .expect("the fuzzer's input");
    let src = std::str::from_utf8(&data).expect("UTF-8");
    let options = rst::Options {
        slide_levels: 1 + data.len() % 6,
        graphviz: false,
        ..rst::Options::default()
    };
    let c = rst::convert(src, &options);
    let lines = src.split('\n').count();
    assert_eq!(c.line_map.len(), c.markdown.split('\n').count() - 1);
    assert!(
        c.line_map.iter().all(|&l| (1..=lines).contains(&l)),
        "{c:?}"
    );
}
