//! A terminal on the page being written to: the lines [`contract::terminal::Screen`]
//! finishes go in as they come, and the unfinished last line shows as a `partial`
//! line that the next write replaces. Replay and Run live both write through here, so
//! they end looking exactly like the captured figure the preprocessor rendered.

use contract::Stream;
use contract::page::{class, select};
use contract::terminal::{Pick, Screen};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::Element;

/// What one chunk adds to a terminal: finished lines, and the line still open.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub lines: String,
    pub partial: Option<String>,
}

/// Renders chunks into [`Update`]s, in order.
pub struct Writer {
    screen: Screen,
}

impl Writer {
    pub fn new(pick: Pick) -> Writer {
        Writer {
            screen: Screen::new(pick),
        }
    }

    pub fn push(&mut self, stream: Stream, text: &str) -> Update {
        let lines = self
            .screen
            .push(stream, text)
            .iter()
            .map(|l| l.to_html())
            .collect();
        Update {
            lines,
            partial: self.screen.partial(),
        }
    }

    /// The end of the run: the open line becomes a finished one.
    pub fn finish(&mut self) -> Update {
        Update {
            lines: self
                .screen
                .finish()
                .map(|l| l.to_html())
                .unwrap_or_default(),
            partial: None,
        }
    }
}

/// Applies an update to a terminal's `<samp>`.
pub fn apply(samp: &Element, update: &Update) -> Result<(), JsValue> {
    if let Some(open) = samp.query_selector(select::PARTIAL_LINE)? {
        open.remove();
    }
    samp.insert_adjacent_html("beforeend", &update.lines)?;
    if let Some(partial) = &update.partial {
        samp.insert_adjacent_html("beforeend", partial)?;
    }
    // The reading view's terminal scrolls; follow the output to its end.
    if let Some(pre) = samp.parent_element() {
        pre.set_scroll_top(pre.scroll_height());
    }
    // A slide never scrolls: a run longer than the captured one shrinks its slide.
    if let Some(section) = samp.closest(&format!("html.{} {}", class::ON, select::CURRENT_SLIDE))?
        && let Ok(section) = section.dyn_into::<web_sys::HtmlElement>()
    {
        crate::slides::refit(&section);
    }
    Ok(())
}

/// The focus rule the figure's terminal was rendered with (`data-focus`).
pub fn pick_of(samp: &Element) -> Pick {
    let attribute = samp
        .parent_element()
        .and_then(|pre| pre.get_attribute(contract::page::attr::FOCUS));
    Pick::from_attribute(attribute.as_deref())
}
