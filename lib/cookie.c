/*
 * cookie.c - see cookie.h.  Follows the server side of RFC 6265 section 4.2:
 * `name=value` pairs separated by `;` and optional spaces.
 */
#include "cookie.h"

#include <string.h>

/* RFC 6265 cookie-octet: visible ASCII except DQUOTE, comma, semicolon, backslash. */
static int is_cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
	    (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

/* RFC 7230 token characters, as cookie names must be. */
static int is_token_char(unsigned char c)
{
	if (c <= 0x20 || c >= 0x7f)
		return 0;
	return strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

enum cookie_result cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
	size_t hlen, nlen;
	const char *p, *end;
	int pairs = 0;

	if (header == NULL || name == NULL || (nlen = strlen(name)) == 0)
		return COOKIE_ABSENT;
	hlen = strnlen(header, COOKIE_HEADER_MAX + 1);
	if (hlen > COOKIE_HEADER_MAX)
		return COOKIE_ABSENT;
	p = header;
	end = header + hlen;
	while (p < end && pairs++ < COOKIE_PAIRS_MAX) {
		const char *pair_end = memchr(p, ';', (size_t)(end - p));
		const char *eq, *k, *v, *vend;
		int ok = 1;

		if (pair_end == NULL)
			pair_end = end;
		k = p;
		while (k < pair_end && (*k == ' ' || *k == '\t'))
			k++;
		eq = memchr(k, '=', (size_t)(pair_end - k));
		p = pair_end + 1;
		if (eq == NULL || eq == k)
			continue;
		for (const char *c = k; c < eq; c++)
			if (!is_token_char((unsigned char)*c))
				ok = 0;
		if (!ok || (size_t)(eq - k) != nlen || memcmp(k, name, nlen) != 0)
			continue;
		v = eq + 1;
		vend = pair_end;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		if (vend - v >= 2 && *v == '"' && vend[-1] == '"') {
			v++;
			vend--;
		}
		for (const char *c = v; c < vend; c++)
			if (!is_cookie_octet((unsigned char)*c))
				ok = 0;
		if (!ok)
			continue;
		if ((size_t)(vend - v) >= outlen)
			return COOKIE_TOO_LONG;
		memcpy(out, v, (size_t)(vend - v));
		out[vend - v] = '\0';
		return COOKIE_FOUND;
	}
	return COOKIE_ABSENT;
}
