/*
 * cache_memory.h - the per-process memory tier of the data cache.
 *
 * An LRU cache with a fixed time to live, bounded both in entries and in
 * bytes, for one single-threaded responder process (no locks).  Each entry
 * holds an opaque value plus what the data store needs to validate it
 * against Redis: a version, an epoch and an updated_at string.
 *
 * The clock is injected: no function reads a clock, each takes `now_ms`.
 * An entry put at `now_ms` expires at `now_ms + ttl_ms`; a hit does not
 * extend it.  Keys come from users, so the hash table is keyed with SipHash
 * under a random key drawn at cache_init: hostile keys cannot be made to
 * collide.  Lookups are O(1) on average; every entry is one allocation.
 */
#ifndef PORTCULLIS_CACHE_MEMORY_H
#define PORTCULLIS_CACHE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_UPDATED_AT_MAX 32      /* updated_at, NUL included */
#define CACHE_BUCKETS_MAX (1u << 20) /* hash table size cap (8 MiB of pointers) */

/*
 * An entry as a lookup returns it.  key and value point into the entry's
 * own allocation; each is followed by a NUL byte that its length does not
 * count, so a text value can be used as a C string.  Everything after the
 * marked line is private to cache_memory.c.
 */
struct cache_entry {
	const char *key;
	size_t key_len;
	const char *value;
	size_t value_len;
	int64_t version;
	int64_t epoch;
	char updated_at[CACHE_UPDATED_AT_MAX];
	int64_t expires_ms; /* a lookup at or after this instant misses */
	/* private links after this line */
	struct cache_entry *lru_prev, *lru_next; /* recency list, head = most recent */
	struct cache_entry *put_prev, *put_next; /* put order, head = oldest put */
	struct cache_entry *chain;               /* next entry in the same bucket */
	uint64_t hash;
	size_t size; /* accounted bytes, see CACHE_ENTRY_OVERHEAD */
	char data[]; /* key, NUL, value, NUL */
};

/*
 * What one entry counts in cache_bytes(): key_len + value_len +
 * CACHE_ENTRY_OVERHEAD, which is the entry's whole allocation (the struct
 * and the two NUL terminators).  The bucket array, allocated once by
 * cache_init, is not counted: it is nbuckets pointers.
 */
#define CACHE_ENTRY_OVERHEAD (sizeof(struct cache_entry) + 2)

struct cache_stats {
	unsigned long hits;        /* lookups that returned an entry */
	unsigned long misses;      /* lookups that did not, expired ones included */
	unsigned long evictions;   /* live entries dropped to make room */
	unsigned long expirations; /* expired entries dropped, on lookup or to make room */
};

/*
 * The cache.  Read the fields only through the functions below; they are
 * here so that a cache can live inside another struct without allocation.
 */
struct cache {
	struct cache_entry **buckets; /* nbuckets chains; NULL when disabled */
	size_t nbuckets;              /* a power of two, or 0 when disabled */
	size_t max_entries;           /* 0 = disabled */
	size_t max_bytes;
	long ttl_ms;
	size_t count;                            /* entries held */
	size_t bytes;                            /* sum of their accounted sizes */
	struct cache_entry *lru_head, *lru_tail; /* most / least recently used */
	struct cache_entry *put_head, *put_tail; /* oldest / newest put */
	uint64_t sipkey[2];
	struct cache_stats stats;
};

/*
 * Sets up an empty cache holding at most `max_entries` entries and
 * `max_bytes` accounted bytes, each living `ttl_ms`.  max_entries 0 or
 * ttl_ms <= 0 makes a disabled cache: every put is a no-op and every get a
 * miss.  Allocates the bucket array (the next power of two >= 2 *
 * max_entries, at most CACHE_BUCKETS_MAX) and draws the hash key from
 * getrandom(2).  Returns 0, or -1 when either fails; `c` is then a
 * disabled cache, and cache_free on it is harmless either way.
 */
int cache_init(struct cache *c, size_t max_entries, size_t max_bytes, long ttl_ms);

/*
 * Looks up `key` (`key_len` arbitrary bytes).  Returns the entry, which
 * becomes the most recently used, or NULL on a miss.  An entry met at or
 * after its expires_ms is removed and counts as a miss.  The entry is owned
 * by the cache and stays valid until the next cache_put, cache_remove,
 * cache_clear or cache_free on `c` (a lookup of another key never frees it).
 */
const struct cache_entry *cache_get(struct cache *c, const char *key, size_t key_len,
    int64_t now_ms);

/*
 * Stores a copy of key and value with their metadata, replacing any entry
 * for `key`; it expires at now_ms + ttl_ms.  key, value and updated_at may
 * point into an entry of this cache.  updated_at NULL stores "".  Room is
 * made by first dropping expired entries in put order (oldest first, while
 * the oldest is expired), then evicting least recently used entries, until
 * both bounds hold with the new entry.  An entry that alone exceeds
 * max_bytes, or whose updated_at does not fit CACHE_UPDATED_AT_MAX, is not
 * stored, and any old entry for the key is removed.  Returns 0 (also when
 * disabled or not stored), or -1 when out of memory: the old entry for the
 * key is then removed too, so a stale value never outlives a failed update,
 * and nothing else changes.
 */
int cache_put(struct cache *c, const char *key, size_t key_len, const char *value,
    size_t value_len, int64_t version, int64_t epoch, const char *updated_at, int64_t now_ms);

/* Removes the entry for `key`, if any.  Counts in no statistic. */
void cache_remove(struct cache *c, const char *key, size_t key_len);

/* Removes every entry; the bounds and the statistics stay. */
void cache_clear(struct cache *c);

/*
 * Frees every entry and the bucket array, leaving a disabled cache.
 * Idempotent; safe after a failed cache_init.
 */
void cache_free(struct cache *c);

/* The number of entries held (expired ones not yet met included). */
size_t cache_count(const struct cache *c);

/* The accounted bytes held: the sum over entries of key_len + value_len + CACHE_ENTRY_OVERHEAD. */
size_t cache_bytes(const struct cache *c);

/* The counters since cache_init, owned by `c`. */
const struct cache_stats *cache_stats(const struct cache *c);

#endif
