//! `{{#ladder DEMO [CONNECTION]}}`: the packets a demo captured on the wire, drawn as a
//! sequence ("ladder") diagram at build time, as inline SVG ([`contract::ladder`] draws
//! it, the same renderer the player uses for a Run live). The caption names the
//! demo, the capture date and kernel, and links the run's `.pcap` (written beside the
//! book by `cargo xtask build`) for Wireshark.

use contract::Transcript;
use contract::ladder;
use contract::page::{self, class};
use contract::wire::Connection;

use crate::figure::escape;

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

/// The ladder of `c` (from `t`) as a `<figure class="chart ladder">`, on one line.
pub fn render(t: &Transcript, c: &Connection) -> String {
    let svg = ladder::svg(c);
    let date = t.captured_at.split('T').next().unwrap_or(&t.captured_at);
    let part = match c.show {
        Some([a, b]) => format!(", packets {}–{} of {}", a + 1, b + 1, c.packets.len()),
        None => String::new(),
    };
    format!(
        // tabindex: on a phone the ladder keeps a readable size and scrolls sideways,
        // and a region that scrolls must be reachable from the keyboard.
        "<figure class=\"{chart} {ladder}\" tabindex=\"0\" {demo_attr}=\"{name}\" {conn_attr}=\"{conn}\"{flow}>{svg}\
         <figcaption>the wire of <code>cargo xtask demo {name}</code> ({conn}{part})<span class=\"{run_on}\"> on {date}, \
         Linux {kernel}</span>: <a href=\"pcap/{name}.pcap\" download>{name}.pcap</a></figcaption></figure>",
        chart = class::CHART,
        ladder = class::LADDER,
        run_on = class::LADDER_RUN_ON,
        demo_attr = page::attr::DEMO,
        conn_attr = page::attr::CONNECTION,
        name = escape(&t.demo),
        conn = escape(&c.name),
        date = escape(date),
        kernel = escape(&t.kernel),
        // Run live streams the packets of this flow into the ladder as they are seen.
        flow = c
            .flow
            .map(|n| format!(" {}=\"{n}\"", page::attr::FLOW))
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::ladder::{LEFT, LONG, RIGHT, ROW, space};
    use contract::wire::Packet;

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
                Packet::tcp(0, true, &["SYN"], 0),
                Packet::tcp(20, false, &["SYN", "ACK"], 0),
                Packet::tcp(40, true, &["ACK"], 0),
                Packet::tcp(60, true, &["ACK", "PSH"], 10),
                Packet::tcp(41_000, false, &["ACK"], 0),
                Packet::tcp(41_050, true, &["ACK", "PSH"], 10),
            ],
            key: Some(4),
            show: Some([3, 5]),
            flow: Some(1),
        }];
        t
    }

    #[test]
    fn a_ladder_draws_the_shown_packets_in_words_with_the_key_highlighted() {
        let t = sample();
        let html = render(&t, select(&t, None).unwrap());
        assert_eq!(html.matches("<g").count(), 3, "packets 4 to 6 only: {html}");
        assert!(html.contains(" data-flow=\"1\">"), "{html}");
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
