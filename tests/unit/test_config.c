/*
 * test_config.c - unit tests of lib/config.c.
 *
 * The test inherits the caller's environment, so every variable of the
 * table is unset first and only the four required ones are set; each case
 * then sets what it needs and puts things back.  `.env` files are written
 * with mkstemp() under $TMPDIR (or /tmp) and removed afterwards.
 */
#include "config.h"
#include "check.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DB_URL "postgresql://portcullis@localhost/portcullis"
#define REDIS "redis://127.0.0.1:6379/0"
#define SECRET32 "0123456789abcdef0123456789abcdef"
#define SECRET31 "0123456789abcdef0123456789abcde"
#define IPSECRET "ip-hash-secret-ip-hash-secret-0123456789"

/* Only the four required variables set, to known values. */
static void reset_env(void)
{
	struct cfg_key k;

	/* Every key of the table and its _FILE twin: the table is the list. */
	for (size_t i = 0; cfg_key_at(i, &k); i++) {
		unsetenv(k.name);
		if (k.twin != NULL)
			unsetenv(k.twin);
	}
	unsetenv("PORTCULLIS_ENV_FILE");
	setenv("DATABASE_URL", DB_URL, 1);
	setenv("REDIS_URL", REDIS, 1);
	setenv("JWT_SECRET", SECRET32, 1);
	setenv("IP_HASH_SECRET", IPSECRET, 1);
}

static char env_paths[16][64];
static int n_env_paths;

/* Writes `len` bytes of `text` to a fresh temporary file; returns its path. */
static const char *write_env_n(const char *text, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	int fd;

	if (n_env_paths == 16)
		return "/nonexistent/too-many-test-files";
	path = env_paths[n_env_paths++];
	snprintf(path, sizeof(env_paths[0]), "%s/portcullis-env-XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 30 ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		printf("# test bug: cannot write %s\n", path);
		if (fd >= 0)
			close(fd);
		return "/nonexistent/unwritable";
	}
	close(fd);
	return path;
}

static const char *write_env(const char *text)
{
	return write_env_n(text, strlen(text));
}

static void remove_env_files(void)
{
	for (int i = 0; i < n_env_paths; i++)
		unlink(env_paths[i]);
	n_env_paths = 0;
}

/*
 * Sets `name` to `value` (NULL: unsets it), loads with no .env file, and
 * restores the environment.  Returns cfg_load's result; the message is in
 * `err`; a loaded configuration is freed.
 */
static int load_with(const char *name, const char *value, char err[CFG_ERR_MAX])
{
	struct config cfg;
	int rc;

	reset_env();
	if (value != NULL)
		setenv(name, value, 1);
	else
		unsetenv(name);
	err[0] = '\0';
	rc = cfg_load(&cfg, NULL, err, CFG_ERR_MAX);
	if (rc == 0)
		cfg_free(&cfg);
	reset_env();
	return rc;
}

/* `value` with control bytes shown as \xNN, for one-line check names. */
static const char *shown(const char *value)
{
	static char buf[128];
	size_t n = 0;

	for (; *value != '\0' && n + 5 < sizeof(buf); value++) {
		unsigned char c = (unsigned char)*value;

		if (c < 0x20 || c == 0x7f)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\\x%02x", c);
		else
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return buf;
}

/* `name`=`value` is refused with a message naming `name`. */
static void refused(const char *name, const char *value)
{
	char err[CFG_ERR_MAX], what[200];
	int rc = load_with(name, value, err);

	snprintf(what, sizeof(what), "%s=\"%s\" is refused", name, shown(value));
	CHECK_MSG(rc == -1, what);
	snprintf(what, sizeof(what), "%s=\"%s\": the message names %s", name, shown(value),
	    name);
	CHECK_MSG(strstr(err, name) != NULL, what);
	if (rc != -1 || strstr(err, name) == NULL)
		printf("#   message: %s\n", err);
}

/* `name`=`value` loads. */
static void accepted(const char *name, const char *value)
{
	char err[CFG_ERR_MAX], what[200];
	int rc = load_with(name, value, err);

	snprintf(what, sizeof(what), "%s=\"%s\" is accepted", name, shown(value));
	CHECK_MSG(rc == 0, what);
	if (rc != 0)
		printf("#   message: %s\n", err);
}

static void test_defaults(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX] = "";

	reset_env();
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK_STR(cfg.database_url, DB_URL);
	CHECK_STR(cfg.redis_url, REDIS);
	CHECK_STR(cfg.jwt_secret, SECRET32);
	CHECK_STR(cfg.ip_hash_secret, IPSECRET);
	CHECK(cfg.jwt_algorithm == CFG_JWT_HS256);
	CHECK_STR(cfg_jwt_alg_name(cfg.jwt_algorithm), "HS256");
	CHECK_STR(cfg.jwt_issuer, "portcullis");
	CHECK_STR(cfg.jwt_audience, "portcullis-api");
	CHECK(cfg.access_token_ttl == 900);
	CHECK(cfg.refresh_token_ttl == 1209600);
	CHECK(cfg.refresh_reuse_interval == 10);
	CHECK(cfg.bcrypt_cost == 12);
	CHECK(cfg.password_min_length == 12);
	CHECK(cfg.login_max_failures == 10);
	CHECK(cfg.login_failure_window == 900);
	CHECK(cfg.rate_limit_auth.limit == 20 && cfg.rate_limit_auth.window == 60);
	CHECK(cfg.rate_limit_api.limit == 1000 && cfg.rate_limit_api.window == 60);
	CHECK_STR(cfg.trusted_proxies, "");
	CHECK_STR(cfg.cors_allowed_origins, "");
	CHECK(cfg.max_body_bytes == 65536);
	CHECK(cfg.data_max_value_bytes == 65536);
	CHECK(cfg.data_max_keys == 1000);
	CHECK(cfg.cache_ttl == 300);
	CHECK(cfg.cache_max_entries == 10000);
	CHECK(cfg.http_port == 8080);
	CHECK(cfg.https_port == 8443);
	CHECK_STR(cfg.web_server, "lighttpd");
	CHECK(cfg.log_level == LOG_INFO);
	CHECK(cfg.log_file == NULL);
	cfg_free(&cfg);

	/* An env file that does not exist is the same as none. */
	CHECK(cfg_load(&cfg, "/nonexistent/dir/.env", err, sizeof(err)) == 0);
	CHECK(cfg.bcrypt_cost == 12);
	CHECK_STR(cfg.jwt_issuer, "portcullis");
	cfg_free(&cfg);

	CHECK_STR(cfg_jwt_alg_name(CFG_JWT_HS384), "HS384");
	CHECK_STR(cfg_jwt_alg_name(CFG_JWT_HS512), "HS512");
}

static void test_every_value_set(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX] = "";

	reset_env();
	setenv("JWT_ALGORITHM", "HS512", 1);
	setenv("JWT_ISSUER", "iss", 1);
	setenv("JWT_AUDIENCE", "aud", 1);
	setenv("ACCESS_TOKEN_TTL", "30", 1);
	setenv("REFRESH_TOKEN_TTL", "31536000", 1);
	setenv("REFRESH_REUSE_INTERVAL", "0", 1);
	setenv("BCRYPT_COST", "31", 1);
	setenv("PASSWORD_MIN_LENGTH", "128", 1);
	setenv("LOGIN_MAX_FAILURES", "1", 1);
	setenv("LOGIN_FAILURE_WINDOW", "2592000", 1);
	setenv("RATE_LIMIT_AUTH", "0", 1);
	setenv("RATE_LIMIT_API", "5/1", 1);
	setenv("TRUSTED_PROXIES", "10.0.0.0/8, ::1", 1);
	setenv("CORS_ALLOWED_ORIGINS", "https://app.example.com", 1);
	setenv("MAX_BODY_BYTES", "1024", 1);
	setenv("DATA_MAX_VALUE_BYTES", "16", 1);
	setenv("DATA_MAX_KEYS", "10000000", 1);
	setenv("CACHE_TTL", "0", 1);
	setenv("CACHE_MAX_ENTRIES", "0", 1);
	setenv("HTTP_PORT", "1", 1);
	setenv("HTTPS_PORT", "65535", 1);
	setenv("WEB_SERVER", "apache", 1);
	setenv("LOG_LEVEL", "debug", 1);
	setenv("LOG_FILE", "/var/log/portcullis.log", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK(cfg.jwt_algorithm == CFG_JWT_HS512);
	CHECK_STR(cfg.jwt_issuer, "iss");
	CHECK_STR(cfg.jwt_audience, "aud");
	CHECK(cfg.access_token_ttl == 30);
	CHECK(cfg.refresh_token_ttl == 31536000);
	CHECK(cfg.refresh_reuse_interval == 0);
	CHECK(cfg.bcrypt_cost == 31);
	CHECK(cfg.password_min_length == 128);
	CHECK(cfg.login_max_failures == 1);
	CHECK(cfg.login_failure_window == 2592000);
	CHECK(cfg.rate_limit_auth.limit == 0 && cfg.rate_limit_auth.window == 0);
	CHECK(cfg.rate_limit_api.limit == 5 && cfg.rate_limit_api.window == 1);
	CHECK_STR(cfg.trusted_proxies, "10.0.0.0/8, ::1");
	CHECK_STR(cfg.cors_allowed_origins, "https://app.example.com");
	CHECK(cfg.max_body_bytes == 1024);
	CHECK(cfg.data_max_value_bytes == 16);
	CHECK(cfg.data_max_keys == 10000000);
	CHECK(cfg.cache_ttl == 0);
	CHECK(cfg.cache_max_entries == 0);
	CHECK(cfg.http_port == 1);
	CHECK(cfg.https_port == 65535);
	CHECK_STR(cfg.web_server, "apache");
	CHECK(cfg.log_level == LOG_DEBUG);
	CHECK_STR(cfg.log_file, "/var/log/portcullis.log");
	cfg_free(&cfg);
	reset_env();
}

static void test_env_wins(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX] = "";
	const char *path = write_env(
	    "BCRYPT_COST=11\n"
	    "JWT_ISSUER=from-file\n"
	    "HTTP_PORT=not-a-number\n"
	    "DATABASE_URL=postgresql://file/db\n"
	    "TRUSTED_PROXIES=10.0.0.1\n");

	reset_env();
	setenv("BCRYPT_COST", "13", 1);
	setenv("HTTP_PORT", "8081", 1);	/* the bad file value is never looked at */
	setenv("TRUSTED_PROXIES", "", 1);	/* set but empty still counts as set */
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == 0);
	CHECK(cfg.bcrypt_cost == 13);
	CHECK_STR(cfg.jwt_issuer, "from-file");
	CHECK(cfg.http_port == 8081);
	CHECK_STR(cfg.database_url, DB_URL);
	CHECK_STR(cfg.trusted_proxies, "");
	cfg_free(&cfg);

	/* Required values may come from the file alone. */
	unsetenv("DATABASE_URL");
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == 0);
	CHECK_STR(cfg.database_url, "postgresql://file/db");
	/* The process environment is not changed by the file. */
	CHECK(getenv("DATABASE_URL") == NULL);
	CHECK(getenv("JWT_ISSUER") == NULL);
	cfg_free(&cfg);

	/* A bad value in the file, not overridden, names the file as its source. */
	unsetenv("HTTP_PORT");
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, "HTTP_PORT") != NULL);
	CHECK(strstr(err, ".env") != NULL);
	CHECK(cfg.database_url == NULL && cfg.jwt_secret == NULL);
	reset_env();
}

static void test_env_file_syntax(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX] = "";
	const char *path = write_env(
	    "# a comment\n"
	    "   # an indented comment\n"
	    "\n"
	    "   \t \n"
	    "export JWT_ISSUER=exported\n"
	    "JWT_AUDIENCE='single # quoted  '\n"
	    "CORS_ALLOWED_ORIGINS=\"https://a.example, https://b.example\"   # after quotes\n"
	    "TRUSTED_PROXIES  =   10.0.0.0/8 , 192.0.2.1   # trailing comment\n"
	    "LOG_FILE=/var/log/a#b\n"
	    "\tLOG_LEVEL = warn\t\n"
	    "HTTP_PORT=81\n"
	    "HTTP_PORT=82\n"
	    "export  HTTPS_PORT=\"9443\"\n"
	    "SOMETHING_ELSE=ignored\n"
	    "lower_case_key=ignored too\n"
	    "WEB_SERVER=apache"); /* no final newline */

	reset_env();
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == 0);
	if (err[0] != '\0')
		printf("#   message: %s\n", err);
	CHECK_STR(cfg.jwt_issuer, "exported");
	CHECK_STR(cfg.jwt_audience, "single # quoted  ");
	CHECK_STR(cfg.cors_allowed_origins, "https://a.example, https://b.example");
	CHECK_STR(cfg.trusted_proxies, "10.0.0.0/8 , 192.0.2.1");
	CHECK_STR(cfg.log_file, "/var/log/a#b");
	CHECK(cfg.log_level == LOG_WARN);
	CHECK(cfg.http_port == 82);
	CHECK(cfg.https_port == 9443);
	CHECK_STR(cfg.web_server, "apache");
	cfg_free(&cfg);

	/* CRLF line endings. */
	path = write_env(
	    "# windows\r\n"
	    "\r\n"
	    "JWT_ISSUER=crlf\r\n"
	    "JWT_AUDIENCE=\"quoted crlf\"\r\n"
	    "BCRYPT_COST=10\r\n"
	    "LOG_LEVEL=error # c\r\n");
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == 0);
	if (err[0] != '\0')
		printf("#   message: %s\n", err);
	CHECK_STR(cfg.jwt_issuer, "crlf");
	CHECK_STR(cfg.jwt_audience, "quoted crlf");
	CHECK(cfg.bcrypt_cost == 10);
	CHECK(cfg.log_level == LOG_ERROR);
	cfg_free(&cfg);

	/* Empty values: unquoted and quoted. */
	path = write_env("TRUSTED_PROXIES=\nCORS_ALLOWED_ORIGINS=\"\"\n");
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == 0);
	CHECK_STR(cfg.trusted_proxies, "");
	CHECK_STR(cfg.cors_allowed_origins, "");
	cfg_free(&cfg);

	/* An empty file. */
	path = write_env("");
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == 0);
	CHECK(cfg.bcrypt_cost == 12);
	cfg_free(&cfg);
}

/* The file holding `text` fails with "<path>:<line>" in the message. */
static void bad_env_line(const char *text, int line)
{
	struct config cfg;
	char err[CFG_ERR_MAX] = "", want[128], what[200];
	const char *path = write_env(text);
	int rc;

	reset_env();
	rc = cfg_load(&cfg, path, err, sizeof(err));
	snprintf(want, sizeof(want), "%s:%d:", path, line);
	snprintf(what, sizeof(what), "malformed .env line %d is refused", line);
	CHECK_MSG(rc == -1, what);
	snprintf(what, sizeof(what), "the message holds \"<path>:%d:\"", line);
	CHECK_MSG(strstr(err, want) != NULL, what);
	if (rc != -1 || strstr(err, want) == NULL)
		printf("#   message: %s\n", err);
	if (rc == 0)
		cfg_free(&cfg);
	else
		CHECK(cfg.database_url == NULL);
}

static void test_env_file_malformed(void)
{
	bad_env_line("NOEQUALS\n", 1);
	bad_env_line("# ok\n\nJWT_ISSUER=x\nNOEQUALS\n", 4);
	bad_env_line("1BAD=x\n", 1);
	bad_env_line("JWT_ISSUER=\"unterminated\n", 1);
	bad_env_line("JWT_ISSUER='unterminated\n", 1);
	bad_env_line("JWT_ISSUER=\"mixed'\n", 1);
	bad_env_line("JWT_ISSUER=\"a\" b\n", 1);
	bad_env_line("BAD-KEY=1\n", 1);
	bad_env_line("=value\n", 1);
	bad_env_line("export\n", 1);
	bad_env_line("KEY VALUE=1\n", 1);
	bad_env_line("A=1\r\nB=2\r\nC\r\n", 3);
	bad_env_line("$(touch /tmp/pwned)=1\n", 1);
}

static void test_env_file_limits(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX] = "";
	char *big;
	const char *path;
	size_t n = 64 * 1024 + 1, len = 0;

	reset_env();
	/* A NUL byte anywhere is refused. */
	path = write_env_n("JWT_ISSUER=a\0b\n", 15);
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, path) != NULL);

	/* A directory is not a readable file. */
	CHECK(cfg_load(&cfg, "/", err, sizeof(err)) == -1);
	CHECK(cfg.database_url == NULL);

	big = malloc(n + 1);
	if (big == NULL) {
		CHECK_MSG(0, "malloc");
		return;
	}
	/* Over 64 KiB: refused even though every line is a comment. */
	memset(big, '#', n);
	big[n - 1] = '\n';
	big[n] = '\0';
	path = write_env_n(big, n);
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, path) != NULL);
	/* Exactly 64 KiB is fine. */
	path = write_env_n(big, n - 1);
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == 0);
	cfg_free(&cfg);

	/* More than 512 settings. */
	for (int i = 0; i < 513; i++)
		len += (size_t)snprintf(big + len, n + 1 - len, "K%d=v\n", i);
	path = write_env_n(big, len);
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, path) != NULL);
	/* 512 are fine. */
	len = 0;
	for (int i = 0; i < 512; i++)
		len += (size_t)snprintf(big + len, n + 1 - len, "K%d=v\n", i);
	path = write_env_n(big, len);
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == 0);
	cfg_free(&cfg);
	free(big);
}

/* cfg_load_text(): the same parser over a buffer, not NUL-terminated, never written. */
static void test_load_text(void)
{
	static const char text[] = "# settings\nBCRYPT_COST=5\nexport JWT_ISSUER=\"me\" # c\n";
	struct config cfg;
	char err[CFG_ERR_MAX] = "", *buf, *big;
	size_t len = sizeof(text) - 1, n = 64 * 1024 + 1;

	reset_env();
	buf = malloc(len); /* exactly the text: ASan sees a read past it */
	big = malloc(n);
	if (buf == NULL || big == NULL) {
		CHECK_MSG(0, "malloc");
		free(buf);
		free(big);
		return;
	}
	memcpy(buf, text, len);
	CHECK(cfg_load_text(&cfg, buf, len, "mem.env", err, sizeof(err)) == 0);
	CHECK(cfg.bcrypt_cost == 5);
	CHECK_STR(cfg.jwt_issuer, "me");
	CHECK(memcmp(buf, text, len) == 0); /* the caller's bytes are left alone */
	cfg_free(&cfg);
	/* the last line needs no newline; an empty text is the defaults */
	CHECK(cfg_load_text(&cfg, "BCRYPT_COST=6", 13, "mem.env", err, sizeof(err)) == 0);
	CHECK(cfg.bcrypt_cost == 6);
	cfg_free(&cfg);
	CHECK(cfg_load_text(&cfg, "", 0, "mem.env", err, sizeof(err)) == 0);
	CHECK(cfg.bcrypt_cost == 12);
	cfg_free(&cfg);
	/* errors name the label and the line, as for a file */
	CHECK(cfg_load_text(&cfg, "A=1\nNOEQUALS\n", 13, "mem.env", err, sizeof(err)) == -1);
	CHECK(strstr(err, "mem.env:2:") != NULL);
	CHECK(cfg.database_url == NULL);
	CHECK(cfg_load_text(&cfg, "JWT_ISSUER=a\0b\n", 15, "mem.env", err, sizeof(err)) == -1);
	CHECK(strstr(err, "NUL") != NULL);
	CHECK(cfg_load_text(&cfg, "BCRYPT_COST=abc\n", 16, "mem.env", err, sizeof(err)) == -1);
	CHECK(strstr(err, "BCRYPT_COST") != NULL);
	memset(big, '#', n);
	big[n - 1] = '\n';
	CHECK(cfg_load_text(&cfg, big, n, "mem.env", err, sizeof(err)) == -1);
	CHECK(strstr(err, "larger than") != NULL);
	CHECK(cfg_load_text(&cfg, big, n - 1, "mem.env", err, sizeof(err)) == 0);
	cfg_free(&cfg);
	free(big);
	free(buf);
}

static void test_ints(void)
{
	static const char *const bad[] = {
		"3", "32", "abc", "12x", " 12", "+12", "", "12 ", "\t12", "\n12", "-12", "0x0c",
		"1e1", "99999999999999999999", "12.0", "-0",
	};
	char err[CFG_ERR_MAX];
	struct config cfg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused("BCRYPT_COST", bad[i]);
	accepted("BCRYPT_COST", "4");
	accepted("BCRYPT_COST", "31");

	/* The message says what is allowed and where the value came from. */
	CHECK(load_with("BCRYPT_COST", "3", err) == -1);
	CHECK(strstr(err, "4") != NULL && strstr(err, "31") != NULL);
	CHECK(strstr(err, "environment") != NULL);

	refused("ACCESS_TOKEN_TTL", "29");
	accepted("ACCESS_TOKEN_TTL", "86400");
	refused("ACCESS_TOKEN_TTL", "86401");
	refused("REFRESH_REUSE_INTERVAL", "-1");
	refused("REFRESH_REUSE_INTERVAL", "301");
	refused("PASSWORD_MIN_LENGTH", "0");
	refused("PASSWORD_MIN_LENGTH", "129");
	refused("HTTP_PORT", "0");
	refused("HTTP_PORT", "65536");
	refused("HTTPS_PORT", "-443");
	refused("MAX_BODY_BYTES", "1023");
	refused("DATA_MAX_VALUE_BYTES", "15");
	refused("DATA_MAX_KEYS", "0");
	refused("LOGIN_MAX_FAILURES", "0");
	refused("LOGIN_MAX_FAILURES", "10001"); /* one row holds the failures: bounded */
	refused("CACHE_TTL", "86401");

	/* Leading zeros are still decimal, not octal. */
	reset_env();
	setenv("BCRYPT_COST", "010", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK(cfg.bcrypt_cost == 10);
	cfg_free(&cfg);
	reset_env();
}

static void test_rates(void)
{
	static const char *const bad[] = {
		"0/60", "20/", "/60", "20/0", "abc", "20", "/", "", "00", "20/60/1", "-1/60",
		"20/-60", " 20/60", "20 /60", "20/ 60", "20/\t60", "+20/60", "20/+60", "20/60 ",
		"20:60", "1/2592001", "99999999999999999999/60",
	};
	struct config cfg;
	char err[CFG_ERR_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused("RATE_LIMIT_AUTH", bad[i]);
	refused("RATE_LIMIT_API", "20/0");
	refused("RATE_LIMIT_API", "x");

	reset_env();
	setenv("RATE_LIMIT_AUTH", "20/60", 1);
	setenv("RATE_LIMIT_API", "0", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK(cfg.rate_limit_auth.limit == 20 && cfg.rate_limit_auth.window == 60);
	CHECK(cfg.rate_limit_api.limit == 0 && cfg.rate_limit_api.window == 0);
	cfg_free(&cfg);
	setenv("RATE_LIMIT_AUTH", "1/2592000", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK(cfg.rate_limit_auth.limit == 1 && cfg.rate_limit_auth.window == 2592000);
	cfg_free(&cfg);
	reset_env();
}

static void test_enums(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX];

	refused("JWT_ALGORITHM", "none");
	refused("JWT_ALGORITHM", "None");
	refused("JWT_ALGORITHM", "RS256");
	refused("JWT_ALGORITHM", "ES256");
	refused("JWT_ALGORITHM", "hs256");
	refused("JWT_ALGORITHM", "HS256 ");
	refused("JWT_ALGORITHM", "");
	refused("LOG_LEVEL", "verbose");
	refused("LOG_LEVEL", "INFO");
	refused("LOG_LEVEL", "");
	refused("WEB_SERVER", "nginx");

	reset_env();
	setenv("JWT_ALGORITHM", "HS384", 1);
	setenv("LOG_LEVEL", "error", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK(cfg.jwt_algorithm == CFG_JWT_HS384);
	CHECK(cfg.log_level == LOG_ERROR);
	cfg_free(&cfg);
	setenv("JWT_ALGORITHM", "HS512", 1);
	setenv("LOG_LEVEL", "warn", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK(cfg.jwt_algorithm == CFG_JWT_HS512);
	CHECK_STR(cfg_jwt_alg_name(cfg.jwt_algorithm), "HS512");
	CHECK(cfg.log_level == LOG_WARN);
	cfg_free(&cfg);
	setenv("LOG_LEVEL", "debug", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK(cfg.log_level == LOG_DEBUG);
	cfg_free(&cfg);
	reset_env();
}

static void test_secrets(void)
{
	char err[CFG_ERR_MAX];
	char long_secret[300];

	/* 31 bytes: refused, naming the variable and the minimum, not echoing it. */
	CHECK(load_with("JWT_SECRET", SECRET31, err) == -1);
	CHECK(strstr(err, "JWT_SECRET") != NULL);
	CHECK(strstr(err, "32") != NULL);
	CHECK(strstr(err, SECRET31) == NULL);
	CHECK(load_with("IP_HASH_SECRET", SECRET31, err) == -1);
	CHECK(strstr(err, "IP_HASH_SECRET") != NULL);
	CHECK(strstr(err, SECRET31) == NULL);
	refused("JWT_SECRET", "");
	refused("IP_HASH_SECRET", "short");
	/* 32 bytes and more are fine. */
	accepted("JWT_SECRET", SECRET32);
	accepted("IP_HASH_SECRET", SECRET32);
	memset(long_secret, 'k', sizeof(long_secret) - 1);
	long_secret[sizeof(long_secret) - 1] = '\0';
	accepted("JWT_SECRET", long_secret);

	/* Missing: the message says it is not set. */
	CHECK(load_with("JWT_SECRET", NULL, err) == -1);
	CHECK(strstr(err, "JWT_SECRET") != NULL);
	CHECK(strstr(err, "not set") != NULL);
	CHECK(load_with("IP_HASH_SECRET", NULL, err) == -1);
	CHECK(strstr(err, "IP_HASH_SECRET") != NULL);
	CHECK(strstr(err, "not set") != NULL);

	/* A control byte inside an otherwise long secret, without echoing it. */
	CHECK(load_with("JWT_SECRET", SECRET32 "\001", err) == -1);
	CHECK(strstr(err, "JWT_SECRET") != NULL);
	CHECK(strstr(err, SECRET32) == NULL);

	/* METRICS_TOKEN: optional, but at least 32 bytes when set. */
	CHECK(load_with("METRICS_TOKEN", SECRET31, err) == -1);
	CHECK(strstr(err, "METRICS_TOKEN") != NULL && strstr(err, SECRET31) == NULL);
	accepted("METRICS_TOKEN", SECRET32);
	accepted("METRICS_TOKEN", "");
	CHECK(load_with("METRICS_TOKEN", NULL, err) == 0);

	/* The other required values. */
	CHECK(load_with("DATABASE_URL", NULL, err) == -1);
	CHECK(strstr(err, "DATABASE_URL") != NULL && strstr(err, "not set") != NULL);
	CHECK(load_with("REDIS_URL", NULL, err) == -1);
	CHECK(strstr(err, "REDIS_URL") != NULL && strstr(err, "not set") != NULL);
	refused("DATABASE_URL", "");
	refused("REDIS_URL", "");
	refused("JWT_ISSUER", "");
	refused("JWT_AUDIENCE", "");
}

static void test_control_chars(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX];
	char *huge = malloc(4098);
	const char *path;

	refused("JWT_ISSUER", "a\tb");
	refused("JWT_ISSUER", "a\nb");
	refused("JWT_ISSUER", "a\rb");
	refused("JWT_ISSUER", "\033[31mred");
	refused("JWT_AUDIENCE", "a\177");
	refused("DATABASE_URL", "postgresql://x/db\n");
	refused("CORS_ALLOWED_ORIGINS", "https://a.example\r\nX: y");
	refused("TRUSTED_PROXIES", "10.0.0.1\001");
	refused("LOG_FILE", "/tmp/log\t");
	/* Non-ASCII text is not a control character. */
	accepted("JWT_ISSUER", "portcullis-\xc3\xa9");

	/* Through the .env file too. */
	reset_env();
	path = write_env("JWT_ISSUER=a\tb\n");
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, "JWT_ISSUER") != NULL);
	path = write_env("JWT_ISSUER=\"a\033b\"\n");
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, "JWT_ISSUER") != NULL);
	path = write_env("JWT_ISSUER=a\rb\n");
	CHECK(cfg_load(&cfg, path, err, sizeof(err)) == -1);
	CHECK(strstr(err, "JWT_ISSUER") != NULL);

	/* Length: 4096 bytes is the most a value may hold. */
	if (huge == NULL) {
		CHECK_MSG(0, "malloc");
		return;
	}
	memset(huge, 'o', 4097);
	huge[4096] = '\0';
	accepted("CORS_ALLOWED_ORIGINS", huge);
	huge[4096] = 'o';
	huge[4097] = '\0';
	refused("CORS_ALLOWED_ORIGINS", huge);
	free(huge);
}

static void test_get_raw(void)
{
	char out[64], err[CFG_ERR_MAX] = "";
	const char *path = write_env("DATABASE_URL=postgresql://from-file/db\nJWT_ISSUER=0123456789\n");
	const char *bad = write_env("OK=1\nbroken line\n");
	char want[128];

	reset_env();
	/* Environment first. */
	CHECK(cfg_get_raw(path, "DATABASE_URL", out, sizeof(out), err, sizeof(err)) == 1);
	CHECK_STR(out, DB_URL);
	/* Then the file. */
	unsetenv("DATABASE_URL");
	CHECK(cfg_get_raw(path, "DATABASE_URL", out, sizeof(out), err, sizeof(err)) == 1);
	CHECK_STR(out, "postgresql://from-file/db");
	CHECK(getenv("DATABASE_URL") == NULL);
	/* Unset: 0, out untouched. */
	strcpy(out, "keep");
	CHECK(cfg_get_raw(path, "LOG_FILE", out, sizeof(out), err, sizeof(err)) == 0);
	CHECK_STR(out, "keep");
	CHECK(cfg_get_raw(NULL, "LOG_FILE", out, sizeof(out), err, sizeof(err)) == 0);
	CHECK(cfg_get_raw("/nonexistent/.env", "DATABASE_URL", out, sizeof(out), err,
	    sizeof(err)) == 0);
	/* Only what is there, no defaults and no validation. */
	CHECK(cfg_get_raw(path, "BCRYPT_COST", out, sizeof(out), err, sizeof(err)) == 0);
	/* 10 bytes fit 11, not 10. */
	CHECK(cfg_get_raw(path, "JWT_ISSUER", out, 11, err, sizeof(err)) == 1);
	CHECK_STR(out, "0123456789");
	CHECK(cfg_get_raw(path, "JWT_ISSUER", out, 10, err, sizeof(err)) == -1);
	CHECK(strstr(err, "JWT_ISSUER") != NULL);
	/* A broken file is an error with its line. */
	snprintf(want, sizeof(want), "%s:2:", bad);
	CHECK(cfg_get_raw(bad, "OK", out, sizeof(out), err, sizeof(err)) == -1);
	CHECK(strstr(err, want) != NULL);
	reset_env();
}

static int n_warnings;
static int warned_bcrypt, warned_rate, warned_pwlen;

static void on_warning(const char *msg)
{
	n_warnings++;
	if (strstr(msg, "BCRYPT_COST") != NULL)
		warned_bcrypt++;
	if (strstr(msg, "RATE_LIMIT_AUTH") != NULL)
		warned_rate++;
	if (strstr(msg, "PASSWORD_MIN_LENGTH") != NULL)
		warned_pwlen++;
}

static void warnings_for(const char *name, const char *value)
{
	struct config cfg;
	char err[CFG_ERR_MAX];

	n_warnings = warned_bcrypt = warned_rate = warned_pwlen = 0;
	reset_env();
	if (name != NULL)
		setenv(name, value, 1);
	if (cfg_load(&cfg, NULL, err, sizeof(err)) != 0) {
		printf("# test bug: %s\n", err);
		n_warnings = -1;
		return;
	}
	cfg_warnings(&cfg, on_warning);
	cfg_free(&cfg);
	reset_env();
}

static void test_warnings(void)
{
	warnings_for(NULL, NULL);
	CHECK(n_warnings == 0);
	warnings_for("BCRYPT_COST", "4");
	CHECK(n_warnings == 1 && warned_bcrypt == 1);
	warnings_for("BCRYPT_COST", "9");
	CHECK(n_warnings == 1 && warned_bcrypt == 1);
	warnings_for("BCRYPT_COST", "10");
	CHECK(n_warnings == 0);
	warnings_for("RATE_LIMIT_AUTH", "0");
	CHECK(n_warnings == 1 && warned_rate == 1);
	warnings_for("PASSWORD_MIN_LENGTH", "7");
	CHECK(n_warnings == 1 && warned_pwlen == 1);
	warnings_for("PASSWORD_MIN_LENGTH", "8");
	CHECK(n_warnings == 0);
}

static void test_free(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX];

	reset_env();
	setenv("LOG_FILE", "/tmp/x.log", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	cfg_free(&cfg);
	CHECK(cfg.database_url == NULL && cfg.jwt_secret == NULL && cfg.ip_hash_secret == NULL);
	CHECK(cfg.web_server == NULL && cfg.log_file == NULL && cfg.jwt_issuer == NULL);
	CHECK(cfg.bcrypt_cost == 0);
	cfg_free(&cfg); /* twice: a crash or an ASan report here fails the test */
	CHECK(cfg.database_url == NULL);
	reset_env();
}

static void test_default_env_file(void)
{
	char out[PATH_MAX + 16], exe[PATH_MAX], want[PATH_MAX + 16];
	ssize_t n;
	char *slash;

	reset_env();
	setenv("PORTCULLIS_ENV_FILE", "/etc/portcullis/env", 1);
	CHECK(cfg_default_env_file("/whatever/bin/x", out, sizeof(out)) == 0);
	CHECK_STR(out, "/etc/portcullis/env");
	/* 19 bytes need 20. */
	CHECK(cfg_default_env_file(NULL, out, 20) == 0);
	CHECK_STR(out, "/etc/portcullis/env");
	CHECK(cfg_default_env_file(NULL, out, 19) == -1);

	/* Unset or empty: `.env` in the parent of the binary's directory. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(n > 0);
	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash != NULL)
		*slash = '\0';
	snprintf(want, sizeof(want), "%s/../.env", exe);
	setenv("PORTCULLIS_ENV_FILE", "", 1);
	CHECK(cfg_default_env_file("ignored", out, sizeof(out)) == 0);
	CHECK_STR(out, want);
	unsetenv("PORTCULLIS_ENV_FILE");
	CHECK(cfg_default_env_file(NULL, out, sizeof(out)) == 0);
	CHECK_STR(out, want);
	CHECK(cfg_default_env_file(NULL, out, 4) == -1);
	reset_env();
}



/* _FILE twins: the file's content less one trailing newline is the value. */
static void test_secret_files(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX], out[128];
	const char *with_nl = write_env(SECRET32 "\n");
	const char *with_crlf = write_env(SECRET32 "\r\n");
	const char *short_nl = write_env(SECRET31 "\n");
	const char *two_nl = write_env(SECRET31 "\n\n");
	const char *nul = write_env_n(SECRET32 "\0" SECRET32, 65);
	const char *url = write_env(DB_URL "\n");

	reset_env();
	unsetenv("JWT_SECRET");
	setenv("JWT_SECRET_FILE", with_nl, 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	CHECK(cfg.jwt_secret != NULL && strcmp(cfg.jwt_secret, SECRET32) == 0);
	cfg_free(&cfg);
	setenv("JWT_SECRET_FILE", with_crlf, 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0 && strcmp(cfg.jwt_secret, SECRET32) == 0);
	cfg_free(&cfg);

	setenv("JWT_SECRET_FILE", short_nl, 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) != 0);
	CHECKF(strstr(err, "JWT_SECRET (from JWT_SECRET_FILE)") != NULL && strstr(err, "got 31") != NULL,
	    "a 31-byte secret file: %s", err);
	/* Only one newline goes: a second is part of the value (and not printable). */
	setenv("JWT_SECRET_FILE", two_nl, 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) != 0 && strstr(err, "JWT_SECRET") != NULL);
	setenv("JWT_SECRET_FILE", nul, 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) != 0);
	CHECKF(strstr(err, "JWT_SECRET_FILE") != NULL && strstr(err, "NUL") != NULL, "a NUL inside: %s", err);
	setenv("JWT_SECRET_FILE", "/nonexistent/portcullis-secret", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) != 0);
	CHECKF(strstr(err, "JWT_SECRET_FILE (from environment)") != NULL &&
	    strstr(err, "No such file") != NULL, "a missing file: %s", err);
	CHECKF(strstr(err, SECRET32) == NULL, "no secret in the message: %s", err);
	setenv("JWT_SECRET_FILE", "/", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) != 0 && strstr(err, "not a regular file") != NULL);

	/* Both set: refused, naming both. */
	setenv("JWT_SECRET", SECRET32, 1);
	setenv("JWT_SECRET_FILE", with_nl, 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) != 0);
	CHECKF(strstr(err, "JWT_SECRET (from environment) and JWT_SECRET_FILE") != NULL, "both: %s", err);
	unsetenv("JWT_SECRET_FILE");

	/* URLs too, and cfg_get_raw (the migration tool's DATABASE_URL) reads the twin. */
	unsetenv("DATABASE_URL");
	setenv("DATABASE_URL_FILE", url, 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0 && strcmp(cfg.database_url, DB_URL) == 0);
	cfg_free(&cfg);
	CHECK(cfg_get_raw(NULL, "DATABASE_URL", out, sizeof(out), err, sizeof(err)) == 1 &&
	    strcmp(out, DB_URL) == 0);
	/* A plain setting has no twin: LOG_LEVEL_FILE means nothing. */
	setenv("LOG_LEVEL_FILE", "/nonexistent", 1);
	CHECK(cfg_load(&cfg, NULL, err, sizeof(err)) == 0);
	cfg_free(&cfg);
	unsetenv("LOG_LEVEL_FILE");
	reset_env();
}

/* Each row is well formed: the rest of the project reads its keys from here. */
static void test_table(void)
{
	struct cfg_key k;
	size_t n = 0, bad_name = 0, bad_desc = 0, bad_twin = 0, bad_default = 0, bad_required = 0;

	for (size_t i = 0; cfg_key_at(i, &k); i++, n++) {
		char twin[96];

		if (strspn(k.name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(k.name) ||
		    k.name[0] < 'A' || k.name[0] > 'Z')
			bad_name++;
		if (k.desc == NULL || k.desc[0] == '\0' || strchr(k.desc, '\t') != NULL ||
		    strchr(k.desc, '\n') != NULL)
			bad_desc++;
		snprintf(twin, sizeof(twin), "%s_FILE", k.name);
		if (k.twin != NULL && strcmp(k.twin, twin) != 0)
			bad_twin++;
		if ((k.flags & CFG_KEY_REQUIRED) && k.def != NULL)
			bad_required++;
		if (k.def != NULL && strcmp(k.type, "int") == 0) {
			char *end;
			long v = strtol(k.def, &end, 10);

			if (*end != '\0' || v < k.min || v > k.max)
				bad_default++;
		}
		if (k.def != NULL && strcmp(k.type, "enum") == 0) {
			int found = 0;

			for (int c = 0; k.choices != NULL && k.choices[c] != NULL; c++)
				found |= strcmp(k.choices[c], k.def) == 0;
			if (!found)
				bad_default++;
		}
		if ((k.flags & CFG_KEY_SECRET) && k.twin == NULL)
			bad_twin++;
	}
	CHECK(n >= 36);
	CHECK(!cfg_key_at(n, &k));
	CHECK_MSG(bad_name == 0, "table: every name is upper case, digits and _");
	CHECK_MSG(bad_desc == 0, "table: every key has a one-line description");
	CHECK_MSG(bad_twin == 0, "table: every twin is NAME_FILE, and every secret has one");
	CHECK_MSG(bad_required == 0, "table: a required key has no default");
	CHECK_MSG(bad_default == 0, "table: every int and enum default is one of its own values");
}

/* The stack's and compose's keys are listed, but the responders ignore them. */
static void test_stack_keys_ignored(void)
{
	struct config cfg;
	char err[CFG_ERR_MAX] = "";
	struct cfg_key k;
	int stack = 0, compose = 0, rc;

	for (size_t i = 0; cfg_key_at(i, &k); i++) {
		stack |= strcmp(k.name, "PG_PORT") == 0 && (k.flags & CFG_KEY_STACK);
		compose |= strcmp(k.name, "GRAFANA_PORT") == 0 && (k.flags & CFG_KEY_COMPOSE);
	}
	CHECK_MSG(stack && compose, "table: PG_PORT is the stack's, GRAFANA_PORT compose's");
	reset_env();
	setenv("PG_PORT", "not-a-port", 1);
	setenv("APACHE_MODE", "nonsense", 1);
	rc = cfg_load(&cfg, NULL, err, sizeof(err));
	CHECK_MSG(rc == 0, "a bad stack knob does not stop a responder");
	if (rc == 0)
		cfg_free(&cfg);
	else
		printf("#   message: %s\n", err);
	reset_env();
}

/* cfg_check_stack: the stack's knobs against their rows. */
static void test_check_stack(void)
{
	char err[CFG_ERR_MAX] = "";
	const char *path;

	reset_env();
	CHECK_MSG(cfg_check_stack(NULL, err, sizeof(err)) == 0, "cfg_check_stack: nothing set passes");
	path = write_env("PG_PORT=5432\nAPACHE_MODE=proxy-fcgi\nFCGI_PROCS=\nAPI_DOCS=on\n");
	CHECK_MSG(cfg_check_stack(path, err, sizeof(err)) == 0,
	    "cfg_check_stack: good values pass (an empty FCGI_PROCS is unset)");
	path = write_env("PG_PORT=65536\n");
	CHECK_MSG(cfg_check_stack(path, err, sizeof(err)) == -1 && strstr(err, "PG_PORT (from .env)") != NULL,
	    "cfg_check_stack: a port out of range is refused, naming it and its source");
	setenv("APACHE_MODE", "cgi", 1);
	CHECK_MSG(cfg_check_stack(NULL, err, sizeof(err)) == -1 && strstr(err, "APACHE_MODE") != NULL &&
		strstr(err, "fcgid, proxy-fcgi") != NULL,
	    "cfg_check_stack: a bad enum is refused, listing the choices");
	unsetenv("APACHE_MODE");
	setenv("FCGI_PROCS_DATA", "0", 1);
	CHECK_MSG(cfg_check_stack(NULL, err, sizeof(err)) == -1 && strstr(err, "FCGI_PROCS_DATA") != NULL,
	    "cfg_check_stack: a pool of 0 is refused");
	unsetenv("FCGI_PROCS_DATA");
	setenv("VAR_DIR", "", 1);
	CHECK_MSG(cfg_check_stack(NULL, err, sizeof(err)) == -1 && strstr(err, "VAR_DIR") != NULL,
	    "cfg_check_stack: an empty VAR_DIR (it has a default) is refused");
	unsetenv("VAR_DIR");
	setenv("GRAFANA_PORT", "not-ours", 1);
	CHECK_MSG(cfg_check_stack(NULL, err, sizeof(err)) == 0, "cfg_check_stack: compose's keys are not the stack's");
	reset_env();
}

/* cfg_env_*: the raw settings as the printing tools see them. */
static void test_env_access(void)
{
	char err[CFG_ERR_MAX] = "", source[128], *value = NULL, secret_file[64];
	const char *path, *src = NULL, *key, *v;
	struct cfg_env *e;
	int rc;

	reset_env();
	unsetenv("JWT_SECRET");
	snprintf(secret_file, sizeof(secret_file), "%s", write_env(SECRET32 "\n"));
	path = write_env("BCRYPT_COST=5\nexport NOT_A_KEY=x\nBCRYPT_COST=6\n");
	CHECK(cfg_env_open(path, &e, err, sizeof(err)) == 0);
	if (e == NULL)
		return;
	CHECK(cfg_env_size(e) == 3);
	cfg_env_pair(e, 1, &key, &v);
	CHECK_STR(key, "NOT_A_KEY");
	CHECK_STR(v, "x");
	CHECK_STR(cfg_env_get(e, "BCRYPT_COST", &src), "6");
	CHECK_STR(src, ".env");
	setenv("BCRYPT_COST", "7", 1);
	CHECK_STR(cfg_env_get(e, "BCRYPT_COST", &src), "7");
	CHECK_STR(src, "environment");
	CHECK(cfg_env_get(e, "LOG_LEVEL", &src) == NULL);
	CHECK_STR(src, "default");

	setenv("JWT_SECRET_FILE", secret_file, 1);
	rc = cfg_env_value(e, "JWT_SECRET", &value, source, sizeof(source), err, sizeof(err));
	CHECK(rc == 1);
	CHECK_STR(value, SECRET32);
	CHECK_STR(source, "JWT_SECRET_FILE");
	cfg_value_free(value);
	setenv("JWT_SECRET", SECRET32, 1);
	rc = cfg_env_value(e, "JWT_SECRET", &value, source, sizeof(source), err, sizeof(err));
	CHECK_MSG(rc == -1 && value == NULL && strstr(err, "JWT_SECRET_FILE") != NULL,
	    "cfg_env_value: a key and its twin both set is an error naming the twin");
	CHECK(cfg_env_value(e, "TRUSTED_PROXIES", &value, source, sizeof(source), err,
	    sizeof(err)) == 0 && value == NULL);
	cfg_env_close(e);

	err[0] = '\0';
	path = write_env("BCRYPT_COST=5\nnot a line\n");
	CHECK(cfg_env_open(path, &e, err, sizeof(err)) == -1 && e == NULL);
	CHECK_MSG(strstr(err, ":2:") != NULL, "cfg_env_open: a malformed line is named by its number");
	CHECK(cfg_env_open("/nonexistent/dir/.env", &e, err, sizeof(err)) == 0 && cfg_env_size(e) == 0);
	cfg_env_close(e);
	cfg_value_free(NULL);
	reset_env();
}

int main(void)
{
	test_table();
	test_stack_keys_ignored();
	test_env_access();
	remove_env_files();
	test_check_stack();
	remove_env_files();
	test_load_text();
	test_defaults();
	test_every_value_set();
	test_env_wins();
	test_env_file_syntax();
	remove_env_files();
	test_env_file_malformed();
	remove_env_files();
	test_env_file_limits();
	remove_env_files();
	test_ints();
	test_rates();
	test_enums();
	test_secrets();
	test_control_chars();
	remove_env_files();
	test_get_raw();
	test_warnings();
	test_free();
	test_default_env_file();
	remove_env_files();
	test_secret_files();
	remove_env_files();
	return check_summary();
}
