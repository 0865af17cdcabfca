/*
 * test_etags.c - unit tests of etag_parse_list (lib/etag.c), the parser
 * of If-Match / If-None-Match.
 *
 * Every header is copied into a heap buffer of its exact length, so that the
 * sanitized build (build/san/) catches any read past the terminating NUL.
 */
#include "etag.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

struct parsed {
	int present, any, n;
	long long v[ETAG_LIST_MAX];
};

static struct parsed parse(const char *header, int weak)
{
	struct parsed r;
	char *copy = NULL;

	memset(&r, 0, sizeof(r));
	if (header != NULL) {
		copy = malloc(strlen(header) + 1);
		if (copy == NULL)
			abort();
		memcpy(copy, header, strlen(header) + 1);
	}
	etag_parse_list(copy, weak, &r.present, &r.any, &r.n, r.v);
	free(copy);
	return r;
}

int main(void)
{
	struct parsed r;

	r = parse(NULL, 0);
	CHECK(!r.present && !r.any && r.n == 0);

	r = parse("\"7\"", 0);
	CHECK(r.present && !r.any && r.n == 1 && r.v[0] == 7);

	r = parse("*", 1);
	CHECK(r.present && r.any && r.n == 0);

	r = parse("W/\"3\", \"4\"", 1);
	CHECK_MSG(r.n == 2 && r.v[0] == 3 && r.v[1] == 4, "If-None-Match takes weak tags");
	r = parse("W/\"3\", \"4\"", 0);
	CHECK_MSG(r.n == 1 && r.v[0] == 4, "If-Match ignores weak tags");

	/* A trailing "W/" once stepped past the NUL (out-of-bounds read). */
	r = parse("W/", 1);
	CHECK_MSG(r.present && r.n == 0, "a bare W/ is no tag, and is not read past");
	r = parse("\"1\", W/", 0);
	CHECK_MSG(r.n == 1 && r.v[0] == 1, "a trailing W/ after a tag");
	r = parse("W", 1);
	CHECK(r.n == 0);
	r = parse("W/W/W/", 1);
	CHECK(r.n == 0);

	/* Malformed tags are skipped, not misread. */
	r = parse("\"12x\", \"\", \"5", 0);
	CHECK_MSG(r.n == 0, "malformed tags give no versions");
	r = parse("\"1234567890123456789\"", 0);
	CHECK_MSG(r.n == 0, "more than 18 digits is no version");
	r = parse(",,, ,\t", 0);
	CHECK(r.present && r.n == 0 && !r.any);

	return check_summary();
}
