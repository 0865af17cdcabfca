/*
 * session_store.h - sessions and their refresh tokens in PostgreSQL.
 *
 * A session is one refresh-token family.  A refresh token is 256 random bits
 * (43 base64url characters); only its SHA-256 is stored.  Rotation is one
 * statement: an UPDATE that spends the token (locking its row) and an
 * INSERT of the successor only when this statement spent it, so two
 * concurrent refreshes of one token cannot fork the family: the second
 * waits, finds the token spent, and answers with the winner's pair.
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

#define SESSION_STORE_REFRESH_LEN 43 /* base64url of 32 random bytes */

/* A fresh or current token pair of one session. */
struct session_store_tokens {
	char session_id[37];
	char refresh[SESSION_STORE_REFRESH_LEN + 1];
	long refresh_expires; /* unix seconds */
	char *access;         /* JWT, malloc'd */
	long access_expires;  /* unix seconds */
};

enum session_store_result {
	SESSION_STORE_OK,
	SESSION_STORE_INVALID, /* unknown, expired or revoked: 401 unauthenticated */
	SESSION_STORE_REUSED,  /* spent token after the interval: family revoked, */
			       /* 401 refresh_token_reused */
	SESSION_STORE_DOWN,    /* PostgreSQL unreachable: 503 */
	SESSION_STORE_ERROR,   /* anything else: 500 */
};

/* Releases what `t` owns (wiping the refresh token).  Idempotent. */
void session_store_tokens_free(struct session_store_tokens *t);

/* 1 when `s` has the shape of a refresh token (43 base64url characters). */
int session_store_refresh_token_valid(const char *s);

/*
 * Starts a session for `user_id`: a session row and its first refresh
 * token in one statement, then an access token.  With `password_version`
 * (the users.password_version read with the hash that was verified; NULL
 * for none), the statement inserts only if the users row still exists at
 * that version, locking it: SESSION_STORE_INVALID when it does not (the password
 * changed or the account was deleted while the login was in flight - the
 * session is "born revoked", i.e. never made).  When `name_hash` is given,
 * the same statement clears that name's failed-login records (only when a
 * session was made).  `user_agent` (may be NULL) is stored with the session
 * (session_list.h).
 */
enum session_store_result session_store_create(struct app *app, const char *user_id,
    const char *password_version, const unsigned char *name_hash, const char *user_agent,
    struct session_store_tokens *out);

/*
 * Rotates refresh token `token` (see above).  On SESSION_STORE_OK, `out` holds the
 * pair to hand back and `user` the session's user.  On SESSION_STORE_REUSED the
 * family is revoked, in PostgreSQL and Redis, before this returns.
 */
enum session_store_result session_store_refresh(struct app *app, const char *token,
    struct session_store_tokens *out, struct user *user);

/*
 * Revokes session `sid` (may be NULL) and the session of refresh token
 * `token` (may be NULL), in PostgreSQL then Redis.  SESSION_STORE_OK also when
 * there was nothing live to revoke.
 */
enum session_store_result session_store_logout(struct app *app, const char *sid, const char *token);

/*
 * Stores `new_hash` as the password of `user_id` (a new password_version)
 * and revokes every session of that user, in one transaction; then
 * publishes the revocations.  A login in flight either finishes first (its
 * session is revoked here too) or finds the new version and makes none.
 */
enum session_store_result session_store_change_password(struct app *app, const char *user_id,
    const char *new_hash);

/*
 * Purging, so that nothing grows without bound (no cron job): a bounded
 * batch (SESSION_STORE_PURGE_BATCH rows of each kind, up to SESSION_STORE_PURGE_ROUNDS
 * batches while any is full) of revoked and expired sessions with their
 * refresh tokens, spent tokens past their expiry, sealed successors past
 * the reuse interval, and failed-login rows whose failures have all left
 * the window.  One process at a time (an advisory lock; the others skip).
 */
#define SESSION_STORE_PURGE_KINDS 5
#define SESSION_STORE_PURGE_BATCH 500
#define SESSION_STORE_PURGE_ROUNDS 4
#define SESSION_STORE_PURGE_EVERY_S 60

/*
 * Runs the purge now; `counts` (may be NULL) gets the rows of each kind:
 * revoked sessions, expired sessions, spent tokens, successors, failed-login
 * rows.  0, or -1 when PostgreSQL failed.
 */
int session_store_purge(struct app *app, long counts[SESSION_STORE_PURGE_KINDS]);

/*
 * Leaves the purge for after this request's answer has gone out
 * (app->deferred), at most once per SESSION_STORE_PURGE_EVERY_S per process; a plain
 * CGI process, which serves one request, purges after each.
 */
void session_store_purge_later(struct app *app);

#endif
