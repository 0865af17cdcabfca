/*
 * cookie.h - reading the Cookie request header.
 *
 * The header is attacker-controlled text, so the parser works in place on the
 * caller's bytes without allocating, bounds the header length and the number
 * of pairs it looks at, and copies a value out only when it fits.
 */
#ifndef PORTCULLIS_COOKIE_H
#define PORTCULLIS_COOKIE_H

#include "response.h"

#include <stddef.h>

/* The contract's two cookies: the access token and the refresh token. */
#define COOKIE_ACCESS "__Host-access"
#define COOKIE_ACCESS_PATH "/"
#define COOKIE_REFRESH "__Secure-refresh"
#define COOKIE_REFRESH_PATH "/api/auth"

#define COOKIE_HEADER_MAX 8192 /* a longer header is ignored as a whole */
#define COOKIE_PAIRS_MAX 64    /* pairs after this many are not looked at */

enum cookie_result {
	COOKIE_FOUND,
	COOKIE_ABSENT,
	COOKIE_TOO_LONG, /* present, but the value does not fit `outlen` */
};

/*
 * Looks up the first cookie called `name` in `header` (NULL allowed) and
 * copies its value, without surrounding double quotes, NUL-terminated into
 * `out`.  Pairs without `=`, and names or values with bytes outside the
 * RFC 6265 sets, are skipped.  `out` is written only on COOKIE_FOUND.
 */
enum cookie_result cookie_get(const char *header, const char *name, char *out, size_t outlen);

/*
 * Adds `Set-Cookie: name=value; Path=path; Secure; HttpOnly;
 * SameSite=Strict; Max-Age=max_age`.  An empty value with max_age 0 clears
 * the cookie.  Returns 0, or -1 when the header does not fit or the value
 * holds a byte outside the cookie-octet set.
 */
int cookie_set(struct response *resp, const char *name, const char *value, const char *path,
    long max_age);

/* Sets both session cookies (access and refresh).  0, or -1. */
int cookie_set_session(struct response *resp, const char *access, long access_max_age,
    const char *refresh, long refresh_max_age);

/* Clears both session cookies.  0, or -1. */
int cookie_clear_session(struct response *resp);

#endif
