//! The rows of accounts: users, their sessions and their password-reset tokens, and the queries on them.

use chrono::{DateTime, Utc};

use crate::turbo::DomId;

/// The app's database pool.
pub type Db = sqlx::<%= app.sql.pool %>;

/// One row of the `users` table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    /// Trimmed and lower-cased, as [`normalize_email`] leaves it.
    pub email: String,
    /// The argon2id hash in the PHC string format, parameters and salt included.
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user names the live streams of the records that are theirs, `user:7:notes`, through the
/// same naming function as every stream.
impl DomId for User {
    const SINGULAR: &'static str = "user";
    const PLURAL: &'static str = "users";

    fn dom_key(&self) -> String {
        self.id.to_string()
    }
}

/// One row of the `sessions` table: a browser signed in as a user. The token the browser holds
/// is not here, only its digest.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    pub user_agent: String,
    pub ip_address: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The longest email address accepted, the most a mail server delivers to (RFC 5321).
pub const MAX_EMAIL_LENGTH: usize = 254;

/// An email address as it is stored and looked up: trimmed and lower-cased, so that
/// `" Ada@Example.COM "` and `"ada@example.com"` are one account.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a normalised address looks deliverable: one `@` with text on both sides, a dot in the
/// domain, no spaces, and not too long. Only the mail server can tell more.
pub fn is_plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.chars().count() <= MAX_EMAIL_LENGTH
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl User {
    pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<Self>> {
        sqlx::query_as("SELECT * FROM users WHERE id = <%= param(1) %>")
            .bind(id)
            .fetch_optional(db)
            .await
    }

    /// The user with this address, given normalised.
    pub async fn find_by_email(db: &Db, email: &str) -> sqlx::Result<Option<Self>> {
        sqlx::query_as("SELECT * FROM users WHERE email = <%= param(1) %>")
            .bind(email)
            .fetch_optional(db)
            .await
    }

    /// Creates a user; `None` when the address is taken already.
    pub async fn create(db: &Db, email: &str, password_hash: &str) -> sqlx::Result<Option<Self>> {
        let created =
            sqlx::query_as("INSERT INTO users (email, password_hash) VALUES (<%= param(1) %>, <%= param(2) %>) RETURNING *")
                .bind(email)
                .bind(password_hash)
                .fetch_one(db)
                .await;
        match created {
            Ok(user) => Ok(Some(user)),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(None),
            Err(error) => Err(error),
        }
    }

    pub async fn set_password_hash(db: &Db, id: i64, password_hash: &str) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE users SET password_hash = <%= param(1) %>, updated_at = CURRENT_TIMESTAMP WHERE id = <%= param(2) %>",
        )
        .bind(password_hash)
        .bind(id)
        .execute(db)
        .await?;
        Ok(())
    }
}

impl Session {
    /// Stores a new session under the digest of its token.
    pub async fn create(
        db: &Db,
        user_id: i64,
        token_digest: &str,
        user_agent: &str,
        ip_address: &str,
    ) -> sqlx::Result<Self> {
        sqlx::query_as(
            "INSERT INTO sessions (user_id, token_digest, user_agent, ip_address) \
             VALUES (<%= param(1) %>, <%= param(2) %>, <%= param(3) %>, <%= param(4) %>) RETURNING id, user_id, user_agent, ip_address, created_at, last_seen_at",
        )
        .bind(user_id)
        .bind(token_digest)
        .bind(user_agent)
        .bind(ip_address)
        .fetch_one(db)
        .await
    }

    /// The session whose token has this digest.
    pub async fn find_by_digest(db: &Db, token_digest: &str) -> sqlx::Result<Option<Self>> {
        sqlx::query_as(
            "SELECT id, user_id, user_agent, ip_address, created_at, last_seen_at \
             FROM sessions WHERE token_digest = <%= param(1) %>",
        )
        .bind(token_digest)
        .fetch_optional(db)
        .await
    }

    /// Every session of a user, the most recently seen first.
    pub async fn all_of(db: &Db, user_id: i64) -> sqlx::Result<Vec<Self>> {
        sqlx::query_as(
            "SELECT id, user_id, user_agent, ip_address, created_at, last_seen_at \
             FROM sessions WHERE user_id = <%= param(1) %> ORDER BY last_seen_at DESC, id DESC",
        )
        .bind(user_id)
        .fetch_all(db)
        .await
    }

    pub async fn touch(db: &Db, id: i64, at: DateTime<Utc>) -> sqlx::Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = <%= param(1) %> WHERE id = <%= param(2) %>")
            .bind(at)
            .bind(id)
            .execute(db)
            .await?;
        Ok(())
    }
}

/// A password-reset token, stored as its digest, usable once until it expires.
pub struct PasswordReset;

impl PasswordReset {
    /// Stores a token's digest for a user, to expire at `expires_at`.
    pub async fn create(
        db: &Db,
        user_id: i64,
        token_digest: &str,
        expires_at: DateTime<Utc>,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO password_resets (user_id, token_digest, expires_at) VALUES (<%= param(1) %>, <%= param(2) %>, <%= param(3) %>)",
        )
        .bind(user_id)
        .bind(token_digest)
        .bind(expires_at)
        .execute(db)
        .await?;
        Ok(())
    }

    /// The user a token was made for and when it expires, if it exists; it stays usable.
    pub async fn peek(db: &Db, token_digest: &str) -> sqlx::Result<Option<(i64, DateTime<Utc>)>> {
        sqlx::query_as("SELECT user_id, expires_at FROM password_resets WHERE token_digest = <%= param(1) %>")
            .bind(token_digest)
            .fetch_optional(db)
            .await
    }

    /// Deletes the token and says whom it was for and when it expires. One statement both finds
    /// and deletes it, so two requests racing with one token cannot both use it.
    pub async fn take(db: &Db, token_digest: &str) -> sqlx::Result<Option<(i64, DateTime<Utc>)>> {
        sqlx::query_as(
            "DELETE FROM password_resets WHERE token_digest = <%= param(1) %> RETURNING user_id, expires_at",
        )
        .bind(token_digest)
        .fetch_optional(db)
        .await
    }

    /// Deletes every token of a user, once one of them has been used, and the expired ones of
    /// everybody, so the table does not grow.
    pub async fn clear(db: &Db, user_id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM password_resets WHERE user_id = <%= param(1) %> OR expires_at < <%= param(2) %>")
            .bind(user_id)
            .bind(now)
            .execute(db)
            .await?;
        Ok(())
    }
}
