/*
 * test_session_list.c - unit tests of lib/session_list.c's pure parts: the
 * User-Agent kept at login (its first 256 bytes, cut back to whole UTF-8
 * characters; a header that is not UTF-8 kept up to its first malformed
 * sequence; NULL when none) and the session-id check of
 * DELETE /api/sessions/{id}, alone and as the route's validation table.
 */
#include "session_list.h"
#include "check.h"
#include "fake_io.h"

#include <stdio.h>
#include <string.h>

#define HASH_KEY "0123456789abcdef0123456789abcdef"

/* session_list_user_agent() of a request whose User-Agent is `ua` (NULL: none). */
static const char *ua_of(const char *ua)
{
	static char out[SESSION_LIST_USER_AGENT_MAX + 1];
	static char copy[SESSION_LIST_USER_AGENT_MAX + 1];
	struct fake_io f;
	struct request req;
	const char *got;

	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "POST");
	fake_io_param(&f, "REQUEST_URI", "/api/auth/login");
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.10");
	if (ua != NULL)
		fake_io_param(&f, "HTTP_USER_AGENT", ua);
	req_init(&req, &f.io, NULL, HASH_KEY, strlen(HASH_KEY));
	got = session_list_user_agent(&req, out);
	snprintf(copy, sizeof(copy), "%s", got != NULL ? got : "(null)");
	req_free(&req);
	return copy;
}

static char *rep(const char *s, int n, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; i < n && strlen(buf) + strlen(s) < size; i++)
		strcat(buf, s);
	return buf;
}

static void test_user_agent(void)
{
	/* not UTF-8: up to the first malformed sequence */
	static const struct check_str_case not_utf8[] = {
		{ "caf\xE9-latin1", "caf" },
		{ "\xFFxyz", "(null)" },
		{ "over\xC0\xAFlong", "over" },
		{ "surrogate\xED\xA0\x80", "surrogate" },
		{ "cut\xE2\x82", "cut" },
		{ "euro \xE2\x82\xAC ok", "euro \xE2\x82\xAC ok" },
	};
	char in[2048], want[512], buf[1024];

	CHECK_STR(ua_of("curl/8.0"), "curl/8.0");
	CHECK_STR(ua_of(NULL), "(null)");
	CHECK_STR(ua_of(""), "(null)");
	/* exactly 256 bytes: kept whole; 257: the last byte goes */
	CHECK_MSG(strlen(ua_of(rep("a", 256, in, sizeof(in)))) == 256, "256 ASCII bytes are kept");
	CHECK_MSG(strlen(ua_of(rep("a", 257, in, sizeof(in)))) == 256, "257 are cut to 256");
	/* two-byte characters: 128 fit exactly; one byte more in front pushes the last out */
	CHECK_STR(ua_of(rep("é", 200, in, sizeof(in))), rep("é", 128, want, sizeof(want)));
	snprintf(in, sizeof(in), "a%s", rep("é", 200, buf, sizeof(buf)));
	snprintf(want, sizeof(want), "a%s", rep("é", 127, buf, sizeof(buf)));
	CHECK_STR(ua_of(in), want);
	/* a four-byte character across the boundary is dropped whole */
	snprintf(in, sizeof(in), "%s\xF0\x9F\x98\x80", rep("b", 254, want, sizeof(want)));
	CHECK_MSG(strcmp(ua_of(in), rep("b", 254, want, sizeof(want))) == 0, "a 4-byte character at byte 255 goes whole");
	CHECK_STR_CASES(ua_of, not_utf8);
}

static void test_id(void)
{
	static const struct check_len_case ids[] = {
		{ "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e23", 36, 1 },
		{ "0B5C6A5E-3F1D-4C8E-9A51-2F7B8C0D1E23", 36, 1 },
		{ "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e2", 35, 0 },
		{ "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e234", 37, 0 },
		{ "0b5c6a5e3f1d-4c8e-9a51-2f7b8c0d1e23-", 36, 0 },
		{ "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e2g", 36, 0 },
		{ "%30b5c6a5-3f1d-4c8e-9a51-2f7b8c0d1e23", 36, 0 },
		{ NULL, 0, 0 },
	};

	CHECK_LEN_CASES(session_list_id_valid, ids);
}

/* The {id} table: the lower-cased id, or "(404)" when the route answers as for an unknown session. */
static const char *id_of(const char *raw)
{
	static char out[64];
	struct valid_value v[1];
	cJSON *bad = valid_params(NULL, raw, strlen(raw), session_list_id_fields, 1, v);

	snprintf(out, sizeof(out), "%s", bad == NULL ? v[0].s : "(404)");
	cJSON_Delete(bad);
	valid_values_free(v, 1);
	return out;
}

static void test_id_table(void)
{
	static const struct check_str_case cases[] = {
		{ "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e23", "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e23" },
		{ "0B5C6A5E-3F1D-4C8E-9A51-2F7B8C0D1E23", "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e23" },
		{ "not-a-uuid", "(404)" },
		{ "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e23x", "(404)" },
		{ "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e2", "(404)" },
		{ "%41", "(404)" },
		{ "000000000000000000000000000000000000", "(404)" },
		{ "", "(404)" },
	};

	CHECK_STR_CASES(id_of, cases);
}

int main(void)
{
	test_user_agent();
	test_id();
	test_id_table();
	return check_summary();
}
