<% set r = resource %>
<% set p = resource.parent %>
<% set s = r.singular %>
<% set form_t = "FormView<" ~ r.camel ~ "Form>" %>
<% set returns = " -> Result<Response, AppError> {" %>
<%# What the handlers extract from the path, and how they refer to the parent once it is loaded. %>
<% set state_param = "State(app): State<AppState>" %>
<% set collection_params = [state_param] + (["Path(" ~ p.column ~ "): Path<i64>"] if p else []) %>
<% set member_params = [state_param, ("Path((" ~ p.column ~ ", id)): Path<(i64, i64)>") if p else "Path(id): Path<i64>"] %>
<% set parent_ref = ["&" ~ p.singular] if p else [] %>
<% set parent_only = ("&" ~ p.singular) if p else "" %>
<% set parent_id = (p.singular ~ ".id") if p else "" %>
<% set with_parent = [p.singular] if p else [] %>
<% set later_args = ["&app.broadcaster"] + parent_ref + ["&" ~ s] %>
<% set refresh_args = ["&app.broadcaster"] + parent_ref + ["turbo.request_id.as_deref()"] %>
<% macro load_parent() %><%= rs_await(4, "let " ~ p.singular ~ " = ", p.camel ~ "::find", ["&app.db", p.column], "?;") %><% endmacro %>
<%# Loads the record a member action is about, and, when nested, checks it is the parent's. %>
<% macro load_record() %>
<% if p %>
<%= load_parent() %>
<% endif %>
<%= rs_await(4, "let " ~ s ~ " = ", r.camel ~ "::find", ["&app.db", "id"], "?;") %>
<% if p %>
<%= rs_if(4, s ~ "." ~ p.column ~ " != " ~ p.singular ~ ".id") %>
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
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::broadcasts;
<%= rs_use(0, "use super::model::{" ~ r.camel ~ ", " ~ r.camel ~ "Form};") %>
<%# rustfmt sorts these, and the parent's module may sort anywhere among them. %>
<% set uses = ["use crate::app::{AppError, AppState};", "use crate::turbo::forms::{FieldErrors, FormView};", "use crate::turbo::{TurboRequest, TurboStream, TurboStreamHtml};"] + (["use crate::" ~ p.plural ~ "::" ~ p.camel ~ ";"] if p else []) %>
<% for line in uses | rs_sort_uses %>
<%= line %>
<% endfor %>

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/index.html")]
struct IndexPage {
<% if p %>
<%= rs_field(4, p.singular ~ ":", p.camel) %>
<% endif %>
<%= rs_field(4, r.plural ~ ":", "Vec<" ~ r.camel ~ ">") %>
    /// The `<turbo-stream-source>` element that subscribes the page to live updates.
    stream_source: String,
    list_id: String,
    /// The lazy frame that counts the records, loaded after the page.
    summary_id: String,
    summary_path: String,
    form: <%= form_t %>,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/show.html")]
struct ShowPage {
<% if p %>
<%= rs_field(4, p.singular ~ ":", p.camel) %>
<% endif %>
<%= rs_field(4, s ~ ":", r.camel) %>
    stream_source: String,
    /// Where "All <%= r.human_plural | lower %>" leads.
    back_path: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/new.html")]
struct NewPage {
<% if p %>
<%= rs_field(4, p.singular ~ ":", p.camel) %>
<% endif %>
    form: <%= form_t %>,
}

#[derive(Template, WebTemplate)]
#[template(path = "<%= r.plural %>/edit.html")]
struct EditPage {
<%= rs_field(4, s ~ ":", r.camel) %>
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
<%= rs_field(4, s ~ ":", "&'a " ~ r.camel) %>
    list_id: String,
    /// A blank form to replace the one just submitted.
    form: <%= form_t %>,
}

#[derive(Template)]
#[template(path = "<%= r.plural %>/update.turbo_stream.html")]
struct UpdateStreams<'a> {
<%= rs_field(4, s ~ ":", "&'a " ~ r.camel) %>
}

#[derive(Template)]
#[template(path = "<%= r.plural %>/destroy.turbo_stream.html")]
struct DestroyStreams<'a> {
<%= rs_field(4, s ~ ":", "&'a " ~ r.camel) %>
}

/// The form that creates a <%= r.human | lower %>.
<%= rs_fn(0, "fn new_form", ([p.singular ~ ": &" ~ p.camel] if p else []) + ["values: " ~ r.camel ~ "Form", "errors: FieldErrors"], " -> " ~ form_t ~ " {") %>
    FormView {
        values,
        errors,
        id: crate::turbo::new_dom_id::<<%= r.camel %>>(),
<%= rs_init(8, "action", r.camel ~ "::collection_path(" ~ parent_id ~ ")") %>
        method: None,
        submit: "Create <%= r.human | lower %>",
    }
}

/// An empty form that creates a <%= r.human | lower %>.
<%= rs_fn(0, "fn blank_form", ([p.singular ~ ": &" ~ p.camel] if p else []), " -> " ~ form_t ~ " {") %>
<%= rs_call(4, "", "new_form", with_parent + [r.camel ~ "Form::blank()", "FieldErrors::default()"], "") %>
}

/// The form that edits a <%= r.human | lower %>.
<%= rs_fn(0, "fn edit_form", [s ~ ": &" ~ r.camel, "values: " ~ r.camel ~ "Form", "errors: FieldErrors"], " -> " ~ form_t ~ " {") %>
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
<%= rs_fn(0, "fn rejected", ["form: &" ~ form_t], returns) %>
    let html = FormPartial { form }.render()?;
    let stream = TurboStream::replace(form.id.clone(), html);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, stream).into_response())
}

<%= rs_fn(0, "pub async fn index", collection_params, returns) %>
<% if p %>
<%= load_parent() %>
<%= rs_await(4, "let " ~ r.plural ~ " = ", r.camel ~ "::for_" ~ p.singular, ["&app.db", p.singular ~ ".id"], "?;") %>

<% else %>
<%= rs_await(4, "let " ~ r.plural ~ " = ", r.camel ~ "::all", ["&app.db"], "?;") %>
<% endif %>
    let stream_name = broadcasts::stream_name(<%= parent_only %>);
    let page = IndexPage {
        stream_source: app.signer.stream_source_tag(&stream_name),
        list_id: broadcasts::target(<%= parent_only %>),
        summary_id: broadcasts::summary_id(<%= parent_only %>),
<%= rs_init(8, "summary_path", r.camel ~ "::summary_path(" ~ parent_id ~ ")") %>
        form: blank_form(<%= parent_only %>),
<% if p %>
        <%= p.singular %>,
<% endif %>
        <%= r.plural %>,
    };
    Ok(page.into_response())
}

/// The index page's lazy frame. It answers `304 Not Modified` while the count is unchanged, so
/// pages may reload it whenever the list changes.
<%= rs_fn(0, "pub async fn summary", collection_params + ["headers: HeaderMap"], returns) %>
<% if p %>
<%= load_parent() %>
<%= rs_await(4, "let count = ", r.camel ~ "::count_for_" ~ p.singular, ["&app.db", p.singular ~ ".id"], "?;") %>
<% else %>
<%= rs_await(4, "let count = ", r.camel ~ "::count", ["&app.db"], "?;") %>
<% endif %>
    let frame = SummaryFrame {
        summary_id: broadcasts::summary_id(<%= parent_only %>),
        count,
    };
    Ok(crate::turbo::fresh_when(&headers, frame.render()?))
}

<%= rs_fn(0, "pub async fn show", member_params, returns) %>
<%= load_record() | trim("\n") %>
    let stream_name = broadcasts::stream_name(<%= parent_only %>);
    let page = ShowPage {
        stream_source: app.signer.stream_source_tag(&stream_name),
<%= rs_init(8, "back_path", r.camel ~ "::collection_path(" ~ parent_id ~ ")") %>
<% if p %>
        <%= p.singular %>,
<% endif %>
        <%= s %>,
    };
    Ok(page.into_response())
}

<% if p %>
<%= rs_fn(0, "pub async fn new", collection_params, returns) %>
<%= load_parent() %>
<% else %>
pub async fn new() -> Result<Response, AppError> {
<% endif %>
    let form = blank_form(<%= parent_only %>);
<%= rs_struct(4, "let page = ", "NewPage", with_parent + ["form"], ";") %>
    Ok(page.into_response())
}

<%= rs_fn(0, "pub async fn create", collection_params + ["turbo: TurboRequest", "Form(form_values): Form<" ~ r.camel ~ "Form>"], returns) %>
<% if p %>
<%= load_parent() %>
<% endif %>
    let valid = match form_values.validate() {
        Ok(valid) => valid,
        Err(errors) => {
<%= rs_call(12, "let form = ", "new_form", parent_ref + ["form_values", "errors"], ";") %>
            if turbo.accepts_turbo_stream {
                return rejected(&form);
            }
<%= rs_struct(12, "let page = ", "NewPage", with_parent + ["form"], ";") %>
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
<%= rs_await(4, "let " ~ s ~ " = ", r.camel ~ "::create", ["&app.db"] + ([parent_id] if p else []) + ["&valid"], "?;") %>
<% if r.refresh %>
<%= rs_call(4, "", "broadcasts::broadcast_refresh_later", refresh_args, ";") %>
<% else %>
<%= rs_call(4, "", "broadcasts::broadcast_create_later", later_args, "?;") %>
<% endif %>

    if turbo.accepts_turbo_stream {
        let streams = CreateStreams {
<%= rs_init(12, s, "&" ~ s) %>
            list_id: broadcasts::target(<%= parent_only %>),
            form: blank_form(<%= parent_only %>),
        };
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
        let location = <%= s %>.path();
        Ok(Redirect::to(&location).into_response())
    }
}

<%= rs_fn(0, "pub async fn edit", member_params, returns) %>
<%= load_record() | trim("\n") %>
<%= rs_stmt(4, "let form_values = " ~ r.camel ~ "Form::from_record(&" ~ s ~ ");") %>
<%= rs_call(4, "let form = ", "edit_form", ["&" ~ s, "form_values", "FieldErrors::default()"], ";") %>
<%= rs_struct(4, "let page = ", "EditPage", [s, "form"], ";") %>

    Ok(page.into_response())
}

<%= rs_fn(0, "pub async fn update", member_params + ["turbo: TurboRequest", "Form(form_values): Form<" ~ r.camel ~ "Form>"], returns) %>
<%= load_record() | trim("\n") %>
    let valid = match form_values.validate() {
        Ok(valid) => valid,
        Err(errors) => {
<%= rs_call(12, "let form = ", "edit_form", ["&" ~ s, "form_values", "errors"], ";") %>
            if turbo.accepts_turbo_stream {
                return rejected(&form);
            }
<%= rs_struct(12, "let page = ", "EditPage", [s, "form"], ";") %>
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
<%= rs_await(4, "let " ~ s ~ " = ", s ~ ".update", ["&app.db", "&valid"], "?;") %>
<% if r.refresh %>
<%= rs_call(4, "", "broadcasts::broadcast_refresh_later", refresh_args, ";") %>
<% else %>
<%= rs_call(4, "", "broadcasts::broadcast_update_later", later_args, "?;") %>
<% endif %>

    if turbo.accepts_turbo_stream {
<%= rs_struct(8, "let streams = ", "UpdateStreams", [s ~ ": &" ~ s], ";") %>
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
        let location = <%= s %>.path();
        Ok(Redirect::to(&location).into_response())
    }
}

<%= rs_fn(0, "pub async fn destroy", member_params + ["turbo: TurboRequest"], returns) %>
<%= load_record() | trim("\n") %>
<%= rs_await(4, "", s ~ ".destroy", ["&app.db"], "?;") %>
<% if r.refresh %>
<%= rs_call(4, "", "broadcasts::broadcast_refresh_later", refresh_args, ";") %>
<% else %>
<%= rs_call(4, "", "broadcasts::broadcast_destroy_later", later_args, ";") %>
<% endif %>

    if turbo.accepts_turbo_stream {
<%= rs_struct(8, "let streams = ", "DestroyStreams", [s ~ ": &" ~ s], ";") %>
        Ok(TurboStreamHtml(streams.render()?).into_response())
    } else {
<%= rs_stmt(8, "let location = " ~ r.camel ~ "::collection_path(" ~ parent_id ~ ");") %>
        Ok(Redirect::to(&location).into_response())
    }
}
