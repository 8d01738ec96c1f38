//! The slide shape from book.toml (`[preprocessor.deck] aspect = "16:9"`), checked
//! when the preprocessor read it and carried by the page's [`contract::page::Page`]:
//! handed to the CSS and to the print page size.

use contract::page::{Aspect, property};
use wasm_bindgen::prelude::*;
use web_sys::Document;

/// The page size for print, in inches: 13.333 in wide (a 16:9 slide at 96 dpi is
/// 1280 px) and as high as the aspect asks.
pub fn page_size(aspect: Aspect) -> (f64, f64) {
    let width = 13.333;
    (width, width * aspect.height / aspect.width)
}

/// Hands the aspect to the CSS (custom properties on `<html>`) and sets the print page
/// size to match.
pub fn apply(document: &Document, aspect: Aspect) -> Result<(), JsValue> {
    let root = crate::dom::root(document)?;
    let style = format!(
        "{}:{};{}:{};",
        property::ASPECT_W,
        aspect.width,
        property::ASPECT_H,
        aspect.height
    );
    let existing = root.get_attribute("style").unwrap_or_default();
    root.set_attribute("style", &format!("{existing}{style}"))?;
    let (w, h) = page_size(aspect);
    let page = crate::dom::element(document, "style", "", "")?;
    page.set_id(contract::page::id::PAGE_SIZE);
    page.set_text_content(Some(&format!(
        "@page {{ size: {w:.3}in {h:.3}in; margin: 0; }} :root {{ {pw}: {w:.3}in; {ph}: {h:.3}in; }}",
        pw = property::PAGE_W,
        ph = property::PAGE_H,
    )));
    document
        .head()
        .ok_or_else(|| JsValue::from_str("no <head>"))?
        .append_child(&page)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_keeps_the_ratio() {
        let (w, h) = page_size("4:3".parse().unwrap());
        assert!((w / h - 4.0 / 3.0).abs() < 1e-9);
    }
}
