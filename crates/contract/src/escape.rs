//! The one HTML escaper of the workspace: the deck engine, the rST reader and the
//! terminal renderer all write text and attribute values through it.
//!
//! Text goes between tags or into a double-quoted attribute value (every attribute we
//! write is double-quoted), so `&`, `<`, `>` and `"` are the characters to escape; a
//! single quote means nothing there and is left as it is. `decode` is its inverse, for
//! whatever reads such HTML back (the terminal's plain text, the tests): it also reads
//! the numeric references other writers use (`&#39;`, `&#10;`, `&#x27;`).

/// The entity that stands for `c` in HTML text and double-quoted attributes, or `None`
/// when `c` can stand for itself.
pub fn entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        _ => None,
    }
}

/// `text` as HTML text or as a double-quoted attribute value.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match entity(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
    out
}

/// Escaped HTML (`html`'s, or markup made of it) on one line: each newline becomes
/// `&#10;`, which a browser reads back as the newline inside `<pre>` and in attribute
/// values, so that a blank line cannot end a Markdown HTML block early.
pub fn one_line(html: &str) -> String {
    html.replace('\n', "&#10;")
}

/// JSON to embed in `<script type="application/json">`: the element's text is not
/// HTML-escaped (the browser does not decode it), so only `</` could end it early;
/// `<` as `\u003c` is the same JSON.
pub fn json_in_script(json: &str) -> String {
    json.replace('<', "\\u003c")
}

/// The text that `html` (or another writer of these entities and numeric character
/// references) escaped: `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#N;` and `&#xH;`
/// become their characters; anything else, a lone `&` included, stays as it is.
pub fn decode(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let c = match &rest[1..end] {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                name => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_become_entities_and_the_rest_stays() {
        assert_eq!(
            html(r#"<a href="x">Tom & 'Jerry' → é</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; 'Jerry' → é&lt;/a&gt;"
        );
        assert_eq!(html(""), "");
        assert_eq!(entity('a'), None);
    }

    #[test]
    #[cfg(feature = "serde")]
    fn one_line_and_script_json_keep_their_meaning() {
        assert_eq!(one_line("a\n\nb"), "a&#10;&#10;b");
        assert_eq!(decode(&one_line("a\n\nb")), "a\n\nb");
        let json = r#"{"s":"</script><b>"}"#;
        let embedded = json_in_script(json);
        assert!(!embedded.contains('<'), "{embedded}");
        let back: serde_json::Value = serde_json::from_str(&embedded).unwrap();
        assert_eq!(back["s"], "</script><b>");
    }

    #[test]
    fn decode_reads_back_what_html_wrote_and_numeric_references() {
        let text = r#"<a href="x">Tom & 'Jerry' → é &amp; &#39;</a>"#;
        assert_eq!(decode(&html(text)), text);
        assert_eq!(decode("it&#39;s&#10;&#x27;&apos;"), "it's\n''");
        assert_eq!(decode("a & b &nbsp; &#xZZ; &"), "a & b &nbsp; &#xZZ; &");
    }
}
