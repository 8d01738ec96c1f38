//! The plan and the pages agree: for every fixture and corpus document
//! (`tests/rst/**`, `tests/corpus/**`) and for the real talk (`slides/`), the
//! preprocessor's own output (`deck::Deck`, run in process on a book held in memory)
//! has, in every chapter, slides `#slide-1` to `#slide-N` in order, and a page
//! contract ([`contract::page::Page`]) whose plan has one start per slide plus the
//! chapter's end, whose `first` counts the slides of the chapters before and whose
//! `total` counts them all. Each document is also tried opening with a paragraph
//! before any heading, and as the first chapter of a book with a title slide (of its
//! own, when the document does not open with the book's title) and a closing slide.

use std::path::{Path, PathBuf};

use contract::page::{self, Page};
use mdbook_preprocessor::book::{Book, BookItem, Chapter, SectionNumber};
use mdbook_preprocessor::config::Config;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rst` and `.md` document under `dir` (the corpus's expected outputs aside).
fn documents(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("expected") {
                    stack.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|e| e == "rst" || (e == "md" && !path.ends_with("README.md")))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The page contract at the top of a preprocessed chapter, read as the player reads it:
/// the JSON of its element's one attribute, as the same type.
fn page_of(content: &str) -> Result<Page, String> {
    Page::in_html(content)
}

/// The numbers of the slide sections, in order.
fn slide_numbers(content: &str) -> Vec<usize> {
    let open = format!("<section class=\"{}\" id=\"", page::class::SLIDE);
    content
        .match_indices(&open)
        .filter_map(|(at, _)| {
            let rest = &content[at + open.len()..];
            page::slide_number(&rest[..rest.find('"')?])
        })
        .collect()
}

/// Checks one preprocessed book: the plan of every chapter against its pages.
fn agree(book: &Book, duration: f64) -> Result<usize, String> {
    let mut first = 1;
    let mut pages = Vec::new();
    for item in book.iter() {
        let BookItem::Chapter(chapter) = item else {
            continue;
        };
        if chapter.source_path.is_none() {
            continue;
        }
        let name = chapter.name.clone();
        let page = page_of(&chapter.content).map_err(|e| format!("{name}: {e}"))?;
        let numbers = slide_numbers(&chapter.content);
        let n = numbers.len();
        if numbers != (1..=n).collect::<Vec<_>>() {
            return Err(format!("{name}: slides numbered {numbers:?}"));
        }
        if page.plan.len() != n + 1 {
            return Err(format!(
                "{name}: {n} slides on the page, a plan of {} slides",
                page.plan.len().saturating_sub(1)
            ));
        }
        if page.first != first {
            return Err(format!(
                "{name}: first slide {} in the plan, {first} by the pages before",
                page.first
            ));
        }
        if page.plan.windows(2).any(|w| w[1] < w[0]) {
            return Err(format!(
                "{name}: the plan goes back in time: {:?}",
                page.plan
            ));
        }
        first += n;
        pages.push(page);
    }
    let total = first - 1;
    for page in &pages {
        if page.total != total {
            return Err(format!("total {} in the plan, {total} slides", page.total));
        }
        let starts: Vec<usize> = page.chapters.iter().map(|c| c.first).collect();
        let firsts: Vec<usize> = pages.iter().map(|p| p.first).collect();
        if starts != firsts {
            return Err(format!("chapters start at {starts:?}, pages at {firsts:?}"));
        }
    }
    let end = pages
        .last()
        .and_then(|p| p.plan.last())
        .copied()
        .unwrap_or(0.0);
    if total > 0 && (end - duration).abs() > 0.5 {
        return Err(format!("the plan ends at {end}, the talk lasts {duration}"));
    }
    Ok(total)
}

/// A book of `chapters` (file name, content) at `root`, preprocessed by the deck with
/// `deck_toml` under `[preprocessor.deck]`.
fn preprocess(root: &Path, deck_toml: &str, chapters: &[(String, String)]) -> anyhow::Result<Book> {
    let config: Config =
        format!("[book]\ntitle = \"Property\"\nsrc = \".\"\n\n[preprocessor.deck]\n{deck_toml}\n")
            .parse()?;
    let mut book = Book::new();
    for (i, (file, content)) in chapters.iter().enumerate() {
        let mut chapter = Chapter::new(file, content.clone(), file, Vec::new());
        chapter.number = Some(SectionNumber::new(vec![i as u32 + 1]));
        book.push_item(chapter);
    }
    let ctx = PreprocessorContext::new(root.to_path_buf(), config, "html".into());
    deck::Deck.run(&ctx, book)
}

const AFTER: &str = "## After\n\nA chapter after it.\n\nNotes:\n\nSaid aloud.\n";

#[test]
fn the_plan_and_the_pages_agree_for_every_fixture_and_corpus_document() {
    let dirs = [
        crate_dir().join("tests/rst"),
        crate_dir().join("tests/corpus"),
    ];
    let demos = crate_dir().join("tests/rst/demos");
    let settings = [
        format!("duration = \"20m\"\ndemos = {demos:?}"),
        format!(
            "duration = \"20m\"\ndemos = {demos:?}\nsubtitle = \"s\"\nclosing = \"Thanks\"\nurl = \"https://example.org/\""
        ),
    ];
    let mut checked = 0;
    let mut opened_without_heading = 0;
    let mut refused = Vec::new();
    let mut wrong = Vec::new();
    for doc in dirs.iter().flat_map(|d| documents(d)) {
        let text = std::fs::read_to_string(&doc).unwrap();
        let root = doc.parent().unwrap();
        let file = doc.file_name().unwrap().to_string_lossy().to_string();
        let mut variants = vec![(file.clone(), text.clone())];
        // The same document opening with a paragraph before any heading (or title, in
        // reStructuredText).
        variants.push((file.clone(), format!("An opening paragraph.\n\n{text}")));
        for (name, content) in variants {
            for deck_toml in &settings {
                let chapters = [
                    (name.clone(), content.clone()),
                    ("after.md".into(), AFTER.into()),
                ];
                match preprocess(root, deck_toml, &chapters) {
                    Ok(book) => match agree(&book, 1200.0) {
                        Ok(_) => checked += 1,
                        Err(e) => wrong.push(format!("{}: {e}", doc.display())),
                    },
                    // A document the deck refuses (a fixture of errors) has no pages.
                    Err(e) => refused.push(format!("{}: {e:#}", doc.display())),
                }
            }
        }
        opened_without_heading += 1;
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    eprintln!(
        "{checked} books agree; {} refused:\n{}",
        refused.len(),
        refused.join("\n")
    );
    assert!(
        opened_without_heading > 60,
        "{opened_without_heading} documents"
    );
    assert!(checked >= 4 * 60, "only {checked} books built: {refused:?}");
}

#[test]
fn the_plan_and_the_pages_agree_for_the_talk() {
    let repo = crate_dir().join("../..");
    let config: Config = std::fs::read_to_string(repo.join("book.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let summary = std::fs::read_to_string(repo.join("slides/SUMMARY.md")).unwrap();
    let mut book = Book::new();
    let mut number = 0;
    for line in summary.lines() {
        let Some(at) = line.find("](") else { continue };
        let file = &line[at + 2..at + 2 + line[at + 2..].find(')').unwrap()];
        let content = std::fs::read_to_string(repo.join("slides").join(file)).unwrap();
        let mut chapter = Chapter::new(file, content, file, Vec::new());
        if line.trim_start().starts_with("- ") {
            number += 1;
            chapter.number = Some(SectionNumber::new(vec![number]));
        }
        book.push_item(chapter);
    }
    let duration = deck::DeckConfig::from_mdbook(&config)
        .unwrap()
        .duration
        .expect("book.toml gives the talk a duration")
        .0;
    let ctx = PreprocessorContext::new(repo.clone(), config, "html".into());
    let book = deck::Deck.run(&ctx, book).unwrap();
    let total = agree(&book, duration).unwrap();
    assert!(total > 30, "{total} slides");
}

#[test]
fn a_chapter_that_opens_with_a_paragraph_has_that_slide_in_its_plan() {
    let dir = std::env::temp_dir();
    let chapters = [
        (
            "a.md".to_string(),
            "Before any heading.\n\n## Then a title\n\nx\n".to_string(),
        ),
        ("b.md".to_string(), "Just a paragraph.\n".to_string()),
    ];
    let book = preprocess(&dir, "duration = \"10m\"", &chapters).unwrap();
    assert_eq!(agree(&book, 600.0), Ok(3));
}

/// The title slide shows the book's title and the deck's title keys from book.toml, and
/// the closing slide its title, the address and the address's QR code.
#[test]
fn the_title_and_closing_slides_show_the_books_title_and_the_deck_keys() {
    let toml = "subtitle = \"The subtitle\"\nspeaker = \"Ada Lovelace\"\nevent = \"NetConf\"\n\
                date = \"7 December\"\nclosing = \"Thank you\"\nurl = \"https://example.org/talk/\"";
    let chapters = [("a.md".to_string(), "## First\n\nx\n".to_string())];
    let book = preprocess(&std::env::temp_dir(), toml, &chapters).unwrap();
    let text = book
        .iter()
        .find_map(|item| match item {
            BookItem::Chapter(c) => Some(c.content.clone()),
            _ => None,
        })
        .unwrap();
    for shown in [
        "Property",
        "The subtitle",
        "Ada Lovelace",
        "NetConf · 7 December",
        "Thank you",
        "https://example.org/talk/",
        page::class::QR,
    ] {
        assert!(text.contains(shown), "{shown:?} is not shown:\n{text}");
    }
}

/// The closing slide ends the talk, which is the last numbered chapter: a suffix
/// chapter after it (an appendix, unnumbered) and a draft chapter (numbered, no file)
/// do not take it.
#[test]
fn the_closing_slide_ends_the_last_numbered_chapter_not_a_draft_or_suffix_after_it() {
    let config: Config = "[book]\ntitle = \"Property\"\nsrc = \".\"\n\n[preprocessor.deck]\n\
                          closing = \"Thank you\"\n"
        .parse()
        .unwrap();
    let mut book = Book::new();
    for (i, file) in ["a.md", "b.md"].into_iter().enumerate() {
        let mut chapter = Chapter::new(file, format!("## {file}\n\nx\n"), file, Vec::new());
        chapter.number = Some(SectionNumber::new(vec![i as u32 + 1]));
        book.push_item(chapter);
    }
    let mut draft = Chapter::new_draft("Later", Vec::new());
    draft.number = Some(SectionNumber::new(vec![3]));
    book.push_item(draft);
    book.push_item(Chapter::new(
        "Appendix",
        "## Appendix\n\ny\n".into(),
        "appendix.md",
        Vec::new(),
    ));
    let ctx = PreprocessorContext::new(std::env::temp_dir(), config, "html".into());
    let book = deck::Deck.run(&ctx, book).unwrap();
    let closing_in: Vec<String> = book
        .iter()
        .filter_map(|item| match item {
            BookItem::Chapter(c) if c.content.contains("Thank you") => {
                c.source_path.as_ref().map(|p| p.display().to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(closing_in, vec!["b.md"]);
}
