/*
 * login_guard.c - see login_guard.h.
 */
#include "login_guard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 1024 /* longer names are hashed from their first KiB */

int guard_name_hash(const struct config *cfg, const char *username,
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

enum db_status guard_check(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN],
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
	    "SELECT count(*), coalesce(ceil(extract(epoch FROM min(failed_at)"
	    "   + make_interval(secs => $2::int) - clock_timestamp())), 0)::bigint"
	    " FROM (SELECT failed_at FROM login_failures WHERE name_hash = $1::bytea"
	    "   AND failed_at > clock_timestamp() - make_interval(secs => $2::int)"
	    "   ORDER BY failed_at DESC LIMIT $3::int) recent",
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

enum db_status guard_fail(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN])
{
	char h[2 * CRYPTO_SHA256_LEN + 3], window[24];
	const char *params[2] = { h, window };
	PGresult *res;
	enum db_status st;

	db_bytea_param(hash, CRYPTO_SHA256_LEN, h);
	snprintf(window, sizeof(window), "%ld", app->cfg.login_failure_window);
	st = db_exec(&app->db,
	    "WITH pruned AS (DELETE FROM login_failures WHERE name_hash = $1::bytea"
	    "   AND failed_at <= clock_timestamp() - make_interval(secs => $2::int))"
	    " INSERT INTO login_failures (name_hash) VALUES ($1::bytea)",
	    2, params, &res, NULL);
	if (st == DB_OK)
		PQclear(res);
	return st;
}

enum db_status guard_reset(struct app *app, const unsigned char hash[CRYPTO_SHA256_LEN])
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
