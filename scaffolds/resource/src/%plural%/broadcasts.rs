<% set r = resource %>
<% set p = resource.parent %>
<% set s = r.singular %>
<%# The parameters every broadcast takes before the record: the broadcaster and, when nested, the parent. %>
<% set scope = ("broadcaster: &Broadcaster, " ~ p.singular ~ ": &" ~ p.camel ~ ", ") if p else "broadcaster: &Broadcaster, " %>
<% set scope_args = ("broadcaster, " ~ p.singular ~ ", ") if p else "broadcaster, " %>
<% set stream_arg = p.singular if p else "" %>
//! Live updates for <%= r.human_plural | lower %>: the same Turbo Streams the HTTP replies carry, pushed to every
//! subscribed page. Handlers call these explicitly, never a database hook, so seeds and imports
//! do not broadcast. Each broadcast renders its markup once; the broadcaster fans the same bytes
//! out to every subscriber on every instance.

use askama::Template;

use super::model::<%= r.camel %>;
<% if p %>
use crate::<%= p.plural %>::<%= p.camel %>;
<% endif %>
use crate::turbo::{self, Broadcaster, TurboStream};

/// One <%= r.human | lower %>'s markup: `templates/<%= r.plural %>/_<%= s %>.html`, the only markup there is for it.
#[derive(Template)]
#[template(path = "<%= r.plural %>/_<%= s %>.html")]
pub struct <%= r.camel %>Partial<'a> {
    pub <%= s %>: &'a <%= r.camel %>,
}

<% if p %>
/// The stream that pages listing a <%= p.human | lower %>'s <%= r.human_plural | lower %> follow: `<%= p.singular %>:7:<%= r.plural %>`.
pub fn stream_name(<%= p.singular %>: &<%= p.camel %>) -> String {
    turbo::nested_stream_name::<<%= r.camel %>, <%= p.camel %>>(<%= p.singular %>)
}

/// The id of the element listing a <%= p.human | lower %>'s <%= r.human_plural | lower %>: `<%= r.plural %>_<%= p.singular %>_7`.
pub fn target(<%= p.singular %>: &<%= p.camel %>) -> String {
    turbo::nested_collection_dom_id::<<%= r.camel %>, <%= p.camel %>>(<%= p.singular %>)
}
<% else %>
/// The stream that pages listing <%= r.human_plural | lower %> follow: `<%= r.plural %>`.
pub fn stream_name() -> String {
    turbo::stream_name::<<%= r.camel %>>()
}

/// The id of the element listing <%= r.human_plural | lower %>: `<%= r.plural %>`.
pub fn target() -> String {
    turbo::collection_dom_id::<<%= r.camel %>>()
}
<% endif %>

/// A new <%= r.human | lower %>: <%= r.insert %>ed to the list on every page following the stream.
pub async fn broadcast_create(<%= scope %><%= s %>: &<%= r.camel %>) -> askama::Result<()> {
    let html = <%= r.camel %>Partial { <%= s %> }.render()?;
    let stream = TurboStream::<%= r.insert %>(target(<%= stream_arg %>), html);
    broadcaster.publish(&stream_name(<%= stream_arg %>), stream.render()).await;
    Ok(())
}

/// An edited <%= r.human | lower %>: its element is replaced on every page following the stream.
pub async fn broadcast_update(<%= scope %><%= s %>: &<%= r.camel %>) -> askama::Result<()> {
    let html = <%= r.camel %>Partial { <%= s %> }.render()?;
    let stream = TurboStream::replace(<%= s %>.dom_id(), html);
    broadcaster.publish(&stream_name(<%= stream_arg %>), stream.render()).await;
    Ok(())
}

/// A deleted <%= r.human | lower %>: its element is removed from every page following the stream.
pub async fn broadcast_destroy(<%= scope %><%= s %>: &<%= r.camel %>) {
    let stream = TurboStream::remove(<%= s %>.dom_id());
    broadcaster.publish(&stream_name(<%= stream_arg %>), stream.render()).await;
}

<% for action in ["create", "update", "destroy"] %>
/// `broadcast_<%= action %>` in a task of its own, so the request that caused it does not wait.
pub fn broadcast_<%= action %>_later(<%= scope %><%= s %>: &<%= r.camel %>) {
    let broadcaster = broadcaster.clone();
<% if p %>
    let <%= p.singular %> = <%= p.singular %>.clone();
<% endif %>
    let <%= s %> = <%= s %>.clone();
    tokio::spawn(async move {
<% if action == "destroy" %>
        broadcast_destroy(&broadcaster, <% if p %>&<%= p.singular %>, <% endif %>&<%= s %>).await;
<% else %>
        if let Err(error) = broadcast_<%= action %>(&broadcaster, <% if p %>&<%= p.singular %>, <% endif %>&<%= s %>).await {
            tracing::error!(%error, "cannot render the <%= r.human | lower %> partial for a broadcast");
        }
<% endif %>
    });
}
<% if not loop.last %>

<% endif %>
<% endfor %>
