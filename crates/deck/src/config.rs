//! The deck's settings: `[preprocessor.deck]` in `book.toml`, as one typed struct read in
//! one place ([`DeckConfig::from_mdbook`]) by the preprocessor, `cargo xtask build` and
//! `cargo xtask present`.
//!
//! Unknown keys are errors (a misspelt `stirct = true` must not be silently ignored);
//! mdBook's own keys for any preprocessor (`command`, `before`, `after`, `optional`,
//! `renderers`) are accepted and left to mdBook.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
pub use contract::page::{Aspect, Seconds};
use serde::Deserialize;

/// The table's name in `book.toml`.
pub const TABLE: &str = "preprocessor.deck";

/// The environment variable that turns warnings into errors (`DECK_STRICT=1`).
pub const STRICT_ENV: &str = "DECK_STRICT";

/// `[preprocessor.deck]`, every key optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeckConfig {
    // mdBook's keys for every preprocessor; read by mdBook, not by us.
    /// How a stock `mdbook build` starts the preprocessor.
    pub command: Option<String>,
    #[serde(default)]
    pub before: Vec<String>,
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub renderers: Vec<String>,

    /// The demos crate, relative to the book root.
    pub demos: Option<PathBuf>,
    /// Warnings (from reStructuredText chapters) fail the build.
    #[serde(default)]
    pub strict: bool,
    /// The slide shape, `W:H` (16:9 when unset), checked when read.
    pub aspect: Option<Aspect>,

    // Pacing (the speaker window).
    /// The talk's length, e.g. `"40m"`, checked when read.
    pub duration: Option<Seconds>,
    /// Some chapters' own share of the duration: chapter file = `"8m"`.
    #[serde(default)]
    pub budgets: BTreeMap<String, Seconds>,

    // The title slide.
    pub subtitle: Option<String>,
    pub speaker: Option<String>,
    pub event: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    /// The closing slide's title (e.g. "Thank you"): the talk ends with it, the `url`
    /// and a QR code of it.
    pub closing: Option<String>,

    // reStructuredText chapters.
    /// How many section levels start slides (hieroglyph's `slide_levels`).
    pub slide_levels: Option<u32>,

    /// The kernels `cargo xtask kernels` runs every demo on: `host`, or a Debian
    /// series such as `"6.12"`, checked when read.
    #[serde(default)]
    pub kernels: Vec<KernelEntry>,
}

/// An entry of `kernels`: `host` (the running kernel), or a Debian kernel series, two
/// numbers such as `6.12`. Checked when book.toml is read, so a misspelt entry stops
/// `cargo xtask build` as well, not only `cargo xtask kernels` when it reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct KernelEntry(String);

impl KernelEntry {
    /// The running kernel: the list when book.toml gives none.
    pub fn host() -> KernelEntry {
        KernelEntry("host".into())
    }

    /// `host`, or the series (`6.12`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The running kernel rather than one booted under QEMU.
    pub fn is_host(&self) -> bool {
        self.0 == "host"
    }
}

impl TryFrom<String> for KernelEntry {
    type Error = String;
    fn try_from(entry: String) -> Result<KernelEntry, String> {
        let series = entry
            .split_once('.')
            .is_some_and(|(major, minor)| [major, minor].iter().all(|n| is_number(n)));
        if entry == "host" || series {
            Ok(KernelEntry(entry))
        } else {
            Err(format!(
                "kernel `{entry}`: write `host` or a Debian series such as \"6.12\""
            ))
        }
    }
}

/// Decimal digits only (`u32::from_str` would also take a leading `+`).
fn is_number(text: &str) -> bool {
    !text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit())
}

impl std::fmt::Display for KernelEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl DeckConfig {
    /// The deck's table of a loaded mdBook config (all defaults when there is none).
    pub fn from_mdbook(config: &mdbook_preprocessor::config::Config) -> Result<DeckConfig> {
        let deck = config
            .get::<DeckConfig>(TABLE)
            .with_context(|| format!("reading [{TABLE}] in book.toml"))?
            .unwrap_or_default();
        deck.check()?;
        Ok(deck)
    }

    /// What serde cannot judge alone (each value's own type checked it when read):
    /// budgets need a duration to be a share of, and must fit in it. (That they name
    /// chapters needs the book: `pacing::plan`.)
    fn check(&self) -> Result<()> {
        anyhow::ensure!(
            self.duration.is_some() || self.budgets.is_empty(),
            "{TABLE}.budgets in book.toml needs a duration (e.g. duration = \"40m\")"
        );
        if let Some(duration) = self.duration {
            let budgeted: f64 = self.budgets.values().map(|s| s.0).sum();
            // Half a second of slack, inclusive: budgets written in seconds that fill
            // the duration may add up a hair over it.
            anyhow::ensure!(
                budgeted <= duration.0 + 0.5,
                "{TABLE}.budgets in book.toml add up to {}, more than the duration {}",
                clock(budgeted),
                clock(duration.0)
            );
        }
        if let Some(levels) = self.slide_levels {
            anyhow::ensure!(
                (1..=6).contains(&levels),
                "{TABLE}.slide_levels in book.toml must be 1 to 6, not {levels}"
            );
        }
        Ok(())
    }

    /// The demos crate directory of the book at `root`, if it has one.
    pub fn demos_dir(&self, root: &Path) -> Option<PathBuf> {
        self.demos.as_ref().map(|d| root.join(d))
    }

    /// The slide shape (16:9 when unset).
    pub fn aspect(&self) -> Aspect {
        self.aspect.unwrap_or_default()
    }

    /// Whether warnings fail the build: `strict = true`, or `DECK_STRICT` set to `1`,
    /// `true` or `yes`.
    pub fn strict(&self) -> bool {
        let env = std::env::var(STRICT_ENV)
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"));
        self.strict || env
    }
}

/// Minutes and seconds, as a speaker reads a length: `11m40s`.
fn clock(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}m{:02}s", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdbook_preprocessor::config::Config;

    fn parse(toml: &str) -> Result<DeckConfig> {
        let config: Config = toml.parse().map_err(|e| anyhow::anyhow!("{e:#}"))?;
        DeckConfig::from_mdbook(&config)
    }

    #[test]
    fn every_key_is_read_into_the_struct() {
        let deck = parse(
            r#"
[preprocessor.deck]
command = "cargo run --package deck --bin mdbook-deck"
after = ["links"]
demos = "demos"
strict = true
aspect = "4:3"
duration = "40m"
subtitle = "Sockets"
speaker = "Ada"
event = "Conf"
date = "2026-12-01"
url = "https://example.org/"
closing = "Thanks"
slide_levels = 2
kernels = ["6.1", "host", "6.12"]

[preprocessor.deck.budgets]
"tcp.md" = "8m"
"#,
        )
        .unwrap();
        assert_eq!(
            deck.demos_dir(Path::new("/b")),
            Some(PathBuf::from("/b/demos"))
        );
        assert!(deck.strict);
        assert_eq!(deck.aspect(), "4:3".parse().unwrap());
        assert_eq!(deck.duration, Some(Seconds(2400.0)));
        assert_eq!(deck.budgets["tcp.md"], Seconds(480.0));
        assert_eq!(deck.slide_levels, Some(2));
        let kernels: Vec<(&str, bool)> = deck
            .kernels
            .iter()
            .map(|k| (k.as_str(), k.is_host()))
            .collect();
        assert_eq!(kernels, [("6.1", false), ("host", true), ("6.12", false)]);
        assert_eq!(deck.kernels[2].to_string(), "6.12");
        assert_eq!(deck.after, ["links"]);
        assert_eq!(deck.speaker.as_deref(), Some("Ada"));
        assert_eq!(deck.closing.as_deref(), Some("Thanks"));
    }

    /// The example in the crate's docs (lib.rs) is a config that builds.
    #[test]
    fn the_crate_docs_example_is_a_valid_config() {
        let docs: String = include_str!("lib.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .map(|l| format!("{}\n", l.strip_prefix(' ').unwrap_or(l)))
            .collect();
        let start = docs.find("```toml\n").expect("lib.rs has a TOML example") + 8;
        let example = &docs[start..start + docs[start..].find("```").unwrap()];
        let deck = parse(example).unwrap_or_else(|e| panic!("{e:#}\n{example}"));
        assert_eq!(deck.budgets["tcp.md"], Seconds(480.0));
        assert_eq!(deck.speaker.as_deref(), Some("..."));
        assert_eq!(deck.closing.as_deref(), Some("Thank you"));
    }

    #[test]
    fn a_book_without_the_table_gets_the_defaults() {
        let deck = parse("[book]\ntitle = \"t\"\n").unwrap();
        assert_eq!(deck, DeckConfig::default());
        assert_eq!(deck.aspect(), Aspect::default());
        assert_eq!(deck.demos_dir(Path::new("/b")), None);
    }

    #[test]
    fn a_misspelt_key_or_a_bad_value_is_an_error_that_names_it() {
        let err = format!(
            "{:#}",
            parse("[preprocessor.deck]\nstirct = true\n").unwrap_err()
        );
        assert!(
            err.contains("stirct") && err.contains("[preprocessor.deck]"),
            "{err}"
        );
        let err = format!(
            "{:#}",
            parse("[preprocessor.deck]\nstrict = \"yes\"\n").unwrap_err()
        );
        assert!(err.contains("strict") || err.contains("bool"), "{err}");
        let err = format!(
            "{:#}",
            parse("[preprocessor.deck]\naspect = \"wide\"\n").unwrap_err()
        );
        assert!(
            err.contains("write it as W:H") && err.contains("aspect"),
            "{err}"
        );
        for (toml, says) in [
            ("duration = \"40 minutes\"", "not a length of time"),
            (
                "duration = \"40m\"\n[preprocessor.deck.budgets]\n\"a.md\" = \"x\"",
                "`x`",
            ),
            (
                "[preprocessor.deck.budgets]\n\"a.md\" = \"8m\"",
                "needs a duration",
            ),
            ("slide_levels = 9", "1 to 6"),
            ("kernels = [\"6.12\", \"6.x\"]", "kernel `6.x`"),
            ("kernels = [\"6\"]", "kernel `6`"),
            ("kernels = [\"6.12.1\"]", "kernel `6.12.1`"),
            ("kernels = [\"+6.12\"]", "kernel `+6.12`"),
            ("kernels = [\"Host\"]", "kernel `Host`"),
        ] {
            let err = format!(
                "{:#}",
                parse(&format!("[preprocessor.deck]\n{toml}\n")).unwrap_err()
            );
            assert!(err.contains(says), "{toml}: {err}");
        }
    }

    fn budgets(duration: &str, a: &str, b: &str) -> Result<DeckConfig> {
        parse(&format!(
            "[preprocessor.deck]\nduration = \"{duration}\"\n\
             [preprocessor.deck.budgets]\n\"a.md\" = \"{a}\"\n\"b.md\" = \"{b}\"\n"
        ))
    }

    #[test]
    fn budgets_over_the_duration_are_refused_saying_both_in_minutes_and_seconds() {
        let err = format!("{:#}", budgets("10m", "5m", "6m40s").unwrap_err());
        assert_eq!(
            err,
            "preprocessor.deck.budgets in book.toml add up to 11m40s, more than the duration 10m00s"
        );
    }

    /// Budgets that fill the duration, or pass it by up to half a second (inclusive:
    /// 600.5 s is exact in binary), are the rounding of budgets written in seconds.
    #[test]
    fn budgets_that_fill_the_duration_or_pass_it_by_at_most_half_a_second_are_accepted() {
        for (a, b) in [("300", "300"), ("300", "300.4"), ("300", "300.5")] {
            assert!(budgets("600", a, b).is_ok(), "{a} + {b}");
        }
        assert!(budgets("600", "300", "300.6").is_err());
        assert!(budgets("600", "300", "301").is_err());
    }
}
