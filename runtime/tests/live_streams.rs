//! Signed subscriptions and live delivery: signatures, 403 on forgery, SSE events with ids, replay, refresh on gaps and lag, WebSocket.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tower::ServiceExt;

use turbogen_runtime::signed::SignatureError;
use turbogen_runtime::{Broadcaster, InProcess, Signer};

use support::{AppState, REFRESH, TIMEOUT, read_until, router, state_with};

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[derive(Debug)]
struct SseEvent {
    id: Option<String>,
    data: String,
}

/// Reads Server-Sent Events from a response body as a browser's `EventSource` would.
struct SseReader {
    body: Body,
    buffer: String,
}

impl SseReader {
    fn new(response: Response) -> Self {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(response.headers()["x-accel-buffering"], "no");
        SseReader {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event with data; comments such as keep-alives are skipped, as browsers do.
    async fn next(&mut self) -> SseEvent {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                assert!(
                    !block.contains('\r'),
                    "events are framed with LF only: {block:?}"
                );
                let mut id = None;
                let mut data = Vec::new();
                for line in block
                    .lines()
                    .filter(|line| !line.is_empty() && !line.starts_with(':'))
                {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => id = Some(value.to_owned()),
                        "data" => data.push(value),
                        _ => {}
                    }
                }
                if !data.is_empty() {
                    return SseEvent {
                        id,
                        data: data.join("\n"),
                    };
                }
                continue;
            }
            let frame = tokio::time::timeout(TIMEOUT, self.body.frame())
                .await
                .expect("an event arrives in time")
                .expect("the stream stays open")
                .expect("the body reads");
            if let Ok(bytes) = frame.into_data() {
                self.buffer
                    .push_str(std::str::from_utf8(&bytes).expect("events are UTF-8"));
            }
        }
    }

    /// True when the server ends the stream within the timeout.
    async fn ends(&mut self) -> bool {
        loop {
            match tokio::time::timeout(TIMEOUT, self.body.frame()).await {
                Ok(None) => return true,
                Ok(Some(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

async fn get(state: &AppState, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    router(state.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn subscribe(state: &AppState, stream: &str, last_event_id: Option<&str>) -> SseReader {
    let url = state.signer.source_url(stream);
    let mut headers = vec![("accept", "text/event-stream")];
    if let Some(id) = last_event_id {
        headers.push(("last-event-id", id));
    }
    SseReader::new(get(state, &url, &headers).await)
}

fn li(n: u32) -> String {
    format!(
        r#"<turbo-stream action="append" target="messages"><template><li id="message_{n}">{n}</li></template></turbo-stream>"#
    )
}

#[test]
fn signatures_verify_and_tampering_or_expiry_is_refused() {
    let signer = Signer::new("a secret that is long enough for the tests here");
    let signature = signer.sign("messages");
    assert_eq!(signer.verify("messages", &signature), Ok(()));

    assert_eq!(
        signer.verify("room:7:messages", &signature),
        Err(SignatureError::Invalid)
    );
    assert_eq!(
        Signer::new("another secret, equally long enough").verify("messages", &signature),
        Err(SignatureError::Invalid)
    );

    let (expires_at, mac) = signature.split_once("--").unwrap();
    let later = format!("{}--{mac}", expires_at.parse::<u64>().unwrap() + 1000);
    assert_eq!(
        signer.verify("messages", &later),
        Err(SignatureError::Invalid)
    );
    let flipped_char = if mac.starts_with('0') { "1" } else { "0" };
    let flipped = format!("{expires_at}--{flipped_char}{}", &mac[1..]);
    assert_eq!(
        signer.verify("messages", &flipped),
        Err(SignatureError::Invalid)
    );

    let expired = signer.sign_until("messages", unix_now() - 1);
    assert_eq!(
        signer.verify("messages", &expired),
        Err(SignatureError::Expired)
    );
    let short_lived =
        Signer::new("a secret that is long enough for the tests here").with_ttl(Duration::ZERO);
    assert_eq!(
        signer.verify("messages", &short_lived.sign("messages")),
        Err(SignatureError::Expired)
    );

    assert_eq!(signer.verify("messages", ""), Err(SignatureError::Missing));
    assert_eq!(signer.verify("", &signature), Err(SignatureError::Missing));
    assert_eq!(
        signer.verify("messages", "not a signature"),
        Err(SignatureError::Malformed)
    );
    assert_eq!(
        signer.verify("messages", &format!("{expires_at}--zz")),
        Err(SignatureError::Malformed)
    );
}

#[test]
fn the_source_tag_escapes_the_url_and_the_attribute() {
    let signer = Signer::new("a secret that is long enough for the tests here");
    let tag = signer.stream_source_tag("room:7:messages");
    let signature = signer.sign("room:7:messages");
    assert_eq!(
        tag,
        format!(
            r#"<turbo-stream-source src="/turbo/streams?stream=room%3A7%3Amessages&#38;signature={}"></turbo-stream-source>"#,
            signature
        )
    );

    let hostile = signer.stream_source_tag(r#"x"><script>"#);
    assert!(
        !hostile.contains("<script>") && !hostile.contains(r#"x""#),
        "{hostile}"
    );

    let websocket = signer.websocket_source_tag("messages", "wss://example.com/");
    assert!(websocket.starts_with(r#"<turbo-stream-source src="wss://example.com/turbo/streams/ws?stream=messages&#38;signature="#), "{websocket}");
}

#[tokio::test]
async fn forged_subscriptions_are_refused_with_403_and_nothing_streamed() {
    let state = AppState::for_tests();
    let other = Signer::new("somebody else's secret, long enough to sign");
    let valid = state.signer.sign("messages");
    let expired = state.signer.sign_until("messages", unix_now() - 1);
    let forged = [
        "/turbo/streams".to_owned(),
        "/turbo/streams?stream=messages".to_owned(),
        format!("/turbo/streams?signature={valid}"),
        format!("/turbo/streams?stream=rooms&signature={valid}"),
        format!("/turbo/streams?stream=messages&signature={expired}"),
        other.source_url("messages"),
        "/turbo/streams?stream=messages&signature=1--00".to_owned(),
        "/turbo/streams?stream=a&stream=b".to_owned(),
        other
            .source_url("messages")
            .replace("/turbo/streams", "/turbo/streams/ws"),
    ];
    for uri in forged {
        let response = get(&state, &uri, &[("accept", "text/event-stream")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{uri}");
        assert_ne!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(&b"text/event-stream"[..])
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"forbidden", "{uri}");
    }
}

#[tokio::test]
async fn the_authorize_hook_can_refuse_a_validly_signed_stream() {
    let mut state = AppState::for_tests();
    state.signer = state
        .signer
        .clone()
        .authorize(|request| async move { request.stream != "staff" });
    let refused = get(&state, &state.signer.source_url("staff"), &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let allowed = get(&state, &state.signer.source_url("messages"), &[]).await;
    assert_eq!(allowed.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_published_stream_arrives_byte_for_byte_with_an_id() {
    let state = AppState::for_tests();
    let mut reader = subscribe(&state, "messages", None).await;

    state.broadcaster.publish("elsewhere", li(0)).await;
    state.broadcaster.publish("messages", li(1)).await;
    let first = reader.next().await;
    assert_eq!(first.data, li(1));
    let multi_line = "<turbo-stream action=\"append\" target=\"messages\"><template><pre>one\n\ntwo\n</pre></template></turbo-stream>";
    state
        .broadcaster
        .publish("messages", multi_line.to_owned())
        .await;
    let second = reader.next().await;
    assert_eq!(second.data, multi_line);
    assert!(first.id.is_some() && second.id.is_some() && first.id != second.id);

    // Browsers read CRLF in HTML as LF, so a CRLF payload arrives as its LF equivalent.
    state
        .broadcaster
        .publish("messages", "<p>a\r\nb</p>".to_owned())
        .await;
    assert_eq!(reader.next().await.data, "<p>a\nb</p>");

    state
        .broadcaster
        .publish_later("messages".to_owned(), li(2));
    assert_eq!(reader.next().await.data, li(2));
}

#[tokio::test]
async fn reconnecting_with_last_event_id_replays_what_was_missed() {
    let state = AppState::for_tests();
    let mut reader = subscribe(&state, "messages", None).await;
    state.broadcaster.publish("messages", li(1)).await;
    state.broadcaster.publish("messages", li(2)).await;
    assert_eq!(reader.next().await.data, li(1));
    let seen = reader.next().await.id.expect("every event has an id");
    drop(reader);

    state.broadcaster.publish("messages", li(3)).await;
    state.broadcaster.publish("messages", li(4)).await;

    let mut reader = subscribe(&state, "messages", Some(&seen)).await;
    let third = reader.next().await;
    let fourth = reader.next().await;
    assert_eq!(
        (third.data.as_str(), fourth.data.as_str()),
        (li(3).as_str(), li(4).as_str())
    );
    state.broadcaster.publish("messages", li(5)).await;
    assert_eq!(
        reader.next().await.data,
        li(5),
        "live events follow the replay without duplicates"
    );

    // A client that has seen everything gets nothing replayed.
    let mut current = subscribe(&state, "messages", Some(&fourth.id.unwrap())).await;
    let mut up_to_date = subscribe(&state, "messages", None).await;
    drop(reader);
    state.broadcaster.publish("messages", li(6)).await;
    assert_eq!(current.next().await.data, li(5));
    assert_eq!(current.next().await.data, li(6));
    assert_eq!(up_to_date.next().await.data, li(6));
}

#[tokio::test]
async fn a_gap_older_than_the_history_sends_a_refresh() {
    let state = state_with(Broadcaster::new(InProcess::new(3, 64)));
    let mut reader = subscribe(&state, "messages", None).await;
    state.broadcaster.publish("messages", li(1)).await;
    let seen = reader.next().await.id.unwrap();
    drop(reader);
    for n in 2..=6 {
        state.broadcaster.publish("messages", li(n)).await;
    }

    let mut reader = subscribe(&state, "messages", Some(&seen)).await;
    let refresh = reader.next().await;
    assert_eq!(refresh.data, REFRESH);
    state.broadcaster.publish("messages", li(7)).await;
    assert_eq!(reader.next().await.data, li(7));

    // The refresh carries the id of the newest event, so reconnecting after it replays nothing.
    let mut after_refresh = subscribe(&state, "messages", refresh.id.as_deref()).await;
    assert_eq!(after_refresh.next().await.data, li(7));

    // An id from before a restart cannot be replayed either.
    let mut stale = subscribe(&state, "messages", Some("0123456789ab-3")).await;
    assert_eq!(stale.next().await.data, REFRESH);
}

#[tokio::test]
async fn a_lagging_subscriber_gets_a_refresh_instead_of_silence() {
    let state = state_with(Broadcaster::new(InProcess::new(1_000, 2)));
    let mut reader = subscribe(&state, "messages", None).await;
    for n in 1..=10 {
        state.broadcaster.publish("messages", li(n)).await;
    }
    assert_eq!(reader.next().await.data, REFRESH);
    state.broadcaster.publish("messages", li(11)).await;
    assert_eq!(
        reader.next().await.data,
        li(11),
        "events the refresh covered are not sent again"
    );
}

#[tokio::test]
async fn refreshes_are_debounced_per_request_and_carry_its_id() {
    let state = AppState::for_tests();
    let mut reader = subscribe(&state, "tasks", None).await;
    // Three changes made by one request, then one by another page.
    for _ in 0..3 {
        state
            .broadcaster
            .publish_refresh_later("tasks".to_owned(), Some("request-a".to_owned()));
    }
    state
        .broadcaster
        .publish_refresh_later("tasks".to_owned(), Some("request-b".to_owned()));

    let mut refreshes = vec![reader.next().await.data, reader.next().await.data];
    refreshes.sort();
    assert_eq!(
        refreshes,
        [
            r#"<turbo-stream action="refresh" request-id="request-a"></turbo-stream>"#,
            r#"<turbo-stream action="refresh" request-id="request-b"></turbo-stream>"#,
        ]
    );
    // Had the burst been sent three times, the other two would be queued by now.
    tokio::time::sleep(Duration::from_millis(200)).await;
    state.broadcaster.publish("tasks", li(1)).await;
    assert_eq!(reader.next().await.data, li(1), "one refresh per burst");

    // Once sent, a later change gets a refresh of its own.
    state
        .broadcaster
        .publish_refresh_later("tasks".to_owned(), Some("request-a".to_owned()));
    assert_eq!(
        reader.next().await.data,
        r#"<turbo-stream action="refresh" request-id="request-a"></turbo-stream>"#
    );
}

#[tokio::test]
async fn shutdown_ends_open_streams() {
    let state = AppState::for_tests();
    let mut reader = subscribe(&state, "messages", None).await;
    state.broadcaster.shutdown();
    assert!(reader.ends().await);
}

async fn open_sse(
    address: std::net::SocketAddr,
    path: &str,
    last_event_id: Option<&str>,
) -> (TcpStream, String) {
    let mut connection = TcpStream::connect(address).await.unwrap();
    let last_event_id = last_event_id
        .map(|id| format!("Last-Event-ID: {id}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n{last_event_id}\r\n"
    );
    connection.write_all(request.as_bytes()).await.unwrap();
    let mut received = String::new();
    read_until(&mut connection, &mut received, "\r\n\r\n").await;
    (connection, received)
}

#[tokio::test]
async fn a_running_server_streams_and_replays_over_real_connections() {
    let state = AppState::for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, router(state.clone())).into_future());
    let path = state.signer.source_url("messages");

    let (mut connection, mut received) = open_sse(address, &path, None).await;
    assert!(received.starts_with("HTTP/1.1 200 OK\r\n"), "{received}");
    assert!(
        received
            .to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{received}"
    );
    state.broadcaster.publish("messages", li(1)).await;
    read_until(
        &mut connection,
        &mut received,
        &format!("data: {}\n\n", li(1)),
    )
    .await;
    let id_line = received
        .lines()
        .find(|line| line.starts_with("id: "))
        .expect("the event has an id");
    let last_event_id = id_line.trim_start_matches("id: ").to_owned();
    drop(connection);

    state.broadcaster.publish("messages", li(2)).await;
    let (mut connection, mut received) = open_sse(address, &path, Some(&last_event_id)).await;
    read_until(
        &mut connection,
        &mut received,
        &format!("data: {}\n\n", li(2)),
    )
    .await;
    assert!(
        !received.contains(&li(1)),
        "events before Last-Event-ID are not sent again"
    );

    let forged = path.replace("signature=", "signature=1");
    let (_, refused) = open_sse(address, &forged, None).await;
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");

    // The WebSocket endpoint checks the same signature and sends each stream as a text message.
    let websocket_url = format!(
        "ws://{address}{}",
        path.replace("/turbo/streams", "/turbo/streams/ws")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(websocket_url.as_str())
        .await
        .unwrap();
    state.broadcaster.publish("messages", li(3)).await;
    let message = tokio::time::timeout(TIMEOUT, socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(message.into_text().unwrap().as_str(), li(3));
    socket.close(None).await.unwrap();

    let forged_websocket = format!(
        "ws://{address}{}",
        forged.replace("/turbo/streams", "/turbo/streams/ws")
    );
    match tokio_tungstenite::connect_async(forged_websocket.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN)
        }
        other => panic!("a forged WebSocket subscription must be refused with 403, got {other:?}"),
    }
}
