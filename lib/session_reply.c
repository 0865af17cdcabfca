/*
 * session_reply.c - see session_reply.h.
 */
#include "session_reply.h"

#include "cookie.h"

#include <stdio.h>
#include <time.h>

void session_reply_rfc3339(long t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "1970-01-01T00:00:00Z");
}

void session_reply_tokens(struct ctx *c, const struct session_store_tokens *t, const struct user *u,
    int bearer)
{
	cJSON *body = cJSON_CreateObject();
	cJSON *user = user_json(u);
	char access_at[32], refresh_at[32];
	long now = (long)time(NULL);
	long access_left = t->access_expires - now;

	session_reply_rfc3339(t->access_expires, access_at, sizeof(access_at));
	session_reply_rfc3339(t->refresh_expires, refresh_at, sizeof(refresh_at));
	if (access_left < 0)
		access_left = 0;
	if (body == NULL || user == NULL) {
		cJSON_Delete(body);
		cJSON_Delete(user);
		resp_json(c->resp, c->req, 500, NULL);
		return;
	}
	cJSON_AddItemToObject(body, "user", user);
	cJSON_AddStringToObject(body, "access_token_expires_at", access_at);
	cJSON_AddStringToObject(body, "refresh_token_expires_at", refresh_at);
	if (bearer) {
		cJSON_AddStringToObject(body, "token_type", "Bearer");
		cJSON_AddStringToObject(body, "access_token", t->access);
		cJSON_AddNumberToObject(body, "expires_in", (double)access_left);
		cJSON_AddStringToObject(body, "refresh_token", t->refresh);
	} else if (cookie_set_session(c->resp, t->access, c->cfg->access_token_ttl, t->refresh,
		       c->cfg->refresh_token_ttl) != 0) {
		/* Max-Age is the configured lifetime, as the contract says; the
		 * server refuses a token past its own expiry either way. */
		cJSON_Delete(body);
		resp_json(c->resp, c->req, 500, NULL);
		return;
	}
	resp_json(c->resp, c->req, 200, body);
}
