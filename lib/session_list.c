/*
 * session_list.c - see session_list.h.
 */
#include "session_list.h"

#include "revocation.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AT_SQL(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/*
 * Live (see the header), for a session row `s`; $2 is the window in
 * seconds after its last refresh during which an access token may live.
 */
#define LIVE_SQL \
	"s.revoked_at IS NULL AND (SELECT greatest(max(t.expires_at)," \
	"   max(t.created_at) + make_interval(secs => $2::int)) > now()" \
	"   FROM refresh_tokens t WHERE t.session_id = s.id)"

static enum session_list_result from_db(enum db_status st)
{
	return st == DB_DOWN ? SESSION_LIST_DOWN : SESSION_LIST_ERROR;
}

/* Seconds after its last refresh that an access token of a session may still be accepted. */
static void window_param(const struct config *cfg, char out[24])
{
	snprintf(out, 24, "%ld", revoke_marker_ttl(cfg) + cfg->refresh_reuse_interval);
}

const char *session_list_user_agent(const struct request *req, char *out)
{
	const char *ua = req_header(req, "User-Agent");
	size_t len, n = 0;

	if (ua == NULL || *ua == '\0')
		return NULL;
	len = strlen(ua);
	while (n < len) {
		size_t k = utf8_decode((const unsigned char *)ua + n, len - n, NULL);

		if (k == 0 || n + k > SESSION_LIST_USER_AGENT_MAX)
			break;
		n += k;
	}
	if (n == 0)
		return NULL;
	memcpy(out, ua, n);
	out[n] = '\0';
	return out;
}

int session_list_id_valid(const char *s, size_t len)
{
	if (len != 36)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (ch != '-')
				return 0;
		} else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
			       (ch >= 'A' && ch <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

static int id_format(const char *s)
{
	return session_list_id_valid(s, strlen(s));
}

/* Upper-case hex digits to lower case, in place. */
static int id_lower(const struct valid_field *f, struct valid_value *v)
{
	(void)f;
	for (size_t i = 0; i < v->len; i++)
		if (v->s[i] >= 'A' && v->s[i] <= 'F')
			v->s[i] = (char)(v->s[i] + 32);
	return 0;
}

const struct valid_field session_list_id_fields[1] = {
	{ .name = "id", .required = 1, .format = id_format, .in = VALID_IN_PATH, .decode = id_lower },
};

enum session_list_result session_list_query(struct app *app, const char *user_id,
    const char *current_sid, cJSON **sessions)
{
	char window[24], limit[16];
	const char *params[3] = { user_id, window, limit };
	PGresult *res;
	enum db_status st;
	int rows;

	*sessions = NULL;
	window_param(&app->cfg, window);
	snprintf(limit, sizeof(limit), "%d", SESSION_LIST_MAX);
	st = db_exec(&app->db,
	    "SELECT s.id::text, " AT_SQL("s.created_at") ","
	    " (SELECT " AT_SQL("max(t.created_at)") " FROM refresh_tokens t WHERE t.session_id = s.id),"
	    " s.user_agent"
	    " FROM sessions s WHERE s.user_id = $1::uuid AND " LIVE_SQL
	    " ORDER BY s.created_at DESC, s.id DESC LIMIT $3::int",
	    3, params, &res, NULL);
	if (st != DB_OK)
		return from_db(st);
	rows = PQntuples(res);
	*sessions = cJSON_CreateArray();
	for (int i = 0; i < rows && *sessions != NULL; i++) {
		cJSON *o = cJSON_CreateObject();
		const char *id = PQgetvalue(res, i, 0);
		int ok;

		if (o == NULL || !cJSON_AddItemToArray(*sessions, o)) {
			cJSON_Delete(o);
			ok = 0;
		} else {
			ok = cJSON_AddStringToObject(o, "id", id) != NULL &&
			    cJSON_AddStringToObject(o, "created_at", PQgetvalue(res, i, 1)) != NULL &&
			    cJSON_AddStringToObject(o, "last_used_at", PQgetvalue(res, i, 2)) != NULL &&
			    (PQgetisnull(res, i, 3)
				    ? cJSON_AddNullToObject(o, "user_agent")
				    : cJSON_AddStringToObject(o, "user_agent", PQgetvalue(res, i, 3))) != NULL &&
			    cJSON_AddBoolToObject(o, "current",
				current_sid != NULL && strcmp(current_sid, id) == 0) != NULL;
		}
		if (!ok) {
			cJSON_Delete(*sessions);
			*sessions = NULL;
		}
	}
	PQclear(res);
	return *sessions != NULL ? SESSION_LIST_OK : SESSION_LIST_ERROR;
}

/* Runs a revoking UPDATE ... RETURNING id and publishes the ids; `*n` how many. */
static enum session_list_result revoke_rows(struct app *app, const char *sql, int nparams,
    const char *const *params, int *n)
{
	PGresult *res;
	enum db_status st = db_exec(&app->db, sql, nparams, params, &res, NULL);
	const char **sids;

	*n = 0;
	if (st != DB_OK)
		return from_db(st);
	*n = PQntuples(res);
	if (*n > 0 && (sids = calloc((size_t)*n, sizeof(*sids))) != NULL) {
		for (int i = 0; i < *n; i++)
			sids[i] = PQgetvalue(res, i, 0);
		revoke_publish(app, sids, (size_t)*n);
		free(sids);
	} else if (*n > 0) {
		/* Out of memory: committed but unpublished; the next connection replays it. */
		redis_fail(&app->redis);
	}
	PQclear(res);
	return SESSION_LIST_OK;
}

enum session_list_result session_list_end(struct app *app, const char *user_id, const char *sid)
{
	char window[24];
	const char *params[3] = { user_id, window, sid };
	enum session_list_result rc;
	int n;

	if (!session_list_id_valid(sid, strlen(sid)))
		return SESSION_LIST_NOT_FOUND;
	window_param(&app->cfg, window);
	rc = revoke_rows(app,
	    "UPDATE sessions s SET revoked_at = now(), revoked_reason = 'logout'"
	    " WHERE s.id = $3::uuid AND s.user_id = $1::uuid AND " LIVE_SQL " RETURNING s.id::text",
	    3, params, &n);
	return rc == SESSION_LIST_OK && n == 0 ? SESSION_LIST_NOT_FOUND : rc;
}

enum session_list_result session_list_end_others(struct app *app, const char *user_id,
    const char *keep_sid)
{
	const char *params[2] = { user_id, keep_sid };
	int n;

	return revoke_rows(app,
	    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'"
	    " WHERE user_id = $1::uuid AND revoked_at IS NULL AND id <> $2::uuid RETURNING id::text",
	    2, params, &n);
}
