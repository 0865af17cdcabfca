/*
 * session_reply.h - the answer that hands a session's tokens to a client,
 * shared by login and refresh: {"user", "access_token_expires_at",
 * "refresh_token_expires_at"} plus, for the bearer transport, "token_type",
 * "access_token", "expires_in" and "refresh_token"; for the cookie
 * transport, the two cookies instead.
 */
#ifndef PORTCULLIS_SESSION_REPLY_H
#define PORTCULLIS_SESSION_REPLY_H

#include "session_store.h"
#include "user.h"

/* Answers 200 with `t` for `u`; `bearer` picks the transport. */
void session_reply_tokens(struct ctx *c, const struct session_store_tokens *t, const struct user *u,
    int bearer);

/* RFC 3339 UTC ("2026-11-21T10:18:31Z") of unix time `t` into `out` (>= 32 bytes). */
void session_reply_rfc3339(long t, char *out, size_t outlen);

#endif
