<% set r = resource %>
<% set p = resource.parent %>
<% set s = r.singular %>
<%# The parser in `crate::turbo::forms` that reads a form value of field `f`. %>
<% macro parser(f) %><% if f.type in ["string", "text"] %>forms::text<% elif f.type == "integer" %>forms::parse::<i32><% elif f.type in ["bigint", "references"] %>forms::parse::<i64><% elif f.type == "float" %>forms::float<% elif f.type == "decimal" %>forms::decimal<% elif f.type == "date" %>forms::parse::<chrono::NaiveDate><% elif f.type == "datetime" %>forms::datetime<% elif f.type == "uuid" %>forms::parse::<uuid::Uuid><% elif f.type == "json" %>forms::parse::<serde_json::Value><% endif %><% endmacro %>
<% macro invalid(f) %><% if f.type in ["string", "text"] %>can't be blank<% elif f.type in ["integer", "bigint", "references"] %>is not a whole number<% elif f.type in ["float", "decimal"] %>is not a number<% elif f.type == "date" %>is not a date<% elif f.type == "datetime" %>is not a date and time<% elif f.type == "uuid" %>is not a UUID<% elif f.type == "json" %>is not valid JSON<% endif %><% endmacro %>
<% set editable = r.fields | rejectattr("name", "equalto", p.column if p else "") | list %>
<%# Prepended records are listed newest first, so the page order matches the live order. %>
<% set order = "id DESC" if r.insert == "prepend" else "id" %>
<% set checked = editable | rejectattr("type", "equalto", "boolean") | list %>
<% set guarded = (["client_id"] if r.optimistic else []) + (checked | map(attribute="ident") | list) %>
<% set columns = (["client_id"] if r.optimistic else []) + ([p.column] if p else []) + (editable | map(attribute="sql_name") | list) %>
<%# What follows each column's placeholder in an INSERT: a cast, or nothing. %>
<% set casts = ([""] if r.optimistic else []) + ([""] if p else []) + (editable | map(attribute="write_cast") | list) %>
<% set pool = app.sql.pool %>
<%# Copy values are bound by value, the rest by reference. %>
<% macro bound(f) %><% if f.type not in ["string", "text", "decimal", "json"] %>params.<%= f.ident %><% else %>&params.<%= f.ident %><% endif %><% endmacro %>
<% set params_name = "params" if (editable or r.optimistic) else "_params" %>
<% set shown = editable | rejectattr("type", "equalto", "boolean") | list %>
//! The <%= r.human %> model: the row, the form that edits it, its validation and its queries.

use serde::{Deserialize, Serialize};
use sqlx::<%= pool %>;

<% if shown %>
use crate::turbo::forms::{self, FieldErrors, FormValue};
<% elif editable or r.optimistic %>
use crate::turbo::forms::{self, FieldErrors};
<% else %>
use crate::turbo::forms::FieldErrors;
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
<% for f in r.fields %>
    pub <%= f.ident %>: <%= f.rust_field_type %>,
<% endfor %>
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
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
    /// The id of this record's element on every page, in every stream: `<%= r.singular %>_42`.
    pub fn dom_id(&self) -> String {
        turbo::dom_id(self)
    }

<% if p %>
    /// Where a <%= p.human | lower %>'s <%= r.human_plural | lower %> are listed and created.
    pub fn collection_path(<%= p.column %>: i64) -> String {
<%= rs_stmt(8, 'format!("/' ~ p.kebab_plural ~ '/{' ~ p.column ~ '}/' ~ r.kebab_plural ~ '")') %>
    }

    /// The lazy frame that counts a <%= p.human | lower %>'s <%= r.human_plural | lower %>.
    pub fn summary_path(<%= p.column %>: i64) -> String {
        let collection = Self::collection_path(<%= p.column %>);
        format!("{collection}/summary")
    }

    pub fn path(&self) -> String {
<%= rs_stmt(8, "let collection = Self::collection_path(self." ~ p.column ~ ");") %>
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
<%= rs_stmt(8, 'format!("/' ~ r.kebab_plural ~ '/{}", self.id)') %>
    }
<% endif %>

    pub fn edit_path(&self) -> String {
        format!("{}/edit", self.path())
    }

<% if p %>
    /// Every <%= r.human | lower %> of one <%= p.human | lower %>, <% if r.insert == "prepend" %>newest<% else %>oldest<% endif %> first.
<%= rs_fn(4, "pub async fn for_" ~ p.singular, ["db: &" ~ pool, p.column ~ ": i64"], " -> sqlx::Result<Vec<Self>> {") %>
<% set root = rs_call(8, "", "sqlx::query_as", ['"SELECT ' ~ (r.select | rust_str) ~ ' FROM ' ~ (r.plural | rust_str) ~ ' WHERE ' ~ (p.column | rust_str) ~ ' = ' ~ param(1) ~ ' ORDER BY ' ~ order ~ '"'], "") %>
<% set chain = "        " if "\n" in root else "            " %>
<%= root %>
<%= chain %>.bind(<%= p.column %>)
<%= chain %>.fetch_all(db)
<%= chain %>.await
    }

<% endif %>
    /// Every <%= r.human | lower %>, <% if r.insert == "prepend" %>newest<% else %>oldest<% endif %> first.
    pub async fn all(db: &<%= pool %>) -> sqlx::Result<Vec<Self>> {
<% set root = rs_call(8, "", "sqlx::query_as", ['"SELECT ' ~ (r.select | rust_str) ~ ' FROM ' ~ (r.plural | rust_str) ~ ' ORDER BY ' ~ order ~ '"'], "") %>
<% set chain = "        " if "\n" in root else "            " %>
<%= root %>
<%= chain %>.fetch_all(db)
<%= chain %>.await
    }

<% if p %>
    /// How many <%= r.human_plural | lower %> one <%= p.human | lower %> has.
<%= rs_fn(4, "pub async fn count_for_" ~ p.singular, ["db: &" ~ pool, p.column ~ ": i64"], " -> sqlx::Result<i64> {") %>
<% set root = rs_call(8, "", "sqlx::query_scalar", ['"SELECT COUNT(*) FROM ' ~ (r.plural | rust_str) ~ ' WHERE ' ~ (p.column | rust_str) ~ ' = ' ~ param(1) ~ '"'], "") %>
<% set chain = "        " if "\n" in root else "            " %>
<%= root %>
<%= chain %>.bind(<%= p.column %>)
<%= chain %>.fetch_one(db)
<%= chain %>.await
    }
<% else %>
    /// How many <%= r.human_plural | lower %> there are.
    pub async fn count(db: &<%= pool %>) -> sqlx::Result<i64> {
<% set root = rs_call(8, "", "sqlx::query_scalar", ['"SELECT COUNT(*) FROM ' ~ (r.plural | rust_str) ~ '"'], "") %>
<% set chain = "        " if "\n" in root else "            " %>
<%= root %>
<%= chain %>.fetch_one(db)
<%= chain %>.await
    }
<% endif %>

    /// The <%= r.human | lower %> with this id, or `RowNotFound`.
    pub async fn find(db: &<%= pool %>, id: i64) -> sqlx::Result<Self> {
<% set root = rs_call(8, "", "sqlx::query_as", ['"SELECT ' ~ (r.select | rust_str) ~ ' FROM ' ~ (r.plural | rust_str) ~ ' WHERE id = ' ~ param(1) ~ '"'], "") %>
<% set chain = "        " if "\n" in root else "            " %>
<%= root %>
<%= chain %>.bind(id)
<%= chain %>.fetch_one(db)
<%= chain %>.await
    }

<%= rs_fn(4, "pub async fn create", ["db: &" ~ pool] + ([p.column ~ ": i64"] if p else []) + [params_name ~ ": &" ~ r.camel ~ "Params"], " -> sqlx::Result<Self> {") %>
        sqlx::query_as(
            "INSERT INTO <%= r.plural | rust_str %> (<%= columns | join(", ") | rust_str %>) \
             VALUES (<% for c in casts %><%= param(loop.index) %><%= c %><% if not loop.last %>, <% endif %><% endfor %>) RETURNING <%= r.select | rust_str %>",
        )
<% if r.optimistic %>
        .bind(&params.client_id)
<% endif %>
<% if p %>
        .bind(<%= p.column %>)
<% endif %>
<% for f in editable %>
        .bind(<%= bound(f) %>)
<% endfor %>
        .fetch_one(db)
        .await
    }

<%= rs_fn(4, "pub async fn update", ["&self", "db: &" ~ pool, params_name ~ ": &" ~ r.camel ~ "Params"], " -> sqlx::Result<Self> {") %>
        sqlx::query_as(
            "UPDATE <%= r.plural | rust_str %> SET <% for f in editable %><%= f.sql_name | rust_str %> = <%= param(loop.index) %><%= f.write_cast %>, <% endfor %>updated_at = CURRENT_TIMESTAMP \
             WHERE id = <%= param(editable | length + 1) %> RETURNING <%= r.select | rust_str %>",
        )
<% for f in editable %>
        .bind(<%= bound(f) %>)
<% endfor %>
        .bind(self.id)
        .fetch_one(db)
        .await
    }

    pub async fn destroy(&self, db: &<%= pool %>) -> sqlx::Result<()> {
<% set root = rs_call(8, "", "sqlx::query", ['"DELETE FROM ' ~ (r.plural | rust_str) ~ ' WHERE id = ' ~ param(1) ~ '"'], "") %>
<% set chain = "        " if "\n" in root else "            " %>
<%= root %>
<%= chain %>.bind(self.id)
<%= chain %>.execute(db)
<%= chain %>.await?;
        Ok(())
    }
}

/// The form as the browser sends it: text until `validate` turns it into typed values.
#[derive(Debug, Clone, Default, Deserialize)]
<% if not (editable or r.optimistic) %>
pub struct <%= r.camel %>Form {}
<% else %>
pub struct <%= r.camel %>Form {
<% if r.optimistic %>
    #[serde(default)]
    pub client_id: String,
<% endif %>
<% for f in editable %>
<% if f.type == "boolean" %>
    /// A checkbox sends its value only when checked.
    #[serde(default)]
    pub <%= f.ident %>: Option<String>,
<% else %>
    #[serde(default)]
    pub <%= f.ident %>: String,
<% endif %>
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
<%= rs_fn(4, "pub fn from_record", [("" if (editable or r.optimistic) else "_") ~ s ~ ": &" ~ r.camel], " -> Self {") %>
<% set ns = namespace(values=(["client_id: " ~ s ~ ".client_id.clone()"] if r.optimistic else [])) %>
<% for f in editable %>
<% if f.type == "boolean" and f.optional %>
<% set ns.values = ns.values + [f.ident ~ ": forms::checkbox(" ~ s ~ "." ~ f.ident ~ " == Some(true))"] %>
<% elif f.type == "boolean" %>
<% set ns.values = ns.values + [f.ident ~ ": forms::checkbox(" ~ s ~ "." ~ f.ident ~ ")"] %>
<% else %>
<% set ns.values = ns.values + [f.ident ~ ": " ~ s ~ "." ~ f.ident ~ ".form_value()"] %>
<% endif %>
<% endfor %>
<% if ns.values %>
<%= rs_struct(8, "", r.camel ~ "Form", ns.values, "") %>
<% else %>
        Self::default()
<% endif %>
    }

    /// Checks every field, collecting each problem next to the field it belongs to.
<%= rs_fn(4, "pub fn validate", ["&self"], " -> Result<" ~ r.camel ~ "Params, FieldErrors> {") %>
<% if guarded %>
        let mut errors = FieldErrors::default();
<% endif %>
<% if r.optimistic %>
<%= rs_call(8, "let client_id = ", "errors.required", ['"client_id"', "&self.client_id", "forms::parse::<uuid::Uuid>", '"is not a UUID"'], ";") %>
<% endif %>
<% for f in checked %>
<%= rs_call(8, "let " ~ f.ident ~ " = ", "errors." ~ ("optional" if f.optional else "required"), ['"' ~ f.name ~ '"', "&self." ~ f.ident, parser(f), '"' ~ invalid(f) ~ '"'], ";") %>
<% endfor %>
<% for g in guarded %>
<%= rs_stmt(8, "let Some(" ~ g ~ ") = " ~ g ~ " else { return Err(errors); };") %>
<% endfor %>
<% set ns = namespace(fields=(["client_id: client_id.to_string()"] if r.optimistic else [])) %>
<% for f in editable %>
<% if f.type == "boolean" and f.optional %>
<% set ns.fields = ns.fields + [f.ident ~ ": Some(self." ~ f.ident ~ ".is_some())"] %>
<% elif f.type == "boolean" %>
<% set ns.fields = ns.fields + [f.ident ~ ": self." ~ f.ident ~ ".is_some()"] %>
<% else %>
<% set ns.fields = ns.fields + [f.ident] %>
<% endif %>
<% endfor %>
<%= rs_struct(8, "Ok(", r.camel ~ "Params", ns.fields, ")") %>
    }
}
