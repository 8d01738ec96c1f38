//! `cargo xtask`: everything the talk needs, with nothing to install but Rust.
//!
//! The cargo-xtask pattern: an ordinary binary in the workspace, run through the
//! `cargo xtask` alias in `.cargo/config.toml`. Each subcommand lives in its own module.

// Deny, not forbid: the Run-live jail needs one `pre_exec` (fork-to-exec set-up),
// allowed with its SAFETY comment where it is; nothing else here is unsafe.
#![deny(unsafe_code)]

mod bench;
mod book;
mod capture;
mod demos;
mod diagrams;
mod flakes;
mod kernels;
mod mutants;
mod pdf;
mod present;
mod runner;
mod setup;
mod test;
mod wasm;

use std::path::PathBuf;
use std::sync::OnceLock;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, present, capture and test the talk",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the static site into book/ (or DIR/book).
    Build {
        /// Build another book (its own book.toml and chapters) with the same engine.
        #[arg(long, value_name = "DIR")]
        book: Option<PathBuf>,
        /// Treat warnings (for example in reStructuredText chapters) as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Build the deck, serve it on 127.0.0.1, and rebuild when slides or theme change.
    Present {
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Serve another book.
        #[arg(long, value_name = "DIR")]
        book: Option<PathBuf>,
        /// Listen on this address instead of 127.0.0.1 (exposes the Run-live endpoint!).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::IpAddr>,
    },
    /// List the demos, or run one live: `cargo xtask demo NAME [ARGS]`.
    Demo {
        name: Option<String>,
        /// Arguments for the demo, e.g. --verbose.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run demos (all by default) and store their transcripts for the slides.
    Capture {
        names: Vec<String>,
        /// How many demos run at once.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// Hard limit per demo, in seconds; the demo's whole process group is killed then.
        #[arg(long, default_value_t = 20)]
        timeout: u64,
    },
    /// Measure the warm rebuild and the size of the built deck.
    Bench {
        /// Instead: a newcomer's first minute, from a fresh clone with an empty target
        /// dir to `cargo xtask present`'s first output and first page.
        #[arg(long)]
        first_minute: bool,
    },
    /// Mutation testing: mutate demos (all by default) and count the mutants each
    /// demo's checks catch as FAIL; tables in target/mutants/.
    Mutants {
        names: Vec<String>,
        /// Also mutate the harness (demos/src/*.rs), judged by the demos named; on by
        /// default when no demo is named.
        #[arg(long)]
        harness: bool,
        /// Mutate only these harness files (e.g. demos/src/fd.rs), judged by the demos
        /// named, and not the demos' own files: each harness mutant rebuilds every
        /// demo, so the whole harness is hours.
        #[arg(long = "harness-file", value_name = "FILE")]
        harness_files: Vec<String>,
        /// Only one shard of the mutants, `K/N` as cargo-mutants takes it (K from 0),
        /// dealt round-robin: a sample of a file too big for one sitting; the table's
        /// row then says it is a sample.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Count the named units' rows again from their last run's outcomes, with the
        /// equivalents file as it is now (no mutant is run).
        #[arg(long, conflicts_with_all = ["harness", "harness_files", "shard"])]
        retally: bool,
    },
    /// The flake run: each demo 20 times under a load on every core, then all demos at
    /// once 5 rounds as root and as nobody; report in target/flakes.md.
    Flakes {
        /// Only these demos in the first part (default: all); the rounds run all.
        names: Vec<String>,
        /// Runs of each demo under load.
        #[arg(long, default_value_t = 20)]
        runs: usize,
        /// Rounds of all demos at once, as each user.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Busy threads (default: one per CPU).
        #[arg(long)]
        load: Option<usize>,
    },
    /// Print the deck to book/talk.pdf, one slide per page, with headless Chromium.
    Pdf {
        /// Print another book.
        #[arg(long, value_name = "DIR")]
        book: Option<PathBuf>,
        /// Put each slide's speaker notes on its page.
        #[arg(long)]
        notes: bool,
    },
    /// Run every demo on each kernel of book.toml's `kernels` list (guests in QEMU via
    /// virtme-ng) and store a transcript per demo and kernel.
    Kernels {
        /// Only these demos (default: all).
        names: Vec<String>,
        /// Only these entries of the list (`host`, `6.1`, ...); repeatable.
        #[arg(long, value_name = "KERNEL")]
        only: Vec<String>,
        /// Hard limit per demo, in seconds.
        #[arg(long, default_value_t = 20)]
        timeout: u64,
        /// Hard limit per guest (boot, demos, shutdown), in seconds; default: 300 s plus
        /// each demo's limit.
        #[arg(long, value_name = "SECS")]
        guest_timeout: Option<u64>,
        /// Only what `cargo xtask test` does: one demo on the first installed kernel of
        /// the list, stored nowhere.
        #[arg(long)]
        smoke: bool,
    },
    /// Inside a guest of `cargo xtask kernels`: run demos, write transcripts into OUT.
    #[command(hide = true)]
    KernelsGuest {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        bins: PathBuf,
        #[arg(long)]
        release: String,
        #[arg(long)]
        timeout: u64,
        /// Each demo's own limit (`DEMO_LIMIT_SECS`), for slow emulated guests.
        #[arg(long)]
        demo_limit: Option<u64>,
        names: Vec<String>,
    },
    /// Run every test: unit tests, every demo as a test, the deck build, browser tests.
    Test {
        /// Skip the headless-browser tests.
        #[arg(long)]
        no_browser: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Err(e) = try_project_root() {
        eprintln!("error: {e}");
        return std::process::ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Build { book, strict } => book::build_cmd(book.as_deref(), strict),
        Command::Present { port, book, listen } => present::run(port, book.as_deref(), listen),
        Command::Demo { name: None, .. } => demos::list_cmd(),
        Command::Demo {
            name: Some(name),
            args,
        } => demos::run_cmd(&name, &args),
        Command::Capture {
            names,
            jobs,
            timeout,
        } => capture::run(&names, jobs, std::time::Duration::from_secs(timeout)),
        Command::Kernels { smoke: true, .. } => {
            kernels::smoke().map(|()| std::process::ExitCode::SUCCESS)
        }
        Command::Kernels {
            names,
            only,
            timeout,
            guest_timeout,
            smoke: false,
        } => kernels::run(&kernels::Options {
            names,
            only,
            demo_timeout: std::time::Duration::from_secs(timeout),
            guest_timeout: guest_timeout.map(std::time::Duration::from_secs),
        }),
        Command::KernelsGuest {
            out,
            bins,
            release,
            timeout,
            demo_limit,
            names,
        } => kernels::guest_cmd(
            &out,
            &bins,
            &release,
            &names,
            std::time::Duration::from_secs(timeout),
            demo_limit,
        ),
        Command::Test { no_browser } => test::run(no_browser),
        Command::Bench { first_minute } if first_minute => bench::first_minute(),
        Command::Bench { .. } => bench::run(),
        Command::Mutants {
            names,
            retally: true,
            ..
        } => mutants::retally(&names),
        Command::Mutants {
            names,
            harness,
            harness_files,
            shard,
            retally: false,
        } => mutants::run_with(
            &names,
            harness,
            &harness_files,
            shard.as_deref(),
            mutants::Gate::EveryMissListed,
        ),
        Command::Flakes {
            names,
            runs,
            rounds,
            load,
        } => flakes::run(&names, runs, rounds, load),
        Command::Pdf { book, notes } => pdf::run(book.as_deref(), notes),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The checkout this run acts on, found once at start (see [`xtask_launch::find_root`]).
static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The repository root of the checkout `cargo xtask` was started in.
///
/// Not the path compiled into the binary: with a shared `CARGO_TARGET_DIR` or a moved
/// clone, cargo reuses a binary built in another checkout, which would then build,
/// capture and serve that other checkout. `main` checks [`try_project_root`] before any
/// command runs, so the fallback below is never reached by a command.
pub fn project_root() -> PathBuf {
    try_project_root().unwrap_or_else(|_| PathBuf::from("."))
}

/// [`project_root`], or why there is none.
pub fn try_project_root() -> Result<PathBuf, String> {
    ROOT.get_or_init(|| {
        let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
        xtask_launch::find_root(
            std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
            &cwd,
        )
    })
    .clone()
}
