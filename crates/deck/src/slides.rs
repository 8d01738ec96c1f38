//! Where slides start and end, and what is a speaker note.
//!
//! The rules, applied to the top-level blocks of a chapter:
//!
//! 1. A level-1 or level-2 heading (`#`, `##`, or their underlined forms) starts a new
//!    slide and is its title. Deeper headings stay inside the slide.
//! 2. A thematic break (`---`, `***`) starts a new slide without a title; the break
//!    itself is not shown.
//! 3. Anything before the first heading or break is a slide of its own.
//! 4. A paragraph that is exactly `Notes:` starts the current slide's speaker notes;
//!    everything after it up to the next slide is notes.
//! 5. A paragraph that is exactly `{{#demo NAME}}` becomes the captured run of that
//!    demo, and one that is exactly `{{#chart DEMO METRIC [METRIC...]}}` a bar chart of
//!    those metrics from that demo's transcript. Directives in code blocks and code
//!    spans are text and are left alone; one anywhere else (inside a list,
//!    mid-sentence) is an error, not silently kept.
//! 6. A fenced code block whose info string is `svgbob` becomes that ASCII diagram drawn
//!    as inline SVG (see [`crate::diagram`]).
//! 7. A paragraph that is exactly `<!-- pause -->` (as in presenterm) makes what follows
//!    it on the slide, up to the next pause, the notes or the slide's end, one step,
//!    wrapped in `<div class="deck-step deck-pause">` (the CSS makes the wrapper
//!    transparent to the slide's layout): the player reveals steps one by one. In the
//!    notes a pause means nothing and is dropped.
//!
//! The output is the same Markdown, wrapped in `<section class="slide">` and
//! `<aside class="notes">` HTML blocks. Everything not matched above is copied byte for
//! byte, so mdbook renders it exactly as it would without us.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};

use contract::page;

use crate::diagram;
pub use contract::directive::{
    parse_chart_directive, parse_demo_directive, parse_kernels_directive, parse_ladder_directive,
};
pub use rst::Problem;

/// The one way the deck parses Markdown: mdBook's own parser set-up (tables, footnotes,
/// definition lists, GFM admonitions, smart punctuation...), so we see the blocks it will.
pub fn parser(text: &str) -> Parser<'_> {
    mdbook_markdown::new_cmark_parser(text, &mdbook_markdown::MarkdownOptions::default())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    SlideTitle,
    Break,
    NotesMarker,
    Demo(String),
    Chart {
        demo: String,
        metrics: Vec<String>,
    },
    Ladder {
        demo: String,
        connection: Option<String>,
    },
    /// `{{#kernels}}` (None: the table of every demo) or `{{#kernels DEMO "TEXT"}}`.
    Kernels(Option<(String, String)>),
    Diagram(String),
    Pause,
    Other,
}

/// What the directives of a chapter turn into: the book's demos, or a test's fakes.
pub trait Embed {
    /// The figure of `{{#demo NAME}}`, or why there is none.
    fn demo(&mut self, name: &str) -> Result<String, String>;
    /// The chart of `{{#chart DEMO METRIC...}}`, or why there is none.
    fn chart(&mut self, demo: &str, metrics: &[String]) -> Result<String, String>;
    /// The ladder of `{{#ladder DEMO [CONNECTION]}}`, or why there is none.
    fn ladder(&mut self, demo: &str, connection: Option<&str>) -> Result<String, String> {
        let _ = connection;
        Err(format!(
            "`{{{{#ladder {demo}}}}}`: this book has no captured wires"
        ))
    }
    /// `{{#kernels}}` (the table of every demo against every kernel) or
    /// `{{#kernels DEMO "TEXT"}}` (DEMO's line with TEXT, one row per kernel). The
    /// book's demos say why they cannot; a test's fakes show nothing by default.
    fn kernels(&mut self, line: Option<(&str, &str)>) -> Result<String, String> {
        let _ = line;
        Ok(String::new())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) range: Range<usize>,
    pub(crate) kind: Kind,
}

/// The plain text of the first top-level paragraph of some Markdown, if it has one. Of
/// a slide's notes, that is the spoken paragraph: what the presenter says aloud (the
/// rest of the notes is depth for questions).
pub fn first_paragraph(markdown: &str) -> Option<String> {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut inside = false;
    for event in parser(markdown) {
        match event {
            Event::Start(Tag::Paragraph) if depth == 0 => {
                inside = true;
                depth += 1;
            }
            Event::Start(_) => depth += 1,
            Event::End(TagEnd::Paragraph) if depth == 1 && inside => return Some(out),
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if inside => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak if inside => out.push(' '),
            _ => {}
        }
    }
    None
}

/// 1-based line of a byte offset.
pub fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// A paragraph that is a whole directive, as the block it becomes.
fn directive(paragraph: &str) -> Option<Result<Kind, String>> {
    if let Some(demo) = parse_demo_directive(paragraph) {
        return Some(demo.map(Kind::Demo));
    }
    if let Some(ladder) = parse_ladder_directive(paragraph) {
        return Some(ladder.map(|(demo, connection)| Kind::Ladder { demo, connection }));
    }
    if let Some(kernels) = parse_kernels_directive(paragraph) {
        return Some(kernels.map(Kind::Kernels));
    }
    parse_chart_directive(paragraph)
        .map(|chart| chart.map(|(demo, metrics)| Kind::Chart { demo, metrics }))
}

pub(crate) fn top_level_blocks(src: &str, problems: &mut Vec<Problem>) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let mut first_tag: Option<Tag<'_>> = None;
    // Plain text of the current top-level block, to recognise `Notes:`.
    let mut text = String::new();
    let mut has_code = false;
    let mut in_code_block = false;
    // Where `{{#demo` appears as text in the current top-level block.
    let mut directive_at = Vec::new();
    for (event, range) in parser(src).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    start = range.start;
                    text.clear();
                    directive_at.clear();
                    has_code = false;
                }
                if matches!(tag, Tag::CodeBlock(_)) {
                    in_code_block = true;
                }
                if depth == 0 {
                    first_tag = Some(tag);
                }
                depth += 1;
            }
            Event::End(end) => {
                depth -= 1;
                if end == TagEnd::CodeBlock {
                    in_code_block = false;
                }
                if depth == 0 {
                    let paragraph = end == TagEnd::Paragraph && !has_code;
                    let kind = match first_tag.take() {
                        Some(Tag::Heading { level, .. }) if (level as u8) <= 2 => Kind::SlideTitle,
                        Some(Tag::HtmlBlock) if is_pause(&src[start..range.end]) => Kind::Pause,
                        Some(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                            if info.split_whitespace().next() == Some("svgbob") =>
                        {
                            Kind::Diagram(text.clone())
                        }
                        _ if paragraph && text.trim() == "Notes:" => Kind::NotesMarker,
                        _ if paragraph => match directive(&src[start..range.end]) {
                            Some(Ok(kind)) => kind,
                            Some(Err(message)) => {
                                problems.push(Problem {
                                    line: line_of(src, start),
                                    message,
                                });
                                directive_at.clear();
                                Kind::Other
                            }
                            None => Kind::Other,
                        },
                        _ => Kind::Other,
                    };
                    if !matches!(
                        kind,
                        Kind::Demo(_) | Kind::Chart { .. } | Kind::Ladder { .. }
                    ) {
                        for &at in &directive_at {
                            problems.push(Problem {
                                line: line_of(src, at),
                                message: "`{{#demo NAME}}` and `{{#chart DEMO METRIC...}}` \
                                          must be a paragraph of their own, at the top level \
                                          of the chapter"
                                    .into(),
                            });
                        }
                    }
                    blocks.push(Block {
                        range: start..range.end,
                        kind,
                    });
                }
            }
            Event::Rule if depth == 0 => blocks.push(Block {
                range,
                kind: Kind::Break,
            }),
            Event::Text(t) => {
                if !in_code_block
                    && ["{{#demo", "{{#chart", "{{#ladder"]
                        .iter()
                        .any(|d| t.contains(d))
                {
                    directive_at.push(range.start);
                }
                text.push_str(&t);
            }
            Event::Code(_) => has_code = true,
            Event::Html(_) | Event::InlineHtml(_) if depth == 0 => {
                blocks.push(Block {
                    range,
                    kind: Kind::Other,
                });
            }
            _ => {}
        }
    }
    // pulldown-cmark 0.13 can end a definition list where the paragraph after it ends
    // (found by the rST fuzzer): a block ends where the next one starts, at the latest.
    for k in 1..blocks.len() {
        let next = blocks[k].range.start;
        let previous = &mut blocks[k - 1].range;
        previous.end = previous.end.clamp(previous.start, next.max(previous.start));
    }
    blocks
}

/// Where a block stands on its slide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Shown from the start.
    Shown,
    /// Revealed by the player as step N (1-based) of the slide.
    Step(usize),
    /// In the speaker notes.
    Notes,
}

/// One slide of a chapter: the one model of where slides start and end that the
/// rendering ([`render`]), the numbering (`#slide-N`), the pacing
/// ([`crate::pacing::loads`]) and the tests all read.
pub struct Slide {
    /// 1-based within its chapter, as in `#slide-N` ([`contract::page::slide_id`]).
    pub number: usize,
    pub(crate) blocks: Vec<(Block, Part)>,
    /// Set when this is the talk's title slide ([`crate::title::apply`]).
    pub title: Option<TitleSlide>,
}

/// What makes a slide the talk's title slide: marked `data-title-slide`, with the
/// title's lines under its heading. A title slide of its own (when the chapter does not
/// open with the book's title) has no source blocks, only its heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleSlide {
    /// The heading of a title slide of its own, as Markdown; `None` when the slide is
    /// the chapter's own first slide, whose heading stays.
    pub heading: Option<String>,
    /// One line of HTML (a Markdown HTML block) under the heading.
    pub lines: String,
}

impl Slide {
    /// The slide's title (its level-1 or level-2 heading) as Markdown, if it has one.
    pub fn heading<'s>(&self, src: &'s str) -> Option<&'s str> {
        self.blocks
            .iter()
            .find(|(b, _)| b.kind == Kind::SlideTitle)
            .map(|(b, _)| &src[b.range.clone()])
    }

    /// The demos shown on the slide (not those in the notes), in order.
    pub fn demos(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|(b, part)| match &b.kind {
                Kind::Demo(name) if *part != Part::Notes => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The charts shown on the slide: each chart's demo and metrics (options included).
    pub fn charts(&self) -> Vec<(&str, &[String])> {
        self.blocks
            .iter()
            .filter_map(|(b, part)| match &b.kind {
                Kind::Chart { demo, metrics } if *part != Part::Notes => {
                    Some((demo.as_str(), metrics.as_slice()))
                }
                _ => None,
            })
            .collect()
    }

    /// The ladders of packets shown on the slide, by demo.
    pub fn ladders(&self) -> Vec<&str> {
        self.blocks
            .iter()
            .filter_map(|(b, part)| match &b.kind {
                Kind::Ladder { demo, .. } if *part != Part::Notes => Some(demo.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A chapter cut into slides: the source, its slides, and what is wrong in it (a
/// malformed or misplaced directive, a second `Notes:` on a slide).
pub struct Chapter<'s> {
    pub src: &'s str,
    pub slides: Vec<Slide>,
    pub problems: Vec<Problem>,
}

/// Cuts one chapter's Markdown into slides by the rules at the top of this module.
pub fn chapter(src: &str) -> Chapter<'_> {
    let mut problems = Vec::new();
    let mut slides: Vec<Slide> = Vec::new();
    let mut part = Part::Shown;
    for block in top_level_blocks(src, &mut problems) {
        let opens = matches!(block.kind, Kind::SlideTitle | Kind::Break);
        if opens || slides.is_empty() {
            slides.push(Slide {
                number: slides.len() + 1,
                blocks: Vec::new(),
                title: None,
            });
            part = Part::Shown;
        }
        match block.kind {
            Kind::NotesMarker => {
                if part == Part::Notes {
                    problems.push(Problem {
                        line: line_of(src, block.range.start),
                        message: "a second `Notes:` on the same slide".into(),
                    });
                }
                part = Part::Notes;
            }
            // In the notes a pause means nothing.
            Kind::Pause if part != Part::Notes => {
                part = Part::Step(match part {
                    Part::Step(n) => n + 1,
                    _ => 1,
                });
            }
            _ => {}
        }
        if let Some(slide) = slides.last_mut() {
            slide.blocks.push((block, part));
        }
    }
    Chapter {
        src,
        slides,
        problems,
    }
}

/// One slide as rendered: what the room sees and the speaker notes, as Markdown with
/// the directives replaced by their figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub number: usize,
    /// The slide without its notes (its steps wrapped in `deck-step` divs).
    pub shown: String,
    /// The notes, when the slide has `Notes:`.
    pub notes: Option<String>,
    /// Whether it is the talk's title slide (`data-title-slide`).
    pub title_slide: bool,
}

/// A chapter rendered slide by slide: what precedes the first slide (blank lines,
/// link definitions), then the slides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedChapter {
    pub before: String,
    pub slides: Vec<Rendered>,
}

impl RenderedChapter {
    /// The chapter as mdBook gets it: each slide in `<section class="slide"
    /// id="slide-N">`, its notes in `<aside class="notes">`.
    pub fn to_markdown(&self) -> String {
        let mut out = self.before.clone();
        for slide in &self.slides {
            out.push_str(&format!(
                "\n\n<section class=\"{}\" id=\"{}\"{}>\n\n",
                page::class::SLIDE,
                page::slide_id(slide.number),
                if slide.title_slide {
                    format!(" {}", page::attr::TITLE_SLIDE)
                } else {
                    String::new()
                }
            ));
            out.push_str(&slide.shown);
            if let Some(notes) = &slide.notes {
                out.push_str(&format!("\n\n<aside class=\"{}\">\n\n", page::class::NOTES));
                out.push_str(notes);
                out.push_str("\n\n</aside>");
            }
            out.push_str("\n\n</section>\n\n");
        }
        out
    }
}

/// Renders a chapter's slides. `embed` renders `{{#demo}}` and `{{#chart}}`
/// directives or says why it cannot.
pub fn render(
    chapter: &Chapter<'_>,
    embed: &mut dyn Embed,
) -> Result<RenderedChapter, Vec<Problem>> {
    /// A slide being written: what is shown, the notes, the open step.
    struct Open {
        slide: Rendered,
        step: Option<Part>,
    }
    impl Open {
        /// Where text goes now: the notes once they started, else the slide.
        fn out(&mut self) -> &mut String {
            match &mut self.slide.notes {
                Some(notes) => notes,
                None => &mut self.slide.shown,
            }
        }
        fn finish(mut self) -> Rendered {
            close_step(&mut self.slide.shown, &mut self.step);
            self.slide
        }
    }
    let src = chapter.src;
    let mut problems = chapter.problems.clone();
    let mut before = String::new();
    let mut slides: Vec<Rendered> = Vec::new();
    let mut open: Option<Open> = None;
    // Slides without source (a title slide of its own), written once the slide
    // before them is finished: what lies between that slide's blocks and the next
    // slide's stays on it.
    let mut pending: Vec<Rendered> = Vec::new();
    let mut copied_to = 0;
    for slide in &chapter.slides {
        if let Some(TitleSlide {
            heading: Some(heading),
            lines,
        }) = &slide.title
        {
            pending.push(Rendered {
                number: slide.number,
                shown: format!("{heading}\n\n{lines}"),
                notes: None,
                title_slide: true,
            });
            continue;
        }
        for (i, (block, part)) in slide.blocks.iter().enumerate() {
            // Whatever lies between blocks (blank lines, link reference definitions)
            // stays where it was: on the slide before, or before the first.
            let gap = &src[copied_to..block.range.start];
            copied_to = block.range.end;
            match &mut open {
                Some(o) => o.out().push_str(gap),
                None => before.push_str(gap),
            }
            if i == 0 {
                slides.extend(open.take().map(Open::finish));
                slides.append(&mut pending);
            }
            let o = open.get_or_insert_with(|| Open {
                slide: Rendered {
                    number: slide.number,
                    shown: String::new(),
                    notes: None,
                    title_slide: slide.title.is_some(),
                },
                step: None,
            });
            match part {
                Part::Step(_) if o.step != Some(*part) => {
                    close_step(&mut o.slide.shown, &mut o.step);
                    o.slide.shown.push_str(&format!(
                        "\n\n<div class=\"{} {}\">\n\n",
                        page::class::STEP,
                        page::class::PAUSE
                    ));
                    o.step = Some(*part);
                }
                Part::Notes if o.slide.notes.is_none() => {
                    close_step(&mut o.slide.shown, &mut o.step);
                    o.slide.notes = Some(String::new());
                }
                _ => {}
            }
            let out = o.out();
            let rendered = match &block.kind {
                Kind::SlideTitle | Kind::Other => {
                    out.push_str(&src[block.range.clone()]);
                    // The title slide's lines go under its heading.
                    if block.kind == Kind::SlideTitle
                        && let Some(title) = &slide.title
                    {
                        out.truncate(out.trim_end_matches('\n').len());
                        out.push_str("\n\n");
                        out.push_str(&title.lines);
                        out.push_str("\n\n");
                    }
                    continue;
                }
                Kind::Break | Kind::NotesMarker | Kind::Pause => continue,
                Kind::Demo(name) => embed.demo(name),
                Kind::Chart { demo, metrics } => embed.chart(demo, metrics),
                Kind::Ladder { demo, connection } => embed.ladder(demo, connection.as_deref()),
                Kind::Kernels(line) => embed.kernels(
                    line.as_ref()
                        .map(|(demo, text)| (demo.as_str(), text.as_str())),
                ),
                Kind::Diagram(ascii) => diagram::render(ascii),
            };
            match rendered {
                Ok(html) => {
                    out.push_str("\n\n");
                    out.push_str(&html);
                    out.push_str("\n\n");
                }
                Err(message) => problems.push(Problem {
                    line: line_of(src, block.range.start),
                    message,
                }),
            }
        }
    }
    let rest = &src[copied_to..];
    match &mut open {
        Some(o) => o.out().push_str(rest),
        None => before.push_str(rest),
    }
    slides.extend(open.take().map(Open::finish));
    slides.append(&mut pending);
    if problems.is_empty() {
        Ok(RenderedChapter { before, slides })
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// Turns one chapter's Markdown into slides, as mdBook gets it (see [`render`]).
pub fn to_slides(src: &str, embed: &mut dyn Embed) -> Result<String, Vec<Problem>> {
    render(&chapter(src), embed).map(|r| r.to_markdown())
}

/// Whether an HTML block is the step marker `<!-- pause -->` (spaces inside may vary).
fn is_pause(html: &str) -> bool {
    html.trim()
        .strip_prefix("<!--")
        .and_then(|rest| rest.strip_suffix("-->"))
        .is_some_and(|inner| inner.trim() == "pause")
}

fn close_step(out: &mut String, step: &mut Option<Part>) {
    if step.take().is_some() {
        out.push_str("\n\n</div>");
    }
}

/// How many slides a converted chapter has (for tests and the coverage map).
pub fn count_slides(converted: &str) -> usize {
    converted
        .matches(&format!("<section class=\"{}\"", page::class::SLIDE))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_sees_the_blocks_mdbook_renders() {
        let starts = |md: &str| -> Vec<Tag<'static>> {
            parser(md)
                .filter_map(|e| match e {
                    Event::Start(t) => Some(t.into_static()),
                    _ => None,
                })
                .collect()
        };
        assert!(starts("Term\n: its definition\n").contains(&Tag::DefinitionList));
        assert!(
            starts("> [!NOTE]\n> Read this.\n")
                .contains(&Tag::BlockQuote(Some(pulldown_cmark::BlockQuoteKind::Note)))
        );
    }

    use crate::test_support::FakeEmbed::{Echo, Missing};

    fn slides(src: &str) -> String {
        to_slides(src, &mut Echo).unwrap()
    }

    #[test]
    fn ladder_directives_parse_and_reach_the_embed_from_markdown_and_rst() {
        assert_eq!(
            parse_ladder_directive("{{#ladder close-sends-rst unread}}"),
            Some(Ok(("close-sends-rst".into(), Some("unread".into()))))
        );
        assert_eq!(
            parse_ladder_directive("{{#ladder half-close}}"),
            Some(Ok(("half-close".into(), None)))
        );
        assert!(parse_ladder_directive("{{#ladder}}").unwrap().is_err());
        assert!(
            parse_ladder_directive("{{#ladder a b c}}")
                .unwrap()
                .is_err()
        );
        assert_eq!(parse_ladder_directive("{{#ladders a}}"), None);

        let md = to_slides("## A\n\n{{#ladder nagle defaults}}\n", &mut Echo).unwrap();
        assert!(
            md.contains("<figure>LADDER nagle defaults</figure>"),
            "{md}"
        );
        let rst = crate::rst::to_markdown("Title\n=====\n\n.. ladder:: nagle\n");
        let md = to_slides(&rst.markdown, &mut Echo).unwrap();
        assert!(md.contains("<figure>LADDER nagle -</figure>"), "{md}");
        // A book that embeds no wires says so, with the directive.
        let err = to_slides("## A\n\n{{#ladder nagle}}\n", &mut Missing).unwrap_err();
        assert!(format!("{err:?}").contains("no captured wires"), "{err:?}");
    }

    #[test]
    fn a_definition_list_then_a_paragraph_keeps_both_once() {
        let out = slides("term\n:ref:`\n\nAfter <a href=\"x\">x</a>\n");
        assert_eq!(out.matches("After").count(), 1, "{out}");
        assert_eq!(out.matches("term").count(), 1, "{out}");
    }

    #[test]
    fn headings_of_level_one_and_two_start_slides() {
        let out = slides(
            "# Title\n\nintro\n\n## First\n\nbody\n\n### Sub\n\nmore\n\nSecond\n------\n\nx\n",
        );
        assert_eq!(count_slides(&out), 3, "{out}");
        let second = out.find("id=\"slide-2\"").unwrap();
        assert!(
            out[second..].starts_with("id=\"slide-2\">\n\n## First"),
            "{out}"
        );
        let third = out.find("id=\"slide-3\"").unwrap();
        assert!(
            out[..third].contains("### Sub"),
            "level 3 stays in slide 2: {out}"
        );
    }

    #[test]
    fn a_rule_starts_an_untitled_slide_and_is_dropped() {
        let out = slides("## A\n\none\n\n---\n\ntwo\n");
        assert_eq!(count_slides(&out), 2);
        assert!(!out.contains("---"), "{out}");
    }

    #[test]
    fn notes_run_to_the_next_slide() {
        let out =
            slides("## A\n\nshown\n\nNotes:\n\nsaid aloud\n\n- and this\n\n## B\n\nshown too\n");
        let notes = out.find("<aside class=\"notes\">").unwrap();
        let close = out.find("</aside>").unwrap();
        assert!(
            out[notes..close].contains("said aloud") && out[notes..close].contains("- and this")
        );
        assert!(!out[notes..close].contains("shown"), "{out}");
        assert!(!out.contains("Notes:"), "the marker itself is not shown");
        assert!(close < out.find("## B").unwrap());
    }

    #[test]
    fn content_before_any_heading_is_a_slide() {
        let out = slides("just text\n");
        assert_eq!(count_slides(&out), 1);
        assert!(out.contains("just text"));
    }

    #[test]
    fn demo_directive_becomes_the_figure() {
        let out = slides("## A\n\n{{#demo peek}}\n\nafter\n");
        assert!(
            out.contains("\n\n<figure class=\"demo\">DEMO peek</figure>\n\n"),
            "{out}"
        );
        assert!(!out.contains("{{#demo"));
    }

    #[test]
    fn directives_in_code_are_left_alone() {
        let src = "## A\n\n```\n{{#demo nope}}\n```\n\nUse `{{#demo nope}}` to embed.\n\n    {{#demo nope}}\n";
        let out = to_slides(src, &mut Missing).unwrap();
        assert_eq!(out.matches("{{#demo nope}}").count(), 3, "{out}");
    }

    #[test]
    fn a_missing_demo_is_reported_at_its_line() {
        let err = to_slides("# T\n\ntext\n\n{{#demo nope}}\n", &mut Missing).unwrap_err();
        assert_eq!(
            err,
            vec![Problem {
                line: 5,
                message: "no demo `nope`".into()
            }]
        );
    }

    #[test]
    fn misplaced_or_malformed_directives_are_errors() {
        let err = to_slides(
            "see {{#demo peek}} here\n\n- {{#demo peek}}\n\n{{#demo Bad_Name}}\n",
            &mut Echo,
        )
        .unwrap_err();
        let lines: Vec<usize> = err.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 3, 5], "{err:?}");
    }

    /// The end of a code block ends the code: a directive in the text of the block
    /// right after it, out of place there, is still an error.
    #[test]
    fn a_misplaced_directive_right_after_a_code_block_is_an_error() {
        let err = to_slides(
            "```\ncode\n```\n\nsee {{#demo peek}} here\n\n```\nc\n```\n\n- {{#demo peek}}\n",
            &mut Echo,
        )
        .unwrap_err();
        let lines: Vec<usize> = err.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![5, 11], "{err:?}");
    }

    #[test]
    fn everything_else_is_copied_verbatim() {
        let src = "## A\n\nSome *text* with [a link][r].\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[r]: https://man7.org/\n";
        let out = slides(src);
        for piece in [
            "Some *text* with [a link][r].",
            "| a | b |\n|---|---|\n| 1 | 2 |",
            "[r]: https://man7.org/",
        ] {
            assert!(out.contains(piece), "{piece:?} in {out}");
        }
    }

    #[test]
    fn sections_and_asides_are_balanced() {
        let out = slides("pre\n\nNotes:\n\nn\n\n# A\n\nNotes:\n\nn2\n\n---\n\nx\n");
        assert_eq!(
            out.matches("<section").count(),
            out.matches("</section>").count()
        );
        assert_eq!(
            out.matches("<aside").count(),
            out.matches("</aside>").count()
        );
        assert_eq!(count_slides(&out), 3);
    }

    #[test]
    fn chart_directive_becomes_the_chart() {
        let out = slides("## A\n\n{{#chart udp-loss sent received}}\n\nNotes:\n\nn\n");
        assert!(
            out.contains("\n\n<figure>CHART udp-loss sent,received</figure>\n\n"),
            "{out}"
        );
        assert!(!out.contains("{{#chart"), "{out}");
        assert_eq!(count_slides(&out), 1);
    }

    #[test]
    fn malformed_or_misplaced_charts_are_errors_at_their_line() {
        let err = to_slides(
            "{{#chart udp-loss}}\n\n{{#chart Bad x}}\n\n- {{#chart a b}}\n\n{{#chart nope x}}\n",
            &mut Missing,
        )
        .unwrap_err();
        let lines: Vec<usize> = err.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 3, 5, 7], "{err:?}");
        assert!(err[0].message.contains("at least one metric"), "{err:?}");
        assert_eq!(err[3].message, "no demo `nope`");
    }

    #[test]
    fn kernels_directive_is_the_table_or_one_line_per_kernel() {
        assert_eq!(parse_kernels_directive("{{#kernels}}"), Some(Ok(None)));
        assert_eq!(
            parse_kernels_directive("{{#kernels connect-timeout \"ETIMEDOUT would\"}}"),
            Some(Ok(Some((
                "connect-timeout".into(),
                "ETIMEDOUT would".into()
            ))))
        );
        for bad in [
            "{{#kernels connect-timeout}}",
            "{{#kernels connect-timeout \"\"}}",
            "{{#kernels Bad \"x\"}}",
        ] {
            assert!(
                matches!(parse_kernels_directive(bad), Some(Err(_))),
                "{bad}"
            );
        }
        assert_eq!(parse_kernels_directive("{{#kernelsx}}"), None);
    }

    #[test]
    fn chart_directive_parses_demo_and_metrics() {
        assert_eq!(
            parse_chart_directive("{{#chart ipc-table unix.latency tcp.latency}}"),
            Some(Ok((
                "ipc-table".to_string(),
                vec!["unix.latency".to_string(), "tcp.latency".to_string()]
            )))
        );
        assert_eq!(parse_chart_directive("{{#charts x y}}"), None);
        assert_eq!(
            parse_chart_directive(
                "{{#chart nagle a.median=\"write, write, read\"  b=\"TCP_NODELAY\" c}}"
            ),
            Some(Ok((
                "nagle".to_string(),
                vec![
                    "a.median=write, write, read".to_string(),
                    "b=TCP_NODELAY".to_string(),
                    "c".to_string()
                ]
            )))
        );
        for (bad, says) in [
            ("{{#chart d a=\"open}}", "no closing"),
            ("{{#chart d a=\"\"}}", "METRIC=\"words\""),
            ("{{#chart d a\"x\"}}", "not `a\"x\"`"),
        ] {
            let err = parse_chart_directive(bad).unwrap().unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert_eq!(parse_demo_directive("{{#demos x}}"), None);
        assert_eq!(
            parse_demo_directive("{{#demo}}"),
            Some(Err("`{{#demo}}` needs a demo name".to_string()))
        );
        assert!(
            parse_demo_directive("{{#demo a b}}")
                .unwrap()
                .unwrap_err()
                .contains("`{{#demo a b}}` takes exactly one")
        );
        assert_eq!(parse_chart_directive("{{#demo x}}"), None);
    }

    #[test]
    fn pauses_make_steps_up_to_the_next_pause_or_the_notes() {
        let out = slides(
            "## A\n\nalways\n\n<!-- pause -->\n\n- one\n\n<!--pause-->\n\n- two\n\nNotes:\n\nsaid\n\n<!-- pause -->\n\nmore\n\n## B\n\nplain\n",
        );
        assert_eq!(
            out.matches("<div class=\"deck-step deck-pause\">").count(),
            2,
            "{out}"
        );
        assert_eq!(out.matches("</div>").count(), 2, "{out}");
        let first = out.find("<div class=\"deck-step deck-pause\">").unwrap();
        assert!(out[..first].contains("always"), "{out}");
        let steps_end = out.rfind("</div>").unwrap();
        assert!(out[first..steps_end].contains("- two"), "{out}");
        assert!(
            steps_end < out.find("<aside").unwrap(),
            "steps end before the notes: {out}"
        );
        assert!(!out.contains("<!--"), "the markers are gone: {out}");
        assert!(out[out.find("<aside").unwrap()..].contains("more"), "{out}");
        assert_eq!(count_slides(&out), 2);
    }

    /// Each pause starts the next step, numbered from 1 up (the model the plan and the
    /// pages share): three pauses are steps 1, 2 and 3, drawn as three step boxes.
    #[test]
    fn each_pause_starts_the_next_step_numbered_up_from_one() {
        let src =
            "## A\n\na\n\n<!-- pause -->\n\nb\n\n<!-- pause -->\n\nc\n\n<!-- pause -->\n\nd\n";
        let model = chapter(src);
        let parts: Vec<(&str, Part)> = model.slides[0]
            .blocks
            .iter()
            .filter(|(b, _)| b.kind == Kind::Other)
            .map(|(b, part)| (src[b.range.clone()].trim(), *part))
            .collect();
        assert_eq!(
            parts,
            vec![
                ("a", Part::Shown),
                ("b", Part::Step(1)),
                ("c", Part::Step(2)),
                ("d", Part::Step(3))
            ]
        );
        let out = slides(src);
        assert_eq!(
            out.matches("<div class=\"deck-step deck-pause\">").count(),
            3,
            "{out}"
        );
    }

    #[test]
    fn a_step_ends_with_its_slide() {
        let out = slides("## A\n\nx\n\n<!-- pause -->\n\ny\n\n## B\n\nz\n");
        let close = out.find("</div>").unwrap();
        assert!(close < out.find("## B").unwrap(), "{out}");
        assert!(!slides("## A\n\n<!-- not a pause -->\n").contains("deck-step"));
    }

    #[test]
    #[cfg(feature = "svgbob")] // without it: diagram::drawer_tests
    fn svgbob_blocks_become_inline_svg_and_other_code_stays() {
        let src = "## Buffers\n\n```svgbob\nsend --> [buf] --> recv\n```\n\n```rust\nlet x = 1;\n```\n\nNotes:\n\n```svgbob\na --> b\n```\n";
        let out = slides(src);
        assert_eq!(
            out.matches("<div class=\"diagram\"><svg").count(),
            2,
            "{out}"
        );
        assert!(!out.contains("```svgbob"), "{out}");
        assert!(out.contains("```rust\nlet x = 1;\n```"), "{out}");
        let notes = out.find("<aside class=\"notes\">").unwrap();
        assert!(
            out[notes..].contains("<div class=\"diagram\">"),
            "in the notes too"
        );
        for (i, line) in out.lines().enumerate() {
            if line.contains("<svg") {
                assert!(
                    line.contains("</svg></div>"),
                    "line {i} holds the whole SVG"
                );
            }
        }
        assert_eq!(count_slides(&out), 1);
    }

    #[test]
    fn the_spoken_paragraph_joins_its_lines_with_a_space() {
        assert_eq!(
            first_paragraph("- not said\n- aloud\n\nSay this\nout loud.\n\nThen this.").as_deref(),
            Some("Say this out loud.")
        );
    }

    #[test]
    fn a_paragraph_with_code_is_never_the_notes_marker() {
        let out = slides("## A\n\nNotes: `ss -tn`\n\nshown too\n");
        assert!(!out.contains("<aside"), "{out}");
        assert!(out.contains("Notes: `ss -tn`"), "{out}");
    }

    #[test]
    fn a_slides_heading_is_its_title_and_an_untitled_slide_has_none() {
        let c = chapter("intro\n\n## First\n\nbody\n");
        assert_eq!(c.slides[0].heading(c.src), None);
        assert_eq!(c.slides[1].heading(c.src).map(str::trim), Some("## First"));
    }

    #[test]
    fn a_ladder_in_the_notes_is_not_one_the_slide_shows() {
        let c = chapter("## A\n\n{{#ladder shown}}\n\nNotes:\n\n{{#ladder aside}}\n");
        assert_eq!(c.slides[0].ladders(), ["shown"]);
    }

    #[test]
    fn a_chart_in_the_notes_is_not_one_the_slide_shows() {
        let c = chapter("## A\n\n{{#chart shown a.b}}\n\nNotes:\n\n{{#chart aside c.d}}\n");
        let metrics = ["a.b".to_string()];
        assert_eq!(c.slides[0].charts(), [("shown", &metrics[..])]);
    }

    #[test]
    fn a_rule_inside_a_quote_or_a_list_does_not_start_a_slide() {
        let out = slides("## A\n\n> quoted\n>\n> ---\n>\n> more\n\n- item\n\n  ***\n\n  rest\n");
        assert_eq!(count_slides(&out), 1, "{out}");
    }

    #[test]
    fn a_line_break_before_the_spoken_paragraph_is_not_part_of_it() {
        assert_eq!(
            first_paragraph("- a list item\n  on two lines\n\n> a quote\n> too\n\nSaid aloud.")
                .as_deref(),
            Some("Said aloud.")
        );
    }
}
