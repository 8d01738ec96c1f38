//! The overview: every slide of the talk as a tile in a grid, the current one outlined.
//! This chapter's slides are the page's own sections, laid out small by the CSS (so
//! nothing is copied); the other chapters' slides are fetched from their pages (same
//! origin, relative URLs, so it works from any static host and sub-path) the first time
//! the overview opens, and placed before and after, under their chapter's title.
//! Clicking a tile shows that slide.

use contract::page;
use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Element, HtmlAnchorElement, MouseEvent};

use crate::dom;
use crate::slides::{Deck, Via, View, with_flag};

/// Listens for clicks on tiles (one listener for the whole grid).
pub fn install(deck: &Rc<Deck>) -> Result<(), JsValue> {
    let Some(main) = deck.document.query_selector("main")? else {
        return Ok(());
    };
    for (i, section) in deck.sections.iter().enumerate() {
        section.set_attribute(page::attr::N, &(i + 1).to_string())?;
    }
    let deck = Rc::clone(deck);
    dom::listen(&main, "click", true, move |event: MouseEvent| {
        if !deck.in_overview() {
            return;
        }
        let Some(tile) = event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|el| el.closest(page::select::SLIDE).ok().flatten())
        else {
            return;
        };
        event.prevent_default();
        event.stop_propagation();
        let result = match tile.get_attribute(page::attr::HREF) {
            Some(href) => dom::window().and_then(|w| w.location().assign(&href)),
            None => match deck
                .sections
                .iter()
                .position(|s| s.is_same_node(Some(&tile)))
            {
                Some(n) => deck
                    .go(n, Via::Local)
                    .and_then(|()| deck.set_overview(false)),
                None => Ok(()),
            },
        };
        if let Err(e) = result {
            dom::report(&e);
        }
    })
}

thread_local! {
    /// Whether the other chapters were fetched (or are being fetched) already.
    static LOADED: Cell<bool> = const { Cell::new(false) };
}

/// Fetches the other chapters' slides into the overview, once per page.
pub fn load_other_chapters(document: &Document) -> Result<(), JsValue> {
    if LOADED.with(|l| l.replace(true)) {
        return Ok(());
    }
    let Some(main) = document.query_selector("main")? else {
        return Ok(());
    };
    let here = dom::window()?.location().pathname()?;
    let links = document.query_selector_all("#mdbook-sidebar a[href]")?;
    let mut seen = Vec::new();
    let mut before = true;
    let (head, tail) = (
        container(document, page::class::OVERVIEW_BEFORE)?,
        container(document, page::class::OVERVIEW_AFTER)?,
    );
    main.prepend_with_node_1(&head)?;
    main.append_child(&tail)?;
    for i in 0..links.length() {
        let Some(a) = links
            .item(i)
            .and_then(|n| n.dyn_into::<HtmlAnchorElement>().ok())
        else {
            continue;
        };
        let (href, path) = (a.href(), a.pathname());
        if path == here {
            if !before {
                continue; // a link to a heading inside this chapter
            }
            // This chapter's own title, right above its tiles.
            let heading = document.create_element("h2")?;
            heading.set_class_name(page::class::OVERVIEW_HERE);
            heading.set_text_content(Some(a.text_content().unwrap_or_default().trim()));
            head.append_child(&heading)?;
            before = false;
            continue;
        }
        if !href.starts_with(&dom::window()?.location().origin()?) || seen.contains(&path) {
            continue;
        }
        seen.push(path);
        let title = a.text_content().unwrap_or_default();
        let group = container(document, page::class::OVERVIEW_CHAPTER)?;
        group.set_attribute(page::attr::CHAPTER, &href)?;
        (if before { &head } else { &tail }).append_child(&group)?;
        let document = document.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(e) = fill(&document, &group, &href, title.trim()).await {
                dom::report(&e);
            }
        });
    }
    Ok(())
}

fn container(document: &Document, class: &str) -> Result<Element, JsValue> {
    let el = document.create_element("div")?;
    el.set_class_name(class);
    Ok(el)
}

/// One chapter's title and its slides as tiles that link to them.
async fn fill(
    document: &Document,
    group: &Element,
    href: &str,
    title: &str,
) -> Result<(), JsValue> {
    let tiles = fetch_slides(document, href).await?;
    let heading = document.create_element("h2")?;
    heading.set_text_content(Some(title));
    group.append_child(&heading)?;
    for tile in &tiles {
        group.append_child(tile)?;
    }
    group.set_attribute(page::attr::LOADED, &tiles.len().to_string())?;
    // The tiles of earlier chapters push this chapter's down: keep the current one in
    // view.
    show_current(document)
}

/// Scrolls the overview so that the current slide's tile is in the middle.
pub fn show_current(document: &Document) -> Result<(), JsValue> {
    if let Some(tile) = document.query_selector(&format!(
        "html.{} main {}",
        page::class::OVERVIEW,
        page::select::CURRENT_SLIDE
    ))? {
        let options = web_sys::ScrollIntoViewOptions::new();
        options.set_block(web_sys::ScrollLogicalPosition::Center);
        tile.scroll_into_view_with_scroll_into_view_options(&options);
    }
    Ok(())
}

/// The slides of another chapter's page as pictures for this one: no ids to clash, no
/// transcripts to parse; each knows its number (`data-n`) and URL (`data-href`).
pub async fn fetch_slides(document: &Document, href: &str) -> Result<Vec<Element>, JsValue> {
    let window = dom::window()?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(href))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from_str(&format!(
            "{href}: HTTP {}",
            response.status()
        )));
    }
    let html = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    let page =
        web_sys::DomParser::new()?.parse_from_string(&html, web_sys::SupportedType::TextHtml)?;
    let sections = page.query_selector_all(&format!("main {}", page::select::SLIDE))?;
    let mut tiles = Vec::new();
    for i in 0..sections.length() {
        let Some(section) = sections.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        section.remove_attribute("id")?;
        let heavy = section.query_selector_all("script, [id]")?;
        for j in 0..heavy.length() {
            if let Some(el) = heavy.item(j).and_then(|n| n.dyn_into::<Element>().ok()) {
                if el.tag_name() == "SCRIPT" {
                    el.remove();
                } else {
                    el.remove_attribute("id")?;
                }
            }
        }
        section.set_attribute(page::attr::N, &(i + 1).to_string())?;
        section.set_attribute(
            page::attr::HREF,
            &with_flag(href, View::Slides.flag(), &page::slide_id(i as usize + 1)),
        )?;
        tiles.push(document.import_node_with_deep(&section, true)?.dyn_into()?);
    }
    Ok(tiles)
}
