//! Driving a generated app for the compile-and-behave tier: building it in the shared target
//! directory, running its binary on a loopback port, and speaking HTTP and Server-Sent Events to it.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a read may wait before a test fails instead of hanging; it is not a speed assertion.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The target directory every generated app in the suite shares, so dependencies compile once.
pub fn apps_target() -> PathBuf {
    std::env::var_os("TURBOGEN_APPS_TARGET")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/apps"))
}

/// Runs `cargo <args>` in the app, insists that it succeeds, and says how long it took.
pub fn cargo(app: &Path, args: &[&str]) -> Duration {
    cargo_with(app, args, &[])
}

/// Like [`cargo`], with `env` set for it (the `DATABASE_URL` a Postgres app's tests use).
pub fn cargo_with(app: &Path, args: &[&str], env: &[(&str, &str)]) -> Duration {
    let started = Instant::now();
    let mut command = Command::new(env!("CARGO"));
    without_package_env(&mut command);
    let output = command
        .args(args)
        .current_dir(app)
        .env("CARGO_TARGET_DIR", apps_target())
        // The suite builds a dozen apps into one target directory: without incremental caches and
        // with line tables only (backtraces keep their file and line), it stays a few GB in all.
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "line-tables-only")
        .env_remove("RUSTFLAGS")
        .env_remove("DATABASE_URL")
        .envs(env.iter().copied())
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

/// Clears from `command` what cargo set for this test process about this package
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*` and the like), so that a cargo run for a generated app
/// does not inherit it. Build scripts of the apps' dependencies track some of these variables
/// (ring's reads `CARGO_MANIFEST_DIR` and `CARGO_PKG_*` and asks to rerun when they change):
/// inherited, an app built in the same target directory from another checkout of this
/// repository, or by hand, would rebuild ring, rustls, sqlx and the app, and so would the next
/// build from here.
pub fn without_package_env(command: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let leaked = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_EXE_")
            || matches!(
                name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_TARGET_TMPDIR"
                    | "CARGO_PRIMARY_PACKAGE"
            );
        if leaked {
            command.env_remove(name);
        }
    }
    command
}

/// The app's server process, stopped when the test ends, however it ends.
pub struct Server {
    child: Child,
    pub address: SocketAddr,
    /// Where its output goes when the test reads the log.
    log: Option<PathBuf>,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server has logged so far, for a server started with a log file.
    pub fn log(&self) -> String {
        let path = self
            .log
            .as_ref()
            .expect("the server was started with a log file");
        std::fs::read_to_string(path).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the app's debug binary from its directory, as `cargo run` would, and waits until it
/// accepts connections.
pub fn start(app: &Path, name: &str) -> Server {
    start_with(app, name, &[])
}

/// Like [`start`], with `env` set on top of a clean environment (`REDIS_URL`, `SECRET_KEY_BASE`).
pub fn start_with(app: &Path, name: &str, env: &[(&str, &str)]) -> Server {
    spawn(&apps_target().join("debug").join(name), app, env, None)
}

/// Starts `binary` in `dir` on a free loopback port with `env` on top of a clean environment,
/// its output written to `log` when one is given, and waits until it accepts
/// connections.
pub fn spawn(binary: &Path, dir: &Path, env: &[(&str, &str)], log: Option<&Path>) -> Server {
    let port = free_port();
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .env_remove("APP_ENV")
        .env_remove("DATABASE_URL")
        .env_remove("SECRET_KEY_BASE")
        .env_remove("REDIS_URL")
        .env_remove("SSL_CERT_FILE")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(path) = log {
        // The app logs to stdout and reports a failed start on stderr; the file gets both.
        let file = std::fs::File::create(path).unwrap();
        command
            .stdout(file.try_clone().unwrap())
            .stderr(Stdio::from(file));
    }
    serve_logged(command, port, log)
}

/// Spawns `command`, a server told to listen on `port`, and waits until it accepts connections
/// on loopback; it fails the test if the server exits first.
pub fn serve(command: Command, port: u16) -> Server {
    serve_logged(command, port, None)
}

/// Like [`serve`], for a command whose output goes to `log`.
fn serve_logged(mut command: Command, port: u16, log: Option<&Path>) -> Server {
    let child = command.spawn().expect("the app's binary starts");
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = Server {
        child,
        address,
        log: log.map(Path::to_path_buf),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(address).is_err() {
        if let Some(status) = server.child.try_wait().unwrap() {
            let log = server
                .log
                .as_ref()
                .map(|_| server.log())
                .unwrap_or_default();
            panic!("the app exited before listening: {status}\n{log}");
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
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request on a fresh connection and reads the whole reply. Pages, files and refusals
/// carry a Content-Length, which is all this reader needs.
pub fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    request_bytes(address, method, path, headers, body.as_bytes())
}

/// Like [`request`], with a body of any bytes (a `multipart/form-data` upload).
pub fn request_bytes(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    request_within(address, method, path, headers, body, READ_TIMEOUT)
}

/// Like [`request_bytes`], waiting up to `timeout` for the reply: for a request the app answers
/// only after its own timeouts, such as an upload to a storage service that is down.
pub fn request_within(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Reply {
    let mut connection = TcpStream::connect(address).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    // A server may answer before it has read the whole body (413 for an upload over the limit)
    // and close the connection: the rest of the body cannot be written, and the reply is what
    // counts.
    let written = connection.write_all(&raw);
    read_reply(connection, timeout)
        .unwrap_or_else(|| panic!("no reply to {method} {path} (writing the request: {written:?})"))
}

/// Reads a whole reply off `connection`, which the server closes after it, waiting up to
/// `timeout` for each read; `None` when no complete response head arrived. A connection reset
/// after the reply (the server refused to read the rest of a body) still gives the reply.
pub fn read_reply(mut connection: TcpStream, timeout: Duration) -> Option<Reply> {
    connection.set_read_timeout(Some(timeout)).unwrap();
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match connection.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => raw.extend_from_slice(&buffer[..read]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if raw.is_empty() => panic!("reading the reply: {e}"),
            Err(_) => break,
        }
    }
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    Some(Reply {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    })
}

pub fn get(address: SocketAddr, path: &str) -> Reply {
    request(address, "GET", path, &[], "")
}

/// One Server-Sent Event as `EventSource` hands it to the page: its `id:`, and its `data:` lines
/// joined with "\n".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub data: String,
}

/// An open Server-Sent Events connection, read as it arrives.
pub struct EventStream {
    connection: TcpStream,
    events: EventParser,
}

/// Turns the bytes of a Server-Sent Events response body, as they arrive, into events.
pub struct EventParser {
    /// Whether the body comes in HTTP/1.1 chunks, as a streamed axum body does.
    chunked: bool,
    /// Bytes read off the connection that do not yet make a whole chunk.
    pending: Vec<u8>,
    /// The body with the chunk framing taken off: the text an `EventSource` parses.
    body: Vec<u8>,
    /// How much of `body` has been handed out as events.
    consumed: usize,
    /// Whether the last chunk, of size zero, has arrived: the server ended the stream.
    ended: bool,
}

impl EventStream {
    pub fn open(address: SocketAddr, path: &str, last_event_id: Option<&str>) -> EventStream {
        let last_event_id: Vec<(&str, &str)> = last_event_id
            .map(|id| ("Last-Event-ID", id))
            .into_iter()
            .collect();
        EventStream::open_with(address, path, &last_event_id)
    }

    /// Like [`EventStream::open`], with `headers` (a session cookie, say) in the request.
    pub fn open_with(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> EventStream {
        let mut connection = TcpStream::connect(address).unwrap();
        connection.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        let headers: String = headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        let text = format!(
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n{headers}\r\n"
        );
        connection.write_all(text.as_bytes()).unwrap();
        let mut stream = EventStream {
            connection,
            events: EventParser {
                chunked: false,
                pending: Vec::new(),
                body: Vec::new(),
                consumed: 0,
                ended: false,
            },
        };
        let head_end = loop {
            if let Some(at) = stream
                .events
                .pending
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
            {
                break at;
            }
            stream.read_raw();
        };
        let pending = &mut stream.events.pending;
        let head = String::from_utf8_lossy(&pending[..head_end]).into_owned();
        pending.drain(..head_end + 4);
        let status_line = head.lines().next().unwrap_or_default();
        assert!(
            status_line.starts_with("HTTP/1.1 200"),
            "a valid subscription is accepted: {head}"
        );
        let head = head.to_ascii_lowercase();
        assert!(head.contains("content-type: text/event-stream"), "{head}");
        stream.events.chunked = head.contains("transfer-encoding: chunked");
        stream.events.unframe();
        stream
    }

    /// The connection and what has been read from it, for a caller that reads many streams at
    /// once.
    pub fn into_parts(self) -> (TcpStream, EventParser) {
        (self.connection, self.events)
    }

    /// Everything the stream has carried so far, as text.
    pub fn received(&self) -> String {
        self.events.received()
    }

    /// Waits for the next event that carries data; comments such as keep-alives carry none and
    /// are skipped, as `EventSource` skips them.
    pub fn next_event(&mut self) -> Event {
        loop {
            if let Some(event) = self.events.next_event() {
                return event;
            }
            self.read_some();
        }
    }

    /// Waits for an event whose data contains `needle` and returns its `id:`, passing over the
    /// events before it.
    pub fn event_containing(&mut self, needle: &str) -> String {
        loop {
            let event = self.next_event();
            if event.data.contains(needle) {
                return event.id;
            }
        }
    }

    fn read_some(&mut self) {
        self.read_raw();
        self.events.unframe();
        assert!(
            !self.events.ended,
            "the stream ended; it ends {:?}",
            self.events.tail()
        );
    }

    /// Whether the server ends the stream, with its last chunk or by closing the connection,
    /// within `limit` from now; the events it sends meanwhile are kept.
    pub fn ends_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut buffer = [0u8; 8192];
        while !self.events.ended {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.connection.set_read_timeout(Some(left)).unwrap();
            match self.connection.read(&mut buffer) {
                Ok(0) => return true,
                // Not `feed`, for which an ended stream is a failure.
                Ok(read) => {
                    self.events.pending.extend_from_slice(&buffer[..read]);
                    self.events.unframe();
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return false;
                }
                // A connection reset is an end too.
                Err(_) => return true,
            }
        }
        true
    }

    /// Reads what has arrived into `pending`, where the response head is looked for before the
    /// body's framing is known.
    fn read_raw(&mut self) {
        let mut buffer = [0u8; 8192];
        let read = self.connection.read(&mut buffer).unwrap_or_else(|e| {
            panic!(
                "no event arrived ({e}); the stream ends {:?}",
                self.events.tail()
            )
        });
        assert!(
            read > 0,
            "the stream closed; it ends {:?}",
            self.events.tail()
        );
        self.events.pending.extend_from_slice(&buffer[..read]);
    }
}

impl EventParser {
    /// Takes bytes as they were read off the connection.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        self.unframe();
        assert!(!self.ended, "the stream ended; it ends {:?}", self.tail());
    }

    /// The next whole event that carries data, if one has arrived; comments such as keep-alives
    /// carry none and are skipped, as `EventSource` skips them.
    pub fn next_event(&mut self) -> Option<Event> {
        while let Some(end) = self.body[self.consumed..]
            .windows(2)
            .position(|w| w == b"\n\n")
        {
            let block = String::from_utf8(self.body[self.consumed..self.consumed + end].to_vec())
                .expect("events are UTF-8");
            self.consumed += end + 2;
            if let Some(event) = parse_event(&block) {
                return Some(event);
            }
        }
        None
    }

    pub fn received(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Drops the text of the events already handed out, so that a reader holding thousands of
    /// streams open keeps only what it has not parsed; [`EventParser::received`] then starts
    /// after them.
    pub fn forget_consumed(&mut self) {
        self.body.drain(..self.consumed);
        self.consumed = 0;
    }

    /// The last events the stream carried, enough to see where a failing test stood.
    fn tail(&self) -> String {
        let text = self.received();
        let start = text.len().saturating_sub(2000);
        let start = (start..text.len())
            .find(|&at| text.is_char_boundary(at))
            .unwrap_or(text.len());
        text[start..].to_owned()
    }

    /// Moves every whole chunk from `pending` to `body`, so a chunk boundary that falls inside an
    /// event, or a chunk-size line, can never be mistaken for event text.
    fn unframe(&mut self) {
        if !self.chunked {
            self.body.append(&mut self.pending);
            return;
        }
        while let Some(line_end) = self.pending.windows(2).position(|w| w == b"\r\n") {
            let size_line = String::from_utf8_lossy(&self.pending[..line_end]).into_owned();
            let size_hex = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_hex, 16)
                .unwrap_or_else(|_| panic!("a chunk size, not {size_line:?}"));
            if size == 0 {
                self.ended = true;
                return;
            }
            let data_start = line_end + 2;
            if self.pending.len() < data_start + size + 2 {
                return;
            }
            self.body
                .extend_from_slice(&self.pending[data_start..data_start + size]);
            self.pending.drain(..data_start + size + 2);
        }
    }
}

/// Reads one event block by the rules of the HTML standard's event-stream format: one optional
/// space after the colon is dropped, comment lines start with a colon, and the data lines are
/// joined with "\n". A block without data dispatches nothing.
fn parse_event(block: &str) -> Option<Event> {
    let mut id = None;
    let mut data: Option<String> = None;
    for line in block.split('\n') {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.to_owned()),
            "data" => match &mut data {
                Some(joined) => {
                    joined.push('\n');
                    joined.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    let data = data?;
    let id = id.unwrap_or_else(|| panic!("every event carries an id; this one did not: {block:?}"));
    Some(Event { id, data })
}

/// POSTs `fields` as an `application/x-www-form-urlencoded` form, with `headers` added.
pub fn post(
    address: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    fields: &[(&str, &str)],
) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    request(address, "POST", path, &all, &body)
}

/// The text between the first `open` and the `close` after it.
pub fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let (_, rest) = text.split_once(open)?;
    rest.split_once(close).map(|(inside, _)| inside)
}

/// The `src` of the page's `<turbo-stream-source>`, with the attribute's HTML escaping undone
/// as a browser would before requesting it.
pub fn stream_source(page: &str) -> String {
    let (_, tag) = page
        .split_once("<turbo-stream-source ")
        .expect("the page subscribes with a signed <turbo-stream-source>");
    between(tag, r#"src=""#, "\"")
        .expect("the <turbo-stream-source> has a src")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}
