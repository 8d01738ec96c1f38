//! The talk fits its slot on stage: thirty minutes by the deck's timing model in a
//! forty-minute slot (the rest is for live runs and questions), one idea per slide,
//! notes a presenter can say aloud, numbers that come from the captured runs, not from
//! memory, a rhythm that is not a catalogue, and answers that wait for their reveal.
//!
//! The slides are cut by the deck engine itself (see `common/mod.rs`). The main talk is
//! every chapter of `slides/SUMMARY.md` before the appendix (mdbook's suffix chapters).

#![forbid(unsafe_code)]

mod common;
use common as talk;

use std::collections::BTreeSet;

use deck::pacing::{self, SlideLoad};
use talk::{Chapter, Slide};

/// A slot of 40 minutes: 30 by the model, and ten for pointing at terminals, live runs
/// and questions (a reviewer measured 15-25 s of pointing per terminal).
const MAX_MINUTES: f64 = 30.0;
const MAX_MAIN_SLIDES: usize = 34;
/// Slides of one shape in a row before the talk reads as a catalogue.
const MAX_SAME_SHAPE_IN_A_ROW: usize = 3;
const MAX_VISIBLE_WORDS: usize = 40;
const MAX_SPOKEN_WORDS: usize = 50;

/// Slides allowed more than 40 visible words, and why. The test fails when one of them
/// no longer needs it, so the list only shrinks. (The corrections table is the
/// handout now, in the appendix.)
const WORDY: &[(&str, &str, &str)] = &[];

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
        "Every request took 40 ms",
        "2015",
        "the year of Julia Evans's post, cited on the slide",
    ),
    (
        "How much UDP arrives across the earth?",
        "99.8",
        "Karl Seguin, \"How Unreliable Is UDP?\", openmymind.net: 57,397 / 57,492 = 99.83 %",
    ),
    (
        "How much UDP arrives across the earth?",
        "57397",
        "the sum of the received column of Seguin's table (20 pairs of five servers)",
    ),
    (
        "How much UDP arrives across the earth?",
        "57492",
        "the sum of the sent column of Seguin's table",
    ),
];

/// The demos the presenter reruns live: named in the title slide's notes, in a
/// paragraph that starts with this.
const LIVE_RUNS: &str = "Live runs";

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
fn the_main_talk_has_at_most_34_slides() {
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
fn the_talk_takes_at_most_30_minutes() {
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
    let text: String = contract::terminal::lines(&t)
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

/// What a slide looks like to the room, from the slide model: whether its title asks,
/// what it shows (terminal, chart, diagram, table, code, or only words) and whether it
/// reveals in steps. Two slides with the same shape feel the same, whatever they say.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    asks: bool,
    shows: BTreeSet<&'static str>,
    reveals: bool,
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shows: Vec<&str> = self.shows.iter().copied().collect();
        write!(
            f,
            "{} title + {}{}",
            if self.asks { "question" } else { "statement" },
            if shows.is_empty() {
                "words only".to_string()
            } else {
                shows.join(" + ")
            },
            if self.reveals { " + reveal" } else { "" }
        )
    }
}

/// Whether a slide reveals in steps: Markdown's `<!-- pause -->`, or what the rST
/// reader makes of `.. rst-class:: build`.
fn reveals(visible: &str) -> bool {
    visible.contains("<!-- pause -->")
        || visible.contains("class=\"build\"")
        || visible.contains("deck-step")
}

fn shape(s: &Slide) -> Shape {
    let mut shows = BTreeSet::new();
    if !s.demos.is_empty() {
        shows.insert("terminal");
    }
    if !s.charts.is_empty() {
        shows.insert("chart");
    }
    let v = &s.visible;
    if v.contains("```svgbob") || v.contains("<svg") || v.contains("ladder") {
        shows.insert("diagram");
    }
    if v.lines().any(|l| l.trim_start().starts_with('|')) {
        shows.insert("table");
    }
    if v.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("```") && !l.starts_with("```svgbob") && l.len() > 3
    }) {
        shows.insert("code");
    }
    Shape {
        asks: s.title.trim_end().ends_with('?'),
        shows,
        reveals: reveals(v),
    }
}

/// The runs of more than `max` slides in a row with one shape, as messages.
fn monotonous(slides: &[Slide], max: usize) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut start = 0;
    for i in 1..=slides.len() {
        let same = i < slides.len() && shape(&slides[i]) == shape(&slides[start]);
        if same {
            continue;
        }
        if i - start > max {
            let names: Vec<String> = slides[start..i].iter().map(Slide::name).collect();
            wrong.push(format!(
                "{} slides in a row are `{}`:\n  {}",
                i - start,
                shape(&slides[start]),
                names.join("\n  ")
            ));
        }
        start = i;
    }
    wrong
}

#[test]
fn no_more_than_3_slides_in_a_row_have_the_same_shape() {
    let main = main_slides();
    for s in &main {
        eprintln!("{:<60} {}", s.name(), shape(s));
    }
    let wrong = monotonous(&main, MAX_SAME_SHAPE_IN_A_ROW);
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    // A rhythm, not one shape with exceptions: charts, one-line results (a statement
    // over a terminal, no reveal) and words-only slides all appear.
    let shapes: Vec<Shape> = main.iter().map(shape).collect();
    let charts = shapes.iter().filter(|s| s.shows.contains("chart")).count();
    let results = shapes
        .iter()
        .filter(|s| !s.asks && !s.reveals && s.shows.contains("terminal"))
        .count();
    assert!(
        charts >= 2 && results >= 3,
        "only {charts} chart slides and {results} one-line results (a statement title over a terminal, no reveal)"
    );
}

/// The slide before and after its first reveal: the engine turns `<!-- pause -->` into
/// a `deck-step` block, and so does the rST reader with `.. rst-class:: build`.
fn split_at_pause(visible: &str) -> Option<(&str, &str)> {
    let at = visible
        .find("<!-- pause -->")
        .into_iter()
        .chain(visible.find("class=\"deck-step"))
        .min()?;
    let before = &visible[..at];
    Some((before, &visible[at..]))
}

/// The bold phrases of some Markdown (`**...**`, or `<strong>` from the rST reader):
/// what a slide puts forward as its answer.
fn bold_phrases(markdown: &str) -> Vec<String> {
    let stars = markdown.split("**").skip(1).step_by(2);
    let strong = markdown
        .split("<strong>")
        .skip(1)
        .filter_map(|p| p.split_once("</strong>").map(|(b, _)| b));
    stars
        .chain(strong)
        .map(|p| p.trim().to_lowercase())
        .filter(|p| p.chars().any(char::is_alphanumeric))
        .collect()
}

/// Why a question slide gives its answer away before the reveal, if it does.
/// `claims` gives a demo's claim (its caption) by name.
fn answer_before_reveal(s: &Slide, claims: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let (before, after) = split_at_pause(&s.visible)?;
    let after_words = talk::visible_text(after)
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    if after_words == 0 {
        return Some("nothing after the pause: the takeaway belongs there".into());
    }
    // A chart is a measured answer: it belongs after the question's reveal.
    if talk::shows_chart(before) {
        return Some("a chart shows before the pause: it is the answer".into());
    }
    let shown = talk::visible_text(before).to_lowercase();
    let shown = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    let answer = bold_phrases(after);
    if answer.is_empty() {
        return Some(
            "the takeaway after the pause puts nothing in **bold**: which words are the answer?"
                .into(),
        );
    }
    for phrase in answer {
        let phrase = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        if shown.contains(&phrase) {
            return Some(format!("the answer `{phrase}` shows before the pause"));
        }
    }
    for demo in s
        .demos
        .iter()
        .filter(|d| before.contains(&format!("\"{d}\"")))
    {
        if let Some(claim) = claims(demo) {
            let claim = claim.to_lowercase();
            let head: String = claim
                .split_whitespace()
                .take(6)
                .collect::<Vec<_>>()
                .join(" ");
            if shown.contains(&head) {
                return Some(format!("the claim of {demo} is written before the pause"));
            }
        }
    }
    None
}

#[test]
fn no_question_shows_its_answer_before_the_reveal() {
    let repo = talk::repo();
    let claims: Vec<(String, String)> = deck::catalog::list(&repo.join("demos"))
        .unwrap_or_else(|e| panic!("listing the demos: {e}"))
        .into_iter()
        .map(|d| (d.name, d.claim))
        .collect();
    let claim = |name: &str| {
        claims
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c.clone())
    };
    let wrong: Vec<String> = main_slides()
        .iter()
        .filter(|s| shape(s).asks)
        .filter_map(|s| {
            Some(format!(
                "{}: {}",
                s.name(),
                answer_before_reveal(s, &claim)?
            ))
        })
        .collect();
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// The value of `key = "..."` under `[preprocessor.deck]` in book.toml, if set.
fn deck_setting(key: &str) -> Option<String> {
    let toml = talk::read(&talk::repo().join("book.toml"));
    let mut in_deck = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deck = line == "[preprocessor.deck]";
        } else if in_deck
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            let v = v.trim().trim_matches('"').trim();
            return (!v.is_empty()).then(|| v.to_string());
        }
    }
    None
}

/// The talk ends where it started: the trade-off it announced, measured, with the
/// fallacies and the 40 ms hook in the last words. The commands to run on Monday come
/// just before; the table of every correction is the handout, in the appendix.
#[test]
fn the_talk_closes_its_arc() {
    let main = main_slides();
    let hook = main.iter().find(|s| !is_title_slide(s));
    let (Some(hook), [.., monday, close]) = (hook, main.as_slice()) else {
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
    let text = format!("{} {}", close.title, close.visible).to_lowercase();
    for word in ["hassle", "reliability", "latency", "bandwidth"] {
        if !text.contains(word) {
            wrong.push(format!("{}: the trade-off lacks `{word}`", close.name()));
        }
    }
    if !close.charts.iter().any(|(demo, _)| demo == "ipc-table") {
        wrong.push(format!("{}: no IPC figures", close.name()));
    }
    let spoken = close.spoken().to_lowercase();
    if !spoken.contains("fallacies") {
        wrong.push(format!("{}: no spoken line on the fallacies", close.name()));
    }
    let hook_number = numbers(&hook.title);
    if hook_number.is_empty() || !spoken.contains("forty") && !spoken.contains(&hook_number[0]) {
        wrong.push(format!(
            "the last words do not return to the hook `{}`",
            hook.title
        ));
    }
    let handout = slides().into_iter().find(|s| {
        !s.main
            && s.visible
                .lines()
                .filter(|l| l.trim_start().starts_with('|'))
                .count()
                >= 10
            && s.title.to_lowercase().contains("corrected")
    });
    if handout.is_none() {
        wrong.push("no corrections table (a row per section) in the appendix".into());
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// After the last words, the closing slide the deck makes from book.toml: thanks, the
/// address of the online version and its QR code (made at build time), and where the
/// demos are. Its keys are `closing` (the slide's title) and `url`.
#[test]
fn the_talk_ends_with_a_closing_slide() {
    let missing: Vec<&str> = ["closing", "url"]
        .into_iter()
        .filter(|key| deck_setting(key).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "book.toml sets no {missing:?} under [preprocessor.deck]: the talk needs its closing slide (thanks, the online address, its QR code)"
    );
}

/// Early on, the room hears why this matters beyond curiosity: the software that wins.
#[test]
fn the_talk_says_early_why_a_cto_should_care() {
    let early: String = main_slides()
        .iter()
        .take(4)
        .map(|s| format!("{} {}", s.visible, s.spoken()))
        .collect::<String>()
        .to_lowercase();
    let missing: Vec<&str> = ["nginx", "haproxy", "redis", "fork", "docker", "namespaces"]
        .into_iter()
        .filter(|w| !early.contains(w))
        .collect();
    assert!(
        missing.is_empty(),
        "the first four slides never say {missing:?}"
    );
}

/// The presenter knows which five or six demos to run live, and each is on a main slide.
#[test]
fn the_notes_name_5_or_6_demos_to_run_live() {
    let main = main_slides();
    let Some(title) = main.first() else {
        panic!("no main slides");
    };
    let Some(paragraph) = title
        .notes
        .split("\n\n")
        .find(|p| p.trim_start().starts_with(LIVE_RUNS))
    else {
        panic!(
            "{}: no notes paragraph starting `{LIVE_RUNS}`",
            title.name()
        );
    };
    let on_stage: BTreeSet<&str> = main
        .iter()
        .flat_map(|s| s.demos.iter().map(String::as_str))
        .collect();
    let named: BTreeSet<&str> = paragraph
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.contains(' '))
        .collect();
    let unknown: Vec<&&str> = named.iter().filter(|d| !on_stage.contains(**d)).collect();
    assert!(
        unknown.is_empty(),
        "{}: live runs {unknown:?} are on no main slide",
        title.name()
    );
    assert!(
        (5..=6).contains(&named.len()),
        "{}: {} demos named to run live, not 5 or 6: {named:?}",
        title.name(),
        named.len()
    );
}

/// Each chart measures one thing: every bar in one unit, so no two bars of different
/// scales stand side by side as equals.
#[test]
fn every_chart_has_one_unit() {
    let repo = talk::repo();
    let mut wrong = Vec::new();
    for s in slides() {
        for (demo, metrics) in &s.charts {
            let t = talk::transcript(&repo, demo);
            let units: BTreeSet<String> = metrics
                .iter()
                .filter(|m| !deck::chart::is_option(m))
                .filter_map(|m| t.metrics.iter().find(|x| &x.name == m))
                .map(|m| m.unit.clone())
                .collect();
            if units.len() > 1 {
                wrong.push(format!(
                    "{}: the chart of {demo} mixes units {units:?}: split it",
                    s.name()
                ));
            }
        }
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
