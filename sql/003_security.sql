-- 003_security.sql - what the security fixes need from the schema.
--
-- users.password_version grows with every password change.  A login reads
-- it with the hash it verifies, and creates its session only if the users
-- row still exists with that version, in the same statement (locking the
-- row FOR SHARE, so a change in flight is waited for): a login that was in
-- flight when a password change or an account deletion committed creates no
-- session.  A re-hash at another cost does not change it.
ALTER TABLE users ADD COLUMN password_version bigint NOT NULL DEFAULT 1;

-- Failed logins become one row per name holding the times of its recent
-- failures (the last LOGIN_MAX_FAILURES within the window, ascending), so
-- that deciding whether a failure still counts and recording it is one
-- upsert on one locked row: concurrent failures cannot overshoot the limit.
ALTER TABLE login_failures RENAME TO login_failures_old;
CREATE TABLE login_failures (
    name_hash bytea         PRIMARY KEY CHECK (length(name_hash) = 32),
    failed_at timestamptz[] NOT NULL CHECK (cardinality(failed_at) >= 1)
);
INSERT INTO login_failures (name_hash, failed_at)
    SELECT name_hash, array_agg(failed_at ORDER BY failed_at)
    FROM login_failures_old GROUP BY name_hash;
DROP TABLE login_failures_old;
-- The purge finds names whose newest failure has left the window.
CREATE INDEX login_failures_newest_idx ON login_failures ((failed_at[cardinality(failed_at)]));

-- The purge of expired sessions finds them by their live (unspent) token,
-- and drops sealed successors once the reuse interval is over.
CREATE INDEX refresh_tokens_live_expires_idx ON refresh_tokens (expires_at) WHERE spent_at IS NULL;
CREATE INDEX refresh_tokens_successor_idx ON refresh_tokens (spent_at) WHERE successor IS NOT NULL;
