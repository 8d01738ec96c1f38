//! The main window and the speaker window keep each other on the same slide through a
//! BroadcastChannel: whichever moves posts where it is, the other follows (changing
//! chapter when the path differs). A replay started in one window plays in the other
//! too, so the presenter can start a demo from the speaker window, and so does a live
//! run (Run live): the window that runs it shares the figure as it fills, and each of
//! the demo's ladders as its packets come (`crate::ladder::Live`). Same origin
//! only, no server involved.

use contract::page::{self, attr};
use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::slides::Deck;
use crate::{dom, focus, replay};

const CHANNEL: &str = page::store::CHANNEL;

/// What one window tells the other, posted as JSON (`{"kind": "position", ...}`): one
/// definition for both ends, written and read back by serde.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Message {
    /// Where a window is: the page's path, the 1-based slide, the steps shown, the
    /// blackout.
    Position {
        path: String,
        slide: usize,
        step: usize,
        black: bool,
    },
    /// A demo's replay was started at this speed (0: at once).
    Replay {
        path: String,
        demo: String,
        speed: f64,
    },
    /// A demo's terminal shows all its lines (`expanded`) or its focus lines only.
    Expand {
        path: String,
        demo: String,
        expanded: bool,
    },
    /// A live run's figure as it stands: the terminal's and the caption's HTML and the
    /// figure's `data-state`.
    Figure {
        path: String,
        demo: String,
        screen: String,
        meta: String,
        state: String,
    },
    /// A live run's ladder as it stands: its SVG and `data-live`, and the speed of a
    /// replay of its arrows to start there (the demo's recorded connection).
    Ladder {
        path: String,
        demo: String,
        connection: String,
        svg: String,
        live: String,
        replay: Option<f64>,
    },
}

impl Message {
    pub fn to_json(&self) -> String {
        // A derived Serialize of strings, numbers and booleans cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The message, or `None` for anything else posted on the channel.
    pub fn from_json(text: &str) -> Option<Message> {
        serde_json::from_str(text).ok()
    }
}

thread_local! {
    /// The page's end of the channel, once the slide or speaker view opened it.
    static CURRENT: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
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
            let message = event.data().as_string();
            let Some(message) = message.as_deref().and_then(Message::from_json) else {
                return;
            };
            let result = match message {
                Message::Position {
                    path,
                    slide,
                    step,
                    black,
                } => deck.follow(&path, slide, step, black),
                Message::Figure {
                    path,
                    demo,
                    screen,
                    meta,
                    state,
                } => here(&path).and_then(|here| {
                    if here {
                        show_figure(&demo, &screen, &meta, &state)
                    } else {
                        Ok(())
                    }
                }),
                Message::Ladder {
                    path,
                    demo,
                    connection,
                    svg,
                    live,
                    replay,
                } => here(&path).and_then(|here| {
                    if here {
                        crate::ladder::show_shared(&demo, &connection, &svg, &live, replay)
                    } else {
                        Ok(())
                    }
                }),
                Message::Replay { path, demo, speed } => here(&path).and_then(|here| {
                    if here {
                        replay::replay_demo(&demo, speed)
                    } else {
                        Ok(())
                    }
                }),
                Message::Expand {
                    path,
                    demo,
                    expanded,
                } => here(&path).and_then(|here| {
                    if here {
                        focus::show_all(&demo, expanded)
                    } else {
                        Ok(())
                    }
                }),
            };
            if let Err(e) = result {
                dom::report(&e);
            }
        })?;
        CURRENT.with(|c| *c.borrow_mut() = Some(channel.clone()));
        Ok(Some(Link { channel }))
    }

    pub fn post(&self, slide: usize, step: usize, black: bool) -> Result<(), JsValue> {
        let message = Message::Position {
            path: dom::window()?.location().pathname()?,
            slide,
            step,
            black,
        };
        self.channel
            .post_message(&JsValue::from_str(&message.to_json()))
    }
}

/// Sends `message` to the other window, if this page joined the channel (outside the
/// slide and speaker views it has not, and nothing is sent).
fn broadcast(message: &Message) -> Result<(), JsValue> {
    CURRENT.with(|c| match c.borrow().as_ref() {
        Some(channel) => channel.post_message(&JsValue::from_str(&message.to_json())),
        None => Ok(()),
    })
}

/// Tells the other window that this one started replaying `demo` (nothing happens
/// outside the slide and speaker views).
pub fn announce_replay(demo: &str, speed: f64) -> Result<(), JsValue> {
    let message = Message::Replay {
        path: dom::window()?.location().pathname()?,
        demo: demo.to_string(),
        speed,
    };
    broadcast(&message)
}

/// Tells the other window that a demo's terminal now shows all its lines, or only its
/// focus lines again (E, or a click, in either window).
pub fn announce_expand(demo: &str, expanded: bool) -> Result<(), JsValue> {
    let message = Message::Expand {
        path: dom::window()?.location().pathname()?,
        demo: demo.to_string(),
        expanded,
    };
    broadcast(&message)
}

/// Tells the other window how a live run's figure looks now (called by `live` as the
/// run's output arrives), so a run started in either window plays in both.
pub fn share_figure(figure: &web_sys::Element) -> Result<(), JsValue> {
    let Some(demo) = figure.get_attribute(attr::DEMO) else {
        return Ok(());
    };
    let html = |selector: &str| -> Result<String, JsValue> {
        Ok(figure
            .query_selector(selector)?
            .map(|el| el.inner_html())
            .unwrap_or_default())
    };
    let message = Message::Figure {
        path: dom::window()?.location().pathname()?,
        demo,
        screen: html(&format!("{} samp", page::select::TERMINAL))?,
        meta: html(&format!(".{}", page::class::DEMO_META))?,
        state: figure.get_attribute(attr::STATE).unwrap_or_default(),
    };
    broadcast(&message)
}

/// Tells the other window how a live run's ladder looks now (called by
/// [`crate::ladder::Live`] as its packets arrive), with the speed of a replay to start.
pub fn share_ladder(
    demo: String,
    connection: String,
    svg: String,
    live: String,
    replay: Option<f64>,
) -> Result<(), JsValue> {
    broadcast(&Message::Ladder {
        path: dom::window()?.location().pathname()?,
        demo,
        connection,
        svg,
        live,
        replay,
    })
}

/// Shows what the other window's live run shows, in this page's figure of that demo.
fn show_figure(demo: &str, screen: &str, meta: &str, state: &str) -> Result<(), JsValue> {
    let document = dom::document()?;
    let figures =
        document.query_selector_all(&format!("{}[{}]", page::select::DEMO, attr::DEMO))?;
    for i in 0..figures.length() {
        let Some(figure) = figures
            .item(i)
            .and_then(|n| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(n).ok())
        else {
            continue;
        };
        if figure.get_attribute(attr::DEMO).as_deref() != Some(demo) {
            continue;
        }
        if let Some(samp) = figure.query_selector(&format!("{} samp", page::select::TERMINAL))? {
            samp.set_inner_html(screen);
        }
        if let Some(el) = figure.query_selector(&format!(".{}", page::class::DEMO_META))? {
            el.set_inner_html(meta);
        }
        figure.set_attribute(attr::STATE, state)?;
    }
    Ok(())
}

fn here(path: &str) -> Result<bool, JsValue> {
    Ok(dom::window()?.location().pathname()? == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        for m in [
            Message::Position {
                path: "/talk/one.html".into(),
                slide: 3,
                step: 2,
                black: true,
            },
            Message::Figure {
                path: "/talk/one.html".into(),
                demo: "peek".into(),
                screen: "<span>out</span>".into(),
                meta: "live run".into(),
                state: "live".into(),
            },
            Message::Replay {
                path: "/talk/one.html".into(),
                demo: "peek".into(),
                speed: 2.0,
            },
            Message::Expand {
                path: "/talk/one.html".into(),
                demo: "peek".into(),
                expanded: true,
            },
            Message::Ladder {
                path: "/talk/one.html".into(),
                demo: "close-sends-rst".into(),
                connection: "unread".into(),
                svg: "<svg></svg>".into(),
                live: "streaming".into(),
                replay: None,
            },
            Message::Ladder {
                path: "/talk/one.html".into(),
                demo: "close-sends-rst".into(),
                connection: "unread".into(),
                svg: "<svg></svg>".into(),
                live: "drawn".into(),
                replay: Some(1.0),
            },
        ] {
            assert_eq!(Message::from_json(&m.to_json()), Some(m));
        }
        assert_eq!(Message::from_json("{\"path\":1}"), None);
        assert_eq!(
            Message::from_json("{\"kind\":\"replay\",\"path\":\"/a\",\"demo\":\"x\"}"),
            None,
            "a replay without its speed"
        );
        assert_eq!(
            Message::from_json(
                "{\"kind\":\"position\",\"path\":\"/a\",\"slide\":1,\"step\":0,\"black\":false,\"x\":1}"
            ),
            None,
            "a key the type does not define"
        );
        assert_eq!(Message::from_json("nonsense"), None);
    }
}
