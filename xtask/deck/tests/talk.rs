//! The talk fits its slot on stage: forty minutes, one idea per slide, notes a presenter
//! can say aloud, and numbers that come from the captured runs, not from memory.
//!
//! The slides are cut by the deck engine itself (see `common/mod.rs`). The main talk is
//! every chapter of `slides/SUMMARY.md` before the appendix (mdbook's suffix chapters).

#![forbid(unsafe_code)]

mod common;
use common as talk;

use std::collections::BTreeSet;

use deck::pacing::{self, SlideLoad};
use talk::{Chapter, Slide};

/// A talk of 40 minutes leaves two for the unexpected.
const MAX_MINUTES: f64 = 38.0;
const MAX_MAIN_SLIDES: usize = 45;
const MAX_VISIBLE_WORDS: usize = 40;
const MAX_SPOKEN_WORDS: usize = 50;

/// Slides allowed more than 40 visible words, and why. The test fails when one of them
/// no longer needs it, so the list only shrinks.
const WORDY: &[(&str, &str, &str)] = &[(
    "together.md",
    "Everything you knew, corrected",
    "the closing table: one row per section, the talk's summary",
)];

/// Numbers on slides that embed no demo: facts from the kernel's documentation, with
/// where they are written. Every other number on a slide must appear in the transcript
/// of a demo that slide embeds.
const DOCUMENTED: &[(&str, &str, &str)] = &[
    (
        "Every request took 40 ms",
        "40",
        "the hook: Julia Evans, \"Why you should understand (a little) about TCP\", jvns.ca, 2015",
    ),
    (
        "Everything you knew, corrected",
        "40",
        "the hook again, closing the loop; the nagle-delayed-ack demo reproduces it",
    ),
];

fn slides() -> Vec<Slide> {
    talk::all_slides(&talk::repo())
}

fn main_slides() -> Vec<Slide> {
    slides().into_iter().filter(|s| s.main).collect()
}

/// Whether a slide is the title slide: the first chapter's first, titled as the book.
fn is_title_slide(s: &Slide) -> bool {
    s.number == 1
        && s.title == talk::book_title(&talk::repo())
        && talk::chapters(&talk::repo())
            .first()
            .is_some_and(|c| c.file == s.chapter)
}

#[test]
fn the_main_talk_has_at_most_45_slides() {
    let main = main_slides();
    assert!(
        main.len() >= 10,
        "only {} main slides: is SUMMARY.md read right?",
        main.len()
    );
    assert!(
        main.len() <= MAX_MAIN_SLIDES,
        "the main talk has {} slides, more than {MAX_MAIN_SLIDES}; move catalogues to the appendix",
        main.len()
    );
}

/// Minutes the talk takes by the deck's timing model (`deck::pacing`, the one the
/// speaker window plans with): in all, spoken, reading demos and charts, changing slides.
fn minutes(loads: &[SlideLoad]) -> (f64, f64, f64, f64) {
    let sum = |f: fn(&SlideLoad) -> f64| loads.iter().map(f).sum::<f64>() / 60.0;
    (
        sum(SlideLoad::seconds),
        sum(SlideLoad::spoken_seconds),
        sum(SlideLoad::reading_seconds),
        loads.len() as f64 * pacing::SECONDS_PER_SLIDE / 60.0,
    )
}

/// The loads of the main talk's slides, per chapter. The model must see the slides the
/// deck shows: as many, with the same spoken paragraph, demos and charts.
fn main_loads() -> Vec<(String, Vec<SlideLoad>)> {
    let repo = talk::repo();
    let mut out = Vec::new();
    for chapter in talk::chapters(&repo).into_iter().filter(|c| c.main) {
        let loads = talk::chapter_loads(&repo, &chapter);
        let slides = talk::chapter_slides(&repo, &chapter);
        assert_eq!(
            loads.len(),
            slides.len(),
            "{}: the timing model cuts the slides differently",
            chapter.file
        );
        for (load, s) in loads.iter().zip(&slides) {
            // A chart's options (`sorted`, `lower-is-better`) are no bars.
            let bars: Vec<usize> = s
                .charts
                .iter()
                .map(|(_, m)| m.iter().filter(|w| !deck::chart::is_option(w)).count())
                .collect();
            assert_eq!(
                (load.spoken_words, load.demo_words.len(), &load.chart_bars),
                (pacing::word_count(&s.spoken()), s.demos.len(), &bars),
                "{}: the timing model reads it differently",
                s.name()
            );
        }
        out.push((chapter.file, loads));
    }
    out
}

#[test]
fn the_talk_takes_at_most_38_minutes() {
    let chapters = main_loads();
    let all: Vec<SlideLoad> = chapters.iter().flat_map(|(_, l)| l.clone()).collect();
    let (total, spoken, figures, changes) = minutes(&all);
    eprintln!(
        "talk: {} slides, {total:.1} min ({spoken:.1} spoken, {figures:.1} reading demos and charts, {changes:.1} changing slides)",
        all.len()
    );
    for (file, loads) in &chapters {
        eprintln!(
            "  {file}: {} slides, {:.1} min",
            loads.len(),
            minutes(loads).0
        );
    }
    assert!(
        spoken > 5.0,
        "only {spoken:.1} minutes spoken: are the notes read?"
    );
    assert!(
        total <= MAX_MINUTES,
        "the talk takes {total:.1} minutes ({spoken:.1} spoken, {figures:.1} reading), more than {MAX_MINUTES}"
    );
}

#[test]
fn no_slide_shows_more_than_40_words() {
    let exempt: BTreeSet<(&str, &str)> = WORDY.iter().map(|(c, t, _)| (*c, *t)).collect();
    let wordy: Vec<String> = main_slides()
        .iter()
        .filter(|s| !exempt.contains(&(s.chapter.as_str(), s.title.as_str())))
        .filter(|s| s.visible_words() > MAX_VISIBLE_WORDS)
        .map(|s| format!("{}: {} words", s.name(), s.visible_words()))
        .collect();
    assert!(
        wordy.is_empty(),
        "slides with more than {MAX_VISIBLE_WORDS} visible words (demo output aside):\n{}",
        wordy.join("\n")
    );
}

#[test]
fn exempt_slides_exist_and_still_need_it() {
    let main = main_slides();
    let mut wrong = Vec::new();
    for (chapter, title, why) in WORDY {
        match main
            .iter()
            .find(|s| s.chapter == *chapter && s.title == *title)
        {
            None => wrong.push(format!("{chapter} `{title}` ({why}): no such main slide")),
            Some(s) if s.visible_words() <= MAX_VISIBLE_WORDS => wrong.push(format!(
                "{}: {} words, short enough now: take it off the exemption list",
                s.name(),
                s.visible_words()
            )),
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Why a spoken paragraph cannot be said as written, if it cannot.
fn unspeakable(spoken: &str) -> Option<String> {
    let words = pacing::word_count(spoken);
    if words == 0 {
        return Some("no spoken paragraph (the first paragraph of the notes)".into());
    }
    if words > MAX_SPOKEN_WORDS {
        return Some(format!("{words} words, more than {MAX_SPOKEN_WORDS}"));
    }
    let lower = spoken.to_lowercase();
    if lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "notes")
    {
        return Some("mentions \"notes\", which means nothing to the room".into());
    }
    if let Some(c) = citation(spoken) {
        return Some(format!("a citation `{c}` cannot be spoken"));
    }
    None
}

/// A man-page reference like `null(4)` or `tcp(7)`, or an RFC number.
fn citation(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('(') {
        let before = text[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let section = bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && bytes
                .get(i + 2)
                .is_some_and(|b| *b == b')' || b.is_ascii_lowercase());
        if before && section {
            let start = text[..i]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |s| s + 1);
            return Some(text[start..i + 3].to_string());
        }
    }
    text.find("RFC ")
        .map(|at| text[at..].chars().take(8).collect())
}

#[test]
fn spoken_paragraphs_are_short_and_speakable() {
    let wrong: Vec<String> = main_slides()
        .iter()
        .filter_map(|s| Some(format!("{}: {}", s.name(), unspeakable(&s.spoken())?)))
        .collect();
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// The numbers in a text, as written (thousands separators removed): `10,000`, `44.0`,
/// `127`. Digits inside names (`IPv4`, `AF_INET6`, `tcp_rmem`) are not numbers.
fn numbers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit()
            && !i
                .checked_sub(1)
                .is_some_and(|p| chars[p].is_alphanumeric() || "_.:/-".contains(chars[p]));
        if !starts {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len()
            && (chars[j].is_ascii_digit()
                || ((chars[j] == ',' || chars[j] == '.')
                    && chars.get(j + 1).is_some_and(char::is_ascii_digit)))
        {
            j += 1;
        }
        // An address or version (127.0.0.1, 6.18.0) is a name, not a measurement.
        let token: String = chars[i..j].iter().collect();
        if token.matches('.').count() <= 1 {
            out.push(token.replace(',', ""));
        }
        i = j;
    }
    out
}

fn as_value(n: &str) -> Option<f64> {
    n.parse::<f64>().ok()
}

/// The numbers a transcript can vouch for: in its output, and its metrics as recorded.
fn transcript_numbers(repo: &std::path::Path, demo: &str) -> Vec<f64> {
    let t = talk::transcript(repo, demo);
    let text: String = transcript::terminal::lines(&t)
        .0
        .iter()
        .map(|l| l.text() + "\n")
        .collect();
    let mut values: Vec<f64> = numbers(&text).iter().filter_map(|n| as_value(n)).collect();
    values.extend(t.metrics.iter().map(|m| m.value));
    values
}

#[test]
fn every_number_on_a_slide_is_in_its_transcript() {
    let repo = talk::repo();
    let documented: BTreeSet<(&str, &str)> = DOCUMENTED.iter().map(|(t, n, _)| (*t, *n)).collect();
    let mut used_documented = BTreeSet::new();
    let mut wrong = Vec::new();
    for s in main_slides() {
        let prose = talk::visible_prose(&s.visible);
        let mut demos: Vec<&str> = s.demos.iter().map(String::as_str).collect();
        demos.extend(s.charts.iter().map(|(d, _)| d.as_str()));
        let known: Vec<f64> = demos
            .iter()
            .flat_map(|d| transcript_numbers(&repo, d))
            .collect();
        let mut seen = BTreeSet::new();
        for n in numbers(&prose) {
            if !seen.insert(n.clone()) {
                continue;
            }
            let value = as_value(&n);
            let in_transcript = value.is_some_and(|v| known.contains(&v));
            let is_documented = documented.contains(&(s.title.as_str(), n.as_str()));
            if is_documented {
                used_documented.insert((s.title.clone(), n.clone()));
            }
            if !in_transcript && !is_documented {
                let from = if demos.is_empty() {
                    "this slide embeds no demo; list it in DOCUMENTED with its source".to_string()
                } else {
                    format!("not in the transcript of {}", demos.join(", "))
                };
                wrong.push(format!("{}: `{n}`: {from}", s.name()));
            }
        }
    }
    for (title, n, source) in DOCUMENTED {
        if !used_documented.contains(&(title.to_string(), n.to_string())) {
            wrong.push(format!(
                "DOCUMENTED lists `{n}` on `{title}` ({source}), and no such slide shows it"
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn each_section_opens_with_a_question_and_reveals_after_a_pause() {
    let mut wrong = Vec::new();
    let mut sections = 0;
    for chapter in talk::chapters(&talk::repo()).iter().filter(|c| c.main) {
        let slides = talk::chapter_slides(&talk::repo(), chapter);
        // The title slide names the talk; the first chapter's question comes after it.
        let Some(first) = slides.iter().find(|s| !is_title_slide(s)) else {
            wrong.push(format!("{}: no slides", chapter.file));
            continue;
        };
        sections += 1;
        if !first.visible.contains('?') {
            wrong.push(format!("{}: asks the room nothing", first.name()));
        }
        // Markdown's `<!-- pause -->`; reStructuredText's `.. rst-class:: build`, which
        // the rST reader turns into a `build` class or `deck-step` children.
        let reveals = first.visible.contains("<!-- pause -->")
            || first.visible.contains("class=\"build\"")
            || first.visible.contains("deck-step");
        if !reveals {
            wrong.push(format!(
                "{}: no step-by-step reveal (`<!-- pause -->`)",
                first.name()
            ));
        }
    }
    assert!(sections >= 5, "only {sections} sections in the main talk");
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// The talk opens with an incident and ends by returning to it, after the commands to
/// run on Monday and the table of everything corrected.
#[test]
fn the_talk_ends_with_monday_commands_the_corrections_and_the_hook() {
    let main = main_slides();
    let hook = main.iter().find(|s| !is_title_slide(s));
    let (Some(hook), [.., monday, table]) = (hook, main.as_slice()) else {
        panic!("the main talk has fewer than two slides");
    };
    let mut wrong = Vec::new();
    for command in [
        "ss -tan state time-wait",
        "nstat -az",
        "UdpRcvbufErrors",
        "lsof +L1",
    ] {
        if !monday.visible.contains(command) {
            wrong.push(format!("{}: no `{command}`", monday.name()));
        }
    }
    let rows = table
        .visible
        .lines()
        .filter(|l| l.trim_start().starts_with('|'))
        .count();
    if rows < 8 {
        wrong.push(format!(
            "{}: the closing table has {rows} lines, not a row per section",
            table.name()
        ));
    }
    let hook_number = numbers(&hook.title);
    let closing = table.spoken().to_lowercase();
    if hook_number.is_empty() || !closing.contains("forty") && !closing.contains(&hook_number[0]) {
        wrong.push(format!(
            "the last words do not return to the hook `{}`",
            hook.title
        ));
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn the_helpers_read_what_they_should() {
    let chapter = Chapter {
        file: "t.md".into(),
        main: true,
    };
    let slides = talk::slides_of(
        &chapter,
        "# Is it? A question\n\nshown `code` words\n\n<!-- pause -->\n\n{{#demo peek}}\n\nNotes:\n\nSaid aloud, here.\n\nDepth null(4).\n\n## Second\n\n{{#chart ipc-table lat.pipe lat.tcp}}\n",
    );
    assert_eq!(slides.len(), 2);
    let (a, b) = (&slides[0], &slides[1]);
    assert_eq!(a.title, "Is it? A question");
    assert_eq!(a.visible_words(), 7, "{:?}", talk::visible_text(&a.visible));
    let html = talk::slides_of(
        &chapter,
        "## T\n\n<ul><li class=\"deck-step\">two <b>words</b></li></ul>\n\n```svgbob\n\"label\" --> b\n```\n",
    );
    let text = talk::visible_text(&html[0].visible);
    assert!(
        text.contains("two") && text.contains("words") && text.contains("label"),
        "{text:?}"
    );
    assert!(
        !text.contains('{') && !text.contains("deck-step"),
        "no CSS or tags: {text:?}"
    );
    assert_eq!(a.demos, vec!["peek".to_string()]);
    assert_eq!(a.spoken(), "Said aloud, here.");
    assert_eq!(
        b.charts,
        vec![(
            "ipc-table".to_string(),
            vec!["lat.pipe".to_string(), "lat.tcp".to_string()]
        )]
    );
    assert_eq!(
        numbers("10,000 sent, 44.0 ms, IPv4 on 127.0.0.1, AF_INET6, 3."),
        vec!["10000", "44.0", "3"]
    );
    assert_eq!(citation("as null(4) says"), Some("null(4)".into()));
    assert_eq!(citation("see RFC 1122"), Some("RFC 1122".into()));
    assert_eq!(citation("it (mostly) works in 2 (two) ways"), None);
    assert!(unspeakable("The notes say so.").is_some());
    assert!(unspeakable("Fine words.").is_none());
    let summary = talk::chapters(&talk::repo());
    assert!(summary.iter().any(|c| c.main) && summary.iter().any(|c| !c.main));
}
