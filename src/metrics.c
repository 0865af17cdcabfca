/*
 * metrics.c - the `metrics` responder: GET /metrics, the Prometheus text
 * exposition of the counters every responder process on this host shares
 * (lib/metrics.h).
 *
 * Answered for a client on this host: REMOTE_ADDR loopback, and when that is
 * a trusted proxy, every X-Forwarded-For entry loopback too (a malformed
 * header never is; addr_forwarded_loopback), or for any client that sends
 * "Authorization: Bearer <METRICS_TOKEN>" when METRICS_TOKEN is set (a
 * Prometheus on another host).  Anyone else, a wrong token included, gets
 * the JSON 404 of an unknown path, whatever the method, so the endpoint
 * does not show that it exists (see docs/operations.md, "Metrics").
 */
#include "app.h"
#include "crypto.h"
#include "metrics.h"
#include "routes.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * 1 if the request carries "Authorization: Bearer <METRICS_TOKEN>" and the
 * token is set.  Both sides are hashed first, so the comparison takes the
 * same time whatever the length or the content of what was sent.
 */
static int token_ok(const struct ctx *c)
{
	const char *token = c->cfg->metrics_token, *h;
	unsigned char want[CRYPTO_SHA256_LEN], got[CRYPTO_SHA256_LEN];
	int ok;

	if (token == NULL || *token == '\0')
		return 0;
	h = req_header(c->req, "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	if (crypto_sha256(token, strlen(token), want) != 0 ||
	    crypto_sha256(h, strlen(h), got) != 0)
		return 0;
	ok = crypto_equal(want, got, sizeof(want));
	explicit_bzero(want, sizeof(want));
	explicit_bzero(got, sizeof(got));
	return ok;
}

static int allowed(const struct ctx *c)
{
	if (addr_forwarded_loopback(req_param(c->req, "REMOTE_ADDR"),
	    req_header(c->req, "X-Forwarded-For"), &c->app->trusted_proxies))
		return 1;
	return token_ok(c);
}

static void not_found(struct ctx *c)
{
	resp_error(c->resp, c->req, 404, "not_found", "no such resource", NULL);
}

/*
 * Every method comes here, so that a client that is not on loopback gets
 * the 404 whatever it sends; loopback gets the metrics, or 405 with Allow.
 */
static void metrics(struct ctx *c)
{
	char *text;
	size_t len;

	if (!allowed(c)) {
		not_found(c);
		return;
	}
	if (strcmp(c->req->method, "GET") != 0 && strcmp(c->req->method, "HEAD") != 0) {
		resp_header(c->resp, "Allow", "GET, HEAD");
		resp_error(c->resp, c->req, 405, "method_not_allowed", "method not allowed here", NULL);
		return;
	}
	if (metrics_render(&text, &len) != 0) {
		resp_error(c->resp, c->req, 500, "internal_error", "internal error", NULL);
		return;
	}
	resp_text(c->resp, 200, METRICS_CONTENT_TYPE, text, len);
}

#define ROUTE_SELF_metrics ROUTE_PROBE
static const struct route routes[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};

static const struct responder responder = {
	.name = "metrics",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &responder);
}
