//! A resource's field history: the changes `gen field add|remove` recorded in its spec, the
//! fields its table was created with, and each change lowered for its migration.
//!
//! `specs/NAME.toml` keeps the resource's fields as they are now, and a `[[changes]]` entry per
//! `gen field` run, so that a render from the spec alone gives back every migration the app
//! already ran, byte for byte: the `CREATE TABLE` with the fields it had then, and one
//! `ALTER TABLE` per change after it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{App, Field, Resource};
use crate::spec::{FieldSpec, FieldType, ResourceSpec, parse_field, toml_string};
use crate::types::{default_literal, implied_default};

/// One `gen field add` or `gen field remove`, with the number of its migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub migration: u64,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// The names of the fields added, which were appended to the fields in this order.
    Add(Vec<String>),
    /// The fields removed, each with its place in the fields before the change.
    Remove(Vec<Removed>),
}

/// A field a change removed and where it stood, so the fields before the change can be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub at: usize,
    pub field: FieldSpec,
}

/// A `[[changes]]` entry of a spec file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeFile {
    migration: u64,
    #[serde(default)]
    add: Vec<String>,
    #[serde(default)]
    remove: Vec<RemovedFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemovedFile {
    at: usize,
    field: String,
}

/// Reads the `[[changes]]` of a spec file; `origin` names it in errors.
pub fn parse_changes(
    files: Vec<ChangeFile>,
    _text: &str,
    origin: &Path,
) -> Result<Vec<FieldChange>> {
    let mut changes = Vec::with_capacity(files.len());
    for file in files {
        let at = || {
            format!(
                "{}: invalid spec: the change of migration {}",
                origin.display(),
                file.migration
            )
        };
        let kind = match (file.add.is_empty(), file.remove.is_empty()) {
            (false, true) => ChangeKind::Add(file.add.clone()),
            (true, false) => {
                let mut removed = Vec::with_capacity(file.remove.len());
                for r in &file.remove {
                    let field = parse_field(&r.field)
                        .map_err(|m| Error::Input(format!("{}: {m}", at())))?;
                    removed.push(Removed { at: r.at, field });
                }
                ChangeKind::Remove(removed)
            }
            _ => {
                return Err(Error::Input(format!(
                    "{} needs either `add` or `remove`, not both or neither",
                    at()
                )));
            }
        };
        changes.push(FieldChange {
            migration: file.migration,
            kind,
        });
    }
    Ok(changes)
}

/// Appends the `[[changes]]` of a spec to its TOML text; nothing when there are none, so the
/// specs of resources no `gen field` touched stay as they were.
pub fn write_changes(out: &mut String, changes: &[FieldChange]) {
    for change in changes {
        write!(out, "\n[[changes]]\nmigration = {}\n", change.migration).unwrap();
        match &change.kind {
            ChangeKind::Add(names) => {
                let names: Vec<String> = names.iter().map(|n| toml_string(n)).collect();
                writeln!(out, "add = [{}]", names.join(", ")).unwrap();
            }
            ChangeKind::Remove(removed) => {
                let entries: Vec<String> = removed
                    .iter()
                    .map(|r| {
                        format!(
                            "{{ at = {}, field = {} }}",
                            r.at,
                            toml_string(&r.field.token())
                        )
                    })
                    .collect();
                writeln!(out, "remove = [{}]", entries.join(", ")).unwrap();
            }
        }
    }
}

/// Where a field of the table came from, which decides how its column can be dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// It was in the `CREATE TABLE`, with its `UNIQUE` inline.
    Created,
    /// A change added it, with a named index for `unique` or `index`.
    Added,
}

/// A spec's history replayed: the fields the table was created with, the fields each change
/// added or removed, and where every field ever named came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub created: Vec<FieldSpec>,
    /// Per change, in order: the fields it added or removed.
    pub fields: Vec<Vec<FieldSpec>>,
    /// Per change, the origin of each field it removed; empty for an `add`.
    pub removed_origins: Vec<Vec<Origin>>,
    /// The origin of each current field, by name.
    pub origins: HashMap<String, Origin>,
}

/// Replays a spec's changes backwards from its current fields to the fields it was created
/// with, then forwards to know where each field came from.
pub fn replay(spec: &ResourceSpec) -> Result<History> {
    let broken = |m: String| {
        Error::Input(format!(
            "the spec of \"{}\" records changes that do not fit its fields: {m}",
            spec.name
        ))
    };
    let mut fields = spec.fields.clone();
    let mut per_change = Vec::with_capacity(spec.changes.len());
    for change in spec.changes.iter().rev() {
        match &change.kind {
            ChangeKind::Add(names) => {
                let mut added = Vec::with_capacity(names.len());
                for name in names.iter().rev() {
                    let at = fields.iter().position(|f| &f.name == name).ok_or_else(|| {
                        broken(format!(
                            "migration {} adds \"{name}\", which is not a field by then",
                            change.migration
                        ))
                    })?;
                    added.push(fields.remove(at));
                }
                added.reverse();
                per_change.push(added);
            }
            ChangeKind::Remove(removed) => {
                let mut ordered: Vec<&Removed> = removed.iter().collect();
                ordered.sort_by_key(|r| r.at);
                for r in ordered {
                    if r.at > fields.len() {
                        return Err(broken(format!(
                            "migration {} removes \"{}\" at {}, past the end of the fields",
                            change.migration, r.field.name, r.at
                        )));
                    }
                    fields.insert(r.at, r.field.clone());
                }
                per_change.push(removed.iter().map(|r| r.field.clone()).collect());
            }
        }
    }
    per_change.reverse();
    let created = fields;
    let mut origins: HashMap<String, Origin> = created
        .iter()
        .map(|f| (f.name.clone(), Origin::Created))
        .collect();
    let mut removed_origins = Vec::with_capacity(spec.changes.len());
    for (change, fields) in spec.changes.iter().zip(&per_change) {
        match change.kind {
            ChangeKind::Add(_) => {
                for f in fields {
                    origins.insert(f.name.clone(), Origin::Added);
                }
                removed_origins.push(Vec::new());
            }
            ChangeKind::Remove(_) => {
                removed_origins.push(
                    fields
                        .iter()
                        .map(|f| origins.remove(&f.name).unwrap_or(Origin::Created))
                        .collect(),
                );
            }
        }
    }
    Ok(History {
        created,
        fields: per_change,
        removed_origins,
        origins,
    })
}

/// One change as its migration is rendered from (`scaffolds/change/`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The four-digit migration number: `0003`.
    pub migration: String,
    /// The migration's name after its number: `add_pinned_to_messages`.
    pub slug: String,
    /// The `gen` command that made it, for the migration's comment.
    pub command: String,
    /// The columns added: each its full definition after `ADD COLUMN`, and the index
    /// statement that goes with it, if any.
    pub added: Vec<AddedColumn>,
    /// The columns dropped, each with the index to drop first, if any.
    pub dropped: Vec<DroppedColumn>,
    /// When the change adds a file field: the trigger that detaches a deleted record's files
    /// (for the table's first file field, or another: creating it again changes nothing).
    pub detach_trigger: Option<String>,
    /// The file fields removed, whose attachments the migration deletes: the app purges the
    /// blobs they leave unattached.
    pub detached: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddedColumn {
    /// `pinned BOOLEAN NOT NULL DEFAULT FALSE`.
    pub definition: String,
    /// `CREATE UNIQUE INDEX index_messages_on_code ON messages (code)`.
    pub index: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DroppedColumn {
    pub column: String,
    /// The index on the column, which SQLite requires dropped before the column.
    pub index: Option<String>,
}

/// The name every index on one column of a table has, in `CREATE TABLE` and in changes alike.
pub fn index_name(plural: &str, column: &str) -> String {
    format!("index_{plural}_on_{column}")
}

/// The spec of the resource as it was generated: its first fields and no changes.
pub fn created_spec(spec: &ResourceSpec, history: &History) -> ResourceSpec {
    ResourceSpec {
        fields: history.created.clone(),
        changes: Vec::new(),
        ..spec.clone()
    }
}

/// The refusal of a `references` field added to a resource that exists.
pub fn added_reference(spec: &FieldSpec, r: &Resource) -> Error {
    Error::Input(format!(
        "\"{token}\" cannot be added to {plural} that exist: a references field nests the \
         resource or needs a record of \"{name}\" in every row. Generate the resource again with \
         it (`gen destroy resource {singular}` then `gen resource {singular} ...`), or add an \
         integer field",
        token = spec.token(),
        plural = r.names.plural,
        name = spec.name,
        singular = r.names.singular
    ))
}

/// Checks a field a change adds to a table that may hold rows, and gives its column's
/// definition: a required field needs a default, and a unique one could not have one.
fn added_column(app: &App, r: &Resource, spec: &FieldSpec, field: &Field) -> Result<String> {
    let token = spec.token();
    let plural = &r.names.plural;
    if spec.ty == FieldType::References {
        return Err(added_reference(spec, r));
    }
    if spec.unique && !spec.optional {
        return Err(Error::Input(format!(
            "\"{token}\" is unique and required, but the {plural} already there would all take \
             the same value; add it as \"{name}:{ty}:optional:unique\"",
            name = spec.name,
            ty = spec.ty.as_str()
        )));
    }
    let given = spec.default.as_deref();
    let default = match given
        .or_else(|| (!spec.optional).then(|| implied_default(spec.ty)).flatten())
    {
        Some(value) => Some(
            default_literal(app.database, spec.ty, spec.max, value)
                .map_err(|m| Error::Input(format!("default \"{value}\" in \"{token}\" {m}")))?,
        ),
        None if spec.optional => None,
        None => {
            return Err(Error::Input(format!(
                "\"{token}\" is required, and the {plural} already there need a value for it: give \
                 it a default (\"{token}:default=VALUE\") or make it optional (\"{name}:{ty}:optional\")",
                name = spec.name,
                ty = spec.ty.as_str()
            )));
        }
    };
    let mut definition = format!("{} {}", field.sql_name, field.sql_type);
    if !field.optional {
        definition.push_str(" NOT NULL");
    }
    if let Some(default) = default {
        write!(definition, " DEFAULT {default}").unwrap();
    }
    Ok(definition)
}

/// Lowers each recorded change of `r`'s spec for its migration. `lower` lowers one field as
/// the resource's own fields are.
pub fn lower_changes(
    app: &App,
    r: &Resource,
    history: &History,
    lower: impl Fn(&FieldSpec) -> Result<Field>,
) -> Result<Vec<Change>> {
    let plural = &r.names.plural;
    let mut out = Vec::with_capacity(r.spec.changes.len());
    for (i, change) in r.spec.changes.iter().enumerate() {
        let all = &history.fields[i];
        let names: Vec<&str> = all.iter().map(|f| f.name.as_str()).collect();
        // An attachment field has no column to add or drop: its files are rows of the app's
        // blobs, whose tables the first file field brings (`migrations/0000_create_blobs.sql`).
        let (fields, origins): (Vec<&FieldSpec>, Vec<Origin>) = all
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.ty.is_attachment())
            .map(|(j, f)| {
                let origin = history.removed_origins[i]
                    .get(j)
                    .copied()
                    .unwrap_or(Origin::Created);
                (f, origin)
            })
            .unzip();
        let mut lowered = Vec::with_capacity(fields.len());
        for f in &fields {
            lowered.push(lower(f)?);
        }
        let files: Vec<String> = all
            .iter()
            .filter(|f| f.ty.is_attachment())
            .map(|f| f.name.clone())
            .collect();
        let adds = matches!(change.kind, ChangeKind::Add(_));
        let (detach_trigger, detached) = if adds {
            let trigger = !files.is_empty();
            let sql = trigger.then(|| crate::types::detach_files_trigger(app.database, plural));
            (sql, Vec::new())
        } else {
            (None, files)
        };
        let (slug, command, added, dropped) = match &change.kind {
            ChangeKind::Add(_) => {
                let mut added = Vec::with_capacity(fields.len());
                for (spec, field) in fields.iter().copied().zip(&lowered) {
                    let definition = added_column(app, r, spec, field)?;
                    let index = (field.unique || field.index).then(|| {
                        format!(
                            "CREATE {}INDEX {} ON {plural} ({})",
                            if field.unique { "UNIQUE " } else { "" },
                            index_name(plural, &field.name),
                            field.sql_name
                        )
                    });
                    added.push(AddedColumn { definition, index });
                }
                let tokens: Vec<String> = all.iter().map(FieldSpec::token).collect();
                (
                    format!("add_{}_to_{plural}", names.join("_and_")),
                    format!("gen field add {} {}", r.names.singular, tokens.join(" ")),
                    added,
                    Vec::new(),
                )
            }
            ChangeKind::Remove(_) => {
                let dropped = lowered
                    .iter()
                    .zip(&origins)
                    .map(|(field, origin)| DroppedColumn {
                        column: field.sql_name.clone(),
                        index: drops_index(field, *origin).then(|| index_name(plural, &field.name)),
                    })
                    .collect();
                (
                    format!("remove_{}_from_{plural}", names.join("_and_")),
                    format!("gen field remove {} {}", r.names.singular, names.join(" ")),
                    Vec::new(),
                    dropped,
                )
            }
        };
        out.push(Change {
            migration: format!("{:04}", change.migration),
            slug,
            command,
            added,
            dropped,
            detach_trigger,
            detached,
        });
    }
    Ok(out)
}

/// Whether dropping the field's column needs its named index dropped first: a change names
/// the index of every unique or indexed column it adds; `CREATE TABLE` names only the plain
/// indexes (a unique column's constraint is inline).
fn drops_index(field: &Field, origin: Origin) -> bool {
    match origin {
        Origin::Added => field.unique || field.index,
        Origin::Created => field.index && !field.unique,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_cli;

    fn spec_with(fields: &[&str], changes: Vec<FieldChange>) -> ResourceSpec {
        let tokens: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        let mut spec = parse_cli("message", &tokens).unwrap();
        spec.migration = Some(1);
        spec.changes = changes;
        spec
    }

    #[test]
    fn replay_gives_back_the_fields_of_the_create_table_and_of_each_change() {
        let title = parse_field("title:string:unique").unwrap();
        // Created with title and body; pinned added; title removed from its place at 0.
        let spec = spec_with(
            &["body:text", "pinned:boolean"],
            vec![
                FieldChange {
                    migration: 2,
                    kind: ChangeKind::Add(vec!["pinned".into()]),
                },
                FieldChange {
                    migration: 3,
                    kind: ChangeKind::Remove(vec![Removed {
                        at: 0,
                        field: title.clone(),
                    }]),
                },
            ],
        );
        let history = replay(&spec).unwrap();
        let names: Vec<&str> = history.created.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["title", "body"]);
        assert_eq!(history.fields[0][0].name, "pinned");
        assert_eq!(history.fields[1], [title]);
        assert_eq!(history.removed_origins[1], [Origin::Created]);
        assert_eq!(history.origins["pinned"], Origin::Added);
        assert_eq!(history.origins["body"], Origin::Created);
    }

    #[test]
    fn a_change_that_does_not_fit_the_fields_is_an_error() {
        let spec = spec_with(
            &["body:text"],
            vec![FieldChange {
                migration: 2,
                kind: ChangeKind::Add(vec!["pinned".into()]),
            }],
        );
        let err = replay(&spec).unwrap_err().to_string();
        assert!(
            err.contains("adds \"pinned\", which is not a field"),
            "{err}"
        );
    }

    #[test]
    fn changes_round_trip_through_the_spec_file() {
        let spec = spec_with(
            &["body:text", "pinned:boolean"],
            vec![
                FieldChange {
                    migration: 2,
                    kind: ChangeKind::Add(vec!["pinned".into()]),
                },
                FieldChange {
                    migration: 3,
                    kind: ChangeKind::Remove(vec![Removed {
                        at: 0,
                        field: parse_field("title:string:default=a:b").unwrap(),
                    }]),
                },
            ],
        );
        let text = crate::spec::to_toml(&spec);
        assert!(
            text.contains("[[changes]]\nmigration = 2\nadd = [\"pinned\"]\n"),
            "{text}"
        );
        assert!(
            text.contains("remove = [{ at = 0, field = \"title:string:default=a:b\" }]"),
            "{text}"
        );
        let again = crate::spec::parse_toml("message", &text, Path::new("m.toml")).unwrap();
        assert_eq!(again, spec);
        let both = "[fields]\nbody = \"text\"\n[[changes]]\nmigration = 2\n";
        let err = crate::spec::parse_toml("message", both, Path::new("m.toml")).unwrap_err();
        assert!(
            err.to_string().contains("either `add` or `remove`"),
            "{err}"
        );
    }
}
