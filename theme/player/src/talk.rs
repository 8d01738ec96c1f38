//! The whole talk as one page sees it, from the attributes the preprocessor writes on
//! `.deck-config`: where this chapter's slides stand in the talk (`data-first`,
//! `data-total`), every chapter's page and first slide (`data-chapters`), and the plan
//! (`data-duration` and `data-plan`, seconds from the start) for the pacing.

use web_sys::Document;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Talk {
    /// The talk-wide number of this chapter's first slide (1-based).
    pub first: usize,
    /// Slides in the whole talk (0: unknown, numbers stay per chapter).
    pub total: usize,
    /// Every chapter's page (relative to the book's root) and first slide number.
    pub chapters: Vec<(String, usize)>,
    /// The book's root relative to this page (`""`, `"../"`, ...).
    pub root: String,
    /// The talk's length in seconds, when book.toml gives one.
    pub duration: Option<f64>,
    /// Planned start of each of this chapter's slides, then the chapter's planned end.
    pub plan: Vec<f64>,
}

impl Talk {
    pub fn read(document: &Document) -> Talk {
        let Some(el) = document.query_selector(".deck-config").ok().flatten() else {
            return Talk::default();
        };
        let attr = |name: &str| el.get_attribute(name).unwrap_or_default();
        Talk {
            first: attr("data-first").parse().unwrap_or(1),
            total: attr("data-total").parse().unwrap_or(0),
            chapters: parse_chapters(&attr("data-chapters")),
            root: attr("data-root"),
            duration: attr("data-duration").parse().ok(),
            plan: attr("data-plan")
                .split(',')
                .filter_map(|t| t.trim().parse().ok())
                .collect(),
        }
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
            .find(|(_, first)| *first <= number)
            .map(|(page, first)| (page.as_str(), number - first + 1))
    }

    /// The planned start and end (seconds) of this chapter's slide `n`.
    pub fn slot(&self, n: usize) -> Option<(f64, f64)> {
        Some((*self.plan.get(n)?, *self.plan.get(n + 1)?))
    }
}

/// `a.html 1,b.html 8` → [("a.html", 1), ("b.html", 8)].
pub fn parse_chapters(text: &str) -> Vec<(String, usize)> {
    text.split(',')
        .filter_map(|part| {
            let (page, first) = part.trim().rsplit_once(' ')?;
            Some((page.to_string(), first.parse().ok()?))
        })
        .collect()
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

    fn talk() -> Talk {
        Talk {
            first: 8,
            total: 20,
            chapters: parse_chapters("title.html 1,files.html 8,sub/tcp.html 15"),
            root: String::new(),
            duration: Some(600.0),
            plan: vec![100.0, 130.0, 200.0],
        }
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
}
