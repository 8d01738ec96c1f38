//! What a captured demo run is, defined once.
//!
//! `cargo xtask capture` writes [`Transcript`]s as JSON into `demos/transcripts/`, the
//! mdbook preprocessor reads them to render a terminal figure, and the WebAssembly
//! player in `theme/player` reads the same JSON (embedded in the page) to replay the run
//! at its recorded pace. The exit-status convention the demos follow lives here too, so
//! a demo and the tool that judges it cannot disagree about what "skipped" means.

#![forbid(unsafe_code)]

// What needs serde (the transcript, the live protocol, the packets, and what renders
// them) is behind the default feature `serde`; the exit codes, `Status` and the catalog
// are not, so the launcher (`xtask/launch`) builds without serde or syn.
#[cfg(feature = "serde")]
pub mod ansi;
pub mod catalog;
pub mod directive;
pub mod escape;
#[cfg(feature = "serde")]
pub mod ladder;
#[cfg(feature = "serde")]
pub mod live;
#[cfg(feature = "serde")]
pub mod page;
#[cfg(feature = "serde")]
pub mod terminal;
#[cfg(all(feature = "serde", any(test, feature = "test-support")))]
pub mod test_support;
#[cfg(feature = "serde")]
pub mod wire;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning; readers refuse versions they do not know.
/// 2 added [`Transcript::wire`], the captured packets; format 1 (without them) still
/// loads, as a run whose wire was not recorded.
pub const FORMAT: u32 = 2;

/// The oldest format readers still load.
pub const OLDEST_FORMAT: u32 = 1;

/// Exit statuses of a demo program.
pub mod exit {
    /// The kernel behaved as the slide says.
    pub const PASSED: i32 = 0;
    /// The kernel did not behave as the slide says.
    pub const FAILED: i32 = 1;
    /// The demo could not run its experiment (bad usage, a setup step failed).
    pub const ERROR: i32 = 2;
    /// The machine lacks something the demo needs (root, a module, a sysctl).
    /// 77 is the "skipped" status of automake's test harness, which many tools know.
    pub const SKIPPED: i32 = 77;
    /// The demo's own watchdog stopped it.
    pub const TIMED_OUT: i32 = 124;
}

/// One run of one demo, with every byte it printed and when.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub format: u32,
    /// The demo's name, as in `cargo xtask demo NAME`.
    pub demo: String,
    /// The one-line claim the demo proves.
    pub claim: String,
    /// Extra arguments the demo was run with (usually none).
    #[serde(default)]
    pub args: Vec<String>,
    pub chunks: Vec<Chunk>,
    pub outcome: Outcome,
    /// Wall time from start to exit.
    pub duration_ms: u64,
    /// `uname -r` of the machine that ran it.
    pub kernel: String,
    /// When it ran, RFC 3339 in UTC.
    pub captured_at: String,
    /// Numbers the demo measured, for charts (see [`Metric`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    /// The packets of the demo's own connections, as a packet socket saw them on the
    /// wire (format 2; empty without CAP_NET_RAW or in older transcripts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wire: Vec<wire::Connection>,
}

/// A number a demo measured and reported with `Demo::metric`, so slides can chart
/// captured data instead of typed-in numbers.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// A stable key, e.g. `udp.received`.
    pub name: String,
    pub value: f64,
    /// The unit as a reader sees it: `datagrams`, `µs`, `MiB/s`.
    pub unit: String,
    /// What a chart calls it, in words (`one write`); absent in transcripts captured
    /// before demos gave labels, and for metrics no slide charts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The environment variable naming the file a demo appends its metrics to, one JSON
/// [`Metric`] per line. Capture sets it; when unset, metrics are only printed.
pub const METRICS_ENV: &str = "DEMO_METRICS_FILE";

/// The environment variable naming the file a demo appends the packets it captured
/// to, one JSON [`wire::Connection`] per line. Capture sets it, next to the metrics.
pub const WIRE_ENV: &str = "DEMO_WIRE_FILE";

/// The environment variable naming the file a demo appends each packet its capture
/// reads to, the moment it reads it: one JSON [`wire::LivePacket`] per line. Run live
/// sets it and streams the lines as they come.
pub const PACKETS_ENV: &str = "DEMO_PACKETS_FILE";

/// Output as it arrived: one read from one of the demo's pipes.
#[cfg(feature = "serde")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    /// Milliseconds since the demo started.
    pub at_ms: u64,
    pub stream: Stream,
    /// The bytes, decoded as UTF-8 (invalid sequences replaced); ANSI escapes kept.
    pub text: String,
}

#[cfg(feature = "serde")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[cfg(feature = "serde")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    /// The exit code, when the demo exited by itself.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(Serialize, Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum Status {
    Passed,
    Failed,
    Skipped,
    Error,
    TimedOut,
}

impl Status {
    /// How an exit code reads under the demos' convention.
    pub fn from_exit_code(code: i32) -> Status {
        match code {
            exit::PASSED => Status::Passed,
            exit::FAILED => Status::Failed,
            exit::SKIPPED => Status::Skipped,
            exit::TIMED_OUT => Status::TimedOut,
            _ => Status::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Error => "error",
            Status::TimedOut => "timed out",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl Transcript {
    /// Checks what serde cannot: the version, and that time only moves forward.
    pub fn validate(&self) -> Result<(), String> {
        if !(OLDEST_FORMAT..=FORMAT).contains(&self.format) {
            return Err(format!(
                "transcript format {} is not a supported format ({OLDEST_FORMAT} to {FORMAT})",
                self.format
            ));
        }
        for c in &self.wire {
            c.validate()?;
        }
        if let Some(w) = self.chunks.windows(2).find(|w| w[1].at_ms < w[0].at_ms) {
            return Err(format!(
                "chunk times go backwards ({} ms after {} ms)",
                w[1].at_ms, w[0].at_ms
            ));
        }
        Ok(())
    }

    /// The command a reader runs to see this for themselves.
    pub fn rerun_command(&self) -> String {
        let mut cmd = format!("cargo xtask demo {}", self.demo);
        for arg in &self.args {
            cmd.push(' ');
            cmd.push_str(arg);
        }
        cmd
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::*;

    fn sample() -> Transcript {
        Transcript {
            format: FORMAT,
            demo: "peek".into(),
            claim: "reading is not consuming".into(),
            args: vec![],
            chunks: vec![
                Chunk {
                    at_ms: 0,
                    stream: Stream::Stdout,
                    text: "hello\n".into(),
                },
                Chunk {
                    at_ms: 12,
                    stream: Stream::Stderr,
                    text: "oops\n".into(),
                },
            ],
            outcome: Outcome {
                status: Status::Passed,
                code: Some(0),
                signal: None,
            },
            duration_ms: 15,
            kernel: "6.18.0".into(),
            captured_at: "2026-11-24T10:00:00Z".into(),
            metrics: vec![Metric {
                name: "x".into(),
                value: 1.5,
                unit: "ms".into(),
                label: Some("one write".into()),
            }],
            wire: vec![],
        }
    }

    #[test]
    fn format_1_transcripts_still_load_without_a_wire() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["format"] = 1.into();
        let old: Transcript = serde_json::from_value(json).unwrap();
        assert!(old.validate().is_ok(), "format 1 must still load");
        assert!(old.wire.is_empty());
        assert!(
            !serde_json::to_string(&old).unwrap().contains("wire"),
            "no wire, no field"
        );
    }

    #[test]
    fn json_round_trip_keeps_everything() {
        let t = sample();
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains(r#""stream":"stderr""#), "{json}");
        assert!(json.contains(r#""status":"passed""#), "{json}");
        let back: Transcript = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn metric_labels_round_trip_and_old_metrics_read_without_one() {
        let labelled = &sample().metrics[0];
        let json = serde_json::to_string(labelled).unwrap();
        assert!(json.contains(r#""label":"one write""#), "{json}");
        assert_eq!(&serde_json::from_str::<Metric>(&json).unwrap(), labelled);
        // As transcripts captured before labels store a metric.
        let old: Metric = serde_json::from_str(r#"{"name":"x","value":2.0,"unit":"ms"}"#).unwrap();
        assert_eq!(old.label, None);
        let json = serde_json::to_string(&old).unwrap();
        assert!(!json.contains("label"), "no label, no field: {json}");
    }

    #[test]
    fn validate_rejects_unknown_format_and_time_going_back() {
        let mut t = sample();
        assert!(t.validate().is_ok());
        t.chunks[1].at_ms = 0;
        assert!(t.validate().is_ok(), "equal times are fine");
        t.chunks[0].at_ms = 5;
        assert!(t.validate().unwrap_err().contains("backwards"));
        let mut t = sample();
        t.format = 99;
        assert!(t.validate().unwrap_err().contains("format 99"));
    }

    #[test]
    fn exit_codes_map_to_statuses() {
        assert_eq!(Status::from_exit_code(0), Status::Passed);
        assert_eq!(Status::from_exit_code(1), Status::Failed);
        assert_eq!(Status::from_exit_code(77), Status::Skipped);
        assert_eq!(Status::from_exit_code(124), Status::TimedOut);
        assert_eq!(
            Status::from_exit_code(101),
            Status::Error,
            "a panic is an error"
        );
    }

    #[test]
    fn rerun_command_includes_args() {
        let mut t = sample();
        assert_eq!(t.rerun_command(), "cargo xtask demo peek");
        t.args = vec!["--verbose".into()];
        assert_eq!(t.rerun_command(), "cargo xtask demo peek --verbose");
    }
}
