/*
 * test_json_body.c - unit tests of lib/json_body.c: the strict RFC 8259
 * validator rule by rule (accepted and refused texts, UTF-8, escapes and
 * surrogates, depth 64/65 and a 100000-deep attack), the Content-Type
 * matcher, and body_parse_json() end to end over a fake io (413, 415,
 * missing body, not an object), with the error envelope parsed back.
 */
#include "json_body.h"
#include "app.h"
#include "check.h"
#include "fake_io.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define HASH_KEY "unit-test-hash-key-0123456789abcdef"

/* ---- the validator ---- */

static void expect_valid(int want, const char *buf, size_t len, const char *label)
{
	int got = body_json_valid(buf, len);

	check_report(got == want, __FILE__, __LINE__, label);
	if (got != want)
		printf("#   body_json_valid gave %d, want %d\n", got, want);
}

/* String literals, with their exact length (embedded NULs included). */
#define ACCEPT(lit) expect_valid(1, (lit), sizeof(lit) - 1, "accepts " #lit)
#define REFUSE(lit) expect_valid(0, (lit), sizeof(lit) - 1, "refuses " #lit)

static void test_grammar(void)
{
	/* values of every kind */
	ACCEPT("{}");
	ACCEPT("[]");
	ACCEPT("\"x\"");
	ACCEPT("\"\"");
	ACCEPT("0");
	ACCEPT("-0");
	ACCEPT("-0.0");
	ACCEPT("1E+2");
	ACCEPT("1e-2");
	ACCEPT("1E2");
	ACCEPT("1.5e10");
	ACCEPT("123456789012345678901234567890");
	ACCEPT("true");
	ACCEPT("false");
	ACCEPT("null");
	ACCEPT("[1,2,3]");
	ACCEPT("[[],{}]");
	ACCEPT("{\"a\":[{\"b\":null}],\"c\":-1.25e-3}");
	ACCEPT("{\"a\":1,\"a\":2}"); /* duplicate names are valid JSON */
	ACCEPT("{\"\":\"\"}");

	/* whitespace: the four kinds, before, between and after */
	ACCEPT(" {} ");
	ACCEPT("\t\n\r {\r\n\t\"a\" \t:\n 1 ,\"b\":[ 1 , 2 ] }\r\n");
	REFUSE("\f{}");
	REFUSE("\v{}");
	REFUSE("{}\f");
	REFUSE("\xC2\xA0{}");   /* NO-BREAK SPACE */
	REFUSE("{\"a\":1\x0B}");

	/* empty and whitespace only */
	REFUSE("");
	REFUSE("   ");
	REFUSE("\r\n");

	/* numbers */
	REFUSE("01");
	REFUSE("-01");
	REFUSE("00");
	REFUSE("1.");
	REFUSE("1.e5");
	REFUSE("-");
	REFUSE("--1");
	REFUSE("1e");
	REFUSE("1e+");
	REFUSE("1E-");
	REFUSE(".5");
	REFUSE("+1");
	REFUSE("0x10");
	REFUSE("1_000");
	REFUSE("[01]");
	REFUSE("{\"a\":01}");
	REFUSE("NaN");
	REFUSE("Infinity");
	REFUSE("-Infinity");
	REFUSE("[NaN]");

	/* literals */
	REFUSE("nul");
	REFUSE("nulll");
	REFUSE("True");
	REFUSE("NULL");
	REFUSE("tru");
	REFUSE("undefined");

	/* structure */
	REFUSE("[1,]");
	REFUSE("{\"a\":1,}");
	REFUSE("[,1]");
	REFUSE("[1,,2]");
	REFUSE("{,}");
	REFUSE("[1 2]");
	REFUSE("{\"a\" 1}");
	REFUSE("{\"a\":}");
	REFUSE("{\"a\"}");
	REFUSE("{\"a\":1,\"b\"}");
	REFUSE("{\"a\":1 \"b\":2}");
	REFUSE("{a:1}");
	REFUSE("{1:2}");
	REFUSE("{null:2}");
	REFUSE("{'a':1}");
	REFUSE("['a']");
	REFUSE("[");
	REFUSE("{");
	REFUSE("]");
	REFUSE("}");
	REFUSE("{\"a\"");
	REFUSE("{\"a\":1");
	REFUSE("[1]]");
	REFUSE("{\"a\":1}}");
	REFUSE("[}");
	REFUSE("{]");
	REFUSE("[{]}");

	/* comments */
	REFUSE("//c\n{}");
	REFUSE("/*c*/{}");
	REFUSE("{}/**/");
	REFUSE("{} #");
	REFUSE("{\"a\":1/*c*/}");

	/* exactly one value, only whitespace after */
	REFUSE("{}{}");
	REFUSE("{} x");
	REFUSE("1 2");
	REFUSE("\"a\"\"b\"");
	REFUSE("{},");
	REFUSE("{}\0");          /* a NUL after the value */
	REFUSE("\0{}");
	REFUSE("true false");
}

static void test_strings(void)
{
	/* the standard escapes */
	ACCEPT("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"");
	ACCEPT("\"\\u00e9\\u00E9\\uFFFF\\uffff\"");
	ACCEPT("\"\\u0000\"");     /* valid JSON; what a handler does with it is its own */
	ACCEPT("{\"a\":\"\\ud83d\\ude00\"}");
	ACCEPT("\"\\uD83D\\uDE00\"");
	ACCEPT("\"\\uDBFF\\uDFFF\"");  /* U+10FFFF */
	ACCEPT("\"\\uD800\\uDC00\"");  /* U+10000 */
	REFUSE("\"\\a\"");
	REFUSE("\"\\x41\"");
	REFUSE("\"\\'\"");
	REFUSE("\"\\0\"");
	REFUSE("\"\\U0041\"");
	REFUSE("\"\\u00G0\"");
	REFUSE("\"\\u12\"");
	REFUSE("\"\\u123");
	REFUSE("\"\\u\"");
	REFUSE("\"\\\"");
	REFUSE("\"\\");
	REFUSE("\"abc");
	REFUSE("\"\\ \"");

	/* surrogate escapes: only a high one followed by a low one */
	REFUSE("\"\\ud83d\"");
	REFUSE("\"\\ude00\"");
	REFUSE("\"\\ud83d\\u0041\"");
	REFUSE("\"\\ude00\\ud83d\"");   /* mis-ordered */
	REFUSE("\"\\ud83d\\ud83d\"");   /* two highs */
	REFUSE("\"\\ud83dx\"");
	REFUSE("\"\\ud83d\\n\"");
	REFUSE("\"\\ud83d\\\"");
	REFUSE("\"\\ud83d\\ude0\"");
	REFUSE("\"\\uDFFF\"");
	REFUSE("\"\\uD800\"");
	REFUSE("{\"\\ud800\":1}");       /* in a name too */
	REFUSE("[\"\\ud83d\\ude00\\ude00\"]");

	/* raw control characters */
	REFUSE("\"\x01\"");
	REFUSE("\"a\x1f\"");
	REFUSE("\"a\tb\"");
	REFUSE("\"a\nb\"");
	REFUSE("\"a\rb\"");
	REFUSE("\"a\0b\"");
	REFUSE("{\"a\x01\":1}");
	ACCEPT("\"\x7f\"");   /* DEL is not a control character to JSON */
	ACCEPT("\" ~\"");
}

static void test_utf8(void)
{
	ACCEPT("\"\xC3\xA9\"");               /* U+00E9 */
	ACCEPT("\"\xC2\x80\"");               /* U+0080, smallest 2-byte */
	ACCEPT("\"\xDF\xBF\"");               /* U+07FF */
	ACCEPT("\"\xE0\xA0\x80\"");           /* U+0800, smallest 3-byte */
	ACCEPT("\"\xE2\x82\xAC\"");           /* U+20AC */
	ACCEPT("\"\xED\x9F\xBF\"");           /* U+D7FF, just below the surrogates */
	ACCEPT("\"\xEE\x80\x80\"");           /* U+E000, just above */
	ACCEPT("\"\xEF\xBF\xBF\"");           /* U+FFFF */
	ACCEPT("\"\xF0\x90\x80\x80\"");       /* U+10000 */
	ACCEPT("\"\xF0\x9F\x98\x80\"");       /* U+1F600 */
	ACCEPT("\"\xF4\x8F\xBF\xBF\"");       /* U+10FFFF */
	ACCEPT("{\"\xC3\xA9\":\"\xE2\x82\xAC\"}");
	ACCEPT("\"\xEF\xBB\xBF\"");           /* a BOM inside a string is a character */

	REFUSE("\"\xC0\xAF\"");               /* overlong '/' */
	REFUSE("\"\xC0\x80\"");               /* overlong NUL */
	REFUSE("\"\xC1\xBF\"");
	REFUSE("\"\xE0\x80\xAF\"");           /* 3-byte overlong */
	REFUSE("\"\xE0\x9F\xBF\"");
	REFUSE("\"\xF0\x80\x80\xAF\"");       /* 4-byte overlong */
	REFUSE("\"\xF0\x8F\xBF\xBF\"");
	REFUSE("\"\xED\xA0\x80\"");           /* U+D800 encoded */
	REFUSE("\"\xED\xBF\xBF\"");           /* U+DFFF encoded */
	REFUSE("\"\xED\xA0\xBD\xED\xB8\x80\""); /* CESU-8 pair */
	REFUSE("\"\xF4\x90\x80\x80\"");       /* U+110000 */
	REFUSE("\"\xF5\x80\x80\x80\"");
	REFUSE("\"\xF8\x88\x80\x80\x80\"");
	REFUSE("\"\xFE\"");
	REFUSE("\"\xFF\"");
	REFUSE("\"\x80\"");                   /* lone continuation */
	REFUSE("\"\xBF\"");
	REFUSE("\"\xC3\"");                   /* truncated */
	REFUSE("\"\xE2\x82\"");
	REFUSE("\"\xF0\x9F\x98\"");
	REFUSE("\"\xE2\x82");                 /* truncated by the end */
	REFUSE("\"\xF0\x9F");
	REFUSE("\"\xC3\x28\"");               /* bad continuation */
	REFUSE("\"\xE2\x28\xA1\"");
	REFUSE("\"\xF0\x9F\x98\x28\"");
	REFUSE("\xC3\xA9");                   /* non-ASCII outside a string */
	REFUSE("[\"a\",\xC3\xA9]");

	/* a byte-order mark before the text is refused (our choice) */
	REFUSE("\xEF\xBB\xBF{}");
	REFUSE("\xEF\xBB\xBF\"a\"");
	REFUSE("\xFE\xFF{}");
}

/* `n` copies of `open`, then `mid`, then `n` copies of `close`; malloc'd. */
static char *nest(size_t n, const char *open, const char *mid, const char *close, size_t *len)
{
	size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
	char *s = malloc(n * (lo + lc) + lm + 1), *p = s;

	if (s == NULL)
		abort();
	for (size_t i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, mid, lm);
	p += lm;
	for (size_t i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

static void test_depth(void)
{
	size_t len;
	char *s;

	s = nest(64, "[", "", "]", &len);
	expect_valid(1, s, len, "64 nested arrays are accepted");
	free(s);
	s = nest(65, "[", "", "]", &len);
	expect_valid(0, s, len, "65 nested arrays are refused");
	free(s);
	s = nest(64, "[", "1", "]", &len);
	expect_valid(1, s, len, "64 nested arrays around a number are accepted");
	free(s);
	s = nest(64, "{\"a\":", "1", "}", &len);
	expect_valid(1, s, len, "64 nested objects are accepted");
	free(s);
	s = nest(65, "{\"a\":", "1", "}", &len);
	expect_valid(0, s, len, "65 nested objects are refused");
	free(s);
	s = nest(63, "{\"a\":", "{}", "}", &len);
	expect_valid(1, s, len, "63 objects around an empty object (64) are accepted");
	free(s);
	s = nest(64, "{\"a\":", "{}", "}", &len);
	expect_valid(0, s, len, "64 objects around an empty object (65) are refused");
	free(s);
	s = nest(32, "[{\"k\":", "0", "}]", &len);
	expect_valid(1, s, len, "64 levels of alternating arrays and objects are accepted");
	free(s);
	s = nest(32, "[{\"k\":", "[]", "}]", &len);
	expect_valid(0, s, len, "65 levels of alternating arrays and objects are refused");
	free(s);

	/* Depth is the nesting, not the count: many siblings at depth 64 are fine. */
	{
		char *a = nest(63, "[", "[],[],[],[]", "]", &len);

		expect_valid(1, a, len, "siblings at depth 64 are accepted");
		free(a);
	}

	/* An attack: 100000 '[' (closed or not) must be refused, not crash. */
	s = nest(100000, "[", "", "]", &len);
	expect_valid(0, s, len, "100000 nested arrays are refused");
	expect_valid(0, s, 100000, "100000 unclosed '[' are refused");
	free(s);
	s = nest(100000, "{\"a\":", "1", "}", &len);
	expect_valid(0, s, len, "100000 nested objects are refused");
	free(s);
}

static void test_null_buffer(void)
{
	CHECK(body_json_valid(NULL, 0) == 0);
	CHECK(body_json_valid("{}", 0) == 0);
	CHECK(body_json_valid("{}xyz", 2) == 1); /* only `len` bytes are looked at */
}

/* ---- Content-Type ---- */

static void test_content_type(void)
{
	CHECK(body_is_json_content_type("application/json"));
	CHECK(body_is_json_content_type("Application/JSON; charset=UTF-8"));
	CHECK(body_is_json_content_type("application/json;charset=utf-8"));
	CHECK(body_is_json_content_type("APPLICATION/JSON"));
	CHECK(body_is_json_content_type("application/json; charset=\"utf-8\""));
	CHECK(body_is_json_content_type("application/json ; charset=utf-8"));
	CHECK(body_is_json_content_type("application/json;\tcharset=Utf-8 "));
	CHECK(body_is_json_content_type("application/json; foo=bar"));
	CHECK(body_is_json_content_type("application/json; foo=\"a;b\"; charset=utf-8"));
	CHECK(body_is_json_content_type("application/json;"));
	CHECK(body_is_json_content_type(" application/json"));

	CHECK(!body_is_json_content_type(NULL));
	CHECK(!body_is_json_content_type(""));
	CHECK(!body_is_json_content_type("text/plain"));
	CHECK(!body_is_json_content_type("text/json"));
	CHECK(!body_is_json_content_type("application/jsonx"));
	CHECK(!body_is_json_content_type("application/json-patch"));
	CHECK(!body_is_json_content_type("application/json-patch+json"));
	CHECK(!body_is_json_content_type("application/merge-patch+json"));
	CHECK(!body_is_json_content_type("application/x-www-form-urlencoded"));
	CHECK(!body_is_json_content_type("multipart/form-data; boundary=x"));
	CHECK(!body_is_json_content_type("application/"));
	CHECK(!body_is_json_content_type("application"));
	CHECK(!body_is_json_content_type("application /json"));
	CHECK(!body_is_json_content_type("application/ json"));
	CHECK(!body_is_json_content_type("application/json charset=utf-8"));
	CHECK(!body_is_json_content_type("application/json, text/plain"));
	CHECK(!body_is_json_content_type("application/json; charset=latin1"));
	CHECK(!body_is_json_content_type("application/json; charset=iso-8859-1"));
	CHECK(!body_is_json_content_type("application/json; charset=utf-16"));
	CHECK(!body_is_json_content_type("application/json; charset=utf8"));
	CHECK(!body_is_json_content_type("application/json; charset=utf-8x"));
	CHECK(!body_is_json_content_type("application/json; charset="));
	CHECK(!body_is_json_content_type("application/json; charset=\"\""));
	CHECK(!body_is_json_content_type("application/json; charset=utf-8; charset=latin1"));
	CHECK(!body_is_json_content_type("application/json; charset=\"utf-8"));
	CHECK(!body_is_json_content_type("application/json; charset"));
	CHECK(!body_is_json_content_type("application/json; =utf-8"));
	CHECK(!body_is_json_content_type("application/json; charset = utf-8"));
	CHECK(!body_is_json_content_type(
	    "application/json; charset=utf-8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	CHECK(!body_is_json_content_type("application/json; charset=\"utf-8\\"));
	CHECK(!body_is_json_content_type("application/json\r\n"));
}

/* ---- body_parse_json end to end ---- */

static struct fake_io f;
static struct request req;
static struct response resp;

/*
 * A POST with the given Content-Type and Content-Length (NULL: absent) and
 * body, parsed with limit `max`.
 */
static enum body_result run(const char *ct, const char *cl, const char *body, size_t len,
    size_t max, int want_object, cJSON **out)
{
	req_free(&req);
	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "POST");
	fake_io_param(&f, "REQUEST_URI", "/api/auth/login");
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
	fake_io_param(&f, "HTTP_X_REQUEST_ID", "rid-1");
	if (ct != NULL)
		fake_io_param(&f, "CONTENT_TYPE", ct);
	if (cl != NULL)
		fake_io_param(&f, "CONTENT_LENGTH", cl);
	fake_io_body(&f, body, len, 7);
	req_init(&req, &f.io, NULL, HASH_KEY, sizeof(HASH_KEY) - 1);
	return body_parse_json(&req, max, want_object, out);
}

/* Same, with Content-Length the length of the string `body`. */
static enum body_result run_str(const char *ct, const char *body, size_t max, int want_object,
    cJSON **out)
{
	static char cl[32];

	snprintf(cl, sizeof(cl), "%zu", strlen(body));
	return run(ct, cl, body, strlen(body), max, want_object, out);
}

static void test_parse(void)
{
	cJSON *j = (cJSON *)1;
	const cJSON *v;
	size_t len;
	char *s;

	/* the good case */
	CHECK(run_str("application/json", "{\"a\":\"\\ud83d\\ude00\",\"n\":-0}", 1024, 1, &j) ==
	    BODY_JSON_OK);
	CHECK(cJSON_IsObject(j));
	v = cJSON_GetObjectItemCaseSensitive(j, "a");
	CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "\xF0\x9F\x98\x80") == 0);
	cJSON_Delete(j);

	CHECK(run_str("Application/JSON; charset=UTF-8", "{}", 1024, 1, &j) == BODY_JSON_OK);
	cJSON_Delete(j);
	CHECK(run_str("application/json;charset=utf-8", " {\"x\":[1,2]} \n", 1024, 1, &j) ==
	    BODY_JSON_OK);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "x")) == 2);
	cJSON_Delete(j);

	/* want_object = 0 takes any value */
	CHECK(run_str("application/json", "[1]", 1024, 0, &j) == BODY_JSON_OK);
	CHECK(cJSON_IsArray(j));
	cJSON_Delete(j);
	CHECK(run_str("application/json", "\"s\"", 1024, 0, &j) == BODY_JSON_OK);
	CHECK(cJSON_IsString(j));
	cJSON_Delete(j);
	CHECK(run_str("application/json", "null", 1024, 0, &j) == BODY_JSON_OK);
	CHECK(cJSON_IsNull(j));
	cJSON_Delete(j);

	/* not an object */
	j = (cJSON *)1;
	CHECK(run_str("application/json", "[1]", 1024, 1, &j) == BODY_JSON_NOT_OBJECT);
	CHECK(j == NULL);
	CHECK(run_str("application/json", "null", 1024, 1, &j) == BODY_JSON_NOT_OBJECT);
	CHECK(run_str("application/json", "\"{}\"", 1024, 1, &j) == BODY_JSON_NOT_OBJECT);
	CHECK(run_str("application/json", "42", 1024, 1, &j) == BODY_JSON_NOT_OBJECT);

	/* 415, decided without reading the body */
	j = (cJSON *)1;
	CHECK(run_str("text/plain", "{}", 1024, 1, &j) == BODY_JSON_MEDIA);
	CHECK(j == NULL);
	CHECK(f.reads == 0);
	CHECK(run_str(NULL, "{}", 1024, 1, &j) == BODY_JSON_MEDIA);
	CHECK(f.reads == 0);
	CHECK(run_str("application/jsonx", "{}", 1024, 1, &j) == BODY_JSON_MEDIA);
	CHECK(run_str("text/json", "{}", 1024, 1, &j) == BODY_JSON_MEDIA);
	CHECK(run_str("application/json-patch", "{}", 1024, 1, &j) == BODY_JSON_MEDIA);
	CHECK(run_str("application/json; charset=latin1", "{}", 1024, 1, &j) == BODY_JSON_MEDIA);
	CHECK(run_str("application/x-www-form-urlencoded", "a=b", 1024, 1, &j) ==
	    BODY_JSON_MEDIA);

	/* 413 by Content-Length alone, before the content type, never read */
	CHECK(run("application/json", "1025", "{}", 2, 1024, 1, &j) == BODY_JSON_TOO_LARGE);
	CHECK(f.reads == 0);
	CHECK(run("text/plain", "1025", "{}", 2, 1024, 1, &j) == BODY_JSON_TOO_LARGE);
	CHECK(run(NULL, "5000", "{}", 2, 1024, 1, &j) == BODY_JSON_TOO_LARGE);
	CHECK(run("application/json", "99999999999999999999999999", "{}", 2, 1024, 1, &j) ==
	    BODY_JSON_TOO_LARGE);
	CHECK(run("application/json", "18446744073709551616", "{}", 2, 1024, 1, &j) ==
	    BODY_JSON_TOO_LARGE);
	CHECK(f.reads == 0);
	/* exactly the limit is fine; one more is not */
	{
		char big[1100];

		memset(big, ' ', sizeof(big));
		memcpy(big, "{}", 2);
		CHECK(run("application/json", "1024", big, 1024, 1024, 1, &j) == BODY_JSON_OK);
		cJSON_Delete(j);
		CHECK(run("application/json", "1025", big, 1025, 1024, 1, &j) ==
		    BODY_JSON_TOO_LARGE);
	}

	/* no body */
	CHECK(run("application/json", NULL, "", 0, 1024, 1, &j) == BODY_JSON_MISSING);
	CHECK(run("application/json", "", "", 0, 1024, 1, &j) == BODY_JSON_MISSING);
	CHECK(run("application/json", "0", "", 0, 1024, 1, &j) == BODY_JSON_MISSING);
	CHECK(run("application/json", "000", "", 0, 1024, 1, &j) == BODY_JSON_MISSING);
	/* 415 is only for a request with a body */
	CHECK(run(NULL, NULL, "", 0, 1024, 1, &j) == BODY_JSON_MISSING);
	CHECK(run("text/plain", "0", "", 0, 1024, 1, &j) == BODY_JSON_MISSING);

	/* a bad Content-Length, or a body shorter than it says */
	CHECK(run("application/json", "abc", "{}", 2, 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run("application/json", "-2", "{}", 2, 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run("application/json", " 2", "{}", 2, 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run("application/json", "2x", "{}", 2, 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run("application/json", "10", "{}", 2, 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(body_parse_json(&req, 1024, 1, &j) == BODY_JSON_INVALID); /* asked again */

	/* invalid JSON, and what cJSON alone would have let through */
	j = (cJSON *)1;
	CHECK(run_str("application/json", "{\"a\":1,}", 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(j == NULL);
	CHECK(run_str("application/json", "{\"a\":\"\\ud83d\"}", 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run_str("application/json", "{\"a\":\"\xC0\xAF\"}", 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run_str("application/json", "\x01{}", 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run_str("application/json", "{}\f", 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run_str("application/json", "\xEF\xBB\xBF{}", 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run_str("application/json", "   ", 1024, 1, &j) == BODY_JSON_INVALID);
	CHECK(run("application/json", "3", "{}\0", 3, 1024, 1, &j) == BODY_JSON_INVALID);
	s = nest(65, "[", "", "]", &len);
	CHECK(run_str("application/json", s, 1024, 0, &j) == BODY_JSON_INVALID);
	free(s);
	s = nest(64, "{\"a\":", "1", "}", &len);
	CHECK(run_str("application/json", s, 1024, 1, &j) == BODY_JSON_OK);
	cJSON_Delete(j);
	free(s);
	s = nest(65, "{\"a\":", "1", "}", &len);
	CHECK(run_str("application/json", s, 1024, 1, &j) == BODY_JSON_INVALID);
	free(s);
	s = nest(100000, "[", "", "]", &len);
	CHECK(run_str("application/json", s, 1000000, 0, &j) == BODY_JSON_INVALID);
	free(s);

	req_free(&req);
}

/* ---- body_reply_error: the answer as written to the io ---- */

/* The JSON body written to the fake io, parsed; NULL when there is none. */
static cJSON *written_body(void)
{
	const char *sep = strstr(f.out, "\r\n\r\n");

	return sep != NULL ? cJSON_Parse(sep + 4) : NULL;
}

static void reply(enum body_result r)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	c.req = &req;
	c.resp = &resp;
	resp_init(&resp);
	fake_io_reset_out(&f);
	body_reply_error(&c, r);
	resp_send(&resp, &req);
	resp_free(&resp);
}

static void expect_reply(enum body_result r, const char *status_line, const char *code)
{
	cJSON *b, *err;
	char what[128];

	reply(r);
	snprintf(what, sizeof(what), "result %d answers %s", (int)r, status_line);
	CHECK_MSG(strncmp(f.out, status_line, strlen(status_line)) == 0, what);
	b = written_body();
	err = cJSON_GetObjectItemCaseSensitive(b, "error");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "code")), code);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(err, "request_id")),
	    "rid-1");
	CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(err, "message")));
	if (strcmp(code, "validation_failed") != 0)
		CHECK(cJSON_GetObjectItemCaseSensitive(err, "fields") == NULL);
	cJSON_Delete(b);
}

static void test_reply(void)
{
	cJSON *b, *fields, *j = NULL;
	char *printed;

	run_str("application/json", "[]", 1024, 1, &j);
	expect_reply(BODY_JSON_MISSING, "Status: 400 ", "invalid_json");
	expect_reply(BODY_JSON_INVALID, "Status: 400 ", "invalid_json");
	expect_reply(BODY_JSON_MEDIA, "Status: 415 ", "unsupported_media_type");
	expect_reply(BODY_JSON_TOO_LARGE, "Status: 413 ", "payload_too_large");
	expect_reply(BODY_JSON_NOT_OBJECT, "Status: 422 ", "validation_failed");

	/* 422: fields is exactly {"body":"invalid_type"} */
	reply(BODY_JSON_NOT_OBJECT);
	b = written_body();
	fields = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "error"),
	    "fields");
	printed = fields != NULL ? cJSON_PrintUnformatted(fields) : NULL;
	CHECK_STR(printed, "{\"body\":\"invalid_type\"}");
	free(printed);
	cJSON_Delete(b);
	CHECK(strstr(f.out, "Content-Type: application/json; charset=utf-8\r\n") != NULL);

	/* the invalid_json message is the contract's */
	reply(BODY_JSON_INVALID);
	b = written_body();
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(b, "error"), "message")),
	    "the body is not valid JSON");
	cJSON_Delete(b);

	/* OK answers nothing */
	{
		struct ctx c;

		memset(&c, 0, sizeof(c));
		c.req = &req;
		c.resp = &resp;
		resp_init(&resp);
		body_reply_error(&c, BODY_JSON_OK);
		CHECK(resp.status == 0 && resp.body == NULL);
		resp_free(&resp);
	}
	req_free(&req);
}

/* ---- body_members: the top-level object on its exact bytes ---- */

/* What the walk saw, printed: name=value; (value <type> when not a string; \0 as "\0"). */
static char seen[512];
static int stop_after;

static void put_bytes(const char *p, size_t n)
{
	size_t o = strlen(seen);

	for (size_t i = 0; i < n && o + 3 < sizeof(seen); i++) {
		if (p[i] == '\0') {
			seen[o++] = '\\';
			seen[o++] = '0';
		} else {
			seen[o++] = p[i];
		}
	}
	seen[o] = '\0';
}

static int on_member(const struct body_member *m, void *arg)
{
	int *calls = arg;

	CHECK_MSG(m->name[m->name_len] == '\0', "a member name is NUL-terminated");
	put_bytes(m->name, m->name_len);
	put_bytes("=", 1);
	if (m->is_string) {
		CHECK_MSG(m->value[m->value_len] == '\0', "a string value is NUL-terminated");
		put_bytes(m->value, m->value_len);
	} else {
		CHECK_MSG(m->value == NULL && m->value_len == 0, "a non-string has no value");
		put_bytes("<v>", 3);
	}
	put_bytes(";", 1);
	return ++*calls == stop_after;
}

/* A string literal and its exact length (embedded NULs included). */
#define S(lit) (lit), sizeof(lit) - 1

static int walk(const char *body, size_t len)
{
	int calls = 0;

	seen[0] = '\0';
	return body_members(body, len, on_member, &calls);
}

static void test_members(void)
{
	stop_after = 0;
	CHECK(walk(S("{\"a\":\"1\",\"b\":2,\"c\":{\"d\":\"x\"},\"e\":[\"f\"],\"g\":null}")) == 1);
	CHECK_STR(seen, "a=1;b=<v>;c=<v>;e=<v>;g=<v>;");
	CHECK(walk(S(" \r\n{ \"a\" : \"1\" , \"b\" :\t\"\" }\n")) == 1);
	CHECK_STR(seen, "a=1;b=;");
	CHECK(walk(S("{}")) == 1);
	CHECK_STR(seen, "");
	/* U+0000 neither ends nor shortens a name or a value */
	CHECK(walk(S("{\"password\\u0000\":\"x\\u0000y\",\"\\u0000\":\"\"}")) == 1);
	CHECK_STR(seen, "password\\0=x\\0y;\\0=;");
	/* escapes are decoded: \" \\ \/ \b \f \n \r \t \uXXXX and surrogate pairs */
	CHECK(walk(S("{\"q\\\"\":\"\\\\\\/\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\ud83d\\ude00\"}")) == 1);
	CHECK_STR(seen, "q\"=\\/\b\f\n\r\t;u=\xC3\xA9\xF0\x9F\x98\x80;");
	/* a string holding what looks like structure is one value */
	CHECK(walk(S("{\"a\":\"},{\\\"b\\\":\",\"c\":[{\"d\":\"]}\"}],\"e\":\"z\"}")) == 1);
	CHECK_STR(seen, "a=},{\"b\":;c=<v>;e=z;");
	/* numbers and literals of every shape are skipped whole */
	CHECK(walk(S("{\"a\":-1.5e+3,\"b\":true,\"c\":false,\"d\":0,\"e\":\"end\"}")) == 1);
	CHECK_STR(seen, "a=<v>;b=<v>;c=<v>;d=<v>;e=end;");
	/* the callback can stop the walk */
	stop_after = 1;
	CHECK(walk(S("{\"a\":\"1\",\"b\":\"2\"}")) == 1);
	CHECK_STR(seen, "a=1;");
	stop_after = 0;
	/* not an object, or not valid JSON: 0, never a call */
	CHECK(walk(S("[{\"a\":\"1\"}]")) == 0);
	CHECK(walk(S("\"a\"")) == 0);
	CHECK(walk(S("{\"a\":\"1\"")) == 0);
	CHECK(walk(S("{\"a\":\"1\"}x")) == 0);
	CHECK(walk(S("{\"a\":\"1\"}\0")) == 0);
	CHECK(walk(S("")) == 0);
	CHECK(body_members(NULL, 0, on_member, NULL) == 0);
	CHECK_STR(seen, "");
}

int main(void)
{
	test_grammar();
	test_strings();
	test_utf8();
	test_depth();
	test_null_buffer();
	test_content_type();
	test_parse();
	test_reply();
	test_members();
	return check_summary();
}
