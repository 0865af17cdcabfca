/*
 * redis.h - the Redis connection of a responder process (hiredis 0.14).
 *
 * Opened on first use with connect and command timeouts, authenticated and
 * pointed at its database once.  A connection that fails a call, or that the
 * server has closed while idle, is dropped; the next call reconnects.  After
 * a failed connect the process waits REDIS_RETRY_MS before trying again, so
 * a dead Redis costs a request only a quick "down" and the caller falls back.
 */
#ifndef PORTCULLIS_REDIS_H
#define PORTCULLIS_REDIS_H

#include <hiredis.h>
#include <stddef.h>
#include <time.h>

#define REDIS_RETRY_MS 500
#define REDIS_CONNECT_TIMEOUT_MS 1000
#define REDIS_COMMAND_TIMEOUT_MS 1000

struct redis {
	char *host;
	int port;
	char *password; /* NULL: no AUTH */
	char *username; /* NULL: AUTH with the password only */
	int db;
	redisContext *ctx;
	struct timespec retry_at;
	int down;
	unsigned long errors;
	/*
	 * Called on every fresh connection before it is used, to bring Redis up
	 * to date with what it may have missed (revocations replayed from
	 * PostgreSQL).  `synced` is 1 once it has succeeded on this connection;
	 * callers that depend on that state check redis_synced().
	 */
	int (*on_connect)(struct redis *r, void *arg);
	void *on_connect_arg;
	int synced;
};

/*
 * Parses `url` (redis://[[user]:password@]host[:port][/db]) into `r`.
 * Returns 0, or -1 with a message in `err` (the URL itself is never quoted,
 * it may hold a password).
 */
int redis_init(struct redis *r, const char *url, char *err, size_t errlen);

/* A live context, connecting if needed; NULL when Redis is down. */
redisContext *redis_conn(struct redis *r);

/*
 * Runs one command (hiredis' redisCommandArgv).  Returns the reply, which
 * the caller frees with freeReplyObject(), or NULL when Redis is down or the
 * connection broke (it is then dropped).  An error reply is returned as such.
 */
redisReply *redis_command_argv(struct redis *r, int argc, const char **argv, const size_t *lens);

/* 1 when PING answers PONG now, else 0. */
int redis_ping(struct redis *r);

/*
 * A live connection whose on_connect hook has succeeded (retrying the hook
 * if it failed before); NULL when Redis is down or not yet in sync.
 */
redisContext *redis_synced(struct redis *r);

/* Drops the connection after a failure seen by a caller (pipelines). */
void redis_fail(struct redis *r);

/* Closes and frees.  Idempotent. */
void redis_close(struct redis *r);

#endif
