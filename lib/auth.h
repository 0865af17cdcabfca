/*
 * auth.h - who is asking: the access token of a request, checked, and the
 * cross-site rule for cookie-authenticated writes.
 *
 * A token comes from `Authorization: Bearer` or, failing that, the
 * `__Host-access` cookie.  It is verified (algorithm pinned first, then
 * signature, iss, aud, exp; see token.h) and its session checked against
 * revocation (see revocation.h) - one Redis round trip on the common path,
 * no PostgreSQL.
 */
#ifndef PORTCULLIS_AUTH_H
#define PORTCULLIS_AUTH_H

#include "app.h"
#include "token.h"

enum auth_result {
	AUTH_OK,
	AUTH_MISSING,     /* no token: 401 */
	AUTH_INVALID,     /* malformed, tampered, expired, other algorithm: 401 */
	AUTH_REVOKED,     /* its session was revoked: 401 */
	AUTH_UNAVAILABLE, /* revocation could not be checked: 503 */
};

struct auth {
	struct token_claims claims;
	int via_cookie; /* the token came from the cookie, not the header */
};

/*
 * Copies the presented access token (bearer header first, then cookie)
 * into `out`.  Returns 1 (and sets `*via_cookie`), or 0 when there is none
 * or it does not fit.
 */
int auth_token(const struct request *req, char *out, size_t outlen, int *via_cookie);

/*
 * Authenticates the request.  On AUTH_OK fills `a` and the request's
 * user_id.  With `user_cached` (may be NULL), the user's cached record
 * (user.h) rides on the same Redis round trip as the revocation check:
 * `*user_cached` is then its JSON (malloc'd, caller frees) or NULL.
 */
enum auth_result auth_require(struct ctx *c, struct auth *a, char **user_cached);

/* Answers 401 unauthenticated or 503 for a failed auth_require(). */
void auth_reply(struct ctx *c, enum auth_result r);

/*
 * 1 when the request carries an `Authorization: Bearer` header (so its
 * credential is not a cookie).
 */
int auth_has_bearer(const struct request *req);

/*
 * The cross-site rule: a POST, PUT or DELETE that is authenticated by
 * cookie (`cookie_auth` true) and whose Origin is present and neither in
 * CORS_ALLOWED_ORIGINS nor the server's own (https:// + Host) is refused
 * with 403 origin_not_allowed before anything changes.  Returns 1 when it
 * answered.
 */
int auth_refuse_cross_site(struct ctx *c, int cookie_auth);

#endif
