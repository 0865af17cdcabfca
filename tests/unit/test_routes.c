/*
 * test_routes.c - unit tests of the route manifest: lib/routes.def expanded
 * per responder (ROUTES_OF, as each src/<responder>.c does), the whole
 * table of lib/routes.c (included, to reach its UNROUTED table), the
 * rate-limit policy of a request (routes_policy, routes_policy_unrouted),
 * the listing (routes_list) and route_key_add.
 *
 * Every handler and hook the manifest names is a distinct dummy here, so
 * that each responder's expansion compiles and a row can be told by its
 * function.
 */
#include "routes.c"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMMY(name) \
	static void name(struct ctx *c) { (void)c; }
#define DUMMY_HOOK(name) \
	static void name(struct ctx *c, struct route_keys *k) { (void)c; (void)k; }
DUMMY(health) DUMMY(ready) DUMMY(register_user) DUMMY(login) DUMMY(refresh) DUMMY(logout)
DUMMY(change_password) DUMMY(me) DUMMY(delete_me) DUMMY(list_sessions) DUMMY(end_other_sessions)
DUMMY(end_session) DUMMY(list_items) DUMMY(get_item) DUMMY(put_item) DUMMY(delete_item)
DUMMY(metrics)
DUMMY_HOOK(me_keys) DUMMY_HOOK(get_item_keys)

/* Each responder's own rows, expanded as its src/<responder>.c does. */
#define ROUTE_SELF_health ROUTE_PROBE
static const struct route health_rows[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};
#undef ROUTE_SELF_health
#define ROUTE_SELF_register ROUTE_PROBE
static const struct route register_rows[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};
#undef ROUTE_SELF_register
#define ROUTE_SELF_login ROUTE_PROBE
static const struct route login_rows[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};
#undef ROUTE_SELF_login
#define ROUTE_SELF_session ROUTE_PROBE
static const struct route session_rows[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};
#undef ROUTE_SELF_session
#define ROUTE_SELF_data ROUTE_PROBE
static const struct route data_rows[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};
#undef ROUTE_SELF_data
#define ROUTE_SELF_metrics ROUTE_PROBE
static const struct route metrics_rows[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};
#undef ROUTE_SELF_metrics

#define N(a) (sizeof(a) / sizeof((a)[0]))


static const struct {
	const char *name;
	const struct route *rows;
	size_t n;
} tables[] = {
	{ "health", health_rows, N(health_rows) },
	{ "register", register_rows, N(register_rows) },
	{ "login", login_rows, N(login_rows) },
	{ "session", session_rows, N(session_rows) },
	{ "data", data_rows, N(data_rows) },
	{ "metrics", metrics_rows, N(metrics_rows) },
};

static void test_expansion(void)
{
	size_t total = 0, at = 0;

	CHECK(N(health_rows) == 2);
	CHECK(N(register_rows) == 1);
	CHECK(N(login_rows) == 1);
	CHECK(N(session_rows) == 8);
	CHECK(N(data_rows) == 4);
	CHECK(N(metrics_rows) == 1);
	for (size_t t = 0; t < N(tables); t++) {
		int own = 1;

		for (size_t i = 0; i < tables[t].n; i++)
			own = own && strcmp(tables[t].rows[i].responder, tables[t].name) == 0 &&
			    tables[t].rows[i].handler != NULL;
		CHECKF(own, "%s expands only its own rows, each with a handler", tables[t].name);
		total += tables[t].n;
	}
	CHECKF(total == routes_manifest_n, "the responders' rows add up to the manifest (%zu of %zu)",
	    total, routes_manifest_n);
	/* The manifest lists each responder's rows together and in the same order. */
	for (size_t t = 0; t < N(tables); t++) {
		int same = 1;

		for (size_t i = 0; i < tables[t].n && at + i < routes_manifest_n; i++) {
			const struct route *a = &tables[t].rows[i], *b = &routes_manifest[at + i];

			same = same && strcmp(a->responder, b->responder) == 0 &&
			    strcmp(a->method, b->method) == 0 && strcmp(a->template, b->template) == 0 &&
			    a->policy == b->policy && a->auth == b->auth && b->handler == NULL &&
			    b->hook == NULL;
		}
		CHECKF(same, "the manifest's rows of %s are its table, without functions", tables[t].name);
		at += tables[t].n;
	}
}

static void test_rows(void)
{
	struct route_match m;

	/* The data responder: its GET of a key has the hook, every route needs a token. */
	CHECK(route_match(data_rows, N(data_rows), "GET", "/api/data/k", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == get_item && m.route->hook == get_item_keys);
	CHECK(m.route->auth == ROUTE_AUTH_TOKEN && m.route->policy == POLICY_API);
	CHECK(route_match(data_rows, N(data_rows), "PUT", "/api/data/k", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == put_item && m.route->hook == NULL);
	CHECK(route_match(data_rows, N(data_rows), "GET", "/api/data", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == list_items && m.route->auth == ROUTE_AUTH_TOKEN);
	CHECK(route_match(data_rows, N(data_rows), "POST", "/api/data/k", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "GET, HEAD, PUT, DELETE");
	/* A path of another responder is not this one's. */
	CHECK(route_match(data_rows, N(data_rows), "GET", "/api/me", &m) == ROUTE_NOT_FOUND);

	/* The session responder: the password change needs a token, refresh and logout do not. */
	CHECK(route_match(session_rows, N(session_rows), "POST", "/api/auth/password", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == change_password && m.route->auth == ROUTE_AUTH_TOKEN &&
	    m.route->policy == POLICY_AUTH);
	CHECK(route_match(session_rows, N(session_rows), "POST", "/api/auth/refresh", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == refresh && m.route->auth == ROUTE_AUTH_NONE);
	CHECK(route_match(session_rows, N(session_rows), "POST", "/api/auth/logout", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == logout && m.route->auth == ROUTE_AUTH_NONE);
	CHECK(route_match(session_rows, N(session_rows), "GET", "/api/me", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == me && m.route->hook == me_keys);
	CHECK(route_match(session_rows, N(session_rows), "DELETE", "/api/sessions/abc", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == end_session && m.param_len == 3);
	CHECK(route_match(session_rows, N(session_rows), "PUT", "/api/me", &m) == ROUTE_METHOD_NOT_ALLOWED);
	CHECK_STR(m.allow, "GET, HEAD, DELETE");

	/* health and metrics: no token, no limit. */
	CHECK(route_match(health_rows, N(health_rows), "HEAD", "/api/ready", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == ready && m.route->policy == POLICY_NONE && m.route->auth == ROUTE_AUTH_NONE);
	CHECK(route_match(metrics_rows, N(metrics_rows), "DELETE", "/metrics", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == metrics && m.route->policy == POLICY_NONE);
	CHECK(route_match(login_rows, N(login_rows), "POST", "/api/auth/login", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == login && m.route->policy == POLICY_AUTH);
	CHECK(route_match(register_rows, N(register_rows), "POST", "/api/auth/register", &m) == ROUTE_FOUND);
	CHECK(m.route->handler == register_user && m.route->policy == POLICY_AUTH);

	/* Only token routes have hooks. */
	for (size_t t = 0; t < N(tables); t++)
		for (size_t i = 0; i < tables[t].n; i++)
			if (tables[t].rows[i].hook != NULL)
				CHECKF(tables[t].rows[i].auth == ROUTE_AUTH_TOKEN, "%s %s: a hook only on a token route",
				    tables[t].rows[i].method, tables[t].rows[i].template);
}

static void test_policy(void)
{
	/* The contract's table for paths no row serves. */
	CHECK(routes_policy_unrouted("POST", "/api/auth/nope") == POLICY_AUTH);
	CHECK(routes_policy_unrouted("GET", "/api/auth/nope") == POLICY_API);
	CHECK(routes_policy_unrouted("POST", "/api/auth") == POLICY_API);
	CHECK(routes_policy_unrouted("DELETE", "/api/health") == POLICY_NONE);
	CHECK(routes_policy_unrouted("POST", "/api/ready") == POLICY_NONE);
	CHECK(routes_policy_unrouted("GET", "/api/health/x") == POLICY_API);
	CHECK(routes_policy_unrouted("GET", "/api") == POLICY_API);
	CHECK(routes_policy_unrouted("GET", "/api/") == POLICY_API);
	CHECK(routes_policy_unrouted("GET", "/apix") == POLICY_NONE);
	CHECK(routes_policy_unrouted("GET", "/metrics") == POLICY_NONE);
	CHECK(routes_policy_unrouted("GET", "") == POLICY_NONE);
	/* Exact paths and prefixes: "/" ends a prefix, nothing else does. */
	for (size_t i = 0; i < N(unrouted); i++) {
		size_t len = strlen(unrouted[i].path);

		CHECKF(len > 0 && unrouted[i].path[0] == '/', "UNROUTED %s is a path", unrouted[i].path);
	}

	/* A served request takes its row's policy, and the table agrees with every row. */
	for (size_t i = 0; i < routes_manifest_n; i++) {
		const struct route *r = &routes_manifest[i];
		const char *method = strcmp(r->method, "*") == 0 ? "GET" : r->method;
		char path[128];
		const char *brace = strchr(r->template, '{');

		if (brace != NULL)
			snprintf(path, sizeof(path), "%.*sx", (int)(brace - r->template), r->template);
		else
			snprintf(path, sizeof(path), "%s", r->template);
		CHECKF(routes_policy(method, path) == r->policy, "routes_policy(%s %s) is its row's (%s)",
		    method, path, rl_policy_name(r->policy));
		CHECKF(routes_policy_unrouted(method, path) == r->policy,
		    "the UNROUTED table agrees with the row %s %s (%s)", r->method, r->template,
		    rl_policy_name(r->policy));
	}
	/* HEAD is served by GET's row; another method of a served path is unrouted. */
	CHECK(routes_policy("HEAD", "/api/health") == POLICY_NONE);
	CHECK(routes_policy("GET", "/api/auth/login") == POLICY_API);
	CHECK(routes_policy("PUT", "/api/me") == POLICY_API);
	CHECK(routes_policy("POST", "/api/auth/login") == POLICY_AUTH);
}

static void test_list(void)
{
	char *text = NULL;
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(routes_list(f) == 0);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	CHECK(lines == routes_manifest_n);
	CHECK(strncmp(text, "health\tGET\t/api/health\tnone\tnone\n", 33) == 0);
	CHECK(strstr(text, "\ndata\tGET\t/api/data/{key}\tapi\ttoken\n") != NULL);
	CHECK(strstr(text, "\nsession\tPOST\t/api/auth/password\tauth\ttoken\n") != NULL);
	CHECK(strstr(text, "\nmetrics\t*\t/metrics\tnone\tnone\n") != NULL);
	free(text);
	CHECK_STR(routes_auth_name(ROUTE_AUTH_TOKEN), "token");
	CHECK_STR(routes_auth_name(ROUTE_AUTH_NONE), "none");
}

static void test_keys(void)
{
	struct route_keys k = { .n = 0 };
	char long_key[ROUTE_KEY_LEN + 1];

	memset(long_key, 'k', ROUTE_KEY_LEN);
	long_key[ROUTE_KEY_LEN] = '\0';
	CHECK(route_key_add(&k, "pc:epoch") == 0 && k.n == 1);
	CHECK_STR(k.key[0], "pc:epoch");
	CHECK(route_key_add(&k, long_key) == -1 && k.n == 1);
	long_key[ROUTE_KEY_LEN - 1] = '\0';
	CHECK(route_key_add(&k, long_key) == 0 && k.n == 2);
	CHECK(route_key_add(&k, "c") == 0 && route_key_add(&k, "d") == 0 && k.n == ROUTE_KEYS_MAX);
	CHECK(route_key_add(&k, "e") == -1 && k.n == ROUTE_KEYS_MAX);
	CHECK_STR(k.key[3], "d");
}

int main(void)
{
	test_expansion();
	test_rows();
	test_policy();
	test_list();
	test_keys();
	return check_summary();
}
