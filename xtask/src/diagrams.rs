//! svgbob diagrams, drawn outside xtask: xtask builds the deck engine without its
//! `svgbob` feature (nalgebra, parry2d, sauron, web-sys...: a third of a cold build of
//! xtask), and draws each diagram with `deck-diagram`, the engine's own command built
//! with svgbob, the first time a book has one.
//!
//! `cargo xtask present` on a target dir where `deck-diagram` was never built does not
//! wait for it: the first build shows each diagram as its source text (the ASCII
//! picture, in the same box), `deck-diagram` is built in the background, and the book is
//! rebuilt with the pictures once it is there (open pages reload on the slide they
//! showed). Every other command, and `present` once the command exists (however
//! stale), draws before it serves: a stale one is rebuilt first (our code only, a few
//! seconds).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use deck::diagram::{self, Draw};
use xtask_launch::fresh;

use crate::project_root;

/// The engine's drawing command (crates/deck/src/bin/deck-diagram.rs).
const BIN: &str = "deck-diagram";

/// How long one drawing may take, the command's own limit included.
const LIMIT: Duration = Duration::from_secs(diagram::MAX_TIME.as_secs() + 10);

/// Where `deck-diagram` is, and whether it may be built right now.
enum State {
    /// Build it (if stale) at the first diagram, then draw.
    OnDemand,
    /// Being built in the background: show the source text meanwhile.
    Later,
    /// Built and up to date.
    Ready(PathBuf),
}

/// The drawer xtask gives the engine (see the module doc).
pub struct Drawer {
    state: Mutex<State>,
    /// Pictures already drawn by this process, by source: a rebuild after a save
    /// redraws only a diagram that changed.
    drawn: Mutex<HashMap<String, String>>,
}

/// The drawer, set for the engine once per process.
fn drawer() -> &'static Arc<Drawer> {
    static DRAWER: std::sync::OnceLock<Arc<Drawer>> = std::sync::OnceLock::new();
    DRAWER.get_or_init(|| {
        let d = Arc::new(Drawer {
            state: Mutex::new(State::OnDemand),
            drawn: Mutex::new(HashMap::new()),
        });
        diagram::set_drawer(Some(Arc::clone(&d) as Arc<dyn Draw>));
        d
    })
}

/// Every command: diagrams are drawn by `deck-diagram`, built when first needed. (A
/// build of xtask whose engine has svgbob, as `cargo test --workspace` links it, draws
/// in-process and never asks.)
pub fn install() {
    drawer();
}

/// For `present`'s first build: when `deck-diagram` was never built in this target dir
/// (and the engine has no svgbob of its own), returns the background work that builds
/// it, after which the caller rebuilds the book; meanwhile diagrams show as text. `None`:
/// diagrams are drawn in the first build as in any other.
pub fn defer_first_build() -> Option<impl FnOnce() -> Result<()> + Send + 'static> {
    if diagram::IN_PROCESS {
        return None;
    }
    let bin = bin_path().ok()?;
    if bin.exists() {
        return None;
    }
    let d = drawer();
    *lock(&d.state) = State::Later;
    Some(move || {
        let built = build();
        let mut state = lock(&drawer().state);
        *state = match &built {
            Ok(bin) => State::Ready(bin.clone()),
            // The next build tries again, and fails with the reason at the diagram.
            Err(_) => State::OnDemand,
        };
        built.map(|_| ())
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Draw for Drawer {
    fn draw(&self, ascii: &str) -> Result<String, String> {
        if let Some(html) = lock(&self.drawn).get(ascii) {
            return Ok(html.clone());
        }
        let bin = {
            let mut state = lock(&self.state);
            match &*state {
                State::Later => return Ok(diagram::undrawn(ascii)),
                State::Ready(bin) => bin.clone(),
                State::OnDemand => {
                    let bin = build().map_err(|e| format!("{e:#}"))?;
                    *state = State::Ready(bin.clone());
                    bin
                }
            }
        };
        let html = run(&bin, ascii)?;
        lock(&self.drawn).insert(ascii.to_string(), html.clone());
        Ok(html)
    }
}

fn bin_path() -> Result<PathBuf> {
    let sh = xshell::Shell::new()?;
    Ok(crate::wasm::target_dir(&sh)?.join("debug").join(BIN))
}

/// Builds `deck-diagram` unless it is up to date; its path.
fn build() -> Result<PathBuf> {
    let bin = bin_path()?;
    let root = project_root();
    if fresh::is_fresh(&bin, &root) {
        return Ok(bin);
    }
    let t0 = Instant::now();
    eprintln!("building {BIN}, which draws the svgbob diagrams (svgbob and ~80 crates, once)…");
    let started = std::time::SystemTime::now();
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["build", "--quiet", "--package", "deck", "--bin", BIN])
        .current_dir(&root)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("running cargo build --bin {BIN}"))?;
    anyhow::ensure!(
        status.success(),
        "cargo build --package deck --bin {BIN} failed ({status}): the diagrams cannot be drawn"
    );
    fresh::mark_fresh(&bin, started).with_context(|| format!("stamping {}", bin.display()))?;
    eprintln!("{BIN} built in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(bin)
}

/// One picture from `bin`: the source on its stdin, the HTML on its stdout, the reason
/// on its stderr; killed after [`LIMIT`].
fn run(bin: &Path, ascii: &str) -> Result<String, String> {
    let mut child = Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", bin.display()))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let source = ascii.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(source.as_bytes()));
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let mut stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut out, mut err) = (String::new(), String::new());
        let read = stdout
            .read_to_string(&mut out)
            .and_then(|_| stderr.read_to_string(&mut err));
        let _ = tx.send(read.map(|_| (out, err)));
    });
    let outcome = rx.recv_timeout(LIMIT);
    if outcome.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| format!("{BIN}: {e}"))?;
    let _ = writer.join();
    let (out, err) = match outcome {
        Ok(Ok(both)) => both,
        Ok(Err(e)) => return Err(format!("reading {BIN}'s answer: {e}")),
        Err(_) => {
            return Err(format!(
                "{BIN} took more than {} s to draw this diagram",
                LIMIT.as_secs()
            ));
        }
    };
    if status.success() {
        Ok(out)
    } else {
        Err(match err.trim() {
            "" => format!("{BIN} failed ({status})"),
            why => why.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in `deck-diagram` (a shell script) that answers as the real one does.
    fn stand_in(dir: &Path, script: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let bin = dir.join(BIN);
        std::fs::write(&bin, format!("#!/bin/sh\n{script}\n")).unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin
    }

    #[test]
    fn the_picture_is_what_the_command_prints_and_its_refusal_is_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let echo = stand_in(dir.path(), "printf '<div>'; cat; printf '</div>'");
        assert_eq!(run(&echo, "a --> b").unwrap(), "<div>a --> b</div>");
        let no = stand_in(dir.path(), "cat >/dev/null; echo 'too large' >&2; exit 1");
        assert_eq!(run(&no, "x").unwrap_err(), "too large");
    }

    #[test]
    fn while_the_command_is_built_a_diagram_is_its_source_text_and_is_not_remembered() {
        let d = Drawer {
            state: Mutex::new(State::Later),
            drawn: Mutex::new(HashMap::new()),
        };
        let html = d.draw("a --> \"b\"\n\nc\n").unwrap();
        assert_eq!(html, diagram::undrawn("a --> \"b\"\n\nc\n"));
        assert!(
            html.contains("a --&gt; &quot;b&quot;&#10;&#10;c</pre>"),
            "{html}"
        );
        assert!(!html.contains('\n'), "one line of HTML: {html}");
        assert!(lock(&d.drawn).is_empty(), "a placeholder is not a picture");
        // Once built, the same source is drawn, and remembered.
        let dir = tempfile::tempdir().unwrap();
        let bin = stand_in(dir.path(), "printf '<svg/>'");
        *lock(&d.state) = State::Ready(bin.clone());
        assert_eq!(d.draw("a --> \"b\"\n\nc\n").unwrap(), "<svg/>");
        std::fs::remove_file(&bin).unwrap();
        assert_eq!(d.draw("a --> \"b\"\n\nc\n").unwrap(), "<svg/>");
    }
}
