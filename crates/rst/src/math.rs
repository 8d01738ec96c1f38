//! LaTeX math as readable text: Greek letters, operators and arrows as Unicode,
//! `\frac{a}{b}` as `(a)/(b)`, `^`/`_` of single digits as super-/subscripts. Enough
//! for the formulas of slides, with nothing loaded from the web.

/// Commands and their Unicode characters.
const SYMBOLS: &[(&str, &str)] = &[
    ("alpha", "α"),
    ("beta", "β"),
    ("gamma", "γ"),
    ("delta", "δ"),
    ("epsilon", "ε"),
    ("zeta", "ζ"),
    ("eta", "η"),
    ("theta", "θ"),
    ("lambda", "λ"),
    ("mu", "μ"),
    ("pi", "π"),
    ("rho", "ρ"),
    ("sigma", "σ"),
    ("tau", "τ"),
    ("phi", "φ"),
    ("chi", "χ"),
    ("psi", "ψ"),
    ("omega", "ω"),
    ("Gamma", "Γ"),
    ("Delta", "Δ"),
    ("Theta", "Θ"),
    ("Lambda", "Λ"),
    ("Pi", "Π"),
    ("Sigma", "Σ"),
    ("Phi", "Φ"),
    ("Omega", "Ω"),
    ("sum", "∑"),
    ("prod", "∏"),
    ("int", "∫"),
    ("infty", "∞"),
    ("cdot", "·"),
    ("times", "×"),
    ("div", "÷"),
    ("pm", "±"),
    ("leq", "≤"),
    ("le", "≤"),
    ("geq", "≥"),
    ("ge", "≥"),
    ("neq", "≠"),
    ("ne", "≠"),
    ("approx", "≈"),
    ("equiv", "≡"),
    ("in", "∈"),
    ("notin", "∉"),
    ("subset", "⊂"),
    ("cup", "∪"),
    ("cap", "∩"),
    ("forall", "∀"),
    ("exists", "∃"),
    ("rightarrow", "→"),
    ("to", "→"),
    ("leftarrow", "←"),
    ("Rightarrow", "⇒"),
    ("iff", "⇔"),
    ("partial", "∂"),
    ("nabla", "∇"),
    ("sqrt", "√"),
    ("log", "log"),
    ("ln", "ln"),
    ("sin", "sin"),
    ("cos", "cos"),
    ("max", "max"),
    ("min", "min"),
    ("ldots", "…"),
    ("dots", "…"),
    ("cdots", "⋯"),
    ("quad", "  "),
    ("qquad", "    "),
    (",", " "),
    (";", " "),
    ("left", ""),
    ("right", ""),
    ("mathrm", ""),
    ("text", ""),
    ("mathbf", ""),
    ("operatorname", ""),
    ("\\", "\n"),
];

const SUPERSCRIPTS: &[(char, char)] = &[
    ('0', '⁰'),
    ('1', '¹'),
    ('2', '²'),
    ('3', '³'),
    ('4', '⁴'),
    ('5', '⁵'),
    ('6', '⁶'),
    ('7', '⁷'),
    ('8', '⁸'),
    ('9', '⁹'),
    ('n', 'ⁿ'),
    ('+', '⁺'),
    ('-', '⁻'),
];
const SUBSCRIPTS: &[(char, char)] = &[
    ('0', '₀'),
    ('1', '₁'),
    ('2', '₂'),
    ('3', '₃'),
    ('4', '₄'),
    ('5', '₅'),
    ('6', '₆'),
    ('7', '₇'),
    ('8', '₈'),
    ('9', '₉'),
];

/// The text of a formula.
pub(crate) fn to_text(tex: &str) -> String {
    text_at(tex, 0)
}

/// Groups nest at most this deep before they are shown as written (bounds the work).
const MAX_DEPTH: usize = 8;

fn text_at(tex: &str, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return tex.to_string();
    }
    let chars: Vec<char> = tex.chars().collect();
    let mut out = String::with_capacity(tex.len());
    let mut i = 0;
    while i < chars.len() {
        i = step(&chars, i, &mut out, depth);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads one item at `i`; returns where the next starts.
fn step(chars: &[char], i: usize, out: &mut String, depth: usize) -> usize {
    match chars[i] {
        '\\' => command(chars, i + 1, out, depth),
        c @ ('^' | '_') => {
            let table = if c == '^' { SUPERSCRIPTS } else { SUBSCRIPTS };
            let (group, next) = group(chars, i + 1);
            let mapped: Option<String> = group
                .chars()
                .map(|g| table.iter().find(|(a, _)| *a == g).map(|(_, b)| *b))
                .collect();
            match mapped {
                Some(m) if !group.is_empty() => out.push_str(&m),
                _ => {
                    out.push(c);
                    out.push('(');
                    out.push_str(&text_at(&group, depth + 1));
                    out.push(')');
                }
            }
            next
        }
        '{' | '}' => i + 1,
        c => {
            out.push(c);
            i + 1
        }
    }
}

/// A `\command` at `i` (after the backslash).
fn command(chars: &[char], i: usize, out: &mut String, depth: usize) -> usize {
    let mut end = i;
    while end < chars.len() && chars[end].is_ascii_alphabetic() {
        end += 1;
    }
    if end == i && end < chars.len() {
        end += 1;
    }
    let name: String = chars[i..end].iter().collect();
    if name == "frac" {
        let (a, next) = group(chars, end);
        let (b, next) = group(chars, next);
        out.push_str(&format!(
            "({})/({})",
            text_at(&a, depth + 1),
            text_at(&b, depth + 1)
        ));
        return next;
    }
    match SYMBOLS.iter().find(|(n, _)| *n == name) {
        Some((_, s)) => out.push_str(s),
        None => out.push_str(&name),
    }
    end
}

/// A `{...}` group or a single character at `i`: its text and where it ends.
fn group(chars: &[char], i: usize) -> (String, usize) {
    match chars.get(i) {
        None => (String::new(), i),
        Some('{') => {
            let mut depth = 0;
            let mut k = i;
            while k < chars.len() {
                match chars[k] {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return (chars[i + 1..k].iter().collect(), k + 1);
                        }
                    }
                    _ => {}
                }
                k += 1;
            }
            (chars[i + 1..].iter().collect(), chars.len())
        }
        Some(c) => (c.to_string(), i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_read_as_text() {
        assert_eq!(
            to_text(r"\alpha^2 + x_1 \leq \frac{a}{b}"),
            "α² + x₁ ≤ (a)/(b)"
        );
        assert_eq!(to_text(r"e^{i\pi}"), "e^(iπ)");
    }

    #[test]
    fn a_group_ends_at_its_matching_brace_and_the_formula_goes_on() {
        assert_eq!(to_text("x^{10} + y_{2}"), "x¹⁰ + y₂");
        // Braces inside a group nest; the group ends at the brace that matches its own.
        assert_eq!(to_text("x^{a{b}c} z"), "x^(abc) z");
        // A group that never closes runs to the end.
        assert_eq!(to_text("x^{12"), "x¹²");
        assert_eq!(to_text("x^{a b"), "x^(a b)");
    }

    #[test]
    fn a_backslash_before_a_non_letter_is_a_one_character_command() {
        // `\,` and `\;` are spaces, `\{` and `\}` the braces themselves (not a group).
        assert_eq!(to_text(r"a\,b\;c"), "a b c");
        assert_eq!(to_text(r"\{x\}"), "{x}");
        // A backslash at the very end has no command: nothing is shown for it.
        assert_eq!(to_text("x\\"), "x");
    }

    #[test]
    fn an_empty_script_is_shown_as_written() {
        assert_eq!(to_text("x^{}"), "x^()");
        assert_eq!(to_text("x_"), "x_()");
    }

    #[test]
    fn groups_nested_past_the_limit_are_shown_as_written() {
        // The innermost group is read at depth `n`: up to MAX_DEPTH it is converted,
        // one deeper it is its source.
        let nest = |open: &str, n: usize| format!("{}\\pi{}", open.repeat(n), "}".repeat(n));
        let deep = MAX_DEPTH;
        let closes = ")".repeat(deep);
        assert_eq!(
            to_text(&nest("x^{", deep)),
            format!("{}π{closes}", "x^(".repeat(deep))
        );
        assert_eq!(
            to_text(&nest("x^{", deep + 1)),
            format!("{}\\pi){closes}", "x^(".repeat(deep + 1))
        );
        // The same for both parts of a fraction.
        let top = |n: usize| nest(r"\frac{", n);
        assert!(to_text(&top(deep)).starts_with(&format!("{}π)", "(".repeat(deep))));
        assert!(to_text(&top(deep + 1)).contains("\\pi"));
        let bottom = |n: usize| nest(r"\frac{a}{", n);
        assert!(to_text(&bottom(deep)).ends_with(&format!("(π{closes}")));
        assert!(to_text(&bottom(deep + 1)).contains("\\pi"));
    }
}
