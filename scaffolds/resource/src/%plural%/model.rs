<% import "shared/rust.jinja" as rust %>
<% set s = r.singular %>
<% set editable = r.fields | selectattr("editable") | list %>
<% set parsed = editable | rejectattr("checkbox") | list %>
<% set guarded = (["client_id"] if r.optimistic else []) + (parsed | map(attribute="ident") | list) %>
<% set pool = app.sql.pool %>
<%# A record with files is written inside the transaction that attaches them. %>
<% set write_db = ("&mut " ~ app.sql.connection) if r.attachments else ("&" ~ pool) %>
<% set params_name = "params" if (editable or r.optimistic) else "_params" %>
//! The <%= r.human %> model: the row, the form that edits it, its validation and its queries.

use serde::{Deserialize, Serialize};
use sqlx::<%= pool %>;

<% if r.owned %>
use crate::auth::User;
<% endif %>
<% if r.attachments %>
use crate::blobs::{self, FileField};
<% endif %>
<% if parsed %>
use crate::turbo::forms::{self, FieldErrors, FormValue};
<% elif editable or r.optimistic %>
use crate::turbo::forms::{self, FieldErrors};
<% else %>
use crate::turbo::forms::FieldErrors;
<% endif %>
use crate::turbo::page::{self, Page};
<% if r.attachments | selectattr("wrong_kind") | list %>
use crate::turbo::storage::Accept;
<% endif %>
use crate::turbo::{self, DomId};

/// One row of the `<%= r.plural %>` table.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct <%= r.camel %> {
    pub id: i64,
<% if r.optimistic %>
    /// Chosen by the browser that created the record, so its optimistic copy and the broadcast
    /// copy share one DOM id.
    pub client_id: String,
<% endif %>
<% if r.owned %>
    /// The user it belongs to: every query of the model is limited to one user's records.
    pub user_id: i64,
<% endif %>
<% for f in r.fields %>
    pub <%= f.ident %>: <%= f.rust_field_type %>,
<% endfor %>
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
<% for a in r.attachments %>
    /// Kept in the blobs table, and loaded with [`<%= r.camel %>::load_files`].
    #[sqlx(skip)]
<% filter rs_field(4) %>pub <%= a.ident %>: <%= a.rust_field_type %>,<% endfilter %>
<% endfor %>
}

impl DomId for <%= r.camel %> {
    const SINGULAR: &'static str = "<%= r.singular %>";
    const PLURAL: &'static str = "<%= r.plural %>";

    fn dom_key(&self) -> String {
<% if r.optimistic %>
        self.client_id.clone()
<% else %>
        self.id.to_string()
<% endif %>
    }
}

impl <%= r.camel %> {
    /// How many <%= r.human_plural | lower %> a page of the list holds.
    pub const PER_PAGE: i64 = <%= r.per_page %>;

    /// The id of this record's element on every page, in every stream: `<%= r.singular %>_42`.
    pub fn dom_id(&self) -> String {
        turbo::dom_id(self)
    }
<% if r.attachments %>

    /// The table the attachments table names these records by.
    pub const TABLE: &'static str = "<%= r.plural %>";

    /// The form's file fields.
<% if (r.attachments | length) == 1 %>
<% set a = r.attachments[0] %>
    pub const FILE_FIELDS: &'static [FileField] = &[FileField {
        name: "<%= a.name %>",
        accept: <%= a.accept %>,
<% filter rs_init(8) %>wrong_kind: "<%= a.wrong_kind or "" %>",<% endfilter %>
        many: <% if a.many %>true<% else %>false<% endif %>,
        required: <% if a.missing %>true<% else %>false<% endif %>,
    }];
<% else %>
    pub const FILE_FIELDS: &'static [FileField] = &[
<% for a in r.attachments %>
        FileField {
            name: "<%= a.name %>",
            accept: <%= a.accept %>,
<% filter rs_init(12) %>wrong_kind: "<%= a.wrong_kind or "" %>",<% endfilter %>
            many: <% if a.many %>true<% else %>false<% endif %>,
            required: <% if a.missing %>true<% else %>false<% endif %>,
        },
<% endfor %>
    ];
<% endif %>

    /// Loads the files of `records` in one query, their URLs signed with `secret`.
<% call rust.sig(4, "pub async fn load_files", " -> sqlx::Result<()> {") %>
records: &mut [Self]
db: &<%= pool %>
secret: &[u8]
<% endcall %>
        let ids: Vec<i64> = records.iter().map(|record| record.id).collect();
        let mut files = blobs::load(db, secret, Self::TABLE, &ids).await?;
        for record in records {
<% for a in r.attachments %>
<% if a.many %>
<% filter rs_stmt(12) %>record.<%= a.ident %> = files.take_many(record.id, "<%= a.name %>");<% endfilter %>
<% else %>
<% filter rs_stmt(12) %>record.<%= a.ident %> = files.take_one(record.id, "<%= a.name %>");<% endfilter %>
<% endif %>
<% endfor %>
        }
        Ok(())
    }
<% endif %>

<% if p %>
    /// Where a <%= p.human | lower %>'s <%= r.human_plural | lower %> are listed and created.
    pub fn collection_path(<%= p.column %>: i64) -> String {
<% filter rs_stmt(8) %>format!("/<%= p.kebab_plural %>/{<%= p.column %>}/<%= r.kebab_plural %>")<% endfilter %>
    }

    /// The lazy frame that counts a <%= p.human | lower %>'s <%= r.human_plural | lower %>.
    pub fn summary_path(<%= p.column %>: i64) -> String {
        let collection = Self::collection_path(<%= p.column %>);
        format!("{collection}/summary")
    }

    pub fn path(&self) -> String {
<% filter rs_stmt(8) %>let collection = Self::collection_path(self.<%= p.column %>);<% endfilter %>
        format!("{collection}/{}", self.id)
    }
<% else %>
    /// Where <%= r.human_plural | lower %> are listed and created.
    pub fn collection_path() -> String {
        "/<%= r.kebab_plural %>".to_owned()
    }

    /// The lazy frame that counts them.
    pub fn summary_path() -> String {
        "/<%= r.kebab_plural %>/summary".to_owned()
    }

    pub fn path(&self) -> String {
<% filter rs_stmt(8) %>format!("/<%= r.kebab_plural %>/{}", self.id)<% endfilter %>
    }
<% endif %>

    pub fn edit_path(&self) -> String {
        format!("{}/edit", self.path())
    }

<% if r.title_field %>
    /// How pages name this <%= r.human | lower %>: its <%= r.title_field %>.
    pub fn title(&self) -> &str {
        &self.<%= r.title_field %>
    }
<% else %>
    /// How pages name this <%= r.human | lower %>, which has no text field to be named by.
    pub fn title(&self) -> String {
<% filter rs_stmt(8) %>format!("<%= r.human %> {}", self.id)<% endfilter %>
    }
<% endif %>

<% if p %>
    /// One page of a <%= p.human | lower %>'s <%= r.human_plural | lower %>: the newest older than `before` (the newest of
    /// all on the first page), in the list's order. The query is a range of the
    /// `(<%= p.column %>, id)` index, so a page costs the same at any depth.
<% call rust.sig(4, "pub async fn page_for_" ~ p.singular, " -> sqlx::Result<Page<Self>> {") %>
db: &<%= pool %>
<%= p.column %>: i64
before: Option<i64>
<% endcall %>
<% filter rs_stmt(8) %>let rows = sqlx::query_as("SELECT <%= r.select | rust_str %> FROM <%= r.plural | rust_str %> WHERE <%= p.column | rust_str %> = <%= param(1) %> AND id < <%= param(2) %> ORDER BY id DESC LIMIT <%= param(3) %>")
.bind(<%= p.column %>)
.bind(page::upper_bound(before))
.bind(Self::PER_PAGE + 1)
.fetch_all(db)
.await?;<% endfilter %>
        Ok(Page::from_newest(rows, Self::PER_PAGE, <% if r.newest_first %>false<% else %>true<% endif %>, |row| row.id))
    }

<% elif r.owned %>
    /// One page of a user's <%= r.human_plural | lower %>: the newest older than `before` (the newest of
    /// all on the first page), in the list's order. The query is a range of the `(user_id, id)`
    /// index, so a page costs the same at any depth.
<% call rust.sig(4, "pub async fn page", " -> sqlx::Result<Page<Self>> {") %>
db: &<%= pool %>
user: &User
before: Option<i64>
<% endcall %>
<% filter rs_stmt(8) %>let rows = sqlx::query_as("SELECT <%= r.select | rust_str %> FROM <%= r.plural | rust_str %> WHERE user_id = <%= param(1) %> AND id < <%= param(2) %> ORDER BY id DESC LIMIT <%= param(3) %>")
.bind(user.id)
.bind(page::upper_bound(before))
.bind(Self::PER_PAGE + 1)
.fetch_all(db)
.await?;<% endfilter %>
        Ok(Page::from_newest(rows, Self::PER_PAGE, <% if r.newest_first %>false<% else %>true<% endif %>, |row| row.id))
    }

<% else %>
    /// One page of <%= r.human_plural | lower %>: the newest older than `before` (the newest of all on the
    /// first page), in the list's order. The query is a range of the primary key, so a page
    /// costs the same at any depth.
<% call rust.sig(4, "pub async fn page", " -> sqlx::Result<Page<Self>> {") %>
db: &<%= pool %>
before: Option<i64>
<% endcall %>
<% filter rs_stmt(8) %>let rows = sqlx::query_as("SELECT <%= r.select | rust_str %> FROM <%= r.plural | rust_str %> WHERE id < <%= param(1) %> ORDER BY id DESC LIMIT <%= param(2) %>")
.bind(page::upper_bound(before))
.bind(Self::PER_PAGE + 1)
.fetch_all(db)
.await?;<% endfilter %>
        Ok(Page::from_newest(rows, Self::PER_PAGE, <% if r.newest_first %>false<% else %>true<% endif %>, |row| row.id))
    }

<% endif %>
<% if p %>
    /// How many <%= r.human_plural | lower %> one <%= p.human | lower %> has.
<% call rust.sig(4, "pub async fn count_for_" ~ p.singular, " -> sqlx::Result<i64> {") %>
db: &<%= pool %>
<%= p.column %>: i64
<% endcall %>
<% call rust.chain(8, "sqlx::query_scalar", '"SELECT COUNT(*) FROM ' ~ (r.plural | rust_str) ~ ' WHERE ' ~ (p.column | rust_str) ~ ' = ' ~ param(1) ~ '"') %>
.bind(<%= p.column %>)
.fetch_one(db)
.await
<% endcall %>
    }
<% elif r.owned %>
    /// How many <%= r.human_plural | lower %> a user has.
    pub async fn count(db: &<%= pool %>, user: &User) -> sqlx::Result<i64> {
<% call rust.chain(8, "sqlx::query_scalar", '"SELECT COUNT(*) FROM ' ~ (r.plural | rust_str) ~ ' WHERE user_id = ' ~ param(1) ~ '"') %>
.bind(user.id)
.fetch_one(db)
.await
<% endcall %>
    }
<% else %>
    /// How many <%= r.human_plural | lower %> there are.
    pub async fn count(db: &<%= pool %>) -> sqlx::Result<i64> {
<% call rust.chain(8, "sqlx::query_scalar", '"SELECT COUNT(*) FROM ' ~ (r.plural | rust_str) ~ '"') %>
.fetch_one(db)
.await
<% endcall %>
    }
<% endif %>

<% if r.owned %>
    /// The user's <%= r.human | lower %> with this id, or `RowNotFound`, also when it is another user's:
    /// to them it does not exist.
<% call rust.sig(4, "pub async fn find", " -> sqlx::Result<Self> {") %>
db: &<%= pool %>
user: &User
id: i64
<% endcall %>
<% call rust.chain(8, "sqlx::query_as", '"SELECT ' ~ (r.select | rust_str) ~ ' FROM ' ~ (r.plural | rust_str) ~ ' WHERE id = ' ~ param(1) ~ ' AND user_id = ' ~ param(2) ~ '"') %>
.bind(id)
.bind(user.id)
.fetch_one(db)
.await
<% endcall %>
    }
<% else %>
    /// The <%= r.human | lower %> with this id, or `RowNotFound`.
    pub async fn find(db: &<%= pool %>, id: i64) -> sqlx::Result<Self> {
<% call rust.chain(8, "sqlx::query_as", '"SELECT ' ~ (r.select | rust_str) ~ ' FROM ' ~ (r.plural | rust_str) ~ ' WHERE id = ' ~ param(1) ~ '"') %>
.bind(id)
.fetch_one(db)
.await
<% endcall %>
    }
<% endif %>

<% call rust.sig(4, "pub async fn create", " -> sqlx::Result<Self> {") %>
db: <%= write_db %>
<% if r.owned %>
user: &User
<% endif %>
<% if p %>
<%= p.column %>: i64
<% endif %>
<%= params_name %>: &<%= r.camel %>Params
<% endcall %>
        sqlx::query_as(
            "INSERT INTO <%= r.plural | rust_str %> (<%= r.insert_columns | rust_str %>) \
             VALUES (<%= r.insert_values %>) RETURNING <%= r.select | rust_str %>",
        )
<% if r.optimistic %>
        .bind(&params.client_id)
<% endif %>
<% if r.owned %>
        .bind(user.id)
<% endif %>
<% if p %>
        .bind(<%= p.column %>)
<% endif %>
<% for f in editable %>
        .bind(<% if not f.by_value %>&<% endif %>params.<%= f.ident %>)
<% endfor %>
        .fetch_one(db)
        .await
    }

<% call rust.sig(4, "pub async fn update", " -> sqlx::Result<Self> {") %>
&self
db: <%= write_db %>
<%= params_name %>: &<%= r.camel %>Params
<% endcall %>
        sqlx::query_as(
            "UPDATE <%= r.plural | rust_str %> SET <%= r.update_set | rust_str %> \
             WHERE id = <%= r.update_id %> RETURNING <%= r.select | rust_str %>",
        )
<% for f in editable %>
        .bind(<% if not f.by_value %>&<% endif %>params.<%= f.ident %>)
<% endfor %>
        .bind(self.id)
        .fetch_one(db)
        .await
    }

<% call rust.sig(4, "pub async fn destroy", " -> sqlx::Result<()> {") %>
&self
db: <%= write_db %>
<% endcall %>
<% call rust.chain(8, "sqlx::query", '"DELETE FROM ' ~ (r.plural | rust_str) ~ ' WHERE id = ' ~ param(1) ~ '"') %>
.bind(self.id)
.execute(db)
.await?;
<% endcall %>
        Ok(())
    }
}

/// The form as the browser sends it: text until `validate` turns it into typed values.
#[derive(Debug, Clone, Default, Deserialize)]
<% if not (editable or r.optimistic or r.attachments) %>
pub struct <%= r.camel %>Form {}
<% else %>
pub struct <%= r.camel %>Form {
<% if r.optimistic %>
    #[serde(default)]
    pub client_id: String,
<% endif %>
<% for f in editable %>
<% if f.checkbox %>
    /// A checkbox sends its value only when checked.
<% endif %>
    #[serde(default)]
    pub <%= f.ident %>: <%= f.form_type %>,
<% endfor %>
<% for a in r.attachments %>
    /// The record's current files, which the edit form shows; never read from the request.
    #[serde(skip)]
<% filter rs_field(4) %>pub <%= a.ident %>: <%= a.rust_field_type %>,<% endfilter %>
<% endfor %>
}
<% endif %>

/// Validated values, ready to save.
#[derive(Debug, Clone, PartialEq)]
<% if not (editable or r.optimistic) %>
pub struct <%= r.camel %>Params {}
<% else %>
pub struct <%= r.camel %>Params {
<% if r.optimistic %>
    pub client_id: String,
<% endif %>
<% for f in editable %>
    pub <%= f.ident %>: <%= f.rust_field_type %>,
<% endfor %>
}
<% endif %>

impl <%= r.camel %>Form {
    /// A blank form<% if r.optimistic %> with a fresh client id, so the record's DOM id is known
    /// before the server answers<% endif %>.
    pub fn blank() -> Self {
<% if r.optimistic %>
        <%= r.camel %>Form {
            client_id: uuid::Uuid::new_v4().to_string(),
            ..Self::default()
        }
<% else %>
        Self::default()
<% endif %>
    }
<% if r.optimistic %>

    /// The DOM id the record created by this form will have, so the page can show it at once.
    pub fn pending_dom_id(&self) -> String {
        turbo::key_dom_id::<<%= r.camel %>>(&self.client_id)
    }
<% endif %>

    /// The form that edits an existing record.
<% call rust.sig(4, "pub fn from_record", " -> Self {") %>
<% if not (editable or r.optimistic or r.attachments) %>_<% endif %><%= s %>: &<%= r.camel %>
<% endcall %>
<% if editable or r.optimistic or r.attachments %>
<% call rust.struct(8, "", r.camel ~ "Form", "") %>
<% if r.optimistic %>
client_id: <%= s %>.client_id.clone()
<% endif %>
<% for a in r.attachments %>
<%= a.ident %>: <%= s %>.<%= a.ident %>.clone()
<% endfor %>
<% for f in editable %>
<% if f.checkbox and f.optional %>
<%= f.ident %>: forms::checkbox(<%= s %>.<%= f.ident %> == Some(true))
<% elif f.checkbox %>
<%= f.ident %>: forms::checkbox(<%= s %>.<%= f.ident %>)
<% else %>
<%= f.ident %>: <%= s %>.<%= f.ident %>.form_value()
<% endif %>
<% endfor %>
<% endcall %>
<% else %>
        Self::default()
<% endif %>
    }

    /// Checks every field, collecting each problem next to the field it belongs to.
<% call rust.sig(4, "pub fn validate", " -> Result<" ~ r.camel ~ "Params, FieldErrors> {") %>
&self
<% endcall %>
<% if guarded %>
        let mut errors = FieldErrors::default();
<% endif %>
<% if r.optimistic %>
<% call rust.call(8, "let client_id = ", "errors.required", ";") %>
"client_id"
&self.client_id
forms::parse::<uuid::Uuid>
"is not a UUID"
<% endcall %>
<% endif %>
<% for f in parsed %>
<% call rust.call(8, "let " ~ f.ident ~ " = ", "errors." ~ ("optional" if f.optional else "required"), ";") %>
"<%= f.name %>"
&self.<%= f.ident %>
<%= f.reader.parser %>
"<%= f.reader.invalid %>"
<% endcall %>
<% endfor %>
<% for g in guarded %>
<% filter rs_stmt(8) %>let Some(<%= g %>) = <%= g %> else { return Err(errors); };<% endfilter %>
<% endfor %>
<% call rust.struct(8, "Ok(", r.camel ~ "Params", ")") %>
<% if r.optimistic %>
client_id: client_id.to_string()
<% endif %>
<% for f in editable %>
<% if f.checkbox and f.optional %>
<%= f.ident %>: Some(self.<%= f.ident %>.is_some())
<% elif f.checkbox %>
<%= f.ident %>: self.<%= f.ident %>.is_some()
<% else %>
<%= f.ident %>
<% endif %>
<% endfor %>
<% endcall %>
    }
}
