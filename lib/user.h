/*
 * user.h - the users store: the one module that reads and writes the users
 * table for the handlers (as kv_store.h is for data), the public face of a
 * user, {"id", "username", "created_at"}, and its Redis copy
 * (`pc:user:<id>`) that lets GET /api/me answer without PostgreSQL.  The
 * three fields never change after registration, so the copy never goes
 * stale; it only expires to keep Redis small.
 *
 * The statements that change a user together with its sessions stay with
 * the transaction they belong to: session_store_create() (the row locked
 * for a login), session_store_change_password(), account_delete().
 */
#ifndef PORTCULLIS_USER_H
#define PORTCULLIS_USER_H

#include "app.h"
#include "password.h"

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

/* What checking a user's password needs. */
struct user_credentials {
	struct user user;
	char password_hash[PW_HASH_MAX];
	char password_version[24]; /* the bigint the hash belongs to, as text */
};

enum user_result {
	USER_OK,
	USER_NOT_FOUND,
	USER_TAKEN, /* user_create(): the name is taken, case-insensitively: 409 */
	USER_DOWN,  /* PostgreSQL unreachable: 503 */
	USER_ERROR, /* 500 */
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

/*
 * Creates user `username` (its exact bytes, already validated) with
 * `password_hash`: USER_OK with `*out`, USER_TAKEN when the name is taken
 * (the unique index on lower(username) decides, so of two racing
 * registrations one wins), USER_DOWN or USER_ERROR.
 */
enum user_result user_create(struct app *app, const char *username, const char *password_hash,
    struct user *out);

/*
 * The credentials of the user named `username`, compared case-insensitively
 * (login): USER_OK with `*out`, USER_NOT_FOUND, USER_DOWN, USER_ERROR.  A
 * row whose fields do not fit `*out` is as absent.
 */
enum user_result user_credentials_by_name(struct app *app, const char *username,
    struct user_credentials *out);

/* The same for user `id` (a password change, an account deletion). */
enum user_result user_credentials_by_id(struct app *app, const char *id,
    struct user_credentials *out);

/*
 * Replaces the password hash of user `id` with `password_hash` (the same
 * password hashed again at another cost) only while its password version is
 * still `version`, so a password changed meanwhile is not overwritten with
 * the old one's.  Best effort: a failure only means trying again next time.
 */
void user_update_hash(struct app *app, const char *id, const char *version,
    const char *password_hash);

#endif
