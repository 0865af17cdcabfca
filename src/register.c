/*
 * register.c - the `register` responder: POST /api/auth/register.
 *
 * {"username", "password"} -> 201 {"user"}.  The name must be 3-32 of
 * [A-Za-z0-9_.-] and free case-insensitively (user_create(): the unique
 * index decides, so two racing registrations cannot both win);
 * the password PASSWORD_MIN_LENGTH..128 code points, every byte kept, and
 * not on the deny list of common passwords (denylist.h).
 */
#include "app.h"
#include "denylist.h"
#include "json_body.h"
#include "password.h"
#include "routes.h"
#include "user.h"
#include "validate.h"

#include <stdlib.h>
#include <string.h>

static void register_user(struct ctx *c)
{
	const struct valid_field fields[] = {
		{ .name = "username", .required = 1, .min_chars = 3, .max_chars = 32,
		  .format = valid_username_format },
		{ .name = "password", .required = 1, .min_chars = (size_t)c->cfg->password_min_length,
		  .max_chars = 128 },
	};
	struct valid_value v[2] = { { NULL, 0, 0 }, { NULL, 0, 0 } };
	char hash[PW_HASH_MAX] = "";
	enum body_result br;
	struct user u;
	cJSON *answer;

	br = body_read_json(c->req, (size_t)c->cfg->max_body_bytes);
	if (br != BODY_JSON_OK) {
		body_reply_error(c, br);
		return;
	}
	/* Both fields are checked and kept on their exact bytes (validate.h). */
	if (valid_reply(c, valid_body(c->req->body, c->req->body_len, fields, 2, v)))
		goto out;
	/* A common password is refused after the length rules, before any bcrypt. */
	if (deny_reply(c, "password", v[1].s, v[1].len))
		goto out;
	if (pw_hash(v[1].s, v[1].len, (int)c->cfg->bcrypt_cost, hash) != 0) {
		resp_json(c->resp, c->req, 500, NULL);
		goto out;
	}
	/* The exact bytes of the name, which the checks above passed. */
	switch (user_create(c->app, v[0].s, hash, &u)) {
	case USER_OK:
		break;
	case USER_TAKEN:
		resp_error(c->resp, c->req, 409, "username_taken", "that username is taken", NULL);
		goto out;
	case USER_DOWN:
		app_unavailable(c);
		goto out;
	default:
		resp_json(c->resp, c->req, 500, NULL);
		goto out;
	}
	snprintf(c->req->user_id, sizeof(c->req->user_id), "%s", u.id);
	answer = cJSON_CreateObject();
	cJSON_AddItemToObject(answer, "user", user_json(&u));
	resp_json(c->resp, c->req, 201, answer);
	user_cache_put(c->app, &u);
out:
	valid_values_free(v, 2);
	explicit_bzero(hash, sizeof(hash));
}

#define ROUTE_SELF_register ROUTE_PROBE
static const struct route routes[] = {
#define ROUTE ROUTES_OF
#include "routes.def"
};

static const struct responder responder = {
	.name = "register",
	.routes = routes,
	.nroutes = sizeof(routes) / sizeof(routes[0]),
};

int main(int argc, char **argv)
{
	return app_main(argc, argv, &responder);
}
