//! Print layout: one slide per page, at the deck's aspect ratio (the page size comes
//! from [`crate::config`]), speaker notes on the page under a smaller slide when asked
//! (`?print&notes`). `?print` shows the layout on screen, for checking before a PDF,
//! and is what `cargo xtask pdf` prints; printing from the browser (Ctrl+P) switches
//! to it for the print and back afterwards.

use std::cell::RefCell;
use std::rc::Rc;

use contract::page;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use crate::{dom, slides};

/// The classes of a view that would fight the print layout.
const VIEW_CLASSES: &[&str] = &[
    page::class::ON,
    page::class::SLIDES,
    page::class::SPEAKER,
    page::class::OVERVIEW,
];

/// Switches the page to the on-screen print layout.
pub fn enter(root: &Element, sections: &[HtmlElement], notes: bool) -> Result<(), JsValue> {
    root.class_list().add_1(page::class::PRINT)?;
    root.class_list()
        .toggle_with_force(page::class::PRINT_NOTES, notes)?;
    fit_all(sections);
    Ok(())
}

/// Fits every slide and its notes again (after the fonts loaded).
pub fn refit_all(sections: &[HtmlElement]) {
    for section in sections {
        let _ = section.remove_attribute(&page::fit_attribute(page::property::FIT));
        if let Ok(Some(notes)) =
            section.query_selector(&format!(":scope > {}", page::select::NOTES))
        {
            let _ = notes.remove_attribute(&page::fit_attribute(page::property::FIT_NOTES));
        }
    }
    fit_all(sections);
}

/// A page cannot scroll: every slide is shrunk to fit its page (an overflowing slide
/// would also push the pages after it).
fn fit_all(sections: &[HtmlElement]) {
    for section in sections {
        slides::fit(section);
        // Notes under the slide (`?print&notes`) get a smaller type when they are long.
        if let Ok(Some(notes)) =
            section.query_selector(&format!(":scope > {}", page::select::NOTES))
            && let Ok(notes) = notes.dyn_into::<HtmlElement>()
            && notes.client_height() > 0
        {
            slides::shrink_to_fit(&notes, page::property::FIT_NOTES);
        }
    }
}

/// Printing from any view prints slides, one per page; the view comes back after.
pub fn install(root: &Element, sections: &[HtmlElement]) -> Result<(), JsValue> {
    let window = dom::window()?;
    let saved: Rc<RefCell<Option<String>>> = Rc::default();
    let before = {
        let (root, saved) = (root.clone(), Rc::clone(&saved));
        let sections = sections.to_vec();
        move |_: web_sys::Event| {
            if root.class_list().contains(page::class::PRINT) {
                return;
            }
            *saved.borrow_mut() = Some(root.class_name());
            for class in VIEW_CLASSES {
                let _ = root.class_list().remove_1(class);
            }
            let _ = root.class_list().add_1(page::class::PRINT);
            fit_all(&sections);
        }
    };
    dom::listen(&window, "beforeprint", false, before)?;
    let root = root.clone();
    dom::listen(&window, "afterprint", false, move |_: web_sys::Event| {
        if let Some(classes) = saved.borrow_mut().take() {
            root.set_class_name(&classes);
        }
    })
}
