//! The talk's plan: when each slide should start, so the speaker window can say whether
//! the presenter is ahead or behind.
//!
//! `duration = "40m"` under `[preprocessor.deck]` is the talk's length;
//! `[preprocessor.deck.budgets]` may give chapters their own share
//! (`"tcp.md" = "8m"`, keyed by the chapter's file under `src`). The rest of the time is
//! shared among the other chapters' slides by their weight: the words of the spoken
//! paragraph (the first paragraph of the notes) at [`SECONDS_PER_WORD`], plus
//! [`SECONDS_PER_DEMO`] for each demo and [`SECONDS_PER_SLIDE`] for every slide.

use std::collections::BTreeMap;

use crate::slides::{Kind, top_level_blocks};

/// About 150 words a minute, a calm speaking pace.
pub const SECONDS_PER_WORD: f64 = 0.4;
/// A demo is shown and its output read out.
pub const SECONDS_PER_DEMO: f64 = 30.0;
/// Changing slide and letting the audience read the title.
pub const SECONDS_PER_SLIDE: f64 = 5.0;

/// What one slide asks of the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlideLoad {
    pub spoken_words: usize,
    pub demos: usize,
}

impl SlideLoad {
    pub fn weight(self) -> f64 {
        SECONDS_PER_SLIDE
            + self.spoken_words as f64 * SECONDS_PER_WORD
            + self.demos as f64 * SECONDS_PER_DEMO
    }
}

/// The load of each slide of a chapter's Markdown (the same slide rules as
/// [`crate::slides::to_slides`], which this must agree with on the slide count).
pub fn loads(src: &str) -> Vec<SlideLoad> {
    let mut out: Vec<SlideLoad> = Vec::new();
    let mut in_slide = false;
    // After `Notes:` and before the first paragraph of the notes.
    let mut awaiting_spoken = false;
    for block in top_level_blocks(src, &mut Vec::new()) {
        let new_slide = matches!(block.kind, Kind::SlideTitle | Kind::Break);
        if new_slide || !in_slide {
            out.push(SlideLoad::default());
            in_slide = true;
            awaiting_spoken = false;
        }
        let Some(slide) = out.last_mut() else {
            continue;
        };
        match block.kind {
            Kind::NotesMarker => awaiting_spoken = true,
            Kind::Demo(_) => slide.demos += 1,
            Kind::Other if awaiting_spoken => {
                slide.spoken_words = src[block.range.clone()].split_whitespace().count();
                awaiting_spoken = false;
            }
            _ => {}
        }
    }
    out
}

/// A chapter as the plan sees it: its file under `src` and its slides' loads.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub file: String,
    pub slides: Vec<SlideLoad>,
}

/// The planned start of every slide of every chapter, in seconds from the start of the
/// talk, plus the planned end of each chapter (so one more number than slides).
pub fn plan(
    duration: f64,
    budgets: &BTreeMap<String, f64>,
    chapters: &[Chapter],
) -> Result<Vec<Vec<f64>>, String> {
    for file in budgets.keys() {
        if !chapters.iter().any(|c| &c.file == file) {
            return Err(format!(
                "budgets in book.toml name `{file}`, which is not a chapter"
            ));
        }
    }
    let budgeted: f64 = budgets.values().sum();
    if budgeted > duration + 0.5 {
        return Err(format!(
            "the chapter budgets add up to {}, more than the duration {}",
            clock(budgeted),
            clock(duration)
        ));
    }
    let weight = |c: &Chapter| c.slides.iter().map(|s| s.weight()).sum::<f64>();
    let shared_weight: f64 = chapters
        .iter()
        .filter(|c| !budgets.contains_key(&c.file))
        .map(weight)
        .sum();
    let rest = duration - budgeted;
    let mut at = 0.0;
    let mut out = Vec::new();
    for chapter in chapters {
        let share = match budgets.get(&chapter.file) {
            Some(&b) => b,
            None if shared_weight > 0.0 => rest * weight(chapter) / shared_weight,
            None => 0.0,
        };
        let total = weight(chapter);
        let mut starts = vec![at];
        for slide in &chapter.slides {
            let part = if total > 0.0 {
                share * slide.weight() / total
            } else {
                0.0
            };
            at += part;
            starts.push(at);
        }
        out.push(starts);
    }
    Ok(out)
}

/// Parses a length of time: `40m`, `1h30m`, `90s`, `2400` (seconds), `45m30s`.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let bad =
        || format!("`{text}` is not a length of time (write e.g. \"40m\", \"1h30m\" or \"90s\")");
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then_some(seconds)
            .ok_or_else(bad);
    }
    let mut total = 0.0;
    let mut number = String::new();
    for c in text.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'h' | 'm' | 's' => {
                let n: f64 = number.parse().map_err(|_| bad())?;
                total += n * match c {
                    'h' => 3600.0,
                    'm' => 60.0,
                    _ => 1.0,
                };
                number.clear();
            }
            ' ' => {}
            _ => return Err(bad()),
        }
    }
    if !number.is_empty() || text.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}m{:02}s", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("40m"), Ok(2400.0));
        assert_eq!(parse_duration("1h30m"), Ok(5400.0));
        assert_eq!(parse_duration("45m 30s"), Ok(2730.0));
        assert_eq!(parse_duration("90"), Ok(90.0));
        assert!(parse_duration("40 minutes").is_err());
        assert!(parse_duration("40").is_ok());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("4x").is_err());
    }

    #[test]
    fn a_slide_weighs_its_spoken_paragraph_and_demos() {
        let src = "# T\n\nshown words here\n\nNotes:\n\none two three four\n\nlater depth not counted\n\n## D\n\n{{#demo x}}\n\n---\n\nNotes:\n\n- a list is not a paragraph but counts\n";
        let loads = loads(src);
        assert_eq!(
            loads,
            vec![
                SlideLoad {
                    spoken_words: 4,
                    demos: 0
                },
                SlideLoad {
                    spoken_words: 0,
                    demos: 1
                },
                SlideLoad {
                    spoken_words: 9,
                    demos: 0
                },
            ]
        );
    }

    #[test]
    fn budgets_fix_chapters_and_the_rest_is_shared_by_weight() {
        let heavy = SlideLoad {
            spoken_words: 100,
            demos: 1,
        };
        let light = SlideLoad::default();
        let chapters = vec![
            Chapter {
                file: "a.md".into(),
                slides: vec![light, light],
            },
            Chapter {
                file: "b.md".into(),
                slides: vec![heavy, light],
            },
            Chapter {
                file: "c.md".into(),
                slides: vec![heavy],
            },
        ];
        let budgets = BTreeMap::from([("a.md".to_string(), 600.0)]);
        let plan = plan(2400.0, &budgets, &chapters).unwrap();
        assert_eq!(plan[0], vec![0.0, 300.0, 600.0]);
        assert!((plan[2][1] - 2400.0).abs() < 1e-6, "{plan:?}");
        // b and c share 1800 s by weight: b weighs 75 + 5, c weighs 75.
        assert!(
            (plan[1][2] - plan[1][0] - 1800.0 * 80.0 / 155.0).abs() < 1e-6,
            "{plan:?}"
        );
        assert!(
            plan[1][1] - plan[1][0] > 10.0 * (plan[1][2] - plan[1][1]),
            "the heavy slide gets more: {plan:?}"
        );
    }

    #[test]
    fn budgets_must_name_chapters_and_fit_the_duration() {
        let chapters = vec![Chapter {
            file: "a.md".into(),
            slides: vec![SlideLoad::default()],
        }];
        let unknown = BTreeMap::from([("z.md".to_string(), 60.0)]);
        assert!(
            plan(600.0, &unknown, &chapters)
                .unwrap_err()
                .contains("`z.md`")
        );
        let over = BTreeMap::from([("a.md".to_string(), 700.0)]);
        assert!(
            plan(600.0, &over, &chapters)
                .unwrap_err()
                .contains("more than")
        );
    }
}
