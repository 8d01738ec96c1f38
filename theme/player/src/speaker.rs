//! The speaker window: the same page with `?speaker`, where the CSS shows the notes
//! as the largest panel (in type the presenter can size with + and −, remembered), the
//! current slide and what Next shows (the next step, or the next slide), and this module
//! adds the panel with the elapsed time (start, pause, reset), the time left and whether
//! the presenter is ahead of or behind the plan (see [`crate::talk`]), the clock and
//! where we are in the talk. The timer lives in localStorage, so it keeps running when
//! the window changes chapter; it starts by itself on the first slide change.

use std::cell::Cell;
use std::rc::Rc;

use contract::page;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use crate::keys::Action;
use crate::slides::{Deck, Via, View, with_flag};
use crate::talk::{describe_lead, lead};
use crate::{dom, overview, steps};

/// Opens (or brings back) the speaker window on the current slide.
pub fn open(deck: &Deck) -> Result<(), JsValue> {
    let window = dom::window()?;
    let url = with_flag(
        &window.location().href()?,
        View::Speaker.flag(),
        &steps::hash(deck.current(), deck.step()),
    );
    let opened = window.open_with_url_and_target_and_features(
        &url,
        page::store::SPEAKER_WINDOW,
        "popup,width=1280,height=800",
    )?;
    if opened.is_none() {
        web_sys::console::warn_1(&JsValue::from_str(
            "deck: the browser blocked the speaker window; allow pop-ups for this page",
        ));
        blocked_notice(&deck.document, &url)?;
    }
    Ok(())
}

/// When the browser blocks the pop-up: say so, and offer the speaker view as a link (a
/// click opens a tab even where pop-ups are blocked) or in this very tab. Either way it
/// follows and drives the audience window like the pop-up would.
fn blocked_notice(document: &web_sys::Document, url: &str) -> Result<(), JsValue> {
    if let Some(old) = document.get_element_by_id(page::id::POPUP_BLOCKED) {
        old.remove();
    }
    let notice = dom::element(document, "div", "", "")?;
    notice.set_id(page::id::POPUP_BLOCKED);
    notice.set_attribute("role", "alert")?;
    let text = dom::element(
        document,
        "p",
        "",
        "The browser blocked the speaker window. Allow pop-ups for this page, or:",
    )?;
    let link: HtmlElement = dom::element(document, "a", page::class::SPEAKER_TAB, "")?;
    link.set_text_content(Some("Open the speaker view in a new tab"));
    link.set_attribute("href", url)?;
    link.set_attribute("target", "_blank")?;
    let here = {
        let url = url.to_string();
        dom::button(
            document,
            page::class::SPEAKER_HERE,
            "Speaker view in this tab",
            "Turn this tab into the speaker view",
            move || dom::window()?.location().assign(&url),
        )?
    };
    let close = {
        let notice = notice.clone();
        dom::button(
            document,
            page::class::POPUP_CLOSE,
            "×",
            "Close",
            move || {
                notice.remove();
                Ok(())
            },
        )?
    };
    for part in [&text, &link, &here, &close] {
        notice.append_child(part)?;
    }
    document
        .body()
        .ok_or_else(|| JsValue::from_str("no <body>"))?
        .append_child(&notice)?;
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

const TIMER_KEY: &str = page::store::TIMER;

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

    /// Never started since the last reset: the first slide change starts it.
    fn pristine(&self) -> bool {
        self.since.is_none() && self.banked == 0.0
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
    elapsed: HtmlElement,
    /// The planned start and end (s) of the current slide, for ahead or behind.
    slot: Rc<Cell<Option<(f64, f64)>>>,
}

/// The notes' type size, a factor the presenter sets with + and −.
const NOTES_SCALE_KEY: &str = page::store::NOTES_SCALE;

impl Panel {
    pub fn new(deck: &Rc<Deck>) -> Result<Panel, JsValue> {
        let document = &deck.document;
        let panel = dom::element(document, "div", "", "")?;
        panel.set_id(page::id::SPEAKER);
        let position = dom::element(document, "div", page::class::POSITION, "")?;
        let upnext = dom::element(document, "div", page::class::UPNEXT, "")?;
        let elapsed = dom::element(document, "div", page::class::ELAPSED, "0:00:00")?;
        let left = dom::element(document, "div", page::class::LEFT, "")?;
        let pace = dom::element(document, "div", page::class::PACE, "")?;
        let clock = dom::element(document, "div", page::class::CLOCK, "")?;
        let toggle = {
            let elapsed = elapsed.clone();
            dom::button(
                document,
                page::class::TIMER_TOGGLE,
                "Start",
                "Start or pause the timer (Z)",
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
                page::class::TIMER_RESET,
                "Reset",
                "Reset the timer to zero (R)",
                move || reset_timer(&elapsed),
            )?
        };
        let buttons = dom::element(document, "div", page::class::TIMER_BUTTONS, "")?;
        buttons.append_child(&toggle)?;
        buttons.append_child(&reset)?;
        let times = dom::element(document, "div", page::class::TIMES, "")?;
        for part in [&elapsed, &left, &pace] {
            times.append_child(part)?;
        }
        for part in [&clock, &times] {
            panel.append_child(part)?;
        }
        panel.append_child(&buttons)?;
        panel.append_child(&position)?;
        panel.append_child(&upnext)?;
        document
            .body()
            .ok_or_else(|| JsValue::from_str("no <body>"))?
            .append_child(&panel)?;
        // "Now" and "Next" over the two previews.
        for (class, text) in [
            (page::class::PREVIEW_NOW, "Now"),
            (page::class::PREVIEW_NEXT, "Next"),
        ] {
            let label = dom::element(document, "div", page::class::PREVIEW_LABEL, text)?;
            label.class_list().add_1(class)?;
            document
                .body()
                .ok_or_else(|| JsValue::from_str("no <body>"))?
                .append_child(&label)?;
        }
        set_notes_scale(notes_scale())?;
        let slot = Rc::new(Cell::new(None));
        let tick = {
            let (elapsed, slot, duration) = (
                elapsed.clone(),
                Rc::clone(&slot),
                deck.talk.duration.map(|d| d.0),
            );
            move || {
                let timer = Timer::load();
                let _ = show_timer(&elapsed, timer);
                show_pace(&left, &pace, timer, duration, slot.get());
                clock.set_text_content(Some(&now_hm()));
                mark_more_notes();
            }
        };
        tick();
        dom::every(250, tick)?;
        Ok(Panel {
            position,
            upnext,
            elapsed,
            slot,
        })
    }

    /// The speaker window's own keys.
    pub fn act(&self, action: Action) -> Result<(), JsValue> {
        match action {
            Action::NotesDown | Action::NotesUp => scroll_notes(action == Action::NotesDown),
            Action::NotesLarger => set_notes_scale(notes_scale() * 1.1),
            Action::NotesSmaller => set_notes_scale(notes_scale() / 1.1),
            Action::TimerToggle => {
                let timer = Timer::load().toggled(js_sys::Date::now());
                timer.save()?;
                show_timer(&self.elapsed, timer)
            }
            Action::TimerReset => reset_timer(&self.elapsed),
            _ => Ok(()),
        }
    }

    /// Where we are, and what comes after this chapter's last slide.
    pub fn update(&self, deck: &Deck, via: Via) -> Result<(), JsValue> {
        let n = deck.current();
        let count = deck.sections.len();
        // The chapter's name (as the table of contents gives it), not its first title.
        let page = deck.document.location().map(|l| l.pathname()).transpose()?;
        let title = page
            .map(|p| chapter_name(&deck.document, &p))
            .filter(|t| !t.is_empty())
            .or_else(|| {
                deck.document
                    .query_selector("main h1")
                    .ok()
                    .flatten()
                    .and_then(|h| h.text_content())
            })
            .unwrap_or_default();
        let (number, total) = deck.talk_position();
        let steps = steps::of(&deck.sections[n]).len();
        let step = if steps > 0 {
            format!(" · step {} of {steps}", deck.step())
        } else {
            String::new()
        };
        self.position
            .set_text_content(Some(&format!("Slide {number} of {total}{step} · {title}")));
        self.slot.set(deck.talk.slot(n));
        if matches!(via, Via::Local | Via::Remote) && Timer::load().pristine() {
            let timer = Timer::load().toggled(js_sys::Date::now());
            timer.save()?;
            show_timer(&self.elapsed, timer)?;
        }
        let upnext = if n + 1 < count || deck.step() < steps {
            String::new()
        } else {
            match deck.next_chapter() {
                Some(href) => format!("Next: {}", chapter_name(&deck.document, href)),
                None => "End of the talk".to_string(),
            }
        };
        self.upnext.set_text_content(Some(&upnext));
        self.show_next_step(deck)?;
        self.show_next_chapter(deck, n + 1 == count && deck.step() >= steps)?;
        self.upnext
            .class_list()
            .toggle_with_force(page::class::EMPTY, upnext.is_empty())?;
        Ok(())
    }

    /// While the current slide has hidden steps, what Next shows is this slide with one
    /// more step: a copy of it takes the next slide's place.
    fn show_next_step(&self, deck: &Deck) -> Result<(), JsValue> {
        remove_all(
            &deck.document,
            &format!("section.{}", page::class::NEXT_STEP),
        )?;
        let n = deck.current();
        let section = &deck.sections[n];
        if deck.step() >= steps::of(section).len() {
            return Ok(());
        }
        if let Some(next) = deck.sections.get(n + 1) {
            next.class_list().remove_1(page::class::NEXT)?;
        }
        let copy: Element = section.clone_node_with_deep(true)?.dyn_into()?;
        copy.remove_attribute("id")?;
        let inner = copy.query_selector_all(&format!("[id], {}, script", page::select::NOTES))?;
        for i in 0..inner.length() {
            if let Some(el) = inner.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                if el.matches(&format!("{}, script", page::select::NOTES))? {
                    el.remove();
                } else {
                    el.remove_attribute("id")?;
                }
            }
        }
        copy.class_list().remove_1(page::class::CURRENT)?;
        copy.class_list()
            .add_2(page::class::NEXT, page::class::NEXT_STEP)?;
        steps::show(&copy, deck.step() + 1)?;
        section
            .parent_node()
            .ok_or_else(|| JsValue::from_str("a slide outside the page"))?
            .append_child(&copy)?;
        Ok(())
    }
}

fn remove_all(document: &web_sys::Document, selector: &str) -> Result<(), JsValue> {
    let stale = document.query_selector_all(selector)?;
    for i in 0..stale.length() {
        if let Some(el) = stale.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            el.remove();
        }
    }
    Ok(())
}

fn reset_timer(elapsed: &Element) -> Result<(), JsValue> {
    let timer = Timer {
        since: Timer::load().since.map(|_| js_sys::Date::now()),
        banked: 0.0,
    };
    timer.save()?;
    show_timer(elapsed, timer)
}

/// Time left of the talk and ahead or behind the plan at this slide.
fn show_pace(
    left: &Element,
    pace: &Element,
    timer: Timer,
    duration: Option<f64>,
    slot: Option<(f64, f64)>,
) {
    let t = timer.elapsed(js_sys::Date::now()) / 1000.0;
    let Some(duration) = duration else {
        left.set_text_content(None);
        pace.set_text_content(None);
        return;
    };
    let remaining = duration - t;
    let sign = if remaining < 0.0 { "−" } else { "" };
    left.set_text_content(Some(&format!(
        "{sign}{} left",
        hms(remaining.abs() * 1000.0)
    )));
    let lead = slot.map_or(0.0, |slot| lead(t, slot));
    pace.set_text_content(Some(&describe_lead(lead)));
    let state = if lead.abs() < 0.5 {
        "on-time"
    } else if lead > 0.0 {
        "ahead"
    } else {
        "behind"
    };
    let _ = pace.set_attribute(page::attr::PACE, state);
}

fn notes_scale() -> f64 {
    dom::window()
        .ok()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(NOTES_SCALE_KEY).ok().flatten())
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .unwrap_or(1.0)
}

/// Sets (and remembers) the notes' type size; the CSS multiplies its size by it.
fn set_notes_scale(scale: f64) -> Result<(), JsValue> {
    let scale = scale.clamp(0.5, 3.0);
    let document = dom::document()?;
    let root: HtmlElement = dom::root(&document)?.dyn_into()?;
    root.style()
        .set_property(page::property::NOTES_SCALE, &format!("{scale:.3}"))?;
    if let Some(storage) = dom::window()?.local_storage()? {
        storage.set_item(NOTES_SCALE_KEY, &format!("{scale:.3}"))?;
    }
    Ok(())
}

/// J and K: the notes scroll by most of their height (the arrows turn slides).
fn scroll_notes(down: bool) -> Result<(), JsValue> {
    let document = dom::document()?;
    let Some(notes) = document.query_selector(&format!(
        "{} {}",
        page::select::CURRENT_SLIDE,
        page::select::NOTES
    ))?
    else {
        return Ok(());
    };
    let by = f64::from(notes.client_height()) * 0.8;
    notes.scroll_by_with_x_and_y(0.0, if down { by } else { -by });
    Ok(())
}

impl Panel {
    /// On a chapter's last slide, the next chapter's first slide takes the place of the
    /// next slide (fetched from its page, as the overview does).
    fn show_next_chapter(&self, deck: &Deck, at_end: bool) -> Result<(), JsValue> {
        remove_all(
            &deck.document,
            &format!("section.{}", page::class::NEXT_REMOTE),
        )?;
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
                .and_then(|r| r.get_attribute(page::attr::SLIDE))
                .is_some_and(|n| n == last);
            let shown = match first {
                Ok(Some(tile)) if still_at_end => tile
                    .class_list()
                    .add_2(page::class::NEXT, page::class::NEXT_REMOTE)
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
        page::attr::RUNNING,
        if timer.since.is_some() {
            "true"
        } else {
            "false"
        },
    )?;
    // The button is not beside the time but in the panel's row of buttons.
    if let Some(toggle) = elapsed
        .closest(&format!("#{}", page::id::SPEAKER))?
        .and_then(|p| {
            p.query_selector(&format!(".{}", page::class::TIMER_TOGGLE))
                .ok()
                .flatten()
        })
    {
        toggle.set_text_content(Some(if timer.since.is_some() {
            "Pause"
        } else {
            "Start"
        }));
    }
    Ok(())
}

/// Marks the current notes `data-more` while more of them is below the panel's edge
/// (the CSS shows a cue there).
fn mark_more_notes() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(Some(notes)) = document.query_selector(&format!(
        "{} > {}",
        page::select::CURRENT_SLIDE,
        page::select::NOTES
    )) else {
        return;
    };
    let more = notes.scroll_top() + notes.client_height() + 2 < notes.scroll_height();
    let _ = if more {
        notes.set_attribute(page::attr::MORE, "")
    } else {
        notes.remove_attribute(page::attr::MORE)
    };
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
        .map(|t| without_number(t.trim()).to_string())
        .filter(|t| !t.is_empty());
    from_toc.unwrap_or_else(|| file.trim_end_matches(".html").replace('-', " "))
}

/// A table of contents entry without its section number: "4. TCP" is "TCP", "4.1. A"
/// is "A"; "2026 in review" stays whole.
fn without_number(entry: &str) -> &str {
    let digits_and_dots = entry
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(entry.len());
    let (number, rest) = entry.split_at(digits_and_dots);
    if number.ends_with('.')
        && number.starts_with(|c: char| c.is_ascii_digit())
        && rest.starts_with(' ')
    {
        rest.trim_start()
    } else {
        entry
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chapter_name_drops_its_section_number() {
        use super::without_number;
        assert_eq!(without_number("4. TCP's defaults"), "TCP's defaults");
        assert_eq!(without_number("4.1. A"), "A");
        assert_eq!(without_number("2026 in review"), "2026 in review");
        assert_eq!(without_number("Appendix: more"), "Appendix: more");
        assert_eq!(without_number("3.5 s of fame"), "3.5 s of fame");
    }

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
    fn a_reset_timer_is_pristine_until_started() {
        assert!(Timer::default().pristine());
        assert!(!Timer::default().toggled(5.0).pristine());
        assert!(
            !Timer {
                since: None,
                banked: 10.0
            }
            .pristine()
        );
    }

    #[test]
    fn times_read_as_clock_faces() {
        assert_eq!(hms(0.0), "0:00:00");
        assert_eq!(hms(3_723_999.0), "1:02:03");
    }
}
