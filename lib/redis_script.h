/*
 * redis_script.h - Lua scripts run by SHA (EVALSHA), loaded with EVAL the
 * first time a server answers NOSCRIPT, so a script costs one round trip
 * and travels in a pipeline like any command.
 */
#ifndef PORTCULLIS_REDIS_SCRIPT_H
#define PORTCULLIS_REDIS_SCRIPT_H

#include "redis.h"

struct redis_script {
	const char *source;
	char sha[41]; /* filled on first use */
};

#define REDIS_SCRIPT_ARGS_MAX 12

/*
 * Appends `EVALSHA sha nkeys args...` (keys first, then arguments) to the
 * pipe; returns the index or -1.
 */
int redis_script_append(struct redis *r, struct redis_pipe *p, struct redis_script *s, int nkeys,
    int nargs, const char **args, const size_t *lens);

/*
 * The script's reply at `index` of a flushed pipe.  On NOSCRIPT, runs it
 * again at once with EVAL (same arguments), which also loads it, and returns
 * that reply - then owned by the caller through `*owned` (freeReplyObject),
 * else `*owned` is NULL.  NULL when Redis could not answer.
 */
const redisReply *redis_script_reply(struct redis *r, struct redis_pipe *p, int index,
    struct redis_script *s, int nkeys, int nargs, const char **args, const size_t *lens,
    redisReply **owned);

/* Runs a script on its own (one round trip; EVAL on NOSCRIPT).  Reply owned by the caller. */
redisReply *redis_script_run(struct redis *r, struct redis_script *s, int nkeys, int nargs,
    const char **args, const size_t *lens);

#endif
