//! Any bytes are a demo's output: whatever escape sequence, broken or over-long, comes
//! first, every printable character of every later line still renders, on either
//! stream, however the output is cut into chunks; and each line is balanced HTML.
//!
//! Run from `crates/contract` (needs `cargo install cargo-fuzz` and a nightly toolchain):
//!
//! ```sh
//! cargo +nightly fuzz run ansi -- -max_len=4096 -timeout=5 -max_total_time=600
//! ```

#![no_main]

use libfuzzer_sys::fuzz_target;
use contract::Stream;
use contract::terminal::{Pick, Screen};

fuzz_target!(|data: &[u8]| {
    let Some((&how, rest)) = data.split_first() else {
        return;
    };
    let garbage = String::from_utf8_lossy(rest).into_owned();
    // The line after the garbage: its printable characters, after a verdict.
    let printable: String = garbage
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let clean = format!("FAIL: {printable}");
    let stream = if how & 1 == 0 {
        Stream::Stdout
    } else {
        Stream::Stderr
    };
    let text = format!("{garbage}\n{clean}\nlast line\n");
    // Cut into pieces at char boundaries chosen by the first byte.
    let step = 1 + usize::from(how >> 1);
    let mut screen = Screen::new(Pick::Checks);
    let mut lines = Vec::new();
    let mut from = 0;
    let mut at = 0;
    for (i, _) in text.char_indices() {
        at += 1;
        if at % step == 0 && i > from {
            lines.extend(screen.push(stream, &text[from..i]));
            from = i;
        }
    }
    lines.extend(screen.push(stream, &text[from..]));
    assert!(screen.finish().is_none(), "the text ends with a newline");
    let texts: Vec<String> = lines.iter().map(|l| l.text()).collect();
    let n = texts.len();
    assert!(n >= 3, "{texts:?}");
    assert_eq!(texts[n - 2], clean, "the line after the garbage");
    assert_eq!(texts[n - 1], "last line");
    assert!(lines[n - 2].focus, "the verdict is a focus line");
    for l in &lines {
        assert_eq!(
            l.html.matches("<span").count(),
            l.html.matches("</span>").count(),
            "{:?}",
            l.html
        );
        assert!(!l.html.contains('\x1b'));
    }
});
