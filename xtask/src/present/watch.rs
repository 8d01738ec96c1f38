//! Rebuilding when the presenter saves a slide or a theme file.
//!
//! Only writes, creations, renames and removals count: the build itself reads every
//! source, and counting reads would rebuild forever. Events are gathered for a short
//! quiet period so that one save (editors write, rename and chmod) is one rebuild.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use notify::event::{AccessKind, AccessMode, EventKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::broadcast;

use super::Notice;
use crate::book::{self, Player};
use crate::project_root;

/// How long after the last event a rebuild starts.
const QUIET: Duration = Duration::from_millis(100);

/// Watches the book's sources and the deck theme; the watch stops when the watcher is
/// dropped. The sender asks for a rebuild as if the path it sends had changed (what
/// changed outside the watched folders: the diagram command, built in the background).
pub fn start(
    root: &Path,
    transcripts: Option<&Path>,
    notices: broadcast::Sender<Notice>,
) -> Result<(RecommendedWatcher, mpsc::Sender<PathBuf>)> {
    let theme = project_root().join("theme");
    let (tx, rx) = mpsc::channel::<PathBuf>();
    let rebuild = tx.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let Ok(event) = res else { return };
        if !is_change(&event.kind) {
            return;
        }
        for path in event.paths {
            if !is_noise(&path) {
                let _ = tx.send(path);
            }
        }
    })
    .context("starting the file watcher")?;
    let src = crate::book::BookConfig::load(root)?.src_dir();
    let book_toml = root.join("book.toml");
    let watched = [
        Some((src.as_path(), RecursiveMode::Recursive)),
        Some((theme.as_path(), RecursiveMode::Recursive)),
        transcripts.map(|t| (t, RecursiveMode::NonRecursive)),
        Some((book_toml.as_path(), RecursiveMode::NonRecursive)),
    ];
    for (dir, mode) in watched.into_iter().flatten() {
        if dir.exists() {
            watcher
                .watch(dir, mode)
                .with_context(|| format!("watching {}", dir.display()))?;
        }
    }
    let root = root.to_path_buf();
    std::thread::Builder::new()
        .name("rebuild".into())
        .spawn(move || rebuild_loop(&root, &theme, &rx, &notices))
        .context("starting the rebuild thread")?;
    Ok((watcher, rebuild))
}

fn rebuild_loop(
    root: &Path,
    theme: &Path,
    rx: &mpsc::Receiver<PathBuf>,
    notices: &broadcast::Sender<Notice>,
) {
    let mut generation = 0u64;
    // Blocks until the first change; ends when the watcher is dropped.
    while let Ok(first) = rx.recv() {
        let mut changed = vec![first];
        while let Ok(more) = rx.recv_timeout(QUIET) {
            changed.push(more);
        }
        let player = if changed.iter().any(|p| p.starts_with(theme.join("player"))) {
            Player::Rebuild
        } else {
            Player::Reuse
        };
        let t0 = Instant::now();
        match book::build(root, false, player) {
            Ok(_) => {
                generation += 1;
                eprintln!(
                    "rebuilt in {:.2} s after a change to {}",
                    t0.elapsed().as_secs_f64(),
                    changed[0].display()
                );
                let _ = notices.send(Notice::Reload(generation));
            }
            Err(e) => {
                let msg = format!("{e:#}");
                eprintln!("rebuild failed (still serving the last good build):\n{msg}");
                let _ = notices.send(Notice::BuildFailed(msg));
            }
        }
    }
}

/// A write, creation, rename or removal; not a read.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(m) => !matches!(m, notify::event::ModifyKind::Metadata(_)),
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        _ => false,
    }
}

/// Editor swap files and build output do not need a rebuild.
fn is_noise(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
        || path
            .components()
            .any(|c| c.as_os_str() == "target" || c.as_os_str() == "pkg")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `present` does once `deck-diagram` is built in the background: it sends a
    /// path through the watcher's sender, and the book is rebuilt and pages told to
    /// reload, as after a save.
    #[test]
    fn a_path_sent_to_the_watcher_rebuilds_and_reloads_as_a_save_does() {
        let book =
            crate::book::tests::fixture("", "- [One](one.md)\n", &[("one.md", "# One\n\nfirst\n")]);
        crate::book::build(book.path(), false, Player::Reuse).unwrap();
        let (notices, mut heard) = broadcast::channel(4);
        let (_watcher, rebuild) = start(book.path(), None, notices).unwrap();
        let page = book.path().join("book/one.html");
        let before = std::fs::metadata(&page).unwrap().modified().unwrap();
        // The generation of the next reload: each rebuild is a new one, so a page can
        // tell a reload it has not seen yet.
        let mut next_reload = || {
            rebuild.send(PathBuf::from("deck-diagram")).unwrap();
            let t0 = Instant::now();
            loop {
                match heard.try_recv() {
                    Ok(Notice::Reload(generation)) => return generation,
                    Ok(Notice::BuildFailed(e)) => panic!("the rebuild failed: {e}"),
                    Err(_) => {
                        assert!(t0.elapsed() < Duration::from_secs(60), "no rebuild");
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        };
        let first = next_reload();
        let after = std::fs::metadata(&page).unwrap().modified().unwrap();
        assert!(after > before, "one.html was not rebuilt");
        let second = next_reload();
        assert_eq!(
            (first, second),
            (1, 2),
            "each rebuild is the next generation"
        );
    }

    use notify::event::{CreateKind, DataChange, MetadataKind, ModifyKind, RemoveKind};

    #[test]
    fn writes_creations_and_removals_are_changes_and_reads_and_chmods_are_not() {
        assert!(is_change(&EventKind::Create(CreateKind::File)));
        assert!(is_change(&EventKind::Remove(RemoveKind::File)));
        assert!(is_change(&EventKind::Modify(ModifyKind::Data(
            DataChange::Content
        ))));
        assert!(is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(!is_change(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::Permissions
        ))));
        assert!(!is_change(&EventKind::Access(AccessKind::Read)));
        assert!(!is_change(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
    }

    #[test]
    fn swap_files_hidden_files_and_build_output_are_noise_and_sources_are_not() {
        for noise in [
            "slides/.chapter.md.swp",
            "slides/chapter.md~",
            "slides/chapter.swp",
            "slides/chapter.tmp",
            "theme/player/target/debug/player.wasm",
            "theme/player/pkg/player.js",
        ] {
            assert!(is_noise(Path::new(noise)), "{noise} is noise");
        }
        for source in [
            "slides/chapter.md",
            "slides/targets.md",
            "theme/player/src/keys.rs",
            "theme/deck.css",
        ] {
            assert!(!is_noise(Path::new(source)), "{source} is a source");
        }
    }

    /// The real watcher on a book: a chmod and an editor's swap file beside a chapter
    /// rebuild nothing; saving the chapter rebuilds it and tells pages to reload.
    #[test]
    fn saving_a_chapter_rebuilds_and_a_chmod_or_a_swap_file_beside_it_does_not() {
        use std::os::unix::fs::PermissionsExt;
        let book =
            crate::book::tests::fixture("", "- [One](one.md)\n", &[("one.md", "# One\n\nfirst\n")]);
        crate::book::build(book.path(), false, Player::Reuse).unwrap();
        let (notices, mut heard) = broadcast::channel(4);
        let (_watcher, _rebuild) = start(book.path(), None, notices).unwrap();
        let chapter = book.path().join("src/one.md");
        std::fs::write(book.path().join("src/.one.md.swp"), "an editor's swap").unwrap();
        std::fs::set_permissions(&chapter, std::fs::Permissions::from_mode(0o600)).unwrap();
        // A rebuild starts 100 ms (QUIET) after the last change; give one 3 s to show.
        std::thread::sleep(Duration::from_secs(3));
        assert!(
            heard.try_recv().is_err(),
            "a swap file or a chmod was taken for a change"
        );
        std::fs::write(&chapter, "# One\n\nsecond\n").unwrap();
        let t0 = Instant::now();
        let generation = loop {
            match heard.try_recv() {
                Ok(Notice::Reload(generation)) => break generation,
                Ok(Notice::BuildFailed(e)) => panic!("the rebuild failed: {e}"),
                Err(_) => {
                    assert!(
                        t0.elapsed() < Duration::from_secs(60),
                        "no rebuild after a save"
                    );
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        assert_eq!(generation, 1, "the save is the first rebuild");
        let page = std::fs::read_to_string(book.path().join("book/one.html")).unwrap();
        assert!(page.contains("second"), "one.html shows the saved text");
    }
}
