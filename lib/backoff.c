/*
 * backoff.c - see backoff.h.
 */
#include "backoff.h"

#include "log.h"

static void log_change(const char *backend, int down)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "backend", backend);
	log_event(down ? LOG_ERROR : LOG_INFO, down ? "backend down" : "backend up", f);
}

void backoff_deadline(struct timespec *t, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, t);
	t->tv_nsec += ms % 1000 * 1000000L;
	t->tv_sec += ms / 1000 + t->tv_nsec / 1000000000L;
	t->tv_nsec %= 1000000000L;
}

long backoff_ms_left(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
}

void backoff_fail(struct backoff *b, const char *backend, long wait_ms)
{
	backoff_deadline(&b->retry_at, wait_ms);
	if (!b->down)
		log_change(backend, 1);
	b->down = 1;
}

void backoff_ok(struct backoff *b, const char *backend)
{
	if (b->down)
		log_change(backend, 0);
	b->down = 0;
}

int backoff_may_try(const struct backoff *b)
{
	return !b->down || backoff_ms_left(&b->retry_at) <= 0;
}

void backoff_skip(struct backoff *b)
{
	clock_gettime(CLOCK_MONOTONIC, &b->retry_at);
}
