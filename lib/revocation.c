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

int revoke_replay(struct app *app)
{
	struct redis *r = &app->redis;
	char window[24];
	const char *params[1] = { window };
	PGresult *res;
	int rows, rc = 0;

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
	if (rv == NULL || ready == NULL || ready->type != REDIS_REPLY_STRING) {
		/* Redis lost its data under us: ask the record, replay before trusting it again. */
		if (ready != NULL && ready->type == REDIS_REPLY_NIL)
			app->redis.synced = 0;
		return revoke_check_postgres(app, sid);
	}
	return rv->type == REDIS_REPLY_NIL ? REVOKE_LIVE : REVOKE_REVOKED;
}

enum revoke_state revoke_check(struct app *app, const char *sid, const char *extra_key,
    char **extra)
{
	redisContext *c = redis_synced(&app->redis);
	char key[128];
	const char *argv[4] = { "MGET", key, REVOKE_READY_KEY, extra_key };
	redisReply *rep;
	enum revoke_state st;

	if (extra != NULL)
		*extra = NULL;
	if (c == NULL)
		return revoke_check_postgres(app, sid);
	revoke_key(sid, key, sizeof(key));
	rep = redis_command_argv(&app->redis, extra_key != NULL ? 4 : 3, argv, NULL);
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) {
		freeReplyObject(rep);
		return revoke_check_postgres(app, sid);
	}
	st = revoke_from_reply(app, sid, rep->element[0], rep->element[1]);
	if (st != REVOKE_UNAVAILABLE && extra != NULL && extra_key != NULL && rep->elements == 3 &&
	    rep->element[2]->type == REDIS_REPLY_STRING)
		*extra = strndup(rep->element[2]->str, rep->element[2]->len);
	freeReplyObject(rep);
	return st;
}

void revoke_publish(struct app *app, const char *const *sids, size_t n)
{
	redisContext *c;
	long ttl = revoke_marker_ttl(&app->cfg);

	if (n == 0 || (c = redis_conn(&app->redis)) == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		append_set(c, sids[i], ttl);
	if (drain(&app->redis, c, n) != 0)
		redis_fail(&app->redis);
}
