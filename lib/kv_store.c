/*
 * kv_store.c - see kv_store.h.
 */
#include "kv_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bigint[] literal of ETAG_LIST_MAX versions of up to 18 digits: "{v,v,...}". */
#define COND_LIST_MAX (ETAG_LIST_MAX * 19 + 3)

#define UPDATED_AT_SQL(col) \
	"to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

static enum kv_store_result from_db(enum db_status st)
{
	return st == DB_DOWN ? KV_STORE_DOWN : KV_STORE_ERROR;
}

void kv_store_item_free(struct kv_store_item *item)
{
	free(item->value);
	item->value = NULL;
	item->value_len = 0;
}

/*
 * The parameters of one condition header: `list` a bigint[] literal of
 * its versions ("{3,4}", "{}" when none is ours), or NULL when the header
 * is absent; `any` "t" for `*`.
 */
static void cond_params(int present, int any, int n, const long long *v, char *list, size_t size,
    const char **list_param, const char **any_param)
{
	size_t used = 0;

	*any_param = any ? "t" : "f";
	*list_param = NULL;
	if (!present)
		return;
	list[used++] = '{';
	for (int i = 0; i < n && i < ETAG_LIST_MAX; i++) {
		/* room kept for the closing brace and the NUL */
		int w = snprintf(list + used, size - used - 1, "%s%lld", i > 0 ? "," : "", v[i]);

		if (w < 0 || (size_t)w >= size - used - 1)
			break; /* cannot happen: COND_LIST_MAX fits ETAG_LIST_MAX tags */
		used += (size_t)w;
	}
	list[used] = '}';
	list[used + 1] = '\0';
	*list_param = list;
}

enum kv_store_result kv_store_get(struct app *app, const char *user, const char *key,
    struct kv_store_item *out)
{
	const char *params[2] = { user, key };
	PGresult *res;
	enum db_status st;
	enum kv_store_result rc = KV_STORE_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	st = db_exec(&app->db,
	    "SELECT value, version, " UPDATED_AT_SQL("updated_at")
	    " FROM data_items WHERE user_id = $1::uuid AND key = $2",
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
			rc = KV_STORE_ERROR;
		} else {
			memcpy(out->value, PQgetvalue(res, 0, 0), len + 1);
			out->value_len = len;
			rc = KV_STORE_OK;
		}
	}
	PQclear(res);
	return rc;
}

/* The conditions of `cond` as parameters [0..3] of data_put / data_delete. */
static void cond_all_params(const struct etag_cond *cond, char im[COND_LIST_MAX],
    char inm[COND_LIST_MAX], const char **params)
{
	cond_params(cond->if_match, cond->if_match_any, cond->if_match_n, cond->if_match_v, im,
	    COND_LIST_MAX, &params[0], &params[1]);
	cond_params(cond->if_none_match, cond->if_none_match_any, cond->if_none_match_n,
	    cond->if_none_match_v, inm, COND_LIST_MAX, &params[2], &params[3]);
}

/* What a write function's status means; a list ends with a NULL status. */
struct write_status {
	const char *status;
	enum kv_store_result result;
};

static const struct write_status put_statuses[] = {
	{ "created", KV_STORE_CREATED },
	{ "replaced", KV_STORE_OK },
	{ "precondition", KV_STORE_PRECONDITION },
	{ "quota", KV_STORE_QUOTA },
	{ NULL, KV_STORE_ERROR },
};

static const struct write_status delete_statuses[] = {
	{ "deleted", KV_STORE_OK },
	{ "not_found", KV_STORE_NOT_FOUND },
	{ "precondition", KV_STORE_PRECONDITION },
	{ NULL, KV_STORE_ERROR },
};

/* The result `status` stands for in `map`; KV_STORE_ERROR when it is not there. */
static enum kv_store_result write_result(const struct write_status *map, const char *status)
{
	for (; map->status != NULL; map++)
		if (strcmp(map->status, status) == 0)
			return map->result;
	return KV_STORE_ERROR;
}

/*
 * The write functions' statements, prepared once per connection (db.h): a
 * write then costs the server no parsing or planning, about a fifth of its
 * CPU for a replace (docs/performance.md).
 */
static struct db_stmt put_stmt = { .name = "portcullis_data_put",
	.sql = "SELECT status, version, updated_at FROM data_put($1::uuid, $2, $3, $4::int, $5::int,"
	       " $6::bigint[], $7::bool, $8::bigint[], $9::bool)",
	.nparams = 9 };

static struct db_stmt delete_stmt = { .name = "portcullis_data_delete",
	.sql = "SELECT status, version FROM data_delete($1::uuid, $2, $3::bigint[], $4::bool,"
	       " $5::bigint[], $6::bool, $7::int)",
	.nparams = 7 };

/*
 * Runs one of the write functions (sql/004), whose first column is its
 * status, and maps that through `map`.  On a success that carries a row
 * (KV_STORE_OK, KV_STORE_CREATED) `*res` is it, for the caller to read and PQclear();
 * otherwise `*res` is NULL.
 */
static enum kv_store_result run_write(struct app *app, struct db_stmt *stmt,
    const char *const *params, const struct write_status *map, PGresult **res)
{
	enum db_status st = db_exec_stmt(&app->db, stmt, params, res, NULL);
	enum kv_store_result rc;

	if (st != DB_OK) {
		*res = NULL;
		return from_db(st);
	}
	rc = PQntuples(*res) == 1 && !PQgetisnull(*res, 0, 0)
	    ? write_result(map, PQgetvalue(*res, 0, 0))
	    : KV_STORE_ERROR;
	if (rc != KV_STORE_OK && rc != KV_STORE_CREATED) {
		PQclear(*res);
		*res = NULL;
	}
	return rc;
}

enum kv_store_result kv_store_put(struct app *app, const char *user, const char *key,
    const char *value, size_t len, const struct etag_cond *cond, struct kv_store_item *out)
{
	char size[24], max[24], im[COND_LIST_MAX], inm[COND_LIST_MAX];
	const char *params[9] = { user, key, value, size, max };
	PGresult *res;
	enum kv_store_result rc;

	memset(out, 0, sizeof(*out));
	/* A text parameter ends at NUL, which valid JSON text never holds. */
	snprintf(size, sizeof(size), "%zu", len);
	snprintf(max, sizeof(max), "%ld", app->cfg.data_max_keys);
	cond_all_params(cond, im, inm, &params[5]);
	/* One statement, one round trip: the whole decision is data_put's (sql/004). */
	rc = run_write(app, &put_stmt, params, put_statuses, &res);
	if (res != NULL) {
		snprintf(out->key, sizeof(out->key), "%s", key);
		out->version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		snprintf(out->updated_at, sizeof(out->updated_at), "%s", PQgetvalue(res, 0, 2));
		PQclear(res);
	}
	return rc;
}

enum kv_store_result kv_store_delete(struct app *app, const char *user, const char *key,
    const struct etag_cond *cond, long long *version)
{
	char max[24], im[COND_LIST_MAX], inm[COND_LIST_MAX];
	const char *params[7] = { user, key, NULL, NULL, NULL, NULL, max };
	PGresult *res;
	enum kv_store_result rc;

	*version = 0;
	/* The tombstone budget is the key quota: at most 2 x DATA_MAX_KEYS rows a user. */
	snprintf(max, sizeof(max), "%ld", app->cfg.data_max_keys);
	cond_all_params(cond, im, inm, &params[2]);
	rc = run_write(app, &delete_stmt, params, delete_statuses, &res);
	if (res != NULL) {
		*version = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
		PQclear(res);
	}
	return rc;
}

enum kv_store_result kv_store_list(struct app *app, const char *user, const char *after, long limit,
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
	    " WHERE user_id = $1::uuid AND key > $2"
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
	return *items != NULL ? KV_STORE_OK : KV_STORE_ERROR;
}
