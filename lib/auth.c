/*
 * auth.c - see auth.h.
 */
#include "auth.h"

#include "app.h"
#include "cookie.h"
#include "log.h"
#include "revocation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The token after "Bearer " (scheme case-insensitive), or NULL. */
static const char *bearer_of(const struct request *req)
{
	const char *h = req_header(req, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

int auth_has_bearer(const struct request *req)
{
	return bearer_of(req) != NULL;
}

int auth_token(const struct request *req, char *out, size_t outlen, int *via_cookie)
{
	const char *b = bearer_of(req);

	*via_cookie = 0;
	if (b != NULL) {
		size_t n = strlen(b);

		while (n > 0 && b[n - 1] == ' ')
			n--;
		if (n == 0 || n >= outlen)
			return 0;
		memcpy(out, b, n);
		out[n] = '\0';
		return 1;
	}
	if (cookie_get(req_header(req, "Cookie"), COOKIE_ACCESS, out, outlen) == COOKIE_FOUND &&
	    out[0] != '\0') {
		*via_cookie = 1;
		return 1;
	}
	return 0;
}

void auth_reply(struct ctx *c, enum auth_result r)
{
	if (r == AUTH_UNAVAILABLE)
		app_unavailable(c);
	else
		resp_error(c->resp, c->req, 401, "unauthenticated",
		    r == AUTH_MISSING ? "authentication required" : "the access token is not valid",
		    NULL);
}

/* 1 when `origin` appears exactly in the comma-separated `list`. */
static int origin_listed(const char *list, const char *origin)
{
	size_t olen = strlen(origin);

	while (list != NULL && *list != '\0') {
		const char *end = strchr(list, ',');
		const char *s = list, *e = end != NULL ? end : list + strlen(list);

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == olen && memcmp(s, origin, olen) == 0)
			return 1;
		list = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

int auth_refuse_cross_site(struct ctx *c, int cookie_auth)
{
	const char *m = c->req->method, *origin, *host;
	char own[300];

	if (!cookie_auth || (strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 && strcmp(m, "DELETE") != 0))
		return 0;
	origin = req_header(c->req, "Origin");
	if (origin == NULL)
		return 0;
	if (origin_listed(c->cfg->cors_allowed_origins, origin))
		return 0;
	host = req_header(c->req, "Host");
	if (host != NULL && snprintf(own, sizeof(own), "https://%s", host) < (int)sizeof(own) &&
	    strcmp(own, origin) == 0)
		return 0;
	resp_error(c->resp, c->req, 403, "origin_not_allowed",
	    "this origin may not make cookie-authenticated changes", NULL);
	return 1;
}

void auth_begin(struct ctx *c, struct auth_pending *p)
{
	char token[TOKEN_MAX_LEN + 1];
	enum token_result tr;

	memset(p, 0, sizeof(*p));
	p->index = -1;
	if (!auth_token(c->req, token, sizeof(token), &p->a.via_cookie)) {
		p->result = AUTH_MISSING;
		return;
	}
	tr = token_verify(c->cfg, token, (long)time(NULL), &p->a.claims);
	explicit_bzero(token, sizeof(token));
	p->result = tr == TOKEN_OK ? AUTH_OK : AUTH_INVALID;
	if (tr != TOKEN_OK && log_enabled(LOG_DEBUG)) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "request_id", c->req->id);
		cJSON_AddStringToObject(f, "reason", token_result_name(tr));
		log_event(LOG_DEBUG, "access token refused", f);
	}
}

void auth_queue(struct ctx *c, struct auth_pending *p, const char *const *keys, int n)
{
	char rv[96];
	const char *argv[3 + AUTH_EXTRA_MAX] = { "MGET", rv, REVOKE_READY_KEY };

	if (p->result != AUTH_OK || n < 0 || n > AUTH_EXTRA_MAX)
		return;
	p->n_wanted = n; /* auth_finish() sets that many replies, whatever happens next */
	/* Only a Redis that has replayed the revocations may answer for them. */
	if (redis_synced(&c->app->redis) == NULL)
		return;
	revoke_key(p->a.claims.sid, rv, sizeof(rv));
	for (int i = 0; i < n; i++)
		argv[3 + i] = keys[i];
	p->n_extra = n;
	p->index = redis_pipe_append(&c->app->redis, &c->pipe, 3 + n, argv, NULL);
}

enum auth_result auth_finish(struct ctx *c, struct auth_pending *p, const redisReply **replies)
{
	const redisReply *rep;
	enum revoke_state st;

	/* Every reply the caller asked for is set, also when nothing was queued. */
	for (int i = 0; i < p->n_wanted && replies != NULL; i++)
		replies[i] = NULL;
	if (p->result != AUTH_OK)
		return p->result;
	redis_pipe_flush(&c->app->redis, &c->pipe);
	rep = redis_pipe_reply(&c->pipe, p->index);
	if (rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements == (size_t)(2 + p->n_extra)) {
		st = revoke_from_reply(c->app, p->a.claims.sid, rep->element[0], rep->element[1]);
		/* Replies that came from a Redis that lost its data are not used either. */
		for (int i = 0; i < p->n_extra && replies != NULL && c->app->redis.synced; i++)
			replies[i] = rep->element[2 + i];
	} else {
		st = revoke_check_postgres(c->app, p->a.claims.sid);
	}
	if (st != REVOKE_LIVE)
		return st == REVOKE_REVOKED ? AUTH_REVOKED : AUTH_UNAVAILABLE;
	snprintf(c->req->user_id, sizeof(c->req->user_id), "%s", p->a.claims.sub);
	return AUTH_OK;
}
