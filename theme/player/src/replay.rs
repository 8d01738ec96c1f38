//! Replaying a captured demo run: the transcript comes from the JSON the preprocessor
//! embedded in the figure, parsed with the same `transcript` crate that capture wrote it
//! with, and rendered with the same ANSI renderer the static figure used, so a replay
//! ends looking exactly like the page began. Also the copy button for the command that
//! reruns the demo.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use contract::Transcript;
use contract::page;
use contract::terminal::Pick;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::term::{self, Writer};
use crate::{dom, figure, sync};

thread_local! {
    /// The page's players, by demo name, for replays started in the other window.
    static PLAYERS: RefCell<Vec<(String, Player)>> = const { RefCell::new(Vec::new()) };
}

/// Replays the page's figure of `demo` (as the other window asked); the figure on the
/// current slide when the demo shows on several.
pub fn replay_demo(demo: &str, speed: f64) -> Result<(), JsValue> {
    let player = PLAYERS.with(|players| {
        let players = players.borrow();
        let mut of_demo = players.iter().filter(|(name, _)| name == demo);
        let first = of_demo.clone().next().map(|(_, p)| p.clone());
        of_demo
            .find(|(_, p)| {
                p.figure
                    .closest(&format!("section.{}", page::class::CURRENT))
                    .ok()
                    .flatten()
                    .is_some()
            })
            .map(|(_, p)| p.clone())
            .or(first)
    });
    match player {
        Some(player) => player.replay(speed),
        None => Ok(()),
    }
}

/// Gives every demo figure its replay and copy buttons; returns how many got them.
pub fn attach_all(document: &Document) -> Result<u32, JsValue> {
    let mut attached = 0;
    for fig in figure::all(document)? {
        if fig.get_attribute(page::attr::PLAYER).is_some() {
            continue;
        }
        match Player::new(fig.clone()) {
            Ok(player) => {
                player.add_controls(document)?;
                let name = player.transcript.demo.clone();
                PLAYERS.with(|p| p.borrow_mut().push((name, player)));
                attached += 1;
            }
            Err(e) => {
                fig.set_attribute(page::attr::PLAYER_ERROR, &e)?;
                web_sys::console::warn_1(&JsValue::from_str(&format!("demo player: {e}")));
            }
        }
    }
    Ok(attached)
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
    fn new(figure: Element) -> Result<Player, String> {
        let json = figure
            .query_selector(&format!("script.{}", page::class::DEMO_TRANSCRIPT))
            .ok()
            .flatten()
            .and_then(|s| s.text_content())
            .ok_or("figure has no embedded transcript")?;
        let transcript: Transcript =
            serde_json::from_str(&json).map_err(|e| format!("bad transcript: {e}"))?;
        transcript.validate()?;
        let screen = figure
            .query_selector(&format!("{} samp", page::select::TERMINAL))
            .ok()
            .flatten()
            .ok_or("figure has no terminal")?;
        Ok(Player {
            figure,
            screen,
            transcript: Rc::new(transcript),
            generation: Rc::new(Cell::new(0)),
        })
    }

    fn add_controls(&self, document: &Document) -> Result<(), JsValue> {
        let bar = figure::controls(document, &self.figure)?;
        for (label, speed, title) in [
            ("▶ Replay", 1.0, "Replay the captured run at its real pace"),
            ("2×", 2.0, "Replay twice as fast"),
            ("Instant", 0.0, "Show the whole run at once"),
        ] {
            let player = self.clone();
            let button = dom::button(
                document,
                page::class::DEMO_REPLAY,
                label,
                title,
                move || {
                    player.replay(speed)?;
                    sync::announce_replay(&player.transcript.demo, speed)
                },
            )?;
            button.set_attribute(page::attr::SPEED, &speed.to_string())?;
            bar.append_child(&button)?;
        }
        let command = self.transcript.rerun_command();
        let figure = self.figure.clone();
        let copy = dom::button(
            document,
            page::class::DEMO_COPY,
            "Copy command",
            &format!("Copy `{command}` to the clipboard"),
            move || copy_text(&figure, &command),
        )?;
        bar.append_child(&copy)?;
        self.figure.set_attribute(page::attr::PLAYER, "ready")?;
        Ok(())
    }

    /// Clears the terminal and plays the chunks back; `speed` 0 shows everything at once.
    fn replay(&self, speed: f64) -> Result<(), JsValue> {
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        self.screen.set_inner_html("");
        self.figure.set_attribute(page::attr::STATE, "replaying")?;
        // The demo's ladders on this slide replay with it, each packet at its pace.
        crate::ladder::replay_with(&self.figure, &self.transcript.demo, speed)?;
        let mut writer = Writer::new(Pick::of(&self.transcript));
        let chunks = &self.transcript.chunks;
        for (i, chunk) in chunks.iter().enumerate() {
            let mut update = writer.push(chunk.stream, &chunk.text);
            let last = i + 1 == chunks.len();
            if last {
                update.lines.push_str(&writer.finish().lines);
                update.partial = None;
            }
            let delay = delay_ms(chunk.at_ms, speed);
            let player = self.clone();
            let show = move || {
                if player.generation.get() != generation {
                    return; // a newer replay took over
                }
                let _ = term::apply(&player.screen, &update);
                if last {
                    let _ = player.figure.set_attribute(page::attr::STATE, "done");
                }
            };
            dom::after(delay, show)?;
        }
        if chunks.is_empty() {
            self.figure.set_attribute(page::attr::STATE, "done")?;
        }
        Ok(())
    }
}

/// When a chunk recorded at `at_ms` shows in a replay at `speed` (0: at once).
pub fn delay_ms(at_ms: u64, speed: f64) -> i32 {
    if speed > 0.0 {
        (at_ms as f64 / speed).min(i32::MAX as f64) as i32
    } else {
        0
    }
}

/// Copies `text` and marks the figure `data-copied` (or `data-copy-failed`), so the
/// button can say so. The async Clipboard API needs a secure context (http://127.0.0.1
/// and https are; a file:// page is not): there the selection fallback runs.
fn copy_text(figure: &Element, text: &str) -> Result<(), JsValue> {
    let window = dom::window()?;
    let clipboard = window.navigator().clipboard();
    let done = {
        let figure = figure.clone();
        Closure::<dyn FnMut(JsValue)>::once(move |_: JsValue| {
            let _ = figure.set_attribute(page::attr::COPIED, "true");
        })
    };
    let failed = {
        let figure = figure.clone();
        let text = text.to_string();
        Closure::<dyn FnMut(JsValue)>::once(move |_: JsValue| {
            let ok = copy_by_selection(&text).unwrap_or(false);
            let _ = figure.set_attribute(
                if ok {
                    page::attr::COPIED
                } else {
                    page::attr::COPY_FAILED
                },
                "true",
            );
        })
    };
    let _ = clipboard.write_text(text).then2(&done, &failed);
    // Each runs at most once, after this function returns; they live until then.
    done.forget();
    failed.forget();
    Ok(())
}

/// Copies through a hidden text area and the browser's copy command.
fn copy_by_selection(text: &str) -> Result<bool, JsValue> {
    let document = dom::document()?;
    let body = document
        .body()
        .ok_or_else(|| JsValue::from_str("no <body>"))?;
    let area: web_sys::HtmlTextAreaElement = document.create_element("textarea")?.dyn_into()?;
    area.set_value(text);
    area.set_attribute("readonly", "")?;
    area.set_attribute("style", "position:fixed;left:-9999px;top:0")?;
    body.append_child(&area)?;
    area.select();
    let copied = document
        .dyn_ref::<web_sys::HtmlDocument>()
        .map(|d| d.exec_command("copy").unwrap_or(false))
        .unwrap_or(false);
    area.remove();
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_pace() {
        assert_eq!(delay_ms(1000, 1.0), 1000);
        assert_eq!(delay_ms(1000, 2.0), 500);
        assert_eq!(delay_ms(1000, 0.0), 0);
    }
}
