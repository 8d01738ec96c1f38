//! Small helpers over web-sys: the window and document, listeners that live as long as
//! the page, and errors as messages.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, EventTarget, HtmlElement, Window};

pub fn window() -> Result<Window, JsValue> {
    web_sys::window().ok_or_else(|| JsValue::from_str("no window"))
}

pub fn document() -> Result<Document, JsValue> {
    window()?
        .document()
        .ok_or_else(|| JsValue::from_str("no document"))
}

/// The `<html>` element, where the deck keeps its view state as classes.
pub fn root(document: &Document) -> Result<Element, JsValue> {
    document
        .document_element()
        .ok_or_else(|| JsValue::from_str("no <html> element"))
}

/// Adds a listener for the life of the page.
pub fn listen<E: wasm_bindgen::convert::FromWasmAbi + 'static>(
    target: &EventTarget,
    event: &str,
    capture: bool,
    handler: impl FnMut(E) + 'static,
) -> Result<(), JsValue> {
    let closure = Closure::<dyn FnMut(E)>::new(handler);
    target.add_event_listener_with_callback_and_bool(
        event,
        closure.as_ref().unchecked_ref(),
        capture,
    )?;
    // The listener stays for the life of the page; so does its closure.
    closure.forget();
    Ok(())
}

/// Calls `tick` every `ms` milliseconds for the life of the page.
pub fn every(ms: i32, tick: impl FnMut() + 'static) -> Result<(), JsValue> {
    let closure = Closure::<dyn FnMut()>::new(tick);
    window()?.set_interval_with_callback_and_timeout_and_arguments_0(
        closure.as_ref().unchecked_ref(),
        ms,
    )?;
    closure.forget();
    Ok(())
}

/// Calls `f` once, now when `delay_ms` is 0 (in the same task: a replay at speed 0
/// shows everything before the page paints), else after `delay_ms` milliseconds.
pub fn after(delay_ms: i32, f: impl FnOnce() + 'static) -> Result<(), JsValue> {
    if delay_ms == 0 {
        f();
        return Ok(());
    }
    let callback = Closure::once_into_js(f);
    window()?.set_timeout_with_callback_and_timeout_and_arguments_0(
        callback.unchecked_ref(),
        delay_ms,
    )?;
    Ok(())
}

/// A new element with a class and, optionally, text.
pub fn element(
    document: &Document,
    tag: &str,
    class: &str,
    text: &str,
) -> Result<HtmlElement, JsValue> {
    let el: HtmlElement = document.create_element(tag)?.dyn_into()?;
    if !class.is_empty() {
        el.set_class_name(class);
    }
    if !text.is_empty() {
        el.set_text_content(Some(text));
    }
    Ok(el)
}

/// A button that runs `onclick` (errors go to the console).
pub fn button(
    document: &Document,
    class: &str,
    label: &str,
    title: &str,
    mut onclick: impl FnMut() -> Result<(), JsValue> + 'static,
) -> Result<HtmlElement, JsValue> {
    let button = element(document, "button", class, label)?;
    button.set_attribute("type", "button")?;
    if !title.is_empty() {
        button.set_title(title);
    }
    listen(&button, "click", false, move |event: web_sys::Event| {
        if let Err(e) = onclick() {
            report(&e);
        }
        // Keys go back to the deck: Space must turn the page, not press this again.
        if let Some(button) = event
            .current_target()
            .and_then(|t| t.dyn_into::<HtmlElement>().ok())
        {
            let _ = button.blur();
        }
    })?;
    Ok(button)
}

/// Logs an error from an event handler, where there is no caller to return it to.
pub fn report(error: &JsValue) {
    web_sys::console::error_2(&JsValue::from_str("deck:"), error);
}

/// `Ok(())` or the error with what was being done.
pub fn context<T>(result: Result<T, JsValue>, what: &str) -> Result<T, JsValue> {
    result.map_err(|e| {
        let detail = e.as_string().unwrap_or_else(|| format!("{e:?}"));
        JsValue::from_str(&format!("{what}: {detail}"))
    })
}
