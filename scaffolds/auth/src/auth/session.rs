//! Sessions: the random token in the browser's cookie, its digest in the database, the cookie's
//! name and flags, finding the session a request belongs to, and ending sessions.
//!
//! [`end`] is the one place sessions are deleted (sign-out, signing out another browser, "sign
//! out everywhere else", a password change or reset), so whatever must follow a session's end
//! belongs in [`ended`].

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};

use super::model::{Db, Session, User};
use crate::config::Environment;

/// How often a session's `last_seen_at` is written at most: often enough for the account page
/// to say when each browser was last used, rare enough that reading a page does not write.
pub const TOUCH_EVERY: Duration = Duration::minutes(5);

/// How long a session may go unused before it no longer signs anyone in.
pub const IDLE_LIMIT: Duration = Duration::days(30);

/// The cookie's lifetime in the browser, in seconds: the idle limit, renewed at each sign-in.
const COOKIE_MAX_AGE: i64 = 30 * 24 * 60 * 60;

/// A fresh random token of 256 bits from the operating system's CSPRNG, as 64 hex digits.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    hex(&bytes)
}

/// The SHA-256 digest of a token, as it is stored. A token has 256 random bits, so a fast hash
/// is enough: there is nothing to guess that a slow one would protect.
pub fn digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The session cookie's name: with the `__Host-` prefix in production, which browsers accept
/// only from a secure origin, with `Path=/` and no `Domain`, so no subdomain can set it.
pub fn cookie_name(environment: Environment) -> &'static str {
    match environment {
        Environment::Production => "__Host-session",
        Environment::Development | Environment::Test => "session",
    }
}

/// The `Set-Cookie` value that gives the browser `token`.
pub fn cookie(environment: Environment, token: &str) -> HeaderValue {
    let secure = if environment == Environment::Production {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={COOKIE_MAX_AGE}{secure}",
        cookie_name(environment)
    );
    HeaderValue::from_str(&value).expect("a hex token makes a valid header")
}

/// The `Set-Cookie` value that makes the browser forget the session.
pub fn removal_cookie(environment: Environment) -> HeaderValue {
    let secure = if environment == Environment::Production {
        "; Secure"
    } else {
        ""
    };
    let value = format!(
        "{}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}",
        cookie_name(environment)
    );
    HeaderValue::from_str(&value).expect("the removal cookie is a valid header")
}

/// The session token a request carries in its `Cookie` header, if any.
pub fn token(headers: &HeaderMap, environment: Environment) -> Option<String> {
    let name = cookie_name(environment);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// The session a request's cookie names and its user, while the session exists and has been
/// used within [`IDLE_LIMIT`]. It writes `last_seen_at` when it is older than [`TOUCH_EVERY`].
pub async fn resolve(
    db: &Db,
    headers: &HeaderMap,
    environment: Environment,
) -> sqlx::Result<Option<(Session, User)>> {
    let Some(token) = token(headers, environment) else {
        return Ok(None);
    };
    let Some(mut session) = Session::find_by_digest(db, &digest(&token)).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    if now - session.last_seen_at > IDLE_LIMIT {
        end(db, Ending::One(session.user_id, session.id)).await?;
        return Ok(None);
    }
    let Some(user) = User::find(db, session.user_id).await? else {
        return Ok(None);
    };
    if now - session.last_seen_at > TOUCH_EVERY {
        Session::touch(db, session.id, now).await?;
        session.last_seen_at = now;
    }
    Ok(Some((session, user)))
}

/// Starts a session for a user, always with a new token, so that a token planted in a browser
/// before sign-in never becomes signed in (session fixation). It returns the session and the
/// token for the cookie.
pub async fn start(
    db: &Db,
    user: &User,
    user_agent: &str,
    ip_address: &str,
) -> sqlx::Result<(Session, String)> {
    let token = new_token();
    // Bounded, so that a client cannot store a large header in every session row.
    let user_agent: String = user_agent.chars().take(255).collect();
    let session = Session::create(db, user.id, &digest(&token), &user_agent, ip_address).await?;
    Ok((session, token))
}

/// Which sessions [`end`] deletes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// One session, given as its user's id and its own, so that nobody ends another's session.
    One(i64, i64),
    /// Every session of the user but the one given (sign out everywhere else, a password change).
    AllBut(i64, i64),
    /// Every session of the user (a password reset, from a browser that is not signed in).
    All(i64),
}

/// Deletes sessions and returns the ids of those it deleted. Every way a session ends goes
/// through here.
pub async fn end(db: &Db, ending: Ending) -> sqlx::Result<Vec<i64>> {
    let ids: Vec<i64> = match ending {
        Ending::One(user_id, id) => {
            sqlx::query_scalar("DELETE FROM sessions WHERE user_id = <%= param(1) %> AND id = <%= param(2) %> RETURNING id")
                .bind(user_id)
                .bind(id)
                .fetch_all(db)
                .await?
        }
        Ending::AllBut(user_id, keep) => {
            sqlx::query_scalar("DELETE FROM sessions WHERE user_id = <%= param(1) %> AND id <> <%= param(2) %> RETURNING id")
                .bind(user_id)
                .bind(keep)
                .fetch_all(db)
                .await?
        }
        Ending::All(user_id) => {
            sqlx::query_scalar("DELETE FROM sessions WHERE user_id = <%= param(1) %> RETURNING id")
                .bind(user_id)
                .fetch_all(db)
                .await?
        }
    };
    ended(&ids);
    Ok(ids)
}

/// Runs once the sessions `ids` are gone. A cookie that named one of them no longer signs
/// anyone in; what else holds on to a session (an open live stream, a cache) is let go here.
fn ended(ids: &[i64]) {
    if !ids.is_empty() {
        tracing::info!(sessions = ?ids, "sessions ended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_as_digests() {
        let token = new_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, new_token());
        assert_eq!(digest(&token).len(), 64);
        assert_ne!(digest(&token), token);
        assert_eq!(digest(&token), digest(&token));
    }

    #[test]
    fn the_cookie_is_host_only_and_secure_in_production() {
        let development = cookie(Environment::Development, "abc");
        assert_eq!(
            development,
            "session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000"
        );
        let production = cookie(Environment::Production, "abc");
        assert_eq!(
            production,
            "__Host-session=abc; HttpOnly; SameSite=Lax; Path=/; Max-Age=2592000; Secure"
        );
    }

    #[test]
    fn the_token_is_read_from_the_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; session=abc; other=1"),
        );
        assert_eq!(
            token(&headers, Environment::Development).as_deref(),
            Some("abc")
        );
        // Production reads only the prefixed cookie, which a subdomain cannot plant.
        assert_eq!(token(&headers, Environment::Production), None);
        headers.insert(header::COOKIE, HeaderValue::from_static("session="));
        assert_eq!(token(&headers, Environment::Development), None);
    }
}
