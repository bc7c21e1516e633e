//! The naming rules and the Turbo Stream wire format: DOM ids, stream names, `<turbo-stream>` tags, the responder and the extractor.

use axum::body::to_bytes;
use axum::extract::FromRequestParts;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Request};
use axum::response::IntoResponse;

// The crate is the app's `turbo` module, and these tests call it by that name.
use turbogen_runtime as turbo;
use turbogen_runtime::TurboStream;
use turbogen_runtime::stream::Action;
use turbogen_runtime::stream::TurboStreamHtml;
use turbogen_runtime::stream::TurboStreamResponse;
use turbogen_runtime::{DomId, TurboRequest};

struct Message {
    id: Option<i64>,
}

impl DomId for Message {
    const SINGULAR: &'static str = "message";
    const PLURAL: &'static str = "messages";

    fn dom_key(&self) -> String {
        self.id.map(|id| id.to_string()).unwrap_or_default()
    }
}

struct Room {
    id: i64,
}

impl DomId for Room {
    const SINGULAR: &'static str = "room";
    const PLURAL: &'static str = "rooms";

    fn dom_key(&self) -> String {
        self.id.to_string()
    }
}

#[test]
fn dom_ids_follow_the_rails_rules() {
    let saved = Message { id: Some(42) };
    let unsaved = Message { id: None };
    assert_eq!(turbo::dom_id(&saved), "message_42");
    assert_eq!(turbo::dom_id_prefixed("edit", &saved), "edit_message_42");
    assert_eq!(turbo::dom_id(&unsaved), "new_message");
    assert_eq!(turbo::dom_id_prefixed("edit", &unsaved), "edit_message");
    assert_eq!(turbo::new_dom_id::<Message>(), "new_message");
    assert_eq!(turbo::collection_dom_id::<Message>(), "messages");
    assert_eq!(
        turbo::nested_collection_dom_id::<Message, _>(&Room { id: 7 }),
        "messages_room_7"
    );
    assert_eq!(
        turbo::collection_dom_id_prefixed::<Message>("summary"),
        "summary_messages"
    );
    assert_eq!(
        turbo::nested_collection_dom_id_prefixed::<Message, _>("summary", &Room { id: 7 }),
        "summary_messages_room_7"
    );
    assert_eq!(turbo::key_dom_id::<Message>("5f0c"), "message_5f0c");
}

#[test]
fn stream_names_come_from_the_same_parts() {
    assert_eq!(turbo::stream_name::<Message>(), "messages");
    assert_eq!(
        turbo::nested_stream_name::<Message, _>(&Room { id: 7 }),
        "room:7:messages"
    );
    assert_ne!(
        turbo::nested_stream_name::<Message, _>(&Room { id: 7 }),
        turbo::nested_stream_name::<Message, _>(&Room { id: 8 })
    );
}

#[test]
fn a_parent_names_the_streams_of_what_is_nested_under_it() {
    let room = Room { id: 7 };
    assert!(turbo::nested_stream_names(&room).is_empty());
    turbo::register_nested::<Message, Room>();
    turbo::register_nested::<Message, Room>();
    assert_eq!(
        turbo::nested_stream_names(&room),
        [turbo::nested_stream_name::<Message, _>(&room)]
    );
    // Nothing is nested under a message.
    assert!(turbo::nested_stream_names(&Message { id: Some(1) }).is_empty());
}

#[test]
fn text_is_limited_in_characters() {
    use turbo::forms::text_up_to;
    assert_eq!(text_up_to::<3>("abc").as_deref(), Some("abc"));
    assert_eq!(text_up_to::<3>("abcd"), None);
    // Three characters of two bytes each are still three characters.
    assert_eq!(text_up_to::<3>("ééé").as_deref(), Some("ééé"));
    assert_eq!(text_up_to::<3>("éééé"), None);
    assert_eq!(text_up_to::<3>("").as_deref(), Some(""));
}

#[test]
fn every_action_renders_the_turbo_wire_format() {
    let html = r#"<li id="message_1">Hi</li>"#;
    let cases = [
        (TurboStream::append("messages", html), "append"),
        (TurboStream::prepend("messages", html), "prepend"),
        (TurboStream::replace("messages", html), "replace"),
        (TurboStream::update("messages", html), "update"),
        (TurboStream::before("messages", html), "before"),
        (TurboStream::after("messages", html), "after"),
    ];
    for (stream, action) in cases {
        assert_eq!(stream.action().as_str(), action);
        assert_eq!(
            stream.render(),
            format!(
                r#"<turbo-stream action="{action}" target="messages"><template>{html}</template></turbo-stream>"#
            )
        );
    }
    assert_eq!(TurboStream::remove("message_1").action(), Action::Remove);
    assert_eq!(
        TurboStream::remove("message_1").render(),
        r#"<turbo-stream action="remove" target="message_1"></turbo-stream>"#
    );
    assert_eq!(
        TurboStream::refresh(None).render(),
        r#"<turbo-stream action="refresh"></turbo-stream>"#
    );
    assert_eq!(
        TurboStream::refresh(Some("a1b2")).render(),
        r#"<turbo-stream action="refresh" request-id="a1b2"></turbo-stream>"#
    );
}

#[test]
fn selector_variants_use_the_targets_attribute() {
    let cases = [
        (TurboStream::append_all(".list", "<li>x</li>"), "append"),
        (TurboStream::prepend_all(".list", "<li>x</li>"), "prepend"),
        (TurboStream::replace_all(".list", "<li>x</li>"), "replace"),
        (TurboStream::update_all(".list", "<li>x</li>"), "update"),
        (TurboStream::before_all(".list", "<li>x</li>"), "before"),
        (TurboStream::after_all(".list", "<li>x</li>"), "after"),
    ];
    for (stream, action) in cases {
        assert_eq!(
            stream.render(),
            format!(
                r#"<turbo-stream action="{action}" targets=".list"><template><li>x</li></template></turbo-stream>"#
            )
        );
    }
    assert_eq!(
        TurboStream::remove_all(".pending").render(),
        r#"<turbo-stream action="remove" targets=".pending"></turbo-stream>"#
    );
}

#[test]
fn morph_is_written_only_where_turbo_reads_it() {
    assert_eq!(
        TurboStream::replace("message_1", "<p>x</p>")
            .morph()
            .render(),
        r#"<turbo-stream action="replace" target="message_1" method="morph"><template><p>x</p></template></turbo-stream>"#
    );
    assert_eq!(
        TurboStream::update("message_1", "<p>x</p>")
            .morph()
            .render(),
        r#"<turbo-stream action="update" target="message_1" method="morph"><template><p>x</p></template></turbo-stream>"#
    );
    assert!(
        !TurboStream::append("messages", "<p>x</p>")
            .morph()
            .render()
            .contains("method=")
    );
}

#[test]
fn attributes_are_escaped_and_the_template_is_not() {
    let stream = TurboStream::append(r#"x" onclick="alert(1)"#, "<b>&amp;</b>");
    let tag = stream.render();
    assert!(
        tag.starts_with(r#"<turbo-stream action="append" target="x&#34; onclick=&#34;alert(1)">"#),
        "{tag}"
    );
    assert!(tag.contains("<template><b>&amp;</b></template>"), "{tag}");
    assert!(
        TurboStream::append_all("a[href='<x>']", "")
            .render()
            .contains(r#"targets="a[href=&#39;&#60;x&#62;&#39;]""#)
    );
}

#[tokio::test]
async fn the_responder_sends_the_turbo_stream_content_type() {
    let response = TurboStreamResponse::from(TurboStream::remove("message_1"))
        .and(TurboStream::append("messages", "<li>2</li>"))
        .into_response();
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "text/vnd.turbo-stream.html; charset=utf-8"
    );
    let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    assert_eq!(
        std::str::from_utf8(&body).unwrap(),
        "<turbo-stream action=\"remove\" target=\"message_1\"></turbo-stream>\n\
         <turbo-stream action=\"append\" target=\"messages\"><template><li>2</li></template></turbo-stream>\n"
    );

    let rendered =
        TurboStreamHtml("<turbo-stream action=\"refresh\"></turbo-stream>".into()).into_response();
    assert_eq!(
        rendered.headers()[CONTENT_TYPE],
        "text/vnd.turbo-stream.html; charset=utf-8"
    );

    let single = TurboStream::remove("message_1").into_response();
    assert_eq!(
        single.headers()[CONTENT_TYPE],
        "text/vnd.turbo-stream.html; charset=utf-8"
    );
}

#[tokio::test]
async fn fresh_when_answers_304_to_a_matching_if_none_match() {
    let html = "<turbo-frame id=\"summary_messages\">3 messages</turbo-frame>".to_owned();
    let first = turbo::fresh_when(&HeaderMap::new(), html.clone());
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let body = to_bytes(first.into_body(), usize::MAX).await.unwrap();
    assert_eq!(std::str::from_utf8(&body).unwrap(), html);

    let matching = [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".to_owned(),
    ];
    for listed in matching {
        let mut headers = HeaderMap::new();
        headers.insert("if-none-match", HeaderValue::from_str(&listed).unwrap());
        let again = turbo::fresh_when(&headers, html.clone());
        assert_eq!(again.status(), 304, "{listed}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        let body = to_bytes(again.into_body(), usize::MAX).await.unwrap();
        assert!(body.is_empty());
    }

    let mut headers = HeaderMap::new();
    headers.insert("if-none-match", HeaderValue::from_str(&etag).unwrap());
    let changed = turbo::fresh_when(&headers, html.replace('3', "4"));
    assert_eq!(changed.status(), 200, "new markup has a new tag");
    assert_ne!(changed.headers()["etag"], etag.as_str());
}

fn accept(value: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("accept", HeaderValue::from_static(value));
    headers
}

#[test]
fn a_turbo_stream_request_is_told_by_its_accept_header() {
    assert!(turbo::accepts_turbo_stream(&accept(
        "text/vnd.turbo-stream.html, text/html, application/xhtml+xml"
    )));
    assert!(turbo::accepts_turbo_stream(&accept(
        "text/html; q=0.9, TEXT/VND.TURBO-STREAM.HTML; q=1"
    )));
    assert!(!turbo::accepts_turbo_stream(&accept(
        "text/html, application/xhtml+xml"
    )));
    assert!(!turbo::accepts_turbo_stream(&accept(
        "text/vnd.turbo-stream.html;q=0, text/html"
    )));
    assert!(!turbo::accepts_turbo_stream(&HeaderMap::new()));
}

#[tokio::test]
async fn the_extractor_reads_the_turbo_headers() {
    let request = Request::builder()
        .header("accept", "text/vnd.turbo-stream.html, text/html")
        .header("turbo-frame", "new_message")
        .header("x-turbo-request-id", "0f1e")
        .body(())
        .unwrap();
    let (mut parts, ()) = request.into_parts();
    let turbo = TurboRequest::from_request_parts(&mut parts, &())
        .await
        .unwrap();
    assert_eq!(
        turbo,
        TurboRequest {
            accepts_turbo_stream: true,
            frame: Some("new_message".into()),
            request_id: Some("0f1e".into()),
        }
    );

    let (mut parts, ()) = Request::builder().body(()).unwrap().into_parts();
    assert_eq!(
        TurboRequest::from_request_parts(&mut parts, &())
            .await
            .unwrap(),
        TurboRequest::default()
    );
}
