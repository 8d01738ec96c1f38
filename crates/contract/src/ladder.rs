//! The ladder (sequence) diagram of one captured connection, as inline SVG: drawn by the
//! deck at build time (`{{#ladder DEMO [CONNECTION]}}`, `crates/deck/src/ladder.rs`) and
//! by the player for a Run live, from the packets the demo streams (one renderer).
//!
//! Two lifelines, the client's on the left and the server's on the right; one arrow a
//! packet, labelled in words (`SYN`, `SYN, ACK`, `10 bytes`, `FIN`, `RST`). Time runs
//! down: the space between two arrows grows with the real time between the packets
//! (logarithmically, from one text line for packets microseconds apart), and a gap of
//! [`LONG`] or more is compressed to a fixed break in both lifelines, marked with its
//! duration ("+40.1 ms"). On loopback a packet arrives as it leaves (the capture has
//! one timestamp a packet), so every arrow has the same small slope, pointing the way
//! the packet went. The packet the demo's claim rests on (the connection's `key`) is
//! drawn in the deck's accent colour and its label in bold. Each arrow (`g.arrow`)
//! carries the time its packet left, in ms after the first arrow drawn (`data-at-ms`),
//! so a replay can show it then.
//!
//! Colours and fonts come from the page (`currentColor`, the CSS variable
//! `--deck-accent`, the inherited font), so both themes work.

use std::fmt::Write;

use crate::page;
use crate::wire::{Connection, Packet};

pub const WIDTH: f64 = 640.0;
/// The lifelines' x.
pub const LEFT: f64 = 165.0;
pub const RIGHT: f64 = 525.0;
/// Text size in the SVG's units: the chart's scale rules apply (`figure.chart`).
pub const FONT: f64 = 20.0;
/// The least space between two arrows: one line of label.
pub const ROW: f64 = 30.0;
/// The drop of every arrow from its sender to its receiver.
pub const SLOPE: f64 = 8.0;
/// Gaps this long (µs) and longer are compressed and marked with their duration.
pub const LONG: u64 = 2_000;
/// The height of a compressed gap.
pub const BREAK: f64 = 52.0;

/// A duration in µs as a slide prints it.
pub fn duration(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1e3)
    } else {
        format!("{:.2} s", us as f64 / 1e6)
    }
}

/// The vertical space for a gap of `us` between two arrows, and whether it is a break.
pub fn space(us: u64) -> (f64, bool) {
    if us >= LONG {
        (BREAK, true)
    } else {
        // 1 µs and less: one row; up to LONG: up to a row and a half more.
        let grow = ((us.max(1) as f64).log10() / (LONG as f64).log10()).clamp(0.0, 1.0);
        (ROW + grow * ROW * 0.5, false)
    }
}

/// The endpoint's port, for the lifeline's head (`127.0.0.1:42401` is `:42401`).
fn port(addr: &str) -> &str {
    addr.rfind(':').map_or(addr, |i| &addr[i..])
}

/// Each shown arrow's y, the compressed gaps (their middle's y and length) and the
/// height of the drawing.
type Layout = (Vec<f64>, Vec<(f64, u64)>, f64);

fn layout(shown: &[(usize, &Packet)]) -> Layout {
    let mut ys = Vec::with_capacity(shown.len());
    let mut breaks = Vec::new();
    let mut y = 58.0;
    for (n, (_, p)) in shown.iter().enumerate() {
        if n > 0 {
            let gap = p.at_us.saturating_sub(shown[n - 1].1.at_us);
            let (dy, long) = space(gap);
            if long {
                breaks.push((y + SLOPE + (dy - SLOPE) / 2.0, gap));
            }
            y += dy;
        }
        ys.push(y);
    }
    (ys, breaks, y + SLOPE + 14.0)
}

/// The height of `c`'s ladder in the SVG's units (its width is [`WIDTH`]).
pub fn height(c: &Connection) -> f64 {
    layout(&c.shown().collect::<Vec<_>>()).2
}

/// Shows only the latest packets of `c` that fit in `height` (at least the last one):
/// a ladder growing packet by packet in Run live keeps the room its captured ladder
/// had on the slide, its oldest arrows leaving at the top.
pub fn keep_latest_within(c: &mut Connection, height: f64) {
    let Some(last) = c.packets.len().checked_sub(1) else {
        return;
    };
    let mut first = c.show.map_or(0, |[a, _]| a).min(last);
    c.show = Some([first, last]);
    while first < last && self::height(c) > height {
        first += 1;
        c.show = Some([first, last]);
    }
}

/// The ladder of `c` as an inline `<svg>`, on one line: what the deck draws at build
/// time and the player draws again for a live run.
pub fn svg(c: &Connection) -> String {
    let shown: Vec<(usize, &Packet)> = c.shown().collect();
    let (ys, breaks, height) = layout(&shown);
    let alt = format!(
        "{} packets between client and server: {}",
        shown.len(),
        shown
            .iter()
            .map(|(_, p)| format!("{} {}", if p.from_client { "→" } else { "←" }, p.label()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         style=\"max-width:100%;height:auto\" role=\"img\" aria-label=\"{}\" \
         font-size=\"{FONT}\" fill=\"currentColor\" stroke-linecap=\"round\">",
        crate::escape::html(&alt)
    );
    for (x, who, addr) in [(LEFT, "client", &c.client), (RIGHT, "server", &c.server)] {
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">{who} {}</text>",
            crate::escape::html(port(addr))
        );
    }
    // The lifelines, interrupted at each compressed gap.
    let mut top = 34.0;
    for &(mid, _) in &breaks {
        for x in [LEFT, RIGHT] {
            let _ = write!(
                svg,
                "<line x1=\"{x}\" y1=\"{top:.1}\" x2=\"{x}\" y2=\"{:.1}\" stroke=\"currentColor\" stroke-width=\"2\"/>\
                 <path d=\"M{:.1} {:.1}l16 -5M{:.1} {:.1}l16 -5\" stroke=\"currentColor\" stroke-width=\"2\"/>",
                mid - 6.0,
                x - 8.0,
                mid - 3.0,
                x - 8.0,
                mid + 5.0,
            );
        }
        top = mid + 6.0;
    }
    for x in [LEFT, RIGHT] {
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"{top:.1}\" x2=\"{x}\" y2=\"{:.1}\" stroke=\"currentColor\" stroke-width=\"2\"/>",
            height - 4.0
        );
    }
    for &(mid, gap) in &breaks {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-style=\"italic\">+{}</text>",
            LEFT - 16.0,
            mid + 7.0,
            crate::escape::html(&duration(gap))
        );
    }
    let first_us = shown.first().map_or(0, |(_, p)| p.at_us);
    for ((i, p), &y) in shown.iter().zip(&ys) {
        let key = c.key == Some(*i);
        // When the packet left, in ms after the first arrow: a replay shows the arrow then.
        let at_ms = p.at_us.saturating_sub(first_us) as f64 / 1e3;
        let (x1, x2) = if p.from_client {
            (LEFT, RIGHT)
        } else {
            (RIGHT, LEFT)
        };
        let dir = if p.from_client { -1.0 } else { 1.0 };
        let (y2, tip) = (y + SLOPE, x2 + dir * 2.0);
        let colour = if key {
            format!("var({}, #d9480f)", page::property::ACCENT)
        } else {
            "currentColor".to_string()
        };
        let width = if key { 4 } else { 2 };
        let _ = write!(
            svg,
            "<g class=\"{cls}\" {at_attr}=\"{at_ms:.3}\"><line x1=\"{x1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y2:.1}\" style=\"stroke:{colour}\" stroke-width=\"{width}\"/>\
             <path d=\"M{tip:.1} {y2:.1}l{:.1} -6l0 12z\" style=\"fill:{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\"{bold}>{}</text></g>",
            x2 + dir * 12.0,
            dir * 14.0,
            (LEFT + RIGHT) / 2.0,
            y - 6.0,
            crate::escape::html(&p.label()),
            cls = if key {
                format!("{} {}", page::class::ARROW, page::class::KEY)
            } else {
                page::class::ARROW.to_string()
            },
            at_attr = page::attr::AT_MS,
            bold = if key { " font-weight=\"bold\"" } else { "" },
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Packet;

    fn connection(n: u64) -> Connection {
        Connection {
            name: "c".into(),
            client: "127.0.0.1:1".into(),
            server: "127.0.0.1:2".into(),
            start_unix_us: 1,
            packets: (0..n)
                .map(|i| Packet::tcp(i * 3_000, i % 2 == 0, &["ACK"], 10))
                .collect(),
            key: None,
            show: None,
            flow: Some(0),
        }
    }

    #[test]
    fn a_growing_live_ladder_keeps_its_latest_packets_within_the_height_given() {
        let room = height(&connection(4));
        let mut c = connection(1);
        keep_latest_within(&mut c, room);
        assert_eq!(c.show, Some([0, 0]));
        let mut c = connection(9);
        keep_latest_within(&mut c, room);
        assert_eq!(c.show, Some([5, 8]), "the last four fit, as four did");
        assert!(height(&c) <= room);
        assert_eq!(svg(&c).matches("class=\"arrow\"").count(), 4);
        // Too little room for even two: the last one stays.
        keep_latest_within(&mut c, 1.0);
        assert_eq!(c.show, Some([8, 8]));
    }
}
