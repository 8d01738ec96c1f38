//! Run live: when the deck is served by `cargo xtask present`, each demo figure gets a
//! "Run live" control that runs the real demo on the presenter's machine and streams
//! its output into the slide, replacing the captured run for this view ("Captured"
//! brings that back; "Save as captured" makes the live run the new transcript).
//!
//! The server answers `POST __deck/run/NAME` with server-sent events: `chunk` (a
//! transcript chunk as JSON), `wire` (a connection the demo has read off its packet
//! capture) and a final `exit`. EventSource cannot POST, so the body is read as a
//! stream and the events are split here.
//!
//! The demo's ladders on the page follow a live run ([`crate::ladder::Live`]): when it
//! starts their arrows hide; each `packet` event (a packet the demo's capture has just
//! read) adds its arrow to the ladders of its flow at once, and a `wire` event (the
//! connection the demo's check read and recorded) draws the ladder as recorded, with
//! its key packet (the one renderer, `contract::ladder`). "Captured" brings the
//! captured ladders back.

use contract::live::{LiveEvent, RUN_PATH, SAVE_PATH, parse_sse};
use contract::page::{self, attr};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlElement, Request, RequestInit, Response};

/// Adds the live controls to every figure whose demo the server can run.
#[wasm_bindgen]
pub fn enable_live(root: String, names: Vec<String>) -> Result<u32, JsValue> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let mut enabled = 0;
    for figure in crate::figure::all(&document)? {
        let Some(name) = figure.get_attribute(attr::DEMO) else {
            continue;
        };
        if !names.contains(&name) || figure.get_attribute(attr::LIVE).is_some() {
            continue;
        }
        let bar = crate::figure::controls(&document, &figure)?;
        let live = Live::new(&figure, &root, &name)?;
        for (label, class, title, action) in [
            (
                "● Run live",
                page::class::DEMO_RUN_LIVE,
                "Run the demo now, on this machine",
                Action::Run,
            ),
            (
                "Captured",
                page::class::DEMO_SHOW_CAPTURED,
                "Show the captured run again",
                Action::Restore,
            ),
            (
                "Save as captured",
                page::class::DEMO_SAVE,
                "Store the last live run as this demo's transcript",
                Action::Save,
            ),
        ] {
            let button: HtmlElement = document.create_element("button")?.dyn_into()?;
            button.set_inner_text(label);
            button.set_class_name(class);
            button.set_title(title);
            button.set_attribute("type", "button")?;
            let live = live.clone();
            let onclick = Closure::<dyn Fn()>::new(move || live.clone().act(action));
            button.set_onclick(Some(onclick.as_ref().unchecked_ref()));
            onclick.forget(); // lives as long as the page
            bar.append_child(&button)?;
        }
        figure.set_attribute(attr::LIVE, "ready")?;
        enabled += 1;
    }
    Ok(enabled)
}

#[derive(Clone, Copy)]
enum Action {
    Run,
    Restore,
    Save,
}

#[derive(Clone)]
struct Live {
    figure: Element,
    screen: Element,
    meta: Option<Element>,
    captured_screen: String,
    captured_meta: String,
    run_url: String,
    save_url: String,
    /// The demo's ladders on the page, with their captured SVG.
    ladders: Vec<(Element, String)>,
}

impl Live {
    fn new(figure: &Element, root: &str, name: &str) -> Result<Live, JsValue> {
        let screen = figure
            .query_selector(&format!("{} samp", page::select::TERMINAL))?
            .ok_or("figure has no terminal")?;
        let meta = figure.query_selector(&format!(".{}", page::class::DEMO_META))?;
        let list = crate::dom::document()?.query_selector_all(&format!(
            "{}[{}=\"{name}\"]",
            page::select::LADDER,
            attr::DEMO
        ))?;
        let ladders = (0..list.length())
            .filter_map(|i| list.item(i).and_then(|n| n.dyn_into::<Element>().ok()))
            .filter_map(|l| {
                let svg = l
                    .query_selector(":scope > svg")
                    .ok()
                    .flatten()?
                    .outer_html();
                Some((l, svg))
            })
            .collect();
        Ok(Live {
            ladders,
            figure: figure.clone(),
            captured_screen: screen.inner_html(),
            captured_meta: meta.as_ref().map(|m| m.inner_html()).unwrap_or_default(),
            screen,
            meta,
            run_url: format!("{root}{RUN_PATH}{name}"),
            save_url: format!("{root}{SAVE_PATH}{name}"),
        })
    }

    fn act(self, action: Action) {
        match action {
            Action::Restore => {
                for (ladder, svg) in &self.ladders {
                    if let Ok(Some(now)) = ladder.query_selector(":scope > svg") {
                        now.set_outer_html(svg);
                    }
                    let _ = ladder.set_attribute(attr::LIVE, "captured");
                }
                self.screen.set_inner_html(&self.captured_screen);
                self.set_meta_html(&self.captured_meta);
                let _ = self.figure.set_attribute(attr::STATE, "captured");
            }
            Action::Run => wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = self.run().await {
                    self.set_meta_text(&format!("live run failed: {}", describe(&e)));
                    let _ = self.figure.set_attribute(attr::STATE, "live-error");
                }
            }),
            Action::Save => wasm_bindgen_futures::spawn_local(async move {
                match post(&self.save_url).await {
                    Ok(resp) if resp.ok() => {
                        self.set_meta_text("saved as the captured run; the deck rebuilds")
                    }
                    Ok(resp) => {
                        self.set_meta_text(&format!("not saved: {}", body_text(&resp).await))
                    }
                    Err(e) => self.set_meta_text(&format!("not saved: {}", describe(&e))),
                }
            }),
        }
    }

    fn set_meta_text(&self, text: &str) {
        if let Some(m) = &self.meta {
            m.set_text_content(Some(text));
        }
    }

    fn set_meta_html(&self, html: &str) {
        if let Some(m) = &self.meta {
            m.set_inner_html(html);
        }
    }

    async fn run(&self) -> Result<(), JsValue> {
        self.screen.set_inner_html("");
        self.set_meta_text("running live…");
        self.figure.set_attribute(attr::STATE, "live")?;
        let figures: Vec<Element> = self.ladders.iter().map(|(l, _)| l.clone()).collect();
        let mut ladders = crate::ladder::Live::new(&figures)?;
        crate::sync::share_figure(&self.figure)?;
        let resp = post(&self.run_url).await?;
        if !resp.ok() {
            return Err(JsValue::from_str(&body_text(&resp).await));
        }
        let reader: web_sys::ReadableStreamDefaultReader = resp
            .body()
            .ok_or("empty response")?
            .get_reader()
            .dyn_into()?;
        let decoder = web_sys::TextDecoder::new()?;
        let opts = web_sys::TextDecodeOptions::new();
        opts.set_stream(true);
        let mut pending = String::new();
        // The one terminal renderer, with the focus rule of the captured run it replaces.
        let mut writer = crate::term::Writer::new(crate::term::pick_of(&self.screen));
        loop {
            let step = JsFuture::from(reader.read()).await?;
            if js_sys::Reflect::get(&step, &"done".into())?
                .as_bool()
                .unwrap_or(true)
            {
                break;
            }
            let bytes: js_sys::Uint8Array =
                js_sys::Reflect::get(&step, &"value".into())?.dyn_into()?;
            pending.push_str(&decoder.decode_with_buffer_source_and_options(&bytes, &opts)?);
            // Server-sent events end with a blank line.
            while let Some(end) = pending.find("\n\n") {
                let block: String = pending.drain(..end + 2).collect();
                let (event, data) = parse_sse(&block);
                match LiveEvent::from_sse(&event, &data)? {
                    Some(LiveEvent::Chunk(chunk)) => {
                        crate::term::apply(&self.screen, &writer.push(chunk.stream, &chunk.text))?;
                        crate::sync::share_figure(&self.figure)?;
                    }
                    Some(LiveEvent::Packet(p)) => ladders.packet(&p)?,
                    Some(LiveEvent::Wire(c)) => ladders.connection(&c)?,
                    Some(LiveEvent::Exit(exit)) => {
                        crate::term::apply(&self.screen, &writer.finish())?;
                        let code = exit
                            .outcome
                            .code
                            .map(|c| format!(" · exit {c}"))
                            .unwrap_or_default();
                        let cut = if exit.truncated { " · output cut" } else { "" };
                        self.set_meta_text(&format!(
                            "live run · {}{code}{cut} · {:.2} s",
                            exit.outcome.status,
                            exit.duration_ms as f64 / 1000.0
                        ));
                        self.figure.set_attribute(attr::STATE, "live-done")?;
                        crate::sync::share_figure(&self.figure)?;
                    }
                    None => {} // comments and keep-alives
                }
            }
        }
        Ok(())
    }
}

async fn post(url: &str) -> Result<Response, JsValue> {
    let init = RequestInit::new();
    init.set_method("POST");
    let request = Request::new_with_str_and_init(url, &init)?;
    let window = web_sys::window().ok_or("no window")?;
    JsFuture::from(window.fetch_with_request(&request))
        .await?
        .dyn_into()
}

async fn body_text(resp: &Response) -> String {
    match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
    .trim()
    .to_string()
}

fn describe(e: &JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}
