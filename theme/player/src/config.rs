//! The deck's settings as the page carries them: the aspect ratio from book.toml
//! (`[preprocessor.deck] aspect = "16:9"`), which the preprocessor writes into each
//! chapter as `<div class="deck-config" data-aspect="16:9" hidden>`.

use wasm_bindgen::prelude::*;
use web_sys::Document;

/// Width to height of a slide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aspect {
    pub width: f64,
    pub height: f64,
}

impl Default for Aspect {
    fn default() -> Aspect {
        Aspect {
            width: 16.0,
            height: 9.0,
        }
    }
}

/// Parses `W:H` (e.g. `16:9`, `4:3`, `1.85:1`).
pub fn parse(text: &str) -> Result<Aspect, String> {
    let (w, h) = text
        .split_once(':')
        .ok_or_else(|| format!("aspect `{text}` is not of the form W:H"))?;
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .ok_or_else(|| format!("aspect `{text}`: `{s}` is not a positive number"))
    };
    Ok(Aspect {
        width: number(w)?,
        height: number(h)?,
    })
}

/// The page's aspect ratio (16:9 when the page does not say).
pub fn aspect(document: &Document) -> Aspect {
    let declared = document
        .query_selector(".deck-config[data-aspect]")
        .ok()
        .flatten()
        .and_then(|el| el.get_attribute("data-aspect"));
    match declared.as_deref().map(parse) {
        Some(Ok(aspect)) => aspect,
        Some(Err(e)) => {
            web_sys::console::warn_1(&JsValue::from_str(&format!("deck: {e}; using 16:9")));
            Aspect::default()
        }
        None => Aspect::default(),
    }
}

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
    let style = format!("--deck-aw:{};--deck-ah:{};", aspect.width, aspect.height);
    let existing = root.get_attribute("style").unwrap_or_default();
    root.set_attribute("style", &format!("{existing}{style}"))?;
    let (w, h) = page_size(aspect);
    let page = crate::dom::element(document, "style", "", "")?;
    page.set_id("deck-page-size");
    page.set_text_content(Some(&format!(
        "@page {{ size: {w:.3}in {h:.3}in; margin: 0; }} :root {{ --deck-page-w: {w:.3}in; --deck-page-h: {h:.3}in; }}"
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
    fn parses_ratios() {
        assert_eq!(
            parse("16:9"),
            Ok(Aspect {
                width: 16.0,
                height: 9.0
            })
        );
        assert_eq!(
            parse(" 4 : 3 "),
            Ok(Aspect {
                width: 4.0,
                height: 3.0
            })
        );
        assert!(parse("16x9").is_err());
        assert!(parse("16:0").is_err());
        assert!(parse("-4:3").is_err());
    }

    #[test]
    fn page_keeps_the_ratio() {
        let (w, h) = page_size(parse("4:3").unwrap());
        assert!((w / h - 4.0 / 3.0).abs() < 1e-9);
    }
}
