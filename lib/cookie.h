/*
 * cookie.h - reading the Cookie request header.
 *
 * The header is attacker-controlled text, so the parser works in place on the
 * caller's bytes without allocating, bounds the header length and the number
 * of pairs it looks at, and copies a value out only when it fits.
 */
#ifndef PORTCULLIS_COOKIE_H
#define PORTCULLIS_COOKIE_H

#include <stddef.h>

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

#endif
