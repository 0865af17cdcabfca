/*
 * user.h - the public face of a user, {"id", "username", "created_at"}, and
 * its Redis copy (`pc:user:<id>`) that lets GET /api/me answer without
 * PostgreSQL.  The three fields never change after registration, so the
 * copy never goes stale; it only expires to keep Redis small.
 */
#ifndef PORTCULLIS_USER_H
#define PORTCULLIS_USER_H

#include "app.h"

#include <cJSON.h>

#define USER_CACHE_PREFIX "pc:user:"
#define USER_CACHE_TTL_S 86400
/* The SQL expression that renders created_at as RFC 3339 UTC. */
#define USER_CREATED_AT_SQL(col) \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

struct user {
	char id[37];
	char username[33];
	char created_at[32];
};

/* Fills `u` from three strings; -1 if any does not fit or is empty. */
int user_set(struct user *u, const char *id, const char *username, const char *created_at);

/* {"id", "username", "created_at"}; NULL when out of memory. */
cJSON *user_json(const struct user *u);

/* Parses the cached JSON form back into `u`; 0, or -1 when malformed. */
int user_parse(const char *json, struct user *u);

/* The Redis key of user `id` into `key` (>= 64 bytes). */
void user_cache_key(const char *id, char *key, size_t keylen);

/* Stores `u` in Redis (best effort: a failure only costs a later query). */
void user_cache_put(struct app *app, const struct user *u);

/* Loads user `id` from PostgreSQL: DB_OK with `*found` set, or DB_DOWN / DB_ERROR. */
enum db_status user_load(struct app *app, const char *id, struct user *u, int *found);

#endif
