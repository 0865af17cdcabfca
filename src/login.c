/*
 * login.c - the `login` responder: POST /api/auth/login.
 *
 * {"username", "password", "token_transport"?} -> 200 with a new session's
 * tokens, as cookies (the default) or in the body ("bearer").
 *
 * Cost: one bcrypt, always - an unknown name is checked against a fixed
 * dummy hash, so an unknown user and a wrong password look and take alike -
 * and a handful of queries: the failed-login check, the user, then either
 * recording the failure or creating the session (which also clears the
 * name's failures).  A hash made at another cost is re-hashed on success.
 *
 * The session is created only if the account still has the password version
 * that was verified (session_store_create): a login in flight when a password change
 * or an account deletion commits gets 401 invalid_credentials, not a
 * session.  A failure is decided and recorded in one statement
 * (login_guard_record), so parallel wrong passwords count exactly up to the
 * limit; those past it get the lockout's 429.  A lockout 429 gives its
 * request back to the `auth` rate limit.  After the answer has gone out,
 * the responder purges expired sessions and failed-login records now and
 * then (session_store_purge_later).
 */
#include "app.h"
#include "crypto.h"
#include "json_body.h"
#include "log.h"
#include "metrics.h"
#include "login_guard.h"
#include "password.h"
#include "routes.h"
#include "session_list.h"
#include "session_reply.h"
#include "session_store.h"
#include "user.h"
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const transports[] = { "cookie", "bearer", NULL };

static void log_login(struct ctx *c, const char *result, const char *user_id)
{
	cJSON *f = cJSON_CreateObject();

	cJSON_AddStringToObject(f, "request_id", c->req->id);
	cJSON_AddStringToObject(f, "result", result);
	if (user_id != NULL)
		cJSON_AddStringToObject(f, "user_id", user_id);
	log_event(LOG_INFO, "login", f);
	metrics_login(result);
}

/*
 * Stores a hash at the configured cost, only over the password version that
 * was verified (a password changed meanwhile is not overwritten with the
 * old one's); a failure only means trying again next time.
 */
static void rehash(struct ctx *c, const char *user_id, const char *version, const char *password,
    size_t len)
{
	char hash[PW_HASH_MAX];

	if (pw_hash(password, len, (int)c->cfg->bcrypt_cost, hash) != 0)
		return;
	user_update_hash(c->app, user_id, version, hash);
	explicit_bzero(hash, sizeof(hash));
}

/* The failed-login 429: Retry-After, not the RateLimit fields; not spent from the auth budget. */
static void reply_locked(struct ctx *c, long retry_after)
{
	c->resp->omit_rate_limit_fields = 1;
	app_rate_limit_refund(c);
	resp_headerf(c->resp, "Retry-After", "%ld", retry_after);
	resp_error(c->resp, c->req, 429, "rate_limited",
	    "too many failed logins for this username; try again later", NULL);
	log_login(c, "locked", NULL);
}

static void login(struct ctx *c)
{
	static const struct valid_field fields[] = {
		{ .name = "username", .required = 1 },
		{ .name = "password", .required = 1 },
		{ .name = "token_transport", .choices = transports },
	};
	struct valid_value v[3] = { { NULL, 0, 0 }, { NULL, 0, 0 }, { NULL, 0, 0 } };
	char *password = NULL, *username = NULL;
	size_t password_len = 0, username_len = 0;
	unsigned char name_hash[CRYPTO_SHA256_LEN];
	char user_agent[SESSION_LIST_USER_AGENT_MAX + 1];
	const char *stored;
	struct user_credentials cr;
	struct session_store_tokens t = { 0 };
	enum body_result br;
	enum db_status st;
	int locked, known = 0, ok, bearer;
	long retry_after;

	session_store_purge_later(c->app);
	br = body_read_json(c->req, (size_t)c->cfg->max_body_bytes);
	if (br != BODY_JSON_OK) {
		body_reply_error(c, br);
		return;
	}
	/* Checked on the exact bytes: a password keeps its U+0000 (validate.h). */
	if (valid_reply(c, valid_body(c->req->body, c->req->body_len, fields, 3, v)))
		goto out;
	username = v[0].s;
	username_len = v[0].len;
	password = v[1].s;
	password_len = v[1].len;
	bearer = v[2].s != NULL && strcmp(v[2].s, "bearer") == 0;
	if (login_guard_name_hash(c->cfg, username, name_hash) != 0)
		goto out; /* out of memory: 500 */

	st = login_guard_check(c->app, name_hash, &locked, &retry_after);
	if (st != DB_OK)
		goto db_failed;
	if (locked) {
		reply_locked(c, retry_after);
		goto out;
	}

	/* A name with an escaped NUL, or outside the rules, cannot exist: look up nothing. */
	if (username != NULL && username_len == strlen(username) && username_len >= 3 &&
	    username_len <= 32 && valid_username_format(username)) {
		switch (user_credentials_by_name(c->app, username, &cr)) {
		case USER_OK:
			known = 1;
			break;
		case USER_NOT_FOUND:
			break;
		default:
			goto db_failed;
		}
	}
	stored = known ? cr.password_hash : pw_dummy_hash((int)c->cfg->bcrypt_cost);
	/* Exactly one bcrypt, known name or not. */
	ok = pw_verify(password != NULL ? password : "", password_len,
		 stored != NULL ? stored : "") == 1 &&
	    password != NULL;
	if (!ok || !known) {
		st = login_guard_record(c->app, name_hash, &locked, &retry_after);
		if (st == DB_DOWN)
			goto db_failed;
		if (st == DB_OK && locked) {
			/* A concurrent failure reached the limit first: this one is refused, not counted. */
			reply_locked(c, retry_after);
			goto out;
		}
		resp_error(c->resp, c->req, 401, "invalid_credentials", "wrong username or password", NULL);
		log_login(c, "failure", NULL);
		goto out;
	}
	if (pw_needs_rehash(stored, (int)c->cfg->bcrypt_cost))
		rehash(c, cr.user.id, cr.password_version, password, password_len);

	switch (session_store_create(c->app, cr.user.id, cr.password_version, name_hash,
	    session_list_user_agent(c->req, user_agent), &t)) {
	case SESSION_STORE_OK:
		break;
	case SESSION_STORE_INVALID:
		/*
		 * The password changed (or the account was deleted) after it was
		 * checked: the session would be born revoked, so none is made and the
		 * login fails like a wrong password (not counted: it was right).
		 */
		resp_error(c->resp, c->req, 401, "invalid_credentials", "wrong username or password", NULL);
		log_login(c, "failure", NULL);
		goto out;
	case SESSION_STORE_DOWN:
		goto db_failed;
	default:
		goto out; /* 500 */
	}
	snprintf(c->req->user_id, sizeof(c->req->user_id), "%s", cr.user.id);
	user_cache_put(c->app, &cr.user);
	session_reply_tokens(c, &t, &cr.user, bearer);
	log_login(c, "success", cr.user.id);
	goto out;
db_failed:
	app_unavailable(c);
out:
	explicit_bzero(&cr, sizeof(cr));
	session_store_tokens_free(&t);
	valid_values_free(v, 3);
}

#define ROUTE_SELF_login ROUTE_PROBE
static const struct route routes[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};

static const struct responder responder = {
	.name = "login",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &responder);
}
