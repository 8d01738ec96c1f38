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
//!    demo. Directives in code blocks and code spans are text and are left alone; one
//!    anywhere else (inside a list, mid-sentence) is an error, not silently kept.
//!
//! The output is the same Markdown, wrapped in `<section class="slide">` and
//! `<aside class="notes">` HTML blocks. Everything not matched above is copied byte for
//! byte, so mdbook renders it exactly as it would without us.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Something wrong in a chapter, at a 1-based line of its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// The Markdown extensions mdbook turns on, so we see the same blocks it will.
pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    SlideTitle,
    Break,
    NotesMarker,
    Demo(String),
    Other,
}

struct Block {
    range: Range<usize>,
    kind: Kind,
}

/// Parses `{{#demo NAME}}` (the whole of a trimmed paragraph) into NAME.
pub fn parse_demo_directive(text: &str) -> Option<Result<String, String>> {
    let inner = text.trim().strip_prefix("{{#demo")?.strip_suffix("}}")?;
    if !inner.starts_with(char::is_whitespace) {
        return None;
    }
    let words: Vec<&str> = inner.split_whitespace().collect();
    Some(match words.as_slice() {
        [name] if is_demo_name(name) => Ok(name.to_string()),
        [name] => Err(format!(
            "`{name}` is not a demo name (lowercase letters, digits and `-`)"
        )),
        [] => Err("`{{#demo}}` needs a demo name".into()),
        _ => Err(format!(
            "`{{{{#demo{inner}}}}}` takes exactly one demo name"
        )),
    })
}

fn is_demo_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// 1-based line of a byte offset.
pub fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

fn top_level_blocks(src: &str, problems: &mut Vec<Problem>) -> Vec<Block> {
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
    for (event, range) in Parser::new_ext(src, markdown_options()).into_offset_iter() {
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
                        _ if paragraph && text.trim() == "Notes:" => Kind::NotesMarker,
                        _ if paragraph => match parse_demo_directive(&src[start..range.end]) {
                            Some(Ok(name)) => Kind::Demo(name),
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
                    if !matches!(kind, Kind::Demo(_)) {
                        for &at in &directive_at {
                            problems.push(Problem {
                                line: line_of(src, at),
                                message: "`{{#demo NAME}}` must be a paragraph of its own, \
                                          at the top level of the chapter"
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
                if !in_code_block && t.contains("{{#demo") {
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
    blocks
}

/// Turns one chapter's Markdown into slides. `demo` renders a `{{#demo NAME}}` or says
/// why it cannot.
pub fn to_slides(
    src: &str,
    demo: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<String, Vec<Problem>> {
    let mut problems = Vec::new();
    let blocks = top_level_blocks(src, &mut problems);
    let mut out = String::with_capacity(src.len() + 256);
    let mut slides = 0usize;
    let mut in_slide = false;
    let mut in_notes = false;
    let mut copied_to = 0;

    let close = |out: &mut String, in_slide: &mut bool, in_notes: &mut bool| {
        if *in_notes {
            out.push_str("\n\n</aside>");
            *in_notes = false;
        }
        if *in_slide {
            out.push_str("\n\n</section>\n\n");
            *in_slide = false;
        }
    };
    let open = |out: &mut String, slides: &mut usize, in_slide: &mut bool| {
        *slides += 1;
        out.push_str(&format!(
            "\n\n<section class=\"slide\" id=\"slide-{slides}\">\n\n"
        ));
        *in_slide = true;
    };

    for block in &blocks {
        // Whatever lies between blocks (blank lines, link reference definitions) stays.
        out.push_str(&src[copied_to..block.range.start]);
        copied_to = block.range.end;
        match &block.kind {
            Kind::SlideTitle | Kind::Break => {
                close(&mut out, &mut in_slide, &mut in_notes);
                open(&mut out, &mut slides, &mut in_slide);
                if block.kind == Kind::SlideTitle {
                    out.push_str(&src[block.range.clone()]);
                }
            }
            Kind::NotesMarker => {
                if !in_slide {
                    open(&mut out, &mut slides, &mut in_slide);
                }
                if in_notes {
                    problems.push(Problem {
                        line: line_of(src, block.range.start),
                        message: "a second `Notes:` on the same slide".into(),
                    });
                }
                out.push_str("\n\n<aside class=\"notes\">\n\n");
                in_notes = true;
            }
            Kind::Demo(name) => {
                if !in_slide {
                    open(&mut out, &mut slides, &mut in_slide);
                }
                match demo(name) {
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
            Kind::Other => {
                if !in_slide {
                    open(&mut out, &mut slides, &mut in_slide);
                }
                out.push_str(&src[block.range.clone()]);
            }
        }
    }
    out.push_str(&src[copied_to..]);
    close(&mut out, &mut in_slide, &mut in_notes);
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// How many slides a converted chapter has (for tests and the coverage map).
pub fn count_slides(converted: &str) -> usize {
    converted.matches("<section class=\"slide\"").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_demos(name: &str) -> Result<String, String> {
        Err(format!("no demo `{name}`"))
    }

    fn fake_demo(name: &str) -> Result<String, String> {
        Ok(format!("<figure>{name}</figure>"))
    }

    fn slides(src: &str) -> String {
        to_slides(src, &mut fake_demo).unwrap()
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
        assert!(out.contains("\n\n<figure>peek</figure>\n\n"), "{out}");
        assert!(!out.contains("{{#demo"));
    }

    #[test]
    fn directives_in_code_are_left_alone() {
        let src = "## A\n\n```\n{{#demo nope}}\n```\n\nUse `{{#demo nope}}` to embed.\n\n    {{#demo nope}}\n";
        let out = to_slides(src, &mut no_demos).unwrap();
        assert_eq!(out.matches("{{#demo nope}}").count(), 3, "{out}");
    }

    #[test]
    fn a_missing_demo_is_reported_at_its_line() {
        let err = to_slides("# T\n\ntext\n\n{{#demo nope}}\n", &mut no_demos).unwrap_err();
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
            &mut fake_demo,
        )
        .unwrap_err();
        let lines: Vec<usize> = err.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 3, 5], "{err:?}");
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
}
