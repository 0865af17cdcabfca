/*
 * cookie.c - see cookie.h.  Follows the server side of RFC 6265 section 4.2:
 * `name=value` pairs separated by `;` and optional spaces.
 */
#include "cookie.h"

#include <stdio.h>
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

int cookie_set(struct response *resp, const char *name, const char *value, const char *path,
    long max_age)
{
	for (const char *c = value; *c != '\0'; c++)
		if (!is_cookie_octet((unsigned char)*c))
			return -1;
	return resp_headerf(resp, "Set-Cookie",
	    "%s=%s; Path=%s; Secure; HttpOnly; SameSite=Strict; Max-Age=%ld", name, value, path,
	    max_age);
}

int cookie_set_session(struct response *resp, const char *access, long access_max_age,
    const char *refresh, long refresh_max_age)
{
	if (cookie_set(resp, COOKIE_ACCESS, access, COOKIE_ACCESS_PATH, access_max_age) != 0)
		return -1;
	return cookie_set(resp, COOKIE_REFRESH, refresh, COOKIE_REFRESH_PATH, refresh_max_age);
}

int cookie_clear_session(struct response *resp)
{
	if (cookie_set(resp, COOKIE_ACCESS, "", COOKIE_ACCESS_PATH, 0) != 0)
		return -1;
	return cookie_set(resp, COOKIE_REFRESH, "", COOKIE_REFRESH_PATH, 0);
}
