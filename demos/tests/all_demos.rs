//! Every demo, run as a test: all at once, twice in a row, as a presenter might.
//!
//! Each must pass its own assertion (or skip, where [`may_skip`] allows it), stay
//! within its time limit, and leave nothing behind: no process, no file in its
//! temporary directory, no network namespace, no network interface. Run with
//! `--break`, each must FAIL (exit 1) naming a check; stopped by its watchdog at once,
//! each must still leave nothing behind.

#![forbid(unsafe_code)]

mod common;
use common::binary;

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use contract::{Status, exit};

/// The harness's own limit is 5 s; allow for two cores shared by every demo at once.
const LIMIT: Duration = Duration::from_secs(5);
const MARGIN: Duration = Duration::from_secs(3);

/// The tests here look for leftover demo processes, so they must not overlap.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// This checkout's demos crate (cargo's run-time value: a test binary reused from
/// another checkout through a shared target dir has a stale compiled-in one).
fn demos_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// The demo catalogue, by the same rule `cargo xtask demo`, capture and the slides use.
fn catalog() -> Vec<contract::catalog::DemoInfo> {
    contract::catalog::list(&demos_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn demo_names() -> Vec<String> {
    catalog().into_iter().map(|d| d.name).collect()
}

fn listing(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Pids of running processes whose executable is one of ours.
fn our_processes(binaries: &[PathBuf]) -> Vec<(i32, PathBuf)> {
    let mut found = Vec::new();
    for entry in listing("/proc") {
        let Ok(pid) = entry.parse::<i32>() else {
            continue;
        };
        if let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe"))
            && binaries.contains(&exe)
        {
            found.push((pid, exe));
        }
    }
    found
}

struct Run {
    name: String,
    status: Status,
    code: Option<i32>,
    took: Duration,
    output: String,
}

/// How long the test waits for a demo whose own watchdog failed: then the demo's
/// process group is killed and the run counts as a failure, instead of hanging the test.
const HARD_STOP: Duration = Duration::from_secs(15);

fn read_all(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// Why a demo may skip on this machine, or None when a skip would be a surprise
/// (and so a failure). Every demo not listed must run everywhere.
fn may_skip(name: &str) -> Option<&'static str> {
    may_skip_as(name, nix_is_root())
}

/// [`may_skip`] for a run as root or not.
fn may_skip_as(name: &str, root: bool) -> Option<&'static str> {
    let has = |program: &str| Command::new(program).arg("-V").output().is_ok();
    match name {
        "accept-queue-overflow" | "slow-start-after-idle" if !root => {
            Some("needs root for a network namespace")
        }
        "connect-timeout" | "congested-path" | "udp-congested-link" if !root || !has("tc") => {
            Some("needs root for network namespaces, and iproute2's tc")
        }
        "icmp-echo" if !root => Some("ping_group_range may exclude an ordinary user"),
        "zombie-file" if !root => Some("without a private tmpfs the shared TMPDIR may be busy"),
        "etc-services" if !Path::new("/etc/services").exists() => Some("no /etc/services"),
        "stdio-socket" if !has("tr") => Some("no tr program"),
        "bind-addresses" if !Path::new("/proc/sys/net/ipv6").exists() => Some("no IPv6"),
        _ => None,
    }
}

fn nix_is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs every demo at once with `args` and `env`; waits for all.
fn run_all_at_once(names: &[String], tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> Vec<Run> {
    run_all_as(names, tmp, args, env, None)
}

/// [`run_all_at_once`], as user and group `uid` if given, running the copies of the
/// binaries in that user's directory.
fn run_all_as(
    names: &[String],
    tmp: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    user: Option<(u32, &Path)>,
) -> Vec<Run> {
    let jobs: Vec<(String, Vec<String>)> = names
        .iter()
        .map(|n| (n.clone(), args.iter().map(|a| a.to_string()).collect()))
        .collect();
    run_jobs(&jobs, tmp, env, user)
}

/// Runs each demo of `jobs` with its own arguments, all at once; waits for all.
fn run_jobs(
    jobs: &[(String, Vec<String>)],
    tmp: &Path,
    env: &[(&str, &str)],
    user: Option<(u32, &Path)>,
) -> Vec<Run> {
    let started: Vec<_> = jobs
        .iter()
        .map(|(name, args)| {
            let path = user.map_or_else(|| binary(name), |(_, dir)| dir.join(name));
            let mut command = Command::new(path);
            if let Some((id, _)) = user {
                // As root, std also drops the supplementary groups (setgroups(0)).
                command.uid(id).gid(id);
            }
            let child = command
                .args(args)
                .envs(env.iter().copied())
                .env("TMPDIR", tmp)
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                // A group of its own, so a hung demo can be stopped with all it forked.
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("starting demo {name}: {e}"));
            (name.clone(), Instant::now(), child)
        })
        .collect();
    let waiters: Vec<_> = started
        .into_iter()
        .map(|(name, t0, mut child)| {
            std::thread::spawn(move || {
                let out = read_all(child.stdout.take().expect("piped stdout"));
                let err = read_all(child.stderr.take().expect("piped stderr"));
                let mut hung = false;
                let status = loop {
                    match child.try_wait().expect("waiting for a demo") {
                        Some(status) => break status,
                        None if t0.elapsed() > HARD_STOP => {
                            hung = true;
                            // Our own child leads its process group (`process_group(0)`).
                            let group = nix::unistd::Pid::from_raw(child.id() as i32);
                            let _ =
                                nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                        }
                        None => std::thread::sleep(Duration::from_millis(10)),
                    }
                };
                let code = if hung { None } else { status.code() };
                let text = |h: std::thread::JoinHandle<Vec<u8>>| {
                    String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()
                };
                Run {
                    status: code.map(Status::from_exit_code).unwrap_or(Status::Error),
                    code,
                    took: t0.elapsed(),
                    output: format!("{}{}", text(out), text(err)),
                    name,
                }
            })
        })
        .collect();
    waiters
        .into_iter()
        .map(|w| w.join().expect("waiter thread"))
        .collect()
}

/// What the demos must leave as they found it.
struct Machine {
    netns: BTreeSet<String>,
    links: BTreeSet<String>,
}

impl Machine {
    fn now() -> Machine {
        Machine {
            netns: listing("/run/netns"),
            links: listing("/sys/class/net"),
        }
    }
}

/// Everything the demos left behind: processes, files in TMPDIR, namespaces, links.
fn leftovers(binaries: &[PathBuf], tmp: &Path, before: &Machine) -> Vec<String> {
    let mut found = Vec::new();
    let procs = our_processes(binaries);
    if !procs.is_empty() {
        found.push(format!("processes left behind: {procs:?}"));
    }
    let files = listing(tmp.to_str().expect("utf-8 temp path"));
    if !files.is_empty() {
        // What is inside says which demo left it.
        let inside: Vec<String> = files
            .iter()
            .map(|f| format!("{f}: {:?}", listing(&tmp.join(f).to_string_lossy())))
            .collect();
        found.push(format!("files left in TMPDIR: {}", inside.join("; ")));
    }
    let now = Machine::now();
    if now.netns != before.netns {
        found.push(format!(
            "network namespaces changed: {:?} -> {:?}",
            before.netns, now.netns
        ));
    }
    if now.links != before.links {
        found.push(format!(
            "network interfaces changed: {:?} -> {:?}",
            before.links, now.links
        ));
    }
    found
}

fn built_binaries(names: &[String]) -> Vec<PathBuf> {
    let binaries: Vec<PathBuf> = names.iter().map(|n| binary(n)).collect();
    for b in &binaries {
        assert!(b.exists(), "{} was not built", b.display());
    }
    binaries
}

/// The named breaks a demo lists with `--break list` (first the main one).
fn named_breaks(name: &str) -> Vec<String> {
    let out = Command::new(binary(name))
        .args(["--break", "list"])
        .output()
        .unwrap_or_else(|e| panic!("{name} --break list: {e}"));
    assert!(out.status.success(), "{name} --break list failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// A break that needs what this machine may lack: it may skip, as its demo may.
fn break_may_skip(demo: &str, brk: &str) -> bool {
    may_skip(demo).is_some()
        || (!nix_is_root()
            && matches!(
                (demo, brk),
                ("peer-credentials", "client-keeps-root")
                    | ("peer-credentials", "client-keeps-gid")
                    | ("icmp-echo", "child-keeps-root")
                    | ("pass-descriptor", "child-keeps-root")
                    | ("abstract-lock", "second-in-netns")
                    | ("no-message-boundaries", "big-buffers")
                    | ("send-deadlock", "forced-sndbuf")
                    | ("connect-refused", "retry")
                    | ("bind-addresses", "no-extra")
            ))
}

/// Checks one run under a break: it must FAIL, say which break it applied, and name
/// the check that failed.
fn judge_break(run: &Run, brk: &str, failures: &mut Vec<String>) {
    eprintln!(
        "--break {:<20} {:<24} {:<8} {:>6.2} s",
        brk,
        run.name,
        run.status.to_string(),
        run.took.as_secs_f64()
    );
    match run.status {
        Status::Failed => {
            let said_what = run.output.contains(&format!("--break {brk}: "));
            let named = run.output.lines().any(|l| l.trim_start().starts_with("✗ "))
                && run.output.contains("FAIL: ");
            if !said_what || !named {
                failures.push(format!(
                    "{} failed under --break {brk} but did not say what it changed \
                     ({said_what}) or which check failed ({named}):\n{}",
                    run.name, run.output
                ));
            }
        }
        Status::Skipped if break_may_skip(&run.name, brk) => {}
        _ => failures.push(format!(
            "{} ended {} (exit {:?}) under --break {brk}; it must FAIL (exit 1):\n{}",
            run.name, run.status, run.code, run.output
        )),
    }
}

#[test]
fn every_named_break_of_every_demo_fails_naming_a_check() {
    let _guard = exclusive();
    let names = demo_names();
    let binaries = built_binaries(&names);
    let breaks: Vec<(String, Vec<String>)> =
        names.iter().map(|n| (n.clone(), named_breaks(n))).collect();
    let mut failures = Vec::new();
    for (name, list) in &breaks {
        if list.is_empty() {
            failures.push(format!("{name} lists no named break (--break list)"));
        }
    }
    let before = Machine::now();
    let tmp = tempfile::tempdir().expect("a temporary directory for the demos");
    // Round 0: plain `--break` (each demo's first, main break); then round k: the
    // k-th named break of every demo that has one, all demos of a round at once.
    let rounds = breaks.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    for round in 0..=rounds {
        let jobs: Vec<(String, Vec<String>, String)> = breaks
            .iter()
            .filter_map(|(name, list)| match round {
                0 => Some((name.clone(), vec!["--break".into()], list.first()?.clone())),
                k => {
                    let brk = list.get(k - 1)?.clone();
                    Some((name.clone(), vec!["--break".into(), brk.clone()], brk))
                }
            })
            .collect();
        let runs = run_jobs(
            &jobs
                .iter()
                .map(|(n, a, _)| (n.clone(), a.clone()))
                .collect::<Vec<_>>(),
            tmp.path(),
            &[],
            None,
        );
        for (run, (_, _, brk)) in runs.iter().zip(&jobs) {
            judge_break(run, brk, &mut failures);
        }
        failures.extend(leftovers(&binaries, tmp.path(), &before));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Copies of the demos in a directory `nobody` can reach: the checkout may sit below
/// a directory only root may enter (a clone in /root).
fn binaries_nobody_can_run(binaries: &[PathBuf]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a directory for copies of the demos");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod 0755 the copies' directory");
    for b in binaries {
        let name = b.file_name().expect("a binary has a file name");
        std::fs::copy(b, dir.path().join(name))
            .unwrap_or_else(|e| panic!("copying {}: {e}", b.display()));
    }
    dir
}

/// `nobody`, the ordinary user the demos themselves drop to.
const NOBODY: u32 = 65534;

#[test]
fn as_an_ordinary_user_every_demo_passes_or_skips_and_fails_with_break() {
    let _guard = exclusive();
    if !nix_is_root() {
        eprintln!("not root: this run already is an ordinary user's");
        return;
    }
    let names = demo_names();
    let binaries = built_binaries(&names);
    let before = Machine::now();
    let tmp = tempfile::tempdir().expect("a temporary directory for the demos");
    std::os::unix::fs::chown(tmp.path(), Some(NOBODY), Some(NOBODY)).expect("chown TMPDIR");
    let bin = binaries_nobody_can_run(&binaries);
    let mut failures = Vec::new();
    for (args, want) in [
        (&[][..], Status::Passed),
        (&["--break"][..], Status::Failed),
    ] {
        for run in run_all_as(&names, tmp.path(), args, &[], Some((NOBODY, bin.path()))) {
            let allowed = run.status == want
                || (run.status == Status::Skipped && may_skip_as(&run.name, false).is_some());
            if !allowed {
                failures.push(format!(
                    "as nobody, {} {args:?} ended {} (exit {:?}):\n{}",
                    run.name, run.status, run.code, run.output
                ));
            }
        }
        failures.extend(leftovers(&binaries, tmp.path(), &before));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_demo_stopped_by_its_watchdog_leaves_nothing_behind() {
    let _guard = exclusive();
    let names = demo_names();
    let binaries = built_binaries(&names);
    let before = Machine::now();
    let tmp = tempfile::tempdir().expect("a temporary directory for the demos");
    let mut stopped = 0;
    let mut failures = Vec::new();
    // Two limits: one that stops most demos during their set-up, one in mid-run.
    for limit in ["0.02", "0.15"] {
        for run in run_all_at_once(&names, tmp.path(), &[], &[("DEMO_LIMIT_SECS", limit)]) {
            if run.code == Some(exit::TIMED_OUT) {
                stopped += 1;
            } else if run.code.is_none() {
                failures.push(format!(
                    "{} hung past its watchdog:\n{}",
                    run.name, run.output
                ));
            }
        }
        failures.extend(
            leftovers(&binaries, tmp.path(), &before)
                .into_iter()
                .map(|l| format!("DEMO_LIMIT_SECS={limit}: {l}")),
        );
    }
    eprintln!("watchdog: {stopped} runs stopped early");
    assert!(stopped > 0, "no demo was stopped by a tiny DEMO_LIMIT_SECS");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_demo_passes_together_twice_and_leaves_nothing_behind() {
    let _guard = exclusive();
    let names = demo_names();
    assert!(!names.is_empty(), "no demos found");
    let binaries = built_binaries(&names);
    let before = Machine::now();
    let tmp = tempfile::tempdir().expect("a temporary directory for the demos");

    let mut failures = Vec::new();
    let (mut passed, mut skipped) = (0, 0);
    for round in 1..=2 {
        for run in run_all_at_once(&names, tmp.path(), &[], &[]) {
            let verdict = match run.status {
                Status::Passed => {
                    passed += 1;
                    "passed"
                }
                Status::Skipped if may_skip(&run.name).is_some() => {
                    skipped += 1;
                    "skipped"
                }
                _ => {
                    failures.push(format!(
                        "round {round}: {} ended {} (exit {:?}) after {:?}:\n{}",
                        run.name, run.status, run.code, run.took, run.output
                    ));
                    "FAILED"
                }
            };
            if run.took > LIMIT + MARGIN {
                failures.push(format!(
                    "round {round}: {} took {:?}, over its limit",
                    run.name, run.took
                ));
            }
            let lines = run.output.lines().count();
            if lines > 25 {
                failures.push(format!(
                    "round {round}: {} printed {lines} lines; a slide holds about 20",
                    run.name
                ));
            }
            eprintln!(
                "round {round}: {:<28} {verdict:<8} {:>6.2} s",
                run.name,
                run.took.as_secs_f64()
            );
        }
        failures.extend(
            leftovers(&binaries, tmp.path(), &before)
                .into_iter()
                .map(|l| format!("round {round}: {l}")),
        );
    }
    eprintln!(
        "demos: {passed} passed, {} failed, {skipped} skipped",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_demo_states_a_claim_and_answers_help() {
    let _guard = exclusive();
    for demo in catalog() {
        let name = demo.name;
        // The catalogue refuses a demo without a claim; a claim is a sentence.
        assert!(
            demo.claim.len() > 20,
            "{name}: the claim (first `//!` line) is too short: {:?}",
            demo.claim
        );
        let out = Command::new(binary(&name)).arg("--help").output().unwrap();
        assert_eq!(out.status.code(), Some(exit::PASSED), "{name} --help");
        let bad = Command::new(binary(&name))
            .arg("--no-such-flag")
            .output()
            .unwrap();
        assert_eq!(
            bad.status.code(),
            Some(exit::ERROR),
            "{name} rejects unknown flags"
        );
    }
}

/// Checks, the verdict and `d.key` evidence are what a slide shows before "show all";
/// more than eight of them do not fit.
#[test]
fn every_transcript_has_at_most_eight_focus_lines() {
    let dir = contract::catalog::transcripts_dir(&demos_dir());
    let mut crowded = Vec::new();
    for name in demo_names() {
        let path = dir.join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{name} has no transcript ({e}): cargo xtask capture {name}")
        });
        let t: contract::Transcript =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let output: String = t.chunks.iter().map(|c| c.text.as_str()).collect();
        let focus = output
            .lines()
            .filter(|l| l.starts_with(contract::ansi::FOCUS_MARK))
            .count();
        if !(1..=8).contains(&focus) {
            crowded.push(format!("{name}: {focus} focus lines"));
        }
    }
    assert!(
        crowded.is_empty(),
        "recapture or trim d.key lines: {crowded:?}"
    );
}

/// The text of a line as a terminal shows it: no colour, no focus mark.
fn plain(line: &str) -> String {
    contract::ansi::plain(line)
}

/// Why a transcript line that speaks for the kernel is not allowed to, if it is not.
fn unnamed_kernel_line(line: &str) -> Option<String> {
    let text = plain(line);
    let text = text.trim_start();
    if !text.starts_with("kernel") {
        return None;
    }
    let named = text
        .strip_prefix("kernel (")
        .and_then(|rest| rest.split_once("): "))
        .is_some_and(|(source, _)| !source.trim().is_empty());
    (!named).then(|| format!("{text:?} does not name its source as `kernel (SOURCE): `"))
}

#[test]
fn a_kernel_line_without_a_source_is_refused() {
    assert!(unnamed_kernel_line("  kernel: FIONREAD = 12").is_some());
    assert!(unnamed_kernel_line("\u{1b}[2m  kernel:\u{1b}[0m recv(5) = 5").is_some());
    assert!(unnamed_kernel_line("  kernel (): 5").is_some());
    assert!(unnamed_kernel_line("  kernel (recv) 5").is_some());
    assert!(
        unnamed_kernel_line("\u{1b}]99;f\u{7}\u{1b}[2m  kernel (ioctl(SIOCINQ)):\u{1b}[0m 12")
            .is_none()
    );
    assert!(unnamed_kernel_line("  so: 3 of 4 lost").is_none());
}

/// Every line of every committed transcript that speaks for the kernel names where the
/// kernel said it (`kernel (TCP_INFO): ...`); the harness prints such a line only for
/// an `Observed` value, which only its own wrappers make.
#[test]
fn every_kernel_line_in_every_transcript_names_its_source() {
    let dir = contract::catalog::transcripts_dir(&demos_dir());
    // The captured runs, and the same demos on every other kernel (`cargo xtask kernels`).
    let mut dirs = vec![dir.clone()];
    if let Ok(series) = std::fs::read_dir(dir.join("kernels")) {
        let mut series: Vec<_> = series.flatten().map(|e| e.path()).collect();
        series.sort();
        dirs.extend(series.into_iter().filter(|p| p.is_dir()));
    }
    assert!(
        dirs.len() > 1,
        "no kernel runs under {}",
        dir.join("kernels").display()
    );
    let mut unnamed = Vec::new();
    for dir in &dirs {
        for name in demo_names() {
            let path = dir.join(format!("{name}.json"));
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{name} has no transcript in {} ({e})", dir.display()));
            let t: contract::Transcript =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let output: String = t.chunks.iter().map(|c| c.text.as_str()).collect();
            for line in output.lines() {
                if let Some(why) = unnamed_kernel_line(line) {
                    unnamed.push(format!("{}: {why}", path.display()));
                }
            }
        }
    }
    assert!(
        unnamed.is_empty(),
        "kernel lines without a source (recapture with cargo xtask capture NAME):\n{}",
        unnamed.join("\n")
    );
}

/// `/proc/loadavg`'s first three fields.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// A number from the environment, or `default`.
fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Threads that keep `n` CPUs busy until dropped: the load of a parallel build, without
/// its disk and memory (the demos share the machine's cores with it, which is what
/// makes a timing bound flaky).
struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(n: usize) -> Load {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The flake run of issue 21 (`cargo xtask flakes`): each demo `FLAKES_RUNS` times
/// (20) in a row while `FLAKES_LOAD` threads (one per CPU) keep every core busy; then
/// all demos at once, `FLAKES_ROUNDS` rounds (5) as root and as many as nobody, each
/// round leaving nothing behind. A run passes, or skips where [`may_skip`] allows it.
/// `FLAKES_DEMOS` (comma-separated) limits the first part to some demos; the report,
/// with load averages, goes to stderr and to `FLAKES_REPORT` if set.
#[test]
#[ignore = "slow (about half an hour): run by `cargo xtask flakes`"]
fn flakes_each_demo_passes_every_run_under_load_and_all_together_as_root_and_nobody() {
    let _guard = exclusive();
    let names = demo_names();
    let binaries = built_binaries(&names);
    let runs = env_count("FLAKES_RUNS", 20);
    let rounds = env_count("FLAKES_ROUNDS", 5);
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    let hogs = env_count("FLAKES_LOAD", cpus);
    let selected: Vec<String> = match std::env::var("FLAKES_DEMOS") {
        Ok(list) if !list.trim().is_empty() => {
            list.split(',').map(|s| s.trim().to_owned()).collect()
        }
        _ => names.clone(),
    };
    let before = Machine::now();
    let tmp = tempfile::tempdir().expect("a temporary directory for the demos");
    let mut report = String::new();
    let mut failures = Vec::new();
    let say = |line: String, report: &mut String| {
        eprintln!("{line}");
        report.push_str(&line);
        report.push('\n');
    };

    say(
        format!(
            "## Each demo {runs} times in a row, {hogs} busy threads on {cpus} CPUs (load average at start {})\n\n\
             | demo | passed | skipped | failed | slowest | load average before → after |\n| --- | --: | --: | --: | --: | --- |",
            loadavg()
        ),
        &mut report,
    );
    {
        let _load = Load::start(hogs);
        for name in &selected {
            let load_before = loadavg();
            let (mut passed, mut skipped, mut failed, mut slowest) = (0, 0, 0, Duration::ZERO);
            for i in 1..=runs {
                let run = run_jobs(&[(name.clone(), vec![])], tmp.path(), &[], None)
                    .pop()
                    .expect("one run");
                slowest = slowest.max(run.took);
                match run.status {
                    Status::Passed => passed += 1,
                    Status::Skipped if may_skip(name).is_some() => skipped += 1,
                    _ => {
                        failed += 1;
                        failures.push(format!(
                            "{name} run {i}/{runs} under load ended {} (exit {:?}) after {:?}:\n{}",
                            run.status, run.code, run.took, run.output
                        ));
                    }
                }
            }
            failures.extend(
                leftovers(&binaries, tmp.path(), &before)
                    .into_iter()
                    .map(|l| format!("{name} under load: {l}")),
            );
            say(
                format!(
                    "| {name} | {passed} | {skipped} | {failed} | {:.2} s | {load_before} → {} |",
                    slowest.as_secs_f64(),
                    loadavg()
                ),
                &mut report,
            );
        }
    }

    std::os::unix::fs::chown(tmp.path(), Some(NOBODY), Some(NOBODY)).ok();
    let bin = binaries_nobody_can_run(&binaries);
    let users: Vec<(&str, Option<(u32, &Path)>)> = if nix_is_root() {
        vec![("root", None), ("nobody", Some((NOBODY, bin.path())))]
    } else {
        vec![("this user", None)]
    };
    for (who, user) in users {
        say(
            format!(
                "\n## All {} demos at once as {who}, {rounds} rounds\n\n| round | passed | skipped | failed | slowest | load average after |\n| --: | --: | --: | --: | --: | --- |",
                names.len()
            ),
            &mut report,
        );
        let root = user.is_none() && nix_is_root();
        for round in 1..=rounds {
            let (mut passed, mut skipped, mut failed, mut slowest) =
                (0, 0, 0, ("", Duration::ZERO));
            let results = run_all_as(&names, tmp.path(), &[], &[], user);
            for run in &results {
                if run.took > slowest.1 {
                    slowest = (run.name.as_str(), run.took);
                }
                match run.status {
                    Status::Passed => passed += 1,
                    Status::Skipped if may_skip_as(&run.name, root).is_some() => skipped += 1,
                    _ => {
                        failed += 1;
                        failures.push(format!(
                            "as {who}, round {round}: {} ended {} (exit {:?}) after {:?}:\n{}",
                            run.name, run.status, run.code, run.took, run.output
                        ));
                    }
                }
            }
            failures.extend(
                leftovers(&binaries, tmp.path(), &before)
                    .into_iter()
                    .map(|l| format!("as {who}, round {round}: {l}")),
            );
            say(
                format!(
                    "| {round} | {passed} | {skipped} | {failed} | {} {:.2} s | {} |",
                    slowest.0,
                    slowest.1.as_secs_f64(),
                    loadavg()
                ),
                &mut report,
            );
        }
    }
    if let Some(path) = std::env::var_os("FLAKES_REPORT") {
        let mut text = report.clone();
        for f in &failures {
            text.push_str(&format!("\n### failure\n\n```\n{f}\n```\n"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {path:?}: {e}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
