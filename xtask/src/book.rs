//! Building a book: mdbook with the deck preprocessor registered in-process, then the
//! deck's browser assets (the CSS, the loader and the WebAssembly player) next to it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use deck::DeckConfig;
use mdbook_driver::MDBook;
use mdbook_driver::config::Config;
use xshell::Shell;

use crate::{project_root, wasm};

/// Where the browser assets go inside a built book.
pub const ASSET_DIR: &str = "deck";

/// What `build` should do about the WebAssembly player.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Player {
    /// Rebuild it (cargo decides whether anything changed).
    Rebuild,
    /// Reuse the last build when there is one (a slide edit does not touch it).
    Reuse,
}

pub fn build_cmd(book: Option<&Path>, strict: bool) -> Result<ExitCode> {
    let root = book_root(book)?;
    let t0 = Instant::now();
    let out = build(&root, strict, Player::Rebuild)?;
    eprintln!(
        "built {} in {:.1} s",
        out.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// The root of the book to build: the talk, or the `--book DIR` given.
pub fn book_root(book: Option<&Path>) -> Result<PathBuf> {
    let root = match book {
        Some(dir) => std::env::current_dir()
            .context("current directory")?
            .join(dir),
        None => project_root(),
    };
    let toml = root.join("book.toml");
    anyhow::ensure!(
        toml.exists(),
        "{} has no book.toml: is it a book?",
        root.display()
    );
    root.canonicalize()
        .with_context(|| format!("resolving {}", root.display()))
}

/// A book's `book.toml`, read in one place: mdBook's settings and the deck's table.
pub struct BookConfig {
    pub root: PathBuf,
    pub mdbook: Config,
    pub deck: DeckConfig,
}

impl BookConfig {
    /// Reads and checks `root/book.toml`; a wrong deck key is an error here, before any
    /// build starts.
    pub fn load(root: &Path) -> Result<BookConfig> {
        let toml = root.join("book.toml");
        let mdbook =
            Config::from_disk(&toml).with_context(|| format!("reading {}", toml.display()))?;
        let deck =
            DeckConfig::from_mdbook(&mdbook).with_context(|| format!("in {}", toml.display()))?;
        Ok(BookConfig {
            root: root.to_path_buf(),
            mdbook,
            deck,
        })
    }

    /// The chapters' folder (`src` under `[book]`).
    pub fn src_dir(&self) -> PathBuf {
        self.root.join(&self.mdbook.book.src)
    }

    /// The demos crate the book embeds (`demos` under `[preprocessor.deck]`), if any.
    pub fn demos_dir(&self) -> Option<PathBuf> {
        self.deck.demos_dir(&self.root)
    }
}

/// Builds the book at `root` into its build directory and returns that directory.
pub fn build(root: &Path, strict: bool, player: Player) -> Result<PathBuf> {
    let book = BookConfig::load(root)?;
    let demos = book.demos_dir();
    let mut config = book.mdbook;
    if strict {
        config
            .set("preprocessor.deck.strict", true)
            .context("setting strict mode")?;
    }
    let mut md = MDBook::load_with_config(root, config)
        .with_context(|| format!("loading the book at {}", root.display()))?;
    // Same name as book.toml's command-line preprocessor, so this replaces it in place.
    md.with_preprocessor(deck::Deck);
    md.build()
        .with_context(|| format!("building the book at {}", root.display()))?;
    let out = md.build_dir_for("html");
    install_assets(&out, player, lists_theme(&md.config))?;
    if let Some(demos) = demos {
        write_pcaps(&demos, &out.join(PCAP_DIR))?;
    }
    Ok(out)
}

/// Where the `.pcap` of each demo's captured wire goes, beside the chapters (a ladder's
/// caption links `pcap/DEMO.pcap`).
pub const PCAP_DIR: &str = "pcap";

/// Writes `DEMO.pcap` into `dir` for every transcript under `demos` with packets, so a
/// reader can open the captured run in Wireshark; returns how many.
pub fn write_pcaps(demos: &Path, dir: &Path) -> Result<usize> {
    let transcripts = demos.join("transcripts");
    let Ok(entries) = std::fs::read_dir(&transcripts) else {
        return Ok(0);
    };
    let mut written = 0;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        // A transcript the build rejects is reported by the build, with its slide.
        let Ok(t) = serde_json::from_str::<transcript::Transcript>(&text) else {
            continue;
        };
        if t.wire.is_empty() || t.validate().is_err() {
            continue;
        }
        let bytes = transcript::wire::pcap::write(&t.wire)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let pcap = dir.join(format!("{}.pcap", t.demo));
        std::fs::write(&pcap, bytes).with_context(|| format!("writing {}", pcap.display()))?;
        written += 1;
    }
    Ok(written)
}

/// True when the book's own config loads the deck theme (ours does, so that a stock
/// `mdbook build` has it too); other books get it injected after the build.
fn lists_theme(config: &Config) -> bool {
    config
        .html_config()
        .is_some_and(|html| html.additional_js.iter().any(|p| p.ends_with("deck.js")))
}

/// Copies the player next to the book and, for books that do not list the deck theme
/// themselves, the theme files plus the tags that load them.
fn install_assets(out: &Path, player: Player, book_lists_theme: bool) -> Result<()> {
    let sh = Shell::new()?;
    let assets = out.join(ASSET_DIR);
    std::fs::create_dir_all(&assets).with_context(|| format!("creating {}", assets.display()))?;
    let cache = wasm::target_dir(&sh)?.join("deck-player");
    if player == Player::Rebuild || !cache.join("player_bg.wasm").exists() {
        wasm::build_player(&sh, &cache)?;
    }
    for file in ["player.js", "player_bg.wasm"] {
        copy(&cache.join(file), &assets.join(file))?;
    }
    if !book_lists_theme {
        let theme = project_root().join("theme");
        for file in ["deck.css", "deck.js"] {
            copy(&theme.join(file), &assets.join(file))?;
        }
        inject_theme_tags(out, out)?;
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// Adds `<link>` and `<script>` for the deck theme to every page below `dir`.
fn inject_theme_tags(out: &Path, dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            if !path.ends_with(ASSET_DIR) {
                inject_theme_tags(out, &path)?;
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let depth = path
            .strip_prefix(out)
            .map(|p| p.components().count() - 1)
            .unwrap_or(0);
        let up = "../".repeat(depth);
        let html = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let tags = format!(
            "<link rel=\"stylesheet\" href=\"{up}{ASSET_DIR}/deck.css\">\n<script src=\"{up}{ASSET_DIR}/deck.js\"></script>\n"
        );
        if let Some(at) = html.find("</head>") {
            let patched = format!("{}{tags}{}", &html[..at], &html[at..]);
            std::fs::write(&path, patched)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    Ok(())
}

/// Total size of a directory tree, for reports.
pub fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let p = e.path();
            if p.is_dir() {
                dir_size(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every committed transcript with packets becomes a `.pcap` that tshark (Debian's,
    /// which `cargo xtask test` installs) reads back packet for packet: the same count,
    /// and the same ports, SYN/FIN/RST flags and payload length in the same order.
    #[test]
    fn pcaps_open_in_tshark_with_the_same_packets() {
        let Some(tshark) = crate::setup::DEMOS
            .iter()
            .find(|(p, _)| *p == "tshark")
            .and_then(|(_, find)| find())
        else {
            eprintln!("skipped: tshark is not installed (apt-get install tshark)");
            return;
        };
        let demos = project_root().join("demos");
        let dir = tempfile::tempdir().unwrap();
        let written = write_pcaps(&demos, dir.path()).unwrap();
        assert!(written >= 6, "the six wire demos have packets: {written}");
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let pcap = entry.unwrap().path();
            let name = pcap.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(deck::transcript_path(&demos, &name)).unwrap();
            let t: transcript::Transcript = serde_json::from_str(&text).unwrap();
            let mut want: Vec<(u64, String)> = t
                .wire
                .iter()
                .flat_map(|c| {
                    c.packets.iter().map(move |p| {
                        let (from, to) = if p.from_client {
                            (&c.client, &c.server)
                        } else {
                            (&c.server, &c.client)
                        };
                        let port = |a: &str| a.rsplit(':').next().unwrap().to_owned();
                        let f = |flag| if p.has(flag) { "1" } else { "0" };
                        let line = [
                            port(from),
                            port(to),
                            f("SYN").into(),
                            f("FIN").into(),
                            f("RST").into(),
                            p.len.to_string(),
                        ]
                        .join("\t");
                        (c.start_unix_us + p.at_us, line)
                    })
                })
                .collect();
            want.sort_by_key(|w| w.0);
            let out = std::process::Command::new(&tshark)
                .args(["-n", "-r"])
                .arg(&pcap)
                .args(["-T", "fields", "-e", "tcp.srcport", "-e", "tcp.dstport"])
                .args([
                    "-e",
                    "tcp.flags.syn",
                    "-e",
                    "tcp.flags.fin",
                    "-e",
                    "tcp.flags.reset",
                ])
                .args(["-e", "tcp.len"])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "tshark -r {name}.pcap: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(|l| l.replace("True", "1").replace("False", "0"))
                .collect();
            let want: Vec<String> = want.into_iter().map(|w| w.1).collect();
            assert_eq!(got.len(), want.len(), "{name}.pcap: packet count");
            assert_eq!(got, want, "{name}.pcap: packet by packet");
        }
    }
}
