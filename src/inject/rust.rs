//! Injections into Rust files: a module declaration in `src/lib.rs` and a route in `src/app.rs`.
//!
//! syn parses the file only to find the item or statement and its byte range; the snippet is
//! spliced into the text at that offset, and the result must parse again.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::{Expr, Item, Pat, Stmt};

use super::{Outcome, Reverted, does_not_parse};

/// An injected text, once it parses as Rust.
fn accept_injected(text: String) -> Result<Outcome, String> {
    syn::parse_file(&text).map_err(does_not_parse)?;
    Ok(Outcome::Injected(text))
}

/// A reverted text, once it parses as Rust.
fn accept_removed(text: String) -> Result<Reverted, String> {
    syn::parse_file(&text).map_err(does_not_parse)?;
    Ok(Reverted::Removed(text))
}

fn parse(source: &str) -> Result<syn::File, String> {
    syn::parse_file(source).map_err(|e| {
        let at = e.span().start();
        format!(
            "it does not parse ({e} at line {}:{})",
            at.line,
            at.column + 1
        )
    })
}

/// The byte range of a syntax node in the text it was parsed from.
fn range(node: &impl Spanned) -> Range<usize> {
    node.span().byte_range()
}

/// The start of the line holding `offset`.
fn line_start(source: &str, offset: usize) -> usize {
    source[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset just past the newline ending the line holding `offset`, or the end of the text.
fn line_end(source: &str, offset: usize) -> usize {
    source[offset..]
        .find('\n')
        .map_or(source.len(), |i| offset + i + 1)
}

/// Widens a node's range to whole lines when nothing else shares them, so removal leaves no gap.
fn whole_lines(source: &str, r: Range<usize>) -> Range<usize> {
    let start = line_start(source, r.start);
    let end = line_end(source, r.end);
    let before = &source[start..r.start];
    let after = &source[r.end..end];
    if before.trim().is_empty() && after.trim().is_empty() {
        start..end
    } else {
        r
    }
}

fn splice(source: &str, at: usize, text: &str) -> String {
    let mut out = String::with_capacity(source.len() + text.len() + 1);
    out.push_str(&source[..at]);
    if at > 0 && !source[..at].ends_with('\n') {
        out.push('\n');
    }
    out.push_str(text);
    out.push_str(&source[at..]);
    out
}

fn cut(source: &str, r: Range<usize>) -> String {
    format!("{}{}", &source[..r.start], &source[r.end..])
}

/// Module declarations (`mod x;`, not inline `mod x { … }`) at the top level.
fn mod_decls(file: &syn::File) -> impl Iterator<Item = &syn::ItemMod> {
    file.items.iter().filter_map(|item| match item {
        Item::Mod(m) if m.content.is_none() => Some(m),
        _ => None,
    })
}

pub(super) fn inject_mod(source: &str, module: &str) -> Result<Outcome, String> {
    let file = parse(source)?;
    if file
        .items
        .iter()
        .any(|i| matches!(i, Item::Mod(m) if m.ident == module))
    {
        return Ok(Outcome::AlreadyPresent);
    }
    let decls: Vec<&syn::ItemMod> = mod_decls(&file).collect();
    let Some(last) = decls.last() else {
        return Err("it declares no modules".into());
    };
    // rustfmt sorts each run of module declarations on consecutive lines, so the new one goes
    // where rustfmt would put it: before the first declaration of the last run that sorts after it.
    let run_start = (1..decls.len())
        .rev()
        .find(|&i| {
            line_end(source, range(decls[i - 1]).end) != line_start(source, range(decls[i]).start)
        })
        .unwrap_or(0);
    let at = match decls[run_start..]
        .iter()
        .find(|d| d.ident.to_string().as_str() > module)
    {
        Some(next) => line_start(source, range(*next).start),
        None => line_end(source, range(*last).end),
    };
    accept_injected(splice(source, at, &format!("pub mod {module};\n")))
}

pub(super) fn revert_mod(source: &str, module: &str) -> Result<Reverted, String> {
    let file = parse(source)?;
    match mod_decls(&file).find(|m| m.ident == module) {
        Some(m) => accept_removed(cut(source, whole_lines(source, range(m)))),
        None => Ok(Reverted::NotPresent),
    }
}

pub(super) fn route_statement(module: &str) -> String {
    format!("let router = router.merge(crate::{module}::routes());")
}

/// The top-level function `name` of a file: `fn router` of `src/app.rs`, `fn run` of
/// `src/main.rs`.
fn function<'a>(file: &'a syn::File, name: &str) -> Result<&'a syn::ItemFn, String> {
    file.items
        .iter()
        .find_map(|item| match item {
            Item::Fn(f) if f.sig.ident == name => Some(f),
            _ => None,
        })
        .ok_or_else(|| format!("it has no `fn {name}`"))
}

/// The body of `fn router` in `src/app.rs`.
fn router_fn(file: &syn::File) -> Result<&syn::ItemFn, String> {
    function(file, "router")
}

/// `let router = …;` statements of the router function.
fn router_lets(f: &syn::ItemFn) -> impl Iterator<Item = &syn::Local> {
    f.block.stmts.iter().filter_map(|s| match s {
        Stmt::Local(local) => match &local.pat {
            Pat::Ident(p) if p.ident == "router" => Some(local),
            _ => None,
        },
        _ => None,
    })
}

/// Whether a `let` merges `crate::<module>::routes()` (or `<module>::routes()`).
fn merges_module(local: &syn::Local, module: &str) -> bool {
    let Some(init) = &local.init else {
        return false;
    };
    let Expr::MethodCall(call) = init.expr.as_ref() else {
        return false;
    };
    if call.method != "merge" || call.args.len() != 1 {
        return false;
    }
    let Some(Expr::Call(inner)) = call.args.first() else {
        return false;
    };
    let Expr::Path(path) = inner.func.as_ref() else {
        return false;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.len() >= 2
        && segments[segments.len() - 1] == "routes"
        && segments[segments.len() - 2] == module
}

pub(super) fn inject_route(source: &str, module: &str) -> Result<Outcome, String> {
    inject_router_statement(source, module, &route_statement(module))
}

/// The statement that merges the account routes, which are built from the app's state.
pub(super) fn auth_route_statement() -> String {
    "let router = router.merge(crate::auth::routes(&state));".to_owned()
}

/// Adds `statement`, a `let router = …;` that merges `module`'s routes, after the last such
/// statement of `fn router`.
pub(super) fn inject_router_statement(
    source: &str,
    module: &str,
    statement: &str,
) -> Result<Outcome, String> {
    let file = parse(source)?;
    let f = router_fn(&file)?;
    if router_lets(f).any(|l| merges_module(l, module)) {
        return Ok(Outcome::AlreadyPresent);
    }
    let Some(last) = router_lets(f).last() else {
        return Err("its `fn router` has no `let router = …;` statement".into());
    };
    let r = range(last);
    let start = line_start(source, r.start);
    let indent: String = source[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let at = line_end(source, r.end);
    accept_injected(splice(source, at, &format!("{indent}{statement}\n")))
}

/// Adds several `let router = …;` statements, each merging the routes of the module it is
/// paired with, as `inject_router_statement` one after another would, and gives each one's
/// outcome. One parse of the file finds the last such statement and the modules already merged;
/// the new statements go after it in order, each alone a `let router` statement that merges its
/// module, and the result must parse again. Should any step not hold, the statements are
/// applied one after another instead, which gives the same outcomes with a parse for each.
pub(super) fn inject_router_statements(
    source: &str,
    statements: &[(&str, String)],
) -> Vec<Outcome> {
    batched_router_statements(source, statements).unwrap_or_else(|| {
        let mut text = source.to_owned();
        statements
            .iter()
            .map(|(module, statement)| {
                let outcome = inject_router_statement(&text, module, statement)
                    .unwrap_or_else(Outcome::NoAnchor);
                if let Outcome::Injected(new) = &outcome {
                    text.clone_from(new);
                }
                outcome
            })
            .collect()
    })
}

/// The outcomes of `inject_router_statements` from one parse of the file and one of the result,
/// or `None` when the one-by-one application is to decide them.
fn batched_router_statements(source: &str, statements: &[(&str, String)]) -> Option<Vec<Outcome>> {
    let file = syn::parse_file(source).ok()?;
    let f = router_fn(&file).ok()?;
    let last = router_lets(f).last()?;
    let r = range(last);
    let start = line_start(source, r.start);
    let indent: String = source[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let at = line_end(source, r.end);
    let mut merged: Vec<&str> = Vec::new();
    let mut added = String::new();
    // Each injected statement's end in `added`, or `None` for one already present.
    let mut ends = Vec::with_capacity(statements.len());
    for (module, statement) in statements {
        if merged.contains(module) || router_lets(f).any(|l| merges_module(l, module)) {
            ends.push(None);
            continue;
        }
        // The statement must itself be a `let router` that merges the module, for it to be the
        // last such statement the next one follows, and to count as present for a later one.
        let Ok(Stmt::Local(local)) = syn::parse_str::<Stmt>(statement) else {
            return None;
        };
        if !matches!(&local.pat, Pat::Ident(p) if p.ident == "router")
            || !merges_module(&local, module)
        {
            return None;
        }
        merged.push(module);
        added.push_str(&indent);
        added.push_str(statement);
        added.push('\n');
        ends.push(Some(added.len()));
    }
    let text = splice(source, at, &added);
    syn::parse_file(&text).ok()?;
    Some(
        ends.into_iter()
            .map(|end| match end {
                Some(end) if end == added.len() => Outcome::Injected(text.clone()),
                Some(end) => Outcome::Injected(splice(source, at, &added[..end])),
                None => Outcome::AlreadyPresent,
            })
            .collect(),
    )
}

pub(super) fn revert_route(source: &str, module: &str) -> Result<Reverted, String> {
    let file = parse(source)?;
    let f = router_fn(&file)?;
    match router_lets(f).find(|l| merges_module(l, module)) {
        Some(l) => accept_removed(cut(source, whole_lines(source, range(l)))),
        None => Ok(Reverted::NotPresent),
    }
}

/// The statement that installs the accounts' `authorize` hook on the state `fn router` serves.
pub(super) fn bind_streams_statement() -> String {
    "let state = crate::auth::bind_streams(state);".to_owned()
}

/// Whether a statement is `let state = …::auth::bind_streams(state);`.
fn binds_streams(stmt: &Stmt) -> bool {
    let Stmt::Local(local) = stmt else {
        return false;
    };
    let Pat::Ident(p) = &local.pat else {
        return false;
    };
    let Some(init) = &local.init else {
        return false;
    };
    let Expr::Call(call) = init.expr.as_ref() else {
        return false;
    };
    let Expr::Path(path) = call.func.as_ref() else {
        return false;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    p.ident == "state" && segments.ends_with(&["auth".to_owned(), "bind_streams".to_owned()])
}

/// Adds the hook's statement as the first of `fn router`, before anything clones the state.
pub(super) fn inject_bind_streams(source: &str) -> Result<Outcome, String> {
    let file = parse(source)?;
    let f = router_fn(&file)?;
    if f.block.stmts.iter().any(binds_streams) {
        return Ok(Outcome::AlreadyPresent);
    }
    let Some(first) = f.block.stmts.first() else {
        return Err("its `fn router` has no statements".into());
    };
    let start = line_start(source, range(first).start);
    let indent: String = source[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    // Right after the opening brace, so that a comment above the first statement stays with it.
    let at = line_end(source, f.block.brace_token.span.open().byte_range().end);
    let statement = bind_streams_statement();
    accept_injected(splice(source, at, &format!("{indent}{statement}\n")))
}

pub(super) fn revert_bind_streams(source: &str) -> Result<Reverted, String> {
    let file = parse(source)?;
    let f = router_fn(&file)?;
    match f.block.stmts.iter().find(|s| binds_streams(s)) {
        Some(s) => accept_removed(cut(source, whole_lines(source, range(s)))),
        None => Ok(Reverted::NotPresent),
    }
}

/// The statement `main` checks the settings of one module (`auth`, `blobs`) with at boot.
pub(super) fn boot_check_statement(krate: &str, module: &str) -> String {
    format!("{krate}::{module}::check_config(&config)?;")
}

/// The body of `fn run` in `src/main.rs`, which reads the configuration.
fn run_fn(file: &syn::File) -> Result<&syn::ItemFn, String> {
    function(file, "run")
}

/// Whether a statement calls `…::<module>::check_config(…)`, with `?` or without.
fn checks_config(stmt: &Stmt, module: &str) -> bool {
    let Stmt::Expr(expr, _) = stmt else {
        return false;
    };
    let expr = match expr {
        Expr::Try(t) => t.expr.as_ref(),
        other => other,
    };
    let Expr::Call(call) = expr else {
        return false;
    };
    let Expr::Path(path) = call.func.as_ref() else {
        return false;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments.ends_with(&[module.to_owned(), "check_config".to_owned()])
}

/// Adds the boot check of a module's settings (the accounts', the storage's) right after
/// `let config = …;` in `fn run`.
pub(super) fn inject_boot_check(
    source: &str,
    krate: &str,
    module: &str,
) -> Result<Outcome, String> {
    let file = parse(source)?;
    let f = run_fn(&file)?;
    if f.block.stmts.iter().any(|s| checks_config(s, module)) {
        return Ok(Outcome::AlreadyPresent);
    }
    let config = f
        .block
        .stmts
        .iter()
        .find_map(|s| match s {
            Stmt::Local(local) => match &local.pat {
                Pat::Ident(p) if p.ident == "config" => Some(local),
                _ => None,
            },
            _ => None,
        })
        .ok_or_else(|| "its `fn run` has no `let config = …;` statement".to_string())?;
    let r = range(config);
    let start = line_start(source, r.start);
    let indent: String = source[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let at = line_end(source, r.end);
    // Laid out as rustfmt would, since the crate's name can make it too long for one line.
    let callee = format!("{krate}::{module}::check_config");
    let statement =
        crate::layout::call(indent.len(), "", &callee, &["&config".to_owned()], "?", ";");
    accept_injected(splice(source, at, &format!("{statement}\n")))
}

pub(super) fn revert_boot_check(source: &str, module: &str) -> Result<Reverted, String> {
    let file = parse(source)?;
    let f = run_fn(&file)?;
    match f.block.stmts.iter().find(|s| checks_config(s, module)) {
        Some(stmt) => accept_removed(cut(source, whole_lines(source, range(stmt)))),
        None => Ok(Reverted::NotPresent),
    }
}

#[cfg(test)]
mod tests {
    use crate::inject::{Injection, Outcome, Reverted, injected, removed};

    const LIB: &str =
        "//! The chat app.\n\npub mod app;\npub mod config; // settings\npub mod turbo;\n";

    const APP: &str = "\
pub fn router(state: AppState) -> Router {
    let router = Router::new().route(\"/\", get(home)); // the home page
    // `gen resource` adds a line per resource below.
    router.with_state(state)
}
";

    #[test]
    fn mod_goes_where_rustfmt_sorts_it_and_reverts_exactly() {
        let inj = Injection::ModDecl {
            module: "messages".into(),
        };
        let out = injected(inj.apply(LIB));
        assert_eq!(
            out,
            "//! The chat app.\n\npub mod app;\npub mod config; // settings\npub mod messages;\npub mod turbo;\n"
        );
        assert_eq!(inj.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(inj.revert(&out)), LIB);
        assert_eq!(inj.revert(LIB), Reverted::NotPresent);

        let last = Injection::ModDecl {
            module: "widgets".into(),
        };
        assert!(injected(last.apply(LIB)).ends_with("pub mod turbo;\npub mod widgets;\n"));
    }

    #[test]
    fn mod_without_anchor() {
        let inj = Injection::ModDecl {
            module: "messages".into(),
        };
        assert!(
            matches!(inj.apply("fn main() {}\n"), Outcome::NoAnchor(m) if m.contains("no modules"))
        );
        assert!(
            matches!(inj.apply("fn main( {}\n"), Outcome::NoAnchor(m) if m.contains("does not parse"))
        );
    }

    #[test]
    fn route_follows_the_last_let_and_keeps_comments() {
        let rooms = Injection::Route {
            module: "rooms".into(),
        };
        let messages = Injection::Route {
            module: "messages".into(),
        };
        let one = injected(rooms.apply(APP));
        let two = injected(messages.apply(&one));
        assert_eq!(
            two,
            "\
pub fn router(state: AppState) -> Router {
    let router = Router::new().route(\"/\", get(home)); // the home page
    let router = router.merge(crate::rooms::routes());
    let router = router.merge(crate::messages::routes());
    // `gen resource` adds a line per resource below.
    router.with_state(state)
}
"
        );
        assert_eq!(rooms.apply(&two), Outcome::AlreadyPresent);
        assert_eq!(removed(messages.revert(&two)), one);
        assert_eq!(removed(rooms.revert(&one)), APP);
    }

    /// The outcomes of applying injections one after another, each to the text those before it
    /// left: what `Injection::apply_in_order` is to give.
    fn one_by_one(source: &str, injections: &[Injection]) -> Vec<Outcome> {
        let mut text = source.to_owned();
        injections
            .iter()
            .map(|inj| {
                let outcome = inj.apply(&text);
                if let Outcome::Injected(new) = &outcome {
                    text.clone_from(new);
                }
                outcome
            })
            .collect()
    }

    #[test]
    fn routes_applied_together_come_out_as_applied_one_by_one() {
        let route = |module: &str| Injection::Route {
            module: module.into(),
        };
        let with_rooms = injected(route("rooms").apply(APP));
        let runs: [(&str, Vec<Injection>); 5] = [
            (APP, vec![route("rooms"), route("messages"), route("notes")]),
            // One already merged, one named twice, the accounts' among them, and an injection
            // of another kind between two runs.
            (
                &with_rooms,
                vec![
                    route("messages"),
                    route("rooms"),
                    Injection::AuthRoutes,
                    route("messages"),
                    Injection::AuthStreams,
                    route("notes"),
                    route("tags"),
                ],
            ),
            // A statement that does not parse is refused alone; the others still go in.
            (APP, vec![route("rooms"), route("no such"), route("notes")]),
            // No place for them, and a file that does not parse.
            (
                "pub fn router() -> Router { Router::new() }\n",
                vec![route("rooms"), route("messages")],
            ),
            (
                "pub fn router( {\n",
                vec![route("rooms"), route("messages")],
            ),
        ];
        for (source, injections) in &runs {
            assert_eq!(
                Injection::apply_in_order(source, injections),
                one_by_one(source, injections),
                "{source}"
            );
        }
        let outcomes = Injection::apply_in_order(APP, &runs[0].1);
        assert_eq!(outcomes.len(), 3);
        assert!(
            matches!(&outcomes[2], Outcome::Injected(text) if text.contains(
                "rooms::routes());\n    let router = router.merge(crate::messages::routes());\n    \
                 let router = router.merge(crate::notes::routes());\n    // `gen resource`"
            )),
            "{outcomes:?}"
        );
        let refused = Injection::apply_in_order(APP, &runs[2].1);
        assert!(
            matches!(&refused[1], Outcome::NoAnchor(m) if m.contains("does not parse")),
            "{refused:?}"
        );
    }

    #[test]
    fn route_without_anchor() {
        let inj = Injection::Route {
            module: "rooms".into(),
        };
        assert!(
            matches!(inj.apply("pub fn app() {}\n"), Outcome::NoAnchor(m) if m.contains("no `fn router`"))
        );
        assert!(matches!(
            inj.apply("pub fn router() -> Router { Router::new() }\n"),
            Outcome::NoAnchor(m) if m.contains("no `let router")
        ));
    }

    const MAIN: &str = "\
async fn run() -> Result<(), String> {
    let config = Config::from_env().map_err(|error| error.to_string())?;
    let state = AppState::new(config).await?; // boot
    Ok(())
}
";

    #[test]
    fn the_boot_check_follows_the_config_once_and_reverts_exactly() {
        let inj = Injection::AuthBootCheck {
            krate: "chat".into(),
        };
        let out = injected(inj.apply(MAIN));
        assert!(
            out.contains("to_string())?;\n    chat::auth::check_config(&config)?;\n    let state"),
            "{out}"
        );
        assert_eq!(inj.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(inj.revert(&out)), MAIN);
        // A crate name too long for one line is laid out as rustfmt would.
        let long = Injection::AuthBootCheck {
            krate: "a".repeat(70),
        };
        let out = injected(long.apply(MAIN));
        assert!(
            out.contains("::auth::check_config(\n        &config,\n    )?;\n"),
            "{out}"
        );
        let without = Injection::AuthBootCheck {
            krate: "chat".into(),
        };
        assert!(matches!(
            without.apply("async fn run() -> Result<(), String> { Ok(()) }\n"),
            Outcome::NoAnchor(m) if m.contains("no `let config")
        ));
    }

    #[test]
    fn the_stream_hook_binds_the_state_first_once_and_reverts_exactly() {
        let out = injected(Injection::AuthStreams.apply(APP));
        assert!(
            out.starts_with(
                "pub fn router(state: AppState) -> Router {\n    let state = crate::auth::bind_streams(state);\n    let router = Router::new()"
            ),
            "{out}"
        );
        assert_eq!(Injection::AuthStreams.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(Injection::AuthStreams.revert(&out)), APP);
        assert_eq!(Injection::AuthStreams.revert(APP), Reverted::NotPresent);
        assert!(matches!(
            Injection::AuthStreams.apply("pub fn app() {}\n"),
            Outcome::NoAnchor(m) if m.contains("no `fn router`")
        ));
    }

    #[test]
    fn the_account_routes_merge_with_the_state_once_and_revert_exactly() {
        let out = injected(Injection::AuthRoutes.apply(APP));
        assert!(
            out.contains(
                "// the home page\n    let router = router.merge(crate::auth::routes(&state));\n"
            ),
            "{out}"
        );
        assert_eq!(Injection::AuthRoutes.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(Injection::AuthRoutes.revert(&out)), APP);
    }
}
