//! Stage two: lowering specs to the model, validating every name against the rules and the project.

use std::fmt::Write as _;

use heck::{ToKebabCase, ToSnakeCase};

use crate::error::{Error, Result};
use crate::model::{
    App, Attachment, CheckedReference, Field, ForeignReference, MISSING_REFERENCE,
    MissingReference, Parent, Resource, SecondUser, Seed, SeedFile, TestData, TooLong,
};
use crate::naming::{
    self, Names, RESERVED_FIELD_LOCALS, RESERVED_FIELDS, RESERVED_RESOURCES, check_identifier,
    humanize, is_rust_keyword, rust_ident, sql_ident, suggest,
};
use crate::spec::{FieldSpec, FieldType, Insert, ResourceSpec, USER_SCOPE};
use crate::types::{
    Database, attachment_info, form_reader, is_copy, is_shown_verbatim, max_length, sample,
    type_info,
};

/// Crates the generated app depends on; a package of the same name could not depend on them.
/// How many records a page holds when the spec does not say.
const DEFAULT_PER_PAGE: u32 = 50;

const DEPENDENCY_NAMES: &[&str] = &[
    "argon2",
    "askama",
    "askama_web",
    "axum",
    "chrono",
    "hmac",
    "lettre",
    "serde",
    "serde_json",
    "sha2",
    "sqlx",
    "tokio",
    "tower",
    "tower_http",
    "tracing",
    "tracing_subscriber",
    "uuid",
];

/// Crate names Rust itself uses.
const BUILTIN_CRATES: &[&str] = &["std", "core", "alloc", "proc_macro", "test"];

/// Lowers the name given to `gen new` (`chat`, `my-app`, `MyApp`).
pub fn lower_app(input: &str, database: Database) -> Result<App> {
    let normalized = input.replace('-', "_");
    check_identifier("app name", &normalized).map_err(|m| {
        Error::Input(m.replace(&format!("\"{normalized}\""), &format!("\"{input}\"")))
    })?;
    let name = normalized.to_snake_case();
    if is_rust_keyword(&name) || BUILTIN_CRATES.contains(&name.as_str()) {
        return Err(Error::Input(format!(
            "app name \"{input}\" is reserved by Rust; choose another name"
        )));
    }
    if DEPENDENCY_NAMES.contains(&name.as_str()) {
        return Err(Error::Input(format!(
            "app name \"{input}\" is the name of a crate the app depends on; choose another name"
        )));
    }
    Ok(App {
        sqlite: database.is_sqlite(),
        postgres: database.is_postgres(),
        title: humanize(&name),
        kebab: name.to_kebab_case(),
        name,
        database,
        sql: database.dialect(),
        accounts: false,
    })
}

/// Normalises and checks a resource name as typed: the singular snake_case name it stands for.
pub fn resource_name(input: &str) -> Result<String> {
    check_identifier("resource name", input).map_err(Error::Input)?;
    let (singular, _) = naming::singular_snake(input);
    let plural = naming::pluralize(&singular);
    for word in [&singular, &plural] {
        if RESERVED_RESOURCES.contains(&word.as_str()) || is_rust_keyword(word) {
            return Err(Error::Input(format!(
                "resource name \"{input}\" is reserved: \"{word}\" is used by the app or by Rust; choose another name"
            )));
        }
    }
    Ok(singular)
}

/// Lowers one spec. `earlier` holds the resources lowered before it, which its `references` may name.
pub fn lower_resource(spec: &ResourceSpec, app: &App, earlier: &[Resource]) -> Result<Resource> {
    let singular = resource_name(&spec.name)?;
    let names = Names::from_singular(&singular);
    let mut fields: Vec<Field> = Vec::with_capacity(spec.fields.len());
    let mut attachments: Vec<Attachment> = Vec::new();
    for f in &spec.fields {
        if f.ty.is_attachment() {
            let attachment = lower_attachment(f, spec)?;
            let taken = fields.iter().map(|g| g.name.as_str());
            if let Some(first) = taken
                .chain(attachments.iter().map(|a| a.name.as_str()))
                .find(|name| *name == attachment.name)
            {
                return Err(duplicate(spec, f, "name", first));
            }
            attachments.push(attachment);
            continue;
        }
        let field = lower_field(f, spec, app, earlier)?;
        if attachments.iter().any(|a| a.name == field.name) {
            return Err(duplicate(spec, f, "name", &field.name));
        }
        if let Some(first) = fields.iter().find(|g| g.name == field.name) {
            return Err(duplicate(spec, f, "column", &first.name));
        }
        fields.push(field);
    }
    let mut parent = resolve_parent(spec, &names, &fields)?;
    let access = resolve_access(spec, &names, parent.as_ref(), app, earlier)?;
    if let Some(p) = &mut parent {
        p.owned = access.parent_owned;
    }
    if access.owned
        && let Some(f) = fields.iter().find(|f| f.name == OWNER_COLUMN)
    {
        return Err(Error::Input(format!(
            "field \"{}\" would add the column \"{OWNER_COLUMN}\", which a resource scoped to the user already has; remove it",
            spec.fields
                .iter()
                .find(|s| s.name == f.name || format!("{}_id", s.name) == f.name)
                .map(|s| s.token())
                .unwrap_or_else(|| f.name.clone())
        )));
    }
    for f in &mut fields {
        f.editable = parent.as_ref().is_none_or(|p| p.column != f.name);
        if !f.editable {
            f.index_columns = format!("{}, id", f.sql_name);
        }
    }

    let checked_references = checked_references(&names, &fields, access.signed_in, earlier)?;
    let checks_user = checked_references.iter().any(|c| c.scoped);
    let checked_uses = checked_uses(&checked_references, parent.as_ref());

    let migration = spec.migration.ok_or_else(|| {
        Error::Input(format!(
            "the spec of \"{singular}\" has no migration number"
        ))
    })?;
    let mut spec = spec.clone();
    spec.name = singular;
    spec.parent = parent.as_ref().map(|p| p.names.singular.clone());
    let test = test_data(
        &names,
        &fields,
        parent.as_ref(),
        spec.optimistic,
        access.owned,
        &checked_references,
        earlier,
    );
    let select = select_list(app, &fields, spec.optimistic, access.owned);
    let writes = Writes::new(
        app.database,
        &fields,
        parent.as_ref(),
        spec.optimistic,
        access.owned,
    );
    let newest_first = spec.insert == Insert::Prepend;
    let title_field = fields
        .iter()
        .find(|f| f.ty == FieldType::String && !f.optional)
        .map(|f| f.ident.clone());
    let detach_trigger = (!attachments.is_empty())
        .then(|| crate::types::detach_files_trigger(app.database, &names.plural));
    let mut resource = Resource {
        names,
        fields,
        attachments,
        detach_trigger,
        insert: spec.insert,
        newest_first,
        order_by: if newest_first { "id DESC" } else { "id" },
        optimistic: spec.optimistic,
        refresh: spec.refresh,
        owned: access.owned,
        signed_in: access.signed_in,
        per_page: spec.per_page.unwrap_or(DEFAULT_PER_PAGE),
        title_field,
        parent,
        checked_references,
        checks_user,
        checked_uses,
        select,
        insert_columns: writes.insert_columns,
        insert_values: writes.insert_values,
        update_set: writes.update_set,
        update_id: writes.update_id,
        migration: format!("{migration:04}"),
        test,
        spec,
        created: None,
        changes: Vec::new(),
    };
    // A resource `gen field` changed renders its `CREATE TABLE` as it was, then each change.
    if !resource.spec.changes.is_empty() {
        let history = crate::history::replay(&resource.spec)?;
        let created = crate::history::created_spec(&resource.spec, &history);
        let created = lower_resource(&created, app, earlier)?;
        resource.changes = crate::history::lower_changes(app, &resource, &history, |f| {
            lower_field(f, &resource.spec, app, earlier)
        })?;
        resource.created = Some(Box::new(created));
    }
    Ok(resource)
}

/// The refusal of a field whose column or name (`what`) another field of `spec` already takes,
/// `first` being the name the earlier field is known by.
fn duplicate(spec: &ResourceSpec, f: &FieldSpec, what: &str, first: &str) -> Error {
    Error::Input(format!(
        "duplicate field \"{}\": the {what} \"{first}\" is already defined by \"{}\"",
        f.token(),
        spec.fields
            .iter()
            .find(|s| s.name == first || format!("{}_id", s.name) == first)
            .map(|s| s.token())
            .unwrap_or_else(|| first.to_owned())
    ))
}

/// Checks a field's name as every field's is: an identifier, snake_case, usable in Rust.
fn check_field_name(f: &FieldSpec, token: &str) -> Result<()> {
    check_identifier("field name", &f.name)
        .map_err(|m| Error::Input(format!("{m} (in \"{token}\")")))?;
    let snake = f.name.to_snake_case();
    if snake != f.name {
        return Err(Error::Input(format!(
            "field name \"{}\" in \"{token}\" must be snake_case; did you mean \"{snake}\"?",
            f.name
        )));
    }
    if ["self", "super", "crate"].contains(&f.name.as_str()) {
        return Err(Error::Input(format!(
            "field name \"{}\" in \"{token}\" cannot be used in Rust even as a raw identifier; choose another name",
            f.name
        )));
    }
    Ok(())
}

/// Lowers an `attachment` or `attachments` field: its names, and how [`attachment_info`] keeps
/// and edits it. Its name is checked as a column's would be, since the form and the record's
/// Rust type hold it beside the columns.
fn lower_attachment(f: &FieldSpec, spec: &ResourceSpec) -> Result<Attachment> {
    let token = f.token();
    check_field_name(f, &token)?;
    let Some(info) = attachment_info(f.ty, f.optional, &f.accept) else {
        unreachable!("only attachment types are lowered as attachments");
    };
    if RESERVED_FIELD_LOCALS.contains(&f.name.as_str()) {
        return Err(Error::Input(format!(
            "field name \"{}\" in \"{token}\" is reserved: the generated validation uses it; choose another name",
            f.name
        )));
    }
    let mut reserved = RESERVED_FIELDS.to_vec();
    if spec.optimistic {
        reserved.push("client_id");
    }
    if reserved.contains(&f.name.as_str()) {
        return Err(Error::Input(format!(
            "field name \"{}\" in \"{token}\" is taken by a column every resource has; choose another name",
            f.name
        )));
    }
    let label = humanize(&f.name);
    Ok(Attachment {
        ident: rust_ident(&f.name),
        name: f.name.clone(),
        accept: f.accept.clone(),
        optional: f.optional,
        info,
        sample: sample(f.ty, &label, 1),
        edited: sample(f.ty, &label, 2),
        label,
    })
}

/// Lowers one field of `spec` that is a column, checking its name against the rules and the
/// resources it may reference. Whether the form edits it is decided with the parent, afterwards.
fn lower_field(
    f: &FieldSpec,
    spec: &ResourceSpec,
    app: &App,
    earlier: &[Resource],
) -> Result<Field> {
    let token = f.token();
    check_field_name(f, &token)?;
    let Some(info) = type_info(app.database, f.ty) else {
        // Only `gen field add` asks for a field this way without looking at its type first.
        return Err(Error::Input(format!(
            "\"{token}\" cannot be added to a resource that exists: its files are kept in the \
             app's blobs, and `gen field add` adds columns; generate the resource again with it"
        )));
    };
    let references = if f.ty == FieldType::References {
        Some(referenced(f, &token, earlier)?)
    } else {
        None
    };
    let name = match references {
        Some(_) => format!("{}_id", f.name),
        None => f.name.clone(),
    };
    if RESERVED_FIELD_LOCALS.contains(&name.as_str()) {
        return Err(Error::Input(format!(
            "field name \"{name}\" in \"{token}\" is reserved: the generated validation uses it; choose another name"
        )));
    }
    let mut reserved = RESERVED_FIELDS.to_vec();
    if spec.optimistic {
        reserved.push("client_id");
    }
    if reserved.contains(&name.as_str()) {
        return Err(Error::Input(format!(
            "field \"{token}\" would add the column \"{name}\", which every {} already has; remove it",
            if name == "client_id" {
                "optimistic resource"
            } else {
                "resource"
            }
        )));
    }
    let label = humanize(&f.name);
    Ok(Field {
        ident: rust_ident(&name),
        sql_name: sql_ident(&name),
        ty: f.ty,
        sql_type: info.sql,
        rust_type: info.rust,
        rust_field_type: if f.optional {
            format!("Option<{}>", info.rust)
        } else {
            info.rust.to_string()
        },
        input: info.input,
        editable: true,
        index_columns: sql_ident(&name),
        checkbox: info.input.is_checkbox(),
        textarea: info.input.is_textarea(),
        input_attributes: info.input.attributes(),
        multiline: info.input.is_textarea(),
        form_type: if info.input.is_checkbox() {
            "Option<String>"
        } else {
            "String"
        },
        reader: form_reader(f.ty, f.max),
        max_length: max_length(f.ty, f.max),
        by_value: is_copy(f.ty),
        verbatim: is_shown_verbatim(f.ty),
        write_cast: info
            .write_cast
            .map(|ty| format!("::{ty}"))
            .unwrap_or_default(),
        optional: f.optional,
        unique: f.unique,
        index: f.index || f.ty == FieldType::References,
        references,
        sample: sample(f.ty, &label, 1),
        edited: sample(f.ty, &label, 2),
        label,
        name,
    })
}

/// The names of the resource a `references` field points at, which must have been generated.
fn referenced(f: &FieldSpec, token: &str, earlier: &[Resource]) -> Result<Names> {
    match earlier.iter().find(|r| r.names.singular == f.name) {
        Some(target) => Ok(target.names.clone()),
        None => {
            let mut msg = format!(
                "\"{token}\" references the resource \"{}\", which does not exist; run `gen resource {}` first",
                f.name, f.name
            );
            if let Some(s) = suggest(&f.name, earlier.iter().map(|r| r.names.singular.as_str())) {
                msg.push_str(&format!(", or did you mean \"{s}:references\"?"));
            }
            Err(Error::Input(msg))
        }
    }
}

/// The parent a resource is nested under: the `references` field `parent` names, or else the
/// first one. A nested record always has its parent, so that field may not be optional.
fn resolve_parent(spec: &ResourceSpec, names: &Names, fields: &[Field]) -> Result<Option<Parent>> {
    let mut references = fields.iter().filter(|f| f.references.is_some());
    let field = match &spec.parent {
        Some(wanted) => Some(
            references
                .find(|f| f.references.as_ref().is_some_and(|n| &n.singular == wanted))
                .ok_or_else(|| {
                    Error::Input(format!(
                        "parent \"{wanted}\" is not a references field of \"{}\"; add \"{wanted}:references\"",
                        names.singular
                    ))
                })?,
        ),
        None => references.next(),
    };
    let Some(field) = field else {
        return Ok(None);
    };
    let target = field
        .references
        .clone()
        .expect("a reference field names its resource");
    if field.optional {
        return Err(Error::Input(format!(
            "\"{}:references:optional\" cannot be the parent: a nested {} always belongs to a {}",
            target.singular, names.human, target.human
        )));
    }
    Ok(Some(Parent {
        names: target,
        column: field.name.clone(),
        owned: false,
    }))
}

/// The `references` fields of a resource named `names` other than its parent's, each with how
/// its record is looked up. A record that belongs to a user (its resource's or its parent's) is
/// looked up through the signed-in user, so a resource whose actions do not need one cannot
/// reference it: nobody would be there to look it up for.
fn checked_references(
    names: &Names,
    fields: &[Field],
    signed_in: bool,
    earlier: &[Resource],
) -> Result<Vec<CheckedReference>> {
    let mut checked = Vec::new();
    for f in fields.iter().filter(|f| f.editable) {
        let Some(target) = &f.references else {
            continue;
        };
        let resource = earlier
            .iter()
            .find(|r| r.names.singular == target.singular)
            .expect("a references field names a resource lowered before it");
        let through = resource.parent.clone().filter(|p| p.owned);
        let scoped = resource.owned || through.is_some();
        if scoped && !signed_in {
            let whose = match &through {
                Some(p) => format!(
                    "a {} belongs to the user whose {} it is",
                    target.human.to_lowercase(),
                    p.names.human.to_lowercase()
                ),
                None => format!("a {} belongs to a user", target.human.to_lowercase()),
            };
            return Err(Error::Input(format!(
                "\"{}\" cannot reference \"{}\" unless its pages need a signed-in user: {whose}, and only the signed-in user's may be linked to; generate \"{}\" with `--authenticated`, or nest it under a resource that needs a signed-in user",
                names.singular, target.singular, names.singular
            )));
        }
        checked.push(CheckedReference {
            name: f.name.clone(),
            ident: f.ident.clone(),
            label: f.label.clone(),
            optional: f.optional,
            target: target.clone(),
            owned: resource.owned,
            through,
            scoped,
            missing: MISSING_REFERENCE,
        });
    }
    Ok(checked)
}

/// The models the lookups of `checked` name, as `use` paths, leaving out the parent's, which the
/// handlers import anyway, and naming each once.
fn checked_uses(checked: &[CheckedReference], parent: Option<&Parent>) -> Vec<String> {
    let mut uses = Vec::new();
    let models = checked
        .iter()
        .flat_map(|c| std::iter::once(&c.target).chain(c.through.as_ref().map(|p| &p.names)));
    for model in models {
        if parent.is_some_and(|p| p.names.singular == model.singular) {
            continue;
        }
        let path = format!("crate::{}::{}", model.plural, model.camel);
        if !uses.contains(&path) {
            uses.push(path);
        }
    }
    uses
}

/// The column that names a scoped record's user.
pub const OWNER_COLUMN: &str = "user_id";

/// Who may use a resource's pages and whose records they are.
struct Access {
    /// Each record belongs to the signed-in user who created it (`--scope user`).
    owned: bool,
    /// Every action needs a signed-in user.
    signed_in: bool,
    /// The parent's records belong to users, so loading the parent goes through the user.
    parent_owned: bool,
}

/// Decides [`Access`] from the spec's `scope` and `authenticated`, the app's accounts and the
/// parent: a nested resource follows its parent, so a user's note's comments are the user's.
fn resolve_access(
    spec: &ResourceSpec,
    names: &Names,
    parent: Option<&Parent>,
    app: &App,
    earlier: &[Resource],
) -> Result<Access> {
    let no_accounts = |flag: &str| {
        Error::Input(format!(
            "{flag} needs accounts, and this app has none: run `gen auth` first, then generate \"{}\" again",
            names.singular
        ))
    };
    let mut access = Access {
        owned: false,
        signed_in: false,
        parent_owned: false,
    };
    if let Some(scope) = &spec.scope {
        if scope != USER_SCOPE {
            let mut msg = format!("unknown scope \"{scope}\" in `--scope {scope}`: ");
            if earlier.iter().any(|r| r.names.singular == *scope) {
                write!(
                    msg,
                    "records can belong to the signed-in user only (`--scope {USER_SCOPE}`); to give each {scope} its own {}, nest them under it with \"{scope}:references\"",
                    names.human_plural.to_lowercase()
                )
                .unwrap();
            } else {
                write!(
                    msg,
                    "there is no \"{scope}\"; the one scope is \"{USER_SCOPE}\", the signed-in user (after `gen auth`)"
                )
                .unwrap();
            }
            return Err(Error::Input(msg));
        }
        if !app.accounts {
            return Err(no_accounts("`--scope user`"));
        }
        if spec.authenticated {
            return Err(Error::Input(format!(
                "\"{}\" cannot be both `--scope user` and `--authenticated`: a user's own records already need a signed-in user; choose one",
                names.singular
            )));
        }
        if let Some(p) = parent {
            return Err(Error::Input(format!(
                "`--scope user` cannot be given to \"{}\": it is nested under \"{}\" and belongs to whoever the {} belongs to; drop `--scope` (and give it to \"{}\")",
                names.singular,
                p.names.singular,
                p.names.human.to_lowercase(),
                p.names.singular
            )));
        }
        access.owned = true;
        access.signed_in = true;
    }
    if spec.authenticated {
        if !app.accounts {
            return Err(no_accounts("`--authenticated`"));
        }
        access.signed_in = true;
    }
    if let Some(p) = parent {
        let resource = earlier
            .iter()
            .find(|r| r.names.singular == p.names.singular);
        if let Some(resource) = resource {
            if resource.parent.as_ref().is_some_and(|gp| gp.owned) {
                let grandparent = resource
                    .parent
                    .as_ref()
                    .map(|gp| gp.names.singular.as_str());
                return Err(Error::Input(format!(
                    "\"{}\" cannot be nested under \"{}\": a {} belongs to a user through its {}, and records two levels below a user's are not generated; nest \"{}\" under \"{}\" instead",
                    names.singular,
                    p.names.singular,
                    p.names.human.to_lowercase(),
                    grandparent.unwrap_or_default(),
                    names.singular,
                    grandparent.unwrap_or_default()
                )));
            }
            access.parent_owned = resource.owned;
            access.signed_in |= resource.signed_in;
        }
    }
    Ok(access)
}

/// What an `INSERT` and an `UPDATE` of the resource write, with the database's placeholders.
struct Writes {
    insert_columns: String,
    insert_values: String,
    update_set: String,
    update_id: String,
}

impl Writes {
    fn new(
        database: Database,
        fields: &[Field],
        parent: Option<&Parent>,
        optimistic: bool,
        owned: bool,
    ) -> Writes {
        let editable: Vec<&Field> = fields.iter().filter(|f| f.editable).collect();
        // The client id and the parent's column are written as they are; fields may be cast.
        let mut columns: Vec<(&str, &str)> = Vec::new();
        if optimistic {
            columns.push(("client_id", ""));
        }
        if owned {
            columns.push((OWNER_COLUMN, ""));
        }
        if let Some(p) = parent {
            columns.push((&p.column, ""));
        }
        columns.extend(
            editable
                .iter()
                .map(|f| (f.sql_name.as_str(), f.write_cast.as_str())),
        );
        let insert_columns = columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ");
        let insert_values = columns
            .iter()
            .enumerate()
            .map(|(i, (_, cast))| format!("{}{cast}", database.placeholder(i + 1)))
            .collect::<Vec<_>>()
            .join(", ");
        let mut update_set: String = editable
            .iter()
            .enumerate()
            .map(|(i, f)| {
                format!(
                    "{} = {}{}, ",
                    f.sql_name,
                    database.placeholder(i + 1),
                    f.write_cast
                )
            })
            .collect();
        update_set.push_str("updated_at = CURRENT_TIMESTAMP");
        Writes {
            insert_columns,
            insert_values,
            update_set,
            update_id: database.placeholder(editable.len() + 1),
        }
    }
}

/// The columns rows are read with: `*` unless a column has to be cast to be read, and then every
/// column by name, in table order, so that the row still decodes by name.
fn select_list(app: &App, fields: &[Field], optimistic: bool, owned: bool) -> String {
    let casts: Vec<Option<&str>> = fields
        .iter()
        .map(|f| type_info(app.database, f.ty).and_then(|info| info.read_cast))
        .collect();
    if casts.iter().all(Option::is_none) {
        return "*".to_owned();
    }
    let mut columns = vec!["id".to_owned()];
    if optimistic {
        columns.push("client_id".to_owned());
    }
    if owned {
        columns.push(OWNER_COLUMN.to_owned());
    }
    for (f, cast) in fields.iter().zip(casts) {
        columns.push(match cast {
            Some(ty) => format!("{name}::{ty} AS {name}", name = f.sql_name),
            None => f.sql_name.clone(),
        });
    }
    columns.extend(["created_at".to_owned(), "updated_at".to_owned()]);
    columns.join(", ")
}

/// The forms a resource's generated tests send, and the records they create first.
fn test_data(
    names: &Names,
    fields: &[Field],
    parent: Option<&Parent>,
    optimistic: bool,
    owned: bool,
    checked: &[CheckedReference],
    earlier: &[Resource],
) -> TestData {
    // A form with the `n`th sample value of every editable field, as `pick` keeps or changes
    // it (`None` leaves the field out), and the `client`th client id.
    let form_where = |n: u8, client: u8, pick: &dyn Fn(&Field, &str) -> Option<String>| {
        let mut form = form_urlencoded::Serializer::new(String::new());
        if optimistic {
            form.append_pair(
                "client_id",
                &format!("11111111-1111-4111-8111-{client:012}"),
            );
        }
        for f in fields.iter().filter(|f| f.editable) {
            let sample = if n == 1 { &f.sample } else { &f.edited };
            let Some(value) = pick(f, sample) else {
                continue;
            };
            // An unchecked checkbox is not sent at all.
            if f.checkbox && value.is_empty() {
                continue;
            }
            form.append_pair(&f.name, &value);
        }
        form.finish()
    };
    let form_without = |n: u8, client: u8, left_out: Option<&str>| {
        form_where(n, client, &|f, value| {
            (left_out != Some(f.name.as_str())).then(|| value.to_owned())
        })
    };
    let form = |n: u8, client: u8| form_without(n, client, None);
    let numbered_form = numbered_form(fields, optimistic);
    let editable = || fields.iter().filter(|f| f.editable);
    let repeated_field = if optimistic {
        Some("client_id".to_owned())
    } else {
        editable().next().map(|f| f.name.clone())
    };
    let too_long = editable().find_map(|f| {
        let max = f.max_length?;
        Some(TooLong {
            name: f.name.clone(),
            rest_form: form_without(1, 1, Some(&f.name)),
            max,
            message: f.reader.as_ref()?.invalid.clone(),
        })
    });
    let mut seeds = Vec::new();
    for f in fields {
        if let Some(target) = &f.references {
            seed(&target.singular, earlier, &mut seeds);
        }
    }
    let other_parent = parent.and_then(|p| {
        let resource = earlier
            .iter()
            .find(|r| r.names.singular == p.names.singular)?;
        Some(Seed {
            path: resource.test.collection.clone(),
            form: resource.test.second_form.clone(),
            files: seed_files(resource),
        })
    });
    // No record of any table has this id: the tests create a few of each.
    let missing_reference = checked.first().map(|c| MissingReference {
        error: format!("{} {}", c.label, c.missing),
        form: form_where(1, 1, &|f, value| {
            Some(if f.name == c.name {
                MISSING_ID.to_owned()
            } else {
                value.to_owned()
            })
        }),
    });
    let parent_owned = parent.filter(|p| p.owned);
    let is_scoped = |f: &Field| checked.iter().any(|c| c.scoped && c.name == f.name);
    let second_user =
        (owned || parent_owned.is_some() || checked.iter().any(|c| c.scoped)).then(|| {
            // The users' records that the path and the form name, each made by the second user
            // after the records it names in turn.
            let mut seeds = Vec::new();
            let targets = parent_owned
                .map(|p| &p.names)
                .into_iter()
                .chain(checked.iter().filter(|c| c.scoped).map(|c| &c.target));
            for target in targets {
                let Some((resource, theirs)) = earlier
                    .iter()
                    .find(|r| r.names.singular == target.singular)
                    .and_then(|r| Some((r, r.test.second_user.as_ref()?)))
                else {
                    continue;
                };
                let own = Seed {
                    path: theirs.collection.clone(),
                    form: theirs.create_form.clone(),
                    files: seed_files(resource),
                };
                for s in theirs.seeds.iter().chain([&own]) {
                    if !seeds.contains(s) {
                        seeds.push(s.clone());
                    }
                }
            }
            let collection = match parent_owned {
                Some(p) => format!(
                    "/{}/{SECOND_ID}/{}",
                    p.names.kebab_plural, names.kebab_plural
                ),
                None => collection_path(names, parent),
            };
            // The second sample values and client id, so that unique values differ from the
            // first user's.
            let create_form = form_where(2, 2, &|f, value| {
                Some(if is_scoped(f) {
                    SECOND_ID.to_owned()
                } else {
                    value.to_owned()
                })
            });
            SecondUser {
                seeds,
                collection,
                create_form,
            }
        });
    let foreign_reference = checked.iter().find(|c| c.scoped).map(|c| ForeignReference {
        error: format!("{} {}", c.label, c.missing),
        foreign_form: form_where(2, 2, &|f, value| {
            Some(if f.name == c.name {
                FIRST_ID.to_owned()
            } else if is_scoped(f) {
                SECOND_ID.to_owned()
            } else {
                value.to_owned()
            })
        }),
    });
    let all_seeds = || {
        seeds
            .iter()
            .chain(&other_parent)
            .chain(second_user.iter().flat_map(|s| &s.seeds))
    };
    let seeds_without_files = all_seeds().any(|s| s.files.is_empty());
    let seeds_with_files = all_seeds().any(|s| !s.files.is_empty());
    TestData {
        collection: collection_path(names, parent),
        create_form: form(1, 1),
        update_form: form(2, 1),
        second_form: form(2, 2),
        seeds,
        other_parent,
        seeds_without_files,
        seeds_with_files,
        repeated_field,
        too_long,
        numbered_form,
        missing_reference,
        second_user,
        foreign_reference,
    }
}

/// The id of the first user's record of every table the tests seed, which they create first.
const FIRST_ID: &str = "1";
/// The id of the second user's own record of such a table, created after the first user's.
const SECOND_ID: &str = "2";
/// An id no record of the tests has.
const MISSING_ID: &str = "999999";

/// The create form with `{n}` where each record must differ; see [`TestData::numbered_form`].
fn numbered_form(fields: &[Field], optimistic: bool) -> Option<String> {
    // A placeholder form encoding leaves alone; the encoded form holds no braces of its own.
    const N: &str = "NUMBERED";
    let mut form = form_urlencoded::Serializer::new(String::new());
    if optimistic {
        form.append_pair("client_id", &format!("11111111-1111-4111-8111-{N}"));
    }
    for f in fields.iter().filter(|f| f.editable) {
        if f.checkbox && f.sample.is_empty() {
            continue;
        }
        if f.unique {
            if !matches!(f.ty, FieldType::String | FieldType::Text) {
                return None;
            }
            form.append_pair(&f.name, &format!("{}-{N}", f.sample));
        } else {
            form.append_pair(&f.name, &f.sample);
        }
    }
    let form = form.finish();
    if !form.contains(N) {
        return Some(format!("\"{form}\".to_owned()"));
    }
    let numbered = if optimistic {
        form.replacen(N, "{n:012}", 1).replace(N, "{n}")
    } else {
        form.replace(N, "{n}")
    };
    Some(format!("format!(\"{numbered}\")"))
}

/// Adds the record of `singular` to `seeds`, after the records it references, unless it is
/// there already.
fn seed(singular: &str, earlier: &[Resource], seeds: &mut Vec<Seed>) {
    let Some(resource) = earlier.iter().find(|r| r.names.singular == singular) else {
        return;
    };
    let path = resource.test.collection.clone();
    if seeds.iter().any(|s| s.path == path) {
        return;
    }
    for referenced in resource.referenced() {
        seed(referenced, earlier, seeds);
    }
    seeds.push(Seed {
        path,
        form: resource.test.create_form.clone(),
        files: seed_files(resource),
    });
}

/// The files a record of `resource` cannot be created without: one for each single file field
/// that is not optional, as its create handler requires (`AttachmentInfo::missing`).
fn seed_files(resource: &Resource) -> Vec<SeedFile> {
    resource
        .attachments
        .iter()
        .filter(|a| a.info.missing.is_some())
        .map(|a| SeedFile {
            name: a.name.clone(),
            accept: a.info.accept.clone(),
        })
        .collect()
}

/// Where the first record of a resource is created: under the first record of its parent.
fn collection_path(names: &Names, parent: Option<&Parent>) -> String {
    match parent {
        Some(p) => format!("/{}/1/{}", p.names.kebab_plural, names.kebab_plural),
        None => format!("/{}", names.kebab_plural),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse_cli;

    fn app() -> App {
        lower_app("chat", Database::Sqlite).unwrap()
    }

    fn spec(name: &str, fields: &[&str]) -> ResourceSpec {
        let mut s = parse_cli(
            name,
            &fields.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        )
        .unwrap();
        s.migration = Some(1);
        s
    }

    #[test]
    fn references_nest_under_their_resource() {
        let room = lower_resource(&spec("room", &["name:string"]), &app(), &[]).unwrap();
        let message = lower_resource(
            &spec("messages", &["body:text", "room:references"]),
            &app(),
            std::slice::from_ref(&room),
        )
        .unwrap();
        assert_eq!(message.names.singular, "message");
        let parent = message.parent.unwrap();
        assert_eq!(parent.names.plural, "rooms");
        assert_eq!(parent.column, "room_id");
        assert_eq!(message.fields[1].ident, "room_id");
        assert!(message.fields[1].index);
    }

    #[test]
    fn keyword_fields_are_raw_in_rust_only() {
        let r = lower_resource(
            &spec("post", &["type:string", "order:integer"]),
            &app(),
            &[],
        )
        .unwrap();
        assert_eq!(r.fields[0].ident, "r#type");
        assert_eq!(r.fields[0].name, "type");
        assert_eq!(r.fields[0].sql_name, "type");
        assert_eq!(r.fields[1].sql_name, "\"order\"");
        assert_eq!(r.fields[1].ident, "order");
    }

    #[test]
    fn optional_fields_are_options() {
        let r = lower_resource(&spec("post", &["due:date:optional"]), &app(), &[]).unwrap();
        assert_eq!(r.fields[0].rust_field_type, "Option<chrono::NaiveDate>");
    }

    #[test]
    fn a_postgres_decimal_is_cast_both_ways() {
        let pg = lower_app("chat", Database::Postgres).unwrap();
        let r = lower_resource(&spec("item", &["order:decimal", "name:string"]), &pg, &[]).unwrap();
        assert_eq!(r.fields[0].write_cast, "::NUMERIC");
        assert_eq!(r.fields[1].write_cast, "");
        assert_eq!(
            r.select,
            "id, \"order\"::TEXT AS \"order\", name, created_at, updated_at"
        );
        let sqlite = lower_resource(&spec("item", &["order:decimal"]), &app(), &[]).unwrap();
        assert_eq!(sqlite.select, "*");
        assert_eq!(sqlite.fields[0].write_cast, "");
        let plain = lower_resource(&spec("item", &["name:string"]), &pg, &[]).unwrap();
        assert_eq!(plain.select, "*");
    }

    #[test]
    fn attachments_lower_beside_the_columns_not_among_them() {
        let r = lower_resource(
            &spec(
                "photo",
                &[
                    "caption:string",
                    "cover_photo:attachment:image",
                    "files:attachments",
                    "type:attachment:optional:pdf",
                ],
            ),
            &app(),
            &[],
        )
        .unwrap();
        assert_eq!(r.fields.len(), 1, "only the caption is a column");
        assert_eq!(r.insert_columns, "caption");
        let names: Vec<&str> = r.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["cover_photo", "files", "type"]);
        let cover = &r.attachments[0];
        assert_eq!(cover.label, "Cover photo");
        assert_eq!(cover.info.rust_field_type, "Option<crate::blobs::Blob>");
        assert_eq!(cover.info.accept, "&[Accept::Image]");
        assert_eq!(cover.sample, "first-cover-photo.png");
        assert!(r.attachments[1].info.many);
        assert_eq!(r.attachments[2].ident, "r#type");
        assert_eq!(
            r.attachments[2].info.rust_field_type,
            "Option<crate::blobs::Blob>"
        );
    }

    #[test]
    fn attachment_names_follow_the_rules_of_every_field() {
        for (fields, says) in [
            (
                &["photo:string", "photo:attachment"][..],
                "duplicate field \"photo:attachment\": the name \"photo\" is already defined by \"photo:string\"",
            ),
            (
                &["photo:attachment", "photo:attachments"][..],
                "duplicate field \"photo:attachments\": the name \"photo\"",
            ),
            (
                &["photo:attachment", "photo:text"][..],
                "duplicate field \"photo:text\": the name \"photo\"",
            ),
            (
                &["Photo:attachment"][..],
                "must be snake_case; did you mean \"photo\"?",
            ),
            (
                &["created_at:attachment"][..],
                "\"created_at\" in \"created_at:attachment\" is taken",
            ),
            (&["self:attachments"][..], "cannot be used in Rust"),
        ] {
            let e = lower_resource(&spec("post", fields), &app(), &[])
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{fields:?}: {e}");
        }
    }

    #[test]
    fn a_resource_with_attachments_is_rendered_with_the_apps_blob_files() {
        let r = lower_resource(&spec("photo", &["image:attachment:image"]), &app(), &[]).unwrap();
        let scaffolds = crate::render::Scaffolds::default();
        let paths = |r: &Resource| -> Vec<String> {
            crate::render::render_resource(&app(), r, &scaffolds)
                .unwrap()
                .into_iter()
                .map(|f| f.path)
                .collect()
        };
        let with_files = paths(&r);
        for shared in [
            "migrations/0000_create_blobs.sql",
            "src/blobs.rs",
            "templates/blobs/_blob.html",
            "src/turbo/storage/mod.rs",
            "src/turbo/mod.rs",
        ] {
            assert!(
                with_files.iter().any(|p| p == shared),
                "{shared}: {with_files:?}"
            );
        }
        let plain = lower_resource(&spec("photo", &["caption:string"]), &app(), &[]).unwrap();
        let without = paths(&plain);
        assert!(
            !without
                .iter()
                .any(|p| p.contains("blob") || p.contains("storage")),
            "{without:?}"
        );
    }

    #[test]
    fn a_seed_of_a_resource_with_a_required_file_is_sent_with_a_sample_of_it() {
        let mut accounts = app();
        accounts.accounts = true;
        // A scoped note with a required image and an optional one, then its nested comments.
        let mut note = spec(
            "note",
            &[
                "body:text",
                "image:attachment:image:video",
                "cover:attachment:optional:image",
                "files:attachments",
            ],
        );
        note.scope = Some(USER_SCOPE.to_owned());
        let note = lower_resource(&note, &accounts, &[]).unwrap();
        let comment = spec("comment", &["body:text", "note:references"]);
        let comment = lower_resource(&comment, &accounts, std::slice::from_ref(&note)).unwrap();
        let image = SeedFile {
            name: "image".to_owned(),
            accept: "&[Accept::Image, Accept::Video]".to_owned(),
        };
        // Only the required file: an optional one and a field of many may be left empty.
        assert_eq!(comment.test.seeds.len(), 1);
        assert_eq!(comment.test.seeds[0].path, "/notes");
        assert_eq!(comment.test.seeds[0].files, std::slice::from_ref(&image));
        // The other parent, and the second user's own note, need the file as much.
        assert_eq!(
            comment.test.other_parent.as_ref().unwrap().files,
            std::slice::from_ref(&image)
        );
        let second = comment.test.second_user.as_ref().unwrap();
        assert_eq!(second.seeds[0].files, [image]);
        assert!(comment.test.seeds_with_files);
        assert!(!comment.test.seeds_without_files);
        // A grandchild seeds its grandparent with its file, and its parent without any.
        let album = spec("album", &["name:string", "cover:attachment:pdf"]);
        let album = lower_resource(&album, &app(), &[]).unwrap();
        let photo = spec("photo", &["caption:string", "album:references"]);
        let photo = lower_resource(&photo, &app(), std::slice::from_ref(&album)).unwrap();
        let tag = spec("tag", &["name:string", "photo:references"]);
        let tag = lower_resource(&tag, &app(), &[album, photo]).unwrap();
        let seeds: Vec<(&str, usize)> = tag
            .test
            .seeds
            .iter()
            .map(|s| (s.path.as_str(), s.files.len()))
            .collect();
        assert_eq!(seeds, [("/albums", 1), ("/albums/1/photos", 0)]);
        assert_eq!(tag.test.seeds[0].files[0].accept, "&[Accept::Pdf]");
        assert!(tag.test.seeds_with_files && tag.test.seeds_without_files);

        // An optional file needs no upload: the seed stays an URL-encoded form.
        let album = spec("album", &["name:string", "cover:attachment:optional:image"]);
        let album = lower_resource(&album, &app(), &[]).unwrap();
        let photo = spec("photo", &["caption:string", "album:references"]);
        let photo = lower_resource(&photo, &app(), std::slice::from_ref(&album)).unwrap();
        assert_eq!(photo.test.seeds.len(), 1);
        assert!(photo.test.seeds[0].files.is_empty());
        assert!(!photo.test.seeds_with_files && photo.test.seeds_without_files);
        // A resource that references nothing seeds nothing, and needs neither helper.
        assert!(album.test.seeds.is_empty());
        assert!(!album.test.seeds_with_files && !album.test.seeds_without_files);
    }

    #[test]
    fn references_other_than_the_parent_are_looked_up_through_their_owner() {
        let mut accounts = app();
        accounts.accounts = true;
        let mut note = spec("note", &["body:text"]);
        note.scope = Some(USER_SCOPE.to_owned());
        let note = lower_resource(&note, &accounts, &[]).unwrap();
        let comment = spec("comment", &["body:text", "note:references"]);
        let comment = lower_resource(&comment, &accounts, std::slice::from_ref(&note)).unwrap();
        let mut room = spec("room", &["name:string"]);
        room.authenticated = true;
        let room = lower_resource(&room, &accounts, &[]).unwrap();
        let earlier = [note, comment, room];
        let fields = [
            "room:references",
            "note:references",
            "comment:references:optional",
        ];
        let link = lower_resource(&spec("link", &fields), &accounts, &earlier).unwrap();
        assert_eq!(link.parent.as_ref().unwrap().names.singular, "room");
        assert!(link.checks_user);
        let checked: Vec<(&str, bool, bool, Option<&str>)> = link
            .checked_references
            .iter()
            .map(|c| {
                let through = c.through.as_ref().map(|p| p.names.singular.as_str());
                (c.name.as_str(), c.optional, c.owned, through)
            })
            .collect();
        // The parent is loaded from the path, so only the two others are checked: the note is
        // the user's own, the comment is the user's through its note.
        assert_eq!(
            checked,
            [
                ("note_id", false, true, None),
                ("comment_id", true, false, Some("note")),
            ]
        );
        assert!(link.checked_references.iter().all(|c| c.scoped));
        assert_eq!(link.checked_references[0].missing, "must exist");
        // The room is the parent's model, which the handlers import already; the note once.
        assert_eq!(
            link.checked_uses,
            ["crate::notes::Note", "crate::comments::Comment"]
        );
        // The second user links their own note and comment, made after the first user's.
        let second = link.test.second_user.as_ref().unwrap();
        assert_eq!(second.collection, "/rooms/1/links");
        assert_eq!(second.create_form, "note_id=2&comment_id=2");
        let paths: Vec<&str> = second.seeds.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["/notes", "/notes/2/comments"]);
        let foreign = link.test.foreign_reference.as_ref().unwrap();
        assert_eq!(foreign.foreign_form, "note_id=1&comment_id=2");
        assert_eq!(foreign.error, "Note must exist");
        let missing = link.test.missing_reference.as_ref().unwrap();
        assert_eq!(missing.form, "note_id=999999&comment_id=1");

        // A reference to a shared resource is looked up by id alone, with no user.
        let fields = ["note:references", "room:references"];
        let share = lower_resource(&spec("share", &fields), &accounts, &earlier).unwrap();
        let room_ref = &share.checked_references[0];
        assert_eq!(room_ref.name, "room_id");
        assert!(!room_ref.scoped && !room_ref.owned && room_ref.through.is_none());
        assert!(!share.checks_user);
        assert!(share.test.foreign_reference.is_none());
        // Its records are the user's through the note, so a second user makes their own note.
        let second = share.test.second_user.as_ref().unwrap();
        assert_eq!(second.collection, "/notes/2/shares");

        // A resource that needs no signed-in user cannot link to a user's records.
        let board = lower_resource(&spec("board", &["name:string"]), &accounts, &[]).unwrap();
        let earlier = [earlier[0].clone(), board];
        let fields = ["board:references", "note:references"];
        let e = lower_resource(&spec("pin", &fields), &accounts, &earlier)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"pin\" cannot reference \"note\" unless its pages need a signed-in user")
                && e.contains("--authenticated"),
            "{e}"
        );
        let mut pin = spec("pin", &fields);
        pin.authenticated = true;
        assert!(lower_resource(&pin, &accounts, &earlier).is_ok());
    }

    #[test]
    fn app_names() {
        let a = lower_app("my-app", Database::Sqlite).unwrap();
        assert_eq!(
            (a.name.as_str(), a.kebab.as_str(), a.title.as_str()),
            ("my_app", "my-app", "My app")
        );
        assert!(lower_app("axum", Database::Sqlite).is_err());
        assert!(lower_app("gen", Database::Sqlite).is_err());
    }
}
