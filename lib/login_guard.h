/*
 * login_guard.h - the failed-login limit per username: after
 * LOGIN_MAX_FAILURES failures within LOGIN_FAILURE_WINDOW seconds, logins for
 * that name are refused (429) until the window has passed, even with the
 * right password.
 *
 * Failures are rows in PostgreSQL keyed by HMAC-SHA256(IP_HASH_SECRET,
 * "login-name:" || lower(name)), never the name: the count is shared by
 * every process and host, survives restarts, and a leaked table names no
 * one.  The window slides: the lock lifts when the oldest of the last
 * LOGIN_MAX_FAILURES failures leaves it.  Unknown names are counted like
 * known ones, so the limit reveals nothing about which names exist.
 */
#ifndef PORTCULLIS_LOGIN_GUARD_H
#define PORTCULLIS_LOGIN_GUARD_H

#include "app.h"
#include "crypto.h"

/* The keyed hash of a username (case-folded, ASCII).  0, or -1. */
int guard_name_hash(const struct config *cfg, const char *username,
    unsigned char out[CRYPTO_SHA256_LEN]);

/*
 * Whether the name is locked now; when it is, `*retry_after` is the number
 * of seconds until it is not.  DB_OK, or DB_DOWN / DB_ERROR.
 */
enum db_status guard_check(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN],
    int *locked, long *retry_after);

/* Records one failure (and prunes this name's rows older than the window). */
enum db_status guard_fail(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN]);

/* Forgets the name's failures after a success. */
enum db_status guard_reset(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN]);

#endif
