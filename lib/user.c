/*
 * user.c - see user.h.
 */
#include "user.h"

#include <stdio.h>
#include <string.h>

static int copy(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n == 0 || n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int user_set(struct user *u, const char *id, const char *username, const char *created_at)
{
	if (copy(u->id, sizeof(u->id), id) != 0 ||
	    copy(u->username, sizeof(u->username), username) != 0 ||
	    copy(u->created_at, sizeof(u->created_at), created_at) != 0)
		return -1;
	return 0;
}

cJSON *user_json(const struct user *u)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddStringToObject(o, "id", u->id) ||
	    !cJSON_AddStringToObject(o, "username", u->username) ||
	    !cJSON_AddStringToObject(o, "created_at", u->created_at)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int user_parse(const char *json, struct user *u)
{
	cJSON *o = cJSON_Parse(json);
	int rc = -1;

	if (cJSON_IsObject(o))
		rc = user_set(u, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "id")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "username")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "created_at")));
	cJSON_Delete(o);
	return rc;
}

void user_cache_key(const char *id, char *key, size_t keylen)
{
	snprintf(key, keylen, USER_CACHE_PREFIX "%s", id);
}

void user_cache_put(struct app *app, const struct user *u)
{
	cJSON *o = user_json(u);
	char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	char key[64], ttl[16];
	const char *argv[5] = { "SET", key, text, "EX", ttl };
	redisReply *rep;

	cJSON_Delete(o);
	if (text == NULL || redis_conn(&app->redis) == NULL) {
		cJSON_free(text);
		return;
	}
	user_cache_key(u->id, key, sizeof(key));
	snprintf(ttl, sizeof(ttl), "%d", USER_CACHE_TTL_S);
	rep = redis_command_argv(&app->redis, 5, argv, NULL);
	freeReplyObject(rep);
	cJSON_free(text);
}

enum db_status user_load(struct app *app, const char *id, struct user *u, int *found)
{
	const char *params[1] = { id };
	PGresult *res;
	enum db_status st;

	*found = 0;
	st = db_exec(&app->db,
	    "SELECT id::text, username, " USER_CREATED_AT_SQL("created_at")
	    " FROM users WHERE id = $1::uuid",
	    1, params, &res, NULL);
	if (st != DB_OK)
		return st;
	if (PQntuples(res) == 1 &&
	    user_set(u, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)) == 0)
		*found = 1;
	PQclear(res);
	return DB_OK;
}

static enum user_result from_db(enum db_status st)
{
	return st == DB_DOWN ? USER_DOWN : USER_ERROR;
}

enum user_result user_create(struct app *app, const char *username, const char *password_hash,
    struct user *out)
{
	const char *params[2] = { username, password_hash };
	char sqlstate[6];
	PGresult *res;
	enum db_status st;
	enum user_result rc;

	st = db_exec(&app->db,
	    "INSERT INTO users (username, password_hash) VALUES ($1, $2)"
	    " RETURNING id::text, username, " USER_CREATED_AT_SQL("created_at"),
	    2, params, &res, sqlstate);
	if (st == DB_ERROR && strcmp(sqlstate, "23505") == 0)
		return USER_TAKEN;
	if (st != DB_OK)
		return from_db(st);
	rc = PQntuples(res) == 1 &&
		user_set(out, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)) == 0
	    ? USER_OK
	    : USER_ERROR;
	PQclear(res);
	return rc;
}

/* Runs a one-parameter SELECT of the credentials' five columns. */
static enum user_result credentials(struct app *app, const char *sql, const char *param,
    struct user_credentials *out)
{
	const char *params[1] = { param };
	PGresult *res;
	enum db_status st;
	enum user_result rc = USER_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	if ((st = db_exec(&app->db, sql, 1, params, &res, NULL)) != DB_OK)
		return from_db(st);
	if (PQntuples(res) == 1 &&
	    user_set(&out->user, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)) ==
		0 &&
	    copy(out->password_hash, sizeof(out->password_hash), PQgetvalue(res, 0, 3)) == 0 &&
	    copy(out->password_version, sizeof(out->password_version), PQgetvalue(res, 0, 4)) == 0)
		rc = USER_OK;
	PQclear(res);
	if (rc != USER_OK)
		memset(out, 0, sizeof(*out));
	return rc;
}

#define CREDENTIALS_SQL \
	"SELECT id::text, username, " USER_CREATED_AT_SQL("created_at") ", password_hash," \
	" password_version::text FROM users"

enum user_result user_credentials_by_name(struct app *app, const char *username,
    struct user_credentials *out)
{
	return credentials(app, CREDENTIALS_SQL " WHERE lower(username) = lower($1)", username, out);
}

enum user_result user_credentials_by_id(struct app *app, const char *id,
    struct user_credentials *out)
{
	return credentials(app, CREDENTIALS_SQL " WHERE id = $1::uuid", id, out);
}

void user_update_hash(struct app *app, const char *id, const char *version,
    const char *password_hash)
{
	const char *params[3] = { id, password_hash, version };
	PGresult *res;

	if (db_exec(&app->db, "UPDATE users SET password_hash = $2, updated_at = now()"
			      " WHERE id = $1::uuid AND password_version = $3::bigint",
		3, params, &res, NULL) == DB_OK)
		PQclear(res);
}
