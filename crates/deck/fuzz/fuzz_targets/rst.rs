//! Any text is a chapter: the reStructuredText reader must not panic, must map every
//! Markdown line (and warning) to a real source line, and the slide engine must not
//! panic on its output.
//!
//! Run from `crates/deck` (needs `cargo install cargo-fuzz` and a nightly toolchain),
//! starting from the test fixtures:
//!
//! ```sh
//! mkdir -p fuzz/corpus/rst && cp tests/rst/*.rst tests/corpus/*/*.rst fuzz/corpus/rst/
//! cargo +nightly fuzz run rst -- -dict=fuzz/rst.dict -max_len=16384 -timeout=5 -max_total_time=600
//! ```

#![no_main]

use deck::slides::{self, Embed};
use libfuzzer_sys::fuzz_target;

struct Echo;

impl Embed for Echo {
    fn demo(&mut self, name: &str) -> Result<String, String> {
        Ok(format!("<figure>{name}</figure>"))
    }
    fn chart(&mut self, demo: &str, _metrics: &[String]) -> Result<String, String> {
        Err(format!("no chart for {demo}"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    // Every slide level, so each slide rule is reached. Graphs are not drawn (that
    // would fuzz Graphviz, one process per input); their fallback is read instead.
    let options = deck::rst::Options {
        slide_levels: 1 + data.len() % 6,
        graphviz: false,
        ..deck::rst::Options::default()
    };
    let converted = deck::rst::convert(src, &options);
    let source_lines = src.split('\n').count();
    assert_eq!(
        converted.line_map.len(),
        converted.markdown.split('\n').count() - 1,
        "one map entry per Markdown line"
    );
    for &line in &converted.line_map {
        assert!(
            (1..=source_lines).contains(&line),
            "line {line} of {source_lines}"
        );
    }
    for w in converted
        .warnings
        .iter()
        .chain(&converted.errors)
        .chain(&converted.reported)
    {
        assert!(
            (1..=source_lines).contains(&w.line),
            "warning at line {}",
            w.line
        );
    }
    // The slide engine may refuse the text (a misplaced `{{#demo}}`), but not panic.
    let _ = slides::to_slides(&converted.markdown, &mut Echo);
});
