//! The title slide, from `book.toml`: the book's `title` and, under
//! `[preprocessor.deck]`, `subtitle`, `speaker`, `event`, `date` and `url` (the address
//! of the online version). They go on the first slide of the first chapter when that
//! slide's `#` heading is the book's title; otherwise (a talk that opens with a story,
//! say) a title slide of its own is put before it and the chapter's slides move up by
//! one. The slide is marked `data-title-slide` for the CSS. Without any of the keys
//! the chapter stays as written.

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
}

/// The keys under `[preprocessor.deck]` that this module reads.
pub const KEYS: &[&str] = &["subtitle", "speaker", "event", "date", "url"];

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
            html.push_str(&format!("<p class=\"deck-title-{class}\">{inner}</p>"));
        };
        if let Some(s) = &self.subtitle {
            line("subtitle", escape(s));
        }
        if let Some(s) = &self.speaker {
            line("by", escape(s));
        }
        let when_where: Vec<String> = [&self.event, &self.date]
            .into_iter()
            .flatten()
            .map(|s| escape(s))
            .collect();
        if !when_where.is_empty() {
            line("event", when_where.join(" · "));
        }
        if let Some(url) = &self.url {
            let shown = url
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            line(
                "url",
                format!("<a href=\"{}\">{}</a>", escape(url), escape(shown)),
            );
        }
        html
    }
}

/// The first chapter's converted Markdown with a title slide first.
pub fn apply(converted: &str, title: &Title) -> String {
    const FIRST: &str = "<section class=\"slide\" id=\"slide-1\">";
    let Some(at) = converted.find(FIRST) else {
        return converted.to_string();
    };
    let rest = &converted[at + FIRST.len()..];
    let trimmed = rest.trim_start_matches('\n');
    let heading = trimmed.lines().next().and_then(|l| l.strip_prefix("# "));
    let mut out = String::with_capacity(converted.len() + 512);
    out.push_str(&converted[..at]);
    if heading.is_some_and(|h| h.trim().eq_ignore_ascii_case(title.title.trim())) {
        let heading_end = trimmed.find('\n').unwrap_or(trimmed.len());
        out.push_str("<section class=\"slide\" id=\"slide-1\" data-title-slide>\n\n");
        out.push_str(&trimmed[..heading_end]);
        out.push_str("\n\n");
        out.push_str(&title.html());
        out.push_str("\n\n");
        out.push_str(trimmed[heading_end..].trim_start_matches('\n'));
        return out;
    }
    out.push_str(&format!(
        "<section class=\"slide\" id=\"slide-1\" data-title-slide>\n\n# {}\n\n{}\n\n</section>\n\n",
        escape(&title.title),
        title.html()
    ));
    out.push_str(&renumber(&converted[at..]));
    out
}

/// The chapter's slides, each one number later (`slide-1` becomes `slide-2`).
fn renumber(slides: &str) -> String {
    let count = slides
        .matches("<section class=\"slide\" id=\"slide-")
        .count();
    let mut out = slides.to_string();
    for n in (1..=count).rev() {
        out = out.replace(
            &format!("<section class=\"slide\" id=\"slide-{n}\">"),
            &format!("<section class=\"slide\" id=\"slide-{}\">", n + 1),
        );
    }
    out
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
        }
    }

    #[test]
    fn the_keys_go_under_the_first_heading_when_it_is_the_title() {
        let src = "<div></div>\n\n<section class=\"slide\" id=\"slide-1\">\n\n# wrong <ALL>\n\nTagline.\n\n</section>\n\n<section class=\"slide\" id=\"slide-2\">\n\n## Next\n";
        let out = apply(src, &title());
        assert!(out.contains(concat!(
            "<div></div>\n\n<section class=\"slide\" id=\"slide-1\" data-title-slide>\n\n# wrong <ALL>\n\n",
            "<p class=\"deck-title-subtitle\">Sockets &amp; IPC</p><p class=\"deck-title-by\">Ada</p>",
            "<p class=\"deck-title-event\">KernelConf · 2026-12-03</p>",
            "<p class=\"deck-title-url\"><a href=\"https://example.org/talk/\">example.org/talk/</a></p>",
            "\n\nTagline."
        )), "{out}");
        assert_eq!(out.matches("data-title-slide").count(), 1);
        assert!(out.ends_with("<section class=\"slide\" id=\"slide-2\">\n\n## Next\n"));
    }

    #[test]
    fn a_talk_that_opens_otherwise_gets_a_title_slide_before_it() {
        let src = "<div></div>\n\n<section class=\"slide\" id=\"slide-1\">\n\n# A story\n\n</section>\n\n<section class=\"slide\" id=\"slide-2\">\n\n## Next\n";
        let out = apply(src, &title());
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
