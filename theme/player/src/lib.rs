//! The deck's browser side, compiled to WebAssembly.
//!
//! Its job in the page: give every captured demo figure a Replay control that plays the
//! run back chunk by chunk at its recorded pace. The transcript comes from the JSON the
//! preprocessor embedded in the figure, parsed with the same `transcript` crate that
//! capture wrote it with, and rendered with the same ANSI renderer the static figure
//! used, so a replay ends looking exactly like the page began.

pub mod live;

use std::cell::Cell;
use std::rc::Rc;

use transcript::{Stream, Transcript, ansi};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement};

/// Entry point, called once by `theme/deck.js` after the module loads.
#[wasm_bindgen]
pub fn attach() -> Result<u32, JsValue> {
    let document = document()?;
    let figures = document.query_selector_all("figure.demo")?;
    let mut attached = 0;
    for i in 0..figures.length() {
        let Some(figure) = figures.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
        if figure.get_attribute("data-player").is_some() {
            continue;
        }
        match Player::new(&document, figure.clone()) {
            Ok(player) => {
                player.add_controls(&document)?;
                attached += 1;
            }
            Err(e) => {
                figure.set_attribute("data-player-error", &e)?;
                web_sys::console::warn_1(&JsValue::from_str(&format!("demo player: {e}")));
            }
        }
    }
    Ok(attached)
}

fn document() -> Result<Document, JsValue> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))
}

/// Replays one figure's transcript.
#[derive(Clone)]
struct Player {
    figure: Element,
    screen: Element,
    transcript: Rc<Transcript>,
    /// Bumped by every replay; timers of an older replay see the change and stop.
    generation: Rc<Cell<u32>>,
}

impl Player {
    fn new(_document: &Document, figure: Element) -> Result<Player, String> {
        let json = figure
            .query_selector("script.demo-transcript")
            .ok()
            .flatten()
            .and_then(|s| s.text_content())
            .ok_or("figure has no embedded transcript")?;
        let transcript: Transcript = serde_json::from_str(&json).map_err(|e| format!("bad transcript: {e}"))?;
        transcript.validate()?;
        let screen = figure
            .query_selector("pre.terminal samp")
            .ok()
            .flatten()
            .ok_or("figure has no terminal")?;
        Ok(Player { figure, screen, transcript: Rc::new(transcript), generation: Rc::new(Cell::new(0)) })
    }

    fn add_controls(&self, document: &Document) -> Result<(), JsValue> {
        let bar = document.create_element("div")?;
        bar.set_class_name("demo-controls");
        for (label, speed, title) in [
            ("▶ Replay", 1.0, "Replay the captured run at its real pace"),
            ("2×", 2.0, "Replay twice as fast"),
            ("⏭", 0.0, "Show the whole run at once"),
        ] {
            let button: HtmlElement = document.create_element("button")?.dyn_into()?;
            button.set_inner_text(label);
            button.set_title(title);
            button.set_attribute("type", "button")?;
            button.set_class_name("demo-replay");
            button.set_attribute("data-speed", &speed.to_string())?;
            let player = self.clone();
            let onclick = Closure::<dyn Fn()>::new(move || {
                if let Err(e) = player.replay(speed) {
                    web_sys::console::error_1(&e);
                }
            });
            button.set_onclick(Some(onclick.as_ref().unchecked_ref()));
            // The button lives as long as the page; so does its handler.
            onclick.forget();
            bar.append_child(&button)?;
        }
        let caption = self.figure.query_selector("figcaption")?;
        match caption {
            Some(c) => c.after_with_node_1(&bar)?,
            None => self.figure.prepend_with_node_1(&bar)?,
        }
        self.figure.set_attribute("data-player", "ready")?;
        Ok(())
    }

    /// Clears the terminal and plays the chunks back; `speed` 0 shows everything at once.
    fn replay(&self, speed: f64) -> Result<(), JsValue> {
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        self.screen.set_inner_html("");
        self.figure.set_attribute("data-state", "replaying")?;
        let window = web_sys::window().ok_or("no window")?;
        let mut out = ansi::Renderer::new();
        let mut err = ansi::Renderer::new();
        let chunks = &self.transcript.chunks;
        for (i, chunk) in chunks.iter().enumerate() {
            let html = match chunk.stream {
                Stream::Stdout => out.push(&chunk.text),
                Stream::Stderr => format!("<span class=\"stderr\">{}</span>", err.push(&chunk.text)),
            };
            let last = i + 1 == chunks.len();
            let delay = if speed > 0.0 { (chunk.at_ms as f64 / speed) as i32 } else { 0 };
            let player = self.clone();
            let show = move || {
                if player.generation.get() != generation {
                    return; // a newer replay took over
                }
                let _ = player.screen.insert_adjacent_html("beforeend", &html);
                if let Some(pre) = player.screen.parent_element() {
                    pre.set_scroll_top(pre.scroll_height());
                }
                if last {
                    let _ = player.figure.set_attribute("data-state", "done");
                }
            };
            if delay == 0 {
                show();
            } else {
                let callback = Closure::once_into_js(show);
                window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), delay)?;
            }
        }
        if chunks.is_empty() {
            self.figure.set_attribute("data-state", "done")?;
        }
        Ok(())
    }
}
