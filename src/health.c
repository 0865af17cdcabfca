/*
 * health.c - the `health` responder: GET /api/health and GET /api/ready.
 *
 * The web server also sends it every /api path that no other responder
 * claims, so its route table answers those with the JSON 404/405 of the
 * contract.  Both endpoints answer with their status object, never the
 * error envelope, and are exempt from rate limits.
 */
#include "app.h"
#include "revocation.h"
#include "routes.h"

#include <cJSON.h>

/* The process is alive; no backend is touched. */
static void health(struct ctx *c)
{
	cJSON *body = cJSON_CreateObject();

	cJSON_AddStringToObject(body, "status", "ok");
	resp_json(c->resp, c->req, 200, body);
}

/* One real round trip to each backend: ok, degraded (Redis down), unavailable. */
static void ready(struct ctx *c)
{
	int pg = db_ping(&c->app->db);
	int rd = redis_ping(&c->app->redis);
	cJSON *body = cJSON_CreateObject();
	cJSON *checks;

	cJSON_AddStringToObject(body, "status", !pg ? "unavailable" : rd ? "ok" : "degraded");
	checks = cJSON_AddObjectToObject(body, "checks");
	cJSON_AddStringToObject(checks, "postgres", pg ? "ok" : "down");
	cJSON_AddStringToObject(checks, "redis", rd ? "ok" : "down");
	/* Not in the contract's required keys: who decides whether a token is revoked. */
	cJSON_AddStringToObject(checks, "revocation", revoke_decided_by(c->app));
	if (!pg)
		resp_header(c->resp, "Retry-After", "5");
	resp_json(c->resp, c->req, pg ? 200 : 503, body);
}

#define ROUTE_SELF_health ROUTE_PROBE
static const struct route routes[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};

/* The replay also reads Redis' eviction policy, which /api/ready reports. */
static const struct responder responder = {
	.name = "health",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_redis_connect = { revoke_replay },
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &responder);
}
