//! The application's shared state, its router and its error type.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderValue, StatusCode, header};
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
use tower_http::services::ServeDir;
use tower_http::set_header::{MakeHeaderValue, SetResponseHeader};
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
        let broadcaster = match &config.redis_url {
            Some(url) => Broadcaster::new(
                turbo::redis::Redis::connect(
                    url,
                    history,
                    turbo::broadcast::DEFAULT_CHANNEL_CAPACITY,
                )
                .map_err(|error| error.to_string())?,
            ),
            None => Broadcaster::in_process_with_limits(history),
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
    let router = Router::new()
        .route("/", get(home))
        .route("/up", get(up))
        .merge(turbo::routes());
    // `gen resource` registers each resource's routes with one line after the last `let router`.
    let routes = router
        .nest_service(
            "/static/vendor",
            static_files("static/vendor", "public, max-age=31536000, immutable"),
        )
        // The stylesheet is yours to edit, so browsers revalidate it instead of caching it for a year.
        .nest_service("/static", static_files("static", "no-cache"))
        .fallback(not_found)
        .with_state(state);

    // One line per request at `info`, as a Rails or Phoenix developer expects in the terminal.
    // The span names the path without the query string, which can carry stream signatures.
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &axum::extract::Request| {
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path())
        })
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    turbo::forms::protect(routes).layer(trace)
}

/// Serves a directory, adding `Cache-Control` to every file it finds.
fn static_files(
    directory: &str,
    cache_control: &'static str,
) -> SetResponseHeader<ServeDir, CacheControl> {
    SetResponseHeader::overriding(
        ServeDir::new(directory),
        header::CACHE_CONTROL,
        CacheControl(cache_control),
    )
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
