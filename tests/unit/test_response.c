/*
 * test_response.c - unit tests of lib/response.c over a fake struct io
 * (tests/unit/fake_io.h): the exact bytes resp_send() writes, the error
 * envelope parsed back with cJSON, header injection and overflow, HEAD,
 * 204 and a response nobody answered.
 */
#include "response.h"
#include "check.h"
#include "fake_io.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define RID "rid-42.x_Y"
#define HASH_KEY "unit-test-hash-key-0123456789abcdef"

static struct fake_io f;

/* A request with method `method` and the incoming id RID. */
static void start(struct request *req, const char *method)
{
	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", method);
	fake_io_param(&f, "REQUEST_URI", "/api/data/k");
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
	fake_io_param(&f, "HTTP_X_REQUEST_ID", RID);
	req_init(req, &f.io, NULL, HASH_KEY, sizeof(HASH_KEY) - 1);
}

/* 1 when what was written begins with `prefix`. */
static int starts_with(const char *prefix)
{
	return strncmp(f.out, prefix, strlen(prefix)) == 0;
}

/* The body written (after the blank line), or NULL if there is no blank line. */
static const char *body_of(void)
{
	const char *sep = strstr(f.out, "\r\n\r\n");

	return sep != NULL ? sep + 4 : NULL;
}

/*
 * The value of header `name` in the written head (first occurrence), copied
 * into a static buffer; NULL when absent.
 */
static const char *header_of(const char *name)
{
	static char value[8192];
	const char *end = strstr(f.out, "\r\n\r\n");
	size_t nlen = strlen(name);

	if (end == NULL)
		return NULL;
	for (const char *line = f.out; line < end;) {
		const char *eol = strstr(line, "\r\n");

		if (strncmp(line, name, nlen) == 0 && line[nlen] == ':' && line[nlen + 1] == ' ') {
			size_t vlen = (size_t)(eol - line) - nlen - 2;

			memcpy(value, line + nlen + 2, vlen);
			value[vlen] = '\0';
			return value;
		}
		line = eol + 2;
	}
	return NULL;
}

/* How many header lines called `name` the head holds. */
static int header_count(const char *name)
{
	const char *end = strstr(f.out, "\r\n\r\n");
	size_t nlen = strlen(name);
	int n = 0;

	if (end == NULL)
		return 0;
	for (const char *line = f.out; line < end;) {
		if (strncmp(line, name, nlen) == 0 && line[nlen] == ':')
			n++;
		line = strstr(line, "\r\n") + 2;
	}
	return n;
}

/* The written body's Content-Length matches its size. */
static int length_matches(void)
{
	const char *cl = header_of("Content-Length"), *body = body_of();
	char want[32];

	if (cl == NULL || body == NULL)
		return 0;
	snprintf(want, sizeof(want), "%zu", strlen(body));
	return strcmp(cl, want) == 0;
}

/* The error object of the written envelope (owned by *root), or NULL. */
static cJSON *parse_error(cJSON **root)
{
	cJSON *err;

	*root = body_of() != NULL ? cJSON_Parse(body_of()) : NULL;
	if (*root == NULL || !cJSON_IsObject(*root) || cJSON_GetArraySize(*root) != 1)
		return NULL;
	err = cJSON_GetObjectItemCaseSensitive(*root, "error");
	return cJSON_IsObject(err) ? err : NULL;
}

static const char *str_item(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void test_json_exact(void)
{
	struct request req;
	struct response resp;
	cJSON *body = cJSON_CreateObject();

	start(&req, "GET");
	resp_init(&resp);
	CHECK(resp.status == 0 && resp.body == NULL && resp.headers_len == 0);
	cJSON_AddNumberToObject(body, "a", 1);
	resp_json(&resp, &req, 200, body);
	CHECK(resp.status == 200);
	CHECK(resp_header(&resp, "ETag", "\"3\"") == 0);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK_STR(f.out,
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 7\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: " RID "\r\n"
	    "ETag: \"3\"\r\n"
	    "\r\n"
	    "{\"a\":1}");
	CHECK(f.out_len == strlen(f.out));
	resp_free(&resp);
	CHECK(resp.body == NULL);
	resp_free(&resp);
	req_free(&req);

	/* 201 with a body holding non-ASCII text: Content-Length counts bytes. */
	start(&req, "PUT");
	resp_init(&resp);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "v", "\xc3\xa9\xe2\x82\xac");
	resp_json(&resp, &req, 201, body);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 201 Created\r\n"));
	CHECK_STR(header_of("Content-Length"), "13");
	CHECK(length_matches());
	resp_free(&resp);
	req_free(&req);
}

static void test_error_envelope(void)
{
	struct request req;
	struct response resp;
	cJSON *root, *err, *fields;

	start(&req, "GET");
	resp_init(&resp);
	resp_error(&resp, &req, 404, "not_found", "no such key", NULL);
	CHECK(resp.status == 404);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 404 Not Found\r\n"));
	CHECK_STR(header_of("Content-Type"), "application/json; charset=utf-8");
	CHECK_STR(header_of("Cache-Control"), "no-store");
	CHECK_STR(header_of("X-Request-Id"), RID);
	CHECK(header_of("Retry-After") == NULL);
	CHECK(length_matches());
	err = parse_error(&root);
	CHECK(err != NULL);
	CHECK_STR(str_item(err, "code"), "not_found");
	CHECK_STR(str_item(err, "message"), "no such key");
	CHECK_STR(str_item(err, "request_id"), RID);
	CHECK(cJSON_GetObjectItemCaseSensitive(err, "fields") == NULL);
	CHECK(cJSON_GetArraySize(err) == 3);
	cJSON_Delete(root);
	resp_free(&resp);

	/* 422 carries fields. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	fields = cJSON_CreateObject();
	cJSON_AddStringToObject(fields, "password", "too_short");
	cJSON_AddStringToObject(fields, "username", "required");
	resp_error(&resp, &req, 422, "validation_failed", "password is too short", fields);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 422 Unprocessable Content\r\n"));
	CHECK(length_matches());
	err = parse_error(&root);
	CHECK(err != NULL);
	CHECK_STR(str_item(err, "code"), "validation_failed");
	CHECK_STR(str_item(err, "message"), "password is too short");
	CHECK_STR(str_item(err, "request_id"), RID);
	fields = cJSON_GetObjectItemCaseSensitive(err, "fields");
	CHECK(cJSON_IsObject(fields));
	CHECK(cJSON_GetArraySize(fields) == 2);
	CHECK_STR(str_item(fields, "password"), "too_short");
	CHECK_STR(str_item(fields, "username"), "required");
	cJSON_Delete(root);
	resp_free(&resp);

	/* fields passed for a 400 are dropped (and freed: ASan checks the leak). */
	fake_io_reset_out(&f);
	resp_init(&resp);
	fields = cJSON_CreateObject();
	cJSON_AddStringToObject(fields, "body", "invalid_type");
	resp_error(&resp, &req, 400, "invalid_json", "body is not valid JSON", fields);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 400 Bad Request\r\n"));
	err = parse_error(&root);
	CHECK(err != NULL);
	CHECK_STR(str_item(err, "code"), "invalid_json");
	CHECK(cJSON_GetObjectItemCaseSensitive(err, "fields") == NULL);
	CHECK(strstr(f.out, "invalid_type") == NULL);
	cJSON_Delete(root);
	resp_free(&resp);

	/* A message with quotes, backslash and control bytes is escaped, not injected. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	resp_error(&resp, &req, 409, "username_taken", "\"x\"\\\n\t}", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	err = parse_error(&root);
	CHECK(err != NULL);
	CHECK_STR(str_item(err, "message"), "\"x\"\\\n\t}");
	CHECK(strchr(body_of(), '\n') == NULL);
	cJSON_Delete(root);
	resp_free(&resp);
	req_free(&req);

	/* A generated request id ends up in both the header and the body. */
	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "GET");
	fake_io_param(&f, "HTTP_X_REQUEST_ID", "bad id!");
	req_init(&req, &f.io, NULL, NULL, 0);
	resp_init(&resp);
	resp_error(&resp, &req, 401, "unauthenticated", "no token", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(strlen(req.id) == 32);
	CHECK_STR(header_of("X-Request-Id"), req.id);
	err = parse_error(&root);
	CHECK(err != NULL);
	CHECK_STR(str_item(err, "request_id"), req.id);
	CHECK(strstr(f.out, "bad id!") == NULL);
	cJSON_Delete(root);
	resp_free(&resp);
	req_free(&req);
}

static void test_retry_after_and_allow(void)
{
	struct request req;
	struct response resp;
	const char *ra;
	cJSON *root, *err;

	start(&req, "GET");
	resp_init(&resp);
	resp_error(&resp, &req, 503, "service_unavailable", "database unavailable", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 503 Service Unavailable\r\n"));
	ra = header_of("Retry-After");
	CHECK(ra != NULL && ra[0] >= '1' && ra[0] <= '9' && strspn(ra, "0123456789") == strlen(ra));
	CHECK(header_count("Retry-After") == 1);
	err = parse_error(&root);
	CHECK_STR(str_item(err, "code"), "service_unavailable");
	cJSON_Delete(root);
	resp_free(&resp);

	/* 405: the caller's Allow header goes out as given. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	CHECK(resp_header(&resp, "Allow", "GET, HEAD, PUT, DELETE") == 0);
	resp_error(&resp, &req, 405, "method_not_allowed", "method not allowed", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 405 Method Not Allowed\r\n"));
	CHECK_STR(header_of("Allow"), "GET, HEAD, PUT, DELETE");
	CHECK(header_of("Retry-After") == NULL);
	resp_free(&resp);

	/* 429 with formatted rate-limit fields; repeated names are all kept. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	CHECK(resp_headerf(&resp, "RateLimit-Policy", "\"%s\";q=%d;w=%d", "auth", 20, 60) == 0);
	CHECK(resp_headerf(&resp, "Retry-After", "%d", 17) == 0);
	CHECK(resp_header(&resp, "Set-Cookie", "a=1") == 0);
	CHECK(resp_header(&resp, "Set-Cookie", "b=2") == 0);
	resp_error(&resp, &req, 429, "rate_limited", "too many requests", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 429 Too Many Requests\r\n"));
	CHECK_STR(header_of("RateLimit-Policy"), "\"auth\";q=20;w=60");
	CHECK_STR(header_of("Retry-After"), "17");
	CHECK(header_count("Set-Cookie") == 2);
	CHECK(strstr(f.out, "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n") != NULL);
	resp_free(&resp);
	req_free(&req);
}

static void test_no_content(void)
{
	struct request req;
	struct response resp;
	cJSON *body;

	start(&req, "DELETE");
	resp_init(&resp);
	resp_empty(&resp, 204);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK_STR(f.out,
	    "Status: 204 No Content\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: " RID "\r\n"
	    "\r\n");
	CHECK(header_of("Content-Type") == NULL);
	CHECK(header_of("Content-Length") == NULL);
	resp_free(&resp);

	/* A body set before resp_empty() is dropped. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "leak", "me");
	resp_json(&resp, &req, 200, body);
	resp_empty(&resp, 204);
	CHECK(resp.body == NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(strstr(f.out, "leak") == NULL);
	CHECK_STR(body_of(), "");
	resp_free(&resp);

	/* 304 keeps the ETag and has no body or Content-Type either. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	CHECK(resp_header(&resp, "ETag", "\"7\"") == 0);
	resp_empty(&resp, 304);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK_STR(f.out,
	    "Status: 304 Not Modified\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: " RID "\r\n"
	    "ETag: \"7\"\r\n"
	    "\r\n");
	resp_free(&resp);

	/* Any other status without a body says so with Content-Length: 0. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	resp_empty(&resp, 200);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK_STR(header_of("Content-Length"), "0");
	CHECK(header_of("Content-Type") == NULL);
	CHECK_STR(body_of(), "");
	resp_free(&resp);
	req_free(&req);
}

static void test_head(void)
{
	struct request req;
	struct response resp;
	cJSON *body = cJSON_CreateObject();
	const char *b;

	start(&req, "HEAD");
	resp_init(&resp);
	cJSON_AddStringToObject(body, "status", "ok");
	resp_json(&resp, &req, 200, body);
	CHECK(resp_send(&resp, &req) == 0);
	/* The headers of GET, Content-Length included, and not one body byte. */
	CHECK_STR(f.out,
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 15\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: " RID "\r\n"
	    "\r\n");
	b = body_of();
	CHECK(b != NULL && *b == '\0');
	CHECK(f.writes == 1);
	resp_free(&resp);

	fake_io_reset_out(&f);
	resp_init(&resp);
	resp_error(&resp, &req, 404, "not_found", "not found", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 404 Not Found\r\n"));
	CHECK_STR(body_of(), "");
	CHECK(strstr(f.out, "not_found") == NULL);
	resp_free(&resp);
	req_free(&req);
}

static void test_header_injection(void)
{
	struct request req;
	struct response resp;

	start(&req, "GET");
	resp_init(&resp);
	CHECK(resp_header(&resp, "X-Ok", "fine") == 0);
	CHECK(resp_header(&resp, "X-Bad", "a\r\nSet-Cookie: evil=1") == -1);
	CHECK(resp_header(&resp, "X-Bad", "a\rb") == -1);
	CHECK(resp_header(&resp, "X-Bad", "a\nb") == -1);
	CHECK(resp_header(&resp, "X-Bad\r\nSet-Cookie: evil", "1") == -1);
	CHECK(resp_header(&resp, "X-Bad\n", "1") == -1);
	CHECK(resp_headerf(&resp, "X-Bad", "%s", "v\r\n") == -1);
	/* A refused header is not an overflow: the response goes out as set. */
	CHECK(resp.headers_overflow == 0);
	CHECK(resp.headers_len == strlen("X-Ok: fine\r\n"));
	resp_error(&resp, &req, 403, "origin_not_allowed", "origin not allowed", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 403 Forbidden\r\n"));
	CHECK_STR(header_of("X-Ok"), "fine");
	CHECK(strstr(f.out, "X-Bad") == NULL);
	CHECK(strstr(f.out, "evil") == NULL);
	CHECK(header_count("Set-Cookie") == 0);
	resp_free(&resp);
	req_free(&req);
}

/* Fills the header block to exactly `total` bytes with one header "X: vvv...". */
static int fill_headers(struct response *resp, size_t total)
{
	size_t vlen = total - strlen("X: \r\n");
	char *v = malloc(vlen + 1);
	int rc;

	if (v == NULL)
		return -2;
	memset(v, 'v', vlen);
	v[vlen] = '\0';
	rc = resp_header(resp, "X", v);
	free(v);
	return rc;
}

static void test_header_overflow(void)
{
	struct request req;
	struct response resp;
	cJSON *body, *root, *err;
	char value[RESP_HEADER_VALUE_MAX + 100];

	start(&req, "GET");

	/* A block filled to its last byte still goes out whole. */
	resp_init(&resp);
	CHECK(fill_headers(&resp, RESP_HEADERS_MAX - 1) == 0);
	CHECK(resp.headers_overflow == 0);
	CHECK(resp.headers_len == RESP_HEADERS_MAX - 1);
	body = cJSON_CreateObject();
	cJSON_AddTrueToObject(body, "ok");
	resp_json(&resp, &req, 200, body);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 200 OK\r\n"));
	CHECK(header_of("X") != NULL && strlen(header_of("X")) == RESP_HEADERS_MAX - 6);
	CHECK_STR(body_of(), "{\"ok\":true}");
	resp_free(&resp);

	/* One byte more does not fit: the header is refused... */
	fake_io_reset_out(&f);
	resp_init(&resp);
	CHECK(fill_headers(&resp, RESP_HEADERS_MAX) == -1);
	CHECK(resp.headers_overflow == 1);
	CHECK(resp.headers_len == 0);
	/* ...and the response becomes a 500 without internals, whatever was set. */
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "secret", "SELECT password_hash FROM users");
	resp_json(&resp, &req, 200, body);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 500 Internal Server Error\r\n"));
	CHECK_STR(header_of("Content-Type"), "application/json; charset=utf-8");
	CHECK_STR(header_of("Cache-Control"), "no-store");
	CHECK_STR(header_of("X-Request-Id"), RID);
	CHECK(header_of("X") == NULL);
	CHECK(strstr(f.out, "SELECT") == NULL);
	CHECK(strstr(f.out, "vvvv") == NULL);
	CHECK(length_matches());
	err = parse_error(&root);
	CHECK(err != NULL);
	CHECK_STR(str_item(err, "code"), "internal_error");
	CHECK_STR(str_item(err, "request_id"), RID);
	CHECK(str_item(err, "message") != NULL);
	CHECK(cJSON_GetArraySize(err) == 3);
	cJSON_Delete(root);
	resp_free(&resp);

	/* Many smaller headers overflow the same way, keeping what fit until then. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	memset(value, 'w', 1000);
	value[1000] = '\0';
	{
		size_t fit = 0;

		/* "X: " + 1000 + CRLF = 1005 bytes a header, plus the final NUL. */
		while (fit < 100 && resp_header(&resp, "X", value) == 0)
			fit++;
		CHECK(fit == (RESP_HEADERS_MAX - 1) / (1000 + 5));
	}
	CHECK(resp_header(&resp, "E", value) == -1);
	CHECK(resp.headers_overflow == 1);
	CHECK(resp.headers_len == (RESP_HEADERS_MAX - 1) / (1000 + 5) * (1000 + 5));
	CHECK(resp.headers[resp.headers_len] == '\0');
	resp_error(&resp, &req, 422, "validation_failed", "bad", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 500 Internal Server Error\r\n"));
	CHECK(strstr(f.out, "wwww") == NULL);
	err = parse_error(&root);
	CHECK_STR(str_item(err, "code"), "internal_error");
	cJSON_Delete(root);
	resp_free(&resp);

	/* resp_headerf refuses a value longer than its buffer without overflowing. */
	resp_init(&resp);
	memset(value, 'z', RESP_HEADER_VALUE_MAX + 99);
	value[RESP_HEADER_VALUE_MAX + 99] = '\0';
	CHECK(resp_headerf(&resp, "Z", "%s", value) == -1);
	CHECK(resp.headers_len == 0);
	resp_free(&resp);
	req_free(&req);
}

static void test_unanswered(void)
{
	struct request req;
	struct response resp;
	cJSON *root, *err;

	start(&req, "GET");
	resp_init(&resp);
	CHECK(resp_header(&resp, "X-Partial", "1") == 0);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 500 Internal Server Error\r\n"));
	CHECK(length_matches());
	err = parse_error(&root);
	CHECK(err != NULL);
	CHECK_STR(str_item(err, "code"), "internal_error");
	CHECK_STR(str_item(err, "request_id"), RID);
	cJSON_Delete(root);
	resp_free(&resp);

	/* A JSON body that cannot be printed (NULL) is a 500 as well. */
	fake_io_reset_out(&f);
	resp_init(&resp);
	resp_json(&resp, &req, 200, NULL);
	CHECK(resp.status == 500);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(starts_with("Status: 500 Internal Server Error\r\n"));
	err = parse_error(&root);
	CHECK_STR(str_item(err, "code"), "internal_error");
	cJSON_Delete(root);
	resp_free(&resp);
	req_free(&req);
}

static void test_write_failure(void)
{
	struct request req;
	struct response resp;

	start(&req, "GET");
	resp_init(&resp);
	resp_error(&resp, &req, 404, "not_found", "not found", NULL);
	f.write_fail = 1;
	CHECK(resp_send(&resp, &req) == -1);
	CHECK(f.out_len == 0);
	resp_free(&resp);
	req_free(&req);
}

static void test_reasons(void)
{
	CHECK_STR(resp_reason(200), "OK");
	CHECK_STR(resp_reason(201), "Created");
	CHECK_STR(resp_reason(204), "No Content");
	CHECK_STR(resp_reason(304), "Not Modified");
	CHECK_STR(resp_reason(401), "Unauthorized");
	CHECK_STR(resp_reason(412), "Precondition Failed");
	CHECK_STR(resp_reason(413), "Content Too Large");
	CHECK_STR(resp_reason(415), "Unsupported Media Type");
	CHECK_STR(resp_reason(429), "Too Many Requests");
	CHECK_STR(resp_reason(500), "Internal Server Error");
	CHECK_STR(resp_reason(599), "Unknown");
}

int main(void)
{
	test_json_exact();
	test_error_envelope();
	test_retry_after_and_allow();
	test_no_content();
	test_head();
	test_header_injection();
	test_header_overflow();
	test_unanswered();
	test_write_failure();
	test_reasons();
	return check_summary();
}
