/*
 * request.c - fuzzes request parsing and routing (lib/request.c,
 * lib/router.c, lib/request_id.c) the way lib/app.c runs them, with the
 * data key decoding of the data responder (data_key_decode) and the token
 * lookup of lib/auth.c (Authorization: Bearer, then the access cookie).
 *
 * Input: "<REQUEST_METHOD>\n<REQUEST_URI>\n<REMOTE_ADDR>\n<X-Forwarded-For>\n
 * <X-Request-Id>\n<Content-Length>\n<Authorization>\n<Cookie>\n<body>",
 * missing pieces absent.  Everything goes through a fake io (no network);
 * the answer for a route that is not found is written to it as app.c does.
 */
#include "auth.h"
#include "data_key.h"
#include "request.h"
#include "response.h"
#include "router.h"
#include "routes.h"
#include "token.h"
#include "fake_io.h"
#include "fuzz.h"

#define HASH_KEY "fuzz-ip-hash-key-0123456789abcdef"
#define NPIECES 8

static const char *const names[NPIECES] = {
	"REQUEST_METHOD", "REQUEST_URI", "REMOTE_ADDR", "HTTP_X_FORWARDED_FOR",
	"HTTP_X_REQUEST_ID", "CONTENT_LENGTH", "HTTP_AUTHORIZATION", "HTTP_COOKIE",
};

static struct fake_io f;
static struct addr_list trusted;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (addr_list_parse("127.0.0.0/8, 10.0.0.0/8, ::1, 2001:db8::/32", &trusted, NULL, 0) != 0)
		abort();
	return 0;
}

static void check_route(const struct request *req, enum route_result rr,
    const struct route_match *m)
{
	char key[DATA_KEY_LEN_MAX + 1];

	switch (rr) {
	case ROUTE_FOUND:
		FUZZ_ASSERT(m->route != NULL && m->template == m->route->template);
		if (m->param != NULL) {
			FUZZ_ASSERT(m->param >= req->path && m->param_len > 0);
			FUZZ_ASSERT(m->param + m->param_len == req->path + strlen(req->path));
			FUZZ_ASSERT(memchr(m->param, '/', m->param_len) == NULL);
			if (data_key_decode(m->param, m->param_len, key) == 0)
				FUZZ_ASSERT(data_key_valid(key, strlen(key)));
		}
		break;
	case ROUTE_METHOD_NOT_ALLOWED:
		FUZZ_ASSERT(m->template != NULL && m->allow[0] != '\0');
		FUZZ_ASSERT(strlen(m->allow) < ROUTE_ALLOW_MAX);
		break;
	case ROUTE_NOT_FOUND:
		FUZZ_ASSERT(m->route == NULL && m->template == NULL);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *piece[NPIECES] = { NULL }, *body, value[64], token[TOKEN_MAX_LEN + 1];
	size_t len, blen;
	struct request req;
	struct response resp;
	struct route_match m;
	enum route_result rr;
	int via_cookie, q;

	fake_io_init(&f);
	for (int i = 0; i < NPIECES && size > 0; i++) {
		piece[i] = fuzz_split(&data, &size, &len);
		fake_io_param(&f, names[i], piece[i]);
	}
	fake_io_param(&f, "CONTENT_TYPE", "application/json");
	body = fuzz_str(data, size);
	blen = size;
	fake_io_body(&f, body, blen, 7);

	req_init(&req, &f.io, &trusted, HASH_KEY, sizeof(HASH_KEY) - 1);
	resp_init(&resp);
	FUZZ_ASSERT(request_id_valid(req.id));
	FUZZ_ASSERT(strlen(req.path) <= REQ_PATH_MAX && strlen(req.method) <= REQ_METHOD_MAX);
	if (req.method[0] != '\0' && !req.path_too_long) {
		/* Every route of every responder (the manifest; no handler is called). */
		rr = route_match(routes_manifest, routes_manifest_n, req.method, req.path, &m);
		check_route(&req, rr, &m);
		if (rr == ROUTE_METHOD_NOT_ALLOWED) {
			resp_header(&resp, "Allow", m.allow);
			resp_error(&resp, &req, 405, "method_not_allowed", "method not allowed here", NULL);
		} else if (rr == ROUTE_NOT_FOUND) {
			resp_error(&resp, &req, 404, "not_found", "no such resource", NULL);
		}
	}
	q = req_query_param(&req, "limit", value, sizeof(value));
	FUZZ_ASSERT(q != 1 || strlen(value) < sizeof(value));
	q = req_query_param(&req, "cursor", value, sizeof(value));
	FUZZ_ASSERT(q != 1 || strlen(value) < sizeof(value));
	req_query_param(&req, "", value, 1);
	if (auth_token(&req, token, sizeof(token), &via_cookie))
		FUZZ_ASSERT(token[0] != '\0' && strlen(token) <= TOKEN_MAX_LEN);
	if (req_read_body(&req, 4096) == BODY_OK)
		FUZZ_ASSERT(req.body_len <= 4096 && req.body[req.body_len] == '\0');
	req_drain(&req, 4096);
	if (resp.status != 0)
		resp_send(&resp, &req);
	resp_free(&resp);
	req_free(&req);
	for (int i = 0; i < NPIECES; i++)
		free(piece[i]);
	free(body);
	return 0;
}
