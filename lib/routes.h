/*
 * routes.h - the route manifest (routes.def) as tables: a responder's own
 * rows, the whole manifest, and the rate-limit policy of any request.
 *
 * A responder expands only its rows, so the handlers of the others need not
 * exist in it:
 *
 *	#define ROUTE_SELF_data ROUTE_PROBE
 *	static const struct route routes[] = {
 *	#define ROUTE ROUTES_OF
 *	#include "routes.def"
 *	};
 *
 * ROUTES_OF keeps a row when ROUTE_SELF_<its responder> is defined as
 * ROUTE_PROBE: the probe expands to two arguments, shifting a 1 into the
 * place a 0 holds otherwise, and that digit picks ROUTE_KEEP_1 (the row)
 * or ROUTE_KEEP_0 (nothing).
 */
#ifndef PORTCULLIS_ROUTES_H
#define PORTCULLIS_ROUTES_H

#include "router.h"

#include <stdio.h>

#define ROUTE_PROBE ~, 1
#define ROUTE_SECOND_(a, b, ...) b
#define ROUTE_IS_SELF_(...) ROUTE_SECOND_(__VA_ARGS__, 0, ~)
#define ROUTE_CAT_(a, b) a##b
#define ROUTE_CAT(a, b) ROUTE_CAT_(a, b)
#define ROUTE_KEEP_1(...) __VA_ARGS__,
#define ROUTE_KEEP_0(...)
#define ROUTE_IF_SELF_(probe, ...) ROUTE_CAT(ROUTE_KEEP_, ROUTE_IS_SELF_(probe))(__VA_ARGS__)
#define ROUTES_OF(responder, method, template, policy, auth, handler, hook)             \
	ROUTE_IF_SELF_(ROUTE_SELF_##responder, { #responder, method, template, POLICY_##policy, \
						      ROUTE_AUTH_##auth, handler, hook })

/* Every row of the manifest, in its order (handler and hook NULL). */
extern const struct route routes_manifest[];
extern const size_t routes_manifest_n;

/*
 * The rate limit of a request that no row of the manifest serves
 * (UNROUTED in routes.def); POLICY_NONE when none applies.
 */
enum rl_policy routes_policy_unrouted(const char *method, const char *path);

/*
 * The rate limit of any request: its row's policy when a row of the
 * manifest serves it, else routes_policy_unrouted().
 */
enum rl_policy routes_policy(const char *method, const char *path);

/* "none" or "token". */
const char *routes_auth_name(enum route_auth a);

/*
 * Prints the manifest, one row a line: responder, method, template, policy,
 * auth, separated by tabs (`health --list-routes`).  0, or -1 when the
 * write failed.
 */
int routes_list(FILE *out);

#endif
