<% import "shared/rust.jinja" as rust %>
<% set s = r.singular %>
<%# The parameters every broadcast takes: the broadcaster, then the parent when nested. %>
<% macro scope() %>
broadcaster: &Broadcaster
<% if p %>
<%= p.singular %>: &<%= p.camel %>
<% elif r.owned %>
user: &User
<% endif %>
<% endmacro %>
<%# The parent, when nested, and the record: what the streams of one record are made from. %>
<% macro record() %>
<% if p %>
<%= p.singular %>: &<%= p.camel %>
<% endif %>
<%= s %>: &<%= r.camel %>
<% endmacro %>
<% set parent_arg = p.singular if p else "" %>
<%# Whose stream a change goes to: the parent's, the owner's, or the resource's own. %>
<% set stream_arg = p.singular if p else ("user" if r.owned else "") %>
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
<% call rust.uses() %>
use crate::turbo::{self, Broadcaster, TurboStream};
<% if r.owned %>
use crate::auth::User;
<% endif %>
<% if p %>
use crate::<%= p.plural %>::<%= p.camel %>;
<% endif %>
<% endcall %>

/// One <%= r.human | lower %>'s markup: `templates/<%= r.plural %>/_<%= s %>.html`, the only markup there is for it.
#[derive(Template)]
<% filter rs_attr(0) %>#[template(path = "<%= r.plural %>/_<%= s %>.html")]<% endfilter %>
pub struct <%= r.camel %>Partial<'a> {
<% filter rs_field(4) %>pub <%= s %>: &'a <%= r.camel %><% endfilter %>
}

<% if p %>
/// The stream that pages listing a <%= p.human | lower %>'s <%= r.human_plural | lower %> follow: `<%= p.singular %>:7:<%= r.plural %>`.
<% call rust.sig(0, "pub fn stream_name", " -> String {") %>
<%= p.singular %>: &<%= p.camel %>
<% endcall %>
<% filter rs_stmt(4) %>turbo::nested_stream_name::<<%= r.camel %>, <%= p.camel %>>(<%= p.singular %>)<% endfilter %>
}

/// The id of the element listing a <%= p.human | lower %>'s <%= r.human_plural | lower %>: `<%= r.plural %>_<%= p.singular %>_7`.
<% call rust.sig(0, "pub fn target", " -> String {") %>
<%= p.singular %>: &<%= p.camel %>
<% endcall %>
<% filter rs_stmt(4) %>turbo::nested_collection_dom_id::<<%= r.camel %>, <%= p.camel %>>(<%= p.singular %>)<% endfilter %>
}

/// The id of the lazy frame that counts them: `summary_<%= r.plural %>_<%= p.singular %>_7`.
<% call rust.sig(0, "pub fn summary_id", " -> String {") %>
<%= p.singular %>: &<%= p.camel %>
<% endcall %>
<%= rs_call(4, "", "turbo::nested_collection_dom_id_prefixed::<" ~ r.camel ~ ", " ~ p.camel ~ ">", ['"summary"', p.singular], "") %>
}

/// The id of the frame that holds the list, its form and its subscription on the index page,
/// and that the <%= p.human | lower %>'s own page loads lazily: `page_<%= r.plural %>_<%= p.singular %>_7`.
<% call rust.sig(0, "pub fn page_frame_id", " -> String {") %>
<%= p.singular %>: &<%= p.camel %>
<% endcall %>
<%= rs_call(4, "", "turbo::nested_collection_dom_id_prefixed::<" ~ r.camel ~ ", " ~ p.camel ~ ">", ['"page"', p.singular], "") %>
}
<% else %>
<% if r.owned %>
/// The stream that a user's pages listing their <%= r.human_plural | lower %> follow: `user:7:<%= r.plural %>`.
/// Nobody else's page is signed for it.
pub fn stream_name(user: &User) -> String {
<% filter rs_stmt(4) %>turbo::nested_stream_name::<<%= r.camel %>, User>(user)<% endfilter %>
}
<% else %>
/// The stream that pages listing <%= r.human_plural | lower %> follow: `<%= r.plural %>`.
pub fn stream_name() -> String {
    turbo::stream_name::<<%= r.camel %>>()
}
<% endif %>

/// The id of the element listing <%= r.human_plural | lower %>: `<%= r.plural %>`.
pub fn target() -> String {
    turbo::collection_dom_id::<<%= r.camel %>>()
}

/// The id of the lazy frame that counts them: `summary_<%= r.plural %>`.
pub fn summary_id() -> String {
    turbo::collection_dom_id_prefixed::<<%= r.camel %>>("summary")
}
<% endif %>

/// A deleted <%= r.human | lower %>'s nested records are gone with it: every page following the
/// stream of a resource nested under it gets a `refresh`, so it learns at once, off the request
/// path, and the stream's history is dropped, since nobody will replay it. Nested resources
/// register themselves with their routes.
<%= rs_fn(0, "pub fn broadcast_nested_gone_later", ["broadcaster: &Broadcaster", s ~ ": &" ~ r.camel], " {") %>
    for name in turbo::nested_stream_names(<%= s %>) {
        broadcaster.refresh_and_forget_later(name);
    }
}

<% if r.refresh %>
/// A change to <%= r.human_plural | lower %><% if p %> of this <%= p.human | lower %><% endif %>: every page following the stream refreshes, except
/// the page whose request made the change (`request_id` is its `X-Turbo-Request-Id`).
<% call rust.sig(0, "pub async fn broadcast_refresh", " {") %>
<%= scope() %>
request_id: Option<&str>
<% endcall %>
    let stream = TurboStream::refresh(request_id);
    let name = stream_name(<%= stream_arg %>);
    broadcaster.publish(&name, stream.render()).await;
}

/// [`broadcast_refresh`] off the request path, debounced: a burst of changes from one request
/// sends one refresh.
<% call rust.sig(0, "pub fn broadcast_refresh_later", " {") %>
<%= scope() %>
request_id: Option<&str>
<% endcall %>
    let name = stream_name(<%= stream_arg %>);
<%= rs_call(4, "", "broadcaster.publish_refresh_later", ["name", "request_id.map(str::to_owned)"], ";") %>
}
<% else %>
/// The stream that shows a new <%= r.human | lower %>: <%= r.insert %>ed to the list, through the partial.
<% call rust.sig(0, "fn created", " -> askama::Result<TurboStream> {") %>
<%= record() %>
<% endcall %>
<%= rs_struct(4, "let partial = ", r.camel ~ "Partial", [s], ";") %>
    let html = partial.render()?;
<% filter rs_stmt(4) %>Ok(TurboStream::<%= r.insert %>(target(<%= parent_arg %>), html))<% endfilter %>
}

/// The stream that shows an edited <%= r.human | lower %>: its element replaced, through the partial.
<%= rs_fn(0, "fn updated", [s ~ ": &" ~ r.camel], " -> askama::Result<TurboStream> {") %>
<%= rs_struct(4, "let partial = ", r.camel ~ "Partial", [s], ";") %>
    let html = partial.render()?;
<% filter rs_stmt(4) %>Ok(TurboStream::replace(<%= s %>.dom_id(), html))<% endfilter %>
}

/// A new <%= r.human | lower %>, <%= r.insert %>ed to the list on every page following the stream.
<% call rust.sig(0, "pub async fn broadcast_create", " -> askama::Result<()> {") %>
<%= scope() %>
<%= s %>: &<%= r.camel %>
<% endcall %>
<% call rust.call(4, "let stream = ", "created", "?;") %>
<%= parent_arg %>
<%= s %>
<% endcall %>
    let name = stream_name(<%= stream_arg %>);
    broadcaster.publish(&name, stream.render()).await;
    Ok(())
}

/// An edited <%= r.human | lower %>, replaced on every page following the stream.
<% call rust.sig(0, "pub async fn broadcast_update", " -> askama::Result<()> {") %>
<%= scope() %>
<%= s %>: &<%= r.camel %>
<% endcall %>
    let stream = updated(<%= s %>)?;
    let name = stream_name(<%= stream_arg %>);
    broadcaster.publish(&name, stream.render()).await;
    Ok(())
}

/// A deleted <%= r.human | lower %>, removed from every page following the stream.
<% call rust.sig(0, "pub async fn broadcast_destroy", " {") %>
<%= scope() %>
<%= s %>: &<%= r.camel %>
<% endcall %>
    let stream = TurboStream::remove(<%= s %>.dom_id());
    let name = stream_name(<%= stream_arg %>);
    broadcaster.publish(&name, stream.render()).await;
}

/// [`broadcast_create`] off the request path: rendered now, delivered by a task of its own so
/// the request that caused it does not wait.
<% call rust.sig(0, "pub fn broadcast_create_later", " -> askama::Result<()> {") %>
<%= scope() %>
<%= s %>: &<%= r.camel %>
<% endcall %>
<% call rust.call(4, "let stream = ", "created", "?;") %>
<%= parent_arg %>
<%= s %>
<% endcall %>
    let name = stream_name(<%= stream_arg %>);
    broadcaster.publish_later(name, stream.render());
    Ok(())
}

/// [`broadcast_update`] off the request path.
<% call rust.sig(0, "pub fn broadcast_update_later", " -> askama::Result<()> {") %>
<%= scope() %>
<%= s %>: &<%= r.camel %>
<% endcall %>
    let stream = updated(<%= s %>)?;
    let name = stream_name(<%= stream_arg %>);
    broadcaster.publish_later(name, stream.render());
    Ok(())
}

/// [`broadcast_destroy`] off the request path.
<% call rust.sig(0, "pub fn broadcast_destroy_later", " {") %>
<%= scope() %>
<%= s %>: &<%= r.camel %>
<% endcall %>
    let stream = TurboStream::remove(<%= s %>.dom_id());
    let name = stream_name(<%= stream_arg %>);
    broadcaster.publish_later(name, stream.render());
}
<% endif %>
