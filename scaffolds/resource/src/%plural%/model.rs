<% set r = resource %>
<% set p = resource.parent %>
<%# The Rust expression that parses a trimmed, non-empty form value `s` of field `f`. %>
<% macro parse(f) %><% if f.type in ["string", "text"] %>|s| Some(s.to_owned())<% elif f.type == "integer" %>|s| s.parse::<i32>().ok()<% elif f.type in ["bigint", "references"] %>|s| s.parse::<i64>().ok()<% elif f.type == "float" %>|s| s.parse::<f64>().ok().filter(|v| v.is_finite())<% elif f.type == "decimal" %>crate::turbo::forms::decimal<% elif f.type == "date" %>|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()<% elif f.type == "datetime" %>|s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").ok().map(|t| t.and_utc())<% elif f.type == "uuid" %>|s| uuid::Uuid::parse_str(s).ok()<% elif f.type == "json" %>|s| serde_json::from_str(s).ok().map(sqlx::types::Json)<% endif %><% endmacro %>
<% macro invalid(f) %><% if f.type in ["string", "text"] %>can't be blank<% elif f.type in ["integer", "bigint", "references"] %>is not a whole number<% elif f.type in ["float", "decimal"] %>is not a number<% elif f.type == "date" %>is not a date<% elif f.type == "datetime" %>is not a date and time<% elif f.type == "uuid" %>is not a UUID<% elif f.type == "json" %>is not valid JSON<% endif %><% endmacro %>
<%# How a stored value `v` of field `f` is written back into a form input. %>
<% macro to_input(f, v) %><% if f.type in ["string", "text", "decimal"] %><%= v %>.clone()<% elif f.type == "date" %><%= v %>.format("%Y-%m-%d").to_string()<% elif f.type == "datetime" %><%= v %>.format("%Y-%m-%dT%H:%M").to_string()<% elif f.type == "json" %><%= v %>.0.to_string()<% else %><%= v %>.to_string()<% endif %><% endmacro %>
<% set editable = r.fields | rejectattr("name", "equalto", p.column if p else "") | list %>
<%# Prepended records are listed newest first, so the page order matches the live order. %>
<% set order = "id DESC" if r.insert == "prepend" else "id" %>
<% set checked = editable | rejectattr("type", "equalto", "boolean") | list %>
//! The <%= r.human %> model: the row, the form that edits it, its validation and its queries.

use serde::Deserialize;
use sqlx::SqlitePool;

use crate::turbo::forms::FieldErrors;
use crate::turbo::{self, DomId};

/// One row of the `<%= r.plural %>` table.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
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
    /// Where a <%= p.human %>'s <%= r.human_plural | lower %> are listed and created.
    pub fn collection_path(<%= p.column %>: i64) -> String {
        format!("/<%= p.kebab_plural %>/{<%= p.column %>}/<%= r.kebab_plural %>")
    }

    pub fn path(&self) -> String {
        format!("{}/{}", Self::collection_path(self.<%= p.column %>), self.id)
    }
<% else %>
    /// Where <%= r.human_plural | lower %> are listed and created.
    pub fn collection_path() -> String {
        "/<%= r.kebab_plural %>".to_owned()
    }

    pub fn path(&self) -> String {
        format!("/<%= r.kebab_plural %>/{}", self.id)
    }
<% endif %>

    pub fn edit_path(&self) -> String {
        format!("{}/edit", self.path())
    }

<% if p %>
    /// Every <%= r.human | lower %> of one <%= p.human | lower %>, oldest first.
    pub async fn for_<%= p.singular %>(db: &SqlitePool, <%= p.column %>: i64) -> sqlx::Result<Vec<Self>> {
        sqlx::query_as("SELECT * FROM <%= r.plural %> WHERE <%= p.column %> = ? ORDER BY <%= order %>")
            .bind(<%= p.column %>)
            .fetch_all(db)
            .await
    }

<% endif %>
    /// Every <%= r.human | lower %>, oldest first.
    pub async fn all(db: &SqlitePool) -> sqlx::Result<Vec<Self>> {
        sqlx::query_as("SELECT * FROM <%= r.plural %> ORDER BY <%= order %>")
            .fetch_all(db)
            .await
    }

    /// The <%= r.human | lower %> with this id, or `RowNotFound`.
    pub async fn find(db: &SqlitePool, id: i64) -> sqlx::Result<Self> {
        sqlx::query_as("SELECT * FROM <%= r.plural %> WHERE id = ?")
            .bind(id)
            .fetch_one(db)
            .await
    }

    pub async fn create(db: &SqlitePool, <% if p %><%= p.column %>: i64, <% endif %>params: &<%= r.camel %>Params) -> sqlx::Result<Self> {
        sqlx::query_as(
            "INSERT INTO <%= r.plural %> (<% if r.optimistic %>client_id, <% endif %><% if p %><%= p.column %>, <% endif %><%= editable | map(attribute="sql_name") | join(", ") | rust_str %>) \
             VALUES (<% if r.optimistic %>?, <% endif %><% if p %>?, <% endif %><% for f in editable %>?<% if not loop.last %>, <% endif %><% endfor %>) RETURNING *",
        )
<% if r.optimistic %>
        .bind(&params.client_id)
<% endif %>
<% if p %>
        .bind(<%= p.column %>)
<% endif %>
<% for f in editable %>
        .bind(&params.<%= f.ident %>)
<% endfor %>
        .fetch_one(db)
        .await
    }

    pub async fn update(&self, db: &SqlitePool, params: &<%= r.camel %>Params) -> sqlx::Result<Self> {
        sqlx::query_as(
            "UPDATE <%= r.plural %> SET <% for f in editable %><%= f.sql_name | rust_str %> = ?, <% endfor %>updated_at = CURRENT_TIMESTAMP \
             WHERE id = ? RETURNING *",
        )
<% for f in editable %>
        .bind(&params.<%= f.ident %>)
<% endfor %>
        .bind(self.id)
        .fetch_one(db)
        .await
    }

    pub async fn destroy(&self, db: &SqlitePool) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM <%= r.plural %> WHERE id = ?")
            .bind(self.id)
            .execute(db)
            .await?;
        Ok(())
    }
}

/// The form as the browser sends it: text until `validate` turns it into typed values.
#[derive(Debug, Clone, Default, Deserialize)]
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

/// Validated values, ready to save.
#[derive(Debug, Clone, PartialEq)]
pub struct <%= r.camel %>Params {
<% if r.optimistic %>
    pub client_id: String,
<% endif %>
<% for f in editable %>
    pub <%= f.ident %>: <%= f.rust_field_type %>,
<% endfor %>
}

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

    /// The form that edits an existing record.
    pub fn from_record(<%= r.singular %>: &<%= r.camel %>) -> Self {
        <%= r.camel %>Form {
<% if r.optimistic %>
            client_id: <%= r.singular %>.client_id.clone(),
<% endif %>
<% for f in editable %>
<% if f.type == "boolean" and f.optional %>
            <%= f.ident %>: <%= r.singular %>.<%= f.ident %>.filter(|checked| *checked).map(|_| "1".to_owned()),
<% elif f.type == "boolean" %>
            <%= f.ident %>: <%= r.singular %>.<%= f.ident %>.then(|| "1".to_owned()),
<% elif f.optional and f.type in ["string", "text", "decimal"] %>
            <%= f.ident %>: <%= r.singular %>.<%= f.ident %>.clone().unwrap_or_default(),
<% elif f.optional %>
            <%= f.ident %>: <%= r.singular %>.<%= f.ident %>.as_ref().map(|v| <%= to_input(f, "v") %>).unwrap_or_default(),
<% else %>
            <%= f.ident %>: <%= to_input(f, r.singular ~ "." ~ f.ident) %>,
<% endif %>
<% endfor %>
        }
    }

    /// Checks every field, collecting each problem next to the field it belongs to.
    pub fn validate(&self) -> Result<<%= r.camel %>Params, FieldErrors> {
<% if checked or r.optimistic %>
        let mut errors = FieldErrors::default();
<% endif %>
<% if r.optimistic %>
        let client_id = errors.required("client_id", &self.client_id, |s| uuid::Uuid::parse_str(s).ok().map(|_| s.to_owned()), "is not a UUID");
<% endif %>
<% for f in checked %>
<% if f.optional %>
        let <%= f.ident %> = errors.optional("<%= f.name %>", &self.<%= f.ident %>, <%= parse(f) %>, "<%= invalid(f) %>");
<% else %>
        let <%= f.ident %> = errors.required("<%= f.name %>", &self.<%= f.ident %>, <%= parse(f) %>, "<%= invalid(f) %>");
<% endif %>
<% endfor %>
<% set guarded = (["client_id"] if r.optimistic else []) + (checked | map(attribute="ident") | list) %>
<% if guarded | length == 1 %>
        let Some(<%= guarded[0] %>) = <%= guarded[0] %> else {
            return Err(errors);
        };
<% elif guarded | length > 1 %>
        let (<% for g in guarded %>Some(<%= g %>)<% if not loop.last %>, <% endif %><% endfor %>) = (<%= guarded | join(", ") %>) else {
            return Err(errors);
        };
<% endif %>
        Ok(<%= r.camel %>Params {
<% if r.optimistic %>
            client_id,
<% endif %>
<% for f in editable %>
<% if f.type == "boolean" and f.optional %>
            <%= f.ident %>: Some(self.<%= f.ident %>.is_some()),
<% elif f.type == "boolean" %>
            <%= f.ident %>: self.<%= f.ident %>.is_some(),
<% else %>
            <%= f.ident %>,
<% endif %>
<% endfor %>
        })
    }
}
