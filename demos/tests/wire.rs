//! The wire demos (those whose captured transcripts hold packets) as the issue of the
//! wire asks: without CAP_NET_RAW each says in one line that the wire is not shown,
//! skips exactly its checks on the wire and passes on the others (exit 0); and each of
//! its checks on the wire FAILs under one of its named breaks.
//!
//! A check on the wire is one whose words start with "on the wire" (the demos' own
//! convention, see README "The wire"). Numbers in checks (times, ports, counts) differ
//! from run to run and are compared as `N`.

mod common;
use common::binary;

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// CAP_NET_RAW's number (linux/capability.h).
const CAP_NET_RAW: libc::c_ulong = 13;

fn demos_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The demos whose captured transcripts hold packets.
fn wire_demos() -> Vec<String> {
    let mut names = Vec::new();
    for d in contract::catalog::list(&demos_dir()).unwrap_or_else(|e| panic!("{e}")) {
        let path = demos_dir()
            .join("transcripts")
            .join(format!("{}.json", d.name));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let t: contract::Transcript = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        if !t.wire.is_empty() {
            names.push(d.name);
        }
    }
    assert!(names.len() >= 6, "the wire demos: {names:?}");
    names
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs a demo; `no_raw` takes CAP_NET_RAW from it (as root: out of the bounding set
/// before exec, so the exec'd demo never has it; otherwise it has none anyway).
fn run(name: &str, args: &[&str], no_raw: bool) -> Output {
    let mut cmd = Command::new(binary(name));
    cmd.args(args).env("NO_COLOR", "1");
    if no_raw && is_root() {
        // SAFETY: prctl(2) is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("running {name} {args:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The words of a check line (`✓ ...` or `✗ ...`), numbers as `N`.
fn words(line: &str) -> Option<String> {
    let rest = line
        .trim_start()
        .strip_prefix("✓ ")
        .or_else(|| line.trim_start().strip_prefix("✗ "))?;
    Some(common::without_numbers(rest, 'N'))
}

fn checks(output: &str) -> BTreeSet<String> {
    output.lines().filter_map(words).collect()
}

/// Whether the demo skips here with every capability it can have (its own reason).
fn skips_here(name: &str) -> bool {
    run(name, &[], false).status.code() == Some(contract::exit::SKIPPED)
}

fn on_the_wire(check: &str) -> bool {
    check.starts_with("on the wire")
}

#[test]
fn without_cap_net_raw_a_wire_demo_says_so_in_one_line_and_passes_on_its_other_checks() {
    let mut failures = Vec::new();
    for name in wire_demos() {
        let out = run(&name, &[], true);
        let said = text(&out);
        // A skip for what this machine lacks (root, tc) is the demo's own: it skips with
        // the capture too. Without CAP_NET_RAW alone it must not skip.
        if out.status.code() == Some(contract::exit::SKIPPED) && skips_here(&name) {
            eprintln!("{name}: skips on this machine");
            continue;
        }
        let lines = said
            .lines()
            .filter(|l| l.contains("the wire is not shown"))
            .count();
        let wire_lines = said.lines().filter(|l| l.contains("kernel (wire)")).count();
        let without = checks(&said);
        if out.status.code() != Some(contract::exit::PASSED)
            || lines != 1
            || wire_lines != 0
            || without.iter().any(|c| on_the_wire(c))
            || without.is_empty()
        {
            failures.push(format!(
                "{name} without CAP_NET_RAW: exit {:?}, {lines} line(s) saying the wire is \
                 not shown (1 wanted), {wire_lines} kernel (wire) line(s) (0 wanted):\n{said}",
                out.status.code()
            ));
            continue;
        }
        if !is_root() {
            continue; // no run with the capture to compare with
        }
        let with = run(&name, &[], false);
        let all = checks(&text(&with));
        let others: BTreeSet<String> = all.iter().filter(|c| !on_the_wire(c)).cloned().collect();
        if !all.iter().any(|c| on_the_wire(c)) || others != without {
            failures.push(format!(
                "{name}: with the capture it checks {all:?}; without CAP_NET_RAW it must check \
                 all but those on the wire, and checked {without:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_check_on_the_wire_fails_under_one_of_its_demos_breaks() {
    if !is_root() {
        eprintln!("skipped: capturing packets needs CAP_NET_RAW (root)");
        return;
    }
    let mut failures = Vec::new();
    for name in wire_demos() {
        let normal = run(&name, &[], false);
        if normal.status.code() == Some(contract::exit::SKIPPED) {
            eprintln!("{name}: skips on this machine");
            continue;
        }
        let wire_checks: BTreeSet<String> = checks(&text(&normal))
            .into_iter()
            .filter(|c| on_the_wire(c))
            .collect();
        let list = text(&run(&name, &["--break", "list"], false));
        let breaks: Vec<&str> = list
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let failed: BTreeSet<String> = std::thread::scope(|s| {
            let runs: Vec<_> = breaks
                .iter()
                .map(|b| s.spawn(|| text(&run(&name, &["--break", b], false))))
                .collect();
            runs.into_iter()
                .flat_map(|r| {
                    let said = r.join().expect("a run's thread");
                    said.lines()
                        .filter(|l| l.trim_start().starts_with("✗ "))
                        .filter_map(words)
                        .collect::<Vec<_>>()
                })
                .collect()
        });
        let never: Vec<&String> = wire_checks.difference(&failed).collect();
        if wire_checks.is_empty() || !never.is_empty() {
            failures.push(format!(
                "{name}: checks on the wire {wire_checks:?}; none of its breaks {breaks:?} \
                 failed {never:?} (they failed {failed:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Run live draws a ladder from the packets of the flow its captured connection had
/// (`data-flow`), as they stream: so each wire demo must number its flows the same way
/// run after run, and the packets it streams must be the ones it records. Each demo
/// runs with the stream and the record on; each recorded connection must have its
/// captured flow's number and the streamed packets of that flow, in order.
#[test]
fn each_wire_demo_streams_its_connections_under_their_captured_flow_numbers() {
    if !is_root() {
        eprintln!("skipped: capturing packets needs CAP_NET_RAW (root)");
        return;
    }
    let mut failures = Vec::new();
    for name in wire_demos() {
        let captured: contract::Transcript = serde_json::from_str(
            &std::fs::read_to_string(demos_dir().join("transcripts").join(format!("{name}.json")))
                .unwrap(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (wire, packets) = (dir.path().join("wire"), dir.path().join("packets"));
        let out = Command::new(binary(&name))
            .env("NO_COLOR", "1")
            .env(contract::WIRE_ENV, &wire)
            .env(contract::PACKETS_ENV, &packets)
            .output()
            .unwrap();
        if out.status.code() == Some(contract::exit::SKIPPED) {
            eprintln!("{name}: skips on this machine");
            continue;
        }
        assert!(out.status.success(), "{name}: {}", text(&out));
        let lines = |path: &Path| -> Vec<String> {
            std::fs::read_to_string(path)
                .unwrap_or_default()
                .lines()
                .map(str::to_owned)
                .collect()
        };
        let recorded: Vec<contract::wire::Connection> = lines(&wire)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let streamed: Vec<contract::wire::LivePacket> = lines(&packets)
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        for c in &captured.wire {
            let Some(flow) = c.flow else {
                failures.push(format!("{name}: the captured {:?} has no flow", c.name));
                continue;
            };
            let Some(live) = recorded.iter().find(|r| r.name == c.name) else {
                failures.push(format!("{name}: {:?} was not recorded", c.name));
                continue;
            };
            let of_flow: Vec<&contract::wire::Packet> = streamed
                .iter()
                .filter(|p| p.flow == flow)
                .map(|p| &p.packet)
                .collect();
            let same = live.flow == Some(flow)
                && of_flow.len() >= live.packets.len()
                && live.packets.iter().zip(&of_flow).all(|(a, b)| a == *b);
            if !same {
                failures.push(format!(
                    "{name}: {:?} is flow {flow} in its transcript; this run recorded it as \
                     flow {:?} with {} packets, and streamed {} packets of flow {flow}",
                    c.name,
                    live.flow,
                    live.packets.len(),
                    of_flow.len()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
