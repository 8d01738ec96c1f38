//! The demos' runs on several kernels (`cargo xtask kernels`), as the deck shows them.
//!
//! Each kernel's runs are `DEMOS/transcripts/kernels/SERIES/NAME.json` (the ordinary
//! transcript format, with the kernel's release inside) and `run.json` ([`Manifest`]):
//! which kernel, and whether its CPU was emulated. A demo figure gets one quiet line,
//! "holds on 6.1 · 6.12 · 6.18" ([`crate::figure::kernel_line`]); `{{#kernels}}` is the
//! table of every demo against every kernel; `{{#kernels DEMO "TEXT"}}` puts the line of
//! DEMO's output that contains TEXT side by side, one row per kernel.

use std::path::{Path, PathBuf};

use contract::ansi::plain;
use contract::page::{self, class};
use contract::{Status, Transcript};
use serde::{Deserialize, Serialize};

use crate::figure::escape;

/// Where the runs on other kernels are, below a demos crate directory.
pub const DIR: &str = "transcripts/kernels";

/// The file beside a kernel's transcripts that says how they were run.
pub const MANIFEST: &str = "run.json";

/// `run.json`: one kernel's run of the demos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `6.1`, `6.12`, `6.18`: the directory's name.
    pub series: String,
    /// `uname -r` of the kernel that ran them.
    pub kernel: String,
    /// `host`, `tcg` (QEMU emulating the CPU) or `kvm`.
    pub machine: String,
    /// Timings are from an emulated CPU: not comparable with the host's.
    pub emulated: bool,
    pub captured_at: String,
    /// Wall time of the whole run of this kernel (boot included), in seconds.
    pub seconds: f64,
}

/// `6.12.118+deb12-amd64` → `6.12`.
pub fn series_of(release: &str) -> String {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    match (parts.next(), parts.next()) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => format!("{a}.{b}"),
        _ => release.to_string(),
    }
}

/// Orders `6.1` < `6.12` < `6.18` < `7.0` (numerically, not as text).
pub fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse().unwrap_or(u64::MAX))
        .collect()
}

/// One kernel's runs.
#[derive(Debug, Clone)]
pub struct Kernel {
    pub manifest: Manifest,
    dir: PathBuf,
}

/// The kernels with runs below `demos_dir`, oldest first (none: no such folder).
pub fn load(demos_dir: &Path) -> Result<Vec<Kernel>, String> {
    let root = demos_dir.join(DIR);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Ok(Vec::new());
    };
    let mut kernels = Vec::new();
    for entry in entries {
        let dir = entry
            .map_err(|e| format!("reading {}: {e}", root.display()))?
            .path();
        if !dir.is_dir() {
            continue;
        }
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("{}: {e} (rerun `cargo xtask kernels`)", path.display()))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a kernel run: {e}", path.display()))?;
        let named = dir.file_name().and_then(|n| n.to_str());
        if named != Some(manifest.series.as_str()) {
            return Err(format!(
                "{}: the run of Linux {} in the folder of {}",
                path.display(),
                manifest.series,
                named.unwrap_or("?")
            ));
        }
        kernels.push(Kernel { manifest, dir });
    }
    kernels.sort_by_key(|k| version_key(&k.manifest.series));
    Ok(kernels)
}

impl Kernel {
    /// This kernel's run of `demo`, if it has one; a broken file is an error.
    pub fn transcript(&self, demo: &str) -> Result<Option<Transcript>, String> {
        let path = self.dir.join(format!("{demo}.json"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        let t: Transcript = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a valid transcript: {e}", path.display()))?;
        t.validate()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if t.demo != demo || series_of(&t.kernel) != self.manifest.series {
            return Err(format!(
                "{}: is the run of `{}` on Linux {}, not `{demo}` on {}",
                path.display(),
                t.demo,
                t.kernel,
                self.manifest.series
            ));
        }
        Ok(Some(t))
    }

    /// `6.1` (emulated), as a heading names it.
    fn label(&self) -> String {
        let m = &self.manifest;
        if m.emulated {
            format!("{} (emulated)", m.series)
        } else {
            m.series.clone()
        }
    }
}

/// Each kernel's status for `demo`, for the figure's line.
pub fn statuses(kernels: &[Kernel], demo: &str) -> Result<Vec<(String, Status)>, String> {
    let mut out = Vec::new();
    for k in kernels {
        if let Some(t) = k.transcript(demo)? {
            out.push((k.manifest.series.clone(), t.outcome.status));
        }
    }
    Ok(out)
}

fn word(status: Status) -> &'static str {
    match status {
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Skipped => "SKIP",
        Status::Error => "ERROR",
        Status::TimedOut => "TIMEOUT",
    }
}

/// `{{#kernels}}`: every demo against every kernel.
pub fn table(kernels: &[Kernel], demos: &[String]) -> Result<String, String> {
    if kernels.is_empty() {
        return Err(
            "`{{#kernels}}` but there are no runs on other kernels; run `cargo xtask kernels`"
                .into(),
        );
    }
    // A reference for readers: every demo in rows cannot be read from the back row, so
    // the slide view leaves it out (the slide keeps its title and words).
    let mut html = format!(
        "<div class=\"{}\"><table class=\"{}\"><thead><tr><th>demo</th>",
        class::ONLY_READING,
        class::KERNEL_TABLE
    );
    for k in kernels {
        html.push_str(&format!(
            "<th title=\"Linux {} ({}), {}\">{}</th>",
            escape(&k.manifest.kernel),
            escape(&k.manifest.machine),
            escape(&k.manifest.captured_at),
            escape(&k.label())
        ));
    }
    html.push_str("</tr></thead><tbody>");
    for demo in demos {
        html.push_str(&format!("<tr><td><code>{}</code></td>", escape(demo)));
        for k in kernels {
            let cell = match k.transcript(demo)? {
                Some(t) => {
                    let why = match t.outcome.status {
                        Status::Passed => String::new(),
                        _ => last_line(&t),
                    };
                    format!(
                        "<td class=\"{}\" title=\"{}\">{}</td>",
                        page::status_class(t.outcome.status),
                        escape(&why),
                        word(t.outcome.status)
                    )
                }
                None => "<td>not run</td>".into(),
            };
            html.push_str(&cell);
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    Ok(html)
}

/// `{{#kernels DEMO "TEXT"}}`: the line of each kernel's run of DEMO that contains TEXT,
/// side by side: one column a kernel, each showing only the words where the lines differ,
/// under the words they share (the caption, `…` where they differ). The whole line of
/// each kernel is its cell's title, for the reading view.
pub fn side_by_side(kernels: &[Kernel], demo: &str, text: &str) -> Result<String, String> {
    let mut runs = Vec::new();
    for k in kernels {
        let Some(t) = k.transcript(demo)? else {
            continue;
        };
        let output: String = t.chunks.iter().map(|c| c.text.as_str()).collect();
        let line = plain(&output)
            .lines()
            .find(|l| l.contains(text))
            .map(|l| l.trim().trim_start_matches("kernel:").trim().to_string());
        runs.push((k, t.outcome.status, line));
    }
    let lines: Vec<&str> = runs.iter().filter_map(|(_, _, l)| l.as_deref()).collect();
    if lines.is_empty() {
        return Err(format!(
            "`{{{{#kernels {demo} \"{text}\"}}}}`: no kernel's run of {demo} printed a line with `{text}`"
        ));
    }
    let (head, tail) = shared_words(&lines);
    // Kernels that printed the same words share a cell, in the order they first appear.
    let mut groups: Vec<(String, Vec<&Kernel>, Vec<Status>, String)> = Vec::new();
    for (k, status, line) in &runs {
        let (cell, title) = match line {
            Some(line) => {
                let words: Vec<&str> = line.split_whitespace().collect();
                (words[head..words.len() - tail].join(" "), line.clone())
            }
            None => ("(not printed)".to_string(), "(not printed)".to_string()),
        };
        match groups.iter_mut().find(|g| g.0 == cell) {
            Some(g) => {
                g.1.push(k);
                g.2.push(*status);
            }
            None => groups.push((cell, vec![k], vec![*status], title)),
        }
    }
    let mut cells = String::new();
    for (words, kernels, statuses, title) in &groups {
        let series: Vec<&str> = kernels.iter().map(|k| k.manifest.series.as_str()).collect();
        // "(emulated)" once when every kernel of the cell was, else after each that was
        // (a native kernel's label is its series alone).
        let names = if kernels.iter().all(|k| k.manifest.emulated) {
            format!("{} (emulated)", series.join(" · "))
        } else {
            kernels
                .iter()
                .map(|k| k.label())
                .collect::<Vec<_>>()
                .join(" · ")
        };
        // PASS is the rule; a kernel where the demo did not pass says so.
        let not_passed: Vec<String> = kernels
            .iter()
            .zip(statuses)
            .filter(|(_, s)| **s != Status::Passed)
            .map(|(k, s)| {
                format!(
                    " <span class=\"{}\">{} on {}</span>",
                    page::status_class(*s),
                    word(*s),
                    escape(&k.manifest.series)
                )
            })
            .collect();
        cells.push_str(&format!(
            "<td title=\"{}\"><span class=\"{}\">Linux {}:</span> <samp>{}</samp>{}</td>",
            escape(title),
            class::KERNEL_NAMES,
            escape(&names),
            escape(words),
            not_passed.join("")
        ));
    }
    let words: Vec<&str> = lines[0].split_whitespace().collect();
    // The caption without the demo's label of the line (`so:`): the words only.
    let label = usize::from(head > 0 && words[0].len() <= 8 && words[0].ends_with(':'));
    let caption = [
        words[label..head].join(" "),
        "…".to_string(),
        words[words.len() - tail..].join(" "),
    ]
    .iter()
    .filter(|p| !p.is_empty())
    .cloned()
    .collect::<Vec<_>>()
    .join(" ");
    Ok(format!(
        "<table class=\"{}\" {}=\"{}\"><caption>on each kernel, <code>{}</code> printed: {}</caption>\
         <tbody><tr>{cells}</tr></tbody></table>",
        class::KERNEL_SIDE_BY_SIDE,
        page::attr::DEMO,
        escape(demo),
        escape(demo),
        escape(&caption)
    ))
}

/// How many words all `lines` share at their start and at their end (not overlapping,
/// and leaving at least one word of the shortest line to show).
fn shared_words(lines: &[&str]) -> (usize, usize) {
    let words: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let shortest = words.iter().map(Vec::len).min().unwrap_or(0);
    // Whether every line has the same word at the index `at` gives for its length.
    let same = |at: &dyn Fn(usize) -> usize| {
        words
            .iter()
            .all(|w| w[at(w.len())] == words[0][at(words[0].len())])
    };
    let mut head = 0;
    while head < shortest && same(&|_| head) {
        head += 1;
    }
    if head == shortest {
        // Every line the same: show it whole.
        return (0, 0);
    }
    let mut tail = 0;
    while head + tail < shortest - 1 && same(&|n| n - 1 - tail) {
        tail += 1;
    }
    // A number keeps its unit: `127 s`, not `127` under a caption ending in `… s`.
    let last = words[0].len() - tail - 1;
    if tail > 0 && words[0][last].starts_with(|c: char| c.is_ascii_digit()) {
        tail -= 1;
    }
    (head, tail)
}

/// The last line a run printed (a skip's reason, a failed check), without escapes.
pub fn last_line(t: &Transcript) -> String {
    let output: String = t.chunks.iter().map(|c| c.text.as_str()).collect();
    plain(&output)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_come_from_debian_and_host_releases() {
        assert_eq!(series_of("6.1.0-57-amd64"), "6.1");
        assert_eq!(series_of("6.12.118+deb12-amd64"), "6.12");
        assert_eq!(series_of("6.18.44"), "6.18");
    }

    #[test]
    fn versions_sort_as_numbers() {
        let mut v = vec!["6.18", "6.12", "6.1", "5.14"];
        v.sort_by_key(|s| version_key(s));
        assert_eq!(v, ["5.14", "6.1", "6.12", "6.18"]);
    }

    #[test]
    fn side_by_side_shows_only_the_words_where_kernels_differ() {
        let lines = [
            "so: without a timeout, ETIMEDOUT would come after 127 s (not waited for here)",
            "so: without a timeout, ETIMEDOUT would come after 131 s (not waited for here)",
        ];
        assert_eq!(
            shared_words(&lines),
            (8, 4),
            "the unit stays with its number"
        );
        let herd = [
            "the other 3: 3 got EAGAIN from accept(), 0 slept again in epoll_wait",
            "the other 3: 0 got EAGAIN from accept(), 3 slept again in epoll_wait",
        ];
        let (head, tail) = shared_words(&herd);
        let w: Vec<&str> = herd[0].split_whitespace().collect();
        assert_eq!(
            w[head..w.len() - tail].join(" "),
            "3 got EAGAIN from accept(), 0 slept"
        );
        assert_eq!(
            shared_words(&["same", "same"]),
            (0, 0),
            "nothing differs: whole"
        );
        assert_eq!(
            shared_words(&["a b", "a b c"]),
            (0, 0),
            "one is the other's start"
        );
    }

    /// The committed runs: connect-timeout gives up after 127 s on 6.1 and 131 s since
    /// 6.5 (tcp_syn_linear_timeouts), and the side-by-side shows exactly that.
    #[test]
    fn the_syn_give_up_time_differs_between_the_stored_kernels() {
        let demos = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demos");
        let kernels = load(&demos).unwrap();
        let html = side_by_side(&kernels, "connect-timeout", "ETIMEDOUT would come").unwrap();
        assert!(
            html.contains("Linux 6.1 (emulated):</span> <samp>127 s</samp>")
                && html.contains("Linux 6.12 (emulated) · 6.18:</span> <samp>131 s</samp>"),
            "{html}"
        );
        assert!(
            html.contains(
                ": without a timeout, ETIMEDOUT would come after … (not waited for here)"
            ),
            "{html}"
        );
    }

    /// Kernels that printed the same and were all emulated share one "(emulated)":
    /// `6.12 · 6.18 (emulated)` (the stored runs, with 6.18 marked emulated in a copy).
    #[test]
    fn a_cell_of_emulated_kernels_only_says_emulated_once() {
        let stored = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../demos")
            .join(DIR);
        let demos = std::env::temp_dir().join(format!("deck-emulated-{}", std::process::id()));
        for series in ["6.12", "6.18"] {
            let dir = demos.join(DIR).join(series);
            std::fs::create_dir_all(&dir).unwrap();
            let run = std::fs::read_to_string(stored.join(series).join(MANIFEST)).unwrap();
            let run = run.replace("\"emulated\": false", "\"emulated\": true");
            std::fs::write(dir.join(MANIFEST), run).unwrap();
            std::fs::copy(
                stored.join(series).join("connect-timeout.json"),
                dir.join("connect-timeout.json"),
            )
            .unwrap();
        }
        // The runs are read when drawn: the copy goes after.
        let html = load(&demos).and_then(|kernels| {
            assert!(kernels.iter().all(|k| k.manifest.emulated));
            side_by_side(&kernels, "connect-timeout", "ETIMEDOUT would come")
        });
        std::fs::remove_dir_all(&demos).unwrap();
        let html = html.unwrap();
        assert!(
            html.contains("<span class=\"kernel-names\">Linux 6.12 · 6.18 (emulated):</span>"),
            "{html}"
        );
    }

    /// PASS is the rule: where every kernel's run passed (the stored `connect-timeout`
    /// runs), no cell names a status.
    #[test]
    fn a_cell_names_no_status_where_every_kernel_passed() {
        let demos = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demos");
        let kernels = load(&demos).unwrap();
        let html = side_by_side(&kernels, "connect-timeout", "ETIMEDOUT would come").unwrap();
        assert!(html.contains("kernel-names"), "{html}");
        assert!(!html.contains("status-"), "{html}");
    }

    #[test]
    fn escapes_and_focus_marks_are_not_text() {
        assert_eq!(
            plain("\x1b]99;f\x07\x1b[33mSKIP\x1b[0m: needs root\n"),
            "SKIP: needs root\n"
        );
    }

    #[test]
    fn the_shortest_line_keeps_a_word_to_show_when_another_is_longer() {
        // "b" ends both lines, but taking it would leave nothing of "a b" to show.
        assert_eq!(shared_words(&["a b", "a X b"]), (1, 0));
    }

    #[test]
    fn the_last_line_is_the_last_one_with_words_without_escapes() {
        use contract::test_support::{run, stderr, stdout};
        let t = Transcript {
            chunks: vec![
                stdout(0, "first line\n"),
                stderr(1, "\x1b[33mSKIP\x1b[0m: needs root\n\n   \n"),
            ],
            ..run("demo")
        };
        assert_eq!(last_line(&t), "SKIP: needs root");
    }

    #[test]
    fn series_are_the_first_two_numbers_or_else_the_whole_release() {
        assert_eq!(series_of("7.0-rc1"), "7.0");
        for odd in ["v6.1", "6-rc1", "6..1", "7", ""] {
            assert_eq!(series_of(odd), odd, "{odd}");
        }
    }

    /// The demo's label of the line (`so:`) is not part of what the kernels printed;
    /// the caption leaves it out (each cell's title keeps the whole line).
    #[test]
    fn the_caption_leaves_out_the_lines_label() {
        let demos = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../demos");
        let kernels = load(&demos).unwrap();
        let html = side_by_side(&kernels, "connect-timeout", "ETIMEDOUT would come").unwrap();
        let caption = html
            .split_once("<caption>")
            .and_then(|(_, rest)| rest.split_once("</caption>"))
            .map(|(caption, _)| caption)
            .unwrap_or_else(|| panic!("no caption: {html}"));
        assert_eq!(
            caption,
            "on each kernel, <code>connect-timeout</code> printed: without a timeout, \
             ETIMEDOUT would come after … (not waited for here)"
        );
    }
}
