//! When `cargo xtask present` serves the page (not a static host): the demos that can
//! run live get their controls ([`crate::live`]), and the page reloads after each
//! rebuild. Both ends speak [`contract::live`]: the status at `STATUS_PATH`, the
//! rebuild events at `EVENTS_PATH`.

use contract::live::{BUILD_FAILED_EVENT, EVENTS_PATH, RELOAD_EVENT, STATUS_PATH, ServerStatus};
use contract::page::attr;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{EventSource, MessageEvent, Response};

use crate::dom;

/// Asks the server whether it is `present`'s (a static host answers 404, or nothing) and,
/// if so, wires Run live and the reload on rebuild. `root` is the book's root relative
/// to this page. Called by `theme/deck.js` once the player is attached.
#[wasm_bindgen]
pub fn present(root: String) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = start(&root).await {
            // A static host has no status: that is not an error worth a word.
            web_sys::console::debug_2(&JsValue::from_str("deck: not served by present:"), &e);
        }
    });
}

async fn start(root: &str) -> Result<(), JsValue> {
    let window = dom::window()?;
    let response: Response = JsFuture::from(window.fetch_with_str(&format!("{root}{STATUS_PATH}")))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Ok(());
    }
    let text = JsFuture::from(response.text()?).await?;
    let status = status(&text.as_string().unwrap_or_default())?;
    if !status.present {
        return Ok(());
    }
    let document = dom::document()?;
    dom::root(&document)?.set_attribute(attr::PRESENT, "true")?;
    crate::live::enable_live(root.to_string(), status.live)?;
    let events = EventSource::new(&format!("{root}{EVENTS_PATH}"))?;
    dom::listen(&events, RELOAD_EVENT, false, |_: MessageEvent| {
        if let Ok(window) = dom::window() {
            let _ = window.location().reload();
        }
    })?;
    dom::listen(&events, BUILD_FAILED_EVENT, false, |e: MessageEvent| {
        let error = e.data().as_string().unwrap_or_default();
        web_sys::console::error_1(&JsValue::from_str(&format!(
            "deck: rebuild failed\n{error}"
        )));
    })?;
    // The connection lives as long as the page.
    std::mem::forget(events);
    Ok(())
}

/// The server's status, as the server wrote it.
fn status(json: &str) -> Result<ServerStatus, JsValue> {
    serde_json::from_str(json).map_err(|e| JsValue::from_str(&format!("status: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_reads_as_the_server_writes_it() {
        let sent = ServerStatus {
            present: true,
            live: vec!["peek".into()],
            building: false,
        };
        let json = serde_json::to_string(&sent).unwrap();
        assert_eq!(serde_json::from_str::<ServerStatus>(&json).unwrap(), sent);
    }
}
