/*
 * rate_limit.h - per-client rate limits (the contract's `auth` and `api`
 * policies), the same way for every responder.
 *
 * Algorithm: GCRA (the generic cell rate algorithm, a leaky bucket kept as
 * one timestamp per client).  A policy of N requests per W seconds lets a
 * client send a burst of N at once, then one every T = W/N.  There is no
 * window edge to game: after any burst the next request waits T, so two
 * back-to-back "windows" can never add up to 2N; over any span of L seconds
 * a client passes at most N + L/T requests, and exactly N in a burst.
 *
 * Where: the state lives in Redis (`pc:rl:<policy>:<hash>`) and is decided
 * and updated atomically by a Lua script (EVALSHA, reloaded with EVAL on
 * NOSCRIPT) in one round trip, with Redis' own clock, so the limit holds
 * across every process and host sharing the Redis.  The key is the HMAC of
 * the client address (IPv6 per /64) under IP_HASH_SECRET: no raw address.
 * When Redis is unreachable, each process runs the same algorithm over a
 * bounded table in its own memory (RL_MEMORY_SLOTS entries, oldest evicted),
 * so it keeps limiting - per process instead of per host - and returns to
 * Redis by itself once Redis answers again.
 */
#ifndef PORTCULLIS_RATE_LIMIT_H
#define PORTCULLIS_RATE_LIMIT_H

#include "client_addr.h"
#include "config.h"
#include "redis.h"
#include "router.h"

#include <stdint.h>

#define RL_MEMORY_SLOTS 4096
#define RL_KEY_PREFIX "pc:rl:"

/* One client's state in a policy: the theoretical arrival time, in µs. */
struct rl_decision {
	int allowed;
	long limit;       /* N */
	long window;      /* W, seconds */
	long remaining;   /* requests still allowed right now */
	long reset;       /* seconds until the bucket is full again */
	long retry_after; /* when refused: seconds until one is allowed */
};

/*
 * The pure algorithm, for any clock: decides a request at `now_us` against
 * the stored `*tat_us` (0 = no state) and updates it when allowed.
 */
void rl_gcra(int64_t now_us, int64_t *tat_us, long limit, long window, struct rl_decision *d);

/* The policy's name ("auth", "api"). */
const char *rl_policy_name(enum rl_policy p);

/* A process' fallback table, used while Redis is down. */
struct rl_memory {
	struct rl_slot {
		unsigned char key[17]; /* policy byte + 16 bytes of keyed hash */
		int64_t tat_us;
	} slots[RL_MEMORY_SLOTS];
	size_t used;
};

/* Counters of refused requests per policy, for the metrics endpoint. */
struct rl_stats {
	unsigned long blocked[3];
	unsigned long fallback_decisions;
};

/*
 * Decides one request of `client` under `policy` (which must be enabled in
 * `cfg`): through Redis when it answers, else through `mem`.  Fills `d`.
 * Returns 0, or -1 when no decision could be made at all (then allow).
 */
int rl_check(const struct config *cfg, struct redis *redis, struct rl_memory *mem,
    struct rl_stats *stats, enum rl_policy policy, const struct addr *client,
    struct rl_decision *d);

/*
 * The same decision in two halves, so that it can share a pipeline with
 * other commands: rl_append() queues the script (returns the pipe index,
 * or -1 when Redis is down or the policy is off), rl_finish() reads its
 * reply - falling back to EVAL on NOSCRIPT, and to `mem` when Redis could
 * not decide - and fills `d`.  rl_finish() returns 0, or -1 (allow).
 */
struct rl_pending {
	enum rl_policy policy;
	long limit, window;
	char key[64];
	unsigned char mkey[17];
	int index;
	int enabled;
};
void rl_append(const struct config *cfg, struct redis *redis, struct redis_pipe *pipe,
    enum rl_policy policy, const struct addr *client, struct rl_pending *pending);
int rl_finish(struct redis *redis, struct redis_pipe *pipe, struct rl_memory *mem,
    struct rl_stats *stats, const struct rl_pending *pending, struct rl_decision *d);

/*
 * Gives one allowed request of `client` under `policy` back, as if it had
 * not been made (the failed-login lockout's 429, which the contract does
 * not count): one extra Redis round trip on that path only, or the memory
 * table when Redis does not answer.  Best effort; nothing to report.
 */
void rl_refund(const struct config *cfg, struct redis *redis, struct rl_memory *mem,
    enum rl_policy policy, const struct addr *client);

/* The memory table's half of rl_refund() (exposed for tests). */
void rl_memory_refund(struct rl_memory *mem, const unsigned char key[17], int64_t now_us,
    long limit, long window);

/* The limit of `policy` in `cfg` (N, W), or 0 when the policy is off. */
int rl_policy_limit(const struct config *cfg, enum rl_policy policy, long *limit, long *window);

/* The fallback table's own decision (exposed for tests): `now_us` is injected. */
void rl_memory_check(struct rl_memory *mem, const unsigned char key[17], int64_t now_us,
    long limit, long window, struct rl_decision *d);

#endif
