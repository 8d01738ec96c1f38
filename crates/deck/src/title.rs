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

/// The first chapter's converted Markdown with a title slide first, and whether that
/// slide is one of its own put before the chapter's (which then move up by one: the
/// plan must count it).
pub fn apply(converted: &str, title: &Title) -> (String, bool) {
    let first = section(1, false);
    let Some(at) = converted.find(&first) else {
        return (converted.to_string(), false);
    };
    let rest = &converted[at + first.len()..];
    let trimmed = rest.trim_start_matches('\n');
    let heading = trimmed.lines().next().and_then(|l| l.strip_prefix("# "));
    let mut out = String::with_capacity(converted.len() + 512);
    out.push_str(&converted[..at]);
    if heading.is_some_and(|h| h.trim().eq_ignore_ascii_case(title.title.trim())) {
        let heading_end = trimmed.find('\n').unwrap_or(trimmed.len());
        out.push_str(&section(1, true));
        out.push_str("\n\n");
        out.push_str(&trimmed[..heading_end]);
        out.push_str("\n\n");
        out.push_str(&title.html());
        out.push_str("\n\n");
        out.push_str(trimmed[heading_end..].trim_start_matches('\n'));
        return (out, false);
    }
    out.push_str(&format!(
        "{}\n\n# {}\n\n{}\n\n</section>\n\n",
        section(1, true),
        escape(&title.title),
        title.html()
    ));
    out.push_str(&renumber(&converted[at..]));
    (out, true)
}

/// The chapter's slides, each one number later (`slide-1` becomes `slide-2`).
fn renumber(slides: &str) -> String {
    let any = format!(
        "<section class=\"{}\" id=\"{}",
        page::class::SLIDE,
        page::SLIDE_ID_PREFIX
    );
    let count = slides.matches(&any).count();
    let mut out = slides.to_string();
    for n in (1..=count).rev() {
        out = out.replace(&section(n, false), &section(n + 1, false));
    }
    out
}

/// The opening tag of slide `n`'s section, marked as the title slide or not.
fn section(n: usize, title_slide: bool) -> String {
    format!(
        "<section class=\"{}\" id=\"{}\"{}>",
        page::class::SLIDE,
        page::slide_id(n),
        if title_slide {
            format!(" {}", page::attr::TITLE_SLIDE)
        } else {
            String::new()
        }
    )
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

    #[test]
    fn the_keys_go_under_the_first_heading_when_it_is_the_title() {
        let src = "<div></div>\n\n<section class=\"slide\" id=\"slide-1\">\n\n# wrong <ALL>\n\nTagline.\n\n</section>\n\n<section class=\"slide\" id=\"slide-2\">\n\n## Next\n";
        let (out, own) = apply(src, &title());
        assert!(out.contains(concat!(
            "<div></div>\n\n<section class=\"slide\" id=\"slide-1\" data-title-slide>\n\n# wrong <ALL>\n\n",
            "<p class=\"deck-title-subtitle\">Sockets &amp; IPC</p><p class=\"deck-title-by\">Ada</p>",
            "<p class=\"deck-title-event\">KernelConf · 2026-12-03</p>",
            "<p class=\"deck-title-url\"><a href=\"https://example.org/talk/\">example.org/talk/</a></p>",
            "\n\nTagline."
        )), "{out}");
        assert_eq!(out.matches("data-title-slide").count(), 1);
        assert!(!own, "the chapter's own first slide is the title slide");
        assert!(out.ends_with("<section class=\"slide\" id=\"slide-2\">\n\n## Next\n"));
    }

    #[test]
    fn a_talk_that_opens_otherwise_gets_a_title_slide_before_it() {
        let src = "<div></div>\n\n<section class=\"slide\" id=\"slide-1\">\n\n# A story\n\n</section>\n\n<section class=\"slide\" id=\"slide-2\">\n\n## Next\n";
        let (out, own) = apply(src, &title());
        assert!(own, "a slide of its own, which the plan must count");
        assert!(out.starts_with("<div></div>\n\n<section class=\"slide\" id=\"slide-1\" data-title-slide>\n\n# Wrong &lt;all&gt;\n\n<p class=\"deck-title-subtitle\">"), "{out}");
        assert!(
            out.contains("</section>\n\n<section class=\"slide\" id=\"slide-2\">\n\n# A story"),
            "{out}"
        );
        assert!(
            out.ends_with("<section class=\"slide\" id=\"slide-3\">\n\n## Next\n"),
            "{out}"
        );
        assert_eq!(out.matches("<section").count(), 3);
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
