//! Steps: parts of a slide revealed one at a time (reveal.js "fragments"). Any element
//! with class `deck-step` outside the notes is one step, in document order; the
//! Markdown `<!-- pause -->` and reStructuredText's `.. rst-class:: build` make them.
//! A shown step has class `deck-shown`; the CSS hides the others in the slide and
//! speaker views only, so the reading view, the overview, print and PDF show all.
//!
//! URLs name a step after the slide: `#slide-7.2` is slide 7 with two steps shown.

use contract::page;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Element;

/// Every step may be shown: what Previous from the next slide and `#slide-last` ask for.
pub const ALL: usize = usize::MAX;

/// The steps of a slide, in document order.
pub fn of(section: &Element) -> Vec<Element> {
    // A step inside the notes is the notes' own.
    let selector = format!(
        ".{step}:not({notes} .{step})",
        step = page::class::STEP,
        notes = page::select::NOTES
    );
    let Ok(list) = section.query_selector_all(&selector) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i).and_then(|n| n.dyn_into().ok()))
        .collect()
}

/// Marks every slide with its number of steps (`data-steps`), for the CSS and tests.
pub fn count_all(sections: &[web_sys::HtmlElement]) -> Result<(), JsValue> {
    for section in sections {
        let n = of(section).len();
        if n > 0 {
            section.set_attribute(page::attr::STEPS, &n.to_string())?;
        }
    }
    Ok(())
}

/// Shows the first `shown` steps of a slide and hides the rest; returns how many are
/// shown (`shown` clamped to the slide's steps).
pub fn show(section: &Element, shown: usize) -> Result<usize, JsValue> {
    let steps = of(section);
    let shown = shown.min(steps.len());
    for (i, step) in steps.iter().enumerate() {
        step.class_list()
            .toggle_with_force(page::class::SHOWN, i < shown)?;
    }
    section.set_attribute(page::attr::STEP, &shown.to_string())?;
    // A ladder step takes the terminal's place (deck.css): the layout changes, so the
    // slide is fitted again (`slides::fit` after this recomputes without the mark).
    if section
        .query_selector(&format!(
            ":scope > .{} > figure.{}",
            page::class::STEP,
            page::class::LADDER
        ))?
        .is_some()
    {
        section.remove_attribute(&page::fit_attribute(page::property::FIT))?;
    }
    Ok(shown)
}

/// `#slide-7.2` → 2; `#slide-last` → all; `#slide-7` (or anything else) → none.
pub fn of_hash(hash: &str) -> usize {
    let Some(rest) = hash
        .strip_prefix('#')
        .and_then(|h| h.strip_prefix(page::SLIDE_ID_PREFIX))
    else {
        return 0;
    };
    if rest == "last" {
        return ALL;
    }
    rest.split_once('.')
        .and_then(|(_, step)| step.parse().ok())
        .unwrap_or(0)
}

/// The fragment of slide `n` (0-based) with `step` steps shown, without `#`.
pub fn hash(n: usize, step: usize) -> String {
    if step == 0 {
        page::slide_id(n + 1)
    } else {
        format!("{}.{step}", page::slide_id(n + 1))
    }
}

/// What Next does on a slide with `total` steps of which `shown` show: `Some(k)` shows
/// k steps on this slide, `None` moves on.
pub fn forward(shown: usize, total: usize) -> Option<usize> {
    (shown < total).then_some(shown + 1)
}

/// What Previous does: hide the last shown step, or (`None`) go back a slide.
pub fn backward(shown: usize) -> Option<usize> {
    shown.checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_name_steps() {
        assert_eq!(of_hash("#slide-7.2"), 2);
        assert_eq!(of_hash("#slide-7"), 0);
        assert_eq!(of_hash("#slide-last"), ALL);
        assert_eq!(of_hash("#peek"), 0);
        assert_eq!(hash(6, 2), "slide-7.2");
        assert_eq!(hash(6, 0), "slide-7");
    }

    #[test]
    fn next_reveals_before_it_moves_and_previous_hides() {
        assert_eq!(forward(0, 2), Some(1));
        assert_eq!(forward(1, 2), Some(2));
        assert_eq!(forward(2, 2), None);
        assert_eq!(forward(0, 0), None);
        assert_eq!(backward(2), Some(1));
        assert_eq!(backward(0), None);
    }
}
