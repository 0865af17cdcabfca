/*
 * kv_store.h - the per-user data store in PostgreSQL, the record.
 *
 * A value is kept as its compact JSON text.  A write is one statement, one
 * round trip: data_put() / data_delete() (sql/004_data_writes.sql) decide
 * conditions, quota and version inside the server.  A replace locks only
 * the key's row, so it never waits for the user's other keys; a create or
 * a delete also updates the user's data_owners row (the key count), whose
 * lock orders them, so the quota holds exactly under concurrency.
 *
 * Versions: a new key starts at 1 and each write adds 1.  A delete leaves a
 * tombstone with the key's last version, so a key created again goes on
 * from it.  Tombstones are bounded (DATA_MAX_KEYS a user): past that the
 * oldest are forgotten and their highest version becomes the user's
 * version floor; a key with no tombstone starts above the floor (at 1 while
 * no tombstone was ever forgotten).  So a version is never given twice to
 * one key, an ETag never names two values, and a user holds at most
 * 2 x DATA_MAX_KEYS + 1 rows however many keys come and go.  Keys are
 * listed in byte order (COLLATE "C").
 *
 * Internally each state of a key has a generation (kv_store_gen_live(),
 * kv_store_gen_deleted() below): it grows with every write, deletes
 * included, and is what the caches validate against.
 */
#ifndef PORTCULLIS_KV_STORE_H
#define PORTCULLIS_KV_STORE_H

#include "app.h"
#include "data_key.h"
#include "etag.h"

#include <cJSON.h>

struct kv_store_item {
	char key[DATA_KEY_LEN_MAX + 1];
	char *value; /* compact JSON text, malloc'd; NULL when not loaded */
	size_t value_len;
	long long version;
	char updated_at[40];
};

enum kv_store_result {
	KV_STORE_OK,
	KV_STORE_CREATED,      /* a PUT that made the key (new, or again after a delete) */
	KV_STORE_NOT_FOUND,
	KV_STORE_PRECONDITION, /* If-Match / If-None-Match did not hold: 412 */
	KV_STORE_QUOTA,        /* DATA_MAX_KEYS reached: 403 */
	KV_STORE_DOWN,         /* PostgreSQL unreachable: 503 */
	KV_STORE_ERROR,        /* 500 */
};

/*
 * The generation of a key's state: 2 * version for a live value, 2 *
 * version + 1 once it is deleted.  A version alone cannot order the states
 * of a key - a delete keeps the version it deleted - but the generation
 * does: a delete moves it one up, and a value written after the delete has
 * a higher version, so a higher generation again.  The caches' version
 * stamps compare generations, so a stamp never moves back, and the stamp
 * alone says whether the key is deleted (odd) and which version is live.
 */
static inline long long kv_store_gen_live(long long version)
{
	return 2 * version;
}

static inline long long kv_store_gen_deleted(long long version)
{
	return 2 * version + 1;
}

/* 1 when generation `gen` is a deleted state. */
static inline int kv_store_gen_is_deleted(long long gen)
{
	return gen % 2 == 1;
}

/* The version of a live state's generation `gen`. */
static inline long long kv_store_gen_version(long long gen)
{
	return gen / 2;
}

/*
 * The live value of `key`: KV_STORE_OK with `out` filled (value malloc'd),
 * KV_STORE_NOT_FOUND, KV_STORE_DOWN, KV_STORE_ERROR.
 */
enum kv_store_result kv_store_get(struct app *app, const char *user, const char *key,
    struct kv_store_item *out);

/*
 * Writes `value` (compact JSON, `len` bytes) under `key`.  KV_STORE_CREATED
 * or KV_STORE_OK with `out` (value not copied), or KV_STORE_PRECONDITION /
 * KV_STORE_QUOTA / KV_STORE_DOWN / KV_STORE_ERROR.
 */
enum kv_store_result kv_store_put(struct app *app, const char *user, const char *key,
    const char *value, size_t len, const struct etag_cond *cond, struct kv_store_item *out);

/*
 * Deletes `key`: KV_STORE_OK with its last version in `*version`, or
 * KV_STORE_NOT_FOUND / KV_STORE_PRECONDITION / KV_STORE_DOWN / KV_STORE_ERROR.
 */
enum kv_store_result kv_store_delete(struct app *app, const char *user, const char *key,
    const struct etag_cond *cond, long long *version);

/*
 * Up to `limit` live keys after `after` ("" = from the start), ascending:
 * `*items` a cJSON array of {"key","version","updated_at","size"} (caller
 * owns), `*more` 1 when another key follows the last one returned.
 */
enum kv_store_result kv_store_list(struct app *app, const char *user, const char *after, long limit,
    cJSON **items, int *more);

/* Frees the value of `item`.  Idempotent. */
void kv_store_item_free(struct kv_store_item *item);

#endif
