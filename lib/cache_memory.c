/*
 * cache_memory.c - see cache_memory.h.
 *
 * A chained hash table (SipHash-2-4 under a per-cache random key, a fixed
 * power-of-two bucket count sized from max_entries) indexes entries that
 * also sit on two doubly linked lists: recency, which eviction follows
 * strictly, and put order, whose head is the entry that expires first as
 * long as the injected clock does not go backwards, so expired entries can
 * be found in O(1) when room is needed.  Each entry is a single allocation
 * holding the struct, the key and the value.
 */
#include "cache_memory.h"

#include "crypto.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl(v[2], 32);
}

/* SipHash-2-4 of `len` bytes under the 128-bit key k. */
static uint64_t siphash(const uint64_t k[2], const unsigned char *p, size_t len)
{
	uint64_t v[4] = {
		k[0] ^ 0x736f6d6570736575ULL,
		k[1] ^ 0x646f72616e646f6dULL,
		k[0] ^ 0x6c7967656e657261ULL,
		k[1] ^ 0x7465646279746573ULL,
	};
	uint64_t m, last = (uint64_t)len << 56;
	size_t i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)
			m = (m << 8) | p[i + (size_t)j];
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	for (size_t j = 0; j < tail; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	v[3] ^= last;
	sip_round(v);
	sip_round(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint64_t hash_key(const struct cache *c, const char *key, size_t key_len)
{
	return siphash(c->sipkey, (const unsigned char *)key, key_len);
}

static struct cache_entry **bucket_of(const struct cache *c, uint64_t hash)
{
	return &c->buckets[hash & (uint64_t)(c->nbuckets - 1)];
}

static struct cache_entry *lookup(const struct cache *c, const char *key, size_t key_len,
    uint64_t hash)
{
	for (struct cache_entry *e = *bucket_of(c, hash); e != NULL; e = e->chain)
		if (e->hash == hash && e->key_len == key_len &&
		    (key_len == 0 || memcmp(e->key, key, key_len) == 0))
			return e;
	return NULL;
}

static void lru_unlink(struct cache *c, struct cache_entry *e)
{
	if (e->lru_prev != NULL)
		e->lru_prev->lru_next = e->lru_next;
	else
		c->lru_head = e->lru_next;
	if (e->lru_next != NULL)
		e->lru_next->lru_prev = e->lru_prev;
	else
		c->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct cache *c, struct cache_entry *e)
{
	e->lru_prev = NULL;
	e->lru_next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->lru_prev = e;
	else
		c->lru_tail = e;
	c->lru_head = e;
}

/* Unlinks `e` from the table and both lists, forgets its size, frees it. */
static void drop(struct cache *c, struct cache_entry *e)
{
	struct cache_entry **pp = bucket_of(c, e->hash);

	while (*pp != e)
		pp = &(*pp)->chain;
	*pp = e->chain;
	lru_unlink(c, e);
	if (e->put_prev != NULL)
		e->put_prev->put_next = e->put_next;
	else
		c->put_head = e->put_next;
	if (e->put_next != NULL)
		e->put_next->put_prev = e->put_prev;
	else
		c->put_tail = e->put_prev;
	c->count--;
	c->bytes -= e->size;
	free(e);
}

static int need_room(const struct cache *c, size_t size)
{
	/* c->bytes <= c->max_bytes always holds, so the subtraction is safe. */
	return c->count >= c->max_entries || size > c->max_bytes - c->bytes;
}

/*
 * Frees room for an entry of `size` accounted bytes (size <= max_bytes):
 * expired entries in put order first, then least recently used ones.
 */
static void make_room(struct cache *c, size_t size, int64_t now_ms)
{
	while (need_room(c, size) && c->put_head != NULL && now_ms >= c->put_head->expires_ms) {
		drop(c, c->put_head);
		c->stats.expirations++;
	}
	while (need_room(c, size) && c->lru_tail != NULL) {
		drop(c, c->lru_tail);
		c->stats.evictions++;
	}
}

int cache_init(struct cache *c, size_t max_entries, size_t max_bytes, long ttl_ms)
{
	size_t nb = 1;

	memset(c, 0, sizeof(*c));
	if (max_entries == 0 || ttl_ms <= 0)
		return 0;
	while (nb < CACHE_BUCKETS_MAX && nb / 2 < max_entries)
		nb <<= 1;
	if (crypto_random(c->sipkey, sizeof(c->sipkey)) != 0)
		return -1;
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (c->buckets == NULL)
		return -1;
	c->nbuckets = nb;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	c->ttl_ms = ttl_ms;
	return 0;
}

const struct cache_entry *cache_get(struct cache *c, const char *key, size_t key_len,
    int64_t now_ms)
{
	struct cache_entry *e = NULL;

	if (c->buckets != NULL)
		e = lookup(c, key, key_len, hash_key(c, key, key_len));
	if (e != NULL && now_ms >= e->expires_ms) {
		drop(c, e);
		c->stats.expirations++;
		e = NULL;
	}
	if (e == NULL) {
		c->stats.misses++;
		return NULL;
	}
	lru_unlink(c, e);
	lru_push_front(c, e);
	c->stats.hits++;
	return e;
}

int cache_put(struct cache *c, const char *key, size_t key_len, const char *value,
    size_t value_len, int64_t version, int64_t epoch, const char *updated_at, int64_t now_ms)
{
	struct cache_entry *e, *old;
	size_t ulen, size;
	uint64_t hash;
	char *p;

	if (c->buckets == NULL)
		return 0;
	hash = hash_key(c, key, key_len);
	old = lookup(c, key, key_len, hash);
	ulen = updated_at != NULL ? strnlen(updated_at, CACHE_UPDATED_AT_MAX) : 0;
	size = SIZE_MAX; /* stands for "does not fit in a size_t" */
	if (key_len <= SIZE_MAX - CACHE_ENTRY_OVERHEAD &&
	    value_len <= SIZE_MAX - CACHE_ENTRY_OVERHEAD - key_len)
		size = CACHE_ENTRY_OVERHEAD + key_len + value_len;
	if (size > c->max_bytes || size == SIZE_MAX || ulen >= CACHE_UPDATED_AT_MAX) {
		if (old != NULL)
			drop(c, old);
		return 0;
	}
	/* Copy first: key, value and updated_at may live inside `old`. */
	e = malloc(size);
	if (e == NULL) {
		if (old != NULL)
			drop(c, old);
		return -1;
	}
	memset(e, 0, sizeof(*e));
	p = e->data;
	if (key_len > 0)
		memcpy(p, key, key_len);
	p[key_len] = '\0';
	e->key = p;
	e->key_len = key_len;
	p += key_len + 1;
	if (value_len > 0)
		memcpy(p, value, value_len);
	p[value_len] = '\0';
	e->value = p;
	e->value_len = value_len;
	e->version = version;
	e->epoch = epoch;
	if (ulen > 0)
		memcpy(e->updated_at, updated_at, ulen);
	e->expires_ms = now_ms > INT64_MAX - (int64_t)c->ttl_ms ? INT64_MAX :
	    now_ms + (int64_t)c->ttl_ms;
	e->hash = hash;
	e->size = size;

	if (old != NULL)
		drop(c, old);
	make_room(c, size, now_ms);

	e->chain = *bucket_of(c, hash);
	*bucket_of(c, hash) = e;
	lru_push_front(c, e);
	e->put_prev = c->put_tail;
	if (c->put_tail != NULL)
		c->put_tail->put_next = e;
	else
		c->put_head = e;
	c->put_tail = e;
	c->count++;
	c->bytes += size;
	return 0;
}

void cache_remove(struct cache *c, const char *key, size_t key_len)
{
	struct cache_entry *e;

	if (c->buckets == NULL)
		return;
	e = lookup(c, key, key_len, hash_key(c, key, key_len));
	if (e != NULL)
		drop(c, e);
}

void cache_clear(struct cache *c)
{
	struct cache_entry *e, *next;

	for (e = c->lru_head; e != NULL; e = next) {
		next = e->lru_next;
		free(e);
	}
	if (c->buckets != NULL)
		memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
	c->lru_head = c->lru_tail = NULL;
	c->put_head = c->put_tail = NULL;
	c->count = 0;
	c->bytes = 0;
}

void cache_free(struct cache *c)
{
	cache_clear(c);
	free(c->buckets);
	memset(c, 0, sizeof(*c));
}

size_t cache_count(const struct cache *c)
{
	return c->count;
}

size_t cache_bytes(const struct cache *c)
{
	return c->bytes;
}

const struct cache_stats *cache_stats(const struct cache *c)
{
	return &c->stats;
}
