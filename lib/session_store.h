/*
 * session_store.h - sessions and their refresh tokens in PostgreSQL.
 *
 * A session is one refresh-token family.  A refresh token is 256 random bits
 * (43 base64url characters); only its SHA-256 is stored.  Rotation happens
 * inside one transaction that locks the token and its session (SELECT ... FOR
 * UPDATE), so two concurrent refreshes of one token cannot fork the family:
 * the second waits, then finds the token spent.
 *
 * A token spent less than REFRESH_REUSE_INTERVAL seconds ago is answered with
 * the family's current tokens (two tabs refreshing at once stay logged in).
 * To give them back without storing any token in the clear, rotation seals
 * the successor pair under a key derived from the spent token itself
 * (HMAC-SHA256(token, "successor") as an AES-256-GCM key): only a holder of
 * the spent token can open it.  After the interval, a spent token revokes
 * its whole family.
 */
#ifndef PORTCULLIS_SESSION_STORE_H
#define PORTCULLIS_SESSION_STORE_H

#include "app.h"
#include "user.h"

#define SESS_REFRESH_LEN 43 /* base64url of 32 random bytes */

/* A fresh or current token pair of one session. */
struct sess_tokens {
	char session_id[37];
	char refresh[SESS_REFRESH_LEN + 1];
	long refresh_expires; /* unix seconds */
	char *access;         /* JWT, malloc'd */
	long access_expires;  /* unix seconds */
};

enum sess_result {
	SESS_OK,
	SESS_INVALID, /* unknown, expired or revoked: 401 unauthenticated */
	SESS_REUSED,  /* spent token after the interval: family revoked, 401 refresh_token_reused */
	SESS_DOWN,    /* PostgreSQL unreachable: 503 */
	SESS_ERROR,   /* anything else: 500 */
};

/* Releases what `t` owns (wiping the refresh token).  Idempotent. */
void sess_tokens_free(struct sess_tokens *t);

/* 1 when `s` has the shape of a refresh token (43 base64url characters). */
int sess_refresh_token_valid(const char *s);

/*
 * Starts a session for `user_id`: a session row and its first refresh
 * token in one statement, then an access token.  When `name_hash` is given,
 * the same statement clears that name's failed-login records.  `user_agent`
 * (may be NULL) is stored with the session (session_list.h).
 */
enum sess_result sess_create(struct app *app, const char *user_id,
    const unsigned char *name_hash, const char *user_agent, struct sess_tokens *out);

/*
 * Rotates refresh token `token` (see above).  On SESS_OK, `out` holds the
 * pair to hand back and `user` the session's user.  On SESS_REUSED the
 * family is revoked, in PostgreSQL and Redis, before this returns.
 */
enum sess_result sess_refresh(struct app *app, const char *token, struct sess_tokens *out,
    struct user *user);

/*
 * Revokes session `sid` (may be NULL) and the session of refresh token
 * `token` (may be NULL), in PostgreSQL then Redis.  SESS_OK also when
 * there was nothing live to revoke.
 */
enum sess_result sess_logout(struct app *app, const char *sid, const char *token);

/*
 * Stores `new_hash` as the password of `user_id` and revokes every session
 * of that user, in one statement; then publishes the revocations.
 */
enum sess_result sess_change_password(struct app *app, const char *user_id, const char *new_hash);

#endif
