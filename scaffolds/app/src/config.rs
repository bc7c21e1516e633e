//! Reads the application's configuration from the environment, once, at boot.

use std::fmt;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

/// Where the development secret is kept; `.gitignore` lists it so it never reaches the repository.
pub const SECRET_KEY_BASE_FILE: &str = ".secret_key_base";

/// Shorter secrets are refused because they make the stream signatures guessable.
const MIN_SECRET_LEN: usize = 32;

/// The deployment the process runs as, from `APP_ENV`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Test => "test",
            Environment::Production => "production",
        }
    }
}

/// Everything the app reads from the environment.
#[derive(Clone)]
pub struct Config {
    pub environment: Environment,
    /// `PORT`, 3000 by default.
    pub port: u16,
<% if app.postgres %>
    /// `DATABASE_URL`, the PostgreSQL database; required.
<% else %>
    /// `DATABASE_URL`, a SQLite file under `storage/` by default.
<% endif %>
    pub database_url: String,
    /// `REDIS_URL`; when it is absent, live updates fan out within this process only.
    pub redis_url: Option<String>,
    /// `SECRET_KEY_BASE`, the key that signs stream subscriptions.
    pub secret_key_base: String,
    /// `STREAM_HISTORY`: how many events each live stream keeps, so that a page that reconnects
    /// gets what it missed; a longer gap gets a refresh. 1,000 by default.
    pub stream_history: usize,
    /// `STREAM_HISTORY_BYTES`: how many bytes of events each live stream keeps at most, so that
    /// large events cannot fill the memory; 1 MiB by default.
    pub stream_history_bytes: usize,
    /// `STREAM_HISTORY_TOTAL_BYTES`: how many bytes of events all live streams of this process
    /// keep together, the oldest going first; 32 MiB by default.
    pub stream_history_total_bytes: usize,
    /// `STREAM_IDLE_TIMEOUT`: seconds a stream that nobody follows on this instance is kept
    /// after its newest event, for pages that come back to replay what they missed; then its
    /// history is let go, and a page that missed one of its events gets a refresh. Without
    /// `REDIS_URL` only; 300 (five minutes) by default.
    pub stream_idle_timeout: Duration,
    /// `STREAM_REDIS_EXPIRY`: seconds a stream's keys in Redis live after its newest event, when
    /// `REDIS_URL` is set; 86,400 (a day) by default. Every instance should use the same.
    pub stream_redis_expiry: Duration,
    /// `HTTP_HEADER_TIMEOUT`: seconds a connection may take to send a request's headers, counted
    /// from when it starts waiting for a request, so it also closes an idle keep-alive
    /// connection; 10 by default.
    pub header_timeout: Duration,
    /// `HTTP_REQUEST_TIMEOUT`: seconds an ordinary request, its body included, may take before it
    /// is answered with 408; 30 by default. Live streams are exempt, and an upload's body starts
    /// with this much and earns more as it arrives.
    pub request_timeout: Duration,
    /// `UPLOAD_MIN_RATE`: bytes a second an upload (a `multipart/form-data` body) must arrive at:
    /// each this many bytes buy its body one more second past `HTTP_REQUEST_TIMEOUT`, and a body
    /// that falls behind is answered with 408 and stores nothing; 65,536 (64 KiB) by default.
    pub upload_min_rate: u64,
    /// `HTTP_UPLOAD_TIMEOUT`: seconds an upload's body may take at most, however fast it
    /// arrives; 600 (ten minutes) by default, and at least `HTTP_REQUEST_TIMEOUT`.
    pub upload_timeout: Duration,
    /// `HTTP_MAX_REQUESTS`: how many ordinary requests are served at once; more are answered
    /// with 503 at once instead of queueing; 1,000 by default.
    pub max_requests: usize,
    /// `STREAM_MAX_CONNECTIONS`: how many live stream connections (SSE and WebSocket) are open
    /// at once in this process; more get 503; 10,000 by default.
    pub stream_max_connections: usize,
    /// `STREAM_MAX_PER_CLIENT`: how many live stream connections one client address may hold
    /// open; more get 429; 50 by default.
    pub stream_max_per_client: usize,
    /// The host names the app answers to (any port). Development and test allow `localhost`,
    /// `127.0.0.1` and `[::1]`; production allows `APP_HOSTS` (comma-separated; `.example.com`
    /// also allows its subdomains), by default `<FLY_APP_NAME>.fly.dev` on Fly.io.
    pub hosts: Vec<String>,
    /// `CLIENT_IP_HEADER`: the header a trusted proxy puts the client's address in, for the
    /// per-client stream cap; `Fly-Client-IP` on Fly.io, none (the peer address) elsewhere.
    pub client_ip_header: Option<String>,
}

// The secret stays out of logs and panic messages.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("environment", &self.environment)
            .field("port", &self.port)
<% if app.postgres %>
            .field("database_url", &self.database_url_for_logs())
<% else %>
            .field("database_url", &self.database_url)
<% endif %>
            .field("redis_url", &self.redis_url.as_ref().map(|_| "[set]"))
            .field("secret_key_base", &"[redacted]")
            .field("stream_history", &self.stream_history)
            .field("stream_history_bytes", &self.stream_history_bytes)
            .field(
                "stream_history_total_bytes",
                &self.stream_history_total_bytes,
            )
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("stream_redis_expiry", &self.stream_redis_expiry)
            .field("header_timeout", &self.header_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("upload_min_rate", &self.upload_min_rate)
            .field("upload_timeout", &self.upload_timeout)
            .field("max_requests", &self.max_requests)
            .field("stream_max_connections", &self.stream_max_connections)
            .field("stream_max_per_client", &self.stream_max_per_client)
            .field("hosts", &self.hosts)
            .field("client_ip_header", &self.client_ip_header)
            .finish()
    }
}

/// A variable that is missing or malformed, with a message that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment; the development secret lives in the current directory.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok(), Path::new("."))
    }

    /// Reads configuration through `var`, so tests can pass variables without touching the
    /// process environment; `root` is the directory that holds the development secret file.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        root: &Path,
    ) -> Result<Self, ConfigError> {
        // Empty values count as unset, as they do for most twelve-factor apps.
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());

        let environment = match var("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") => Environment::Development,
            Some("test") => Environment::Test,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(ConfigError {
                    variable: "APP_ENV",
                    message: format!("expected development, test or production, got {other:?}"),
                });
            }
        };

        let port = match var("PORT") {
            None => 3000,
            Some(value) => value
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| ConfigError {
                    variable: "PORT",
                    message: format!("expected a port number from 1 to 65535, got {value:?}"),
                })?,
        };

<% if app.postgres %>
        let database_url = match var("DATABASE_URL") {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => url,
            Some(url) => {
                return Err(ConfigError {
                    variable: "DATABASE_URL",
                    message: format!(
                        "expected a postgres:// URL such as postgres://localhost/<%= app.name %>_development, got {:?}",
                        without_password(&url)
                    ),
                });
            }
            None => {
                return Err(ConfigError {
                    variable: "DATABASE_URL",
                    message: "must be set to the PostgreSQL database, such as postgres://localhost/<%= app.name %>_development (on Fly.io, `fly postgres attach` sets it)".into(),
                });
            }
        };
<% else %>
        let database_url = match var("DATABASE_URL") {
            None => format!("sqlite://storage/{}.sqlite3", environment.as_str()),
            Some(url) if url.starts_with("sqlite:") => url,
            Some(url) => {
                return Err(ConfigError {
                    variable: "DATABASE_URL",
                    message: format!(
                        "expected a sqlite: URL such as sqlite://storage/app.sqlite3, got {url:?}"
                    ),
                });
            }
        };
<% endif %>

        let redis_url = match var("REDIS_URL") {
            None => None,
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => Some(url),
            Some(url) => {
                return Err(ConfigError {
                    variable: "REDIS_URL",
                    message: format!("expected a redis:// or rediss:// URL, got {url:?}"),
                });
            }
        };

        let stream_history = match var("STREAM_HISTORY") {
            None => crate::turbo::broadcast::DEFAULT_HISTORY,
            Some(value) => value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|events| *events > 0)
                .ok_or_else(|| ConfigError {
                    variable: "STREAM_HISTORY",
                    message: format!("expected a number of events above 0, got {value:?}"),
                })?,
        };

        let bytes = |variable: &'static str, default: usize| match var(variable) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|bytes| *bytes > 0)
                .ok_or_else(|| ConfigError {
                    variable,
                    message: format!("expected a number of bytes above 0, got {value:?}"),
                }),
        };
        let stream_history_bytes = bytes(
            "STREAM_HISTORY_BYTES",
            crate::turbo::broadcast::DEFAULT_HISTORY_BYTES,
        )?;
        let stream_history_total_bytes = bytes(
            "STREAM_HISTORY_TOTAL_BYTES",
            crate::turbo::broadcast::DEFAULT_HISTORY_TOTAL_BYTES,
        )?;
        if stream_history_total_bytes < stream_history_bytes {
            return Err(ConfigError {
                variable: "STREAM_HISTORY_TOTAL_BYTES",
                message: format!(
                    "is {stream_history_total_bytes} bytes, less than one stream may keep (STREAM_HISTORY_BYTES, {stream_history_bytes})"
                ),
            });
        }

        let seconds = |variable: &'static str, default: u64| match var(variable) {
            None => Ok(Duration::from_secs(default)),
            Some(value) => value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|seconds| *seconds > 0.0)
                .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
                .ok_or_else(|| ConfigError {
                    variable,
                    message: format!("expected a number of seconds above 0, got {value:?}"),
                }),
        };
        let header_timeout = seconds("HTTP_HEADER_TIMEOUT", 10)?;
        let request_timeout = seconds("HTTP_REQUEST_TIMEOUT", 30)?;
        let upload_min_rate = match var("UPLOAD_MIN_RATE") {
            None => crate::turbo::deadline::DEFAULT_UPLOAD_MIN_RATE,
            Some(value) => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|rate| *rate > 0)
                .ok_or_else(|| ConfigError {
                    variable: "UPLOAD_MIN_RATE",
                    message: format!("expected a number of bytes a second above 0, got {value:?}"),
                })?,
        };
        let upload_timeout = seconds(
            "HTTP_UPLOAD_TIMEOUT",
            crate::turbo::deadline::DEFAULT_UPLOAD_TIMEOUT.as_secs(),
        )?;
        if upload_timeout < request_timeout {
            return Err(ConfigError {
                variable: "HTTP_UPLOAD_TIMEOUT",
                message: format!(
                    "is {} seconds, less than every request has (HTTP_REQUEST_TIMEOUT, {})",
                    upload_timeout.as_secs_f64(),
                    request_timeout.as_secs_f64()
                ),
            });
        }
        let stream_idle_timeout = seconds(
            "STREAM_IDLE_TIMEOUT",
            crate::turbo::broadcast::DEFAULT_STREAM_IDLE.as_secs(),
        )?;
        let stream_redis_expiry = seconds(
            "STREAM_REDIS_EXPIRY",
            crate::turbo::redis::DEFAULT_KEY_EXPIRY.as_secs(),
        )?;

        let count = |variable: &'static str, default: usize| match var(variable) {
            None => Ok(default),
            Some(value) => value
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|count| *count > 0)
                .ok_or_else(|| ConfigError {
                    variable,
                    message: format!("expected a number above 0, got {value:?}"),
                }),
        };
        let max_requests = count("HTTP_MAX_REQUESTS", 1_000)?;
        let stream_max_connections = count("STREAM_MAX_CONNECTIONS", 10_000)?;
        let stream_max_per_client = count("STREAM_MAX_PER_CLIENT", 50)?;

        // Read once the values above are known to be well formed, so that a mistake in one of
        // them does not leave a new development secret behind.
        let secret_key_base = match var("SECRET_KEY_BASE") {
            Some(secret) => check_secret(secret.trim().to_owned())?,
            None if environment == Environment::Production => {
                return Err(ConfigError {
                    variable: "SECRET_KEY_BASE",
                    message: "must be set when APP_ENV=production (generate one with `openssl rand -hex 64`)".into(),
                });
            }
            None => development_secret(&root.join(SECRET_KEY_BASE_FILE))?,
        };

        let fly_app_name = var("FLY_APP_NAME");
        let hosts = match environment {
            Environment::Development | Environment::Test => ["localhost", "127.0.0.1", "[::1]"]
                .map(str::to_owned)
                .to_vec(),
            Environment::Production => {
                let listed: Vec<String> = var("APP_HOSTS")
                    .unwrap_or_default()
                    .split(',')
                    .map(|host| host.trim().to_ascii_lowercase())
                    .filter(|host| !host.is_empty())
                    .collect();
                match (listed.is_empty(), &fly_app_name) {
                    (false, _) => listed,
                    (true, Some(name)) => vec![format!("{}.fly.dev", name.trim())],
                    (true, None) => {
                        return Err(ConfigError {
                            variable: "APP_HOSTS",
                            message: "must list the host names this app answers to, such as example.com,www.example.com, when APP_ENV=production (on Fly.io it defaults to <FLY_APP_NAME>.fly.dev)".into(),
                        });
                    }
                }
            }
        };
        let client_ip_header = match var("CLIENT_IP_HEADER") {
            Some(header) => Some(header.trim().to_owned()),
            None => fly_app_name.map(|_| "Fly-Client-IP".to_owned()),
        };

        Ok(Config {
            environment,
            port,
            database_url,
            redis_url,
            secret_key_base,
            stream_history,
            stream_history_bytes,
            stream_history_total_bytes,
            stream_idle_timeout,
            stream_redis_expiry,
            header_timeout,
            request_timeout,
            upload_min_rate,
            upload_timeout,
            max_requests,
            stream_max_connections,
            stream_max_per_client,
            hosts,
            client_ip_header,
        })
    }

<% if app.postgres %>
    /// `DATABASE_URL` with its password replaced by `***`, for logs and error messages.
    pub fn database_url_for_logs(&self) -> String {
        without_password(&self.database_url)
    }

<% endif %>
    /// Production listens on every interface so a platform's proxy can reach it; development
    /// stays on loopback so a laptop does not serve its app to the whole network.
    pub fn listen_address(&self) -> SocketAddr {
        let ip = match self.environment {
            Environment::Production => Ipv4Addr::UNSPECIFIED,
            Environment::Development | Environment::Test => Ipv4Addr::LOCALHOST,
        };
        SocketAddr::from((ip, self.port))
    }
}

<% if app.postgres %>
/// A URL with its password, in the user information or a `password=` parameter, replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let path = match path.find("password=") {
        Some(at) => {
            let value = at + "password=".len();
            let end = path[value..]
                .find('&')
                .map_or(path.len(), |end| value + end);
            format!("{}***{}", &path[..value], &path[end..])
        }
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

<% endif %>
fn check_secret(secret: String) -> Result<String, ConfigError> {
    if secret.len() < MIN_SECRET_LEN {
        return Err(ConfigError {
            variable: "SECRET_KEY_BASE",
            message: format!(
                "is {} characters long; use at least {MIN_SECRET_LEN} (generate one with `openssl rand -hex 64`)",
                secret.len()
            ),
        });
    }
    Ok(secret)
}

/// Reads the development secret, creating it on first boot so that signed stream URLs keep
/// working across restarts without anyone having to set a variable.
fn development_secret(path: &Path) -> Result<String, ConfigError> {
    let error = |message: String| ConfigError {
        variable: "SECRET_KEY_BASE",
        message,
    };
    match std::fs::read_to_string(path) {
        Ok(contents) => {
            return check_secret(contents.trim().to_owned()).map_err(|e| {
                error(format!(
                    "{} (in {}; delete the file to get a new one)",
                    e.message,
                    path.display()
                ))
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(error(format!("cannot read {}: {e}", path.display()))),
    }

    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).map_err(|e| error(format!("cannot generate a secret: {e}")))?;
    let secret: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    write_private_file(path, &secret)
        .map_err(|e| error(format!("cannot write {}: {e}", path.display())))?;
    Ok(secret)
}

/// Creates the file readable by its owner only, since it holds a key.
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(file, "{contents}")
}
