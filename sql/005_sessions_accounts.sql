-- 005_sessions_accounts.sql - what a user sees of their sessions, and the
-- revocation record that outlives a deleted account.

-- The User-Agent a login sent: its first 256 bytes, cut back to whole UTF-8
-- characters (NULL when none was sent).  Shown in GET /api/sessions only.
ALTER TABLE sessions ADD COLUMN user_agent text CHECK (octet_length(user_agent) <= 256);

-- Deleting an account deletes its sessions (ON DELETE CASCADE), but an access
-- token of one of them may still be live, and Redis' revocation markers are
-- replayed from PostgreSQL on every fresh connection: the ids of those
-- sessions stay here, with when they were revoked, for as long as a marker
-- must live.  Older rows are purged by the next account deletion.
CREATE TABLE deleted_sessions (
    id         uuid        PRIMARY KEY,
    revoked_at timestamptz NOT NULL
);
CREATE INDEX deleted_sessions_revoked_at_idx ON deleted_sessions (revoked_at);
