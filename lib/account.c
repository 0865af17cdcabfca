/*
 * account.c - see account.h.
 */
#include "account.h"

#include "crypto.h"
#include "kv_cache.h"
#include "log.h"
#include "revocation.h"
#include "user.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum account_result from_db(enum db_status st)
{
	return st == DB_DOWN ? ACCOUNT_DOWN : ACCOUNT_ERROR;
}

/* After the commit: Redis learns of the revocations, the cached record and data go. */
static void publish(struct app *app, const char *user_id, PGresult *res)
{
	int rows = PQntuples(res), n = 0;
	const char **sids = rows > 0 ? calloc((size_t)rows, sizeof(*sids)) : NULL;
	char key[64];
	const char *argv[2] = { "DEL", key };

	for (int i = 0; i < rows && sids != NULL; i++)
		if (strcmp(PQgetvalue(res, i, 0), "s") == 0)
			sids[n++] = PQgetvalue(res, i, 1);
	if (sids != NULL)
		revoke_publish(app, sids, (size_t)n);
	else if (rows > 0)
		redis_fail(&app->redis); /* the next connection replays the revocations */
	free(sids);
	if (redis_conn(&app->redis) != NULL) {
		user_cache_key(user_id, key, sizeof(key));
		freeReplyObject(redis_command_argv(&app->redis, 2, argv, NULL));
	}
	for (int i = 0; i < rows; i++)
		if (strcmp(PQgetvalue(res, i, 0), "k") == 0)
			kv_cache_written(app, user_id, PQgetvalue(res, i, 1),
			    strtoll(PQgetvalue(res, i, 2), NULL, 10), NULL);
}

enum account_result account_delete(struct app *app, const char *user_id, const char *verified_hash,
    const unsigned char *name_hash)
{
	char window[24], name[2 * CRYPTO_SHA256_LEN + 3];
	const char *params[4] = { user_id, verified_hash, window, name };
	PGresult *res;
	enum db_status st;
	cJSON *f;

	snprintf(window, sizeof(window), "%ld", revoke_marker_ttl(&app->cfg));
	db_bytea_param(name_hash, CRYPTO_SHA256_LEN, name);
	if ((st = db_command(&app->db, "BEGIN")) != DB_OK)
		return from_db(st);
	/* The lock first, in a statement of its own: the next one then sees every session. */
	st = db_exec(&app->db,
	    "SELECT 1 FROM users WHERE id = $1::uuid AND password_hash = $2 FOR UPDATE", 2, params,
	    &res, NULL);
	if (st != DB_OK)
		goto failed;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(&app->db);
		return ACCOUNT_CHANGED;
	}
	PQclear(res);
	st = db_exec(&app->db,
	    "WITH tomb AS (INSERT INTO deleted_sessions (id, revoked_at)"
	    "   SELECT id, coalesce(revoked_at, now()) FROM sessions WHERE user_id = $1::uuid"
	    "   AND (revoked_at IS NULL OR revoked_at > now() - make_interval(secs => $3::int))"
	    "   RETURNING id),"
	    " purged AS (DELETE FROM deleted_sessions"
	    "   WHERE revoked_at < now() - make_interval(secs => $3::int)),"
	    " failures AS (DELETE FROM login_failures WHERE name_hash = $4::bytea),"
	    " keys AS (SELECT key, version FROM data_items WHERE user_id = $1::uuid),"
	    " gone AS (DELETE FROM users WHERE id = $1::uuid AND password_hash = $2)"
	    " SELECT 's', id::text, 0::bigint FROM tomb"
	    " UNION ALL SELECT 'k', key, version FROM keys",
	    4, params, &res, NULL);
	if (st != DB_OK)
		goto failed;
	if ((st = db_command(&app->db, "COMMIT")) != DB_OK) {
		PQclear(res);
		return from_db(st);
	}
	publish(app, user_id, res);
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "user_id", user_id);
	cJSON_AddNumberToObject(f, "items", PQntuples(res));
	log_event(LOG_INFO, "account deleted", f);
	PQclear(res);
	return ACCOUNT_OK;
failed:
	db_rollback(&app->db);
	return from_db(st);
}
