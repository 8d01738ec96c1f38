//! Per-figure controls: every captured demo figure gets one `.demo-controls` bar under
//! its caption, and each feature adds its buttons to it ([`crate::replay`] the replay
//! buttons, the copy button for the rerun command; a live runner can add its own).

use contract::page::{class, select};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

/// The figure's control bar, created on first use.
pub fn controls(document: &Document, figure: &Element) -> Result<Element, JsValue> {
    if let Some(bar) = figure.query_selector(&format!(":scope > .{}", class::DEMO_CONTROLS))? {
        return Ok(bar);
    }
    let bar = document.create_element("div")?;
    bar.set_class_name(class::DEMO_CONTROLS);
    match figure.query_selector(":scope > figcaption")? {
        Some(caption) => caption.after_with_node_1(&bar)?,
        None => figure.prepend_with_node_1(&bar)?,
    }
    Ok(bar)
}

/// Every demo figure on the page.
pub fn all(document: &Document) -> Result<Vec<Element>, JsValue> {
    let list = document.query_selector_all(select::DEMO)?;
    Ok((0..list.length())
        .filter_map(|i| list.item(i).and_then(|n| n.dyn_into::<Element>().ok()))
        .collect())
}
