/*
 * metrics.c - the `metrics` responder: GET /metrics, the Prometheus text
 * exposition of the counters every responder process on this host shares
 * (lib/metrics.h).
 *
 * Only a loopback client gets an answer: the client address is resolved as
 * for rate limits (REMOTE_ADDR, or X-Forwarded-For behind TRUSTED_PROXIES),
 * and anyone else gets the JSON 404 of an unknown path, whatever the
 * method, so the endpoint does not show that it exists.  A scraper on
 * another host reaches it through a local agent or a proxy on the same host
 * (see README, "Operations: metrics and logs").
 */
#include "app.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

static int loopback(const struct request *req)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (!req->client_known)
		return 0;
	/* ::ffff:127.0.0.1 is already folded into AF_INET by client_addr.c. */
	if (req->client.family == AF_INET)
		return req->client.b[0] == 127;
	return req->client.family == AF_INET6 && memcmp(req->client.b, v6_loopback, 16) == 0;
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

	if (!loopback(c->req)) {
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

static const struct route routes[] = {
	{ "*", "/metrics", POLICY_NONE, metrics, NULL },
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, "metrics", routes, sizeof(routes) / sizeof(routes[0]));
}
