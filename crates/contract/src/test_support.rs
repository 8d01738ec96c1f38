//! Test values, one definition for every crate's tests (`features = ["test-support"]`
//! in a dev-dependency): a captured run to start from, and its parts.
//!
//! ```
//! use contract::test_support::{run, stdout};
//! let t = contract::Transcript {
//!     chunks: vec![stdout(0, "  ✓ held\n")],
//!     ..run("peek")
//! };
//! assert_eq!(t.demo, "peek");
//! ```

use crate::{Chunk, FORMAT, Metric, Outcome, Status, Stream, Transcript};

/// A run of `demo` that passed (exit 0) in 5 ms on Linux 6.18.0, captured on
/// 2026-11-24, with no output, metrics or wire: change what a test is about with
/// struct update syntax (`Transcript { chunks, ..run("peek") }`).
pub fn run(demo: &str) -> Transcript {
    Transcript {
        format: FORMAT,
        demo: demo.into(),
        claim: format!("what {demo} proves"),
        args: vec![],
        chunks: vec![],
        outcome: outcome(Status::Passed),
        duration_ms: 5,
        kernel: "6.18.0".into(),
        captured_at: "2026-11-24T10:00:00Z".into(),
        metrics: vec![],
        wire: vec![],
    }
}

/// The outcome of a run with `status`, and the exit code a demo gives it.
pub fn outcome(status: Status) -> Outcome {
    let code = match status {
        Status::Passed => crate::exit::PASSED,
        Status::Failed => crate::exit::FAILED,
        Status::Error => crate::exit::ERROR,
        Status::Skipped => crate::exit::SKIPPED,
        Status::TimedOut => crate::exit::TIMED_OUT,
    };
    Outcome {
        status,
        code: Some(code),
        signal: None,
    }
}

/// Output on stdout at `at_ms`.
pub fn stdout(at_ms: u64, text: &str) -> Chunk {
    Chunk {
        at_ms,
        stream: Stream::Stdout,
        text: text.into(),
    }
}

/// Output on stderr at `at_ms`.
pub fn stderr(at_ms: u64, text: &str) -> Chunk {
    Chunk {
        at_ms,
        stream: Stream::Stderr,
        text: text.into(),
    }
}

/// A measured number, with the chart's label if it has one.
pub fn metric(name: &str, value: f64, unit: &str, label: Option<&str>) -> Metric {
    Metric {
        name: name.into(),
        value,
        unit: unit.into(),
        label: label.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starting_run_is_valid_and_its_status_has_its_exit_code() {
        let t = Transcript {
            chunks: vec![stdout(0, "a\n"), stderr(3, "b\n")],
            metrics: vec![metric("udp.sent", 600.0, "datagrams", Some("sent"))],
            ..run("peek")
        };
        t.validate().unwrap();
        assert_eq!(outcome(Status::Skipped).code, Some(77));
        assert_eq!(
            Status::from_exit_code(outcome(Status::Failed).code.unwrap()),
            Status::Failed
        );
    }
}
