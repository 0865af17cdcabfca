/*
 * revocation.c - see revocation.h.
 */
#include "revocation.h"

#include "log.h"
#include "token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_BATCH 500

long revoke_marker_ttl(const struct config *cfg)
{
	return cfg->access_token_ttl + TOKEN_LEEWAY_S + 60;
}

/* Appends `SET pc:rv:<sid> 1 EX ttl` to the pipeline. */
static void append_set(redisContext *c, const char *sid, long ttl)
{
	char key[128], ttltext[24];

	snprintf(key, sizeof(key), REVOKE_KEY_PREFIX "%s", sid);
	snprintf(ttltext, sizeof(ttltext), "%ld", ttl > 0 ? ttl : 1);
	redisAppendCommand(c, "SET %s 1 EX %s", key, ttltext);
}

/* Reads `n` pipelined replies; 0 when all were fine. */
static int drain(struct redis *r, redisContext *c, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		redisReply *rep = NULL;

		if (redisGetReply(c, (void **)&rep) != REDIS_OK) {
			redis_fail(r);
			return -1;
		}
		if (rep->type == REDIS_REPLY_ERROR)
			rc = -1;
		freeReplyObject(rep);
	}
	return rc;
}

/*
 * What this process knows of the server's eviction policy: whether Redis
 * may answer for revocations (set on every fresh connection).
 */
static int redis_trusted;
static char seen_policy[32] = "";

/*
 * Reads `CONFIG GET maxmemory-policy` on a fresh connection.  Only
 * `noeviction` keeps every marker: any other policy may evict them (the
 * markers carry a TTL, so volatile-* ones too) while the never-expiring
 * ready key stays.  A server that refuses CONFIG (renamed, ACL) is not
 * trusted either.  Logs a warning when the verdict changes to "do not trust".
 * Returns 0, or -1 when the connection broke.
 */
static int read_policy(struct redis *r)
{
	const char *argv[3] = { "CONFIG", "GET", "maxmemory-policy" };
	redisReply *rep = redisCommandArgv(r->ctx, 3, argv, NULL);
	char policy[32];
	int trusted;

	if (rep == NULL) {
		redis_fail(r);
		return -1;
	}
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
	    rep->element[1]->type == REDIS_REPLY_STRING)
		snprintf(policy, sizeof(policy), "%.*s", (int)rep->element[1]->len, rep->element[1]->str);
	else
		snprintf(policy, sizeof(policy), "unknown");
	freeReplyObject(rep);
	trusted = strcmp(policy, "noeviction") == 0;
	if (!trusted && (redis_trusted || strcmp(policy, seen_policy) != 0)) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "backend", "redis");
		cJSON_AddStringToObject(f, "maxmemory_policy", policy);
		log_event(LOG_WARN,
		    "redis may evict revocation markers (maxmemory-policy is not noeviction, or "
		    "CONFIG GET is refused): PostgreSQL decides revocation",
		    f);
	} else if (trusted && !redis_trusted && seen_policy[0] != '\0') {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "backend", "redis");
		cJSON_AddStringToObject(f, "maxmemory_policy", policy);
		log_event(LOG_INFO, "redis keeps every key: it answers for revocation again", f);
	}
	snprintf(seen_policy, sizeof(seen_policy), "%s", policy);
	redis_trusted = trusted;
	return 0;
}

const char *revoke_decided_by(struct app *app)
{
	return redis_synced(&app->redis) != NULL && redis_trusted ? "redis" : "postgres";
}

int revoke_replay(struct app *app)
{
	struct redis *r = &app->redis;
	char window[24];
	const char *params[1] = { window };
	PGresult *res;
	int rows, rc = 0;

	if (read_policy(r) != 0)
		return -1;

	snprintf(window, sizeof(window), "%ld", revoke_marker_ttl(&app->cfg));
	if (db_exec(&app->db,
		"SELECT id::text, ceil(extract(epoch FROM revoked_at + make_interval(secs => $1::int)"
		" - now()))::bigint FROM sessions"
		" WHERE revoked_at > now() - make_interval(secs => $1::int)"
		/* The sessions of deleted accounts (account.h). */
		" UNION ALL SELECT id::text, ceil(extract(epoch FROM revoked_at"
		" + make_interval(secs => $1::int) - now()))::bigint FROM deleted_sessions"
		" WHERE revoked_at > now() - make_interval(secs => $1::int)",
		1, params, &res, NULL) != DB_OK)
		return -1;
	rows = PQntuples(res);
	for (int i = 0; i < rows && rc == 0; i += REPLAY_BATCH) {
		int end = i + REPLAY_BATCH < rows ? i + REPLAY_BATCH : rows;

		for (int j = i; j < end; j++)
			append_set(r->ctx, PQgetvalue(res, j, 0), strtol(PQgetvalue(res, j, 1), NULL, 10));
		rc = drain(r, r->ctx, (size_t)(end - i));
	}
	PQclear(res);
	if (rc == 0) {
		redisAppendCommand(r->ctx, "SET %s 1", REVOKE_READY_KEY);
		rc = drain(r, r->ctx, 1);
	}
	if (rc == 0 && rows > 0) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddNumberToObject(f, "sessions", rows);
		log_event(LOG_INFO, "revocations replayed into redis", f);
	}
	return rc;
}

void revoke_key(const char *sid, char *key, size_t keylen)
{
	snprintf(key, keylen, REVOKE_KEY_PREFIX "%s", sid);
}


enum revoke_state revoke_check_postgres(struct app *app, const char *sid)
{
	const char *params[1] = { sid };
	PGresult *res;
	enum revoke_state st;

	if (db_exec(&app->db, "SELECT revoked_at IS NULL FROM sessions WHERE id = $1::uuid", 1,
		params, &res, NULL) != DB_OK)
		return REVOKE_UNAVAILABLE;
	st = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? REVOKE_LIVE
									     : REVOKE_REVOKED;
	PQclear(res);
	return st;
}

enum revoke_state revoke_from_reply(struct app *app, const char *sid, const redisReply *rv,
    const redisReply *ready)
{
	/* A Redis that may evict markers is asked nothing about revocation. */
	if (!redis_trusted)
		return revoke_check_postgres(app, sid);
	if (rv == NULL || ready == NULL || ready->type != REDIS_REPLY_STRING) {
		/* Redis lost its data under us: ask the record, replay before trusting it again. */
		if (ready != NULL && ready->type == REDIS_REPLY_NIL)
			app->redis.synced = 0;
		return revoke_check_postgres(app, sid);
	}
	return rv->type == REDIS_REPLY_NIL ? REVOKE_LIVE : REVOKE_REVOKED;
}

void revoke_publish(struct app *app, const char *const *sids, size_t n)
{
	redisContext *c;
	long ttl = revoke_marker_ttl(&app->cfg);

	if (n == 0)
		return;
	/*
	 * A second try on a fresh connection, at once: in a failover other
	 * processes may already trust a new master this one has not found yet
	 * (a fresh connection replays from PostgreSQL first, these included).
	 */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (attempt == 1)
			redis_retry_now(&app->redis);
		if ((c = redis_conn(&app->redis)) == NULL)
			continue;
		for (size_t i = 0; i < n; i++)
			append_set(c, sids[i], ttl);
		if (drain(&app->redis, c, n) == 0)
			return;
		redis_fail(&app->redis);
	}
}
