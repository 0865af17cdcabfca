/*
 * session.c - the `session` responder: what a logged-in client does with its
 * session.
 *
 *   POST /api/auth/refresh   rotate the refresh token: a new pair
 *   POST /api/auth/logout    revoke the session, clear the cookies
 *   POST /api/auth/password  change the password, revoke every session
 *   GET  /api/me             who am I
 *   DELETE /api/me           delete the account (with its password)
 *   GET  /api/sessions       the user's live sessions
 *   DELETE /api/sessions/{id}  end one of them
 *   DELETE /api/sessions     end all of them but this one
 *
 * The cookie transport is used unless the request says otherwise (a
 * refresh token in the body, an Authorization: Bearer header).  A
 * cookie-authenticated write from a foreign Origin is refused before
 * anything changes (auth_refuse_cross_site()).  The routes that need an
 * access token get it checked by app.c before their handler runs
 * (lib/routes.def), on the request's one Redis round trip; refresh and
 * logout read their tokens themselves.
 */
#include "account.h"
#include "app.h"
#include "auth.h"
#include "cookie.h"
#include "denylist.h"
#include "json_body.h"
#include "kv_cache.h"
#include "log.h"
#include "metrics.h"
#include "login_guard.h"
#include "password.h"
#include "revocation.h"
#include "routes.h"
#include "session_list.h"
#include "session_reply.h"
#include "session_store.h"
#include "user.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when the request carries a body at all (Content-Length > 0). */
static int has_body(const struct request *req)
{
	const char *cl = req_header(req, "Content-Length");

	return cl != NULL && *cl != '\0' && strspn(cl, "0") != strlen(cl);
}

/*
 * The optional JSON body of refresh and logout: `*token` is its
 * "refresh_token" (NULL when absent), held by `*body` (valid_values_free()).
 * Returns 0, or 1 when it answered an error (a body that is there must be
 * valid).
 */
static int optional_token_body(struct ctx *c, struct valid_value *body, const char **token)
{
	static const struct valid_field fields[] = {
		{ .name = "refresh_token" },
	};
	enum body_result br;
	int r;

	body->s = NULL;
	body->len = 0;
	*token = NULL;
	if (!has_body(c->req))
		return 0;
	br = body_read_json(c->req, (size_t)c->cfg->max_body_bytes);
	if (br != BODY_JSON_OK) {
		body_reply_error(c, br);
		return 1;
	}
	r = valid_reply(c, valid_body(c->req->body, c->req->body_len, fields, 1, body));
	*token = body->s;
	return r;
}

static void refresh(struct ctx *c)
{
	char cookie[SESSION_STORE_REFRESH_LEN + 2];
	const char *token;
	struct valid_value body = { NULL, 0, 0 };
	struct session_store_tokens t = { 0 };
	struct user u;
	int bearer;

	cookie[0] = '\0';
	session_store_purge_later(c->app);
	if (optional_token_body(c, &body, &token))
		goto out;
	bearer = token != NULL;
	if (!bearer) {
		if (cookie_get(req_header(c->req, "Cookie"), COOKIE_REFRESH, cookie, sizeof(cookie)) ==
		    COOKIE_FOUND)
			token = cookie;
	}
	/* The cookie is the credential whenever the token comes from it. */
	if (auth_refuse_cross_site(c, token == cookie))
		goto out;
	if (token == NULL) {
		resp_error(c->resp, c->req, 401, "unauthenticated", "no refresh token", NULL);
		goto out;
	}
	switch (session_store_refresh(c->app, token, &t, &u)) {
	case SESSION_STORE_OK:
		snprintf(c->req->user_id, sizeof(c->req->user_id), "%s", u.id);
		session_reply_tokens(c, &t, &u, bearer);
		break;
	case SESSION_STORE_INVALID:
		resp_error(c->resp, c->req, 401, "unauthenticated",
		    "the refresh token is not valid", NULL);
		break;
	case SESSION_STORE_REUSED:
		snprintf(c->req->user_id, sizeof(c->req->user_id), "%s", u.id);
		if (!bearer)
			cookie_clear_session(c->resp);
		resp_error(c->resp, c->req, 401, "refresh_token_reused",
		    "this refresh token was already used; the session is revoked", NULL);
		break;
	case SESSION_STORE_DOWN:
		app_unavailable(c);
		break;
	case SESSION_STORE_ERROR:
		break; /* 500 */
	}
out:
	explicit_bzero(cookie, sizeof(cookie));
	session_store_tokens_free(&t);
	valid_values_free(&body, 1);
}

static void logout(struct ctx *c)
{
	char cookie[SESSION_STORE_REFRESH_LEN + 2] = "";
	const char *token;
	const char *sid = NULL;
	struct valid_value body = { NULL, 0, 0 };
	struct auth a;
	char access[TOKEN_MAX_LEN + 1];
	int via_cookie = 0, have_access;
	struct token_claims claims;

	have_access = auth_token(c->req, access, sizeof(access), &via_cookie);
	if (optional_token_body(c, &body, &token))
		goto out;
	if (token == NULL &&
	    cookie_get(req_header(c->req, "Cookie"), COOKIE_REFRESH, cookie, sizeof(cookie)) ==
		COOKIE_FOUND)
		token = cookie;
	/* Refused before anything changes when a cookie is one of the credentials used. */
	if (auth_refuse_cross_site(c, (have_access && via_cookie) || token == cookie))
		goto out;
	/* A token that verifies names its session; an expired or bad one revokes nothing. */
	if (have_access && token_verify(c->cfg, access, (long)time(NULL), &claims) == TOKEN_OK) {
		memcpy(&a.claims, &claims, sizeof(claims));
		sid = a.claims.sid;
		snprintf(c->req->user_id, sizeof(c->req->user_id), "%s", a.claims.sub);
	}
	if (sid != NULL || token != NULL) {
		switch (session_store_logout(c->app, sid, token)) {
		case SESSION_STORE_OK:
			break;
		case SESSION_STORE_DOWN:
			app_unavailable(c);
			goto out;
		default:
			goto out; /* 500 */
		}
	}
	cookie_clear_session(c->resp);
	resp_empty(c->resp, 204);
out:
	explicit_bzero(access, sizeof(access));
	explicit_bzero(cookie, sizeof(cookie));
	valid_values_free(&body, 1);
}

/* The failed-login 429: Retry-After, not the RateLimit fields; not spent from the auth budget. */
static void reply_locked(struct ctx *c, long retry_after)
{
	metrics_login("locked");
	c->resp->omit_rate_limit_fields = 1;
	app_rate_limit_refund(c);
	resp_headerf(c->resp, "Retry-After", "%ld", retry_after);
	resp_error(c->resp, c->req, 429, "rate_limited",
	    "too many failed logins for this username; try again later", NULL);
}

/*
 * Checks `password` (`len` bytes) against the request's user as a login
 * would, for a password change or an account deletion: a name locked by
 * failed logins answers 429, and a wrong password counts as a failed login
 * of the name and answers 401 invalid_credentials with `wrong`.  Returns 0
 * when the password holds, with the user's credentials in `*cr` and the
 * name's hash (login_guard_name_hash()) in `name_hash`; 1 when it answered
 * (or wrote nothing: 500).
 */
static int verify_password(struct ctx *c, const char *password, size_t len, const char *wrong,
    struct user_credentials *cr, unsigned char name_hash[CRYPTO_SHA256_LEN])
{
	enum db_status st;
	int locked, ok;
	long retry_after;

	switch (user_credentials_by_id(c->app, c->auth.claims.sub, cr)) {
	case USER_OK:
		break;
	case USER_NOT_FOUND:
		auth_reply(c, AUTH_INVALID);
		return 1;
	default:
		app_unavailable(c);
		return 1;
	}
	if (login_guard_name_hash(c->cfg, cr->user.username, name_hash) != 0)
		return 1;
	if ((st = login_guard_check(c->app, name_hash, &locked, &retry_after)) != DB_OK) {
		app_unavailable(c);
		return 1;
	}
	if (locked) {
		reply_locked(c, retry_after);
		return 1;
	}
	ok = pw_verify(password != NULL ? password : "", len, cr->password_hash) == 1 &&
	    password != NULL;
	if (ok)
		return 0;
	if ((st = login_guard_record(c->app, name_hash, &locked, &retry_after)) == DB_DOWN) {
		app_unavailable(c);
	} else if (st == DB_OK && locked) {
		reply_locked(c, retry_after); /* a concurrent failure reached the limit first */
	} else {
		metrics_login("failure");
		resp_error(c->resp, c->req, 401, "invalid_credentials", wrong, NULL);
	}
	return 1;
}

static void change_password(struct ctx *c)
{
	const struct valid_field fields[] = {
		{ .name = "current_password", .required = 1 },
		{ .name = "new_password", .required = 1,
		  .min_chars = (size_t)c->cfg->password_min_length, .max_chars = 128 },
	};
	struct valid_value v[2] = { { NULL, 0, 0 }, { NULL, 0, 0 } };
	char *fresh = NULL, hash[PW_HASH_MAX] = "";
	size_t fresh_len = 0;
	unsigned char name_hash[CRYPTO_SHA256_LEN];
	struct user_credentials cr;
	enum body_result br;

	br = body_read_json(c->req, (size_t)c->cfg->max_body_bytes);
	if (br != BODY_JSON_OK) {
		body_reply_error(c, br);
		return;
	}
	/* Both passwords are checked and kept on their exact bytes (validate.h);
	 * a common new password is refused after the length rules, before bcrypt. */
	if (valid_reply(c, valid_body(c->req->body, c->req->body_len, fields, 2, v)) ||
	    deny_reply(c, "new_password", v[1].s, v[1].len))
		goto out;
	fresh = v[1].s;
	fresh_len = v[1].len;
	/* A wrong current password counts as a failed login of this name. */
	if (verify_password(c, v[0].s, v[0].len, "the current password is wrong", &cr, name_hash))
		goto out;
	if (pw_hash(fresh, fresh_len, (int)c->cfg->bcrypt_cost, hash) != 0)
		goto out;
	switch (session_store_change_password(c->app, c->auth.claims.sub, hash)) {
	case SESSION_STORE_OK:
		break;
	case SESSION_STORE_DOWN:
		goto db_failed;
	default:
		goto out;
	}
	login_guard_reset(c->app, name_hash);
	{
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "request_id", c->req->id);
		cJSON_AddStringToObject(f, "user_id", c->auth.claims.sub);
		log_event(LOG_INFO, "password changed: every session revoked", f);
	}
	cookie_clear_session(c->resp);
	resp_empty(c->resp, 204);
	goto out;
db_failed:
	app_unavailable(c);
out:
	explicit_bzero(&cr, sizeof(cr));
	explicit_bzero(hash, sizeof(hash));
	valid_values_free(v, 2);
}

/* GET /api/me's hook: the user's cached record rides on the request's round trip. */
static void me_keys(struct ctx *c, struct route_keys *keys)
{
	char key[96];

	user_cache_key(c->auth.claims.sub, key, sizeof(key));
	(void)route_key_add(keys, key); /* it fits; without it, me() reads PostgreSQL */
}

static void me(struct ctx *c)
{
	const redisReply *cached = c->fetched[0];
	struct user u;
	cJSON *answer;
	int found = 0;

	if (cached != NULL && cached->type == REDIS_REPLY_STRING && user_parse(cached->str, &u) == 0 &&
	    strcmp(u.id, c->auth.claims.sub) == 0)
		found = 1;
	if (!found) {
		switch (user_load(c->app, c->auth.claims.sub, &u, &found)) {
		case DB_OK:
			break;
		case DB_DOWN:
			app_unavailable(c);
			return;
		case DB_ERROR:
			return; /* 500 */
		}
		if (!found) {
			auth_reply(c, AUTH_INVALID);
			return;
		}
		user_cache_put(c->app, &u);
	}
	answer = cJSON_CreateObject();
	cJSON_AddItemToObject(answer, "user", user_json(&u));
	resp_json(c->resp, c->req, 200, answer);
}

/* Answers a failed session_list_*() call; returns 1 when it answered. */
static int list_failed(struct ctx *c, enum session_list_result r)
{
	switch (r) {
	case SESSION_LIST_OK:
		return 0;
	case SESSION_LIST_NOT_FOUND:
		resp_error(c->resp, c->req, 404, "not_found", "no such session", NULL);
		return 1;
	case SESSION_LIST_DOWN:
		app_unavailable(c);
		return 1;
	case SESSION_LIST_ERROR:
		break;
	}
	resp_json(c->resp, c->req, 500, NULL);
	return 1;
}

static void list_sessions(struct ctx *c)
{
	cJSON *list = NULL, *answer;

	if (list_failed(c, session_list_query(c->app, c->auth.claims.sub, c->auth.claims.sid, &list)))
		return;
	answer = cJSON_CreateObject();
	if (answer == NULL || !cJSON_AddItemToObject(answer, "sessions", list)) {
		cJSON_Delete(list);
		cJSON_Delete(answer);
		resp_json(c->resp, c->req, 500, NULL);
		return;
	}
	resp_json(c->resp, c->req, 200, answer);
}

static void end_session(struct ctx *c)
{
	struct valid_value id[1];
	cJSON *bad = valid_params(c->req, c->param, c->param_len, session_list_id_fields, 1, id);

	/* Not a session id at all: as unknown as another user's. */
	if (bad != NULL) {
		cJSON_Delete(bad);
		list_failed(c, SESSION_LIST_NOT_FOUND);
		return;
	}
	if (!list_failed(c, session_list_end(c->app, c->auth.claims.sub, id[0].s))) {
		/* Ending the current session is its logout. */
		if (strcmp(id[0].s, c->auth.claims.sid) == 0)
			cookie_clear_session(c->resp);
		resp_empty(c->resp, 204);
	}
	valid_values_free(id, 1);
}

static void end_other_sessions(struct ctx *c)
{
	if (list_failed(c, session_list_end_others(c->app, c->auth.claims.sub, c->auth.claims.sid)))
		return;
	resp_empty(c->resp, 204);
}

static void delete_me(struct ctx *c)
{
	static const struct valid_field fields[] = {
		{ .name = "password", .required = 1 },
	};
	struct valid_value v[1] = { { NULL, 0, 0 } };
	unsigned char name_hash[CRYPTO_SHA256_LEN];
	struct user_credentials cr;
	enum body_result br;

	br = body_read_json(c->req, (size_t)c->cfg->max_body_bytes);
	if (br != BODY_JSON_OK) {
		body_reply_error(c, br);
		return;
	}
	/* Checked on the exact bytes: a password keeps its U+0000 (validate.h). */
	if (valid_reply(c, valid_body(c->req->body, c->req->body_len, fields, 1, v)))
		goto out;
	/* A wrong password counts as a failed login of this name, as on a password change. */
	if (verify_password(c, v[0].s, v[0].len, "the password is wrong", &cr, name_hash))
		goto out;
	switch (account_delete(c->app, c->auth.claims.sub, cr.password_hash, name_hash)) {
	case ACCOUNT_OK:
		break;
	case ACCOUNT_CHANGED:
		/* Deleted or its password changed meanwhile: this session is over either way. */
		auth_reply(c, AUTH_REVOKED);
		goto out;
	case ACCOUNT_DOWN:
		goto db_failed;
	case ACCOUNT_ERROR:
		resp_json(c->resp, c->req, 500, NULL);
		goto out;
	}
	cookie_clear_session(c->resp);
	resp_empty(c->resp, 204);
	goto out;
db_failed:
	app_unavailable(c);
out:
	explicit_bzero(&cr, sizeof(cr));
	valid_values_free(v, 1);
}

#define ROUTE_SELF_session ROUTE_PROBE
static const struct route routes[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};

/* Revocations to replay; an account's deletion also writes data stamps (kv_cache.h). */
static const struct responder responder = {
	.name = "session",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
	.on_redis_connect = { revoke_replay, kv_cache_on_reconnect },
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &responder);
}
