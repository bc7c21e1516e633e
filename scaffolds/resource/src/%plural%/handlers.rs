<% import "shared/rust.jinja" as rust %>
<% set s = r.singular %>
<% set form_t = "FormView<" ~ r.camel ~ "Form>" %>
<% set returns = " -> Result<Response, AppError> {" %>
<%# What the handlers extract from the path: the collection's, and a record's in it. %>
<%# Whether the queries of an action take the signed-in user: the records are the user's, or the parent is. %>
<% set queries_user = r.owned or (p and p.owned) %>
<%# Whether a create or an update takes the signed-in user: its queries do, or the lookups of its references. %>
<% set writes_user = queries_user or r.checks_user %>
<%# What the lookups of the references are passed before the form. %>
<% set check_args = ["&app", "&current"] if r.checks_user else ["&app"] %>
<%# The signed-in user, which a signed-in resource's every action asks for, by name where it is used. %>
<% macro user_param(uses_user) %>
<% if r.signed_in %>
<% if uses_user %>current<% else %>_signed_in<% endif %>: CurrentUser
<% endif %>
<% endmacro %>
<% macro collection_params(uses_user) %>
State(app): State<AppState>
<% if p %>
Path(<%= p.column %>): Path<i64>
<% endif %>
<%= user_param(uses_user) %>
<% endmacro %>
<% macro member_params(uses_user) %>
State(app): State<AppState>
<% if p %>
Path((<%= p.column %>, id)): Path<(i64, i64)>
<% else %>
Path(id): Path<i64>
<% endif %>
<%= user_param(uses_user) %>
<% endmacro %>
<%# How the handlers pass the parent on once it is loaded: by reference, and by id. %>
<% set parent_ref = ("&" ~ p.singular) if p else "" %>
<% set parent_id = (p.singular ~ ".id") if p else "" %>
<%# Whose stream the list follows and changes go to: the parent's, the signed-in user's, or the resource's. %>
<% set owner_ref = parent_ref if p else ("&current.user" if r.owned else "") %>
<%# The queries' first arguments: the pool, and the user whose records they are. %>
<% set db_args = ["&app.db", "&current.user"] if r.owned else ["&app.db"] %>
<% macro load_parent() %><%= rs_await(4, "let " ~ p.singular ~ " = ", p.camel ~ "::find", (["&app.db", "&current.user"] if p.owned else ["&app.db"]) + [p.column], "?;") %><% endmacro %>
<%# Loads the record a member action is about, and, when nested, checks it is the parent's. %>
<% macro load_record() %>
<% if p %>
<%= load_parent() %>
<% endif %>
<%= load_member() %>
<% endmacro %>
<%# Loads the record once its parent, if any, is loaded, and checks it is the parent's. %>
<% macro load_member() %>
<%= rs_await(4, "let " ~ ("mut " if r.attachments else "") ~ s ~ " = ", r.camel ~ "::find", db_args + ["id"], "?;") %>
<% if p %>
<% filter rs_if(4) %><%= s %>.<%= p.column %> != <%= p.singular %>.id<% endfilter %>
        return Err(AppError::NotFound);
    }
<% endif %>
<% if r.attachments %>
<%= load_files(4, "std::slice::from_mut(&mut " ~ s ~ ")") %>
<% endif %>
<% endmacro %>
<%# The page's subscription, from the stream's position when the page was read; a signed-in
    resource's is bound to the session, so it works in this browser alone, while it is signed in. %>
<% macro stream_source() %>
<% if r.signed_in %>
<% filter rs_init(8) %>stream_source: app.signer.stream_source_tag_for_since(&stream_name, &current.session.id.to_string(), position.as_deref())<% endfilter %>
<% else %>
<% filter rs_init(8) %>stream_source: app.signer.stream_source_tag_since(&stream_name, position.as_deref())<% endfilter %>
<% endif %>
<% endmacro %>
<%# Loads the files of the records in `target` (a slice), when the resource has any. %>
<% macro load_files(indent, target) %><%= rs_await(indent, "", r.camel ~ "::load_files", [target, "&app.db", "app.config.secret_key_base.as_bytes()"], "?;") %><% endmacro %>
<%# Who a new file belongs to: the signed-in user whose records, or parent, these are. %>
<% set owner_id = "Some(current.user.id)" if queries_user else "None" %>
<%# Reads a form with files, multipart or URL-encoded: its files stored, its text as the form, and the files' errors. %>
<% macro read_files(updating) %>
<% call rust.await(4, "let submission = ", "blobs::read_form::<" ~ r.camel ~ "Form>", ";") %>
request
<%= r.camel %>::FILE_FIELDS
<% endcall %>
<% set adds_errors = (r.attachments | selectattr("missing") | list) and not updating %>
    let Submission {
        values: form_values,
        uploads,
<% if updating %>
        removed,
<% endif %>
<% set errors_binding = "mut errors" if adds_errors else "errors" %>
        <%= errors_binding %>,
<% if not updating %>
        ..
<% endif %>
    } = match submission {
        Ok(submission) => submission,
        Err(rejected) => return Ok(rejected.into_response()),
    };
<% endmacro %>
<%# The validated form, its errors and the files' together. %>
<% macro validated() %><% if r.attachments %>blobs::validated(form_values.validate(), errors)<% else %>form_values.validate()<% endif %><% endmacro %>
<%# Starts the `match` on the validated form; with checked references, once their records are found. %>
<% macro match_valid() %>
<% if r.checked_references and r.attachments %>
<%= rs_await(4, "let checked = ", "check_references", check_args + [validated()], ";") %>
    // A failed lookup leaves no stored file behind, as a failed save does not.
    let checked = match checked {
        Ok(checked) => checked,
        Err(error) => {
            blobs::discard(&uploads).await;
            return Err(error.into());
        }
    };
    let valid = match checked {
<% elif r.checked_references %>
<%= rs_await(4, "let checked = ", "check_references", check_args + [validated()], "?;") %>
    let valid = match checked {
<% else %>
    let valid = match <%= validated() %> {
<% endif %>
<% endmacro %>
<%# The broadcast a change sends: one refresh, or the record's own stream. %>
<% macro broadcast(action, trail) %>
<% if r.refresh %>
<% call rust.call(4, "", "broadcasts::broadcast_refresh_later", ";") %>
&app.broadcaster
<%= owner_ref %>
turbo.request_id.as_deref()
<% endcall %>
<% else %>
<% call rust.call(4, "", "broadcasts::broadcast_" ~ action ~ "_later", trail) %>
&app.broadcaster
<%= owner_ref %>
&<%= s %>
<% endcall %>
<% endif %>
<% endmacro %>
//! The seven RESTful actions of <%= r.human_plural | lower %>. A Turbo Stream request gets Turbo Streams back;
//! any other request gets a page or a 303 redirect, so every form works without JavaScript too.

use askama::Template;
use askama_web::WebTemplate;
<% if r.attachments %>
use axum::extract::{RawQuery, Request, State};
<% else %>
use axum::extract::{RawQuery, State};
<% endif %>
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::broadcasts;
<% if r.checked_references %>
<% filter rs_use(0) %>use super::model::{<%= r.camel %>, <%= r.camel %>Form, <%= r.camel %>Params};<% endfilter %>
<% else %>
<% filter rs_use(0) %>use super::model::{<%= r.camel %>, <%= r.camel %>Form};<% endfilter %>
<% endif %>
<%# rustfmt sorts these, and the parent's module may sort anywhere among them. %>
<% call rust.uses() %>
use crate::app::{AppError, AppState};
<% if r.signed_in %>
use crate::auth::CurrentUser;
<% endif %>
<% if r.attachments %>
use crate::blobs::{self, Submission};
<% endif %>
<% if r.attachments %>
use crate::extract::Path;
<% else %>
use crate::extract::{Form, Path};
<% endif %>
use crate::turbo::forms::{FieldErrors, FormView};
use crate::turbo::page::{self, Earlier};
use crate::turbo::{TurboRequest, TurboStream, TurboStreamHtml, cascade};
<% if p %>
use crate::<%= p.plural %>::<%= p.camel %>;
<% endif %>
<% for path in r.checked_uses %>
use <%= path %>;
<% endfor %>
<% endcall %>

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/index.html")]
struct IndexPage {
<% if p %>
<% filter rs_field(4) %><%= p.singular %>: <%= p.camel %><% endfilter %>
<% endif %>
    /// The newest page of the list, or the page a `?before=` link asked for.
<% filter rs_field(4) %><%= r.plural %>: Vec<<%= r.camel %>><% endfilter %>
    /// The lazy frame that loads the page before this one, when there is one.
    earlier: Option<Earlier>,
    /// The `<turbo-stream-source>` element that subscribes the page to live updates.
    stream_source: String,
    list_id: String,
    /// The lazy frame that counts the records, loaded after the page.
    summary_id: String,
    summary_path: String,
<% if p %>
    /// The frame around the list that the <%= p.human | lower %>'s page loads.
    page_frame_id: String,
<% endif %>
    form: <%= form_t %>,
}

/// A page before the first, as the lazy frame that asked for it loads it.
#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/page.html")]
struct PageFrame {
    frame_id: String,
<% filter rs_field(4) %><%= r.plural %>: Vec<<%= r.camel %>><% endfilter %>
    earlier: Option<Earlier>,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/show.html")]
struct ShowPage {
<% if p %>
<% filter rs_field(4) %><%= p.singular %>: <%= p.camel %><% endfilter %>
<% endif %>
<% filter rs_field(4) %><%= s %>: <%= r.camel %><% endfilter %>
    stream_source: String,
    /// Where "All <%= r.human_plural | lower %>" leads.
    back_path: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/new.html")]
struct NewPage {
<% if p %>
<% filter rs_field(4) %><%= p.singular %>: <%= p.camel %><% endfilter %>
<% endif %>
    form: <%= form_t %>,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/edit.html")]
struct EditPage {
<% filter rs_field(4) %><%= s %>: <%= r.camel %><% endfilter %>
    form: <%= form_t %>,
}

/// How many <%= r.human_plural | lower %> there are, in the lazy frame of the index page.
#[derive(Template)]
#[template(path = "<%= r.plural %>/_summary.html")]
struct SummaryFrame {
    summary_id: String,
    count: i64,
}

/// The form alone, to replace it in place when a Turbo submission fails validation.
#[derive(Template)]
#[template(path = "<%= r.plural %>/_form.html")]
struct FormPartial<'a> {
    form: &'a <%= form_t %>,
}

#[derive(Template)]
#[template(path = "<%= r.plural %>/create.turbo_stream.html")]
struct CreateStreams<'a> {
<% filter rs_field(4) %><%= s %>: &'a <%= r.camel %><% endfilter %>
    list_id: String,
    /// A blank form to replace the one just submitted.
    form: <%= form_t %>,
}

#[derive(Template)]
#[template(path = "<%= r.plural %>/update.turbo_stream.html")]
struct UpdateStreams<'a> {
<% filter rs_field(4) %><%= s %>: &'a <%= r.camel %><% endfilter %>
}

#[derive(Template)]
#[template(path = "<%= r.plural %>/destroy.turbo_stream.html")]
struct DestroyStreams<'a> {
<% filter rs_field(4) %><%= s %>: &'a <%= r.camel %><% endfilter %>
}

/// The form that creates a <%= r.human | lower %>.
<% call rust.sig(0, "fn new_form", " -> " ~ form_t ~ " {") %>
<% if p %>
<%= p.singular %>: &<%= p.camel %>
<% endif %>
values: <%= r.camel %>Form
errors: FieldErrors
<% endcall %>
    FormView {
        values,
        errors,
        id: crate::turbo::new_dom_id::<<%= r.camel %>>(),
<% filter rs_init(8) %>action: <%= r.camel %>::collection_path(<%= parent_id %>)<% endfilter %>
        method: None,
        submit: "Create <%= r.human | lower %>",
    }
}

/// An empty form that creates a <%= r.human | lower %>.
<% call rust.sig(0, "fn blank_form", " -> " ~ form_t ~ " {") %>
<% if p %>
<%= p.singular %>: &<%= p.camel %>
<% endif %>
<% endcall %>
<% call rust.call(4, "", "new_form", "") %>
<% if p %>
<%= p.singular %>
<% endif %>
<%= r.camel %>Form::blank()
FieldErrors::default()
<% endcall %>
}

/// The form that edits a <%= r.human | lower %>.
<% call rust.sig(0, "fn edit_form", " -> " ~ form_t ~ " {") %>
<%= s %>: &<%= r.camel %>
values: <%= r.camel %>Form
errors: FieldErrors
<% endcall %>
    FormView {
        values,
        errors,
        id: crate::turbo::dom_id_prefixed("edit", <%= s %>),
        action: <%= s %>.path(),
        method: Some("patch"),
        submit: "Update <%= r.human | lower %>",
    }
}

/// A Turbo submission that failed validation: the form, now showing its errors, replaces itself.
<% call rust.sig(0, "fn rejected", returns) %>
form: &<%= form_t %>
<% endcall %>
    let html = FormPartial { form }.render()?;
    let stream = TurboStream::replace(form.id.clone(), html);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, stream).into_response())
}

<% if r.checked_references %>
/// The validated form, once the record each of its references names is found; a record that is
/// not is an error on its field, as a value that does not parse is.
<% call rust.sig(0, "async fn check_references", " -> sqlx::Result<Result<" ~ r.camel ~ "Params, FieldErrors>> {") %>
app: &AppState
<% if r.checks_user %>
current: &CurrentUser
<% endif %>
form: Result<<%= r.camel %>Params, FieldErrors>
<% endcall %>
    let Ok(params) = form else {
        return Ok(form);
    };
    let mut errors = FieldErrors::default();
<% for c in r.checked_references %>
<% filter rs_if(4) %>!references_<%= c.target.singular %>(<%= (["app", "current"] if c.scoped else ["app"]) | join(", ") %>, params.<%= c.ident %>).await?<% endfilter %>
<% filter rs_stmt(8) %>errors.add("<%= c.name %>", "<%= c.missing %>");<% endfilter %>
    }
<% endfor %>
    Ok(if errors.is_empty() {
        Ok(params)
    } else {
        Err(errors)
    })
}

<% for c in r.checked_references %>
<% if c.through %>
/// Whether the <%= c.target.human | lower %><% if c.optional %>, if the form names one,<% endif %> is the signed-in user's, through its <%= c.through.human | lower %>.
/// Another user's is not found, as on its own page.
<% elif c.owned %>
/// Whether the <%= c.target.human | lower %><% if c.optional %>, if the form names one,<% endif %> is the signed-in user's.
/// Another user's is not found, as on its own page.
<% else %>
/// Whether the <%= c.target.human | lower %><% if c.optional %>, if the form names one,<% endif %> exists.
<% endif %>
<% call rust.sig(0, "async fn references_" ~ c.target.singular, " -> sqlx::Result<bool> {") %>
app: &AppState
<% if c.scoped %>
current: &CurrentUser
<% endif %>
<% if c.optional %>
id: Option<i64>
<% else %>
id: i64
<% endif %>
<% endcall %>
<% if c.optional %>
    // A field left empty links to nothing, which the form allows.
    let Some(id) = id else {
        return Ok(true);
    };
<% endif %>
<% if c.through %>
<%= rs_await(4, "let record = match ", c.target.camel ~ "::find", ["&app.db", "id"], " {") %>
        Ok(record) => record,
        Err(sqlx::Error::RowNotFound) => return Ok(false),
        Err(error) => return Err(error),
    };
<%= rs_await(4, "let found = ", c.through.camel ~ "::find", ["&app.db", "&current.user", "record." ~ c.through.column], ";") %>
<% elif c.owned %>
<%= rs_await(4, "let found = ", c.target.camel ~ "::find", ["&app.db", "&current.user", "id"], ";") %>
<% else %>
<%= rs_await(4, "let found = ", c.target.camel ~ "::find", ["&app.db", "id"], ";") %>
<% endif %>
    match found {
        Ok(_) => Ok(true),
        Err(sqlx::Error::RowNotFound) => Ok(false),
        Err(error) => Err(error),
    }
}

<% endfor %>
<% endif %>
/// The newest page of <%= r.human_plural | lower %>, or with `?before=<id>` the page before that record: only
/// the frame, when the lazy frame of the page after it asks.
<% call rust.sig(0, "pub async fn index", returns) %>
<%= collection_params(true) %>
RawQuery(query): RawQuery
headers: HeaderMap
<% endcall %>
    let before = page::before(query.as_deref()).map_err(|_| AppError::NotFound)?;
<% if p %>
<%= load_parent() %>
<% endif %>
    let list_id = broadcasts::target(<%= parent_ref %>);
    if let Some(before) = before
        && page::is_frame_request(&headers)
    {
<% if p %>
<%= rs_await(8, "let " ~ ("mut " if r.attachments else "") ~ "records = ", r.camel ~ "::page_for_" ~ p.singular, ["&app.db", p.singular ~ ".id", "Some(before)"], "?;") %>
<% else %>
<%= rs_await(8, "let " ~ ("mut " if r.attachments else "") ~ "records = ", r.camel ~ "::page", db_args + ["Some(before)"], "?;") %>
<% endif %>
<% if r.attachments %>
<%= load_files(8, "&mut records.records") %>
<% endif %>
        let frame = PageFrame {
            frame_id: page::frame_id(&list_id, before),
<% filter rs_init(12) %>earlier: records.earlier_frame(&list_id, &<%= r.camel %>::collection_path(<%= parent_id %>))<% endfilter %>
            <%= r.plural %>: records.records,
        };
        return Ok(frame.into_response());
    }
    // The stream's position is taken before the records are read, and the page's subscription
    // replays from it: an event published between the render and the connection still arrives.
    let stream_name = broadcasts::stream_name(<%= owner_ref %>);
    let position = app.broadcaster.position(&stream_name).await;
<% if p %>
<%= rs_await(4, "let " ~ ("mut " if r.attachments else "") ~ "records = ", r.camel ~ "::page_for_" ~ p.singular, ["&app.db", p.singular ~ ".id", "before"], "?;") %>
<% else %>
<%= rs_await(4, "let " ~ ("mut " if r.attachments else "") ~ "records = ", r.camel ~ "::page", db_args + ["before"], "?;") %>
<% endif %>
<% if r.attachments %>
<%= load_files(4, "&mut records.records") %>
<% endif %>
<% filter rs_stmt(4) %>let earlier = records.earlier_frame(&list_id, &<%= r.camel %>::collection_path(<%= parent_id %>));<% endfilter %>
    let page = IndexPage {
<%= stream_source() | trim("\n") %>
        list_id,
        summary_id: broadcasts::summary_id(<%= parent_ref %>),
<% filter rs_init(8) %>summary_path: <%= r.camel %>::summary_path(<%= parent_id %>)<% endfilter %>
<% if p %>
        page_frame_id: broadcasts::page_frame_id(<%= parent_ref %>),
<% endif %>
        form: blank_form(<%= parent_ref %>),
<% if p %>
        <%= p.singular %>,
<% endif %>
        <%= r.plural %>: records.records,
        earlier,
    };
    Ok(page.into_response())
}

/// The index page's lazy frame. It answers `304 Not Modified` while the count is unchanged, so
/// pages may reload it whenever the list changes.
<% call rust.sig(0, "pub async fn summary", returns) %>
<%= collection_params(queries_user) %>
headers: HeaderMap
<% endcall %>
<% if p %>
<%= load_parent() %>
<%= rs_await(4, "let count = ", r.camel ~ "::count_for_" ~ p.singular, ["&app.db", p.singular ~ ".id"], "?;") %>
<% else %>
<%= rs_await(4, "let count = ", r.camel ~ "::count", db_args, "?;") %>
<% endif %>
    let frame = SummaryFrame {
        summary_id: broadcasts::summary_id(<%= parent_ref %>),
        count,
    };
    Ok(crate::turbo::fresh_when(&headers, frame.render()?))
}

<% call rust.sig(0, "pub async fn show", returns) %>
<%= member_params(true) %>
<% endcall %>
<% if p %>
<%= load_parent() %>
<% endif %>
    // Taken before the record is read, as on the index page.
    let stream_name = broadcasts::stream_name(<%= owner_ref %>);
    let position = app.broadcaster.position(&stream_name).await;
<%= load_member() | trim("\n") %>
    let page = ShowPage {
<%= stream_source() | trim("\n") %>
<% filter rs_init(8) %>back_path: <%= r.camel %>::collection_path(<%= parent_id %>)<% endfilter %>
<% if p %>
        <%= p.singular %>,
<% endif %>
        <%= s %>,
    };
    Ok(page.into_response())
}

<% if p %>
<% call rust.sig(0, "pub async fn new", returns) %>
<%= collection_params(p.owned) %>
<% endcall %>
<%= load_parent() %>
<% elif r.signed_in %>
pub async fn new(_signed_in: CurrentUser) -> Result<Response, AppError> {
<% else %>
pub async fn new() -> Result<Response, AppError> {
<% endif %>
    let form = blank_form(<%= parent_ref %>);
<% call rust.struct(4, "let page = ", "NewPage", ";") %>
<% if p %>
<%= p.singular %>
<% endif %>
form
<% endcall %>
    Ok(page.into_response())
}

<% call rust.sig(0, "pub async fn create", returns) %>
<%= collection_params(writes_user) %>
turbo: TurboRequest
<% if r.attachments %>
request: Request
<% else %>
Form(form_values): Form<<%= r.camel %>Form>
<% endif %>
<% endcall %>
<% if p %>
<%= load_parent() %>
<% endif %>
<% if r.attachments %>
<%= read_files(false) %>
<% for a in r.attachments if a.missing %>
<% filter rs_if(4) %>!uploads.iter().any(|upload| upload.field == "<%= a.name %>") && errors.on("<%= a.name %>").is_none()<% endfilter %>
<% filter rs_stmt(8) %>errors.add("<%= a.name %>", "<%= a.missing %>");<% endfilter %>
    }
<% endfor %>
<% endif %>
<%= match_valid() | trim("\n") %>
        Ok(valid) => valid,
        Err(errors) => {
<% if r.attachments %>
            blobs::discard(&uploads).await;
<% endif %>
<% call rust.call(12, "let form = ", "new_form", ";") %>
<%= parent_ref %>
form_values
errors
<% endcall %>
            if turbo.accepts_turbo_stream {
                return rejected(&form);
            }
<% call rust.struct(12, "let page = ", "NewPage", ";") %>
<% if p %>
<%= p.singular %>
<% endif %>
form
<% endcall %>
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
<% if r.attachments %>
    // The record and its files commit together; when they do not, the stored files go too.
    let saved = async {
        let mut tx = app.db.begin().await?;
<% call rust.await(8, "let " ~ s ~ " = ", r.camel ~ "::create", "?;") %>
&mut tx
<% if r.owned %>
&current.user
<% endif %>
<%= parent_id %>
&valid
<% endcall %>
<% call rust.await(8, "", "blobs::attach_all", "?;") %>
&mut tx
<%= r.camel %>::TABLE
<%= s %>.id
<%= owner_id %>
&uploads
<% endcall %>
        tx.commit().await?;
        Ok::<_, sqlx::Error>(<%= s %>)
    }
    .await;
    let mut <%= s %> = match saved {
        Ok(record) => record,
        Err(error) => {
            blobs::discard(&uploads).await;
            return Err(error.into());
        }
    };
<% if r.attachments %>
<%= load_files(4, "std::slice::from_mut(&mut " ~ s ~ ")") %>
<% endif %>
<% else %>
<% call rust.await(4, "let " ~ s ~ " = ", r.camel ~ "::create", "?;") %>
&app.db
<% if r.owned %>
&current.user
<% endif %>
<%= parent_id %>
&valid
<% endcall %>
<% endif %>
<%= broadcast("create", "?;") %>
    if turbo.accepts_turbo_stream {
        let streams = CreateStreams {
<% filter rs_init(12) %><%= s %>: &<%= s %><% endfilter %>
            list_id: broadcasts::target(<%= parent_ref %>),
            form: blank_form(<%= parent_ref %>),
        };
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
        let location = <%= s %>.path();
        Ok(Redirect::to(&location).into_response())
    }
}

<% call rust.sig(0, "pub async fn edit", returns) %>
<%= member_params(queries_user) %>
<% endcall %>
<%= load_record() | trim("\n") %>
<% filter rs_stmt(4) %>let form_values = <%= r.camel %>Form::from_record(&<%= s %>);<% endfilter %>
<%= rs_call(4, "let form = ", "edit_form", ["&" ~ s, "form_values", "FieldErrors::default()"], ";") %>
<%= rs_struct(4, "let page = ", "EditPage", [s, "form"], ";") %>

    Ok(page.into_response())
}

<% call rust.sig(0, "pub async fn update", returns) %>
<%= member_params(writes_user) %>
turbo: TurboRequest
<% if r.attachments %>
request: Request
<% else %>
Form(form_values): Form<<%= r.camel %>Form>
<% endif %>
<% endcall %>
<%= load_record() | trim("\n") %>
<% if r.attachments %>
<%= read_files(true) %>
<% endif %>
<%= match_valid() | trim("\n") %>
        Ok(valid) => valid,
        Err(errors) => {
<% if r.attachments %>
            blobs::discard(&uploads).await;
<% endif %>
<%= rs_call(12, "let form = ", "edit_form", ["&" ~ s, "form_values", "errors"], ";") %>
            if turbo.accepts_turbo_stream {
                return rejected(&form);
            }
<%= rs_struct(12, "let page = ", "EditPage", [s, "form"], ";") %>
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
<% if r.attachments %>
    // The record and its files commit together; the files it no longer has are purged after.
    let saved = async {
        let mut tx = app.db.begin().await?;
<%= rs_await(8, "let " ~ s ~ " = ", s ~ ".update", ["&mut tx", "&valid"], "?;") %>
<% call rust.await(8, "let purged = ", "blobs::replace", "?;") %>
&mut tx
<%= r.camel %>::TABLE
<%= s %>.id
<%= owner_id %>
<%= r.camel %>::FILE_FIELDS
&uploads
&removed
<% endcall %>
        tx.commit().await?;
        Ok::<_, sqlx::Error>((<%= s %>, purged))
    }
    .await;
    let mut <%= s %> = match saved {
        Ok((record, purged)) => {
            blobs::purge_later(purged);
            record
        }
        Err(error) => {
            blobs::discard(&uploads).await;
            return Err(error.into());
        }
    };
<% if r.attachments %>
<%= load_files(4, "std::slice::from_mut(&mut " ~ s ~ ")") %>
<% endif %>
<% else %>
<%= rs_await(4, "let " ~ s ~ " = ", s ~ ".update", ["&app.db", "&valid"], "?;") %>
<% endif %>
<%= broadcast("update", "?;") %>
    if turbo.accepts_turbo_stream {
<%= rs_struct(8, "let streams = ", "UpdateStreams", [s ~ ": &" ~ s], ";") %>
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
        let location = <%= s %>.path();
        Ok(Redirect::to(&location).into_response())
    }
}

<% call rust.sig(0, "pub async fn destroy", returns) %>
<%= member_params(queries_user) %>
turbo: TurboRequest
<% endcall %>
<%= load_record() | trim("\n") %>
<% if r.attachments %>
    // The record and its files' rows go together; the files themselves are purged after.
    let mut tx = app.db.begin().await?;
<%= rs_await(4, "let purged = ", "blobs::detach", ["&mut tx", r.camel ~ "::TABLE", s ~ ".id", "None"], "?;") %>
<%= rs_await(4, "", s ~ ".destroy", ["&mut tx"], "?;") %>
    tx.commit().await?;
    blobs::purge_later(purged);
<% else %>
<%= rs_await(4, "", s ~ ".destroy", ["&app.db"], "?;") %>
<% endif %>
<%= broadcast("destroy", ";") %>
<%= rs_call(4, "", "broadcasts::broadcast_nested_gone_later", ["&app.broadcaster", "&" ~ s], ";") %>
    // The database deleted the records nested under it too: what they leave, such as their
    // files, is cleaned up by the hooks their resources registered.
<%= rs_call(4, "", "cascade::destroyed", ["&" ~ s, "&app.db"], ";") %>
    if turbo.accepts_turbo_stream {
<%= rs_struct(8, "let streams = ", "DestroyStreams", [s ~ ": &" ~ s], ";") %>
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
<% filter rs_stmt(8) %>let location = <%= r.camel %>::collection_path(<%= parent_id %>);<% endfilter %>
        Ok(Redirect::to(&location).into_response())
    }
}
