/*
 * test_validate.c - unit tests of lib/validate.c: every reason for each kind
 * of field (required, optional, with format, with choices), code points
 * rather than bytes, the exact `fields` map, several failures at once, and
 * valid_reply()'s 422 as written to a fake io.
 */
#include "validate.h"
#include "app.h"
#include "check.h"
#include "fake_io.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define HASH_KEY "unit-test-hash-key-0123456789abcdef"
#define EMOJI "\xF0\x9F\x98\x80" /* U+1F600: 4 bytes, 1 code point */

static const char *const transports[] = { "cookie", "bearer", NULL };

/* A login-like table: the password minimum comes from a runtime value. */
static size_t password_min = 12;

/* The exact length of the last values check_body() copied out. */
static size_t value_len[4];

/*
 * valid_body() over the JSON text body[0..len), with the values copied into
 * statics (as C strings, lengths in value_len[]) so the checks can read
 * them; the valid_value copies are freed here, as a handler frees them.
 */
static cJSON *check_body(const char *body, size_t len, const struct valid_field *fields,
    size_t n, const char *v[])
{
	static char copies[4][8192];
	struct valid_value vals[4];
	cJSON *bad;

	if (n > 4)
		abort();
	bad = valid_body(body, len, fields, n, vals);
	for (size_t i = 0; i < n; i++) {
		v[i] = NULL;
		value_len[i] = vals[i].len;
		if (vals[i].s != NULL) {
			if (vals[i].len >= sizeof(copies[i]))
				abort();
			memcpy(copies[i], vals[i].s, vals[i].len + 1);
			v[i] = copies[i];
		}
	}
	valid_values_free(vals, n);
	for (size_t i = 0; i < n; i++)
		CHECK_MSG(vals[i].s == NULL && vals[i].len == 0, "valid_values_free empties each value");
	return bad;
}

/*
 * Runs the register/login-like table over the JSON text `body` and returns
 * the failures printed compactly ("" when valid); `v` gets the values.
 */
static const char *run_len(const char *body, size_t len, const char *v[3])
{
	static char printed[1024];
	const struct valid_field fields[] = {
		{ .name = "username", .required = 1, .min_chars = 3, .max_chars = 32,
		  .format = valid_username_format },
		{ .name = "password", .required = 1, .min_chars = password_min, .max_chars = 128 },
		{ .name = "token_transport", .choices = transports },
	};
	cJSON *bad;
	char *s;

	bad = check_body(body, len, fields, 3, v);
	printed[0] = '\0';
	if (bad != NULL) {
		s = cJSON_PrintUnformatted(bad);
		snprintf(printed, sizeof(printed), "%s", s != NULL ? s : "(print failed)");
		free(s);
		for (int i = 0; i < 3; i++) {
			const char *name = fields[i].name;

			if (cJSON_GetObjectItemCaseSensitive(bad, name) != NULL)
				CHECK_MSG(v[i] == NULL, "a failing field has no value");
		}
		cJSON_Delete(bad);
	}
	return printed;
}

static const char *run(const char *body, const char *v[3])
{
	return run_len(body, strlen(body), v);
}

/* A string of `n` copies of `unit`, malloc'd. */
static char *repeat(const char *unit, size_t n)
{
	size_t u = strlen(unit);
	char *s = malloc(u * n + 1);

	if (s == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * u, unit, u);
	s[u * n] = '\0';
	return s;
}

/* {"username":"alice","password":<n units>} */
static const char *run_password(const char *unit, size_t n, const char *v[3])
{
	char *pw = repeat(unit, n), *body;
	const char *r;

	if (asprintf(&body, "{\"username\":\"alice\",\"password\":\"%s\"}", pw) < 0)
		abort();
	r = run(body, v);
	free(body);
	free(pw);
	return r;
}

static const char *run_username(const char *name, const char *v[3])
{
	char *body;
	const char *r;

	if (asprintf(&body, "{\"username\":\"%s\",\"password\":\"correct horse battery\"}",
	    name) < 0)
		abort();
	r = run(body, v);
	free(body);
	return r;
}

static void test_helpers(void)
{
	CHECK_STR(valid_reason_name(VALID_REQUIRED), "required");
	CHECK_STR(valid_reason_name(VALID_INVALID_TYPE), "invalid_type");
	CHECK_STR(valid_reason_name(VALID_TOO_SHORT), "too_short");
	CHECK_STR(valid_reason_name(VALID_TOO_LONG), "too_long");
	CHECK_STR(valid_reason_name(VALID_INVALID_FORMAT), "invalid_format");
	CHECK_STR(valid_reason_name(VALID_OK), "ok");

	CHECK(valid_username_format("alice"));
	CHECK(valid_username_format("A.b_c-9"));
	CHECK(valid_username_format("..."));
	CHECK(valid_username_format("0123456789"));
	CHECK(!valid_username_format(NULL));
	CHECK(!valid_username_format(""));
	CHECK(!valid_username_format("a b"));
	CHECK(!valid_username_format("a/b"));
	CHECK(!valid_username_format("a@b"));
	CHECK(!valid_username_format("a+b"));
	CHECK(!valid_username_format("a~b"));
	CHECK(!valid_username_format("al\xC3\xA9"));
	CHECK(!valid_username_format("alice\n"));
	CHECK(!valid_username_format("a\tb"));

	{
		const struct valid_field key = { .name = "key", .required = 1, .min_chars = 1,
		  .max_chars = 4, .format = valid_username_format };
		const struct valid_field pick = { .name = "t", .required = 1,
		  .choices = transports };

		CHECK(valid_string("abcd", &key) == VALID_OK);
		CHECK(valid_string("", &key) == VALID_TOO_SHORT);
		CHECK(valid_string("abcde", &key) == VALID_TOO_LONG);
		CHECK(valid_string("a b", &key) == VALID_INVALID_FORMAT);
		CHECK(valid_string(NULL, &key) == VALID_INVALID_TYPE);
		CHECK(valid_string("bearer", &pick) == VALID_OK);
		CHECK(valid_string("Bearer", &pick) == VALID_INVALID_FORMAT);
	}
}

static void test_ok(void)
{
	const char *v[3];

	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\"}", v), "");
	CHECK_STR(v[0], "alice");
	CHECK_STR(v[1], "correct horse battery");
	CHECK(v[2] == NULL); /* optional and absent */

	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"token_transport\":\"bearer\"}", v), "");
	CHECK_STR(v[2], "bearer");
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"token_transport\":\"cookie\"}", v), "");
	CHECK_STR(v[2], "cookie");

	/* unknown fields are ignored */
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"admin\":true,\"x\":null}", v), "");
}

static void test_required(void)
{
	const char *v[3] = { "stale", "stale", "stale" };

	CHECK_STR(run("{\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"required\"}");
	CHECK(v[0] == NULL);
	CHECK_STR(v[1], "correct horse battery");
	CHECK_STR(run("{\"username\":\"alice\"}", v), "{\"password\":\"required\"}");
	CHECK_STR(run("{}", v), "{\"username\":\"required\",\"password\":\"required\"}");
	CHECK(v[0] == NULL && v[1] == NULL && v[2] == NULL);
	/* keys are case-sensitive */
	CHECK_STR(run("{\"Username\":\"alice\",\"PASSWORD\":\"correct horse battery\"}", v),
	    "{\"username\":\"required\",\"password\":\"required\"}");
}

static void test_invalid_type(void)
{
	const char *v[3];

	CHECK_STR(run("{\"username\":null,\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"invalid_type\"}");
	CHECK_STR(run("{\"username\":5,\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"invalid_type\"}");
	CHECK_STR(run("{\"username\":true,\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"invalid_type\"}");
	CHECK_STR(run("{\"username\":false,\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"invalid_type\"}");
	CHECK_STR(run("{\"username\":[\"alice\"],\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"invalid_type\"}");
	CHECK_STR(run("{\"username\":{\"a\":\"alice\"},\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"invalid_type\"}");
	CHECK_STR(run("{\"username\":\"alice\",\"password\":null}", v),
	    "{\"password\":\"invalid_type\"}");
	CHECK_STR(run("{\"username\":\"alice\",\"password\":123456789012345}", v),
	    "{\"password\":\"invalid_type\"}");
	/* an optional field present with the wrong type is still wrong */
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"token_transport\":null}", v), "{\"token_transport\":\"invalid_type\"}");
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"token_transport\":1}", v), "{\"token_transport\":\"invalid_type\"}");

	/* a body that is not an object */
	{
		const struct valid_field one[] = { { .name = "a", .required = 1 } };
		const char *w[1] = { "stale" };
		cJSON *bad;
		char *s;

		bad = check_body("[\"a\"]", 5, one, 1, w);
		s = cJSON_PrintUnformatted(bad);
		CHECK_STR(s, "{\"body\":\"invalid_type\"}");
		CHECK(w[0] == NULL);
		free(s);
		cJSON_Delete(bad);
		bad = check_body(NULL, 0, one, 1, w);
		CHECK(bad != NULL);
		cJSON_Delete(bad);
		/* not JSON at all (a caller that skipped body_read_json()) */
		bad = check_body("{\"a\":", 5, one, 1, w);
		s = cJSON_PrintUnformatted(bad);
		CHECK_STR(s, "{\"body\":\"invalid_type\"}");
		free(s);
		cJSON_Delete(bad);
	}
}

static void test_lengths(void)
{
	const char *v[3];
	char *s;

	/* username: 3 to 32 ASCII characters */
	CHECK_STR(run_username("ab", v), "{\"username\":\"too_short\"}");
	CHECK_STR(run_username("", v), "{\"username\":\"too_short\"}");
	CHECK_STR(run_username("abc", v), "");
	CHECK_STR(v[0], "abc");
	s = repeat("a", 32);
	CHECK_STR(run_username(s, v), "");
	free(s);
	s = repeat("a", 33);
	CHECK_STR(run_username(s, v), "{\"username\":\"too_long\"}");
	free(s);
	/* two code points in four bytes are too short, not four characters */
	CHECK_STR(run_username("\xC3\xA9\xC3\xA9", v), "{\"username\":\"too_short\"}");

	/* password: password_min to 128 code points, never bytes */
	CHECK_STR(run_password("a", 11, v), "{\"password\":\"too_short\"}");
	CHECK_STR(run_password("a", 12, v), "");
	CHECK_STR(run_password(EMOJI, 11, v), "{\"password\":\"too_short\"}");
	CHECK_STR(run_password(EMOJI, 12, v), ""); /* 48 bytes, 12 code points */
	CHECK(strlen(v[1]) == 48);
	CHECK_STR(run_password("a", 128, v), "");
	CHECK_STR(run_password("a", 129, v), "{\"password\":\"too_long\"}");
	CHECK_STR(run_password(EMOJI, 128, v), ""); /* 512 bytes */
	CHECK(strlen(v[1]) == 512);
	CHECK_STR(run_password(EMOJI, 129, v), "{\"password\":\"too_long\"}");
	CHECK_STR(run_password("\xC3\xA9", 128, v), "");
	/* escapes count as the characters they stand for */
	CHECK_STR(run("{\"username\":\"alice\",\"password\":"
	    "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
	    "\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
	    "\\ud83d\\ude00\\ud83d\\ude00\"}", v), "");
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"\\u00e9\\u00e9\\u00e9\"}", v),
	    "{\"password\":\"too_short\"}");

	/* the minimum comes from the configuration */
	password_min = 20;
	CHECK_STR(run_password("a", 19, v), "{\"password\":\"too_short\"}");
	CHECK_STR(run_password("a", 20, v), "");
	password_min = 1;
	CHECK_STR(run_password("a", 1, v), "");
	CHECK_STR(run_password("a", 0, v), "{\"password\":\"too_short\"}");
	password_min = 12;

	/* max 0 is no bound */
	{
		const struct valid_field any[] = { { .name = "x", .required = 1 } };
		const char *w[1];
		char *big = repeat("x", 5000), *body;
		cJSON *bad;

		if (asprintf(&body, "{\"x\":\"%s\"}", big) < 0)
			abort();
		bad = check_body(body, strlen(body), any, 1, w);
		CHECK(bad == NULL && w[0] != NULL && strlen(w[0]) == 5000);
		cJSON_Delete(bad);
		bad = check_body("{\"x\":\"\"}", 8, any, 1, w);
		CHECK(bad == NULL && w[0] != NULL && w[0][0] == '\0');
		free(body);
		free(big);
	}
}

static void test_format_and_choices(void)
{
	const char *v[3];

	CHECK_STR(run_username("a b", v), "{\"username\":\"invalid_format\"}");
	CHECK_STR(run_username("alice!", v), "{\"username\":\"invalid_format\"}");
	CHECK_STR(run_username("al/ice", v), "{\"username\":\"invalid_format\"}");
	CHECK_STR(run_username("al\xC3\xA9", v), "{\"username\":\"invalid_format\"}");
	CHECK_STR(run_username("A.b_c-9", v), "");
	/* length before format: a short bad name is too_short */
	CHECK_STR(run_username("a!", v), "{\"username\":\"too_short\"}");

	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"token_transport\":\"Cookie\"}", v), "{\"token_transport\":\"invalid_format\"}");
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"token_transport\":\"\"}", v), "{\"token_transport\":\"invalid_format\"}");
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"token_transport\":\"bearer \"}", v), "{\"token_transport\":\"invalid_format\"}");
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"correct horse battery\","
	    "\"token_transport\":\"session\"}", v), "{\"token_transport\":\"invalid_format\"}");
}

static void test_many(void)
{
	const char *v[3];

	CHECK_STR(run("{\"username\":null}", v),
	    "{\"username\":\"invalid_type\",\"password\":\"required\"}");
	CHECK_STR(run("{\"username\":\"a b\",\"password\":\"short\",\"token_transport\":\"x\"}", v),
	    "{\"username\":\"invalid_format\",\"password\":\"too_short\","
	    "\"token_transport\":\"invalid_format\"}");
	CHECK(v[0] == NULL && v[1] == NULL && v[2] == NULL);
	/* table order, not body order */
	CHECK_STR(run("{\"token_transport\":7,\"password\":[],\"username\":\"x\"}", v),
	    "{\"username\":\"too_short\",\"password\":\"invalid_type\","
	    "\"token_transport\":\"invalid_type\"}");
	/* one failing, one passing: only the failing one reported, the other's value set */
	CHECK_STR(run("{\"username\":\"alice\",\"password\":\"short\"}", v),
	    "{\"password\":\"too_short\"}");
	CHECK_STR(v[0], "alice");
	CHECK(v[1] == NULL);
}

/* ---- valid_reply ---- */

static struct fake_io f;
static struct request req;
static struct response resp;

/* Runs valid_reply() over a fresh request; returns what it returned. */
static int reply(cJSON *fields)
{
	struct ctx c;
	int r;

	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "POST");
	fake_io_param(&f, "REQUEST_URI", "/api/auth/register");
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
	fake_io_param(&f, "HTTP_X_REQUEST_ID", "rid-9");
	req_init(&req, &f.io, NULL, HASH_KEY, sizeof(HASH_KEY) - 1);
	resp_init(&resp);
	memset(&c, 0, sizeof(c));
	c.req = &req;
	c.resp = &resp;
	r = valid_reply(&c, fields);
	if (r)
		resp_send(&resp, &req);
	return r;
}

static void done(void)
{
	resp_free(&resp);
	req_free(&req);
}

/* The message and the printed fields of the 422 written. */
static void written(char *message, size_t mlen, char *fields, size_t flen)
{
	const char *sep = strstr(f.out, "\r\n\r\n");
	cJSON *b = sep != NULL ? cJSON_Parse(sep + 4) : NULL;
	cJSON *err = cJSON_GetObjectItemCaseSensitive(b, "error");
	const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "message"));
	const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code"));
	char *p = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(err, "fields"));

	CHECK_STR(code, "validation_failed");
	snprintf(message, mlen, "%s", m != NULL ? m : "(none)");
	snprintf(fields, flen, "%s", p != NULL ? p : "(none)");
	free(p);
	cJSON_Delete(b);
}

/* valid_body() of `body` against the register table, answered by valid_reply(). */
static int check_and_reply(const char *body)
{
	const struct valid_field fields[] = {
		{ .name = "username", .required = 1, .min_chars = 3, .max_chars = 32,
		  .format = valid_username_format },
		{ .name = "password", .required = 1, .min_chars = password_min, .max_chars = 128 },
	};
	const char *v[2];

	return reply(check_body(body, strlen(body), fields, 2, v));
}

static void test_reply(void)
{
	char m[256], fl[256];

	CHECK(reply(NULL) == 0);
	CHECK(resp.status == 0 && f.out_len == 0);
	done();

	CHECK(check_and_reply("{\"username\":\"alice\",\"password\":\"correct horse battery\"}") == 0);
	CHECK(resp.status == 0 && f.out_len == 0);
	done();

	CHECK(check_and_reply("{\"username\":\"alice\",\"password\":\"short\"}") == 1);
	CHECK(strncmp(f.out, "Status: 422 ", 12) == 0);
	written(m, sizeof(m), fl, sizeof(fl));
	CHECK_STR(m, "password is too short");
	CHECK_STR(fl, "{\"password\":\"too_short\"}");
	CHECK(strstr(f.out, "\"request_id\":\"rid-9\"") != NULL);
	done();

	CHECK(check_and_reply("{\"username\":null}") == 1);
	written(m, sizeof(m), fl, sizeof(fl));
	CHECK_STR(m, "username must be a string");
	CHECK_STR(fl, "{\"username\":\"invalid_type\",\"password\":\"required\"}");
	done();

	CHECK(check_and_reply("{\"password\":\"correct horse battery\"}") == 1);
	written(m, sizeof(m), fl, sizeof(fl));
	CHECK_STR(m, "username is required");
	done();

	CHECK(check_and_reply("{\"username\":\"a b c\",\"password\":\"correct horse battery\"}") == 1);
	written(m, sizeof(m), fl, sizeof(fl));
	CHECK_STR(m, "username is not in the expected format");
	CHECK_STR(fl, "{\"username\":\"invalid_format\"}");
	done();

	{
		char *pw = repeat("p", 129), *body;

		if (asprintf(&body, "{\"username\":\"alice\",\"password\":\"%s\"}", pw) < 0)
			abort();
		CHECK(check_and_reply(body) == 1);
		written(m, sizeof(m), fl, sizeof(fl));
		CHECK_STR(m, "password is too long");
		done();
		free(body);
		free(pw);
	}

	CHECK(check_and_reply("[1]") == 1);
	written(m, sizeof(m), fl, sizeof(fl));
	CHECK_STR(m, "the body must be a JSON object");
	CHECK_STR(fl, "{\"body\":\"invalid_type\"}");
	done();
}

/* ---- exact bytes: names and values as sent, U+0000 included ---- */

static void test_exact_bytes(void)
{
	const char *v[3];

	/* a name holding \u0000 is another name: the real field is missing */
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\\u0000\":\"correct horse battery\"}", v),
	    "{\"password\":\"required\"}");
	CHECK(v[1] == NULL);
	CHECK_STR(run("{\"username\\u0000\":\"bob_1\",\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"required\"}");
	CHECK_STR(run("{\"\\u0000username\":\"bob_1\",\"password\\u0000x\":\"correct horse battery\"}",
	    v), "{\"username\":\"required\",\"password\":\"required\"}");
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":\"correct horse battery\","
	    "\"token_transport\\u0000\":\"nonsense\"}", v), "");
	CHECK(v[2] == NULL);
	/* ...and does not hide the real one after it, or stand in for it */
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\\u0000\":\"x\","
	    "\"password\":\"correct horse battery\"}", v), "");
	CHECK_STR(v[1], "correct horse battery");
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":\"correct horse battery\","
	    "\"password\\u0000\":\"x\"}", v), "");
	CHECK_STR(v[1], "correct horse battery");
	/* a name spelled with other escapes is that name */
	CHECK_STR(run("{\"user\\u006eame\":\"bob_1\",\"pass\\/word\":\"x\","
	    "\"\\u0070assword\":\"correct horse battery\"}", v), "");
	CHECK_STR(v[0], "bob_1");
	CHECK_STR(v[1], "correct horse battery");
	/* the first member of a name counts, whatever its type */
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":\"correct horse battery\","
	    "\"password\":\"short\"}", v), "");
	CHECK_STR(v[1], "correct horse battery");
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":7,"
	    "\"password\":\"correct horse battery\"}", v), "{\"password\":\"invalid_type\"}");
	/* nested members are not top-level fields */
	CHECK_STR(run("{\"x\":{\"username\":\"bob_1\",\"password\":\"correct horse battery\"},"
	    "\"y\":[\"password\",{\"password\":1}]}", v),
	    "{\"username\":\"required\",\"password\":\"required\"}");

	/* a value keeps every byte: its U+0000 and what follows */
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":\"passwordpassword\\u0000x\"}", v), "");
	CHECK(value_len[1] == 18 && memcmp(v[1], "passwordpassword\0x", 19) == 0);
	/* bounds count U+0000 as the code point it is */
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":\"abcdefghijk\\u0000\"}", v), "");
	CHECK(value_len[1] == 12);
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":\"abcdefghij\\u0000\"}", v),
	    "{\"password\":\"too_short\"}");
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":\"\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000"
	    "\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\"}", v), "");
	CHECK(value_len[1] == 12);
	/* a U+0000 fails any format or choice, wherever it is */
	CHECK_STR(run("{\"username\":\"abc\\u0000def\",\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"invalid_format\"}");
	CHECK_STR(run("{\"username\":\"bob_1\\u0000\",\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"invalid_format\"}");
	CHECK_STR(run("{\"username\":\"bob_1\",\"password\":\"correct horse battery\","
	    "\"token_transport\":\"bearer\\u0000\"}", v), "{\"token_transport\":\"invalid_format\"}");
	/* ...but bounds come first, as for any other value */
	CHECK_STR(run("{\"username\":\"a\\u0000\",\"password\":\"correct horse battery\"}", v),
	    "{\"username\":\"too_short\"}");
}

int main(void)
{
	test_helpers();
	test_ok();
	test_required();
	test_invalid_type();
	test_lengths();
	test_format_and_choices();
	test_exact_bytes();
	test_many();
	test_reply();
	return check_summary();
}
