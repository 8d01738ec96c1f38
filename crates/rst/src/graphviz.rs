//! `graphviz`, `digraph` and `graph` (Sphinx's `sphinx.ext.graphviz`): drawn as inline
//! SVG at build time by Graphviz's `dot` when it is on the PATH (Debian's `graphviz`;
//! `cargo xtask test` installs it). Without `dot`, or when `dot` rejects the graph,
//! a warning (as Sphinx warns) and the graph's source as a code block.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::block::{Block, Call, Kind, Reader, dedent, join};
use super::directive::literal;

/// How long one graph may take to draw.
const DOT_LIMIT: Duration = Duration::from_secs(10);
/// The most SVG one graph may make.
const MAX_SVG: usize = 4 << 20;

pub(crate) fn graphviz(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(
        call.name,
        &d,
        &[
            "alt",
            "align",
            "caption",
            "class",
            "layout",
            "name",
            "graphviz_dot",
        ],
    );
    let body = join(&dedent(&d.content));
    let lower = call.name.to_ascii_lowercase();
    let source = match lower.as_str() {
        // `.. digraph:: NAME` / `.. graph:: NAME`: the content is the graph's body.
        "digraph" | "graph" => format!("{lower} {} {{\n{body}\n}}", d.args.trim()),
        _ if !d.args.trim().is_empty() => {
            r.warn(
                call.line,
                "`graphviz` with a file argument is not read; give the graph as content",
            );
            return;
        }
        _ => body,
    };
    if source.trim().is_empty() {
        r.warn(call.line, format!("`{}` without content", call.name));
        return;
    }
    let first = d.content.first().map_or(call.line, |l| l.no);
    let layout = Reader::option(&d, "layout").map(|l| l.trim().to_string());
    let drawn = if r.graphviz {
        draw(&source, layout.as_deref())
    } else {
        Err("drawing is off".to_string())
    };
    match drawn {
        Ok(svg) => {
            let mut class = String::from("graphviz");
            if let Some(c) = Reader::option(&d, "class") {
                for c in super::block::classes_of(c) {
                    class.push(' ');
                    class.push_str(&c);
                }
            }
            let mut html = format!("<div class=\"{class}\">\n{svg}\n");
            if let Some(caption) = Reader::option(&d, "caption") {
                html.push_str(&format!(
                    "<p class=\"caption\">{}</p>\n",
                    escape(caption.trim())
                ));
            }
            html.push_str("</div>");
            out.push(Block {
                line: first,
                kind: Kind::Raw(html),
            });
        }
        Err(why) => {
            r.warn(
                call.line,
                format!("graph not drawn ({why}); shown as its source"),
            );
            out.push(Block {
                line: first,
                kind: Kind::Literal(literal(Some("dot".into()), source)),
            });
        }
    }
}

use contract::escape::html as escape;

/// `dot -Tsvg`: the SVG element (no XML prologue, no blank lines, which would end the
/// HTML block), or why not.
fn draw(source: &str, layout: Option<&str>) -> Result<String, String> {
    let mut cmd = Command::new("dot");
    cmd.arg("-Tsvg");
    if let Some(layout) = layout.filter(|l| l.chars().all(|c| c.is_ascii_alphanumeric())) {
        cmd.arg(format!("-K{layout}"));
    }
    run(cmd, source, DOT_LIMIT, MAX_SVG)
}

/// Runs `cmd` (`dot`, or a stand-in in tests) on `source`: stopped after `limit`, and
/// refused if it writes more than `max_svg` bytes.
fn run(mut cmd: Command, source: &str, limit: Duration, max_svg: usize) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                "Graphviz's `dot` is not on the PATH; install graphviz".to_string()
            }
            _ => format!("cannot run `dot`: {e}"),
        })?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = source.to_string();
    let writer = std::thread::spawn(move || {
        // dot may exit before reading everything; its status says why.
        let _ = stdin.write_all(input.as_bytes());
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout
            .by_ref()
            .take(max_svg as u64 + 1)
            .read_to_end(&mut buf);
        buf
    });
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.by_ref().take(64 << 10).read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`dot` took more than {}s", limit.as_secs_f32()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for `dot`: {e}")),
        }
    };
    let _ = writer.join();
    let svg = reader.join().unwrap_or_default();
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        let why = String::from_utf8_lossy(&errors);
        let why = why.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        return Err(format!("`dot` failed: {}", why.trim()));
    }
    if svg.len() > max_svg {
        return Err(format!("`dot` made more than {max_svg} bytes of SVG"));
    }
    let svg = String::from_utf8_lossy(&svg);
    let Some(start) = svg.find("<svg") else {
        return Err("`dot` made no SVG".into());
    };
    Ok(svg[start..]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graph_is_drawn_as_svg_when_dot_is_here() {
        match draw("digraph { a -> b }", None) {
            Ok(svg) => {
                assert!(svg.starts_with("<svg"), "{svg}");
                assert!(svg.contains(">a</text>"), "{svg}");
                assert!(!svg.contains("\n\n"));
            }
            Err(why) => assert!(why.contains("not on the PATH"), "{why}"),
        }
    }

    #[test]
    fn a_bad_graph_says_why() {
        match draw("digraph { a -> }", None) {
            Err(why) if why.contains("not on the PATH") => {}
            // dot's own first line of complaint, not just that it failed.
            Err(why) => assert!(why.contains("syntax error"), "{why}"),
            Ok(svg) => panic!("a syntax error was drawn: {svg}"),
        }
        // Blank lines before the complaint are skipped.
        let mut sh = Command::new("sh");
        sh.args([
            "-c",
            "echo >&2; echo '  ' >&2; echo 'Error: bad' >&2; exit 1",
        ]);
        let why = run(sh, "", DOT_LIMIT, MAX_SVG).unwrap_err();
        assert_eq!(why, "`dot` failed: Error: bad");
    }

    #[test]
    fn output_past_the_limit_is_refused_and_up_to_it_kept() {
        // `cat` stands in for dot: its SVG is the source.
        let svg = "<svg>0123456789</svg>";
        let why = run(Command::new("cat"), svg, DOT_LIMIT, svg.len() - 1).unwrap_err();
        assert!(why.contains("more than"), "{why}");
        assert_eq!(
            run(Command::new("cat"), svg, DOT_LIMIT, svg.len()).as_deref(),
            Ok(svg)
        );
    }

    #[test]
    fn a_drawing_that_takes_too_long_is_stopped() {
        let mut sh = Command::new("sh");
        sh.args(["-c", "exec sleep 5"]);
        let start = Instant::now();
        let why = run(sh, "", Duration::from_millis(200), MAX_SVG).unwrap_err();
        assert!(why.contains("took more than 0.2s"), "{why}");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_command_not_on_the_path_says_so() {
        let why = run(
            Command::new("/nonexistent/dot-for-a-test"),
            "",
            DOT_LIMIT,
            MAX_SVG,
        )
        .unwrap_err();
        assert_eq!(why, "Graphviz's `dot` is not on the PATH; install graphviz");
    }
}
