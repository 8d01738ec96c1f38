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
            .take(MAX_SVG as u64 + 1)
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
            Ok(None) if start.elapsed() > DOT_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`dot` took more than {}s", DOT_LIMIT.as_secs()));
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
    if svg.len() > MAX_SVG {
        return Err(format!("`dot` made more than {} MiB of SVG", MAX_SVG >> 20));
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
        if let Err(why) = draw("digraph { a -> }", None) {
            assert!(why.contains("dot"), "{why}");
        } else {
            panic!("a syntax error was drawn");
        }
    }
}
