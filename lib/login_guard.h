/*
 * login_guard.h - the failed-login limit per username: after
 * LOGIN_MAX_FAILURES failures within LOGIN_FAILURE_WINDOW seconds, logins for
 * that name are refused (429) until the window has passed, even with the
 * right password.
 *
 * Failures are kept in PostgreSQL, one row per name keyed by
 * HMAC-SHA256(IP_HASH_SECRET, "login-name:" || lower(name)), never the name,
 * holding the times of its recent failures: the count is shared by
 * every process and host, survives restarts, and a leaked table names no
 * one.  The window slides: the lock lifts when the oldest of the last
 * LOGIN_MAX_FAILURES failures leaves it.  Unknown names are counted like
 * known ones, so the limit reveals nothing about which names exist.  A
 * failure is decided and recorded in one statement on the name's locked
 * row, so parallel attempts count exactly up to the limit.
 */
#ifndef PORTCULLIS_LOGIN_GUARD_H
#define PORTCULLIS_LOGIN_GUARD_H

#include "app.h"
#include "crypto.h"

/* The keyed hash of a username (case-folded, ASCII).  0, or -1. */
int login_guard_name_hash(const struct config *cfg, const char *username,
    unsigned char out[CRYPTO_SHA256_LEN]);

/*
 * Whether the name is locked now; when it is, `*retry_after` is the number
 * of seconds until it is not.  DB_OK, or DB_DOWN / DB_ERROR.
 */
enum db_status login_guard_check(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN],
    int *locked, long *retry_after);

/*
 * Decides and records one failure in one statement: when fewer than
 * LOGIN_MAX_FAILURES failures of the name are in the window, it is recorded
 * (older ones are dropped) and `*locked` is 0; else nothing is recorded,
 * `*locked` is 1 and `*retry_after` says when the lock lifts (>= 1): the
 * attempt was made while the name was locked (a concurrent failure got
 * there first) and is answered as refused.  DB_OK, or DB_DOWN / DB_ERROR.
 */
enum db_status login_guard_record(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN],
    int *locked, long *retry_after);

/* login_guard_record() for a caller that does not tell a refused attempt apart. */
enum db_status login_guard_fail(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN]);

/* Forgets the name's failures after a success. */
enum db_status login_guard_reset(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN]);

#endif
