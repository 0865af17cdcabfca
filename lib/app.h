/*
 * app.h - the life of a responder process: startup, the accept loop, and the
 * context a handler works in.
 *
 * app_main() loads and checks the configuration (exiting with a message that
 * names the variable when a value is wrong), then serves requests: under
 * FastCGI in a loop over libfcgi's accept, as a plain CGI program once when
 * not started under FastCGI, or on its own socket with `--listen`.  Each
 * request reads: parse, route, authorize, act, answer, log; all its memory is
 * released at the end of the loop.
 */
#ifndef PORTCULLIS_APP_H
#define PORTCULLIS_APP_H

#include "client_addr.h"
#include "config.h"
#include "rate_limit.h"
#include "db.h"
#include "redis.h"
#include "request.h"
#include "response.h"
#include "router.h"

#include <stddef.h>

/* What lives as long as the process. */
struct app {
	const char *name;
	const struct route *routes;
	size_t nroutes;
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
	const char *param; /* the raw {param} segment of the route, or NULL */
	size_t param_len;
	struct redis_pipe pipe; /* this request's one Redis round trip (see redis.h) */
	void *prefetched;       /* what the route's prefetch hook left for its handler */
};

/*
 * Runs responder `name` with its route table.  Options: `--check-config`
 * (validate and exit), `--listen ADDR` (serve FastCGI on a socket of our own:
 * `:9000`, `127.0.0.1:9000` or a unix path), `--help`.  Returns the process
 * exit status: 0, 1 for usage or runtime failure, 2 for bad configuration.
 */
int app_main(int argc, char **argv, const char *name, const struct route *routes, size_t nroutes);

/* Answers 503 service_unavailable (with Retry-After). */
void app_unavailable(struct ctx *c);

/*
 * Gives the request's rate-limit token back (rl_refund): for an answer the
 * contract does not count against the limit (the failed-login lockout's
 * 429).  An extra Redis round trip on that path only.
 */
void app_rate_limit_refund(struct ctx *c);

#endif
