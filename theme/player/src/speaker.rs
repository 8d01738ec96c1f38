//! The speaker window: the same page with `?speaker`, where the CSS shows the current
//! slide, the next one and the current slide's notes in large type, and this module adds
//! the panel with the elapsed time (start, pause, reset), the clock and where we are.
//! The timer lives in localStorage, so it keeps running when the window changes chapter.

use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use crate::slides::{Deck, View, slide_hash, with_flag};
use crate::{dom, overview};

/// Opens (or brings back) the speaker window on the current slide.
pub fn open(deck: &Deck) -> Result<(), JsValue> {
    let window = dom::window()?;
    let url = with_flag(
        &window.location().href()?,
        View::Speaker.flag(),
        &slide_hash(deck.current()),
    );
    let opened = window.open_with_url_and_target_and_features(
        &url,
        "deck-speaker",
        "popup,width=1280,height=800",
    )?;
    if opened.is_none() {
        web_sys::console::warn_1(&JsValue::from_str(
            "deck: the browser blocked the speaker window; allow pop-ups for this page",
        ));
    }
    Ok(())
}

/// The stopwatch: running since a moment, plus time banked by earlier runs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timer {
    /// `Date.now()` when it last started, while running.
    pub since: Option<f64>,
    /// Milliseconds counted before that.
    pub banked: f64,
}

const TIMER_KEY: &str = "deck-timer";

impl Timer {
    pub fn elapsed(&self, now: f64) -> f64 {
        self.banked + self.since.map_or(0.0, |s| (now - s).max(0.0))
    }

    pub fn toggled(self, now: f64) -> Timer {
        match self.since {
            Some(_) => Timer {
                since: None,
                banked: self.elapsed(now),
            },
            None => Timer {
                since: Some(now),
                banked: self.banked,
            },
        }
    }

    pub fn encode(&self) -> String {
        match self.since {
            Some(s) => format!("{}|{}", s, self.banked),
            None => format!("-|{}", self.banked),
        }
    }

    pub fn decode(text: &str) -> Option<Timer> {
        let (since, banked) = text.split_once('|')?;
        Some(Timer {
            since: if since == "-" {
                None
            } else {
                Some(since.parse().ok()?)
            },
            banked: banked.parse().ok()?,
        })
    }

    fn load() -> Timer {
        dom::window()
            .ok()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(TIMER_KEY).ok().flatten())
            .and_then(|t| Timer::decode(&t))
            .unwrap_or_default()
    }

    fn save(&self) -> Result<(), JsValue> {
        if let Some(storage) = dom::window()?.local_storage()? {
            storage.set_item(TIMER_KEY, &self.encode())?;
        }
        Ok(())
    }
}

/// `h:mm:ss` of milliseconds.
pub fn hms(ms: f64) -> String {
    let s = (ms / 1000.0).floor() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

pub struct Panel {
    position: HtmlElement,
    upnext: HtmlElement,
}

impl Panel {
    pub fn new(deck: &Rc<Deck>) -> Result<Panel, JsValue> {
        let document = &deck.document;
        let panel = dom::element(document, "div", "", "")?;
        panel.set_id("deck-speaker");
        let position = dom::element(document, "div", "deck-position", "")?;
        let upnext = dom::element(document, "div", "deck-upnext", "")?;
        let elapsed = dom::element(document, "div", "deck-elapsed", "0:00:00")?;
        let clock = dom::element(document, "div", "deck-clock", "")?;
        let toggle = {
            let elapsed = elapsed.clone();
            dom::button(
                document,
                "deck-timer-toggle",
                "Start",
                "Start or pause the timer",
                move || {
                    let timer = Timer::load().toggled(js_sys::Date::now());
                    timer.save()?;
                    show_timer(&elapsed, timer)
                },
            )?
        };
        let reset = {
            let elapsed = elapsed.clone();
            dom::button(
                document,
                "deck-timer-reset",
                "Reset",
                "Reset the timer to zero",
                move || {
                    let timer = Timer {
                        since: Timer::load().since.map(|_| js_sys::Date::now()),
                        banked: 0.0,
                    };
                    timer.save()?;
                    show_timer(&elapsed, timer)
                },
            )?
        };
        let buttons = dom::element(document, "div", "deck-timer-buttons", "")?;
        buttons.append_child(&toggle)?;
        buttons.append_child(&reset)?;
        for part in [&clock, &elapsed] {
            panel.append_child(part)?;
        }
        panel.append_child(&buttons)?;
        panel.append_child(&position)?;
        panel.append_child(&upnext)?;
        document
            .body()
            .ok_or_else(|| JsValue::from_str("no <body>"))?
            .append_child(&panel)?;
        let tick = {
            let elapsed = elapsed.clone();
            move || {
                let _ = show_timer(&elapsed, Timer::load());
                clock.set_text_content(Some(&now_hm()));
            }
        };
        tick();
        dom::every(250, tick)?;
        Ok(Panel { position, upnext })
    }

    /// Where we are, and what comes after this chapter's last slide.
    pub fn update(&self, deck: &Deck) -> Result<(), JsValue> {
        let n = deck.current();
        let count = deck.sections.len();
        let title = deck
            .document
            .query_selector("main h1")?
            .and_then(|h| h.text_content())
            .unwrap_or_default();
        self.position
            .set_text_content(Some(&format!("Slide {} of {count} · {title}", n + 1)));
        let upnext = if n + 1 < count {
            String::new()
        } else {
            match deck.next_chapter() {
                Some(href) => format!("Next: {}", chapter_name(&deck.document, href)),
                None => "End of the talk".to_string(),
            }
        };
        self.upnext.set_text_content(Some(&upnext));
        self.show_next_chapter(deck, n + 1 == count)?;
        self.upnext
            .class_list()
            .toggle_with_force("deck-empty", upnext.is_empty())?;
        Ok(())
    }
}

impl Panel {
    /// On a chapter's last slide, the next chapter's first slide takes the place of the
    /// next slide (fetched from its page, as the overview does).
    fn show_next_chapter(&self, deck: &Deck, at_end: bool) -> Result<(), JsValue> {
        let stale = deck
            .document
            .query_selector_all("section.deck-next-remote")?;
        for i in 0..stale.length() {
            if let Some(el) = stale.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                el.remove();
            }
        }
        let (Some(href), true) = (deck.next_chapter(), at_end) else {
            return Ok(());
        };
        let Some(main) = deck.document.query_selector("main")? else {
            return Ok(());
        };
        let (document, href, last) = (
            deck.document.clone(),
            href.to_string(),
            deck.sections.len().to_string(),
        );
        wasm_bindgen_futures::spawn_local(async move {
            let first = overview::fetch_slides(&document, &href)
                .await
                .map(|t| t.into_iter().next());
            let still_at_end = dom::root(&document)
                .ok()
                .and_then(|r| r.get_attribute("data-slide"))
                .is_some_and(|n| n == last);
            let shown = match first {
                Ok(Some(tile)) if still_at_end => tile
                    .class_list()
                    .add_2("deck-next", "deck-next-remote")
                    .and_then(|()| main.append_child(&tile).map(drop)),
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = shown {
                dom::report(&e);
            }
        });
        Ok(())
    }
}

fn show_timer(elapsed: &Element, timer: Timer) -> Result<(), JsValue> {
    elapsed.set_text_content(Some(&hms(timer.elapsed(js_sys::Date::now()))));
    elapsed.set_attribute(
        "data-running",
        if timer.since.is_some() {
            "true"
        } else {
            "false"
        },
    )?;
    if let Some(toggle) = elapsed
        .parent_element()
        .and_then(|p| p.query_selector(".deck-timer-toggle").ok().flatten())
    {
        toggle.set_text_content(Some(if timer.since.is_some() {
            "Pause"
        } else {
            "Start"
        }));
    }
    Ok(())
}

fn now_hm() -> String {
    let date = js_sys::Date::new_0();
    format!("{:02}:{:02}", date.get_hours(), date.get_minutes())
}

/// A chapter's name from the table of contents, or its file name.
fn chapter_name(document: &web_sys::Document, href: &str) -> String {
    let file = href
        .rsplit('/')
        .next()
        .unwrap_or(href)
        .split(['#', '?'])
        .next()
        .unwrap_or("");
    let from_toc = document
        .query_selector(&format!("#mdbook-sidebar a[href$=\"{file}\"]"))
        .ok()
        .flatten()
        .and_then(|a| a.text_content())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    from_toc.unwrap_or_else(|| file.trim_end_matches(".html").replace('-', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timer_pauses_and_resumes() {
        let t = Timer::default().toggled(1000.0);
        assert_eq!(t.elapsed(4000.0), 3000.0);
        let paused = t.toggled(4000.0);
        assert_eq!(paused.elapsed(9000.0), 3000.0);
        let resumed = paused.toggled(10_000.0);
        assert_eq!(resumed.elapsed(11_000.0), 4000.0);
        assert_eq!(Timer::decode(&resumed.encode()), Some(resumed));
        assert_eq!(Timer::decode(&paused.encode()), Some(paused));
        assert_eq!(Timer::decode("x"), None);
    }

    #[test]
    fn times_read_as_clock_faces() {
        assert_eq!(hms(0.0), "0:00:00");
        assert_eq!(hms(3_723_999.0), "1:02:03");
    }
}
