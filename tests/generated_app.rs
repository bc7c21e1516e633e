//! Compile-and-behave tier for `gen new`: the fresh app builds, passes its own tests, is clean under
//! rustfmt and clippy, and its binary serves pages, Turbo, `/up` and signed live streams over HTTP.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The target directory every generated app in the suite shares, so dependencies compile once.
fn apps_target() -> PathBuf {
    std::env::var_os("TURBOGEN_APPS_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/apps"))
}

/// Runs `cargo <args>` in the app, insists that it succeeds, and says how long it took.
fn cargo(app: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(app)
        .env("CARGO_TARGET_DIR", apps_target())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {} failed in {}:\n{}{}",
        args.join(" "),
        app.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

/// The app's server process, stopped when the test ends, however it ends.
struct Server {
    child: Child,
    address: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the app's debug binary from its directory, as `cargo run` would, and waits until it
/// accepts connections.
fn start(app: &Path, name: &str) -> Server {
    let port = free_port();
    let child = Command::new(apps_target().join("debug").join(name))
        .current_dir(app)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .env_remove("APP_ENV")
        .env_remove("DATABASE_URL")
        .env_remove("SECRET_KEY_BASE")
        .env_remove("REDIS_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the app's binary starts");
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = Server { child, address };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        if let Some(status) = server.child.try_wait().unwrap() {
            panic!("the app exited before listening: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the app did not listen on {address}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// A complete HTTP/1.1 response.
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request on a fresh connection and reads the whole reply. Pages, files and refusals
/// carry a Content-Length, which is all this reader needs.
fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut connection = TcpStream::connect(address).unwrap();
    connection
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    connection.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    connection.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    Reply {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

fn get(address: SocketAddr, path: &str) -> Reply {
    request(address, "GET", path, &[], "")
}

/// An open Server-Sent Events connection, read as text as it arrives.
struct EventStream {
    connection: TcpStream,
    received: String,
}

impl EventStream {
    fn open(address: SocketAddr, path: &str, last_event_id: Option<&str>) -> EventStream {
        let mut connection = TcpStream::connect(address).unwrap();
        connection
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let last_event_id = last_event_id
            .map(|id| format!("Last-Event-ID: {id}\r\n"))
            .unwrap_or_default();
        let text = format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n{last_event_id}\r\n"
        );
        connection.write_all(text.as_bytes()).unwrap();
        let mut stream = EventStream {
            connection,
            received: String::new(),
        };
        while !stream.received.contains("\r\n\r\n") {
            stream.read_more();
        }
        let status_line = stream.received.lines().next().unwrap_or_default();
        assert!(
            status_line.starts_with("HTTP/1.1 200"),
            "a valid subscription is accepted: {}",
            stream.received
        );
        assert!(
            stream
                .received
                .to_ascii_lowercase()
                .contains("content-type: text/event-stream"),
            "{}",
            stream.received
        );
        stream
    }

    fn read_more(&mut self) {
        let mut buffer = [0u8; 8192];
        let read = self
            .connection
            .read(&mut buffer)
            .unwrap_or_else(|e| panic!("no event arrived ({e}); got {:?}", self.received));
        assert!(read > 0, "the stream closed; got {:?}", self.received);
        self.received
            .push_str(&String::from_utf8_lossy(&buffer[..read]));
    }

    /// Waits for an event whose data contains `needle` and returns its `id:`.
    fn event_containing(&mut self, needle: &str) -> String {
        loop {
            let mut id = None;
            for line in self.received.lines() {
                if let Some(value) = line.strip_prefix("id: ") {
                    id = Some(value.to_owned());
                }
                if line.starts_with("data: ") && line.contains(needle) {
                    return id.expect("every event carries an id");
                }
            }
            self.read_more();
        }
    }
}

#[test]
fn a_new_app_builds_passes_its_tests_and_serves() {
    let parent = tempfile::tempdir().unwrap();
    support::gen_ok(parent.path(), &["new", "chat"]);
    let app = parent.path().join("chat");

    let build = cargo(&app, &["build"]);
    cargo(&app, &["test"]);
    cargo(&app, &["clippy", "--all-targets", "--", "-D", "warnings"]);
    cargo(&app, &["fmt", "--check"]);
    println!(
        "benchmark: `cargo build` of a fresh app took {:.1}s (target dir {}; cold only when it is empty)",
        build.as_secs_f64(),
        apps_target().display()
    );

    let server = start(&app, "chat");
    let home = get(server.address, "/");
    assert_eq!(home.status, 200);
    assert!(home.text().contains(
        r#"<script type="module" src="/static/vendor/turbo-8.0.23/turbo.es2017-esm.js"></script>"#
    ));
    assert_eq!(get(server.address, "/up").status, 200);

    let turbo = get(
        server.address,
        "/static/vendor/turbo-8.0.23/turbo.es2017-esm.js",
    );
    assert_eq!(turbo.status, 200);
    assert_eq!(
        turbo.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let shipped = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scaffolds/app/static/vendor/turbo-8.0.23/turbo.es2017-esm.js"),
    )
    .unwrap();
    assert!(
        turbo.body == shipped,
        "the served Turbo is the shipped file, byte for byte"
    );
    assert_eq!(get(server.address, "/static/app.css").status, 200);

    for forged in [
        "/turbo/streams",
        "/turbo/streams?stream=messages",
        "/turbo/streams?stream=messages&signature=4102444800--00ff",
        "/turbo/streams/ws?stream=messages&signature=4102444800--00ff",
    ] {
        let refused = get(server.address, forged);
        assert_eq!(refused.status, 403, "{forged}");
        assert_eq!(
            refused.text(),
            "forbidden",
            "nothing is streamed for {forged}"
        );
    }

    let cross_site = request(
        server.address,
        "POST",
        "/",
        &[("Sec-Fetch-Site", "cross-site")],
        "",
    );
    assert_eq!(cross_site.status, 403);
}

#[test]
fn a_running_app_streams_a_resource_live_and_replays_after_a_reconnect() {
    let parent = tempfile::tempdir().unwrap();
    support::gen_ok(parent.path(), &["new", "live"]);
    let app = parent.path().join("live");
    support::gen_ok(&app, &["resource", "message", "body:text"]);
    cargo(&app, &["build"]);

    let server = start(&app, "live");
    let index = get(server.address, "/messages");
    assert_eq!(index.status, 200);
    let page = index.text();
    let src = page
        .split(r#"<turbo-stream-source src=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the index page subscribes with a signed <turbo-stream-source>")
        .replace("&#38;", "&")
        .replace("&amp;", "&");

    let mut stream = EventStream::open(server.address, &src, None);
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let created = request(
        server.address,
        "POST",
        "/messages",
        &form,
        "body=first+live+message",
    );
    assert!(created.status < 400, "create answered {}", created.status);
    let seen = stream.event_containing("first live message");
    drop(stream);

    // Published while no one is connected: a browser that reconnects with the last id it saw
    // gets it replayed.
    let created = request(
        server.address,
        "POST",
        "/messages",
        &form,
        "body=missed+while+away",
    );
    assert!(created.status < 400, "create answered {}", created.status);
    let mut stream = EventStream::open(server.address, &src, Some(&seen));
    stream.event_containing("missed while away");
    assert!(
        !stream.received.contains("first live message"),
        "events up to Last-Event-ID are not sent again"
    );

    let tampered = src.replace("signature=", "signature=1");
    assert_eq!(get(server.address, &tampered).status, 403);
}
