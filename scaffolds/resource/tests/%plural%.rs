<% import "shared/rust.jinja" as rust %>
<% set s = r.singular %>
<% set t = resource.test %>
<% set editable = r.fields | selectattr("editable") | list %>
<% set texts = editable | selectattr("verbatim") | list %>
<% set required_shown = editable | rejectattr("checkbox") | rejectattr("optional") | list %>
<% set must_fill = r.optimistic or required_shown %>
<%# Whether the tests look records up through the first user: the records, or their parent, are a user's. %>
<% set through_user = r.owned or (p and p.owned) %>
<% set find_args = ["&state.db", "&user", "1"] if r.owned else ["&state.db", "1"] %>
<% set parent_db = ["&state.db", "&user"] if (p and p.owned) else ["&state.db"] %>
<%# The first single and the first many attachment fields, which the file tests exercise. %>
<% set ones = r.attachments | rejectattr("many") | selectattr("takes_images") | list %>
<% set manys = r.attachments | selectattr("many") | selectattr("takes_any") | list %>
<% set one = ones[0] if ones else none %>
<%# A reference whose record must be found, and one a second user points at the first user's record. %>
<% set missing = t.missing_reference %>
<% set foreign = t.foreign_reference %>
<%# Submits `form` to `path` as `router`'s browser would: with the files a create needs, when the form has file inputs. %>
<% macro submit(router, path, form, accept, creating) %><% if r.attachments and creating %>post_multipart(<%= router %>, <%= path %>, <%= form %>, &required_files(), <%= accept %>)<% elif r.attachments %>post_multipart(<%= router %>, <%= path %>, <%= form %>, &[], <%= accept %>)<% else %>post(<%= router %>, <%= path %>, <%= form %>, <%= accept %>)<% endif %><% endmacro %>
<% set many = manys[0] if manys else none %>
<%# Whether the tests send files: this resource's, or those of the records they create first. %>
<% set uploads = r.attachments or t.seeds_with_files %>
<%# Creates the record of `seed` first, as `router`'s browser would: with a sample of each file it must have. %>
<% macro create_seed(router, seed) %>
<% if seed.files %>
<% call rust.await(4, "", "seed_with_files", ";") %>
<%= router %>
"<%= seed.path %>"
"<%= seed.form | rust_str %>"
&[<% for f in seed.files %>sample("<%= f.name %>", <%= f.accept %>)<% if not loop.last %>, <% endif %><% endfor %>]
<% endcall %>
<% else %>
<%= rs_await(4, "", "seed", [router, '"' ~ seed.path ~ '"', '"' ~ (seed.form | rust_str) ~ '"'], ";") %>
<% endif %>
<% endmacro %>
<%# The markup an edit form shows for field `f` holding `value`. %>
<% macro shown(f, value) %><% if f.checkbox %><%= 'name="' ~ f.name ~ '" value="1"' ~ (" checked>" if value else ">") %><% elif f.textarea %><%= ">" ~ value ~ "</textarea>" %><% else %><%= 'name="' ~ f.name ~ '" value="' ~ value ~ '"' %><% endif %><% endmacro %>
<%# Subscribes a test to the stream of the list the records go in, and names that list. %>
<% macro subscribe_to_the_list() %>
<% if through_user %>
    let user = first_user(&state).await;
<% endif %>
<% if p %>
<%= rs_await(4, "let parent = ", p.camel ~ "::find", parent_db + ["1"], ";") %>
    let parent = parent.unwrap();
    let mut subscription = subscribe(&state, &broadcasts::stream_name(&parent)).await;
    let list_id = broadcasts::target(&parent);
<% elif r.owned %>
    let mut subscription = subscribe(&state, &broadcasts::stream_name(&user)).await;
    let list_id = broadcasts::target();
<% else %>
    let mut subscription = subscribe(&state, &broadcasts::stream_name()).await;
    let list_id = broadcasts::target();
<% endif %>
<% endmacro %>
//! <%= r.human_plural %> over HTTP and live: the CRUD cycle, one partial for the page, the Turbo
//! Stream reply and the broadcast<% if p %>, and <%= p.human | lower %> streams that stay apart<% endif %>.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
<% if r.signed_in %>
use axum::http::{HeaderValue, Request, StatusCode, header};
<% else %>
use axum::http::{Request, StatusCode, header};
<% endif %>
use axum::response::Response;
use http_body_util::BodyExt;
use tower::ServiceExt;

<%# rustfmt sorts these, and a resource's module may sort anywhere among them. %>
<% call rust.uses() %>
use <%= app.name %>::app::{self, AppState};
<% if uploads %>
use <%= app.name %>::blobs;
<% if one %>
use <%= app.name %>::turbo::storage::{Accept, Key};
<% else %>
use <%= app.name %>::turbo::storage::Accept;
<% endif %>
<% endif %>
use <%= app.name %>::<%= r.plural %>::{<%= r.camel %>, broadcasts};
use <%= app.name %>::turbo::{Delivery, Subscription};
<% if through_user %>
use <%= app.name %>::auth::User;
<% endif %>
<% if p %>
use <%= app.name %>::<%= p.plural %>::<%= p.camel %>;
<% endif %>
<% endcall %>

/// What Turbo sends when it submits a form.
const TURBO_STREAM: &str = "text/vnd.turbo-stream.html, text/html";
/// What a browser sends without Turbo.
const HTML: &str = "text/html";

<%= rs_assign(0, "const COLLECTION: &str = ", '"' ~ t.collection ~ '"', ";") %>
<%= rs_assign(0, "const RECORD: &str = ", '"' ~ t.collection ~ '/1"', ";") %>

/// Creates a <%= r.human | lower %> with a value in every field.
<%= rs_assign(0, "const CREATE_FORM: &str = ", '"' ~ (t.create_form | rust_str) ~ '"', ";") %>
/// Changes every field of it.
<%= rs_assign(0, "const UPDATE_FORM: &str = ", '"' ~ (t.update_form | rust_str) ~ '"', ";") %>
<% if r.owned %>
/// Creates another, with other values.
<%= rs_assign(0, "const SECOND_FORM: &str = ", '"' ~ (t.second_form | rust_str) ~ '"', ";") %>
<% endif %>
<% if missing %>
/// Creates one that names a record which does not exist.
<%= rs_assign(0, "const MISSING_FORM: &str = ", '"' ~ (missing.form | rust_str) ~ '"', ";") %>
<% endif %>
<% if foreign %>
/// Where a second user creates one, and the form that names their own records.
<%= rs_assign(0, "const THEIR_COLLECTION: &str = ", '"' ~ t.second_user.collection ~ '"', ";") %>
<%= rs_assign(0, "const THEIR_FORM: &str = ", '"' ~ (t.second_user.create_form | rust_str) ~ '"', ";") %>
/// That form naming the first user's record in one field instead.
<%= rs_assign(0, "const FOREIGN_FORM: &str = ", '"' ~ (foreign.foreign_form | rust_str) ~ '"', ";") %>
<% endif %>
<% if r.signed_in %>
/// The password every user of the tests signs up with, twice, as the sign-up form asks.
const PASSWORD_FORM: &str =
    "password=correct+horse+battery&password_confirmation=correct+horse+battery";
<% endif %>
<% if t.too_long %>
/// The create form without the field the tests fill past its maximum length, and that field.
<%= rs_assign(0, "const REST_FORM: &str = ", '"' ~ (t.too_long.rest_form | rust_str) ~ '"', ";") %>
<%= rs_assign(0, "const LONG_FIELD: &str = ", '"' ~ t.too_long.name ~ '"', ";") %>
const MAX_LENGTH: usize = <%= t.too_long.max %>;
<%= rs_assign(0, "const TOO_LONG: &str = ", '"' ~ t.too_long.message ~ '"', ";") %>
<% endif %>

async fn send(router: &Router, request: Request<Body>) -> Response {
    router.clone().oneshot(request).await.unwrap()
}

async fn get(router: &Router, path: &str) -> Response {
    let request = Request::get(path).body(Body::empty()).unwrap();
    send(router, request).await
}

/// Submits a form as a browser does; `accept` says whether Turbo submitted it.
async fn post(router: &Router, path: &str, form: &str, accept: &str) -> Response {
<% if r.attachments %>
    // This resource's forms have file inputs, so the browser sends them as multipart, with a
    // file for every field that must have one; a delete and other resources' forms stay URL-encoded.
    if path.starts_with(COLLECTION) && !form.contains("_method=delete") {
        let files = if path == COLLECTION {
            required_files()
        } else {
            Vec::new()
        };
        return post_multipart(router, path, form, &files, accept).await;
    }
    post_urlencoded(router, path, form, accept).await
}

/// Submits a form URL-encoded, as API clients and `curl -d` do, even where a browser would send
/// it as multipart.
async fn post_urlencoded(router: &Router, path: &str, form: &str, accept: &str) -> Response {
<% endif %>
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, accept)
        .body(Body::from(form.to_owned()))
        .unwrap();
    send(router, request).await
}

<% if r.refresh %>
/// Submits a form as Turbo does, naming the request as Turbo's `X-Turbo-Request-Id` does.
async fn turbo_post(router: &Router, path: &str, form: &str, request_id: &str) -> Response {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, TURBO_STREAM)
        .header("x-turbo-request-id", request_id)
        .body(Body::from(form.to_owned()))
        .unwrap();
    send(router, request).await
}

/// The refresh every other page is sent after a change made by request `request_id`.
fn refresh(request_id: &str) -> String {
    format!(r#"<turbo-stream action="refresh" request-id="{request_id}"></turbo-stream>"#)
}

<% endif %>
<% if t.too_long %>
/// `form` with `name=value` added, URL-encoded.
fn with_field(form: &str, name: &str, value: &str) -> String {
    let pair = form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish();
    if form.is_empty() {
        pair
    } else {
        format!("{form}&{pair}")
    }
}

<% endif %>
<% if uploads %>
/// A 4×3 red PNG, the image the tests attach.
const PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x04\
    \x00\x00\x00\x03\x08\x02\x00\x00\x00\x3b\x96\x39\x91\x00\x00\x00\x10\x49\x44\x41\x54\x78\xda\
    \x63\x38\x21\x27\x07\x47\x0c\x38\x39\x00\xf5\xc7\x0c\x31\xef\xea\x02\x16\x00\x00\x00\x00\x49\x45\
    \x4e\x44\xae\x42\x60\x82";
<% if one %>

/// A 4×3 blue PNG, which replaces it.
const OTHER_PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x04\
    \x00\x00\x00\x03\x08\x02\x00\x00\x00\x3b\x96\x39\x91\x00\x00\x00\x10\x49\x44\x41\x54\x78\xda\
    \x63\x90\x93\x3b\x01\x47\x0c\x38\x39\x00\xe5\xd7\x0c\x31\xdb\xe5\xaa\x46\x00\x00\x00\x00\x49\x45\
    \x4e\x44\xae\x42\x60\x82";
<% endif %>

const BOUNDARY: &str = "gen-test-boundary";

/// A file part of a multipart form: the field, the filename and the bytes.
type FilePart = (&'static str, &'static str, &'static [u8]);

/// A PDF, an MP4 video and an MP3, as much of each as its type is known by.
const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";
const MP4: &[u8] = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom";
const MP3: &[u8] = b"ID3\x04\x00\x00\x00\x00\x00\x00";
<% if r.attachments %>
/// A file field, which the tests fill past the upload limit.
<%= rs_assign(0, "const FILE_FIELD: &str = ", '"' ~ r.attachments[0].name ~ '"', ";") %>
<% if one %>
/// The first field of one file.
<%= rs_assign(0, "const ONE_FIELD: &str = ", '"' ~ one.name ~ '"', ";") %>
<% endif %>
<% if many %>
/// The first field of many files.
<%= rs_assign(0, "const MANY_FIELD: &str = ", '"' ~ many.name ~ '"', ";") %>
<% endif %>
<% if one and one.wrong_kind %>
/// What the form says of a file of a kind its field does not take.
<%= rs_assign(0, "const WRONG_KIND: &str = ", '"' ~ one.label ~ " " ~ one.wrong_kind ~ '"', ";") %>
<% endif %>
<% endif %>

/// A file of a kind that field `name`, which takes the kinds `accept`, takes.
fn sample(name: &'static str, accept: &[Accept]) -> FilePart {
    let (filename, bytes) = match accept.first() {
        None | Some(Accept::Image) => ("sample.png", PNG),
        Some(Accept::Video) => ("sample.mp4", MP4),
        Some(Accept::Audio) => ("sample.mp3", MP3),
        Some(Accept::Pdf) => ("sample.pdf", PDF),
    };
    (name, filename, bytes)
}
<% if r.attachments %>

/// The files a create form must carry: one for each field that every record has.
fn required_files() -> Vec<FilePart> {
<% filter rs_stmt(4) %><%= r.camel %>::FILE_FIELDS.iter().filter(|field| field.required).map(|field| sample(field.name, field.accept)).collect()<% endfilter %>
}
<% endif %>

/// The body of a `multipart/form-data` form with the fields of the URL-encoded `form`, then `files`.
fn multipart(form: &str, files: &[FilePart]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in form_urlencoded::parse(form.as_bytes()) {
        let part = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        );
        body.extend_from_slice(part.as_bytes());
    }
    for (name, filename, bytes) in files {
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
             filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Submits a form with files, as a browser does when the form has a file input.
async fn post_multipart(
    router: &Router,
    path: &str,
    form: &str,
    files: &[FilePart],
    accept: &str,
) -> Response {
    post_body(router, path, multipart(form, files), accept).await
}

/// POSTs a multipart body as it is, whole or not.
async fn post_body(router: &Router, path: &str, body: Vec<u8>, accept: &str) -> Response {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT, accept)
        .body(Body::from(body))
        .unwrap();
    send(router, request).await
}
<% if r.attachments %>

/// How many rows the blobs table has: originals and their thumbnails.
async fn blob_count(state: &AppState) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM blobs")
        .fetch_one(&state.db)
        .await
        .unwrap()
}
<% if one %>

/// How many blobs uploading `files` stores: a PNG has a thumbnail besides.
fn required_blobs(files: &[FilePart]) -> i64 {
    let blobs: usize = files
        .iter()
        .map(|(_, name, _)| if name.ends_with(".png") { 2 } else { 1 })
        .sum();
    i64::try_from(blobs).unwrap()
}

/// The storage keys of the files attached to field `name`, in order.
async fn keys_of(state: &AppState, name: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT blobs.key FROM attachments JOIN blobs ON blobs.id = attachments.blob_id \
         WHERE attachments.name = <%= param(1) %> ORDER BY attachments.position",
    )
    .bind(name)
    .fetch_all(&state.db)
    .await
    .unwrap()
}

/// Whether the storage still has the blob of `key`, once a purge has had time to run.
async fn stored(key: &str) -> bool {
    let key = Key::parse(key).unwrap();
    for _ in 0..50 {
        if blobs::files().storage.read(&key, None).await.is_err() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

<% if p or r.signed_in %>
/// Creates the first record, with `image.png` in the image field and the other files it needs.
async fn create_with_an_image(router: &Router) {
    let mut files: Vec<FilePart> = required_files()
        .into_iter()
        .filter(|(name, _, _)| *name != ONE_FIELD)
        .collect();
    files.push((ONE_FIELD, "image.png", PNG));
    let created = post_multipart(router, COLLECTION, CREATE_FORM, &files, HTML).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
}

<% endif %>
/// The signed URL of the file a page shows that ends with `suffix`, its filename.
fn blob_url(html: &str, suffix: &str) -> String {
    html.split('"')
        .find(|part| part.starts_with("/blobs/") && part.ends_with(suffix))
        .unwrap_or_else(|| panic!("no file {suffix} in {html}"))
        .to_owned()
}
<% endif %>
<% endif %>

<% endif %>
async fn text(response: Response) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}
<% if one %>

async fn text_bytes(response: Response) -> Vec<u8> {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    bytes.to_vec()
}
<% endif %>

/// GETs `path` as a browser that holds the markup tagged `etag` does.
async fn revalidate(router: &Router, path: &str, etag: &str) -> Response {
    let request = Request::get(path)
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .unwrap();
    send(router, request).await
}
<% if t.seeds_without_files %>

/// Creates a record through its own form and checks that it was saved.
async fn seed(router: &Router, path: &str, form: &str) {
    let response = post(router, path, form, HTML).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
}
<% endif %>
<% if t.seeds_with_files %>

/// Creates a record through its own form with the files it cannot be saved without, sent as
/// multipart as a browser sends a form with file inputs, and checks that it was saved.
async fn seed_with_files(router: &Router, path: &str, form: &str, files: &[FilePart]) {
    let response = post_multipart(router, path, form, files, HTML).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
}
<% endif %>

<% if r.signed_in %>
/// Signs a new user up through the sign-up form; the session cookie that signs them in.
async fn sign_up(router: &Router, email: &str) -> HeaderValue {
    let form = format!("email={email}&{PASSWORD_FORM}");
    let response = post(router, "/sign_up", &form, HTML).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{email} signs up");
    let pair = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next())
        .find(|pair| pair.starts_with("session=") && *pair != "session=")
        .expect("signing up signs in");
    HeaderValue::from_str(pair).unwrap()
}

/// The app as a browser holding `cookie` sees it: every request carries the cookie.
fn signed_in(router: Router, cookie: HeaderValue) -> Router {
    let add_cookie = move |mut request: Request<Body>| {
        let cookie = cookie.clone();
        async move {
            request.headers_mut().insert(header::COOKIE, cookie);
            request
        }
    };
    router.layer(axum::middleware::map_request(add_cookie))
}

/// The app as a second user, signed up after the first, sees it.
async fn another_user(state: &AppState) -> Router {
    let router = app::router(state.clone());
    let cookie = sign_up(&router, "grace@example.com").await;
    signed_in(router, cookie)
}

<% endif %>
<% if through_user %>
/// The user the tests sign in as: the first to sign up.
async fn first_user(state: &AppState) -> User {
    let user = User::find(&state.db, 1).await.unwrap();
    user.expect("the first user signed up")
}

<% endif %>
/// An app on a fresh database that holds the records a <%= r.human | lower %> needs first<% if r.signed_in %>, and a
/// signed-in user, whose cookie every request of the router carries<% endif %>.
async fn app_with_seeds() -> (AppState, Router) {
<% if uploads %>
    // Before the router is made, which reads the upload limit.
    blobs::install_for_tests();
<% endif %>
    let state = AppState::for_tests().await;
    let router = app::router(state.clone());
<% if r.signed_in %>
    let cookie = sign_up(&router, "ada@example.com").await;
    let router = signed_in(router, cookie);
<% endif %>
<% for seed in t.seeds %>
<%= create_seed("&router", seed) | trim("\n") %>
<% endfor %>
    (state, router)
}

async fn subscribe(state: &AppState, stream: &str) -> Box<dyn Subscription> {
    state.broadcaster.subscribe(stream, None).await.unwrap()
}

/// The next Turbo Stream published to a subscription.
async fn next_event(subscription: &mut Box<dyn Subscription>) -> String {
    let delivery = tokio::time::timeout(Duration::from_secs(5), subscription.next());
    match delivery.await.expect("a broadcast arrives") {
        Some(Delivery::Event { payload, .. }) => payload.to_string(),
        other => panic!("expected an event, got {other:?}"),
    }
}

/// The markup inside the first `<template>` of a Turbo Stream.
fn template(stream: &str) -> &str {
    let start = stream.find("<template>").expect("a <template>") + "<template>".len();
    let end = stream.find("</template>").expect("a </template>");
    &stream[start..end]
}

#[tokio::test]
async fn the_crud_cycle_works_over_http() {
    let (_state, router) = app_with_seeds().await;
    assert_eq!(get(&router, COLLECTION).await.status(), StatusCode::OK);
    let new = get(&router, &format!("{COLLECTION}/new")).await;
    assert_eq!(new.status(), StatusCode::OK);

    let created = post(&router, COLLECTION, CREATE_FORM, HTML).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.headers()[header::LOCATION], RECORD);
    let show = get(&router, RECORD).await;
    assert_eq!(show.status(), StatusCode::OK);
<% if texts %>
    let show = text(show).await;
<% for f in texts %>
<%= rs_call(4, "", "assert!", ['show.contains("' ~ f.sample ~ '")', '"{show}"'], ";") %>
<% endfor %>
<% endif %>
<% if editable %>
    let edit = text(get(&router, &format!("{RECORD}/edit")).await).await;
<% for f in editable %>
<%= rs_call(4, "", "assert!", ['edit.contains(r#"' ~ shown(f, f.sample) ~ '"#)', '"{edit}"'], ";") %>
<% endfor %>
<% endif %>

    let form = format!("_method=patch&{UPDATE_FORM}");
    let updated = post(&router, RECORD, &form, HTML).await;
    assert_eq!(updated.status(), StatusCode::SEE_OTHER);
    assert_eq!(updated.headers()[header::LOCATION], RECORD);
<% if editable %>
    let edit = text(get(&router, &format!("{RECORD}/edit")).await).await;
<% for f in editable %>
<%= rs_call(4, "", "assert!", ['edit.contains(r#"' ~ shown(f, f.edited) ~ '"#)', '"{edit}"'], ";") %>
<% endfor %>
<% endif %>
<% if must_fill %>

    let blank = post(&router, COLLECTION, "", HTML).await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
<% if required_shown %>
    assert!(text(blank).await.contains(r#"<p class="field-error">"#));
<% endif %>
<% endif %>

    let destroyed = post(&router, RECORD, "_method=delete", HTML).await;
    assert_eq!(destroyed.status(), StatusCode::SEE_OTHER);
    assert_eq!(destroyed.headers()[header::LOCATION], COLLECTION);
    assert_eq!(get(&router, RECORD).await.status(), StatusCode::NOT_FOUND);
}

<% if p %>
/// The <%= p.human | lower %>'s own page loads the list of its <%= r.human_plural | lower %> in a lazy frame, which
/// the list's index page answers with a frame of the same id.
#[tokio::test]
async fn the_parent_page_loads_the_list() {
    let (state, router) = app_with_seeds().await;
<% if p.owned %>
    let user = first_user(&state).await;
<% endif %>
<%= rs_await(4, "let parent = ", p.camel ~ "::find", parent_db + ["1"], ";") %>
    let parent = parent.unwrap();
    let frame_id = broadcasts::page_frame_id(&parent);
    let page = text(get(&router, &parent.path()).await).await;
<%= rs_call(4, "", "assert!", ['page.contains(&format!(r#"<turbo-frame id="{frame_id}" src="{COLLECTION}""#))', '"{page}"'], ";") %>
    let list = text(get(&router, COLLECTION).await).await;
<%= rs_call(4, "", "assert!", ['list.contains(&format!(r#"<turbo-frame id="{frame_id}" target="_top">"#))', '"{list}"'], ";") %>
}

<% endif %>
<% if t.numbered_form %>
/// The ids of the records a page or frame shows, in order.
fn record_ids(html: &str) -> Vec<String> {
    html.split(r#"<turbo-frame id=""#)
        .skip(1)
        .filter_map(|rest| rest.split_once(r#"" class="record""#))
        .map(|(id, _)| id.to_owned())
        .collect()
}

/// The page the lazy frame of the page before this one loads, if there is one.
fn earlier_path(html: &str) -> Option<String> {
    let (_, rest) = html.split_once(r#"class="earlier" data-src=""#)?;
    Some(rest.split_once('"')?.0.to_owned())
}

/// The list is paginated by keyset: the first page holds the newest records, the lazy frame
/// before it loads the page before that, and walking every frame shows each record once.
#[tokio::test]
async fn the_list_shows_every_record_once_across_its_pages() {
    let (_state, router) = app_with_seeds().await;
<% filter rs_stmt(4) %>let total = <%= r.camel %>::PER_PAGE * 2 + 3;<% endfilter %>
    for n in 1..=total {
<%= rs_assign(8, "let form = ", t.numbered_form, ";") %>
        let created = post(&router, COLLECTION, &form, HTML).await;
        assert_eq!(created.status(), StatusCode::SEE_OTHER, "record {n}");
    }
    let first = text(get(&router, COLLECTION).await).await;
    let mut shown = record_ids(&first);
<%= rs_call(4, "", "assert_eq!", ["shown.len() as i64", r.camel ~ "::PER_PAGE"], ";") %>
    let mut next = earlier_path(&first);
    let mut pages = 1;
    while let Some(path) = next {
        let request = Request::get(&path)
            .header("turbo-frame", "earlier")
            .body(Body::empty())
            .unwrap();
        let frame = send(&router, request).await;
        assert_eq!(frame.status(), StatusCode::OK, "{path}");
        let frame = text(frame).await;
        assert!(
            frame.starts_with("<turbo-frame id="),
            "only the frame: {frame}"
        );
        shown.extend(record_ids(&frame));
        next = earlier_path(&frame);
        pages += 1;
    }
    assert_eq!(pages, 3);
    let distinct: std::collections::HashSet<&String> = shown.iter().collect();
    assert_eq!(distinct.len(), shown.len(), "a record was shown twice");
    assert_eq!(shown.len() as i64, total, "a record is missing");

    // A cursor that is not a record id is a 404, not the first page again.
    let bad = get(&router, &format!("{COLLECTION}?before=x")).await;
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
}

<% endif %>
<% if r.refresh %>
/// The reply to a Turbo submission carries the markup the page itself renders, and every other
/// page is sent one refresh per change, naming the request so that its author ignores it.
#[tokio::test]
async fn replies_carry_the_markup_of_the_page_and_others_refresh() {
    let (state, router) = app_with_seeds().await;
<%= subscribe_to_the_list() | trim("\n") %>

    let reply = turbo_post(&router, COLLECTION, CREATE_FORM, "create-1").await;
    assert_eq!(reply.status(), StatusCode::OK);
    let reply = text(reply).await;
<%= rs_await(4, "let record = ", r.camel ~ "::find", find_args, ";") %>
    let dom_id = record.unwrap().dom_id();
    let opening = format!(r#"<turbo-stream action="<%= r.insert %>" target="{list_id}"><template>"#);
    assert!(reply.starts_with(&opening), "{reply}");
    assert!(template(&reply).contains(&format!(r#"id="{dom_id}""#)));
    let index = text(get(&router, COLLECTION).await).await;
    assert!(index.contains(template(&reply)), "{index}\n{reply}");
    assert_eq!(next_event(&mut subscription).await, refresh("create-1"));

    let form = format!("_method=patch&{UPDATE_FORM}");
    let reply = text(turbo_post(&router, RECORD, &form, "update-1").await).await;
    let opening = format!(r#"<turbo-stream action="replace" target="{dom_id}"><template>"#);
    assert!(reply.starts_with(&opening), "{reply}");
    let show = text(get(&router, RECORD).await).await;
    assert!(show.contains(template(&reply)), "{show}\n{reply}");
    assert_eq!(next_event(&mut subscription).await, refresh("update-1"));

    let reply = text(turbo_post(&router, RECORD, "_method=delete", "destroy-1").await).await;
    let remove = format!(r#"<turbo-stream action="remove" target="{dom_id}"></turbo-stream>"#);
    assert_eq!(reply.trim_end(), remove);
    assert_eq!(next_event(&mut subscription).await, refresh("destroy-1"));
}
<% else %>
/// The reply to a Turbo submission and the broadcast to every other page carry the same markup,
/// and it is the markup the page itself renders: one partial, three transports.
#[tokio::test]
async fn replies_and_broadcasts_carry_the_markup_of_the_page() {
    let (state, router) = app_with_seeds().await;
<%= subscribe_to_the_list() | trim("\n") %>

    let reply = post(&router, COLLECTION, CREATE_FORM, TURBO_STREAM).await;
    assert_eq!(reply.status(), StatusCode::OK);
    let content_type = reply.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("text/vnd.turbo-stream.html"));
    let reply = text(reply).await;
    let event = next_event(&mut subscription).await;
<%= rs_await(4, "let record = ", r.camel ~ "::find", find_args, ";") %>
    let dom_id = record.unwrap().dom_id();
    let opening = format!(r#"<turbo-stream action="<%= r.insert %>" target="{list_id}"><template>"#);
    assert!(event.starts_with(&opening), "{event}");
    assert!(template(&event).contains(&format!(r#"id="{dom_id}""#)));
    assert!(reply.starts_with(&event), "{reply}\n{event}");
    let index = text(get(&router, COLLECTION).await).await;
    assert!(index.contains(template(&event)), "{index}\n{event}");

    let form = format!("_method=patch&{UPDATE_FORM}");
    let reply = text(post(&router, RECORD, &form, TURBO_STREAM).await).await;
    let event = next_event(&mut subscription).await;
    let opening = format!(r#"<turbo-stream action="replace" target="{dom_id}"><template>"#);
    assert!(event.starts_with(&opening), "{event}");
    assert_eq!(reply.trim_end(), event);
    let show = text(get(&router, RECORD).await).await;
    assert!(show.contains(template(&event)), "{show}\n{event}");

    let reply = text(post(&router, RECORD, "_method=delete", TURBO_STREAM).await).await;
    let event = next_event(&mut subscription).await;
    let remove = format!(r#"<turbo-stream action="remove" target="{dom_id}"></turbo-stream>"#);
    assert_eq!(event, remove);
    assert_eq!(reply.trim_end(), remove);
}
<% endif %>

/// Requests the handlers cannot read get the app's own error page with a fitting status, never
/// the framework's plain-text explanation.
#[tokio::test]
async fn unreadable_requests_get_the_error_page() {
    let (_state, router) = app_with_seeds().await;
    let bad_id = get(&router, &format!("{COLLECTION}/%3Cscript%3E")).await;
    assert_eq!(bad_id.status(), StatusCode::NOT_FOUND);
    assert_error_page(bad_id).await;

    let request = Request::post(COLLECTION)
        .header(header::ACCEPT, HTML)
        .body(Body::from("a=1"))
        .unwrap();
    let not_a_form = send(&router, request).await;
    assert_eq!(not_a_form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_error_page(not_a_form).await;
<% if t.repeated_field %>

<%= rs_assign(4, "let repeated = ", '"' ~ t.repeated_field ~ "=1&" ~ t.repeated_field ~ '=2"', ";") %>
    let repeated = post(&router, COLLECTION, repeated, HTML).await;
    assert_eq!(repeated.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_error_page(repeated).await;
<% endif %>
}

/// The app's HTML error page, which names nothing of the request or the framework.
async fn assert_error_page(response: Response) {
    let content_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = text(response).await;
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(!page.contains("script"), "{page}");
    assert!(!page.contains("deserialize"), "{page}");
}
<% if t.too_long %>

/// A value longer than its field's maximum is refused with the form's error and nothing is
/// saved; one at the maximum, counted in characters rather than bytes, is saved.
#[tokio::test]
async fn a_value_longer_than_its_maximum_is_refused() {
    let (state, router) = app_with_seeds().await;
    let form = with_field(REST_FORM, LONG_FIELD, &"a".repeat(MAX_LENGTH + 1));
    let refused = post(&router, COLLECTION, &form, HTML).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(refused).await;
    assert!(page.contains(TOO_LONG), "{page}");
<% if r.owned %>
    let user = first_user(&state).await;
<% endif %>
<%= rs_await(4, "let record = ", r.camel ~ "::find", find_args, ";") %>
    assert!(record.is_err(), "{record:?}");

    let form = with_field(REST_FORM, LONG_FIELD, &"é".repeat(MAX_LENGTH));
    let saved = post(&router, COLLECTION, &form, HTML).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
}
<% endif %>

/// The index page's lazy frame counts the <%= r.human_plural | lower %> and answers `304 Not Modified` until that changes.
#[tokio::test]
async fn the_summary_frame_is_fresh_until_the_list_changes() {
    let (_state, router) = app_with_seeds().await;
    let summary = format!("{COLLECTION}/summary");
    let first = get(&router, &summary).await;
    assert_eq!(first.status(), StatusCode::OK);
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
<% filter rs_stmt(4) %>assert!(text(first).await.contains(">0 <%= r.human_plural | lower %><"));<% endfilter %>
    let index = text(get(&router, COLLECTION).await).await;
    let lazy = format!(r#"src="{summary}" loading="lazy""#);
    assert!(index.contains(&lazy), "{index}");

    let unchanged = revalidate(&router, &summary, &etag).await;
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert!(text(unchanged).await.is_empty());

    let created = post(&router, COLLECTION, CREATE_FORM, HTML).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let changed = revalidate(&router, &summary, &etag).await;
    assert_eq!(changed.status(), StatusCode::OK);
<% filter rs_stmt(4) %>assert!(text(changed).await.contains(">1 <%= r.human | lower %><"));<% endfilter %>
}
<% if p %>

/// A <%= r.human | lower %> is broadcast on its own <%= p.human | lower %>'s stream only.
#[tokio::test]
async fn subscribers_to_another_<%= p.singular %>_receive_nothing() {
    let (state, router) = app_with_seeds().await;
<%= create_seed("&router", t.other_parent) | trim("\n") %>
<% if p.owned %>
    let user = first_user(&state).await;
<% endif %>
<%= rs_await(4, "let parent = ", p.camel ~ "::find", parent_db + ["1"], ";") %>
<%= rs_await(4, "let other = ", p.camel ~ "::find", parent_db + ["2"], ";") %>
    let mut ours = subscribe(&state, &broadcasts::stream_name(&parent.unwrap())).await;
    let mut theirs = subscribe(&state, &broadcasts::stream_name(&other.unwrap())).await;

    let reply = post(&router, COLLECTION, CREATE_FORM, TURBO_STREAM).await;
    assert_eq!(reply.status(), StatusCode::OK);
    next_event(&mut ours).await;
    // Publishing hands an event to every subscriber of its stream at once, so by now the other
    // stream would hold it too if it had been sent there.
    let nothing = tokio::time::timeout(Duration::from_millis(200), theirs.next()).await;
    assert!(nothing.is_err(), "the other stream received {nothing:?}");
}
<% endif %>
<% if r.signed_in %>

/// Where a page's `<turbo-stream-source>` subscribes.
fn stream_source(page: &str) -> String {
    let (_, tag) = page
        .split_once("<turbo-stream-source")
        .expect("the page subscribes");
    let (_, src) = tag.split_once(r#"src=""#).expect("the source has a src");
    let (src, _) = src.split_once('"').unwrap();
    src.replace("&#38;", "&").replace("&amp;", "&")
}

/// A visitor who is not signed in is sent to sign in, and a Turbo submission gets 401 and creates
/// nothing; the page's subscription is bound to the session that rendered it, so no other browser
/// can follow it.
#[tokio::test]
async fn only_signed_in_users_get_in_and_a_subscription_is_its_sessions() {
    let (state, router) = app_with_seeds().await;
    let visitor = app::router(state.clone());
    let page = get(&visitor, COLLECTION).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let location = page.headers()[header::LOCATION].to_str().unwrap();
    assert!(location.starts_with("/sign_in?return_to="), "{location}");
    assert_eq!(get(&visitor, RECORD).await.status(), StatusCode::SEE_OTHER);
    let created = post(&visitor, COLLECTION, CREATE_FORM, TURBO_STREAM).await;
    assert_eq!(created.status(), StatusCode::UNAUTHORIZED);
    let summary = text(get(&router, &format!("{COLLECTION}/summary")).await).await;
<% filter rs_stmt(4) %>assert!(summary.contains(">0 <%= r.human_plural | lower %><"), "{summary}");<% endfilter %>

    let source = stream_source(&text(get(&router, COLLECTION).await).await);
    assert!(source.contains("&session="), "{source}");
    assert_eq!(get(&router, &source).await.status(), StatusCode::OK);
    assert_eq!(get(&visitor, &source).await.status(), StatusCode::FORBIDDEN);
    let other = another_user(&state).await;
    assert_eq!(get(&other, &source).await.status(), StatusCode::FORBIDDEN);
}
<% endif %>
<% if r.owned %>

/// Another user's <%= r.human | lower %> does not exist for them: each action on it answers 404 and changes
/// nothing, their list and count leave it out, and what they create goes to their stream only.
#[tokio::test]
async fn another_users_<%= r.plural %>_are_not_found() {
    let (state, router) = app_with_seeds().await;
    let user = first_user(&state).await;
    let created = post(&router, COLLECTION, CREATE_FORM, HTML).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
<%= rs_await(4, "let record = ", r.camel ~ "::find", find_args, ".unwrap();") %>
    let other = another_user(&state).await;
    for path in [RECORD.to_owned(), format!("{RECORD}/edit")] {
        let response = get(&other, &path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let update = format!("_method=patch&{UPDATE_FORM}");
    for form in [update.as_str(), "_method=delete"] {
        let response = post(&other, RECORD, form, TURBO_STREAM).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{form}");
    }
    let list = text(get(&other, COLLECTION).await).await;
    let dom_id = format!(r#"id="{}""#, record.dom_id());
    assert!(!list.contains(&dom_id), "{list}");
    let summary = text(get(&other, &format!("{COLLECTION}/summary")).await).await;
<% filter rs_stmt(4) %>assert!(summary.contains(">0 <%= r.human_plural | lower %><"), "{summary}");<% endfilter %>
<%= rs_await(4, "let unchanged = ", r.camel ~ "::find", find_args, ".unwrap();") %>
    assert_eq!(unchanged, record);

    let mut ours = subscribe(&state, &broadcasts::stream_name(&user)).await;
    let theirs = post(&other, COLLECTION, SECOND_FORM, TURBO_STREAM).await;
    assert_eq!(theirs.status(), StatusCode::OK);
    let nothing = tokio::time::timeout(Duration::from_millis(200), ours.next()).await;
    assert!(nothing.is_err(), "the first user got {nothing:?}");
}
<% endif %>
<% if p and p.owned %>

/// The <%= r.human_plural | lower %> of another user's <%= p.human | lower %> do not exist for them: the list, its count,
/// the form and each record answer 404, and nothing they send changes anything.
#[tokio::test]
async fn another_users_<%= p.singular %>_records_are_not_found() {
    let (state, router) = app_with_seeds().await;
    let created = post(&router, COLLECTION, CREATE_FORM, HTML).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
<%= rs_await(4, "let record = ", r.camel ~ "::find", find_args, ".unwrap();") %>
    let other = another_user(&state).await;
    let pages = [
        COLLECTION.to_owned(),
        format!("{COLLECTION}/new"),
        format!("{COLLECTION}/summary"),
        RECORD.to_owned(),
        format!("{RECORD}/edit"),
    ];
    for path in pages {
        let response = get(&other, &path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let update = format!("_method=patch&{UPDATE_FORM}");
    let forms = [
        (COLLECTION, CREATE_FORM),
        (RECORD, update.as_str()),
        (RECORD, "_method=delete"),
    ];
    for (path, form) in forms {
        let response = post(&other, path, form, TURBO_STREAM).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path} {form}");
    }
<%= rs_await(4, "let unchanged = ", r.camel ~ "::find", find_args, ".unwrap();") %>
    assert_eq!(unchanged, record);
    let summary = text(get(&router, &format!("{COLLECTION}/summary")).await).await;
<% filter rs_stmt(4) %>assert!(summary.contains(">1 <%= r.human | lower %><"), "{summary}");<% endfilter %>
}
<% endif %>
<% if missing %>

/// A <%= r.human | lower %> that names a record which does not exist is refused with the form's error, and
/// nothing is saved.
#[tokio::test]
async fn a_reference_to_a_missing_record_is_a_form_error() {
    let (_state, router) = app_with_seeds().await;
    for accept in [HTML, TURBO_STREAM] {
        let refused = post(&router, COLLECTION, MISSING_FORM, accept).await;
        let status = refused.status();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{accept}");
        let page = text(refused).await;
<% filter rs_stmt(8) %>assert!(page.contains("<%= missing.error %>"), "{page}");<% endfilter %>
    }
    assert_eq!(get(&router, RECORD).await.status(), StatusCode::NOT_FOUND);
}
<% endif %>
<% if foreign %>

/// Another user's record does not exist for a user: a <%= r.human | lower %> of theirs that names it is
/// refused with the form's error on create and on update, and nothing is written; one that names
/// their own is saved.
#[tokio::test]
async fn another_users_records_cannot_be_referenced() {
    let (state, _router) = app_with_seeds().await;
    let other = another_user(&state).await;
<% for seed in t.second_user.seeds %>
<%= create_seed("&other", seed) | trim("\n") %>
<% endfor %>
    for accept in [HTML, TURBO_STREAM] {
<% filter rs_stmt(8) %>let refused = <%= submit("&other", "THEIR_COLLECTION", "FOREIGN_FORM", "accept", true) %>.await;<% endfilter %>
        let status = refused.status();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{accept}");
        let page = text(refused).await;
<% filter rs_stmt(8) %>assert!(page.contains("<%= foreign.error %>"), "{page}");<% endfilter %>
    }
<% filter rs_stmt(4) %>assert!(<%= r.camel %>::find(&state.db, 1).await.is_err(), "nothing is saved");<% endfilter %>

<% filter rs_stmt(4) %>let created = <%= submit("&other", "THEIR_COLLECTION", "THEIR_FORM", "HTML", true) %>.await;<% endfilter %>
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let location = &created.headers()[header::LOCATION];
    let record = location.to_str().unwrap().to_owned();
<%= rs_await(4, "let saved = ", r.camel ~ "::find", ["&state.db", "1"], ".unwrap();") %>
    let form = format!("_method=patch&{FOREIGN_FORM}");
<% filter rs_stmt(4) %>let refused = <%= submit("&other", "&record", "&form", "HTML", false) %>.await;<% endfilter %>
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(refused).await;
<% filter rs_stmt(4) %>assert!(page.contains("<%= foreign.error %>"), "{page}");<% endfilter %>
<%= rs_await(4, "let unchanged = ", r.camel ~ "::find", ["&state.db", "1"], ".unwrap();") %>
    assert_eq!(unchanged, saved);
}
<% endif %>
<% if one %>

/// Files are stored on create and shown through the blob partial, served at their signed URLs,
/// replaced<% if many %> and removed<% endif %> by the edit form, and purged with the record.
#[tokio::test]
async fn files_are_uploaded_replaced_removed_and_purged() {
    let (state, router) = app_with_seeds().await;
    let mut files: Vec<FilePart> = required_files()
        .into_iter()
        .filter(|(name, _, _)| *name != ONE_FIELD)
        .collect();
    let others = required_blobs(&files);
    files.push((ONE_FIELD, "image.png", PNG));
<% if many %>
    files.push((MANY_FIELD, "notes.txt", b"some notes".as_slice()));
<% endif %>
    let created = post_multipart(&router, COLLECTION, CREATE_FORM, &files, HTML).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
<% if many %>
    // The image, its thumbnail and the text file.
    assert_eq!(blob_count(&state).await, others + 3);
<% else %>
    // The image and its thumbnail.
    assert_eq!(blob_count(&state).await, others + 2);
<% endif %>
    let show = text(get(&router, RECORD).await).await;
    assert!(
        show.contains(r#"width="4" height="3" alt="image.png""#),
        "{show}"
    );
    let image = blob_url(&show, "/image.png");
    let original = get(&router, &image).await;
    assert_eq!(original.status(), StatusCode::OK);
    assert_eq!(original.headers()[header::CONTENT_TYPE], "image/png");
    let nosniff = &original.headers()[header::X_CONTENT_TYPE_OPTIONS];
    assert_eq!(nosniff, "nosniff");
    assert_eq!(text_bytes(original).await, PNG);
    let thumbnail = get(&router, &blob_url(&show, "/image-thumbnail.png")).await;
    assert_eq!(thumbnail.status(), StatusCode::OK);
<% if many %>
    let details = r#"notes.txt <span class="blob-details">(TXT, 10 bytes)</span>"#;
    assert!(show.contains(details), "{show}");
    let download = get(&router, &blob_url(&show, "/notes.txt")).await;
    assert_eq!(download.status(), StatusCode::OK);
    let policy = &download.headers()[header::CONTENT_SECURITY_POLICY];
    assert_eq!(policy, "sandbox");
<% endif %>
    let tampered = image.replacen("/blobs/", "/blobs/0", 1);
    let tampered = get(&router, &tampered).await;
    assert_eq!(tampered.status(), StatusCode::NOT_FOUND);

    let old = keys_of(&state, ONE_FIELD).await;
    let form = format!("_method=patch&{UPDATE_FORM}");
    let replacement = [(ONE_FIELD, "other.png", OTHER_PNG)];
    let replaced = post_multipart(&router, RECORD, &form, &replacement, HTML).await;
    assert_eq!(replaced.status(), StatusCode::SEE_OTHER);
    let new = keys_of(&state, ONE_FIELD).await;
    assert_eq!(new.len(), 1);
    assert_ne!(new, old);
    assert!(!stored(&old[0]).await, "the replaced file is purged");
    assert_eq!(get(&router, &image).await.status(), StatusCode::NOT_FOUND);
    let show = text(get(&router, RECORD).await).await;
    let served = get(&router, &blob_url(&show, "/other.png")).await;
    assert_eq!(text_bytes(served).await, OTHER_PNG);
<% if many %>
    assert_eq!(keys_of(&state, MANY_FIELD).await.len(), 1);

    let form = format!("_method=patch&{UPDATE_FORM}&remove_{MANY_FIELD}=1");
    let text_file = keys_of(&state, MANY_FIELD).await;
    let removed = post_multipart(&router, RECORD, &form, &[], HTML).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert!(keys_of(&state, MANY_FIELD).await.is_empty());
    assert!(!stored(&text_file[0]).await, "the removed file is purged");
    assert_eq!(blob_count(&state).await, others + 2);
<% endif %>

    let image = keys_of(&state, ONE_FIELD).await;
    let destroyed = post(&router, RECORD, "_method=delete", HTML).await;
    assert_eq!(destroyed.status(), StatusCode::SEE_OTHER);
    assert_eq!(blob_count(&state).await, 0);
    let purged = !stored(&image[0]).await;
    assert!(purged, "the record's files are purged with it");
}
<% endif %>
<% if one and p %>

/// Destroying the record these belong to deletes them in the database, and their files are
/// purged with them.
#[tokio::test]
async fn destroying_the_<%= p.singular %>_purges_their_files() {
    let (state, router) = app_with_seeds().await;
    create_with_an_image(&router).await;
    let image = keys_of(&state, ONE_FIELD).await;
    assert_eq!(image.len(), 1);
<%= rs_assign(4, "let parent = ", '"/' ~ p.kebab_plural ~ '/1"', ";") %>
    let destroyed = post(&router, parent, "_method=delete", HTML).await;
    assert_eq!(destroyed.status(), StatusCode::SEE_OTHER);
    let purged = !stored(&image[0]).await;
    assert!(purged, "the files go with the records the database deleted");
    assert_eq!(blob_count(&state).await, 0);
}
<% endif %>
<% if r.signed_in and one %>

<% if through_user %>
/// A file of a user's record is served to that user's session alone: to another user, or to a
/// visitor who is not signed in, its signed URL leads nowhere.
#[tokio::test]
async fn another_users_files_are_not_found() {
<% else %>
/// A file of a record that every signed-in user sees is served to each of them, and not to a
/// visitor who is not signed in, as the record's page is not.
#[tokio::test]
async fn a_visitor_is_not_served_the_files() {
<% endif %>
    let (state, router) = app_with_seeds().await;
    create_with_an_image(&router).await;
    let show = text(get(&router, RECORD).await).await;
    let image = blob_url(&show, "/image.png");
    assert_eq!(get(&router, &image).await.status(), StatusCode::OK);
    let other = another_user(&state).await;
<% if through_user %>
    assert_eq!(get(&other, &image).await.status(), StatusCode::NOT_FOUND);
<% else %>
    assert_eq!(get(&other, &image).await.status(), StatusCode::OK);
<% endif %>
    let visitor = app::router(state.clone());
    assert_eq!(get(&visitor, &image).await.status(), StatusCode::NOT_FOUND);
}
<% endif %>
<% if one and one.wrong_kind %>

/// HTML named like an image is judged by its bytes: the form says why and nothing is saved.
#[tokio::test]
async fn a_disguised_file_is_refused_with_the_forms_error() {
    let (state, router) = app_with_seeds().await;
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".as_slice();
    let files = [(ONE_FIELD, "image.png", html)];
    let refused = post_multipart(&router, COLLECTION, CREATE_FORM, &files, HTML).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(refused).await;
    assert!(page.contains(WRONG_KIND), "{page}");
    assert_eq!(blob_count(&state).await, 0);
    assert_eq!(get(&router, RECORD).await.status(), StatusCode::NOT_FOUND);
}
<% endif %>
<% if r.attachments %>
<% set required = r.attachments | selectattr("missing") | list %>

<% if required %>
/// A form sent URL-encoded, as API clients and `curl -d` send it, carries no file: it is refused
/// with the form's error for the file every <%= r.human | lower %> must have, and nothing is written.
#[tokio::test]
async fn an_urlencoded_create_without_its_file_is_a_form_error() {
<% else %>
/// A form sent URL-encoded, as API clients and `curl -d` send it, carries no file, which none of
/// a <%= r.human | lower %>'s file fields needs: it is saved, with no file.
#[tokio::test]
async fn an_urlencoded_create_without_files_is_saved() {
<% endif %>
    let (state, router) = app_with_seeds().await;
    let before = blob_count(&state).await;
    let response = post_urlencoded(&router, COLLECTION, CREATE_FORM, HTML).await;
<% if required %>
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(response).await;
<% filter rs_stmt(4) %>assert!(page.contains("<%= required[0].label %> <%= required[0].missing %>"), "{page}");<% endfilter %>
    assert_eq!(get(&router, RECORD).await.status(), StatusCode::NOT_FOUND);
<% else %>
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(get(&router, RECORD).await.status(), StatusCode::OK);
<% endif %>
    assert_eq!(blob_count(&state).await, before);
}

/// A file over the upload limit is answered with 413, and a body cut short with 400; neither
/// stores a file or saves a record.
#[tokio::test]
async fn an_oversized_or_truncated_upload_saves_nothing() {
    let (state, router) = app_with_seeds().await;
    let limit = usize::try_from(blobs::files().limits.max_bytes).unwrap();
    // A file of a kind the field takes, made longer than the limit.
<% filter rs_stmt(4) %>let field = &<%= r.camel %>::FILE_FIELDS[0];<% endfilter %>
    let (_, filename, bytes) = sample(field.name, field.accept);
    let mut large = bytes.to_vec();
    large.resize(limit + 1, 0);
    let large: &'static [u8] = large.leak();
    let mut files: Vec<FilePart> = required_files()
        .into_iter()
        .filter(|(name, _, _)| *name != FILE_FIELD)
        .collect();
    files.push((FILE_FIELD, filename, large));
    let too_large = post_multipart(&router, COLLECTION, CREATE_FORM, &files, HTML).await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(blob_count(&state).await, 0);
    assert_eq!(get(&router, RECORD).await.status(), StatusCode::NOT_FOUND);

    let mut body = multipart(CREATE_FORM, &[(FILE_FIELD, "cut.png", PNG)]);
    body.truncate(body.len() - 30);
    let truncated = post_body(&router, COLLECTION, body, HTML).await;
    assert_eq!(truncated.status(), StatusCode::BAD_REQUEST);
    assert_eq!(blob_count(&state).await, 0);
    assert_eq!(get(&router, RECORD).await.status(), StatusCode::NOT_FOUND);
}
<% endif %>
