/*
 * data.c - the `data` responder: each user's private key-value store.
 *
 *   GET    /api/data?limit=&cursor=   the user's keys, ascending by bytes
 *   GET    /api/data/{key}            a value, with ETag / If-None-Match
 *   PUT    /api/data/{key}            create or replace, If-Match / If-None-Match
 *   DELETE /api/data/{key}            delete, If-Match
 *
 * The user is the token's `sub`: every route needs a token, which app.c
 * checks before the handler runs (lib/routes.def).  A GET's Redis work -
 * revocation, the cache epoch and version stamp, the cached entry - rides
 * on the request's one Redis round trip with the rate limit: its hook
 * names the cache's keys (see kv_cache.h), so a value served from memory
 * costs no PostgreSQL query and one Redis round trip.
 */
#include "app.h"
#include "auth.h"
#include "crypto.h"
#include "data_params.h"
#include "json_body.h"
#include "kv_cache.h"
#include "kv_store.h"
#include "revocation.h"
#include "routes.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The route's {key} through its validation table (data_params.h), decoded
 * into `key` (DATA_KEY_LEN_MAX + 1 bytes).  0, or -1 when it is not a key: then,
 * with `answer`, the 422 has been sent.
 */
static int route_key(struct ctx *c, char *key, int answer)
{
	struct valid_value v[1];
	cJSON *bad = valid_params(c->req, c->param, c->param_len, data_params_key, 1, v);

	snprintf(key, DATA_KEY_LEN_MAX + 1, "%s", bad == NULL ? v[0].s : "");
	valid_values_free(v, 1);
	if (bad == NULL)
		return 0;
	if (answer)
		valid_reply(c, bad);
	else
		cJSON_Delete(bad);
	return -1;
}

static void etag(struct ctx *c, long long version)
{
	resp_headerf(c->resp, "ETag", "\"%lld\"", version);
}

/* {"key", "value", "version", "updated_at"} with the ETag. */
static void reply_item(struct ctx *c, int status, const struct kv_store_item *item)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "key", item->key);
	cJSON_AddItemToObject(o, "value", cJSON_CreateRaw(item->value));
	cJSON_AddNumberToObject(o, "version", (double)item->version);
	cJSON_AddStringToObject(o, "updated_at", item->updated_at);
	etag(c, item->version);
	resp_json(c->resp, c->req, status, o);
}

/* Answers a kv_store_result that is not a success. */
static void reply_failure(struct ctx *c, enum kv_store_result r)
{
	switch (r) {
	case KV_STORE_NOT_FOUND:
		resp_error(c->resp, c->req, 404, "not_found", "no such key", NULL);
		break;
	case KV_STORE_PRECONDITION:
		resp_error(c->resp, c->req, 412, "precondition_failed", "a precondition did not hold",
		    NULL);
		break;
	case KV_STORE_QUOTA:
		resp_error(c->resp, c->req, 403, "quota_exceeded", "this user has as many keys as allowed",
		    NULL);
		break;
	case KV_STORE_DOWN:
		app_unavailable(c);
		break;
	default:
		break; /* 500 */
	}
}

static void conditions(struct ctx *c, struct etag_cond *cond)
{
	memset(cond, 0, sizeof(*cond));
	etag_parse_list(req_header(c->req, "If-Match"), 0, &cond->if_match, &cond->if_match_any,
	    &cond->if_match_n, cond->if_match_v);
	etag_parse_list(req_header(c->req, "If-None-Match"), 1, &cond->if_none_match,
	    &cond->if_none_match_any, &cond->if_none_match_n, cond->if_none_match_v);
}

/*
 * GET /api/data/{key}'s hook: the cache's keys for this user's key, read on
 * the request's round trip; the lookup stays with the request for get_item.
 */
static void get_item_keys(struct ctx *c, struct route_keys *keys)
{
	char key[DATA_KEY_LEN_MAX + 1] = "";
	struct kv_cache_lookup *l;

	if (route_key(c, key, 0) != 0 || (l = malloc(sizeof(*l))) == NULL)
		return; /* get_item answers 422, or reads PostgreSQL */
	kv_cache_lookup_keys(c->app, c->auth.claims.sub, key, l);
	for (int i = 0; i < l->n; i++) {
		if (route_key_add(keys, l->key_ptrs[i]) != 0) {
			keys->n = 0;
			free(l);
			return;
		}
	}
	c->hook_state = l;
}

static void get_item(struct ctx *c)
{
	const struct kv_cache_lookup *l = c->hook_state;
	char key[DATA_KEY_LEN_MAX + 1];
	struct kv_store_item item;
	struct etag_cond cond;
	enum kv_store_result r;
	enum kv_cache_tier tier;
	int matched;

	if (route_key(c, key, 1) != 0)
		return;
	/* Without the hook's lookup (out of memory), or Redis' answer: PostgreSQL. */
	r = kv_cache_get(c->app, c->auth.claims.sub, key, l, l != NULL ? c->fetched : NULL, &item,
	    &tier);
	if (r != KV_STORE_OK) {
		reply_failure(c, r);
		return;
	}
	/* If-None-Match that matches the current version (or `*`): 304 with the ETag. */
	conditions(c, &cond);
	matched = cond.if_none_match_any;
	for (int i = 0; i < cond.if_none_match_n && !matched; i++)
		matched = cond.if_none_match_v[i] == item.version;
	if (cond.if_none_match && matched) {
		etag(c, item.version);
		resp_empty(c->resp, 304);
	} else {
		reply_item(c, 200, &item);
	}
	kv_store_item_free(&item);
}

static void put_item(struct ctx *c)
{
	struct kv_store_item item;
	struct etag_cond cond;
	enum body_result br;
	enum kv_store_result r;
	char key[DATA_KEY_LEN_MAX + 1], *value;
	size_t len;

	if (route_key(c, key, 1) != 0)
		return;
	/* DATA_MAX_VALUE_BYTES limits the body as sent. */
	br = body_read_json(c->req, (size_t)c->cfg->data_max_value_bytes);
	if (br != BODY_JSON_OK) {
		body_reply_error(c, br);
		return;
	}
	if ((value = malloc(c->req->body_len + 1)) == NULL)
		return;
	len = body_compact(c->req->body, c->req->body_len, value);
	value[len] = '\0';
	conditions(c, &cond);
	r = kv_store_put(c->app, c->auth.claims.sub, key, value, len, &cond, &item);
	if (r == KV_STORE_OK || r == KV_STORE_CREATED) {
		item.value = value;
		item.value_len = len;
		kv_cache_written(c->app, c->auth.claims.sub, key, item.version, &item);
		reply_item(c, r == KV_STORE_CREATED ? 201 : 200, &item);
	} else {
		reply_failure(c, r);
	}
	free(value);
}

static void delete_item(struct ctx *c)
{
	struct etag_cond cond;
	enum kv_store_result r;
	long long version = 0;
	char key[DATA_KEY_LEN_MAX + 1];

	if (route_key(c, key, 1) != 0)
		return;
	conditions(c, &cond);
	r = kv_store_delete(c->app, c->auth.claims.sub, key, &cond, &version);
	if (r != KV_STORE_OK) {
		reply_failure(c, r);
		return;
	}
	kv_cache_written(c->app, c->auth.claims.sub, key, version, NULL);
	resp_empty(c->resp, 204);
}

static void list_items(struct ctx *c)
{
	struct valid_value v[DATA_PARAMS_LIST_N];
	const char *after;
	char next[256];
	long long limit;
	cJSON *items = NULL, *o;
	enum kv_store_result r;
	int more;

	if (valid_reply(c, valid_params(c->req, NULL, 0, data_params_list, DATA_PARAMS_LIST_N, v)))
		goto out;
	limit = v[DATA_PARAMS_LIMIT].s != NULL ? v[DATA_PARAMS_LIMIT].number : DATA_LIST_DEFAULT;
	/* A cursor is the base64url of the last key of the previous page. */
	after = v[DATA_PARAMS_CURSOR].s != NULL ? v[DATA_PARAMS_CURSOR].s : "";
	r = kv_store_list(c->app, c->auth.claims.sub, after, (long)limit, &items, &more);
	if (r != KV_STORE_OK) {
		reply_failure(c, r);
		goto out;
	}
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "items", items);
	if (more) {
		cJSON *last = cJSON_GetArrayItem(items, cJSON_GetArraySize(items) - 1);
		const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last, "key"));

		crypto_b64url_encode((const unsigned char *)k, strlen(k), next, sizeof(next));
		cJSON_AddStringToObject(o, "next_cursor", next);
	} else {
		cJSON_AddNullToObject(o, "next_cursor");
	}
	resp_json(c->resp, c->req, 200, o);
out:
	valid_values_free(v, DATA_PARAMS_LIST_N);
}

#define ROUTE_SELF_data ROUTE_PROBE
static const struct route routes[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};

static const struct responder responder = {
	.name = "data",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_redis_connect = { revoke_replay, kv_cache_on_reconnect },
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &responder);
}
