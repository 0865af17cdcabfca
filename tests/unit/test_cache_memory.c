/*
 * test_cache_memory.c - unit tests of lib/cache_memory.c, the memory tier
 * of the data cache.
 *
 * The clock is injected, so TTLs are tested to the millisecond.  The file
 * includes cache_memory.c itself (as lighttpd's src/t does) to reach the
 * static SipHash for its reference vectors and to make malloc and calloc
 * fail on demand for the out-of-memory contracts.  The last test runs ~100k
 * random operations against a plain array-based LRU model and compares
 * every lookup, count, byte total and statistic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int fail_allocs; /* the next this-many allocations by the cache fail */

static void *test_malloc(size_t n)
{
	if (fail_allocs > 0) {
		fail_allocs--;
		return NULL;
	}
	return malloc(n);
}

static void *test_calloc(size_t n, size_t size)
{
	if (fail_allocs > 0) {
		fail_allocs--;
		return NULL;
	}
	return calloc(n, size);
}

#define malloc test_malloc
#define calloc test_calloc
#include "cache_memory.c"
#undef malloc
#undef calloc

#define OVH CACHE_ENTRY_OVERHEAD

static int put(struct cache *c, const char *key, const char *value, int64_t version,
    int64_t epoch, const char *updated_at, int64_t now)
{
	return cache_put(c, key, strlen(key), value, strlen(value), version, epoch, updated_at, now);
}

static const struct cache_entry *get(struct cache *c, const char *key, int64_t now)
{
	return cache_get(c, key, strlen(key), now);
}

/* The value of `key` at `now` as a string, or "(miss)". */
static const char *val(struct cache *c, const char *key, int64_t now)
{
	const struct cache_entry *e = get(c, key, now);

	return e != NULL ? e->value : "(miss)";
}

static int stats_are(const struct cache *c, unsigned long hits, unsigned long misses,
    unsigned long evictions, unsigned long expirations)
{
	const struct cache_stats *s = cache_stats(c);

	if (s->hits == hits && s->misses == misses && s->evictions == evictions &&
	    s->expirations == expirations)
		return 1;
	printf("#   stats: hits %lu misses %lu evictions %lu expirations %lu\n", s->hits,
	    s->misses, s->evictions, s->expirations);
	return 0;
}

static void test_siphash(void)
{
	/* The reference vectors of the SipHash paper: key 00..0f, message 00..(n-1). */
	const uint64_t k[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	unsigned char msg[64];

	for (int i = 0; i < 64; i++)
		msg[i] = (unsigned char)i;
	CHECK(siphash(k, msg, 0) == 0x726fdb47dd0e0e31ULL);
	CHECK(siphash(k, msg, 7) == 0xab0200f58b01d137ULL);
	CHECK(siphash(k, msg, 8) == 0x93f5f5799a932462ULL);
	CHECK(siphash(k, msg, 15) == 0xa129ca6149be45e5ULL);
	CHECK(siphash(k, msg, 63) == 0x958a324ceb064572ULL);
}

static void test_init(void)
{
	struct cache a, b;

	CHECK(cache_init(&a, 1, 1000, 10) == 0);
	CHECK(a.nbuckets == 2);
	cache_free(&a);
	CHECK(cache_init(&a, 3, 1000, 10) == 0);
	CHECK(a.nbuckets == 8);
	cache_free(&a);
	CHECK(cache_init(&a, 1000, 1000, 10) == 0);
	CHECK(a.nbuckets == 2048);
	cache_free(&a);
	CHECK(cache_init(&a, SIZE_MAX, SIZE_MAX, 10) == 0);
	CHECK(a.nbuckets == CACHE_BUCKETS_MAX);
	CHECK(cache_init(&b, 10, 1000, 10) == 0);
	CHECK_MSG(memcmp(a.sipkey, b.sipkey, sizeof(a.sipkey)) != 0, "each cache draws its own hash key");
	cache_free(&a);
	cache_free(&b);
	CHECK(cache_count(&a) == 0 && a.buckets == NULL);
}

static void test_hit_miss(void)
{
	struct cache c;
	const struct cache_entry *e;

	CHECK(cache_init(&c, 10, 1 << 20, 1000) == 0);
	CHECK(get(&c, "a", 0) == NULL);
	CHECK(put(&c, "a", "1", 7, 3, "2024-05-01T12:00:00.123456Z", 0) == 0);
	e = get(&c, "a", 10);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK(e->key_len == 1 && memcmp(e->key, "a", 1) == 0);
		CHECK_STR(e->value, "1");
		CHECK(e->value_len == 1);
		CHECK(e->version == 7);
		CHECK(e->epoch == 3);
		CHECK_STR(e->updated_at, "2024-05-01T12:00:00.123456Z");
		CHECK(e->expires_ms == 1000);
	}
	CHECK(get(&c, "b", 10) == NULL);
	CHECK(cache_count(&c) == 1);
	CHECK(cache_bytes(&c) == 1 + 1 + OVH);
	CHECK(stats_are(&c, 1, 2, 0, 0));
	CHECK(put(&c, "b", "", 1, 1, NULL, 0) == 0);
	e = get(&c, "b", 10);
	CHECK(e != NULL && e->value_len == 0 && e->value[0] == '\0' && e->updated_at[0] == '\0');
	cache_free(&c);
}

static void test_replace(void)
{
	struct cache c;
	const struct cache_entry *e;

	CHECK(cache_init(&c, 10, 1 << 20, 1000) == 0);
	CHECK(put(&c, "k", "one", 1, 1, "t1", 0) == 0);
	CHECK(put(&c, "k", "three!", 2, 5, "t2", 100) == 0);
	CHECK(cache_count(&c) == 1);
	CHECK(cache_bytes(&c) == 1 + 6 + OVH);
	e = get(&c, "k", 200);
	CHECK(e != NULL);
	if (e != NULL) {
		CHECK_STR(e->value, "three!");
		CHECK(e->version == 2 && e->epoch == 5);
		CHECK_STR(e->updated_at, "t2");
		CHECK(e->expires_ms == 1100);
	}
	CHECK(put(&c, "k", "x", 3, 5, "t3", 200) == 0);
	CHECK(cache_bytes(&c) == 1 + 1 + OVH);
	/* Re-putting an entry from its own storage: the copy happens first. */
	e = get(&c, "k", 300);
	CHECK(e != NULL);
	if (e != NULL)
		CHECK(cache_put(&c, e->key, e->key_len, e->value, e->value_len, 4, e->epoch,
		    e->updated_at, 300) == 0);
	e = get(&c, "k", 300);
	CHECK(e != NULL && e->version == 4 && strcmp(e->value, "x") == 0 &&
	    strcmp(e->updated_at, "t3") == 0 && e->expires_ms == 1300);
	CHECK(cache_count(&c) == 1 && cache_bytes(&c) == 1 + 1 + OVH);
	cache_free(&c);
}

static void test_ttl(void)
{
	struct cache c;

	CHECK(cache_init(&c, 10, 1 << 20, 1000) == 0);
	CHECK(put(&c, "a", "1", 1, 1, "", 100) == 0);
	CHECK(put(&c, "b", "22", 1, 1, "", 100) == 0);
	CHECK(get(&c, "a", 1099) != NULL);
	CHECK(cache_count(&c) == 2 && cache_bytes(&c) == 2 * OVH + 5);
	CHECK(get(&c, "a", 1100) == NULL);
	CHECK_MSG(cache_count(&c) == 1 && cache_bytes(&c) == OVH + 3, "the expired entry is gone");
	CHECK(get(&c, "a", 1099) == NULL);
	CHECK(stats_are(&c, 1, 2, 0, 1));
	/* A hit does not extend the lifetime. */
	CHECK(put(&c, "c", "3", 1, 1, "", 2000) == 0);
	CHECK(get(&c, "c", 2999) != NULL);
	CHECK(get(&c, "c", 3000) == NULL);
	/* The lifetime saturates instead of overflowing. */
	CHECK(put(&c, "d", "4", 1, 1, "", INT64_MAX - 10) == 0);
	CHECK(get(&c, "d", INT64_MAX - 1) != NULL);
	cache_free(&c);
}

static void test_entry_bound(void)
{
	struct cache c;

	CHECK(cache_init(&c, 3, 1 << 20, 1000) == 0);
	put(&c, "a", "1", 1, 1, "", 0);
	put(&c, "b", "2", 1, 1, "", 1);
	put(&c, "c", "3", 1, 1, "", 2);
	CHECK(cache_count(&c) == 3);
	put(&c, "d", "4", 1, 1, "", 3);
	CHECK(cache_count(&c) == 3);
	CHECK(cache_bytes(&c) == 3 * (OVH + 2));
	CHECK_STR(val(&c, "a", 4), "(miss)");
	CHECK_STR(val(&c, "b", 4), "2");
	CHECK_STR(val(&c, "c", 4), "3");
	CHECK_STR(val(&c, "d", 4), "4");
	CHECK(stats_are(&c, 3, 1, 1, 0));
	cache_free(&c);
}

static void test_byte_bound(void)
{
	struct cache c;
	char v[101];

	memset(v, 'v', 100);
	v[100] = '\0';
	/* Room for two entries of key 1 + value 100 and a small one, not three big ones. */
	CHECK(cache_init(&c, 100, 2 * (OVH + 101) + OVH + 50, 1000) == 0);
	put(&c, "a", v, 1, 1, "", 0);
	CHECK(cache_bytes(&c) == OVH + 101);
	put(&c, "b", v, 1, 1, "", 0);
	CHECK(cache_bytes(&c) == 2 * (OVH + 101));
	put(&c, "c", v, 1, 1, "", 0);
	CHECK(cache_count(&c) == 2);
	CHECK(cache_bytes(&c) == 2 * (OVH + 101));
	CHECK(get(&c, "a", 1) == NULL);
	CHECK(get(&c, "b", 1) != NULL && get(&c, "c", 1) != NULL);
	/* A small entry fits in the slack without evicting. */
	put(&c, "s", "", 1, 1, "", 1);
	CHECK(cache_count(&c) == 3 && cache_bytes(&c) == 2 * (OVH + 101) + OVH + 1);
	CHECK(stats_are(&c, 2, 1, 1, 0));
	cache_free(&c);

	/* Exactly full is allowed. */
	CHECK(cache_init(&c, 100, 2 * (OVH + 101), 1000) == 0);
	put(&c, "a", v, 1, 1, "", 0);
	put(&c, "b", v, 1, 1, "", 0);
	CHECK(cache_count(&c) == 2 && cache_bytes(&c) == 2 * (OVH + 101));
	/* A big entry evicts as many as it needs, least recent first. */
	put(&c, "c", "", 1, 1, "", 0);
	CHECK_STR(val(&c, "a", 0), "(miss)");
	v[50] = '\0';
	put(&c, "d", v, 1, 1, "", 0); /* needs OVH + 51: evicts b, not c */
	CHECK(get(&c, "b", 0) == NULL && get(&c, "c", 0) != NULL && get(&c, "d", 0) != NULL);
	CHECK(cache_bytes(&c) == (OVH + 1) + (OVH + 51));
	cache_free(&c);
}

static void test_recency(void)
{
	struct cache c;

	CHECK(cache_init(&c, 3, 1 << 20, 1000) == 0);
	put(&c, "A", "a", 1, 1, "", 0);
	put(&c, "B", "b", 1, 1, "", 0);
	put(&c, "C", "c", 1, 1, "", 0);
	CHECK(get(&c, "A", 1) != NULL);
	put(&c, "D", "d", 1, 1, "", 1);
	CHECK_STR(val(&c, "B", 2), "(miss)");
	/* Order now, least recent first: C, A, D.  Then A is read again. */
	CHECK(cache_count(&c) == 3);
	put(&c, "E", "e", 1, 1, "", 3);
	CHECK(get(&c, "C", 4) == NULL);
	CHECK_STR(val(&c, "A", 4), "a");
	CHECK_STR(val(&c, "D", 4), "d");
	CHECK_STR(val(&c, "E", 4), "e");
	/* A replacement is a use, too. */
	put(&c, "A", "a2", 1, 1, "", 5);
	put(&c, "F", "f", 1, 1, "", 5);
	CHECK(get(&c, "D", 6) == NULL && get(&c, "A", 6) != NULL);
	cache_free(&c);
}

static void test_expired_first(void)
{
	struct cache c;

	/* When room is needed, an expired entry goes before the LRU one. */
	CHECK(cache_init(&c, 2, 1 << 20, 100) == 0);
	put(&c, "A", "a", 1, 1, "", 0);  /* expires 100 */
	put(&c, "B", "b", 1, 1, "", 50); /* expires 150 */
	CHECK(get(&c, "A", 60) != NULL); /* B is now the LRU one */
	put(&c, "C", "c", 1, 1, "", 120);
	CHECK(cache_count(&c) == 2);
	CHECK(stats_are(&c, 1, 0, 0, 1));
	CHECK_STR(val(&c, "B", 121), "b");
	CHECK_STR(val(&c, "C", 121), "c");
	/* Without need for room, expired entries stay until met. */
	put(&c, "B", "b", 1, 1, "", 230); /* C expired at 220 */
	CHECK(cache_count(&c) == 2);
	CHECK(stats_are(&c, 3, 0, 0, 1));
	cache_free(&c);
}

static void test_oversize(void)
{
	struct cache c;
	char u[40];

	CHECK(cache_init(&c, 10, OVH + 10, 1000) == 0);
	CHECK(put(&c, "ab", "12345678", 1, 1, "", 0) == 0); /* exactly max_bytes */
	CHECK(cache_count(&c) == 1 && cache_bytes(&c) == OVH + 10);
	CHECK(put(&c, "ab", "123456789", 2, 1, "", 0) == 0);
	CHECK_MSG(cache_count(&c) == 0 && cache_bytes(&c) == 0, "too big: the old entry is gone");
	CHECK(get(&c, "ab", 1) == NULL);
	CHECK(put(&c, "x", "1", 1, 1, "", 0) == 0);
	CHECK(put(&c, "y", "1234567890", 1, 1, "", 0) == 0);
	CHECK_MSG(cache_count(&c) == 1 && get(&c, "x", 1) != NULL, "a refused entry evicts nothing");
	/* updated_at: 31 characters fit, 32 do not. */
	memset(u, 'u', sizeof(u));
	u[31] = '\0';
	CHECK(put(&c, "x", "2", 1, 1, u, 0) == 0);
	CHECK(get(&c, "x", 1) != NULL && strlen(get(&c, "x", 1)->updated_at) == 31);
	u[31] = 'u';
	u[32] = '\0';
	CHECK(put(&c, "x", "3", 1, 1, u, 0) == 0);
	CHECK(get(&c, "x", 1) == NULL && cache_count(&c) == 0);
	cache_free(&c);
}

static void test_binary_keys(void)
{
	static const struct {
		const char *k;
		size_t len;
	} keys[] = {
		{ "", 0 }, { "a", 1 }, { "a\0", 2 }, { "a\0b", 3 }, { "a\0c", 3 },
		{ "\0", 1 }, { "\0\0", 2 }, { "ab", 2 }, { "abc", 3 },
	};
	const size_t n = sizeof(keys) / sizeof(keys[0]);
	struct cache c;
	int ok = 1;

	CHECK(cache_init(&c, 100, 1 << 20, 1000) == 0);
	for (size_t i = 0; i < n; i++) {
		char v = (char)('0' + i);

		cache_put(&c, keys[i].k, keys[i].len, &v, 1, (int64_t)i, 0, "", 0);
	}
	CHECK(cache_count(&c) == n);
	for (size_t i = 0; i < n; i++) {
		const struct cache_entry *e = cache_get(&c, keys[i].k, keys[i].len, 1);

		if (e == NULL || e->version != (int64_t)i || e->key_len != keys[i].len ||
		    memcmp(e->key, keys[i].k, keys[i].len) != 0 || e->key[e->key_len] != '\0')
			ok = 0;
	}
	CHECK_MSG(ok, "keys with NUL bytes and keys that are prefixes are distinct");
	cache_remove(&c, "a\0", 2);
	CHECK(cache_get(&c, "a\0", 2, 1) == NULL);
	CHECK(cache_get(&c, "a", 1, 1) != NULL && cache_get(&c, "a\0b", 3, 1) != NULL);
	CHECK(cache_count(&c) == n - 1);
	cache_free(&c);
}

static void test_remove_clear(void)
{
	struct cache c;

	CHECK(cache_init(&c, 10, 1 << 20, 1000) == 0);
	put(&c, "a", "1", 1, 1, "", 0);
	put(&c, "b", "22", 1, 1, "", 0);
	cache_remove(&c, "zz", 2);
	CHECK(cache_count(&c) == 2);
	cache_remove(&c, "a", 1);
	CHECK(cache_count(&c) == 1 && cache_bytes(&c) == OVH + 3);
	CHECK(get(&c, "a", 1) == NULL && get(&c, "b", 1) != NULL);
	put(&c, "c", "333", 1, 1, "", 0);
	cache_clear(&c);
	CHECK(cache_count(&c) == 0 && cache_bytes(&c) == 0);
	CHECK(get(&c, "b", 1) == NULL && get(&c, "c", 1) == NULL);
	CHECK_MSG(stats_are(&c, 1, 3, 0, 0), "clear keeps the statistics");
	CHECK(put(&c, "d", "4", 1, 1, "", 0) == 0);
	CHECK_STR(val(&c, "d", 1), "4");
	cache_free(&c);
	cache_free(&c);
	CHECK(cache_count(&c) == 0 && get(&c, "d", 1) == NULL);
	CHECK(put(&c, "d", "4", 1, 1, "", 0) == 0 && cache_count(&c) == 0);
}

static void test_disabled(void)
{
	struct cache c;

	CHECK(cache_init(&c, 0, 1 << 20, 1000) == 0);
	CHECK(put(&c, "a", "1", 1, 1, "", 0) == 0);
	CHECK(get(&c, "a", 0) == NULL);
	CHECK(cache_count(&c) == 0 && cache_bytes(&c) == 0);
	CHECK(stats_are(&c, 0, 1, 0, 0));
	cache_remove(&c, "a", 1);
	cache_clear(&c);
	cache_free(&c);

	CHECK(cache_init(&c, 10, 1 << 20, 0) == 0);
	CHECK(put(&c, "a", "1", 1, 1, "", 0) == 0);
	CHECK(get(&c, "a", 0) == NULL && cache_count(&c) == 0);
	cache_free(&c);

	CHECK(cache_init(&c, 10, 1 << 20, -5) == 0);
	CHECK(put(&c, "a", "1", 1, 1, "", 0) == 0 && cache_count(&c) == 0);
	cache_free(&c);

	/* No byte budget: nothing fits, so nothing is stored. */
	CHECK(cache_init(&c, 10, OVH, 1000) == 0);
	CHECK(put(&c, "a", "", 1, 1, "", 0) == 0 && cache_count(&c) == 0);
	cache_free(&c);
}

static void test_stats(void)
{
	struct cache c;

	CHECK(cache_init(&c, 2, 1 << 20, 100) == 0);
	get(&c, "a", 0);                /* miss */
	put(&c, "a", "1", 1, 1, "", 0);
	get(&c, "a", 10);               /* hit */
	get(&c, "a", 20);               /* hit */
	put(&c, "b", "2", 1, 1, "", 30);
	put(&c, "c", "3", 1, 1, "", 40); /* a is LRU but not expired: evicted */
	get(&c, "a", 40);               /* miss */
	get(&c, "b", 130);              /* expired: miss + expiration */
	put(&c, "d", "4", 1, 1, "", 150); /* fits beside c */
	put(&c, "e", "5", 1, 1, "", 150); /* room: c (expires 140) dropped as expired */
	put(&c, "f", "6", 1, 1, "", 160); /* room: d is the LRU one and live: evicted */
	CHECK(stats_are(&c, 2, 3, 2, 2));
	CHECK(cache_count(&c) == 2);
	cache_free(&c);
}

static void test_many(void)
{
	struct cache c;
	char key[32];
	int ok = 1;

	CHECK(cache_init(&c, 5000, SIZE_MAX, 1000) == 0);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof(key), "user:%d", i);

		if (cache_put(&c, key, (size_t)n, key, (size_t)n, i, 0, "", 0) != 0)
			ok = 0;
	}
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof(key), "user:%d", i);
		const struct cache_entry *e = cache_get(&c, key, (size_t)n, 1);

		if (e == NULL || e->version != i || strcmp(e->value, key) != 0)
			ok = 0;
	}
	CHECK_MSG(ok, "5000 entries all found");
	CHECK(cache_count(&c) == 5000);
	cache_free(&c);
}

static void test_oom(void)
{
	struct cache c;

	fail_allocs = 1;
	CHECK(cache_init(&c, 10, 1 << 20, 1000) == -1);
	CHECK(cache_count(&c) == 0 && put(&c, "a", "1", 1, 1, "", 0) == 0 &&
	    get(&c, "a", 0) == NULL);
	cache_free(&c);
	cache_free(&c);

	CHECK(cache_init(&c, 2, 1 << 20, 1000) == 0);
	put(&c, "a", "1", 1, 1, "", 0);
	put(&c, "b", "2", 1, 1, "", 0);
	fail_allocs = 1;
	CHECK(put(&c, "c", "3", 1, 1, "", 0) == -1);
	CHECK_MSG(cache_count(&c) == 2 && cache_bytes(&c) == 2 * (OVH + 2) &&
	    get(&c, "a", 1) != NULL && get(&c, "b", 1) != NULL,
	    "a failed put of a new key changes nothing");
	fail_allocs = 1;
	CHECK(put(&c, "a", "new", 2, 1, "", 0) == -1);
	CHECK_MSG(get(&c, "a", 1) == NULL && cache_count(&c) == 1 && cache_bytes(&c) == OVH + 2,
	    "a failed replacement removes the stale entry");
	CHECK(put(&c, "c", "3", 1, 1, "", 0) == 0);
	CHECK(cache_count(&c) == 2 && stats_are(&c, 2, 1, 0, 0));
	cache_free(&c);
}

/* The reference model: an array in recency order, index 0 most recent. */
#define M_KEY 8
#define M_VAL 400
#define M_MAX 256

struct m_entry {
	char key[M_KEY];
	size_t key_len;
	char value[M_VAL];
	size_t value_len;
	int64_t version, epoch, expires;
	char updated_at[CACHE_UPDATED_AT_MAX];
	unsigned long seq; /* put order */
};

struct model {
	struct m_entry e[M_MAX];
	size_t n, bytes, max_entries, max_bytes;
	long ttl;
	unsigned long seq;
	struct cache_stats st;
};

static size_t m_size(const struct m_entry *e)
{
	return OVH + e->key_len + e->value_len;
}

static int m_find(const struct model *m, const char *key, size_t key_len)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].key_len == key_len && memcmp(m->e[i].key, key, key_len) == 0)
			return (int)i;
	return -1;
}

static void m_del(struct model *m, size_t i)
{
	m->bytes -= m_size(&m->e[i]);
	memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(m->e[0]));
	m->n--;
}

static const struct m_entry *m_get(struct model *m, const char *key, size_t key_len, int64_t now)
{
	int i = m_find(m, key, key_len);
	struct m_entry tmp;

	if (m->max_entries == 0 || m->ttl <= 0 || i < 0) {
		m->st.misses++;
		return NULL;
	}
	if (now >= m->e[i].expires) {
		m_del(m, (size_t)i);
		m->st.expirations++;
		m->st.misses++;
		return NULL;
	}
	tmp = m->e[i];
	memmove(&m->e[1], &m->e[0], (size_t)i * sizeof(m->e[0]));
	m->e[0] = tmp;
	m->st.hits++;
	return &m->e[0];
}

static int m_need_room(const struct model *m, size_t size)
{
	return m->n >= m->max_entries || m->bytes + size > m->max_bytes;
}

static void m_put(struct model *m, const char *key, size_t key_len, const char *value,
    size_t value_len, int64_t version, int64_t epoch, const char *u, int64_t now)
{
	size_t size = OVH + key_len + value_len;
	int i;

	if (m->max_entries == 0 || m->ttl <= 0)
		return;
	i = m_find(m, key, key_len);
	if (i >= 0)
		m_del(m, (size_t)i);
	if (size > m->max_bytes || strlen(u) >= CACHE_UPDATED_AT_MAX)
		return;
	while (m_need_room(m, size) && m->n > 0) {
		size_t oldest = 0;

		for (size_t j = 1; j < m->n; j++)
			if (m->e[j].seq < m->e[oldest].seq)
				oldest = j;
		if (now < m->e[oldest].expires)
			break;
		m_del(m, oldest);
		m->st.expirations++;
	}
	while (m_need_room(m, size) && m->n > 0) {
		m_del(m, m->n - 1);
		m->st.evictions++;
	}
	memmove(&m->e[1], &m->e[0], m->n * sizeof(m->e[0]));
	m->n++;
	memcpy(m->e[0].key, key, key_len);
	m->e[0].key_len = key_len;
	memcpy(m->e[0].value, value, value_len);
	m->e[0].value_len = value_len;
	m->e[0].version = version;
	m->e[0].epoch = epoch;
	m->e[0].expires = now + m->ttl;
	strcpy(m->e[0].updated_at, u);
	m->e[0].seq = m->seq++;
	m->bytes += size;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static int same(const struct cache_entry *e, const struct m_entry *me)
{
	if (e == NULL || me == NULL)
		return e == NULL && me == NULL;
	return e->key_len == me->key_len && memcmp(e->key, me->key, me->key_len) == 0 &&
	    e->value_len == me->value_len && memcmp(e->value, me->value, me->value_len) == 0 &&
	    e->value[e->value_len] == '\0' && e->version == me->version &&
	    e->epoch == me->epoch && e->expires_ms == me->expires &&
	    strcmp(e->updated_at, me->updated_at) == 0;
}

static void stress(size_t max_entries, size_t max_bytes, long ttl, int ops)
{
	static struct model m;
	static const char alphabet[3] = { 'a', 'b', '\0' };
	struct cache c;
	int64_t now = 1000;
	long bad_get = 0, bad_state = 0, bad_bound = 0;
	char key[M_KEY], value[M_VAL], u[CACHE_UPDATED_AT_MAX + 2];
	char what[128];

	memset(&m, 0, sizeof(m));
	m.max_entries = max_entries;
	m.max_bytes = max_bytes;
	m.ttl = ttl;
	if (cache_init(&c, max_entries, max_bytes, ttl) != 0) {
		CHECK_MSG(0, "stress: cache_init");
		return;
	}
	for (int op = 0; op < ops; op++) {
		size_t key_len = rnd(4), value_len, ulen; /* 40 keys */
		uint32_t r = rnd(1000);

		for (size_t i = 0; i < key_len; i++)
			key[i] = alphabet[rnd(3)];
		now += rnd(40);
		if (rnd(1000) == 0)
			now -= rnd(200); /* the odd clock step backwards */
		if (r < 480) {
			const struct cache_entry *e = cache_get(&c, key, key_len, now);
			const struct m_entry *me = m_get(&m, key, key_len, now);

			if (!same(e, me) && bad_get++ == 0)
				printf("#   op %d: get differs (cache %s, model %s)\n", op,
				    e ? "hit" : "miss", me ? "hit" : "miss");
		} else if (r < 940) {
			int64_t version = rnd(100), epoch = rnd(3);

			value_len = rnd(M_VAL);
			for (size_t i = 0; i < value_len; i++)
				value[i] = (char)rnd(256);
			ulen = rnd(100) == 0 ? CACHE_UPDATED_AT_MAX : rnd(CACHE_UPDATED_AT_MAX);
			for (size_t i = 0; i < ulen; i++)
				u[i] = (char)('0' + rnd(10));
			u[ulen] = '\0';
			if (cache_put(&c, key, key_len, value, value_len, version, epoch, u, now) != 0 &&
			    bad_state++ == 0)
				printf("#   op %d: put failed\n", op);
			m_put(&m, key, key_len, value, value_len, version, epoch, u, now);
			if ((cache_count(&c) > max_entries || cache_bytes(&c) > max_bytes) &&
			    bad_bound++ == 0)
				printf("#   op %d: bound broken\n", op);
		} else if (r < 998) {
			int i = m_find(&m, key, key_len);

			cache_remove(&c, key, key_len);
			if (i >= 0)
				m_del(&m, (size_t)i);
		} else {
			cache_clear(&c);
			m.n = 0;
			m.bytes = 0;
		}
		if ((cache_count(&c) != m.n || cache_bytes(&c) != m.bytes ||
		    memcmp(cache_stats(&c), &m.st, sizeof(m.st)) != 0) && bad_state++ == 0)
			printf("#   op %d: count %zu/%zu bytes %zu/%zu\n", op, cache_count(&c), m.n,
			    cache_bytes(&c), m.bytes);
	}
	snprintf(what, sizeof(what), "stress %zu entries, %zu bytes, ttl %ld: %d ops, gets agree",
	    max_entries, max_bytes, ttl, ops);
	CHECK_MSG(bad_get == 0, what);
	snprintf(what, sizeof(what), "stress %zu entries, %zu bytes: count, bytes, stats agree",
	    max_entries, max_bytes);
	CHECK_MSG(bad_state == 0, what);
	snprintf(what, sizeof(what), "stress %zu entries, %zu bytes: bounds hold after every put",
	    max_entries, max_bytes);
	CHECK_MSG(bad_bound == 0, what);
	printf("# stress: hits %lu misses %lu evictions %lu expirations %lu\n", m.st.hits,
	    m.st.misses, m.st.evictions, m.st.expirations);
	cache_free(&c);
}

int main(void)
{
	test_siphash();
	test_init();
	test_hit_miss();
	test_replace();
	test_ttl();
	test_entry_bound();
	test_byte_bound();
	test_recency();
	test_expired_first();
	test_oversize();
	test_binary_keys();
	test_remove_clear();
	test_disabled();
	test_stats();
	test_many();
	test_oom();
	/*
	 * ~125k operations: entry-bound, byte-bound, both tight, a single
	 * slot, and a table holding every key; TTLs short enough that
	 * expirations compete with evictions.
	 */
	stress(8, SIZE_MAX, 300, 25000);
	stress(200, 10 * (OVH + 200), 300, 25000);
	stress(16, 8 * (OVH + 200), 250, 25000);
	stress(1, OVH + 300, 60, 25000);
	stress(64, SIZE_MAX, 1500, 25000);
	return check_summary();
}
