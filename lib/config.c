/*
 * config.c - the configuration table: one row per variable with its type,
 * default and bounds (redis' static_configs, lighttpd's typed keys).
 *
 * Lookup order is environment, then `.env`, then the default.  The `.env`
 * file is parsed, never executed: KEY=VALUE lines, `#` comments, an optional
 * `export ` prefix and optional matching quotes.  Its values stay in this
 * module; the process environment is not changed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ENV_FILE_MAX_BYTES (64 * 1024)
#define ENV_FILE_MAX_LINES 512
#define VALUE_MAX_BYTES 4096
#define SECRET_MIN_BYTES 32

enum cfg_type {
	T_STRING,  /* any text up to VALUE_MAX_BYTES; NULL when unset and no default */
	T_URL,     /* like T_STRING, but required */
	T_SECRET,  /* required, at least SECRET_MIN_BYTES */
	T_OPT_SECRET, /* empty, or at least SECRET_MIN_BYTES; NULL when unset */
	T_INT,     /* decimal integer within [min, max] */
	T_RATE,    /* "<requests>/<seconds>" or "0" */
	T_ENUM,    /* one of `choices`, case-sensitive */
};

struct cfg_row {
	const char *name;
	enum cfg_type type;
	const char *def;
	long min, max;
	const char *const *choices; /* T_ENUM: NULL-terminated */
	size_t offset;
	unsigned flags;      /* F_* */
	const char *twin;    /* NULL, or the NAME_FILE that may hold the value */
	const char *desc;    /* one line, for --list-config */
};

#define F_SECRET CFG_KEY_SECRET
#define F_STACK CFG_KEY_STACK
#define F_COMPOSE CFG_KEY_COMPOSE

static const char *const jwt_algs[] = { "HS256", "HS384", "HS512", NULL };
static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const web_servers[] = { "lighttpd", "apache", NULL };
static const char *const apache_modes[] = { "fcgid", "proxy-fcgi", NULL };
static const char *const on_off[] = { "on", "off", NULL };
static const char *const off_on[] = { "off", "on", NULL };

#define OFF(field) offsetof(struct config, field)
#define DAY 86400L
#define YEAR (365 * DAY)

static const struct cfg_row table[] = {
	{ "DATABASE_URL", T_URL, NULL, 0, 0, NULL, OFF(database_url), 0, "DATABASE_URL_FILE",
	    "PostgreSQL URI (make run/up: a private cluster under VAR_DIR)" },
	{ "DATABASE_PREPARED_STATEMENTS", T_ENUM, "on", 0, 0, off_on, OFF(database_prepared), 0, NULL,
	    "on: the data writes are named statements, prepared once a connection; off: behind a pooler that does not keep them (PgBouncer before 1.21 in transaction mode)" },
	{ "REDIS_URL", T_URL, NULL, 0, 0, NULL, OFF(redis_url), 0, "REDIS_URL_FILE",
	    "redis://[[user]:password@]host[:port][/db], or unix://[[user]:password@]/path/to/socket[?db=N] (make run/up: a private server)" },
	{ "JWT_SECRET", T_SECRET, NULL, 0, 0, NULL, OFF(jwt_secret), F_SECRET, "JWT_SECRET_FILE",
	    "HMAC key of the access tokens, at least 32 bytes (make run/up generate one)" },
	{ "JWT_ALGORITHM", T_ENUM, "HS256", 0, 0, jwt_algs, OFF(jwt_algorithm), 0, NULL,
	    "the access tokens' HMAC" },
	{ "JWT_ISSUER", T_STRING, "portcullis", 1, 256, NULL, OFF(jwt_issuer), 0, NULL,
	    "the access tokens' iss claim" },
	{ "JWT_AUDIENCE", T_STRING, "portcullis-api", 1, 256, NULL, OFF(jwt_audience), 0, NULL,
	    "the access tokens' aud claim" },
	{ "IP_HASH_SECRET", T_SECRET, NULL, 0, 0, NULL, OFF(ip_hash_secret), F_SECRET,
	    "IP_HASH_SECRET_FILE",
	    "key of the hash over client addresses and usernames, at least 32 bytes (generated like JWT_SECRET)" },
	{ "ACCESS_TOKEN_TTL", T_INT, "900", 30, DAY, NULL, OFF(access_token_ttl), 0, NULL,
	    "access token lifetime, seconds" },
	{ "REFRESH_TOKEN_TTL", T_INT, "1209600", 60, YEAR, NULL, OFF(refresh_token_ttl), 0, NULL,
	    "refresh token lifetime, seconds" },
	{ "REFRESH_REUSE_INTERVAL", T_INT, "10", 0, 300, NULL, OFF(refresh_reuse_interval), 0, NULL,
	    "seconds in which a just-rotated refresh token still answers; 0 for none" },
	{ "BCRYPT_COST", T_INT, "12", 4, 31, NULL, OFF(bcrypt_cost), 0, NULL,
	    "bcrypt cost (below 10 logs a warning)" },
	{ "PASSWORD_MIN_LENGTH", T_INT, "12", 1, 128, NULL, OFF(password_min_length), 0, NULL,
	    "shortest password accepted, characters" },
	{ "LOGIN_MAX_FAILURES", T_INT, "10", 1, 10000, NULL, OFF(login_max_failures), 0, NULL,
	    "failed logins allowed per name within LOGIN_FAILURE_WINDOW" },
	{ "LOGIN_FAILURE_WINDOW", T_INT, "900", 1, 30 * DAY, NULL, OFF(login_failure_window), 0, NULL,
	    "seconds over which failed logins are counted" },
	{ "RATE_LIMIT_AUTH", T_RATE, "20/60", 0, 0, NULL, OFF(rate_limit_auth), 0, NULL,
	    "requests per seconds per client address on login and register; 0: off" },
	{ "RATE_LIMIT_API", T_RATE, "1000/60", 0, 0, NULL, OFF(rate_limit_api), 0, NULL,
	    "requests per seconds per client address on the rest of the API; 0: off" },
	{ "TRUSTED_PROXIES", T_STRING, "", 0, VALUE_MAX_BYTES, NULL, OFF(trusted_proxies), 0, NULL,
	    "comma-separated addresses or CIDRs whose X-Forwarded-For is believed" },
	{ "CORS_ALLOWED_ORIGINS", T_STRING, "", 0, VALUE_MAX_BYTES, NULL, OFF(cors_allowed_origins), 0,
	    NULL, "comma-separated exact origins allowed to call the API from a browser" },
	{ "MAX_BODY_BYTES", T_INT, "65536", 1024, 64L * 1024 * 1024, NULL, OFF(max_body_bytes), 0, NULL,
	    "largest request body, bytes" },
	{ "DATA_MAX_VALUE_BYTES", T_INT, "65536", 16, 64L * 1024 * 1024, NULL,
	    OFF(data_max_value_bytes), 0, NULL, "largest stored data value, bytes" },
	{ "DATA_MAX_KEYS", T_INT, "1000", 1, 10000000, NULL, OFF(data_max_keys), 0, NULL,
	    "data keys per user" },
	{ "CACHE_TTL", T_INT, "300", 0, DAY, NULL, OFF(cache_ttl), 0, NULL,
	    "seconds an entry stays in each process' memory cache" },
	{ "CACHE_MAX_ENTRIES", T_INT, "10000", 0, 10000000, NULL, OFF(cache_max_entries), 0, NULL,
	    "entries of each process' memory cache" },
	{ "CACHE_MAX_BYTES", T_INT, "8388608", 0, 1024L * 1024 * 1024, NULL, OFF(cache_max_bytes), 0,
	    NULL, "bytes of each process' memory cache" },
	{ "HTTP_PORT", T_INT, "8080", 1, 65535, NULL, OFF(http_port), 0, NULL,
	    "the web server's HTTP port (redirects to HTTPS)" },
	{ "HTTPS_PORT", T_INT, "8443", 1, 65535, NULL, OFF(https_port), 0, NULL,
	    "the web server's HTTPS port" },
	{ "WEB_SERVER", T_ENUM, "lighttpd", 0, 0, web_servers, OFF(web_server), 0, NULL,
	    "the web server in front of the responders" },
	{ "LOG_LEVEL", T_ENUM, "info", 0, 0, log_levels, OFF(log_level), 0, NULL,
	    "the least severe level logged" },
	{ "LOG_FILE", T_STRING, NULL, 1, VALUE_MAX_BYTES, NULL, OFF(log_file), 0, NULL,
	    "a file for the JSON log lines, or - for standard error (unset: standard error)" },
	{ "LOG_MAX_BYTES", T_INT, "0", 0, 1L << 40, NULL, OFF(log_max_bytes), 0, NULL,
	    "rotate LOG_FILE to LOG_FILE.1 at this size; 0: never" },
	{ "METRICS_FILE", T_STRING, NULL, 1, VALUE_MAX_BYTES, NULL, OFF(metrics_file), 0, NULL,
	    "the shared counter file of this host's responders (unset: /dev/shm/portcullis-metrics-<euid>)" },
	{ "REDIS_SENTINELS", T_STRING, "", 0, VALUE_MAX_BYTES, NULL, OFF(redis_sentinels), 0, NULL,
	    "comma-separated host:port of Redis Sentinels; empty: REDIS_URL's host" },
	{ "REDIS_MASTER_NAME", T_STRING, "mymaster", 1, 256, NULL, OFF(redis_master_name), 0, NULL,
	    "the Sentinels' name of the master" },
	{ "REDIS_SENTINEL_PASSWORD", T_STRING, NULL, 1, VALUE_MAX_BYTES, NULL,
	    OFF(redis_sentinel_password), F_SECRET, "REDIS_SENTINEL_PASSWORD_FILE",
	    "the Sentinels' own requirepass, when they have one" },
	{ "METRICS_TOKEN", T_OPT_SECRET, NULL, 0, 0, NULL, OFF(metrics_token), F_SECRET,
	    "METRICS_TOKEN_FILE",
	    "bearer token (at least 32 bytes) that opens GET /metrics to other hosts; empty: loopback only" },
	{ "PASSWORD_DENYLIST", T_STRING, NULL, 0, VALUE_MAX_BYTES, NULL, OFF(password_denylist), 0, NULL,
	    "a file of common passwords to refuse, one a line (unset or empty: the shipped list)" },

	/* Read by scripts/ (make run, make up, the Docker image), not by the responders. */
	{ "VAR_DIR", T_STRING, "var", 1, VALUE_MAX_BYTES, NULL, 0, F_STACK, NULL,
	    "where everything of the local stack lives (relative: to the project)" },
	{ "PG_PORT", T_INT, "55432", 1, 65535, NULL, 0, F_STACK, NULL,
	    "the private PostgreSQL's port on 127.0.0.1" },
	{ "REDIS_PORT", T_INT, "56379", 1, 65535, NULL, 0, F_STACK, NULL,
	    "the private Redis' port on 127.0.0.1" },
	{ "FCGI_PROCS", T_INT, NULL, 1, 64, NULL, 0, F_STACK, NULL,
	    "FastCGI processes of every responder without its own FCGI_PROCS_<NAME> (unset: sized by kind)" },
	{ "FCGI_PROCS_HEALTH", T_INT, NULL, 1, 64, NULL, 0, F_STACK, NULL,
	    "the health responder's processes (unset: 2 x cores + 2)" },
	{ "FCGI_PROCS_LOGIN", T_INT, NULL, 1, 64, NULL, 0, F_STACK, NULL,
	    "the login responder's processes (unset: one a core)" },
	{ "FCGI_PROCS_REGISTER", T_INT, NULL, 1, 64, NULL, 0, F_STACK, NULL,
	    "the register responder's processes (unset: one a core)" },
	{ "FCGI_PROCS_SESSION", T_INT, NULL, 1, 64, NULL, 0, F_STACK, NULL,
	    "the session responder's processes (unset: 2 x cores + 2)" },
	{ "FCGI_PROCS_DATA", T_INT, NULL, 1, 64, NULL, 0, F_STACK, NULL,
	    "the data responder's processes (unset: 2 x cores + 2)" },
	{ "FCGI_PROCS_METRICS", T_INT, NULL, 1, 64, NULL, 0, F_STACK, NULL,
	    "the metrics responder's processes (unset: 1)" },
	{ "APACHE_MODE", T_ENUM, "fcgid", 0, 0, apache_modes, 0, F_STACK, NULL,
	    "with WEB_SERVER=apache: Apache spawns the responders (fcgid) or spawn-fcgi does (proxy-fcgi)" },
	{ "WEB_READ_TIMEOUT", T_INT, "20", 1, 3600, NULL, 0, F_STACK, NULL,
	    "seconds a client may stall in its request or body" },
	{ "WEB_MAX_CONNS_PER_IP", T_INT, "32", 0, 65535, NULL, 0, F_STACK, NULL,
	    "connections one client address may hold at lighttpd, trusted proxies exempt; 0: no cap" },
	{ "API_DOCS", T_ENUM, "off", 0, 0, on_off, 0, F_STACK, NULL,
	    "on: the web server serves openapi.yaml at /api/docs" },
	{ "CGI_DIR", T_STRING, "cgi-bin", 1, VALUE_MAX_BYTES, NULL, 0, F_STACK, NULL,
	    "where lighttpd runs the responders from (relative: to the project)" },

	/* Read by docker-compose.yml only. */
	{ "PROMETHEUS_PORT", T_INT, "9090", 1, 65535, NULL, 0, F_COMPOSE, NULL,
	    "host port of Prometheus on 127.0.0.1" },
	{ "ALERTMANAGER_PORT", T_INT, "9093", 1, 65535, NULL, 0, F_COMPOSE, NULL,
	    "host port of Alertmanager on 127.0.0.1" },
	{ "GRAFANA_PORT", T_INT, "3000", 1, 65535, NULL, 0, F_COMPOSE, NULL,
	    "host port of Grafana on 127.0.0.1" },
	{ "PORTCULLIS_COMMIT", T_STRING, "unknown", 1, 64, NULL, 0, F_COMPOSE, NULL,
	    "the commit portcullis_build_info reports for an image compose builds" },
};

#define NROWS (sizeof(table) / sizeof(table[0]))

/* One KEY=VALUE pair read from the `.env` file. */
struct env_pair {
	char *key;
	char *value;
};

struct env_file {
	struct env_pair *pairs;
	size_t n;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static void env_file_free(struct env_file *ef)
{
	for (size_t i = 0; i < ef->n; i++) {
		free(ef->pairs[i].key);
		wipe_free(ef->pairs[i].value);
	}
	free(ef->pairs);
	ef->pairs = NULL;
	ef->n = 0;
}

static int is_key_char(char c, int first)
{
	if (c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
		return 1;
	return !first && c >= '0' && c <= '9';
}

/* Parses one non-empty, non-comment line into `pair`; -1 if malformed. */
static int parse_env_line(char *line, struct env_pair *pair)
{
	char *p = line, *key, *val, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
		p += 6;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	key = p;
	if (!is_key_char(*p, 1))
		return -1;
	while (is_key_char(*p, 0))
		p++;
	end = p;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '=')
		return -1;
	*end = '\0';
	val = p + 1;
	while (*val == ' ' || *val == '\t')
		val++;
	end = val + strlen(val);
	if (*val == '"' || *val == '\'') {
		char q = *val++;
		char *close = strchr(val, q);

		if (close == NULL)
			return -1;
		for (char *t = close + 1; *t != '\0'; t++) {
			if (*t == '#')
				break;
			if (*t != ' ' && *t != '\t')
				return -1;
		}
		*close = '\0';
	} else {
		/* Unquoted: a ` #` starts a comment; trailing blanks go. */
		for (char *t = val; *t != '\0'; t++) {
			if (*t == '#' && t > val && (t[-1] == ' ' || t[-1] == '\t')) {
				end = t;
				break;
			}
		}
		while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
	}
	pair->key = strdup(key);
	pair->value = strdup(val);
	if (pair->key == NULL || pair->value == NULL) {
		free(pair->key);
		free(pair->value);
		return -2;
	}
	return 0;
}

/*
 * Parses `len` bytes of `buf` (modified in place; buf[len] must be writable)
 * into `ef`; `label` names the source in messages.  The caller frees `ef`.
 */
static int env_file_parse(char *buf, size_t len, const char *label, struct env_file *ef,
    char *err, size_t errlen)
{
	int lineno = 0;

	if (len > ENV_FILE_MAX_BYTES) {
		fail(err, errlen, "%s: larger than %d bytes", label, ENV_FILE_MAX_BYTES);
		return -1;
	}
	if (memchr(buf, '\0', len) != NULL) {
		fail(err, errlen, "%s: holds a NUL byte", label);
		return -1;
	}
	buf[len] = '\0';
	if (ef->pairs == NULL && (ef->pairs = calloc(ENV_FILE_MAX_LINES, sizeof(*ef->pairs))) == NULL) {
		fail(err, errlen, "%s: out of memory", label);
		return -1;
	}
	for (char *line = buf, *next; line != NULL && *line != '\0'; line = next) {
		char *p;
		int r;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if ((p = strchr(line, '\r')) != NULL && p[1] == '\0')
			*p = '\0';
		p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if (ef->n == ENV_FILE_MAX_LINES) {
			fail(err, errlen, "%s: more than %d settings", label, ENV_FILE_MAX_LINES);
			return -1;
		}
		r = parse_env_line(line, &ef->pairs[ef->n]);
		if (r == -2) {
			fail(err, errlen, "%s: out of memory", label);
			return -1;
		}
		if (r != 0) {
			fail(err, errlen, "%s:%d: not a KEY=VALUE line", label, lineno);
			return -1;
		}
		ef->n++;
	}
	return 0;
}

/* Reads `path` into `ef`.  A missing file is an empty one. */
static int env_file_read(const char *path, struct env_file *ef, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t len;
	int rc = -1;

	ef->pairs = NULL;
	ef->n = 0;
	if (path == NULL)
		return 0;
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(ENV_FILE_MAX_BYTES + 1);
	if (buf == NULL) {
		fail(err, errlen, "%s: out of memory", path);
		goto out;
	}
	len = fread(buf, 1, ENV_FILE_MAX_BYTES + 1, f);
	if (ferror(f)) {
		fail(err, errlen, "%s: cannot read", path);
		goto out;
	}
	rc = env_file_parse(buf, len, path, ef, err, errlen);
out:
	if (buf != NULL) {
		explicit_bzero(buf, ENV_FILE_MAX_BYTES + 1);
		free(buf);
	}
	fclose(f);
	if (rc != 0)
		env_file_free(ef);
	return rc;
}

/* The raw text for `name`: environment, then .env (last one wins), else NULL. */
static const char *lookup(const struct env_file *ef, const char *name, const char **source)
{
	const char *v = getenv(name);

	if (v != NULL) {
		*source = "environment";
		return v;
	}
	for (size_t i = ef->n; i-- > 0;) {
		if (strcmp(ef->pairs[i].key, name) == 0) {
			*source = ".env";
			return ef->pairs[i].value;
		}
	}
	*source = "default";
	return NULL;
}

/*
 * Reads at most VALUE_MAX_BYTES + 1 bytes of the regular file `path` into a
 * new string, less one trailing newline (or CRLF); NULL with errno (EINVAL:
 * not a regular file, EILSEQ: a NUL byte inside).
 */
static char *read_secret_file(const char *path)
{
	char *buf = malloc(VALUE_MAX_BYTES + 2);
	size_t len = 0;
	struct stat st;
	int fd, err = 0;

	if (buf == NULL)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		err = errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL; /* a directory, a FIFO that could block... */
		goto fail;
	}
	while (len < VALUE_MAX_BYTES + 1) {
		ssize_t r = read(fd, buf + len, VALUE_MAX_BYTES + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len > 0 && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		err = EILSEQ; /* a C string would silently stop there */
		fd = -1;
		goto fail;
	}
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	explicit_bzero(buf, VALUE_MAX_BYTES + 2);
	free(buf);
	errno = err;
	return NULL;
}

/*
 * Secrets may come from files (Docker and Kubernetes secrets): a row that
 * holds one (a secret, a URL that may carry a password, a token, a
 * password) names a NAME_FILE twin whose value names a file; its content,
 * less one trailing newline, is the value.  Setting both is an error; so is
 * a file that cannot be read.
 *
 * The value of `name`, from itself or its twin `twin_name` (NULL: none): 1 with
 * `*value` (in `*owned` too when it was read from a file: wipe_free it) and
 * `source` describing where it came from; 0 when unset; -1 with `err`.
 */
static int lookup_value(const struct env_file *ef, const char *name, const char *twin_name,
    const char **value, char **owned, char *source, size_t sourcelen, char *err, size_t errlen)
{
	const char *src, *v = lookup(ef, name, &src), *path, *psrc;

	*owned = NULL;
	*value = NULL;
	snprintf(source, sourcelen, "%s", src);
	if (twin_name == NULL || (path = lookup(ef, twin_name, &psrc)) == NULL) {
		*value = v;
		return v != NULL;
	}
	if (v != NULL) {
		fail(err, errlen, "%s (from %s) and %s (from %s) are both set: keep one", name, src,
		    twin_name, psrc);
		return -1;
	}
	if ((*owned = read_secret_file(path)) == NULL) {
		fail(err, errlen, "%s (from %s): cannot read \"%.256s\": %s", twin_name, psrc, path,
		    errno == EINVAL ? "not a regular file"
			: errno == EILSEQ ? "it holds a NUL byte" : strerror(errno));
		return -1;
	}
	snprintf(source, sourcelen, "%s", twin_name);
	*value = *owned;
	return 1;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	/* A digit first: strtol would skip any leading whitespace and take a sign. */
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_rate(const char *s, struct cfg_rate *out)
{
	char head[32];
	const char *slash = strchr(s, '/');
	size_t n;

	if (strcmp(s, "0") == 0) {
		out->limit = 0;
		out->window = 0;
		return 0;
	}
	if (slash == NULL || (n = (size_t)(slash - s)) == 0 || n >= sizeof(head))
		return -1;
	memcpy(head, s, n);
	head[n] = '\0';
	if (parse_long(head, 1, 1000000000L, &out->limit) != 0 ||
	    parse_long(slash + 1, 1, 30 * DAY, &out->window) != 0)
		return -1;
	/* At least a microsecond between requests: the limiter counts in µs. */
	return out->limit <= out->window * 1000000L ? 0 : -1;
}

static int has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int set_row(struct config *cfg, const struct cfg_row *row, const char *v,
    const char *source, char *err, size_t errlen)
{
	char *base = (char *)cfg + row->offset;
	size_t len = strlen(v);

	switch (row->type) {
	case T_URL:
	case T_STRING:
	case T_SECRET:
	case T_OPT_SECRET:
		if (len > VALUE_MAX_BYTES || has_control(v)) {
			fail(err, errlen, "%s (from %s): must be at most %d bytes of printable text",
			    row->name, source, VALUE_MAX_BYTES);
			return -1;
		}
		if (row->type == T_STRING && row->min > 0 && len < (size_t)row->min) {
			fail(err, errlen, "%s (from %s): must not be empty", row->name, source);
			return -1;
		}
		if (row->type == T_URL && len == 0) {
			fail(err, errlen, "%s (from %s): must not be empty", row->name, source);
			return -1;
		}
		if ((row->type == T_SECRET || (row->type == T_OPT_SECRET && len > 0)) &&
		    len < SECRET_MIN_BYTES) {
			fail(err, errlen, "%s (from %s): must be at least %d bytes (got %zu)",
			    row->name, source, SECRET_MIN_BYTES, len);
			return -1;
		}
		if ((*(char **)base = strdup(v)) == NULL) {
			fail(err, errlen, "%s: out of memory", row->name);
			return -1;
		}
		return 0;
	case T_INT:
		if (parse_long(v, row->min, row->max, (long *)base) != 0) {
			fail(err, errlen, "%s (from %s): \"%.64s\" is not an integer from %ld to %ld",
			    row->name, source, v, row->min, row->max);
			return -1;
		}
		return 0;
	case T_RATE:
		if (parse_rate(v, (struct cfg_rate *)base) != 0) {
			fail(err, errlen,
			    "%s (from %s): \"%.64s\" is not <requests>/<seconds> (such as 20/60) or 0",
			    row->name, source, v);
			return -1;
		}
		return 0;
	case T_ENUM:
		for (int i = 0; row->choices[i] != NULL; i++) {
			if (strcmp(v, row->choices[i]) == 0) {
				if (row->offset == OFF(web_server)) {
					if ((cfg->web_server = strdup(v)) == NULL) {
						fail(err, errlen, "%s: out of memory", row->name);
						return -1;
					}
				} else {
					*(int *)base = i;
				}
				return 0;
			}
		}
		fail(err, errlen, "%s (from %s): \"%.64s\" is not one of the allowed values",
		    row->name, source, v);
		return -1;
	}
	return -1;
}

/* Fills `cfg` from the environment, `ef` and the defaults; frees `ef`. */
static int load(struct config *cfg, struct env_file *ef, char *err, size_t errlen)
{
	for (size_t i = 0; i < NROWS; i++) {
		const struct cfg_row *row = &table[i];
		char source[128], *owned;
		const char *v;
		int r;

		if (row->flags & (F_STACK | F_COMPOSE))
			continue;
		if (lookup_value(ef, row->name, row->twin, &v, &owned, source,
			sizeof(source), err, errlen) < 0)
			goto fail;
		if (v == NULL)
			v = row->def;
		if (v == NULL) {
			if (row->type == T_STRING || row->type == T_OPT_SECRET)
				continue;
			fail(err, errlen, "%s: is not set%s", row->name,
			    row->type == T_SECRET
				? " (make run and make up generate one; elsewhere set at least 32 bytes,"
				  " or name a file holding it in its _FILE twin)"
				: "");
			goto fail;
		}
		r = set_row(cfg, row, v, source, err, errlen);
		wipe_free(owned);
		if (r != 0)
			goto fail;
	}
	env_file_free(ef);
	return 0;
fail:
	env_file_free(ef);
	cfg_free(cfg);
	return -1;
}

/* The row named `name`, or NULL. */
static const struct cfg_row *find_row(const char *name)
{
	for (size_t i = 0; i < NROWS; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

int cfg_load(struct config *cfg, const char *env_file, char *err, size_t errlen)
{
	struct env_file ef;

	memset(cfg, 0, sizeof(*cfg));
	if (env_file_read(env_file, &ef, err, errlen) != 0)
		return -1;
	return load(cfg, &ef, err, errlen);
}

int cfg_load_text(struct config *cfg, const char *text, size_t len, const char *label,
    char *err, size_t errlen)
{
	struct env_file ef = { NULL, 0 };
	char *buf;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if ((buf = malloc(len + 1)) == NULL) {
		fail(err, errlen, "%s: out of memory", label);
		return -1;
	}
	if (len > 0)
		memcpy(buf, text, len);
	rc = env_file_parse(buf, len, label, &ef, err, errlen);
	explicit_bzero(buf, len + 1);
	free(buf);
	if (rc != 0) {
		env_file_free(&ef);
		return -1;
	}
	return load(cfg, &ef, err, errlen);
}

int cfg_get_raw(const char *env_file, const char *name, char *out, size_t outlen,
    char *err, size_t errlen)
{
	struct env_file ef;
	char source[128], *owned = NULL;
	const char *v;
	const struct cfg_row *row = find_row(name);
	int rc;

	if (env_file_read(env_file, &ef, err, errlen) != 0)
		return -1;
	if (lookup_value(&ef, name, row != NULL ? row->twin : NULL, &v, &owned, source,
		sizeof(source), err, errlen) < 0) {
		rc = -1;
	} else if (v == NULL) {
		rc = 0;
	} else if (strlen(v) >= outlen) {
		fail(err, errlen, "%s (from %s): longer than %zu bytes", name, source, outlen - 1);
		rc = -1;
	} else {
		memcpy(out, v, strlen(v) + 1);
		rc = 1;
	}
	wipe_free(owned);
	env_file_free(&ef);
	return rc;
}

void cfg_free(struct config *cfg)
{
	free(cfg->database_url);
	free(cfg->redis_url);
	wipe_free(cfg->jwt_secret);
	free(cfg->jwt_issuer);
	free(cfg->jwt_audience);
	wipe_free(cfg->ip_hash_secret);
	free(cfg->trusted_proxies);
	free(cfg->cors_allowed_origins);
	free(cfg->web_server);
	free(cfg->log_file);
	free(cfg->metrics_file);
	free(cfg->redis_sentinels);
	free(cfg->redis_master_name);
	wipe_free(cfg->redis_sentinel_password);
	wipe_free(cfg->metrics_token);
	free(cfg->password_denylist);
	memset(cfg, 0, sizeof(*cfg));
}

int cfg_default_env_file(const char *argv0, char *out, size_t outlen)
{
	const char *explicit_path = getenv("PORTCULLIS_ENV_FILE");
	char exe[PATH_MAX];
	const char *slash;
	int n;

	if (explicit_path != NULL && *explicit_path != '\0') {
		n = snprintf(out, outlen, "%s", explicit_path);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	/* Prefer the real location of the binary over argv[0]. */
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len > 0) {
		exe[len] = '\0';
	} else {
		n = snprintf(exe, sizeof(exe), "%s", argv0 != NULL ? argv0 : "");
		if (n < 0 || (size_t)n >= sizeof(exe))
			return -1;
	}
	slash = strrchr(exe, '/');
	if (slash == NULL)
		n = snprintf(out, outlen, "../.env");
	else
		n = snprintf(out, outlen, "%.*s/../.env", (int)(slash - exe), exe);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

void cfg_warnings(const struct config *cfg, void (*warn)(const char *msg))
{
	if (cfg->bcrypt_cost < 10)
		warn("BCRYPT_COST is below 10: password hashes are cheap to attack");
	if (cfg->rate_limit_auth.limit == 0)
		warn("RATE_LIMIT_AUTH is 0: login and register are not rate limited");
	if (cfg->password_min_length < 8)
		warn("PASSWORD_MIN_LENGTH is below 8");
}

const char *cfg_jwt_alg_name(enum jwt_alg_cfg alg)
{
	switch (alg) {
	case CFG_JWT_HS256:
		return "HS256";
	case CFG_JWT_HS384:
		return "HS384";
	case CFG_JWT_HS512:
		return "HS512";
	}
	return "HS256";
}

/* ---- the stack's own settings ------------------------------------------- */

/* One stack row's value against its type and bounds: 0, or -1 with `err`. */
static int check_stack_value(const struct cfg_row *row, const char *v, const char *source,
    char *err, size_t errlen)
{
	size_t len = strlen(v), used = 0;
	char choices[128] = "";
	long n;

	switch (row->type) {
	case T_INT:
		if (parse_long(v, row->min, row->max, &n) == 0)
			return 0;
		fail(err, errlen, "%s (from %s): \"%.64s\" is not an integer from %ld to %ld",
		    row->name, source, v, row->min, row->max);
		return -1;
	case T_ENUM:
		for (int i = 0; row->choices[i] != NULL; i++) {
			int w;

			if (strcmp(v, row->choices[i]) == 0)
				return 0;
			w = snprintf(choices + used, sizeof(choices) - used, "%s%s", i > 0 ? ", " : "",
			    row->choices[i]);
			if (w > 0 && (size_t)w < sizeof(choices) - used)
				used += (size_t)w;
		}
		fail(err, errlen, "%s (from %s): \"%.64s\" is not one of: %s", row->name, source, v,
		    choices);
		return -1;
	default:
		if (len >= (size_t)row->min && len <= (size_t)row->max && !has_control(v))
			return 0;
		fail(err, errlen, "%s (from %s): must be %ld to %ld bytes of printable text",
		    row->name, source, row->min, row->max);
		return -1;
	}
}

int cfg_check_stack(const char *env_file, char *err, size_t errlen)
{
	struct env_file ef;
	int rc = 0;

	if (env_file_read(env_file, &ef, err, errlen) != 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < NROWS; i++) {
		const struct cfg_row *row = &table[i];
		const char *source, *v;

		if (!(row->flags & F_STACK) || (v = lookup(&ef, row->name, &source)) == NULL)
			continue;
		/* Empty is unset for a knob without a default (compose passes FCGI_PROCS=""). */
		if (v[0] == '\0' && row->def == NULL)
			continue;
		rc = check_stack_value(row, v, source, err, errlen);
	}
	env_file_free(&ef);
	return rc;
}

/* ---- the table and the raw settings, for tools that print them ---------- */

static const char *const type_names[] = {
	[T_STRING] = "string", [T_URL] = "url", [T_SECRET] = "secret",
	[T_OPT_SECRET] = "secret", [T_INT] = "int", [T_RATE] = "rate", [T_ENUM] = "enum",
};

int cfg_key_at(size_t i, struct cfg_key *key)
{
	const struct cfg_row *row;

	if (i >= NROWS)
		return 0;
	row = &table[i];
	*key = (struct cfg_key){
		.name = row->name,
		.type = type_names[row->type],
		.def = row->def,
		.min = row->type == T_INT ? row->min : 0,
		.max = row->type == T_INT ? row->max : 0,
		.choices = row->type == T_ENUM ? row->choices : NULL,
		.flags = row->flags |
		    (row->type == T_URL || row->type == T_SECRET ? CFG_KEY_REQUIRED : 0),
		.twin = row->twin,
		.desc = row->desc,
	};
	return 1;
}

struct cfg_env {
	struct env_file ef;
};

int cfg_env_open(const char *env_file, struct cfg_env **out, char *err, size_t errlen)
{
	struct cfg_env *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (e == NULL) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	if (env_file_read(env_file, &e->ef, err, errlen) != 0) {
		free(e);
		return -1;
	}
	*out = e;
	return 0;
}

void cfg_env_close(struct cfg_env *e)
{
	if (e == NULL)
		return;
	env_file_free(&e->ef);
	free(e);
}

const char *cfg_env_get(const struct cfg_env *e, const char *name, const char **source)
{
	return lookup(&e->ef, name, source);
}

int cfg_env_value(const struct cfg_env *e, const char *name, char **value, char *source,
    size_t sourcelen, char *err, size_t errlen)
{
	const struct cfg_row *row = find_row(name);
	const char *v;
	char *owned;
	int rc;

	*value = NULL;
	rc = lookup_value(&e->ef, name, row != NULL ? row->twin : NULL, &v, &owned, source,
	    sourcelen, err, errlen);
	if (rc != 1)
		return rc;
	if (owned != NULL) {
		*value = owned;
		return 1;
	}
	if ((*value = strdup(v)) == NULL) {
		fail(err, errlen, "%s: out of memory", name);
		return -1;
	}
	return 1;
}

size_t cfg_env_size(const struct cfg_env *e)
{
	return e->ef.n;
}

void cfg_env_pair(const struct cfg_env *e, size_t i, const char **key, const char **value)
{
	*key = e->ef.pairs[i].key;
	*value = e->ef.pairs[i].value;
}

void cfg_value_free(char *value)
{
	wipe_free(value);
}
