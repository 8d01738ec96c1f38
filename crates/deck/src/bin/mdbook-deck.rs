//! `mdbook-deck`: the deck preprocessor as a command, for a stock `mdbook build`.
//!
//! mdbook calls it twice: `mdbook-deck supports RENDERER` (exit 0: yes), then with the
//! book as JSON on stdin, expecting the processed book as JSON on stdout.

#![forbid(unsafe_code)]

use std::io;
use std::process::ExitCode;

use anyhow::Context;
use deck::Deck;
use mdbook_preprocessor::Preprocessor;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, renderer] = args.as_slice()
        && cmd == "supports"
    {
        return match Deck.supports_renderer(renderer) {
            Ok(true) => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        };
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mdbook-deck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let (ctx, book) =
        mdbook_preprocessor::parse_input(io::stdin()).context("reading the book from mdbook")?;
    if ctx.mdbook_version != mdbook_preprocessor::MDBOOK_VERSION {
        eprintln!(
            "mdbook-deck: warning: built against mdbook {}, called by mdbook {}",
            mdbook_preprocessor::MDBOOK_VERSION,
            ctx.mdbook_version
        );
    }
    let book = Deck.run(&ctx, book)?;
    serde_json::to_writer(io::stdout().lock(), &book).context("writing the book back to mdbook")?;
    Ok(())
}
