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

void session_store_tokens_free(struct session_store_tokens *t)
{
	free(t->access);
	explicit_bzero(t, sizeof(*t));
}

int session_store_refresh_token_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= SESSION_STORE_REFRESH_LEN ||
		    !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_'))
			return 0;
	}
	return n == SESSION_STORE_REFRESH_LEN;
}

static int token_hash_param(const char *token, char out[2 * CRYPTO_SHA256_LEN + 3])
{
	unsigned char h[CRYPTO_SHA256_LEN];

	if (crypto_sha256(token, strlen(token), h) != 0)
		return -1;
	db_bytea_param(h, sizeof(h), out);
	return 0;
}

static int new_refresh_token(char out[SESSION_STORE_REFRESH_LEN + 1])
{
	unsigned char raw[32];
	int rc = crypto_random(raw, sizeof(raw)) == 0 &&
		    crypto_b64url_encode(raw, sizeof(raw), out, SESSION_STORE_REFRESH_LEN + 1) ==
			SESSION_STORE_REFRESH_LEN
	    ? 0
	    : -1;

	explicit_bzero(raw, sizeof(raw));
	return rc;
}

static enum session_store_result from_db(enum db_status st)
{
	return st == DB_DOWN ? SESSION_STORE_DOWN : SESSION_STORE_ERROR;
}

/* The AES key that seals a token's successor: only the token's holder can derive it. */
static int successor_key(const char *token, unsigned char key[32])
{
	static const char label[] = "portcullis refresh successor v1";

	return crypto_hmac_sha256(token, strlen(token), label, sizeof(label) - 1, key);
}

/* Seals {"r","re","a","ae"} of `t` under the key of `spent`; hex bytea into `out`. */
static int seal_successor(const char *spent, const struct session_store_tokens *t, char *out,
    size_t outlen)
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
static int open_successor(const char *spent, const char *hex, struct session_store_tokens *t)
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
	if (!session_store_refresh_token_valid(r) || a == NULL || (t->access = strdup(a)) == NULL)
		goto out;
	memcpy(t->refresh, r, SESSION_STORE_REFRESH_LEN + 1);
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
static int issue_access(struct app *app, const char *user_id, const char *sid,
    struct session_store_tokens *t)
{
	struct token_claims claims;

	free(t->access);
	t->access = NULL;
	if (token_issue(&app->cfg, user_id, sid, (long)time(NULL), &t->access, &claims) != 0)
		return -1;
	t->access_expires = claims.exp;
	return 0;
}

enum session_store_result session_store_create(struct app *app, const char *user_id,
    const char *password_version, const unsigned char *name_hash, const char *user_agent,
    struct session_store_tokens *out)
{
	char hash[2 * CRYPTO_SHA256_LEN + 3], name[2 * CRYPTO_SHA256_LEN + 3], ttl[24];
	const char *params[6] = { user_id, hash, ttl, name_hash != NULL ? name : NULL,
		password_version, user_agent };
	PGresult *res;
	enum db_status st;

	memset(out, 0, sizeof(*out));
	if (new_refresh_token(out->refresh) != 0 || token_hash_param(out->refresh, hash) != 0)
		return SESSION_STORE_ERROR;
	if (name_hash != NULL)
		db_bytea_param(name_hash, CRYPTO_SHA256_LEN, name);
	snprintf(ttl, sizeof(ttl), "%ld", app->cfg.refresh_token_ttl);
	/*
	 * The session is made only from the users row as it is now, locked FOR
	 * SHARE: a password change or an account deletion in flight is waited
	 * for, and then the row no longer matches (another version, or gone), so
	 * nothing is inserted.  Once this has inserted, a password change waits
	 * for it to commit and then revokes the new session with the others.
	 */
	st = db_exec(&app->db,
	    "WITH s AS (INSERT INTO sessions (user_id, user_agent)"
	    "   SELECT id, $6::text FROM users WHERE id = $1::uuid"
	    "   AND ($5::bigint IS NULL OR password_version = $5::bigint) FOR SHARE"
	    "   RETURNING id),"
	    " cleared AS (DELETE FROM login_failures WHERE $4::bytea IS NOT NULL"
	    "   AND name_hash = $4::bytea AND EXISTS (SELECT 1 FROM s))"
	    " INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
	    " SELECT $2::bytea, s.id, now() + make_interval(secs => $3::int) FROM s"
	    " RETURNING session_id::text, extract(epoch FROM expires_at)::bigint",
	    6, params, &res, NULL);
	if (st != DB_OK) {
		session_store_tokens_free(out);
		return from_db(st);
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		session_store_tokens_free(out);
		return SESSION_STORE_INVALID; /* the password changed, or the account went, meanwhile */
	}
	snprintf(out->session_id, sizeof(out->session_id), "%s", PQgetvalue(res, 0, 0));
	out->refresh_expires = strtol(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (issue_access(app, user_id, out->session_id, out) != 0) {
		session_store_tokens_free(out);
		return SESSION_STORE_ERROR;
	}
	return SESSION_STORE_OK;
}

/*
 * Inside the transaction: follows the sealed successors from `spent` to the
 * family's live token, which becomes `out`.
 */
static enum session_store_result current_tokens(struct app *app, const char *spent,
    const char *first_hex, const char *user_id, const char *sid, struct session_store_tokens *out)
{
	char *hex = strdup(first_hex);
	char prev[SESSION_STORE_REFRESH_LEN + 1];
	enum session_store_result rc = SESSION_STORE_INVALID;

	if (hex == NULL)
		return SESSION_STORE_ERROR;
	memcpy(prev, spent, SESSION_STORE_REFRESH_LEN + 1);
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
				rc = SESSION_STORE_ERROR;
				break;
			}
			snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
			rc = SESSION_STORE_OK;
			break;
		}
		free(hex);
		hex = strdup(PQgetvalue(res, 0, 2));
		PQclear(res);
		memcpy(prev, out->refresh, SESSION_STORE_REFRESH_LEN + 1);
		if (hex == NULL) {
			rc = SESSION_STORE_ERROR;
			break;
		}
	}
	free(hex);
	explicit_bzero(prev, sizeof(prev));
	return rc;
}

/*
 * One statement: `token` (still unspent when read) is spent with the sealed
 * successor pair `out`, and the new token inserted - only if this statement
 * is the one that spent it and the session is live.  The UPDATE locks the
 * row, so a concurrent refresh of the same token waits, then sees it spent
 * by the other: it rewrites nothing, inserts nothing, and gets the winner's
 * sealed successor back (`*lost_hex`, malloc'd) to answer with the current
 * pair.  No transaction of our own: the statement is one.  SESSION_STORE_OK (`out`
 * is the new pair), SESSION_STORE_REUSED when it lost that race (`*lost_hex` set, or
 * NULL when there is no reuse interval: then it is a late reuse), or an error.
 */
static enum session_store_result rotate(struct app *app, const char *token, const char *token_hash,
    const char *user_id, const char *sid, long expires, struct session_store_tokens *out,
    char **lost_hex)
{
	char hash[2 * CRYPTO_SHA256_LEN + 3], exp[24], interval[24], *sealed;
	const char *params[6] = { token_hash, hash, sid, exp, NULL, interval };
	PGresult *res;
	enum db_status st;
	enum session_store_result rc = SESSION_STORE_ERROR;

	*lost_hex = NULL;
	if (new_refresh_token(out->refresh) != 0 || token_hash_param(out->refresh, hash) != 0 ||
	    issue_access(app, user_id, sid, out) != 0)
		return SESSION_STORE_ERROR;
	snprintf(out->session_id, sizeof(out->session_id), "%s", sid);
	out->refresh_expires = expires;
	snprintf(exp, sizeof(exp), "%ld", expires);
	snprintf(interval, sizeof(interval), "%ld", app->cfg.refresh_reuse_interval);
	if ((sealed = malloc(HEXBYTEA_MAX)) == NULL)
		return SESSION_STORE_ERROR;
	if (seal_successor(token, out, sealed, HEXBYTEA_MAX) != 0)
		goto out;
	params[4] = sealed;
	st = db_exec(&app->db,
	    "WITH spent AS (UPDATE refresh_tokens"
	    "   SET successor = CASE WHEN spent_at IS NULL THEN $5::bytea ELSE successor END,"
	    "   spent_at = coalesce(spent_at, now())"
	    "   WHERE token_hash = $1::bytea AND (spent_at IS NOT NULL OR expires_at > now())"
	    "   AND EXISTS (SELECT 1 FROM sessions WHERE id = $3::uuid AND revoked_at IS NULL)"
	    "   RETURNING session_id, coalesce(successor = $5::bytea, false) AS mine,"
	    "   spent_at >= now() - make_interval(secs => $6::int) AS within,"
	    "   coalesce(encode(successor, 'hex'), '') AS hex),"
	    " ins AS (INSERT INTO refresh_tokens (token_hash, session_id, expires_at)"
	    "   SELECT $2::bytea, session_id, to_timestamp($4::bigint) FROM spent WHERE mine"
	    "   RETURNING 1)"
	    " SELECT mine, within, CASE WHEN mine THEN '' ELSE hex END,"
	    " (SELECT count(*) FROM ins) FROM spent",
	    6, params, &res, NULL);
	if (st != DB_OK) {
		rc = from_db(st);
		goto out;
	}
	if (PQntuples(res) != 1) {
		rc = SESSION_STORE_INVALID; /* gone, or the session was revoked meanwhile */
	} else if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		rc = strcmp(PQgetvalue(res, 0, 3), "1") == 0 ? SESSION_STORE_OK : SESSION_STORE_ERROR;
	} else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0 && app->cfg.refresh_reuse_interval > 0) {
		/* Lost to a concurrent refresh of the same token: answer with its pair. */
		*lost_hex = strdup(PQgetvalue(res, 0, 2));
		rc = *lost_hex != NULL ? SESSION_STORE_REUSED : SESSION_STORE_ERROR;
	} else {
		rc = SESSION_STORE_REUSED; /* lost, with no reuse interval: a late reuse */
	}
	PQclear(res);
out:
	free(sealed);
	return rc;
}

/*
 * Revokes session `sid` after a late reuse of one of its spent tokens;
 * SESSION_STORE_REUSED or an error.
 */
static enum session_store_result revoke_reused(struct app *app, const char *sid, const char *uid)
{
	const char *p[1] = { sid };
	const char *sids[1] = { sid };
	PGresult *res;
	enum db_status st;
	cJSON *f;

	st = db_exec(&app->db,
	    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'reuse'"
	    " WHERE id = $1::uuid AND revoked_at IS NULL",
	    1, p, &res, NULL);
	if (st != DB_OK)
		return from_db(st);
	PQclear(res);
	revoke_publish(app, sids, 1);
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "session_id", sid);
	cJSON_AddStringToObject(f, "user_id", uid);
	log_event(LOG_WARN, "refresh token reused: session revoked", f);
	return SESSION_STORE_REUSED;
}

enum session_store_result session_store_refresh(struct app *app, const char *token,
    struct session_store_tokens *out, struct user *user)
{
	char hash[2 * CRYPTO_SHA256_LEN + 3], interval[24], ttl[24];
	const char *params[3] = { hash, interval, ttl };
	PGresult *res;
	enum db_status st;
	enum session_store_result rc;
	char sid[37], uid[37], *successor_hex = NULL;
	int live, fresh, spent, within;
	long expires;

	memset(out, 0, sizeof(*out));
	if (!session_store_refresh_token_valid(token) || token_hash_param(token, hash) != 0)
		return SESSION_STORE_INVALID;
	snprintf(interval, sizeof(interval), "%ld", app->cfg.refresh_reuse_interval);
	snprintf(ttl, sizeof(ttl), "%ld", app->cfg.refresh_token_ttl);
	/*
	 * Round trip 1: the token, its session and user, read without a lock.
	 * The common path then needs one more statement (rotate), a reuse within
	 * the interval one per rotation it follows (usually one), a late reuse
	 * one: at most three round trips, no explicit transaction.
	 */
	st = db_exec(&app->db,
	    "SELECT t.session_id::text, s.user_id::text, u.username, "
	    USER_CREATED_AT_SQL("u.created_at") ","
	    " s.revoked_at IS NULL, t.expires_at > now(), t.spent_at IS NOT NULL,"
	    " t.spent_at >= now() - make_interval(secs => $2::int),"
	    " coalesce(encode(t.successor, 'hex'), ''),"
	    " extract(epoch FROM now() + make_interval(secs => $3::int))::bigint"
	    " FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id"
	    " JOIN users u ON u.id = s.user_id"
	    " WHERE t.token_hash = $1::bytea",
	    3, params, &res, NULL);
	if (st != DB_OK)
		return from_db(st);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return SESSION_STORE_INVALID;
	}
	snprintf(sid, sizeof(sid), "%s", PQgetvalue(res, 0, 0));
	snprintf(uid, sizeof(uid), "%s", PQgetvalue(res, 0, 1));
	if (user_set(user, uid, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3)) != 0) {
		PQclear(res);
		return SESSION_STORE_ERROR;
	}
	live = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	fresh = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	spent = strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	within = strcmp(PQgetvalue(res, 0, 7), "t") == 0 && app->cfg.refresh_reuse_interval > 0;
	expires = strtol(PQgetvalue(res, 0, 9), NULL, 10);
	if (spent && within && (successor_hex = strdup(PQgetvalue(res, 0, 8))) == NULL) {
		PQclear(res);
		return SESSION_STORE_ERROR;
	}
	PQclear(res);

	if (!live) {
		rc = SESSION_STORE_INVALID;
	} else if (!spent) {
		rc = fresh ? rotate(app, token, hash, uid, sid, expires, out, &successor_hex)
			   : SESSION_STORE_INVALID;
		if (rc == SESSION_STORE_REUSED && successor_hex != NULL) /* lost the race: the winner's pair */
			rc = current_tokens(app, token, successor_hex, uid, sid, out);
		else if (rc == SESSION_STORE_REUSED)
			rc = revoke_reused(app, sid, uid);
	} else if (within) {
		rc = current_tokens(app, token, successor_hex, uid, sid, out);
	} else {
		/* A spent token came back late: someone else may hold the family. */
		rc = revoke_reused(app, sid, uid);
	}
	free(successor_hex);
	if (rc != SESSION_STORE_OK)
		session_store_tokens_free(out);
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
static enum session_store_result revoke_returning(struct app *app, const char *sql,
    const char *const *params)
{
	PGresult *res;
	enum db_status st = db_exec(&app->db, sql, 2, params, &res, NULL);

	if (st != DB_OK)
		return from_db(st);
	publish_rows(app, res);
	PQclear(res);
	return SESSION_STORE_OK;
}

enum session_store_result session_store_logout(struct app *app, const char *sid, const char *token)
{
	char hash[2 * CRYPTO_SHA256_LEN + 3];
	const char *params[2] = { sid, NULL };

	if (token != NULL && session_store_refresh_token_valid(token) &&
	    token_hash_param(token, hash) == 0)
		params[1] = hash;
	if (params[0] == NULL && params[1] == NULL)
		return SESSION_STORE_OK;
	return revoke_returning(app,
	    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'"
	    " WHERE revoked_at IS NULL AND (id = $1::uuid OR id = (SELECT session_id"
	    "   FROM refresh_tokens WHERE token_hash = $2::bytea))"
	    " RETURNING id::text",
	    params);
}

enum session_store_result session_store_change_password(struct app *app, const char *user_id,
    const char *new_hash)
{
	const char *params[2] = { user_id, new_hash };
	PGresult *res;
	enum db_status st;
	enum session_store_result rc;

	/*
	 * Two statements in one transaction: the UPDATE of users takes the row
	 * lock (waiting for any login that is inserting a session from the old
	 * version), and only then does the revocation take its snapshot, so it
	 * sees those sessions too.  Logins after the lock find another version.
	 */
	if ((st = db_command(&app->db, "BEGIN")) != DB_OK)
		return from_db(st);
	st = db_exec(&app->db,
	    "UPDATE users SET password_hash = $2, password_version = password_version + 1,"
	    " updated_at = now() WHERE id = $1::uuid",
	    2, params, &res, NULL);
	if (st != DB_OK) {
		db_rollback(&app->db);
		return from_db(st);
	}
	PQclear(res);
	st = db_exec(&app->db,
	    "UPDATE sessions SET revoked_at = now(), revoked_reason = 'password_change'"
	    " WHERE user_id = $1::uuid AND revoked_at IS NULL RETURNING id::text",
	    1, params, &res, NULL);
	if (st != DB_OK) {
		db_rollback(&app->db);
		return from_db(st);
	}
	if ((st = db_command(&app->db, "COMMIT")) != DB_OK) {
		PQclear(res);
		return from_db(st);
	}
	rc = SESSION_STORE_OK;
	publish_rows(app, res);
	PQclear(res);
	return rc;
}

/* One batch of every purge, in one statement; the counts into `out`.  0, or -1. */
static int purge_batch(struct app *app, long counts[SESSION_STORE_PURGE_KINDS], int *skipped)
{
	char grace[24], reuse[24], window[24], batch[24];
	const char *params[4] = { grace, reuse, window, batch };
	PGresult *res;

	snprintf(grace, sizeof(grace), "%ld", revoke_marker_ttl(&app->cfg));
	/* A successor is kept a minute past the reuse interval (see current_tokens). */
	snprintf(reuse, sizeof(reuse), "%ld", app->cfg.refresh_reuse_interval + 60);
	snprintf(window, sizeof(window), "%ld", app->cfg.login_failure_window);
	snprintf(batch, sizeof(batch), "%d", SESSION_STORE_PURGE_BATCH);
	/*
	 * Each part reads one index, at most a batch.  Sessions go (with their
	 * tokens, by cascade) once revoked, or once their live token expired,
	 * more than an access token's lifetime ago: the revocation replay
	 * (revocation.c) reads that range, and an access token of the session
	 * may live that long.  Spent tokens go when they expire; their sealed
	 * successors once the reuse interval is over.  Failed-login rows go
	 * when their newest failure has left the window.  An advisory lock lets
	 * one process at a time do it.
	 */
	if (db_exec(&app->db,
		"WITH go AS (SELECT pg_try_advisory_xact_lock(7306520221) AS ok),"
		" rs AS (DELETE FROM sessions WHERE id IN (SELECT id FROM sessions"
		"   WHERE revoked_at < now() - make_interval(secs => $1::int) LIMIT $4::int)"
		"   AND (SELECT ok FROM go) RETURNING 1),"
		" es AS (DELETE FROM sessions WHERE id IN (SELECT session_id FROM refresh_tokens"
		"   WHERE spent_at IS NULL AND expires_at < now() - make_interval(secs => $1::int)"
		"   LIMIT $4::int) AND revoked_at IS NULL AND (SELECT ok FROM go) RETURNING 1),"
		" st AS (DELETE FROM refresh_tokens WHERE token_hash IN (SELECT token_hash"
		"   FROM refresh_tokens WHERE spent_at IS NOT NULL AND expires_at < now() LIMIT $4::int)"
		"   AND (SELECT ok FROM go) RETURNING 1),"
		" sc AS (UPDATE refresh_tokens SET successor = NULL WHERE token_hash IN (SELECT token_hash"
		"   FROM refresh_tokens WHERE successor IS NOT NULL"
		"   AND spent_at < now() - make_interval(secs => $2::int) LIMIT $4::int)"
		"   AND expires_at >= now() AND (SELECT ok FROM go) RETURNING 1),"
		" lf AS (DELETE FROM login_failures WHERE name_hash IN (SELECT name_hash"
		"   FROM login_failures WHERE failed_at[cardinality(failed_at)]"
		"   < now() - make_interval(secs => $3::int) LIMIT $4::int)"
		"   AND (SELECT ok FROM go) RETURNING 1)"
		" SELECT (SELECT ok FROM go), (SELECT count(*) FROM rs), (SELECT count(*) FROM es),"
		" (SELECT count(*) FROM st), (SELECT count(*) FROM sc), (SELECT count(*) FROM lf)",
		4, params, &res, NULL) != DB_OK)
		return -1;
	*skipped = strcmp(PQgetvalue(res, 0, 0), "t") != 0;
	for (int i = 0; i < SESSION_STORE_PURGE_KINDS; i++)
		counts[i] = strtol(PQgetvalue(res, 0, 1 + i), NULL, 10);
	PQclear(res);
	return 0;
}

int session_store_purge(struct app *app, long counts[SESSION_STORE_PURGE_KINDS])
{
	static const char *const names[SESSION_STORE_PURGE_KINDS] = { "revoked_sessions",
		"expired_sessions", "spent_refresh_rows", "successors", "login_failures" };
	long total[SESSION_STORE_PURGE_KINDS] = { 0 }, any = 0;
	int full = 1;

	for (int round = 0; round < SESSION_STORE_PURGE_ROUNDS && full; round++) {
		long n[SESSION_STORE_PURGE_KINDS];
		int skipped = 0;

		if (purge_batch(app, n, &skipped) != 0)
			return -1;
		full = 0;
		for (int i = 0; i < SESSION_STORE_PURGE_KINDS; i++) {
			total[i] += n[i];
			any += n[i];
			full |= n[i] >= SESSION_STORE_PURGE_BATCH;
		}
		if (skipped)
			break; /* another process is at it */
	}
	if (counts != NULL)
		memcpy(counts, total, sizeof(total));
	if (any > 0 || log_enabled(LOG_DEBUG)) {
		cJSON *f = cJSON_CreateObject();

		for (int i = 0; i < SESSION_STORE_PURGE_KINDS; i++)
			cJSON_AddNumberToObject(f, names[i], (double)total[i]);
		log_event(any > 0 ? LOG_INFO : LOG_DEBUG, "purged", f);
	}
	return 0;
}

/*
 * The deferred half of session_store_purge_later(): at most once per
 * SESSION_STORE_PURGE_EVERY_S a process.
 */
static void purge_deferred(struct app *app)
{
	static struct timespec last;
	static int ran;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (ran && now.tv_sec - last.tv_sec < SESSION_STORE_PURGE_EVERY_S)
		return;
	ran = 1;
	last = now;
	(void)session_store_purge(app, NULL);
}

void session_store_purge_later(struct app *app)
{
	app->deferred = purge_deferred;
}
