//! The deck engine: an mdbook preprocessor that turns each chapter into slides with
//! speaker notes, and each `{{#demo NAME}}` into that demo's captured run.
//!
//! It runs two ways with the same code: registered in-process by `cargo xtask build`
//! (through `mdbook-driver`), and as the `mdbook-deck` command that a stock
//! `mdbook build` starts because `book.toml` names it.
//!
//! Configuration, in `book.toml` (every key is in [`config::DeckConfig`]):
//!
//! ```toml
//! [preprocessor.deck]
//! command = "cargo run --quiet --package deck --bin mdbook-deck"
//! demos = "demos"    # the demos crate, relative to the book root (optional)
//! strict = true      # warnings are errors (optional; also `DECK_STRICT=1`)
//! aspect = "16:9"    # the slide shape, W:H (optional)
//! duration = "40m"   # the talk's length, for the speaker window's pacing (optional)
//! subtitle = "..."   # the title slide (each optional): subtitle, speaker, event,
//! speaker = "..."    # date, and url (the address of the online version)
//! event = "..."
//! date = "..."
//! url = "https://example.org/talk/"
//! closing = "Thank you"  # the closing slide's title (optional)
//!
//! [preprocessor.deck.budgets]  # optional: some chapters' own share of the duration
//! "tcp.md" = "8m"
//! ```
//!
//! (`config::tests::the_crate_docs_example_is_a_valid_config` reads this example with
//! the real config type.)
//!
//! Chapters whose file ends in `.rst` are reStructuredText, read as hieroglyph reads
//! them (see [`rst`]); their warnings are printed as `FILE:LINE: warning: ...`.

#![forbid(unsafe_code)]

pub mod catalog;
pub mod chart;
pub mod config;
pub mod diagram;
pub mod figure;
pub mod kernels;
pub mod ladder;
pub mod pacing;
pub use rst;
pub mod slides;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
pub mod title;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use contract::Transcript;
use contract::page::{ChapterStart, Page};
use mdbook_preprocessor::book::Book;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

pub use catalog::DemoInfo;
pub use config::DeckConfig;

/// The preprocessor's name, as in `[preprocessor.deck]`.
pub const NAME: &str = "deck";

#[derive(Debug, Default)]
pub struct Deck;

impl Preprocessor for Deck {
    fn name(&self) -> &str {
        NAME
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> Result<Book> {
        let deck = DeckConfig::from_mdbook(&ctx.config)?;
        let src_dir = ctx.root.join(&ctx.config.book.src);
        let strict = deck.strict();
        let mut demos = Demos::new(deck.demos_dir(&ctx.root))?;
        let pace = Pace::from_config(&deck);
        let mut chapters = Vec::new();
        let rst_options = rst_options(&deck, &book)?;
        let title = title_config(ctx, &deck);
        let mut first_chapter = true;
        let mut errors = Vec::new();
        // The closing slide ends the last numbered chapter: suffix chapters such as
        // appendices come after the talk.
        let mut last_numbered = None;
        book.for_each_chapter_mut(|chapter| {
            if chapter.number.is_some() && chapter.source_path.is_some() {
                last_numbered.clone_from(&chapter.source_path);
            }
        });
        let closing = match title.closing_markdown() {
            Ok(md) => md,
            Err(e) => bail!("[{}] closing in book.toml: {e}", config::TABLE),
        };
        book.for_each_chapter_mut(|chapter| {
            let Some(source) = chapter.source_path.clone() else {
                return;
            };
            let file = display_path(&src_dir.join(&source));
            // reStructuredText chapters become Markdown first; problems found later are
            // reported at their rST line.
            let mut rst_lines = None;
            if source.extension().is_some_and(|e| e == "rst") {
                let depth = source.components().count().saturating_sub(1);
                let mut options = rst_options.clone();
                options.root = "../".repeat(depth);
                options.files = Some(rst::Files {
                    dir: src_dir
                        .join(&source)
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default(),
                    root: src_dir.clone(),
                });
                let converted = rst::convert(&chapter.content, &options);
                for e in &converted.errors {
                    errors.push(format!("{file}:{}: {}", e.line, e.message));
                }
                for e in &converted.reported {
                    if strict {
                        errors.push(format!("{file}:{}: {} (strict)", e.line, e.message));
                    } else {
                        eprintln!("{file}:{}: error: {}", e.line, e.message);
                    }
                }
                for w in &converted.warnings {
                    if strict {
                        errors.push(format!("{file}:{}: {} (strict)", w.line, w.message));
                    } else {
                        eprintln!("{file}:{}: warning: {}", w.line, w.message);
                    }
                }
                chapter.content = converted.markdown.clone();
                rst_lines = Some(converted);
            }
            if let Some(closing) = &closing
                && last_numbered.as_ref() == Some(&source)
            {
                chapter.content.push_str(closing);
            }
            // One model of the chapter's slides, read by the plan and the pages alike.
            let rendered = {
                let mut model = slides::chapter(&chapter.content);
                if std::mem::take(&mut first_chapter) && title.is_set() {
                    title::apply(&mut model, &title);
                }
                let loads = pacing::loads_of(&model, |name| {
                    // A demo without a transcript weighs no words: embedding it below
                    // reports it.
                    demos.transcript(name).map_or(0, pacing::reading_words)
                });
                slides::render(&model, &mut demos).map(|r| (r.to_markdown(), loads))
            };
            match rendered {
                Ok((converted, loads)) => {
                    chapter.content = converted;
                    chapters.push(pacing::Planned {
                        file: source.to_string_lossy().replace('\\', "/"),
                        slides: loads,
                    });
                }
                Err(problems) => {
                    errors.extend(problems.into_iter().map(|p| {
                        let line = rst_lines.as_ref().map_or(p.line, |c| c.source_line(p.line));
                        format!("{file}:{line}: {}", p.message)
                    }));
                }
            }
        });
        if !errors.is_empty() {
            bail!(
                "the deck has {} problem(s):\n  {}",
                errors.len(),
                errors.join("\n  ")
            );
        }
        let pages = pace.talk(&chapters)?;
        let mut index = 0;
        book.for_each_chapter_mut(|chapter| {
            if chapter.source_path.is_none() {
                return;
            }
            let page = pages.get(index).cloned().unwrap_or_default();
            index += 1;
            // What the player reads (contract::page::Page), at the top of every chapter.
            chapter.content = format!("{}\n\n{}", page.to_html(), chapter.content);
        });
        Ok(book)
    }
}

/// Settings for reStructuredText chapters: `slide_levels` under `[preprocessor.deck]`
/// (hieroglyph's, 3 when unset), and every rST chapter's title and section labels, so
/// `:ref:` and `:doc:` reach across chapters.
fn rst_options(deck: &DeckConfig, book: &Book) -> Result<rst::Options> {
    let mut options = rst::Options::default();
    if let Some(levels) = deck.slide_levels {
        // Checked when book.toml was read (config::DeckConfig::from_mdbook).
        options.slide_levels = levels as usize;
    }
    for item in book.iter() {
        let mdbook_preprocessor::book::BookItem::Chapter(chapter) = item else {
            continue;
        };
        let Some(source) = &chapter.source_path else {
            continue;
        };
        if source.extension().is_some_and(|e| e == "rst") {
            let path = source.with_extension("");
            let path = path.to_string_lossy().replace('\\', "/");
            options.add_chapter(&path, &rst::chapter(&chapter.content));
        }
    }
    Ok(options)
}

pub use config::STRICT_ENV;

/// The pacing keys of `[preprocessor.deck]`, `duration` and `budgets`, and the slide
/// shape: all checked when book.toml was read.
struct Pace {
    aspect: config::Aspect,
    duration: Option<f64>,
    budgets: std::collections::BTreeMap<String, f64>,
}

impl Pace {
    fn from_config(deck: &DeckConfig) -> Pace {
        Pace {
            aspect: deck.aspect(),
            duration: deck.duration.map(|d| d.0),
            budgets: deck.budgets.iter().map(|(f, s)| (f.clone(), s.0)).collect(),
        }
    }

    /// Per chapter, what the player reads ([`contract::page::Page`]): where the
    /// chapter's slides stand in the whole talk, every chapter's page and first slide
    /// (for "a number, then Enter") and, with a duration, the plan (each slide's planned
    /// start in seconds, then the chapter's planned end).
    fn talk(&self, chapters: &[pacing::Planned]) -> Result<Vec<Page>> {
        let total: usize = chapters.iter().map(|c| c.slides.len()).sum();
        let plan = match self.duration {
            Some(d) => Some(
                pacing::plan(d, &self.budgets, chapters)
                    .map_err(|e| anyhow::anyhow!("preprocessor.deck in book.toml: {e}"))?,
            ),
            None => None,
        };
        let mut first = 1;
        let mut starts = Vec::new();
        for chapter in chapters {
            let page = Path::new(&chapter.file).with_extension("html");
            starts.push(ChapterStart {
                page: page.to_string_lossy().into_owned(),
                first,
            });
            first += chapter.slides.len();
        }
        let mut out = Vec::new();
        for (i, chapter) in chapters.iter().enumerate() {
            // The pages in `chapters` are relative to the book's root.
            let depth = Path::new(&chapter.file)
                .components()
                .count()
                .saturating_sub(1);
            out.push(Page {
                aspect: self.aspect,
                first: starts[i].first,
                total,
                chapters: starts.clone(),
                root: "../".repeat(depth),
                duration: self.duration.map(config::Seconds),
                plan: plan.as_ref().map(|p| p[i].clone()).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

/// The title slide: the book's title and the deck's title keys (see [`title`]).
fn title_config(ctx: &PreprocessorContext, deck: &DeckConfig) -> title::Title {
    title::Title {
        title: ctx.config.book.title.clone().unwrap_or_default(),
        subtitle: deck.subtitle.clone(),
        speaker: deck.speaker.clone(),
        event: deck.event.clone(),
        date: deck.date.clone(),
        url: deck.url.clone(),
        closing: deck.closing.clone(),
    }
}

/// Paths in messages: relative to where the user stands, when that is shorter.
fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path);
    shown.display().to_string()
}

/// The demos a book can embed, with their transcripts loaded on first use.
struct Demos {
    dir: Option<PathBuf>,
    catalog: Vec<DemoInfo>,
    transcripts: HashMap<String, Result<Transcript, String>>,
    /// The runs on other kernels (`cargo xtask kernels`), oldest kernel first.
    kernels: Vec<kernels::Kernel>,
}

impl slides::Embed for Demos {
    fn demo(&mut self, name: &str) -> Result<String, String> {
        let figure = self.transcript(name).map(figure::render)?;
        let line = figure::kernel_line(&kernels::statuses(&self.kernels, name)?);
        // Into the run's meta line, after its status: quiet, and no extra row on a slide.
        Ok(match figure.find("</div><script") {
            Some(at) if !line.is_empty() => format!("{}{line}{}", &figure[..at], &figure[at..]),
            _ => figure,
        })
    }

    fn kernels(&mut self, line: Option<(&str, &str)>) -> Result<String, String> {
        match line {
            None => {
                let names: Vec<String> = self.catalog.iter().map(|d| d.name.clone()).collect();
                kernels::table(&self.kernels, &names)
            }
            Some((demo, text)) => {
                self.transcript(demo)?;
                kernels::side_by_side(&self.kernels, demo, text)
            }
        }
    }

    fn chart(&mut self, demo: &str, metrics: &[String]) -> Result<String, String> {
        let (t, (picked, options)) = self.metrics(demo, metrics)?;
        Ok(chart::render(t, &picked, options))
    }

    fn ladder(&mut self, demo: &str, connection: Option<&str>) -> Result<String, String> {
        let t = self.transcript(demo)?;
        Ok(ladder::render(t, ladder::select(t, connection)?))
    }
}

impl Demos {
    fn new(dir: Option<PathBuf>) -> Result<Demos> {
        let catalog = match &dir {
            Some(dir) => catalog::list(dir)?,
            None => Vec::new(),
        };
        let kernels = match &dir {
            Some(dir) => kernels::load(dir).map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        Ok(Demos {
            dir,
            catalog,
            transcripts: HashMap::new(),
            kernels,
        })
    }

    /// The named numbers a demo measured in its captured run, with the transcript they
    /// come from (for the date and kernel of the run).
    fn metrics(
        &mut self,
        demo: &str,
        names: &[String],
    ) -> Result<(&Transcript, (Vec<chart::Bar<'_>>, chart::Options)), String> {
        let t = self.transcript(demo)?;
        Ok((t, chart::select(t, names)?))
    }

    /// A demo's transcript, read and checked once however many slides use it.
    fn transcript(&mut self, name: &str) -> Result<&Transcript, String> {
        if !self.transcripts.contains_key(name) {
            let loaded = self.load(name);
            self.transcripts.insert(name.to_string(), loaded);
        }
        match &self.transcripts[name] {
            Ok(t) => Ok(t),
            Err(e) => Err(e.clone()),
        }
    }

    fn load(&self, name: &str) -> Result<Transcript, String> {
        let Some(dir) = &self.dir else {
            return Err(format!(
                "`{{{{#demo {name}}}}}` but this book has no demos (set `demos` under [preprocessor.deck] in book.toml)"
            ));
        };
        let Some(info) = self.catalog.iter().find(|d| d.name == name) else {
            let hint = catalog::did_you_mean(&catalog::closest(
                name,
                self.catalog.iter().map(|d| d.name.as_str()),
            ));
            return Err(format!(
                "no demo named `{name}` in {}{hint}",
                display_path(&dir.join(catalog::BIN_DIR))
            ));
        };
        let path = transcript_path(dir, name);
        let json = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "demo `{name}` has no transcript at {} ({e}); run `cargo xtask capture {name}`",
                display_path(&path)
            )
        })?;
        let mut t: Transcript = serde_json::from_str(&json)
            .map_err(|e| format!("{}: not a valid transcript: {e}", display_path(&path)))?;
        t.validate()
            .map_err(|e| format!("{}: {e}", display_path(&path)))?;
        if t.demo != name {
            return Err(format!(
                "{}: is the transcript of `{}`, not `{name}`",
                display_path(&path),
                t.demo
            ));
        }
        // The claim in the source is the truth; a transcript may predate a rewording.
        t.claim = info.claim.clone();
        Ok(t)
    }
}

pub use catalog::transcript_path;

#[cfg(test)]
mod tests {
    use super::*;
    use contract::Status;
    use contract::test_support::{metric, run, stdout};
    use slides::Embed;

    /// A demos folder of its own, with one demo (`loss`) and its captured run.
    struct Fixture(PathBuf);

    impl Fixture {
        fn new(tag: &str) -> Fixture {
            let dir = std::env::temp_dir().join(format!("deck-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(dir.join("src/bin")).unwrap();
            std::fs::create_dir_all(dir.join("transcripts")).unwrap();
            std::fs::write(dir.join("src/bin/loss.rs"), "//! UDP loses datagrams.\n").unwrap();
            let t = Transcript {
                claim: "an older wording".into(),
                metrics: vec![
                    metric("udp.sent", 600.0, "datagrams", Some("sent")),
                    metric("udp.received", 310.0, "datagrams", None),
                ],
                ..run("loss")
            };
            let json = serde_json::to_string(&t).unwrap();
            std::fs::write(transcript_path(&dir, "loss"), json).unwrap();
            Fixture(dir)
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn every_chapter_knows_its_place_in_the_talk_and_its_plan() {
        let load = pacing::SlideLoad {
            spoken_words: 10,
            ..Default::default()
        };
        let chapters = vec![
            pacing::Planned {
                file: "a.md".into(),
                slides: vec![load.clone(); 3],
            },
            pacing::Planned {
                file: "part/b.md".into(),
                slides: vec![load; 2],
            },
        ];
        let pace = Pace {
            aspect: Default::default(),
            duration: Some(500.0),
            budgets: Default::default(),
        };
        let pages = pace.talk(&chapters).unwrap();
        assert_eq!((pages[0].first, pages[0].total), (1, 5));
        assert_eq!((pages[1].first, pages[1].total), (4, 5));
        let starts: Vec<(&str, usize)> = pages[0]
            .chapters
            .iter()
            .map(|c| (c.page.as_str(), c.first))
            .collect();
        assert_eq!(starts, [("a.html", 1), ("part/b.html", 4)]);
        assert_eq!(pages[1].chapters, pages[0].chapters);
        assert_eq!(
            (pages[0].root.as_str(), pages[1].root.as_str()),
            ("", "../")
        );
        assert_eq!(pages[1].plan, [300.0, 400.0, 500.0]);
        let untimed = Pace {
            duration: None,
            ..pace
        };
        let untimed = &untimed.talk(&chapters).unwrap()[0];
        assert!(untimed.duration.is_none() && untimed.plan.is_empty());
    }

    #[test]
    fn charts_and_figures_come_from_the_captured_transcript() {
        let fixture = Fixture::new("charts");
        let mut demos = Demos::new(Some(fixture.0.clone())).unwrap();
        let chart = demos
            .chart("loss", &["udp.sent".into(), "udp.received".into()])
            .unwrap();
        assert!(chart.contains(">600 datagrams<"), "{chart}");
        assert!(
            chart.contains("chart-label\">sent<"),
            "the demo's label: {chart}"
        );
        assert!(
            chart.contains("chart-label\">udp received<"),
            "no label, the key as words: {chart}"
        );
        let chart = demos
            .chart("loss", &["udp.sent=out".into(), "udp.received".into()])
            .unwrap();
        assert!(
            chart.contains("chart-label\">out<"),
            "the slide's label: {chart}"
        );
        assert!(chart.contains(">310 datagrams<"), "{chart}");
        assert!(
            chart.contains("cargo xtask demo loss</code> on 2026-11-24"),
            "{chart}"
        );
        let figure = demos.demo("loss").unwrap();
        assert!(
            figure.contains("UDP loses datagrams."),
            "the claim comes from the source: {figure}"
        );

        let err = demos.chart("loss", &["udp.lost".into()]).unwrap_err();
        assert!(err.contains("no metric `udp.lost`"), "{err}");
        let err = demos.chart("lost", &["udp.sent".into()]).unwrap_err();
        assert!(err.contains("no demo named `lost`"), "{err}");
        std::fs::remove_file(transcript_path(&fixture.0, "loss")).unwrap();
        let mut fresh = Demos::new(Some(fixture.0.clone())).unwrap();
        let err = fresh.chart("loss", &["udp.sent".into()]).unwrap_err();
        assert!(err.contains("cargo xtask capture loss"), "{err}");
    }

    #[test]
    fn figures_and_tables_say_on_which_kernels_the_claim_held() {
        let fixture = Fixture::new("kernels");
        let run = |series: &str, release: &str, status: Status, text: &str| {
            let dir = fixture.0.join(kernels::DIR).join(series);
            std::fs::create_dir_all(&dir).unwrap();
            let manifest = kernels::Manifest {
                series: series.into(),
                kernel: release.into(),
                machine: "tcg".into(),
                emulated: true,
                captured_at: "2026-12-07T05:00:00Z".into(),
                seconds: 1.0,
            };
            std::fs::write(
                dir.join(kernels::MANIFEST),
                serde_json::to_string(&manifest).unwrap(),
            )
            .unwrap();
            let mut t: Transcript = serde_json::from_str(
                &std::fs::read_to_string(transcript_path(&fixture.0, "loss")).unwrap(),
            )
            .unwrap();
            t.kernel = release.into();
            t.outcome.status = status;
            t.chunks = vec![stdout(1, &format!("\x1b[2m  so:\x1b[0m {text}\n"))];
            std::fs::write(dir.join("loss.json"), serde_json::to_string(&t).unwrap()).unwrap();
        };
        run(
            "6.12",
            "6.12.118+deb12-amd64",
            Status::Passed,
            "gave up after 131 s",
        );
        run(
            "6.1",
            "6.1.0-57-amd64",
            Status::Failed,
            "gave up after 127 s",
        );
        let mut demos = Demos::new(Some(fixture.0.clone())).unwrap();
        let figure = demos.demo("loss").unwrap();
        assert!(
            figure.contains("holds on 6.12; fails on 6.1</span></div><script"),
            "in the meta line: {figure}"
        );
        let table = demos.kernels(None).unwrap();
        assert!(
            table.find(">6.1 (emulated)<") < table.find(">6.12 (emulated)<"),
            "oldest first: {table}"
        );
        assert!(
            table.contains(">FAIL</td><td class=\"status-passed\" title=\"\">PASS<"),
            "{table}"
        );
        let side = demos.kernels(Some(("loss", "gave up"))).unwrap();
        assert!(side.contains("so: gave up after 127 s"), "{side}");
        assert!(side.contains("so: gave up after 131 s"), "{side}");
        let err = demos.kernels(Some(("loss", "nowhere"))).unwrap_err();
        assert!(err.contains("no kernel's run of loss printed"), "{err}");

        // A run filed under the wrong kernel is refused, naming the file.
        run("6.12", "6.1.0-57-amd64", Status::Passed, "x");
        let mut demos = Demos::new(Some(fixture.0.clone())).unwrap();
        let err = demos.demo("loss").unwrap_err();
        assert!(err.contains("6.12/loss.json"), "{err}");
    }
}
