//! Edits to files the user owns: syn or toml_edit only locate, text is spliced at a byte offset.
//!
//! Every injection is a pure function from the file's text to an `Outcome`; nothing here reads or
//! writes the disk. The rest of the file stays byte-identical, comments included, and the result
//! is parsed again before it is accepted.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::{Expr, Item, Pat, Stmt};

/// One edit `gen resource` makes to a file the user owns, and `gen destroy` undoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Injection {
    /// `pub mod messages;` in `src/lib.rs`, among the other module declarations.
    ModDecl { module: String },
    /// `let router = router.merge(crate::messages::routes());` in `fn router` of `src/app.rs`.
    Route { module: String },
    /// `"message"` in the `resources` list of `gen.toml`.
    ProjectResource { name: String },
    /// A crate in `[dependencies]` of `Cargo.toml`, with its TOML value.
    Dependency {
        name: &'static str,
        value: &'static str,
    },
    /// A feature of a crate already in `[dependencies]`, such as sqlx's `chrono`.
    Feature {
        dependency: &'static str,
        feature: &'static str,
    },
}

/// What applying an injection to a file's text came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Injected(String),
    AlreadyPresent,
    /// The file no longer has the place the snippet goes; the message says why.
    NoAnchor(String),
}

/// What reverting an injection came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reverted {
    Removed(String),
    NotPresent,
    NoAnchor(String),
}

impl Injection {
    /// The file, relative to the app root, that the injection edits.
    pub fn path(&self) -> &'static str {
        match self {
            Injection::ModDecl { .. } => "src/lib.rs",
            Injection::Route { .. } => "src/app.rs",
            Injection::ProjectResource { .. } => "gen.toml",
            Injection::Dependency { .. } | Injection::Feature { .. } => "Cargo.toml",
        }
    }

    /// The text a person would add by hand, printed when the anchor is missing.
    pub fn snippet(&self) -> String {
        match self {
            Injection::ModDecl { module } => format!("pub mod {module};"),
            Injection::Route { module } => route_statement(module),
            Injection::ProjectResource { name } => {
                format!("resources = [..., \"{name}\"]")
            }
            Injection::Dependency { name, value } => format!("{name} = {value}"),
            Injection::Feature {
                dependency,
                feature,
            } => format!("{dependency} = {{ features = [..., \"{feature}\"] }}"),
        }
    }

    /// Where the snippet goes, for the `NoAnchor` message.
    pub fn place(&self) -> &'static str {
        match self {
            Injection::ModDecl { .. } => "next to the other `pub mod` declarations",
            Injection::Route { .. } => {
                "in `pub fn router`, after the last `let router = …;` statement"
            }
            Injection::ProjectResource { .. } => "as the last entry of the `resources` array",
            Injection::Dependency { .. } => "in the `[dependencies]` table",
            Injection::Feature { .. } => "in the dependency's `features` list",
        }
    }

    pub fn apply(&self, source: &str) -> Outcome {
        let result = match self {
            Injection::ModDecl { module } => inject_mod(source, module),
            Injection::Route { module } => inject_route(source, module),
            Injection::ProjectResource { name } => inject_resource(source, name),
            Injection::Dependency { name, value } => inject_dependency(source, name, value),
            Injection::Feature {
                dependency,
                feature,
            } => inject_feature(source, dependency, feature),
        };
        match result {
            Ok(Outcome::Injected(text)) => match self.validate(&text) {
                Ok(()) => Outcome::Injected(text),
                Err(e) => Outcome::NoAnchor(format!("the edited file does not parse: {e}")),
            },
            Ok(other) => other,
            Err(reason) => Outcome::NoAnchor(reason),
        }
    }

    pub fn revert(&self, source: &str) -> Reverted {
        let result = match self {
            Injection::ModDecl { module } => revert_mod(source, module),
            Injection::Route { module } => revert_route(source, module),
            Injection::ProjectResource { name } => revert_resource(source, name),
            Injection::Dependency { name, .. } => revert_dependency(source, name),
            Injection::Feature {
                dependency,
                feature,
            } => revert_feature(source, dependency, feature),
        };
        match result {
            Ok(Reverted::Removed(text)) => match self.validate(&text) {
                Ok(()) => Reverted::Removed(text),
                Err(e) => Reverted::NoAnchor(format!("the edited file does not parse: {e}")),
            },
            Ok(other) => other,
            Err(reason) => Reverted::NoAnchor(reason),
        }
    }

    fn validate(&self, text: &str) -> Result<(), String> {
        match self {
            Injection::ProjectResource { .. }
            | Injection::Dependency { .. }
            | Injection::Feature { .. } => text
                .parse::<toml_edit::DocumentMut>()
                .map(drop)
                .map_err(|e| e.to_string()),
            _ => syn::parse_file(text).map(drop).map_err(|e| e.to_string()),
        }
    }
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

fn inject_mod(source: &str, module: &str) -> Result<Outcome, String> {
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
    Ok(Outcome::Injected(splice(
        source,
        at,
        &format!("pub mod {module};\n"),
    )))
}

fn revert_mod(source: &str, module: &str) -> Result<Reverted, String> {
    let file = parse(source)?;
    match mod_decls(&file).find(|m| m.ident == module) {
        Some(m) => Ok(Reverted::Removed(cut(
            source,
            whole_lines(source, range(m)),
        ))),
        None => Ok(Reverted::NotPresent),
    }
}

fn route_statement(module: &str) -> String {
    format!("let router = router.merge(crate::{module}::routes());")
}

/// The body of `fn router` in `src/app.rs`.
fn router_fn(file: &syn::File) -> Result<&syn::ItemFn, String> {
    file.items
        .iter()
        .find_map(|item| match item {
            Item::Fn(f) if f.sig.ident == "router" => Some(f),
            _ => None,
        })
        .ok_or_else(|| "it has no `fn router`".to_string())
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

fn inject_route(source: &str, module: &str) -> Result<Outcome, String> {
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
    Ok(Outcome::Injected(splice(
        source,
        at,
        &format!("{indent}{}\n", route_statement(module)),
    )))
}

fn revert_route(source: &str, module: &str) -> Result<Reverted, String> {
    let file = parse(source)?;
    let f = router_fn(&file)?;
    match router_lets(f).find(|l| merges_module(l, module)) {
        Some(l) => Ok(Reverted::Removed(cut(
            source,
            whole_lines(source, range(l)),
        ))),
        None => Ok(Reverted::NotPresent),
    }
}

fn resources_array(doc: &mut toml_edit::DocumentMut) -> Result<&mut toml_edit::Array, String> {
    doc.get_mut("resources")
        .and_then(|item| item.as_array_mut())
        .ok_or_else(|| "it has no `resources` array".to_string())
}

fn inject_resource(source: &str, name: &str) -> Result<Outcome, String> {
    let mut doc: toml_edit::DocumentMut = source
        .parse()
        .map_err(|e| format!("it does not parse: {e}"))?;
    let array = resources_array(&mut doc)?;
    if array.iter().any(|v| v.as_str() == Some(name)) {
        return Ok(Outcome::AlreadyPresent);
    }
    array.push(name);
    // The array's own layout is kept, but toml_edit gives a pushed value a leading space after
    // a comma; the first value of a formerly empty array gets none.
    if array.len() == 1
        && let Some(v) = array.get_mut(0)
    {
        v.decor_mut().set_prefix("");
    }
    Ok(Outcome::Injected(doc.to_string()))
}

fn revert_resource(source: &str, name: &str) -> Result<Reverted, String> {
    let mut doc: toml_edit::DocumentMut = source
        .parse()
        .map_err(|e| format!("it does not parse: {e}"))?;
    let array = resources_array(&mut doc)?;
    let Some(i) = array.iter().position(|v| v.as_str() == Some(name)) else {
        return Ok(Reverted::NotPresent);
    };
    array.remove(i);
    if let Some(v) = array.get_mut(0) {
        v.decor_mut().set_prefix("");
    }
    Ok(Reverted::Removed(doc.to_string()))
}

fn dependencies(doc: &mut toml_edit::DocumentMut) -> Result<&mut dyn toml_edit::TableLike, String> {
    doc.get_mut("dependencies")
        .and_then(|item| item.as_table_like_mut())
        .ok_or_else(|| "it has no `[dependencies]` table".to_string())
}

fn is_sorted<'a>(keys: impl Iterator<Item = &'a str>) -> bool {
    let keys: Vec<&str> = keys.collect();
    keys.windows(2).all(|w| w[0] <= w[1])
}

fn inject_dependency(source: &str, name: &str, value: &str) -> Result<Outcome, String> {
    let mut doc: toml_edit::DocumentMut = source
        .parse()
        .map_err(|e| format!("it does not parse: {e}"))?;
    let deps = dependencies(&mut doc)?;
    if deps.contains_key(name) {
        return Ok(Outcome::AlreadyPresent);
    }
    let sorted = is_sorted(deps.iter().map(|(k, _)| k));
    let value: toml_edit::Value = value
        .parse()
        .map_err(|e| format!("the snippet does not parse: {e}"))?;
    deps.insert(name, toml_edit::Item::Value(value));
    // A list kept in order stays in order; any other is left as the user arranged it.
    if sorted {
        deps.sort_values();
    }
    Ok(Outcome::Injected(doc.to_string()))
}

fn revert_dependency(source: &str, name: &str) -> Result<Reverted, String> {
    let mut doc: toml_edit::DocumentMut = source
        .parse()
        .map_err(|e| format!("it does not parse: {e}"))?;
    let deps = dependencies(&mut doc)?;
    if deps.remove(name).is_none() {
        return Ok(Reverted::NotPresent);
    }
    Ok(Reverted::Removed(doc.to_string()))
}

fn features<'a>(
    doc: &'a mut toml_edit::DocumentMut,
    dependency: &str,
) -> Result<&'a mut toml_edit::Array, String> {
    dependencies(doc)?
        .get_mut(dependency)
        .and_then(|item| item.as_table_like_mut())
        .and_then(|table| table.get_mut("features"))
        .and_then(|item| item.as_array_mut())
        .ok_or_else(|| format!("its `{dependency}` dependency has no `features` list"))
}

fn inject_feature(source: &str, dependency: &str, feature: &str) -> Result<Outcome, String> {
    let mut doc: toml_edit::DocumentMut = source
        .parse()
        .map_err(|e| format!("it does not parse: {e}"))?;
    let list = features(&mut doc, dependency)?;
    let present: Vec<String> = list
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    if present.iter().any(|f| f == feature) {
        return Ok(Outcome::AlreadyPresent);
    }
    let at = if is_sorted(present.iter().map(String::as_str)) {
        present
            .iter()
            .position(|f| f.as_str() > feature)
            .unwrap_or(present.len())
    } else {
        present.len()
    };
    list.insert(at, feature);
    // toml_edit gives an inserted value the decor of a middle element; the first keeps none.
    if let Some(first) = list.get_mut(0) {
        first.decor_mut().set_prefix("");
    }
    if at > 0
        && let Some(v) = list.get_mut(at)
    {
        v.decor_mut().set_prefix(" ");
    }
    if list.len() > 1
        && let Some(second) = list.get_mut(1)
    {
        second.decor_mut().set_prefix(" ");
    }
    Ok(Outcome::Injected(doc.to_string()))
}

fn revert_feature(source: &str, dependency: &str, feature: &str) -> Result<Reverted, String> {
    let mut doc: toml_edit::DocumentMut = source
        .parse()
        .map_err(|e| format!("it does not parse: {e}"))?;
    let list = features(&mut doc, dependency)?;
    let Some(i) = list.iter().position(|v| v.as_str() == Some(feature)) else {
        return Ok(Reverted::NotPresent);
    };
    list.remove(i);
    if let Some(first) = list.get_mut(0) {
        first.decor_mut().set_prefix("");
    }
    Ok(Reverted::Removed(doc.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &str =
        "//! The chat app.\n\npub mod app;\npub mod config; // settings\npub mod turbo;\n";

    const APP: &str = "\
pub fn router(state: AppState) -> Router {
    let router = Router::new().route(\"/\", get(home)); // the home page
    // `gen resource` adds a line per resource below.
    router.with_state(state)
}
";

    fn injected(outcome: Outcome) -> String {
        match outcome {
            Outcome::Injected(text) => text,
            other => panic!("expected an injection, got {other:?}"),
        }
    }

    fn removed(outcome: Reverted) -> String {
        match outcome {
            Reverted::Removed(text) => text,
            other => panic!("expected a removal, got {other:?}"),
        }
    }

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

    #[test]
    fn project_resources_keep_comments_and_revert_exactly() {
        let toml = "# my app\nname = \"chat\" # the crate\nresources = []\n";
        let room = Injection::ProjectResource {
            name: "room".into(),
        };
        let message = Injection::ProjectResource {
            name: "message".into(),
        };
        let one = injected(room.apply(toml));
        assert_eq!(
            one,
            "# my app\nname = \"chat\" # the crate\nresources = [\"room\"]\n"
        );
        let two = injected(message.apply(&one));
        assert_eq!(
            two,
            "# my app\nname = \"chat\" # the crate\nresources = [\"room\", \"message\"]\n"
        );
        assert_eq!(message.apply(&two), Outcome::AlreadyPresent);
        assert_eq!(removed(message.revert(&two)), one);
        assert_eq!(removed(room.revert(&one)), toml);
        assert_eq!(
            removed(room.revert(&two)),
            "# my app\nname = \"chat\" # the crate\nresources = [\"message\"]\n"
        );
    }

    const CARGO: &str = "[package]\nname = \"chat\"\n\n[dependencies]\naxum = \"0.8\" # web\nsqlx = { version = \"0.9\", features = [\"macros\", \"sqlite\"] }\ntokio = \"1\"\n";

    #[test]
    fn dependencies_go_in_order_and_revert_exactly() {
        let chrono = Injection::Dependency {
            name: "chrono",
            value: "{ version = \"0.4\", default-features = false }",
        };
        let out = injected(chrono.apply(CARGO));
        assert_eq!(
            out,
            "[package]\nname = \"chat\"\n\n[dependencies]\naxum = \"0.8\" # web\nchrono = { version = \"0.4\", default-features = false }\nsqlx = { version = \"0.9\", features = [\"macros\", \"sqlite\"] }\ntokio = \"1\"\n"
        );
        assert_eq!(chrono.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(chrono.revert(&out)), CARGO);
    }

    #[test]
    fn features_go_in_order_and_revert_exactly() {
        for (feature, list) in [
            ("chrono", "[\"chrono\", \"macros\", \"sqlite\"]"),
            ("json", "[\"json\", \"macros\", \"sqlite\"]"),
            ("uuid", "[\"macros\", \"sqlite\", \"uuid\"]"),
        ] {
            let inj = Injection::Feature {
                dependency: "sqlx",
                feature,
            };
            let out = injected(inj.apply(CARGO));
            assert!(out.contains(&format!("features = {list} }}")), "{out}");
            assert_eq!(inj.apply(&out), Outcome::AlreadyPresent);
            assert_eq!(removed(inj.revert(&out)), CARGO, "{feature}");
        }
    }
}
