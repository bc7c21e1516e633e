//! The application's shared state, its router and its error type.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, FromRef, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
<% if app.postgres %>
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
use sqlx::{Connection, PgPool};
<% else %>
use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
<% endif %>
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::{MakeHeaderValue, SetResponseHeader, SetResponseHeaderLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::{Config, Environment};
use crate::turbo::{self, Broadcaster, Signer};

/// The migrations in `migrations/`, embedded at compile time and run on every boot.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// What every handler can reach. Cloning is cheap: each field is a handle.
#[derive(Clone)]
pub struct AppState {
    pub db: <%= app.sql.pool %>,
    pub broadcaster: Broadcaster,
    pub signer: Signer,
    pub config: Arc<Config>,
}

impl AppState {
    /// Opens the database, runs pending migrations and sets up live updates.
    pub async fn new(config: Config) -> Result<Self, String> {
<% if app.postgres %>
        let db = connect(&config.database_url).await.map_err(|error| {
            format!(
                "DATABASE_URL: cannot connect to {}: {error}",
                config.database_url_for_logs()
            )
        })?;
<% else %>
        let db = connect(&config.database_url).await.map_err(|error| {
            format!("DATABASE_URL: cannot open {}: {error}", config.database_url)
        })?;
<% endif %>
        MIGRATOR
            .run(&db)
            .await
            .map_err(|error| format!("cannot run the migrations in migrations/: {error}"))?;

        // What each stream keeps for pages that reconnect, by count and by bytes.
        let history = turbo::broadcast::HistoryLimits {
            events: config.stream_history,
            bytes: config.stream_history_bytes,
            total_bytes: config.stream_history_total_bytes,
        };
        // With REDIS_URL, live updates reach browsers connected to every instance sharing it.
        // Streams nobody follows are let go: in process after STREAM_IDLE_TIMEOUT, in Redis when
        // their keys expire, STREAM_REDIS_EXPIRY after their newest event.
        let broadcaster = match &config.redis_url {
            Some(url) => Broadcaster::new(
                turbo::redis::Redis::connect(
                    url,
                    history,
                    turbo::broadcast::DEFAULT_CHANNEL_CAPACITY,
                )
                .map_err(|error| error.to_string())?
                .with_expiry(config.stream_redis_expiry),
            ),
            None => Broadcaster::new(
                turbo::InProcess::with_limits(history, turbo::broadcast::DEFAULT_CHANNEL_CAPACITY)
                    .with_idle(config.stream_idle_timeout),
            ),
        };
        // The signature proves only that this app rendered the subscription tag. To decide who
        // may follow which stream as well, add `.authorize(|subscription| async move { … })`.
        let signer = Signer::new(&config.secret_key_base);
        Ok(AppState {
            db,
            broadcaster,
            signer,
            config: Arc::new(config),
        })
    }

    /// What [`AppState::for_tests`] hands out around its open, migrated database: an
    /// in-process broadcaster and a fixed secret.
    fn for_tests_with(db: <%= app.sql.pool %>, database_url: String) -> Self {
        let config = Config {
            environment: Environment::Test,
            port: 0,
            database_url,
            redis_url: None,
            secret_key_base: "a fixed test secret that is long enough to sign with".to_owned(),
            stream_history: turbo::broadcast::DEFAULT_HISTORY,
            stream_history_bytes: turbo::broadcast::DEFAULT_HISTORY_BYTES,
            stream_history_total_bytes: turbo::broadcast::DEFAULT_HISTORY_TOTAL_BYTES,
            stream_idle_timeout: turbo::broadcast::DEFAULT_STREAM_IDLE,
            stream_redis_expiry: turbo::redis::DEFAULT_KEY_EXPIRY,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            upload_min_rate: turbo::deadline::DEFAULT_UPLOAD_MIN_RATE,
            upload_timeout: turbo::deadline::DEFAULT_UPLOAD_TIMEOUT,
            max_requests: 1_000,
            stream_max_connections: 10_000,
            stream_max_per_client: 50,
            hosts: ["localhost", "127.0.0.1", "[::1]"]
                .map(str::to_owned)
                .to_vec(),
            client_ip_header: None,
        };
        AppState {
            db,
            broadcaster: Broadcaster::in_process(),
            signer: Signer::new(&config.secret_key_base),
            config: Arc::new(config),
        }
    }

<% if app.postgres %>
    /// A state for integration tests: private tables on the PostgreSQL server at `DATABASE_URL`
    /// with the migrations run, an in-process broadcaster and a fixed secret. The pool's one
    /// connection puts `pg_temp` alone on its `search_path`, so the migrations create temporary
    /// tables that only this state sees: every test starts empty, with ids from 1, never touches
    /// the database's own tables, and leaves nothing behind. It is an ordinary public function
    /// because the tests in `tests/` compile against the library without `cfg(test)`. It panics,
    /// saying why, when `DATABASE_URL` is unset or its server cannot be reached.
    pub async fn for_tests() -> Self {
        let database_url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
            panic!(
                "the tests need DATABASE_URL set to a PostgreSQL database they may connect to, \
                 such as postgres://localhost/<%= app.name %>_test; they create only temporary tables"
            )
        });
        let options = PgConnectOptions::from_str(&database_url)
            .expect("DATABASE_URL is a postgres:// URL")
            .options([("search_path", "pg_temp")]);
        // Temporary tables belong to the connection that made them, so the pool keeps exactly
        // one connection open for the whole test.
        let db = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .unwrap_or_else(|error| panic!("the tests cannot connect to DATABASE_URL: {error}"));
        MIGRATOR
            .run(&db)
            .await
            .expect("the migrations run on an empty schema");
        Self::for_tests_with(db, database_url)
    }
}

/// Opens a pool on a `postgres://` URL. A first connection is made on its own, so that a server
/// that cannot be reached, refuses the credentials or lacks the database stops the app at boot
/// with that reason; the pool would retry a refused connection until its timeout and then
/// report only the timeout.
pub async fn connect(database_url: &str) -> Result<PgPool, sqlx::Error> {
    let options = PgConnectOptions::from_str(database_url)?;
    let first = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
        .await
        .map_err(|_| {
            sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the server did not answer within 5 seconds",
            ))
        })??;
    first.close().await?;
    PgPoolOptions::new()
        // A server that stops answering fails a request, or a health check, within seconds.
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
}

/// How long opening a connection to the database may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

<% else %>
    /// A state for integration tests: a private in-memory database with the migrations run,
    /// an in-process broadcaster and a fixed secret. It is an ordinary public function because
    /// the tests in `tests/` compile against the library without `cfg(test)`. It panics when
    /// SQLite cannot open, which only a broken build can cause.
    pub async fn for_tests() -> Self {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .expect("the in-memory SQLite URL parses")
            .foreign_keys(true);
        // Every connection to `:memory:` is a separate database, so the pool keeps exactly one
        // connection open for the whole test.
        let db = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .expect("an in-memory SQLite database opens");
        MIGRATOR
            .run(&db)
            .await
            .expect("the migrations run on an empty database");
        Self::for_tests_with(db, "sqlite::memory:".to_owned())
    }
}

/// Opens a pool on a `sqlite:` URL, creating the file and its directory on first use.
pub async fn connect(database_url: &str) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::from_str(database_url)?
        .create_if_missing(true)
        .foreign_keys(true)
        // WAL lets readers proceed while a request writes; the busy timeout makes concurrent
        // writers wait for each other instead of failing with "database is locked".
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::from_secs(5));
    if let Some(directory) = options.get_filename().parent()
        && !directory.as_os_str().is_empty()
    {
        std::fs::create_dir_all(directory)?;
    }
    SqlitePoolOptions::new().connect_with(options).await
}

<% endif %>
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

impl FromRef<AppState> for <%= app.sql.pool %> {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// The whole application: pages, resources, live streams and static files.
pub fn router(state: AppState) -> Router {
    let router = Router::new().route("/", get(home)).route("/up", get(up));
    // `gen resource` registers each resource's routes with one line after the last `let router`.
    let routes = router
        .nest_service(
            "/static/vendor",
            static_files("static/vendor", "public, max-age=31536000, immutable"),
        )
        // The stylesheet is yours to edit, so browsers revalidate it instead of caching it for a year.
        .nest_service("/static", static_files("static", "no-cache"))
        .fallback(not_found)
        .with_state(state.clone());
    let config = state.config.clone();

    // Ordinary requests get a deadline, their body included (408 after it), and a cap on how
    // many run at once: beyond it they are answered 503 at once, where a queue would only grow.
    // An upload's body earns more time as it arrives, UPLOAD_MIN_RATE bytes a second up to
    // HTTP_UPLOAD_TIMEOUT, so a large file on a slow line gets through while a trickle that
    // would hold a slot is cut off. An app without file fields takes no upload: its routes
    // refuse a multipart body without reading it.
    let deadlines = turbo::deadline::Deadlines {
        request: config.request_timeout,
        upload_min_rate: config.upload_min_rate,
        upload_max: config.upload_timeout,
    };
    let ordinary = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .layer(LoadShedLayer::new())
        .layer(GlobalConcurrencyLimitLayer::new(config.max_requests))
        .layer(middleware::from_fn_with_state(
            deadlines,
            turbo::deadline::limit,
        ))
        .service(turbo::forms::protect(routes));
    // Live streams stay open as long as their page does, so they are exempt from the deadline
    // and counted by the stream caps instead.
    let streams = turbo::routes()
        .layer(middleware::from_fn_with_state(
            StreamCaps::new(&config),
            limit_streams,
        ))
        .with_state(state);

    // One line per request at `info`, as a Rails or Phoenix developer expects in the terminal.
    // The span names the path without the query string, which can carry stream signatures.
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &axum::extract::Request| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    Router::new()
        .merge(streams)
        .fallback_service(ordinary)
        .layer(middleware::from_fn_with_state(
            config.clone(),
            authorize_host,
        ))
        // What a browser may do with every response, errors and static files included, after
        // Rails's defaults: no MIME sniffing, no framing by other sites (clickjacking), no full
        // URLs in the `Referer` sent to other sites, a Content-Security-Policy, and HSTS in
        // production, which Fly.io serves over HTTPS only.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            Hsts(config.environment == Environment::Production),
        ))
        .layer(trace)
}

async fn overloaded(_: tower::BoxError) -> (StatusCode, &'static str) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is busy; try again",
    )
}

/// The policy every response carries: only this app's own scripts run. Styles may be inline
/// because Turbo's progress bar inserts a `<style>` element; a nonce would have to be made per
/// request and printed into every page, and an inline style cannot run code. A page that needs
/// another source (a CDN, an analytics script) adds it here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

/// `Strict-Transport-Security` for two years, as Rails's `force_ssl` sends it, when it is on.
#[derive(Clone, Copy)]
struct Hsts(bool);

impl<B> MakeHeaderValue<Response<B>> for Hsts {
    fn make_header_value(&mut self, _: &Response<B>) -> Option<HeaderValue> {
        self.0
            .then(|| HeaderValue::from_static("max-age=63072000; includeSubDomains"))
    }
}

/// Refuses, with 403 and before any handler runs, a request whose `Host` is not one the app
/// serves (see [`Config::hosts`]), which is what defeats DNS rebinding. `/up` answers whatever
/// the host, for health checks that address the machine directly. A request without `Host`,
/// which no browser sends, is let through.
async fn authorize_host(
    State(config): State<Arc<Config>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request.headers().get(header::HOST);
    if request.uri().path() == "/up" || host.is_none_or(|host| host_allowed(&config.hosts, host)) {
        return next.run(request).await;
    }
    let shown: String = host
        .map(|host| {
            String::from_utf8_lossy(host.as_bytes())
                .chars()
                .take(100)
                .collect()
        })
        .unwrap_or_default();
    tracing::warn!(
        host = shown,
        "request refused: the Host is not one this app serves (APP_HOSTS)"
    );
    (StatusCode::FORBIDDEN, "this host is not served here").into_response()
}

/// Whether `host` (a `Host` header, with or without a port) names one of `hosts`; an entry that
/// starts with a dot also admits its subdomains.
pub fn host_allowed(hosts: &[String], host: &HeaderValue) -> bool {
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((address, _)) => format!("[{address}]"),
            None => return false,
        },
        None => host.split(':').next().unwrap_or_default().to_owned(),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    hosts.iter().any(|allowed| match allowed.strip_prefix('.') {
        Some(domain) => name == domain || name.ends_with(allowed.as_str()),
        None => name == *allowed,
    })
}

/// The open stream connections, in total and per client address, and their caps.
#[derive(Clone)]
struct StreamCaps {
    open: Arc<Mutex<OpenStreams>>,
    total: usize,
    per_client: usize,
    client_ip_header: Option<HeaderName>,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

impl StreamCaps {
    fn new(config: &Config) -> Self {
        StreamCaps {
            open: Arc::default(),
            total: config.stream_max_connections,
            per_client: config.stream_max_per_client,
            client_ip_header: config
                .client_ip_header
                .as_deref()
                .and_then(|name| HeaderName::from_bytes(name.as_bytes()).ok()),
        }
    }

    /// The client's address: from the trusted proxy's header when there is one, else the peer's.
    fn client(&self, request: &Request) -> IpAddr {
        let forwarded = self.client_ip_header.as_ref().and_then(|name| {
            let value = request.headers().get(name)?.to_str().ok()?;
            value.trim().parse::<IpAddr>().ok()
        });
        forwarded
            .or_else(|| {
                request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|ConnectInfo(peer)| peer.ip())
            })
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

/// One open stream connection, counted until it is dropped.
struct StreamSlot {
    caps: StreamCaps,
    client: IpAddr,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .caps
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        open.total -= 1;
        if let Some(count) = open.by_client.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

/// Admits a stream connection while the caps allow it: 503 when the process holds as many as
/// it may, 429 when this client does. The slot is held by the stream until it closes.
async fn limit_streams(
    State(caps): State<StreamCaps>,
    mut request: Request,
    next: Next,
) -> Response {
    let client = caps.client(&request);
    {
        let mut open = caps
            .open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if open.total >= caps.total {
            tracing::warn!(
                "stream connection refused: {} are open (STREAM_MAX_CONNECTIONS)",
                open.total
            );
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "too many live streams are open",
            )
                .into_response();
        }
        let count = open.by_client.entry(client).or_default();
        if *count >= caps.per_client {
            tracing::warn!(%client, "stream connection refused: the client has {count} open (STREAM_MAX_PER_CLIENT)");
            return (
                StatusCode::TOO_MANY_REQUESTS,
                "too many live streams are open",
            )
                .into_response();
        }
        *count += 1;
        open.total += 1;
    }
    let slot = StreamSlot { caps, client };
    request
        .extensions_mut()
        .insert(turbo::source::HeldWhileOpen::new(slot));
    next.run(request).await
}

/// Serves a directory, adding `Cache-Control` to every file it finds. A path that resolves
/// outside the directory, through a symbolic link, is not found: `ServeDir` would follow it.
fn static_files(directory: &'static str, cache_control: &'static str) -> Router {
    Router::new()
        .fallback_service(SetResponseHeader::overriding(
            ServeDir::new(directory),
            header::CACHE_CONTROL,
            CacheControl(cache_control),
        ))
        .layer(middleware::from_fn_with_state(directory, inside_directory))
}

async fn inside_directory(
    State(directory): State<&'static str>,
    request: Request,
    next: Next,
) -> Response {
    let relative = percent_encoding::percent_decode_str(request.uri().path()).decode_utf8_lossy();
    let path = Path::new(directory).join(relative.trim_start_matches('/'));
    // A path that does not exist is left to ServeDir, which answers 404 for it.
    if let (Ok(root), Ok(resolved)) = (
        tokio::fs::canonicalize(directory).await,
        tokio::fs::canonicalize(&path).await,
    ) && !resolved.starts_with(&root)
    {
        tracing::warn!(path = %request.uri().path(), "static file refused: it resolves outside {directory}/");
        return AppError::NotFound.into_response();
    }
    next.run(request).await
}

/// A `Cache-Control` value for successful responses only, so that a 404 is never cached for a year.
#[derive(Clone, Copy)]
struct CacheControl(&'static str);

impl<B> MakeHeaderValue<Response<B>> for CacheControl {
    fn make_header_value(&mut self, response: &Response<B>) -> Option<HeaderValue> {
        response
            .status()
            .is_success()
            .then(|| HeaderValue::from_static(self.0))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage;

async fn home() -> HomePage {
    HomePage
}

/// Answers 200 while the database answers, for load balancers and `fly deploy` health checks.
async fn up(State(db): State<<%= app.sql.pool %>>) -> Response {
    let check = sqlx::query("SELECT 1").execute(&db);
    match tokio::time::timeout(Duration::from_secs(3), check).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok").into_response(),
        Ok(Err(error)) => {
            tracing::error!("health check failed: {error}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => {
            tracing::error!("health check timed out waiting for the database");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// The error every handler returns; it becomes a plain error page and never leaks details.
#[derive(Debug)]
pub enum AppError {
    NotFound,
    /// A request the app cannot read (a malformed form, a wrong content type), with its status.
    Rejected(StatusCode),
    Database(sqlx::Error),
    Template(askama::Error),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::NotFound => f.write_str("not found"),
            AppError::Rejected(status) => write!(f, "request rejected with {status}"),
            AppError::Database(error) => write!(f, "database error: {error}"),
            AppError::Template(error) => write!(f, "template error: {error}"),
        }
    }
}

impl std::error::Error for AppError {}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            // A lookup by id that finds nothing is the visitor's mistake, not the server's.
            sqlx::Error::RowNotFound => AppError::NotFound,
            // A record that refers to one deleted meanwhile (a message created in a room that
            // is gone) refers to nothing: the page it was made on no longer exists.
            sqlx::Error::Database(error) if error.is_foreign_key_violation() => AppError::NotFound,
            error => AppError::Database(error),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Template(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "The page you were looking for doesn’t exist.",
            ),
            AppError::Rejected(status) => (
                *status,
                if *status == StatusCode::PAYLOAD_TOO_LARGE {
                    "The request is too large."
                } else {
                    "The request could not be understood."
                },
            ),
            AppError::Database(_) | AppError::Template(_) => {
                tracing::error!("{self}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong. It has been logged.",
                )
            }
        };
        let page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
             <link rel=\"stylesheet\" href=\"/static/app.css\"></head>\
             <body><main class=\"container\"><h1>{}</h1><p>{message}</p>\
             <p><a href=\"/\">Back to the home page</a></p></main></body></html>\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error"),
        );
        (status, Html(page)).into_response()
    }
}
