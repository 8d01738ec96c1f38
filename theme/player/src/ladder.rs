//! Ladders (`{{#ladder DEMO}}`, drawn at build time by `crates/deck/src/ladder.rs`) in
//! replay: each arrow (`g.arrow`) carries the time its packet left, in ms after the
//! first arrow (`data-at-ms`); a replay hides every arrow (class `ladder-pending`, see
//! deck.css) and shows each at that time, divided by the replay's speed. A ladder
//! replays from its own "▶ Replay" button, and with its demo's terminal when that
//! replays (the ladders of the same demo on the same slide).
//!
//! A Run live draws a ladder again from the live packets ([`Live`], fed by
//! [`crate::live`]): each packet of the ladder's flow (`data-flow`) is added as an arrow
//! the moment its `packet` event comes, the ladder keeping the room its captured one
//! had (its oldest arrows leave at the top); when the demo has recorded the connection
//! (its `wire` event) the ladder shows what the demo recorded, its key packet
//! highlighted.
//!
//! The pace is the capture's, from the first arrow drawn: the transcript has no common
//! clock for the terminal's chunks (ms after the demo started) and the packets (µs after
//! the connection's first packet), so a ladder replayed with its terminal starts with it.

use std::cell::Cell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use contract::page::{self, attr, class};
use contract::wire::{Connection, LivePacket};

use crate::{dom, figure, replay};

thread_local! {
    /// Bumped by every ladder replay; timers of an older one see the change and stop.
    static GENERATION: Cell<u32> = const { Cell::new(0) };
}

const PENDING: &str = class::LADDER_PENDING;

/// Gives every ladder its replay button; returns how many got one.
pub fn attach_all(document: &Document) -> Result<u32, JsValue> {
    let list = document.query_selector_all(page::select::LADDER)?;
    let mut attached = 0;
    for i in 0..list.length() {
        let Some(ladder) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        if ladder.get_attribute(attr::PLAYER).is_some() {
            continue;
        }
        let bar = figure::controls(document, &ladder)?;
        let target = ladder.clone();
        let button = dom::button(
            document,
            class::DEMO_REPLAY,
            "▶ Replay",
            "Show the packets again at the pace they were captured",
            move || {
                replay(&target, 1.0)?;
                // The other window (speaker or audience) replays the same demo.
                match target.get_attribute(attr::DEMO) {
                    Some(demo) => crate::sync::announce_replay(&demo, 1.0),
                    None => Ok(()),
                }
            },
        )?;
        button.set_attribute(attr::SPEED, "1")?;
        bar.append_child(&button)?;
        ladder.set_attribute(attr::PLAYER, "ready")?;
        attached += 1;
    }
    Ok(attached)
}

/// Replays the ladders of `demo` on the slide (or page) of `figure`, a demo's terminal.
pub fn replay_with(figure: &Element, demo: &str, speed: f64) -> Result<(), JsValue> {
    let scope = figure.closest(page::select::SLIDE)?;
    let selector = format!("{}[{}=\"{demo}\"]", page::select::LADDER, attr::DEMO);
    let list = match &scope {
        Some(section) => section.query_selector_all(&selector)?,
        None => dom::document()?.query_selector_all(&selector)?,
    };
    for i in 0..list.length() {
        if let Some(ladder) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
            replay(&ladder, speed)?;
        }
    }
    Ok(())
}

/// The arrows of a ladder, with the time each packet left (ms after the first arrow).
fn arrows(ladder: &Element) -> Result<Vec<(Element, f64)>, JsValue> {
    let list = ladder.query_selector_all(&format!("g.{}[{}]", class::ARROW, attr::AT_MS))?;
    Ok((0..list.length())
        .filter_map(|i| list.item(i).and_then(|n| n.dyn_into::<Element>().ok()))
        .map(|g| {
            let at = g
                .get_attribute(attr::AT_MS)
                .and_then(|a| a.parse().ok())
                .unwrap_or(0.0);
            (g, at)
        })
        .collect())
}

/// Hides every arrow of a ladder (a live run has started and its packets are to come),
/// stopping any replay of it.
pub fn hide(ladder: &Element) -> Result<(), JsValue> {
    ladder.set_attribute(attr::GENERATION, "hidden")?;
    for (arrow, _) in arrows(ladder)? {
        arrow.class_list().add_1(PENDING)?;
    }
    Ok(())
}

/// Hides the ladder's arrows and shows each when its packet left; `speed` 0 shows them
/// all at once. The ladder says `data-state="replaying"`, then `"done"`.
pub fn replay(ladder: &Element, speed: f64) -> Result<(), JsValue> {
    let generation = GENERATION.with(|g| {
        g.set(g.get().wrapping_add(1));
        g.get()
    });
    ladder.set_attribute(attr::GENERATION, &generation.to_string())?;
    let arrows = arrows(ladder)?;
    let last = arrows.iter().map(|(_, at)| *at).fold(0.0, f64::max);
    ladder.set_attribute(attr::STATE, "replaying")?;
    for (arrow, at) in &arrows {
        arrow.class_list().add_1(PENDING)?;
        let delay = replay::delay_ms(at.round() as u64, speed);
        let (arrow, ladder) = (arrow.clone(), ladder.clone());
        let done = *at >= last;
        let show = move || {
            let current = ladder.get_attribute(attr::GENERATION);
            if current.as_deref() != Some(generation.to_string().as_str()) {
                return; // a newer replay took over
            }
            let _ = arrow.class_list().remove_1(PENDING);
            if done {
                let _ = ladder.set_attribute(attr::STATE, "done");
            }
        };
        dom::after(delay, show)?;
    }
    if arrows.is_empty() {
        ladder.set_attribute(attr::STATE, "done")?;
    }
    Ok(())
}

/// The ladders of a demo during one Run live.
pub struct Live {
    ladders: Vec<LiveLadder>,
}

struct LiveLadder {
    figure: Element,
    /// Its connection's name (`data-connection`) and flow (`data-flow`).
    name: String,
    flow: Option<u32>,
    /// The height of its captured drawing (SVG units), which the live one keeps within.
    room: f64,
    /// The packets of its flow streamed so far.
    streamed: Option<Connection>,
    /// Drawn from the recorded connection: later packets leave it alone.
    recorded: bool,
}

impl Live {
    /// Hides the arrows of `ladders` (their packets are to come) and follows them.
    pub fn new(ladders: &[Element]) -> Result<Live, JsValue> {
        let mut live = Vec::with_capacity(ladders.len());
        for figure in ladders {
            hide(figure)?;
            figure.set_attribute(attr::LIVE, "waiting")?;
            share(figure, None)?;
            let room = figure
                .query_selector(":scope > svg")?
                .and_then(|svg| svg.get_attribute("viewBox"))
                .and_then(|v| v.split_whitespace().nth(3)?.parse().ok())
                .unwrap_or(f64::INFINITY);
            live.push(LiveLadder {
                figure: figure.clone(),
                name: figure.get_attribute(attr::CONNECTION).unwrap_or_default(),
                flow: figure
                    .get_attribute(attr::FLOW)
                    .and_then(|f| f.parse().ok()),
                room,
                streamed: None,
                recorded: false,
            });
        }
        Ok(Live { ladders: live })
    }

    /// Adds the arrow of a packet just seen to the ladders of its flow, at once.
    pub fn packet(&mut self, p: &LivePacket) -> Result<(), JsValue> {
        for l in &mut self.ladders {
            if l.recorded || l.flow != Some(p.flow) {
                continue;
            }
            let c = l
                .streamed
                .get_or_insert_with(|| Connection::streamed(&l.name, p));
            if !c.push(p) {
                // Another flow took this number (a second capture): start again.
                *c = Connection::streamed(&l.name, p);
                c.push(p);
            }
            contract::ladder::keep_latest_within(c, l.room);
            // A replay of this ladder still running stops showing arrows.
            l.figure.set_attribute(attr::GENERATION, "live")?;
            if let Some(svg) = l.figure.query_selector(":scope > svg")? {
                svg.set_outer_html(&contract::ladder::svg(c));
            }
            l.figure
                .set_attribute(attr::SEEN_US, &p.unix_us().to_string())?;
            l.figure.set_attribute(attr::LIVE, "streaming")?;
            share(&l.figure, None)?;
        }
        Ok(())
    }

    /// Draws the ladders of connection `c`, which the demo has recorded: what its
    /// check read, with the key packet. When its arrows are the ones already streamed
    /// they stay; otherwise (another part of the connection) they show at their pace.
    pub fn connection(&mut self, c: &Connection) -> Result<(), JsValue> {
        for l in &mut self.ladders {
            if l.name != c.name {
                continue;
            }
            let same = l.streamed.as_ref().is_some_and(|s| {
                c.show.is_none()
                    && s.show == Some([0, c.packets.len().saturating_sub(1)])
                    && s.packets == c.packets
            });
            if let Some(svg) = l.figure.query_selector(":scope > svg")? {
                svg.set_outer_html(&contract::ladder::svg(c));
            }
            l.recorded = true;
            l.figure.set_attribute(attr::LIVE, "drawn")?;
            let speed = if same { 0.0 } else { 1.0 };
            share(&l.figure, Some(speed))?;
            replay(&l.figure, speed)?;
        }
        Ok(())
    }
}

/// Tells the other window (speaker or audience) how a live ladder looks now, and the
/// speed of the replay to start there with it, if any: a Run live plays in both.
fn share(figure: &Element, replay: Option<f64>) -> Result<(), JsValue> {
    let (Some(demo), Some(connection)) = (
        figure.get_attribute(attr::DEMO),
        figure.get_attribute(attr::CONNECTION),
    ) else {
        return Ok(());
    };
    let svg = figure
        .query_selector(":scope > svg")?
        .map(|s| s.outer_html())
        .unwrap_or_default();
    let live = figure.get_attribute(attr::LIVE).unwrap_or_default();
    crate::sync::share_ladder(demo, connection, svg, live, replay)
}

/// Shows in this window the live ladder the other window shares: its drawing and
/// `data-live`, replaying its arrows at `replay`'s speed when given.
pub fn show_shared(
    demo: &str,
    connection: &str,
    svg: &str,
    live: &str,
    replay: Option<f64>,
) -> Result<(), JsValue> {
    let list = dom::document()?.query_selector_all(page::select::LADDER)?;
    for i in 0..list.length() {
        let Some(figure) = list.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
            continue;
        };
        if figure.get_attribute(attr::DEMO).as_deref() != Some(demo)
            || figure.get_attribute(attr::CONNECTION).as_deref() != Some(connection)
        {
            continue;
        }
        // A replay of this ladder still running here stops showing arrows.
        figure.set_attribute(attr::GENERATION, "live")?;
        // The same drawing again (the other window shows the ladder twice: its slide
        // and the next one) changes nothing.
        if let Some(now) = figure.query_selector(":scope > svg")?
            && now.outer_html() != svg
        {
            now.set_outer_html(svg);
        }
        figure.set_attribute(attr::LIVE, live)?;
        if let Some(speed) = replay {
            self::replay(&figure, speed)?;
        }
    }
    Ok(())
}
