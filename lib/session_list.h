/*
 * session_list.h - a user's own view of their sessions: list them, end one,
 * end all the others (GET /api/sessions, DELETE /api/sessions[/{id}]).
 *
 * A session is one refresh-token family (session_store.h); its id is the
 * `sid` of every access token it issued.  It is live while it is not
 * revoked and something of it can still be used: its refresh token has not
 * expired, or an access token it issued may not have (its last refresh is
 * younger than an access token's lifetime plus the reuse interval).
 * `last_used_at` is its newest refresh token's creation: its last rotation,
 * else its login.  Nothing is stored for it: every refresh already writes
 * that row.  Ending a session is a logout of it: the same UPDATE, then the
 * revocation is published to Redis (revocation.h).
 */
#ifndef PORTCULLIS_SESSION_LIST_H
#define PORTCULLIS_SESSION_LIST_H

#include "app.h"
#include "validate.h"

#include <cJSON.h>

#define SESSION_LIST_MAX 1000       /* sessions listed at most (the newest) */
#define SESSION_LIST_USER_AGENT_MAX 256 /* bytes of User-Agent kept */

enum session_list_result {
	SESSION_LIST_OK,
	SESSION_LIST_NOT_FOUND, /* not a live session of this user */
	SESSION_LIST_DOWN,      /* PostgreSQL unreachable: 503 */
	SESSION_LIST_ERROR,     /* 500 */
};

/*
 * The first SESSION_LIST_USER_AGENT_MAX bytes of the request's User-Agent, cut back
 * to whole UTF-8 characters (a header that is not UTF-8 is kept up to its
 * first malformed sequence), into `out` (SESSION_LIST_USER_AGENT_MAX + 1 bytes).
 * Returns `out`, or NULL when there is none (absent or empty).
 */
const char *session_list_user_agent(const struct request *req, char *out);

/*
 * The live sessions of `user_id`, newest created_at first, at most
 * SESSION_LIST_MAX: `*sessions` a cJSON array of {"id", "created_at",
 * "last_used_at", "user_agent" (null when none), "current"} (caller owns),
 * `current` true for session `current_sid`.  One query.
 */
enum session_list_result session_list_query(struct app *app, const char *user_id,
    const char *current_sid, cJSON **sessions);

/*
 * Revokes session `sid` of `user_id` when it is live (as by its logout),
 * in PostgreSQL then Redis.  SESSION_LIST_NOT_FOUND when it is not a live session
 * of that user (another user's session is not touched).
 */
enum session_list_result session_list_end(struct app *app, const char *user_id, const char *sid);

/* Revokes every live session of `user_id` but `keep_sid`, in PostgreSQL then Redis. */
enum session_list_result session_list_end_others(struct app *app, const char *user_id,
    const char *keep_sid);

/* 1 when `s` (`len` bytes) is a canonical UUID, 8-4-4-4-12 hex digits. */
int session_list_id_valid(const char *s, size_t len);

/*
 * The {id} of DELETE /api/sessions/{id} as a validation table (validate.h):
 * a session id (session_list_id_valid()), lower-cased as the value.  The route
 * answers a failure as it answers an unknown session (404), not 422.
 */
extern const struct valid_field session_list_id_fields[1];

#endif
