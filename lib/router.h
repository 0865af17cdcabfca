/*
 * router.h - the route table of a responder (cgit's command table).
 *
 * Each row names a method, a path template, the rate-limit policy and the
 * handler.  The template doubles as the route label in logs and metrics, so
 * raw paths never become labels.  A template may end in one `{name}`
 * parameter that matches exactly one non-empty path segment.  The method
 * "*" matches any method (for a handler that must answer every method
 * alike, such as /metrics refusing non-loopback clients with 404).
 */
#ifndef PORTCULLIS_ROUTER_H
#define PORTCULLIS_ROUTER_H

#include <stddef.h>

struct ctx;
typedef void route_handler(struct ctx *c);
/*
 * Optional: appends the Redis commands the handler will need to the
 * request's pipeline (c->pipe), so that they travel together with the rate
 * limit's in one round trip.  It must not send anything itself.
 */
typedef void route_prefetch(struct ctx *c);

enum rl_policy {
	POLICY_NONE, /* /api/health, /api/ready: never limited */
	POLICY_AUTH, /* POST /api/auth/... */
	POLICY_API,  /* every other /api path */
};

struct route {
	const char *method;
	const char *template;
	enum rl_policy policy;
	route_handler *handler;
	route_prefetch *prefetch; /* may be NULL */
};

enum route_result {
	ROUTE_FOUND,
	ROUTE_NOT_FOUND,
	ROUTE_METHOD_NOT_ALLOWED,
};

#define ROUTE_ALLOW_MAX 64

struct route_match {
	const struct route *route;  /* ROUTE_FOUND */
	const char *param;          /* raw (still percent-encoded) segment, or NULL */
	size_t param_len;
	const char *template;       /* the matched template, for labels; NULL if none */
	char allow[ROUTE_ALLOW_MAX]; /* ROUTE_METHOD_NOT_ALLOWED: "GET, PUT" */
};

/*
 * Finds the route for `method` and the raw `path` in `routes[0..n)`.
 * `param` points into `path`, which must outlive the match.  HEAD is served
 * by a GET route.
 */
enum route_result route_match(const struct route *routes, size_t n, const char *method,
    const char *path, struct route_match *m);

#endif
