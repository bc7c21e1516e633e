//! Injections into TOML files: a resource in `gen.toml`'s `resources` and a crate feature in
//! `Cargo.toml`, edited through toml_edit so comments and layout stay as the user left them.

use toml_edit::{Array, DocumentMut, TableLike};

use super::{Outcome, Reverted, does_not_parse};

/// Parses a TOML file, lets `change` edit the document, and prints it again, accepted only when
/// the printed text parses too. `change` says whether it changed anything; `None` means not.
fn edit(
    source: &str,
    change: impl FnOnce(&mut DocumentMut) -> Result<bool, String>,
) -> Result<Option<String>, String> {
    let mut doc: DocumentMut = source
        .parse()
        .map_err(|e| format!("it does not parse: {e}"))?;
    if !change(&mut doc)? {
        return Ok(None);
    }
    let text = doc.to_string();
    text.parse::<DocumentMut>().map_err(does_not_parse)?;
    Ok(Some(text))
}

fn resources_array(doc: &mut DocumentMut) -> Result<&mut Array, String> {
    doc.get_mut("resources")
        .and_then(|item| item.as_array_mut())
        .ok_or_else(|| "it has no `resources` array".to_string())
}

pub(super) fn inject_resource(source: &str, name: &str) -> Result<Outcome, String> {
    let text = edit(source, |doc| {
        let array = resources_array(doc)?;
        if array.iter().any(|v| v.as_str() == Some(name)) {
            return Ok(false);
        }
        array.push(name);
        // The array's own layout is kept, but toml_edit gives a pushed value a leading space
        // after a comma; the first value of a formerly empty array gets none.
        if array.len() == 1
            && let Some(v) = array.get_mut(0)
        {
            v.decor_mut().set_prefix("");
        }
        Ok(true)
    })?;
    Ok(text.map_or(Outcome::AlreadyPresent, Outcome::Injected))
}

pub(super) fn revert_resource(source: &str, name: &str) -> Result<Reverted, String> {
    let text = edit(source, |doc| {
        let array = resources_array(doc)?;
        let Some(i) = array.iter().position(|v| v.as_str() == Some(name)) else {
            return Ok(false);
        };
        array.remove(i);
        if let Some(v) = array.get_mut(0) {
            v.decor_mut().set_prefix("");
        }
        Ok(true)
    })?;
    Ok(text.map_or(Reverted::NotPresent, Reverted::Removed))
}

fn dependencies(doc: &mut DocumentMut) -> Result<&mut dyn TableLike, String> {
    doc.get_mut("dependencies")
        .and_then(|item| item.as_table_like_mut())
        .ok_or_else(|| "it has no `[dependencies]` table".to_string())
}

fn features<'a>(doc: &'a mut DocumentMut, dependency: &str) -> Result<&'a mut Array, String> {
    dependencies(doc)?
        .get_mut(dependency)
        .and_then(|item| item.as_table_like_mut())
        .and_then(|table| table.get_mut("features"))
        .and_then(|item| item.as_array_mut())
        .ok_or_else(|| format!("its `{dependency}` dependency has no `features` list"))
}

fn is_sorted<'a>(keys: impl Iterator<Item = &'a str>) -> bool {
    let keys: Vec<&str> = keys.collect();
    keys.windows(2).all(|w| w[0] <= w[1])
}

pub(super) fn inject_feature(
    source: &str,
    dependency: &str,
    feature: &str,
) -> Result<Outcome, String> {
    let text = edit(source, |doc| {
        let list = features(doc, dependency)?;
        let present: Vec<String> = list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        if present.iter().any(|f| f == feature) {
            return Ok(false);
        }
        // A list kept in order stays in order; any other gets the feature at its end.
        let at = if is_sorted(present.iter().map(String::as_str)) {
            present
                .iter()
                .position(|f| f.as_str() > feature)
                .unwrap_or(present.len())
        } else {
            present.len()
        };
        list.insert(at, feature);
        space_after_commas(list, at);
        Ok(true)
    })?;
    Ok(text.map_or(Outcome::AlreadyPresent, Outcome::Injected))
}

/// toml_edit gives a value inserted at `at` the decor of a middle element: the first value of a
/// list keeps no leading space, and every other one gets one after its comma.
fn space_after_commas(list: &mut Array, at: usize) {
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
}

pub(super) fn revert_feature(
    source: &str,
    dependency: &str,
    feature: &str,
) -> Result<Reverted, String> {
    let text = edit(source, |doc| {
        let list = features(doc, dependency)?;
        let Some(i) = list.iter().position(|v| v.as_str() == Some(feature)) else {
            return Ok(false);
        };
        list.remove(i);
        if let Some(first) = list.get_mut(0) {
            first.decor_mut().set_prefix("");
        }
        Ok(true)
    })?;
    Ok(text.map_or(Reverted::NotPresent, Reverted::Removed))
}

/// Records in `gen.toml` that the app has accounts, and the number of their migration.
pub(super) fn inject_auth(source: &str, migration: u64) -> Result<Outcome, String> {
    let text = edit(source, |doc| {
        if doc.contains_key("auth") {
            return Ok(false);
        }
        let mut table = toml_edit::Table::new();
        table.insert("migration", toml_edit::value(migration as i64));
        table.decor_mut().set_prefix(
            "\n# `gen auth` added accounts; their tables are created by this migration.\n",
        );
        doc.insert("auth", toml_edit::Item::Table(table));
        Ok(true)
    })?;
    Ok(text.map_or(Outcome::AlreadyPresent, Outcome::Injected))
}

pub(super) fn revert_auth(source: &str) -> Result<Reverted, String> {
    let text = edit(source, |doc| Ok(doc.remove("auth").is_some()))?;
    Ok(text.map_or(Reverted::NotPresent, Reverted::Removed))
}

/// Where the keys of the `[dependencies]` table are among a file's lines.
struct DependencyLines {
    /// The index of the line after its last key.
    end: usize,
    /// Each key with the index of its line.
    keys: Vec<(String, usize)>,
}

fn dependency_lines(lines: &[&str]) -> Result<DependencyLines, String> {
    let header = lines
        .iter()
        .position(|line| line.trim() == "[dependencies]")
        .ok_or_else(|| "it has no `[dependencies]` table".to_string())?;
    let mut keys = Vec::new();
    let mut end = header + 1;
    for (i, line) in lines.iter().enumerate().skip(header + 1) {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            break;
        }
        if let Some((key, _)) = trimmed.split_once('=')
            && !trimmed.starts_with('#')
        {
            keys.push((key.trim().trim_matches('"').to_owned(), i));
            end = i + 1;
        }
    }
    Ok(DependencyLines { end, keys })
}

/// Adds `name = value` to `[dependencies]` with the lines of `comment` above it, where its name sorts among
/// the others; a dependency already there, in whatever form, is left as it is.
pub(super) fn inject_dependency(
    source: &str,
    name: &str,
    comment: &str,
    value: &str,
) -> Result<Outcome, String> {
    let mut doc: DocumentMut = source
        .parse()
        .map_err(|e| format!("it does not parse: {e}"))?;
    if dependencies(&mut doc)?.contains_key(name) {
        return Ok(Outcome::AlreadyPresent);
    }
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let DependencyLines { end, keys } = dependency_lines(&lines)?;
    // Before the first key that sorts after it, above that key's own comment lines.
    let at = match keys.iter().find(|(key, _)| key.as_str() > name) {
        Some(&(_, mut line)) => {
            while line > 0 && lines[line - 1].trim_start().starts_with('#') {
                line -= 1;
            }
            line
        }
        None => end,
    };
    let mut text: String = lines[..at].concat();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    for line in comment.lines() {
        text.push_str(&format!("# {line}\n"));
    }
    text.push_str(&format!("{name} = {value}\n"));
    text.push_str(&lines[at..].concat());
    let mut check: DocumentMut = text.parse().map_err(does_not_parse)?;
    if !dependencies(&mut check)?.contains_key(name) {
        return Err(format!("`{name}` did not land in `[dependencies]`"));
    }
    Ok(Outcome::Injected(text))
}

pub(super) fn revert_dependency(
    source: &str,
    name: &str,
    comment: &str,
) -> Result<Reverted, String> {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let DependencyLines { keys, .. } = dependency_lines(&lines)?;
    let Some((_, line)) = keys.iter().find(|(key, _)| key == name) else {
        return Ok(Reverted::NotPresent);
    };
    // The comment lines `inject_dependency` wrote above it go with it, when they are still there.
    let comment: Vec<String> = comment.lines().map(|line| format!("# {line}")).collect();
    let mut start = *line;
    if start >= comment.len()
        && lines[start - comment.len()..start]
            .iter()
            .zip(&comment)
            .all(|(have, want)| have.trim_end() == want)
    {
        start -= comment.len();
    }
    let text = format!("{}{}", lines[..start].concat(), lines[line + 1..].concat());
    text.parse::<DocumentMut>().map_err(does_not_parse)?;
    Ok(Reverted::Removed(text))
}

#[cfg(test)]
mod tests {
    use crate::inject::{Injection, Outcome, injected, removed};

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
    fn a_dependency_goes_where_its_name_sorts_and_reverts_exactly() {
        let argon2 = Injection::Dependency {
            name: "argon2",
            comment: "Passwords.",
            value: "\"0.5\"",
        };
        let out = injected(argon2.apply(CARGO));
        assert!(
            out.contains("[dependencies]\n# Passwords.\nargon2 = \"0.5\"\naxum = "),
            "{out}"
        );
        assert_eq!(argon2.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(argon2.revert(&out)), CARGO);
        let zstd = Injection::Dependency {
            name: "zstd",
            comment: "Last.",
            value: "\"0.13\"",
        };
        let out = injected(zstd.apply(CARGO));
        assert!(
            out.ends_with("tokio = \"1\"\n# Last.\nzstd = \"0.13\"\n"),
            "{out}"
        );
        assert_eq!(removed(zstd.revert(&out)), CARGO);
    }

    #[test]
    fn auth_is_recorded_once_in_gen_toml() {
        let toml = "name = \"chat\"\nresources = [\"room\"]\n";
        let inj = Injection::ProjectAuth { migration: 2 };
        let out = injected(inj.apply(toml));
        assert!(out.ends_with("\n[auth]\nmigration = 2\n"), "{out}");
        assert_eq!(inj.apply(&out), Outcome::AlreadyPresent);
        assert_eq!(removed(inj.revert(&out)), toml);
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
