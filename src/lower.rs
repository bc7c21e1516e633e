//! Stage two: lowering specs to the model, validating every name against the rules and the project.

use heck::{ToKebabCase, ToSnakeCase};

use crate::error::{Error, Result};
use crate::model::{App, Field, Parent, Resource, Seed, TestData};
use crate::naming::{
    self, Names, RESERVED_FIELD_LOCALS, RESERVED_FIELDS, RESERVED_RESOURCES, check_identifier,
    humanize, is_rust_keyword, rust_ident, sql_ident, suggest,
};
use crate::spec::{FieldType, ResourceSpec};
use crate::types::{Database, sample, type_info};

/// Crates the generated app depends on; a package of the same name could not depend on them.
const DEPENDENCY_NAMES: &[&str] = &[
    "askama",
    "askama_web",
    "axum",
    "chrono",
    "hmac",
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
        title: humanize(&name),
        kebab: name.to_kebab_case(),
        name,
        database,
        sql: database.dialect(),
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
    for f in &spec.fields {
        let token = f.token();
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
        let references = if f.ty == FieldType::References {
            let Some(target) = earlier.iter().find(|r| r.names.singular == f.name) else {
                let mut msg = format!(
                    "\"{token}\" references the resource \"{}\", which does not exist; run `gen resource {}` first",
                    f.name, f.name
                );
                if let Some(s) = suggest(&f.name, earlier.iter().map(|r| r.names.singular.as_str()))
                {
                    msg.push_str(&format!(", or did you mean \"{s}:references\"?"));
                }
                return Err(Error::Input(msg));
            };
            Some(target.names.clone())
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
        if let Some(first) = fields.iter().find(|g| g.name == name) {
            return Err(Error::Input(format!(
                "duplicate field \"{token}\": the column \"{name}\" is already defined by \"{}\"",
                spec.fields
                    .iter()
                    .find(|s| s.name == first.name || format!("{}_id", s.name) == first.name)
                    .map(|s| s.token())
                    .unwrap_or_else(|| first.name.clone())
            )));
        }
        let info = type_info(app.database, f.ty);
        fields.push(Field {
            ident: rust_ident(&name),
            sql_name: sql_ident(&name),
            label: humanize(&f.name),
            ty: f.ty,
            sql_type: info.sql,
            rust_type: info.rust,
            rust_field_type: if f.optional {
                format!("Option<{}>", info.rust)
            } else {
                info.rust.to_string()
            },
            input: info.input,
            write_cast: info
                .write_cast
                .map(|ty| format!("::{ty}"))
                .unwrap_or_default(),
            optional: f.optional,
            unique: f.unique,
            index: f.index || f.ty == FieldType::References,
            references,
            sample: sample(f.ty, &humanize(&f.name), 1),
            edited: sample(f.ty, &humanize(&f.name), 2),
            name,
        });
    }

    let reference_fields: Vec<&Field> = fields.iter().filter(|f| f.references.is_some()).collect();
    let parent_field = match &spec.parent {
        Some(wanted) => Some(
            reference_fields
                .iter()
                .find(|f| f.references.as_ref().is_some_and(|n| &n.singular == wanted))
                .ok_or_else(|| {
                    Error::Input(format!(
                        "parent \"{wanted}\" is not a references field of \"{singular}\"; add \"{wanted}:references\""
                    ))
                })?,
        ),
        None => reference_fields.first(),
    };
    let parent = parent_field.map(|f| Parent {
        names: f
            .references
            .clone()
            .expect("a reference field names its resource"),
        column: f.name.clone(),
    });
    if let Some(p) = &parent
        && fields.iter().any(|f| f.name == p.column && f.optional)
    {
        return Err(Error::Input(format!(
            "\"{}:references:optional\" cannot be the parent: a nested {} always belongs to a {}",
            p.names.singular, names.human, p.names.human
        )));
    }

    let migration = spec.migration.ok_or_else(|| {
        Error::Input(format!(
            "the spec of \"{singular}\" has no migration number"
        ))
    })?;
    let mut spec = spec.clone();
    spec.name = singular;
    spec.parent = parent.as_ref().map(|p| p.names.singular.clone());
    let test = test_data(&fields, parent.as_ref(), spec.optimistic, earlier);
    let select = select_list(app, &fields, spec.optimistic);
    Ok(Resource {
        names,
        fields,
        insert: spec.insert,
        optimistic: spec.optimistic,
        refresh: spec.refresh,
        parent,
        select,
        migration: format!("{migration:04}"),
        test,
        spec,
    })
}

/// The columns rows are read with: `*` unless a column has to be cast to be read, and then every
/// column by name, in table order, so that the row still decodes by name.
fn select_list(app: &App, fields: &[Field], optimistic: bool) -> String {
    let casts: Vec<Option<&str>> = fields
        .iter()
        .map(|f| type_info(app.database, f.ty).read_cast)
        .collect();
    if casts.iter().all(Option::is_none) {
        return "*".to_owned();
    }
    let mut columns = vec!["id".to_owned()];
    if optimistic {
        columns.push("client_id".to_owned());
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
    fields: &[Field],
    parent: Option<&Parent>,
    optimistic: bool,
    earlier: &[Resource],
) -> TestData {
    let form = |n: u8, client: u8| {
        let mut form = form_urlencoded::Serializer::new(String::new());
        if optimistic {
            form.append_pair(
                "client_id",
                &format!("11111111-1111-4111-8111-{client:012}"),
            );
        }
        for f in fields {
            if parent.is_some_and(|p| p.column == f.name) {
                continue;
            }
            let value = if n == 1 { &f.sample } else { &f.edited };
            // An unchecked checkbox is not sent at all.
            if f.ty == FieldType::Boolean && value.is_empty() {
                continue;
            }
            form.append_pair(&f.name, value);
        }
        form.finish()
    };
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
            path: collection_path(resource),
            form: resource.test.second_form.clone(),
        })
    });
    TestData {
        create_form: form(1, 1),
        update_form: form(2, 1),
        second_form: form(2, 2),
        seeds,
        other_parent,
    }
}

/// Adds the record of `singular` to `seeds`, after the records it references, unless it is
/// there already.
fn seed(singular: &str, earlier: &[Resource], seeds: &mut Vec<Seed>) {
    let Some(resource) = earlier.iter().find(|r| r.names.singular == singular) else {
        return;
    };
    let path = collection_path(resource);
    if seeds.iter().any(|s| s.path == path) {
        return;
    }
    for referenced in resource.referenced() {
        seed(referenced, earlier, seeds);
    }
    seeds.push(Seed {
        path,
        form: resource.test.create_form.clone(),
    });
}

/// Where the first record of `resource` is created: under the first record of its parent.
fn collection_path(resource: &Resource) -> String {
    match &resource.parent {
        Some(p) => format!(
            "/{}/1/{}",
            p.names.kebab_plural, resource.names.kebab_plural
        ),
        None => format!("/{}", resource.names.kebab_plural),
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
