-- 001_accounts.sql - users, their sessions (refresh-token families), the
-- refresh tokens themselves (only as hashes) and failed-login records.

CREATE TABLE users (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    username      text        NOT NULL CHECK (username ~ '^[A-Za-z0-9_.-]{3,32}$'),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Unique case-insensitively; login looks names up through the same expression.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

-- A session is one refresh-token family: a login and every rotation after it.
-- Its id is the `sid` claim of every access token it issued, so revoking the
-- session revokes those tokens too.
CREATE TABLE sessions (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    revoked_reason text CHECK (revoked_reason IN ('logout', 'reuse', 'password_change'))
);
CREATE INDEX sessions_user_live_idx ON sessions (user_id) WHERE revoked_at IS NULL;
-- Replaying recent revocations into Redis reads this range.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Refresh tokens are 256 random bits; only their SHA-256 is stored.  When a
-- token is rotated, `successor` holds the next token and its access token
-- sealed (AES-256-GCM) under a key derived from the spent token itself, so
-- only its holder can open it, and only within the reuse interval is it used.
CREATE TABLE refresh_tokens (
    token_hash bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    session_id uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    spent_at   timestamptz,
    successor  bytea
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Failed logins per username, keyed by HMAC(IP_HASH_SECRET, lower(name)):
-- never the name itself.  Rows older than the window are pruned on insert.
CREATE TABLE login_failures (
    name_hash bytea       NOT NULL CHECK (length(name_hash) = 32),
    failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX login_failures_name_idx ON login_failures (name_hash, failed_at);
