/*
 * router.h - the route table of a responder (cgit's command table).
 *
 * Each row names its responder, a method, a path template, the rate-limit
 * policy, whether a token is required, the handler and an optional hook;
 * the rows live in one manifest, lib/routes.def, and a responder expands
 * its own (ROUTES_OF, routes.h).  The template doubles as the route label
 * in logs and metrics, so raw paths never become labels.  A template may
 * end in one `{name}` parameter that matches exactly one non-empty path
 * segment.  The method "*" matches any method (for a handler that must
 * answer every method alike, such as /metrics refusing non-loopback
 * clients with 404).
 */
#ifndef PORTCULLIS_ROUTER_H
#define PORTCULLIS_ROUTER_H

#include <stddef.h>

struct ctx;
typedef void route_handler(struct ctx *c);

/* The Redis keys a route's hook asks for (at most ROUTE_KEYS_MAX). */
#define ROUTE_KEYS_MAX 4
#define ROUTE_KEY_LEN 256

struct route_keys {
	char key[ROUTE_KEYS_MAX][ROUTE_KEY_LEN];
	int n;
};

/*
 * Appends `key` to `k`: 0, or -1 when `k` is full or the key does not fit
 * (then nothing is added).
 */
int route_key_add(struct route_keys *k, const char *key);

/*
 * Optional, for a route whose auth is ROUTE_AUTH_TOKEN: runs once the token
 * has been verified locally (c->auth holds its claims), before the
 * request's one Redis round trip, and names the keys its handler wants
 * read on it (route_key_add).  Their values reach the handler in
 * c->fetched[], in that order.  What else it wants to hand its handler it
 * leaves, malloc'd, in c->hook_state (app.c frees it).  It must not talk
 * to Redis itself.
 */
typedef void route_hook(struct ctx *c, struct route_keys *keys);

enum rl_policy {
	POLICY_NONE, /* /api/health, /api/ready: never limited */
	POLICY_AUTH, /* POST /api/auth/... */
	POLICY_API,  /* every other /api path */
};

/* Who may reach a handler (routes.def's auth column). */
enum route_auth {
	ROUTE_AUTH_NONE,  /* anyone: the handler decides */
	ROUTE_AUTH_TOKEN, /* a valid access token of a live session (app.c checks it) */
};

struct route {
	const char *responder;
	const char *method;
	const char *template;
	enum rl_policy policy;
	enum route_auth auth;
	route_handler *handler; /* NULL in the manifest of lib/routes.c */
	route_hook *hook;       /* may be NULL */
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
