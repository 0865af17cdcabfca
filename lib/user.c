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
