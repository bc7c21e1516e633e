//! What the runtime's integration tests share: a minimal app state and router that mount the
//! stream endpoints as a generated app does, the waits and events the tests send, and a real
//! `redis-server` for the tests of the Redis backend.
//!
//! Each test binary uses only some of it.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use axum::Router;
use axum::extract::FromRef;
use turbogen_runtime::{Broadcaster, Delivery, Signer, Subscription, forms, source};

/// Long enough for a slow CI machine, short enough that a missing event fails quickly.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// What a page that missed more than the history holds is sent.
pub const REFRESH: &str = r#"<turbo-stream action="refresh"></turbo-stream>"#;

/// What the stream endpoints need from an app's state: its broadcaster and its signer, here
/// with a fixed secret, as in a generated app's tests.
#[derive(Clone)]
pub struct AppState {
    pub broadcaster: Broadcaster,
    pub signer: Signer,
}

impl AppState {
    pub fn for_tests() -> Self {
        state_with(Broadcaster::in_process())
    }
}

impl FromRef<AppState> for Broadcaster {
    fn from_ref(state: &AppState) -> Self {
        state.broadcaster.clone()
    }
}

impl FromRef<AppState> for Signer {
    fn from_ref(state: &AppState) -> Self {
        state.signer.clone()
    }
}

pub fn state_with(broadcaster: Broadcaster) -> AppState {
    AppState {
        broadcaster,
        signer: Signer::new("a fixed test secret that is long enough to sign with"),
    }
}

/// The stream endpoints behind the cross-site protection, as a generated app's router mounts them.
pub fn router(state: AppState) -> Router {
    forms::protect(source::routes().with_state(state))
}

/// A Turbo Stream of about `bytes` bytes, as a handler renders a large posted body.
pub fn large_event(n: usize, bytes: usize) -> String {
    format!(
        r#"<turbo-stream action="append" target="messages"><template><li id="message_{n}">{}</li></template></turbo-stream>"#,
        "x".repeat(bytes)
    )
}

/// The next delivery of a subscription, within [`TIMEOUT`].
pub async fn next(subscription: &mut Box<dyn Subscription>) -> Delivery {
    tokio::time::timeout(TIMEOUT, subscription.next())
        .await
        .expect("a delivery arrives in time")
        .expect("the stream stays open")
}

/// Reads from a raw HTTP/1.1 connection until `needle` has arrived.
pub async fn read_until(connection: &mut TcpStream, received: &mut String, needle: &str) {
    let mut buffer = [0u8; 4096];
    while !received.contains(needle) {
        let read = tokio::time::timeout(TIMEOUT, connection.read(&mut buffer))
            .await
            .unwrap_or_else(|_| panic!("{needle:?} did not arrive; got {received:?}"))
            .unwrap();
        assert!(
            read > 0,
            "the connection closed before {needle:?} arrived; got {received:?}"
        );
        received.push_str(&String::from_utf8_lossy(&buffer[..read]));
    }
}

/// A `redis-server` without persistence on a free loopback port, stopped when the test ends.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    /// A missing server fails the test rather than skipping it: `tests/run` installs one.
    pub fn start() -> RedisServer {
        Self::try_start()
            .expect("redis-server is not installed; tests/run installs it (Debian: redis-server)")
    }

    fn try_start() -> Option<RedisServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .ok()?;
        let server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
