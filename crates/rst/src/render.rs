//! From blocks to the Markdown (+ HTML blocks) the slide engine reads: where slides
//! start is decided here, the way hieroglyph decides it (see [`super`]).

use super::block::{self, Block, Cell, Kind, Literal, Sequence, Text};
use super::inline::{Inline, Mode, escape_html};
use crate::Problem;
use contract::directive::{parse_chart_directive, parse_demo_directive};
use contract::page::class;

/// Output lines, each with the rST line it came from.
#[derive(Debug, Default)]
pub(crate) struct Out(pub Vec<(String, usize)>);

impl Out {
    fn last_line(&self) -> usize {
        self.0.last().map_or(1, |l| l.1)
    }
    fn line(&mut self, text: impl Into<String>, no: usize) {
        self.0.push((text.into(), no));
    }
    /// A blank line, unless there is one already (or nothing yet).
    fn blank(&mut self) {
        if self.0.last().is_some_and(|l| !l.0.is_empty()) {
            let no = self.last_line();
            self.0.push((String::new(), no));
        }
    }
    /// Multi-line text, one output line per line, numbered from `no`.
    fn text(&mut self, text: &str, no: usize) {
        for (k, l) in text.split('\n').enumerate() {
            self.0.push((l.trim_end().to_string(), no + k));
        }
    }
    /// Another output, its first line prefixed by `first` and the others by `rest`
    /// (blank lines stay blank when `rest` is only spaces).
    fn nest(&mut self, other: Out, first: &str, rest: &str) {
        let blank_rest = rest.trim_end();
        for (k, (text, no)) in other.0.into_iter().enumerate() {
            let prefix = if k == 0 { first } else { rest };
            let line = if text.is_empty() {
                if k == 0 {
                    first.trim_end().to_string()
                } else {
                    blank_rest.to_string()
                }
            } else {
                format!("{prefix}{text}")
            };
            self.0.push((line, no));
        }
    }
    fn append(&mut self, other: Out) {
        self.0.extend(other.0);
    }
    /// `open`, a blank line, `body` as Markdown, a blank line, `close`: HTML around
    /// Markdown that still renders.
    fn wrap(&mut self, open: &str, body: Out, close: &str, no: usize) {
        self.line(open, no);
        self.line("", no);
        let end = body.0.last().map_or(no, |l| l.1);
        self.append(body);
        self.blank();
        self.line(close, end);
    }
}

/// Hieroglyph's slide settings for one chapter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SlideRules {
    /// Section titles up to this level start slides.
    pub slide_levels: usize,
    /// Whether sections make slides at all (else only `.. slide::` does).
    pub autoslides: bool,
}

/// Where the renderer is in the document's sections, for slides.
#[derive(Debug, Default)]
struct Section {
    /// The level of the current section (0 before any title).
    level: usize,
    /// The current section's title as rendered, for `nextslide`.
    title: Option<String>,
    /// How many slides the section has made so far (for `:increment:`).
    count: usize,
}

pub(crate) struct Render<'r> {
    pub inline: Inline<'r>,
    notes: Out,
    rules: SlideRules,
    section: Section,
    /// Every section title (level, rendered text), for `contents`.
    titles: Vec<(usize, String)>,
    /// Inside `ifnotslides`: a note there is a visible box, not a speaker note.
    reading_only: bool,
    /// How many section titles came before here (an index into `titles`).
    titles_seen: usize,
    /// Between slides, where hieroglyph puts what it shows in no slide: with
    /// `autoslides` off, everything outside `.. slide::`; with it on, the rest of a
    /// section after a `.. slide::` (up to the next title that starts a slide).
    outside: bool,
    /// With `autoslides` off, what comes before the first `.. slide::` (for readers
    /// only): it goes into that slide, hidden there, so that it makes no slide of its
    /// own (hieroglyph has none there).
    prelude: Option<Out>,
}

/// Whether a list renders tight (no paragraphs in its items): every item is at most a
/// paragraph and a nested list that can interrupt it (a bullet list, or one counting
/// from 1).
fn is_tight(items: &[Vec<Block>]) -> bool {
    items.iter().all(|item| match item.as_slice() {
        [] => true,
        [first, rest @ ..] => {
            matches!(first.kind, Kind::Para(_))
                && rest.len() <= 1
                && rest.iter().all(|b| {
                    matches!(
                        b.kind,
                        Kind::Bullets(_)
                            | Kind::Enumerated {
                                sequence: Sequence::Arabic,
                                start: 1,
                                ..
                            }
                    )
                })
        }
    })
}

fn heading_classes(classes: &[String]) -> String {
    if classes.is_empty() {
        return String::new();
    }
    let list: Vec<String> = classes.iter().map(|c| format!(".{c}")).collect();
    format!(" {{{}}}", list.join(" "))
}

fn admonition_title(class: &str) -> String {
    match class {
        "seealso" => "See also".to_string(),
        c => {
            let mut chars = c.chars();
            chars.next().map_or(String::new(), |f| {
                f.to_uppercase().collect::<String>() + chars.as_str()
            })
        }
    }
}

/// Whether a block decides where slides are (and so stays at the top level).
fn is_structural(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Title { .. } | Kind::NextSlide { .. } | Kind::Slide { .. } | Kind::Note(_)
    )
}

/// Section titles in reading order, with those inside `ifslides`/`ifnotslides`.
fn collect_titles<'b>(blocks: &'b [Block], out: &mut Vec<(usize, &'b Text)>) {
    for b in blocks {
        match &b.kind {
            Kind::Title { level, text, .. } => out.push((*level, text)),
            Kind::Only { body, .. } => collect_titles(body, out),
            _ => {}
        }
    }
}

impl<'r> Render<'r> {
    pub(crate) fn new(inline: Inline<'r>, rules: SlideRules) -> Render<'r> {
        Render {
            inline,
            notes: Out::default(),
            rules,
            section: Section::default(),
            titles: Vec::new(),
            reading_only: false,
            titles_seen: 0,
            outside: !rules.autoslides,
            prelude: (!rules.autoslides).then(Out::default),
        }
    }

    /// The whole document.
    pub(crate) fn document(&mut self, blocks: &[Block]) -> Out {
        let mut titles = Vec::new();
        collect_titles(blocks, &mut titles);
        self.titles = titles
            .into_iter()
            .map(|(level, t)| (level, self.heading_text(t)))
            .collect();
        let mut out = Out::default();
        self.top_blocks(&mut out, blocks, None);
        if let Some(prelude) = self.prelude.take() {
            // No slide at all: the chapter is for readers only.
            out.blank();
            out.append(prelude);
        }
        self.flush_notes(&mut out);
        out
    }

    fn heading_text(&mut self, t: &Text) -> String {
        self.inline.render(t, Mode::Heading).replace('\n', " ")
    }

    fn flush_notes(&mut self, out: &mut Out) {
        if self.notes.0.is_empty() {
            return;
        }
        let notes = std::mem::take(&mut self.notes);
        let no = notes.0.first().map_or(out.last_line(), |l| l.1);
        out.blank();
        out.line("Notes:", no);
        out.line("", no);
        out.append(notes);
        out.blank();
    }

    /// Top-level blocks, where titles and slide directives start slides. Inside
    /// `ifslides` (`only` = its class), everything else is wrapped in that class.
    fn top_blocks(&mut self, out: &mut Out, blocks: &[Block], only: Option<&str>) {
        let mut previous: Option<&Kind> = None;
        let mut alternate = false;
        for (k, b) in blocks.iter().enumerate() {
            out.blank();
            match &b.kind {
                Kind::Only { slides: true, body }
                    if body.iter().any(|b| is_structural(&b.kind)) =>
                {
                    self.top_blocks(out, body, Some(class::ONLY_SLIDES));
                }
                Kind::NextSlide { .. } if !self.section_continues(&blocks[k + 1..]) => {}
                Kind::Note(_) if self.outside => self.outside_slides(out, b),
                kind if is_structural(kind) => self.structural(out, b, only),
                _ if self.outside => self.outside_slides(out, b),
                _ => {
                    alternate = alternates(previous, &b.kind) && !alternate;
                    match only {
                        Some(class) => {
                            let mut inner = Out::default();
                            self.block(&mut inner, b, alternate);
                            out.wrap(&format!("<div class=\"{class}\">"), inner, "</div>", b.line);
                        }
                        None => self.block(out, b, alternate),
                    }
                }
            }
            if !matches!(b.kind, Kind::Note(_)) {
                previous = Some(&b.kind);
            }
        }
    }

    /// With `autoslides` off, prose outside `.. slide::` is for the reading view only.
    fn outside_slides(&mut self, out: &mut Out, b: &Block) {
        let mut inner = Out::default();
        // (Sphinx resolves `:ref:` here, and warns: only `ifnotslides` is quiet.)
        let reading = std::mem::replace(&mut self.reading_only, true);
        match &b.kind {
            // Not a speaker note of the slide before: a visible note, for readers.
            Kind::Note(body) => self.admonition(&mut inner, "note", None, body, b.line),
            _ => self.block(&mut inner, b, false),
        }
        self.reading_only = reading;
        self.for_readers(out, inner, b.line);
    }

    /// What only readers see (`<div class="only-reading">`), in the prelude while
    /// one is kept.
    fn for_readers(&mut self, out: &mut Out, inner: Out, no: usize) {
        let to = self.prelude.as_mut().unwrap_or(out);
        to.blank();
        let only_reading = format!("<div class=\"{}\">", class::ONLY_READING);
        to.wrap(&only_reading, inner, "</div>", no);
    }

    /// Whether anything of the current section follows (hieroglyph drops a `nextslide`
    /// with nothing after it).
    fn section_continues(&self, rest: &[Block]) -> bool {
        match rest.first().map(|b| &b.kind) {
            None => false,
            Some(Kind::Title { level, .. }) => *level > self.section.level,
            Some(_) => true,
        }
    }

    fn structural(&mut self, out: &mut Out, b: &Block, only: Option<&str>) {
        let mut extra: Vec<String> = only.map(|c| vec![c.to_string()]).unwrap_or_default();
        match &b.kind {
            Kind::Title {
                level,
                text,
                classes,
            } => {
                extra.extend(classes.iter().cloned());
                let text = self.heading_text(text);
                self.titles_seen += 1;
                self.section = Section {
                    level: *level,
                    title: Some(text.clone()),
                    count: 1,
                };
                if !self.rules.autoslides {
                    // Not a slide: hieroglyph drops it from the slides.
                    let mut inner = Out::default();
                    self.heading(&mut inner, *level, &text, &extra, b.line, false);
                    self.for_readers(out, inner, b.line);
                    return;
                }
                let starts = *level <= self.rules.slide_levels;
                if starts {
                    self.outside = false;
                } else if self.outside {
                    // A subsection after a `.. slide::`: in no slide either.
                    let mut inner = Out::default();
                    self.heading(&mut inner, *level, &text, &extra, b.line, false);
                    out.wrap(
                        &format!("<div class=\"{}\">", class::ONLY_READING),
                        inner,
                        "</div>",
                        b.line,
                    );
                    return;
                }
                self.heading(out, *level, &text, &extra, b.line, starts);
            }
            Kind::NextSlide {
                title,
                increment,
                classes,
            } => {
                extra.extend(classes.iter().cloned());
                self.next_slide(out, title.as_ref(), *increment, &extra, b.line);
            }
            Kind::Slide {
                title,
                level,
                classes,
                body,
            } => {
                extra.extend(classes.iter().cloned());
                self.slide(out, title.as_ref(), *level, &extra, body, b.line);
            }
            Kind::Note(body) => {
                let inner = self.sub(body);
                self.notes.blank();
                self.notes.append(inner);
            }
            _ => self.block(out, b, false),
        }
    }

    /// A section title. One that starts a slide is `#`/`##` (which the slide engine
    /// splits at), or a break and `###`+ for deeper levels; one that does not is
    /// `###`+, or an HTML heading at levels 1 and 2.
    fn heading(
        &mut self,
        out: &mut Out,
        level: usize,
        text: &str,
        classes: &[String],
        no: usize,
        starts_slide: bool,
    ) {
        let level = level.clamp(1, 6);
        if starts_slide {
            self.flush_notes(out);
        }
        if starts_slide && level > 2 {
            out.blank();
            out.line("---", no);
            out.line("", no);
        }
        if starts_slide || level > 2 {
            let hashes = "#".repeat(level);
            out.line(format!("{hashes} {text}{}", heading_classes(classes)), no);
            return;
        }
        let html = escape_markdown_heading(text);
        let class = if classes.is_empty() {
            String::new()
        } else {
            format!(" class=\"{}\"", escape_html(&classes.join(" ")))
        };
        let id = block::slug(&html);
        out.line(
            format!("<h{level} id=\"{id}\"{class}>{html}</h{level}>"),
            no,
        );
    }

    fn next_slide(
        &mut self,
        out: &mut Out,
        title: Option<&Text>,
        increment: bool,
        classes: &[String],
        no: usize,
    ) {
        let Some(base) = self.section.title.clone() else {
            self.warn(
                no,
                "`nextslide` before any section title; starts an untitled slide",
            );
            self.flush_notes(out);
            out.line("---", no);
            return;
        };
        // As hieroglyph: the count goes on from the section's base title, also past a
        // `nextslide` with a title of its own.
        self.section.count += 1;
        let text = match title {
            Some(t) => self.heading_text(t),
            None if increment => format!("{base} ({})", self.section.count),
            None => base,
        };
        let level = self.section.level;
        let starts = self.rules.autoslides && level <= self.rules.slide_levels;
        if starts {
            self.outside = false;
        }
        self.heading(out, level, &text, classes, no, starts);
    }

    fn slide(
        &mut self,
        out: &mut Out,
        title: Option<&Text>,
        level: Option<usize>,
        classes: &[String],
        body: &[Block],
        no: usize,
    ) {
        let level = level.unwrap_or(self.section.level).max(1);
        let text = title.map(|t| self.heading_text(t));
        if level > self.rules.slide_levels {
            // Deeper than slides go: a box in the current slide, as hieroglyph.
            let mut inner = Out::default();
            if let Some(text) = &text {
                self.heading(&mut inner, level, text, &[], no, false);
                inner.line("", no);
            }
            inner.append(self.sub(body));
            let class = format!("section level-{level}");
            out.wrap(&format!("<div class=\"{class}\">"), inner, "</div>", no);
            return;
        }
        match &text {
            Some(text) => self.heading(out, level, text, classes, no, true),
            None => {
                self.flush_notes(out);
                out.line("---", no);
            }
        }
        if let Some(prelude) = self.prelude.take() {
            out.blank();
            out.append(prelude);
        }
        let inner = self.sub(body);
        out.blank();
        out.append(inner);
        // What follows in the section is in no slide (hieroglyph closes this one).
        self.outside = true;
    }

    /// Blocks inside another element (never a slide boundary).
    fn blocks(&mut self, out: &mut Out, blocks: &[Block], tight: bool) {
        let mut previous: Option<&Kind> = None;
        let mut alternate = false;
        for b in blocks {
            if !tight {
                out.blank();
            }
            alternate = alternates(previous, &b.kind) && !alternate;
            self.block(out, b, alternate);
            if !matches!(b.kind, Kind::Note(_)) {
                previous = Some(&b.kind);
            }
        }
    }

    fn sub(&mut self, blocks: &[Block]) -> Out {
        let mut o = Out::default();
        self.blocks(&mut o, blocks, false);
        o
    }

    /// A list item's blocks; in a tight list, a nested list follows its paragraph
    /// without a blank line.
    fn item(&mut self, blocks: &[Block], tight: bool) -> Out {
        let mut o = Out::default();
        self.blocks(&mut o, blocks, tight);
        o
    }

    fn para(&mut self, out: &mut Out, t: &Text) {
        let trimmed = t.text.trim();
        if parse_demo_directive(trimmed).is_some() || parse_chart_directive(trimmed).is_some() {
            out.text(trimmed, t.line);
            return;
        }
        let mut md = self.inline.render(t, Mode::Markdown);
        if md.trim() == "Notes:" {
            // Text, not the marker that starts speaker notes.
            md.push('\u{200B}');
        }
        out.text(&md, t.line);
    }

    /// Inline text for an HTML block (one or more lines).
    fn html(&mut self, t: &Text) -> String {
        self.inline.render(t, Mode::Html)
    }

    pub(crate) fn warn(&mut self, line: usize, message: &str) {
        self.inline.warnings.push(Problem {
            line,
            message: message.to_string(),
        });
    }

    /// One block inside a slide.
    fn block(&mut self, out: &mut Out, b: &Block, alternate: bool) {
        let no = b.line;
        match &b.kind {
            Kind::Para(t) => self.para(out, t),
            Kind::Title {
                level,
                text,
                classes,
            } => {
                let text = self.heading_text(text);
                self.heading(out, *level, &text, classes, no, false);
            }
            Kind::Bullets(items) => self.bullets(out, items, alternate, no),
            Kind::Enumerated {
                sequence,
                start,
                items,
            } => self.enumerated(out, *sequence, *start, items, alternate, no),
            Kind::Definitions(items) => self.definitions(out, items, no),
            Kind::Fields(items) => self.fields(out, items, no),
            Kind::Options(items) => self.options(out, items, no),
            Kind::Quote {
                body,
                attribution,
                class,
            } => self.quote(out, body, attribution.as_ref(), class, no),
            Kind::LineBlock(lines) => self.line_block(out, lines, no),
            Kind::Literal(code) => self.literal(out, code, no),
            Kind::ParsedLiteral(t) => {
                let h = self.html(t);
                out.text(&format!("<pre class=\"parsed-literal\">{h}</pre>"), t.line);
            }
            Kind::Table { head, body } => self.table(out, head, body, no),
            Kind::Note(_) | Kind::NextSlide { .. } | Kind::Slide { .. } => {
                self.nested_slide_block(out, b)
            }
            Kind::Admonition { class, title, body } => {
                self.admonition(out, class, title.as_ref(), body, no)
            }
            Kind::Embed(directive) => out.line(directive.as_str(), no),
            Kind::Only { slides, body } => {
                let class = if *slides {
                    class::ONLY_SLIDES
                } else {
                    class::ONLY_READING
                };
                let outer = std::mem::replace(&mut self.reading_only, !*slides);
                let quiet = std::mem::replace(&mut self.inline.reading_only, !*slides);
                let inner = self.sub(body);
                self.reading_only = outer;
                self.inline.reading_only = quiet;
                out.wrap(&format!("<div class=\"{class}\">"), inner, "</div>", no);
            }
            Kind::Figure { .. } => self.figure(out, b),
            Kind::Image(image) => {
                let img = self.inline.img(image);
                out.line(format!("<div class=\"image\">{img}</div>"), no);
            }
            Kind::Classed { classes, body } => self.classed(out, classes, body, no),
            Kind::Raw(html) => out.text(html, no),
            Kind::Rubric(t) => {
                let h = self.html(t);
                out.text(&format!("<p class=\"rubric\">{h}</p>"), t.line);
            }
            Kind::Centered(t) => {
                let h = self.html(t);
                out.text(
                    &format!("<p class=\"centered\"><strong>{h}</strong></p>"),
                    t.line,
                );
            }
            Kind::Transition => out.line("<hr class=\"transition\">", no),
            Kind::Footnote { label, body } => self.footnote(out, label, body, no),
            Kind::Math(tex) => {
                let text = super::math::to_text(tex);
                out.text(
                    &format!("<div class=\"math\">{}</div>", escape_html(&text)),
                    no,
                );
            }
            Kind::Toctree(entries) => self.toctree(out, entries, no),
            Kind::Contents {
                title,
                depth,
                local,
            } => self.contents(out, title.as_deref(), *depth, *local, no),
            Kind::Describe {
                class,
                signature,
                body,
            } => self.describe(out, class, signature, body, no),
        }
    }

    /// A note, `nextslide` or `slide` where no slide can start (inside another
    /// element): the note still goes to the notes; the others show their content.
    fn nested_slide_block(&mut self, out: &mut Out, b: &Block) {
        match &b.kind {
            Kind::Note(body) if self.reading_only => {
                // Not in the slides at all (hieroglyph drops it there): a visible note.
                self.admonition(out, "note", None, body, b.line);
            }
            Kind::Note(body) => {
                let inner = self.sub(body);
                self.notes.blank();
                self.notes.append(inner);
            }
            Kind::NextSlide { .. } => {
                self.warn(b.line, "`nextslide` inside another element is ignored");
            }
            Kind::Slide { title, body, .. } => {
                self.warn(
                    b.line,
                    "`slide` inside another element; its title is shown as text",
                );
                if let Some(t) = title {
                    let text = self.heading_text(t);
                    out.line(format!("**{text}**"), b.line);
                    out.line("", b.line);
                }
                let inner = self.sub(body);
                out.append(inner);
            }
            _ => {}
        }
    }

    fn bullets(&mut self, out: &mut Out, items: &[Vec<Block>], alternate: bool, no: usize) {
        let marker = if alternate { "*" } else { "-" };
        let tight = is_tight(items);
        for (k, item) in items.iter().enumerate() {
            if k > 0 && !tight {
                out.blank();
            }
            let body = self.item(item, tight);
            if body.0.is_empty() {
                out.line(marker, no);
            } else {
                out.nest(body, &format!("{marker} "), "  ");
            }
        }
    }

    fn definitions(&mut self, out: &mut Out, items: &[block::DefItem], no: usize) {
        out.line("<dl>", no);
        for item in items {
            let mut term = self.html(&item.term);
            for c in &item.classifiers {
                term.push_str(&format!(
                    " <span class=\"classifier-delimiter\">:</span> <span class=\"classifier\">{}</span>",
                    self.html(c)
                ));
            }
            out.text(&format!("<dt>{term}</dt>"), item.term.line);
            let body = self.sub(&item.body);
            out.wrap("<dd>", body, "</dd>", item.term.line);
        }
        out.line("</dl>", out.last_line());
    }

    fn fields(&mut self, out: &mut Out, items: &[(Text, Vec<Block>)], no: usize) {
        out.line("<dl class=\"field-list\">", no);
        for (name, body) in items {
            let name_html = self.html(name);
            out.line(format!("<dt>{name_html}</dt>"), name.line);
            let body = self.sub(body);
            out.wrap("<dd>", body, "</dd>", name.line);
        }
        out.line("</dl>", out.last_line());
    }

    fn options(&mut self, out: &mut Out, items: &[(Text, Vec<Block>)], no: usize) {
        out.line("<dl class=\"option-list\">", no);
        for (group, body) in items {
            let options: Vec<String> = group
                .text
                .split(", ")
                .map(|o| format!("<span class=\"option\">{}</span>", escape_html(o)))
                .collect();
            out.line(
                format!("<dt><kbd>{}</kbd></dt>", options.join(", ")),
                group.line,
            );
            let body = self.sub(body);
            out.wrap("<dd>", body, "</dd>", group.line);
        }
        out.line("</dl>", out.last_line());
    }

    fn quote(
        &mut self,
        out: &mut Out,
        body: &[Block],
        attribution: Option<&Text>,
        class: &str,
        no: usize,
    ) {
        let mut inner = self.sub(body);
        if let Some(a) = attribution {
            inner.blank();
            let a_html = self.html(a);
            inner.text(&format!("<p class=\"attribution\">— {a_html}</p>"), a.line);
        }
        if class == "blockquote" {
            let from = out.0.len();
            out.nest(inner, "> ", "> ");
            for l in &mut out.0[from..] {
                if l.0 == "> " {
                    l.0 = ">".into();
                }
            }
        } else {
            out.wrap(
                &format!("<blockquote class=\"{class}\">"),
                inner,
                "</blockquote>",
                no,
            );
        }
    }

    fn line_block(&mut self, out: &mut Out, lines: &[(usize, Text)], no: usize) {
        out.line("<div class=\"line-block\">", no);
        for (indent, t) in lines {
            let pad = "&nbsp;".repeat(*indent);
            if t.text.is_empty() {
                out.line(format!("<div class=\"{}\"><br></div>", class::LINE), t.line);
            } else {
                let h = self.html(t);
                out.text(
                    &format!("<div class=\"{}\">{pad}{h}</div>", class::LINE),
                    t.line,
                );
            }
        }
        out.line("</div>", out.last_line());
    }

    /// A code block: fenced Markdown, or HTML when lines are numbered or emphasized
    /// (then without syntax colouring, which would lose the marks).
    fn literal(&mut self, out: &mut Out, code: &Literal, no: usize) {
        if let Some(c) = &code.caption {
            let h = self.html(c);
            out.text(
                &format!("<div class=\"code-block-caption\">{h}</div>"),
                c.line,
            );
            out.line("", c.line);
        }
        if code.numbered_from.is_some() || !code.emphasized.is_empty() {
            out.line(marked_code(code), no);
            return;
        }
        let longest = code
            .text
            .split(|c| c != '`')
            .map(str::len)
            .max()
            .unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let info = info_string(code.lang.as_deref());
        out.line(format!("{fence}{info}"), no.saturating_sub(1).max(1));
        out.text(&code.text, no);
        out.line(fence, out.last_line());
    }

    fn table(&mut self, out: &mut Out, head: &[Vec<Cell>], body: &[Vec<Cell>], no: usize) {
        self.table_with(out, head, body, "<table>", "", no);
    }

    /// A table: `open` is its start tag, `section_class` the attribute of its head and
    /// body (the steps of a `build` table).
    fn table_with(
        &mut self,
        out: &mut Out,
        head: &[Vec<Cell>],
        body: &[Vec<Cell>],
        open: &str,
        section_class: &str,
        no: usize,
    ) {
        out.line(open, no);
        for (section, rows, cell) in [("thead", head, "th"), ("tbody", body, "td")] {
            if rows.is_empty() {
                continue;
            }
            out.line(format!("<{section}{section_class}>"), out.last_line());
            for row in rows {
                out.line("<tr>", out.last_line());
                for c in row {
                    self.cell(out, c, cell);
                }
                out.line("</tr>", out.last_line());
            }
            out.line(format!("</{section}>"), out.last_line());
        }
        out.line("</table>", out.last_line());
    }

    fn cell(&mut self, out: &mut Out, c: &Cell, tag: &str) {
        let mut span = String::new();
        if c.span > 1 {
            span.push_str(&format!(" colspan=\"{}\"", c.span));
        }
        if c.rows > 1 {
            span.push_str(&format!(" rowspan=\"{}\"", c.rows));
        }
        let no = out.last_line();
        match c.body.as_slice() {
            [] => out.line(format!("<{tag}{span}></{tag}>"), no),
            [
                Block {
                    kind: Kind::Para(t),
                    ..
                },
            ] => {
                let h = self.html(t);
                out.text(&format!("<{tag}{span}>{h}</{tag}>"), t.line);
            }
            blocks => {
                let inner = self.sub(blocks);
                let first = blocks[0].line;
                out.wrap(
                    &format!("<{tag}{span}>"),
                    inner,
                    &format!("</{tag}>"),
                    first,
                );
            }
        }
    }

    fn admonition(
        &mut self,
        out: &mut Out,
        class: &str,
        title: Option<&Text>,
        body: &[Block],
        no: usize,
    ) {
        let kind = class.split(' ').next().unwrap_or("admonition");
        let title_html = match title {
            Some(t) => self.html(t),
            None => admonition_title(kind),
        };
        let inner = self.sub(body);
        out.line(
            format!("<div class=\"admonition {}\">", escape_html(class)),
            no,
        );
        out.line(
            format!(
                "<p class=\"admonition-title\">{}</p>",
                title_html.replace('\n', " ")
            ),
            no,
        );
        out.line("", no);
        let end = inner.0.last().map_or(no, |l| l.1);
        out.append(inner);
        out.blank();
        out.line("</div>", end);
    }

    fn figure(&mut self, out: &mut Out, b: &Block) {
        let Kind::Figure {
            image,
            class,
            width,
            caption,
            legend,
        } = &b.kind
        else {
            return;
        };
        let mut classes = vec!["figure".to_string()];
        classes.extend(class.iter().cloned());
        classes.extend(image.classes.iter().cloned());
        let img = self.inline.img(image);
        let style = width
            .as_deref()
            .map(|w| format!(" style=\"width: {}\"", escape_html(&css_length(w))))
            .unwrap_or_default();
        out.line(
            format!(
                "<figure class=\"{}\"{style}>",
                escape_html(&classes.join(" "))
            ),
            b.line,
        );
        out.line(img, b.line);
        if let Some(c) = caption {
            let h = self.html(c);
            out.text(&format!("<figcaption>{h}</figcaption>"), c.line);
        }
        if !legend.is_empty() {
            let inner = self.sub(legend);
            out.wrap("<div class=\"legend\">", inner, "</div>", b.line);
        }
        out.line("</figure>", out.last_line());
    }

    /// `.. rst-class:: build` (hieroglyph's step-by-step reveal): each child of the
    /// element becomes one step (`deck-step`, the deck's contract with the player):
    /// a list's items, a container's blocks, a paragraph's inline elements, a table's
    /// head and body.
    fn classed(&mut self, out: &mut Out, classes: &[String], body: &[Block], no: usize) {
        let class_attr = escape_html(&classes.join(" "));
        if !classes.iter().any(|c| c == "build") {
            let inner = self.sub(body);
            out.wrap(
                &format!("<div class=\"{class_attr}\">"),
                inner,
                "</div>",
                no,
            );
            return;
        }
        // hieroglyph reveals the children of the element `build` is on (`.build > *`).
        // On a container, those are the container's children.
        if let [single] = body
            && let Kind::Classed {
                classes: inner,
                body: children,
            } = &single.kind
            && !inner.iter().any(|c| c == "build")
        {
            let mut merged = classes.to_vec();
            merged.extend(inner.iter().cloned());
            return self.classed(out, &merged, children, no);
        }
        // On a paragraph, its inline elements (emphasis, literals, links; plain text
        // stays).
        if let [single] = body
            && let Kind::Para(text) = &single.kind
        {
            let html = self.html(text);
            out.text(
                &format!("<p class=\"{class_attr}\">{}</p>", inline_steps(&html)),
                text.line,
            );
            return;
        }
        // On a table, its head and body.
        if let [single] = body
            && let Kind::Table { head, body } = &single.kind
        {
            let open = format!("<table class=\"{class_attr}\">");
            let step = format!(" class=\"{}\"", class::STEP);
            self.table_with(out, head, body, &open, &step, no);
            return;
        }
        if let [single] = body
            && let Some(items) = list_items(&single.kind)
        {
            let tag = if matches!(single.kind, Kind::Bullets(_)) {
                "ul"
            } else {
                "ol"
            };
            out.line(format!("<{tag} class=\"{class_attr}\">"), no);
            for item in items {
                let inner = self.sub(item);
                let first = item.first().map_or(no, |b| b.line);
                out.wrap(
                    &format!("<li class=\"{}\">", class::STEP),
                    inner,
                    "</li>",
                    first,
                );
            }
            out.line(format!("</{tag}>"), out.last_line());
            return;
        }
        out.line(format!("<div class=\"{class_attr}\">"), no);
        out.line("", no);
        for child in body {
            let mut inner = Out::default();
            self.block(&mut inner, child, false);
            out.wrap(
                &format!("<div class=\"{}\">", class::STEP),
                inner,
                "</div>",
                child.line,
            );
            out.blank();
        }
        out.line("</div>", out.last_line());
    }

    fn footnote(&mut self, out: &mut Out, label: &str, body: &[Block], no: usize) {
        let inner = self.sub(body);
        let (id, shown) = self.inline.footnote_label(label);
        out.line(
            format!("<div class=\"footnote\" id=\"{}\">", escape_html(&id)),
            no,
        );
        out.line(
            format!(
                "<span class=\"footnote-label\">[{}]</span>",
                escape_html(&shown)
            ),
            no,
        );
        out.line("", no);
        out.append(inner);
        out.blank();
        out.line("</div>", out.last_line());
    }

    fn toctree(&mut self, out: &mut Out, entries: &[Text], no: usize) {
        out.line("<div class=\"toctree-wrapper\">", no);
        out.line("<ul>", no);
        for e in entries {
            let (title, doc) = match e.text.rsplit_once('<') {
                Some((t, d)) if e.text.ends_with('>') && !t.trim().is_empty() => (
                    t.trim().to_string(),
                    d.trim_end_matches('>').trim().to_string(),
                ),
                _ => (e.text.clone(), e.text.clone()),
            };
            let doc = doc.trim_end_matches(".rst").trim_end_matches(".md");
            let href = self.inline.uri(&format!("{doc}.html"));
            out.line(
                format!(
                    "<li><a href=\"{}\">{}</a></li>",
                    escape_html(&href),
                    escape_html(&title)
                ),
                e.line,
            );
        }
        out.line("</ul>", out.last_line());
        out.line("</div>", out.last_line());
    }

    /// `contents`: the document's titles; with `:local:` (as docutils) only those of
    /// the current section's subsections, and no title unless one is given.
    fn contents(
        &mut self,
        out: &mut Out,
        title: Option<&str>,
        depth: usize,
        local: bool,
        no: usize,
    ) {
        let titles: Vec<(usize, String)> = if local {
            let here = self.section.level;
            self.titles
                .iter()
                .skip(self.titles_seen)
                .take_while(|(level, _)| self.titles_seen == 0 || *level > here)
                .cloned()
                .collect()
        } else {
            self.titles.clone()
        };
        out.line("<nav class=\"contents topic\">", no);
        if let Some(title) = title.or((!local).then_some("Contents")) {
            out.line(
                format!("<p class=\"topic-title\">{}</p>", escape_html(title)),
                no,
            );
        }
        let top = titles.iter().map(|(l, _)| *l).min().unwrap_or(1);
        let mut open = 0;
        for (level, text) in titles {
            let want = level + 1 - top;
            if want > depth {
                continue;
            }
            while open < want {
                out.line("<ul>", no);
                open += 1;
            }
            while open > want {
                out.line("</ul>", no);
                open -= 1;
            }
            let plain = escape_markdown_heading(&text);
            out.line(
                format!("<li><a href=\"#{}\">{plain}</a></li>", block::slug(&plain)),
                no,
            );
        }
        for _ in 0..open {
            out.line("</ul>", no);
        }
        out.line("</nav>", no);
    }

    fn describe(&mut self, out: &mut Out, class: &str, signature: &str, body: &[Block], no: usize) {
        out.line(format!("<dl class=\"{}\">", escape_html(class)), no);
        out.line(
            format!(
                "<dt class=\"sig\"><span class=\"sig-name descname\">{}</span></dt>",
                escape_html(signature)
            ),
            no,
        );
        let inner = self.sub(body);
        out.wrap("<dd>", inner, "</dd>", no);
        out.line("</dl>", out.last_line());
    }

    fn enumerated(
        &mut self,
        out: &mut Out,
        sequence: Sequence,
        start: u32,
        items: &[Vec<Block>],
        alternate: bool,
        no: usize,
    ) {
        let tight = is_tight(items);
        if sequence == Sequence::Arabic {
            let delim = if alternate { ")" } else { "." };
            for (k, item) in items.iter().enumerate() {
                if k > 0 && !tight {
                    out.blank();
                }
                let n = u64::from(start) + k as u64;
                let marker = format!("{n}{delim} ");
                let body = self.item(item, tight);
                if body.0.is_empty() {
                    out.line(marker.trim_end(), no);
                } else {
                    out.nest(body, &marker, &" ".repeat(marker.len()));
                }
            }
            return;
        }
        let kind = match sequence {
            Sequence::LowerAlpha => "a",
            Sequence::UpperAlpha => "A",
            Sequence::LowerRoman => "i",
            Sequence::UpperRoman => "I",
            Sequence::Arabic => "1",
        };
        out.line(format!("<ol type=\"{kind}\" start=\"{start}\">"), no);
        for item in items {
            if let [
                Block {
                    kind: Kind::Para(t),
                    ..
                },
            ] = item.as_slice()
                && tight
            {
                let h = self.html(t);
                out.text(&format!("<li>{h}</li>"), t.line);
                continue;
            }
            let body = self.sub(item);
            let first = item.first().map_or(no, |b| b.line);
            out.wrap("<li>", body, "</li>", first);
        }
        out.line("</ol>", out.last_line());
    }
}

/// Lists in a row stay separate lists: each uses the other marker.
fn alternates(previous: Option<&Kind>, kind: &Kind) -> bool {
    matches!(
        (previous, kind),
        (Some(Kind::Bullets(_)), Kind::Bullets(_))
            | (Some(Kind::Enumerated { .. }), Kind::Enumerated { .. })
    )
}

fn list_items(kind: &Kind) -> Option<&[Vec<Block>]> {
    match kind {
        Kind::Bullets(items) | Kind::Enumerated { items, .. } => Some(items),
        _ => None,
    }
}

/// A heading rendered for Markdown, turned into HTML text: the escapes undone and
/// the specials escaped for HTML.
fn escape_markdown_heading(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut chars = md.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push_str(&escape_html(&n.to_string()));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A bare number is pixels in docutils' lengths.
fn css_length(v: &str) -> String {
    let v = v.trim();
    if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') {
        format!("{v}px")
    } else {
        v.to_string()
    }
}

fn info_string(lang: Option<&str>) -> String {
    lang.unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_+#.-".contains(*c))
        .collect()
}

/// A code block with line numbers and/or emphasized lines, as Sphinx marks them
/// (`<span class="linenos">`, `<span class="hll">`), on one output line per line.
fn marked_code(code: &Literal) -> String {
    let lang = info_string(code.lang.as_deref());
    let mut html =
        format!("<pre class=\"literal-block\"><code class=\"language-{lang} nohighlight\">");
    for (k, line) in code.text.split('\n').enumerate() {
        if k > 0 {
            html.push('\n');
        }
        if let Some(start) = code.numbered_from {
            html.push_str(&format!("<span class=\"linenos\">{:>3} </span>", start + k));
        }
        let text = escape_html(line);
        if code.emphasized.contains(&(k + 1)) {
            html.push_str(&format!("<span class=\"hll\">{text}</span>"));
        } else {
            html.push_str(&text);
        }
    }
    html.push_str("</code></pre>");
    // One line, so no blank line inside can end the HTML block early.
    contract::escape::one_line(&html)
}

/// A paragraph's inline HTML with each top-level element wrapped in a step (as
/// hieroglyph's `.build > *` on a `<p>`); text between elements is left as it is.
fn inline_steps(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut depth = 0usize;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let end = rest[lt..].find('>').map_or(rest.len(), |e| lt + e + 1);
        let tag = &rest[lt..end];
        let void = tag.ends_with("/>")
            || ["<br", "<img", "<wbr"].iter().any(|v| {
                tag.strip_prefix(v)
                    .is_some_and(|r| r.starts_with([' ', '>', '/']))
            });
        if tag.starts_with("</") {
            out.push_str(tag);
            if depth > 0 {
                depth -= 1;
                if depth == 0 {
                    out.push_str("</span>");
                }
            }
        } else {
            if depth == 0 {
                out.push_str(&format!("<span class=\"{}\">", class::STEP));
            }
            out.push_str(tag);
            if void {
                if depth == 0 {
                    out.push_str("</span>");
                }
            } else {
                depth += 1;
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    for _ in 0..depth {
        out.push_str("</span>");
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::to_markdown;

    #[test]
    fn a_blank_line_maps_to_the_line_of_the_text_above_it() {
        // Not to the chapter's first line: warnings on slides point near their text.
        let c = to_markdown("Title\n=====\n\npara one\n\n\npara two\n");
        let md: Vec<&str> = c.markdown.lines().collect();
        let k = md.iter().position(|l| *l == "para one").expect("para one");
        assert_eq!(md[k + 1], "");
        assert_eq!(c.line_map[k + 1], 4, "{:?}", c.line_map);
    }

    #[test]
    fn a_title_s_classes_follow_its_heading() {
        let c = to_markdown(".. rst-class:: big\n\nTitle\n=====\n\ntext\n");
        assert!(c.markdown.starts_with("# Title {.big}\n"), "{}", c.markdown);
    }

    #[test]
    fn a_title_inside_ifslides_starts_a_slide_and_is_in_the_contents() {
        // Hieroglyph: `ifslides` content is the slides'; a section title there starts
        // a slide of its own (with the class), and `contents` lists it in its place.
        let src = "Top\n===\n\n.. contents::\n\n.. ifslides::\n\n   Inside\n   ------\n\n   text\n\nAfter\n-----\n\nmore\n";
        let c = to_markdown(src);
        assert!(
            c.markdown.contains("\n## Inside {.only-slides}\n"),
            "{}",
            c.markdown
        );
        let nav = c.markdown.split("</nav>").next().unwrap_or("");
        assert!(
            nav.contains(
                "<li><a href=\"#inside\">Inside</a></li>\n<li><a href=\"#after\">After</a></li>"
            ),
            "{}",
            c.markdown
        );
    }

    #[test]
    fn a_note_outside_slides_is_a_visible_note_for_readers() {
        // With `autoslides` off, prose outside `.. slide::` is for readers; a note
        // there belongs to no slide, so it is a note box, not speaker notes.
        let src = ".. slideconf::\n   :autoslides: False\n\nTitle\n=====\n\n.. note::\n\n   Read me.\n\n.. slide:: S\n\n   In the slide.\n";
        let c = to_markdown(src);
        assert!(
            c.markdown.contains("<div class=\"only-reading\">\n\n<div class=\"admonition note\">\n<p class=\"admonition-title\">Note</p>\n\nRead me."),
            "{}",
            c.markdown
        );
        assert!(!c.markdown.contains("Notes:"), "{}", c.markdown);
    }

    #[test]
    fn a_nextslide_is_kept_before_a_subsection_and_dropped_before_the_next_section() {
        // Hieroglyph drops a `nextslide` with nothing of its section after it; a
        // subsection is still its section.
        let kept = to_markdown("Sec\n===\n\ntext\n\n.. nextslide::\n\nSub\n---\n\nmore\n");
        assert_eq!(
            kept.markdown.matches("# Sec").count(),
            2,
            "{}",
            kept.markdown
        );
        let dropped = to_markdown("Sec\n===\n\ntext\n\n.. nextslide::\n\nOther\n=====\n\nmore\n");
        assert_eq!(
            dropped.markdown.matches("# Sec").count(),
            1,
            "{}",
            dropped.markdown
        );
    }

    #[test]
    fn demo_and_chart_lines_pass_through_as_written() {
        // The deck's own `{{#demo}}` and `{{#chart}}` lines, not rST text to escape.
        let c = to_markdown("A\n\n{{#demo my-demo}}\n\n{{#chart my-demo a_b}}\n");
        assert_eq!(
            c.markdown,
            "A\n\n{{#demo my-demo}}\n\n{{#chart my-demo a_b}}\n"
        );
    }

    #[test]
    fn a_loose_list_item_keeps_blank_lines_between_its_blocks_and_a_tight_one_none() {
        assert_eq!(
            to_markdown("- a\n\n  b\n\n- c\n").markdown,
            "- a\n\n  b\n\n- c\n"
        );
        assert_eq!(
            to_markdown("- a\n- b\n\n  - c\n  - d\n").markdown,
            "- a\n- b\n  - c\n  - d\n"
        );
    }

    #[test]
    fn slide_directives_where_they_cannot_act_warn() {
        let c = to_markdown(".. nextslide::\n\ntext\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].message.contains("before any section title"),
            "{:?}",
            c.warnings
        );
        let c = to_markdown("Title\n=====\n\n- item\n\n  .. nextslide::\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].message.contains("inside another element"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn an_unknown_label_is_reported_in_slides_but_not_in_ifnotslides() {
        // Hieroglyph never resolves `:ref:` in what slides do not show.
        let c = to_markdown("Title\n=====\n\n.. ifnotslides::\n\n   See :ref:`nope`.\n");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let c = to_markdown("Title\n=====\n\n.. ifslides::\n\n   See :ref:`nope`.\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    }

    #[test]
    fn a_note_in_ifnotslides_is_a_box_and_in_ifslides_speaker_notes() {
        let c = to_markdown("Title\n=====\n\n.. ifnotslides::\n\n   .. note::\n\n      Read me.\n");
        assert!(
            c.markdown.contains("<div class=\"admonition note\">"),
            "{}",
            c.markdown
        );
        assert!(!c.markdown.contains("Notes:"), "{}", c.markdown);
        let c =
            to_markdown("Title\n=====\n\ntext\n\n.. ifslides::\n\n   .. note::\n\n      Say me.\n");
        assert!(c.markdown.contains("Notes:\n\nSay me."), "{}", c.markdown);
        assert!(!c.markdown.contains("admonition"), "{}", c.markdown);
    }

    #[test]
    fn two_lists_in_a_row_inside_a_block_alternate_their_markers() {
        // Else Markdown reads them as one list.
        let c = to_markdown(".. note::\n\n   - a\n\n   ..\n\n   - b\n");
        assert!(c.markdown.contains("- a\n\n* b"), "{}", c.markdown);
    }

    #[test]
    fn a_slide_inside_another_element_warns_and_shows_its_title_as_text() {
        let c = to_markdown("Title\n=====\n\n- item\n\n  .. slide:: Inner\n\n     body\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0]
                .message
                .contains("`slide` inside another element"),
            "{:?}",
            c.warnings
        );
        assert!(c.markdown.contains("**Inner**"), "{}", c.markdown);
        assert!(c.markdown.contains("body"), "{}", c.markdown);
    }

    #[test]
    fn line_numbers_alone_or_emphasized_lines_alone_mark_the_code() {
        for option in [":linenos:", ":emphasize-lines: 1"] {
            let c = to_markdown(&format!(
                ".. code-block:: python\n   {option}\n\n   x = 1\n   y = 2\n"
            ));
            assert!(!c.markdown.contains("```"), "{option}: {}", c.markdown);
            assert!(c.markdown.contains("<pre"), "{option}: {}", c.markdown);
        }
    }

    #[test]
    fn blocks_inside_a_block_are_apart_and_a_tight_item_s_are_not() {
        let c = to_markdown(".. note::\n\n   p1\n\n   p2\n\n   - a\n   - b\n");
        assert!(
            c.markdown.contains("p1\n\np2\n\n- a\n- b"),
            "{}",
            c.markdown
        );
        let c = to_markdown("- a\n\n  - b\n  - c\n\n- d\n");
        assert!(
            c.markdown.contains("- a\n  - b\n  - c\n- d"),
            "{}",
            c.markdown
        );
    }

    #[test]
    fn a_toctree_lists_its_entries_with_their_titles_and_pages() {
        // Sphinx: `Title <doc>` gives the title; a bare `doc` is shown by its name here.
        let c = to_markdown(".. toctree::\n\n   intro\n   My Title <other.rst>\n");
        assert!(
            c.markdown.contains("<li><a href=\"intro.html\">intro</a></li>\n<li><a href=\"other.html\">My Title</a></li>"),
            "{}",
            c.markdown
        );
    }

    #[test]
    fn local_contents_list_only_the_subsections_of_its_section() {
        // Docutils `:local:`: A's subsections, not the next section B.
        let src = "A\n=\n\n.. contents::\n   :local:\n\nA1\n--\n\nx\n\nB\n=\n\ny\n";
        let c = to_markdown(src);
        let nav = c.markdown.split("</nav>").next().unwrap_or("");
        assert!(nav.contains("<a href=\"#a1\">A1</a>"), "{}", c.markdown);
        assert!(!nav.contains("#b\""), "{}", c.markdown);
    }

    #[test]
    fn contents_go_as_deep_as_asked_and_close_every_list() {
        let src = "A\n=\n\nA1\n--\n\nA2\n~~\n\nB\n=\n\n.. contents::\n   :depth: 2\n";
        let c = to_markdown(src);
        let nav = c
            .markdown
            .split("<nav")
            .nth(1)
            .unwrap_or("")
            .split("</nav>")
            .next()
            .unwrap_or("");
        assert!(
            nav.contains("#a1\"") && !nav.contains("#a2\""),
            "{}",
            c.markdown
        );
        assert_eq!(
            nav.matches("<ul>").count(),
            nav.matches("</ul>").count(),
            "{}",
            c.markdown
        );
        assert_eq!(nav.matches("<ul>").count(), 2, "{}", c.markdown);
    }

    #[test]
    fn a_toctree_entry_without_a_closing_bracket_is_a_page_name() {
        let c = to_markdown(".. toctree::\n\n   a<b\n");
        assert!(
            c.markdown
                .contains("<li><a href=\"a&lt;b.html\">a&lt;b</a></li>"),
            "{}",
            c.markdown
        );
    }
}

#[cfg(test)]
mod helper_tests {
    use super::{css_length, inline_steps};
    use crate::to_markdown;
    use contract::page::class;

    #[test]
    fn a_bare_number_is_pixels_and_any_other_length_is_kept() {
        assert_eq!(css_length(" 120 "), "120px");
        assert_eq!(css_length("1.5"), "1.5px");
        assert_eq!(css_length("50%"), "50%");
        assert_eq!(css_length("12em"), "12em");
        assert_eq!(css_length(""), "");
    }

    #[test]
    fn each_top_level_element_of_a_paragraph_is_one_step_and_a_void_one_ends_at_once() {
        let step = |inner: &str| format!("<span class=\"{}\">{inner}</span>", class::STEP);
        assert_eq!(
            inline_steps("a <em>b</em> c"),
            format!("a {} c", step("<em>b</em>"))
        );
        assert_eq!(
            inline_steps("a<br>b<img src=\"x\"/>"),
            format!("a{}b{}", step("<br>"), step("<img src=\"x\"/>"))
        );
        // `<b>` is no `<br`: it is a step up to its end tag.
        assert_eq!(inline_steps("<b>x</b>"), step("<b>x</b>"));
        // A stray end tag is kept as it is and closes no step.
        assert_eq!(inline_steps("a</em>b"), "a</em>b");
    }

    #[test]
    fn a_loose_enumerated_list_has_a_blank_line_between_its_items_and_a_compact_one_none() {
        // As docutils' HTML writer: items of one paragraph each are compact, blank
        // lines between them or not; an item of two paragraphs makes the list loose.
        let loose = to_markdown("1. a\n\n   more a\n\n2. b\n").markdown;
        assert!(loose.ends_with("more a\n\n2. b\n"), "{loose:?}");
        assert!(!loose.starts_with('\n'), "{loose:?}");
        let compact = to_markdown("1. a\n\n2. b\n").markdown;
        assert_eq!(compact, "1. a\n2. b\n");
    }

    #[test]
    fn contents_close_a_deeper_list_before_a_shallower_title() {
        let src = "A\n=\n\nA1\n--\n\nB\n=\n\n.. contents::\n";
        let md = to_markdown(src).markdown;
        let between = md
            .split("#a1\"")
            .nth(1)
            .and_then(|rest| rest.split("#b\"").next())
            .unwrap_or_default();
        assert!(between.contains("</ul>"), "{md}");
    }

    /// Whether a list is compact is the list's own choice: a loose list inside an item
    /// of a compact one puts its blank lines between its items only. One before its
    /// first item would make the outer list loose too in Markdown (CommonMark: two
    /// blocks of an item with a blank line between them).
    #[test]
    fn a_loose_list_inside_a_compact_item_leaves_the_outer_list_compact() {
        for (src, md) in [
            (
                "- a\n\n  - b\n\n    b2\n\n  - c\n",
                "- a\n  - b\n\n    b2\n\n  - c\n",
            ),
            (
                "1. a\n\n   1. b\n\n      b2\n\n   2. c\n",
                "1. a\n   1. b\n\n      b2\n\n   2. c\n",
            ),
        ] {
            assert_eq!(to_markdown(src).markdown, md, "{src:?}");
        }
    }
}
