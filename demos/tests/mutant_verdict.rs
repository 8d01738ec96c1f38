//! The judge of `cargo xtask mutants`: cargo-mutants runs this test once per mutant,
//! and calls the mutant "caught" when it fails.
//!
//! It runs each demo named in `MUTANTS_DEMOS` (comma-separated) as the presenter would,
//! and fails only when one of them ends FAIL naming a check: exit 1 with a `✗` line.
//! A PASS, an ERROR (2), a SKIP (77), a watchdog stop (124), a FAIL without a `✗`, a
//! death by signal or a hang all let it pass, so cargo-mutants counts the mutant as
//! missed: the claim's checks did not see the change. Each demo's verdict is printed
//! as `mutants-verdict: DEMO STATUS` (run with `--nocapture`), which xtask reads back
//! from cargo-mutants' log of the mutant to write its table.
//!
//! Ignored in a plain `cargo test`: without a mutant it only reruns demos that the
//! `all_demos` tests already run.

#![forbid(unsafe_code)]

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use transcript::exit;

/// The harness's default limit is 5 s; past this the demo's own watchdog has failed.
const HANG: Duration = Duration::from_secs(15);

/// Cargo builds every binary of the package before its integration tests, next to
/// the `deps/` folder this test runs from.
fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target profile dir")
        .join(name)
}

/// How one run of a demo ended, as the mutants table counts it.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Exit 1 and a `✗` line: the only outcome that catches a mutant.
    Fail(String),
    Pass,
    /// Exit 1 but no check named.
    FailUnnamed,
    Error,
    Skip,
    Timeout,
    Hung,
    Other(String),
}

impl Verdict {
    fn label(&self) -> String {
        match self {
            Verdict::Fail(_) => "FAIL".into(),
            Verdict::Pass => "PASS".into(),
            Verdict::FailUnnamed => "FAIL-UNNAMED".into(),
            Verdict::Error => "ERROR".into(),
            Verdict::Skip => "SKIP".into(),
            Verdict::Timeout => "TIMEOUT".into(),
            Verdict::Hung => "HUNG".into(),
            Verdict::Other(what) => format!("OTHER({what})"),
        }
    }
}

/// Classifies an ended run by its exit code and its output.
fn classify(code: Option<i32>, signal: Option<i32>, output: &str) -> Verdict {
    match code {
        Some(exit::FAILED) => output
            .lines()
            .find(|l| l.trim_start().starts_with('✗'))
            .map_or(Verdict::FailUnnamed, |l| Verdict::Fail(l.trim().to_owned())),
        Some(exit::PASSED) => Verdict::Pass,
        Some(exit::ERROR) => Verdict::Error,
        Some(exit::SKIPPED) => Verdict::Skip,
        Some(exit::TIMED_OUT) => Verdict::Timeout,
        Some(other) => Verdict::Other(format!("exit {other}")),
        None => Verdict::Other(format!("signal {}", signal.unwrap_or(0))),
    }
}

/// Runs one demo with no arguments and no colour, killing its process group if it
/// outlives [`HANG`].
fn judge(name: &str) -> Verdict {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(binary(name))
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("starting demo {name}: {e}"));
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out = read(Box::new(child.stdout.take().expect("stdout")));
    let err = read(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + HANG;
    let status = loop {
        match child.try_wait().expect("waiting for a demo") {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => break None,
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    // Whatever the demo left in its group (a hung peer) goes with it.
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return Verdict::Hung;
    };
    let text = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned()
        + &String::from_utf8_lossy(&err.join().unwrap_or_default());
    println!("--- {name} (exit {status})\n{}", text.trim_end());
    classify(status.code(), status.signal(), &text)
}

#[test]
#[ignore = "run by `cargo xtask mutants`, which names the demos in MUTANTS_DEMOS"]
fn a_mutant_is_caught_only_when_a_demo_fails_naming_a_check() {
    let names = std::env::var("MUTANTS_DEMOS").expect("MUTANTS_DEMOS=demo,demo,...");
    let mut caught = Vec::new();
    for name in names.split(',').filter(|n| !n.is_empty()) {
        let verdict = judge(name);
        println!("mutants-verdict: {name} {}", verdict.label());
        if let Verdict::Fail(line) = verdict {
            caught.push(format!("{name}: {line}"));
        }
    }
    assert!(caught.is_empty(), "caught: {}", caught.join("; "));
}

#[test]
fn only_exit_1_with_a_failed_check_is_a_fail() {
    let failed = "expect: x\n  ✓ one\n  ✗ two\nFAIL: the kernel did not...";
    assert_eq!(
        classify(Some(exit::FAILED), None, failed),
        Verdict::Fail("✗ two".into())
    );
    assert_eq!(
        classify(Some(exit::FAILED), None, "  ✓ one\nFAIL: x"),
        Verdict::FailUnnamed
    );
    assert_eq!(classify(Some(exit::ERROR), None, failed), Verdict::Error);
    assert_eq!(classify(Some(exit::PASSED), None, ""), Verdict::Pass);
    assert_eq!(classify(Some(exit::SKIPPED), None, ""), Verdict::Skip);
    assert_eq!(classify(Some(exit::TIMED_OUT), None, ""), Verdict::Timeout);
    assert_eq!(
        classify(None, Some(9), "").label(),
        "OTHER(signal 9)".to_owned()
    );
}
