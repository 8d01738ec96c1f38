//! The overview: every slide of the chapter as a tile in a grid (the CSS lays the same
//! sections out small, so nothing is copied), the current one outlined. Clicking a
//! tile shows that slide.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, MouseEvent};

use crate::dom;
use crate::slides::{Deck, Via};

/// Listens for clicks on tiles (one listener for the whole grid).
pub fn install(deck: &Rc<Deck>) -> Result<(), JsValue> {
    let Some(main) = deck.document.query_selector("main")? else {
        return Ok(());
    };
    let deck = Rc::clone(deck);
    dom::listen(&main, "click", true, move |event: MouseEvent| {
        if !deck.in_overview() {
            return;
        }
        let Some(tile) = event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|el| el.closest("section.slide").ok().flatten())
        else {
            return;
        };
        event.prevent_default();
        event.stop_propagation();
        let Some(n) = deck
            .sections
            .iter()
            .position(|s| s.is_same_node(Some(&tile)))
        else {
            return;
        };
        let result = deck
            .go(n, Via::Local)
            .and_then(|()| deck.set_overview(false));
        if let Err(e) = result {
            dom::report(&e);
        }
    })
}
