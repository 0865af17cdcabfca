/*
 * routes.c - see routes.h.
 */
#include "routes.h"

#include "rate_limit.h"

#include <string.h>

const struct route routes_manifest[] = {
#define ROUTE(responder, method, template, policy, auth, handler, hook) \
	{ #responder, method, template, POLICY_##policy, ROUTE_AUTH_##auth, NULL, NULL },
#include "routes.def"
};
const size_t routes_manifest_n = sizeof(routes_manifest) / sizeof(routes_manifest[0]);

static const struct {
	const char *method, *path;
	enum rl_policy policy;
} unrouted[] = {
#define UNROUTED(method, path, policy) { method, path, POLICY_##policy },
#include "routes.def"
};

enum rl_policy routes_policy_unrouted(const char *method, const char *path)
{
	for (size_t i = 0; i < sizeof(unrouted) / sizeof(unrouted[0]); i++) {
		const char *p = unrouted[i].path;
		size_t len = strlen(p);
		int prefix = len > 0 && p[len - 1] == '/';

		if (strcmp(unrouted[i].method, "*") != 0 && strcmp(unrouted[i].method, method) != 0)
			continue;
		if (prefix ? strncmp(path, p, len) == 0 : strcmp(path, p) == 0)
			return unrouted[i].policy;
	}
	return POLICY_NONE;
}

enum rl_policy routes_policy(const char *method, const char *path)
{
	struct route_match m;

	if (route_match(routes_manifest, routes_manifest_n, method, path, &m) == ROUTE_FOUND)
		return m.route->policy;
	return routes_policy_unrouted(method, path);
}

const char *routes_auth_name(enum route_auth a)
{
	return a == ROUTE_AUTH_TOKEN ? "token" : "none";
}

int routes_list(FILE *out)
{
	for (size_t i = 0; i < routes_manifest_n; i++) {
		const struct route *r = &routes_manifest[i];

		if (fprintf(out, "%s\t%s\t%s\t%s\t%s\n", r->responder, r->method, r->template,
			rl_policy_name(r->policy), routes_auth_name(r->auth)) < 0)
			return -1;
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
