/*
 * request_id.c - see request_id.h.
 */
#include "request_id.h"

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

int request_id_assign(const char *incoming, char out[REQUEST_ID_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	struct timespec ts;

	if (request_id_valid(incoming)) {
		memcpy(out, incoming, strlen(incoming) + 1);
		return 0;
	}
	if (getrandom(raw, sizeof(raw), GRND_NONBLOCK) == (ssize_t)sizeof(raw)) {
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
