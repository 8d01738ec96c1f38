//! Focus lines on a slide: a demo's terminal shows only the lines its claim rests on
//! (the CSS hides the others in the slide and speaker views, from the `data-focus`
//! the preprocessor put on the terminal). The whole output is one key (E, in
//! [`crate::keys`]) or one click
//! away: on the terminal, or on the "All lines" button; again goes back. The slide
//! shrinks to fit the longer output. The reading view and print always show it all.
//!
//! A claim caption that only repeats the slide's title is hidden on the slide.

use contract::page::{attr, class, select};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, HtmlElement};

use crate::{dom, figure, slides, sync};

/// Wires every figure with focus lines (the key, E, is in [`crate::keys`]).
pub fn install(document: &Document) -> Result<(), JsValue> {
    for fig in figure::all(document)? {
        hide_repeated_claim(&fig)?;
        if fig.query_selector(select::FOCUSED_TERMINAL)?.is_none() {
            continue;
        }
        let bar = figure::controls(document, &fig)?;
        let target = fig.clone();
        let button = dom::button(
            document,
            class::DEMO_EXPAND,
            "All lines (E)",
            "Show the whole output; again: only the lines the claim rests on",
            move || toggle(&target),
        )?;
        bar.append_child(&button)?;
        if let Some(pre) = fig.query_selector(select::TERMINAL)? {
            let target = fig.clone();
            let root = dom::root(document)?;
            dom::listen(&pre, "click", false, move |_: web_sys::Event| {
                if root.class_list().contains(class::ON)
                    && let Err(e) = toggle(&target)
                {
                    dom::report(&e);
                }
            })?;
        }
    }
    Ok(())
}

/// Shows all lines of a figure's terminal, or only its focus lines again, here and in
/// the other window (speaker or audience).
pub fn toggle(fig: &Element) -> Result<(), JsValue> {
    let expanded = !fig.has_attribute(attr::EXPANDED);
    set_expanded(fig, expanded)?;
    match fig.get_attribute(attr::DEMO) {
        Some(demo) => sync::announce_expand(&demo, expanded),
        None => Ok(()),
    }
}

/// What the other window asked: every figure of `demo` on this page shows all its
/// lines (`expanded`) or its focus lines only.
pub fn show_all(demo: &str, expanded: bool) -> Result<(), JsValue> {
    let document = dom::document()?;
    for fig in figure::all(&document)? {
        if fig.get_attribute(attr::DEMO).as_deref() == Some(demo)
            && fig.has_attribute(attr::EXPANDED) != expanded
        {
            set_expanded(&fig, expanded)?;
        }
    }
    Ok(())
}

fn set_expanded(fig: &Element, expanded: bool) -> Result<(), JsValue> {
    fig.toggle_attribute_with_force(attr::EXPANDED, expanded)?;
    for button in dom_buttons(fig)? {
        button.set_text_content(Some(if expanded {
            "Focus lines (E)"
        } else {
            "All lines (E)"
        }));
    }
    if let Some(section) = fig.closest(select::SLIDE)?
        && let Ok(section) = section.dyn_into::<HtmlElement>()
    {
        slides::refit(&section);
    }
    Ok(())
}

fn dom_buttons(fig: &Element) -> Result<Vec<Element>, JsValue> {
    let list = fig.query_selector_all(&format!(".{}", class::DEMO_EXPAND))?;
    Ok((0..list.length())
        .filter_map(|i| list.item(i).and_then(|n| n.dyn_into().ok()))
        .collect())
}

/// E (see [`crate::keys`]): every terminal with focus lines on the current slide shows
/// all its lines, or its focus lines again.
pub fn toggle_current(document: &Document) -> Result<(), JsValue> {
    let list = document.query_selector_all(&format!(
        "{} {}[{}]",
        select::CURRENT_SLIDE,
        select::DEMO,
        attr::PLAYER
    ))?;
    for i in 0..list.length() {
        if let Some(fig) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok())
            && fig.query_selector(select::FOCUSED_TERMINAL)?.is_some()
        {
            toggle(&fig)?;
        }
    }
    Ok(())
}

/// A claim that says what the slide's title says is hidden on the slide
/// (`data-claim-repeats`); one that starts with the title shows only the rest there
/// (the title part in a `demo-claim-title` span, which the slide view hides).
fn hide_repeated_claim(fig: &Element) -> Result<(), JsValue> {
    let Some(section) = fig.closest(select::SLIDE)? else {
        return Ok(());
    };
    let (Some(claim), Some(title)) = (
        fig.query_selector(select::DEMO_CLAIM)?,
        section.query_selector(":scope > :is(h1, h2)")?,
    ) else {
        return Ok(());
    };
    let (text, title) = (
        claim.text_content().unwrap_or_default(),
        title.text_content().unwrap_or_default(),
    );
    if same_words(&text, &title) {
        fig.set_attribute(attr::CLAIM_REPEATS, "")?;
    } else if let Some(cut) = after_words(&text, &title) {
        let document = dom::document()?;
        let head = dom::element(&document, "span", class::DEMO_CLAIM_TITLE, &text[..cut])?;
        claim.set_text_content(Some(&text[cut..]));
        claim.prepend_with_node_1(&head)?;
    }
    Ok(())
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether two texts say the same, ignoring case, punctuation and spacing.
pub fn same_words(a: &str, b: &str) -> bool {
    let (a, b) = (words(a), words(b));
    !a.is_empty() && a == b
}

/// When `text` starts with the words of `prefix` and goes on, the byte offset where the
/// rest starts (after the punctuation and space that follow the prefix).
pub fn after_words(text: &str, prefix: &str) -> Option<usize> {
    let wanted = words(prefix);
    if wanted.is_empty() || words(text).get(..wanted.len()) != Some(&wanted[..]) {
        return None;
    }
    let mut seen = 0;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            in_word = true;
        } else if in_word {
            in_word = false;
            seen += 1;
            if seen == wanted.len() {
                let rest = text[i..].trim_start_matches(|c: char| !c.is_alphanumeric() && c != '(');
                return (!rest.is_empty()).then(|| text.len() - rest.len());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{after_words, same_words};

    #[test]
    fn a_claim_repeats_a_title_when_the_words_match() {
        assert!(same_words(
            "UDP drops datagrams, even on localhost.",
            "UDP drops datagrams even on localhost"
        ));
        assert!(!same_words(
            "UDP drops datagrams",
            "UDP drops datagrams, even on localhost"
        ));
        assert!(!same_words("", ""));
        let claim = "A port is not a connection: every socket shares it.";
        let cut = after_words(claim, "A port is not a connection").unwrap();
        assert_eq!(&claim[cut..], "every socket shares it.");
        assert_eq!(after_words(claim, "A port"), Some(7));
        assert_eq!(after_words(claim, "A portal"), None);
        assert_eq!(after_words("Same words.", "same words"), None);
    }
}
