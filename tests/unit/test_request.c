/*
 * test_request.c - unit tests of lib/request.c over a fake struct io
 * (tests/unit/fake_io.h): method, raw path and query, headers, request id,
 * query parameters, body reading and the client hash.
 */
#include "request.h"
#include "check.h"
#include "fake_io.h"

#include <stdlib.h>
#include <string.h>

#define HASH_KEY "unit-test-hash-key-0123456789abcdef"
#define HASH_KEY_LEN (sizeof(HASH_KEY) - 1)

static int is_hex32(const char *s)
{
	if (strlen(s) != 32)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* A GET of `uri` with nothing else set. */
static void start(struct fake_io *f, struct request *req, const char *uri)
{
	fake_io_init(f);
	fake_io_param(f, "REQUEST_METHOD", "GET");
	if (uri != NULL)
		fake_io_param(f, "REQUEST_URI", uri);
	fake_io_param(f, "REMOTE_ADDR", "192.0.2.10");
	req_init(req, &f->io, NULL, HASH_KEY, HASH_KEY_LEN);
}

static void test_headers(void)
{
	static struct fake_io f;
	struct request req;
	char longname[200];

	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "POST");
	fake_io_param(&f, "REQUEST_URI", "/api/auth/login");
	fake_io_param(&f, "CONTENT_TYPE", "application/json; charset=utf-8");
	fake_io_param(&f, "CONTENT_LENGTH", "0");
	fake_io_param(&f, "HTTP_X_REQUEST_ID", "abc-123");
	fake_io_param(&f, "HTTP_IF_NONE_MATCH", "\"3\"");
	fake_io_param(&f, "HTTP_ORIGIN", "https://app.example.com");
	fake_io_param(&f, "HTTP_CONTENT_TYPE", "wrong/source");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);

	/* Content-Type and Content-Length are CGI meta-variables, not HTTP_*. */
	CHECK_STR(req_header(&req, "Content-Type"), "application/json; charset=utf-8");
	CHECK_STR(req_header(&req, "content-type"), "application/json; charset=utf-8");
	CHECK_STR(req_header(&req, "Content-Length"), "0");
	CHECK_STR(req_header(&req, "X-Request-Id"), "abc-123");
	CHECK_STR(req_header(&req, "x-request-id"), "abc-123");
	CHECK_STR(req_header(&req, "If-None-Match"), "\"3\"");
	CHECK_STR(req_header(&req, "Origin"), "https://app.example.com");
	CHECK(req_header(&req, "Authorization") == NULL);
	CHECK(req_header(&req, "Cookie") == NULL);
	/* A name too long for the lookup is simply absent. */
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	fake_io_param(&f, "HTTP_X", "x");
	CHECK(req_header(&req, longname) == NULL);
	CHECK_STR(req_header(&req, "X"), "x");
	CHECK_STR(req_param(&req, "REQUEST_METHOD"), "POST");
	CHECK(req_param(&req, "NOPE") == NULL);

	CHECK_STR(req.method, "POST");
	CHECK_STR(req.path, "/api/auth/login");
	CHECK_STR(req.query, "");
	CHECK_STR(req.id, "abc-123");
	CHECK_STR(req.route, "other");
	CHECK_STR(req.user_id, "");
	CHECK(req.io == &f.io);
	CHECK(req_elapsed_ms(&req) >= 0.0);
	req_free(&req);
}

static void test_method(void)
{
	static struct fake_io f;
	struct request req;

	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "DELETE");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.method, "DELETE");
	fake_io_param(&f, "REQUEST_METHOD", "get");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.method, "");
	fake_io_param(&f, "REQUEST_METHOD", "G T");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.method, "");
	fake_io_param(&f, "REQUEST_METHOD", "ABCDEFGHIJKLMNOP"); /* 16: fits */
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.method, "ABCDEFGHIJKLMNOP");
	fake_io_param(&f, "REQUEST_METHOD", "ABCDEFGHIJKLMNOPQ"); /* 17: too long */
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.method, "");
	fake_io_param(&f, "REQUEST_METHOD", "");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.method, "");
	fake_io_init(&f);
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.method, "");
	CHECK_STR(req.path, "");
	CHECK_STR(req.query, "");
	CHECK(is_hex32(req.id));
	req_free(&req);
}

static void test_path_query(void)
{
	static struct fake_io f;
	struct request req;
	char *uri = malloc(REQ_PATH_MAX + 16);

	/* The raw path keeps its escapes; the web server's decoding is not used. */
	start(&f, &req, "/api/data/a%2Fb?x=1&y=2");
	fake_io_param(&f, "SCRIPT_NAME", "/api");
	fake_io_param(&f, "PATH_INFO", "/data/a/b");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.path, "/api/data/a%2Fb");
	CHECK_STR(req.query, "x=1&y=2");
	CHECK(req.path_too_long == 0);

	start(&f, &req, "/api/data?");
	CHECK_STR(req.path, "/api/data");
	CHECK_STR(req.query, "");
	start(&f, &req, "/a?b?c");
	CHECK_STR(req.path, "/a");
	CHECK_STR(req.query, "b?c");
	start(&f, &req, "?only");
	CHECK_STR(req.path, "");
	CHECK_STR(req.query, "only");
	start(&f, &req, NULL);
	CHECK_STR(req.path, "");
	CHECK_STR(req.query, "");

	if (uri == NULL) {
		CHECK_MSG(0, "malloc");
		return;
	}
	/* Exactly REQ_PATH_MAX bytes fit; one more is "too long" with an empty path. */
	uri[0] = '/';
	memset(uri + 1, 'p', REQ_PATH_MAX - 1);
	strcpy(uri + REQ_PATH_MAX, "?q=1");
	start(&f, &req, uri);
	CHECK(req.path_too_long == 0);
	CHECK(strlen(req.path) == REQ_PATH_MAX);
	CHECK(req.path[REQ_PATH_MAX - 1] == 'p');
	CHECK_STR(req.query, "q=1");
	uri[REQ_PATH_MAX] = 'p';
	strcpy(uri + REQ_PATH_MAX + 1, "?q=1");
	start(&f, &req, uri);
	CHECK(req.path_too_long == 1);
	CHECK_STR(req.path, "");
	CHECK_STR(req.query, "q=1");
	free(uri);
	req_free(&req);
}

static void test_request_id(void)
{
	static struct fake_io f;
	struct request req, req2;

	start(&f, &req, "/");
	CHECK(is_hex32(req.id));
	fake_io_param(&f, "HTTP_X_REQUEST_ID", "bad id");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(is_hex32(req.id));
	req_init(&req2, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(is_hex32(req2.id));
	CHECK(strcmp(req.id, req2.id) != 0);
	fake_io_param(&f, "HTTP_X_REQUEST_ID", "a\r\nX-Evil: 1");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(is_hex32(req.id));
	fake_io_param(&f, "HTTP_X_REQUEST_ID", "Trace_1.2-3");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.id, "Trace_1.2-3");
}

/* req_query_param on `query` into an `outlen` buffer (at most 64). */
static int qp(const char *query, const char *name, char *out, size_t outlen)
{
	static struct fake_io f;
	struct request req;

	memset(out, 'Z', outlen);
	start(&f, &req, "/");
	req.query = query;
	return req_query_param(&req, name, out, outlen);
}

static void test_query_param(void)
{
	const char *q = "limit=10&cursor=abc%2Fd%3d&q=a+b%20c&empty=&flag&bad=%zz&nul=a%00b"
	    "&trunc=%4&pct=%&dup=1&dup=2&limitx=9&utf=%C3%A9";
	char out[64];
	char *longq;

	CHECK(qp(q, "limit", out, sizeof(out)) == 1);
	CHECK_STR(out, "10");
	CHECK(qp(q, "cursor", out, sizeof(out)) == 1);
	CHECK_STR(out, "abc/d=");
	CHECK(qp(q, "q", out, sizeof(out)) == 1);
	CHECK_STR(out, "a b c");
	CHECK(qp(q, "empty", out, sizeof(out)) == 1);
	CHECK_STR(out, "");
	CHECK(qp(q, "flag", out, sizeof(out)) == 1);
	CHECK_STR(out, "");
	CHECK(qp(q, "bad", out, sizeof(out)) == -1);
	CHECK(qp(q, "nul", out, sizeof(out)) == -1);
	CHECK(qp(q, "trunc", out, sizeof(out)) == -1);
	CHECK(qp(q, "pct", out, sizeof(out)) == -1);
	CHECK(qp(q, "dup", out, sizeof(out)) == 1);
	CHECK_STR(out, "1");
	CHECK(qp(q, "limitx", out, sizeof(out)) == 1);
	CHECK_STR(out, "9");
	CHECK(qp(q, "utf", out, sizeof(out)) == 1);
	CHECK_STR(out, "\xc3\xa9");
	CHECK(qp(q, "missing", out, sizeof(out)) == 0);
	CHECK(qp(q, "limi", out, sizeof(out)) == 0);
	CHECK(qp(q, "imit", out, sizeof(out)) == 0);
	CHECK(qp("", "limit", out, sizeof(out)) == 0);
	CHECK(qp("&&&", "limit", out, sizeof(out)) == 0);
	/* A later malformed pair does not spoil an earlier good one, nor the reverse. */
	CHECK(qp("a=%zz&b=2", "b", out, sizeof(out)) == 1);
	CHECK_STR(out, "2");
	/* Names are decoded like values. */
	CHECK(qp("li%6Dit=5", "limit", out, sizeof(out)) == 1);
	CHECK_STR(out, "5");
	/* Upper- and lowercase hex digits both decode. */
	CHECK(qp("k=%2f%2F", "k", out, sizeof(out)) == 1);
	CHECK_STR(out, "//");

	/* The value must fit outlen with its NUL. */
	CHECK(qp("k=12345", "k", out, 6) == 1);
	CHECK_STR(out, "12345");
	CHECK(qp("k=123456", "k", out, 6) == -1);
	CHECK(qp("k=%41%41%41%41%41", "k", out, 6) == 1);
	CHECK_STR(out, "AAAAA");
	CHECK(qp("k=", "k", out, 1) == 1);
	CHECK_STR(out, "");
	CHECK(qp("k", "k", out, 0) == -1);

	/* A query longer than REQ_QUERY_MAX is malformed as a whole. */
	longq = malloc(REQ_QUERY_MAX + 2);
	if (longq == NULL) {
		CHECK_MSG(0, "malloc");
		return;
	}
	memcpy(longq, "k=1&z=", 6);
	memset(longq + 6, 'z', REQ_QUERY_MAX - 6);
	longq[REQ_QUERY_MAX] = '\0';
	CHECK(qp(longq, "k", out, sizeof(out)) == 1);
	CHECK_STR(out, "1");
	longq[REQ_QUERY_MAX] = 'z';
	longq[REQ_QUERY_MAX + 1] = '\0';
	CHECK(qp(longq, "k", out, sizeof(out)) == -1);
	CHECK(qp(longq, "absent", out, sizeof(out)) == -1);
	free(longq);
}

/* A POST with `cl` as CONTENT_LENGTH (NULL: unset) and `body` to read. */
static void body_req(struct fake_io *f, struct request *req, const char *cl, const char *body,
    size_t len, int chunk)
{
	fake_io_init(f);
	fake_io_param(f, "REQUEST_METHOD", "POST");
	fake_io_param(f, "REQUEST_URI", "/api/data/k");
	if (cl != NULL)
		fake_io_param(f, "CONTENT_LENGTH", cl);
	fake_io_body(f, body, len, chunk);
	req_init(req, &f->io, NULL, HASH_KEY, HASH_KEY_LEN);
}

static void test_body(void)
{
	static struct fake_io f;
	struct request req;
	static const char *const bad_lengths[] = {
		"12abc", "-1", "+5", " 5", "5 ", "0x10", "abc", "1e3", "1,0", "-0",
	};
	char big[1025];
	char len_text[32];

	memset(big, 'x', sizeof(big));
	big[0] = '{';

	/* No Content-Length: no body, nothing read. */
	body_req(&f, &req, NULL, "{}", 2, 0);
	CHECK(req_read_body(&req, 1024) == BODY_EMPTY);
	CHECK(req.body == NULL && req.body_len == 0);
	CHECK(f.reads == 0);
	req_free(&req);

	body_req(&f, &req, "", "{}", 2, 0);
	CHECK(req_read_body(&req, 1024) == BODY_EMPTY);
	CHECK(f.reads == 0);
	req_free(&req);

	body_req(&f, &req, "0", "", 0, 0);
	CHECK(req_read_body(&req, 1024) == BODY_EMPTY);
	CHECK(req.body == NULL);
	CHECK(f.reads == 0);
	req_free(&req);

	/* A small body, NUL-terminated. */
	body_req(&f, &req, "7", "{\"a\":1}", 7, 0);
	CHECK(req_read_body(&req, 1024) == BODY_OK);
	CHECK(req.body_len == 7);
	CHECK_STR(req.body, "{\"a\":1}");
	CHECK(req.body_status == BODY_OK);
	/* A second call answers the same without reading again. */
	f.reads = 0;
	CHECK(req_read_body(&req, 1) == BODY_OK);
	CHECK(f.reads == 0);
	CHECK_STR(req.body, "{\"a\":1}");
	req_free(&req);
	CHECK(req.body == NULL && req.body_len == 0);
	req_free(&req);
	CHECK(req.body == NULL);

	/* Exactly max bytes is fine. */
	body_req(&f, &req, "1024", big, 1024, 0);
	CHECK(req_read_body(&req, 1024) == BODY_OK);
	CHECK(req.body_len == 1024);
	CHECK(req.body != NULL && memcmp(req.body, big, 1024) == 0 && req.body[1024] == '\0');
	req_free(&req);

	/* max + 1 is refused before reading a byte. */
	body_req(&f, &req, "1025", big, 1025, 0);
	CHECK(req_read_body(&req, 1024) == BODY_TOO_LARGE);
	CHECK(f.reads == 0);
	CHECK(req.body == NULL);
	CHECK(req_read_body(&req, 4096) == BODY_TOO_LARGE);
	req_free(&req);

	/* A huge announced length is refused the same way, not allocated. */
	body_req(&f, &req, "18446744073709551615", big, 10, 0);
	CHECK(req_read_body(&req, 1024) == BODY_TOO_LARGE);
	CHECK(f.reads == 0);
	req_free(&req);
	/* ...also past what an unsigned long long holds: still "too large", not "bad". */
	body_req(&f, &req, "99999999999999999999999999", big, 10, 0);
	CHECK(req_read_body(&req, 1024) == BODY_TOO_LARGE);
	CHECK(f.reads == 0 && req.body == NULL);
	req_free(&req);

	/* A body shorter than announced: the client went away. */
	body_req(&f, &req, "10", "{\"a\":", 5, 0);
	CHECK(req_read_body(&req, 1024) == BODY_ERROR);
	CHECK(req.body == NULL && req.body_len == 0);
	req_free(&req);

	body_req(&f, &req, "10", "{\"a\":", 5, 2);
	f.read_error = 1;
	CHECK(req_read_body(&req, 1024) == BODY_ERROR);
	CHECK(req.body == NULL);
	req_free(&req);

	/* A longer body than announced: only Content-Length bytes are taken. */
	body_req(&f, &req, "3", "abcdef", 6, 0);
	CHECK(req_read_body(&req, 1024) == BODY_OK);
	CHECK(req.body_len == 3);
	CHECK_STR(req.body, "abc");
	req_free(&req);

	/* Bad Content-Length values, read nothing. */
	for (size_t i = 0; i < sizeof(bad_lengths) / sizeof(bad_lengths[0]); i++) {
		char what[96];

		body_req(&f, &req, bad_lengths[i], big, 100, 0);
		snprintf(what, sizeof(what), "Content-Length \"%s\" is BODY_ERROR", bad_lengths[i]);
		CHECK_MSG(req_read_body(&req, 1024) == BODY_ERROR, what);
		snprintf(what, sizeof(what), "Content-Length \"%s\" reads nothing", bad_lengths[i]);
		CHECK_MSG(f.reads == 0 && req.body == NULL, what);
		req_free(&req);
	}

	/* One byte per read still gives the whole body. */
	body_req(&f, &req, "1000", big, 1000, 1);
	CHECK(req_read_body(&req, 1024) == BODY_OK);
	CHECK(req.body_len == 1000);
	CHECK(req.body != NULL && memcmp(req.body, big, 1000) == 0);
	CHECK(f.reads == 1000);
	req_free(&req);

	/* Bytes are kept as sent, NULs included (the JSON parser refuses them later). */
	body_req(&f, &req, "5", "a\0b\0c", 5, 3);
	CHECK(req_read_body(&req, 1024) == BODY_OK);
	CHECK(req.body_len == 5);
	CHECK(req.body != NULL && memcmp(req.body, "a\0b\0c", 6) == 0);
	req_free(&req);

	snprintf(len_text, sizeof(len_text), "%d", 1);
	body_req(&f, &req, len_text, "x", 1, 0);
	CHECK(req_read_body(&req, 1) == BODY_OK);
	CHECK_STR(req.body, "x");
	req_free(&req);
}

static void test_client(void)
{
	static struct fake_io f;
	struct request req;
	struct addr a, proxy_client;
	struct addr_list trusted;
	char want[ADDR_HASH_HEX + 1], text[ADDR_TEXT_MAX];

	/* A valid REMOTE_ADDR: known, and hashed with the key as addr_hash() does. */
	CHECK(addr_parse("192.0.2.10", 10, &a) == 0);
	CHECK(addr_hash(HASH_KEY, HASH_KEY_LEN, &a, want) == 0);
	start(&f, &req, "/");
	CHECK(req.client_known == 1);
	CHECK(req.client.family == AF_INET);
	CHECK(memcmp(&req.client, &a, sizeof(a)) == 0);
	CHECK_STR(req.client_hash, want);
	CHECK(is_hex32(req.client_hash));
	CHECK(strstr(req.client_hash, "192") == NULL);

	/* Another key, another hash. */
	req_init(&req, &f.io, NULL, "another-key", 11);
	CHECK(req.client_known == 1);
	CHECK(is_hex32(req.client_hash));
	CHECK(strcmp(req.client_hash, want) != 0);

	/* IPv6. */
	fake_io_param(&f, "REMOTE_ADDR", "2001:db8::7");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(req.client_known == 1 && req.client.family == AF_INET6);
	CHECK(is_hex32(req.client_hash));

	/* Garbage, empty or absent: unknown, empty hash. */
	fake_io_param(&f, "REMOTE_ADDR", "not-an-ip");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(req.client_known == 0);
	CHECK_STR(req.client_hash, "");
	fake_io_param(&f, "REMOTE_ADDR", "999.1.1.1");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(req.client_known == 0);
	CHECK_STR(req.client_hash, "");
	fake_io_param(&f, "REMOTE_ADDR", "");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(req.client_known == 0);
	CHECK_STR(req.client_hash, "");
	fake_io_init(&f);
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(req.client_known == 0);
	CHECK_STR(req.client_hash, "");

	/* Without a key the address is known but not hashed. */
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.10");
	req_init(&req, &f.io, NULL, NULL, 0);
	CHECK(req.client_known == 1);
	CHECK_STR(req.client_hash, "");

	/* Behind a trusted proxy the client comes from X-Forwarded-For. */
	CHECK(addr_list_parse("10.0.0.0/8", &trusted, NULL, 0) == 0);
	fake_io_param(&f, "REMOTE_ADDR", "10.1.2.3");
	fake_io_param(&f, "HTTP_X_FORWARDED_FOR", "203.0.113.9, 198.51.100.7, 10.0.0.5");
	req_init(&req, &f.io, &trusted, HASH_KEY, HASH_KEY_LEN);
	CHECK(req.client_known == 1);
	CHECK(addr_format(&req.client, text, sizeof(text)) == 0);
	CHECK_STR(text, "198.51.100.7");
	CHECK(addr_parse("198.51.100.7", 12, &proxy_client) == 0);
	CHECK(addr_hash(HASH_KEY, HASH_KEY_LEN, &proxy_client, want) == 0);
	CHECK_STR(req.client_hash, want);
	/* ...but not from an untrusted peer. */
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK(addr_format(&req.client, text, sizeof(text)) == 0);
	CHECK_STR(text, "10.1.2.3");
	addr_list_free(&trusted);
	req_free(&req);
}

static void test_url_prefix(void)
{
	static struct fake_io f;
	struct request req;

	/* PORTCULLIS_URL_PREFIX (a site under /~u) is left out of the path. */
	start(&f, &req, "/~u/api/data/k?x=1");
	fake_io_param(&f, "PORTCULLIS_URL_PREFIX", "/~u");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.path, "/api/data/k");
	CHECK_STR(req.query, "x=1");
	req_free(&req);
	/* only a whole leading segment: /~uu/api is not under /~u */
	start(&f, &req, "/~uu/api/data/k");
	fake_io_param(&f, "PORTCULLIS_URL_PREFIX", "/~u");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.path, "/~uu/api/data/k");
	req_free(&req);
	/* empty prefix, or none: the path as sent */
	start(&f, &req, "/api/health");
	fake_io_param(&f, "PORTCULLIS_URL_PREFIX", "");
	req_init(&req, &f.io, NULL, HASH_KEY, HASH_KEY_LEN);
	CHECK_STR(req.path, "/api/health");
	req_free(&req);
	start(&f, &req, "/~u/api/health");
	CHECK_STR(req.path, "/~u/api/health");
	req_free(&req);
}

int main(void)
{
	test_headers();
	test_method();
	test_path_query();
	test_request_id();
	test_query_param();
	test_body();
	test_client();
	test_url_prefix();
	return check_summary();
}
