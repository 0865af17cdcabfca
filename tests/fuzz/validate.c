/*
 * validate.c - fuzzes the validation table (lib/validate.c) over request
 * bodies, with the register/login table and the password change table, and
 * over the request line with the data API's tables (lib/data_params.c).
 *
 * Input: the body; the same bytes are also the query string of GET
 * /api/data (a first '?' or '#' ends it, as in a URI) and the raw {key}
 * segment.  For the request line it checks that a key that passed is a key
 * (data_key_valid), a limit a number from 1 to DATA_LIST_MAX whose text is
 * digits, a cursor a key, and that a failure has no value.  Checks, for every field the table passed, that its
 * exact bytes really satisfy the rules (bounds in code points, format,
 * choices, no U+0000 where a format applies), that a failing field has no
 * value, that the map names only fields of the table with a contract
 * reason, and that valid_reply() answers a 422 through a fake io.
 */
#include "app.h"
#include "data_params.h"
#include "kv_store.h"
#include "validate.h"
#include "fake_io.h"
#include "fuzz.h"

#include <cJSON.h>

#define HASH_KEY "fuzz-ip-hash-key-0123456789abcdef"

static const char *const transports[] = { "cookie", "bearer", NULL };

static const struct valid_field login[] = {
	{ .name = "username", .required = 1, .min_chars = 3, .max_chars = 32,
	  .format = valid_username_format },
	{ .name = "password", .required = 1, .min_chars = 12, .max_chars = 128 },
	{ .name = "token_transport", .choices = transports },
};
static const struct valid_field change[] = {
	{ .name = "current_password", .required = 1 },
	{ .name = "new_password", .required = 1, .min_chars = 12, .max_chars = 128 },
	{ .name = "refresh_token" },
};

static struct fake_io f;

static size_t code_points(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static int reason_known(const char *r)
{
	static const char *const known[] = { "required", "invalid_type", "too_short", "too_long",
		"invalid_format", NULL };

	for (int i = 0; known[i] != NULL; i++)
		if (r != NULL && strcmp(r, known[i]) == 0)
			return 1;
	return 0;
}

static void check_table(const char *body, size_t len, const struct valid_field *t, size_t n)
{
	struct valid_value v[3];
	cJSON *bad = valid_body(body, len, t, n, v);

	for (size_t i = 0; i < n; i++) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(bad, t[i].name);

		if (why != NULL) {
			FUZZ_ASSERT(v[i].s == NULL && reason_known(cJSON_GetStringValue(why)));
			continue;
		}
		if (v[i].s == NULL) {
			FUZZ_ASSERT(!t[i].required || bad != NULL);
			continue;
		}
		FUZZ_ASSERT(v[i].s[v[i].len] == '\0');
		FUZZ_ASSERT(code_points(v[i].s, v[i].len) >= t[i].min_chars);
		FUZZ_ASSERT(t[i].max_chars == 0 || code_points(v[i].s, v[i].len) <= t[i].max_chars);
		if (t[i].format != NULL || t[i].choices != NULL)
			FUZZ_ASSERT(strlen(v[i].s) == v[i].len);
		if (t[i].format != NULL)
			FUZZ_ASSERT(t[i].format(v[i].s));
		FUZZ_ASSERT(valid_string(v[i].s, &t[i]) == VALID_OK || strlen(v[i].s) != v[i].len);
	}
	if (bad != NULL) {
		const cJSON *it;

		cJSON_ArrayForEach(it, bad) {
			int ours = strcmp(it->string, "body") == 0;

			for (size_t i = 0; i < n; i++)
				ours |= strcmp(it->string, t[i].name) == 0;
			FUZZ_ASSERT(ours && reason_known(cJSON_GetStringValue(it)));
		}
	}
	valid_values_free(v, n);
	for (size_t i = 0; i < n; i++)
		FUZZ_ASSERT(v[i].s == NULL);
	if (bad != NULL) {
		struct request req;
		struct response resp;
		struct ctx c;

		fake_io_init(&f);
		fake_io_param(&f, "REQUEST_METHOD", "POST");
		fake_io_param(&f, "REQUEST_URI", "/api/auth/register");
		fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
		req_init(&req, &f.io, NULL, HASH_KEY, sizeof(HASH_KEY) - 1);
		resp_init(&resp);
		memset(&c, 0, sizeof(c));
		c.req = &req;
		c.resp = &resp;
		FUZZ_ASSERT(valid_reply(&c, bad) == 1 && resp.status == 422);
		resp_send(&resp, &req);
		FUZZ_ASSERT(strncmp(f.out, "Status: 422 ", 12) == 0);
		resp_free(&resp);
		req_free(&req);
	}
}

static void check_params(const char *text, size_t len)
{
	struct valid_value key[1], list[DATA_PARAMS_LIST_N];
	struct request req;
	cJSON *bad;
	char *uri = malloc(len + 11);

	if (uri == NULL)
		abort();
	bad = valid_params(NULL, text, len, data_params_key, 1, key);
	FUZZ_ASSERT((bad == NULL) == (key[0].s != NULL));
	if (key[0].s != NULL)
		FUZZ_ASSERT(data_key_valid(key[0].s, key[0].len) && strlen(key[0].s) == key[0].len);
	cJSON_Delete(bad);
	valid_values_free(key, 1);

	memcpy(uri, "/api/data?", 10);
	memcpy(uri + 10, text, len + 1);
	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "GET");
	fake_io_param(&f, "REQUEST_URI", uri);
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
	req_init(&req, &f.io, NULL, HASH_KEY, sizeof(HASH_KEY) - 1);
	bad = valid_params(&req, NULL, 0, data_params_list, DATA_PARAMS_LIST_N, list);
	for (size_t i = 0; i < DATA_PARAMS_LIST_N; i++) {
		const cJSON *why = cJSON_GetObjectItemCaseSensitive(bad, data_params_list[i].name);

		if (why != NULL)
			FUZZ_ASSERT(list[i].s == NULL &&
			    strcmp(cJSON_GetStringValue(why), "invalid_format") == 0);
	}
	if (list[DATA_PARAMS_LIMIT].s != NULL) {
		const struct valid_value *l = &list[DATA_PARAMS_LIMIT];

		FUZZ_ASSERT(l->number >= 1 && l->number <= DATA_LIST_MAX && l->len > 0 &&
		    strspn(l->s, "0123456789") == l->len);
	}
	if (list[DATA_PARAMS_CURSOR].s != NULL)
		FUZZ_ASSERT(data_key_valid(list[DATA_PARAMS_CURSOR].s, list[DATA_PARAMS_CURSOR].len));
	cJSON_Delete(bad);
	valid_values_free(list, DATA_PARAMS_LIST_N);
	req_free(&req);
	free(uri);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_str(data, size);

	check_table(body, size, login, 3);
	check_table(body, size, change, 3);
	check_params(body, strlen(body));
	free(body);
	return 0;
}
