/*
 * rate_limit.c - see rate_limit.h.
 */
#include "rate_limit.h"
#include "crypto.h"

#include "log.h"
#include "redis_script.h"
#include "metrics.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * The same GCRA as rl_gcra(), run by Redis atomically with Redis' clock.
 * ARGV[1] = T (µs between requests), ARGV[2] = N * T (the bucket).
 * Returns {allowed, µs the stored arrival time is ahead of now}.
 */
static struct redis_script gcra_script = { .source =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local step = tonumber(ARGV[1])\n"
    "local cap = tonumber(ARGV[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]))\n"
    "if tat == nil or tat < now then tat = now end\n"
    "local nxt = tat + step\n"
    "if nxt - now > cap then return {0, tat - now} end\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000))\n"
    "return {1, nxt - now}\n" };

/*
 * Gives one request back: moves the stored arrival time back by T (dropping
 * the key when that reaches now).  ARGV[1] = T.  Returns 1, or 0 when there
 * was nothing to give back.
 */
static struct redis_script refund_script = { .source =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]))\n"
    "if tat == nil then return 0 end\n"
    "tat = tat - tonumber(ARGV[1])\n"
    "if tat <= now then redis.call('DEL', KEYS[1]) return 1 end\n"
    "redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))\n"
    "return 1\n" };

static int64_t step_us(long limit, long window)
{
	int64_t t = (int64_t)window * 1000000 / limit;

	return t > 0 ? t : 1;
}

static long ceil_s(int64_t us)
{
	return us <= 0 ? 0 : (long)((us + 999999) / 1000000);
}

/* Fills `d` from how far ahead of now the arrival time is. */
static void decide(int allowed, int64_t ahead, long limit, long window, struct rl_decision *d)
{
	int64_t t = step_us(limit, window), cap = t * limit;

	d->allowed = allowed;
	d->limit = limit;
	d->window = window;
	d->reset = ceil_s(ahead);
	if (allowed) {
		d->remaining = (long)((cap - ahead) / t);
		d->retry_after = 0;
	} else {
		d->remaining = 0;
		d->retry_after = ceil_s(ahead + t - cap);
		if (d->retry_after < 1)
			d->retry_after = 1;
	}
}

void rl_gcra(int64_t now_us, int64_t *tat_us, long limit, long window, struct rl_decision *d)
{
	int64_t t = step_us(limit, window), cap = t * limit;
	int64_t tat = *tat_us > now_us ? *tat_us : now_us;
	int64_t next = tat + t;

	if (next - now_us > cap) {
		decide(0, tat - now_us, limit, window, d);
		return;
	}
	*tat_us = next;
	decide(1, next - now_us, limit, window, d);
}

const char *rl_policy_name(enum rl_policy p)
{
	return p == POLICY_AUTH ? "auth" : p == POLICY_API ? "api" : "none";
}

int rl_policy_limit(const struct config *cfg, enum rl_policy policy, long *limit, long *window)
{
	const struct cfg_rate *r = policy == POLICY_AUTH ? &cfg->rate_limit_auth
	    : policy == POLICY_API			 ? &cfg->rate_limit_api
							 : NULL;

	if (r == NULL || r->limit <= 0)
		return 0;
	*limit = r->limit;
	*window = r->window;
	return 1;
}

void rl_memory_check(struct rl_memory *mem, const unsigned char key[17], int64_t now_us,
    long limit, long window, struct rl_decision *d)
{
	struct rl_slot *slot = NULL;

	for (size_t i = 0; i < mem->used; i++) {
		if (memcmp(mem->slots[i].key, key, 17) == 0) {
			slot = &mem->slots[i];
			break;
		}
	}
	if (slot == NULL) {
		if (mem->used < RL_MEMORY_SLOTS) {
			slot = &mem->slots[mem->used++];
		} else {
			/* Full: the entry furthest in the past goes (an expired one first). */
			slot = &mem->slots[0];
			for (size_t i = 1; i < mem->used; i++)
				if (mem->slots[i].tat_us < slot->tat_us)
					slot = &mem->slots[i];
		}
		memcpy(slot->key, key, 17);
		slot->tat_us = 0;
	}
	rl_gcra(now_us, &slot->tat_us, limit, window, d);
}

static void script_args(long limit, long window, char step[24], char cap[24])
{
	snprintf(step, 24, "%lld", (long long)step_us(limit, window));
	snprintf(cap, 24, "%lld", (long long)(step_us(limit, window) * limit));
}

/* Reads the script's reply into `d`; 0, or -1 when it is not a decision. */
static int parse_reply(const redisReply *rep, long limit, long window, struct rl_decision *d)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_INTEGER ||
	    rep->element[1]->type != REDIS_REPLY_INTEGER)
		return -1;
	decide(rep->element[0]->integer == 1, rep->element[1]->integer, limit, window, d);
	return 0;
}

static void log_script_error(const redisReply *rep)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "backend", "redis");
	cJSON_AddStringToObject(f, "error", rep->type == REDIS_REPLY_ERROR ? rep->str : "bad reply");
	log_event(LOG_ERROR, "rate limit script failed", f);
}

/* The policy's limit and the client's keys (Redis and memory) into `pending`; 0, or -1 (off). */
static int pending_init(const struct config *cfg, enum rl_policy policy, const struct addr *client,
    struct rl_pending *pending)
{
	struct addr limited;
	char hash[ADDR_HASH_HEX + 1];

	memset(pending, 0, sizeof(*pending));
	pending->index = -1;
	pending->policy = policy;
	if (!rl_policy_limit(cfg, policy, &pending->limit, &pending->window))
		return -1;
	addr_limit_key(client, &limited);
	if (addr_hash(cfg->ip_hash_secret, strlen(cfg->ip_hash_secret), &limited, hash) != 0)
		return -1;
	pending->enabled = 1;
	snprintf(pending->key, sizeof(pending->key), RL_KEY_PREFIX "%s:%s", rl_policy_name(policy), hash);
	pending->mkey[0] = (unsigned char)policy;
	/* addr_hash wrote ADDR_HASH_HEX lowercase hex digits. */
	for (int i = 0; i < 16; i++)
		pending->mkey[1 + i] = (unsigned char)(crypto_hex_digit(hash[2 * i]) * 16 +
		    crypto_hex_digit(hash[2 * i + 1]));
	return 0;
}

void rl_append(const struct config *cfg, struct redis *redis, struct redis_pipe *pipe,
    enum rl_policy policy, const struct addr *client, struct rl_pending *pending)
{
	char step[24], cap[24];
	const char *args[3] = { pending->key, step, cap };

	if (pending_init(cfg, policy, client, pending) != 0)
		return;
	script_args(pending->limit, pending->window, step, cap);
	pending->index = redis_script_append(redis, pipe, &gcra_script, 1, 3, args, NULL);
}

void rl_memory_refund(struct rl_memory *mem, const unsigned char key[17], int64_t now_us,
    long limit, long window)
{
	for (size_t i = 0; i < mem->used; i++) {
		if (memcmp(mem->slots[i].key, key, 17) == 0) {
			int64_t tat = mem->slots[i].tat_us - step_us(limit, window);

			mem->slots[i].tat_us = tat > now_us ? tat : 0;
			return;
		}
	}
}

void rl_refund(const struct config *cfg, struct redis *redis, struct rl_memory *mem,
    enum rl_policy policy, const struct addr *client)
{
	struct rl_pending p;
	char step[24], cap[24];
	const char *args[2] = { p.key, step };
	redisReply *rep;
	struct timespec ts;

	if (pending_init(cfg, policy, client, &p) != 0)
		return;
	script_args(p.limit, p.window, step, cap);
	rep = redis_script_run(redis, &refund_script, 1, 2, args, NULL);
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER) {
		freeReplyObject(rep);
		return;
	}
	freeReplyObject(rep);
	/* Redis could not take it back: the decision was (most likely) made in memory. */
	if (mem != NULL) {
		clock_gettime(CLOCK_REALTIME, &ts);
		rl_memory_refund(mem, p.mkey, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, p.limit,
		    p.window);
	}
}

int rl_finish(struct redis *redis, struct redis_pipe *pipe, struct rl_memory *mem,
    struct rl_stats *stats, const struct rl_pending *p, struct rl_decision *d)
{
	const redisReply *rep;
	redisReply *owned = NULL;
	char step[24], cap[24];
	const char *args[3] = { p->key, step, cap };
	int rc = -1;
	struct timespec ts;

	if (!p->enabled)
		return -1;
	if (p->index >= 0) {
		/* NOSCRIPT (a server that has not seen it yet) is answered by EVAL at once. */
		script_args(p->limit, p->window, step, cap);
		rep = redis_script_reply(redis, pipe, p->index, &gcra_script, 1, 3, args, NULL, &owned);
		if ((rc = parse_reply(rep, p->limit, p->window, d)) != 0 && rep != NULL)
			log_script_error(rep);
		freeReplyObject(owned);
	}
	if (rc != 0) {
		if (mem == NULL)
			return -1;
		clock_gettime(CLOCK_REALTIME, &ts);
		rl_memory_check(mem, p->mkey, (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
		    p->limit, p->window, d);
		if (stats != NULL)
			stats->fallback_decisions++;
	}
	if (!d->allowed && stats != NULL && (size_t)p->policy < sizeof(stats->blocked) / sizeof(stats->blocked[0]))
		stats->blocked[p->policy]++;
	if (!d->allowed)
		metrics_rate_limited(p->policy);
	return 0;
}

int rl_check(const struct config *cfg, struct redis *redis, struct rl_memory *mem,
    struct rl_stats *stats, enum rl_policy policy, const struct addr *client,
    struct rl_decision *d)
{
	struct redis_pipe pipe = { 0 };
	struct rl_pending p;
	int rc;

	rl_append(cfg, redis, &pipe, policy, client, &p);
	rc = rl_finish(redis, &pipe, mem, stats, &p, d);
	redis_pipe_free(&pipe);
	return rc;
}
