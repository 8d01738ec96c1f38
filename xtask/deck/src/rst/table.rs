//! The table directives: `list-table`, `csv-table` and `table` (a title over a table).

use super::block::{Block, Call, Cell, Kind, Line, Reader, Text};

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
        Some("tab") => '\t',
        Some("space") => ' ',
        Some(s) if s.chars().count() == 1 => s.chars().next().unwrap_or(','),
        _ => ',',
    };
    let mut records: Vec<(Vec<String>, usize)> = Vec::new();
    let mut head = header_rows(&d);
    if let Some(h) = Reader::option(&d, "header") {
        records.push((split_record(h, delim), call.line));
        head += 1;
    }
    for l in d.content.iter().filter(|l| !l.blank()) {
        records.push((split_record(l.text, delim), l.no));
    }
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

/// A csv field read as body elements (docutils does the same).
fn cell_of(r: &mut Reader, text: &str, no: usize, depth: usize) -> Cell {
    let lines: Vec<Line> = text.split('\n').map(|t| Line { text: t, no }).collect();
    Cell {
        span: 1,
        rows: 1,
        body: r.body(&lines, depth + 1, false),
    }
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
