//! Accounts: sign-up, sign-in and sign-out, sessions that are database rows, password resets by
//! mail, the account page, and the extractors [`CurrentUser`] and [`MaybeUser`] handlers ask for.

mod extract;
mod handlers;
pub mod limit;
pub mod mail;
pub mod model;
pub mod password;
pub mod session;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::routing::{delete, get, post};
use axum::{Extension, Router};

use crate::app::AppState;
use crate::config::{Config, ConfigError, Environment};

pub use extract::{CurrentUser, MaybeUser};
pub use model::User;

/// How long a password-reset link works unless `PASSWORD_RESET_TTL` says otherwise.
pub const DEFAULT_RESET_TTL: Duration = Duration::from_secs(15 * 60);

/// What accounts read from the environment, besides the app's [`Config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SMTP_URL`: the server reset links are sent through; required in production. Without
    /// it, mail is written to `storage/mail/` and listed at `/dev/mailbox`.
    pub smtp_url: Option<String>,
    /// `MAIL_FROM`: the sender of the app's mail; `<crate name> <no-reply@HOST>` with the app's
    /// first host by default.
    pub mail_from: String,
    /// `PASSWORD_RESET_TTL`: seconds a reset link works; 900 (15 minutes) by default.
    pub reset_ttl: Duration,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env(config: &Config) -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok(), config)
    }

    /// Reads the settings through `var`, so tests can pass variables without touching the
    /// process environment. Empty values count as unset.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        config: &Config,
    ) -> Result<Self, ConfigError> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let smtp_url = var("SMTP_URL").map(|url| url.trim().to_owned());
        let host = config
            .hosts
            .first()
            .map_or("localhost", |host| host.trim_start_matches('.'));
        let mail_from = var("MAIL_FROM")
            .map(|from| from.trim().to_owned())
            .unwrap_or_else(|| format!("{} <no-reply@{host}>", env!("CARGO_PKG_NAME")));
        let reset_ttl = match var("PASSWORD_RESET_TTL") {
            None => DEFAULT_RESET_TTL,
            Some(value) => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|seconds| *seconds > 0)
                .map(Duration::from_secs)
                .ok_or_else(|| ConfigError {
                    variable: "PASSWORD_RESET_TTL",
                    message: format!("expected a number of seconds above 0, got {value:?}"),
                })?,
        };
        Ok(Settings {
            smtp_url,
            mail_from,
            reset_ttl,
        })
    }

    /// What keeps an app with these settings from running: production needs `SMTP_URL`, since
    /// a reset link that is never mailed locks users out, and the URL and sender must parse.
    pub fn check(&self, config: &Config) -> Result<(), ConfigError> {
        if let Err(error) = self.mail_from.parse::<lettre::message::Mailbox>() {
            return Err(ConfigError {
                variable: "MAIL_FROM",
                message: format!(
                    "expected an address such as \"App <no-reply@example.com>\", got {:?} ({error})",
                    self.mail_from
                ),
            });
        }
        match &self.smtp_url {
            None if config.environment == Environment::Production => Err(ConfigError {
                variable: "SMTP_URL",
                message: "must be set when APP_ENV=production, so that password-reset links can be mailed (such as smtps://user:password@smtp.example.com)".into(),
            }),
            None => Ok(()),
            Some(url) => mail::Mailer::smtp(url, &self.mail_from)
                .map(|_| ())
                .map_err(|message| ConfigError {
                    variable: "SMTP_URL",
                    message,
                }),
        }
    }
}

/// Refuses to boot, with one line naming the variable, when the settings are missing or wrong;
/// `main` calls it right after reading the [`Config`].
pub fn check_config(config: &Config) -> Result<(), String> {
    let settings = Settings::from_env(config).map_err(|error| error.to_string())?;
    settings.check(config).map_err(|error| error.to_string())
}

/// What the account handlers share: the password hasher, the rate limiter, the mailer and the
/// settings.
#[derive(Clone)]
pub struct Auth {
    pub settings: Settings,
    pub hasher: password::Hasher,
    pub limiter: limit::RateLimiter,
    pub mailer: mail::Mailer,
}

impl Auth {
    /// The accounts of an app with `config`, read from the process environment.
    pub fn new(config: &Config) -> Result<Self, String> {
        let settings = Settings::from_env(config).map_err(|error| error.to_string())?;
        Self::with_settings(config, settings)
    }

    /// The accounts of an app with `config` and the given settings, for tests that choose them.
    pub fn with_settings(config: &Config, settings: Settings) -> Result<Self, String> {
        let limiter = match &config.redis_url {
            Some(url) => {
                limit::RateLimiter::redis(url, limit::DEFAULT_LIMIT, limit::DEFAULT_WINDOW)
                    .map_err(|error| format!("REDIS_URL: {error}"))?
            }
            None => limit::RateLimiter::in_process(limit::DEFAULT_LIMIT, limit::DEFAULT_WINDOW),
        };
        let mailer = match (&settings.smtp_url, config.environment) {
            (Some(url), _) => mail::Mailer::smtp(url, &settings.mail_from)
                .map_err(|error| format!("SMTP_URL: {error}"))?,
            // `check_config` stops such an app at boot; a router built without it (in a test)
            // logs each message it cannot send instead of writing it where nobody looks.
            (None, Environment::Production) => mail::Mailer::Unavailable,
            (None, Environment::Development | Environment::Test) => {
                mail::Mailer::files(mail::MAIL_DIR, &settings.mail_from)
            }
        };
        Ok(Auth {
            hasher: password::Hasher::new(config.environment),
            limiter,
            mailer,
            settings,
        })
    }
}

/// The account routes, sharing what [`Auth`] holds. `main` has checked the settings at boot
/// with [`check_config`], so reading them again does not fail there.
pub fn routes(state: &AppState) -> Router<AppState> {
    let auth = Auth::new(&state.config).unwrap_or_else(|error| panic!("{error}"));
    routes_with(auth)
}

/// The account routes with the given [`Auth`], for tests that set it up themselves.
pub fn routes_with(auth: Auth) -> Router<AppState> {
    Router::new()
        .route(
            "/sign_up",
            get(handlers::new_user).post(handlers::create_user),
        )
        .route(
            "/sign_in",
            get(handlers::new_session).post(handlers::create_session),
        )
        .route(
            "/sign_out",
            post(handlers::destroy_session).delete(handlers::destroy_session),
        )
        .route(
            "/passwords/new",
            get(handlers::new_reset).post(handlers::create_reset),
        )
        .route(
            "/passwords/{token}",
            get(handlers::edit_password).post(handlers::update_password),
        )
        .route("/account", get(handlers::account))
        .route("/account/menu", get(handlers::menu))
        .route(
            "/account/password",
            post(handlers::change_password).patch(handlers::change_password),
        )
        .route("/account/sessions", delete(handlers::end_other_sessions))
        .route("/account/sessions/{id}", delete(handlers::end_one_session))
        .route("/dev/mailbox", get(handlers::mailbox))
        .layer(Extension(auth))
}

/// The client's address, as the stream caps see it: from the trusted proxy's header when the
/// app has one (`CLIENT_IP_HEADER`, `Fly-Client-IP` on Fly.io), else the peer's.
pub fn client_ip(config: &Config, headers: &HeaderMap, parts: &Parts) -> String {
    let forwarded = config.client_ip_header.as_deref().and_then(|name| {
        let value = headers.get(name)?.to_str().ok()?;
        value.trim().parse::<IpAddr>().ok()
    });
    forwarded
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip())
        })
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// Where to go after signing in: `return_to` when it is a path on this site, else `/`. A value
/// such as `//evil.example` or `https://evil.example` would send the user to another site.
pub fn safe_return_to(return_to: Option<&str>) -> String {
    match return_to {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 2048
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(safe_return_to(Some("/notes/1?x=2")), "/notes/1?x=2");
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/\tevil",
            "",
        ] {
            assert_eq!(safe_return_to(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_return_to(None), "/");
    }
}
