/*
 * revocation.h - whether a session (and so every access token carrying its
 * `sid`) has been revoked: by logout, refresh-token reuse, a password
 * change, the user ending it, or the account's deletion (its row is then
 * gone, which the record reads as revoked, and `deleted_sessions` keeps its
 * id for the replay).
 *
 * PostgreSQL is the record (sessions.revoked_at); Redis is the fast path
 * (`pc:rv:<sid>`, kept as long as an access token of that session can live).
 * A revocation is written to PostgreSQL first, then to Redis.  Redis can
 * miss one - it was down, or restarted empty or from an old snapshot - and
 * every such case breaks the process' connection, so every fresh Redis
 * connection of a responder that checks tokens (or reports who decides:
 * health) first replays the revocations of the last access-token lifetime
 * from PostgreSQL (its redis_connect_hook, app.h) before it answers a check.
 * Until that replay has succeeded, and while Redis is down, checks go to
 * PostgreSQL.  So a revocation holds at once, on every process and host,
 * through a Redis restart and while Redis is down.
 *
 * A Redis that may evict keys would lose markers while the ready key stays:
 * every fresh connection reads `CONFIG GET maxmemory-policy` first, and
 * unless it is `noeviction` (an evicting policy, or CONFIG refused), Redis
 * is not asked about revocation at all - PostgreSQL decides every check -
 * and a warning is logged.  A policy changed with CONFIG SET is seen on the
 * next connection.
 */
#ifndef PORTCULLIS_REVOCATION_H
#define PORTCULLIS_REVOCATION_H

#include "app.h"

#include <stddef.h>

#define REVOKE_KEY_PREFIX "pc:rv:"
/*
 * Set by every replay, never expiring: when it is missing, Redis has lost
 * its data (FLUSHALL, a restart without persistence) without breaking our
 * connection, so its silence about a session proves nothing - the check
 * goes to PostgreSQL and the next request replays.
 */
#define REVOKE_READY_KEY "pc:rv:ready"

enum revoke_state {
	REVOKE_LIVE,
	REVOKE_REVOKED,
	REVOKE_UNAVAILABLE, /* neither Redis (in sync) nor PostgreSQL answered */
};

/*
 * Replays the revocations of the last access-token lifetime from
 * PostgreSQL into a fresh Redis connection (a responder's
 * redis_connect_hook, app.h).  0, or -1 (to be retried before Redis is
 * trusted).
 */
int revoke_replay(struct app *app);

/*
 * The state from the replies to `GET <revocation key>` and `GET
 * REVOKE_READY_KEY` (either may be NULL when Redis did not answer).
 */
enum revoke_state revoke_from_reply(struct app *app, const char *sid, const redisReply *rv,
    const redisReply *ready);

/* The record's answer (PostgreSQL), for when Redis cannot give it. */
enum revoke_state revoke_check_postgres(struct app *app, const char *sid);

/* The Redis key of session `sid`'s revocation marker into `key` (>= 96 bytes). */
void revoke_key(const char *sid, char *key, size_t keylen);

/*
 * Publishes revocations already committed to PostgreSQL to Redis (one
 * pipelined round trip).  Failure is not an error: the connection is
 * dropped and the next one replays them.
 */
void revoke_publish(struct app *app, const char *const *sids, size_t n);

/*
 * Who decides revocation checks in this process now: "redis" (in sync, and
 * its policy keeps every key) or "postgres" (Redis down, not in sync, or it
 * may evict).  For /api/ready.
 */
const char *revoke_decided_by(struct app *app);

/* Seconds a revocation marker must outlive: every access token of the session. */
long revoke_marker_ttl(const struct config *cfg);

#endif
