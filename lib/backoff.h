/*
 * backoff.h - a backend's up/down state and the wait before the next
 * connect after a failure: the one back-off of PostgreSQL (db.c) and
 * Redis (redis.c).
 *
 * After a failed connect (for Redis also a command that failed: see
 * redis_fail()) a process makes no attempt for the backend's fixed wait
 * (DB_RETRY_MS, REDIS_RETRY_MS), so while a server is dead each request in
 * between costs a quick "down" (503) instead of a connect timeout.  The wait does not
 * grow: it is short, each process tries at most once per wait, and a
 * server that is back is used within one wait.  A change of state is
 * logged once ("backend down" / "backend up").  Times are CLOCK_MONOTONIC.
 */
#ifndef PORTCULLIS_BACKOFF_H
#define PORTCULLIS_BACKOFF_H

#include <time.h>

struct backoff {
	struct timespec retry_at; /* while down: no attempt before this */
	int down;                 /* the last attempt failed */
};

/*
 * Records a failure of `backend` ("postgres", "redis"): no attempt for
 * `wait_ms` from now.  Logs "backend down" when it was up.
 */
void backoff_fail(struct backoff *b, const char *backend, long wait_ms);

/* Records a success of `backend`; logs "backend up" when it was down. */
void backoff_ok(struct backoff *b, const char *backend);

/* 1 when a connect may be tried now (up, or the wait is over), else 0. */
int backoff_may_try(const struct backoff *b);

/* Ends the wait: the next attempt goes ahead at once (the state is kept). */
void backoff_skip(struct backoff *b);

/* Sets `*t` to `ms` milliseconds from now. */
void backoff_deadline(struct timespec *t, long ms);

/* Milliseconds from now until `*t`; 0 or less once it has passed. */
long backoff_ms_left(const struct timespec *t);

#endif
