//! Attacks on the live streams, each sent as a hostile client would: large events that would grow
//! the replay history without bound, oversized WebSocket messages, and WebSocket upgrades from
//! another site's pages.

mod support;

use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use turbogen_runtime::broadcast::{
    DEFAULT_HISTORY_BYTES, DEFAULT_HISTORY_TOTAL_BYTES, HistoryLimits, LIVE_INLINE_BYTES,
    LIVE_LARGE_BYTES,
};
use turbogen_runtime::source::MAX_WEBSOCKET_MESSAGE;
use turbogen_runtime::{Broadcaster, Delivery, InProcess};

use support::{
    AppState, REFRESH, TIMEOUT, large_event as large, next, read_until, router, state_with,
};

/// Subscribes from `last_event_id` and returns the first delivery.
async fn first_after(broadcaster: &Broadcaster, stream: &str, last_event_id: &str) -> Delivery {
    let mut subscription = broadcaster
        .subscribe(stream, Some(last_event_id))
        .await
        .unwrap();
    next(&mut subscription).await
}

fn is_refresh(delivery: &Delivery) -> bool {
    matches!(delivery, Delivery::Refresh { .. })
}

#[tokio::test]
async fn large_events_to_one_stream_stay_within_its_byte_budget() {
    let broadcaster = Broadcaster::in_process();
    let mut live = broadcaster.subscribe("messages", None).await.unwrap();
    let mut ids = Vec::new();
    for n in 0..50 {
        broadcaster.publish("messages", large(n, 200 * 1024)).await;
        ids.push(next(&mut live).await.id().to_owned());
        assert!(
            broadcaster.history_bytes() <= DEFAULT_HISTORY_BYTES,
            "after {} events the history holds {} bytes",
            n + 1,
            broadcaster.history_bytes()
        );
    }
    assert!(broadcaster.history_bytes() > DEFAULT_HISTORY_BYTES / 2);

    // The oldest positions were evicted: a client reconnecting from one is told to refresh.
    let evicted = first_after(&broadcaster, "messages", &ids[0]).await;
    assert!(is_refresh(&evicted), "{evicted:?}");
    assert_eq!(
        evicted.id(),
        ids[49],
        "the refresh accounts for the newest event"
    );
    // A recent position is still replayed.
    let Delivery::Event { id, payload } = first_after(&broadcaster, "messages", &ids[47]).await
    else {
        panic!("a recent position replays");
    };
    assert_eq!(
        (id.as_ref(), payload.as_ref()),
        (ids[48].as_str(), large(48, 200 * 1024).as_str())
    );
}

#[tokio::test]
async fn subscribers_that_stop_reading_cannot_make_the_process_keep_what_they_skipped() {
    // One subscriber per stream that never reads, as a client whose TCP window stays shut, and a
    // stream of large events to each: the live channels would hold 256 of them per stream.
    let broadcaster = Broadcaster::in_process();
    let streams = ["a", "b", "c", "d"];
    let mut stalled = Vec::new();
    for stream in streams {
        stalled.push(broadcaster.subscribe(stream, None).await.unwrap());
    }
    for n in 0..100 {
        for stream in streams {
            broadcaster.publish(stream, large(n, 64 * 1024)).await;
        }
        assert!(
            broadcaster.live_bytes() <= LIVE_LARGE_BYTES,
            "after {} rounds the live channels hold {} bytes",
            n + 1,
            broadcaster.live_bytes()
        );
    }
    assert!(broadcaster.live_bytes() > LIVE_LARGE_BYTES / 2);

    // The stalled subscriber that reads again learns it missed events: a refresh, then live.
    let reader = &mut stalled[0];
    let first = next(reader).await;
    assert!(is_refresh(&first), "{first:?}");
    broadcaster.publish("a", large(100, 64 * 1024)).await;
    let Delivery::Event { payload, .. } = next(reader).await else {
        panic!("after the refresh, events arrive live");
    };
    assert_eq!(payload.as_ref(), large(100, 64 * 1024));

    // Small events ride in the channel itself and take nothing from the large budget.
    drop(stalled);
    assert_eq!(broadcaster.live_bytes(), 0, "gone with their subscribers");
    let mut small = broadcaster.subscribe("a", None).await.unwrap();
    for n in 0..10 {
        broadcaster
            .publish("a", large(n, LIVE_INLINE_BYTES / 2))
            .await;
    }
    assert_eq!(broadcaster.live_bytes(), 0);
    for n in 0..10 {
        let Delivery::Event { payload, .. } = next(&mut small).await else {
            panic!("small events arrive in order");
        };
        assert_eq!(payload.as_ref(), large(n, LIVE_INLINE_BYTES / 2));
    }
}

#[tokio::test]
async fn a_forgotten_stream_refreshes_its_pages_and_keeps_nothing() {
    // The stream of a deleted room's messages: its page gets a refresh, its history goes.
    let broadcaster = Broadcaster::in_process();
    let mut ids = Vec::new();
    let mut live = broadcaster
        .subscribe("messages_room_7", None)
        .await
        .unwrap();
    for n in 0..5 {
        broadcaster.publish("messages_room_7", large(n, 1024)).await;
        ids.push(next(&mut live).await.id().to_owned());
    }
    broadcaster.publish("rooms", large(9, 1024)).await;
    let rooms = broadcaster.history_bytes();
    broadcaster.refresh_and_forget_later("messages_room_7".to_owned());
    let gone = next(&mut live).await;
    let Delivery::Event { payload, .. } = &gone else {
        panic!("the page is told with a refresh event: {gone:?}");
    };
    assert_eq!(payload.as_ref(), REFRESH);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while broadcaster.history_bytes() * 5 > rooms * 6 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the history is dropped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        broadcaster.history_bytes() <= rooms,
        "only the other stream's history is kept"
    );
    assert!(is_refresh(
        &first_after(&broadcaster, "messages_room_7", &ids[1]).await
    ));

    // Made again once nobody follows it, the stream never reuses a forgotten id: a reconnect
    // from one is a refresh, not a replay of some other event.
    drop(live);
    broadcaster.refresh_and_forget("messages_room_7").await;
    for n in 0..5 {
        broadcaster
            .publish("messages_room_7", large(n + 10, 1024))
            .await;
    }
    for id in &ids {
        let after = first_after(&broadcaster, "messages_room_7", id).await;
        assert!(is_refresh(&after), "{id}: {after:?}");
    }
}

#[tokio::test]
async fn events_larger_than_the_stream_budget_are_delivered_live_but_never_kept() {
    // Twenty bodies of 2 MB each: before the byte budget they grew the process by hundreds of MB.
    let state = state_with(Broadcaster::in_process());
    let broadcaster = &state.broadcaster;
    broadcaster.publish("messages", large(0, 10)).await;
    let mut live = broadcaster.subscribe("messages", None).await.unwrap();
    let before_the_flood = first_after(broadcaster, "messages", "unknown").await;
    for n in 1..=20 {
        broadcaster
            .publish("messages", large(n, 2 * 1024 * 1024))
            .await;
        let Delivery::Event { payload, .. } = next(&mut live).await else {
            panic!("a live subscriber gets every event");
        };
        assert_eq!(payload.len(), large(n, 2 * 1024 * 1024).len());
        assert_eq!(broadcaster.history_bytes(), 0, "nothing that large is kept");
    }
    // A client that last saw the event before the flood cannot replay across it: a refresh.
    let mut reconnect = broadcaster
        .subscribe("messages", Some(before_the_flood.id()))
        .await
        .unwrap();
    assert!(is_refresh(&next(&mut reconnect).await));
    // The same over the SSE endpoint: the refresh stream, not silence.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, router(state.clone())).into_future());
    let refresh = format!("data: {REFRESH}\n\n");
    let response = sse(address, &state, "messages", before_the_flood.id(), &refresh).await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
}

/// Opens the SSE endpoint on a real connection and reads until `needle` has arrived.
async fn sse(
    address: SocketAddr,
    state: &AppState,
    stream: &str,
    last_event_id: &str,
    needle: &str,
) -> String {
    use tokio::io::AsyncWriteExt;
    let path = state.signer.source_url(stream);
    let mut connection = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\nLast-Event-ID: {last_event_id}\r\n\r\n"
    );
    connection.write_all(request.as_bytes()).await.unwrap();
    let mut received = String::new();
    read_until(&mut connection, &mut received, needle).await;
    received
}

#[tokio::test]
async fn large_events_to_many_streams_stay_within_the_total_budget() {
    let broadcaster = Broadcaster::in_process();
    let mut first_ids = Vec::new();
    let mut last_ids = Vec::new();
    for stream in 0..100 {
        let name = format!("room_{stream}");
        let mut live = broadcaster.subscribe(&name, None).await.unwrap();
        for n in 0..4 {
            broadcaster.publish(&name, large(n, 200 * 1024)).await;
            let id = next(&mut live).await.id().to_owned();
            if n == 0 {
                first_ids.push(id.clone());
            }
            if n == 2 {
                last_ids.push(id);
            }
            assert!(
                broadcaster.history_bytes() <= DEFAULT_HISTORY_TOTAL_BYTES,
                "the histories hold {} bytes",
                broadcaster.history_bytes()
            );
        }
    }
    assert!(broadcaster.history_bytes() > DEFAULT_HISTORY_TOTAL_BYTES - 1024 * 1024);

    // The oldest events of the process went first, whatever their stream.
    let oldest = first_after(&broadcaster, "room_0", &first_ids[0]).await;
    assert!(is_refresh(&oldest), "{oldest:?}");
    let newest = first_after(&broadcaster, "room_99", &first_ids[99]).await;
    assert!(!is_refresh(&newest), "{newest:?}");
    let newest = first_after(&broadcaster, "room_99", &last_ids[99]).await;
    assert!(!is_refresh(&newest), "{newest:?}");
}

#[tokio::test]
async fn the_total_budget_evicts_the_oldest_events_of_the_process_first() {
    let limits = HistoryLimits {
        events: 1_000,
        bytes: 10_000,
        total_bytes: 20_000,
    };
    let broadcaster = Broadcaster::new(InProcess::with_limits(limits, 64));
    let mut ids = Vec::new();
    for (n, stream) in ["a", "b", "a", "c", "b", "c"].into_iter().enumerate() {
        let mut live = broadcaster.subscribe(stream, None).await.unwrap();
        broadcaster.publish(stream, large(n, 4_000)).await;
        ids.push(next(&mut live).await.id().to_owned());
        assert!(broadcaster.history_bytes() <= limits.total_bytes);
    }
    // Six events of about 4 kB in a 20 kB budget: the two oldest of the process, the first of
    // `a` and the first of `b`, made room; `c` lost nothing.
    let epoch = ids[0].rsplit_once('-').unwrap().0;
    let from_the_start = format!("{epoch}-0");
    assert!(is_refresh(
        &first_after(&broadcaster, "a", &from_the_start).await
    ));
    assert!(is_refresh(
        &first_after(&broadcaster, "b", &from_the_start).await
    ));
    assert_eq!(
        first_after(&broadcaster, "c", &from_the_start).await.id(),
        ids[3]
    );
    assert_eq!(first_after(&broadcaster, "a", &ids[0]).await.id(), ids[2]);
    assert_eq!(first_after(&broadcaster, "b", &ids[1]).await.id(), ids[4]);
    let kept: usize = [2, 3, 4, 5]
        .into_iter()
        .map(|n| ids[n].len() + large(n, 4_000).len())
        .sum();
    assert_eq!(broadcaster.history_bytes(), kept);
}

/// Serves the stream endpoints on a real port, as a running app does.
async fn serve() -> (AppState, SocketAddr) {
    let state = state_with(Broadcaster::in_process());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, router(state.clone())).into_future());
    (state, address)
}

fn websocket_url(state: &AppState, address: SocketAddr, stream: &str) -> String {
    let path = state.signer.source_url(stream);
    format!(
        "ws://{address}{}",
        path.replace("/turbo/streams", "/turbo/streams/ws")
    )
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect_from(url: &str, origin: Option<&str>) -> Result<Socket, WsError> {
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn receives(socket: &mut Socket, state: &AppState, stream: &str, html: &str) {
    state.broadcaster.publish(stream, html.to_owned()).await;
    let message = tokio::time::timeout(TIMEOUT, socket.next())
        .await
        .expect("a message arrives in time")
        .expect("the socket stays open")
        .expect("the message reads");
    assert_eq!(message.into_text().unwrap().as_str(), html);
}

#[tokio::test]
async fn a_websocket_message_over_the_limit_closes_the_socket() {
    let (state, address) = serve().await;
    let url = websocket_url(&state, address, "messages");
    let mut socket = connect_from(&url, None).await.unwrap();
    // A small message is ignored and the socket stays open.
    socket.send(Message::text("hello")).await.unwrap();
    receives(&mut socket, &state, "messages", &large(1, 10)).await;

    // A 1 MiB message closes it; the server stops sending.
    let attack = "x".repeat(1024 * 1024);
    assert!(attack.len() > MAX_WEBSOCKET_MESSAGE);
    let _ = socket.send(Message::text(attack)).await;
    assert_closed_by_the_server(&mut socket).await;
}

/// Waits until the server closes `socket`, whatever it sent before.
async fn assert_closed_by_the_server<S>(socket: &mut S)
where
    S: futures_util::Stream<Item = Result<Message, WsError>> + Unpin,
{
    let closed = tokio::time::timeout(TIMEOUT, async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server closes the socket");
}

#[tokio::test]
async fn a_websocket_frame_over_the_limit_closes_the_socket() {
    let (state, address) = serve().await;
    let url = websocket_url(&state, address, "messages");
    let mut socket = connect_from(&url, None).await.unwrap();
    // Just over the limit, as one binary frame.
    let _ = socket
        .send(Message::binary(vec![0u8; MAX_WEBSOCKET_MESSAGE + 1]))
        .await;
    assert_closed_by_the_server(&mut socket).await;
}

#[tokio::test]
async fn a_websocket_upgrade_from_another_origin_is_refused() {
    let (state, address) = serve().await;
    let url = websocket_url(&state, address, "messages");
    for origin in [
        "http://evil.example",
        "https://evil.example",
        &format!("http://{address}.evil.example"),
        "null",
        "",
    ] {
        match connect_from(&url, Some(origin)).await {
            Err(WsError::Http(response)) => {
                assert_eq!(response.status(), 403, "Origin: {origin:?}");
                let body = response.body().clone().unwrap_or_default();
                assert!(
                    !String::from_utf8_lossy(&body).contains("turbo-stream"),
                    "nothing is streamed"
                );
            }
            other => panic!("Origin: {origin:?} must get 403, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_same_origin_websocket_upgrade_still_streams() {
    let (state, address) = serve().await;
    let url = websocket_url(&state, address, "messages");
    // Scheme-agnostic, as the cross-site check of forms: TLS may end at a proxy.
    for origin in [
        format!("http://{address}"),
        format!("https://{address}"),
        format!("HTTP://{}", address.to_string().to_uppercase()),
    ] {
        let mut socket = connect_from(&url, Some(&origin)).await.unwrap();
        receives(&mut socket, &state, "messages", &large(1, 10)).await;
        socket.close(None).await.unwrap();
    }
    // A client that is not a browser page sends no Origin.
    let mut socket = connect_from(&url, None).await.unwrap();
    receives(&mut socket, &state, "messages", &large(2, 10)).await;
}
