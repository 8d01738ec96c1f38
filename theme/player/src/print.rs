//! Print layout: one slide per page, at the deck's aspect ratio (the page size comes
//! from [`crate::config`]), speaker notes on the page under a smaller slide when asked
//! (`?print&notes`). Printing from the browser gets the same layout through
//! `@media print` in the CSS; `?print` shows it on screen too, for checking before a
//! PDF, and is what `cargo xtask pdf` prints.

use wasm_bindgen::prelude::*;
use web_sys::Element;

/// Switches the page to the on-screen print layout.
pub fn enter(root: &Element, notes: bool) -> Result<(), JsValue> {
    root.class_list().add_1("deck-print")?;
    root.class_list()
        .toggle_with_force("deck-print-notes", notes)?;
    Ok(())
}
