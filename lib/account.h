/*
 * account.h - deleting an account (DELETE /api/me).
 *
 * One transaction: the user's row is locked first (so a login's session
 * insert, which takes a key-share lock on it, is either committed before and
 * seen by the next statement, or waits and then finds no user), then one
 * statement records the ids of its sessions that an access token may still
 * carry in `deleted_sessions` (revocation.h replays them into Redis), clears
 * the name's failed-login records, reads its live data keys and deletes the
 * user, which takes its sessions, refresh tokens and data along (ON DELETE
 * CASCADE).  After the commit, as for a logout: the revocations are
 * published to Redis, the user's cached record is dropped, and each live
 * data key's stamp moves to "deleted" (kv_cache.h), so no cached copy, in
 * Redis or in any process' memory, answers again.
 */
#ifndef PORTCULLIS_ACCOUNT_H
#define PORTCULLIS_ACCOUNT_H

#include "app.h"

enum account_result {
	ACCOUNT_OK,
	ACCOUNT_CHANGED, /* no such user, or its password hash is no longer `verified_hash` */
	ACCOUNT_DOWN,    /* PostgreSQL unreachable: 503 */
	ACCOUNT_ERROR,   /* 500 */
};

/*
 * Deletes user `user_id` if its stored password hash is still
 * `verified_hash` (the one the request's password was checked against);
 * `name_hash` (login_guard_name_hash() of its name) selects its failed-login
 * records.
 */
enum account_result account_delete(struct app *app, const char *user_id, const char *verified_hash,
    const unsigned char *name_hash);

#endif
