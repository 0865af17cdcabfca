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
 */
#include "app.h"
#include "crypto.h"
#include "json_body.h"
#include "log.h"
#include "metrics.h"
#include "login_guard.h"
#include "password.h"
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

/* Stores a hash at the configured cost; a failure only means trying again next time. */
static void rehash(struct ctx *c, const char *user_id, const char *password, size_t len)
{
	char hash[PW_HASH_MAX];
	const char *params[2] = { user_id, hash };
	PGresult *res;

	if (pw_hash(password, len, (int)c->cfg->bcrypt_cost, hash) != 0)
		return;
	if (db_exec(&c->app->db, "UPDATE users SET password_hash = $2, updated_at = now()"
				 " WHERE id = $1::uuid", 2, params, &res, NULL) == DB_OK)
		PQclear(res);
	explicit_bzero(hash, sizeof(hash));
}

static void login(struct ctx *c)
{
	static const struct valid_field fields[] = {
		{ "username", 1, 0, 0, NULL, NULL },
		{ "password", 1, 0, 0, NULL, NULL },
		{ "token_transport", 0, 0, 0, NULL, transports },
	};
	const char *v[3], *params[1];
	cJSON *body = NULL;
	char *password = NULL, *username = NULL;
	size_t password_len = 0, username_len = 0;
	unsigned char name_hash[CRYPTO_SHA256_LEN];
	char user_agent[SLIST_USER_AGENT_MAX + 1];
	const char *stored;
	struct user u;
	struct sess_tokens t = { 0 };
	PGresult *res = NULL;
	enum body_result br;
	enum db_status st;
	int locked, known = 0, ok, bearer;
	long retry_after;

	br = body_parse_json(c->req, (size_t)c->cfg->max_body_bytes, 1, &body);
	if (br != BODY_JSON_OK) {
		body_reply_error(c, br);
		return;
	}
	if (valid_reply(c, valid_check(body, fields, 3, v)))
		goto out;
	bearer = v[2] != NULL && strcmp(v[2], "bearer") == 0;
	if (body_exact_string(c->req, "username", &username, &username_len) < 0 ||
	    body_exact_string(c->req, "password", &password, &password_len) < 0 ||
	    guard_name_hash(c->cfg, v[0], name_hash) != 0)
		goto out; /* out of memory: 500 */

	st = guard_check(c->app, name_hash, &locked, &retry_after);
	if (st != DB_OK)
		goto db_failed;
	if (locked) {
		/* The failed-login 429 carries Retry-After, not the RateLimit fields. */
		c->resp->omit_rate_limit_fields = 1;
		resp_headerf(c->resp, "Retry-After", "%ld", retry_after);
		resp_error(c->resp, c->req, 429, "rate_limited",
		    "too many failed logins for this username; try again later", NULL);
		log_login(c, "locked", NULL);
		goto out;
	}

	/* A name with an escaped NUL, or outside the rules, cannot exist: look up nothing. */
	if (username != NULL && username_len == strlen(v[0]) && username_len >= 3 &&
	    username_len <= 32 && valid_username_format(v[0])) {
		params[0] = v[0];
		st = db_exec(&c->app->db,
		    "SELECT id::text, username, " USER_CREATED_AT_SQL("created_at") ", password_hash"
		    " FROM users WHERE lower(username) = lower($1)",
		    1, params, &res, NULL);
		if (st != DB_OK)
			goto db_failed;
		known = PQntuples(res) == 1 &&
		    user_set(&u, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2)) == 0;
	}
	stored = known ? PQgetvalue(res, 0, 3) : pw_dummy_hash((int)c->cfg->bcrypt_cost);
	/* Exactly one bcrypt, known name or not. */
	ok = pw_verify(password != NULL ? password : "", password_len,
		 stored != NULL ? stored : "") == 1 &&
	    password != NULL;
	if (!ok || !known) {
		st = guard_fail(c->app, name_hash);
		if (st == DB_DOWN)
			goto db_failed;
		resp_error(c->resp, c->req, 401, "invalid_credentials", "wrong username or password", NULL);
		log_login(c, "failure", NULL);
		goto out;
	}
	if (pw_needs_rehash(stored, (int)c->cfg->bcrypt_cost))
		rehash(c, u.id, password, password_len);

	switch (sess_create(c->app, u.id, name_hash, slist_user_agent(c->req, user_agent), &t)) {
	case SESS_OK:
		break;
	case SESS_DOWN:
		goto db_failed;
	default:
		goto out; /* 500 */
	}
	snprintf(c->req->user_id, sizeof(c->req->user_id), "%s", u.id);
	user_cache_put(c->app, &u);
	sess_reply(c, &t, &u, bearer);
	log_login(c, "success", u.id);
	goto out;
db_failed:
	app_unavailable(c);
out:
	PQclear(res);
	sess_tokens_free(&t);
	free(username);
	if (password != NULL) {
		explicit_bzero(password, password_len);
		free(password);
	}
	cJSON_Delete(body);
}

static const struct route routes[] = {
	{ "POST", "/api/auth/login", POLICY_AUTH, login, NULL },
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, "login", routes, sizeof(routes) / sizeof(routes[0]));
}
