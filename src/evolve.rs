//! Evolving an app after it was generated: `gen field add|remove`, `gen update`, and what a
//! re-run of `gen resource` may do to a resource that exists.
//!
//! Each change is planned the same way: the app rendered as it should become, and every file
//! whose render changed merged three-way into the file as the user left it, the base being the
//! pristine render `gen` kept under `.gen/base/` (see `base`). A `gen field` change renders only
//! the part of the app it can alter (`project::changed_scope`): the changed resource, those
//! whose lowering reads it, the files whose injections differ and those `gen` keeps current;
//! `gen update` renders it all.
//! An app made before bases were kept falls back to the render of its recorded specs with the
//! current scaffolds: a file the user never edited then takes the change exactly, and an edited
//! one keeps the user's lines wherever they differ from today's scaffolds.

use std::collections::HashSet;

use crate::base;
use crate::error::{Error, Result};
use crate::fs::Fs;
use crate::history::{ChangeKind, FieldChange, Origin, Removed, replay};
use crate::merge::{self, Merged};
use crate::model::Resource;
use crate::naming::suggest;
use crate::project::{self, PROJECT_FILE, Project, Rendered, Scope, render_scope};
use crate::render::{GEN_VERSION, GeneratedFile, Owner, Scaffolds, spec_path};
use crate::spec::{self, FieldSpec, ResourceSpec};
use crate::types::Database;
use crate::write::{Collision, Plan, Status, Step, plan_write};

/// A planned evolution: the steps, and the text with markers of each file that conflicts.
#[derive(Debug, Clone, Default)]
pub struct Evolution {
    pub plan: Plan,
    /// Each conflicting path with its text as the merge marked it.
    pub conflicts: Vec<(String, Vec<u8>)>,
    /// Each merged or rewritten user file: its text before and after, for `--dry-run`'s diffs.
    pub diffs: Vec<(String, Vec<u8>, Vec<u8>)>,
}

/// A version as `gen.toml` records it, compared number by number (`0.10.0` after `0.9.1`).
fn version_parts(version: &str) -> Result<Vec<u64>> {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    core.split('.')
        .map(|part| part.parse::<u64>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| {
            Error::Input(format!(
                "{PROJECT_FILE}: gen_version \"{version}\" is not a version such as \"{GEN_VERSION}\""
            ))
        })
}

/// Refuses an app that a newer `gen` wrote, naming both versions: this `gen` would render it
/// with older scaffolds and take back what the newer one gave it.
pub fn ensure_not_newer(project: &Project) -> Result<()> {
    let Some(recorded) = &project.gen_version else {
        return Ok(());
    };
    if version_parts(recorded)? > version_parts(GEN_VERSION)? {
        return Err(Error::Input(format!(
            "this app was written by gen {recorded}, which is newer than this gen {GEN_VERSION}; \
             install gen {recorded} or newer to change it"
        )));
    }
    Ok(())
}

/// Refuses a `gen field` change to an app an older `gen` wrote: its files are to be brought to
/// this version's scaffolds by `gen update` first, so the change merges on its own.
fn ensure_current(project: &Project, command: &str) -> Result<()> {
    ensure_not_newer(project)?;
    match &project.gen_version {
        Some(recorded) if version_parts(recorded)? < version_parts(GEN_VERSION)? => {
            Err(Error::Input(format!(
                "this app was written by gen {recorded}, older than this gen {GEN_VERSION}; run \
                 `gen update` first, then `{command}`"
            )))
        }
        _ => Ok(()),
    }
}

/// Decides what a re-run of `gen resource` for a resource that exists does: the same spec is
/// `Ok` (nothing changes), any other is refused with the `gen field` commands that make it.
pub fn ensure_same_spec(existing: &Resource, requested: &ResourceSpec) -> Result<()> {
    let old = &existing.spec;
    let singular = &old.name;
    let same_options = old.insert == requested.insert
        && old.optimistic == requested.optimistic
        && old.refresh == requested.refresh
        && old.parent == requested.parent
        && old.per_page == requested.per_page;
    if same_options && old.fields == requested.fields {
        return Ok(());
    }
    let has = |fields: &[FieldSpec], name: &str| fields.iter().any(|f| f.name == name);
    let added: Vec<String> = requested
        .fields
        .iter()
        .filter(|f| !has(&old.fields, &f.name))
        .map(FieldSpec::token)
        .collect();
    let removed: Vec<&str> = old
        .fields
        .iter()
        .filter(|f| !has(&requested.fields, &f.name))
        .map(|f| f.name.as_str())
        .collect();
    let changed: Vec<String> = requested
        .fields
        .iter()
        .filter_map(|f| {
            let before = old.fields.iter().find(|o| o.name == f.name)?;
            (before != f).then(|| format!("\"{}\" (recorded as \"{}\")", f.token(), before.token()))
        })
        .collect();
    let mut msg = format!(
        "resource \"{singular}\" already exists with another spec ({}):",
        spec_path(singular)
    );
    if !added.is_empty() {
        msg.push_str(&format!(
            " add fields with `gen field add {singular} {}`;",
            added.join(" ")
        ));
    }
    if !removed.is_empty() {
        msg.push_str(&format!(
            " remove fields with `gen field remove {singular} {}`;",
            removed.join(" ")
        ));
    }
    if !changed.is_empty() {
        msg.push_str(&format!(
            " {} changed: remove the field and add it again;",
            changed.join(", ")
        ));
    }
    if !same_options {
        msg.push_str(" its options (insert, optimistic, refresh, parent, per_page) differ, which gen does not change in place;");
    }
    msg.push_str(" or pass --force to generate it again over your changes");
    Err(Error::Input(msg))
}

/// The field a user named for removal: by its name (`room`) or its column (`room_id`).
fn find_field<'a>(spec: &'a ResourceSpec, name: &str) -> Result<&'a FieldSpec> {
    if let Some(found) = spec.fields.iter().find(|f| {
        f.name == name
            || format!("{}_id", f.name) == name && f.ty == crate::spec::FieldType::References
    }) {
        return Ok(found);
    }
    let names = || spec.fields.iter().map(|f| f.name.as_str());
    let mut msg = format!("\"{}\" has no field \"{name}\"", spec.name);
    match suggest(name, names()) {
        Some(s) => msg.push_str(&format!("; did you mean \"{s}\"?")),
        None => msg.push_str(&format!(
            "; its fields are {}",
            names().collect::<Vec<_>>().join(", ")
        )),
    }
    Err(Error::Input(msg))
}

/// `gen field add RESOURCE FIELD...`: the project with the fields appended to the resource and
/// the change recorded with the next migration number.
pub fn add_fields(
    fs: &dyn Fs,
    project: &Project,
    name: &str,
    tokens: &[String],
) -> Result<Project> {
    let resource = project.find(name)?;
    let singular = &resource.names.singular;
    ensure_current(
        project,
        &format!("gen field add {singular} {}", tokens.join(" ")),
    )?;
    if tokens.is_empty() {
        return Err(Error::Input(format!(
            "`gen field add {singular}` needs at least one field, for example `gen field add {singular} pinned:boolean`"
        )));
    }
    let mut spec = resource.spec.clone();
    let mut names = Vec::with_capacity(tokens.len());
    for token in tokens {
        let field = spec::parse_field(token).map_err(Error::Input)?;
        if let Some(existing) = spec
            .fields
            .iter()
            .find(|f| f.name == field.name || names.contains(&field.name))
        {
            return Err(Error::Input(format!(
                "duplicate field \"{token}\": \"{singular}\" already has the field \"{}\"",
                existing.token()
            )));
        }
        if field.ty == crate::spec::FieldType::References {
            return Err(crate::history::added_reference(&field, resource));
        }
        names.push(field.name.clone());
        spec.fields.push(field);
    }
    spec.changes.push(FieldChange {
        migration: project::next_migration(fs, project)?,
        kind: ChangeKind::Add(names),
    });
    project.with_spec(&spec)
}

/// `gen field remove RESOURCE NAME...`: the project without those fields, the change recorded
/// with each field's place so the table's history can be rendered again.
pub fn remove_fields(
    fs: &dyn Fs,
    project: &Project,
    name: &str,
    names: &[String],
) -> Result<Project> {
    let resource = project.find(name)?;
    let singular = &resource.names.singular;
    ensure_current(
        project,
        &format!("gen field remove {singular} {}", names.join(" ")),
    )?;
    if names.is_empty() {
        return Err(Error::Input(format!(
            "`gen field remove {singular}` needs the name of a field, for example `gen field remove {singular} {}`",
            resource
                .spec
                .fields
                .first()
                .map(|f| f.name.as_str())
                .unwrap_or("title")
        )));
    }
    let old = &resource.spec;
    let origins = replay(old)?.origins;
    let mut removed: Vec<Removed> = Vec::with_capacity(names.len());
    for name in names {
        let field = find_field(old, name)?;
        if removed.iter().any(|r| r.field.name == field.name) {
            return Err(Error::Input(format!("field \"{name}\" is named twice")));
        }
        if old.parent.as_deref() == Some(field.name.as_str()) && resource.parent.is_some() {
            return Err(Error::Input(format!(
                "\"{name}\" is the parent of {plural}: every {singular} is nested under its {parent}, \
                 in its routes, pages and live stream, so the field cannot go; destroy the resource \
                 and generate it again without it",
                plural = resource.names.plural,
                parent = field.name,
            )));
        }
        if project.app.database == Database::Sqlite
            && field.unique
            && origins.get(&field.name) == Some(&Origin::Created)
        {
            return Err(Error::Input(format!(
                "\"{}\" is UNIQUE in the CREATE TABLE of {plural}, and SQLite cannot drop such a \
                 column (ALTER TABLE DROP COLUMN refuses UNIQUE columns); write a migration that \
                 rebuilds the table, and edit specs/{singular}.toml yourself",
                field.token(),
                plural = resource.names.plural,
            )));
        }
        let at = old
            .fields
            .iter()
            .position(|f| f.name == field.name)
            .expect("found above");
        removed.push(Removed {
            at,
            field: field.clone(),
        });
    }
    if removed.len() == old.fields.len() {
        return Err(Error::Input(format!(
            "\"{}\" would have no fields left; a resource needs at least one (`gen destroy resource {singular}` removes it)",
            names.join(" ")
        )));
    }
    let mut spec = old.clone();
    spec.fields
        .retain(|f| !removed.iter().any(|r| r.field.name == f.name));
    spec.changes.push(FieldChange {
        migration: project::next_migration(fs, project)?,
        kind: ChangeKind::Remove(removed),
    });
    project.with_spec(&spec)
}

/// `gen update`: the same project, rendered by this `gen`.
pub fn update(project: &Project) -> Result<Project> {
    ensure_not_newer(project)?;
    Ok(Project {
        gen_version: Some(GEN_VERSION.to_owned()),
        ..project.clone()
    })
}

/// Plans bringing the app on `fs` from `old` to `new`: the files `gen` keeps current rewritten,
/// every user file whose render changed merged three-way, their bases recorded. With `adopt`
/// (`gen update`), the whole app is rendered and every user file without a base gets one;
/// without it, only the part of the app the change can alter.
pub fn plan(
    fs: &dyn Fs,
    old: &Project,
    new: &Project,
    scaffolds: &Scaffolds,
    collision: Collision,
    adopt: bool,
) -> Result<Evolution> {
    let scope = if adopt {
        Scope::Whole
    } else {
        project::changed_scope(old, new, scaffolds)?
    };
    let after = render_scope(new, scaffolds, &scope)?;
    let mut before: Option<Rendered> = None;
    let mut out = Evolution::default();
    let mut bases = Vec::new();
    let mut seen = HashSet::new();
    let owned: HashSet<&str> = base::owned_paths(&after).into_iter().collect();
    for (path, _) in &after.owners {
        if !seen.insert(path.as_str()) {
            continue;
        }
        let theirs = after.tree.read(path)?.unwrap_or_default();
        let yours = fs.read(path)?;
        if !owned.contains(path.as_str()) {
            if yours.as_deref() != Some(&theirs[..]) {
                let file = GeneratedFile {
                    path: path.clone(),
                    contents: theirs,
                    owner: Owner::Gen,
                };
                out.plan.steps.push(plan_write(fs, &file, collision)?);
            }
            continue;
        }
        let recorded = base::read(fs, path)?;
        let base = match &recorded {
            Some(bytes) => Some(bytes.clone()),
            None => {
                if before.is_none() {
                    before = Some(render_scope(old, scaffolds, &scope)?);
                }
                before.as_ref().expect("rendered above").tree.read(path)?
            }
        };
        if base.as_deref() == Some(&theirs[..]) {
            // Nothing `gen` renders changed here; the file stays as the user left it.
            if adopt && recorded.is_none() {
                bases.push(base::write_step(fs, path, &theirs)?);
            }
            continue;
        }
        let step = match (yours, base) {
            (Some(yours), _) if yours == theirs => Step::keep(Status::Identical, path),
            (Some(yours), Some(base)) if yours == base => {
                out.diffs.push((path.clone(), yours, theirs.clone()));
                Step::write(Status::Force, path, theirs.clone())
            }
            (Some(yours), Some(base)) => match merge::three_way(&base, &yours, &theirs) {
                Merged::Clean(merged) if merged == yours => Step::keep(Status::Identical, path),
                Merged::Clean(merged) => {
                    out.diffs.push((path.clone(), yours, merged.clone()));
                    Step::write(Status::Merge, path, merged)
                }
                Merged::Conflict(marked) => {
                    out.conflicts.push((path.clone(), marked.clone()));
                    match collision {
                        Collision::Stop => Step::keep(Status::Conflict, path),
                        Collision::Force => {
                            out.diffs.push((path.clone(), yours, marked.clone()));
                            Step::write(Status::Conflict, path, marked)
                        }
                        Collision::Skip => Step::keep(Status::Skip, path),
                    }
                }
            },
            // A file with no base, or one the user deleted: as `gen resource` treats it.
            (_, _) => {
                let file = GeneratedFile {
                    path: path.clone(),
                    contents: theirs.clone(),
                    owner: Owner::User,
                };
                plan_write(fs, &file, collision)?
            }
        };
        out.plan.steps.push(step);
        bases.push(base::write_step(fs, path, &theirs)?);
    }
    // A file an older version rendered that this one does not: removed when it is as rendered.
    // A render of part of the app lists only that part, so the paths of the whole app are
    // listed here without rendering them.
    let whole = match scope {
        Scope::Whole => None,
        Scope::Parts { .. } => Some(project::paths(new, scaffolds)?),
    };
    for at in fs.list(base::BASE_DIR)? {
        let path = &at[base::BASE_DIR.len() + 1..];
        if seen.contains(path) || whole.as_ref().is_some_and(|w| w.contains(path)) {
            continue;
        }
        // A migration stays, and so does its base: the database may have run it, sqlx refuses to
        // start an app whose applied migration is missing, and the tables it made hold data.
        if path.starts_with("migrations/") {
            continue;
        }
        let recorded = fs.read(&at)?;
        match fs.read(path)? {
            Some(yours) if Some(&yours) == recorded.as_ref() => {
                out.plan.steps.push(Step::remove(path))
            }
            Some(_) => out.plan.steps.push(Step::keep(Status::Modified, path)),
            None => {}
        }
        bases.push(Step::remove(&at));
    }
    if adopt && let Some(text) = recorded_version(fs, &out.plan)? {
        match out.plan.steps.iter().position(|s| s.path == PROJECT_FILE) {
            Some(i) => {
                let status = match out.plan.steps[i].status {
                    Status::Merge => Status::Merge,
                    _ => Status::Force,
                };
                out.plan.steps[i] = Step::write(status, PROJECT_FILE, text);
            }
            None => out
                .plan
                .steps
                .push(Step::write(Status::Force, PROJECT_FILE, text)),
        }
    }
    out.plan.steps.extend(bases);
    Ok(out)
}

/// `gen.toml` recording this version, as the plan so far leaves it, when it does not say so
/// already (an app made before `gen` recorded its version has no such line).
fn recorded_version(fs: &dyn Fs, plan: &Plan) -> Result<Option<Vec<u8>>> {
    let planned = plan
        .steps
        .iter()
        .rev()
        .find(|s| s.path == PROJECT_FILE)
        .and_then(|s| s.written().map(<[u8]>::to_vec));
    let text = match planned {
        Some(bytes) => bytes,
        None => fs.read(PROJECT_FILE)?.unwrap_or_default(),
    };
    let text = String::from_utf8(text)
        .map_err(|_| Error::Input(format!("{PROJECT_FILE} is not UTF-8 text")))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| Error::Input(format!("{PROJECT_FILE}: {e}")))?;
    if doc.get("gen_version").and_then(|v| v.as_str()) == Some(GEN_VERSION) {
        return Ok(None);
    }
    doc["gen_version"] = toml_edit::value(GEN_VERSION);
    Ok(Some(doc.to_string().into_bytes()))
}
