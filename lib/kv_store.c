/*
 * kv_store.c - see kv_store.h.
 */
#include "kv_store.h"
#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPDATED_AT_SQL(col) \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static int is_key_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '~' || c == '-';
}

int kv_key_valid(const char *key, size_t len)
{
	if (len == 0 || len > KV_KEY_MAX)
		return 0;
	if ((len == 1 && key[0] == '.') || (len == 2 && key[0] == '.' && key[1] == '.'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_key_char((unsigned char)key[i]))
			return 0;
	return 1;
}

int kv_key_decode(const char *raw, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)raw[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			if ((hi = crypto_hex_digit(raw[i + 1])) < 0 || (lo = crypto_hex_digit(raw[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (!is_key_char((unsigned char)c) || n >= KV_KEY_MAX)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return kv_key_valid(out, n) ? 0 : -1;
}

void kv_parse_etags(const char *header, int weak, int *present, int *any, int *n, long long *v)
{
	const char *p = header;

	*present = header != NULL;
	*any = 0;
	*n = 0;
	if (header == NULL)
		return;
	while (*p != '\0') {
		const char *start;
		long long version = 0;
		int digits = 0, is_weak = 0;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*') {
			*any = 1;
			p++;
			continue;
		}
		if (p[0] == 'W' && p[1] == '/') {
			is_weak = 1;
			p += 2;
		}
		start = p;
		if (*p == '"') {
			for (p++; *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
				version = version * 10 + (*p - '0');
			if (*p == '"' && digits > 0 && (weak || !is_weak) && *n < KV_ETAGS_MAX)
				v[(*n)++] = version;
		}
		/* Skip the rest of this tag, whatever it is; a bare "W/" at the
		 * end leaves p on the NUL, which must not be stepped over. */
		if (p == start && *p != '\0')
			p++;
		while (*p != '\0' && *p != ',')
			p++;
	}
}

static int listed(long long version, int n, const long long *v)
{
	for (int i = 0; i < n; i++)
		if (v[i] == version)
			return 1;
	return 0;
}

/* 1 when the conditions hold for a key that is live at `version` (or absent: live 0). */
static int conditions_hold(const struct kv_cond *c, int live, long long version)
{
	if (c->if_match && (!live || (!c->if_match_any && !listed(version, c->if_match_n, c->if_match_v))))
		return 0;
	if (c->if_none_match && live &&
	    (c->if_none_match_any || listed(version, c->if_none_match_n, c->if_none_match_v)))
		return 0;
	return 1;
}

static enum kv_result from_db(enum db_status st)
{
	return st == DB_DOWN ? KV_DOWN : KV_ERROR;
}

void kv_item_free(struct kv_item *item)
{
	free(item->value);
	item->value = NULL;
	item->value_len = 0;
}

enum kv_result kv_get(struct app *app, const char *user, const char *key, struct kv_item *out)
{
	const char *params[2] = { user, key };
	PGresult *res;
	enum db_status st;
	enum kv_result rc = KV_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	st = db_exec(&app->db,
	    "SELECT value, version, " UPDATED_AT_SQL("updated_at")
	    " FROM data_items WHERE user_id = $1::uuid AND key = $2 AND NOT deleted",
	    2, params, &res, NULL);
	if (st != DB_OK)
		return from_db(st);
	if (PQntuples(res) == 1) {
		size_t len = (size_t)PQgetlength(res, 0, 0);

		snprintf(out->key, sizeof(out->key), "%s", key);
		out->version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		snprintf(out->updated_at, sizeof(out->updated_at), "%s", PQgetvalue(res, 0, 2));
		out->value = malloc(len + 1);
		if (out->value == NULL) {
			rc = KV_ERROR;
		} else {
			memcpy(out->value, PQgetvalue(res, 0, 0), len + 1);
			out->value_len = len;
			rc = KV_OK;
		}
	}
	PQclear(res);
	return rc;
}

/*
 * Inside the write transaction: locks the user's row, then reads the key's
 * state and the user's live key count.  `*live` 0 when absent or deleted.
 */
static enum kv_result lock_and_read(struct app *app, const char *user, const char *key, int *live,
    long long *version, long *count)
{
	const char *params[2] = { user, key };
	PGresult *res;
	enum db_status st;

	/*
	 * The lock first, in a statement of its own: a statement that waited
	 * for the lock still reads with the snapshot it started with, so the
	 * key's state must be read by the next statement (READ COMMITTED takes
	 * a new snapshot each time) to see what the previous writer committed.
	 */
	st = db_exec(&app->db, "SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE", 1, params, &res,
	    NULL);
	if (st != DB_OK)
		return from_db(st);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return KV_ERROR; /* the user is gone */
	}
	PQclear(res);
	st = db_exec(&app->db,
	    "SELECT (SELECT version FROM data_items WHERE user_id = $1::uuid AND key = $2),"
	    " (SELECT NOT deleted FROM data_items WHERE user_id = $1::uuid AND key = $2),"
	    " (SELECT count(*) FROM data_items WHERE user_id = $1::uuid AND NOT deleted)",
	    2, params, &res, NULL);
	if (st != DB_OK)
		return from_db(st);
	*version = PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	*live = !PQgetisnull(res, 0, 1) && strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	*count = strtol(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	return KV_OK;
}

enum kv_result kv_put(struct app *app, const char *user, const char *key, const char *value,
    size_t len, const struct kv_cond *cond, struct kv_item *out)
{
	char size[24];
	const char *params[4] = { user, key, value, size };
	PGresult *res;
	enum db_status st;
	enum kv_result rc;
	long long version;
	long count;
	int live;

	memset(out, 0, sizeof(*out));
	if ((st = db_command(&app->db, "BEGIN")) != DB_OK)
		return from_db(st);
	rc = lock_and_read(app, user, key, &live, &version, &count);
	if (rc != KV_OK)
		goto fail;
	if (!conditions_hold(cond, live, version)) {
		rc = KV_PRECONDITION;
		goto fail;
	}
	if (!live && count >= app->cfg.data_max_keys) {
		rc = KV_QUOTA;
		goto fail;
	}
	/* A text parameter ends at NUL, which valid JSON text never holds. */
	snprintf(size, sizeof(size), "%zu", len);
	st = db_exec(&app->db,
	    "INSERT INTO data_items (user_id, key, value, version, size, deleted, updated_at)"
	    " VALUES ($1::uuid, $2, $3, 1, $4::int, false, now())"
	    " ON CONFLICT (user_id, key) DO UPDATE SET value = EXCLUDED.value,"
	    "   version = data_items.version + 1, size = EXCLUDED.size, deleted = false,"
	    "   updated_at = now()"
	    " RETURNING version, " UPDATED_AT_SQL("updated_at"),
	    4, params, &res, NULL);
	if (st != DB_OK) {
		rc = from_db(st);
		goto fail;
	}
	snprintf(out->key, sizeof(out->key), "%s", key);
	out->version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(out->updated_at, sizeof(out->updated_at), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if ((st = db_command(&app->db, "COMMIT")) != DB_OK)
		return from_db(st);
	return live ? KV_OK : KV_CREATED;
fail:
	db_rollback(&app->db);
	return rc;
}

enum kv_result kv_delete(struct app *app, const char *user, const char *key,
    const struct kv_cond *cond, long long *version)
{
	const char *params[2] = { user, key };
	PGresult *res;
	enum db_status st;
	enum kv_result rc;
	long count;
	int live;

	if ((st = db_command(&app->db, "BEGIN")) != DB_OK)
		return from_db(st);
	rc = lock_and_read(app, user, key, &live, version, &count);
	if (rc != KV_OK)
		goto fail;
	/* If-Match on an absent key is 412, not 404. */
	if (!conditions_hold(cond, live, *version)) {
		rc = KV_PRECONDITION;
		goto fail;
	}
	if (!live) {
		rc = KV_NOT_FOUND;
		goto fail;
	}
	st = db_exec(&app->db,
	    "UPDATE data_items SET deleted = true, value = NULL, size = 0, updated_at = now()"
	    " WHERE user_id = $1::uuid AND key = $2",
	    2, params, &res, NULL);
	if (st != DB_OK) {
		rc = from_db(st);
		goto fail;
	}
	PQclear(res);
	if ((st = db_command(&app->db, "COMMIT")) != DB_OK)
		return from_db(st);
	return KV_OK;
fail:
	db_rollback(&app->db);
	return rc;
}

enum kv_result kv_list(struct app *app, const char *user, const char *after, long limit,
    cJSON **items, int *more)
{
	char lim[24];
	const char *params[3] = { user, after, lim };
	PGresult *res;
	enum db_status st;
	int rows;

	*items = NULL;
	*more = 0;
	snprintf(lim, sizeof(lim), "%ld", limit + 1);
	st = db_exec(&app->db,
	    "SELECT key, version, " UPDATED_AT_SQL("updated_at") ", size FROM data_items"
	    " WHERE user_id = $1::uuid AND NOT deleted AND key > $2"
	    " ORDER BY key LIMIT $3::int",
	    3, params, &res, NULL);
	if (st != DB_OK)
		return from_db(st);
	rows = PQntuples(res);
	*more = rows > limit;
	if (*more)
		rows = (int)limit;
	*items = cJSON_CreateArray();
	for (int i = 0; i < rows && *items != NULL; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "key", PQgetvalue(res, i, 0));
		cJSON_AddNumberToObject(o, "version", (double)strtoll(PQgetvalue(res, i, 1), NULL, 10));
		cJSON_AddStringToObject(o, "updated_at", PQgetvalue(res, i, 2));
		cJSON_AddNumberToObject(o, "size", (double)strtol(PQgetvalue(res, i, 3), NULL, 10));
		cJSON_AddItemToArray(*items, o);
	}
	PQclear(res);
	return *items != NULL ? KV_OK : KV_ERROR;
}
