//! `{{#chart DEMO METRIC... [OPTION...]}}`: a bar chart of numbers a demo measured,
//! drawn as HTML from its captured transcript, so a slide never shows a typed-in number.
//!
//! One horizontal bar per metric, labelled with words (the directive's
//! `METRIC="label"`, else the label the demo recorded, else the key as words) and its
//! value and unit. Every chart has the same label column and bar pitch (in em of the
//! chart's text), so two charts side by side in a talk read the same way; the labels
//! and values are text, so the chart reads on a phone and to a screen reader.
//!
//! - Bars that share a unit share a scale. Metrics in different units are drawn as
//!   separate groups, each under its unit and on its own scale (32 calls/MiB and 12,800
//!   calls are never two bars of one length side by side).
//! - When every label reads `GROUP, SERIES` (`short queue, median`, `short queue, p99`)
//!   with the same series in each group, the bars are drawn as groups, one bar per
//!   series in the series' colour, with a legend.
//! - Options: `lower-is-better` or `higher-is-better` says so in the caption and marks
//!   the best bar as the answer; `sorted` orders the bars (the best first when one of
//!   the two is given, else the largest first).
//!
//! The caption names the demo and when and where it ran. The figure is one line of HTML.

use std::fmt::Write;

use contract::page::{self, class};
use contract::{Metric, Transcript};

use crate::figure::escape;

/// The words of a chart directive that are options, not metrics.
pub const OPTIONS: &[&str] = &["sorted", "lower-is-better", "higher-is-better"];

/// Whether a word of a chart directive is an option rather than a metric.
pub fn is_option(word: &str) -> bool {
    OPTIONS.contains(&word)
}

/// Which way a chart's answer lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// The options of a chart directive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub sorted: bool,
    pub better: Option<Better>,
}

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
/// the demo does have; the words that are [`OPTIONS`] become the options. A name may
/// carry the slide's own label, `METRIC=label` (as
/// [`crate::slides::parse_chart_directive`] leaves `METRIC="label"`).
pub fn select<'t>(t: &'t Transcript, names: &[String]) -> Result<(Vec<Bar<'t>>, Options), String> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    let mut options = Options::default();
    for spec in names {
        match spec.as_str() {
            "sorted" => {
                options.sorted = true;
                continue;
            }
            "lower-is-better" | "higher-is-better" => {
                let better = if spec == "lower-is-better" {
                    Better::Lower
                } else {
                    Better::Higher
                };
                if options.better.is_some_and(|b| b != better) {
                    return Err(
                        "a chart is either `lower-is-better` or `higher-is-better`, not both"
                            .into(),
                    );
                }
                options.better = Some(better);
                continue;
            }
            _ => {}
        }
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
        if found.is_empty() {
            return Err(format!(
                "the chart of `{}` names options but no metric",
                t.demo
            ));
        }
        return Ok((found, options));
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

/// A row of the chart: its label and one bar per series (one, unless grouped).
struct Row<'m> {
    label: String,
    bars: Vec<&'m Metric>,
}

/// Bars drawn on one scale: under their unit's name (when the chart has several), rows.
type Group<'m> = (Option<String>, Vec<Row<'m>>);

/// The series, when every label is `GROUP, SERIES` with the same series, in the same
/// order, in two or more groups; and the rows as groups.
fn as_series<'m>(metrics: &[&'m Metric], labels: &[String]) -> Option<(Vec<String>, Vec<Row<'m>>)> {
    let split: Vec<(&str, &str)> = labels
        .iter()
        .map(|l| l.rsplit_once(", "))
        .collect::<Option<_>>()?;
    let mut rows: Vec<Row<'m>> = Vec::new();
    let mut series: Vec<Vec<&str>> = Vec::new();
    for ((group, name), m) in split.iter().zip(metrics) {
        match rows.iter().position(|r| r.label == *group) {
            Some(i) => {
                rows[i].bars.push(m);
                series[i].push(name);
            }
            None => {
                rows.push(Row {
                    label: group.to_string(),
                    bars: vec![m],
                });
                series.push(vec![name]);
            }
        }
    }
    let first = series.first()?.clone();
    let same = series.iter().all(|s| *s == first);
    let one_unit = metrics.iter().all(|m| m.unit == metrics[0].unit);
    (rows.len() >= 2 && first.len() >= 2 && same && one_unit)
        .then(|| (first.iter().map(|s| s.to_string()).collect(), rows))
}

/// The chart of `bars` (from `t`) as a `<figure class="chart">`, on one line.
pub fn render(t: &Transcript, bars: &[Bar<'_>], options: Options) -> String {
    let metrics: Vec<&Metric> = bars.iter().map(|b| b.metric).collect();
    let (labels, prefix) = labels(bars);
    let (series, groups): (Vec<String>, Vec<Group>) = match as_series(&metrics, &labels) {
        Some((series, rows)) => (series, vec![(None, rows)]),
        None => {
            // One group per unit, in the order the units first appear.
            let mut groups: Vec<Group> = Vec::new();
            for (m, label) in metrics.iter().zip(&labels) {
                let row = Row {
                    label: label.clone(),
                    bars: vec![m],
                };
                match groups
                    .iter_mut()
                    .find(|(unit, _)| unit.as_deref() == Some(m.unit.as_str()))
                {
                    Some((_, rows)) => rows.push(row),
                    None => groups.push((Some(m.unit.clone()), vec![row])),
                }
            }
            if groups.len() == 1 {
                groups[0].0 = None;
            }
            (Vec::new(), groups)
        }
    };
    let mut html = String::new();
    for (unit, mut rows) in groups {
        // The value a row is ranked by: its first series.
        let key = |r: &Row| r.bars[0].value;
        if options.sorted {
            rows.sort_by(|a, b| {
                let (a, b) = (key(a), key(b));
                match options.better {
                    Some(Better::Lower) => a.total_cmp(&b),
                    _ => b.total_cmp(&a),
                }
            });
        }
        let best = options.better.and_then(|better| {
            let pick = rows
                .iter()
                .enumerate()
                .min_by(|(_, a), (_, b)| match better {
                    Better::Lower => key(a).total_cmp(&key(b)),
                    Better::Higher => key(b).total_cmp(&key(a)),
                });
            pick.map(|(i, _)| i)
        });
        let scale = rows
            .iter()
            .flat_map(|r| r.bars.iter().map(|m| m.value.abs()))
            .fold(0.0, f64::max);
        let _ = write!(html, "<div class=\"{}\">", class::CHART_GROUP);
        if let Some(unit) = unit {
            let unit = if unit.is_empty() { "count" } else { &unit };
            let _ = write!(
                html,
                "<p class=\"{}\">{}</p>",
                class::CHART_UNIT,
                escape(unit)
            );
        }
        for (i, row) in rows.iter().enumerate() {
            let row_class = if best == Some(i) {
                format!("{} {}", class::CHART_ROW, class::CHART_BEST)
            } else {
                class::CHART_ROW.to_string()
            };
            let _ = write!(
                html,
                "<div class=\"{row_class}\"><span class=\"{}\">{}</span><span class=\"{}\">",
                class::CHART_LABEL,
                escape(&row.label),
                class::CHART_BARS,
            );
            for (s, m) in row.bars.iter().enumerate() {
                let v = if scale > 0.0 {
                    m.value.abs() / scale
                } else {
                    0.0
                };
                let series_name = series
                    .get(s)
                    .map(|n| format!("<span class=\"{}\">{}: </span>", class::CHART_SR, escape(n)))
                    .unwrap_or_default();
                let _ = write!(
                    html,
                    "<span class=\"{track}{series_class}\"><span class=\"{bar}{zero}\" style=\"{length}:{v:.4}\"></span>\
                     <span class=\"{value_class}\">{series_name}{value}</span></span>",
                    track = class::CHART_TRACK,
                    bar = class::CHART_BAR,
                    length = page::property::CHART_V,
                    value_class = class::CHART_VALUE,
                    series_class = if series.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", page::chart_series_class(s))
                    },
                    zero = if m.value == 0.0 {
                        format!(" {}", class::CHART_ZERO)
                    } else {
                        String::new()
                    },
                    value = escape(&value_text(m)),
                );
            }
            html.push_str("</span></div>");
        }
        html.push_str("</div>");
    }
    if !series.is_empty() {
        let _ = write!(html, "<p class=\"{}\">", class::CHART_LEGEND);
        for (s, name) in series.iter().enumerate() {
            let _ = write!(
                html,
                "<span class=\"{} {}\">{}</span>",
                class::CHART_KEY,
                page::chart_series_class(s),
                escape(name)
            );
        }
        html.push_str("</p>");
    }
    let date = t.captured_at.split('T').next().unwrap_or(&t.captured_at);
    let better = match options.better {
        Some(Better::Lower) => "<strong>Lower is better.</strong> ",
        Some(Better::Higher) => "<strong>Higher is better.</strong> ",
        None => "",
    };
    let what = if prefix.is_empty() {
        String::new()
    } else {
        format!("<code>{}*</code>, ", escape(prefix))
    };
    let better_attr = match options.better {
        Some(Better::Lower) => format!(" {}=\"lower\"", page::attr::BETTER),
        Some(Better::Higher) => format!(" {}=\"higher\"", page::attr::BETTER),
        None => String::new(),
    };
    format!(
        "<figure class=\"{chart}\" {demo_attr}=\"{name}\"{better_attr}>{html}<figcaption>{better}{what}{measured} by \
         <code>cargo xtask demo {name}</code> on {date}, Linux {kernel}</figcaption></figure>",
        chart = page::class::CHART,
        demo_attr = page::attr::DEMO,
        name = escape(&t.demo),
        date = escape(date),
        kernel = escape(&t.kernel),
        // A sentence starts after "Lower is better."
        measured = if !better.is_empty() && what.is_empty() {
            "Measured"
        } else {
            "measured"
        },
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
        html.split("class=\"chart-label\">")
            .skip(1)
            .map(|rest| &rest[..rest.find('<').unwrap()])
            .collect()
    }

    fn names(specs: &[&str]) -> Vec<String> {
        specs.iter().map(|s| s.to_string()).collect()
    }

    fn chart(t: &Transcript, specs: &[&str]) -> String {
        let (bars, options) = select(t, &names(specs)).unwrap();
        render(t, &bars, options)
    }

    #[test]
    fn bars_say_the_directives_label_else_the_demos_else_the_key() {
        let mut t = sample();
        t.metrics = vec![
            labelled("nagle.default.median", "write, write, read", 44.0),
            labelled("nagle.nodelay.median", "TCP_NODELAY", 0.04),
            metric("nagle.one_write.median", 0.05, "ms"),
        ];
        let html = chart(
            &t,
            &[
                "nagle.default.median",
                "nagle.nodelay.median=no Nagle",
                "nagle.one_write.median",
            ],
        );
        assert_eq!(
            bar_labels(&html),
            ["write, write, read", "no Nagle", "nagle one write median"],
            "one unlabelled bar keeps its whole key: {html}"
        );
        assert!(html.contains("<figcaption>measured by"), "{html}");

        // All labelled: no key anywhere a reader sees, not even a shared prefix.
        let html = chart(&t, &["nagle.default.median", "nagle.nodelay.median"]);
        assert_eq!(bar_labels(&html), ["write, write, read", "TCP_NODELAY"]);
        assert!(!html.contains("nagle."), "{html}");

        // The unlabelled ones still share their prefix in the caption.
        t.metrics.push(metric("nagle.two.median", 1.0, "ms"));
        let html = chart(
            &t,
            &[
                "nagle.default.median",
                "nagle.one_write.median",
                "nagle.two.median",
            ],
        );
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
            metrics: vec![
                metric("default.median", 44.0, "ms"),
                metric("nodelay.median", 0.04, "ms"),
                metric("requests", 30.0, ""),
            ],
            ..contract::test_support::run("nagle")
        }
    }

    /// Each bar's length, as a share of its scale.
    fn lengths(html: &str) -> Vec<f64> {
        html.split(&format!("style=\"{}:", page::property::CHART_V))
            .skip(1)
            .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
            .collect()
    }

    #[test]
    fn a_chart_whose_values_are_all_zero_draws_empty_bars_not_nan() {
        let mut t = sample();
        t.metrics = vec![metric("a.median", 0.0, "ms"), metric("b.median", 0.0, "ms")];
        let html = chart(&t, &["a.median", "b.median"]);
        assert_eq!(lengths(&html), [0.0, 0.0], "{html}");
    }

    #[test]
    fn each_unit_is_a_group_of_its_own_on_its_own_scale() {
        let t = sample();
        let html = chart(&t, &["default.median", "nodelay.median", "requests"]);
        assert!(!html.contains('\n'), "{html}");
        assert_eq!(lengths(&html), [1.0, 0.0009, 1.0], "{html}");
        assert_eq!(html.matches("<div class=\"chart-group\">").count(), 2);
        assert!(
            html.contains("<div class=\"chart-group\"><p class=\"chart-unit\">ms</p>"),
            "{html}"
        );
        assert!(
            html.contains("<div class=\"chart-group\"><p class=\"chart-unit\">count</p>"),
            "a unitless group is a count: {html}"
        );
        assert!(html.contains(">44 ms</span>") && html.contains(">0.0400 ms</span>"));
        // One unit: one group, no heading.
        let html = chart(&t, &["default.median", "nodelay.median"]);
        assert!(!html.contains("chart-unit"), "{html}");
        let us = |v: f64| value_text(&metric("t", v, "µs"));
        assert_eq!(us(44005.0), "44.0 ms");
        assert_eq!(us(12.3), "12.3 µs");
        assert_eq!(us(2_500_000.0), "2.50 s");
        assert_eq!(
            value_text(&metric("n", 10000.0, "datagrams")),
            "10000 datagrams"
        );
        assert!(html.contains(
            "measured by <code>cargo xtask demo nagle</code> on 2026-11-24, Linux 6.18.0"
        ));
    }

    #[test]
    fn sorted_charts_rank_their_bars_and_mark_the_answer() {
        let mut t = sample();
        t.metrics = vec![
            metric("lat.b", 8.0, "µs"),
            metric("lat.a", 4.0, "µs"),
            metric("lat.c", 12.0, "µs"),
        ];
        let html = chart(
            &t,
            &["lat.b", "lat.a", "lat.c", "sorted", "lower-is-better"],
        );
        assert_eq!(bar_labels(&html), ["a", "b", "c"], "{html}");
        assert!(
            html.contains("<div class=\"chart-row chart-best\"><span class=\"chart-label\">a<"),
            "{html}"
        );
        assert_eq!(html.matches("chart-best").count(), 1);
        assert!(
            html.contains("<figcaption><strong>Lower is better.</strong> "),
            "{html}"
        );
        let html = chart(
            &t,
            &["lat.b", "lat.a", "lat.c", "higher-is-better", "sorted"],
        );
        assert_eq!(bar_labels(&html), ["c", "b", "a"], "{html}");
        assert!(html.contains("chart-best\"><span class=\"chart-label\">c<"));
        assert!(html.contains("Higher is better."));
        // Unsorted, the directive's order stays, and the answer is still marked.
        let html = chart(&t, &["lat.b", "lat.a", "lat.c", "lower-is-better"]);
        assert_eq!(bar_labels(&html), ["b", "a", "c"]);
        assert!(html.contains("chart-best\"><span class=\"chart-label\">a<"));
        // No direction given: nothing is marked, nothing said.
        let html = chart(&t, &["lat.b", "lat.a", "lat.c"]);
        assert!(!html.contains("chart-best") && !html.contains("is better"));
        let err = select(
            &t,
            &names(&["lat.a", "lower-is-better", "higher-is-better"]),
        )
        .unwrap_err();
        assert!(err.contains("not both"), "{err}");
        assert!(
            select(&t, &names(&["sorted"]))
                .unwrap_err()
                .contains("no metric")
        );
    }

    #[test]
    fn series_in_groups_get_one_bar_each_and_a_legend() {
        let mut t = sample();
        let m = |name: &str, label: &str, v: f64| Metric {
            label: Some(label.into()),
            ..metric(name, v, "ms")
        };
        t.metrics = vec![
            m("s", "short queue, median", 3.6),
            m("s99", "short queue, p99", 5.5),
            m("d", "deep queue, median", 20.0),
            m("d99", "deep queue, p99", 30.0),
        ];
        let html = chart(&t, &["s", "s99", "d", "d99"]);
        assert_eq!(bar_labels(&html), ["short queue", "deep queue"], "{html}");
        assert_eq!(html.matches("chart-track chart-s0").count(), 2, "{html}");
        assert_eq!(html.matches("chart-track chart-s1").count(), 2, "{html}");
        assert!(
            html.contains(concat!(
                "<p class=\"chart-legend\"><span class=\"chart-key chart-s0\">median</span>",
                "<span class=\"chart-key chart-s1\">p99</span></p>"
            )),
            "{html}"
        );
        assert!(
            html.contains("<span class=\"chart-sr\">p99: </span>30 ms"),
            "{html}"
        );
        assert_eq!(lengths(&html)[3], 1.0, "one scale for all the series");
        // Series that differ between groups are no series: plain bars.
        t.metrics[3].label = Some("deep queue, mean".into());
        let html = chart(&t, &["s", "s99", "d", "d99"]);
        assert!(!html.contains("chart-legend"), "{html}");
        assert_eq!(bar_labels(&html).len(), 4);
    }

    #[test]
    fn every_chart_has_the_same_geometry() {
        // The label column and the bar pitch are the stylesheet's, in em: nothing in
        // the HTML but a bar's share of its scale depends on the data.
        let mut t = sample();
        t.metrics = vec![
            metric("a.rather.long.metric.name.indeed", 10000.0, "datagrams"),
            metric("b", 1.0, "datagrams"),
        ];
        let html = chart(&t, &["a.rather.long.metric.name.indeed", "b"]);
        for attr in ["width", "viewBox", "height", "grid-template"] {
            assert!(!html.contains(attr), "{attr} in {html}");
        }
        assert_eq!(html.matches("style=").count(), 2, "{html}");
    }

    #[test]
    fn a_shared_first_part_moves_to_the_caption() {
        let mut t = sample();
        t.metrics = vec![
            metric("lat.pipe", 4.7, "µs"),
            metric("lat.unix_stream", 8.4, "µs"),
        ];
        let html = chart(&t, &["lat.pipe", "lat.unix_stream"]);
        assert_eq!(bar_labels(&html), ["pipe", "unix stream"], "{html}");
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
