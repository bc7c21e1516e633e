<% set r = resource %>
<% set p = resource.parent %>
//! The <%= r.human %> resource: its model, its seven actions, its live broadcasts and its routes.

mod broadcasts;
mod handlers;
mod model;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

pub use broadcasts::{
    <%= r.camel %>Partial, broadcast_create, broadcast_create_later, broadcast_destroy,
    broadcast_destroy_later, broadcast_update, broadcast_update_later, stream_name, target,
};
pub use model::{<%= r.camel %>, <%= r.camel %>Form, <%= r.camel %>Params};

<%# Nested resources live under their parent's path, so their URLs name the parent. %>
<% set base = ("/" ~ p.kebab_plural ~ "/{" ~ p.column ~ "}/" ~ r.kebab_plural) if p else ("/" ~ r.kebab_plural) %>
/// The routes of <%= r.human_plural | lower %><% if p %>, nested under their <%= p.human | lower %><% endif %>.
pub fn routes() -> Router<AppState> {
    let collection = get(handlers::index).post(handlers::create);
    let member = get(handlers::show)
        .patch(handlers::update)
        .put(handlers::update)
        .delete(handlers::destroy);
    Router::new()
        .route("<%= base %>", collection)
        .route("<%= base %>/new", get(handlers::new))
        .route("<%= base %>/{id}", member)
        .route("<%= base %>/{id}/edit", get(handlers::edit))
}
