-- 004_data_writes.sql - bounded tombstones and one-round-trip writes for
-- the per-user data store.
--
-- data_items now holds live keys only.  What a key's version must go on
-- from once it is deleted lives in two bounded places:
--
--   data_tombstones  the last version of each recently deleted key (at most
--                    as many per user as the caller's budget, DATA_MAX_KEYS:
--                    a delete past the budget forgets the oldest ones);
--   data_owners      one row per user with keys: the live key count (the
--                    quota), the tombstone count, and version_floor, the
--                    highest version a forgotten tombstone had.
--
-- A key created again goes on from its tombstone (last version + 1); a key
-- with no tombstone starts at version_floor + 1 (1 until the user's first
-- tombstone is forgotten), so a version is never given twice to one key and
-- an ETag never names two values.
--
-- data_put / data_delete are the only writers: each is one statement for
-- the client (one round trip, no session state: safe behind PgBouncer in
-- transaction mode).  A replace updates the key's row only; it never waits
-- for the user's other writes.  A create or a delete changes the key count:
-- it updates the user's data_owners row, whose row lock orders them, so the
-- quota is exact under concurrency.  Lock order: data_owners, then the
-- key's rows.

CREATE TABLE data_owners (
    user_id       uuid    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    keys          integer NOT NULL DEFAULT 0 CHECK (keys >= 0),
    tombstones    integer NOT NULL DEFAULT 0 CHECK (tombstones >= 0),
    version_floor bigint  NOT NULL DEFAULT 0 CHECK (version_floor >= 0)
);

CREATE TABLE data_tombstones (
    user_id    uuid        NOT NULL REFERENCES data_owners (user_id) ON DELETE CASCADE,
    key        text        COLLATE "C" NOT NULL,
    version    bigint      NOT NULL CHECK (version >= 1),
    deleted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
-- The oldest tombstones of a user are the first forgotten.
CREATE INDEX data_tombstones_age_idx ON data_tombstones (user_id, deleted_at, key);

-- Existing data: owners, then the tombstones out of data_items.
INSERT INTO data_owners (user_id, keys, tombstones)
SELECT user_id, count(*) FILTER (WHERE NOT deleted), count(*) FILTER (WHERE deleted)
  FROM data_items GROUP BY user_id;
INSERT INTO data_tombstones (user_id, key, version, deleted_at)
SELECT user_id, key, version, updated_at FROM data_items WHERE deleted;
DELETE FROM data_items WHERE deleted;
-- (drops the CHECK on deleted/value and the partial index on live keys too)
ALTER TABLE data_items DROP COLUMN deleted;
ALTER TABLE data_items ALTER COLUMN value SET NOT NULL;
-- A key belongs to its owner row, not to users directly: a create then
-- checks the row it already holds, and takes no lock on the users row (an
-- account deletion waits for the write instead of deadlocking with it).
ALTER TABLE data_items DROP CONSTRAINT data_items_user_id_fkey;
ALTER TABLE data_items ADD CONSTRAINT data_items_owner_fkey
    FOREIGN KEY (user_id) REFERENCES data_owners (user_id) ON DELETE CASCADE;
-- Room on each page for a replace to stay a HOT update (no index touched).
ALTER TABLE data_items SET (fillfactor = 85);
ALTER TABLE data_owners SET (fillfactor = 50);

-- data_put(user, key, value, size, max_keys, if_match, if_match_any,
--          if_none_match, if_none_match_any)
-- if_match / if_none_match: NULL when the header is absent, else the listed
-- versions ('{}' when none of its tags is ours); *_any: the header has `*`.
-- status: 'created' | 'replaced' | 'precondition' | 'quota'.
CREATE FUNCTION data_put(p_user uuid, p_key text, p_value text, p_size integer,
    p_max_keys integer, p_if_match bigint[], p_if_match_any boolean,
    p_if_none_match bigint[], p_if_none_match_any boolean,
    OUT status text, OUT version bigint, OUT updated_at text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_cur   bigint;
    v_keys  integer;
    v_tombs integer;
    v_floor bigint;
    v_last  bigint;
BEGIN
    -- Each statement below reads with a fresh snapshot (READ COMMITTED), so
    -- a statement after a lock wait sees what the previous holder committed.
    -- A lap only repeats when another writer changed the key in between.
    FOR lap IN 1..16 LOOP
        -- Replace: the key's row only (If-Match / If-None-Match re-checked
        -- on the newest row version after a wait).
        UPDATE data_items d
           SET value = p_value, size = p_size, version = d.version + 1, updated_at = now()
         WHERE d.user_id = p_user AND d.key = p_key
           AND (p_if_match IS NULL OR p_if_match_any OR d.version = ANY (p_if_match))
           AND NOT p_if_none_match_any
           AND (p_if_none_match IS NULL OR d.version <> ALL (p_if_none_match))
        RETURNING d.version, to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
          INTO version, updated_at;
        IF FOUND THEN
            status := 'replaced';
            RETURN;
        END IF;
        SELECT d.version INTO v_cur FROM data_items d WHERE d.user_id = p_user AND d.key = p_key;
        IF FOUND THEN
            IF (p_if_match IS NOT NULL AND NOT p_if_match_any AND v_cur <> ALL (p_if_match))
               OR p_if_none_match_any OR v_cur = ANY (p_if_none_match) THEN
                status := 'precondition';
                RETURN;
            END IF;
            CONTINUE; -- replaced or created meanwhile, and now the conditions hold
        END IF;

        -- Create.  If-Match on an absent key never holds.
        IF p_if_match IS NOT NULL THEN
            status := 'precondition';
            RETURN;
        END IF;
        -- Count the key in and hold the owner row: from here on no other
        -- create or delete of this user runs until we commit.
        UPDATE data_owners o SET keys = o.keys + 1
         WHERE o.user_id = p_user AND o.keys < p_max_keys
        RETURNING o.tombstones, o.version_floor INTO v_tombs, v_floor;
        IF NOT FOUND THEN
            INSERT INTO data_owners (user_id, keys) SELECT p_user, 1 WHERE p_max_keys > 0
            ON CONFLICT (user_id) DO NOTHING
            RETURNING tombstones, version_floor INTO v_tombs, v_floor;
        END IF;
        IF NOT FOUND THEN
            -- At the quota (or an owner row appeared meanwhile): decide under the lock.
            SELECT o.keys INTO v_keys FROM data_owners o WHERE o.user_id = p_user FOR UPDATE;
            PERFORM 1 FROM data_items d WHERE d.user_id = p_user AND d.key = p_key;
            IF FOUND THEN
                CONTINUE; -- the key was created meanwhile: a replace
            END IF;
            IF v_keys IS NULL OR v_keys >= p_max_keys THEN
                status := 'quota';
                RETURN;
            END IF;
            UPDATE data_owners o SET keys = o.keys + 1 WHERE o.user_id = p_user
            RETURNING o.tombstones, o.version_floor INTO v_tombs, v_floor;
        END IF;
        v_last := NULL;
        IF v_tombs > 0 THEN
            DELETE FROM data_tombstones t WHERE t.user_id = p_user AND t.key = p_key
            RETURNING t.version INTO v_last;
        END IF;
        INSERT INTO data_items AS d (user_id, key, value, version, size, updated_at)
        VALUES (p_user, p_key, p_value, COALESCE(v_last, v_floor) + 1, p_size, now())
        ON CONFLICT (user_id, key) DO NOTHING
        RETURNING d.version, to_char(d.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
          INTO version, updated_at;
        IF FOUND THEN
            IF v_last IS NOT NULL THEN
                UPDATE data_owners o SET tombstones = o.tombstones - 1 WHERE o.user_id = p_user;
            END IF;
            status := 'created';
            RETURN;
        END IF;
        -- Another create of this key committed while we waited for the
        -- owner row (it held the lock, so it took the tombstone, if any):
        -- give the count back and replace.
        IF v_last IS NOT NULL THEN
            RAISE EXCEPTION 'data_put: key % is both live and a tombstone', p_key;
        END IF;
        UPDATE data_owners o SET keys = o.keys - 1 WHERE o.user_id = p_user;
    END LOOP;
    RAISE EXCEPTION 'data_put: the key kept changing under this write';
END
$$;

-- data_delete(user, key, if_match, if_match_any, if_none_match,
--             if_none_match_any, max_tombstones)
-- The conditions as for data_put.
-- status: 'deleted' (version: the deleted one) | 'not_found' | 'precondition'.
CREATE FUNCTION data_delete(p_user uuid, p_key text, p_if_match bigint[],
    p_if_match_any boolean, p_if_none_match bigint[], p_if_none_match_any boolean,
    p_max_tombstones integer,
    OUT status text, OUT version bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_tombs  integer;
    v_purged integer;
    v_max    bigint;
BEGIN
    SELECT o.tombstones INTO v_tombs FROM data_owners o WHERE o.user_id = p_user FOR UPDATE;
    IF FOUND THEN
        DELETE FROM data_items d
         WHERE d.user_id = p_user AND d.key = p_key
           AND (p_if_match IS NULL OR p_if_match_any OR d.version = ANY (p_if_match))
           AND NOT p_if_none_match_any
           AND (p_if_none_match IS NULL OR d.version <> ALL (p_if_none_match))
        RETURNING d.version INTO version;
    END IF;
    IF version IS NULL THEN
        -- Nothing deleted: the conditions failed on a live key, or it is
        -- absent (If-Match on an absent key is a failed precondition too).
        PERFORM 1 FROM data_items d WHERE d.user_id = p_user AND d.key = p_key;
        status := CASE WHEN FOUND OR p_if_match IS NOT NULL THEN 'precondition' ELSE 'not_found' END;
        RETURN;
    END IF;
    INSERT INTO data_tombstones (user_id, key, version, deleted_at)
    VALUES (p_user, p_key, version, now())
    ON CONFLICT (user_id, key) DO UPDATE SET version = EXCLUDED.version, deleted_at = EXCLUDED.deleted_at;
    v_tombs := v_tombs + 1;
    IF v_tombs > p_max_tombstones THEN
        -- Over the budget: forget the oldest tombstones; the floor keeps
        -- their versions from being given again.
        WITH gone AS (
            DELETE FROM data_tombstones t
             USING (SELECT o.key FROM data_tombstones o WHERE o.user_id = p_user
                     ORDER BY o.deleted_at, o.key LIMIT v_tombs - GREATEST(p_max_tombstones, 0)) old
             WHERE t.user_id = p_user AND t.key = old.key
            RETURNING t.version)
        SELECT count(*), max(gone.version) INTO v_purged, v_max FROM gone;
        UPDATE data_owners o
           SET keys = o.keys - 1, tombstones = v_tombs - v_purged,
               version_floor = GREATEST(o.version_floor, COALESCE(v_max, 0))
         WHERE o.user_id = p_user;
    ELSE
        UPDATE data_owners o SET keys = o.keys - 1, tombstones = v_tombs WHERE o.user_id = p_user;
    END IF;
    status := 'deleted';
END
$$;
