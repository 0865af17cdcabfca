/*
 * redis.h - the Redis connection of a responder process (hiredis 0.14).
 *
 * Opened on first use with connect and command timeouts, authenticated and
 * pointed at its database once.  A connection that fails a call, or that the
 * server has closed while idle, is dropped; the next call reconnects.  After
 * a failed connect the process waits REDIS_RETRY_MS before trying again, so
 * a dead Redis costs a request only a quick "down" and the caller falls back.
 *
 * With Sentinels (redis_sentinel.h) the server is looked up before each new
 * connection and must answer ROLE as a master; a -READONLY reply, from a
 * master that has been demoted, counts as a broken connection.
 */
#ifndef PORTCULLIS_REDIS_H
#define PORTCULLIS_REDIS_H

#include "backoff.h"

#include <hiredis.h>
#include <stddef.h>
#include <time.h>

#define REDIS_RETRY_MS 500
#define REDIS_CONNECT_TIMEOUT_MS 1000
#define REDIS_COMMAND_TIMEOUT_MS 1000

#define REDIS_SENTINELS_MAX 8

struct redis_node {
	char *host;
	int port;
};

/* A unix socket's path holds at most this many bytes, NUL included (sun_path). */
#define REDIS_UNIX_PATH_MAX 108

struct redis {
	char *host; /* with Sentinels: the master last found, NULL before */
	int port;
	char *unix_path; /* unix://: the server's socket (host NULL); else NULL */
	char *password; /* NULL: no AUTH */
	char *username; /* NULL: AUTH with the password only */
	int db;
	redisContext *ctx;
	struct backoff backoff; /* up or down, and when to connect again */
	/*
	 * Called on every fresh connection before it is used, to bring Redis up
	 * to date with what it may have missed (revocations replayed from
	 * PostgreSQL).  `synced` is 1 once it has succeeded on this connection;
	 * callers that depend on that state check redis_synced().
	 */
	int (*on_connect)(struct redis *r, void *arg);
	void *on_connect_arg;
	int synced;
	int outage_seen; /* a failure since the last connection that synced */
	/* Sentinel discovery (redis_sentinel_init); nsentinels 0: off. */
	struct redis_node sentinels[REDIS_SENTINELS_MAX];
	int nsentinels;
	char *master_name;
	char *sentinel_password;
	struct timespec check_at; /* next check of a live connection's master */
	struct timespec resync_at; /* Sentinel mode: on_connect runs again then, once; 0: done */
	redisContext *sentinel;   /* kept open to the Sentinel that answered last */
	int sentinel_idx;
	unsigned long conns;      /* connections made so far: tells one from the next */
	int live_checked;         /* the kept connection was seen open in this request */
};

/*
 * Parses `url` (redis://[[user]:password@]host[:port][/db], or
 * unix://[[user]:password@]/path/to/socket[?db=N]) into `r`.
 * Returns 0, or -1 with a message in `err` (the URL itself is never quoted,
 * it may hold a password).
 */
int redis_init(struct redis *r, const char *url, char *err, size_t errlen);

/*
 * A live context, connecting if needed; NULL when Redis is down.  A kept
 * connection is checked for a close by the server once a request (a
 * zero-timeout poll), not once a command: redis_request_begin() starts the
 * next request.
 */
redisContext *redis_conn(struct redis *r);

/* A new request: the next redis_conn() checks the kept connection again. */
void redis_request_begin(struct redis *r);

/*
 * Runs one command (hiredis' redisCommandArgv).  Returns the reply, which
 * the caller frees with freeReplyObject(), or NULL when Redis is down or the
 * connection broke (it is then dropped).  An error reply is returned as such,
 * but -READONLY (the server is no master now) is a broken connection: NULL.
 */
redisReply *redis_command_argv(struct redis *r, int argc, const char **argv, const size_t *lens);

/* 1 when PING answers PONG now, else 0. */
int redis_ping(struct redis *r);

/*
 * A live connection whose on_connect hook has succeeded (retrying the hook
 * if it failed before); NULL when Redis is down or not yet in sync.
 */
redisContext *redis_synced(struct redis *r);

/*
 * A pipeline: commands appended by several parts of one request (the rate
 * limit, the revocation check, the data cache) and sent together, so the
 * request pays one Redis round trip in total.
 */
#define REDIS_PIPE_MAX 8

struct redis_pipe {
	unsigned long conn; /* redis.conns when the first command went out */
	int n;
	int sent;   /* flushed (successfully or not) */
	int failed; /* the connection broke: every reply is NULL */
	redisReply *replies[REDIS_PIPE_MAX];
};

/*
 * Appends one command; returns its index, or -1 when Redis is down or the
 * pipeline is full or already sent (the caller then goes without Redis).
 * Every command of a pipeline goes to the connection of its first: when
 * that one was replaced meanwhile, the pipeline fails as a whole.
 */
int redis_pipe_append(struct redis *r, struct redis_pipe *p, int argc, const char **argv,
    const size_t *lens);

/*
 * Sends what was appended and reads every reply.  0, or -1 (then all replies
 * are NULL): the connection broke, or a reply was -READONLY (then none of
 * them is trusted: a demoted master may lag behind the new one).
 */
int redis_pipe_flush(struct redis *r, struct redis_pipe *p);

/* The reply of command `i` (owned by the pipe), or NULL. */
redisReply *redis_pipe_reply(const struct redis_pipe *p, int i);

/* Frees the replies.  Idempotent. */
void redis_pipe_free(struct redis_pipe *p);

/* Drops the connection after a failure seen by a caller (pipelines). */
void redis_fail(struct redis *r);

/*
 * Lets the next call try a connection at once, skipping the REDIS_RETRY_MS
 * wait.  For a writer that must tell Redis what it changed before it
 * answers: others may already be connected to a new master this process
 * has not found yet (a failover), and would serve what it just replaced.
 */
void redis_retry_now(struct redis *r);

/* Closes and frees.  Idempotent. */
void redis_close(struct redis *r);

#endif
