-- 002_data.sql - each user's private key-value store of JSON values.
--
-- Values are kept as their compact JSON text, not jsonb: jsonb refuses
-- strings holding \u0000 and rewrites numbers, and every value must come
-- back as it was sent.  A deleted key stays as a tombstone so that its
-- version goes on when it is created again: an ETag never names two values.

CREATE TABLE data_items (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        text        COLLATE "C" NOT NULL CHECK (key ~ '^[A-Za-z0-9._~-]{1,128}$'),
    value      text,
    version    bigint      NOT NULL CHECK (version >= 1),
    size       integer     NOT NULL CHECK (size >= 0),
    deleted    boolean     NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key),
    CHECK (deleted = (value IS NULL))
);
-- Listing and quota read only a user's live keys, in byte order.
CREATE INDEX data_items_live_idx ON data_items (user_id, key) WHERE NOT deleted;
