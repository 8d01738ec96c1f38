//! The talk as its tests see it: the book's chapters cut into slides by the deck's own
//! slide model (`deck::slides::chapter`, after `deck::rst` for `.rst` chapters) and
//! rendered by its renderer, so "where a slide starts" has one definition. Each slide keeps what the room sees (title, text,
//! embedded demos and charts) apart from its speaker notes.

#![allow(dead_code)] // each test crate that includes this module uses part of it

use std::path::{Path, PathBuf};

use contract::Transcript;
use contract::page;
use deck::pacing::{self, SlideLoad};
use deck::slides::{self, Embed};
use pulldown_cmark::{Event, Tag, TagEnd};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A chapter of `slides/SUMMARY.md`: main talk, or appendix (a suffix chapter after the
/// numbered list).
#[derive(Debug, Clone)]
pub struct Chapter {
    pub file: String,
    pub main: bool,
}

/// The chapters in the order of `SUMMARY.md`. Links before and inside the numbered list
/// are the talk; links after the list are its appendix (mdbook's suffix chapters).
pub fn chapters(repo: &Path) -> Vec<Chapter> {
    let summary = read(&repo.join("slides/SUMMARY.md"));
    let mut out = Vec::new();
    let mut seen_list = false;
    for line in summary.lines() {
        let trimmed = line.trim_start();
        let in_list = trimmed.starts_with("- ") || trimmed.starts_with("* ");
        seen_list |= in_list;
        let Some(at) = trimmed.find("](") else {
            continue;
        };
        let rest = &trimmed[at + 2..];
        let Some(end) = rest.find(')') else { continue };
        out.push(Chapter {
            file: rest[..end].to_string(),
            main: in_list || !seen_list,
        });
    }
    out
}

/// The book's title, from `title = "..."` under `[book]` in `book.toml`: the title slide
/// is the first slide of the first chapter, under that heading.
pub fn book_title(repo: &Path) -> String {
    let toml = read(&repo.join("book.toml"));
    let mut in_book = false;
    for line in toml.lines().map(str::trim) {
        if line.starts_with('[') {
            in_book = line == "[book]";
        } else if in_book && let Some(value) = line.strip_prefix("title") {
            let value = value.trim_start().trim_start_matches('=').trim();
            return value.trim_matches('"').to_string();
        }
    }
    panic!("book.toml has no title under [book]");
}

/// One slide: where it is, what the room reads, and what the presenter says.
#[derive(Debug, Clone)]
pub struct Slide {
    pub chapter: String,
    pub main: bool,
    /// 1-based, within its chapter (as `#slide-N` in the built page).
    pub number: usize,
    pub title: String,
    /// The slide without its notes, as Markdown; demos and charts are placeholders.
    pub visible: String,
    /// The speaker notes, as Markdown.
    pub notes: String,
    pub demos: Vec<String>,
    pub charts: Vec<(String, Vec<String>)>,
}

impl Slide {
    pub fn name(&self) -> String {
        format!("{} slide {} `{}`", self.chapter, self.number, self.title)
    }

    /// The words the room reads: title, text, tables, code and diagram labels; not the
    /// notes, not demo output, not charts, not HTML comments such as `<!-- pause -->`.
    pub fn visible_words(&self) -> usize {
        visible_text(&self.visible)
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count()
    }

    /// The first paragraph of the notes: what the presenter says aloud.
    pub fn spoken(&self) -> String {
        slides::first_paragraph(&self.notes).unwrap_or_default()
    }

    /// Everything on and under the slide, for "is this point made here".
    pub fn all_text(&self) -> String {
        format!("{}\n{}\n{}", self.title, self.visible, self.notes)
    }
}

/// Figures without transcripts: empty, with the classes of the real ones (what a slide
/// embeds is read from the slide model, not from these).
struct Placeholders;

impl Embed for Placeholders {
    fn demo(&mut self, name: &str) -> Result<String, String> {
        Ok(format!(
            "<figure class=\"{}\" {}=\"{name}\"></figure>",
            page::class::DEMO,
            page::attr::DEMO
        ))
    }
    fn chart(&mut self, demo: &str, _metrics: &[String]) -> Result<String, String> {
        Ok(format!(
            "<figure class=\"{}\" {}=\"{demo}\"></figure>",
            page::class::CHART,
            page::attr::DEMO
        ))
    }
    fn ladder(&mut self, demo: &str, _connection: Option<&str>) -> Result<String, String> {
        Ok(format!(
            "<figure class=\"{} {}\" {}=\"{demo}\"></figure>",
            page::class::CHART,
            page::class::LADDER,
            page::attr::DEMO
        ))
    }
}

/// Whether rendered Markdown shows a chart (or a ladder).
pub fn shows_chart(markdown: &str) -> bool {
    markdown.contains(&format!("<figure class=\"{}", page::class::CHART))
}

/// The slides of one chapter file, cut by the deck engine.
pub fn chapter_slides(repo: &Path, chapter: &Chapter) -> Vec<Slide> {
    let path = repo.join("slides").join(&chapter.file);
    slides_of(chapter, &read(&path))
}

/// A chapter's source as Markdown (`.rst` chapters converted as the preprocessor does).
pub fn markdown_of(file: &str, src: &str) -> String {
    if file.ends_with(".rst") {
        deck::rst::to_markdown(src).markdown
    } else {
        src.to_string()
    }
}

/// The slides of a chapter's source text (Markdown, or reStructuredText for `.rst`):
/// the deck's one slide model ([`slides::chapter`]), rendered as the preprocessor
/// renders it.
pub fn slides_of(chapter: &Chapter, src: &str) -> Vec<Slide> {
    let markdown = markdown_of(&chapter.file, src);
    let model = slides::chapter(&markdown);
    let rendered = slides::render(&model, &mut Placeholders).unwrap_or_else(|problems| {
        panic!(
            "slides/{}: the deck cannot build it: {problems:?}",
            chapter.file
        )
    });
    model
        .slides
        .iter()
        .zip(rendered.slides)
        .map(|(cut, shown)| {
            assert_eq!(cut.number, shown.number, "{}", chapter.file);
            // A ladder is read like a chart of three bars (as `deck::pacing` counts it).
            let ladders = cut.ladders().into_iter().map(|demo| {
                (
                    demo.to_string(),
                    ["ladder", "of", "packets"].map(String::from).to_vec(),
                )
            });
            Slide {
                chapter: chapter.file.clone(),
                main: chapter.main,
                number: cut.number,
                title: title(&shown.shown),
                visible: shown.shown,
                notes: shown.notes.unwrap_or_default(),
                demos: cut.demos().into_iter().map(str::to_string).collect(),
                charts: cut
                    .charts()
                    .into_iter()
                    .map(|(demo, metrics)| (demo.to_string(), metrics.to_vec()))
                    .chain(ladders)
                    .collect(),
            }
        })
        .collect()
}

/// Every slide of the book, main talk first, in SUMMARY order.
pub fn all_slides(repo: &Path) -> Vec<Slide> {
    chapters(repo)
        .iter()
        .flat_map(|c| chapter_slides(repo, c))
        .collect()
}

/// The text of the slide's first level-1 or level-2 heading, or "" for an untitled one.
fn title(markdown: &str) -> String {
    let mut inside = false;
    let mut out = String::new();
    for event in slides::parser(markdown) {
        match event {
            Event::Start(Tag::Heading { level, .. }) if (level as u8) <= 2 => inside = true,
            Event::End(TagEnd::Heading(_)) if inside => return plain_quotes(out.trim()),
            Event::Text(t) | Event::Code(t) if inside => out.push_str(&t),
            _ => {}
        }
    }
    String::new()
}

/// The deck's parser makes quotes typographic (`won't` becomes `won’t`); titles are
/// compared as written in the source.
fn plain_quotes(text: &str) -> String {
    text.replace(['‘', '’'], "'").replace(['“', '”'], "\"")
}

/// Text a reader sees in rendered Markdown: text, code, and the labels of inline SVG
/// diagrams; HTML tags, comments and embed placeholders are not text.
pub fn visible_text(markdown: &str) -> String {
    let mut out = String::new();
    for event in slides::parser(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => {
                out.push_str(&t);
                out.push(' ');
            }
            // Raw HTML shows its text too: diagram labels, and what the rST reader
            // writes as HTML (step-by-step lists); tags, comments and styles do not.
            Event::Html(h) | Event::InlineHtml(h) => {
                out.push_str(&strip_tags(&h));
                out.push(' ');
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) => out.push(' '),
            _ => {}
        }
    }
    out
}

/// Prose a reader sees, without code (spans and blocks) and without diagrams: the
/// text whose numbers are claims.
pub fn visible_prose(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for event in slides::parser(markdown) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            Event::Text(t) if !in_code => {
                out.push_str(&t);
                out.push(' ');
            }
            Event::SoftBreak | Event::HardBreak | Event::End(_) | Event::Code(_) => out.push(' '),
            _ => {}
        }
    }
    out
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // Comments, and the contents of style and script elements, are not shown.
        let skip_to = if rest.starts_with("<!--") {
            Some("-->")
        } else if rest.starts_with("<style") {
            Some("</style>")
        } else if rest.starts_with("<script") {
            Some("</script>")
        } else {
            None
        };
        let end = match skip_to {
            Some(close) => rest.find(close).map(|i| i + close.len()),
            None => rest.find('>').map(|i| i + 1),
        };
        rest = &rest[end.unwrap_or(rest.len())..];
        out.push(' ');
    }
    out.push_str(rest);
    contract::escape::decode(&out)
}

/// A demo's captured transcript, from `demos/transcripts/NAME.json`.
pub fn transcript(repo: &Path, demo: &str) -> Transcript {
    let path = contract::catalog::transcript_path(&repo.join("demos"), demo);
    serde_json::from_str(&read(&path))
        .unwrap_or_else(|e| panic!("{}: not a transcript: {e}", path.display()))
}

/// What each slide of a chapter asks of the clock, by the deck's own timing model
/// (`deck::pacing::loads`, as the preprocessor plans the talk), with the reading words
/// of each demo from its transcript.
pub fn chapter_loads(repo: &Path, chapter: &Chapter) -> Vec<SlideLoad> {
    let src = markdown_of(
        &chapter.file,
        &read(&repo.join("slides").join(&chapter.file)),
    );
    pacing::loads(&src, |demo| pacing::reading_words(&transcript(repo, demo)))
}
