//! The whole talk as one page sees it, from the [`Page`] the preprocessor writes on
//! every chapter (`contract::page`, read back here as the same type): where this
//! chapter's slides stand in the talk, every chapter's page and first slide, and the
//! plan (seconds from the start) for the pacing.

use contract::page::{self, Page};
use wasm_bindgen::JsValue;
use web_sys::Document;

/// The page's [`Page`], as the preprocessor wrote it; the defaults (16:9, numbers per
/// chapter, no plan) on a page without one, or with a malformed one (said in the
/// console).
pub fn page(document: &Document) -> Page {
    let Some(json) = document
        .query_selector(page::select::CONFIG)
        .ok()
        .flatten()
        .and_then(|el| el.get_attribute(page::attr::PAGE))
    else {
        return Page::default();
    };
    Page::from_json(&json).unwrap_or_else(|e| {
        web_sys::console::warn_1(&JsValue::from_str(&format!(
            "deck: the page's settings: {e}; using the defaults"
        )));
        Page::default()
    })
}

/// The page's [`Page`], with what the player asks of it: talk-wide numbers, where a
/// number is, and a slide's slot in the plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Talk(pub Page);

impl std::ops::Deref for Talk {
    type Target = Page;
    fn deref(&self) -> &Page {
        &self.0
    }
}

impl Talk {
    pub fn read(document: &Document) -> Talk {
        Talk(page(document))
    }

    /// The talk-wide number (1-based) of this chapter's slide `n` (0-based).
    pub fn number(&self, n: usize) -> usize {
        self.first.max(1) + n
    }

    /// Where talk-wide slide `number` is: its chapter's page and the slide in it
    /// (1-based); `None` past the end or without the chapter list.
    pub fn locate(&self, number: usize) -> Option<(&str, usize)> {
        if number == 0 || (self.total > 0 && number > self.total) {
            return None;
        }
        self.chapters
            .iter()
            .rev()
            .find(|c| c.first <= number)
            .map(|c| (c.page.as_str(), number - c.first + 1))
    }

    /// The planned start and end (seconds) of this chapter's slide `n`.
    pub fn slot(&self, n: usize) -> Option<(f64, f64)> {
        Some((*self.plan.get(n)?, *self.plan.get(n + 1)?))
    }
}

/// Where the presenter stands against the plan at elapsed `t` seconds on a slide
/// planned for `start..end`: positive is ahead, negative behind, zero on time.
pub fn lead(t: f64, (start, end): (f64, f64)) -> f64 {
    if t < start {
        start - t
    } else if t > end {
        end - t
    } else {
        0.0
    }
}

/// "2:05 ahead", "0:40 behind" or "on time".
pub fn describe_lead(seconds: f64) -> String {
    let s = seconds.abs().round() as u64;
    let amount = format!("{}:{:02}", s / 60, s % 60);
    if s == 0 {
        "on time".to_string()
    } else if seconds > 0.0 {
        format!("{amount} ahead")
    } else {
        format!("{amount} behind")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A talk as the player reads it: from the page's JSON.
    fn talk() -> Talk {
        let json = r#"{"first": 8, "total": 20, "duration": "600",
            "chapters": [{"page": "title.html", "first": 1}, {"page": "files.html", "first": 8},
                         {"page": "sub/tcp.html", "first": 15}],
            "plan": [100.0, 130.0, 200.0]}"#;
        Talk(Page::from_json(json).unwrap())
    }

    #[test]
    fn numbers_run_through_the_whole_talk() {
        let t = talk();
        assert_eq!(t.number(0), 8);
        assert_eq!(t.locate(3), Some(("title.html", 3)));
        assert_eq!(t.locate(8), Some(("files.html", 1)));
        assert_eq!(t.locate(20), Some(("sub/tcp.html", 6)));
        assert_eq!(t.locate(21), None);
        assert_eq!(t.locate(0), None);
    }

    #[test]
    fn ahead_before_the_slot_behind_after_it() {
        let slot = talk().slot(1).unwrap();
        assert_eq!(slot, (130.0, 200.0));
        assert_eq!(lead(100.0, slot), 30.0);
        assert_eq!(lead(150.0, slot), 0.0);
        assert_eq!(lead(260.0, slot), -60.0);
        assert_eq!(describe_lead(30.0), "0:30 ahead");
        assert_eq!(describe_lead(-125.0), "2:05 behind");
        assert_eq!(describe_lead(0.2), "on time");
        assert_eq!(talk().slot(2), None);
    }

    #[test]
    fn numbers_count_on_from_the_chapters_first_slide() {
        let t = talk();
        assert_eq!(t.number(3), 11);
    }

    #[test]
    fn a_talk_whose_total_is_unknown_still_locates_its_slides() {
        let t = Talk(
            Page::from_json(
                r#"{"chapters": [{"page": "title.html", "first": 1}, {"page": "files.html", "first": 8}]}"#,
            )
            .unwrap(),
        );
        assert_eq!(t.total, 0);
        assert_eq!(t.locate(9), Some(("files.html", 2)));
    }
}
