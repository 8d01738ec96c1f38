//! The deck's browser side, compiled to WebAssembly.
//!
//! One build of the book is an article for readers and a deck for the presenter. This
//! crate is the presenter's side, loaded by `theme/deck.js`; the looks are in
//! `theme/deck.css`, which keys everything off classes this code sets.
//!
//! - [`slides`]: the slide view, deep links, history, chapter to chapter;
//! - [`keys`]: the keyboard and swipes;
//! - [`overview`]: the grid of all slides;
//! - [`speaker`] and [`sync`]: the speaker window and how it follows the main one;
//! - [`print`]: one slide per page;
//! - [`figure`] and [`replay`]: the controls of each captured demo figure; [`live`]
//!   adds "Run live" to them when `cargo xtask present` serves the page ([`present`]
//!   finds out, and reloads the page after each rebuild); [`ladder`] shows a ladder's
//!   packets at the pace they were captured;
//! - [`focus`]: a demo terminal's focus lines on a slide, and its whole output on E;
//!   [`term`] writes replayed and live output into a terminal;
//! - [`stage`]: diagrams in the slide's units, slides fitted again once fonts load;
//! - [`config`]: the aspect ratio from book.toml;
//! - [`talk`]: what the preprocessor wrote for the player ([`contract::page::Page`]).

#![forbid(unsafe_code)]

pub mod config;
pub mod dom;
pub mod figure;
pub mod focus;
pub mod keys;
pub mod ladder;
pub mod live;
pub mod overview;
pub mod present;
pub mod print;
pub mod replay;
pub mod slides;
pub mod speaker;
pub mod stage;
pub mod steps;
pub mod sync;
pub mod talk;
pub mod term;

use contract::page::attr;
use wasm_bindgen::prelude::*;

/// Entry point, called once by `theme/deck.js` after the module loads. Returns how many
/// demo figures got a player.
#[wasm_bindgen]
pub fn attach() -> Result<u32, JsValue> {
    std::panic::set_hook(Box::new(show_panic));
    let document = dom::document()?;
    dom::context(
        config::apply(&document, talk::page(&document).aspect),
        "applying the aspect ratio",
    )?;
    let attached = dom::context(replay::attach_all(&document), "attaching demo players")?;
    dom::context(ladder::attach_all(&document), "attaching ladder replays")?;
    dom::context(slides::start(&document), "starting the slide view")?;
    dom::context(focus::install(&document), "wiring the focus lines")?;
    dom::context(
        stage::install(&document),
        "sizing diagrams and fitting slides",
    )?;
    dom::root(&document)?.set_attribute(attr::PLAYER, "ready")?;
    Ok(attached)
}

/// The panic hook. The player is built with `panic = "abort"`, so without it a panic
/// leaves only "unreachable executed" in the console: this says what panicked and where
/// (`panicked at src/FILE.rs:LINE:COL: message`), in the console and on the page (a
/// line at its top, and `data-player="panicked"` on `<html>` for tests), since the
/// player is dead from here on and the presenter should know why keys stopped working.
fn show_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = format!("the deck's player stopped: {info}");
    web_sys::console::error_1(&JsValue::from_str(&message));
    let Ok(document) = dom::document() else {
        return;
    };
    if let Ok(root) = dom::root(&document) {
        let _ = root.set_attribute(attr::PLAYER, "panicked");
    }
    let (Some(body), Ok(line)) = (document.body(), document.create_element("p")) else {
        return;
    };
    let _ = line.set_attribute("role", "alert");
    line.set_text_content(Some(&message));
    if let Ok(line) = line.dyn_into::<web_sys::HtmlElement>() {
        let style = line.style();
        for (property, value) in [
            ("position", "fixed"),
            ("top", "0"),
            ("left", "0"),
            ("right", "0"),
            ("z-index", "2147483647"),
            ("margin", "0"),
            ("padding", "0.5em 1em"),
            ("background", "#b00020"),
            ("color", "#fff"),
            ("font", "16px/1.4 monospace"),
            ("white-space", "pre-wrap"),
        ] {
            let _ = style.set_property(property, value);
        }
        let _ = body.prepend_with_node_1(&line);
    }
}
