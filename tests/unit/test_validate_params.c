/*
 * test_validate_params.c - unit tests of the request-line side of
 * lib/validate.c: valid_params() over query strings and a route's {param}
 * (present, absent, malformed, repeated; the rules in their order; a
 * `decode` that refuses or rewrites), valid_decimal(), that valid_body()
 * and valid_params() each skip the other's fields of one table, and the
 * 422 valid_reply() writes for a query parameter.
 */
#include "validate.h"
#include "app.h"
#include "check.h"
#include "fake_io.h"
#include "valid_run.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define HASH_KEY "unit-test-hash-key-0123456789abcdef"

static struct fake_io f;
static struct request req;

static void start(const char *uri)
{
	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "GET");
	fake_io_param(&f, "REQUEST_URI", uri);
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
	req_init(&req, &f.io, NULL, HASH_KEY, strlen(HASH_KEY));
}

/* A `decode` that upper-cases in place and refuses "bad". */
static int upper(const struct valid_field *fl, struct valid_value *v)
{
	(void)fl;
	if (strcmp(v->s, "bad") == 0)
		return -1;
	for (size_t i = 0; i < v->len; i++)
		if (v->s[i] >= 'a' && v->s[i] <= 'z')
			v->s[i] = (char)(v->s[i] - 32);
	return 0;
}

/* A `decode` that shrinks the value to its first byte. */
static int first_byte(const struct valid_field *fl, struct valid_value *v)
{
	(void)fl;
	v->s[1] = '\0';
	v->len = 1;
	return 0;
}

static int digits_only(const char *s)
{
	return s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
}

static const char *const colours[] = { "red", "green", NULL };

static const struct valid_field table[] = {
	{ .name = "n", .in = VALID_IN_QUERY, .decode = valid_decimal, .min_value = 1, .max_value = 1000 },
	{ .name = "word", .required = 1, .min_chars = 2, .max_chars = 5, .in = VALID_IN_QUERY },
	{ .name = "colour", .choices = colours, .in = VALID_IN_QUERY },
	{ .name = "code", .format = digits_only, .in = VALID_IN_QUERY, .decode = first_byte },
	{ .name = "id", .required = 1, .in = VALID_IN_PATH, .decode = upper },
	{ .name = "in_body", .required = 1 },
};
#define N (sizeof(table) / sizeof(table[0]))

static struct valid_value v[N];

/* valid_params() of the table for `uri` and path segment `path`; the failures printed ("" when none). */
static const char *run(const char *uri, const char *path)
{
	valid_values_free(v, N);
	return valid_run(table, N, uri, path, v);
}

static void test_params(void)
{
	CHECK_STR(run("/x?word=abc", "seg"), "");
	CHECK_STR(v[1].s, "abc");
	CHECK_STR(v[4].s, "SEG");
	CHECK_MSG(v[0].s == NULL && v[2].s == NULL && v[3].s == NULL, "absent optional parameters have no value");
	CHECK_MSG(v[5].s == NULL, "a body field is not looked for in the request line");

	CHECK_STR(run("/x?n=0042&word=h%C3%A9&colour=green&code=123", "a%20b"), "");
	CHECK_MSG(v[0].number == 42 && strcmp(v[0].s, "0042") == 0, "valid_decimal sets the number");
	CHECK_MSG(strcmp(v[1].s, "h\xC3\xA9") == 0 && v[1].len == 3, "a query value is percent-decoded");
	CHECK_STR(v[2].s, "green");
	CHECK_MSG(strcmp(v[3].s, "1") == 0 && v[3].len == 1, "a decode may shrink the value");
	CHECK_MSG(strcmp(v[4].s, "A%20B") == 0, "a path segment is given raw");

	CHECK_STR(run("/x", "seg"), "{\"word\":\"required\"}");
	CHECK_STR(run("/x?word=abc", NULL), "{\"id\":\"required\"}");
	CHECK_STR(run("/x?word=a", "s"), "{\"word\":\"too_short\"}");
	CHECK_STR(run("/x?word=%C3%A9%C3%A9", "s"), "");
	CHECK_MSG(v[1].len == 4, "bounds count code points, not bytes");
	CHECK_STR(run("/x?word=abcdef", "s"), "{\"word\":\"too_long\"}");
	CHECK_STR(run("/x?word=ab&colour=blue", "s"), "{\"colour\":\"invalid_format\"}");
	CHECK_STR(run("/x?word=ab&code=12a", "s"), "{\"code\":\"invalid_format\"}");
	CHECK_STR(run("/x?word=ab", "bad"), "{\"id\":\"invalid_format\"}");
	CHECK_MSG(v[4].s == NULL, "a value its decode refused is none");

	/* Malformed parameters: invalid_format, whatever the rules. */
	CHECK_STR(run("/x?word=a%zzb", "s"), "{\"word\":\"invalid_format\"}");
	CHECK_STR(run("/x?word=a%00b", "s"), "{\"word\":\"invalid_format\"}");
	CHECK_STR(run("/x?word=ab%", "s"), "{\"word\":\"invalid_format\"}");

	/* The first of a repeated name counts; an empty one is present. */
	CHECK_STR(run("/x?word=first&word=x", "s"), "");
	CHECK_STR(v[1].s, "first");
	CHECK_STR(run("/x?word=", "s"), "{\"word\":\"too_short\"}");
	CHECK_STR(run("/x?word", "s"), "{\"word\":\"too_short\"}");
	CHECK_STR(run("/x?wordy=abc&word=abc", "s"), "");

	/* Every failing field, in table order. */
	CHECK_STR(run("/x?n=0&colour=x&code=", "bad"),
	    "{\"n\":\"invalid_format\",\"word\":\"required\",\"colour\":\"invalid_format\","
	    "\"code\":\"invalid_format\",\"id\":\"invalid_format\"}");
	CHECK_MSG(v[0].s == NULL && v[0].number == 0, "a failing field has no value and no number");
	valid_values_free(v, N);
}

static void test_decimal(void)
{
	static const struct valid_field range = { .name = "n", .min_value = 1, .max_value = 1000 };
	static const struct valid_field wide = { .name = "n", .min_value = 0, .max_value = 9223372036854775807LL };
	static const struct check_str_case cases[] = {
		{ "1", "1" }, { "1000", "1000" }, { "007", "7" }, { "0", "-" }, { "1001", "-" },
		{ "", "-" }, { "-1", "-" }, { "+5", "-" }, { " 1", "-" }, { "1 ", "-" }, { "1.5", "-" },
		{ "1e2", "-" }, { "0x10", "-" }, { "99999999999999999999", "-" },
	};
	char buf[32];
	struct valid_value val;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[32];

		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		val.s = buf;
		val.len = strlen(buf);
		val.number = -7;
		if (valid_decimal(&range, &val) == 0)
			snprintf(got, sizeof(got), "%lld", val.number);
		else
			snprintf(got, sizeof(got), "%s", val.number == -7 ? "-" : "(number set)");
		CHECK_MSG(strcmp(got, cases[i].want) == 0, cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			printf("#   got %s, want %s\n", got, cases[i].want);
	}
	snprintf(buf, sizeof(buf), "9223372036854775807");
	val.s = buf;
	val.len = strlen(buf);
	CHECK_MSG(valid_decimal(&wide, &val) == 0 && val.number == 9223372036854775807LL, "LLONG_MAX parses");
	snprintf(buf, sizeof(buf), "9223372036854775808");
	val.len = strlen(buf);
	CHECK_MSG(valid_decimal(&wide, &val) == -1, "one more overflows: refused");
}

/* valid_body() takes only the body fields of a table that mixes them. */
static void test_body_skips_params(void)
{
	const char *body = "{\"in_body\":\"x\",\"word\":\"abc\",\"id\":\"bad\",\"n\":\"5\"}";
	struct valid_value w[N];
	cJSON *bad = valid_body(body, strlen(body), table, N, w);

	CHECK_MSG(bad == NULL, "query and path fields are not looked for in the body");
	CHECK_STR(w[5].s, "x");
	CHECK(w[0].s == NULL && w[1].s == NULL && w[4].s == NULL);
	valid_values_free(w, N);

	{
		static const struct valid_field decoded[] = {
			{ .name = "a", .required = 1, .decode = upper },
		};
		const char *b2 = "{\"a\":\"bad\"}", *b3 = "{\"a\":\"ok\"}";
		char *s;

		bad = valid_body(b2, strlen(b2), decoded, 1, w);
		s = cJSON_PrintUnformatted(bad);
		CHECK_MSG(s != NULL && strcmp(s, "{\"a\":\"invalid_format\"}") == 0 && w[0].s == NULL,
		    "a body field's decode runs too");
		free(s);
		cJSON_Delete(bad);
		CHECK(valid_body(b3, strlen(b3), decoded, 1, w) == NULL && strcmp(w[0].s, "OK") == 0);
		valid_values_free(w, 1);
	}
}

/* The 422 of a failing query parameter, as the contract words it. */
static void test_reply(void)
{
	static const struct valid_field limit[] = {
		{ .name = "limit", .in = VALID_IN_QUERY, .decode = valid_decimal, .min_value = 1,
		  .max_value = 1000 },
	};
	struct valid_value lv[1];
	struct response resp;
	struct ctx c;

	start("/api/data?limit=abc");
	resp_init(&resp);
	memset(&c, 0, sizeof(c));
	c.req = &req;
	c.resp = &resp;
	CHECK(valid_reply(&c, valid_params(&req, NULL, 0, limit, 1, lv)) == 1);
	CHECK(resp.status == 422);
	resp_send(&resp, &req);
	CHECK(strstr(f.out, "Status: 422 ") == f.out);
	CHECK_MSG(strstr(f.out, "\"code\":\"validation_failed\"") != NULL &&
		strstr(f.out, "\"message\":\"limit is not in the expected format\"") != NULL &&
		strstr(f.out, "\"fields\":{\"limit\":\"invalid_format\"}") != NULL,
	    "422 validation_failed, the message and fields of today's answer");
	resp_free(&resp);
	req_free(&req);
	valid_values_free(lv, 1);
}

int main(void)
{
	test_params();
	test_decimal();
	test_body_skips_params();
	test_reply();
	return check_summary();
}
