/*
 * test_data_params.c - unit tests of lib/data_params.c, the data API's
 * request-line tables through valid_params(): the raw {key} segments the
 * contract accepts and refuses (the cases of 30_data_api.sh), `limit` from
 * 1 to 1000 in plain digits, and `cursor` as the base64url of a key.
 */
#include "data_params.h"
#include "app.h"
#include "check.h"
#include "crypto.h"
#include "kv_store.h"
#include "valid_run.h"

#include <string.h>

/* The decoded key of raw segment `raw`, or "(invalid)" with the 422 map checked. */
static const char *key_of(const char *raw)
{
	static char out[DATA_KEY_LEN_MAX + 16];
	struct valid_value v[1];
	const char *bad = valid_run(data_params_key, 1, "/api/data/x", raw, v);

	if (bad[0] == '\0')
		snprintf(out, sizeof(out), "%s", v[0].s);
	else
		snprintf(out, sizeof(out), "%s",
		    strcmp(bad, "{\"key\":\"invalid_format\"}") == 0 ? "(invalid)" : bad);
	valid_values_free(v, 1);
	return out;
}

static void test_key(void)
{
	static const struct check_str_case cases[] = {
		{ "a", "a" },
		{ "A-Za-z0-9._~", "A-Za-z0-9._~" },
		{ "%41b", "Ab" },
		{ "...", "..." },
		{ "a%20b", "(invalid)" }, { "a%2Fb", "(invalid)" }, { "%2F", "(invalid)" },
		{ "caf%C3%A9", "(invalid)" }, { "%C3%A9", "(invalid)" }, { "a%00b", "(invalid)" },
		{ "a+b", "(invalid)" }, { "a%2Bb", "(invalid)" }, { "a%3Ab", "(invalid)" },
		{ "a@b", "(invalid)" }, { "a%25", "(invalid)" }, { "a%", "(invalid)" },
		{ "a%2", "(invalid)" }, { "a%zz", "(invalid)" }, { "%2e", "(invalid)" },
		{ "%2e%2e", "(invalid)" }, { "%2E%2E", "(invalid)" }, { ".", "(invalid)" },
		{ "..", "(invalid)" }, { "", "(invalid)" },
	};
	char k[DATA_KEY_LEN_MAX + 2];

	CHECK_STR_CASES(key_of, cases);
	memset(k, 'k', DATA_KEY_LEN_MAX);
	k[DATA_KEY_LEN_MAX] = '\0';
	CHECK_MSG(strlen(key_of(k)) == DATA_KEY_LEN_MAX, "a key of 128 characters");
	k[DATA_KEY_LEN_MAX] = 'k';
	k[DATA_KEY_LEN_MAX + 1] = '\0';
	CHECK_STR(key_of(k), "(invalid)");
}

/* GET /api/data?<query>: "limit=<n> cursor=<key>" of the values, or the failures. */
static const char *list_of(const char *query)
{
	static char out[512];
	char uri[600];
	struct valid_value v[DATA_PARAMS_LIST_N];
	const char *bad;

	snprintf(uri, sizeof(uri), "/api/data?%s", query);
	bad = valid_run(data_params_list, DATA_PARAMS_LIST_N, uri, NULL, v);
	if (bad[0] != '\0')
		snprintf(out, sizeof(out), "%s", bad);
	else
		snprintf(out, sizeof(out), "limit=%lld cursor=%s", v[DATA_PARAMS_LIMIT].number,
		    v[DATA_PARAMS_CURSOR].s != NULL ? v[DATA_PARAMS_CURSOR].s : "(none)");
	valid_values_free(v, DATA_PARAMS_LIST_N);
	return out;
}

static void test_list(void)
{
	static const struct check_str_case cases[] = {
		{ "", "limit=0 cursor=(none)" },
		{ "limit=1", "limit=1 cursor=(none)" },
		{ "limit=1000", "limit=1000 cursor=(none)" },
		{ "limit=07", "limit=7 cursor=(none)" },
		{ "cursor=YQ", "limit=0 cursor=a" },
		{ "limit=2&cursor=fg", "limit=2 cursor=~" },
		{ "other=1&limit=3", "limit=3 cursor=(none)" },
		{ "limit=0", "{\"limit\":\"invalid_format\"}" },
		{ "limit=1001", "{\"limit\":\"invalid_format\"}" },
		{ "limit=abc", "{\"limit\":\"invalid_format\"}" },
		{ "limit=1.5", "{\"limit\":\"invalid_format\"}" },
		{ "limit=-1", "{\"limit\":\"invalid_format\"}" },
		{ "limit=", "{\"limit\":\"invalid_format\"}" },
		{ "limit=1e2", "{\"limit\":\"invalid_format\"}" },
		{ "limit=+5", "{\"limit\":\"invalid_format\"}" },
		{ "limit=%201", "{\"limit\":\"invalid_format\"}" },
		{ "limit=99999999999999999999", "{\"limit\":\"invalid_format\"}" },
		{ "cursor=!!!", "{\"cursor\":\"invalid_format\"}" },
		{ "cursor=a%20b", "{\"cursor\":\"invalid_format\"}" },
		{ "cursor====", "{\"cursor\":\"invalid_format\"}" },
		{ "cursor=%00", "{\"cursor\":\"invalid_format\"}" },
		{ "cursor=", "{\"cursor\":\"invalid_format\"}" },
		{ "cursor=Lg", "{\"cursor\":\"invalid_format\"}" },   /* "." is no key */
		{ "cursor=YSBi", "{\"cursor\":\"invalid_format\"}" }, /* "a b" is no key */
		{ "limit=0&cursor=!", "{\"limit\":\"invalid_format\",\"cursor\":\"invalid_format\"}" },
	};
	char q[400], key[DATA_KEY_LEN_MAX + 1], b64[256];

	CHECK_STR_CASES(list_of, cases);
	/* A cursor of the longest key, as next_cursor writes it, and one byte more. */
	memset(key, 'z', DATA_KEY_LEN_MAX);
	crypto_b64url_encode((const unsigned char *)key, DATA_KEY_LEN_MAX, b64, sizeof(b64));
	snprintf(q, sizeof(q), "cursor=%s", b64);
	CHECK_MSG(strlen(list_of(q)) == strlen("limit=0 cursor=") + DATA_KEY_LEN_MAX,
	    "the cursor of a 128-byte key decodes");
	memset(key, 'z', sizeof(key));
	crypto_b64url_encode((const unsigned char *)key, DATA_KEY_LEN_MAX + 1, b64, sizeof(b64));
	snprintf(q, sizeof(q), "cursor=%s", b64);
	CHECK_STR(list_of(q), "{\"cursor\":\"invalid_format\"}");
}

int main(void)
{
	test_key();
	test_list();
	return check_summary();
}
