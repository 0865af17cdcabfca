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
	int database_prepared; /* DATABASE_PREPARED_STATEMENTS: 1 on, 0 off */
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

/*
 * Checks the local stack's own settings (rows flagged CFG_KEY_STACK, which
 * cfg_load() skips) as set in the environment or `env_file` against their
 * rows; an empty value of one without a default counts as unset.  Returns
 * 0, or -1 with a message naming the first bad one in `err`.
 */
int cfg_check_stack(const char *env_file, char *err, size_t errlen);

/* ---- the table itself, for tools that print or check it ---------------- */

#define CFG_KEY_SECRET   0x01u /* a secret: --print-config masks it */
#define CFG_KEY_STACK    0x02u /* read by scripts/ (the local stack), not the responders */
#define CFG_KEY_COMPOSE  0x04u /* read by docker-compose.yml only */
#define CFG_KEY_REQUIRED 0x08u /* no default: the responders refuse to start without it */

/* One row of the configuration table. */
struct cfg_key {
	const char *name;
	const char *type;           /* "string", "url", "secret", "int", "rate" or "enum" */
	const char *def;            /* the default, or NULL for none */
	long min, max;              /* "int": the bounds; else 0 */
	const char *const *choices; /* "enum": NULL-terminated; else NULL */
	unsigned flags;             /* CFG_KEY_* */
	const char *twin;           /* NULL, or the NAME_FILE that may name a file holding it */
	const char *desc;           /* one line */
};

/*
 * Fills `key` with row `i` of the table (rows in a fixed order, static
 * strings): 1, or 0 when `i` is past the last row.
 */
int cfg_key_at(size_t i, struct cfg_key *key);

/* The settings as cfg_load() finds them (the environment and a parsed `.env`). */
struct cfg_env;

/*
 * Reads `env_file` (NULL or absent: none) with cfg_load()'s parser: 0 and a
 * new `*out` (release with cfg_env_close()), or -1 with a message naming
 * the file and line in `err`.
 */
int cfg_env_open(const char *env_file, struct cfg_env **out, char *err, size_t errlen);
void cfg_env_close(struct cfg_env *e);

/*
 * The raw value of any `name`, as set: the environment, else the last
 * setting of the file, else NULL.  `*source` becomes "environment", ".env"
 * or "default".  The string belongs to the environment or to `e`.
 */
const char *cfg_env_get(const struct cfg_env *e, const char *name, const char **source);

/*
 * The value of `name` as cfg_load() reads it, through its NAME_FILE twin
 * when that is set: 1 with a new string in `*value` (release with
 * cfg_value_free()) and its origin in `source` ("environment", ".env" or the
 * twin's name); 0 when unset; -1 with `err` (both set, unreadable file).
 */
int cfg_env_value(const struct cfg_env *e, const char *name, char **value, char *source,
    size_t sourcelen, char *err, size_t errlen);

/* The file's KEY=VALUE pairs in file order (a key may repeat; the last wins). */
size_t cfg_env_size(const struct cfg_env *e);
void cfg_env_pair(const struct cfg_env *e, size_t i, const char **key, const char **value);

/* Wipes and frees a value from cfg_env_value().  NULL is allowed. */
void cfg_value_free(char *value);

/*
 * The command-line options every responder shares for the table:
 *   --list-config        the table: name, type, allowed values, default,
 *                        flags, description; tab separated, one key a line
 *                        (a NAME_FILE twin on the line after its key)
 *   --print-config       every key's effective value: name, source, value;
 *                        secrets masked; NAME_FILE twins resolved
 *   --print-config=raw   what scripts/ reads: every key that has a value
 *                        (set, or a default) and every other key the `.env`
 *                        file sets, nothing masked or resolved
 *   --check-config=stack the local stack's own settings (cfg_check_stack())
 * Returns the exit status (0, or 2 with a message on stderr naming the
 * variable), or -1 when `arg` is none of them.  `argv0` and `name` as for
 * cfg_default_env_file() and messages.
 */
int cfg_option(const char *arg, const char *argv0, const char *name);

#endif
