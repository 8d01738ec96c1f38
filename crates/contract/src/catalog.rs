//! The demo catalogue and where transcripts live, defined once for every user: capture,
//! the preprocessor, the presenter's server, `cargo xtask demo` and the tests.
//!
//! A demo is a file `DEMOS/src/bin/NAME.rs`; its first `//!` line is its claim. Reading
//! the claim from the source (rather than from a list kept elsewhere) means a new demo
//! is listed, captured and embeddable the moment its file exists. Its captured run is
//! `DEMOS/transcripts/NAME.json` ([`transcript_path`]).

use std::fmt;
use std::path::{Path, PathBuf};

/// Where the demo programs are, below a demos crate directory.
pub const BIN_DIR: &str = "src/bin";

/// Where the captured runs are, below a demos crate directory.
pub const TRANSCRIPT_DIR: &str = "transcripts";

/// The folder of a demos crate's captured runs.
pub fn transcripts_dir(demos_dir: &Path) -> PathBuf {
    demos_dir.join(TRANSCRIPT_DIR)
}

/// Where the committed transcript of a demo lives.
pub fn transcript_path(demos_dir: &Path, name: &str) -> PathBuf {
    transcripts_dir(demos_dir).join(format!("{name}.json"))
}

/// The source file of a demo.
pub fn source_path(demos_dir: &Path, name: &str) -> PathBuf {
    demos_dir.join(BIN_DIR).join(format!("{name}.rs"))
}

/// Why the catalogue could not be read, naming the file (and line) at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// One demo program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoInfo {
    pub name: String,
    pub claim: String,
    pub source: PathBuf,
}

/// The demos below a demos crate directory (`demos/`), sorted by name.
pub fn list(demos_dir: &Path) -> Result<Vec<DemoInfo>, Error> {
    let bin_dir = demos_dir.join(BIN_DIR);
    let listing_failed = |e: std::io::Error| {
        Error(format!(
            "reading the demo directory {}: {e}",
            bin_dir.display()
        ))
    };
    let mut demos = Vec::new();
    for entry in std::fs::read_dir(&bin_dir).map_err(listing_failed)? {
        let path = entry.map_err(listing_failed)?.path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let source = std::fs::read_to_string(&path)
            .map_err(|e| Error(format!("reading {}: {e}", path.display())))?;
        let Some(claim) = claim_of(&source) else {
            return Err(Error(format!(
                "{}:1: a demo's first line must be its claim, as a `//!` comment",
                path.display()
            )));
        };
        demos.push(DemoInfo {
            name: name.to_string(),
            claim,
            source: path,
        });
    }
    demos.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(demos)
}

/// The first `//!` line of a source file, without the marker: the one rule for a demo's
/// claim. Blank lines before it are allowed; anything else first means no claim.
pub fn claim_of(source: &str) -> Option<String> {
    let first = source.lines().find(|l| !l.trim().is_empty())?;
    let claim = first.trim().strip_prefix("//!")?.trim();
    (!claim.is_empty()).then(|| claim.to_string())
}

/// Known names closest to a misspelt one, best first (for "did you mean").
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .map(|k| {
            let d = edit_distance(wanted, k);
            // A substring match counts as close however long the names are.
            let d = if k.contains(wanted) || wanted.contains(k) {
                d.min(2)
            } else {
                d
            };
            (d, k)
        })
        .filter(|&(d, k)| d <= (k.len().max(wanted.len()) / 2).max(2))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, k)| k).collect()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// "did you mean `a` or `b`?" or an empty string.
pub fn did_you_mean(candidates: &[&str]) -> String {
    match candidates {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        many => {
            let quoted: Vec<String> = many.iter().map(|c| format!("`{c}`")).collect();
            format!(" (did you mean one of {}?)", quoted.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_is_the_first_doc_line() {
        assert_eq!(
            claim_of("//! A claim.\n//! More.\nfn main() {}"),
            Some("A claim.".into())
        );
        assert_eq!(claim_of("\n  //!  Spaced  \n"), Some("Spaced".into()));
        assert_eq!(claim_of("fn main() {}\n//! late"), None);
        assert_eq!(claim_of("//!\n"), None);
    }

    #[test]
    fn paths_of_a_demo() {
        let dir = Path::new("/d");
        assert_eq!(
            transcript_path(dir, "x"),
            Path::new("/d/transcripts/x.json")
        );
        assert_eq!(source_path(dir, "x"), Path::new("/d/src/bin/x.rs"));
    }

    #[test]
    fn closest_names_rank_by_distance() {
        let known = ["peek", "udp-drops-on-localhost", "socket-outlives-process"];
        assert_eq!(closest("peak", known), vec!["peek"]);
        assert_eq!(closest("udp-drops", known), vec!["udp-drops-on-localhost"]);
        assert!(closest("zzzzzzzz", known).is_empty());
    }

    #[test]
    fn lists_demos_with_claims_and_rejects_a_missing_claim() {
        let dir = std::env::temp_dir().join(format!("transcript-catalog-{}", std::process::id()));
        let bin = dir.join("src/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("b.rs"), "//! Bee.\nfn main(){}").unwrap();
        std::fs::write(bin.join("a.rs"), "//! Ay.\nfn main(){}").unwrap();
        std::fs::write(bin.join("notes.txt"), "ignored").unwrap();
        let names: Vec<_> = list(&dir)
            .unwrap()
            .into_iter()
            .map(|d| (d.name, d.claim))
            .collect();
        assert_eq!(
            names,
            vec![("a".into(), "Ay.".into()), ("b".into(), "Bee.".into())]
        );
        std::fs::write(bin.join("c.rs"), "fn main(){}").unwrap();
        let err = list(&dir).unwrap_err().to_string();
        assert!(err.contains("c.rs:1"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
