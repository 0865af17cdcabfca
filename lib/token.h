/*
 * token.h - access tokens: short-lived HMAC-signed JWTs (API.md, "Access
 * token").
 *
 * Issuing goes through libjwt.  Verifying does not: libjwt 1.10 takes the
 * algorithm from the token's own header, so token_verify() splits and
 * base64url-decodes the token itself, pins the configured algorithm before
 * anything else in the token is trusted, computes the HMAC with libcrypto
 * and compares it in constant time, then checks the claims with one JSON
 * parser (cJSON) for header and payload alike.  Revocation (by `sid` and
 * `jti`) is the caller's job; this file knows nothing of sessions.
 */
#ifndef PORTCULLIS_TOKEN_H
#define PORTCULLIS_TOKEN_H

#include "config.h"

#define TOKEN_MAX_LEN 4096
#define TOKEN_LEEWAY_S 10 /* clock skew allowed on exp, iat and nbf; at most 30 s */
#define TOKEN_ID_MAX 64

/* The claims of a verified token; ids are 1..TOKEN_ID_MAX of [A-Za-z0-9-]. */
struct token_claims {
	char sub[TOKEN_ID_MAX + 1];
	char sid[TOKEN_ID_MAX + 1];
	char jti[TOKEN_ID_MAX + 1];
	long iat;
	long exp;
};

enum token_result {
	TOKEN_OK,
	TOKEN_MALFORMED,
	TOKEN_BAD_ALGORITHM,
	TOKEN_BAD_SIGNATURE,
	TOKEN_EXPIRED,
	TOKEN_NOT_YET_VALID,
	TOKEN_BAD_ISSUER,
	TOKEN_BAD_AUDIENCE,
	TOKEN_MISSING_CLAIM
};

/*
 * Issues an access token for user `sub` in session `sid` (each 1..TOKEN_ID_MAX
 * of [A-Za-z0-9-]): header {"alg": <cfg->jwt_algorithm>, "typ": "JWT"},
 * claims iss, aud, sub, sid, iat = now, exp = now + cfg->access_token_ttl and
 * jti = 128 random bits as 32 lowercase hex digits, signed with the bytes of
 * cfg->jwt_secret.  Returns 0 with *jwt_out malloc'd (the caller frees it with
 * free()) and, if `claims_out` is not NULL, the claims just issued; or -1
 * (bad argument, empty secret, no randomness, out of memory) with *jwt_out
 * NULL and `claims_out` untouched.
 */
int token_issue(const struct config *cfg, const char *sub, const char *sid, long now,
    char **jwt_out, struct token_claims *claims_out);

/*
 * Verifies `jwt` at time `now` (seconds since the epoch) against `cfg`:
 * shape, pinned algorithm, signature, then exp, iat, nbf, iss, aud and the
 * ids, in that order; the first failure is returned.  A bad shape, a `typ`
 * other than "JWT", a `crit` header or a non-integer `nbf` is TOKEN_MALFORMED
 * (so `alg: none` with an empty signature is malformed before its algorithm
 * is looked at); a missing or non-integer exp/iat is TOKEN_MISSING_CLAIM; a
 * config with no usable secret fails closed with TOKEN_BAD_SIGNATURE.  `out`
 * (may be NULL) is written only on TOKEN_OK.  A token that verifies is kept in
 * the process's token cache (token_cache.h), which answers for it again with
 * the same result.  Logs nothing.
 */
enum token_result token_verify(const struct config *cfg, const char *jwt, long now,
    struct token_claims *out);

/* A short static name for `r` ("ok", "expired", ...) for debug logs. */
const char *token_result_name(enum token_result r);

#endif
