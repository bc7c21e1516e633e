//! Streams at scale: no gap between a page's render and its subscription (SSE and WebSocket, in
//! process and on Redis), idle streams let go in process and in Redis, publishes ordered per
//! stream without a lock across streams, and a page that outlives its signature kept current.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tower::ServiceExt;

use turbogen_runtime::broadcast::HistoryLimits;
use turbogen_runtime::redis::Redis;
use turbogen_runtime::{Broadcaster, Delivery, InProcess, Signer};

use support::{AppState, REFRESH, RedisServer, TIMEOUT, next, router, state_with};

fn li(n: usize) -> String {
    format!(
        r#"<turbo-stream action="append" target="messages"><template><li id="message_{n}">{n}</li></template></turbo-stream>"#
    )
}

/// The `src` of a rendered `<turbo-stream-source>`, attribute unescaped as a browser reads it.
fn src_of(tag: &str) -> String {
    let start = tag.find(" src=\"").expect("the tag has a src") + 6;
    let end = start + tag[start..].find('"').unwrap();
    tag[start..end].replace("&#38;", "&")
}

/// The `id` of a rendered `<turbo-stream-source>`.
fn id_of(tag: &str) -> String {
    let start = tag.find(" id=\"").expect("the tag has an id") + 5;
    let end = start + tag[start..].find('"').unwrap();
    tag[start..end].to_owned()
}

/// One Server-Sent Event: its `id:` if it has one, and its data.
#[derive(Debug)]
struct SseEvent {
    id: Option<String>,
    data: String,
}

/// Reads the events of an SSE response body as `EventSource` does, skipping comments.
struct SseReader {
    body: Body,
    buffer: String,
}

impl SseReader {
    fn new(response: Response) -> Self {
        assert_eq!(response.status(), StatusCode::OK);
        SseReader {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event, or `None` when the server ended the stream.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = Vec::new();
                for line in block.lines().filter(|line| !line.starts_with(':')) {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => id = Some(value.to_owned()),
                        "data" => data.push(value),
                        _ => {}
                    }
                }
                if !data.is_empty() {
                    return Some(SseEvent {
                        id,
                        data: data.join("\n"),
                    });
                }
                continue;
            }
            let frame = tokio::time::timeout(TIMEOUT, self.body.frame())
                .await
                .expect("an event or the end arrives in time");
            // The server ended the stream.
            let frame = frame?;
            if let Ok(bytes) = frame.expect("the body reads").into_data() {
                self.buffer.push_str(std::str::from_utf8(&bytes).unwrap());
            }
        }
    }

    async fn event(&mut self) -> SseEvent {
        self.next().await.expect("the stream stays open")
    }
}

async fn get(state: &AppState, uri: &str) -> Response {
    let request = Request::get(uri)
        .header("accept", "text/event-stream")
        .body(Body::empty())
        .unwrap();
    router(state.clone()).oneshot(request).await.unwrap()
}

async fn serve(state: &AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, router(state.clone())).into_future());
    address
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn message(socket: &mut Socket) -> Option<String> {
    let message = tokio::time::timeout(TIMEOUT, socket.next())
        .await
        .expect("a message or the close arrives in time")?;
    match message {
        Ok(tokio_tungstenite::tungstenite::Message::Text(text)) => Some(text.as_str().to_owned()),
        Ok(tokio_tungstenite::tungstenite::Message::Close(_)) | Err(_) => None,
        Ok(other) => panic!("unexpected message {other:?}"),
    }
}

/// A page renders `stream` (its position taken first, as a handler does), ten events are
/// published before its subscription opens, and `publisher` publishes them: the first
/// connection delivers all ten once, in order, and then the next live event, over SSE and
/// over a WebSocket. Events from before the render are not replayed.
async fn render_then_subscribe(page: AppState, publisher: Broadcaster, stream: &str) {
    let address = serve(&page).await;
    for (round, websocket) in [(0, false), (1, true)] {
        // What the stream held before the page was rendered is already on the page.
        publisher.publish(stream, li(1_000 + round)).await;
        let position = page.broadcaster.position(stream).await;
        assert!(
            position.is_some(),
            "the backend knows the stream's position"
        );
        let base = format!("ws://{address}");
        let tag = if websocket {
            page.signer
                .websocket_source_tag_since(stream, &base, position.as_deref())
        } else {
            page.signer
                .stream_source_tag_since(stream, position.as_deref())
        };
        let src = src_of(&tag);
        assert!(src.contains("&since="), "{src}");
        let events: Vec<String> = (round * 100..round * 100 + 10).map(li).collect();
        for event in &events {
            publisher.publish(stream, event.clone()).await;
        }
        let after = li(round * 100 + 50);
        if websocket {
            let (mut socket, _) = tokio_tungstenite::connect_async(src.as_str())
                .await
                .unwrap();
            for event in &events {
                assert_eq!(message(&mut socket).await.as_deref(), Some(event.as_str()));
            }
            publisher.publish(stream, after.clone()).await;
            assert_eq!(message(&mut socket).await, Some(after), "nothing twice");
        } else {
            let mut reader = SseReader::new(get(&page, &src).await);
            for event in &events {
                let received = reader.event().await;
                assert_eq!(&received.data, event);
                assert!(received.id.is_some());
            }
            publisher.publish(stream, after.clone()).await;
            assert_eq!(reader.event().await.data, after, "nothing twice");
        }
    }
}

#[tokio::test]
async fn events_between_the_render_and_the_subscription_arrive_once_in_process() {
    let state = AppState::for_tests();
    render_then_subscribe(state.clone(), state.broadcaster.clone(), "messages").await;
    // A stream another page made and forgot meanwhile does not disturb this one's position.
    state.broadcaster.publish("other", li(7)).await;
    state.broadcaster.refresh_and_forget("other").await;
    render_then_subscribe(state.clone(), state.broadcaster.clone(), "rooms").await;
}

#[tokio::test]
async fn events_between_the_render_and_the_subscription_arrive_once_on_redis() {
    let server = RedisServer::start();
    let connect =
        || Broadcaster::new(Redis::connect(&server.url(), HistoryLimits::default(), 64).unwrap());
    let page = state_with(connect());
    let elsewhere = connect();
    // Published on this instance, then on another one sharing the Redis.
    render_then_subscribe(page.clone(), page.broadcaster.clone(), "messages").await;
    render_then_subscribe(page.clone(), elsewhere, "rooms").await;
    // A stream nothing was ever published to starts at `0-0`: everything it gets is new.
    assert_eq!(
        page.broadcaster.position("never").await.as_deref(),
        Some("0-0")
    );
}

#[tokio::test]
async fn a_malformed_position_is_refused() {
    let state = AppState::for_tests();
    let url = state.signer.source_url("messages");
    for since in ["", "a%20b", "1-1%0A", &"1".repeat(65)] {
        let response = get(&state, &format!("{url}&since={since}")).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{since:?}");
    }
    let longest = "1".repeat(64);
    let response = get(&state, &format!("{url}&since={longest}")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Polls `done` until it holds, for at most [`TIMEOUT`].
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !done() {
        assert!(Instant::now() < deadline, "{what} did not happen in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn idle_streams_are_let_go_in_process_and_a_reconnect_gets_a_refresh() {
    let idle = Duration::from_millis(300);
    let broadcaster =
        Broadcaster::new(InProcess::with_limits(HistoryLimits::default(), 64).with_idle(idle));
    let mut followed = broadcaster.subscribe("followed", None).await.unwrap();
    let mut earlier = broadcaster.subscribe("room:0", None).await.unwrap();
    for n in 0..10_000 {
        broadcaster.publish(&format!("room:{n}"), li(n)).await;
    }
    broadcaster.publish("room:0", li(1)).await;
    let first = next(&mut earlier).await.id().to_owned();
    let newest = next(&mut earlier).await.id().to_owned();
    drop(earlier);
    assert_eq!(broadcaster.stream_count(), 10_001);
    assert!(broadcaster.history_bytes() > 10_000 * li(0).len());

    eventually("the idle streams' eviction", || {
        broadcaster.stream_count() == 1
    })
    .await;
    assert_eq!(broadcaster.history_bytes(), 0);

    // The followed stream is kept and still delivers.
    broadcaster.publish("followed", li(2)).await;
    assert!(matches!(next(&mut followed).await, Delivery::Event { .. }));

    // A page that missed an event of a stream let go cannot replay it: it refreshes.
    let mut missed = broadcaster.subscribe("room:0", Some(&first)).await.unwrap();
    let refresh = next(&mut missed).await;
    assert!(matches!(refresh, Delivery::Refresh { .. }), "{refresh:?}");
    // One that had seen everything has nothing to catch up on, and new events follow.
    let mut current = broadcaster
        .subscribe("room:0", Some(&newest))
        .await
        .unwrap();
    broadcaster.publish("room:0", li(3)).await;
    let Delivery::Event { id, payload } = next(&mut current).await else {
        panic!("a live event follows");
    };
    assert_eq!(payload.as_ref(), li(3));
    assert_ne!(id.as_ref(), newest, "ids are never handed out twice");
}

#[tokio::test]
async fn redis_keys_expire_and_an_instance_unfollows_streams_nobody_here_follows() {
    let server = RedisServer::start();
    let key = "turbogen-runtime:turbo:messages";
    let sizes = "turbogen-runtime:turbo-bytes:messages";
    let connect = |expiry: Option<Duration>| {
        let redis = Redis::connect(&server.url(), HistoryLimits::default(), 64).unwrap();
        Broadcaster::new(match expiry {
            Some(expiry) => redis.with_expiry(expiry),
            None => redis,
        })
    };

    // By default a stream's keys live a day after its last publish.
    let default = connect(None);
    default.publish("messages", li(0)).await;
    for key in [key, sizes] {
        let ttl: u64 = server.cli(&["TTL", key]).trim().parse().unwrap();
        assert!((86_000..=86_400).contains(&ttl), "{key}: {ttl}");
    }

    let short = connect(Some(Duration::from_millis(500)));
    let mut live = short.subscribe("messages", None).await.unwrap();
    assert_eq!(short.stream_count(), 1);
    short.publish("messages", li(1)).await;
    let seen = next(&mut live).await.id().to_owned();
    short.publish("messages", li(2)).await;
    next(&mut live).await;
    for key in [key, sizes] {
        let ttl: i64 = server.cli(&["PTTL", key]).trim().parse().unwrap();
        assert!((1..=500).contains(&ttl), "{key}: {ttl}");
    }

    // The last subscriber here leaves: the instance unsubscribes from the stream's channel.
    drop(live);
    eventually("the unsubscription", || short.stream_count() == 0).await;
    let subscribers = server.cli(&["PUBSUB", "NUMSUB", key]);
    assert_eq!(subscribers.lines().nth(1), Some("0"), "{subscribers}");

    eventually("the keys' expiry", || {
        server.cli(&["EXISTS", key, sizes]).trim() == "0"
    })
    .await;
    // A page that missed an event of an expired stream refreshes.
    let mut missed = short.subscribe("messages", Some(&seen)).await.unwrap();
    let refresh = next(&mut missed).await;
    assert!(matches!(refresh, Delivery::Refresh { .. }), "{refresh:?}");

    // Following the stream again brings its events from other instances again.
    default.publish("messages", li(3)).await;
    let Delivery::Event { payload, .. } = next(&mut missed).await else {
        panic!("the stream is followed again");
    };
    assert_eq!(payload.as_ref(), li(3));
}

#[tokio::test]
async fn concurrent_publishes_keep_each_streams_order_on_every_instance() {
    let server = RedisServer::start();
    let connect = || {
        Broadcaster::new(Redis::connect(&server.url(), HistoryLimits::default(), 1_024).unwrap())
    };
    let publisher = connect();
    let other = connect();
    let streams: Vec<String> = (0..4).map(|n| format!("room:{n}")).collect();
    let mut subscriptions = Vec::new();
    for stream in &streams {
        for instance in [&publisher, &other] {
            subscriptions.push((
                stream.clone(),
                instance.subscribe(stream, None).await.unwrap(),
            ));
        }
    }
    let mut tasks = Vec::new();
    for stream in &streams {
        for n in 0..50 {
            let publisher = publisher.clone();
            let stream = stream.clone();
            tasks.push(tokio::spawn(async move {
                publisher.publish(&stream, li(n)).await
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    for (stream, subscription) in &mut subscriptions {
        let mut previous = (0, 0);
        let mut payloads = Vec::new();
        for _ in 0..50 {
            let Delivery::Event { id, payload } = next(subscription).await else {
                panic!("{stream}: every event arrives, none is refreshed over");
            };
            let (ms, seq) = id.split_once('-').unwrap();
            let id = (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap());
            assert!(id > previous, "{stream}: ids arrive in order");
            previous = id;
            payloads.push(payload.to_string());
        }
        payloads.sort();
        let mut expected: Vec<String> = (0..50).map(li).collect();
        expected.sort();
        assert_eq!(payloads, expected, "{stream}: each event once");
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_page_open_past_its_signatures_expiry_is_refreshed_and_keeps_receiving() {
    let mut state = AppState::for_tests();
    state.signer = Signer::new("a fixed test secret that is long enough to sign with")
        .with_ttl(Duration::from_secs(2));
    let address = serve(&state).await;

    let position = state.broadcaster.position("messages").await;
    let tag = state
        .signer
        .stream_source_tag_since("messages", position.as_deref());
    let src = src_of(&tag);
    let websocket_src = src_of(&state.signer.websocket_source_tag_since(
        "messages",
        &format!("ws://{address}"),
        position.as_deref(),
    ));
    let signature = src.split("signature=").nth(1).unwrap();
    let expires_at: u64 = signature.split_once("--").unwrap().0.parse().unwrap();

    let mut reader = SseReader::new(get(&state, &src).await);
    let (mut socket, _) = tokio_tungstenite::connect_async(websocket_src.as_str())
        .await
        .unwrap();
    state.broadcaster.publish("messages", li(1)).await;
    let first = reader.event().await;
    assert_eq!(first.data, li(1));
    assert_eq!(message(&mut socket).await, Some(li(1)));

    // Shortly before the signature expires, both connections tell the page to refresh, then end.
    let refresh = reader.event().await;
    assert_eq!(refresh.data, REFRESH);
    assert_eq!(
        refresh.id, None,
        "a reconnect still resumes from the last event"
    );
    assert!(
        reader.next().await.is_none(),
        "the stream ends at the expiry"
    );
    assert!(unix_now() >= expires_at);
    assert_eq!(message(&mut socket).await.as_deref(), Some(REFRESH));
    assert_eq!(
        message(&mut socket).await,
        None,
        "the socket closes at the expiry"
    );

    // The expired subscription admits nobody any more: a reconnect with it is refused.
    assert_eq!(get(&state, &src).await.status(), StatusCode::FORBIDDEN);

    // The refresh renders the page again, with a tag of another id (so Turbo's morph replaces
    // the element and it connects anew) and a fresh signature. An event published after the
    // old expiry, before the new connection opens, arrives.
    let position = state.broadcaster.position("messages").await;
    let fresh = state
        .signer
        .stream_source_tag_since("messages", position.as_deref());
    assert_ne!(id_of(&fresh), id_of(&tag));
    state.broadcaster.publish("messages", li(2)).await;
    let mut reader = SseReader::new(get(&state, &src_of(&fresh)).await);
    assert_eq!(reader.event().await.data, li(2));
}

#[tokio::test]
async fn a_time_to_live_beyond_the_clock_still_streams() {
    let mut state = AppState::for_tests();
    state.signer =
        Signer::new("a fixed test secret that is long enough to sign with").with_ttl(Duration::MAX);
    let mut reader = SseReader::new(get(&state, &state.signer.source_url("messages")).await);
    state.broadcaster.publish("messages", li(1)).await;
    assert_eq!(reader.event().await.data, li(1));
}
