<% set r = resource %>
<% set p = resource.parent %>
<% set s = r.singular %>
<% set form_t = "FormView<" ~ r.camel ~ "Form>" %>
<%# What each handler extracts from the path, and the expression that loads the parent. %>
<% set member_path = ("Path((" ~ p.column ~ ", id)): Path<(i64, i64)>") if p else "Path(id): Path<i64>" %>
<% set parent_arg = (p.singular ~ ", ") if p else "" %>
<% set parent_ref = ("&" ~ p.singular ~ ", ") if p else "" %>
<% set parent_ref_only = ("&" ~ p.singular) if p else "" %>
<% macro load_parent() %>
<% if p %>
    let <%= p.singular %> = <%= p.camel %>::find(&state.db, <%= p.column %>).await?;
<% endif %>
<% endmacro %>
<% macro load_record() %>
<%= load_parent() %>
    let <%= s %> = <%= r.camel %>::find(&state.db, id).await?;
<% if p %>
    if <%= s %>.<%= p.column %> != <%= p.singular %>.id {
        return Err(AppError::NotFound);
    }
<% endif %>
<% endmacro %>
//! The seven RESTful actions of <%= r.human_plural | lower %>. A Turbo Stream request gets Turbo Streams back;
//! any other request gets a page or a 303 redirect, so every form works without JavaScript too.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::broadcasts;
use super::model::{<%= r.camel %>, <%= r.camel %>Form};
use crate::app::{AppError, AppState};
<% if p %>
use crate::<%= p.plural %>::<%= p.camel %>;
<% endif %>
use crate::turbo::forms::{FieldErrors, FormView};
use crate::turbo::{TurboRequest, TurboStream, TurboStreamHtml};

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/index.html")]
struct IndexPage {
<% if p %>
    <%= p.singular %>: <%= p.camel %>,
<% endif %>
    <%= r.plural %>: Vec<<%= r.camel %>>,
    /// The `<turbo-stream-source>` element that subscribes the page to live updates.
    subscription: String,
    list_id: String,
    form: <%= form_t %>,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/show.html")]
struct ShowPage {
<% if p %>
    <%= p.singular %>: <%= p.camel %>,
<% endif %>
    <%= s %>: <%= r.camel %>,
    subscription: String,
    /// Where "All <%= r.human_plural | lower %>" leads.
    back_path: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/new.html")]
struct NewPage {
<% if p %>
    <%= p.singular %>: <%= p.camel %>,
<% endif %>
    form: <%= form_t %>,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/edit.html")]
struct EditPage {
    <%= s %>: <%= r.camel %>,
    form: <%= form_t %>,
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
    <%= s %>: &'a <%= r.camel %>,
    target: String,
    /// A blank form to replace the one just submitted.
    form: <%= form_t %>,
}

#[derive(Template)]
#[template(path = "<%= r.plural %>/update.turbo_stream.html")]
struct UpdateStreams<'a> {
    <%= s %>: &'a <%= r.camel %>,
}

#[derive(Template)]
#[template(path = "<%= r.plural %>/destroy.turbo_stream.html")]
struct DestroyStreams<'a> {
    <%= s %>: &'a <%= r.camel %>,
}

/// The form that creates a <%= r.human | lower %>.
fn new_form(<% if p %><%= p.singular %>: &<%= p.camel %>, <% endif %>values: <%= r.camel %>Form, errors: FieldErrors) -> <%= form_t %> {
    FormView {
        values,
        errors,
        id: crate::turbo::new_dom_id::<<%= r.camel %>>(),
        action: <%= r.camel %>::collection_path(<% if p %><%= p.singular %>.id<% endif %>),
        method: None,
        submit: "Create <%= r.human | lower %>",
    }
}

/// The form that edits a <%= r.human | lower %>.
fn edit_form(<%= s %>: &<%= r.camel %>, values: <%= r.camel %>Form, errors: FieldErrors) -> <%= form_t %> {
    FormView {
        values,
        errors,
        id: crate::turbo::dom_id_prefixed("edit", <%= s %>),
        action: <%= s %>.path(),
        method: Some("patch"),
        submit: "Update <%= r.human | lower %>",
    }
}

/// Answers a failed submission with 422 and the form showing its errors: in place for Turbo,
/// as a whole page otherwise.
fn invalid(turbo: &TurboRequest, form: <%= form_t %>, page: impl FnOnce(<%= form_t %>) -> Response) -> Result<Response, AppError> {
    if turbo.accepts_turbo_stream {
        let html = FormPartial { form: &form }.render()?;
        let streams = TurboStream::replace(form.id.clone(), html);
        Ok((StatusCode::UNPROCESSABLE_ENTITY, streams).into_response())
    } else {
        let mut response = page(form);
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        Ok(response)
    }
}

<% if p %>
pub async fn index(State(state): State<AppState>, Path(<%= p.column %>): Path<i64>) -> Result<Response, AppError> {
<% else %>
pub async fn index(State(state): State<AppState>) -> Result<Response, AppError> {
<% endif %>
<%= load_parent() %>
<% if p %>
    let <%= r.plural %> = <%= r.camel %>::for_<%= p.singular %>(&state.db, <%= p.singular %>.id).await?;
<% else %>
    let <%= r.plural %> = <%= r.camel %>::all(&state.db).await?;
<% endif %>
    Ok(IndexPage {
        subscription: state.signer.stream_source_tag(&broadcasts::stream_name(<%= parent_ref_only %>)),
        list_id: broadcasts::target(<%= parent_ref_only %>),
        form: new_form(<%= parent_ref %><%= r.camel %>Form::blank(), FieldErrors::default()),
<% if p %>
        <%= p.singular %>,
<% endif %>
        <%= r.plural %>,
    }
    .into_response())
}

pub async fn show(State(state): State<AppState>, <%= member_path %>) -> Result<Response, AppError> {
<%= load_record() %>
    Ok(ShowPage {
        subscription: state.signer.stream_source_tag(&broadcasts::stream_name(<%= parent_ref_only %>)),
        back_path: <%= r.camel %>::collection_path(<% if p %><%= p.singular %>.id<% endif %>),
<% if p %>
        <%= p.singular %>,
<% endif %>
        <%= s %>,
    }
    .into_response())
}

<% if p %>
pub async fn new(State(state): State<AppState>, Path(<%= p.column %>): Path<i64>) -> Result<Response, AppError> {
<% else %>
pub async fn new() -> Result<Response, AppError> {
<% endif %>
<%= load_parent() %>
    let form = new_form(<%= parent_ref %><%= r.camel %>Form::blank(), FieldErrors::default());
    Ok(NewPage { <%= parent_arg %>form }.into_response())
}

<% if p %>
pub async fn create(
    State(state): State<AppState>,
    Path(<%= p.column %>): Path<i64>,
    turbo: TurboRequest,
    Form(values): Form<<%= r.camel %>Form>,
) -> Result<Response, AppError> {
<% else %>
pub async fn create(
    State(state): State<AppState>,
    turbo: TurboRequest,
    Form(values): Form<<%= r.camel %>Form>,
) -> Result<Response, AppError> {
<% endif %>
<%= load_parent() %>
    let params = match values.validate() {
        Ok(params) => params,
        Err(errors) => {
            let form = new_form(<%= parent_ref %>values, errors);
            return invalid(&turbo, form, |form| NewPage { <%= parent_arg %>form }.into_response());
        }
    };
    let <%= s %> = <%= r.camel %>::create(&state.db, <% if p %><%= p.singular %>.id, <% endif %>&params).await?;
    broadcasts::broadcast_create_later(&state.broadcaster, <%= parent_ref %>&<%= s %>);
    if turbo.accepts_turbo_stream {
        let streams = CreateStreams {
            <%= s %>: &<%= s %>,
            target: broadcasts::target(<%= parent_ref_only %>),
            form: new_form(<%= parent_ref %><%= r.camel %>Form::blank(), FieldErrors::default()),
        };
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
        Ok(Redirect::to(&<%= s %>.path()).into_response())
    }
}

pub async fn edit(State(state): State<AppState>, <%= member_path %>) -> Result<Response, AppError> {
<%= load_record() %>
    let form = edit_form(&<%= s %>, <%= r.camel %>Form::from_record(&<%= s %>), FieldErrors::default());
    Ok(EditPage { <%= s %>, form }.into_response())
}

pub async fn update(
    State(state): State<AppState>,
    <%= member_path %>,
    turbo: TurboRequest,
    Form(values): Form<<%= r.camel %>Form>,
) -> Result<Response, AppError> {
<%= load_record() %>
    let params = match values.validate() {
        Ok(params) => params,
        Err(errors) => {
            let form = edit_form(&<%= s %>, values, errors);
            return invalid(&turbo, form, |form| EditPage { <%= s %>, form }.into_response());
        }
    };
    let <%= s %> = <%= s %>.update(&state.db, &params).await?;
    broadcasts::broadcast_update_later(&state.broadcaster, <%= parent_ref %>&<%= s %>);
    if turbo.accepts_turbo_stream {
        let streams = UpdateStreams { <%= s %>: &<%= s %> };
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
        Ok(Redirect::to(&<%= s %>.path()).into_response())
    }
}

pub async fn destroy(
    State(state): State<AppState>,
    <%= member_path %>,
    turbo: TurboRequest,
) -> Result<Response, AppError> {
<%= load_record() %>
    <%= s %>.destroy(&state.db).await?;
    broadcasts::broadcast_destroy_later(&state.broadcaster, <%= parent_ref %>&<%= s %>);
    if turbo.accepts_turbo_stream {
        let streams = DestroyStreams { <%= s %>: &<%= s %> };
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
        Ok(Redirect::to(&<%= r.camel %>::collection_path(<% if p %><%= p.singular %>.id<% endif %>)).into_response())
    }
}
