//! The one HTML escaper of the workspace: the deck engine, the rST reader and the
//! terminal renderer all write text and attribute values through it.
//!
//! Text goes between tags or into a double-quoted attribute value (every attribute we
//! write is double-quoted), so `&`, `<`, `>` and `"` are the characters to escape; a
//! single quote means nothing there and is left as it is.

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
}
