//! The lowered model that templates read: an `App` and its `Resource`s, every name already decided.

use serde::Serialize;

use crate::naming::Names;
use crate::spec::{FieldType, Insert, ResourceSpec};
use crate::types::{Database, Dialect, Input};

/// The application as a whole, as `gen new` and `gen.toml` define it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct App {
    /// The package and crate name, snake_case: `my_app`.
    pub name: String,
    /// For page titles: `My app`.
    pub title: String,
    /// For host names such as the Fly.io app: `my-app`.
    pub kebab: String,
    pub database: Database,
    /// What depends on the database beyond the field types: the pool, the id and timestamp columns.
    pub sql: Dialect,
}

/// A resource after lowering: what every template of `scaffolds/resource` is rendered from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    #[serde(flatten)]
    pub names: Names,
    pub fields: Vec<Field>,
    pub insert: Insert,
    /// The record's DOM key is a client-chosen `client_id`, so an optimistic copy and the
    /// broadcast copy are the same node.
    pub optimistic: bool,
    /// Create, update and destroy broadcast one debounced page `refresh`, carrying the request
    /// id of the change so the author's own page ignores it.
    pub refresh: bool,
    /// The resource this one is nested under, from a `references` field.
    pub parent: Option<Parent>,
    /// The columns a row is read with in `SELECT` and `RETURNING`: `*`, or every column by name
    /// when one of them is cast on the way out (a Postgres decimal, `price::TEXT AS price`).
    pub select: String,
    /// The four-digit migration number: `0002`.
    pub migration: String,
    /// What the resource's generated tests send.
    pub test: TestData,
    /// The spec this resource was lowered from, as `specs/NAME.toml` records it.
    #[serde(skip)]
    pub spec: ResourceSpec,
}

impl Resource {
    /// Names of the resources this one has `references` fields to.
    pub fn referenced(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter_map(|f| f.references.as_ref().map(|n| n.singular.as_str()))
    }
}

/// What a resource's generated tests send: its forms, URL-encoded, and the records to create
/// before it through their own forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestData {
    /// Creates a record with every field's first sample value.
    pub create_form: String,
    /// Edits that record to every field's second sample value.
    pub update_form: String,
    /// Creates a second record with the second sample values.
    pub second_form: String,
    /// The parents and referenced records, each after the records it references in turn.
    pub seeds: Vec<Seed>,
    /// A second parent, whose stream must not receive this resource's broadcasts.
    pub other_parent: Option<Seed>,
}

/// A record created by POSTing `form` to `path`, as a browser would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seed {
    pub path: String,
    pub form: String,
}

/// The parent of a nested resource: its names and the column that holds its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parent {
    #[serde(flatten)]
    pub names: Names,
    /// The foreign key column and Rust field: `room_id`.
    pub column: String,
}

/// A field with every spelling a template needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// The name in SQL columns, form inputs and HTML: `type`, `room_id` for a reference.
    pub name: String,
    /// The name in Rust code: `r#type`.
    pub ident: String,
    /// The column as written in SQL, quoted when it is a reserved word: `"order"`.
    pub sql_name: String,
    /// A label for forms and pages: `Room`.
    pub label: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// The SQL column type, without constraints.
    pub sql_type: &'static str,
    /// The Rust type of the value, before `Option`.
    pub rust_type: &'static str,
    /// The Rust type of the model's field: `Option<…>` when optional.
    pub rust_field_type: String,
    pub input: Input,
    /// What follows the field's placeholder when it is bound: a cast such as `::NUMERIC`, or nothing.
    pub write_cast: String,
    pub optional: bool,
    pub unique: bool,
    pub index: bool,
    /// For `references`: the resource pointed at.
    pub references: Option<Names>,
    /// The form value the generated tests create a record with, then edit it to.
    pub sample: String,
    pub edited: String,
}
