/*
 * app.h - the life of a responder process: startup, the accept loop, and the
 * context a handler works in.
 *
 * app_main() loads and checks the configuration (exiting with a message that
 * names the variable when a value is wrong), then serves requests: under
 * FastCGI in a loop over libfcgi's accept, as a plain CGI program once when
 * not started under FastCGI, or on its own socket with `--listen`.  Each
 * request reads, in handle() of app.c: parse, route, then from the route's
 * row (lib/routes.def) its rate-limit policy, the token check when the row
 * asks for one, the route's hook naming its own Redis keys, one Redis round
 * trip for all of them, the rate-limit verdict, the token's verdict and the
 * cross-site rule; only a request that passed reaches the handler, which
 * acts and answers; then the log line.  All its memory is released at the
 * end of the loop.
 */
#ifndef PORTCULLIS_APP_H
#define PORTCULLIS_APP_H

#include "auth.h"
#include "client_addr.h"
#include "config.h"
#include "rate_limit.h"
#include "db.h"
#include "redis.h"
#include "request.h"
#include "response.h"
#include "router.h"

#include <stddef.h>

struct app;

/*
 * Runs on every fresh Redis connection before it is trusted, to bring Redis
 * up to date with what it may have missed (app->redis.outage_seen says
 * whether this process saw it fail).  0, or -1 (tried again before Redis is
 * trusted).
 */
typedef int redis_connect_hook(struct app *app);

#define RESPONDER_CONNECT_HOOKS_MAX 4

/* What a responder is: its name, its rows of routes.def, its hooks. */
struct responder {
	const char *name;
	const struct route *routes;
	size_t nroutes;
	/* Run in order on every fresh Redis connection; the list ends at the first NULL. */
	redis_connect_hook *on_redis_connect[RESPONDER_CONNECT_HOOKS_MAX];
};

/* What lives as long as the process. */
struct app {
	const char *name;
	const struct responder *responder;
	struct config cfg;
	struct addr_list trusted_proxies;
	struct db db;
	struct redis redis;
	struct rl_memory *rl_memory; /* the rate limits' fallback while Redis is down */
	struct rl_stats rl_stats;
	/*
	 * Work a handler leaves for after its answer has gone out (housekeeping
	 * such as purges), so that it adds nothing to that request's latency;
	 * run once, then cleared.
	 */
	void (*deferred)(struct app *app);
};

/* What a handler gets: the process and this one exchange. */
struct ctx {
	struct app *app;
	const struct config *cfg;
	struct request *req;
	struct response *resp;
	const struct route *route; /* the row that serves the request, or NULL */
	const char *param; /* the raw {param} segment of the route, or NULL */
	size_t param_len;
	struct redis_pipe pipe; /* this request's one Redis round trip (see redis.h) */
	/*
	 * Set before the handler of a ROUTE_AUTH_TOKEN route runs: who is asking
	 * (its token passed), and the values of the keys the route's hook named,
	 * in its order (each NULL when Redis could not answer for them).
	 */
	struct auth auth;
	const redisReply *fetched[ROUTE_KEYS_MAX];
	void *hook_state; /* what the hook left for its handler (malloc'd; freed by app.c) */
};

/*
 * Runs `responder`.  Options: `--check-config` (validate and exit),
 * `--listen ADDR` (serve FastCGI on a socket of our own: `:9000`,
 * `127.0.0.1:9000` or a unix path), `--list-routes` (print the route
 * manifest of every responder, routes.h), `--help`.  Returns the process
 * exit status: 0, 1 for usage or runtime failure, 2 for bad configuration.
 */
int app_main(int argc, char **argv, const struct responder *responder);

/* Answers 503 service_unavailable (with Retry-After). */
void app_unavailable(struct ctx *c);

/*
 * Gives the request's rate-limit token back (rl_refund): for an answer the
 * contract does not count against the limit (the failed-login lockout's
 * 429).  An extra Redis round trip on that path only.
 */
void app_rate_limit_refund(struct ctx *c);

#endif
