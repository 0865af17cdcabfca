/*
 * test_web_error.c - unit tests of lib/web_error.c: every status the web
 * server may hand over is answered with a status and code of the contract's
 * table, and web_error() writes that envelope (over tests/unit/fake_io.h)
 * only for a well-formed PORTCULLIS_WEB_ERROR.
 */
#include "web_error.h"
#include "check.h"
#include "fake_io.h"

#include <stdio.h>
#include <string.h>

#define RID "web-err-1"
#define HASH_KEY "unit-test-hash-key-0123456789abcdef"

static struct fake_io f;

/* The (status, code) pairs of the contract's error table. */
static int in_contract(int status, const char *code)
{
	static const struct {
		int status;
		const char *code;
	} pairs[] = {
		{ 400, "invalid_json" }, { 400, "bad_request" }, { 401, "unauthenticated" },
		{ 401, "invalid_credentials" }, { 401, "refresh_token_reused" },
		{ 403, "origin_not_allowed" }, { 403, "quota_exceeded" }, { 404, "not_found" },
		{ 405, "method_not_allowed" }, { 409, "username_taken" }, { 411, "length_required" },
		{ 412, "precondition_failed" }, { 413, "payload_too_large" }, { 414, "uri_too_long" },
		{ 415, "unsupported_media_type" }, { 422, "validation_failed" }, { 429, "rate_limited" },
		{ 431, "header_fields_too_large" }, { 500, "internal_error" },
		{ 503, "service_unavailable" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (pairs[i].status == status && strcmp(pairs[i].code, code) == 0)
			return 1;
	return 0;
}

static void test_every_status_maps_into_the_contract(void)
{
	int bad = 0;

	for (int s = 400; s <= 599; s++) {
		struct web_error_answer a = web_error_for(s);

		if (a.code == NULL || a.message == NULL || !in_contract(a.status, a.code)) {
			printf("#   %d -> %d %s\n", s, a.status, a.code ? a.code : "(null)");
			bad++;
		}
	}
	CHECK_MSG(bad == 0, "every status 400-599 is answered with a pair of the contract's table");
}

static void expect_map(int from, int status, const char *code)
{
	struct web_error_answer a = web_error_for(from);
	char what[96];

	snprintf(what, sizeof(what), "the server's %d is answered %d %s", from, status, code);
	CHECK_MSG(a.status == status && strcmp(a.code, code) == 0, what);
}

static void test_mappings(void)
{
	expect_map(400, 400, "bad_request");
	expect_map(403, 404, "not_found");
	expect_map(404, 404, "not_found");
	expect_map(405, 405, "method_not_allowed");
	expect_map(408, 400, "bad_request");
	expect_map(411, 411, "length_required");
	expect_map(413, 413, "payload_too_large");
	expect_map(414, 414, "uri_too_long");
	expect_map(417, 400, "bad_request");
	expect_map(431, 431, "header_fields_too_large");
	expect_map(500, 500, "internal_error");
	expect_map(501, 400, "bad_request");
	expect_map(502, 500, "internal_error");
	expect_map(503, 503, "service_unavailable");
	expect_map(504, 503, "service_unavailable");
	expect_map(418, 400, "bad_request");
	expect_map(599, 500, "internal_error");
}

/* Runs web_error() on a request with PORTCULLIS_WEB_ERROR=`v` (NULL: none). */
static int run(const char *v, struct request *req, struct response *resp)
{
	int r;

	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "GET");
	fake_io_param(&f, "REQUEST_URI", "/api/.error");
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
	fake_io_param(&f, "HTTP_X_REQUEST_ID", RID);
	if (v != NULL)
		fake_io_param(&f, "PORTCULLIS_WEB_ERROR", v);
	req_init(req, &f.io, NULL, HASH_KEY, sizeof(HASH_KEY) - 1);
	resp_init(resp);
	r = web_error(req, resp);
	if (r)
		CHECK(resp_send(resp, req) == 0);
	return r;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_envelope(void)
{
	struct request req;
	struct response resp;

	CHECK(run("413", &req, &resp) == 1);
	CHECK(strncmp(f.out, "Status: 413 ", 12) == 0);
	CHECK(strstr(f.out, "\"code\":\"payload_too_large\"") != NULL);
	CHECK(strstr(f.out, "\"request_id\":\"" RID "\"") != NULL);
	CHECK(strstr(f.out, "Cache-Control: no-store\r\n") != NULL);
	CHECK(strstr(f.out, "X-Request-Id: " RID "\r\n") != NULL);
	resp_free(&resp);
	req_free(&req);

	CHECK(run("504", &req, &resp) == 1);
	CHECK_MSG(strncmp(f.out, "Status: 503 ", 12) == 0, "a 504 goes out as 503");
	CHECK(strstr(f.out, "\"code\":\"service_unavailable\"") != NULL);
	CHECK_MSG(count(f.out, "Retry-After:") == 1, "the 503 carries one Retry-After");
	resp_free(&resp);
	req_free(&req);

	CHECK(run("403", &req, &resp) == 1);
	CHECK_MSG(strncmp(f.out, "Status: 404 ", 12) == 0, "a 403 goes out as 404");
	CHECK_MSG(strstr(f.out, "forbidden") == NULL, "no code outside the contract");
	resp_free(&resp);
	req_free(&req);
}

static void test_not_a_web_error(void)
{
	static const char *const bad[] = { "", "40", "4130", "399", "600", "4x3", "-40", " 413" };
	struct request req;
	struct response resp;

	CHECK_MSG(run(NULL, &req, &resp) == 0 && f.out_len == 0, "no PORTCULLIS_WEB_ERROR: not one");
	resp_free(&resp);
	req_free(&req);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "PORTCULLIS_WEB_ERROR=\"%s\" is ignored", bad[i]);
		CHECK_MSG(run(bad[i], &req, &resp) == 0 && f.out_len == 0, what);
		resp_free(&resp);
		req_free(&req);
	}
}

int main(void)
{
	test_every_status_maps_into_the_contract();
	test_mappings();
	test_envelope();
	test_not_a_web_error();
	return check_summary();
}
