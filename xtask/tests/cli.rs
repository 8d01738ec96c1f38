//! `cargo xtask` from the outside, as a user types it: listing demos, a misspelt
//! name, and building books that are right and wrong.

#![forbid(unsafe_code)]

use std::path::Path;
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("running xtask")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A one-chapter book in a temporary directory that embeds `demo`.
fn book_with(dir: &Path, chapter: &str) {
    // Cargo's run-time value: a test binary reused from another checkout has a stale one.
    let manifest =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR");
    let demos = Path::new(&manifest).join("../demos");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("book.toml"),
        format!(
            "[book]\ntitle = \"Other talk\"\nsrc = \"src\"\n\n[preprocessor.deck]\ncommand = \"false\"\ndemos = \"{}\"\n",
            demos.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/SUMMARY.md"), "# Summary\n\n- [One](one.md)\n").unwrap();
    std::fs::write(dir.join("src/one.md"), chapter).unwrap();
}

#[test]
fn demo_lists_every_demo_with_its_claim() {
    let out = xtask(&["demo"]);
    assert!(out.status.success(), "{}", text(&out));
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("read-without-consuming") && l.contains("MSG_PEEK")),
        "{listing}"
    );
}

#[test]
fn a_misspelt_demo_gets_the_closest_names() {
    let out = xtask(&["demo", "read-without-consumin"]);
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("no demo named `read-without-consumin`")
            && t.contains("did you mean `read-without-consuming`"),
        "{t}"
    );
}

#[test]
fn a_missing_demo_stops_the_build_at_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    book_with(
        dir.path(),
        "# One\n\nSome text.\n\n{{#demo nope}}\n\n```\n{{#demo also-nope-but-in-code}}\n```\n",
    );
    let out = xtask(&["build", "--book", dir.path().to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("src/one.md:5: no demo named `nope`"), "{t}");
    assert!(
        !t.contains("also-nope"),
        "directives in code blocks are left alone: {t}"
    );
}

#[test]
fn another_book_builds_with_the_same_engine() {
    let dir = tempfile::tempdir().unwrap();
    book_with(
        dir.path(),
        "# One\n\n## Peek\n\n{{#demo read-without-consuming}}\n\nNotes:\n\nSay it slowly.\n\n---\n\nMore.\n",
    );
    let out = xtask(&["build", "--book", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let html = std::fs::read_to_string(dir.path().join("book/one.html")).unwrap();
    assert_eq!(
        html.matches("<section class=\"slide\"").count(),
        3,
        "title, Peek, and the --- slide"
    );
    assert!(html.contains("<figure class=\"demo\" data-demo=\"read-without-consuming\""));
    assert!(html.contains("<aside class=\"notes\">") && html.contains("Say it slowly."));
    // The deck's browser side comes along, although this book.toml does not list it.
    assert!(html.contains("deck/deck.css") && html.contains("deck/deck.js"));
    for asset in ["deck.css", "deck.js", "player.js", "player_bg.wasm"] {
        assert!(dir.path().join("book/deck").join(asset).exists(), "{asset}");
    }
}

#[test]
fn a_misspelt_deck_key_stops_the_build_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    book_with(dir.path(), "# One\n\nText.\n");
    let toml = dir.path().join("book.toml");
    // book_with ends with the [preprocessor.deck] table, so this lands in it.
    let toml_text = std::fs::read_to_string(&toml).unwrap() + "stirct = true\n";
    std::fs::write(&toml, toml_text).unwrap();
    let out = xtask(&["build", "--book", dir.path().to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("stirct") && t.contains("book.toml"), "{t}");
    assert!(!dir.path().join("book").exists(), "nothing is built: {t}");
}
