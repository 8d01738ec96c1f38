//! The talk's timing model, the one the speaker window's plan (ahead or behind) and
//! the talk's length test (`tests/talk.rs`) both use: what a slide asks of the clock
//! ([`SlideLoad`]) and how many seconds that is ([`SlideLoad::seconds`]).
//!
//! A slide takes [`SECONDS_PER_SLIDE`] to change, its spoken paragraph (the first
//! paragraph of the notes) at [`SPOKEN_WPM`], and for each demo terminal and chart on
//! it [`ORIENT_SECS`] to find one's way in, then the terminal's words (the rerun
//! command and the lines on stage) at [`READING_WPM`] or [`SECS_PER_BAR`] per bar.
//!
//! `duration = "40m"` under `[preprocessor.deck]` is the talk's length;
//! `[preprocessor.deck.budgets]` may give chapters their own share
//! (`"tcp.md" = "8m"`, keyed by the chapter's file under `src`). The rest of the time is
//! shared among the other chapters' slides by their seconds.

use std::collections::BTreeMap;

use contract::{Transcript, terminal};

use crate::slides::{Chapter, Kind, Part, Slide, first_paragraph};

/// Changing slide and letting the audience read the title.
pub const SECONDS_PER_SLIDE: f64 = 5.0;
/// A relaxed speaking pace on stage.
pub const SPOKEN_WPM: f64 = 140.0;
/// The room reads a terminal more slowly than prose.
pub const READING_WPM: f64 = 200.0;
/// Time to find one's way into a new terminal or chart before reading it.
pub const ORIENT_SECS: f64 = 5.0;
/// Reading one bar of a chart: its label and its value.
pub const SECS_PER_BAR: f64 = 3.0;

/// What one slide asks of the clock.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SlideLoad {
    /// Words of the spoken paragraph.
    pub spoken_words: usize,
    /// For each demo terminal on the slide, the words the room reads in it.
    pub demo_words: Vec<usize>,
    /// For each chart on the slide, its bars.
    pub chart_bars: Vec<usize>,
}

impl SlideLoad {
    /// The seconds the slide takes: changing to it, saying it and reading it.
    pub fn seconds(&self) -> f64 {
        SECONDS_PER_SLIDE + self.spoken_seconds() + self.reading_seconds()
    }

    /// Saying the spoken paragraph.
    pub fn spoken_seconds(&self) -> f64 {
        self.spoken_words as f64 / SPOKEN_WPM * 60.0
    }

    /// The room reading the slide's demo terminals and charts.
    pub fn reading_seconds(&self) -> f64 {
        let demos: f64 = self
            .demo_words
            .iter()
            .map(|&words| ORIENT_SECS + words as f64 / READING_WPM * 60.0)
            .sum();
        let charts: f64 = self
            .chart_bars
            .iter()
            .map(|&bars| ORIENT_SECS + SECS_PER_BAR * bars as f64)
            .sum();
        demos + charts
    }
}

/// Words as the room counts them: runs of non-space holding a letter or digit (a lone
/// `-` or `→` is not a word).
pub fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// The words the room reads in a demo's terminal on a slide: the command above it and
/// the lines the slide shows ([`terminal::lines_on_stage`]).
pub fn reading_words(t: &Transcript) -> usize {
    word_count(&t.rerun_command())
        + terminal::lines_on_stage(t)
            .iter()
            .map(|l| word_count(l))
            .sum::<usize>()
}

/// The load of each slide of a chapter's Markdown, one per slide of
/// [`crate::slides::chapter`] (the model the pages are rendered from).
/// `demo_words` gives the reading words of a demo's terminal by the demo's name (see
/// [`reading_words`]). Demos and charts in the notes are not shown to the room.
pub fn loads(src: &str, demo_words: impl FnMut(&str) -> usize) -> Vec<SlideLoad> {
    loads_of(&crate::slides::chapter(src), demo_words)
}

/// [`loads`] of a chapter already cut into slides.
pub fn loads_of(
    chapter: &Chapter<'_>,
    mut demo_words: impl FnMut(&str) -> usize,
) -> Vec<SlideLoad> {
    chapter
        .slides
        .iter()
        .map(|slide| load(chapter.src, slide, &mut demo_words))
        .collect()
}

fn load(src: &str, slide: &Slide, demo_words: &mut impl FnMut(&str) -> usize) -> SlideLoad {
    let mut out = SlideLoad::default();
    let mut spoken: Option<String> = None;
    for (block, part) in &slide.blocks {
        let in_notes = *part == Part::Notes;
        match &block.kind {
            Kind::Demo(name) if !in_notes => out.demo_words.push(demo_words(name)),
            Kind::Chart { metrics, .. } if !in_notes => out.chart_bars.push(
                metrics
                    .iter()
                    .filter(|m| !crate::chart::is_option(m))
                    .count(),
            ),
            // The room reads a ladder like a chart of three bars: what goes which way.
            Kind::Ladder { .. } if !in_notes => out.chart_bars.push(3),
            // The spoken paragraph is the notes' first top-level paragraph; a list or
            // an HTML block before it is not said aloud.
            Kind::Other if in_notes && spoken.is_none() => {
                spoken = first_paragraph(&src[block.range.clone()]);
                out.spoken_words = spoken.as_deref().map_or(0, word_count);
            }
            _ => {}
        }
    }
    out
}

/// A chapter as the plan sees it: its file under `src` and its slides' loads.
#[derive(Debug, Clone)]
pub struct Planned {
    pub file: String,
    pub slides: Vec<SlideLoad>,
}

/// The planned start of every slide of every chapter, in seconds from the start of the
/// talk, plus the planned end of each chapter (so one more number than slides).
pub fn plan(
    duration: f64,
    budgets: &BTreeMap<String, f64>,
    chapters: &[Planned],
) -> Result<Vec<Vec<f64>>, String> {
    for file in budgets.keys() {
        if !chapters.iter().any(|c| &c.file == file) {
            return Err(format!(
                "budgets in book.toml name `{file}`, which is not a chapter"
            ));
        }
    }
    // That they fit the duration was checked with the config (`DeckConfig::check`).
    let budgeted: f64 = budgets.values().sum();
    let weight = |c: &Planned| c.slides.iter().map(SlideLoad::seconds).sum::<f64>();
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
                share * slide.seconds() / total
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slide_loads_its_spoken_paragraph_demos_and_charts() {
        let src = "# T\n\nshown words here\n\nNotes:\n\none two three four\n\nlater depth not counted\n\n\
                   ## D\n\n{{#demo x}}\n\n{{#chart y a.b c.d}}\n\nNotes:\n\n{{#demo z}}\n\n\
                   ---\n\nNotes:\n\n- a list is not said aloud\n\nThen `this` — four words.\n";
        let mut asked = Vec::new();
        let loads = loads(src, |name| {
            asked.push(name.to_string());
            12
        });
        assert_eq!(asked, vec!["x"], "a demo in the notes is not on the slide");
        let load = |spoken_words, demo_words: &[usize], chart_bars: &[usize]| SlideLoad {
            spoken_words,
            demo_words: demo_words.to_vec(),
            chart_bars: chart_bars.to_vec(),
        };
        assert_eq!(
            loads,
            vec![load(4, &[], &[]), load(0, &[12], &[2]), load(4, &[], &[])]
        );
    }

    #[test]
    fn seconds_add_the_change_the_speech_and_the_reading() {
        let load = SlideLoad {
            spoken_words: 140,
            demo_words: vec![200, 0],
            chart_bars: vec![3],
        };
        // 140 words spoken at 140 a minute; 200 read at 200 a minute after finding
        // one's way into the terminal, and again into an empty one; three bars.
        let reading = (ORIENT_SECS + 60.0) + ORIENT_SECS + (ORIENT_SECS + 3.0 * SECS_PER_BAR);
        assert_eq!(load.spoken_seconds(), 60.0);
        assert_eq!(load.reading_seconds(), reading);
        assert_eq!(load.seconds(), SECONDS_PER_SLIDE + 60.0 + reading);
        assert_eq!(SlideLoad::default().seconds(), SECONDS_PER_SLIDE);
    }

    fn run(text: &str) -> Transcript {
        Transcript {
            args: vec!["--verbose".into()],
            chunks: vec![contract::test_support::stdout(0, text)],
            ..contract::test_support::run("peek")
        }
    }

    #[test]
    fn a_demo_showing_more_lines_weighs_more() {
        let mark = contract::ansi::FOCUS_MARK;
        let short = run(&format!(
            "setting up the pair\n{mark}  ✓ peek left 5 bytes\n{mark}PASS\n"
        ));
        let long = run(&format!(
            "setting up the pair\n{mark}  ✓ peek left 5 bytes\n{mark}  ✓ read got the same 5\n{mark}PASS\n"
        ));
        let quiet = run(&format!(
            "setting up the pair, and more words not shown\n{mark}  ✓ peek left 5 bytes\n{mark}PASS\n"
        ));
        // `cargo xtask demo peek --verbose`, then the focus lines.
        assert_eq!(reading_words(&short), 5 + 5);
        assert_eq!(reading_words(&long), 5 + 10);
        assert_eq!(
            reading_words(&quiet),
            reading_words(&short),
            "unshown lines are not read"
        );
        let src = "## Peek\n\n{{#demo peek}}\n";
        let weigh = |t: &Transcript| loads(src, |_| reading_words(t))[0].seconds();
        let more = 5.0 / READING_WPM * 60.0;
        assert!(
            (weigh(&long) - weigh(&short) - more).abs() < 1e-9,
            "{} vs {}",
            weigh(&long),
            weigh(&short)
        );
    }

    #[test]
    fn budgets_fix_chapters_and_the_rest_is_shared_by_weight() {
        // 140 words said (60 s), one terminal of 200 words (5 s + 60 s), changing (5 s).
        let heavy = SlideLoad {
            spoken_words: 140,
            demo_words: vec![200],
            chart_bars: vec![],
        };
        let light = SlideLoad::default();
        let chapters = vec![
            Planned {
                file: "a.md".into(),
                slides: vec![light.clone(), light.clone()],
            },
            Planned {
                file: "b.md".into(),
                slides: vec![heavy.clone(), light],
            },
            Planned {
                file: "c.md".into(),
                slides: vec![heavy],
            },
        ];
        let budgets = BTreeMap::from([("a.md".to_string(), 600.0)]);
        let plan = plan(2400.0, &budgets, &chapters).unwrap();
        assert_eq!(plan[0], vec![0.0, 300.0, 600.0]);
        assert!((plan[2][1] - 2400.0).abs() < 1e-6, "{plan:?}");
        // b and c share 1800 s by weight: b weighs 130 + 5, c weighs 130.
        assert!(
            (plan[1][2] - plan[1][0] - 1800.0 * 135.0 / 265.0).abs() < 1e-6,
            "{plan:?}"
        );
        assert!(
            plan[1][1] - plan[1][0] > 10.0 * (plan[1][2] - plan[1][1]),
            "the heavy slide gets more: {plan:?}"
        );
    }

    #[test]
    fn budgets_must_name_chapters() {
        let chapters = vec![Planned {
            file: "a.md".into(),
            slides: vec![SlideLoad::default()],
        }];
        let unknown = BTreeMap::from([("z.md".to_string(), 60.0)]);
        assert_eq!(
            plan(600.0, &unknown, &chapters).unwrap_err(),
            "budgets in book.toml name `z.md`, which is not a chapter"
        );
    }

    #[test]
    fn budgets_that_fill_the_duration_leave_nothing_to_share() {
        let chapters = vec![
            Planned {
                file: "a.md".into(),
                slides: vec![SlideLoad::default()],
            },
            Planned {
                file: "b.md".into(),
                slides: vec![SlideLoad::default()],
            },
        ];
        let budgets = BTreeMap::from([("a.md".into(), 300.0), ("b.md".into(), 300.0)]);
        let whole = plan(600.0, &budgets, &chapters).unwrap();
        assert_eq!(whole, vec![vec![0.0, 300.0], vec![300.0, 600.0]]);
    }

    #[test]
    fn a_ladder_on_the_slide_is_read_as_three_bars_and_a_ladder_or_chart_in_the_notes_is_not() {
        let src = "# T\n\n{{#ladder half-close}}\n\n---\n\nshown\n\nNotes:\n\n\
                   {{#ladder half-close}}\n\n{{#chart y a.b c.d}}\n";
        let bars: Vec<Vec<usize>> = loads(src, |_| 0)
            .into_iter()
            .map(|l| l.chart_bars)
            .collect();
        assert_eq!(bars, vec![vec![3], vec![]]);
    }

    /// `sorted`, `lower-is-better` and `higher-is-better` change how a chart is drawn;
    /// they are no bars for the room to read.
    #[test]
    fn a_charts_options_are_not_bars() {
        let src = "# T\n\n{{#chart y a.b sorted c.d lower-is-better}}\n\n\
                   {{#chart y e.f higher-is-better}}\n";
        let bars: Vec<Vec<usize>> = loads(src, |_| 0)
            .into_iter()
            .map(|l| l.chart_bars)
            .collect();
        assert_eq!(bars, vec![vec![2, 1]]);
    }
}
