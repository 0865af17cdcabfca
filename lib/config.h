/*
 * config.h - the typed configuration every responder and tool reads once at
 * startup.
 *
 * Values come from the process environment first, then from a `.env` file,
 * then from the defaults of the table in config.c.  Every value is parsed and
 * bounded once; a bad one stops startup with a message that names the
 * variable ("fail hard at startup, reject per request").
 */
#ifndef PORTCULLIS_CONFIG_H
#define PORTCULLIS_CONFIG_H

#include <stddef.h>

#define CFG_ERR_MAX 512

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

enum jwt_alg_cfg { CFG_JWT_HS256, CFG_JWT_HS384, CFG_JWT_HS512 };

/* A rate-limit policy: `limit` requests per `window` seconds; limit 0 = off. */
struct cfg_rate {
	long limit;
	long window;
};

struct config {
	char *database_url;
	char *redis_url;

	char *jwt_secret;
	enum jwt_alg_cfg jwt_algorithm;
	char *jwt_issuer;
	char *jwt_audience;
	char *ip_hash_secret;

	long access_token_ttl;
	long refresh_token_ttl;
	long refresh_reuse_interval;
	long bcrypt_cost;
	long password_min_length;
	long login_max_failures;
	long login_failure_window;

	struct cfg_rate rate_limit_auth;
	struct cfg_rate rate_limit_api;
	char *trusted_proxies;      /* raw list; parsed by addr_list_parse() */
	char *cors_allowed_origins; /* raw list of exact origins */

	long max_body_bytes;
	long data_max_value_bytes;
	long data_max_keys;
	long cache_ttl;
	long cache_max_entries;
	long cache_max_bytes;

	long http_port;
	long https_port;
	char *web_server;

	enum log_level log_level;
	char *log_file; /* NULL or "-": standard error */
	long log_max_bytes; /* rotate LOG_FILE to LOG_FILE.1 at this size; 0: never */
	char *metrics_file; /* NULL: metrics.h's default */

	char *redis_sentinels;         /* "" : REDIS_URL names the server itself */
	char *redis_master_name;       /* the Sentinels' name of the master */
	char *redis_sentinel_password; /* NULL: the Sentinels take no AUTH */
	char *metrics_token; /* METRICS_TOKEN: NULL or "" when unset, else >= 32 bytes */
	char *password_denylist; /* NULL or "": the shipped list (denylist.h) */
};

/*
 * Loads the configuration: environment, then `env_file` (may be NULL or
 * absent), then defaults.  Returns 0 and fills `cfg`, or -1 with a message
 * naming the variable in `err`.  On failure nothing needs freeing; on success
 * release with cfg_free().
 */
int cfg_load(struct config *cfg, const char *env_file, char *err, size_t errlen);

/*
 * As cfg_load(), with the contents of the `.env` file given as `len` bytes
 * of `text` instead of a path (`label` names it in messages).
 */
int cfg_load_text(struct config *cfg, const char *text, size_t len, const char *label,
    char *err, size_t errlen);

/*
 * Looks up one variable the way cfg_load() does (environment, then
 * `env_file`) without validating the rest, for tools that need only one
 * value (the migration runner needs DATABASE_URL, not the JWT secret).
 * Returns 1 and copies it into `out`, 0 when unset, -1 on a bad .env file
 * or a value that does not fit (message in `err`).
 */
int cfg_get_raw(const char *env_file, const char *name, char *out, size_t outlen,
    char *err, size_t errlen);

/* Releases the strings of `cfg` (secrets are wiped first).  Idempotent. */
void cfg_free(struct config *cfg);

/*
 * The `.env` file a process should read: $PORTCULLIS_ENV_FILE if set, else
 * `.env` in the parent of the directory holding `argv0` (the project root for
 * cgi-bin/ and bin/).  Writes into `out`; returns 0, or -1 if it does not fit.
 */
int cfg_default_env_file(const char *argv0, char *out, size_t outlen);

/*
 * Calls `warn(message)` for each value that is allowed but unwise (such as a
 * low BCRYPT_COST), so the caller can log it at startup.
 */
void cfg_warnings(const struct config *cfg, void (*warn)(const char *msg));

/* The name of a JWT algorithm as in the JWT header ("HS256"...). */
const char *cfg_jwt_alg_name(enum jwt_alg_cfg alg);

#endif
