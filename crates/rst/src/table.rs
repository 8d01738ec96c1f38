//! The table directives: `list-table`, `csv-table` and `table` (a title over a table).

use super::block::{
    Block, Call, Cell, Kind, Line, Reader, Text, dedent, simple_table_border, trim_blank_edges,
};

/// `:header-rows:` as a number (0 when absent or not a number).
fn header_rows(d: &super::block::Directive) -> usize {
    Reader::option(d, "header-rows")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The table, with its first `head` rows as the header and an optional title.
fn push_table(
    call: &Call,
    out: &mut Vec<Block>,
    mut rows: Vec<Vec<Cell>>,
    head: usize,
    title: &str,
) {
    let body = rows.split_off(head.min(rows.len()));
    let table = Block {
        line: call.line,
        kind: Kind::Table { head: rows, body },
    };
    if title.is_empty() {
        out.push(table);
        return;
    }
    let caption = Block {
        line: call.line,
        kind: Kind::Rubric(Text {
            text: title.to_string(),
            line: call.line,
        }),
    };
    call.push(
        out,
        Kind::Classed {
            classes: vec!["table-with-title".into()],
            body: vec![caption, table],
        },
    );
}

const TABLE_OPTIONS: &[&str] = &[
    "header-rows",
    "stub-columns",
    "widths",
    "width",
    "class",
    "name",
    "align",
];

/// `list-table`: a bullet list of rows, each a bullet list of cells.
pub(crate) fn list_table(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, TABLE_OPTIONS);
    let body = r.body(&d.content, call.depth + 1, false);
    let mut rows = Vec::new();
    let Some(Block {
        kind: Kind::Bullets(items),
        ..
    }) = body.first()
    else {
        r.warn(
            call.line,
            "`list-table` needs one bullet list (of rows); nothing shown",
        );
        return;
    };
    let mut width = None;
    for item in items {
        let Some(Block {
            kind: Kind::Bullets(cells),
            line,
        }) = item.first()
        else {
            let at = item.first().map_or(call.line, |b| b.line);
            r.warn(
                at,
                "a `list-table` row must be a bullet list of cells; row skipped",
            );
            continue;
        };
        if *width.get_or_insert(cells.len()) != cells.len() {
            r.warn(*line, "`list-table` rows have different numbers of cells");
        }
        let row = cells
            .iter()
            .map(|c| Cell {
                span: 1,
                rows: 1,
                body: c.clone(),
            })
            .collect();
        rows.push(row);
    }
    push_table(call, out, rows, header_rows(&d), &d.args);
}

/// `csv-table`: rows of comma-separated values (quoted with `"`, `""` inside quotes),
/// from the content (a `:file:` is not read), with an optional `:header:` row.
pub(crate) fn csv_table(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    let mut known = TABLE_OPTIONS.to_vec();
    known.extend([
        "header",
        "delim",
        "quote",
        "keepspace",
        "escape",
        "encoding",
    ]);
    r.check_options(call.name, &d, &known);
    let delim = match Reader::option(&d, "delim").map(str::trim) {
        None => ',',
        Some(v) => delimiter(v).unwrap_or_else(|| {
            r.warn(
                call.line,
                format!(
                    "`csv-table` `:delim:` must be one character, `tab`, `space` or a \
                     Unicode code, not `{v}`; `,` used"
                ),
            );
            ','
        }),
    };
    let mut records: Vec<(Vec<String>, usize)> = Vec::new();
    let mut head = header_rows(&d);
    if let Some(h) = Reader::option(&d, "header") {
        records.push((split_record(h, delim), call.line));
        head += 1;
    }
    records.extend(split_records(&d.content, delim));
    let rows = records
        .into_iter()
        .map(|(fields, no)| {
            fields
                .into_iter()
                .map(|f| cell_of(r, &f, no, call.depth))
                .collect()
        })
        .collect();
    push_table(call, out, rows, head, &d.args);
}

/// `:delim:` as docutils reads it: `tab`, `space`, one character, or a Unicode code
/// (`0x3b`, `x3b`, `\x3b`, `U+003B`, `u3b`, `\u3b`, `&#x3b;`); `None` for anything else.
fn delimiter(v: &str) -> Option<char> {
    match v {
        "tab" => return Some('\t'),
        "space" => return Some(' '),
        _ => {}
    }
    let mut chars = v.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(c);
    }
    let lower = v.to_ascii_lowercase();
    let hex = ["0x", "\\x", "x", "u+", "\\u", "u"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .or_else(|| lower.strip_prefix("&#x")?.strip_suffix(';'))?;
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}

/// A csv field read as body elements (docutils does the same).
fn cell_of(r: &mut Reader, text: &str, no: usize, depth: usize) -> Cell {
    let lines: Vec<Line> = text.split('\n').map(|t| Line { text: t, no }).collect();
    Cell {
        span: 1,
        rows: 1,
        body: r.body(&lines, depth + 1, false),
    }
}

/// The records of the content: a quoted field may run over several lines.
fn split_records(lines: &[Line], delim: char) -> Vec<(Vec<String>, usize)> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut quotes = 0;
    let mut start = 0;
    for l in lines {
        if pending.is_empty() {
            if l.blank() {
                continue;
            }
            start = l.no;
        } else {
            pending.push('\n');
        }
        pending.push_str(l.text);
        quotes += l.text.matches('"').count();
        // An odd number of quotes so far: the record goes on.
        if quotes % 2 == 0 {
            out.push((split_record(&pending, delim), start));
            pending.clear();
        }
    }
    if !pending.is_empty() {
        out.push((split_record(&pending, delim), start));
    }
    out
}

/// One CSV record: fields split at `delim`, `"` quoting with `""` for a quote.
fn split_record(line: &str, delim: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            c if c == delim && !quoted => {
                fields.push(std::mem::take(&mut field).trim().to_string())
            }
            c => field.push(c),
        }
    }
    fields.push(field.trim().to_string());
    fields
}

/// `table`: a title over the table in its content.
pub(crate) fn titled_table(r: &mut Reader, call: &Call, out: &mut Vec<Block>) {
    let d = r.split(call.inner, true, true);
    r.check_options(call.name, &d, TABLE_OPTIONS);
    let mut body = r.body(&d.content, call.depth + 1, false);
    if !d.args.is_empty() {
        let caption = Block {
            line: call.line,
            kind: Kind::Rubric(Text {
                text: d.args.clone(),
                line: call.line,
            }),
        };
        body.insert(0, caption);
    }
    call.push(
        out,
        Kind::Classed {
            classes: vec!["table-with-title".into()],
            body,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_keep_quoted_delimiters_and_quotes() {
        assert_eq!(
            split_record(r#"a, "b, c", "say ""hi""""#, ','),
            vec!["a", "b, c", "say \"hi\""]
        );
    }
}

/// Where a simple table ends (its last border) and where its header ends, as docutils
/// finds them: at the second border after the top, or a border followed by a blank
/// line; without one, it runs to the end (linear time). `Err` says what is wrong and
/// up to where the table is shown as text.
fn simple_extent(
    lines: &[Line],
    i: usize,
) -> Result<(usize, Option<usize>), (&'static str, usize)> {
    let top_len = lines[i].text.trim().len();
    let mut header_at = None;
    for k in i + 1..lines.len() {
        if !simple_table_border(lines[k].text) {
            continue;
        }
        if lines[k].text.trim().len() != top_len {
            return Err(("a border does not match the top border", k + 1));
        }
        if header_at.is_some() || k + 1 >= lines.len() || lines[k + 1].blank() {
            return Ok((k, header_at));
        }
        header_at = Some(k);
    }
    Err(("no bottom border", lines.len()))
}

/// Runs of `c` in a line: (start, end) columns, in characters.
fn runs(chars: &[char], c: char) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        if chars[k] == c {
            let s = k;
            while k < chars.len() && chars[k] == c {
                k += 1;
            }
            out.push((s, k));
        } else {
            k += 1;
        }
    }
    out
}

/// A simple table row being read: its lines, and its column groups once a `---`
/// line has given them.
struct SimpleRow<'l, 'a> {
    lines: Vec<&'l Line<'a>>,
}

/// A simple table: columns from the runs of `=` in its top border; a row starts where
/// the first column has text; a line of `-` runs under a row joins its columns.
pub(crate) fn simple_table(
    r: &mut Reader,
    lines: &[Line],
    i: usize,
    depth: usize,
    out: &mut Vec<Block>,
) -> usize {
    let (end, header_at) = match simple_extent(lines, i) {
        Ok(found) => found,
        Err((why, to)) => return r.bad_table(lines, i, to, why, out),
    };
    let top: Vec<char> = lines[i].text.trim_end().chars().collect();
    let cols = runs(&top, '=');
    let (mut head, mut body) = (Vec::new(), Vec::new());
    let mut row = SimpleRow { lines: Vec::new() };
    let mut in_head = header_at.is_some();
    for k in i + 1..end {
        let l = &lines[k];
        let chars: Vec<char> = l.text.trim_end().chars().collect();
        let dest = if in_head { &mut head } else { &mut body };
        let spans = if chars.contains(&'-') && chars.iter().all(|c| *c == '-' || *c == ' ') {
            let Some(groups) = groups_of(&runs(&chars, '-'), &cols) else {
                let why = "a column span does not line up with the columns";
                return r.bad_table(lines, i, end + 1, why, out);
            };
            Some(groups)
        } else {
            None
        };
        let starts_row = !l.blank()
            && spans.is_none()
            && chars[..cols[0].1.min(chars.len())]
                .iter()
                .any(|c| *c != ' ');
        // A blank line ends no row (docutils): it separates paragraphs of its cells.
        let is_span = spans.is_some();
        let row_ends = Some(k) == header_at || is_span || starts_row;
        if row_ends && let Err(why) = flush_row(r, &mut row, spans, &cols, depth, dest) {
            return r.bad_table(lines, i, end + 1, why, out);
        }
        if Some(k) == header_at {
            in_head = false;
        } else if !is_span && (!l.blank() || !row.lines.is_empty()) {
            row.lines.push(l);
        }
    }
    let dest = if in_head { &mut head } else { &mut body };
    if let Err(why) = flush_row(r, &mut row, None, &cols, depth, dest) {
        return r.bad_table(lines, i, end + 1, why, out);
    }
    out.push(Block {
        line: lines[i].no,
        kind: Kind::Table { head, body },
    });
    if let Some(next) = lines.get(end + 1).filter(|l| !l.blank()) {
        r.warn(next.no, "a blank line is needed after a table");
    }
    end + 1
}

/// Which columns each `-` run covers: (first, last) column indexes. As docutils: the
/// runs cover all the columns in order, each from a column's start to a column's end;
/// `None` when they do not (docutils: `Column span incomplete`, `alignment problem`).
fn groups_of(dashes: &[(usize, usize)], cols: &[(usize, usize)]) -> Option<Vec<(usize, usize)>> {
    let mut groups = Vec::new();
    let mut next = 0;
    for &(s, e) in dashes {
        if cols.get(next)?.0 != s {
            return None;
        }
        let last = next + cols[next..].iter().position(|&(_, ce)| ce == e)?;
        groups.push((next, last));
        next = last + 1;
    }
    (next == cols.len()).then_some(groups)
}

/// Ends the row being read: one cell per column, or per group of joined columns.
fn flush_row(
    r: &mut Reader,
    row: &mut SimpleRow,
    groups: Option<Vec<(usize, usize)>>,
    cols: &[(usize, usize)],
    depth: usize,
    dest: &mut Vec<Vec<Cell>>,
) -> Result<(), &'static str> {
    if row.lines.is_empty() {
        return Ok(());
    }
    let groups = groups.unwrap_or_else(|| (0..cols.len()).map(|c| (c, c)).collect());
    let mut texts: Vec<Vec<(String, usize)>> = vec![Vec::new(); groups.len()];
    for l in &row.lines {
        let chars: Vec<char> = l.text.trim_end().chars().collect();
        for (g, &(first, last)) in groups.iter().enumerate() {
            let start = cols[first].0.min(chars.len());
            let stop = if last + 1 == cols.len() {
                chars.len()
            } else {
                cols[last].1.min(chars.len())
            };
            // Between this cell and the next, only spaces.
            if last + 1 < cols.len()
                && chars
                    .get(cols[last].1..cols[last + 1].0.min(chars.len()))
                    .is_some_and(|gap| gap.iter().any(|c| *c != ' '))
            {
                return Err("text in a column gap");
            }
            texts[g].push((chars[start..stop.max(start)].iter().collect(), l.no));
        }
    }
    let mut cells = Vec::new();
    for (text, &(first, last)) in texts.iter().zip(&groups) {
        let col: Vec<Line> = text
            .iter()
            .map(|(t, no)| Line {
                text: t.as_str(),
                no: *no,
            })
            .collect();
        let col = trim_blank_edges(dedent(&col));
        cells.push(Cell {
            span: last + 1 - first,
            rows: 1,
            body: r.body(&col, depth + 1, false),
        });
    }
    dest.push(cells);
    row.lines.clear();
    Ok(())
}

/// A grid table cell: its top and bottom border lines, left and right border columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GridCell {
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

/// The cells of a grid table, found as docutils' `GridTableParser` finds them: from
/// each cell's top-left corner, right along its top, down its right side, back along
/// its bottom and up its left. `None` when the grid does not close, or when it would
/// take more than a budget proportional to the table's size (so time stays linear).
pub(crate) fn grid_cells(rows: &[Vec<char>]) -> Option<Vec<GridCell>> {
    let height = rows.len();
    let width = rows.first()?.len();
    let mut budget = 64 * height * width + 1024;
    let mut cells = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut corners = std::collections::VecDeque::from([(0, 0)]);
    while let Some((top, left)) = corners.pop_front() {
        if top + 1 >= height || left + 1 >= width || !seen.insert((top, left)) {
            continue;
        }
        // A corner inside a spanning cell starts nothing.
        let Some(cell) = scan_cell(rows, top, left, &mut budget) else {
            if budget == 0 {
                return None;
            }
            continue;
        };
        cells.push(cell);
        corners.push_back((top, cell.right));
        corners.push_back((cell.bottom, left));
    }
    let area: usize = cells
        .iter()
        .map(|c| (c.bottom - c.top) * (c.right - c.left))
        .sum();
    (area == (height - 1) * (width - 1)).then_some(cells)
}

fn scan_cell(rows: &[Vec<char>], top: usize, left: usize, budget: &mut usize) -> Option<GridCell> {
    if rows[top][left] != '+' {
        return None;
    }
    for right in left + 1..rows[top].len() {
        *budget = budget.checked_sub(1)?;
        match rows[top][right] {
            '+' => {
                if let Some(bottom) = scan_down(rows, top, left, right, budget) {
                    return Some(GridCell {
                        top,
                        bottom,
                        left,
                        right,
                    });
                }
            }
            '-' | '=' => {}
            _ => return None,
        }
    }
    None
}

fn scan_down(
    rows: &[Vec<char>],
    top: usize,
    left: usize,
    right: usize,
    budget: &mut usize,
) -> Option<usize> {
    for bottom in top + 1..rows.len() {
        *budget = budget.checked_sub(1)?;
        match rows[bottom][right] {
            '+' => {
                if closes(rows, top, left, bottom, right, budget) {
                    return Some(bottom);
                }
            }
            '|' => {}
            _ => return None,
        }
    }
    None
}

/// Whether the bottom and left sides of a cell are borders.
fn closes(
    rows: &[Vec<char>],
    top: usize,
    left: usize,
    bottom: usize,
    right: usize,
    budget: &mut usize,
) -> bool {
    for c in &rows[bottom][left..right] {
        if budget.checked_sub(1).map(|b| *budget = b).is_none() || !matches!(c, '-' | '=' | '+') {
            return false;
        }
    }
    for row in &rows[top + 1..bottom] {
        if budget.checked_sub(1).map(|b| *budget = b).is_none() || !matches!(row[left], '|' | '+') {
            return false;
        }
    }
    rows[bottom][left] == '+'
}

#[cfg(test)]
mod grid_tests {
    use super::*;

    #[test]
    fn grid_cells_span_rows_and_columns() {
        let src = "+---+---+\n| a | b |\n+---+   +\n| c |   |\n+---+---+\n+-------+";
        let rows: Vec<Vec<char>> = src.lines().take(5).map(|l| l.chars().collect()).collect();
        let cells = grid_cells(&rows).expect("a table");
        assert_eq!(cells.len(), 3);
        assert!(cells.contains(&GridCell {
            top: 0,
            bottom: 4,
            left: 4,
            right: 8
        }));
        let broken: Vec<Vec<char>> = ["+---+", "| a  ", "+---+"]
            .iter()
            .map(|l| l.chars().collect())
            .collect();
        assert_eq!(grid_cells(&broken), None);
    }

    /// The cells of each row of the tables in `src`'s Markdown (`<th>`/`<td>`).
    fn rows(src: &str) -> Vec<Vec<String>> {
        let md = crate::to_markdown(src).markdown;
        md.split("<tr>")
            .skip(1)
            .map(|row| {
                let row = row.split("</tr>").next().unwrap_or("");
                row.split("<t")
                    .skip(1)
                    .filter_map(|c| {
                        let c = c.strip_prefix('h').or_else(|| c.strip_prefix('d'))?;
                        let c = &c[c.find('>')? + 1..];
                        Some(c.split("</t").next().unwrap_or("").to_string())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn csv_delimiters_are_tab_space_or_one_character() {
        // Docutils 0.19: `tab` and `space` name theirs, one character is itself. Tabs in
        // the text are spaces by then, so with `tab` a comma is text, not a delimiter.
        let csv = |delim: &str, row: &str| {
            rows(&format!(".. csv-table::\n   :delim: {delim}\n\n   {row}\n"))
        };
        assert_eq!(csv("tab", "a,b"), [["a,b"]]);
        assert_eq!(csv("space", "a b,c"), [["a", "b,c"]]);
        assert_eq!(csv(";", "a;b,c"), [["a", "b,c"]]);
        assert_eq!(csv("|", "a|b"), [["a", "b"]]);
        // A Unicode code is its character; anything else is wrong, said, and `,` used.
        for code in ["0x3b", "x3B", "\\x3b", "U+003B", "u3b", "\\u3b", "&#x3b;"] {
            assert_eq!(csv(code, "a;b,c"), [["a", "b,c"]], "{code}");
        }
        for bad in ["ab", "0xzz", "u+", "&#x3b"] {
            let c = crate::to_markdown(&format!(".. csv-table::\n   :delim: {bad}\n\n   a;b,c\n"));
            assert_eq!(c.warnings.len(), 1, "{bad}: {:?}", c.warnings);
            assert!(
                c.warnings[0].message.contains(":delim:"),
                "{:?}",
                c.warnings
            );
            assert!(c.markdown.contains("<td>a;b</td>"), "{bad}: {}", c.markdown);
        }
    }

    #[test]
    fn a_csv_header_option_comes_before_the_header_rows() {
        // Docutils: `:header:` is one more header row, above `:header-rows:` of the data.
        let src = ".. csv-table::\n   :header: h1, h2\n   :header-rows: 1\n\n   a, b\n   c, d\n";
        let md = crate::to_markdown(src).markdown;
        let head = md.split("</thead>").next().unwrap_or("");
        assert_eq!(head.matches("<th>").count(), 4, "{md}");
        assert!(
            head.contains("<th>h1</th>") && head.contains("<th>a</th>"),
            "{md}"
        );
        assert_eq!(rows(src), [["h1", "h2"], ["a", "b"], ["c", "d"]]);
    }

    #[test]
    fn a_quote_inside_a_csv_field_is_text() {
        // As Python's csv module in docutils: only a quote that starts a field (after
        // spaces) quotes it; one after other text is a character of the field.
        assert_eq!(
            split_record(r#"a, x"b", "c"d, x "b""#, ','),
            ["a", "x\"b\"", "cd", "x \"b\""]
        );
    }

    #[test]
    fn a_blank_line_inside_a_simple_table_row_separates_paragraphs_of_its_cell() {
        // Docutils: a row ends where the first column has text again (or at a `-`
        // line); a blank line within it is a paragraph break in its cells.
        let src =
            "=====  =====\na      b\n       more b\n\n       para b\nc      d\n=====  =====\n";
        let c = crate::to_markdown(src);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.markdown.matches("<tr>").count(), 2, "{}", c.markdown);
        assert_eq!(rows(src)[1], ["c", "d"]);
        let cell = &rows(src)[0][1];
        assert!(
            cell.contains("b\nmore b") && cell.contains("para b"),
            "{cell}"
        );
        assert_ne!(
            cell.trim_start_matches("<p>"),
            "b\nmore b\n\npara b",
            "{cell}"
        );
        // Blank lines before a row's first line and between rows are nothing.
        let src = "=====  =====\n\na      b\n\n\nc      d\n\n=====  =====\n";
        assert_eq!(rows(src), [["a", "b"], ["c", "d"]]);
    }

    #[test]
    fn text_in_a_simple_table_column_gap_makes_it_malformed() {
        // Docutils: `Text in column margin`, anywhere between two columns' borders;
        // the table is shown as text. Past the last column, text is the last cell's.
        for row in ["a    xb", "a     xb", "abcdef  c"] {
            let src = format!("=====  =====\n{row}\n=====  =====\n");
            let c = crate::to_markdown(&src);
            assert_eq!(c.warnings.len(), 1, "{row}: {:?}", c.warnings);
            assert!(
                c.warnings[0].message.contains("column gap"),
                "{:?}",
                c.warnings
            );
            assert!(!c.markdown.contains("<table>"), "{row}: {}", c.markdown);
        }
        let src = "=====  =====\na      b runs on past\n=====  =====\n";
        assert_eq!(rows(src), [["a", "b runs on past"]]);
        // In a cell that spans two columns, the gap between them is the cell's.
        let src =
            "=====  =====  =====\nab spans      c\n------------  -----\n=====  =====  =====\n";
        assert_eq!(rows(src), [["ab spans", "c"]]);
        let md = crate::to_markdown(src).markdown;
        assert!(
            md.contains("<td colspan=\"2\">ab spans</td>\n<td>c</td>"),
            "{md}"
        );
    }

    #[test]
    fn a_simple_table_ends_at_its_second_border_or_one_with_a_blank_line_below() {
        // Docutils: the border after the header's is the bottom one, even with text
        // right below (a paragraph, with a warning there).
        let src = "=====  =====\na      b\n=====  =====\nc      d\n=====  =====\ne      f\n";
        let c = crate::to_markdown(src);
        assert_eq!(rows(src), [["a", "b"], ["c", "d"]]);
        assert!(
            c.markdown.trim_end().ends_with("e      f"),
            "{}",
            c.markdown
        );
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert_eq!(c.warnings[0].line, 6, "{:?}", c.warnings);
        assert!(
            c.warnings[0].message.contains("blank line"),
            "{:?}",
            c.warnings
        );
        // A bottom border on the very last line.
        for src in [
            "=====  =====\na      b\n=====  =====",
            "x\n\n=====  =====\na  b\n=====",
        ] {
            let c = crate::to_markdown(src);
            assert_eq!(
                c.markdown.matches("<table>").count(),
                src.starts_with('=') as usize
            );
            assert!(c.warnings.len() <= 1, "{:?}", c.warnings);
        }
        assert_eq!(rows("=====  =====\na      b\n=====  ====="), [["a", "b"]]);
    }

    #[test]
    fn a_malformed_simple_table_is_text_down_to_its_last_border() {
        // Docutils: a border that does not match the top makes it a malformed table,
        // shown whole as literal text; what follows is read as usual.
        let src = "=====  =====\na      b\n=====  ======\n\nafter\n";
        let c = crate::to_markdown(src);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].message.contains("top border"),
            "{:?}",
            c.warnings
        );
        assert!(
            c.markdown
                .contains("```\n=====  =====\na      b\n=====  ======\n```"),
            "{}",
            c.markdown
        );
        assert!(
            c.markdown.trim_end().ends_with("\n\nafter"),
            "{}",
            c.markdown
        );
    }

    #[test]
    fn column_spans_must_line_up_with_the_columns() {
        // Docutils: each `-` run of a span line starts where a column starts and ends
        // where one ends, and the runs cover every column; else the table is malformed.
        let table = |spans: &str| {
            format!(
                "=====  =====  =====\nab spans      c\n{spans}\nd      e      f\n=====  =====  =====\n"
            )
        };
        let good = table("------------  -----");
        let c = crate::to_markdown(&good);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(rows(&good), [vec!["ab spans", "c"], vec!["d", "e", "f"]]);
        for bad in [
            "-------------  ----", // ends in a gap, starts after a column's start
            "-----------   -----", // ends inside a column
            "------  -----------", // ends in the gap after the first column
            "-----  ------ -----", // starts in the gap before the second column
            "-----         -----", // leaves the middle column out
            "------------",        // leaves the last column out
        ] {
            let c = crate::to_markdown(&table(bad));
            assert_eq!(c.warnings.len(), 1, "{bad}: {:?}", c.warnings);
            assert!(
                c.warnings[0].message.contains("line up"),
                "{:?}",
                c.warnings
            );
            assert!(!c.markdown.contains("<table>"), "{bad}: {}", c.markdown);
        }
    }

    #[test]
    fn reading_goes_on_right_below_a_simple_table() {
        let src = "=====  =====\na      b\n=====  =====\nc      d\n=====  =====\n\nafter\n";
        let c = crate::to_markdown(src);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let (_, below) = c.markdown.split_once("</table>").expect("a table");
        assert_eq!(below.trim(), "after", "{}", c.markdown);
        assert_eq!(c.markdown.matches("<table>").count(), 1, "{}", c.markdown);
    }

    #[test]
    fn each_table_counts_one_level_of_nesting() {
        // The fewest nested bullets that are "nested too deeply", alone and in a cell of
        // each kind of table: a table is one level more (a list-table three: the table,
        // its list of rows and each row's list of cells).
        let warns = |src: String| {
            crate::to_markdown(&src)
                .warnings
                .iter()
                .any(|w| w.message.contains("nested too deeply"))
        };
        let first = |f: &dyn Fn(usize) -> String| (0..100).find(|&n| warns(f(n)));
        let Some(alone) = first(&|n| "- ".repeat(n) + "x\n") else {
            panic!("no nesting limit");
        };
        let bullets = |n: usize| "- ".repeat(n);
        let simple = first(&|n| format!("=  =\na  {}x\n=  =\n", bullets(n)));
        let csv = first(&|n| format!(".. csv-table::\n\n   \"{}x\"\n", bullets(n)));
        let list = first(&|n| format!(".. list-table::\n\n   * - {}x\n", bullets(n)));
        let titled = first(&|n| format!(".. table:: T\n\n   {}x\n", bullets(n)));
        assert_eq!(
            [simple, csv, list, titled],
            [alone - 1, alone - 1, alone - 3, alone - 1].map(Some)
        );
    }

    #[test]
    fn list_table_rows_of_different_lengths_warn_and_equal_ones_do_not() {
        let c = crate::to_markdown(".. list-table::\n\n   * - a\n     - b\n   * - c\n     - d\n");
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let c = crate::to_markdown(".. list-table::\n\n   * - a\n     - b\n   * - c\n");
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].message.contains("different numbers"),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn a_quoted_csv_field_may_run_over_lines() {
        // Docutils: `"a` + `b", c` is one record of two fields; `d, e` the next.
        let src = ".. csv-table::\n\n   \"a\n   b\", c\n   d, e\n";
        assert_eq!(rows(src), [["a\nb", "c"], ["d", "e"]]);
        let src = ".. csv-table::\n\n   \"a \"\"q\"\"\n   b\", c\n   d, e\n";
        assert_eq!(rows(src).len(), 2, "{:?}", rows(src));
    }

    #[test]
    fn a_table_directive_without_a_title_has_no_caption() {
        let c = crate::to_markdown(".. table::\n\n   =====  =====\n   a      b\n   =====  =====\n");
        assert!(!c.markdown.contains("rubric"), "{}", c.markdown);
        assert_eq!(
            rows(".. table::\n\n   =====  =====\n   a      b\n   =====  =====\n"),
            [["a", "b"]]
        );
        let c =
            crate::to_markdown(".. table:: T\n\n   =====  =====\n   a      b\n   =====  =====\n");
        assert!(
            c.markdown.contains("<p class=\"rubric\">T</p>"),
            "{}",
            c.markdown
        );
    }

    #[test]
    fn a_large_grid_table_is_read_within_its_budget() {
        // 40 × 40 cells of one character: the scan stays within its linear budget.
        let n = 40;
        let border = format!("+{}", "-+".repeat(n));
        let row = format!("|{}", "x|".repeat(n));
        let mut src = border.clone();
        for _ in 0..n {
            src = format!("{src}\n{row}\n{border}");
        }
        let c = crate::to_markdown(&(src + "\n"));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.markdown.matches("<td>").count(), n * n);
    }

    #[test]
    fn a_grid_corner_without_a_side_below_it_starts_no_cell() {
        // Docutils: a `+` in a border with no `|` under it is inside a cell that spans
        // past it.
        let src = "+--+--+\n| a  b|\n+--+--+\n";
        let c = crate::to_markdown(src);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        // One cell (docutils: `morecols="1"`; here the table's only column).
        assert_eq!(c.markdown.matches("<td").count(), 1, "{}", c.markdown);
        assert!(c.markdown.contains(">a  b</td>"), "{}", c.markdown);
        // The same below a row of two cells: `c  d` is one cell under both.
        let src = "+--+--+\n| a| b|\n+--+--+\n| c  d|\n+--+--+\n";
        let c = crate::to_markdown(src);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.markdown.matches("<td").count(), 3, "{}", c.markdown);
        assert!(
            c.markdown.contains("<td colspan=\"2\">c  d</td>"),
            "{}",
            c.markdown
        );
    }

    #[test]
    fn corners_on_a_grid_table_s_last_line_start_no_scan() {
        // One row of 600 cells: scanning right from each corner of the bottom border
        // would take some 600² steps, past the budget (64 per character), and the table
        // would be refused.
        let n = 600;
        let border = format!("+{}", "-+".repeat(n));
        let src = format!("{border}\n|{}\n{border}\n", "x|".repeat(n));
        let c = crate::to_markdown(&src);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert_eq!(c.markdown.matches("<td>").count(), n);
    }

    #[test]
    fn a_malformed_simple_table_is_text_through_its_bottom_border_and_the_text_after_is_read() {
        // A span that does not line up (found row by row), text in a gap of a row
        // that the next row ends, and of the last row: each shows the table's lines as
        // they are, to the bottom border, and goes on reading after it.
        for table in [
            "=====  =====\na      b\n---  --------\nc      d\n=====  =====\n",
            "=====  =====\na    xb\nc      d\n=====  =====\n",
            "=====  =====\na      b\nc    xd\n=====  =====\n",
        ] {
            let c = crate::to_markdown(&format!("{table}\nafter\n"));
            assert_eq!(c.warnings.len(), 1, "{table}: {:?}", c.warnings);
            assert_eq!(c.markdown, format!("```\n{table}```\n\nafter\n"));
        }
    }
}
