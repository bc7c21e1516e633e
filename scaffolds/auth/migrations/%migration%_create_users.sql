-- Accounts, their sessions and their password-reset tokens, as `gen auth` wrote them.
-- Session and reset tokens are kept only as SHA-256 digests: the database alone lets no one in.
CREATE TABLE users (
    id <%= app.sql.id_column %>,
    -- Stored trimmed and lower-cased, so that one address is one account.
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE sessions (
    id <%= app.sql.id_column %>,
    user_id <%= app.sql.reference %> NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_digest TEXT NOT NULL UNIQUE,
    user_agent TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    created_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_seen_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE password_resets (
    id <%= app.sql.id_column %>,
    user_id <%= app.sql.reference %> NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_digest TEXT NOT NULL UNIQUE,
    expires_at <%= app.sql.timestamp %> NOT NULL,
    created_at <%= app.sql.timestamp %> NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX password_resets_user_id ON password_resets (user_id);
