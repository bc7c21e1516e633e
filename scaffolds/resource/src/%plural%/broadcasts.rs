<% set r = resource %>
<% set p = resource.parent %>
<% set s = r.singular %>
<%# The parameters every broadcast takes: the broadcaster, the parent when nested, the record. %>
<% set scope = ["broadcaster: &Broadcaster"] + ([p.singular ~ ": &" ~ p.camel] if p else []) %>
<% set params = scope + [s ~ ": &" ~ r.camel] %>
<% set parent_arg = p.singular if p else "" %>
<% set create_args = ([p.singular] if p else []) + [s] %>
<% if r.refresh %>
//! Live updates for <%= r.human_plural | lower %>: each change sends every subscribed page one `refresh`, and each
//! page morphs itself to what it would render now. Handlers call these explicitly, never a
//! database hook, so seeds and imports do not broadcast. The refresh names the request that made
//! the change, so the page that made it, which its reply already updated, ignores it.
<% else %>
//! Live updates for <%= r.human_plural | lower %>: the same Turbo Streams the HTTP replies carry, pushed to every
//! subscribed page. Handlers call these explicitly, never a database hook, so seeds and imports
//! do not broadcast. Each broadcast renders its markup once; the broadcaster fans the same bytes
//! out to every subscriber on every instance.
<% endif %>

use askama::Template;

use super::model::<%= r.camel %>;
<%# rustfmt sorts these, and the parent's module may sort anywhere among them. %>
<% set uses = ["use crate::turbo::{self, Broadcaster, TurboStream};"] + (["use crate::" ~ p.plural ~ "::" ~ p.camel ~ ";"] if p else []) %>
<% for line in uses | rs_sort_uses %>
<%= line %>
<% endfor %>

/// One <%= r.human | lower %>'s markup: `templates/<%= r.plural %>/_<%= s %>.html`, the only markup there is for it.
#[derive(Template)]
<%= rs_attr(0, '#[template(path = "' ~ r.plural ~ '/_' ~ s ~ '.html")]') %>
pub struct <%= r.camel %>Partial<'a> {
<%= rs_field(4, "pub " ~ s ~ ":", "&'a " ~ r.camel) %>
}

<% if p %>
/// The stream that pages listing a <%= p.human | lower %>'s <%= r.human_plural | lower %> follow: `<%= p.singular %>:7:<%= r.plural %>`.
<%= rs_fn(0, "pub fn stream_name", [p.singular ~ ": &" ~ p.camel], " -> String {") %>
<%= rs_stmt(4, "turbo::nested_stream_name::<" ~ r.camel ~ ", " ~ p.camel ~ ">(" ~ p.singular ~ ")") %>
}

/// The id of the element listing a <%= p.human | lower %>'s <%= r.human_plural | lower %>: `<%= r.plural %>_<%= p.singular %>_7`.
<%= rs_fn(0, "pub fn target", [p.singular ~ ": &" ~ p.camel], " -> String {") %>
<%= rs_stmt(4, "turbo::nested_collection_dom_id::<" ~ r.camel ~ ", " ~ p.camel ~ ">(" ~ p.singular ~ ")") %>
}

/// The id of the lazy frame that counts them: `summary_<%= r.plural %>_<%= p.singular %>_7`.
<%= rs_fn(0, "pub fn summary_id", [p.singular ~ ": &" ~ p.camel], " -> String {") %>
<%= rs_call(4, "", "turbo::nested_collection_dom_id_prefixed::<" ~ r.camel ~ ", " ~ p.camel ~ ">", ['"summary"', p.singular], "") %>
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

/// The id of the lazy frame that counts them: `summary_<%= r.plural %>`.
pub fn summary_id() -> String {
    turbo::collection_dom_id_prefixed::<<%= r.camel %>>("summary")
}
<% endif %>

<% if r.refresh %>
/// A change to <%= r.human_plural | lower %><% if p %> of this <%= p.human | lower %><% endif %>: every page following the stream refreshes, except
/// the page whose request made the change (`request_id` is its `X-Turbo-Request-Id`).
<%= rs_fn(0, "pub async fn broadcast_refresh", scope + ["request_id: Option<&str>"], " {") %>
    let stream = TurboStream::refresh(request_id);
    let name = stream_name(<%= parent_arg %>);
    broadcaster.publish(&name, stream.render()).await;
}

/// [`broadcast_refresh`] off the request path, debounced: a burst of changes from one request
/// sends one refresh.
<%= rs_fn(0, "pub fn broadcast_refresh_later", scope + ["request_id: Option<&str>"], " {") %>
    let name = stream_name(<%= parent_arg %>);
<%= rs_call(4, "", "broadcaster.publish_refresh_later", ["name", "request_id.map(str::to_owned)"], ";") %>
}
<% else %>
/// The stream that shows a new <%= r.human | lower %>: <%= r.insert %>ed to the list, through the partial.
<%= rs_fn(0, "fn created", params[1:], " -> askama::Result<TurboStream> {") %>
<%= rs_struct(4, "let partial = ", r.camel ~ "Partial", [s], ";") %>
    let html = partial.render()?;
<%= rs_stmt(4, "Ok(TurboStream::" ~ r.insert ~ "(target(" ~ parent_arg ~ "), html))") %>
}

/// The stream that shows an edited <%= r.human | lower %>: its element replaced, through the partial.
<%= rs_fn(0, "fn updated", [s ~ ": &" ~ r.camel], " -> askama::Result<TurboStream> {") %>
<%= rs_struct(4, "let partial = ", r.camel ~ "Partial", [s], ";") %>
    let html = partial.render()?;
<%= rs_stmt(4, "Ok(TurboStream::replace(" ~ s ~ ".dom_id(), html))") %>
}

/// A new <%= r.human | lower %>, <%= r.insert %>ed to the list on every page following the stream.
<%= rs_fn(0, "pub async fn broadcast_create", params, " -> askama::Result<()> {") %>
<%= rs_call(4, "let stream = ", "created", create_args, "?;") %>
    let name = stream_name(<%= parent_arg %>);
    broadcaster.publish(&name, stream.render()).await;
    Ok(())
}

/// An edited <%= r.human | lower %>, replaced on every page following the stream.
<%= rs_fn(0, "pub async fn broadcast_update", params, " -> askama::Result<()> {") %>
    let stream = updated(<%= s %>)?;
    let name = stream_name(<%= parent_arg %>);
    broadcaster.publish(&name, stream.render()).await;
    Ok(())
}

/// A deleted <%= r.human | lower %>, removed from every page following the stream.
<%= rs_fn(0, "pub async fn broadcast_destroy", params, " {") %>
    let stream = TurboStream::remove(<%= s %>.dom_id());
    let name = stream_name(<%= parent_arg %>);
    broadcaster.publish(&name, stream.render()).await;
}

/// [`broadcast_create`] off the request path: rendered now, delivered by a task of its own so
/// the request that caused it does not wait.
<%= rs_fn(0, "pub fn broadcast_create_later", params, " -> askama::Result<()> {") %>
<%= rs_call(4, "let stream = ", "created", create_args, "?;") %>
    let name = stream_name(<%= parent_arg %>);
    broadcaster.publish_later(name, stream.render());
    Ok(())
}

/// [`broadcast_update`] off the request path.
<%= rs_fn(0, "pub fn broadcast_update_later", params, " -> askama::Result<()> {") %>
    let stream = updated(<%= s %>)?;
    let name = stream_name(<%= parent_arg %>);
    broadcaster.publish_later(name, stream.render());
    Ok(())
}

/// [`broadcast_destroy`] off the request path.
<%= rs_fn(0, "pub fn broadcast_destroy_later", params, " {") %>
    let stream = TurboStream::remove(<%= s %>.dom_id());
    let name = stream_name(<%= parent_arg %>);
    broadcaster.publish_later(name, stream.render());
}
<% endif %>
