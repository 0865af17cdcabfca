/*
 * test_kv_store.c - unit tests of lib/kv_store.c without a PostgreSQL
 * server: the statements' parameters (sizes, quota, the condition arrays)
 * and how each answer of data_put / data_delete / the reads becomes a
 * kv_store_result and an item.
 *
 * The file includes kv_store.c itself (as lighttpd's src/t does) with
 * db_exec() replaced by fake_db.h's, which records what it was asked and
 * answers with a result libpq builds on the client side, or DB_DOWN /
 * DB_ERROR.  The sanitized build's leak check covers every path that must
 * PQclear() the result.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

#define db_exec fake_db_exec
#define db_exec_stmt fake_db_exec_stmt
#include "kv_store.c"
#undef db_exec
#undef db_exec_stmt

#include "fake_db.h"

static struct app app;
static const struct etag_cond no_cond;

/* kv_store_put() of "[1]" under "k" after the fake got `status` (and a version). */
static enum kv_store_result put_answered(const char *status, struct kv_store_item *item)
{
	fake_db_answer(DB_OK, 3, 1);
	fake_db.cells[0][0] = status;
	fake_db.cells[0][1] = "7";
	fake_db.cells[0][2] = "2026-01-02T03:04:05.678Z";
	return kv_store_put(&app, "u", "k", "[1]", 3, &no_cond, item);
}

static enum kv_store_result delete_answered(const char *status, long long *version)
{
	fake_db_answer(DB_OK, 2, 1);
	fake_db.cells[0][0] = status;
	fake_db.cells[0][1] = "9";
	return kv_store_delete(&app, "u", "k", &no_cond, version);
}

static void test_cond_params(void)
{
	char list[COND_LIST_MAX], want[COND_LIST_MAX];
	const char *lp, *ap;
	long long v[ETAG_LIST_MAX] = { 0 };
	size_t used = 0;

	cond_params(0, 0, 0, v, list, sizeof(list), &lp, &ap);
	CHECK_MSG(lp == NULL && strcmp(ap, "f") == 0, "an absent header: a NULL list");
	cond_params(1, 1, 0, v, list, sizeof(list), &lp, &ap);
	CHECK_MSG(lp != NULL && strcmp(lp, "{}") == 0 && strcmp(ap, "t") == 0, "`*`: {} and t");
	v[0] = 3;
	v[1] = 40;
	cond_params(1, 0, 2, v, list, sizeof(list), &lp, &ap);
	CHECK_STR(lp, "{3,40}");
	/* The longest list: ETAG_LIST_MAX versions of 18 digits, not cut. */
	want[used++] = '{';
	for (int i = 0; i < ETAG_LIST_MAX; i++) {
		v[i] = 999999999999999999LL - i;
		used += (size_t)snprintf(want + used, sizeof(want) - used, "%s%lld", i ? "," : "", v[i]);
	}
	snprintf(want + used, sizeof(want) - used, "}");
	cond_params(1, 0, ETAG_LIST_MAX, v, list, sizeof(list), &lp, &ap);
	CHECK_STR(lp, want);
	cond_params(1, 0, ETAG_LIST_MAX + 5, v, list, sizeof(list), &lp, &ap);
	CHECK_MSG(lp != NULL && strcmp(lp, want) == 0, "no more than ETAG_LIST_MAX versions are read");
}

static void test_put(void)
{
	struct kv_store_item item;
	struct etag_cond cond;

	CHECK(put_answered("created", &item) == KV_STORE_CREATED);
	CHECK(item.version == 7 && strcmp(item.key, "k") == 0 && item.value == NULL);
	CHECK_STR(item.updated_at, "2026-01-02T03:04:05.678Z");
	CHECK_MSG(fake_db.nparams == 9 && strstr(fake_db.sql, "data_put(") != NULL, "one call of data_put");
	CHECK_MSG(strcmp(fake_db.params[2], "[1]") == 0 && strcmp(fake_db.params[3], "3") == 0 &&
		strcmp(fake_db.params[4], "250") == 0,
	    "the value, its size and DATA_MAX_KEYS are passed");
	CHECK_MSG(fake_db.param_null[5] && strcmp(fake_db.params[6], "f") == 0 && fake_db.param_null[7] &&
		strcmp(fake_db.params[8], "f") == 0,
	    "no condition: NULL lists");
	CHECK(put_answered("replaced", &item) == KV_STORE_OK && item.version == 7);
	CHECK(put_answered("precondition", &item) == KV_STORE_PRECONDITION && item.version == 0);
	CHECK(put_answered("quota", &item) == KV_STORE_QUOTA && item.version == 0);
	CHECK_MSG(put_answered("not_found", &item) == KV_STORE_ERROR, "a put never answers not_found");
	CHECK_MSG(put_answered("", &item) == KV_STORE_ERROR, "an unknown status is an error");
	CHECK_MSG(put_answered(NULL, &item) == KV_STORE_ERROR, "a NULL status is an error");

	fake_db_answer(DB_OK, 3, 0);
	CHECK_MSG(kv_store_put(&app, "u", "k", "1", 1, &no_cond, &item) == KV_STORE_ERROR,
	    "no row is an error");
	fake_db_answer(DB_DOWN, 0, 0);
	CHECK(kv_store_put(&app, "u", "k", "1", 1, &no_cond, &item) == KV_STORE_DOWN);
	fake_db_answer(DB_ERROR, 0, 0);
	CHECK(kv_store_put(&app, "u", "k", "1", 1, &no_cond, &item) == KV_STORE_ERROR);

	memset(&cond, 0, sizeof(cond));
	cond.if_match = 1;
	cond.if_match_n = 2;
	cond.if_match_v[0] = 4;
	cond.if_match_v[1] = 5;
	cond.if_none_match = 1;
	cond.if_none_match_any = 1;
	fake_db_answer(DB_OK, 3, 1);
	fake_db.cells[0][0] = "precondition";
	CHECK(kv_store_put(&app, "u", "k", "1", 1, &cond, &item) == KV_STORE_PRECONDITION);
	CHECK_MSG(strcmp(fake_db.params[5], "{4,5}") == 0 && strcmp(fake_db.params[6], "f") == 0 &&
		strcmp(fake_db.params[7], "{}") == 0 && strcmp(fake_db.params[8], "t") == 0,
	    "If-Match \"4\", \"5\" and If-None-Match * as $6..$9");
}

static void test_delete(void)
{
	struct etag_cond cond;
	long long version = -1;

	CHECK(delete_answered("deleted", &version) == KV_STORE_OK && version == 9);
	CHECK_MSG(fake_db.nparams == 7 && strstr(fake_db.sql, "data_delete(") != NULL &&
		strcmp(fake_db.params[6], "250") == 0 && fake_db.param_null[2] && fake_db.param_null[4],
	    "one call of data_delete, with the tombstone budget");
	CHECK(delete_answered("not_found", &version) == KV_STORE_NOT_FOUND && version == 0);
	CHECK(delete_answered("precondition", &version) == KV_STORE_PRECONDITION && version == 0);
	CHECK_MSG(delete_answered("quota", &version) == KV_STORE_ERROR, "a delete never answers quota");
	CHECK(delete_answered(NULL, &version) == KV_STORE_ERROR);
	fake_db_answer(DB_DOWN, 0, 0);
	CHECK(kv_store_delete(&app, "u", "k", &no_cond, &version) == KV_STORE_DOWN);

	memset(&cond, 0, sizeof(cond));
	cond.if_match = 1;
	cond.if_match_n = 1;
	cond.if_match_v[0] = 12;
	fake_db_answer(DB_OK, 2, 1);
	fake_db.cells[0][0] = "deleted";
	fake_db.cells[0][1] = "12";
	CHECK(kv_store_delete(&app, "u", "k", &cond, &version) == KV_STORE_OK && version == 12);
	CHECK_MSG(strcmp(fake_db.params[2], "{12}") == 0 && strcmp(fake_db.params[3], "f") == 0 &&
		fake_db.param_null[4],
	    "If-Match \"12\" as $3, no If-None-Match");
}

static void test_get(void)
{
	struct kv_store_item item;

	fake_db_answer(DB_OK, 3, 1);
	fake_db.cells[0][0] = "{\"a\":1}";
	fake_db.cells[0][1] = "3";
	fake_db.cells[0][2] = "2026-01-02T03:04:05.678Z";
	CHECK(kv_store_get(&app, "u", "key", &item) == KV_STORE_OK);
	CHECK(item.value != NULL && item.value_len == 7 && strcmp(item.value, "{\"a\":1}") == 0);
	CHECK(item.version == 3 && strcmp(item.key, "key") == 0);
	CHECK_MSG(strcmp(fake_db.params[0], "u") == 0 && strcmp(fake_db.params[1], "key") == 0,
	    "user and key are the parameters");
	kv_store_item_free(&item);
	CHECK_MSG(item.value == NULL && item.value_len == 0, "kv_store_item_free clears");
	kv_store_item_free(&item);

	fake_db_answer(DB_OK, 3, 0);
	CHECK(kv_store_get(&app, "u", "key", &item) == KV_STORE_NOT_FOUND && item.value == NULL);
	fake_db_answer(DB_DOWN, 0, 0);
	CHECK(kv_store_get(&app, "u", "key", &item) == KV_STORE_DOWN);
}

static void test_list(void)
{
	static const char *keys[] = { "a", "b", "c" };
	cJSON *items;
	int more;

	fake_db_answer(DB_OK, 4, 3);
	for (int i = 0; i < 3; i++) {
		fake_db.cells[i][0] = keys[i];
		fake_db.cells[i][1] = "2";
		fake_db.cells[i][2] = "2026-01-02T03:04:05.678Z";
		fake_db.cells[i][3] = "5";
	}
	CHECK(kv_store_list(&app, "u", "", 2, &items, &more) == KV_STORE_OK);
	CHECK_MSG(strcmp(fake_db.params[2], "3") == 0, "one row more than the page is asked for");
	CHECK_MSG(more == 1 && cJSON_GetArraySize(items) == 2,
	    "the extra row says more, and is not listed");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 1), "key")), "b");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(items, 0), "size")) == 5);
	cJSON_Delete(items);

	fake_db.nrows = 3;
	CHECK(kv_store_list(&app, "u", "", 3, &items, &more) == KV_STORE_OK);
	CHECK_MSG(more == 0 && cJSON_GetArraySize(items) == 3, "a full last page: no more");
	cJSON_Delete(items);

	fake_db_answer(DB_DOWN, 0, 0);
	CHECK(kv_store_list(&app, "u", "", 3, &items, &more) == KV_STORE_DOWN && items == NULL &&
	    more == 0);
}

static void test_generations(void)
{
	for (long long v = 1; v < 5; v++) {
		CHECK(!kv_store_gen_is_deleted(kv_store_gen_live(v)));
		CHECK(kv_store_gen_is_deleted(kv_store_gen_deleted(v)));
		CHECK(kv_store_gen_version(kv_store_gen_live(v)) == v);
		CHECK_MSG(kv_store_gen_live(v) < kv_store_gen_deleted(v) &&
			kv_store_gen_deleted(v) < kv_store_gen_live(v + 1),
		    "write, delete, write again: the generation grows at each");
	}
}

int main(void)
{
	app.cfg.data_max_keys = 250;
	test_cond_params();
	test_put();
	test_delete();
	test_get();
	test_list();
	test_generations();
	return check_summary();
}
