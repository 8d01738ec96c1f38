//! Rebuilding when the presenter saves a slide or a theme file.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use tokio::sync::broadcast;

use super::Notice;
use crate::book::{self, Player};
use crate::project_root;

/// Watches the book's sources and the deck theme; the watch stops when this is dropped.
pub fn start(root: &Path, notices: broadcast::Sender<Notice>) -> Result<Debouncer<RecommendedWatcher>> {
    let theme = project_root().join("theme");
    let src = root.join(book_src(root));
    let transcripts = crate::demos::demos_dir().join("transcripts");
    let root_owned = root.to_path_buf();
    let theme_owned = theme.clone();
    let mut generation = 0u64;
    let mut debouncer = new_debouncer(Duration::from_millis(150), move |res: DebounceEventResult| {
        let Ok(events) = res else { return };
        let paths: Vec<PathBuf> = events.into_iter().map(|e| e.path).filter(|p| !is_noise(p)).collect();
        if paths.is_empty() {
            return;
        }
        let player = if paths.iter().any(|p| p.starts_with(theme_owned.join("player"))) {
            Player::Rebuild
        } else {
            Player::Reuse
        };
        let t0 = Instant::now();
        match book::build(&root_owned, false, player) {
            Ok(_) => {
                generation += 1;
                eprintln!("rebuilt in {:.2} s after a change to {}", t0.elapsed().as_secs_f64(), paths[0].display());
                let _ = notices.send(Notice::Reload(generation));
            }
            Err(e) => {
                let msg = format!("{e:#}");
                eprintln!("rebuild failed (still serving the last good build):\n{msg}");
                let _ = notices.send(Notice::BuildFailed(msg));
            }
        }
    })
    .context("starting the file watcher")?;
    let watcher = debouncer.watcher();
    for (dir, mode) in [
        (src.as_path(), RecursiveMode::Recursive),
        (theme.as_path(), RecursiveMode::Recursive),
        (transcripts.as_path(), RecursiveMode::NonRecursive),
        (&root.join("book.toml"), RecursiveMode::NonRecursive),
    ] {
        if dir.exists() {
            watcher.watch(dir, mode).with_context(|| format!("watching {}", dir.display()))?;
        }
    }
    Ok(debouncer)
}

/// Editor swap files and build output do not need a rebuild.
fn is_noise(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
        || path.components().any(|c| c.as_os_str() == "target" || c.as_os_str() == "pkg")
}

fn book_src(root: &Path) -> PathBuf {
    mdbook_driver::config::Config::from_disk(root.join("book.toml"))
        .map(|c| c.book.src)
        .unwrap_or_else(|_| PathBuf::from("src"))
}
