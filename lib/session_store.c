/*
 * session_store.c - see session_store.h.
 */
#include "session_store.h"

#include "crypto.h"
#include "log.h"
#include "revocation.h"
#include "token.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUCCESSOR_CHAIN_MAX 16
#define SUCCESSOR_MAX (TOKEN_MAX_LEN + 512)
#define HEXBYTEA_MAX (2 * (SUCCESSOR_MAX + CRYPTO_SEAL_OVERHEAD) + 3)

void sess_tokens_free(struct sess_tokens *t)
{
	free(t->access);
	explicit_bzero(t, sizeof(*t));
}

int sess_refresh_token_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= SESS_REFRESH_LEN ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_'))
			return 0;
	}
	return n == SESS_REFRESH_LEN;
}

static int token_hash_param(const char *token, char out[2 * CRYPTO_SHA256_LEN + 3])
{
	unsigned char h[CRYPTO_SHA256_LEN];

	if (crypto_sha256(token, strlen(token), h) != 0)
		return -1;
	db_bytea_param(h, sizeof(h), out);
	return 0;
}

static int new_refresh_token(char out[SESS_REFRESH_LEN + 1])
{
	unsigned char raw[32];
	int rc = crypto_random(raw, sizeof(raw)) == 0 &&
		    crypto_b64url_encode(raw, sizeof(raw), out, SESS_REFRESH_LEN + 1) == SESS_REFRESH_LEN
	    ? 0
	    : -1;

	explicit_bzero(raw, sizeof(raw));
	return rc;
}

static enum sess_result from_db(enum db_status st)
{
	return st == DB_DOWN ? SESS_DOWN : SESS_ERROR;
}

/* The AES key that seals a token's successor: only the token's holder can derive it. */
static int successor_key(const char *token, unsigned char key[32])
{
	static const char label[] = "portcullis refresh successor v1";

	return crypto_hmac_sha256(token, strlen(token), label, sizeof(label) - 1, key);
}

/* Seals {"r","re","a","ae"} of `t` under the key of `spent`; hex bytea into `out`. */
static int seal_successor(const char *spent, const struct sess_tokens *t, char *out, size_t outlen)
{
	cJSON *o = cJSON_CreateObject();
	char *plain = NULL;
	unsigned char key[32], *sealed = NULL;
	size_t len;
	int rc = -1;

	if (o == NULL || !cJSON_AddStringToObject(o, "r", t->refresh) ||
	    !cJSON_AddNumberToObject(o, "re", (double)t->refresh_expires) ||
	    !cJSON_AddStringToObject(o, "a", t->access) ||
	    !cJSON_AddNumberToObject(o, "ae", (double)t->access_expires))
		goto out;
	plain = cJSON_PrintUnformatted(o);
	if (plain == NULL || (len = strlen(plain)) > SUCCESSOR_MAX ||
	    2 * (len + CRYPTO_SEAL_OVERHEAD) + 3 > outlen)
		goto out;
	sealed = malloc(len + CRYPTO_SEAL_OVERHEAD);
	if (sealed == NULL || successor_key(spent, key) != 0 ||
	    crypto_seal(key, plain, len, sealed) != 0)
		goto out;
	db_bytea_param(sealed, len + CRYPTO_SEAL_OVERHEAD, out);
	rc = 0;
out:
	explicit_bzero(key, sizeof(key));
	if (plain != NULL) {
		explicit_bzero(plain, strlen(plain));
		cJSON_free(plain);
	}
	free(sealed);
	cJSON_Delete(o);
	return rc;
}

/* Opens a sealed successor (hex text from encode(successor, 'hex')) into `t`. */
static int open_successor(const char *spent, const char *hex, struct sess_tokens *t)
{
	size_t hexlen = strlen(hex), n = hexlen / 2;
	unsigned char key[32], *raw = NULL, *plain = NULL;
	cJSON *o = NULL;
	const char *r, *a;
	int rc = -1;

	if (hexlen % 2 != 0 || n < CRYPTO_SEAL_OVERHEAD || n > SUCCESSOR_MAX + CRYPTO_SEAL_OVERHEAD)
		return -1;
	raw = malloc(n);
	plain = malloc(n - CRYPTO_SEAL_OVERHEAD + 1);
	if (raw == NULL || plain == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int hi = crypto_hex_digit(hex[2 * i]), lo = crypto_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto out;
		raw[i] = (unsigned char)(hi * 16 + lo);
	}
	if (successor_key(spent, key) != 0 || crypto_open(key, raw, n, plain) != 0)
		goto out;
	plain[n - CRYPTO_SEAL_OVERHEAD] = '\0';
	o = cJSON_Parse((const char *)plain);
	r = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "r"));
	a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "a"));
	if (!sess_refresh_token_valid(r) || a == NULL || (t->access = strdup(a)) == NULL)
		goto out;
	memcpy(t->refresh, r, SESS_REFRESH_LEN + 1);
	t->refresh_expires = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "re"));
	t->access_expires = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "ae"));
	rc = 0;
out:
	explicit_bzero(key, sizeof(key));
	if (plain != NULL)
		explicit_bzero(plain, n - CRYPTO_SEAL_OVERHEAD);
	free(raw);
	free(plain);
	cJSON_Delete(o);
	return rc;
}

/* Issues the access token of session `sid` for `user_id` into `t`. */
static int issue_access(struct app *app, const char *user_id, const char *sid, struct sess_tokens *t)
{
	struct token_claims claims;

	free(t->access);
	t->access = NULL;
	if (token_issue(&app->cfg, user_id, sid, (long)time(NULL), &t->access, &claims) != 0)
		return -1;
	t->access_expires = claims.exp;
	return 0;
}

enum sess_result sess_create(struct app *app, const char *user_id,
    const unsigned char *name_hash, const char *user_agent, struct sess_tokens *out)
{
	char hash[2 * CRYPTO_SHA256_LEN + 3], name[2 * CRYPTO_SHA256_LEN + 3], ttl[24];
	const char *params[5] = { user_id, hash, ttl, name_hash != NULL ? name : NULL, user_agent };
	PGresult *res;
	enum db_status st;

	memset(out, 0, sizeof(*out));
	if (new_refresh_token(out->refresh) != 0 || token_hash_param(out->refresh, hash) != 0)
		return SESS_ERROR;
	if (name_hash != NULL)
		db_bytea_param(name_hash, CRYPTO_SHA256_LEN, name);
	snprintf(ttl, sizeof(ttl), "%ld", app->cfg.refresh_token_ttl);
	st = db_exec(&app->db,
	    "WITH cleared AS (DELETE FROM login_failures WHERE $4::bytea IS NOT NULL"
	    "   AND name_hash = $4::bytea),"
	    " s AS (INSERT INTO sessions (user_id, user_agent) VALUES ($1::uuid, $5) RETURNING id)"
	    " INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
	    " SELECT $2::bytea, s.id, now() + make_interval(secs => $3::int) FROM s"
	    " RETURNING session_id::text, extract(epoch FROM expires_at)::bigint",
	    5, params, &res, NULL);
	if (st != DB_OK) {
		sess_tokens_free(out);
		return from_db(st);
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		sess_tokens_free(out);
		return SESS_ERROR;
	}
	snprintf(out->session_id, sizeof(out->session_id), "%s", PQgetvalue(res, 0, 0));
	out->refresh_expires = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (issue_access(app, user_id, out->session_id, out) != 0) {
		sess_tokens_free(out);
		return SESS_ERROR;
	}
	return SESS_OK;
}

/*
 * Inside the transaction: follows the sealed successors from `spent` to the
 * family's live token, which becomes `out`.
 */
static enum sess_result current_tokens(struct app *app, const char *spent, const char *first_hex,
    const char *user_id, const char *sid, struct sess_tokens *out)
{
	char *hex = strdup(first_hex);
	char prev[SESS_REFRESH_LEN + 1];
	enum sess_result rc = SESS_INVALID;

	if (hex == NULL)
		return SESS_ERROR;
	memcpy(prev, spent, SESS_REFRESH_LEN + 1);
	for (int step = 0; step < SUCCESSOR_CHAIN_MAX; step++) {
		char hash[2 * CRYPTO_SHA256_LEN + 3];
		const char *params[1] = { hash };
		PGresult *res;
		enum db_status st;

		free(out->access);
		out->access = NULL;
		if (open_successor(prev, hex, out) != 0 || token_hash_param(out->refresh, hash) != 0)
			break;
		st = db_exec(&app->db,
		    "SELECT spent_at IS NOT NULL, expires_at > now(), coalesce(encode(successor, 'hex'), '')"
		    " FROM refresh_tokens WHERE token_hash = $1::bytea",
		    1, params, &res, NULL);
		if (st != DB_OK) {
			rc = from_db(st);
			break;
		}
		if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
			PQclear(res);
			break;
		}
		if (strcmp(PQgetvalue(res, 0, 0), "f") == 0) {
			PQclear(res);
			/* The live token: hand back its pair, with a usable access token. */
			if (out->access_expires <= (long)time(NULL) + TOKEN_LEEWAY_S &&
			    issue_access(app, user_id, sid, out) != 0) {
				rc = SESS_ERROR;
				break;
			}
			snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
			rc = SESS_OK;
			break;
		}
		free(hex);
		hex = strdup(PQgetvalue(res, 0, 2));
		PQclear(res);
		memcpy(prev, out->refresh, SESS_REFRESH_LEN + 1);
		if (hex == NULL) {
			rc = SESS_ERROR;
			break;
		}
	}
	free(hex);
	explicit_bzero(prev, sizeof(prev));
	return rc;
}

/* Inside the transaction: a fresh token replaces `token`, whose successor is sealed. */
static enum sess_result rotate(struct app *app, const char *token, const char *token_hash,
    const char *user_id, const char *sid, struct sess_tokens *out)
{
	char hash[2 * CRYPTO_SHA256_LEN + 3], ttl[24], *sealed;
	const char *params[5] = { token_hash, hash, sid, ttl, NULL };
	PGresult *res;
	enum db_status st;
	enum sess_result rc = SESS_ERROR;

	if (new_refresh_token(out->refresh) != 0 || token_hash_param(out->refresh, hash) != 0 ||
	    issue_access(app, user_id, sid, out) != 0)
		return SESS_ERROR;
	snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
	snprintf(ttl, sizeof(ttl), "%ld", app->cfg.refresh_token_ttl);
	/* The expiry is known before the insert: now() is fixed in a transaction. */
	st = db_exec(&app->db, "SELECT extract(epoch FROM now() + make_interval(secs => $1::int))::bigint",
	    1, (const char *const[]){ ttl }, &res, NULL);
	if (st != DB_OK)
		return from_db(st);
	out->refresh_expires = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if ((sealed = malloc(HEXBYTEA_MAX)) == NULL)
		return SESS_ERROR;
	if (seal_successor(token, out, sealed, HEXBYTEA_MAX) != 0)
		goto out;
	params[4] = sealed;
	st = db_exec(&app->db,
	    "WITH spent AS (UPDATE refresh_tokens SET spent_at = now(), successor = $5::bytea"
	    "   WHERE token_hash = $1::bytea)"
	    " INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
	    " VALUES ($2::bytea, $3::uuid, now() + make_interval(secs => $4::int))",
	    5, params, &res, NULL);
	if (st != DB_OK) {
		rc = from_db(st);
		goto out;
	}
	PQclear(res);
	rc = SESS_OK;
out:
	free(sealed);
	return rc;
}

enum sess_result sess_refresh(struct app *app, const char *token, struct sess_tokens *out,
    struct user *user)
{
	char hash[2 * CRYPTO_SHA256_LEN + 3], interval[24];
	const char *params[2] = { hash, interval };
	PGresult *res;
	enum db_status st;
	enum sess_result rc;
	char sid[37], uid[37], successor_hex_dummy[1] = "";
	char *successor_hex = successor_hex_dummy;
	int live, fresh, spent, within;

	memset(out, 0, sizeof(*out));
	if (!sess_refresh_token_valid(token) || token_hash_param(token, hash) != 0)
		return SESS_INVALID;
	snprintf(interval, sizeof(interval), "%ld", app->cfg.refresh_reuse_interval);
	if ((st = db_command(&app->db, "BEGIN")) != DB_OK)
		return from_db(st);
	/* Both rows locked: a concurrent refresh of this token waits here. */
	st = db_exec(&app->db,
	    "SELECT t.session_id::text, s.user_id::text, u.username, "
	    USER_CREATED_AT_SQL("u.created_at") ","
	    " s.revoked_at IS NULL, t.expires_at > now(), t.spent_at IS NOT NULL,"
	    " t.spent_at >= now() - make_interval(secs => $2::int),"
	    " coalesce(encode(t.successor, 'hex'), '')"
	    " FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id"
	    " JOIN users u ON u.id = s.user_id"
	    " WHERE t.token_hash = $1::bytea FOR UPDATE OF t, s",
	    2, params, &res, NULL);
	if (st != DB_OK) {
		db_rollback(&app->db);
		return from_db(st);
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(&app->db);
		return SESS_INVALID;
	}
	snprintf(sid, sizeof(sid), "%s", PQgetvalue(res, 0, 0));
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 1));
	if (user_set(user, uid, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3)) != 0) {
		PQclear(res);
		db_rollback(&app->db);
		return SESS_ERROR;
	}
	live = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	fresh = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	spent = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	within = strcmp(PQgetvalue(res, 0, 7), "t") == 0 && app->cfg.refresh_reuse_interval > 0;
	if (spent && within && (successor_hex = strdup(PQgetvalue(res, 0, 8))) == NULL) {
		PQclear(res);
		db_rollback(&app->db);
		return SESS_ERROR;
	}
	PQclear(res);

	if (!live) {
		rc = SESS_INVALID;
	} else if (!spent) {
		rc = fresh ? rotate(app, token, hash, uid, sid, out) : SESS_INVALID;
	} else if (within) {
		rc = current_tokens(app, token, successor_hex, uid, sid, out);
	} else {
		/* A spent token came back late: someone else may hold the family. */
		const char *p[1] = { sid };

		st = db_exec(&app->db,
		    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'reuse'"
		    " WHERE id = $1::uuid AND revoked_at IS NULL",
		    1, p, &res, NULL);
		if (st == DB_OK)
			PQclear(res);
		rc = st == DB_OK ? SESS_REUSED : from_db(st);
	}
	if (successor_hex != successor_hex_dummy)
		free(successor_hex);
	if (rc == SESS_OK || rc == SESS_REUSED) {
		if ((st = db_command(&app->db, "COMMIT")) != DB_OK)
			rc = from_db(st);
	} else {
		db_rollback(&app->db);
	}
	if (rc == SESS_REUSED) {
		const char *sids[1] = { sid };
		cJSON *f = cJSON_CreateObject();

		revoke_publish(app, sids, 1);
		cJSON_AddStringToObject(f, "session_id", sid);
		cJSON_AddStringToObject(f, "user_id", uid);
		log_event(LOG_WARN, "refresh token reused: session revoked", f);
	}
	if (rc != SESS_OK)
		sess_tokens_free(out);
	return rc;
}

/* Publishes the ids in column 0 of `res` as revoked. */
static void publish_rows(struct app *app, PGresult *res)
{
	int n = PQntuples(res);
	const char **sids;

	if (n <= 0 || (sids = calloc((size_t)n, sizeof(*sids))) == NULL)
		return;
	for (int i = 0; i < n; i++)
		sids[i] = PQgetvalue(res, i, 0);
	revoke_publish(app, sids, (size_t)n);
	free(sids);
}

/* Runs a two-parameter UPDATE of sessions RETURNING their ids, and publishes them. */
static enum sess_result revoke_returning(struct app *app, const char *sql, const char *const *params)
{
	PGresult *res;
	enum db_status st = db_exec(&app->db, sql, 2, params, &res, NULL);

	if (st != DB_OK)
		return from_db(st);
	publish_rows(app, res);
	PQclear(res);
	return SESS_OK;
}

enum sess_result sess_logout(struct app *app, const char *sid, const char *token)
{
	char hash[2 * CRYPTO_SHA256_LEN + 3];
	const char *params[2] = { sid, NULL };

	if (token != NULL && sess_refresh_token_valid(token) && token_hash_param(token, hash) == 0)
		params[1] = hash;
	if (params[0] == NULL && params[1] == NULL)
		return SESS_OK;
	return revoke_returning(app,
	    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'"
	    " WHERE revoked_at IS NULL AND (id = $1::uuid OR id = (SELECT session_id"
	    "   FROM refresh_tokens WHERE token_hash = $2::bytea))"
	    " RETURNING id::text",
	    params);
}

enum sess_result sess_change_password(struct app *app, const char *user_id, const char *new_hash)
{
	const char *params[2] = { user_id, new_hash };

	return revoke_returning(app,
	    "WITH u AS (UPDATE users SET password_hash = $2, updated_at = now()"
	    "   WHERE id = $1::uuid)"
	    " UPDATE sessions SET revoked_at = now(), revoked_reason = 'password_change'"
	    " WHERE user_id = $1::uuid AND revoked_at IS NULL RETURNING id::text",
	    params);
}
