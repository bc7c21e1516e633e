//! The fan-out benchmark's baseline: the smallest correct axum server that sends a pre-rendered
//! payload to every Server-Sent Events subscriber through one `tokio::sync::broadcast` channel.
//!
//! `GET /events` subscribes; `POST /publish` sends its body, byte for byte, to every subscriber
//! as one event with a numeric id. Nothing is stored, signed or rendered: it is what fan-out
//! costs on axum's `Sse` with nothing else around it, the limit the generated app is held to.
//! It listens on 127.0.0.1 at `PORT`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use futures_util::Stream;
use tokio::sync::broadcast;

/// The generated app's channel capacity, so a subscriber may fall as far behind.
const CAPACITY: usize = 256;

/// The generated app's keep-alive interval: a stream a proxy would close is not correct.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One published event: its id and its payload, each formatted once for every subscriber.
#[derive(Clone)]
struct Published {
    id: Arc<str>,
    payload: Arc<str>,
}

#[derive(Clone)]
struct Channel {
    sender: broadcast::Sender<Published>,
    next_id: Arc<AtomicU64>,
}

#[tokio::main]
async fn main() {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let channel = Channel {
        sender: broadcast::Sender::new(CAPACITY),
        next_id: Arc::default(),
    };
    let app = Router::new()
        .route("/events", get(events))
        .route("/publish", post(publish))
        .with_state(channel);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|error| panic!("cannot listen on 127.0.0.1:{port}: {error}"));
    axum::serve(listener, app).await.expect("the server runs");
}

async fn publish(State(channel): State<Channel>, payload: String) -> StatusCode {
    let id = channel.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let published = Published {
        id: Arc::from(id.to_string()),
        payload: Arc::from(payload),
    };
    // Sending fails only when nobody is subscribed.
    let _ = channel.sender.send(published);
    StatusCode::NO_CONTENT
}

/// A subscriber that falls more than [`CAPACITY`] events behind skips what it missed; the
/// benchmark counts those as not delivered.
async fn events(
    State(channel): State<Channel>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = channel.sender.subscribe();
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(published) => {
                    let event = Event::default()
                        .id(&*published.id)
                        .data(&*published.payload);
                    return Some((Ok(event), receiver));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}
