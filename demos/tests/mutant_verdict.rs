//! The judge of `cargo xtask mutants`: cargo-mutants runs this test once per mutant,
//! and calls the mutant "caught" when it fails.
//!
//! It runs each demo named in `MUTANTS_DEMOS` (comma-separated) as the presenter would,
//! and fails when one of them ends FAIL naming a check: exit 1 with a `✗` line.
//! A PASS, an ERROR (2), a SKIP (77), a watchdog stop (124), a FAIL without a `✗`, a
//! death by signal or a hang all let it pass, so cargo-mutants counts the mutant as
//! missed: the claim's checks did not see the change.
//!
//! A mutant can also weaken a check (`a && b` → `a || b`): on a kernel that agrees, the
//! weaker check still passes, so no plain run can see it. Its breaks can: each demo is
//! also run with every `--break` it has (`--break list` names them; a harness without
//! named breaks has the one `--break`), and a break that no longer FAILs but PASSes
//! catches the mutant: the check that stood guard against that breakage was weakened.
//! `MUTANTS_BREAKS=0` turns this off.
//!
//! A check can also be shadowed: a break that removes the RST makes both "the peer
//! gets ECONNRESET" and "RST on the wire" fail, so a mutant that blinds the wire check
//! still leaves the break FAILing, on the errno check instead. So each break must FAIL
//! naming the same check as it does without a mutant: the unmutated run (cargo-mutants'
//! baseline, the first run of this test) records each break's failed check in the file
//! `MUTANTS_EXPECT` names, and every later run compares. A break that FAILs naming
//! another check catches the mutant: the check that stood guard first was weakened.
//! So does a break that FAILed unmutated and now ends otherwise (ERROR, SKIP, a stop)
//! while the plain run still PASSes: the demo no longer answers that breakage with a
//! FAIL, which `every_named_break_of_every_demo_fails_naming_a_check` requires.
//! Numbers in a check's words (a measured value, a bound) are not compared, and the
//! baseline runs each break twice: one that names two different checks is not compared.
//!
//! Each run's verdict is printed as `mutants-verdict: DEMO [--break NAME] STATUS` (run
//! with `--nocapture`), which xtask reads back from cargo-mutants' log of the mutant.
//!
//! Ignored in a plain `cargo test`: without a mutant it only reruns demos that the
//! `all_demos` tests already run.

#![forbid(unsafe_code)]

mod common;
use common::binary;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use contract::exit;

/// The harness's default limit is 5 s; past this the demo's own watchdog has failed.
const HANG: Duration = Duration::from_secs(15);

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
fn judge(name: &str, args: &[&str]) -> Verdict {
    run(name, args).0
}

/// [`judge`], and the run's standard output.
fn run(name: &str, args: &[&str]) -> (Verdict, String) {
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(binary(name))
        .args(args)
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
        return (Verdict::Hung, String::new());
    };
    let stdout = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let text = stdout.clone() + &String::from_utf8_lossy(&err.join().unwrap_or_default());
    println!(
        "--- {name} {} (exit {status})\n{}",
        args.join(" "),
        text.trim_end()
    );
    (classify(status.code(), status.signal(), &text), stdout)
}

/// The `--break` arguments of a demo: `--break NAME` for each name `--break list` prints,
/// or the one `--break` of a harness without named breaks.
fn breaks(name: &str) -> Vec<Vec<String>> {
    match run(name, &["--break", "list"]) {
        (Verdict::Pass, out) => out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(|b| vec!["--break".to_owned(), b.to_owned()])
            .collect(),
        _ => vec![vec!["--break".to_owned()]],
    }
}

/// A failed check's words without its numbers (`✗ took 43 ms` → `✗ took # ms`), which
/// may differ from run to run.
fn shape(check: &str) -> String {
    common::without_numbers(check, '#')
}

/// The expectations file: one line per break run, `DEMO --break NAME<TAB>CHECK`.
fn read_expected(path: &Path) -> Option<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

#[test]
#[ignore = "run by `cargo xtask mutants`, which names the demos in MUTANTS_DEMOS"]
fn a_mutant_is_caught_only_when_a_demo_fails_naming_a_check() {
    let names = std::env::var("MUTANTS_DEMOS").expect("MUTANTS_DEMOS=demo,demo,...");
    let with_breaks = std::env::var("MUTANTS_BREAKS").map_or(true, |v| v != "0");
    let expect_path = std::env::var_os("MUTANTS_EXPECT").map(PathBuf::from);
    // No file yet: this is the unmutated run, which records what each break names.
    let expected = expect_path.as_deref().and_then(read_expected);
    let mut record = String::new();
    let mut caught = Vec::new();
    for name in names.split(',').filter(|n| !n.is_empty()) {
        let verdict = judge(name, &[]);
        println!("mutants-verdict: {name} {}", verdict.label());
        if let Verdict::Fail(line) = verdict {
            caught.push(format!("{name}: {line}"));
            continue;
        }
        if !with_breaks {
            continue;
        }
        for args in breaks(name) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let verdict = judge(name, &args);
            let run = format!("{name} {}", args.join(" "));
            println!("mutants-verdict: {run} {}", verdict.label());
            match (&verdict, &expected) {
                (Verdict::Pass, _) => caught.push(format!("{run}: PASS, a check was weakened")),
                (Verdict::Fail(line), Some(expected)) => match expected.get(&run) {
                    Some(before) if before != "*" && *before != shape(line) => {
                        caught.push(format!(
                            "{run}: FAILs naming `{line}`, not `{before}` as unmutated: \
                         that check was weakened"
                        ))
                    }
                    _ => {}
                },
                // It FAILed unmutated, and the plain run still PASSes: the demo now
                // answers this breakage with an ERROR, a SKIP or a stop, which the
                // named-break contract forbids (`every_named_break_of_every_demo_...`).
                (other, Some(expected)) if expected.get(&run).is_some_and(|b| b != "*") => caught
                    .push(format!(
                        "{run}: {} where it FAILed unmutated",
                        other.label()
                    )),
                (Verdict::Fail(line), None) => {
                    // A break that FAILs naming one check now and another next time
                    // cannot tell a weakened check: recorded as `*`, never compared.
                    let again = match judge(name, &args) {
                        Verdict::Fail(l) if shape(&l) == shape(line) => shape(line),
                        _ => "*".to_owned(),
                    };
                    record.push_str(&format!("{run}\t{again}\n"));
                }
                _ => {}
            }
        }
    }
    if let (Some(path), None) = (&expect_path, &expected) {
        std::fs::write(path, &record)
            .unwrap_or_else(|e| panic!("recording the breaks' checks in {}: {e}", path.display()));
    }
    assert!(caught.is_empty(), "caught: {}", caught.join("; "));
}

#[test]
fn numbers_in_a_checks_words_do_not_count() {
    assert_eq!(
        shape("✗ the ACK came 43.8 ms late (at least 40 ms)"),
        "✗ the ACK came # ms late (at least # ms)"
    );
    assert_eq!(shape("✗ 5 of 5, v2"), "✗ # of #, v#");
    assert_ne!(
        shape("✗ the peer gets ECONNRESET"),
        shape("✗ RST on the wire")
    );
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
