/*
 * login_guard.c - see login_guard.h.
 */
#include "login_guard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 1024 /* longer names are hashed from their first KiB */

int login_guard_name_hash(const struct config *cfg, const char *username,
    unsigned char out[CRYPTO_SHA256_LEN])
{
	static const char label[] = "login-name:";
	char buf[sizeof(label) + NAME_MAX_BYTES];
	size_t n = strnlen(username, NAME_MAX_BYTES), off = sizeof(label) - 1;
	int rc;

	memcpy(buf, label, off);
	for (size_t i = 0; i < n; i++)
		buf[off + i] = (char)tolower((unsigned char)username[i]);
	rc = crypto_hmac_sha256(cfg->ip_hash_secret, strlen(cfg->ip_hash_secret), buf, off + n, out);
	explicit_bzero(buf, sizeof(buf));
	return rc;
}

enum db_status login_guard_check(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN],
    int *locked, long *retry_after)
{
	char h[2 * CRYPTO_SHA256_LEN + 3], window[24], max[24];
	const char *params[3] = { h, window, max };
	PGresult *res;
	enum db_status st;

	*locked = 0;
	*retry_after = 0;
	db_bytea_param(hash, CRYPTO_SHA256_LEN, h);
	snprintf(window, sizeof(window), "%ld", app->cfg.login_failure_window);
	snprintf(max, sizeof(max), "%ld", app->cfg.login_max_failures);
	/* The newest `max` failures in the window; the lock lifts when the oldest of them leaves it. */
	st = db_exec(&app->db,
	    "SELECT count(*), coalesce(ceil(extract(epoch FROM min(t)"
	    "   + make_interval(secs => $2::int) - clock_timestamp())), 0)::bigint"
	    " FROM (SELECT t FROM login_failures, unnest(failed_at) t WHERE name_hash = $1::bytea"
	    "   AND t > clock_timestamp() - make_interval(secs => $2::int)"
	    "   ORDER BY t DESC LIMIT $3::int) recent",
	    3, params, &res, NULL);
	if (st != DB_OK)
		return st;
	if (strtol(PQgetvalue(res, 0, 0), NULL, 10) >= app->cfg.login_max_failures) {
		*locked = 1;
		*retry_after = strtol(PQgetvalue(res, 0, 1), NULL, 10);
		if (*retry_after < 1)
			*retry_after = 1;
	}
	PQclear(res);
	return DB_OK;
}

enum db_status login_guard_record(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN],
    int *locked, long *retry_after)
{
	char h[2 * CRYPTO_SHA256_LEN + 3], window[24], max[24];
	const char *params[3] = { h, window, max };
	PGresult *res;
	enum db_status st;
	int recorded;

	*locked = 0;
	*retry_after = 0;
	db_bytea_param(hash, CRYPTO_SHA256_LEN, h);
	snprintf(window, sizeof(window), "%ld", app->cfg.login_failure_window);
	snprintf(max, sizeof(max), "%ld", app->cfg.login_max_failures);
	/*
	 * One upsert on the name's one row: ON CONFLICT locks it and sees its
	 * newest version, so concurrent failures are decided one after the other.
	 * The update keeps the failures still in the window (at most max - 1 of
	 * them) and appends this one - unless max of them are there already:
	 * then nothing is recorded and no row comes back.
	 */
	st = db_exec(&app->db,
	    "INSERT INTO login_failures AS f (name_hash, failed_at)"
	    " VALUES ($1::bytea, ARRAY[clock_timestamp()])"
	    " ON CONFLICT (name_hash) DO UPDATE SET failed_at = coalesce((SELECT array_agg(t ORDER BY t)"
	    "   FROM (SELECT t FROM unnest(f.failed_at) t"
	    "     WHERE t > clock_timestamp() - make_interval(secs => $2::int)"
	    "     ORDER BY t DESC LIMIT $3::int - 1) kept), '{}') || clock_timestamp()"
	    " WHERE (SELECT count(*) FROM unnest(f.failed_at) t"
	    "   WHERE t > clock_timestamp() - make_interval(secs => $2::int)) < $3::int"
	    " RETURNING 1",
	    3, params, &res, NULL);
	if (st != DB_OK)
		return st;
	recorded = PQntuples(res) == 1;
	PQclear(res);
	if (recorded)
		return DB_OK;
	/* Locked meanwhile: the answer is the lockout's, with its Retry-After. */
	st = login_guard_check(app, hash, locked, retry_after);
	*locked = 1;
	if (*retry_after < 1)
		*retry_after = 1;
	return st;
}

enum db_status login_guard_fail(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN])
{
	int locked;
	long retry_after;

	return login_guard_record(app, hash, &locked, &retry_after);
}

enum db_status login_guard_reset(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN])
{
	char h[2 * CRYPTO_SHA256_LEN + 3];
	const char *params[1] = { h };
	PGresult *res;
	enum db_status st;

	db_bytea_param(hash, CRYPTO_SHA256_LEN, h);
	st = db_exec(&app->db, "DELETE FROM login_failures WHERE name_hash = $1::bytea", 1, params,
	    &res, NULL);
	if (st == DB_OK)
		PQclear(res);
	return st;
}
