/*
 * etags.c - fuzzes etag_parse_list() (lib/etag.c) on If-Match /
 * If-None-Match values, strong and weak.
 *
 * The header is copied into a buffer of exactly its size, so a step past
 * its NUL (a trailing `W/` once did that) is an ASan report.  Checks that
 * the count stays within ETAG_LIST_MAX, that versions are non-negative, that
 * weak parsing finds at least what strong parsing finds, and that `*` is
 * seen only when the header holds one.
 */
#include "etag.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = fuzz_str(data, size);
	long long vs[ETAG_LIST_MAX], vw[ETAG_LIST_MAX];
	int present, any, ns, nw;

	etag_parse_list(h, 0, &present, &any, &ns, vs);
	FUZZ_ASSERT(present == 1);
	FUZZ_ASSERT(ns >= 0 && ns <= ETAG_LIST_MAX);
	FUZZ_ASSERT(!any || strchr(h, '*') != NULL);
	for (int i = 0; i < ns; i++)
		FUZZ_ASSERT(vs[i] >= 0);
	etag_parse_list(h, 1, &present, &any, &nw, vw);
	FUZZ_ASSERT(nw >= ns || nw == ETAG_LIST_MAX);
	for (int i = 0; i < nw; i++)
		FUZZ_ASSERT(vw[i] >= 0);
	etag_parse_list(NULL, 1, &present, &any, &nw, vw);
	FUZZ_ASSERT(present == 0 && any == 0 && nw == 0);
	free(h);
	return 0;
}
