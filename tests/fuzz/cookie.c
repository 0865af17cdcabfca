/*
 * cookie.c - fuzzes cookie_get() (lib/cookie.c) on a Cookie header.
 *
 * Input: one byte choosing the output size and the name looked up, then the
 * header.  Checks that a found value is NUL-terminated inside `out`, holds
 * only cookie-octets and no quotes at either end, and that a value too long
 * for a small buffer is reported as such rather than cut.
 */
#include "cookie.h"
#include "fuzz.h"

static const char *const names[] = { COOKIE_ACCESS, COOKIE_REFRESH, "a", "" };

static int cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
	    (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[512], *header;
	size_t outlen;
	const char *name;
	enum cookie_result r, big;

	if (size < 1)
		return 0;
	outlen = (size_t)(data[0] & 0x3f); /* 0..63: small buffers find the edges */
	name = names[(data[0] >> 6) & 3];
	header = fuzz_str(data + 1, size - 1);
	memset(out, 'X', sizeof(out));
	r = cookie_get(header, name, out, outlen);
	if (r == COOKIE_FOUND) {
		size_t n = strnlen(out, outlen);

		FUZZ_ASSERT(n < outlen);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(cookie_octet((unsigned char)out[i]));
	} else {
		FUZZ_ASSERT(out[0] == 'X'); /* out untouched */
	}
	/* With room enough, a value too long for the small buffer is found. */
	big = cookie_get(header, name, out, sizeof(out));
	if (r == COOKIE_TOO_LONG)
		FUZZ_ASSERT(big == COOKIE_FOUND || big == COOKIE_TOO_LONG);
	if (r == COOKIE_FOUND)
		FUZZ_ASSERT(big == COOKIE_FOUND);
	if (r == COOKIE_ABSENT)
		FUZZ_ASSERT(big == COOKIE_ABSENT);
	cookie_get(NULL, name, out, sizeof(out));
	free(header);
	return 0;
}
