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

<% if p %>
/// The routes of <%= r.human_plural | lower %>, nested under their <%= p.human | lower %>.
pub fn routes() -> Router<AppState> {
    let collection = get(handlers::index).post(handlers::create);
    let member = get(handlers::show)
        .patch(handlers::update)
        .put(handlers::update)
        .delete(handlers::destroy);
    Router::new()
        .route("/<%= p.kebab_plural %>/{<%= p.column %>}/<%= r.kebab_plural %>", collection)
        .route("/<%= p.kebab_plural %>/{<%= p.column %>}/<%= r.kebab_plural %>/new", get(handlers::new))
        .route("/<%= p.kebab_plural %>/{<%= p.column %>}/<%= r.kebab_plural %>/{id}", member)
        .route("/<%= p.kebab_plural %>/{<%= p.column %>}/<%= r.kebab_plural %>/{id}/edit", get(handlers::edit))
}
<% else %>
/// The routes of <%= r.human_plural | lower %>.
pub fn routes() -> Router<AppState> {
    let collection = get(handlers::index).post(handlers::create);
    let member = get(handlers::show)
        .patch(handlers::update)
        .put(handlers::update)
        .delete(handlers::destroy);
    Router::new()
        .route("/<%= r.kebab_plural %>", collection)
        .route("/<%= r.kebab_plural %>/new", get(handlers::new))
        .route("/<%= r.kebab_plural %>/{id}", member)
        .route("/<%= r.kebab_plural %>/{id}/edit", get(handlers::edit))
}
<% endif %>
