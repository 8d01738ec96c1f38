//! The harness every demo shares: how a demo tells its story, how it says the kernel
//! agreed or not, how it skips, and how it never hangs or leaves anything behind.
//!
//! A demo is a file in `src/bin/`. Its first `//!` line is the claim (what
//! `cargo xtask demo` lists), and its `main` is one call to [`run`] with the demo's
//! named breaks:
//!
//! ```no_run
//! //! Reading a socket with MSG_PEEK does not consume the bytes.
//! use demos::{Break, brk};
//! const BREAKS: &[Break] = &[brk("plain-recv", "the peek is a plain recv")];
//! fn main() {
//!     demos::run(BREAKS, |d| {
//!         d.expect("a later recv returns the peeked bytes again");
//!         let flags = if d.breaks("plain-recv") { 0 } else { libc::MSG_PEEK };
//!         let (a, b) = std::os::unix::net::UnixStream::pair()?;
//!         std::io::Write::write_all(&mut &a, b"hello")?;
//!         let mut buf = [0u8; 5];
//!         let peeked = d.syscall("recv(MSG_PEEK)", || {
//!             nix::sys::socket::recv(std::os::fd::AsRawFd::as_raw_fd(&b), &mut buf,
//!                 nix::sys::socket::MsgFlags::from_bits_truncate(flags))
//!         });
//!         d.key(&peeked); // prints `kernel (recv(MSG_PEEK)): 5`
//!         let left = demos::fd::unread(&b)?;
//!         d.check(*left.value() == 5, "peeking left all 5 bytes waiting")?;
//!         Ok(())
//!     })
//! }
//! ```
//!
//! Exit statuses follow [`contract::exit`]: 0 the kernel agreed, 1 it did not,
//! 2 the experiment itself failed, 77 skipped, 124 the watchdog stopped the demo.
//!
//! **Evidence names its source.** What the kernel answered is an [`Observed`] value,
//! which only the harness makes ([`Demo::syscall`], [`evidence::call`], the `fd`,
//! `kstat`, `inet`, `net::tcp_info` and `link` readers); `d.saw`/`d.key` print only
//! such values, as `kernel (SOURCE): VALUE`. What the demo computed (arithmetic, its
//! own clock) is `so:` ([`Demo::derived`]); what a library or a file said names it
//! ([`Demo::said_by`]). A call whose answer is the evidence is observed and checked:
//! its errno fails a check ([`Demo::require`]); a call that blocks past the demo's
//! limit ends it as FAIL naming the call. ERROR is left for set-up, and names the step.
//!
//! **Named breaks.** `--break NAME` removes or inverts one part of the mechanism (the
//! demo asks `d.breaks(NAME)`), `--break` alone the first, `--break list` lists them;
//! the demo must then FAIL (exit 1), naming the check that failed.
//!
//! Lines the claim rests on (every check, the verdict, and evidence printed with
//! [`Demo::key`]) start with [`FOCUS`] when the output is coloured, so a slide can
//! show only them.

// The example above is a whole demo file, `fn main` included, on purpose.
#![allow(clippy::needless_doctest_main)]

pub mod evidence;
pub mod fd;
pub mod inet;
pub mod kstat;
pub mod link;
pub mod net;
pub mod netns;
pub mod peer;
pub mod privilege;
pub mod scm;
pub mod wire;

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use contract::exit;
pub use evidence::{Bytes, Counted, Evidence, Observed, Tally};

/// The result type of a demo body and its helpers.
pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

/// How long a single blocking call may wait unless the demo says otherwise.
pub const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// The whole demo's hard limit unless `DEMO_LIMIT_SECS` says otherwise.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(5);

/// Starts a focus line: an OSC sequence that terminals ignore and the transcript
/// reader turns into a `focus` flag (the lines a slide shows before "show all").
/// Defined once, where the transcript's parser recognises it.
pub const FOCUS: &str = contract::ansi::FOCUS_MARK;

/// The kernel disagreed with the claim. Returned (as an error) by [`Demo::check`].
#[derive(Debug)]
pub struct Disagreed(pub String);

impl Display for Disagreed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the kernel disagreed: {}", self.0)
    }
}
impl std::error::Error for Disagreed {}

/// The machine lacks what the demo needs. Returned (as an error) by [`Demo::skip`].
#[derive(Debug)]
pub struct Skipped(pub String);

impl Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "skipped: {}", self.0)
    }
}
impl std::error::Error for Skipped {}

/// The narrator and referee of one demo run.
pub struct Demo {
    verbose: bool,
    colour: bool,
    /// The named break in effect (`--break NAME`; plain `--break` is the first).
    selected: Option<&'static str>,
    /// The breaks this demo declares, first the main one.
    declared: &'static [Break],
    /// Whether the selected break was applied (the demo asked about it).
    applied: bool,
    /// Names the demo asked about that it never declared (a bug of the demo).
    undeclared: Vec<String>,
    start: Instant,
    checks: u32,
    /// How many `kernel (SOURCE):` lines this process printed: a run with none and
    /// only a file's or a library's answers (`said_by`; etc-services) does not say "the
    /// kernel agrees".
    kernel_lines: std::sync::atomic::AtomicU32,
    /// How many `said_by` lines (a file's or a library's answers) it printed.
    said_lines: std::sync::atomic::AtomicU32,
}

/// One way to break a demo's mechanism: `--break NAME` makes the demo remove or invert
/// that part, and the demo must then FAIL naming a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Break {
    /// Short, lowercase, with dashes: what `--break NAME` names.
    pub name: &'static str,
    /// What it changes, in one line (printed as `--break NAME: WHAT`).
    pub what: &'static str,
}

/// A [`Break`], for a demo's `const BREAKS: &[Break] = &[brk(..), ..]`.
pub const fn brk(name: &'static str, what: &'static str) -> Break {
    Break { name, what }
}

/// Which break the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
enum BreakArg {
    #[default]
    None,
    /// Plain `--break`: the demo's first (main) break.
    Main,
    Named(String),
    /// `--break list`: print the names and exit.
    List,
}

/// The command line every demo understands.
#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    verbose: bool,
    brk: BreakArg,
    help: bool,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-v" | "--verbose" => parsed.verbose = true,
            "--break" => {
                parsed.brk = match args.next_if(|next| !next.starts_with('-')) {
                    None => BreakArg::Main,
                    Some(name) if name == "list" => BreakArg::List,
                    Some(name) => BreakArg::Named(name),
                }
            }
            "-h" | "--help" => parsed.help = true,
            other => match other.strip_prefix("--break=") {
                Some("list") => parsed.brk = BreakArg::List,
                Some(name) => parsed.brk = BreakArg::Named(name.into()),
                None => return Err(format!("unknown argument {other:?} (try --help)")),
            },
        }
    }
    Ok(parsed)
}

/// What the demo was doing last (its last `d.step`), for the watchdog and ERROR lines.
static CURRENT_STEP: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn current_step() -> String {
    CURRENT_STEP
        .lock()
        .map(|s| s.clone())
        .unwrap_or_else(|e| e.into_inner().clone())
}

/// Whether output is coloured, for the watchdog thread.
static COLOUR: OnceLock<bool> = OnceLock::new();

/// Runs a demo body and exits with the status its outcome calls for.
///
/// Parses the common flags (`--verbose`, `--break`, `--help`), starts the watchdog, and
/// turns the body's result into the exit status: `Ok` passes; a [`Disagreed`] fails; a
/// [`Skipped`] skips; any other error is an error of the experiment itself.
pub fn run(breaks: &'static [Break], body: impl FnOnce(&mut Demo) -> Result<()>) -> ! {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("{}: {why}", program_name());
            std::process::exit(exit::ERROR);
        }
    };
    if args.help {
        println!(
            "usage: {} [--verbose] [--break [NAME|list]]\n  --verbose     more detail\n  \
             --break NAME  remove or invert one part of the mechanism the claim rests on;\n                \
             the demo must then FAIL (plain --break: the first; list: all of them)",
            program_name()
        );
        std::process::exit(exit::PASSED);
    }
    let selected = match &args.brk {
        BreakArg::None => None,
        BreakArg::List => {
            for b in breaks {
                println!("{:<22} {}", b.name, b.what);
            }
            std::process::exit(exit::PASSED);
        }
        BreakArg::Main => match breaks.first() {
            Some(b) => Some(b.name),
            None => {
                eprintln!("{}: this demo declares no breaks", program_name());
                std::process::exit(exit::ERROR);
            }
        },
        BreakArg::Named(name) => match breaks.iter().find(|b| b.name == name) {
            Some(b) => Some(b.name),
            None => {
                let names: Vec<&str> = breaks.iter().map(|b| b.name).collect();
                eprintln!(
                    "{}: no break named {name:?}; this demo has: {}",
                    program_name(),
                    names.join(", ")
                );
                std::process::exit(exit::ERROR);
            }
        },
    };
    start_watchdog(limit_from(std::env::var("DEMO_LIMIT_SECS").ok().as_deref()));

    let colour = colour_wanted(
        std::env::var_os("NO_COLOR").is_some(),
        std::env::var_os("CLICOLOR_FORCE").is_some(),
        std::io::stdout().is_terminal(),
    );
    let _ = COLOUR.set(colour);
    let mut demo = Demo::new(args.verbose, colour, breaks, selected);
    let result = body(&mut demo);
    let result = settle(result, &demo);
    let code = demo.verdict(result);
    let _ = std::io::stdout().flush();
    peer::reap_all();
    cleanup::close();
    std::process::exit(code)
}

/// The watchdog's limit: `DEMO_LIMIT_SECS` when it is a positive number of seconds;
/// otherwise (unset, zero, negative, NaN, absurd) the default, rather than a panic.
fn limit_from(secs: Option<&str>) -> Duration {
    secs.and_then(|s| s.parse::<f64>().ok())
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_LIMIT)
}

/// Whether to write colour (and focus markers): never with `NO_COLOR`; otherwise when
/// `CLICOLOR_FORCE` asks for it (capture, Run live) or stdout is a terminal.
fn colour_wanted(no_color: bool, force: bool, terminal: bool) -> bool {
    !no_color && (force || terminal)
}

/// The body's result, unless the demo misused its breaks: it asked about one it does
/// not declare, or a PASS under `--break NAME` never applied that break (it tested
/// nothing). Both are errors of the demo.
fn settle(result: Result<()>, demo: &Demo) -> Result<()> {
    if !demo.undeclared.is_empty() {
        return Err(anyhow::anyhow!(
            "the demo asked about breaks it does not declare: {}",
            demo.undeclared.join(", ")
        ));
    }
    if let Some(name) = demo.selected
        && !demo.applied
        && result.is_ok()
    {
        return Err(anyhow::anyhow!(
            "--break {name} was never applied (the demo never asked d.breaks({name:?}))"
        ));
    }
    result
}

/// Appends `m` to the metrics file capture reads, as one JSON line.
fn append_metric(path: &Path, m: &contract::Metric) -> std::io::Result<()> {
    let mut line = serde_json::to_string(m)?;
    line.push('\n');
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?
        .write_all(line.as_bytes())
}

fn program_name() -> String {
    std::env::args()
        .next()
        .and_then(|p| p.rsplit('/').next().map(str::to_owned))
        .unwrap_or_else(|| "demo".into())
}

/// Ends the process, and every peer it forked, once the hard limit has passed.
fn start_watchdog(limit: Duration) {
    static STARTED: OnceLock<()> = OnceLock::new();
    if STARTED.set(()).is_err() {
        return;
    }
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            std::thread::sleep(limit);
            let step = current_step();
            let code = if let Some(call) = evidence::blocked_in() {
                // Blocking in a call whose answer is the evidence is the kernel's
                // answer too: the check that call stood for fails, by name.
                let colour = COLOUR.get().copied().unwrap_or(false);
                let (focus, mark, verdict) = if colour {
                    (FOCUS, "\x1b[31m✗\x1b[0m", "\x1b[1;31mFAIL\x1b[0m")
                } else {
                    ("", "✗", "FAIL")
                };
                let what = format!(
                    "{call} returned within the demo's limit of {:.1} s (step: {step})",
                    limit.as_secs_f64()
                );
                {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{focus}  {mark} {what}");
                    let _ = out.flush();
                }
                eprintln!("{focus}{verdict}: the kernel did not do what the slide says: {what}");
                exit::FAILED
            } else {
                eprintln!(
                    "TIMEOUT: the demo ran past its limit of {:.1} s and was stopped (step: {step})",
                    limit.as_secs_f64()
                );
                exit::TIMED_OUT
            };
            // Reaped, not only killed: a peer still alive could make a file in a
            // directory being removed.
            peer::reap_all();
            cleanup::close();
            std::process::exit(code);
        })
        .expect("spawning the watchdog thread");
}

impl Demo {
    /// A demo at its start: no check made, no break applied yet.
    fn new(
        verbose: bool,
        colour: bool,
        declared: &'static [Break],
        selected: Option<&'static str>,
    ) -> Demo {
        Demo {
            verbose,
            colour,
            selected,
            declared,
            applied: false,
            undeclared: Vec::new(),
            start: Instant::now(),
            checks: 0,
            kernel_lines: std::sync::atomic::AtomicU32::new(0),
            said_lines: std::sync::atomic::AtomicU32::new(0),
        }
    }

    /// Prints the verdict line (a focus line) and returns the exit status for it.
    fn verdict(&self, result: Result<()>) -> i32 {
        let elapsed = self.start.elapsed().as_secs_f64();
        let focus = self.focus();
        match result {
            Ok(()) => {
                let verdict = self.paint("1;32", "PASS");
                self.line(format_args!(
                    "{focus}{verdict}: {} ({} checks, {elapsed:.2} s)",
                    self.who_agrees(),
                    self.checks
                ));
                exit::PASSED
            }
            Err(e) => {
                let _ = std::io::stdout().flush();
                if let Some(Skipped(why)) = e.downcast_ref() {
                    let verdict = self.paint("1;33", "SKIP");
                    eprintln!("{focus}{verdict}: {why}");
                    exit::SKIPPED
                } else if let Some(Disagreed(what)) = e.downcast_ref() {
                    let verdict = self.paint("1;31", "FAIL");
                    let who = if self.only_sources() {
                        "the sources named above did not say"
                    } else {
                        "the kernel did not do"
                    };
                    eprintln!("{focus}{verdict}: {who} what the slide says: {what}");
                    exit::FAILED
                } else {
                    let verdict = self.paint("1;31", "ERROR");
                    let step = current_step();
                    let during = if step.is_empty() {
                        String::new()
                    } else {
                        format!(" (step: {step})")
                    };
                    eprintln!("{focus}{verdict}: the experiment could not run: {e:#}{during}");
                    exit::ERROR
                }
            }
        }
    }

    /// Who the PASS verdict says agrees: the kernel, unless the run printed only a
    /// file's or a library's answers and no kernel line (here or in a child whose
    /// checks counted): then the sources it named.
    fn who_agrees(&self) -> &'static str {
        if self.only_sources() {
            "the sources named above agree"
        } else {
            "the kernel agrees"
        }
    }

    /// True when the run printed a file's or a library's answers and no kernel line.
    fn only_sources(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.kernel_lines.load(Relaxed) == 0 && self.said_lines.load(Relaxed) > 0
    }

    /// The focus marker when writing colour (capture and Run live), else nothing.
    fn focus(&self) -> &'static str {
        if self.colour { FOCUS } else { "" }
    }

    /// Wraps `text` in an SGR colour when output is coloured.
    pub fn paint(&self, sgr: &str, text: impl Display) -> String {
        if self.colour {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn line(&self, args: std::fmt::Arguments<'_>) {
        #[cfg(test)]
        if tests::capture(args) {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_fmt(args);
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }

    /// States what the slide claims will happen. Usually the first line.
    pub fn expect(&self, claim: impl Display) {
        let label = self.paint("1", "expect");
        self.line(format_args!("{label}: {claim}"));
    }

    /// Says what the demo does next.
    pub fn step(&self, what: impl Display) {
        let what = what.to_string();
        if let Ok(mut step) = CURRENT_STEP.lock() {
            step.clone_from(&what);
        }
        let arrow = self.paint("36", "▸");
        self.line(format_args!("{arrow} {what}"));
    }

    /// Makes one call into the kernel and keeps its answer, success or errno, as
    /// evidence named `source` (`"recv(MSG_PEEK)"`, `"getsockopt(SO_RCVBUF)"`). A call
    /// that blocks past the demo's limit ends the demo as FAIL naming it.
    pub fn syscall<T, E: Into<std::io::Error>>(
        &self,
        source: impl Display,
        f: impl FnOnce() -> std::result::Result<T, E>,
    ) -> Observed<std::io::Result<T>> {
        evidence::call(source, f)
    }

    /// Requires an observed call to have succeeded: when it failed, that is the
    /// kernel's answer and the check `claim` fails, naming the call and its errno.
    pub fn require<T>(
        &mut self,
        observed: Observed<std::io::Result<T>>,
        claim: impl Display,
    ) -> Result<Observed<T>> {
        if let Err(e) = observed.value() {
            let what = format!("{claim} ({} failed: {})", observed.source(), e.render());
            return Err(self.check(false, what).unwrap_err());
        }
        Ok(observed.ok().expect("checked to be Ok above"))
    }

    fn kernel_line(&self, focus: bool, source: &str, value: String, note: &str) {
        self.kernel_lines
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let label = self.paint("2", format_args!("  kernel ({source}):"));
        let focus = if focus { self.focus() } else { "" };
        let note = if note.is_empty() {
            String::new()
        } else {
            format!("  ({note})")
        };
        self.line(format_args!("{focus}{label} {value}{note}"));
    }

    /// Reports what the kernel answered, naming its source: `kernel (SOURCE): VALUE`.
    /// Only an [`Observed`] value, which only the harness's wrappers make, can be
    /// printed so; what the demo computed goes to [`Demo::derived`].
    pub fn saw<T: Evidence>(&self, observed: &Observed<T>) {
        self.kernel_line(false, observed.source(), observed.value().render(), "");
    }

    /// [`Demo::saw`] with a fixed note on what the value means (a `&'static str`, so
    /// it cannot carry a number the demo computed).
    pub fn saw_that<T: Evidence>(&self, observed: &Observed<T>, note: &'static str) {
        self.kernel_line(false, observed.source(), observed.value().render(), note);
    }

    /// Decisive evidence: like [`Demo::saw`], but a focus line, one of the few a
    /// slide shows before "show all".
    pub fn key<T: Evidence>(&self, observed: &Observed<T>) {
        self.kernel_line(true, observed.source(), observed.value().render(), "");
    }

    /// [`Demo::key`] with a fixed note (see [`Demo::saw_that`]).
    pub fn key_that<T: Evidence>(&self, observed: &Observed<T>, note: &'static str) {
        self.kernel_line(true, observed.source(), observed.value().render(), note);
    }

    /// Reports what the demo worked out from what the kernel said (arithmetic, a time it
    /// measured itself), so that it is never mistaken for the kernel's own words.
    pub fn derived(&self, what: impl Display) {
        let label = self.paint("2", "  so:");
        self.line(format_args!("{label} {what}"));
    }

    /// [`Demo::derived`] as a focus line.
    pub fn key_derived(&self, what: impl Display) {
        let label = self.paint("2", "  so:");
        let focus = self.focus();
        self.line(format_args!("{focus}{label} {what}"));
    }

    /// Reports what a library or a file (not the kernel) answered, naming it:
    /// `said_by("glibc getservbyname", ..)` prints `  glibc getservbyname: ...`.
    pub fn said_by(&self, source: &str, what: impl Display) {
        // Only Observed values may be labelled as the kernel's.
        let source = if source.trim_start().starts_with("kernel") || source.trim().is_empty() {
            format!("not the kernel: {source}")
        } else {
            source.to_owned()
        };
        self.said_lines
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let label = self.paint("2", format_args!("  {source}:"));
        self.line(format_args!("{label} {what}"));
    }

    /// [`Demo::said_by`] as a focus line.
    pub fn key_said_by(&self, source: &str, what: impl Display) {
        let source = if source.trim_start().starts_with("kernel") || source.trim().is_empty() {
            format!("not the kernel: {source}")
        } else {
            source.to_owned()
        };
        self.said_lines
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let label = self.paint("2", format_args!("  {source}:"));
        let focus = self.focus();
        self.line(format_args!("{focus}{label} {what}"));
    }

    /// Whether `--break NAME` is in effect for this named part of the mechanism (a
    /// name from the demo's `BREAKS`). When it is, prints `--break NAME: WHAT` once.
    pub fn breaks(&mut self, name: &str) -> bool {
        let Some(declared) = self.declared.iter().find(|b| b.name == name) else {
            self.undeclared.push(name.to_owned());
            return false;
        };
        if self.selected != Some(declared.name) {
            return false;
        }
        if !self.applied {
            self.applied = true;
            let label = self.paint("1;35", format_args!("--break {}", declared.name));
            let focus = self.focus();
            self.line(format_args!("{focus}{label}: {}", declared.what));
        }
        true
    }

    /// True when run with any `--break`.
    pub fn broken(&self) -> bool {
        self.selected.is_some()
    }

    /// More detail, printed only with `--verbose`.
    pub fn detail(&self, what: impl Display) {
        if self.verbose {
            let text = self.paint("2", format_args!("    {what}"));
            self.line(format_args!("{text}"));
        }
    }

    /// Records a number the talk quotes or charts (`udp.received`, 9, "datagrams").
    ///
    /// It is not printed: say it in the story with [`Demo::saw`]. Under capture it is
    /// also stored in the transcript, where `{{#chart}}` on a slide can draw it. A
    /// metric a slide charts wants words for its bar: see [`Demo::chart_metric`].
    pub fn metric(&self, name: &str, value: f64, unit: &str) {
        self.record(contract::Metric {
            name: name.into(),
            value,
            unit: unit.into(),
            label: None,
        });
    }

    /// [`Demo::metric`] with the words a chart labels its bar with, as a senior
    /// engineer reads them at a glance (`"one write"`, `"TCP_NODELAY"`), so no slide
    /// shows a metric key.
    pub fn chart_metric(&self, name: &str, label: &str, value: f64, unit: &str) {
        self.record(contract::Metric {
            name: name.into(),
            value,
            unit: unit.into(),
            label: Some(label.into()),
        });
    }

    fn record(&self, m: contract::Metric) {
        let Some(path) = std::env::var_os(contract::METRICS_ENV) else {
            return;
        };
        if let Err(e) = append_metric(Path::new(&path), &m) {
            eprintln!(
                "warning: could not record metric {} in {}: {e}",
                m.name,
                path.to_string_lossy()
            );
        }
    }

    /// True when run with `--verbose`.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// Time since the demo started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Asserts one part of the claim. Prints ✓ or ✗; a ✗ ends the demo as FAILED.
    pub fn check(&mut self, ok: bool, what: impl Display) -> Result<()> {
        self.checks += 1;
        let focus = self.focus();
        if ok {
            let mark = self.paint("32", "✓");
            self.line(format_args!("{focus}  {mark} {what}"));
            Ok(())
        } else {
            let mark = self.paint("31", "✗");
            self.line(format_args!("{focus}  {mark} {what}"));
            Err(Disagreed(what.to_string()).into())
        }
    }

    /// Runs `body` in a forked child (single-threaded, so it may `unshare` namespaces
    /// the demo process cannot enter) and takes its outcome as this demo's own: its
    /// checks count here, a ✗ in the child fails the demo naming that check, a skip
    /// skips it. The child prints its lines itself, to the same stdout.
    pub fn in_child(&mut self, body: impl FnOnce(&mut Demo) -> Result<()>) -> Result<()> {
        use anyhow::Context;
        use std::os::unix::net::UnixDatagram;
        let (ours, theirs) = UnixDatagram::pair().context("socketpair for the child's outcome")?;
        let (before, lines_before) = (
            self.checks,
            self.kernel_lines.load(std::sync::atomic::Ordering::Relaxed),
        );
        let child = peer::fork(|| {
            let result = body(self);
            let (kind, text) = match &result {
                Ok(()) => (0u8, String::new()),
                Err(e) => match (e.downcast_ref::<Disagreed>(), e.downcast_ref::<Skipped>()) {
                    (Some(Disagreed(what)), _) => (1, what.clone()),
                    (_, Some(Skipped(why))) => (77, why.clone()),
                    _ => (2, format!("{e:#}")),
                },
            };
            let mut message = vec![kind];
            message.extend_from_slice(&(self.checks - before).to_le_bytes());
            message.extend_from_slice(
                &(self.kernel_lines.load(std::sync::atomic::Ordering::Relaxed) - lines_before)
                    .to_le_bytes(),
            );
            message.extend_from_slice(text.as_bytes());
            match theirs.send(&message) {
                Ok(_) => 0,
                Err(_) => exit::ERROR,
            }
        })?;
        let status = child.wait(Duration::from_secs(60))?;
        ours.set_nonblocking(true).context("O_NONBLOCK")?;
        let mut buf = vec![0u8; 64 << 10];
        let n = ours
            .recv(&mut buf)
            .with_context(|| format!("the child ended ({status:?}) without an outcome"))?;
        anyhow::ensure!(n >= 9, "the child's outcome is too short");
        self.checks += u32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]);
        let lines = u32::from_le_bytes([buf[5], buf[6], buf[7], buf[8]]);
        self.kernel_lines
            .fetch_add(lines, std::sync::atomic::Ordering::Relaxed);
        let text = String::from_utf8_lossy(&buf[9..n]).into_owned();
        match buf[0] {
            0 => Ok(()),
            1 => Err(Disagreed(text).into()),
            77 => Err(Skipped(text).into()),
            _ => Err(anyhow::anyhow!("in the child: {text}")),
        }
    }

    /// Gives up because the machine lacks something; the demo exits as SKIPPED.
    /// Use as `return Err(d.skip("needs root to create a network namespace"))`.
    pub fn skip(&self, why: impl Display) -> anyhow::Error {
        Skipped(why.to_string()).into()
    }
}

/// True when running as root (many namespace and raw-socket demos need it).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A private (0700) temporary directory, removed when dropped (also on error paths)
/// and by the watchdog when it stops the demo.
pub fn private_dir() -> Result<PrivateDir> {
    use anyhow::Context;
    use std::os::unix::fs::PermissionsExt;
    // Created under the registry's lock, so the watchdog cannot run between the
    // directory's creation and its registration.
    let dir = cleanup::register(|| {
        tempfile::Builder::new()
            .prefix("eykiw-demo-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .context("creating a private temporary directory")
    })?;
    Ok(PrivateDir { dir })
}

/// A temporary directory of [`private_dir`].
#[derive(Debug)]
pub struct PrivateDir {
    dir: tempfile::TempDir,
}

impl PrivateDir {
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        // Removed before it is forgotten: a watchdog that stops the demo in between
        // still finds it registered and removes it (forgotten first, it was left behind).
        let _ = std::fs::remove_dir_all(self.dir.path());
        cleanup::forget(self.dir.path());
    }
}

/// Temporary directories still alive, for the paths that end the process without
/// running destructors (the watchdog's `exit`, and `run`'s own).
mod cleanup {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    /// The live directories, and whether the process is ending (then none may be made:
    /// the demo's own thread asking for one after the watchdog's last sweep left it
    /// behind, empty).
    static DIRS: Mutex<(Vec<PathBuf>, bool)> = Mutex::new((Vec::new(), false));

    pub(crate) fn dirs() -> std::sync::MutexGuard<'static, (Vec<PathBuf>, bool)> {
        DIRS.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn register(
        create: impl FnOnce() -> crate::Result<tempfile::TempDir>,
    ) -> crate::Result<tempfile::TempDir> {
        let mut dirs = dirs();
        anyhow::ensure!(!dirs.1, "the demo is ending: no new temporary directory");
        let dir = create()?;
        dirs.0.push(dir.path().to_owned());
        Ok(dir)
    }

    pub(crate) fn forget(path: &Path) {
        dirs().0.retain(|p| p != path);
    }

    /// The process is ending: removes every live directory, and from then on none can
    /// be made.
    pub(crate) fn close() {
        let mut dirs = dirs();
        dirs.1 = true;
        remove(std::mem::take(&mut dirs.0));
    }

    /// Removes every live directory.
    #[cfg(test)]
    pub(crate) fn remove_all() {
        remove(std::mem::take(&mut dirs().0));
    }

    fn remove(paths: Vec<PathBuf>) {
        for path in paths {
            // The watchdog removes while the demo's own thread may still be creating a
            // file inside (a FIFO, a metrics line): one made during the walk makes the
            // last rmdir fail with ENOTEMPTY, and the directory was left behind (seen
            // once in CI under load). A second walk finds it; after the directory is
            // gone, nothing can be made in it.
            for _ in 0..5 {
                if std::fs::remove_dir_all(&path).is_ok() || !path.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    }
}

/// A name that no other run of any demo uses at the same time, for abstract
/// Unix-socket names and the like: `prefix-PID-COUNTER`.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "eykiw-{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The median of a set of measurements (sorted in place).
pub fn median(samples: &mut [Duration]) -> Duration {
    assert!(!samples.is_empty(), "median of no samples");
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Puts the calling thread (and what it forks or spawns afterwards) ahead of every
/// ordinary task (SCHED_FIFO, sched(7)), so that on a loaded machine a demo that times
/// the kernel measures the kernel, not its wait for a CPU. Best effort: without
/// CAP_SYS_NICE (an ordinary user) nothing changes. For demos that mostly sleep in
/// the kernel; the watchdog still runs on the other CPUs.
pub fn measure_on_time() {
    let param = libc::sched_param { sched_priority: 10 };
    // SAFETY: pthread_self() is this live thread, and `param` is a valid sched_param.
    let _ = unsafe { libc::pthread_setschedparam(libc::pthread_self(), libc::SCHED_FIFO, &param) };
}

/// Formats a duration for a slide: µs below 1 ms, ms below 1 s, seconds above.
pub fn human(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    thread_local! {
        /// The lines a test's `Demo` printed, when the test collects them.
        static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    }

    /// Keeps a `Demo`'s line instead of printing it, while [`captured`] collects.
    pub(super) fn capture(args: std::fmt::Arguments<'_>) -> bool {
        CAPTURED.with(|c| match c.borrow_mut().as_mut() {
            Some(lines) => {
                lines.push(args.to_string());
                true
            }
            None => false,
        })
    }

    /// The lines `f` printed through a `Demo`.
    fn captured(f: impl FnOnce()) -> Vec<String> {
        CAPTURED.with(|c| *c.borrow_mut() = Some(Vec::new()));
        f();
        CAPTURED.with(|c| c.borrow_mut().take().unwrap_or_default())
    }

    /// A `Demo` as `run` makes it, without a command line or a watchdog.
    fn demo(colour: bool, declared: &'static [Break], selected: Option<&'static str>) -> Demo {
        Demo::new(false, colour, declared, selected)
    }

    #[test]
    fn kernel_lines_name_their_source_and_other_sources_are_not_the_kernel() {
        let d = demo(true, &[], None);
        let q = evidence::call("ioctl(SIOCOUTQ)", || Ok::<_, std::io::Error>(4u64))
            .ok()
            .unwrap();
        let dim = |text: &str| format!("\x1b[2m{text}\x1b[0m");
        let kernel = format!("{} 4  (queued)", dim("  kernel (ioctl(SIOCOUTQ)):"));
        let lines = captured(|| {
            d.saw_that(&q, "queued");
            d.key_that(&q, "queued");
            d.key_derived("4 of 4");
            d.said_by("glibc getservbyname", "53/udp");
            d.key_said_by("/etc/services", "domain");
            d.said_by("kernel", "made up");
            d.key_said_by(" ", "made up");
        });
        assert_eq!(
            lines,
            [
                kernel.clone(),
                format!("{FOCUS}{kernel}"),
                format!("{FOCUS}{} 4 of 4", dim("  so:")),
                format!("{} 53/udp", dim("  glibc getservbyname:")),
                format!("{FOCUS}{} domain", dim("  /etc/services:")),
                format!("{} made up", dim("  not the kernel: kernel:")),
                format!("{FOCUS}{} made up", dim("  not the kernel:  :")),
            ]
        );
    }

    /// etc-services' run prints only a file's and a library's answers: its PASS must not
    /// say the kernel agreed. One kernel line makes the kernel the one who agrees.
    #[test]
    fn the_verdict_names_the_sources_when_no_kernel_line_was_printed() {
        let d = demo(false, &[], None);
        assert_eq!(d.who_agrees(), "the kernel agrees", "nothing printed yet");
        captured(|| d.said_by("/etc/services", "domain 53/udp"));
        assert_eq!(d.who_agrees(), "the sources named above agree");
        let q = evidence::call("getsockopt(SO_TYPE)", || Ok::<_, std::io::Error>(1u64))
            .ok()
            .unwrap();
        captured(|| d.saw(&q));
        assert_eq!(d.who_agrees(), "the kernel agrees", "after a kernel line");
    }

    #[test]
    fn checks_are_counted_and_a_failed_one_is_a_disagreement_naming_it() {
        let mut d = demo(false, &[], None);
        let lines = captured(|| {
            assert!(d.check(true, "one").is_ok());
            let e = d.check(false, "two").unwrap_err();
            assert!(matches!(e.downcast_ref(), Some(Disagreed(what)) if what == "two"));
        });
        assert_eq!(lines, ["  ✓ one", "  ✗ two"]);
        assert_eq!(d.checks, 2);
        assert!(d.skip("why").downcast_ref::<Skipped>().is_some());
    }

    #[test]
    fn a_required_call_that_failed_fails_the_check_naming_call_and_errno() {
        let mut d = demo(false, &[], None);
        let got = d.syscall("getuid(lib test)", || Ok::<_, std::io::Error>(7u32));
        assert_eq!(
            (got.source(), got.value().as_ref().ok()),
            ("getuid(lib test)", Some(&7))
        );
        let lines = captured(|| {
            let ok = d.require(got, "the call works").unwrap();
            assert_eq!((ok.source(), *ok.value()), ("getuid(lib test)", 7));
            let failed = d.syscall("recv(lib test)", || {
                Err::<u32, _>(std::io::Error::from_raw_os_error(libc::EAGAIN))
            });
            let e = d.require(failed, "data waits").unwrap_err();
            assert!(e.downcast_ref::<Disagreed>().is_some());
        });
        assert_eq!(
            lines,
            ["  ✗ data waits (recv(lib test) failed: EAGAIN (Try again))"]
        );
    }

    #[test]
    fn only_the_selected_declared_break_is_applied_and_announced_once() {
        const BREAKS: &[Break] = &[brk("first", "the main one"), brk("second", "another")];
        assert_eq!(
            BREAKS[1],
            Break {
                name: "second",
                what: "another"
            }
        );
        let mut d = demo(false, BREAKS, Some("second"));
        assert!(d.broken());
        let lines = captured(|| {
            assert!(!d.breaks("first"));
            assert!(d.breaks("second"));
            assert!(d.breaks("second"));
            assert!(!d.breaks("third"));
        });
        assert_eq!(lines, ["--break second: another"]);
        assert!(d.applied);
        assert_eq!(d.undeclared, ["third"]);
        let mut plain = demo(false, BREAKS, None);
        assert!(!plain.broken());
        assert!(captured(|| assert!(!plain.breaks("first"))).is_empty());
        assert!(!plain.applied);
    }

    #[test]
    fn the_current_step_is_the_last_one_announced() {
        let d = demo(false, &[], None);
        captured(|| d.step("binding the listener (lib test)"));
        assert_eq!(current_step(), "binding the listener (lib test)");
    }

    #[test]
    fn a_childs_checks_count_and_its_outcome_is_the_demos() {
        let mut d = demo(false, &[], None);
        captured(|| {
            d.check(true, "before").unwrap();
            d.in_child(|d| {
                d.check(true, "one")?;
                d.check(true, "two")
            })
            .unwrap();
            assert_eq!(d.checks, 3);
            let e = d
                .in_child(|d| d.check(false, "the child's claim"))
                .unwrap_err();
            assert!(matches!(e.downcast_ref(), Some(Disagreed(w)) if w == "the child's claim"));
            assert_eq!(d.checks, 4);
            let e = d.in_child(|d| Err(d.skip("no capability"))).unwrap_err();
            assert!(matches!(e.downcast_ref(), Some(Skipped(w)) if w == "no capability"));
            let e = d.in_child(|_| anyhow::bail!("no namespace")).unwrap_err();
            assert!(e.downcast_ref::<Disagreed>().is_none());
            assert!(e.downcast_ref::<Skipped>().is_none());
            assert_eq!(e.to_string(), "in the child: no namespace");
        });
    }

    #[test]
    fn each_outcome_has_its_exit_status_and_verdict_line() {
        let d = demo(false, &[], None);
        let lines = captured(|| {
            assert_eq!(d.verdict(Ok(())), exit::PASSED);
            assert_eq!(d.verdict(Err(Disagreed("x".into()).into())), exit::FAILED);
            assert_eq!(d.verdict(Err(d.skip("no root"))), exit::SKIPPED);
            assert_eq!(d.verdict(Err(anyhow::anyhow!("no socket"))), exit::ERROR);
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("PASS: the kernel agrees (0 checks, "),
            "{lines:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
        assert!(d.elapsed() >= Duration::from_millis(2));
    }

    #[test]
    fn the_limit_is_a_positive_number_of_seconds_or_the_default() {
        assert_eq!(limit_from(None), DEFAULT_LIMIT);
        assert_eq!(limit_from(Some("12.5")), Duration::from_millis(12_500));
        for bad in ["0", "-3", "NaN", "1e300", "soon"] {
            assert_eq!(limit_from(Some(bad)), DEFAULT_LIMIT, "{bad}");
        }
    }

    #[test]
    fn colour_only_without_no_color_and_when_forced_or_on_a_terminal() {
        let all: Vec<bool> = [false, true]
            .into_iter()
            .flat_map(|no| [false, true].map(move |force| (no, force)))
            .flat_map(|(no, force)| [false, true].map(move |tty| colour_wanted(no, force, tty)))
            .collect();
        // (no_color, force, terminal) from (f, f, f) to (t, t, t).
        assert_eq!(all, [false, true, true, true, false, false, false, false]);
    }

    #[test]
    fn a_break_never_applied_or_undeclared_is_the_demos_error() {
        const BREAKS: &[Break] = &[brk("first", "the main one")];
        let pass = || -> Result<()> { Ok(()) };
        let fail = || -> Result<()> { Err(Disagreed("the claim".into()).into()) };
        let is_error = |r: Result<()>, words: &str| {
            let e = r.unwrap_err();
            assert!(
                e.downcast_ref::<Disagreed>().is_none() && e.to_string().contains(words),
                "{e}"
            );
        };
        let plain = demo(false, BREAKS, None);
        assert!(settle(pass(), &plain).is_ok());
        let mut unapplied = demo(false, BREAKS, Some("first"));
        is_error(
            settle(pass(), &unapplied),
            "--break first was never applied",
        );
        // A FAIL stays a FAIL (the break may have failed a check before its part ran).
        assert!(
            settle(fail(), &unapplied)
                .unwrap_err()
                .downcast_ref::<Disagreed>()
                .is_some()
        );
        unapplied.applied = true;
        assert!(settle(pass(), &unapplied).is_ok());
        let mut asked = demo(false, BREAKS, None);
        asked.undeclared.push("second".into());
        is_error(settle(pass(), &asked), "does not declare: second");
        is_error(settle(fail(), &asked), "does not declare: second");
    }

    #[test]
    fn closing_removes_every_live_dir_and_refuses_new_ones() {
        // In a child: closing is for good, and other tests still make directories.
        let child = peer::fork(|| {
            let Ok(dir) = private_dir() else { return 2 };
            let path = dir.path().to_owned();
            cleanup::close();
            let (gone, refused) = (!path.exists(), private_dir().is_err());
            std::mem::forget(dir);
            if gone && refused { 0 } else { 1 }
        })
        .unwrap();
        let exit = child.wait(Duration::from_secs(10)).unwrap();
        assert!(matches!(exit, peer::Exit::Code(0)), "{exit:?}");
    }

    #[test]
    fn a_dropped_private_dir_is_gone_and_forgotten() {
        let dir = private_dir().unwrap();
        let path = dir.path().to_owned();
        assert!(cleanup::dirs().0.contains(&path));
        drop(dir);
        assert!(!path.exists());
        assert!(!cleanup::dirs().0.contains(&path));
    }

    #[test]
    fn median_picks_the_middle() {
        let mut v: Vec<Duration> = [5, 1, 9, 3, 7]
            .iter()
            .map(|&ms| Duration::from_millis(ms))
            .collect();
        assert_eq!(median(&mut v), Duration::from_millis(5));
    }

    #[test]
    fn human_picks_a_readable_unit() {
        assert_eq!(human(Duration::from_micros(42)), "42 µs");
        assert_eq!(human(Duration::from_micros(41_700)), "41.7 ms");
        assert_eq!(human(Duration::from_millis(2_500)), "2.50 s");
    }

    fn args(list: &[&str]) -> Result<Args, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn break_and_verbose_are_parsed_unknown_flags_refused() {
        assert_eq!(args(&[]).unwrap(), Args::default());
        let both = args(&["--break", "-v"]).unwrap();
        assert!(both.brk == BreakArg::Main && both.verbose && !both.help);
        assert_eq!(
            args(&["--break", "zero-peek"]).unwrap().brk,
            BreakArg::Named("zero-peek".into())
        );
        assert_eq!(
            args(&["--break=x"]).unwrap().brk,
            BreakArg::Named("x".into())
        );
        assert_eq!(args(&["--break", "list"]).unwrap().brk, BreakArg::List);
        assert!(args(&["--brake"]).unwrap_err().contains("--brake"));
    }

    #[test]
    fn private_dirs_are_0700_and_the_cleanup_removes_them() {
        use std::os::unix::fs::PermissionsExt;
        let dir = private_dir().unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let path = dir.path().to_owned();
        std::fs::write(path.join("f"), b"x").unwrap();
        // What the watchdog does before exit, with the value still alive.
        cleanup::remove_all();
        assert!(!path.exists());
        drop(dir);
    }

    #[test]
    fn metrics_reach_the_file_with_their_label_or_without() {
        let dir = private_dir().unwrap();
        let file = dir.path().join("metrics.jsonl");
        let m = |label: Option<&str>| contract::Metric {
            name: "nagle.one_write.median".into(),
            value: 41.5,
            unit: "µs".into(),
            label: label.map(str::to_owned),
        };
        append_metric(&file, &m(Some("one write"))).unwrap();
        append_metric(&file, &m(None)).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let back: Vec<contract::Metric> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, [m(Some("one write")), m(None)], "{text}");
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_name("x"), unique_name("x"));
    }
}
