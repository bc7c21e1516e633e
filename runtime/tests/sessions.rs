//! Subscriptions bound to a session: a tag copied to another session, kept after sign-out or
//! tampered with is refused, and revoking a session closes its open SSE and WebSocket streams
//! within a second, on one instance and across two instances sharing a real `redis-server`.

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tower::ServiceExt;

use turbogen_runtime::broadcast::HistoryLimits;
use turbogen_runtime::redis::Redis;
use turbogen_runtime::{Broadcaster, Signer};

use support::{AppState, RedisServer, TIMEOUT, read_until, router, state_with};

/// What the issue allows a revoked stream to stay open for.
const REVOCATION_BOUND: Duration = Duration::from_secs(1);

/// The stream of the user both sessions belong to, and a public one.
const NOTES: &str = "user:7:notes";
const PUBLIC: &str = "messages";

/// The sessions that exist, as an app's sessions table: signing out removes a row.
#[derive(Clone, Default)]
struct SessionTable(Arc<Mutex<HashSet<String>>>);

impl SessionTable {
    fn with(sessions: &[&str]) -> Self {
        let table = SessionTable::default();
        for session in sessions {
            table.0.lock().unwrap().insert((*session).to_owned());
        }
        table
    }

    fn remove(&self, session: &str) {
        self.0.lock().unwrap().remove(session);
    }

    fn exists(&self, session: &str) -> bool {
        self.0.lock().unwrap().contains(session)
    }
}

/// The session cookie a request carries. In an app it holds a secret token whose hash finds
/// the session's row; here it holds the row's id, which is all the hook compares.
fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("session=").map(str::to_owned))
}

/// The hook a generated app installs: an unbound stream is public; a bound one is admitted
/// when the request's cookie names a session that exists and is the one the tag was signed for.
fn with_session_hook(signer: Signer, table: SessionTable) -> Signer {
    signer.authorize(move |request| {
        let table = table.clone();
        async move {
            let Some(bound) = request.session else {
                return true;
            };
            session_cookie(&request.headers)
                .is_some_and(|cookie| cookie == bound && table.exists(&cookie))
        }
    })
}

fn state_with_sessions(broadcaster: Broadcaster, table: &SessionTable) -> AppState {
    let mut state = state_with(broadcaster);
    state.signer = with_session_hook(state.signer, table.clone());
    state
}

fn li(n: u32) -> String {
    format!(
        r#"<turbo-stream action="append" target="notes"><template><li id="note_{n}">{n}</li></template></turbo-stream>"#
    )
}

async fn get(state: &AppState, uri: &str, cookie: Option<&str>) -> Response {
    let mut request = Request::get(uri).header("accept", "text/event-stream");
    if let Some(session) = cookie {
        request = request.header(header::COOKIE, format!("theme=dark; session={session}"));
    }
    router(state.clone())
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn assert_forbidden(state: &AppState, uri: &str, cookie: Option<&str>) {
    for uri in [
        uri.to_owned(),
        uri.replacen("/turbo/streams", "/turbo/streams/ws", 1),
    ] {
        let response = get(state, &uri, cookie).await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{uri} with {cookie:?}"
        );
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"forbidden", "nothing is streamed for {uri}");
    }
}

/// The value of `name` in a URL's query.
fn param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test]
async fn a_bound_tag_is_admitted_only_with_the_session_it_was_signed_for() {
    let table = SessionTable::with(&["a", "b"]);
    let state = state_with_sessions(Broadcaster::in_process(), &table);
    let url = state.signer.source_url_for(NOTES, "a");
    assert!(url.contains("&session=a&"), "{url}");

    let admitted = get(&state, &url, Some("a")).await;
    assert_eq!(admitted.status(), StatusCode::OK);
    assert_eq!(
        admitted.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );

    // Copied to another browser: another session's cookie, or none.
    assert_forbidden(&state, &url, Some("b")).await;
    assert_forbidden(&state, &url, None).await;
    // The other session rewrites the tag to name itself: the signature no longer matches.
    let renamed = url.replace("&session=a&", "&session=b&");
    assert_forbidden(&state, &renamed, Some("b")).await;
    // Another stream, or a later expiry, under the same signature.
    let other_stream = url.replace("user%3A7%3Anotes", "user%3A8%3Anotes");
    assert_ne!(other_stream, url);
    assert_forbidden(&state, &other_stream, Some("a")).await;
    let signature = param(&url, "signature");
    let (expires_at, mac) = signature.split_once("--").unwrap();
    let later = format!("{}--{mac}", expires_at.parse::<u64>().unwrap() + 1);
    assert_forbidden(&state, &url.replace(&signature, &later), Some("a")).await;
    // An unbound tag's signature with a session added, and a bound one with it taken away.
    let unbound = state.signer.source_url(NOTES);
    assert_eq!(
        get(&state, &unbound, Some("a")).await.status(),
        StatusCode::OK
    );
    assert_forbidden(&state, &format!("{unbound}&session=a"), Some("a")).await;
    assert_forbidden(&state, &url.replace("&session=a&", "&"), Some("a")).await;
    // Two session parameters, so that a proxy and the server could read different ones.
    assert_forbidden(&state, &format!("{url}&session=b"), Some("b")).await;
    // An expired bound signature.
    let expired = state.signer.sign_for_until(NOTES, "a", 1);
    assert_forbidden(&state, &url.replace(&signature, &expired), Some("a")).await;

    // Signed out: the row is gone, and the hook refuses the same tag with the same cookie.
    table.remove("a");
    assert_forbidden(&state, &url, Some("a")).await;
    // The other session still follows its own tag.
    let tag_b = state.signer.source_url_for(NOTES, "b");
    assert_eq!(
        get(&state, &tag_b, Some("b")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_an_authorize_hook_a_bound_tag_is_refused() {
    let state = AppState::for_tests();
    assert_forbidden(&state, &state.signer.source_url_for(NOTES, "a"), Some("a")).await;
    let unbound = get(&state, &state.signer.source_url(PUBLIC), None).await;
    assert_eq!(unbound.status(), StatusCode::OK);
    assert_eq!(state.broadcaster.open_session_streams(), 0);
}

/// Opens the SSE endpoint on a real connection and reads the response's head. The connection
/// closes when the response ends, so the end of a stream is the end of the connection.
async fn open_sse(address: SocketAddr, path: &str, session: Option<&str>) -> (TcpStream, String) {
    let mut connection = TcpStream::connect(address).await.unwrap();
    let cookie = session
        .map(|session| format!("Cookie: session={session}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\nConnection: close\r\n{cookie}\r\n"
    );
    connection.write_all(request.as_bytes()).await.unwrap();
    let mut received = String::new();
    read_until(&mut connection, &mut received, "\r\n\r\n").await;
    (connection, received)
}

/// An open SSE stream on a real connection, with what it has received so far.
struct SseConnection {
    connection: TcpStream,
    received: String,
}

impl SseConnection {
    async fn open(address: SocketAddr, path: &str, session: Option<&str>) -> Self {
        let (connection, received) = open_sse(address, path, session).await;
        assert!(received.starts_with("HTTP/1.1 200 OK\r\n"), "{received}");
        SseConnection {
            connection,
            received,
        }
    }

    async fn receives(&mut self, payload: &str) {
        let needle = format!("data: {payload}\n\n");
        read_until(&mut self.connection, &mut self.received, &needle).await;
    }

    /// Whether the server ends the stream within `within`.
    async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        let mut buffer = [0u8; 4096];
        loop {
            match tokio::time::timeout_at(deadline, self.connection.read(&mut buffer)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(read)) => self
                    .received
                    .push_str(&String::from_utf8_lossy(&buffer[..read])),
            }
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_websocket(address: SocketAddr, url: &str, session: &str) -> Socket {
    let path = url.replacen("/turbo/streams", "/turbo/streams/ws", 1);
    let mut request = format!("ws://{address}{path}")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        header::COOKIE,
        format!("session={session}").parse().unwrap(),
    );
    let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket
}

async fn websocket_receives(socket: &mut Socket, payload: &str) {
    let message = tokio::time::timeout(TIMEOUT, socket.next())
        .await
        .expect("a message arrives in time")
        .expect("the socket stays open")
        .expect("the socket reads");
    assert_eq!(message.into_text().unwrap().as_str(), payload);
}

/// Whether the server closes the socket within `within`.
async fn websocket_closes_within(socket: &mut Socket, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

async fn serve(state: &AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, router(state.clone())).into_future());
    address
}

/// Waits until `condition` holds, for at most [`TIMEOUT`].
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !condition() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn revoking_a_session_closes_its_sse_and_websocket_streams_within_a_second() {
    let table = SessionTable::with(&["a", "b"]);
    let state = state_with_sessions(Broadcaster::in_process(), &table);
    let address = serve(&state).await;
    let url_a = state.signer.source_url_for(NOTES, "a");
    let url_b = state.signer.source_url_for(NOTES, "b");

    // Session a has two tabs over SSE and one over a WebSocket; session b, the same user's
    // other browser, one of each; and a public stream is open next to them.
    let mut sse_a = SseConnection::open(address, &url_a, Some("a")).await;
    let mut sse_a_again = SseConnection::open(address, &url_a, Some("a")).await;
    let mut ws_a = open_websocket(address, &url_a, "a").await;
    let mut sse_b = SseConnection::open(address, &url_b, Some("b")).await;
    let mut ws_b = open_websocket(address, &url_b, "b").await;
    let mut public = SseConnection::open(address, &state.signer.source_url(PUBLIC), None).await;
    assert_eq!(state.broadcaster.open_session_streams(), 5);

    state.broadcaster.publish(NOTES, li(1)).await;
    state.broadcaster.publish(PUBLIC, li(1)).await;
    sse_a.receives(&li(1)).await;
    sse_a_again.receives(&li(1)).await;
    websocket_receives(&mut ws_a, &li(1)).await;
    sse_b.receives(&li(1)).await;
    websocket_receives(&mut ws_b, &li(1)).await;
    public.receives(&li(1)).await;

    // Signing out deletes the row, then revokes the session.
    table.remove("a");
    state.broadcaster.revoke_session("a").await;
    assert!(
        sse_a.ends_within(REVOCATION_BOUND).await,
        "the SSE stream of a revoked session closes"
    );
    assert!(
        sse_a_again.ends_within(REVOCATION_BOUND).await,
        "every tab of it closes"
    );
    assert!(
        websocket_closes_within(&mut ws_a, REVOCATION_BOUND).await,
        "the WebSocket of a revoked session closes"
    );
    assert!(!sse_a.received.contains(&li(2)));

    // The other session and the public stream stay open and keep receiving.
    state.broadcaster.publish(NOTES, li(2)).await;
    state.broadcaster.publish(PUBLIC, li(2)).await;
    sse_b.receives(&li(2)).await;
    websocket_receives(&mut ws_b, &li(2)).await;
    public.receives(&li(2)).await;
    assert_eq!(state.broadcaster.open_session_streams(), 2);

    // The browser reconnects with the same tag and cookie: the session is gone, so 403.
    let (_, refused) = open_sse(address, &url_a, Some("a")).await;
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    match tokio_tungstenite::connect_async(
        format!(
            "ws://{address}{}",
            url_a.replacen("/turbo/streams", "/turbo/streams/ws", 1)
        )
        .as_str(),
    )
    .await
    {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN)
        }
        other => panic!("a revoked session's WebSocket must be refused with 403, got {other:?}"),
    }

    // Closing the other session's connections empties the registry.
    drop((sse_b, ws_b));
    eventually("closed connections leave the registry", || {
        state.broadcaster.open_session_streams() == 0
    })
    .await;
}

#[tokio::test]
async fn a_revocation_while_the_hook_looks_the_session_up_still_closes_the_stream() {
    // The hook approves, but the session is revoked while it runs: the row was there when it
    // looked, and gone by the time the stream starts. The connection was registered before the
    // hook ran, so the revocation reaches it.
    let broadcaster = Broadcaster::in_process();
    let revoking = broadcaster.clone();
    let mut state = state_with(broadcaster);
    state.signer = state.signer.clone().authorize(move |request| {
        let revoking = revoking.clone();
        async move {
            if let Some(session) = &request.session {
                revoking.revoke_session(session).await;
            }
            true
        }
    });
    let response = get(&state, &state.signer.source_url_for(NOTES, "a"), Some("a")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let ended = tokio::time::timeout(REVOCATION_BOUND, async {
        while let Some(frame) = body.frame().await {
            frame.unwrap();
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "a stream revoked during its admission closes"
    );
    assert_eq!(state.broadcaster.open_session_streams(), 0);
}

#[tokio::test]
async fn closed_and_refused_connections_leave_nothing_behind() {
    let table = SessionTable::with(&["a"]);
    let state = state_with_sessions(Broadcaster::in_process(), &table);
    let url = state.signer.source_url_for(NOTES, "a");
    let mut open = Vec::new();
    for _ in 0..100 {
        let response = get(&state, &url, Some("a")).await;
        assert_eq!(response.status(), StatusCode::OK);
        open.push(response);
    }
    assert_eq!(state.broadcaster.open_session_streams(), 100);
    for _ in 0..100 {
        let refused = get(&state, &url, Some("b")).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        state.broadcaster.open_session_streams(),
        100,
        "a refused connection is not kept"
    );
    drop(open);
    assert_eq!(
        state.broadcaster.open_session_streams(),
        0,
        "a closed connection is not kept"
    );
    // Revoking a session without open connections finds nothing and keeps nothing.
    state.broadcaster.revoke_session("a").await;
    state.broadcaster.revoke_session("never-seen").await;
    assert_eq!(state.broadcaster.open_session_streams(), 0);
}

#[tokio::test]
async fn revoking_later_closes_this_instances_streams_before_it_returns() {
    let table = SessionTable::with(&["a", "b"]);
    let state = state_with_sessions(Broadcaster::in_process(), &table);
    let kept = get(&state, &state.signer.source_url_for(NOTES, "b"), Some("b")).await;
    let revoked = get(&state, &state.signer.source_url_for(NOTES, "a"), Some("a")).await;
    assert_eq!(state.broadcaster.open_session_streams(), 2);
    table.remove("a");
    state.broadcaster.revoke_session_later("a".to_owned());
    assert_eq!(state.broadcaster.open_session_streams(), 1);
    let mut body = revoked.into_body();
    let ended = tokio::time::timeout(REVOCATION_BOUND, async {
        while let Some(frame) = body.frame().await {
            frame.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "the revoked session's stream ends");
    drop(kept);
    assert_eq!(state.broadcaster.open_session_streams(), 0);
}

/// How many instances listen for revocations on `server`.
fn revocation_listeners(server: &RedisServer) -> String {
    server.cli(&["PUBSUB", "NUMSUB", "turbogen-runtime:turbo-sessions"])
}

async fn redis_instance(server: &RedisServer, table: &SessionTable) -> AppState {
    let backend = Redis::connect(&server.url(), HistoryLimits::default(), 64).unwrap();
    state_with_sessions(Broadcaster::new(backend), table)
}

#[tokio::test]
async fn revoking_on_one_instance_closes_the_session_streams_on_another_within_a_second() {
    let server = RedisServer::start();
    let table = SessionTable::with(&["a", "b", "c"]);
    let one = redis_instance(&server, &table).await;
    let two = redis_instance(&server, &table).await;
    let (address_one, address_two) = (serve(&one).await, serve(&two).await);
    eventually("both instances listen for revocations", || {
        revocation_listeners(&server).ends_with("\n2\n")
    })
    .await;
    let url_a = one.signer.source_url_for(NOTES, "a");
    let url_b = one.signer.source_url_for(NOTES, "b");

    // Session a follows its stream on both instances (a browser reconnects to either);
    // session b on the second one only.
    let mut here = SseConnection::open(address_one, &url_a, Some("a")).await;
    let mut there = SseConnection::open(address_two, &url_a, Some("a")).await;
    let mut there_ws = open_websocket(address_two, &url_a, "a").await;
    let mut other = SseConnection::open(address_two, &url_b, Some("b")).await;
    one.broadcaster.publish(NOTES, li(1)).await;
    here.receives(&li(1)).await;
    there.receives(&li(1)).await;
    websocket_receives(&mut there_ws, &li(1)).await;
    other.receives(&li(1)).await;

    table.remove("a");
    let revoked_at = Instant::now();
    one.broadcaster.revoke_session("a").await;
    assert!(
        here.ends_within(REVOCATION_BOUND).await,
        "closed on the revoking instance"
    );
    let left = REVOCATION_BOUND.saturating_sub(revoked_at.elapsed());
    assert!(
        there.ends_within(left).await,
        "the SSE stream on the other instance closes"
    );
    let left = REVOCATION_BOUND.saturating_sub(revoked_at.elapsed());
    assert!(
        websocket_closes_within(&mut there_ws, left).await,
        "the WebSocket on the other instance closes"
    );
    one.broadcaster.publish(NOTES, li(2)).await;
    other.receives(&li(2)).await;
    assert_eq!(two.broadcaster.open_session_streams(), 1);

    // Redis drops both instances' connections. A revocation sent meanwhile would be lost, so
    // the second instance closes its session-bound streams when it is back, and keeps its
    // public ones.
    let mut public = SseConnection::open(address_two, &one.signer.source_url(PUBLIC), None).await;
    server.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert!(
        other.ends_within(TIMEOUT).await,
        "session-bound streams close after the revocations channel was lost"
    );
    eventually("both instances listen for revocations again", || {
        revocation_listeners(&server).ends_with("\n2\n")
    })
    .await;
    assert!(!public.ends_within(Duration::from_millis(100)).await);

    // After the reconnect, revocations still cross.
    let url_c = one.signer.source_url_for(NOTES, "c");
    let mut after = SseConnection::open(address_two, &url_c, Some("c")).await;
    one.broadcaster.publish(NOTES, li(3)).await;
    after.receives(&li(3)).await;
    let revoked_at = Instant::now();
    one.broadcaster.revoke_session("c").await;
    assert!(after.ends_within(REVOCATION_BOUND).await);
    assert!(revoked_at.elapsed() <= REVOCATION_BOUND);
}

/// A TCP proxy in front of `redis-server` that can cut one instance off Redis while the others
/// stay connected: cutting drops its connections and refuses new ones until restored.
struct Proxy {
    address: SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (cut, watching) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if *watching.borrow() {
                    continue;
                }
                let mut watching = watching.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watching.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Proxy { address, cut }
    }

    fn url(&self) -> String {
        format!("redis://{}", self.address)
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

#[tokio::test]
async fn a_revocation_sent_while_redis_is_unreachable_is_sent_once_it_answers() {
    let server = RedisServer::start();
    let proxy = Proxy::start(server.port).await;
    let table = SessionTable::with(&["d", "e"]);
    let backend = Redis::connect(&proxy.url(), HistoryLimits::default(), 64).unwrap();
    let revoking = state_with_sessions(Broadcaster::new(backend), &table);
    let other = redis_instance(&server, &table).await;
    let address = serve(&other).await;
    eventually("both instances listen for revocations", || {
        revocation_listeners(&server).ends_with("\n2\n")
    })
    .await;
    let mut stream_d =
        SseConnection::open(address, &other.signer.source_url_for(NOTES, "d"), Some("d")).await;
    let mut stream_e =
        SseConnection::open(address, &other.signer.source_url_for(NOTES, "e"), Some("e")).await;

    // Only the revoking instance loses Redis, so the other has no reason to close anything
    // by itself: the revocation has to arrive.
    proxy.set_cut(true);
    eventually("the revoking instance is cut off", || {
        revocation_listeners(&server).ends_with("\n1\n")
    })
    .await;
    table.remove("d");
    revoking.broadcaster.revoke_session("d").await;
    assert!(
        !stream_d.ends_within(Duration::from_millis(500)).await,
        "nothing reached the other instance while Redis was unreachable"
    );

    proxy.set_cut(false);
    assert!(
        stream_d.ends_within(TIMEOUT).await,
        "the owed revocation arrives once Redis answers again"
    );
    other.broadcaster.publish(NOTES, li(4)).await;
    stream_e.receives(&li(4)).await;
}
