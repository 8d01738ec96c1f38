//! A project rule, as a test (in the style of rust-analyzer's `tidy.rs`): what a demo
//! prints as `kernel (SOURCE):` comes out of a wrapper that asks the kernel
//! (`d.syscall`, `evidence::call`, `evidence::read`, `wire::read`), and the closure
//! given to such a wrapper only makes the call or reads the answer. It must not make the
//! answer up: no error built by hand (`Err(..)`), no value made before the call and
//! wrapped in `Ok(..)`, no arithmetic, no text formatted by the demo. What the demo
//! computes is printed with `d.derived` (`so:`), a library's or a file's answer with
//! `d.said_by`.
//!
//! Every demo and harness file is parsed with `syn`; a closure breaking the rule fails
//! this test unless [`EXEMPT`] lists it with the reason it still only reads the kernel's
//! answer. A listed exemption that no longer matches fails too, so the list only shrinks.

use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// (file, a snippet of the closure's source, the reason it is the kernel's answer).
const EXEMPT: &[(&str, &str, &str)] = &[
    (
        "src/bin/zombie-file.rs",
        "Ok(st.blocks_free() * st.fragment_size())",
        "free bytes are f_bfree × f_frsize by statvfs(3)'s own definition: both factors \
         are the kernel's answer, nothing of the demo's enters",
    ),
    (
        "src/bin/zombie-file.rs",
        "free: st.blocks_free() * unit",
        "statfs(2)'s f_blocks and f_bfree in f_bsize units, converted to bytes: all three \
         are the kernel's answer",
    ),
    (
        "src/bin/no-message-boundaries.rs",
        "total += n;",
        "the running total only ends the loop at the bytes wanted; the answer is the \
         list of what each recv returned",
    ),
    (
        "src/bin/sendfile-and-mmsg.rs",
        "Ok(sends)",
        "the list of what each sendmmsg(2) call returned, collected by `datagrams` as it \
         made the calls (the batched loop keeps every return value, nothing else)",
    ),
    (
        "src/bin/sendfile-and-mmsg.rs",
        "Ok(recvs)",
        "the list of what each recvmmsg(2) call returned, collected the same way",
    ),
    (
        "src/fd.rs",
        "Ok(n) => total += n",
        "the bytes the kernel accepted before EAGAIN: the sum of what each write(2) \
         returned, and nothing else",
    ),
];

/// The functions and methods whose closure argument is the kernel's answer.
fn is_wrapper(name: &str, path: &[String]) -> bool {
    match name {
        // `d.syscall(SOURCE, || ...)`
        "syscall" => path.is_empty(),
        // `evidence::call`, `demos::evidence::read`, `wire::read`, `demos::wire::read`.
        "call" | "read" => path
            .iter()
            .rev()
            .nth(1)
            .is_some_and(|m| m == "evidence" || m == "wire"),
        _ => false,
    }
}

struct Finding {
    file: String,
    line: usize,
    what: &'static str,
    source: String,
}

struct Rule<'a> {
    file: &'a str,
    text: &'a str,
    found: Vec<Finding>,
}

impl Rule<'_> {
    /// `wire` is true for `wire::read`, whose closure describes the packets it is given
    /// in words (`wire::describe`, their flags): text is its job there, but it must read
    /// those packets, not values worked out before.
    fn judge_closure(&mut self, closure: &syn::ExprClosure, wire: bool) {
        let mut inside = Inside {
            text_allowed: wire,
            ..Inside::default()
        };
        if wire
            && closure
                .inputs
                .first()
                .is_none_or(|p| matches!(p, syn::Pat::Wild(_)))
        {
            inside
                .what
                .push("ignores the packets it is given (describes values made before)");
        }
        // A closure that is only `Ok(name)`: a value made before the call.
        if let Some(inner) = only(&closure.body, "Ok")
            && made_before(inner)
        {
            inside
                .what
                .push("wraps a value made before the call in Ok(..)");
        }
        if let Some(inner) = only(&closure.body, "Err")
            && made_before(inner)
            && !made_up_error(inner)
        {
            inside.what.push("passes on an error made before the call");
        }
        inside.visit_expr(&closure.body);
        let line = closure.or1_token.span.start().line;
        let source = snippet(self.text, closure);
        for what in inside.what {
            self.found.push(Finding {
                file: self.file.to_string(),
                line,
                what,
                source: source.clone(),
            });
        }
    }
}

impl<'ast> Visit<'ast> for Rule<'_> {
    /// Unit tests feed the wrappers made-up answers on purpose: not judged.
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let is_test = m.attrs.iter().any(|a| {
            a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test")
        });
        if !is_test {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*call.func {
            let segments: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if let Some(name) = segments.last()
                && segments.len() > 1
                && is_wrapper(name, &segments)
            {
                let wire = segments.iter().rev().nth(1).is_some_and(|m| m == "wire");
                for arg in &call.args {
                    if let syn::Expr::Closure(c) = arg {
                        self.judge_closure(c, wire);
                    }
                }
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if is_wrapper(&call.method.to_string(), &[]) {
            for arg in &call.args {
                if let syn::Expr::Closure(c) = arg {
                    self.judge_closure(c, false);
                }
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

/// What a closure's body does that a read of the kernel's answer does not. Text and
/// numbers built as an argument of a call (a path to open, a slice's end) are the
/// question, not the answer, and an error's context (`map_err`, `context`) is not
/// evidence: neither is judged.
#[derive(Default)]
struct Inside {
    what: Vec<&'static str>,
    /// Inside an argument of a call other than `Ok`/`Some`.
    in_argument: usize,
    /// A `wire::read` closure: its answer is text describing packets.
    text_allowed: bool,
}

impl Inside {
    fn argument(&mut self, e: &syn::Expr) {
        self.in_argument += 1;
        self.visit_expr(e);
        self.in_argument -= 1;
    }
}

impl<'ast> Visit<'ast> for Inside {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        let name = match &*call.func {
            syn::Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        match name.as_deref() {
            Some("Err") => {
                if call.args.iter().any(made_up_error) {
                    self.what.push("builds an error by hand (Err(..))");
                }
                // `Err(e)`, `Err(io::Error::from(e))`: the kernel's errno passed on.
            }
            Some("Ok" | "Some") => call.args.iter().for_each(|a| self.visit_expr(a)),
            _ => {
                self.visit_expr(&call.func);
                call.args.iter().for_each(|a| self.argument(a));
            }
        }
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        self.visit_expr(&call.receiver);
        let method = call.method.to_string();
        if method == "map_err" {
            // An errno the code names, in place of whatever went wrong.
            if let Some(syn::Expr::Closure(c)) = call.args.first()
                && made_up_errno(&c.body)
            {
                self.what
                    .push("turns a failure into an errno of its own (map_err)");
            }
            return;
        }
        if ["context", "with_context"].contains(&method.as_str()) {
            return;
        }
        call.args.iter().for_each(|a| self.argument(a));
    }

    fn visit_expr_repeat(&mut self, r: &'ast syn::ExprRepeat) {
        // `[0u8; 2 * SIZE]`: the size of a buffer handed to the call.
        self.visit_expr(&r.expr);
        self.argument(&r.len);
    }

    fn visit_expr_index(&mut self, index: &'ast syn::ExprIndex) {
        self.visit_expr(&index.expr);
        self.argument(&index.index);
    }

    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        use syn::BinOp::*;
        if self.in_argument == 0
            && matches!(
                b.op,
                Add(_)
                    | Sub(_)
                    | Mul(_)
                    | Div(_)
                    | Rem(_)
                    | AddAssign(_)
                    | SubAssign(_)
                    | MulAssign(_)
                    | DivAssign(_)
            )
        {
            self.what.push("computes (arithmetic)");
        }
        syn::visit::visit_expr_binary(self, b);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if self.in_argument == 0
            && !self.text_allowed
            && (m.path.is_ident("format") || m.path.is_ident("format_args"))
        {
            self.what.push("formats text of its own (format!)");
        }
    }
}

/// An error the closure made itself: an errno named in the code (`Errno::EINVAL`,
/// `libc::EAGAIN`, `from_raw_os_error`) or a new `io::Error` with text of its own.
fn made_up_error(e: &syn::Expr) -> bool {
    made_up_errno(e)
        || matches!(e, syn::Expr::Call(c) if matches!(&*c.func, syn::Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == "other" || s.ident == "new")))
}

/// An errno named in the code: `Errno::EINVAL`, `libc::EAGAIN`, `from_raw_os_error(..)`.
fn made_up_errno(e: &syn::Expr) -> bool {
    let e = match e {
        syn::Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            syn::Stmt::Expr(e, None) => e,
            _ => return false,
        },
        e => e,
    };
    match e {
        syn::Expr::Path(p) => p
            .path
            .segments
            .iter()
            .rev()
            .nth(1)
            .is_some_and(|m| m.ident == "Errno" || m.ident == "libc"),
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) => p
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "from_raw_os_error"),
            _ => false,
        },
        _ => false,
    }
}

/// `Ok(x)` or `{ Ok(x) }` (for `wrapper` `Ok`): the `x`.
fn only<'e>(body: &'e syn::Expr, wrapper: &str) -> Option<&'e syn::Expr> {
    let expr = match body {
        syn::Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            syn::Stmt::Expr(e, None) => e,
            _ => return None,
        },
        e => e,
    };
    if let syn::Expr::Call(c) = expr
        && let syn::Expr::Path(p) = &*c.func
        && p.path.segments.last().is_some_and(|s| s.ident == wrapper)
        && c.args.len() == 1
    {
        return c.args.first();
    }
    None
}

/// `x`, `x.clone()`, `x.to_owned()`: a value that exists before the closure runs.
fn made_before(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(_) => true,
        syn::Expr::MethodCall(m) => {
            matches!(
                m.method.to_string().as_str(),
                "clone" | "to_owned" | "to_string" | "into"
            ) && made_before(&m.receiver)
        }
        syn::Expr::Reference(r) => made_before(&r.expr),
        _ => false,
    }
}

/// The closure's source text, on one line, for messages and for matching [`EXEMPT`].
fn snippet(text: &str, closure: &syn::ExprClosure) -> String {
    use syn::spanned::Spanned;
    let span = closure.span();
    let (start, end) = (span.start(), span.end());
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for (i, line) in lines
        .iter()
        .enumerate()
        .take(end.line)
        .skip(start.line.saturating_sub(1))
    {
        let line_no = i + 1;
        let from = if line_no == start.line {
            start.column
        } else {
            0
        };
        let to = if line_no == end.line {
            end.column.min(line.len())
        } else {
            line.len()
        };
        let piece = line.get(from.min(to)..to).unwrap_or(line);
        out.push_str(piece.trim());
        out.push(' ');
    }
    out.trim_end().to_string()
}

fn demo_sources() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("bin")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // evidence.rs defines the wrappers (and tests them with made-up answers).
            if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "evidence.rs")
            {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn findings() -> Vec<Finding> {
    let mut found = Vec::new();
    for path in demo_sources() {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let ast =
            syn::parse_file(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
        let name = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path)
            .display()
            .to_string();
        let mut rule = Rule {
            file: &name,
            text: &text,
            found: Vec::new(),
        };
        rule.visit_file(&ast);
        found.extend(rule.found);
    }
    found
}

#[test]
fn a_closure_that_answers_for_the_kernel_only_asks_it() {
    let found = findings();
    let mut unexplained = Vec::new();
    for f in &found {
        let exempt = EXEMPT
            .iter()
            .any(|(file, snip, _)| f.file.ends_with(file) && f.source.contains(snip));
        if !exempt {
            unexplained.push(format!(
                "{}:{}: the closure {}: {}",
                f.file, f.line, f.what, f.source
            ));
        }
    }
    let stale: Vec<String> = EXEMPT
        .iter()
        .filter(|(file, snip, _)| {
            !found
                .iter()
                .any(|f| f.file.ends_with(file) && f.source.contains(snip))
        })
        .map(|(file, snip, _)| format!("{file}: {snip}"))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} closure(s) given to a kernel wrapper make up part of the answer (print what \
         the demo computes with d.derived, a library's answer with d.said_by, or list the \
         closure in EXEMPT with the reason it only reads the kernel):\n  {}",
        unexplained.len(),
        unexplained.join("\n  ")
    );
    assert!(
        stale.is_empty(),
        "exemptions that no longer match anything (remove them):\n  {}",
        stale.join("\n  ")
    );
}

/// The rule sees each kind of made-up answer, and passes a plain call.
#[test]
fn the_rule_flags_each_way_of_making_up_an_answer() {
    let text = r#"
fn f(d: &Demo) {
    d.syscall("recv", || sock.recv(&mut buf));
    d.syscall("made-up errno", || Err(Errno::EINVAL));
    demos::evidence::read("counted", || Ok(count));
    evidence::call("sum", || Ok::<_, io::Error>(a + b));
    demos::evidence::read("text", || Ok(format!("{p:?}")));
    demos::wire::read(&seen, |_| format!("SYN ×{count}"));
    other::read("not a wrapper", || Ok(count));
    d.syscall("readlink", || std::fs::read_link(format!("/proc/{pid}/fd/{n}")));
    d.syscall("passed on", || match f() { Err(e) => Err(io::Error::from(e)), Ok(n) => Ok(n) });
    d.syscall("context", || f().map_err(|e| io::Error::other(format!("{e:#}"))));
    d.syscall("eof", || Err(io::Error::other("EOF")));
    d.syscall("parse", || text.parse::<i32>().map_err(|_| Errno::EINVAL).and_then(kill));
    evidence::call("stored", || Err::<u32, _>(eagain));
}

#[cfg(test)]
mod tests {
    fn made_up() { d.syscall("a test's answer", || Err(Errno::EINVAL)); }
}
"#;
    let ast = syn::parse_file(text).expect("the sample parses");
    let mut rule = Rule {
        file: "sample.rs",
        text,
        found: Vec::new(),
    };
    rule.visit_file(&ast);
    let whats: Vec<(usize, &str)> = rule.found.iter().map(|f| (f.line, f.what)).collect();
    assert_eq!(
        whats,
        vec![
            (4, "builds an error by hand (Err(..))"),
            (5, "wraps a value made before the call in Ok(..)"),
            (6, "computes (arithmetic)"),
            (7, "formats text of its own (format!)"),
            (
                8,
                "ignores the packets it is given (describes values made before)"
            ),
            (13, "builds an error by hand (Err(..))"),
            (14, "turns a failure into an errno of its own (map_err)"),
            (15, "passes on an error made before the call"),
        ]
    );
}
