/*
 * request_id.c - see request_id.h.
 */
#include "request_id.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int request_id_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= REQUEST_ID_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

/*
 * 16 random bytes for an id.  The kernel is asked for 64 ids at a time
 * (one getrandom() instead of one a request); a forked child starts with an
 * empty pool, so a worker never reuses ids its parent or a sibling holds.
 */
static unsigned char id_pool[64 * 16];
static size_t id_pool_used = sizeof(id_pool);

static void id_pool_drop(void)
{
	explicit_bzero(id_pool, sizeof(id_pool));
	id_pool_used = sizeof(id_pool);
}

static int random_id_bytes(unsigned char raw[16])
{
	static int atfork_set;

	if (!atfork_set) {
		if (pthread_atfork(NULL, NULL, id_pool_drop) != 0)
			return getrandom(raw, 16, GRND_NONBLOCK) == 16 ? 0 : -1;
		atfork_set = 1;
	}
	if (id_pool_used + 16 > sizeof(id_pool)) {
		if (getrandom(id_pool, sizeof(id_pool), GRND_NONBLOCK) != (ssize_t)sizeof(id_pool))
			return -1;
		id_pool_used = 0;
	}
	memcpy(raw, id_pool + id_pool_used, 16);
	explicit_bzero(id_pool + id_pool_used, 16);
	id_pool_used += 16;
	return 0;
}

int request_id_assign(const char *incoming, char out[REQUEST_ID_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	struct timespec ts;

	if (request_id_valid(incoming)) {
		memcpy(out, incoming, strlen(incoming) + 1);
		return 0;
	}
	if (random_id_bytes(raw) == 0) {
		for (size_t i = 0; i < sizeof(raw); i++) {
			out[2 * i] = hex[raw[i] >> 4];
			out[2 * i + 1] = hex[raw[i] & 15];
		}
		out[2 * sizeof(raw)] = '\0';
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, REQUEST_ID_MAX + 1, "t%lx-%lx-%x", (unsigned long)ts.tv_sec,
	    (unsigned long)ts.tv_nsec, (unsigned)getpid());
	return -1;
}
