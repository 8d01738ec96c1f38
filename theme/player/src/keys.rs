//! Keys and swipes, as reveal.js users expect them. The mapping is a pure function (so
//! it is tested natively); `install` wires it to the page.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, KeyboardEvent, TouchEvent};

use crate::dom;
use crate::slides::{Deck, View};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Next,
    Previous,
    First,
    Last,
    /// A digit of a slide number to jump to (Enter jumps).
    Digit(u8),
    Enter,
    Fullscreen,
    Overview,
    Escape,
    Blackout,
    Speaker,
    Help,
    Theme,
    /// From the reading view: show this page as slides.
    Present,
    /// Speaker window: scroll the notes, change their type size, run the timer.
    NotesDown,
    NotesUp,
    NotesLarger,
    NotesSmaller,
    TimerToggle,
    TimerReset,
}

/// The key help, as (keys, what) rows, shown by `?`.
pub const HELP: &[(&str, &str)] = &[
    ("→ ↓ Space PgDn N", "next step or slide"),
    ("← ↑ PgUp P", "previous step or slide"),
    ("Home / End", "first / last slide of the chapter"),
    ("23 Enter", "go to slide 23 of the talk"),
    (
        "O or Esc",
        "overview of all slides (Esc again: back to reading)",
    ),
    ("F", "fullscreen"),
    ("B or .", "black screen"),
    ("S", "speaker window"),
    ("J / K", "speaker window: scroll the notes down / up"),
    (
        "+ / −",
        "speaker window: larger / smaller notes (remembered)",
    ),
    ("Z / R", "speaker window: pause or start / reset the timer"),
    ("T", "dark / light slides"),
    ("?", "this help"),
    ("D (while reading)", "present this page as slides"),
];

/// The action of a key (`KeyboardEvent.key`) in a view; `None` leaves the key to the
/// page (mdbook's own keys in the reading view, the browser's elsewhere).
pub fn action(key: &str, view: View) -> Option<Action> {
    if view == View::Reading {
        return matches!(key, "d" | "D").then_some(Action::Present);
    }
    if view == View::Print {
        return None;
    }
    if view == View::Speaker
        && let Some(action) = speaker_action(key)
    {
        return Some(action);
    }
    Some(match key {
        "ArrowRight" | "ArrowDown" | " " | "PageDown" | "n" | "N" => Action::Next,
        "ArrowLeft" | "ArrowUp" | "PageUp" | "p" | "P" => Action::Previous,
        "Home" => Action::First,
        "End" => Action::Last,
        "Enter" => Action::Enter,
        "f" | "F" => Action::Fullscreen,
        "o" | "O" => Action::Overview,
        "Escape" => Action::Escape,
        "b" | "B" | "." => Action::Blackout,
        "s" | "S" => Action::Speaker,
        "?" => Action::Help,
        "t" | "T" => Action::Theme,
        _ => {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c @ '0'..='9'), None) => Action::Digit(c as u8 - b'0'),
                _ => return None,
            }
        }
    })
}

/// The keys only the speaker window has.
fn speaker_action(key: &str) -> Option<Action> {
    Some(match key {
        "j" | "J" => Action::NotesDown,
        "k" | "K" => Action::NotesUp,
        "+" | "=" => Action::NotesLarger,
        "-" | "_" => Action::NotesSmaller,
        "z" | "Z" => Action::TimerToggle,
        "r" | "R" => Action::TimerReset,
        _ => return None,
    })
}

/// Whether a swipe (in CSS pixels) means next (`Some(true)`), previous (`Some(false)`)
/// or nothing: mostly horizontal and at least 50 px.
pub fn swipe(dx: f64, dy: f64) -> Option<bool> {
    (dx.abs() >= 50.0 && dx.abs() > 1.5 * dy.abs()).then_some(dx < 0.0)
}

/// Listens for keys (before mdbook's own handlers, which must not also turn the page)
/// and swipes.
pub fn install(deck: &Rc<Deck>) -> Result<(), JsValue> {
    let window = dom::window()?;
    let on_key = {
        let deck = Rc::clone(deck);
        move |event: KeyboardEvent| {
            if event.ctrl_key() || event.alt_key() || event.meta_key() || typing(&event) {
                return;
            }
            let Some(action) = action(&event.key(), deck.view()) else {
                return;
            };
            event.prevent_default();
            event.stop_immediate_propagation();
            if let Err(e) = deck.act(action) {
                dom::report(&e);
            }
        }
    };
    dom::listen(&window, "keydown", true, on_key)?;

    let start = Rc::new(std::cell::Cell::new(None::<(f64, f64)>));
    let on_start = {
        let start = Rc::clone(&start);
        move |event: TouchEvent| {
            start.set(
                event
                    .touches()
                    .get(0)
                    .map(|t| (t.client_x() as f64, t.client_y() as f64)),
            );
        }
    };
    dom::listen(&window, "touchstart", false, on_start)?;
    let on_end = {
        let deck = Rc::clone(deck);
        move |event: TouchEvent| {
            let (Some((x0, y0)), Some(touch)) = (start.take(), event.changed_touches().get(0))
            else {
                return;
            };
            if !matches!(deck.view(), View::Slides | View::Speaker) {
                return;
            }
            let action = match swipe(touch.client_x() as f64 - x0, touch.client_y() as f64 - y0) {
                Some(true) => Action::Next,
                Some(false) => Action::Previous,
                None => return,
            };
            if let Err(e) = deck.act(action) {
                dom::report(&e);
            }
        }
    };
    dom::listen(&window, "touchend", false, on_end)?;
    Ok(())
}

/// True when the key goes to a text field (mdbook's search box, for one).
fn typing(event: &KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.get_attribute("contenteditable").is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reveal_keys_in_the_slide_view() {
        for key in ["ArrowRight", "ArrowDown", " ", "PageDown", "n", "N"] {
            assert_eq!(action(key, View::Slides), Some(Action::Next), "{key}");
        }
        for key in ["ArrowLeft", "ArrowUp", "PageUp", "p", "P"] {
            assert_eq!(action(key, View::Slides), Some(Action::Previous), "{key}");
        }
        assert_eq!(action("Home", View::Slides), Some(Action::First));
        assert_eq!(action("End", View::Speaker), Some(Action::Last));
        assert_eq!(action("7", View::Slides), Some(Action::Digit(7)));
        assert_eq!(action(".", View::Slides), Some(Action::Blackout));
        assert_eq!(action("F1", View::Slides), None);
    }

    #[test]
    fn the_speaker_window_has_notes_and_timer_keys() {
        assert_eq!(action("j", View::Speaker), Some(Action::NotesDown));
        assert_eq!(action("K", View::Speaker), Some(Action::NotesUp));
        assert_eq!(action("+", View::Speaker), Some(Action::NotesLarger));
        assert_eq!(action("-", View::Speaker), Some(Action::NotesSmaller));
        assert_eq!(action("z", View::Speaker), Some(Action::TimerToggle));
        assert_eq!(action("r", View::Speaker), Some(Action::TimerReset));
        assert_eq!(action("j", View::Slides), None);
        assert_eq!(action("ArrowDown", View::Speaker), Some(Action::Next));
    }

    #[test]
    fn the_reading_view_keeps_mdbooks_keys() {
        assert_eq!(action("ArrowRight", View::Reading), None);
        assert_eq!(action("s", View::Reading), None);
        assert_eq!(action("d", View::Reading), Some(Action::Present));
        assert_eq!(action("ArrowRight", View::Print), None);
    }

    #[test]
    fn swipes_are_horizontal_and_long_enough() {
        assert_eq!(swipe(-120.0, 10.0), Some(true));
        assert_eq!(swipe(120.0, -10.0), Some(false));
        assert_eq!(swipe(30.0, 0.0), None);
        assert_eq!(swipe(80.0, 90.0), None);
    }
}
