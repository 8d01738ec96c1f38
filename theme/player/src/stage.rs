//! Layout that needs numbers from the page: diagrams sized in the slide's own units
//! (so they grow with the screen instead of stopping at a pixel width), and the current
//! slide fitted again once the deck's fonts have loaded (text set in a fallback font
//! wraps differently, and a slide fitted then would stay shrunk for nothing).

use contract::page;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement};

use crate::{dom, print, slides};

/// The slide's em per diagram unit: svgbob draws its text 14 units high, and at
/// 1.6 px per unit on a 1280 px slide (32 px em) that text is 22 px.
const EM_PER_UNIT: f64 = 1.6 / 32.0;

pub fn install(document: &Document) -> Result<(), JsValue> {
    let list = document.query_selector_all(&format!(
        ".{d} > svg[viewBox], .{d} > svg[viewbox]",
        d = page::class::DIAGRAM
    ))?;
    for i in 0..list.length() {
        if let Some(svg) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            size_diagram(&svg)?;
        }
    }
    refit_current(document);
    let fonts = document.fonts().ready()?;
    let document = document.clone();
    let done = Closure::<dyn FnMut(JsValue)>::once(move |_: JsValue| refit_current(&document));
    let _ = fonts.then(&done);
    // Runs once, after this returns; it lives until then.
    done.forget();
    Ok(())
}

/// Gives a diagram a width in em (custom property `--deck-diagram-w`, used by the CSS
/// in the slide and print views only; the reading view keeps svgbob's own size).
fn size_diagram(svg: &Element) -> Result<(), JsValue> {
    let view_box = svg
        .get_attribute("viewBox")
        .or_else(|| svg.get_attribute("viewbox"))
        .unwrap_or_default();
    let width: Option<f64> = view_box
        .split_whitespace()
        .nth(2)
        .and_then(|w| w.parse().ok());
    if let (Some(width), Some(svg)) = (width, svg.dyn_ref::<web_sys::SvgElement>()) {
        svg.style().set_property(
            page::property::DIAGRAM_W,
            &format!("{:.2}em", width * EM_PER_UNIT),
        )?;
    }
    Ok(())
}

/// Fits the slide on show again (every slide and its notes in the print layout).
pub fn refit_current(document: &Document) {
    let print = dom::root(document).is_ok_and(|r| r.class_list().contains(page::class::PRINT));
    let selector = if print {
        format!("main {}", page::select::SLIDE)
    } else {
        format!("html.{} {}", page::class::ON, page::select::CURRENT_SLIDE)
    };
    let Ok(list) = document.query_selector_all(&selector) else {
        return;
    };
    let sections: Vec<HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i).and_then(|n| n.dyn_into().ok()))
        .collect();
    for section in &sections {
        let _ = section.remove_attribute(&page::fit_attribute(page::property::FIT));
    }
    if print {
        print::refit_all(&sections);
    } else {
        sections.iter().for_each(slides::fit);
    }
}
