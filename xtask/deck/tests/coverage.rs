//! The talk covers every point of its source notes, and shows every demo.
//!
//! `slides/appendix-coverage.md` maps each point id of the notes (listed in
//! `../shared/seed-points.md`, beside the repository) to the slide that covers it. These
//! tests fail when a point has no row, when a row names a slide that does not exist (a
//! chapter not in `SUMMARY.md`, or a title no heading in it has), and when a demo in
//! `demos/src/bin` is embedded by no slide. So the map cannot silently rot.

#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAP: &str = "slides/appendix-coverage.md";
const POINTS: &str = "../shared/seed-points.md";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// One row of the map: a point, and the chapter and slide title that cover it.
#[derive(Debug)]
struct Row {
    line: usize,
    id: String,
    chapter: String,
    title: String,
}

fn is_point_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && s.len() > 1
        && s[1..].chars().next().is_some_and(|c| c.is_ascii_digit())
        && s[1..].chars().all(|c| c.is_ascii_alphanumeric())
}

/// The rows of the Markdown table whose first cell is a point id.
fn map_rows(map: &str) -> Vec<Row> {
    map.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            let [id, chapter, title, ..] = cells.as_slice() else {
                return None;
            };
            is_point_id(id).then(|| Row {
                line: i + 1,
                id: id.to_string(),
                chapter: chapter.trim_matches('`').to_string(),
                title: title.to_string(),
            })
        })
        .collect()
}

/// The ids in seed-points.md: list items that start with one (`- B3 ...`).
fn point_ids(points: &str) -> BTreeSet<String> {
    points
        .lines()
        .filter_map(|l| l.strip_prefix("- ")?.split_whitespace().next())
        .filter(|id| is_point_id(id))
        .map(str::to_string)
        .collect()
}

/// Slide titles of a chapter: `#`/`##` headings, and underlined titles (Markdown's
/// setext headings, reStructuredText sections).
fn titles(chapter: &str) -> BTreeSet<String> {
    let lines: Vec<&str> = chapter.lines().collect();
    let mut found = BTreeSet::new();
    let mut in_fence = false;
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence {
            continue;
        }
        for marker in ["# ", "## "] {
            if let Some(title) = line.strip_prefix(marker) {
                found.insert(title.trim().to_string());
            }
        }
        let underline = lines.get(i + 1).map(|u| u.trim_end()).unwrap_or("");
        let title = line.trim();
        if !title.is_empty()
            && underline.chars().count() >= title.chars().count()
            && underline
                .chars()
                .all(|c| underline.starts_with(c) && "=-~^\"'`#*+".contains(c))
        {
            found.insert(title.to_string());
        }
    }
    found
}

fn summary_chapters(repo: &Path) -> BTreeSet<String> {
    let summary = read(&repo.join("slides/SUMMARY.md"));
    summary
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &summary[at + 2..];
            Some(rest[..rest.find(')')?].to_string())
        })
        .collect()
}

#[test]
fn every_point_of_the_notes_has_a_slide() {
    let repo = repo();
    let rows = map_rows(&read(&repo.join(MAP)));
    assert!(
        !rows.is_empty(),
        "{MAP} has no rows of the form | A1 | chapter | title |"
    );
    let mapped: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();

    let points_path = repo.join(POINTS);
    let ids = if points_path.exists() {
        let ids = point_ids(&read(&points_path));
        assert!(
            ids.len() > 10,
            "{} lists only {} point ids",
            points_path.display(),
            ids.len()
        );
        let unknown: Vec<&String> = mapped.difference(&ids).collect();
        assert!(
            unknown.is_empty(),
            "{MAP} maps ids that {POINTS} does not have: {unknown:?}"
        );
        ids
    } else {
        eprintln!(
            "note: {} is missing, so only the map's own rows are checked",
            points_path.display()
        );
        mapped.clone()
    };
    let missing: Vec<&String> = ids.difference(&mapped).collect();
    assert!(
        missing.is_empty(),
        "these points have no slide in {MAP}: {missing:?}"
    );
}

#[test]
fn every_mapped_slide_exists() {
    let repo = repo();
    let rows = map_rows(&read(&repo.join(MAP)));
    let chapters = summary_chapters(&repo);
    let mut cache: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for row in &rows {
        if !chapters.contains(&row.chapter) {
            wrong.push(format!(
                "{MAP}:{}: {}: chapter `{}` is not in slides/SUMMARY.md",
                row.line, row.id, row.chapter
            ));
            continue;
        }
        let titles = cache
            .entry(row.chapter.clone())
            .or_insert_with(|| titles(&read(&repo.join("slides").join(&row.chapter))));
        if !titles.contains(&row.title) {
            wrong.push(format!(
                "{MAP}:{}: {}: no slide titled `{}` in slides/{}",
                row.line, row.id, row.title, row.chapter
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn every_demo_is_embedded_by_a_slide() {
    let repo = repo();
    let mut slides = String::new();
    for chapter in summary_chapters(&repo) {
        slides.push_str(&read(&repo.join("slides").join(chapter)));
    }
    let bins = repo.join("demos/src/bin");
    let mut demos: Vec<String> = std::fs::read_dir(&bins)
        .unwrap_or_else(|e| panic!("listing {}: {e}", bins.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".rs")?.to_string())
        })
        .collect();
    demos.sort();
    assert!(!demos.is_empty(), "no demos in {}", bins.display());
    // Markdown embeds a demo with `{{#demo NAME}}`; reStructuredText also with
    // `.. demo:: NAME`.
    let embedded = |d: &str| {
        slides.contains(&format!("{{{{#demo {d}}}}}"))
            || slides
                .lines()
                .any(|l| l.trim().strip_prefix(".. demo::").map(str::trim) == Some(d))
    };
    let unshown: Vec<&String> = demos.iter().filter(|d| !embedded(d)).collect();
    assert!(
        unshown.is_empty(),
        "demos no slide embeds with {{{{#demo NAME}}}}: {unshown:?}"
    );
}

#[test]
fn the_parsers_see_what_they_should() {
    let rows = map_rows(
        "| Point | Chapter | Slide |\n| --- | --- | --- |\n| B3 | `files.md` | Deleting a file |\n| x | y | z |\n",
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].id.as_str(), rows[0].chapter.as_str(), rows[0].line),
        ("B3", "files.md", 3)
    );
    assert_eq!(
        point_ids("## A\n- A1 one\n- F2b two\n- not an id\n"),
        BTreeSet::from(["A1".to_string(), "F2b".to_string()])
    );
    let t = titles(
        "# Part\n\n## Slide one\n\n```\n## not a title\n```\n\nAn rST title\n============\n\nplain\ntext\n",
    );
    assert_eq!(
        t,
        BTreeSet::from([
            "Part".to_string(),
            "Slide one".to_string(),
            "An rST title".to_string()
        ])
    );
}
