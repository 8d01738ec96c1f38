//! `{{#ladder DEMO [CONNECTION]}}`: the packets a demo captured on the wire, drawn as a
//! sequence ("ladder") diagram at build time, as inline SVG.
//!
//! Two lifelines, the client's on the left and the server's on the right; one arrow a
//! packet, labelled in words (`SYN`, `SYN, ACK`, `10 bytes`, `FIN`, `RST`). Time runs
//! down: the space between two arrows grows with the real time between the packets
//! (logarithmically, from one text line for packets microseconds apart), and a gap of
//! [`LONG`] or more is compressed to a fixed break in both lifelines, marked with its
//! duration ("+40.1 ms"). On loopback a packet arrives as it leaves (the capture has
//! one timestamp a packet), so every arrow has the same small slope, pointing the way
//! the packet went. The packet the demo's claim rests on (the connection's `key`) is
//! drawn in the deck's accent colour and its label in bold.
//!
//! Colours and fonts come from the page (`currentColor`, the CSS variable
//! `--deck-accent`, the inherited font), so both themes work. The caption names the
//! demo, the capture date and kernel, and links the run's `.pcap` (written beside the
//! book by `cargo xtask build`) for Wireshark.

use std::fmt::Write;

use contract::Transcript;
use contract::wire::{Connection, Packet};

use crate::figure::escape;

const WIDTH: f64 = 640.0;
/// The lifelines' x.
const LEFT: f64 = 165.0;
const RIGHT: f64 = 525.0;
/// Text size in the SVG's units: the chart's scale rules apply (`figure.chart`).
const FONT: f64 = 20.0;
/// The least space between two arrows: one line of label.
const ROW: f64 = 30.0;
/// The drop of every arrow from its sender to its receiver.
const SLOPE: f64 = 8.0;
/// Gaps this long (µs) and longer are compressed and marked with their duration.
pub const LONG: u64 = 2_000;
/// The height of a compressed gap.
const BREAK: f64 = 52.0;

/// The connection `name` of the demo's captured wire, or the only one when no name is
/// given; otherwise says which connections there are.
pub fn select<'t>(t: &'t Transcript, name: Option<&str>) -> Result<&'t Connection, String> {
    let names = || {
        t.wire
            .iter()
            .map(|c| format!("`{}`", c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if t.wire.is_empty() {
        return Err(format!(
            "demo `{}` has no packets in its transcript (its demo opens no wire capture, or \
             it was captured without CAP_NET_RAW: recapture with `cargo xtask capture {}` as root)",
            t.demo, t.demo
        ));
    }
    match name {
        Some(name) => t.wire.iter().find(|c| c.name == name).ok_or_else(|| {
            format!(
                "demo `{}` captured no connection `{name}` (it has: {})",
                t.demo,
                names()
            )
        }),
        None if t.wire.len() == 1 => Ok(&t.wire[0]),
        None => Err(format!(
            "demo `{}` captured several connections; name one: `{{{{#ladder {} NAME}}}}` with NAME one of {}",
            t.demo,
            t.demo,
            names()
        )),
    }
}

/// A duration in µs as a slide prints it.
fn duration(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1e3)
    } else {
        format!("{:.2} s", us as f64 / 1e6)
    }
}

/// The vertical space for a gap of `us` between two arrows, and whether it is a break.
fn space(us: u64) -> (f64, bool) {
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

/// The ladder of `c` (from `t`) as a `<figure class="chart ladder">`, on one line.
pub fn render(t: &Transcript, c: &Connection) -> String {
    let shown: Vec<(usize, &Packet)> = c.shown().collect();
    let mut ys = Vec::with_capacity(shown.len());
    let mut breaks = Vec::new();
    let mut y = 58.0;
    for (n, (_, p)) in shown.iter().enumerate() {
        if n > 0 {
            let gap = p.at_us - shown[n - 1].1.at_us;
            let (dy, long) = space(gap);
            if long {
                breaks.push((y + SLOPE + (dy - SLOPE) / 2.0, gap));
            }
            y += dy;
        }
        ys.push(y);
    }
    let height = y + SLOPE + 14.0;
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
        escape(&alt)
    );
    for (x, who, addr) in [(LEFT, "client", &c.client), (RIGHT, "server", &c.server)] {
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"24\" text-anchor=\"middle\" font-weight=\"bold\">{who} {}</text>",
            escape(port(addr))
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
            escape(&duration(gap))
        );
    }
    let first_us = shown.first().map_or(0, |(_, p)| p.at_us);
    for ((i, p), &y) in shown.iter().zip(&ys) {
        let key = c.key == Some(*i);
        // When the packet left, in ms after the first arrow: a replay shows the arrow then.
        let at_ms = (p.at_us - first_us) as f64 / 1e3;
        let (x1, x2) = if p.from_client {
            (LEFT, RIGHT)
        } else {
            (RIGHT, LEFT)
        };
        let dir = if p.from_client { -1.0 } else { 1.0 };
        let (y2, tip) = (y + SLOPE, x2 + dir * 2.0);
        let colour = if key {
            "var(--deck-accent, #d9480f)"
        } else {
            "currentColor"
        };
        let width = if key { 4 } else { 2 };
        let _ = write!(
            svg,
            "<g class=\"{cls}\" data-at-ms=\"{at_ms:.3}\"><line x1=\"{x1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y2:.1}\" style=\"stroke:{colour}\" stroke-width=\"{width}\"/>\
             <path d=\"M{tip:.1} {y2:.1}l{:.1} -6l0 12z\" style=\"fill:{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\"{bold}>{}</text></g>",
            x2 + dir * 12.0,
            dir * 14.0,
            (LEFT + RIGHT) / 2.0,
            y - 6.0,
            escape(&p.label()),
            cls = if key { "arrow key" } else { "arrow" },
            bold = if key { " font-weight=\"bold\"" } else { "" },
        );
    }
    svg.push_str("</svg>");
    let date = t.captured_at.split('T').next().unwrap_or(&t.captured_at);
    let part = match c.show {
        Some([a, b]) => format!(", packets {}–{} of {}", a + 1, b + 1, c.packets.len()),
        None => String::new(),
    };
    format!(
        // tabindex: on a phone the ladder keeps a readable size and scrolls sideways,
        // and a region that scrolls must be reachable from the keyboard.
        "<figure class=\"chart ladder\" tabindex=\"0\" data-demo=\"{name}\" data-connection=\"{conn}\">{svg}\
         <figcaption>the wire of <code>cargo xtask demo {name}</code> ({conn}{part}) on {date}, \
         Linux {kernel}: <a href=\"pcap/{name}.pcap\" download>{name}.pcap</a></figcaption></figure>",
        name = escape(&t.demo),
        conn = escape(&c.name),
        date = escape(date),
        kernel = escape(&t.kernel),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::wire::Packet;

    fn packet(at_us: u64, from_client: bool, flags: &[&str], len: u32) -> Packet {
        Packet {
            at_us,
            from_client,
            proto: "tcp".into(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            seq: 0,
            ack: 0,
            len,
            win: 0,
            mss: None,
            wscale: None,
            sack_ok: false,
            sack: vec![],
            frame: String::new(),
            frame_len: 54,
        }
    }

    fn sample() -> Transcript {
        let json = r#"{"format":2,"demo":"nagle","claim":"c","chunks":[],
            "outcome":{"status":"passed","code":0,"signal":null},"duration_ms":1,
            "kernel":"6.18.0","captured_at":"2026-12-07T04:00:00Z"}"#;
        let mut t: Transcript = serde_json::from_str(json).unwrap();
        t.wire = vec![Connection {
            name: "defaults".into(),
            client: "127.0.0.1:40000".into(),
            server: "127.0.0.1:8080".into(),
            start_unix_us: 1,
            packets: vec![
                packet(0, true, &["SYN"], 0),
                packet(20, false, &["SYN", "ACK"], 0),
                packet(40, true, &["ACK"], 0),
                packet(60, true, &["ACK", "PSH"], 10),
                packet(41_000, false, &["ACK"], 0),
                packet(41_050, true, &["ACK", "PSH"], 10),
            ],
            key: Some(4),
            show: Some([3, 5]),
        }];
        t
    }

    #[test]
    fn a_ladder_draws_the_shown_packets_in_words_with_the_key_highlighted() {
        let t = sample();
        let html = render(&t, select(&t, None).unwrap());
        assert_eq!(html.matches("<g").count(), 3, "packets 4 to 6 only: {html}");
        assert!(html.contains(">10 bytes</text>"), "{html}");
        assert!(!html.contains(">SYN</text>"), "not shown: {html}");
        assert_eq!(html.matches("class=\"arrow key\"").count(), 1);
        let key = &html[html.find("class=\"arrow key\"").unwrap()..];
        assert!(
            key[..key.find("</g>").unwrap()].contains(">ACK</text>"),
            "{key}"
        );
        assert!(
            html.contains("--deck-accent"),
            "the key is in the deck's accent"
        );
        assert!(html.contains("href=\"pcap/nagle.pcap\""), "{html}");
        assert!(html.contains("packets 4–6 of 6"), "{html}");
        assert!(!html.contains('\n'), "one line, so Markdown keeps it whole");
    }

    #[test]
    fn a_long_gap_is_compressed_and_marked_with_its_duration() {
        let t = sample();
        let html = render(&t, &t.wire[0]);
        assert_eq!(html.matches("font-style=\"italic\"").count(), 1, "{html}");
        assert!(html.contains(">+40.9 ms</text>"), "{html}");
        // 41 ms drawn no taller than a break: the diagram stays on the slide.
        let (short, _) = space(50);
        let (long, marked) = space(41_000);
        assert!(marked && long < 2.0 * ROW && short >= ROW);
        assert!(!space(1_999).1 && space(LONG).1);
    }

    /// A replay shows each arrow when its packet left: the times are the capture's,
    /// after the first arrow drawn (packets 4 to 6: 0, 40.94 and 40.99 ms).
    #[test]
    fn each_arrow_carries_the_time_its_packet_left() {
        let t = sample();
        let html = render(&t, &t.wire[0]);
        let times: Vec<&str> = html
            .split("data-at-ms=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .collect();
        assert_eq!(times, ["0.000", "40.940", "40.990"], "{html}");
    }

    #[test]
    fn arrows_point_the_way_the_packet_went() {
        let t = sample();
        let html = render(&t, &t.wire[0]);
        // Packet 4 goes client (left) to server (right): its line starts on the left.
        let first = &html[html.find("<g").unwrap()..];
        assert!(
            first.starts_with("<g class=\"arrow\" data-at-ms=\"0.000\"><line x1=\"")
                && first.contains(&format!("<line x1=\"{LEFT}\"")),
            "{first}"
        );
        let ack = &html[html.find("class=\"arrow key\"").unwrap()..];
        assert!(ack.contains(&format!("x1=\"{RIGHT}\"")), "{ack}");
    }

    /// Each of the six wire demos' committed transcripts has packets, and each of its
    /// connections draws, with the packet its check rests on highlighted.
    #[test]
    fn every_wire_demo_draws_a_ladder_from_its_captured_run() {
        let demos = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demos");
        for demo in [
            "nagle-delayed-ack",
            "close-sends-rst",
            "half-close",
            "connect-timeout",
            "accept-queue-overflow",
            "socket-outlives-process",
        ] {
            let text =
                std::fs::read_to_string(contract::catalog::transcript_path(&demos, demo)).unwrap();
            let t: Transcript = serde_json::from_str(&text).unwrap();
            assert_eq!(t.validate(), Ok(()), "{demo}");
            assert!(!t.wire.is_empty(), "{demo}: no packets; recapture as root");
            for c in &t.wire {
                let html = render(&t, select(&t, Some(&c.name)).unwrap());
                assert!(
                    html.contains("class=\"arrow key\""),
                    "{demo} {}: no key packet",
                    c.name
                );
                assert!(html.matches("<g").count() >= 2, "{demo} {}", c.name);
            }
        }
    }

    #[test]
    fn select_names_the_connections_there_are() {
        let mut t = sample();
        assert!(select(&t, Some("defaults")).is_ok());
        let e = select(&t, Some("nodelay")).unwrap_err();
        assert!(
            e.contains("no connection `nodelay`") && e.contains("`defaults`"),
            "{e}"
        );
        t.wire.push(t.wire[0].clone());
        assert!(select(&t, None).unwrap_err().contains("name one"));
        t.wire.clear();
        assert!(select(&t, None).unwrap_err().contains("CAP_NET_RAW"));
    }
}
