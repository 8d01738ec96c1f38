//! `deck-diagram`: one svgbob diagram, its source on stdin, drawn as the deck engine
//! draws it (`deck::diagram::render`) on stdout; why not on stderr, with exit status 1.
//!
//! xtask builds the engine without svgbob (a third of its cold build) and draws through
//! this command instead, so that a fresh clone's `cargo xtask present` serves the deck
//! first and draws the diagrams once this is built (see `xtask/src/diagrams.rs`).

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut ascii = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut ascii) {
        eprintln!("deck-diagram: reading the diagram from stdin: {e}");
        return ExitCode::FAILURE;
    }
    match deck::diagram::render(&ascii) {
        Ok(html) => match std::io::stdout().write_all(html.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("deck-diagram: writing the picture: {e}");
                ExitCode::FAILURE
            }
        },
        Err(why) => {
            eprintln!("{why}");
            ExitCode::FAILURE
        }
    }
}
