/*
 * auth.h - who is asking: the access token of a request, checked, and the
 * cross-site rule for cookie-authenticated writes.
 *
 * A token comes from `Authorization: Bearer` or, failing that, the
 * `__Host-access` cookie.  It is verified (algorithm pinned first, then
 * signature, iss, aud, exp; see token.h) and its session checked against
 * revocation (see revocation.h) - on the request's one Redis round trip on
 * the common path, no PostgreSQL.
 */
#ifndef PORTCULLIS_AUTH_H
#define PORTCULLIS_AUTH_H

#include "redis.h"
#include "token.h"

#include <stddef.h>

struct ctx;
struct request;

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
 * The check in three steps, so that the revocation lookup (and whatever
 * else the route's handler needs from Redis) rides on the request's one
 * Redis round trip; app.c runs them for every route whose auth is
 * ROUTE_AUTH_TOKEN:
 *
 *   auth_begin(c, p);                 the token, verified locally
 *   ...the route's hook names keys from p->a.claims...
 *   auth_queue(c, p, keys, n);        MGET <revocation key> <ready> keys...
 *   ...the pipe is flushed with the rate limit's script...
 *   r = auth_finish(c, p, replies);   replies[i] for keys[i]
 *
 * auth_queue() appends the MGET only when Redis is in sync; auth_finish()
 * reads its reply, or asks PostgreSQL when Redis could not answer (then
 * every replies[i] is NULL: it sets each of the `n` replies auth_queue()
 * was given, also when the MGET could not be queued - Redis down or not in
 * sync).  Replies are owned by the request's pipe.  On AUTH_OK the
 * request's user_id is set.
 */
#define AUTH_EXTRA_MAX 4

struct auth_pending {
	enum auth_result result; /* of the local checks */
	struct auth a;
	int index;    /* pipe index of the MGET, or -1 */
	int n_extra;  /* keys in the MGET beyond the revocation pair (0 when not queued) */
	int n_wanted; /* replies the caller will read (auth_queue's n) */
};

void auth_begin(struct ctx *c, struct auth_pending *p);
void auth_queue(struct ctx *c, struct auth_pending *p, const char *const *keys, int n);
enum auth_result auth_finish(struct ctx *c, struct auth_pending *p, const redisReply **replies);

/* Answers 401 unauthenticated or 503 for a failed check. */
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
