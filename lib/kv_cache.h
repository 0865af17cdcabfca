/*
 * kv_cache.h - the data store's three tiers: this process' memory (an LRU
 * with a TTL, cache_memory.h), then Redis, then PostgreSQL (kv_store.h).
 *
 * Why a read never sees a value older than the last acknowledged write:
 *
 *  - Redis holds, per key, a version stamp `pc:dv:<user>:<key>` =
 *    "<epoch>:<gen>" (gen: see kv_store.h; it grows with every write,
 *    deletes included) and the cached entry `pc:dc:<user>:<key>`, and one
 *    global epoch `pc:epoch`.  A writer commits to PostgreSQL first, then
 *    sets the stamp and the entry in one script before it answers; stamps
 *    only ever move forward within an epoch (compare-and-set), so a slow
 *    reader refilling an old value cannot roll one back.
 *  - Every read fetches the epoch and the stamp in the same Redis round trip
 *    as its revocation check and rate limit, and serves a memory or Redis
 *    entry only when the entry's epoch and gen equal them.  Pub/sub would
 *    leave a window (a message in flight); this check has none.
 *  - While Redis is down, reads and writes go to PostgreSQL and the memory
 *    tier is bypassed (it cannot be checked).  On each new Redis
 *    connection of a responder that reads or writes data (data, and
 *    session for an account's deletion: their redis_connect_hook, app.h),
 *    before serving anything from a cache, a process moves the epoch
 *    forward when it saw Redis fail (it may have written without moving a
 *    stamp), and any such process does when the server's run_id is not
 *    the one recorded with the epoch (`pc:epoch:server`): Redis restarted -
 *    empty, or from an old snapshot that no process saw go - or flushed.
 *    The epoch only grows (it is at least Redis' clock in µs), so a
 *    restarted Redis never brings back an epoch that cached entries carry.
 *
 * The one case this cannot cover: Redis unreachable from one host only
 * while the others still reach it; that host's writes become visible to
 * the others' caches when it reconnects (at its next request).
 */
#ifndef PORTCULLIS_KV_CACHE_H
#define PORTCULLIS_KV_CACHE_H

#include "app.h"
#include "kv_store.h"

#define KV_CACHE_KEY_MAX 200
#define KV_CACHE_STAMP_TTL_S 86400

/* What a GET queues on the request's Redis round trip (see auth_queue()). */
struct kv_cache_lookup {
	char keys[3][KV_CACHE_KEY_MAX];
	const char *key_ptrs[3];
	int n;            /* 2 (epoch, stamp) or 3 (+ the Redis entry) */
	int memory_known; /* memory has an entry, so the Redis entry is not fetched */
};

/* Prepares the keys a GET of `user`/`key` needs from Redis. */
void kv_cache_lookup_keys(struct app *app, const char *user, const char *key,
    struct kv_cache_lookup *l);

enum kv_cache_tier { KV_CACHE_MEMORY, KV_CACHE_REDIS, KV_CACHE_POSTGRES };

/*
 * Serves a GET: from memory or Redis when their entry is current, else
 * from PostgreSQL (then filling the tiers above).  `replies` are the
 * lookup's MGET replies (NULL when Redis could not answer: then straight
 * to PostgreSQL, memory untouched).  KV_STORE_OK with `out` (value malloc'd),
 * KV_STORE_NOT_FOUND, KV_STORE_DOWN, KV_STORE_ERROR.
 */
enum kv_store_result kv_cache_get(struct app *app, const char *user, const char *key,
    const struct kv_cache_lookup *l, const redisReply *const *replies, struct kv_store_item *out,
    enum kv_cache_tier *tier);

/*
 * After a committed write: sets the stamp and the Redis entry (one round
 * trip) and drops this process' memory entry of the key; memory is filled by
 * reads only (a writer is one process of a pool, and a write-heavy client
 * would otherwise fill every writer's memory with keys nobody reads).
 * `item` NULL for a delete.  When Redis cannot be told, the process
 * remembers to bump the epoch on reconnect.
 */
void kv_cache_written(struct app *app, const char *user, const char *key, long long version,
    const struct kv_store_item *item);

/*
 * The new-connection step (a responder's redis_connect_hook, app.h): moves
 * the epoch forward (see above).  0, or -1 (to be retried before Redis is
 * trusted).
 */
int kv_cache_on_reconnect(struct app *app);


#endif
