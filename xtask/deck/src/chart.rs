//! `{{#chart DEMO METRIC...}}`: a bar chart of numbers a demo measured, drawn as SVG from
//! its captured transcript, so a slide never shows a typed-in number.
//!
//! One horizontal bar per metric, in the order the directive names them, labelled with
//! words (the directive's `METRIC="label"`, else the label the demo recorded, else the
//! key as words) and its value and unit. Bars that share a unit share a scale (a
//! chart of `ms` and `datagrams` does not pretend one is bigger than the other). The
//! caption names the demo and when and where it ran. The SVG uses `currentColor`, so it
//! follows the page's light or dark theme, and the figure is one line of HTML.

use std::fmt::Write;

use transcript::{Metric, Transcript};

use crate::figure::escape;

/// Room for the bars at least; the label and value columns grow with their text.
const BARS_W: f64 = 300.0;
const MIN_W: f64 = 640.0;
/// Roughly the advance of one character at the chart's font size, for the layout.
const CHAR_W: f64 = 8.5;
const ROW_H: f64 = 30.0;
const BAR_H: f64 = 20.0;
/// The shortest bar of a value that is not zero: visible from the back of the room.
const MIN_BAR: f64 = 6.0;

/// A metric key as words for a label: `unix_stream` is "unix stream". Only for metrics
/// the demo gave no label and the directive does not name.
fn words(key: &str) -> String {
    key.replace(['_', '.'], " ")
}

/// One bar: a metric and the words the directive gives it (`METRIC="label"`), if any.
#[derive(Debug)]
pub struct Bar<'t> {
    pub metric: &'t Metric,
    pub label: Option<String>,
}

/// Looks up each named metric in the transcript, or says which are missing and which
/// the demo does have. A name may carry the slide's own label, `METRIC=label` (as
/// [`crate::slides::parse_chart_directive`] leaves `METRIC="label"`).
pub fn select<'t>(t: &'t Transcript, names: &[String]) -> Result<Vec<Bar<'t>>, String> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for spec in names {
        let (name, label) = match spec.split_once('=') {
            Some((name, label)) => (name, Some(label.to_string())),
            None => (spec.as_str(), None),
        };
        match t.metrics.iter().find(|m| m.name == name) {
            Some(metric) => found.push(Bar { metric, label }),
            None => missing.push(format!("`{name}`")),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let have: Vec<&str> = t.metrics.iter().map(|m| m.name.as_str()).collect();
    Err(format!(
        "demo `{}` recorded no metric {} (it has: {})",
        t.demo,
        missing.join(", "),
        if have.is_empty() {
            "none; a demo records them with `d.metric(...)`".to_string()
        } else {
            have.join(", ")
        }
    ))
}

/// The words on each bar: the directive's label, else the demo's, else the key as
/// words without the first part all unlabelled keys share (`lat.` of `lat.pipe`), which
/// is returned for the caption ("" when every bar has a label).
fn labels<'t>(bars: &[Bar<'t>]) -> (Vec<String>, &'t str) {
    let given = |b: &Bar<'t>| b.label.clone().or_else(|| b.metric.label.clone());
    let unlabelled: Vec<&Metric> = bars
        .iter()
        .filter(|b| given(b).is_none())
        .map(|b| b.metric)
        .collect();
    // One unlabelled bar among labelled ones keeps its whole key: a prefix of one name
    // says nothing.
    let prefix = shared_prefix(&unlabelled);
    let text = bars
        .iter()
        .map(|b| given(b).unwrap_or_else(|| words(&b.metric.name[prefix.len()..])))
        .collect();
    (text, prefix)
}

/// The chart of `bars` (from `t`) as a `<figure class="chart">`, on one line.
pub fn render(t: &Transcript, bars: &[Bar<'_>]) -> String {
    let metrics: Vec<&Metric> = bars.iter().map(|b| b.metric).collect();
    let (labels, prefix) = labels(bars);
    let height = ROW_H * metrics.len() as f64 + 10.0;
    let widest = |texts: &mut dyn Iterator<Item = String>| {
        texts.map(|t| t.chars().count()).max().unwrap_or(0) as f64 * CHAR_W
    };
    let label_w = widest(&mut labels.iter().cloned()) + 16.0;
    let value_w = widest(&mut metrics.iter().map(|m| value_text(m))) + 12.0;
    // A minimum width, so a chart of two short bars is not drawn in giant letters.
    let width = (label_w + BARS_W + value_w).max(MIN_W);
    let bar_room = width - label_w - value_w;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         style=\"max-width:100%;height:auto\" role=\"img\" aria-label=\"{}\" \
         font-size=\"15\" fill=\"currentColor\">",
        escape(&alt_text(&metrics, &labels))
    );
    for (i, (m, label)) in metrics.iter().zip(&labels).enumerate() {
        let scale = metrics
            .iter()
            .filter(|o| o.unit == m.unit)
            .map(|o| o.value.abs())
            .fold(0.0, f64::max);
        let mut w = if scale > 0.0 {
            bar_room * m.value.abs() / scale
        } else {
            0.0
        };
        if m.value != 0.0 {
            // A value a thousand times smaller than its neighbour still shows as a bar.
            w = w.max(MIN_BAR);
        }
        let y = 5.0 + ROW_H * i as f64;
        let mid = y + BAR_H / 2.0 + 5.0;
        let _ = write!(
            svg,
            "<text x=\"{lx}\" y=\"{mid}\" text-anchor=\"end\">{label}</text>\
             <rect class=\"bar\" x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{BAR_H}\" fill-opacity=\"0.55\"/>\
             <text x=\"{vx:.1}\" y=\"{mid}\">{value}</text>",
            lx = label_w - 8.0,
            label = escape(label),
            vx = label_w + w + 6.0,
            value = escape(&value_text(m)),
        );
    }
    svg.push_str("</svg>");
    let date = t.captured_at.split('T').next().unwrap_or(&t.captured_at);
    let what = if prefix.is_empty() {
        String::new()
    } else {
        format!("<code>{}*</code>, ", escape(prefix))
    };
    format!(
        "<figure class=\"chart\" data-demo=\"{name}\">{svg}<figcaption>{what}measured by \
         <code>cargo xtask demo {name}</code> on {date}, Linux {kernel}</figcaption></figure>",
        name = escape(&t.demo),
        date = escape(date),
        kernel = escape(&t.kernel),
    )
}

/// The first dotted part all the names share (`lat.`), when there are two or more
/// names and each has something after it; otherwise nothing.
fn shared_prefix<'m>(metrics: &[&'m Metric]) -> &'m str {
    let [first, rest @ ..] = metrics else {
        return "";
    };
    match first.name.find('.') {
        Some(dot)
            if !rest.is_empty()
                && metrics.iter().all(|m| {
                    m.name.len() > dot + 1
                        && m.name.as_bytes()[..=dot] == first.name.as_bytes()[..=dot]
                }) =>
        {
            &first.name[..=dot]
        }
        _ => "",
    }
}

fn alt_text(metrics: &[&Metric], labels: &[String]) -> String {
    metrics
        .iter()
        .zip(labels)
        .map(|(m, label)| format!("{label}: {}", value_text(m)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The label of a bar. Times read in the largest unit that keeps them at least 1
/// (44005 µs is 44.0 ms); the bar itself is scaled by the recorded value.
fn value_text(m: &Metric) -> String {
    const TIME: [(&str, f64); 4] = [("ns", 1e-9), ("µs", 1e-6), ("ms", 1e-3), ("s", 1.0)];
    let (mut value, mut unit) = (m.value, m.unit.as_str());
    if let Some(from) = TIME.iter().position(|(u, _)| *u == unit) {
        let seconds = value * TIME[from].1;
        if let Some((u, scale)) = TIME[from..]
            .iter()
            .rev()
            .find(|(_, scale)| seconds.abs() >= *scale)
        {
            (value, unit) = (seconds / scale, u);
        }
    }
    if unit.is_empty() {
        number(value)
    } else {
        format!("{} {unit}", number(value))
    }
}

/// A number as a person reads it: whole numbers whole, others to three significant
/// digits.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if (v.fract() == 0.0 && a < 1e15) || a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a == 0.0 {
        "0".into()
    } else {
        let digits = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use transcript::{Outcome, Status};

    fn metric(name: &str, value: f64, unit: &str) -> Metric {
        Metric {
            name: name.into(),
            value,
            unit: unit.into(),
            label: None,
        }
    }

    fn labelled(name: &str, label: &str, value: f64) -> Metric {
        Metric {
            label: Some(label.into()),
            ..metric(name, value, "ms")
        }
    }

    /// The text of each bar's label, in order.
    fn bar_labels(html: &str) -> Vec<&str> {
        html.split("text-anchor=\"end\">")
            .skip(1)
            .map(|rest| &rest[..rest.find('<').unwrap()])
            .collect()
    }

    #[test]
    fn bars_say_the_directives_label_else_the_demos_else_the_key() {
        let mut t = sample();
        t.metrics = vec![
            labelled("nagle.default.median", "write, write, read", 44.0),
            labelled("nagle.nodelay.median", "TCP_NODELAY", 0.04),
            metric("nagle.one_write.median", 0.05, "ms"),
        ];
        let names = |specs: &[&str]| specs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let picked = select(
            &t,
            &names(&[
                "nagle.default.median",
                "nagle.nodelay.median=no Nagle",
                "nagle.one_write.median",
            ]),
        )
        .unwrap();
        let html = render(&t, &picked);
        assert_eq!(
            bar_labels(&html),
            ["write, write, read", "no Nagle", "nagle one write median"],
            "one unlabelled bar keeps its whole key: {html}"
        );
        assert!(
            html.contains("aria-label=\"write, write, read: 44 ms; "),
            "{html}"
        );
        assert!(html.contains("<figcaption>measured by"), "{html}");

        // All labelled: no key anywhere a reader sees, not even a shared prefix.
        let picked = select(
            &t,
            &names(&["nagle.default.median", "nagle.nodelay.median"]),
        )
        .unwrap();
        let html = render(&t, &picked);
        assert_eq!(bar_labels(&html), ["write, write, read", "TCP_NODELAY"]);
        assert!(!html.contains("nagle."), "{html}");

        // The unlabelled ones still share their prefix in the caption.
        t.metrics.push(metric("nagle.two.median", 1.0, "ms"));
        let picked = select(
            &t,
            &names(&[
                "nagle.default.median",
                "nagle.one_write.median",
                "nagle.two.median",
            ]),
        )
        .unwrap();
        let html = render(&t, &picked);
        assert_eq!(
            bar_labels(&html),
            ["write, write, read", "one write median", "two median"]
        );
        assert!(html.contains("<code>nagle.*</code>"), "{html}");
        let err = select(&t, &names(&["nagle.nope=x"])).unwrap_err();
        assert!(err.contains("no metric `nagle.nope`"), "{err}");
    }

    fn sample() -> Transcript {
        Transcript {
            format: transcript::FORMAT,
            demo: "nagle".into(),
            claim: "c".into(),
            args: vec![],
            chunks: vec![],
            outcome: Outcome {
                status: Status::Passed,
                code: Some(0),
                signal: None,
            },
            duration_ms: 10,
            kernel: "6.18.0".into(),
            captured_at: "2026-11-24T10:00:00Z".into(),
            metrics: vec![
                metric("default.median", 44.0, "ms"),
                metric("nodelay.median", 0.04, "ms"),
                metric("requests", 30.0, ""),
            ],
            wire: vec![],
        }
    }

    fn widths(html: &str) -> Vec<f64> {
        html.match_indices("<rect ")
            .map(|(at, _)| {
                let w = &html[at..];
                let start = w.find("width=\"").unwrap() + 7;
                w[start..start + w[start..].find('"').unwrap()]
                    .parse()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn bars_are_scaled_per_unit_and_labelled() {
        let t = sample();
        let picked = select(
            &t,
            &[
                "default.median".into(),
                "nodelay.median".into(),
                "requests".into(),
            ],
        )
        .unwrap();
        let html = render(&t, &picked);
        assert!(!html.contains('\n'), "{html}");
        let w = widths(&html);
        assert_eq!(w.len(), 3);
        let full = w[0];
        assert!(full >= BARS_W, "the largest ms bar is full width: {html}");
        assert_eq!(w[1], MIN_BAR, "a tiny value still shows");
        assert_eq!(w[2], full, "another unit has its own scale");
        assert!(html.contains(">44 ms</text>") && html.contains(">0.0400 ms</text>"));
        let us = |v: f64| value_text(&metric("t", v, "µs"));
        assert_eq!(us(44005.0), "44.0 ms");
        assert_eq!(us(12.3), "12.3 µs");
        assert_eq!(us(2_500_000.0), "2.50 s");
        assert_eq!(
            value_text(&metric("n", 10000.0, "datagrams")),
            "10000 datagrams"
        );
        assert!(html.contains(">30</text>"), "{html}");
        assert!(html.contains(
            "measured by <code>cargo xtask demo nagle</code> on 2026-11-24, Linux 6.18.0"
        ));
    }

    #[test]
    fn long_labels_and_values_fit_in_the_picture() {
        let mut t = sample();
        t.metrics = vec![metric("a.rather.long.metric.name", 10000.0, "datagrams")];
        let picked = select(&t, &["a.rather.long.metric.name".into()]).unwrap();
        let html = render(&t, &picked);
        let view_w: f64 = {
            let at = html.find("viewBox=\"0 0 ").unwrap() + 13;
            html[at..].split(' ').next().unwrap().parse().unwrap()
        };
        let value_x: f64 = {
            let at = html.rfind("<text x=\"").unwrap() + 9;
            html[at..at + html[at..].find('"').unwrap()]
                .parse()
                .unwrap()
        };
        let label_x: f64 = {
            let at = html.find("<text x=\"").unwrap() + 9;
            html[at..at + html[at..].find('"').unwrap()]
                .parse()
                .unwrap()
        };
        assert!(
            value_x + "10000 datagrams".len() as f64 * CHAR_W <= view_w,
            "{html}"
        );
        assert!(
            label_x >= "a.rather.long.metric.name".len() as f64 * CHAR_W,
            "{html}"
        );
    }

    #[test]
    fn a_shared_first_part_moves_to_the_caption() {
        let mut t = sample();
        t.metrics = vec![
            metric("lat.pipe", 4.7, "µs"),
            metric("lat.unix_stream", 8.4, "µs"),
        ];
        let picked = select(&t, &["lat.pipe".into(), "lat.unix_stream".into()]).unwrap();
        let html = render(&t, &picked);
        assert!(html.contains("end\">pipe</text>"), "{html}");
        assert!(html.contains("end\">unix stream</text>"), "{html}");
        assert!(
            html.contains("<figcaption><code>lat.*</code>, measured by"),
            "{html}"
        );
        // Different first parts, or a single bar: names stay whole.
        let mixed = [&t.metrics[0], &metric("udp.sent", 1.0, "")];
        assert_eq!(shared_prefix(&mixed), "");
        assert_eq!(shared_prefix(&[&t.metrics[0]]), "");
        assert_eq!(
            shared_prefix(&[&metric("a.", 1.0, ""), &metric("a.b", 1.0, "")]),
            ""
        );
    }

    #[test]
    fn missing_metrics_are_named_with_what_exists() {
        let t = sample();
        let err = select(&t, &["default.median".into(), "p99".into()]).unwrap_err();
        assert!(err.contains("no metric `p99`"), "{err}");
        assert!(err.contains("it has: default.median, nodelay.median, requests"));
        let mut none = sample();
        none.metrics.clear();
        let err = select(&none, &["x".into()]).unwrap_err();
        assert!(err.contains("d.metric"), "{err}");
    }

    #[test]
    fn numbers_read_naturally() {
        assert_eq!(number(9991.0), "9991");
        assert_eq!(number(44.26), "44.3");
        assert_eq!(number(1.5), "1.50");
        assert_eq!(number(0.0412), "0.0412");
        assert_eq!(number(0.5), "0.500");
        assert_eq!(number(0.0), "0");
        assert_eq!(number(123.4), "123");
    }
}
