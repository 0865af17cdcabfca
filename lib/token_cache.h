/*
 * token_cache.h - the access tokens a process has verified lately.
 *
 * A client presents the same access token on every request until it is
 * refreshed, and verifying one (two base64url decodes, an HMAC, two JSON
 * parses) was the largest cost of an authenticated read after the
 * FastCGI and Redis system calls.  token_verify() keeps each token it
 * accepts here, keyed by its exact bytes, with its claims; a token found
 * again skips the signature and the parsing, and only its times (exp, iat,
 * nbf) are checked again against `now`, in token_verify()'s order, so the
 * answer is the one a full verification would give.  The cache belongs to
 * one configuration: a lookup under another secret, algorithm, issuer or
 * audience empties it first.  Presented tokens are compared with the cached
 * ones in constant time; only tokens that verified are ever stored.
 * Revocation is not the cache's business: callers check it every time.
 */
#ifndef PORTCULLIS_TOKEN_CACHE_H
#define PORTCULLIS_TOKEN_CACHE_H

#include "config.h"
#include "token.h"

#include <stddef.h>

#define TOKEN_CACHE_SLOTS 256     /* direct-mapped; a power of two */
#define TOKEN_CACHE_TOKEN_MAX 768 /* longer tokens are verified every time */

/* What a full verification learned besides the claims. */
struct token_times {
	int has_nbf;
	long nbf;
};

/*
 * Looks `jwt` (`len` bytes) up for `cfg` at `now`.  Returns 1 with `*r` set
 * (and `*out`, when not NULL and `*r` is TOKEN_OK) when the token is cached,
 * else 0.
 */
int token_cache_find(const struct config *cfg, const char *jwt, size_t len, long now,
    struct token_claims *out, enum token_result *r);

/* Remembers a token that has just verified under `cfg` with claims `c`. */
void token_cache_put(const struct config *cfg, const char *jwt, size_t len,
    const struct token_claims *c, const struct token_times *t);

/* Forgets everything (and the configuration it was for). */
void token_cache_clear(void);

#endif
