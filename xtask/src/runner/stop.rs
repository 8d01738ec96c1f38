//! Ctrl-C, SIGTERM and SIGHUP for the commands that run demos (`present`, `capture`).
//!
//! The first signal kills every running demo with all it started, then asks the
//! command to wind down (end its event streams, store nothing more); the second exits
//! at once. The signals are blocked in every thread and taken by one thread of our
//! own with `sigwait`, so no handler runs in a signal context and no library can steal
//! them (a replaced default handler is how a second Ctrl-C used to do nothing).

use anyhow::{Context, Result};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

use super::jail;

/// The exit status after a second signal (128 + SIGINT, as shells report it).
const EXIT_AT_ONCE: i32 = 130;

fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    set
}

/// Takes over the stop signals. Call it before any other thread is started: threads
/// inherit the blocked set (the demos do not: a new process starts with none blocked).
/// `on_first` runs on the first signal, after every run has been killed.
pub fn on_stop(on_first: impl FnOnce(Signal) + Send + 'static) -> Result<()> {
    let set = stop_signals();
    pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .context("blocking SIGINT, SIGTERM and SIGHUP")?;
    std::thread::Builder::new()
        .name("stop-signals".into())
        .spawn(move || {
            let Ok(first) = set.wait() else { return };
            eprintln!("\n{first}: stopping the demos (again to quit at once)");
            jail::kill_all();
            on_first(first);
            let _ = set.wait();
            jail::kill_all();
            std::process::exit(EXIT_AT_ONCE);
        })
        .context("starting the signal thread")?;
    Ok(())
}
