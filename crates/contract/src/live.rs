//! The Run-live protocol between the presenter's server (`cargo xtask present`) and
//! the deck's player in the browser: one definition, used by both ends.
//!
//! - `GET STATUS_PATH` answers [`ServerStatus`] as JSON.
//! - `POST RUN_PATH NAME` answers server-sent events, each a [`LiveEvent`]: `chunk`
//!   events (a transcript [`Chunk`]), `packet` events (a [`LivePacket`], each packet the
//!   demo's capture read, the moment it read it) and `wire` events (a [`Connection`] the
//!   demo read off its packet capture, as soon as it recorded it), then one `exit`
//!   ([`LiveExit`]).
//! - `POST SAVE_PATH NAME` stores the last live run as the demo's transcript.

use serde::{Deserialize, Serialize};

use crate::wire::{Connection, LivePacket};
use crate::{Chunk, Outcome};

/// Paths, relative to the book's root.
pub const STATUS_PATH: &str = "__deck/status";
pub const EVENTS_PATH: &str = "__deck/events";
pub const RUN_PATH: &str = "__deck/run/";
pub const SAVE_PATH: &str = "__deck/save/";

/// The server-sent events of `EVENTS_PATH`: the book was rebuilt (reload the page), or
/// its rebuild failed (the data is the error).
pub const RELOAD_EVENT: &str = "reload";
pub const BUILD_FAILED_EVENT: &str = "build-failed";

/// The server-sent events of a live run (`RUN_PATH`): see [`LiveEvent`].
pub const CHUNK_EVENT: &str = "chunk";
pub const EXIT_EVENT: &str = "exit";
/// The packets of one connection a running demo captured and recorded (its key packet
/// and the part a ladder shows).
pub const WIRE_EVENT: &str = "wire";
/// One packet a running demo's capture has just read (Run live adds its arrow).
pub const PACKET_EVENT: &str = "packet";

/// Every event name of the protocol, for the tidy test.
pub const EVENTS: &[&str] = &[
    RELOAD_EVENT,
    BUILD_FAILED_EVENT,
    CHUNK_EVENT,
    PACKET_EVENT,
    WIRE_EVENT,
    EXIT_EVENT,
];

/// What `GET __deck/status` tells a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerStatus {
    /// Always true: the page is served by `present`, not by a static host.
    pub present: bool,
    /// The demos that can run live.
    pub live: Vec<String>,
    /// The demos are still being compiled; a run asked for now is refused with 503.
    #[serde(default)]
    pub building: bool,
}

/// The end of a live run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LiveExit {
    pub outcome: Outcome,
    pub duration_ms: u64,
    /// The demo printed more than the server's output cap and was stopped there.
    #[serde(default)]
    pub truncated: bool,
}

/// One server-sent event of a live run.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveEvent {
    Chunk(Chunk),
    /// One packet, as the capture read it.
    Packet(Box<LivePacket>),
    /// One connection's packets, with their capture times (for the ladder).
    Wire(Box<Connection>),
    Exit(LiveExit),
}

impl LiveEvent {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::Chunk(_) => CHUNK_EVENT,
            LiveEvent::Packet(_) => PACKET_EVENT,
            LiveEvent::Wire(_) => WIRE_EVENT,
            LiveEvent::Exit(_) => EXIT_EVENT,
        }
    }

    /// The SSE `data:` payload (one line of JSON).
    pub fn data(&self) -> String {
        let json = match self {
            LiveEvent::Chunk(c) => serde_json::to_string(c),
            LiveEvent::Packet(p) => serde_json::to_string(p),
            LiveEvent::Wire(c) => serde_json::to_string(c),
            LiveEvent::Exit(e) => serde_json::to_string(e),
        };
        json.unwrap_or_default()
    }

    /// Reads one event from its SSE name and data; `Ok(None)` for events this protocol
    /// does not define (keep-alives, comments), which a client skips.
    pub fn from_sse(name: &str, data: &str) -> Result<Option<LiveEvent>, String> {
        let event = match name {
            CHUNK_EVENT => LiveEvent::Chunk(serde_json::from_str(data).map_err(|e| e.to_string())?),
            PACKET_EVENT => {
                LiveEvent::Packet(serde_json::from_str(data).map_err(|e| e.to_string())?)
            }
            WIRE_EVENT => LiveEvent::Wire(serde_json::from_str(data).map_err(|e| e.to_string())?),
            EXIT_EVENT => LiveEvent::Exit(serde_json::from_str(data).map_err(|e| e.to_string())?),
            _ => return Ok(None),
        };
        Ok(Some(event))
    }
}

/// The `event:` name and the joined `data:` lines of one server-sent event block.
pub fn parse_sse(block: &str) -> (String, String) {
    let mut event = String::from("message");
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            event = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    (event, data.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Status, Stream};

    #[test]
    fn events_round_trip_through_their_sse_form() {
        let events = [
            LiveEvent::Chunk(Chunk {
                at_ms: 3,
                stream: Stream::Stderr,
                text: "a\nb\u{1b}[31m".into(),
            }),
            LiveEvent::Wire(Box::new(crate::wire::Connection {
                name: "unread".into(),
                client: "127.0.0.1:40000".into(),
                server: "127.0.0.1:8080".into(),
                start_unix_us: 1,
                packets: vec![crate::wire::Packet::tcp(0, true, &["SYN"], 0)],
                key: Some(0),
                show: None,
                flow: Some(2),
            })),
            LiveEvent::Packet(Box::new(LivePacket {
                flow: 2,
                client: "127.0.0.1:40000".into(),
                server: "127.0.0.1:8080".into(),
                start_unix_us: 1,
                packet: crate::wire::Packet::tcp(7, false, &["SYN", "ACK"], 0),
            })),
            LiveEvent::Exit(LiveExit {
                outcome: Outcome {
                    status: Status::TimedOut,
                    code: None,
                    signal: Some(9),
                },
                duration_ms: 20_000,
                truncated: true,
            }),
        ];
        for e in events {
            let block = format!("event: {}\ndata: {}\n\n", e.name(), e.data());
            let (name, data) = parse_sse(&block);
            assert_eq!(LiveEvent::from_sse(&name, &data), Ok(Some(e)));
        }
    }

    #[test]
    fn keep_alives_and_unknown_events_are_skipped_and_bad_data_is_an_error() {
        let (name, data) = parse_sse(": keep-alive\n\n");
        assert_eq!(LiveEvent::from_sse(&name, &data), Ok(None));
        assert!(LiveEvent::from_sse("chunk", "{").is_err());
        assert_eq!(
            parse_sse("data: x\ndata: y\n\n"),
            ("message".to_string(), "x\ny".to_string())
        );
    }

    #[test]
    fn an_old_status_without_building_still_reads() {
        let s: ServerStatus = serde_json::from_str(r#"{"present":true,"live":["a"]}"#).unwrap();
        assert!(!s.building && s.live == ["a"]);
    }
}
