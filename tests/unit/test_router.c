/*
 * test_router.c - unit tests of lib/router.c (route_match).
 *
 * The table below mirrors the shape of the real responders: exact paths,
 * one template with a trailing `{key}` parameter served by several methods,
 * and a POST-only path.  Handlers are distinct functions so a match can be
 * told apart by the row it returned.
 */
#include "router.h"
#include "check.h"

#include <string.h>

static void h_health(struct ctx *c) { (void)c; }
static void h_list(struct ctx *c) { (void)c; }
static void h_get(struct ctx *c) { (void)c; }
static void h_put(struct ctx *c) { (void)c; }
static void h_delete(struct ctx *c) { (void)c; }
static void h_login(struct ctx *c) { (void)c; }
static void h_me(struct ctx *c) { (void)c; }

static const struct route routes[] = {
	{ "test", "GET", "/api/health", POLICY_NONE, ROUTE_AUTH_NONE, h_health, NULL },
	{ "test", "GET", "/api/data", POLICY_API, ROUTE_AUTH_NONE, h_list, NULL },
	{ "test", "GET", "/api/data/{key}", POLICY_API, ROUTE_AUTH_NONE, h_get, NULL },
	{ "test", "PUT", "/api/data/{key}", POLICY_API, ROUTE_AUTH_NONE, h_put, NULL },
	{ "test", "DELETE", "/api/data/{key}", POLICY_API, ROUTE_AUTH_NONE, h_delete, NULL },
	{ "test", "POST", "/api/auth/login", POLICY_AUTH, ROUTE_AUTH_NONE, h_login, NULL },
	{ "test", "GET", "/api/me", POLICY_API, ROUTE_AUTH_NONE, h_me, NULL },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static enum route_result match(const char *method, const char *path, struct route_match *m)
{
	return route_match(routes, NROUTES, method, path, m);
}

static void test_exact(void)
{
	struct route_match m;

	CHECK(match("GET", "/api/health", &m) == ROUTE_FOUND);
	CHECK(m.route == &routes[0]);
	CHECK(m.route->handler == h_health);
	CHECK(m.route->policy == POLICY_NONE);
	CHECK(m.param == NULL);
	CHECK(m.param_len == 0);
	CHECK_STR(m.template, "/api/health");

	CHECK(match("GET", "/api/data", &m) == ROUTE_FOUND);
	CHECK(m.route == &routes[1]);
	CHECK(m.param == NULL);

	CHECK(match("POST", "/api/auth/login", &m) == ROUTE_FOUND);
	CHECK(m.route == &routes[5]);
	CHECK(m.route->policy == POLICY_AUTH);

	/* Exact means exact: no prefix, no extra segment, no trailing slash, case matters. */
	CHECK(match("GET", "/api/healt", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/api/healthz", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/api/health/", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/api/health/x", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/API/health", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/api/me/", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/", &m) == ROUTE_NOT_FOUND);
}

static void test_param(void)
{
	struct route_match m;
	const char *path = "/api/data/my.key_1~-";
	const char *raw = "/api/data/a%2Fb";

	CHECK(match("GET", path, &m) == ROUTE_FOUND);
	CHECK(m.route == &routes[2]);
	CHECK(m.route->handler == h_get);
	/* The span points into the caller's path. */
	CHECK(m.param == path + strlen("/api/data/"));
	CHECK(m.param_len == strlen("my.key_1~-"));
	CHECK(m.param != NULL && strncmp(m.param, "my.key_1~-", m.param_len) == 0);
	CHECK_STR(m.template, "/api/data/{key}");

	CHECK(match("PUT", path, &m) == ROUTE_FOUND);
	CHECK(m.route == &routes[3]);
	CHECK(match("DELETE", path, &m) == ROUTE_FOUND);
	CHECK(m.route == &routes[4]);
	CHECK(m.param == path + 10 && m.param_len == 10);

	/* One character is a segment. */
	CHECK(match("GET", "/api/data/x", &m) == ROUTE_FOUND);
	CHECK(m.param_len == 1 && m.param[0] == 'x');

	/* The raw, still encoded segment is handed over: %2F is not a slash. */
	CHECK(match("GET", raw, &m) == ROUTE_FOUND);
	CHECK(m.param == raw + 10);
	CHECK(m.param_len == 5);

	/* One segment only; an empty segment or a trailing slash is no match. */
	CHECK(match("GET", "/api/data/a/b", &m) == ROUTE_NOT_FOUND);
	CHECK(m.param == NULL && m.route == NULL && m.template == NULL);
	CHECK(match("GET", "/api/data/", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/api/data/x/", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/api/data//", &m) == ROUTE_NOT_FOUND);
	CHECK(match("PUT", "/api/data/", &m) == ROUTE_NOT_FOUND);
	/* The fixed part must match in full. */
	CHECK(match("GET", "/api/datax/k", &m) == ROUTE_NOT_FOUND);
	CHECK(match("GET", "/api/dat/k", &m) == ROUTE_NOT_FOUND);
}

static void test_not_found(void)
{
	struct route_match m;

	memset(&m, 0x5a, sizeof(m));
	CHECK(match("GET", "/api/nope", &m) == ROUTE_NOT_FOUND);
	CHECK(m.route == NULL);
	CHECK(m.template == NULL);
	CHECK(m.param == NULL);
	CHECK_STR(m.allow, "");
	/* Unknown path with an unknown method is still 404, not 405. */
	CHECK(match("BREW", "/api/nope", &m) == ROUTE_NOT_FOUND);
	CHECK(route_match(routes, 0, "GET", "/api/health", &m) == ROUTE_NOT_FOUND);
}

static void test_method_not_allowed(void)
{
	struct route_match m;

	/* A GET-only path: HEAD is allowed with it. */
	CHECK(match("POST", "/api/health", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "GET, HEAD");
	CHECK(m.route == NULL);
	CHECK_STR(m.template, "/api/health");

	CHECK(match("DELETE", "/api/data", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "GET, HEAD");
	CHECK_STR(m.template, "/api/data");

	/* A template served by several methods lists them all, in table order. */
	CHECK(match("POST", "/api/data/k", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "GET, HEAD, PUT, DELETE");
	CHECK_STR(m.template, "/api/data/{key}");
	CHECK(m.route == NULL);

	CHECK(match("PATCH", "/api/data/k", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "GET, HEAD, PUT, DELETE");

	/* A POST-only path: HEAD and GET are not allowed, and HEAD is not added. */
	CHECK(match("GET", "/api/auth/login", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "POST");
	CHECK(match("HEAD", "/api/auth/login", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "POST");

	/* Methods are case-sensitive; an empty (refused) method is never served. */
	CHECK(match("get", "/api/health", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "GET, HEAD");
	CHECK(match("", "/api/health", &m) == ROUTE_METHOD_NOT_ALLOWED);
}

static void test_head(void)
{
	struct route_match m;

	CHECK(match("HEAD", "/api/health", &m) == ROUTE_FOUND);
	CHECK(m.route == &routes[0]);
	CHECK(match("HEAD", "/api/data/k1", &m) == ROUTE_FOUND);
	CHECK(m.route == &routes[2]);
	CHECK(m.route->handler == h_get);
	CHECK(m.param_len == 2 && strncmp(m.param, "k1", 2) == 0);
	CHECK_STR(m.template, "/api/data/{key}");
}

/* An explicit HEAD row, and the order of the rows deciding which one serves. */
static void test_table_order(void)
{
	static const struct route t[] = {
		{ "test", "HEAD", "/x", POLICY_NONE, ROUTE_AUTH_NONE, h_me, NULL },
		{ "test", "GET", "/x", POLICY_NONE, ROUTE_AUTH_NONE, h_get, NULL },
		{ "test", "POST", "/x", POLICY_NONE, ROUTE_AUTH_NONE, h_put, NULL },
	};
	struct route_match m;

	CHECK(route_match(t, 3, "HEAD", "/x", &m) == ROUTE_FOUND);
	CHECK(m.route == &t[0]);
	CHECK(route_match(t, 3, "GET", "/x", &m) == ROUTE_FOUND);
	CHECK(m.route == &t[1]);
	/* HEAD is listed once although both a HEAD and a GET row allow it. */
	CHECK(route_match(t, 3, "PUT", "/x", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "HEAD, GET, POST");
}

int main(void)
{
	test_exact();
	test_param();
	test_not_found();
	test_method_not_allowed();
	test_head();
	test_table_order();
	return check_summary();
}
