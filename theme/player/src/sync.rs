//! The main window and the speaker window keep each other on the same slide through a
//! BroadcastChannel: whichever moves posts where it is, the other follows (changing
//! chapter when the path differs). Same origin only, no server involved.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::dom;
use crate::slides::Deck;

const CHANNEL: &str = "deck-sync";

/// Where a window is: the page's path, the 1-based slide, the blackout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub path: String,
    pub slide: usize,
    pub black: bool,
}

impl Position {
    pub fn to_json(&self) -> String {
        serde_json::json!({ "path": self.path, "slide": self.slide, "black": self.black })
            .to_string()
    }

    pub fn from_json(text: &str) -> Option<Position> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        Some(Position {
            path: v.get("path")?.as_str()?.to_string(),
            slide: usize::try_from(v.get("slide")?.as_u64()?).ok()?,
            black: v.get("black")?.as_bool()?,
        })
    }
}

pub struct Link {
    channel: BroadcastChannel,
}

impl Link {
    /// Joins the channel; `None` where the browser has no BroadcastChannel.
    pub fn open(deck: &Rc<Deck>) -> Result<Option<Link>, JsValue> {
        let Ok(channel) = BroadcastChannel::new(CHANNEL) else {
            return Ok(None);
        };
        let deck = Rc::clone(deck);
        dom::listen(&channel, "message", false, move |event: MessageEvent| {
            let Some(position) = event
                .data()
                .as_string()
                .as_deref()
                .and_then(Position::from_json)
            else {
                return;
            };
            if let Err(e) = deck.follow(&position.path, position.slide, position.black) {
                dom::report(&e);
            }
        })?;
        Ok(Some(Link { channel }))
    }

    pub fn post(&self, slide: usize, black: bool) -> Result<(), JsValue> {
        let position = Position {
            path: dom::window()?.location().pathname()?,
            slide,
            black,
        };
        self.channel
            .post_message(&JsValue::from_str(&position.to_json()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip() {
        let p = Position {
            path: "/talk/one.html".into(),
            slide: 3,
            black: true,
        };
        assert_eq!(Position::from_json(&p.to_json()), Some(p));
        assert_eq!(Position::from_json("{\"path\":1}"), None);
        assert_eq!(Position::from_json("nonsense"), None);
    }
}
