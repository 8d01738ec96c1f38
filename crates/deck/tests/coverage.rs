//! The talk still makes every point of its source notes, and shows every demo.
//!
//! `tests/points.md` lists the points, in our own words, each with the words that must
//! appear where it is made; `slides/appendix-coverage.md` maps each point to slides. The
//! tests fail when the list is missing or loses a point, when a point has no row, when
//! a row names a slide that does not exist, when the mapped slides no longer contain a
//! point's words, when a point that is not (skip-ok) is made only in the appendix, and
//! when a demo of the catalogue (`demos/src/bin`) is embedded by no slide. Slides are cut by the deck
//! engine (see `common/mod.rs`).

#![forbid(unsafe_code)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{Slide, read, repo};

const MAP: &str = "slides/appendix-coverage.md";
const POINTS: &str = "crates/deck/tests/points.md";

/// How many points each group of the source notes has (A1..A5, B1..B6, ...), and the
/// review's additions (J). The list may grow, never shrink.
const GROUPS: &[(char, usize)] = &[
    ('A', 5),
    ('B', 6),
    ('C', 8),
    ('D', 4),
    ('E', 8),
    ('F', 8),
    ('G', 7),
    ('H', 6),
    ('I', 4),
    ('J', 5),
];

/// One point: its id, whether the appendix alone may make it, and its words.
#[derive(Debug)]
struct Point {
    id: String,
    skip_ok: bool,
    terms: Vec<String>,
}

/// One row of the map: a point, and the chapter and slide title that make it.
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
        && chars.next().is_some_and(|c| c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

/// The points of `points.md`: list items `- ID [(skip-ok)] text [terms: a; b]`.
fn parse_points(text: &str) -> Result<Vec<Point>, String> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(item) = line.strip_prefix("- ") else {
            continue;
        };
        let Some(id) = item.split_whitespace().next().filter(|id| is_point_id(id)) else {
            continue;
        };
        let rest = item[id.len()..].trim_start();
        let terms = rest
            .rfind("[terms:")
            .and_then(|at| rest[at + "[terms:".len()..].strip_suffix(']'))
            .ok_or_else(|| format!("{POINTS}:{}: {id} has no `[terms: ...]`", i + 1))?;
        let terms: Vec<String> = terms
            .split(';')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if terms.is_empty() {
            return Err(format!("{POINTS}:{}: {id} lists no terms", i + 1));
        }
        points.push(Point {
            id: id.to_string(),
            skip_ok: rest.starts_with("(skip-ok)"),
            terms,
        });
    }
    Ok(points)
}

/// The rows of the map's Markdown tables whose first cell is a point id.
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

fn points(repo: &Path) -> Vec<Point> {
    let path = repo.join(POINTS);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: the list of the notes' points must be in the repository",
            path.display()
        )
    });
    parse_points(&text).unwrap_or_else(|e| panic!("{e}"))
}

fn expected_ids() -> BTreeSet<String> {
    GROUPS
        .iter()
        .flat_map(|(g, n)| (1..=*n).map(move |i| format!("{g}{i}")))
        .collect()
}

#[test]
fn the_list_of_points_is_whole() {
    let ids: BTreeSet<String> = points(&repo()).into_iter().map(|p| p.id).collect();
    let lost: Vec<String> = expected_ids().difference(&ids).cloned().collect();
    assert!(lost.is_empty(), "{POINTS} has lost points: {lost:?}");
}

#[test]
fn every_point_has_a_row_and_every_row_a_point() {
    let repo = repo();
    let ids: BTreeSet<String> = points(&repo).into_iter().map(|p| p.id).collect();
    let rows = map_rows(&read(&repo.join(MAP)));
    assert!(
        !rows.is_empty(),
        "{MAP} has no rows | A1 | chapter | title |"
    );
    let mapped: BTreeSet<String> = rows.iter().map(|r| r.id.clone()).collect();
    let unmapped: Vec<&String> = ids.difference(&mapped).collect();
    let unknown: Vec<&String> = mapped.difference(&ids).collect();
    assert!(
        unmapped.is_empty(),
        "points with no row in {MAP}: {unmapped:?}"
    );
    assert!(
        unknown.is_empty(),
        "{MAP} maps ids {POINTS} lacks: {unknown:?}"
    );
}

/// Each slide of the book, by (chapter, title).
fn slides_by_name(repo: &Path) -> BTreeMap<(String, String), Slide> {
    common::all_slides(repo)
        .into_iter()
        .map(|s| ((s.chapter.clone(), s.title.clone()), s))
        .collect()
}

#[test]
fn every_mapped_slide_exists() {
    let repo = repo();
    let slides = slides_by_name(&repo);
    let wrong: Vec<String> = map_rows(&read(&repo.join(MAP)))
        .iter()
        .filter(|r| !slides.contains_key(&(r.chapter.clone(), r.title.clone())))
        .map(|r| {
            format!(
                "{MAP}:{}: {}: no slide `{}` in {} (or that chapter is not in SUMMARY.md)",
                r.line, r.id, r.title, r.chapter
            )
        })
        .collect();
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

/// Why a point is not made by the slides mapped to it, if it is not.
fn not_made(point: &Point, slides: &[&Slide]) -> Option<String> {
    let main: Vec<&&Slide> = slides.iter().filter(|s| s.main).collect();
    if !point.skip_ok && main.is_empty() {
        return Some("only the appendix makes it; it is not (skip-ok)".into());
    }
    let text: String = if point.skip_ok {
        slides.iter().map(|s| s.all_text()).collect()
    } else {
        main.iter().map(|s| s.all_text()).collect()
    };
    // Line breaks in the source are spaces on the page.
    let text = text
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let absent: Vec<&String> = point
        .terms
        .iter()
        .filter(|t| !text.contains(&t.to_lowercase()))
        .collect();
    (!absent.is_empty()).then(|| format!("its slides never say {absent:?}"))
}

#[test]
fn every_point_is_still_made() {
    let repo = repo();
    let slides = slides_by_name(&repo);
    let rows = map_rows(&read(&repo.join(MAP)));
    let mut wrong = Vec::new();
    for point in points(&repo) {
        let mapped: Vec<&Slide> = rows
            .iter()
            .filter(|r| r.id == point.id)
            .filter_map(|r| slides.get(&(r.chapter.clone(), r.title.clone())))
            .collect();
        if let Some(why) = not_made(&point, &mapped) {
            wrong.push(format!("{}: {why}", point.id));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn every_demo_is_embedded_by_a_slide() {
    let repo = repo();
    let embedded: BTreeSet<String> = common::all_slides(&repo)
        .into_iter()
        .flat_map(|s| s.demos)
        .collect();
    // The demo catalogue every tool uses (the first `//!` line is the claim).
    let demos: Vec<String> = deck::catalog::list(&repo.join("demos"))
        .unwrap_or_else(|e| panic!("listing the demos: {e}"))
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert!(
        !demos.is_empty(),
        "no demos under {}",
        repo.join("demos").display()
    );
    let unshown: Vec<&String> = demos.iter().filter(|d| !embedded.contains(*d)).collect();
    assert!(
        unshown.is_empty(),
        "demos no slide embeds (on the slide, not in its notes): {unshown:?}"
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
    let points = parse_points(
        "## A\n- A1 one [terms: x; y z]\n- F7 (skip-ok) two [terms: w]\n- not an id\n",
    )
    .unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].terms, vec!["x", "y z"]);
    assert!(!points[0].skip_ok && points[1].skip_ok);
    assert!(parse_points("- A1 no terms\n").is_err());

    let slide = |main: bool, notes: &str| Slide {
        chapter: "c.md".into(),
        main,
        number: 1,
        title: "T".into(),
        visible: String::new(),
        notes: notes.into(),
        demos: vec![],
        charts: vec![],
    };
    let point = |skip_ok| Point {
        id: "A1".into(),
        skip_ok,
        terms: vec!["TIME_WAIT".into()],
    };
    let appendix = slide(false, "time_wait here");
    let main = slide(true, "nothing");
    assert!(not_made(&point(false), &[&appendix]).is_some());
    assert!(not_made(&point(true), &[&appendix]).is_none());
    assert!(not_made(&point(false), &[&main, &appendix]).is_some());
    assert!(not_made(&point(false), &[&slide(true, "in TIME_WAIT")]).is_none());
}
