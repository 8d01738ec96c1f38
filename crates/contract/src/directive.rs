//! The `{{#…}}` directives a chapter may contain, and their grammar: the contract
//! between a chapter's author, the Markdown engine (`deck`) and the rST reader (`rst`),
//! which must agree on what is a directive and what is text.

/// Parses `{{#ladder DEMO [CONNECTION]}}` (the whole of a trimmed paragraph).
pub fn parse_ladder_directive(text: &str) -> Option<Result<(String, Option<String>), String>> {
    let words = directive_words(text, "ladder")?;
    Some(match words.as_slice() {
        [demo] => Ok((demo.to_string(), None)),
        [demo, connection] => Ok((demo.to_string(), Some(connection.to_string()))),
        _ => Err(
            "`{{#ladder DEMO [CONNECTION]}}` takes a demo name and at most one connection".into(),
        ),
    })
}

/// Parses `{{#kernels}}` and `{{#kernels DEMO "TEXT"}}` (the whole of a paragraph).
pub fn parse_kernels_directive(text: &str) -> Option<Result<Option<(String, String)>, String>> {
    let inner = directive_inner(text, "kernels")?.trim();
    if inner.is_empty() {
        return Some(Ok(None));
    }
    let usage = "write `{{#kernels}}` or `{{#kernels DEMO \"TEXT\"}}`";
    let (demo, rest) = inner.split_once(char::is_whitespace).unwrap_or((inner, ""));
    let text = rest
        .trim()
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|t| !t.is_empty() && !t.contains('"'));
    Some(match text {
        _ if !is_demo_name(demo) => Err(format!("`{demo}` is not a demo name; {usage}")),
        Some(text) => Ok(Some((demo.to_string(), text.to_string()))),
        None => Err(format!("`{{{{#kernels {inner}}}}}`: {usage}")),
    })
}

/// Parses `{{#chart DEMO METRIC [METRIC...]}}` (the whole of a trimmed paragraph). A
/// metric may carry the slide's label for its bar, `METRIC="label"`, which comes back
/// as `METRIC=label` (see `deck::chart::select`).
pub fn parse_chart_directive(text: &str) -> Option<Result<(String, Vec<String>), String>> {
    let inner = directive_inner(text, "chart")?;
    let words = match quoted_words(inner) {
        Ok(words) => words,
        Err(e) => return Some(Err(e)),
    };
    Some(match words.as_slice() {
        [] | [_] => {
            Err("`{{#chart DEMO METRIC...}}` needs a demo name and at least one metric".into())
        }
        [demo, ..] if !is_demo_name(demo) => Err(format!(
            "`{demo}` is not a demo name (lowercase letters, digits and `-`)"
        )),
        [demo, metrics @ ..] => Ok((demo.clone(), metrics.to_vec())),
    })
}

/// Words split at white space, except inside `"..."`, whose quotes go:
/// `a="b c" d` is `a=b c`, `d`. A label is not empty and has no `"`.
fn quoted_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let end = rest.find(|c: char| c.is_whitespace() || c == '"');
        let (word, after) = rest.split_at(end.unwrap_or(rest.len()));
        let mut word = word.to_string();
        rest = after;
        if let Some(quoted) = rest.strip_prefix('"') {
            let close = quoted
                .find('"')
                .ok_or_else(|| format!("`{word}\"{quoted}` has no closing `\"`"))?;
            if !word.ends_with('=') || close == 0 {
                return Err(format!(
                    "a label is written `METRIC=\"words\"`, not `{word}\"{}\"`",
                    &quoted[..close]
                ));
            }
            word.push_str(&quoted[..close]);
            rest = &quoted[close + 1..];
        }
        words.push(word);
        rest = rest.trim_start();
    }
    Ok(words)
}

/// The words of `{{#KEYWORD word...}}` when the trimmed `text` is exactly that
/// directive (`{{#demos x}}` is not a `demo` directive).
fn directive_words<'t>(text: &'t str, keyword: &str) -> Option<Vec<&'t str>> {
    Some(directive_inner(text, keyword)?.split_whitespace().collect())
}

/// What is between `{{#KEYWORD` and `}}`.
fn directive_inner<'t>(text: &'t str, keyword: &str) -> Option<&'t str> {
    let inner = text
        .trim()
        .strip_prefix("{{#")?
        .strip_prefix(keyword)?
        .strip_suffix("}}")?;
    if !inner.is_empty() && !inner.starts_with(char::is_whitespace) {
        return None;
    }
    Some(inner)
}

/// Parses `{{#demo NAME}}` (the whole of a trimmed paragraph) into NAME.
pub fn parse_demo_directive(text: &str) -> Option<Result<String, String>> {
    let words = directive_words(text, "demo")?;
    Some(match words.as_slice() {
        [name] if is_demo_name(name) => Ok(name.to_string()),
        [name] => Err(format!(
            "`{name}` is not a demo name (lowercase letters, digits and `-`)"
        )),
        [] => Err("`{{#demo}}` needs a demo name".into()),
        _ => Err(format!(
            "`{{{{#demo {}}}}}` takes exactly one demo name",
            words.join(" ")
        )),
    })
}

fn is_demo_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
