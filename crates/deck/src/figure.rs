//! A captured demo run as an HTML figure: the claim, the command that reruns it, the
//! output as a terminal, and the run's metadata. The transcript itself is embedded as
//! JSON so the browser player can replay it without another request (and from a
//! static host, or a file saved to disk).

use std::fmt::Write;

use contract::Transcript;
use contract::page::{self, attr, class};
use contract::terminal;

/// Escapes text for HTML content and attribute values: the workspace's one escaper.
pub use contract::escape::html as escape;

/// The figure, as a single line of HTML.
///
/// One line matters: Markdown ends an HTML block at a blank line, and program output
/// has blank lines. Newlines inside the terminal become `&#10;`.
pub fn render(t: &Transcript) -> String {
    let json = contract::escape::json_in_script(
        &serde_json::to_string(t).expect("a transcript always serialises"),
    );
    let status = t.outcome.status;
    let mut meta = format!("{status}");
    if let Some(code) = t.outcome.code {
        let _ = write!(meta, " · exit {code}");
    }
    if let Some(sig) = t.outcome.signal {
        let _ = write!(meta, " · signal {sig}");
    }
    let _ = write!(meta, " · {:.2} s", t.duration_ms as f64 / 1000.0);
    // Which kernel and day: a span of its own, so a slide can show the kernel line instead.
    let run_on = format!(
        " · Linux {} · {}",
        t.kernel,
        t.captured_at.split('T').next().unwrap_or(&t.captured_at)
    );
    // One renderer for this figure, the replay and Run live (contract::terminal).
    let (terminal, pick) = terminal::transcript_html(t);
    let focus = pick
        .attribute()
        .map(|p| format!(" {}=\"{p}\"", attr::FOCUS))
        .unwrap_or_default();
    let name = escape(&t.demo);
    [
        format!(
            "<figure class=\"{}\" {}=\"{name}\" id=\"{}\">",
            class::DEMO,
            attr::DEMO,
            page::demo_id(&name)
        ),
        format!(
            "<figcaption><span class=\"{}\">{}</span></figcaption>",
            class::DEMO_CLAIM,
            escape(&t.claim)
        ),
        format!(
            "<div class=\"{}\"><code>$ {}</code></div>",
            class::DEMO_RERUN,
            escape(&t.rerun_command())
        ),
        // tabindex: the reading view's terminal may scroll, and a keyboard must reach it.
        format!(
            "<pre class=\"{}\"{focus} tabindex=\"0\"><samp>{}</samp></pre>",
            class::TERMINAL,
            contract::escape::one_line(&terminal)
        ),
        format!(
            "<div class=\"{}\"><span class=\"{} {}\">{}<span class=\"{}\">{}</span></span></div>",
            class::DEMO_META,
            class::DEMO_STATUS,
            page::status_class(status),
            escape(&meta),
            class::DEMO_RUN_ON,
            escape(&run_on)
        ),
        format!(
            "<script type=\"application/json\" class=\"{}\">{json}</script>",
            class::DEMO_TRANSCRIPT
        ),
        "</figure>".to_string(),
    ]
    .concat()
}

/// The quiet words after a figure's status (in its `demo-meta` line): on which kernels the claim held ("holds on 6.1 ·
/// 6.12 · 6.18"), and where it failed or was skipped. Empty without runs on kernels.
pub fn kernel_line(runs: &[(String, contract::Status)]) -> String {
    use contract::Status;
    let groups = [
        (Status::Passed, "holds on"),
        (Status::Failed, "fails on"),
        (Status::Skipped, "skipped on"),
        (Status::Error, "could not run on"),
        (Status::TimedOut, "timed out on"),
    ];
    let parts: Vec<String> = groups
        .iter()
        .filter_map(|(status, words)| {
            let on: Vec<&str> = runs
                .iter()
                .filter(|(_, s)| s == status)
                .map(|(k, _)| k.as_str())
                .collect();
            (!on.is_empty()).then(|| format!("{words} {}", on.join(" · ")))
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!(
        "<span class=\"{}\">{}</span>",
        class::DEMO_KERNELS,
        escape(&parts.join("; "))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::test_support::{run, stderr, stdout};

    fn sample() -> Transcript {
        Transcript {
            claim: "Reading <is> not consuming".into(),
            chunks: vec![
                stdout(0, "\x1b[32mok\x1b[0m\n\nnext\n"),
                stderr(5, "</script> warn\n"),
            ],
            duration_ms: 1234,
            ..run("peek")
        }
    }

    #[test]
    fn figure_is_one_line_with_claim_command_and_meta() {
        let html = render(&sample());
        assert!(!html.contains('\n'), "{html}");
        assert!(html.contains("Reading &lt;is&gt; not consuming"));
        assert!(html.contains("<code>$ cargo xtask demo peek</code>"));
        assert!(
            html.contains(
                "passed · exit 0 · 1.23 s<span class=\"demo-run-on\"> · Linux 6.18.0 · 2026-11-24</span>"
            ),
            "{html}"
        );
        assert!(
            html.contains(concat!(
                "<span class=\"line\"><span class=\"ansi-fg-2\">ok</span>&#10;</span>",
                "<span class=\"line\">&#10;</span><span class=\"line\">next&#10;</span>"
            )),
            "{html}"
        );
    }

    #[test]
    fn stderr_is_marked_and_script_cannot_be_closed_early() {
        let html = render(&sample());
        assert!(
            html.contains(
                "<span class=\"line\"><span class=\"stderr\">&lt;/script&gt; warn</span>&#10;</span>"
            ),
            "{html}"
        );
        assert_eq!(
            html.matches("</script>").count(),
            1,
            "only our own closing tag: {html}"
        );
        let json_start = html.find("demo-transcript\">").unwrap() + "demo-transcript\">".len();
        let json_end = html.rfind("</script>").unwrap();
        let back: Transcript = serde_json::from_str(&html[json_start..json_end]).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn the_terminal_names_its_focus_rule_and_lines() {
        let mut t = sample();
        assert!(!render(&t).contains("data-focus"), "no checks, no focus");
        t.chunks[0].text = "step\n  \x1b[32m✓\x1b[0m held\n".into();
        let html = render(&t);
        assert!(
            html.contains("<pre class=\"terminal\" data-focus=\"checks\" tabindex=\"0\">"),
            "{html}"
        );
        assert!(
            html.contains(
                "<span class=\"line focus\">  <span class=\"ansi-fg-2\">✓</span> held&#10;</span>"
            ),
            "{html}"
        );
        t.chunks[0].text = "\x1b]99;f\x07kernel: 3\n".into();
        assert!(render(&t).contains("data-focus=\"marked\""));
    }

    #[test]
    fn the_kernel_line_groups_kernels_by_outcome() {
        use contract::Status;
        let runs = [
            ("6.1".to_string(), Status::Failed),
            ("6.12".to_string(), Status::Passed),
            ("6.18".to_string(), Status::Passed),
        ];
        assert_eq!(
            kernel_line(&runs),
            "<span class=\"demo-kernels\">holds on 6.12 · 6.18; fails on 6.1</span>"
        );
        assert_eq!(kernel_line(&[]), "");
    }
}
