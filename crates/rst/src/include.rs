//! `include` and `literalinclude`: files from inside the book only.
//!
//! A path is relative to the chapter's directory, or, starting with `/`, to the book's
//! source root (as in Sphinx). Whatever resolves outside the book's root (through `..`
//! or a symbolic link) is an error at the directive's line that stops the build; a
//! file that is missing or cannot be read is an error reported as docutils does, and
//! the build goes on without it (unless strict). A chapter converted without a book
//! (tests, the fuzzer) cannot include anything. `raw` with `:file:` reads the same way.

use std::path::{Path, PathBuf};

use super::block::{Block, Call, Directive, Kind, Line, Reader, dedent, join};
use super::directive::{code_options, literal};

/// Where a chapter lives, so its includes can be found.
#[derive(Debug, Clone)]
pub struct Files {
    /// The chapter's own directory.
    pub dir: PathBuf,
    /// The book's source root; nothing outside it is read.
    pub root: PathBuf,
}

/// How deep includes may nest (an include of itself stops here).
const MAX_NESTING: usize = 8;

/// The text of the file `arg` names, or an error at the directive's line.
pub(crate) fn read(r: &mut Reader, arg: &str, line: usize) -> Option<String> {
    let Some(files) = r.files.clone() else {
        r.report(
            line,
            format!("cannot include `{arg}`: no book to read it from"),
        );
        return None;
    };
    let path = match arg.strip_prefix('/') {
        Some(rooted) => files.root.join(rooted),
        None => files.dir.join(arg),
    };
    let inside = |p: &Path| -> Option<bool> {
        let root = files.root.canonicalize().ok()?;
        Some(p.canonicalize().ok()?.starts_with(root))
    };
    match inside(&path) {
        Some(true) => {}
        Some(false) => {
            r.error(line, format!("`{arg}` is outside the book; not included"));
            return None;
        }
        None => {
            r.report(line, format!("cannot read `{arg}` ({})", path.display()));
            return None;
        }
    }
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            r.report(line, format!("cannot read `{arg}`: {e}"));
            None
        }
    }
}

/// `start-after`/`end-before`/`start-at`/`end-at`/`lines`/`start-line`/`end-line`.
fn select(r: &mut Reader, d: &Directive, text: &str, line: usize) -> String {
    let mut text = text.to_string();
    if let Some(lines) = Reader::option(d, "lines") {
        text = pick_lines(&text, lines);
    }
    let from = Reader::option(d, "start-line").and_then(|v| v.trim().parse::<usize>().ok());
    let to = Reader::option(d, "end-line").and_then(|v| v.trim().parse::<usize>().ok());
    if from.is_some() || to.is_some() {
        let all: Vec<&str> = text.split('\n').collect();
        let to = to.unwrap_or(all.len()).min(all.len());
        let from = from.unwrap_or(0).min(to);
        text = all[from..to].join("\n");
    }
    for (option, after, keep) in [
        ("start-after", true, false),
        ("start-at", true, true),
        ("end-before", false, false),
        ("end-at", false, true),
    ] {
        let Some(marker) = Reader::option(d, option) else {
            continue;
        };
        match text.find(marker) {
            Some(at) if after => {
                let cut = if keep { at } else { at + marker.len() };
                let rest = &text[cut..];
                // Sphinx starts on the line after the marker's line.
                text = if keep {
                    rest.to_string()
                } else {
                    rest.split_once('\n').map_or("", |(_, r)| r).to_string()
                };
            }
            Some(at) => {
                let cut = if keep { at + marker.len() } else { at };
                let head = &text[..cut];
                text = if keep {
                    let end = text[cut..].find('\n').map_or(text.len(), |e| cut + e);
                    text[..end].to_string()
                } else {
                    head.rsplit_once('\n').map_or("", |(h, _)| h).to_string()
                };
            }
            None => r.warn(line, format!("`:{option}:` text {marker:?} not found")),
        }
    }
    text
}

/// `:lines: 1,3,5-10,20-`: those lines.
fn pick_lines(text: &str, spec: &str) -> String {
    let all: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                a.trim().parse().unwrap_or(1),
                b.trim().parse().unwrap_or(all.len()),
            ),
            None => match part.parse() {
                Ok(n) => (n, n),
                Err(_) => continue,
            },
        };
        for n in a.max(1)..=b.min(all.len()) {
            out.push(all[n - 1]);
        }
    }
    out.join("\n")
}

/// `.. include:: FILE`: the file's reStructuredText read here, or `:literal:`/`:code:`.
pub(crate) fn include(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(
        call.name,
        &d,
        &[
            "literal",
            "code",
            "start-after",
            "end-before",
            "start-line",
            "end-line",
            "encoding",
            "tab-width",
            "number-lines",
            "class",
            "name",
            "parser",
        ],
    );
    if r.include_depth >= MAX_NESTING {
        r.error(
            call.line,
            "includes nested too deeply (does a file include itself?)",
        );
        return;
    }
    let Some(text) = read(r, d.args.trim(), call.line) else {
        return;
    };
    let text = select(r, &d, &text, call.line);
    let literal_kind = d
        .options
        .iter()
        .any(|(n, _, _)| n == "literal" || n == "code");
    if literal_kind {
        let lang = Reader::option(&d, "code").map(|c| c.trim().to_string());
        let lang = lang.filter(|l| !l.is_empty());
        let code = code_options(r, &d, lang, text.trim_end().to_string(), call.line);
        call.push(out, Kind::Literal(code));
        return;
    }
    let expanded: Vec<String> = text.split('\n').map(super::expand_line).collect();
    // Every included line reports at the directive's line: that is where it is in the
    // chapter a reader can open.
    let lines: Vec<Line> = expanded
        .iter()
        .map(|t| Line {
            text: t.as_str(),
            no: call.line,
        })
        .collect();
    r.include_depth += 1;
    let mut blocks = r.body(&lines, call.depth, call.depth == 0);
    r.include_depth -= 1;
    out.append(&mut blocks);
}

const LITERAL_INCLUDE_OPTIONS: &[&str] = &[
    "language",
    "linenos",
    "lineno-start",
    "lineno-match",
    "emphasize-lines",
    "caption",
    "name",
    "class",
    "lines",
    "start-after",
    "end-before",
    "start-at",
    "end-at",
    "dedent",
    "encoding",
    "tab-width",
    "prepend",
    "append",
    "force",
];

/// `.. literalinclude:: FILE`: the file (or part of it) as a code block.
pub(crate) fn literal_include(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, LITERAL_INCLUDE_OPTIONS);
    let Some(text) = read(r, d.args.trim(), call.line) else {
        return;
    };
    let mut text = select(r, &d, &text, call.line);
    if let Some(p) = Reader::option(&d, "prepend") {
        text = format!("{p}\n{text}");
    }
    if let Some(a) = Reader::option(&d, "append") {
        text = format!("{}\n{a}", text.trim_end_matches('\n'));
    }
    if d.options.iter().any(|(n, _, _)| n == "dedent") {
        let lines: Vec<Line> = text.split('\n').map(|t| Line { text: t, no: 0 }).collect();
        text = join(&dedent(&lines));
    }
    let lang = Reader::option(&d, "language")
        .map(|l| l.trim().to_string())
        .or_else(|| r.default_lang.clone());
    let text = text.trim_end_matches('\n').to_string();
    let code = if d.options.is_empty() {
        literal(lang, text)
    } else {
        code_options(r, &d, lang, text, call.line)
    };
    call.push(out, Kind::Literal(code));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_option_picks_lines_and_open_ranges() {
        assert_eq!(pick_lines("a\nb\nc\nd", "1,3-"), "a\nc\nd");
        assert_eq!(pick_lines("a\nb", "5"), "");
    }

    fn with_options(options: &[(&str, &str)]) -> Directive<'static> {
        Directive {
            args: String::new(),
            options: options
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string(), 1))
                .collect(),
            content: Vec::new(),
        }
    }

    #[test]
    fn markers_cut_as_sphinx_does() {
        let text = "line one\nSTART here\nbody\nEND there\nrest";
        for (option, marker, kept) in [
            ("start-after", "START", "body\nEND there\nrest"),
            ("start-at", "START", "START here\nbody\nEND there\nrest"),
            ("end-before", "END", "line one\nSTART here\nbody"),
            ("end-at", "END", "line one\nSTART here\nbody\nEND there"),
        ] {
            let mut r = Reader::new();
            let d = with_options(&[(option, marker)]);
            assert_eq!(select(&mut r, &d, text, 1), kept, "{option}");
            assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        }
    }

    /// A book in a fresh directory with `part.rst`, and a reader for its chapter.
    fn book(name: &str) -> (PathBuf, Reader) {
        let dir = std::env::temp_dir().join(format!("rst-include-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("part.rst"), "included text\n").unwrap();
        let mut r = Reader::new();
        r.files = Some(Files {
            dir: dir.clone(),
            root: dir.clone(),
        });
        (dir, r)
    }

    fn read_in(r: &mut Reader, src: &str) -> Vec<Block> {
        r.document(&crate::block::numbered(src.lines()))
    }

    #[test]
    fn an_include_as_code_keeps_its_language() {
        let (dir, mut r) = book("code");
        let blocks = read_in(&mut r, ".. include:: part.rst\n   :code: rust\n");
        std::fs::remove_dir_all(&dir).unwrap();
        let [
            Block {
                kind: Kind::Literal(code),
                ..
            },
        ] = &blocks[..]
        else {
            panic!("{blocks:?}")
        };
        assert_eq!(code.lang.as_deref(), Some("rust"));
        assert_eq!(code.text, "included text");
    }

    #[test]
    fn includes_one_after_another_are_no_nesting() {
        let (dir, mut r) = book("row");
        let src = ".. include:: part.rst\n\n".repeat(MAX_NESTING + 1);
        let blocks = read_in(&mut r, &src);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(blocks.len(), MAX_NESTING + 1, "{blocks:?}");
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }

    #[test]
    fn start_line_and_end_line_cut_alone_or_together() {
        // Docutils: `lines[start-line:end-line]`, from 0, the end excluded.
        let text = "a\nb\nc\nd";
        for (options, kept) in [
            (&[("start-line", "1")][..], "b\nc\nd"),
            (&[("end-line", "2")][..], "a\nb"),
            (&[("start-line", "1"), ("end-line", "3")][..], "b\nc"),
        ] {
            let mut r = Reader::new();
            let d = with_options(options);
            assert_eq!(select(&mut r, &d, text, 1), kept, "{options:?}");
            assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        }
    }

    #[test]
    fn an_include_as_literal_is_plain_code_and_other_options_keep_it_text() {
        // Docutils: `:literal:` makes a literal block; without it or `:code:`, the
        // file is read as reStructuredText.
        let (dir, mut r) = book("literal");
        let literal = read_in(&mut r, ".. include:: part.rst\n   :literal:\n");
        let text = read_in(&mut r, ".. include:: part.rst\n   :start-line: 0\n");
        std::fs::remove_dir_all(&dir).unwrap();
        let [
            Block {
                kind: Kind::Literal(code),
                ..
            },
        ] = &literal[..]
        else {
            panic!("{literal:?}")
        };
        assert_eq!(
            (code.lang.as_deref(), code.text.as_str()),
            (None, "included text")
        );
        assert!(
            matches!(&text[..], [Block { kind: Kind::Para(t), .. }] if t.text == "included text"),
            "{text:?}"
        );
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn an_included_files_titles_at_the_top_level_are_titles() {
        // Docutils reads an included file's lines in place: a section title there is
        // one.
        let (dir, mut r) = book("titles");
        std::fs::write(dir.join("part.rst"), "Title\n=====\n\ntext\n").unwrap();
        let blocks = read_in(&mut r, ".. include:: part.rst\n");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            matches!(blocks[0].kind, Kind::Title { ref text, .. } if text.text == "Title"),
            "{blocks:?}"
        );
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn literalinclude_dedents_only_with_dedent() {
        // Sphinx: `:dedent:` without a value takes the common indentation off.
        let (dir, mut r) = book("dedent");
        std::fs::write(dir.join("code.py"), "    if x:\n        y()\n").unwrap();
        let dedented = read_in(&mut r, ".. literalinclude:: code.py\n   :dedent:\n");
        let kept = read_in(
            &mut r,
            ".. literalinclude:: code.py\n   :language: python\n",
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let text = |blocks: &[Block]| match blocks {
            [
                Block {
                    kind: Kind::Literal(code),
                    ..
                },
            ] => code.text.clone(),
            _ => panic!("{blocks:?}"),
        };
        assert_eq!(text(&dedented), "if x:\n    y()");
        assert_eq!(text(&kept), "    if x:\n        y()");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }
}
