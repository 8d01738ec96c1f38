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
    ///
    /// A key mdBook does not know under `[book]` (or `[build]`, `[rust]`) or under
    /// `[output.html]` is left out here; [`BookConfig::load_checked`] says which.
    pub fn load(root: &Path) -> Result<BookConfig> {
        Ok(BookConfig::load_checked(root)?.0)
    }

    /// [`BookConfig::load`], with the keys it left out (`output.html.default-thme`).
    /// mdBook itself refuses an unknown `[book]` key outright, and drops the whole
    /// `[output.html]` table, silently, for one unknown key in it.
    pub fn load_checked(root: &Path) -> Result<(BookConfig, Vec<String>)> {
        let toml = root.join("book.toml");
        let text = std::fs::read_to_string(&toml)
            .with_context(|| format!("reading {}", toml.display()))?;
        let (mdbook, unknown) =
            parse_config(&text).with_context(|| format!("reading {}", toml.display()))?;
        let deck =
            DeckConfig::from_mdbook(&mdbook).with_context(|| format!("in {}", toml.display()))?;
        let config = BookConfig {
            root: root.to_path_buf(),
            mdbook,
            deck,
        };
        Ok((config, unknown))
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
///
/// The build goes into a fresh directory next to it, which is swapped into place in
/// one step only once it is complete: a failed build (a bad slide, a full disk) leaves
/// the last good one served whole, and a page or the player is never missing, not
/// even for a moment, while a good one replaces it.
pub fn build(root: &Path, strict: bool, player: Player) -> Result<PathBuf> {
    // Diagrams are drawn by the engine's `deck-diagram` command (see diagrams.rs).
    crate::diagrams::install();
    let (book, unknown) = BookConfig::load_checked(root)?;
    let toml = root.join("book.toml");
    if !unknown.is_empty() {
        let keys = unknown.join(", ");
        anyhow::ensure!(
            !strict,
            "{}: unknown key(s) {keys} (--strict)",
            toml.display()
        );
        eprintln!(
            "warning: {}: unknown key(s) {keys}, ignored (a typo? --strict makes this an error)",
            toml.display()
        );
    }
    let src = book.src_dir();
    let demos = book.demos_dir();
    check_summary(&src)?;
    check_symlinks(&src)?;
    let mut config = book.mdbook;
    if strict {
        config
            .set("preprocessor.deck.strict", true)
            .context("setting strict mode")?;
    }
    // A SUMMARY.md entry without its file is an error (checked above), never an empty
    // chapter mdBook creates in slides/.
    config
        .set("build.create-missing", false)
        .context("turning off create-missing")?;
    // Runnable Rust blocks make every page fetch a crate list from the Rust
    // playground's host; the deck loads nothing from another host.
    config
        .set("output.html.playground.runnable", false)
        .context("turning off the playground")?;
    let target = root.join(&config.build.build_dir);
    let parent = target
        .parent()
        .with_context(|| format!("{} has no parent directory", target.display()))?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    remove_stale_staging(parent);
    let staging = tempfile::Builder::new()
        .prefix(&format!("{STAGING}{}-", std::process::id()))
        .tempdir_in(parent)
        .with_context(|| format!("a directory to build in, in {}", parent.display()))?;
    config.build.build_dir = staging.path().to_path_buf();
    let mut md = MDBook::load_with_config(root, config)
        .with_context(|| format!("loading the book at {}", root.display()))?;
    // Same name as book.toml's command-line preprocessor, so this replaces it in place.
    md.with_preprocessor(deck::Deck);
    md.build()
        .with_context(|| format!("building the book at {}", root.display()))?;
    let built = md.build_dir_for("html");
    install_assets(&built, player, lists_theme(&md.config))?;
    check_no_playground(&built)?;
    if let Some(demos) = demos {
        write_pcaps(&demos, &built.join(PCAP_DIR))?;
    }
    let inside = built
        .strip_prefix(staging.path())
        .unwrap_or(Path::new(""))
        .to_path_buf();
    swap_into_place(staging, &target)?;
    Ok(target.join(inside))
}

/// The name of a build directory being filled, next to the real one (`.book-building-PID-…`).
const STAGING: &str = ".book-building-";

/// Removes build directories left by builds that were killed (their process is gone).
fn remove_stale_staging(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(STAGING)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Puts the finished build at `target` in one step: the two directories are exchanged
/// (`renameat2(RENAME_EXCHANGE)`), and the old one, now in `staging`, is removed. Where
/// the file system cannot exchange, the old one is renamed away first (a moment
/// without a book).
fn swap_into_place(staging: tempfile::TempDir, target: &Path) -> Result<()> {
    let from = staging.path();
    if std::fs::symlink_metadata(target).is_err() {
        std::fs::rename(from, target)
            .with_context(|| format!("moving {} to {}", from.display(), target.display()))?;
        let _ = staging.keep();
        return Ok(());
    }
    use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
    let done = renameat2(
        AT_FDCWD,
        from,
        AT_FDCWD,
        target,
        RenameFlags::RENAME_EXCHANGE,
    );
    if let Err(err) = done {
        anyhow::ensure!(
            matches!(err, nix::errno::Errno::EINVAL | nix::errno::Errno::ENOSYS),
            "swapping {} into place at {}: {err}",
            from.display(),
            target.display()
        );
        let old = from.with_extension("old");
        std::fs::rename(target, &old)
            .with_context(|| format!("moving {} aside", target.display()))?;
        std::fs::rename(from, target)
            .with_context(|| format!("moving {} to {}", from.display(), target.display()))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    // `staging` now holds the old build; dropping it removes it.
    drop(staging);
    Ok(())
}

/// Every entry of `src/SUMMARY.md` names a file that exists: a typo is an error with
/// the file and line, not an empty chapter.
fn check_summary(src: &Path) -> Result<()> {
    let summary = src.join("SUMMARY.md");
    let text = std::fs::read_to_string(&summary)
        .with_context(|| format!("reading {}", summary.display()))?;
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let link = after[..end].trim();
            let link = link
                .strip_prefix('<')
                .and_then(|l| l.strip_suffix('>'))
                .unwrap_or(link);
            let file = link.split('#').next().unwrap_or("");
            // `[Draft]()` is a draft chapter; links to other sites are not chapters.
            if !file.is_empty() && !file.contains("://") {
                let decoded = percent_encoding::percent_decode_str(file).decode_utf8_lossy();
                let path = src.join(decoded.as_ref());
                anyhow::ensure!(
                    path.is_file(),
                    "{}:{}: ({link}) names a file that does not exist: {}",
                    summary.display(),
                    i + 1,
                    path.display()
                );
            }
            rest = &after[end..];
        }
    }
    Ok(())
}

/// A symlink under the book's sources that leads out of them (or nowhere) is an
/// error: mdBook would copy what it points to into the site and serve it.
fn check_symlinks(src: &Path) -> Result<()> {
    let real_src = src
        .canonicalize()
        .with_context(|| format!("resolving {}", src.display()))?;
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            let meta = std::fs::symlink_metadata(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            if meta.file_type().is_symlink() {
                let to = std::fs::read_link(&path).unwrap_or_default();
                match path.canonicalize() {
                    Ok(real) if real.starts_with(&real_src) => {}
                    Ok(real) => anyhow::bail!(
                        "{}: a symlink to {} ({}), outside the book's sources {}: copy the file in instead",
                        path.display(),
                        to.display(),
                        real.display(),
                        src.display()
                    ),
                    Err(e) => anyhow::bail!(
                        "{}: a symlink to {}, which cannot be read: {e}",
                        path.display(),
                        to.display()
                    ),
                }
            } else if meta.is_dir() {
                dirs.push(path);
            }
        }
    }
    Ok(())
}

/// No page may carry a runnable Rust block (`mdbook-runnable` overrides the book's
/// setting): mdBook's script would fetch from the Rust playground's host.
fn check_no_playground(out: &Path) -> Result<()> {
    let mut dirs = vec![out.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                let html = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                anyhow::ensure!(
                    !html.contains("class=\"playground\""),
                    "{}: a runnable Rust block would load the Rust playground from another host: drop `mdbook-runnable`",
                    path.display()
                );
            }
        }
    }
    Ok(())
}

/// Parses book.toml as mdBook does, leaving out (and returning, as dotted paths) the
/// keys mdBook does not know under `[book]`, `[build]`, `[rust]` and `[output.html]`.
fn parse_config(text: &str) -> Result<(Config, Vec<String>)> {
    let mut doc: toml::Table = toml::from_str(text).context("invalid TOML")?;
    let mut unknown = Vec::new();
    // The top level and [book], [build], [rust]: the tables of mdBook's `Config`
    // (`[output]` and `[preprocessor]` are free-form there).
    prune_unknown::<Config>(&mut doc, "", &["output", "preprocessor"], &mut unknown)?;
    if let Some(toml::Value::Table(html)) = doc
        .get_mut("output")
        .and_then(|o| o.as_table_mut())
        .and_then(|o| o.get_mut("html"))
    {
        prune_unknown::<mdbook_driver::config::HtmlConfig>(
            html,
            "output.html.",
            &[],
            &mut unknown,
        )?;
    }
    let config: Config = toml::Value::Table(doc)
        .try_into()
        .context("invalid configuration")?;
    Ok((config, unknown))
}

/// Removes from `table` each key that `T` refuses as unknown (serde names them one at
/// a time), recording its dotted path; other errors (a wrong type) are errors.
fn prune_unknown<T: serde::de::DeserializeOwned>(
    table: &mut toml::Table,
    prefix: &str,
    skip: &[&str],
    unknown: &mut Vec<String>,
) -> Result<()> {
    loop {
        let err = match toml::Value::Table(table.clone()).try_into::<T>() {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let message = err.to_string();
        let key = message
            .split_once("unknown field `")
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(key, _)| key.to_string());
        let Some(key) = key else {
            return Err(anyhow::anyhow!(message));
        };
        match remove_key(table, &key, skip) {
            Some(path) => unknown.push(format!("{prefix}{path}")),
            None => return Err(anyhow::anyhow!(message)),
        }
    }
}

/// Removes the first `key` found in `table` or the tables below it (not those named in
/// `skip` at the top); returns its dotted path.
fn remove_key(table: &mut toml::Table, key: &str, skip: &[&str]) -> Option<String> {
    if table.remove(key).is_some() {
        return Some(key.to_string());
    }
    for (name, value) in table.iter_mut() {
        if skip.contains(&name.as_str()) {
            continue;
        }
        if let toml::Value::Table(inner) = value
            && let Some(path) = remove_key(inner, key, &[])
        {
            return Some(format!("{name}.{path}"));
        }
    }
    None
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
        let Ok(t) = serde_json::from_str::<contract::Transcript>(&text) else {
            continue;
        };
        if t.wire.is_empty() || t.validate().is_err() {
            continue;
        }
        let bytes = contract::wire::pcap::write(&t.wire)
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
pub(crate) mod tests {
    use super::*;

    /// A small book in a temporary directory: `SUMMARY.md` lines and chapter files.
    pub(crate) fn fixture(
        toml_extra: &str,
        summary: &str,
        chapters: &[(&str, &str)],
    ) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("book.toml"),
            format!("[book]\ntitle = \"t\"\nsrc = \"src\"\n{toml_extra}"),
        )
        .unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("SUMMARY.md"), summary).unwrap();
        for (name, text) in chapters {
            std::fs::write(src.join(name), text).unwrap();
        }
        dir
    }

    const SUMMARY: &str = "# Summary\n\n- [One](one.md)\n- [Two](two.md)\n";

    fn two_chapters(toml_extra: &str) -> tempfile::TempDir {
        fixture(
            toml_extra,
            SUMMARY,
            &[
                ("one.md", "# One\n\nfirst\n"),
                ("two.md", "# Two\n\nsecond\n"),
            ],
        )
    }

    /// Every file under `dir` with its contents.
    fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
        let mut files = std::collections::BTreeMap::new();
        let mut dirs = vec![dir.to_path_buf()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    let data = std::fs::read(&p).unwrap();
                    files.insert(p.strip_prefix(dir).unwrap().to_path_buf(), data);
                }
            }
        }
        files
    }

    #[test]
    fn defect_2_a_build_that_fails_while_writing_leaves_the_last_good_book_whole() {
        let book = two_chapters("");
        let out = build(book.path(), false, Player::Reuse).unwrap();
        let before = snapshot(&out);
        assert!(before.contains_key(Path::new("deck/player.js")));
        assert!(before.contains_key(Path::new("two.html")));
        // mdBook writes the chapters, then fails on the missing stylesheet: a build that
        // breaks half-way through writing.
        std::fs::write(book.path().join("src/two.md"), "# Two\n\nchanged\n").unwrap();
        let toml = book.path().join("book.toml");
        let mut text = std::fs::read_to_string(&toml).unwrap();
        text.push_str("[output.html]\nadditional-css = [\"missing.css\"]\n");
        std::fs::write(&toml, text).unwrap();
        let err = build(book.path(), false, Player::Reuse).unwrap_err();
        eprintln!("the failed build: {err:#}");
        assert!(
            before == snapshot(&out),
            "the failed build changed the served book"
        );
        let left: Vec<_> = std::fs::read_dir(book.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with(STAGING))
            .collect();
        assert!(left.is_empty(), "build directories left behind: {left:?}");
    }

    #[test]
    fn defect_3_a_summary_entry_without_its_file_is_an_error_with_file_and_line() {
        for strict in [false, true] {
            let book = fixture(
                "",
                "# Summary\n\n- [One](one.md)\n- [Handles](handels.md)\n",
                &[("one.md", "# One\n"), ("handles.md", "# Handles\n")],
            );
            let err = format!(
                "{:#}",
                build(book.path(), strict, Player::Reuse).unwrap_err()
            );
            assert!(err.contains("SUMMARY.md:4:"), "strict {strict}: {err}");
            assert!(err.contains("handels.md"), "{err}");
            assert!(
                !book.path().join("src/handels.md").exists(),
                "mdBook created the missing chapter"
            );
        }
        // Drafts (`[x]()`) are not files.
        let book = fixture(
            "",
            "- [One](one.md)\n- [Later]()\n",
            &[("one.md", "# One\n")],
        );
        build(book.path(), true, Player::Reuse).unwrap();
    }

    #[test]
    fn defect_13_unknown_keys_under_output_html_and_book_warn_and_fail_when_strict() {
        let typos = "description = \"d\"\ntitel = \"typo\"\n[output.html]\ndefault-thme = \"navy\"\npreferred-dark-theme = \"navy\"\n[output.html.playground]\nrunable = true\n";
        let book = fixture(
            typos,
            SUMMARY,
            &[("one.md", "# One\n"), ("two.md", "# Two\n")],
        );
        let (config, unknown) = BookConfig::load_checked(book.path()).unwrap();
        assert_eq!(
            unknown,
            [
                "book.titel",
                "output.html.default-thme",
                "output.html.playground.runable"
            ]
        );
        // The rest of the table still applies (mdBook alone would drop all of it).
        assert_eq!(
            config
                .mdbook
                .html_config()
                .unwrap()
                .preferred_dark_theme
                .as_deref(),
            Some("navy")
        );
        assert_eq!(config.mdbook.book.description.as_deref(), Some("d"));
        build(book.path(), false, Player::Reuse).unwrap();
        let err = format!("{:#}", build(book.path(), true, Player::Reuse).unwrap_err());
        assert!(
            err.contains("output.html.default-thme") && err.contains("book.titel"),
            "{err}"
        );
        // A wrong type is still an error, strict or not.
        let book = fixture("[output.html]\nmathjax-support = \"yes\"\n", SUMMARY, &[]);
        assert!(BookConfig::load(book.path()).is_err());
    }

    #[test]
    fn defect_15_a_symlink_in_the_sources_that_leads_out_is_an_error_with_its_path() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        for (link, to) in [
            ("src/secret.txt", outside.path().join("secret.txt")),
            ("src/img/all", outside.path().to_path_buf()),
            ("src/dangling.png", outside.path().join("nothing")),
        ] {
            let book = two_chapters("");
            let link = book.path().join(link);
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(&to, &link).unwrap();
            let err = format!(
                "{:#}",
                build(book.path(), false, Player::Reuse).unwrap_err()
            );
            assert!(err.contains(&link.display().to_string()), "{err}");
            assert!(!book.path().join("book").exists(), "nothing was built");
        }
        // A link that stays inside is fine.
        let book = two_chapters("");
        std::os::unix::fs::symlink("one.md", book.path().join("src/same.md")).unwrap();
        build(book.path(), false, Player::Reuse).unwrap();
    }

    #[test]
    fn defect_11_rust_blocks_are_not_runnable_so_nothing_is_fetched_from_the_playground() {
        let book = fixture(
            "",
            "- [One](one.md)\n",
            &[("one.md", "# One\n\n```rust\nfn main() {}\n```\n")],
        );
        let out = build(book.path(), false, Player::Reuse).unwrap();
        let html = std::fs::read_to_string(out.join("one.html")).unwrap();
        assert!(html.contains("fn main"), "{html}");
        assert!(!html.contains("class=\"playground\""), "{html}");
        // A block that asks to be runnable is refused.
        let book = fixture(
            "",
            "- [One](one.md)\n",
            &[(
                "one.md",
                "# One\n\n```rust,mdbook-runnable\nfn main() {}\n```\n",
            )],
        );
        let err = format!(
            "{:#}",
            build(book.path(), false, Player::Reuse).unwrap_err()
        );
        assert!(err.contains("playground"), "{err}");
        // The talk's own book.toml says so too, for a stock `mdbook build`.
        let talk = BookConfig::load(&project_root()).unwrap().mdbook;
        assert!(!talk.html_config().unwrap().playground.runnable);
        assert!(!talk.build.create_missing);
    }

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
            let t: contract::Transcript = serde_json::from_str(&text).unwrap();
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
