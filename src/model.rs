//! The lowered model that templates read: an `App` and its `Resource`s, every name already decided.

use serde::Serialize;

use crate::naming::Names;
use crate::spec::Accept;
use crate::spec::{FieldType, Insert, ResourceSpec};
use crate::types::{Database, Dialect, FormReader, Input};

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
    /// `database` as the two questions templates ask of it.
    pub sqlite: bool,
    pub postgres: bool,
    /// What depends on the database beyond the field types: the pool, the id and timestamp columns.
    pub sql: Dialect,
    /// Whether the app has accounts (`gen auth`), which scoped and authenticated resources need.
    #[serde(skip)]
    pub accounts: bool,
}

/// A resource after lowering: what every template of `scaffolds/resource` is rendered from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    #[serde(flatten)]
    pub names: Names,
    /// The fields that are columns of the resource's table, in the spec's order.
    pub fields: Vec<Field>,
    /// The `attachment` and `attachments` fields, in the spec's order: no column of the table,
    /// their files are blobs linked to the record.
    pub attachments: Vec<Attachment>,
    /// With file fields: the statements after `CREATE TABLE` that detach a deleted record's
    /// files, however it is deleted (`types::detach_files_trigger`).
    pub detach_trigger: Option<String>,
    pub insert: Insert,
    /// Whether lists show the newest record first (`insert = "prepend"`), so the page's order
    /// matches the order live records arrive in.
    pub newest_first: bool,
    /// The `ORDER BY` of every list: `id`, or `id DESC` when the newest come first.
    pub order_by: &'static str,
    /// The record's DOM key is a client-chosen `client_id`, so an optimistic copy and the
    /// broadcast copy are the same node.
    pub optimistic: bool,
    /// Create, update and destroy broadcast one debounced page `refresh`, carrying the request
    /// id of the change so the author's own page ignores it.
    pub refresh: bool,
    /// Each record belongs to the signed-in user who created it (`--scope user`): the table has
    /// a `user_id`, every query takes the user, and the live stream is the user's.
    pub owned: bool,
    /// Every action needs a signed-in user (scoped, `--authenticated`, or nested under such a
    /// parent), and the page's subscription is bound to the session that rendered it.
    pub signed_in: bool,
    /// How many records a page of the list holds.
    pub per_page: u32,
    /// The Rust name of the field that titles a record on its pages (the first required string
    /// field), or `None` when pages call it by its type and id: "Room 7".
    pub title_field: Option<String>,
    /// The resource this one is nested under, from a `references` field.
    pub parent: Option<Parent>,
    /// The `references` fields other than the parent's, in the spec's order: the create and
    /// update handlers look each one's record up before writing, so a form cannot link to a
    /// record that does not exist or that its user may not see.
    pub checked_references: Vec<CheckedReference>,
    /// Whether one of those lookups goes through the signed-in user, so the create and update
    /// handlers pass the user to them.
    pub checks_user: bool,
    /// The models those lookups name that the handlers do not import already for the parent,
    /// as `use` paths: `crate::notes::Note`.
    pub checked_uses: Vec<String>,
    /// The columns a row is read with in `SELECT` and `RETURNING`: `*`, or every column by name
    /// when one of them is cast on the way out (a Postgres decimal, `price::TEXT AS price`).
    pub select: String,
    /// The columns an `INSERT` writes, in order: the client id, the parent's column, then every
    /// editable field.
    pub insert_columns: String,
    /// The bind parameters of that `INSERT`, each with its cast: `?, ?` or `$1, $2::NUMERIC`.
    pub insert_values: String,
    /// The assignments of an `UPDATE` of the editable fields, `updated_at` last.
    pub update_set: String,
    /// The bind parameter of the `WHERE id =` that follows them.
    pub update_id: String,
    /// The four-digit migration number: `0002`.
    pub migration: String,
    /// What the resource's generated tests send.
    pub test: TestData,
    /// The spec this resource was lowered from, as `specs/NAME.toml` records it.
    #[serde(skip)]
    pub spec: ResourceSpec,
    /// The resource as it was generated, before the changes of `gen field`: what its
    /// `CREATE TABLE` migration is rendered from. `None` when nothing changed.
    #[serde(skip)]
    pub created: Option<Box<Resource>>,
    /// Each `gen field` change, lowered for its migration.
    #[serde(skip)]
    pub changes: Vec<crate::history::Change>,
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
    /// Where the records under test are listed and created: under the first parent, if nested.
    pub collection: String,
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
    /// Whether one of the seeds above or of `second_user` is sent without files, and whether
    /// one is sent with them, so the tests define the helpers they call and no other (an
    /// unused one is dead code), and the upload helpers even when this resource has no file.
    pub seeds_without_files: bool,
    pub seeds_with_files: bool,
    /// A form field to send twice, which the form cannot be read with: the client id or the
    /// first editable field.
    pub repeated_field: Option<String>,
    /// The first editable field with a maximum length, to send too long and just long enough.
    pub too_long: Option<TooLong>,
    /// A Rust expression for the create form of record `n`, a `format!` whose `{n}` makes every
    /// record distinct where it must be (the client id, unique text), so a test can create pages
    /// of records; `None` when a unique field has no value to number.
    pub numbered_form: Option<String>,
    /// A create form that names a record of the first checked reference that does not exist.
    pub missing_reference: Option<MissingReference>,
    /// How a second user makes records of their own that this resource's form can name, when
    /// its records or the records it names belong to users.
    pub second_user: Option<SecondUser>,
    /// The first checked reference to a user's records, which the tests have a second user
    /// point at the first user's record.
    pub foreign_reference: Option<ForeignReference>,
}

/// A create form whose checked reference names a record that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingReference {
    /// The error the form shows: `Note must exist`.
    pub error: String,
    pub form: String,
}

/// What a second user, signed up after the first, creates to have a record of this resource of
/// their own: the first user's records of every table have id 1, theirs id 2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecondUser {
    /// The records to create first, each after the records it names.
    pub seeds: Vec<Seed>,
    /// Where they create the record: under their own parent, when the parent is a user's.
    pub collection: String,
    /// The create form, naming their own records wherever it names a user's.
    pub create_form: String,
}

/// A checked reference to a user's records, which a second user points at the first user's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignReference {
    /// The error the form shows: `Note must exist`.
    pub error: String,
    /// The second user's create form with that field naming the first user's record.
    pub foreign_form: String,
}

/// A field the generated tests fill past its maximum length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TooLong {
    /// The field's name in the form.
    pub name: String,
    /// The create form without that field, to which the test adds it.
    pub rest_form: String,
    /// The most characters it may have.
    pub max: usize,
    /// The error the form shows next to it.
    pub message: String,
}

/// A record created by POSTing `form` to `path`, as a browser would.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seed {
    pub path: String,
    pub form: String,
    /// A sample file for each file field every record of its resource must have. When there is
    /// one, the form is sent as `multipart/form-data`, as a browser sends a form with a file
    /// input, since without it the record could not be created.
    pub files: Vec<SeedFile>,
}

/// A file a seed uploads: the field it is for, and the kinds that field takes as a Rust slice
/// of the runtime's `Accept` (`&[Accept::Image]`), from which the tests pick the sample file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeedFile {
    pub name: String,
    pub accept: String,
}

/// The parent of a nested resource: its names and the column that holds its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parent {
    #[serde(flatten)]
    pub names: Names,
    /// The foreign key column and Rust field: `room_id`.
    pub column: String,
    /// The parent's records belong to users, so it is loaded through the signed-in user and a
    /// parent of another user's is not found.
    pub owned: bool,
}

/// The error a form shows next to a `references` field whose record is not found.
pub const MISSING_REFERENCE: &str = "must exist";

/// A `references` field that is not the parent's, and how its record is looked up before a
/// record that names it is written. A user's records are looked up through the signed-in user,
/// so another user's is missing to them, as it is on its own page; a shared resource's records
/// are looked up by id alone, so that an id which does not exist is a form error too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedReference {
    /// The field's name in the form and in SQL: `note_id`.
    pub name: String,
    /// The field's name in Rust code.
    pub ident: String,
    /// A label for the form's error: `Note`.
    pub label: String,
    /// The field may be left empty, which links to nothing and needs no lookup.
    pub optional: bool,
    /// The resource the field points at.
    pub target: Names,
    /// The target's records belong to users (`--scope user`), so it is found through the
    /// signed-in user.
    pub owned: bool,
    /// The user's resource the target is nested under, when it belongs to a user through it:
    /// the target is found by id, then its parent through the signed-in user.
    pub through: Option<Parent>,
    /// Whether the lookup goes through the signed-in user, either way.
    pub scoped: bool,
    /// The error the form shows when the record is not found.
    pub missing: &'static str,
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
    /// Whether the form edits it; the parent's column is set from the path instead.
    pub editable: bool,
    /// The columns of its index: the parent's column is indexed with `id` after it, so a page of
    /// one parent's records, newest first, is a range of the index at any depth.
    pub index_columns: String,
    /// `input` as the questions templates ask of it, and the attributes of its `<input>`.
    pub checkbox: bool,
    pub textarea: bool,
    pub input_attributes: &'static str,
    /// Whether its value is shown as text whose line breaks matter (`class="multiline"`).
    pub multiline: bool,
    /// The Rust type of the form's field: a checkbox is `Option<String>`, sent only when checked.
    pub form_type: &'static str,
    /// How the form's text is parsed and what it says when that fails; none for a checkbox.
    pub reader: Option<FormReader>,
    /// The most characters the value may have, for `string` and `text` fields.
    pub max_length: Option<usize>,
    /// Whether queries bind the value by value (a `Copy` type) rather than by reference.
    pub by_value: bool,
    /// Whether a page shows the value as the very text the form sent.
    pub verbatim: bool,
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

/// An `attachment` or `attachments` field, with every spelling a template needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// The name of the form's file input, and of the field in the attachments table: `photo`.
    pub name: String,
    /// The name in Rust code: `photo`, `r#type`.
    pub ident: String,
    /// A label for forms and pages: `Cover photo`.
    pub label: String,
    /// The kinds of file it takes; empty for any file.
    pub accept: Vec<Accept>,
    /// One file that a record may lack (`attachment:optional`).
    pub optional: bool,
    #[serde(flatten)]
    pub info: crate::types::AttachmentInfo,
    /// The names of the files the generated tests upload, then replace them with.
    pub sample: String,
    pub edited: String,
}
