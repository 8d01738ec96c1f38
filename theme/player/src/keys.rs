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
    /// A demo's whole output, or only its focus lines again (the current slide's
    /// terminals, in both windows).
    Expand,
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

/// One row of the key help (`?`): the keys as `KeyboardEvent.key` names them, how the
/// help shows them, and what they do. Every key [`action`] handles is in a row (a test
/// checks it, and `crates/deck/tests/tidy.rs` reads this table).
#[derive(Debug, Clone, Copy)]
pub struct Help {
    pub keys: &'static [&'static str],
    pub shown: &'static str,
    pub what: &'static str,
}

/// The key help, shown by `?`.
pub const HELP: &[Help] = &[
    Help {
        keys: &["ArrowRight", "ArrowDown", " ", "PageDown", "n", "N"],
        shown: "→ ↓ Space PgDn N",
        what: "next step or slide",
    },
    Help {
        keys: &["ArrowLeft", "ArrowUp", "PageUp", "p", "P"],
        shown: "← ↑ PgUp P",
        what: "previous step or slide",
    },
    Help {
        keys: &["Home", "End"],
        shown: "Home / End",
        what: "first / last slide of the chapter",
    },
    Help {
        keys: &["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "Enter"],
        shown: "23 Enter",
        what: "go to slide 23 of the talk",
    },
    Help {
        keys: &["o", "O", "Escape"],
        shown: "O or Esc",
        what: "overview of all slides (Esc again: back to reading)",
    },
    Help {
        keys: &["f", "F"],
        shown: "F",
        what: "fullscreen",
    },
    Help {
        keys: &["b", "B", "."],
        shown: "B or .",
        what: "black screen",
    },
    Help {
        keys: &["e", "E"],
        shown: "E",
        what: "a demo's whole output / only its focus lines",
    },
    Help {
        keys: &["s", "S"],
        shown: "S",
        what: "speaker window",
    },
    Help {
        keys: &["j", "J", "k", "K"],
        shown: "J / K",
        what: "speaker window: scroll the notes down / up",
    },
    Help {
        keys: &["+", "=", "-", "_"],
        shown: "+ / −",
        what: "speaker window: larger / smaller notes (remembered)",
    },
    Help {
        keys: &["z", "Z", "r", "R"],
        shown: "Z / R",
        what: "speaker window: pause or start / reset the timer",
    },
    Help {
        keys: &["t", "T"],
        shown: "T",
        what: "dark / light slides",
    },
    Help {
        keys: &["?"],
        shown: "?",
        what: "this help",
    },
    Help {
        keys: &["d", "D"],
        shown: "D (while reading)",
        what: "present this page as slides",
    },
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
        "e" | "E" => Action::Expand,
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
            // Held down, E would flip the terminals back and forth.
            if action == Action::Expand && event.repeat() {
                return;
            }
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

    /// Every key a view handles is in the help (`?`), and every key the help names does
    /// something in some view.
    #[test]
    fn every_key_the_player_handles_is_in_the_help() {
        let named = [
            "ArrowRight",
            "ArrowLeft",
            "ArrowUp",
            "ArrowDown",
            "PageUp",
            "PageDown",
            "Home",
            "End",
            "Enter",
            "Escape",
            "Tab",
            "Backspace",
            "Delete",
            "Insert",
            "F1",
            "F5",
            "F11",
            "F12",
        ];
        let printable: Vec<String> = (' '..='~').map(String::from).collect();
        let views = [View::Reading, View::Slides, View::Speaker, View::Print];
        let in_help = |key: &str| HELP.iter().any(|row| row.keys.contains(&key));
        for key in named
            .iter()
            .copied()
            .chain(printable.iter().map(String::as_str))
        {
            for view in views {
                if let Some(a) = action(key, view) {
                    assert!(
                        in_help(key),
                        "{key:?} does {a:?} in the {view:?} view but is not in the help (?)"
                    );
                }
            }
        }
        for row in HELP {
            for key in row.keys {
                assert!(
                    views.iter().any(|&v| action(key, v).is_some()),
                    "the help names {key:?} ({}), which no view handles",
                    row.shown
                );
            }
        }
    }

    #[test]
    fn e_shows_the_whole_output_on_slides_and_in_the_speaker_window() {
        assert_eq!(action("e", View::Slides), Some(Action::Expand));
        assert_eq!(action("E", View::Speaker), Some(Action::Expand));
        assert_eq!(action("e", View::Reading), None);
    }

    #[test]
    fn swipes_are_horizontal_and_long_enough() {
        assert_eq!(swipe(-120.0, 10.0), Some(true));
        assert_eq!(swipe(120.0, -10.0), Some(false));
        assert_eq!(swipe(30.0, 0.0), None);
        assert_eq!(swipe(80.0, 90.0), None);
    }

    #[test]
    fn a_swipe_along_the_slope_limit_is_not_a_swipe_and_50_px_is_enough() {
        assert_eq!(swipe(60.0, 40.0), None, "exactly 1.5 times as wide as tall");
        assert_eq!(swipe(-50.0, 0.0), Some(true));
        assert_eq!(swipe(49.0, 0.0), None);
    }
}
