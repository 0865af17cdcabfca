/*
 * kv_cache.c - see kv_cache.h.
 *
 * Redis values:
 *   pc:epoch                 "<epoch>"
 *   pc:dv:<user>:<key>       "<epoch>:<gen>"
 *   pc:dc:<user>:<key>       "<epoch>:<gen>:<version>:<updated_at>\n<value>"
 * Memory entries are keyed "<user>:<key>" and carry (epoch, gen) in the
 * cache's epoch and version fields.
 */
#include "kv_cache.h"

#include "cache_memory.h"
#include "log.h"
#include "metrics.h"
#include "redis_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EPOCH_KEY "pc:epoch"
#define EPOCH_SERVER_KEY "pc:epoch:server"

/* Writers: make sure an epoch exists, move the stamp forward, set or drop the entry. */
static struct redis_script write_script = { .source =
    "local e = redis.call('GET', KEYS[1])\n"
    "if not e then\n"
    "  local t = redis.call('TIME')\n"
    "  e = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))\n"
    "  redis.call('SET', KEYS[1], e)\n"
    "end\n"
    "local cur = redis.call('GET', KEYS[2])\n"
    "if cur then\n"
    "  local ce, cg = string.match(cur, '^(%d+):(%d+)$')\n"
    "  if ce == e and tonumber(cg) > tonumber(ARGV[1]) then return e end\n"
    "end\n"
    "redis.call('SET', KEYS[2], e .. ':' .. ARGV[1], 'EX', ARGV[2])\n"
    "if ARGV[4] == '' then redis.call('DEL', KEYS[3])\n"
    "else redis.call('SET', KEYS[3], e .. ':' .. ARGV[4], 'EX', ARGV[3]) end\n"
    "return e\n" };

/* Readers: refill stamp and entry, only in the epoch they saw and never backwards. */
static struct redis_script fill_script = { .source =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "local cur = redis.call('GET', KEYS[2])\n"
    "if cur then\n"
    "  local ce, cg = string.match(cur, '^(%d+):(%d+)$')\n"
    "  if ce == ARGV[1] and tonumber(cg) > tonumber(ARGV[2]) then return 0 end\n"
    "end\n"
    "redis.call('SET', KEYS[2], ARGV[1] .. ':' .. ARGV[2], 'EX', ARGV[3])\n"
    "if ARGV[5] ~= '' then redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[4]) end\n"
    "return 1\n" };

/*
 * On a new connection: move the epoch past every value cached so far when
 * this process saw Redis fail or missed a write (ARGV[1] = 1), or when the
 * Redis server is not the one that last confirmed the epoch (its run_id,
 * ARGV[2], differs from KEYS[2]: restarted, maybe from an old snapshot, or
 * flushed).  Returns the epoch.
 */
static struct redis_script bump_script = { .source =
    "local e = redis.call('GET', KEYS[1])\n"
    "if e and ARGV[1] == '0' and redis.call('GET', KEYS[2]) == ARGV[2] then return e end\n"
    "local cur = tonumber(e or '0')\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local nxt = cur + 1\n"
    "if now > nxt then nxt = now end\n"
    "local s = string.format('%.0f', nxt)\n"
    "redis.call('SET', KEYS[1], s)\n"
    "redis.call('SET', KEYS[2], ARGV[2])\n"
    "return s\n" };

static struct cache memory;
static int memory_ready; /* 1 initialised, -1 disabled */
static int dirty;        /* a write could not reach Redis: bump on reconnect */

static struct cache *memory_tier(struct app *app)
{
	if (memory_ready == 0) {
		memory_ready = cache_init(&memory, (size_t)app->cfg.cache_max_entries,
				   (size_t)app->cfg.cache_max_bytes, app->cfg.cache_ttl * 1000L) == 0
		    ? 1
		    : -1;
	}
	return memory_ready == 1 ? &memory : NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int memory_key(const char *user, const char *key, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s:%s", user, key);

	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

void kv_cache_lookup_keys(struct app *app, const char *user, const char *key,
    struct kv_cache_lookup *l)
{
	struct cache *m = memory_tier(app);
	char mk[KV_CACHE_KEY_MAX];
	int mlen = memory_key(user, key, mk, sizeof(mk));

	l->memory_known = m != NULL && mlen > 0 && cache_get(m, mk, (size_t)mlen, now_ms()) != NULL;
	snprintf(l->keys[0], sizeof(l->keys[0]), EPOCH_KEY);
	snprintf(l->keys[1], sizeof(l->keys[1]), "pc:dv:%s:%s", user, key);
	snprintf(l->keys[2], sizeof(l->keys[2]), "pc:dc:%s:%s", user, key);
	for (int i = 0; i < 3; i++)
		l->key_ptrs[i] = l->keys[i];
	l->n = l->memory_known ? 2 : 3;
}

/* A decimal string reply as int64; 0 and -1 when it is not one. */
static int reply_int(const redisReply *r, long long *out)
{
	char *end;

	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 20)
		return -1;
	*out = strtoll(r->str, &end, 10);
	return end == r->str + r->len ? 0 : -1;
}

/* Parses "<epoch>:<gen>". */
static int parse_stamp(const redisReply *r, long long *epoch, long long *gen)
{
	char buf[64], *colon, *end;

	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof(buf))
		return -1;
	memcpy(buf, r->str, r->len);
	buf[r->len] = '\0';
	if ((colon = strchr(buf, ':')) == NULL)
		return -1;
	*colon = '\0';
	*epoch = strtoll(buf, &end, 10);
	if (*end != '\0')
		return -1;
	*gen = strtoll(colon + 1, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* Parses a Redis entry "<epoch>:<gen>:<version>:<updated_at>\n<value>" into `out`. */
static int parse_entry(const redisReply *r, long long epoch, long long gen, const char *key,
    struct kv_store_item *out)
{
	const char *nl;
	char head[128];
	long long e, g, v;
	char at[40];
	size_t hlen, vlen;

	if (r == NULL || r->type != REDIS_REPLY_STRING || (nl = memchr(r->str, '\n', r->len)) == NULL)
		return -1;
	hlen = (size_t)(nl - r->str);
	if (hlen >= sizeof(head))
		return -1;
	memcpy(head, r->str, hlen);
	head[hlen] = '\0';
	if (sscanf(head, "%lld:%lld:%lld:%39s", &e, &g, &v, at) != 4 || e != epoch || g != gen)
		return -1;
	vlen = r->len - hlen - 1;
	if ((out->value = malloc(vlen + 1)) == NULL)
		return -1;
	memcpy(out->value, nl + 1, vlen);
	out->value[vlen] = '\0';
	out->value_len = vlen;
	out->version = v;
	snprintf(out->updated_at, sizeof(out->updated_at), "%s", at);
	snprintf(out->key, sizeof(out->key), "%s", key);
	return 0;
}

static void memory_put(struct app *app, const char *user, const char *key, long long epoch,
    const struct kv_store_item *item)
{
	struct cache *m = memory_tier(app);
	char mk[KV_CACHE_KEY_MAX];
	int mlen = memory_key(user, key, mk, sizeof(mk));

	if (m != NULL && mlen > 0)
		cache_put(m, mk, (size_t)mlen, item->value, item->value_len,
		    kv_store_gen_live(item->version), epoch, item->updated_at, now_ms());
}

static void memory_drop(struct app *app, const char *user, const char *key)
{
	struct cache *m = memory_tier(app);
	char mk[KV_CACHE_KEY_MAX];
	int mlen = memory_key(user, key, mk, sizeof(mk));

	if (m != NULL && mlen > 0)
		cache_remove(m, mk, (size_t)mlen);
}

/* "<gen>:<version>:<updated_at>\n<value>", malloc'd. */
static char *entry_payload(const struct kv_store_item *item, size_t *len)
{
	char head[128];
	int hlen = snprintf(head, sizeof(head), "%lld:%lld:%s\n", kv_store_gen_live(item->version),
	    item->version,
	    item->updated_at);
	char *p;

	if (hlen < 0 || (size_t)hlen >= sizeof(head) || (p = malloc((size_t)hlen + item->value_len + 1)) == NULL)
		return NULL;
	memcpy(p, head, (size_t)hlen);
	memcpy(p + hlen, item->value, item->value_len);
	p[hlen + item->value_len] = '\0';
	*len = (size_t)hlen + item->value_len;
	return p;
}

/* After a PostgreSQL read in epoch `epoch`: refill the stamp, the Redis entry and memory. */
static void refill(struct app *app, const char *user, const char *key,
    const struct kv_cache_lookup *l, long long epoch, const struct kv_store_item *item)
{
	char e[24], gen[24], stamp_ttl[24], entry_ttl[24], *payload, *full = NULL;
	const char *args[8];
	size_t lens[8], plen = 0;
	redisReply *rep;

	memory_put(app, user, key, epoch, item);
	if ((payload = entry_payload(item, &plen)) == NULL)
		return;
	snprintf(e, sizeof(e), "%lld", epoch);
	snprintf(gen, sizeof(gen), "%lld", kv_store_gen_live(item->version));
	snprintf(stamp_ttl, sizeof(stamp_ttl), "%d", KV_CACHE_STAMP_TTL_S);
	snprintf(entry_ttl, sizeof(entry_ttl), "%ld", app->cfg.cache_ttl > 0 ? app->cfg.cache_ttl : 1);
	if (app->cfg.cache_ttl > 0 && (full = malloc(strlen(e) + 1 + plen + 1)) != NULL) {
		memcpy(full, e, strlen(e));
		full[strlen(e)] = ':';
		memcpy(full + strlen(e) + 1, payload, plen + 1);
	}
	args[0] = l->keys[0];
	args[1] = l->keys[1];
	args[2] = l->keys[2];
	args[3] = e;
	args[4] = gen;
	args[5] = stamp_ttl;
	args[6] = entry_ttl;
	args[7] = full != NULL ? full : "";
	for (int i = 0; i < 8; i++)
		lens[i] = strlen(args[i]);
	if (full != NULL)
		lens[7] = strlen(e) + 1 + plen;
	rep = redis_script_run(&app->redis, &fill_script, 3, 8, args, lens);
	freeReplyObject(rep);
	free(payload);
	free(full);
}

/* The Redis server's run_id (new at every start) into `out`; "" when unknown. */
static void server_run_id(struct app *app, char out[48])
{
	const char *argv[2] = { "INFO", "server" };
	redisReply *rep = redis_command_argv(&app->redis, 2, argv, NULL);
	const char *p;

	out[0] = '\0';
	if (rep != NULL && rep->type == REDIS_REPLY_STRING &&
	    (p = strstr(rep->str, "run_id:")) != NULL)
		sscanf(p + 7, "%40[0-9a-f]", out);
	freeReplyObject(rep);
}

/* Runs the bump script; `force` moves the epoch whatever the server. 0, or -1. */
static int bump_epoch(struct app *app, int force)
{
	char run_id[48];
	const char *args[4] = { EPOCH_KEY, EPOCH_SERVER_KEY, force ? "1" : "0", run_id };
	redisReply *rep;
	int ok;

	server_run_id(app, run_id);
	if (run_id[0] == '\0')
		args[2] = "1"; /* cannot tell the server apart: assume the worst */
	rep = redis_script_run(&app->redis, &bump_script, 2, 4, args, NULL);
	ok = rep != NULL && rep->type == REDIS_REPLY_STRING;
	freeReplyObject(rep);
	return ok ? 0 : -1;
}

/* Starts an epoch when Redis has none (flushed under a live connection); best effort. */
static void ensure_epoch(struct app *app)
{
	bump_epoch(app, 1);
}

enum kv_store_result kv_cache_get(struct app *app, const char *user, const char *key,
    const struct kv_cache_lookup *l, const redisReply *const *replies, struct kv_store_item *out,
    enum kv_cache_tier *tier)
{
	long long epoch = 0, se = 0, sg = 0;
	int have_epoch, have_stamp;
	enum kv_store_result rc;

	memset(out, 0, sizeof(*out));
	if (replies == NULL || replies[0] == NULL) {
		/* Redis could not answer: PostgreSQL only, memory untouched. */
		*tier = KV_CACHE_POSTGRES;
		return kv_store_get(app, user, key, out);
	}
	have_epoch = reply_int(replies[0], &epoch) == 0;
	have_stamp = have_epoch && parse_stamp(replies[1], &se, &sg) == 0 && se == epoch;
	if (have_stamp) {
		struct cache *m = memory_tier(app);
		char mk[KV_CACHE_KEY_MAX];
		int mlen = memory_key(user, key, mk, sizeof(mk));
		const struct cache_entry *hit;

		if (kv_store_gen_is_deleted(sg)) {
			/* The current state is "deleted": no need to ask PostgreSQL. */
			*tier = KV_CACHE_REDIS;
			metrics_cache_lookup(METRICS_REDIS, 1);
			memory_drop(app, user, key);
			return KV_STORE_NOT_FOUND;
		}
		hit = m != NULL && mlen > 0 ? cache_get(m, mk, (size_t)mlen, now_ms()) : NULL;
		if (hit != NULL && hit->epoch == epoch && hit->version == sg &&
		    (out->value = malloc(hit->value_len + 1)) != NULL) {
			memcpy(out->value, hit->value, hit->value_len + 1);
			out->value_len = hit->value_len;
			out->version = kv_store_gen_version(sg);
			snprintf(out->updated_at, sizeof(out->updated_at), "%s", hit->updated_at);
			snprintf(out->key, sizeof(out->key), "%s", key);
			*tier = KV_CACHE_MEMORY;
			metrics_cache_lookup(METRICS_MEMORY, 1);
			return KV_STORE_OK;
		}
		metrics_cache_lookup(METRICS_MEMORY, 0);
		if (l->n == 3 && parse_entry(replies[2], epoch, sg, key, out) == 0) {
			*tier = KV_CACHE_REDIS;
			metrics_cache_lookup(METRICS_REDIS, 1);
			memory_put(app, user, key, epoch, out);
			return KV_STORE_OK;
		}
		if (l->n == 3) {
			metrics_cache_lookup(METRICS_REDIS, 0);
		}
	} else {
		metrics_cache_lookup(METRICS_MEMORY, 0);
		metrics_cache_lookup(METRICS_REDIS, 0);
	}
	*tier = KV_CACHE_POSTGRES;
	rc = kv_store_get(app, user, key, out);
	if (rc == KV_STORE_OK && have_epoch)
		refill(app, user, key, l, epoch, out);
	else if (!have_epoch && rc != KV_STORE_DOWN)
		ensure_epoch(app);
	return rc;
}

void kv_cache_written(struct app *app, const char *user, const char *key, long long version,
    const struct kv_store_item *item)
{
	char dv[KV_CACHE_KEY_MAX], dc[KV_CACHE_KEY_MAX], gen[24], stamp_ttl[24], entry_ttl[24];
	char *payload = NULL;
	const char *args[7];
	size_t lens[7], plen = 0;
	redisReply *rep;
	long long epoch;

	memory_drop(app, user, key);
	snprintf(dv, sizeof(dv), "pc:dv:%s:%s", user, key);
	snprintf(dc, sizeof(dc), "pc:dc:%s:%s", user, key);
	snprintf(gen, sizeof(gen), "%lld",
	    item != NULL ? kv_store_gen_live(version) : kv_store_gen_deleted(version));
	snprintf(stamp_ttl, sizeof(stamp_ttl), "%d", KV_CACHE_STAMP_TTL_S);
	snprintf(entry_ttl, sizeof(entry_ttl), "%ld", app->cfg.cache_ttl > 0 ? app->cfg.cache_ttl : 1);
	if (item != NULL && app->cfg.cache_ttl > 0)
		payload = entry_payload(item, &plen);
	args[0] = EPOCH_KEY;
	args[1] = dv;
	args[2] = dc;
	args[3] = gen;
	args[4] = stamp_ttl;
	args[5] = entry_ttl;
	args[6] = payload != NULL ? payload : "";
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(args[i]);
	lens[6] = payload != NULL ? plen : 0;
	rep = redis_script_run(&app->redis, &write_script, 3, 7, args, lens);
	if (rep == NULL) {
		/*
		 * Once more on a fresh connection, at once: in a failover the
		 * others may already read from the new master.
		 */
		redis_retry_now(&app->redis);
		rep = redis_script_run(&app->redis, &write_script, 3, 7, args, lens);
	}
	if (rep == NULL || rep->type != REDIS_REPLY_STRING || reply_int(rep, &epoch) != 0) {
		/* Redis missed this write: every cache is suspect until the epoch moves. */
		dirty = 1;
		if (rep == NULL)
			redis_fail(&app->redis);
	}
	freeReplyObject(rep);
	free(payload);
}

int kv_cache_on_reconnect(struct app *app)
{
	int outage_seen = app->redis.outage_seen;

	/*
	 * A process that saw Redis fail may have written without moving a
	 * stamp (`dirty`), or read around it: it moves the epoch.  Any process
	 * also moves it when the server is not the one that confirmed the
	 * epoch last, which covers a restart - empty or from an old snapshot -
	 * that no process saw happen.  Otherwise a new responder keeps the warm
	 * cache of the others.
	 */
	if (bump_epoch(app, outage_seen || dirty) != 0)
		return -1;
	if (outage_seen || dirty) {
		if (memory_ready == 1)
			cache_clear(&memory);
		log_msg(LOG_INFO, "data cache epoch moved after a redis outage");
	}
	dirty = 0;
	return 0;
}
