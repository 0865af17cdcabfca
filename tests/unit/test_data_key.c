/*
 * test_data_key.c - unit tests of lib/data_key.c: which keys the data API
 * accepts, and the percent-decoding of a key's raw path segment.
 *
 * Every input is copied into a heap buffer of its exact length (no NUL),
 * so the sanitized build (build/san/) catches a read past its end.
 */
#include "data_key.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

/* data_key_valid() of the first `len` bytes of `s`, from an exact-size copy. */
static int valid(const char *s, size_t len)
{
	char *copy = malloc(len > 0 ? len : 1);
	int r;

	if (copy == NULL)
		abort();
	memcpy(copy, s, len);
	r = data_key_valid(copy, len);
	free(copy);
	return r;
}

/* data_key_decode() of `raw` into `out`, from an exact-size copy. */
static int decode(const char *raw, char out[DATA_KEY_LEN_MAX + 1])
{
	size_t len = strlen(raw);
	char *copy = malloc(len > 0 ? len : 1);
	int r;

	if (copy == NULL)
		abort();
	memcpy(copy, raw, len);
	r = data_key_decode(copy, len, out);
	free(copy);
	return r;
}

int main(void)
{
	char out[DATA_KEY_LEN_MAX + 1], big[3 * DATA_KEY_LEN_MAX + 4];

	CHECK(valid("a", 1));
	CHECK(valid("A-Z_a.z~0-9", 11));
	CHECK_MSG(!valid("", 0), "the empty key is not a key");
	CHECK_MSG(!valid(".", 1) && !valid("..", 2), ". and .. are not keys");
	CHECK_MSG(valid("...", 3) && valid(".a", 2), "other keys of dots are");
	CHECK_MSG(!valid("a/b", 3) && !valid("a b", 3) && !valid("a%", 2), "/ space % are not key bytes");
	CHECK_MSG(!valid("a\0b", 3), "a NUL inside the length is not a key byte");
	CHECK_MSG(!valid("\xc3\xa9", 2), "nor is a byte above 127");
	memset(big, 'k', sizeof(big));
	CHECK_MSG(valid(big, DATA_KEY_LEN_MAX), "DATA_KEY_LEN_MAX bytes is a key");
	CHECK_MSG(!valid(big, DATA_KEY_LEN_MAX + 1), "one more is not");

	CHECK(decode("plain", out) == 0);
	CHECK_STR(out, "plain");
	CHECK(decode("a%2Db%7e", out) == 0);
	CHECK_STR(out, "a-b~");
	CHECK_MSG(decode("%2e", out) == -1 && decode("%2E%2e", out) == -1,
	    ". and .. are refused however spelt");
	CHECK_MSG(decode("a%2Fb", out) == -1, "an encoded / decodes outside the key set");
	CHECK_MSG(decode("a%00b", out) == -1, "and so does an encoded NUL");
	CHECK_MSG(decode("a%", out) == -1 && decode("a%4", out) == -1 && decode("%zz", out) == -1,
	    "a truncated or non-hex escape is malformed");
	CHECK_MSG(decode("", out) == -1, "an empty segment is no key");

	/* DATA_KEY_LEN_MAX decoded bytes fit, however they were spelt; one more does not. */
	memset(big, 'k', DATA_KEY_LEN_MAX);
	big[DATA_KEY_LEN_MAX] = '\0';
	CHECK(decode(big, out) == 0 && strlen(out) == DATA_KEY_LEN_MAX);
	for (int i = 0; i < DATA_KEY_LEN_MAX; i++)
		memcpy(big + 3 * i, "%6B", 3);
	big[3 * DATA_KEY_LEN_MAX] = '\0';
	CHECK_MSG(decode(big, out) == 0 && strlen(out) == DATA_KEY_LEN_MAX && out[0] == 'k',
	    "DATA_KEY_LEN_MAX escaped bytes decode");
	memcpy(big + 3 * DATA_KEY_LEN_MAX, "%6B", 4);
	CHECK_MSG(decode(big, out) == -1, "DATA_KEY_LEN_MAX + 1 escaped bytes are too long");

	return check_summary();
}
