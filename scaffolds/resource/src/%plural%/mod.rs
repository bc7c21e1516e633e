<%# Nested resources live under their parent's path, so their URLs name the parent. %>
<% set base = ("/" ~ p.kebab_plural ~ "/{" ~ p.column ~ "}/" ~ r.kebab_plural) if p else ("/" ~ r.kebab_plural) %>
//! The <%= r.human %> resource: its model, its seven actions, its live broadcasts and its routes.

pub mod broadcasts;
mod handlers;
mod model;

use axum::Router;
<% if r.attachments %>
use axum::extract::DefaultBodyLimit;
<% endif %>
use axum::routing::get;

use crate::app::AppState;

pub use model::<%= r.camel %>;
pub use model::<%= r.camel %>Form;
pub use model::<%= r.camel %>Params;

/// The routes of <%= r.human_plural | lower %><% if p %>, nested under their <%= p.human | lower %><% endif %>.
pub fn routes() -> Router<AppState> {
<% if p %>
    // So that destroying the parent refreshes the pages that follow these records.
<% filter rs_stmt(4) %>crate::turbo::register_nested::<<%= r.camel %>, crate::<%= p.plural %>::<%= p.camel %>>();<% endfilter %>
<% endif %>
<% if r.attachments %>
<% for f in r.fields if f.references %>
<% if loop.first %>
    // Destroying a record these belong to deletes them in the database, and their files are
    // purged then.
<% endif %>
<% filter rs_stmt(4) %>crate::turbo::cascade::on_destroy::<crate::<%= f.references.plural %>::<%= f.references.camel %>, _>(crate::blobs::sweep_later);<% endfilter %>
<% endfor %>
<% if r.signed_in %>
    // Only signed-in users see these records, so only they are served their files.
<% filter rs_stmt(4) %>crate::blobs::require_sign_in(<%= r.camel %>::TABLE);<% endfilter %>
<% endif %>
    // A form with files may be as large as the upload limit allows, and more: the limit of the
    // upload itself is the one that answers, with 413, and stores nothing. An URL-encoded form
    // sent here is still held to the limit of every other form (`blobs::read_form`).
    let limits = crate::blobs::files().limits;
    let limit = DefaultBodyLimit::max(crate::turbo::storage::upload_body_limit(limits));
    let collection = get(handlers::index).post(handlers::create).layer(limit);
    // A multipart form cannot carry `_method` for the override, which reads URL-encoded bodies
    // only, so the edit form's POST to the record is its update.
    let member = get(handlers::show)
        .post(handlers::update)
        .patch(handlers::update)
        .put(handlers::update)
        .delete(handlers::destroy)
        .layer(limit);
<% else %>
    let collection = get(handlers::index).post(handlers::create);
    let member = get(handlers::show)
        .patch(handlers::update)
        .put(handlers::update)
        .delete(handlers::destroy);
<% endif %>
    Router::new()
<%= rs_call(8, "", ".route", ['"' ~ base ~ '"', "collection"], "") %>
<%= rs_call(8, "", ".route", ['"' ~ base ~ '/new"', "get(handlers::new)"], "") %>
<%= rs_call(8, "", ".route", ['"' ~ base ~ '/summary"', "get(handlers::summary)"], "") %>
<%= rs_call(8, "", ".route", ['"' ~ base ~ '/{id}"', "member"], "") %>
<%= rs_call(8, "", ".route", ['"' ~ base ~ '/{id}/edit"', "get(handlers::edit)"], "") %>
}
