//! The title slide, from `book.toml`: the book's `title` and, under
//! `[preprocessor.deck]`, `subtitle`, `speaker`, `event`, `date` and `url` (the address
//! of the online version). They go on the first slide of the first chapter when that
//! slide's `#` heading is the book's title; otherwise (a talk that opens with a story,
//! say) a title slide of its own is put before it and the chapter's slides move up by
//! one. The slide is marked `data-title-slide` for the CSS. Without any of the keys
//! the chapter stays as written.
//!
//! The closing slide: with `closing = "Thank you"`, the talk's last numbered chapter
//! (suffix chapters such as appendices come after the talk) ends with a slide titled
//! so, with the address (`url`) and a QR code of it drawn at build time as inline SVG,
//! the speaker and the event.

use contract::page;

use crate::figure::escape;
use crate::slides::{Chapter, Kind, Slide, TitleSlide};

/// What the title slide says, besides the slide's own content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Title {
    pub title: String,
    pub subtitle: Option<String>,
    pub speaker: Option<String>,
    pub event: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    /// The closing slide's title (`closing`), if the talk has one.
    pub closing: Option<String>,
}

/// The keys under `[preprocessor.deck]` that this module reads.
pub const KEYS: &[&str] = &["subtitle", "speaker", "event", "date", "url", "closing"];

impl Title {
    /// Whether book.toml gave anything for the title slide.
    pub fn is_set(&self) -> bool {
        [
            &self.subtitle,
            &self.speaker,
            &self.event,
            &self.date,
            &self.url,
        ]
        .iter()
        .any(|v| v.is_some())
    }

    /// The lines under the heading, as one line of HTML (a Markdown HTML block).
    pub fn html(&self) -> String {
        let mut html = String::new();
        let mut line = |class: &str, inner: String| {
            html.push_str(&format!("<p class=\"{class}\">{inner}</p>"));
        };
        if let Some(s) = &self.subtitle {
            line(page::class::TITLE_SUBTITLE, escape(s));
        }
        if let Some(s) = &self.speaker {
            line(page::class::TITLE_BY, escape(s));
        }
        let when_where: Vec<String> = [&self.event, &self.date]
            .into_iter()
            .flatten()
            .map(|s| escape(s))
            .collect();
        if !when_where.is_empty() {
            line(page::class::TITLE_EVENT, when_where.join(" · "));
        }
        if let Some(url) = &self.url {
            let shown = url
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            line(
                page::class::TITLE_URL,
                format!("<a href=\"{}\">{}</a>", escape(url), escape(shown)),
            );
        }
        html
    }
}

impl Title {
    /// The closing slide as Markdown to append to the last chapter's source (so that it
    /// becomes a slide like any other, counted by the plan), or nothing without
    /// `closing`. An address that cannot be drawn as a QR code (too long) is an error.
    pub fn closing_markdown(&self) -> Result<Option<String>, String> {
        let Some(thanks) = &self.closing else {
            return Ok(None);
        };
        let mut html = format!("<div class=\"{}\">", page::class::CLOSING);
        if let Some(url) = &self.url {
            html.push_str(&qr_svg(url)?);
            let shown = url
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            html.push_str(&format!(
                "<p class=\"{}\"><a href=\"{}\">{}</a></p>",
                page::class::CLOSING_URL,
                escape(url),
                escape(shown)
            ));
        }
        let by: Vec<String> = [&self.speaker, &self.event]
            .into_iter()
            .flatten()
            .map(|s| escape(s))
            .collect();
        if !by.is_empty() {
            html.push_str(&format!(
                "<p class=\"{}\">{}</p>",
                page::class::CLOSING_BY,
                by.join(" · ")
            ));
        }
        html.push_str("</div>");
        // The heading's text is Markdown: escape what would make it something else.
        let heading: String = thanks
            .trim()
            .chars()
            .flat_map(|c| {
                let escaped = matches!(
                    c,
                    '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '{' | '}'
                );
                escaped.then_some('\\').into_iter().chain([c])
            })
            .collect();
        Ok(Some(format!("\n\n## {heading}\n\n{html}\n")))
    }
}

/// A QR code of `text` as one line of inline SVG: dark modules on a light square with
/// the standard quiet zone, whatever the slide's theme (phones read dark on light).
pub fn qr_svg(text: &str) -> Result<String, String> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| format!("the address `{text}` cannot be drawn as a QR code: {e}"))?;
    let n = code.width();
    const QUIET: usize = 4;
    let size = n + 2 * QUIET;
    let mut path = String::new();
    for (i, colour) in code.to_colors().iter().enumerate() {
        if *colour == qrcode::Color::Dark {
            let (x, y) = (i % n + QUIET, i / n + QUIET);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Ok(format!(
        "<svg class=\"{qr}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         role=\"img\" aria-label=\"QR code of {alt}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        alt = escape(text),
        qr = page::class::QR,
    ))
}

/// Makes the first chapter's first slide the title slide, in the model that the
/// rendering, the numbering and the plan all read: that slide itself when its heading is
/// `# ` and the book's title, else a title slide of its own put first, the chapter's
/// slides each numbered one later. A chapter without slides stays as it is.
pub fn apply(chapter: &mut Chapter<'_>, title: &Title) {
    let Some(first) = chapter.slides.first_mut() else {
        return;
    };
    let lines = title.html();
    let opens_with_title = first.blocks.first().is_some_and(|(block, _)| {
        block.kind == Kind::SlideTitle
            && chapter.src[block.range.clone()]
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("# "))
                .is_some_and(|h| h.trim().eq_ignore_ascii_case(title.title.trim()))
    });
    if opens_with_title {
        first.title = Some(TitleSlide {
            heading: None,
            lines,
        });
        return;
    }
    chapter.slides.insert(
        0,
        Slide {
            number: 1,
            blocks: Vec::new(),
            title: Some(TitleSlide {
                heading: Some(format!("# {}", escape(&title.title))),
                lines,
            }),
        },
    );
    for (i, slide) in chapter.slides.iter_mut().enumerate() {
        slide.number = i + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn title() -> Title {
        Title {
            title: "Wrong <all>".into(),
            subtitle: Some("Sockets & IPC".into()),
            speaker: Some("Ada".into()),
            event: Some("KernelConf".into()),
            date: Some("2026-12-03".into()),
            url: Some("https://example.org/talk/".into()),
            closing: Some("Thank you *all*".into()),
        }
    }

    #[test]
    fn the_closing_slide_has_thanks_address_qr_code_and_speaker() {
        let md = title().closing_markdown().unwrap().unwrap();
        assert!(
            md.starts_with(
                "\n\n## Thank you \\*all\\*\n\n<div class=\"deck-closing\"><svg class=\"deck-qr\""
            ),
            "{md}"
        );
        assert!(
            md.contains("aria-label=\"QR code of https://example.org/talk/\""),
            "{md}"
        );
        assert!(md.contains("<p class=\"deck-closing-url\"><a href=\"https://example.org/talk/\">example.org/talk/</a></p>"));
        assert!(md.contains("<p class=\"deck-closing-by\">Ada · KernelConf</p></div>\n"));
        assert_eq!(
            md.trim().lines().count(),
            3,
            "a heading and one line of HTML: {md}"
        );
        assert_eq!(Title::default().closing_markdown(), Ok(None));
        let no_url = Title {
            closing: Some("Thanks".into()),
            ..Title::default()
        };
        assert_eq!(
            no_url.closing_markdown().unwrap().unwrap(),
            "\n\n## Thanks\n\n<div class=\"deck-closing\"></div>\n"
        );
    }

    #[test]
    fn the_qr_code_encodes_the_address() {
        let svg = qr_svg("https://example.org/talk/").unwrap();
        // 25 bytes need version 2 (25×25 modules) at the default level M; with the
        // quiet zone of 4 the picture is 33 modules square.
        assert!(svg.contains("viewBox=\"0 0 33 33\""), "{svg}");
        let code = qrcode::QrCode::new(b"https://example.org/talk/").unwrap();
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == qrcode::Color::Dark)
            .count();
        assert_eq!(svg.matches("h1v1h-1z").count(), dark);
        // The finder pattern's corner: module (0, 0) is dark, drawn at (4, 4).
        assert!(svg.contains("M4 4h1v1h-1z"), "{svg}");
        assert!(!svg.contains('\n'));
        assert!(
            qr_svg(&"x".repeat(5000))
                .unwrap_err()
                .contains("cannot be drawn")
        );
    }

    /// Module (column c, row r) of the code is the unit square at (c + 4, r + 4): each
    /// dark module at its own place past the quiet zone, and nothing else.
    #[test]
    fn each_dark_module_is_drawn_at_its_place_past_the_quiet_zone() {
        let text = "https://example.org/talk/";
        let svg = qr_svg(text).unwrap();
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let n = code.width();
        let want: std::collections::BTreeSet<(usize, usize)> = code
            .to_colors()
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == qrcode::Color::Dark)
            .map(|(i, _)| (i % n + 4, i / n + 4))
            .collect();
        let path = svg
            .split_once("<path d=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(d, _)| d)
            .unwrap_or_else(|| panic!("no path: {svg}"));
        let drawn: std::collections::BTreeSet<(usize, usize)> = path
            .split('M')
            .skip(1)
            .map(|square| {
                let (x, y) = square
                    .split_once("h1v1h-1z")
                    .unwrap()
                    .0
                    .split_once(' ')
                    .unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert_eq!(drawn, want);
    }

    /// The chapter `src` with the title slide applied, as mdBook gets it, and the
    /// plan's loads of its slides.
    fn applied(src: &str) -> (String, Vec<crate::pacing::SlideLoad>) {
        let mut chapter = crate::slides::chapter(src);
        apply(&mut chapter, &title());
        let loads = crate::pacing::loads_of(&chapter, |_| 0);
        let md = crate::slides::render(&chapter, &mut crate::test_support::FakeEmbed::Echo)
            .unwrap()
            .to_markdown();
        (md, loads)
    }

    #[test]
    fn the_keys_go_under_the_first_heading_when_it_is_the_title() {
        let (out, loads) = applied("# wrong <ALL>\n\nTagline.\n\n## Next\n");
        assert!(out.contains(concat!(
            "<section class=\"slide\" id=\"slide-1\" data-title-slide>\n\n# wrong <ALL>\n\n",
            "<p class=\"deck-title-subtitle\">Sockets &amp; IPC</p><p class=\"deck-title-by\">Ada</p>",
            "<p class=\"deck-title-event\">KernelConf · 2026-12-03</p>",
            "<p class=\"deck-title-url\"><a href=\"https://example.org/talk/\">example.org/talk/</a></p>",
            "\n\n"
        )), "{out}");
        assert!(out.contains("Tagline."), "{out}");
        assert_eq!(out.matches("data-title-slide").count(), 1);
        assert_eq!(
            loads.len(),
            2,
            "the chapter's own first slide is the title slide"
        );
        assert!(
            out.contains("<section class=\"slide\" id=\"slide-2\">\n\n## Next"),
            "{out}"
        );
        assert_eq!(out.matches("<section").count(), 2);
    }

    #[test]
    fn a_talk_that_opens_otherwise_gets_a_title_slide_before_it() {
        let (out, loads) = applied("[x]: https://example.org/\n\n# A story\n\n## Next\n");
        assert!(out.starts_with("[x]: https://example.org/\n\n\n\n<section class=\"slide\" id=\"slide-1\" data-title-slide>\n\n# Wrong &lt;all&gt;\n\n<p class=\"deck-title-subtitle\">"), "{out}");
        assert!(
            out.contains("</section>\n\n\n\n<section class=\"slide\" id=\"slide-2\">\n\n# A story"),
            "{out}"
        );
        assert!(
            out.contains("<section class=\"slide\" id=\"slide-3\">\n\n## Next\n"),
            "{out}"
        );
        assert_eq!(out.matches("<section").count(), 3);
        assert_eq!(out.matches("data-title-slide").count(), 1);
        assert_eq!(loads.len(), 3, "a slide of its own, which the plan counts");
        assert_eq!(loads[0], crate::pacing::SlideLoad::default());
    }

    #[test]
    fn the_plan_counts_the_slides_the_page_shows_title_slide_included() {
        for src in [
            "# Wrong <all>\n\nx\n\n## Next\n\nNotes: said.\n",
            "# A story\n\n## Next\n\n---\n\nmore\n",
            "Before any heading.\n\n## Then\n",
            "# Wrong <all>\n",
        ] {
            let (out, loads) = applied(src);
            let ids: Vec<&str> = out
                .split("<section class=\"slide\" id=\"")
                .skip(1)
                .map(|s| &s[..s.find('"').unwrap()])
                .collect();
            let expected: Vec<String> = (1..=loads.len()).map(contract::page::slide_id).collect();
            assert_eq!(
                ids, expected,
                "the plan and the page disagree on {src:?}: {out}"
            );
            assert!(
                out.contains("<section class=\"slide\" id=\"slide-1\" data-title-slide>"),
                "{out}"
            );
            assert_eq!(out.matches("data-title-slide").count(), 1, "{out}");
        }
    }

    #[test]
    fn a_chapter_without_slides_gets_no_title_slide() {
        let mut chapter = crate::slides::chapter("");
        apply(&mut chapter, &title());
        assert!(chapter.slides.is_empty());
    }

    #[test]
    fn only_given_keys_show() {
        let t = Title {
            title: "T".into(),
            date: Some("today".into()),
            ..Title::default()
        };
        assert!(t.is_set());
        assert_eq!(t.html(), "<p class=\"deck-title-event\">today</p>");
        assert!(!Title::default().is_set());
    }
}
