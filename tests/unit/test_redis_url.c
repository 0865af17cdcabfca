/*
 * test_redis_url.c - unit tests of the REDIS_URL parsing of lib/redis.c
 * (redis_init).  No server is needed: redis_init only parses; it connects
 * on first use.
 *
 * A refused URL must leave nothing to free and an error message that never
 * quotes the URL, which may hold a password.
 */
#include "redis.h"
#include "check.h"

#include <string.h>

#define SECRET "s3cr3tPW"

static void test_full(void)
{
	struct redis r;
	char err[256] = "";

	CHECK(redis_init(&r, "redis://127.0.0.1:6380/2", err, sizeof(err)) == 0);
	CHECK_STR(r.host, "127.0.0.1");
	CHECK(r.port == 6380);
	CHECK(r.db == 2);
	CHECK(r.password == NULL);
	CHECK(r.username == NULL);
	CHECK(r.ctx == NULL);
	CHECK(r.backoff.down == 0);
	redis_close(&r);
	CHECK(r.host == NULL);
	/* Closing twice is safe. */
	redis_close(&r);
	CHECK(r.host == NULL && r.password == NULL && r.ctx == NULL);
}

static void test_defaults(void)
{
	struct redis r;
	char err[256];

	CHECK(redis_init(&r, "redis://localhost", err, sizeof(err)) == 0);
	CHECK_STR(r.host, "localhost");
	CHECK(r.port == 6379);
	CHECK(r.db == 0);
	CHECK(r.password == NULL && r.username == NULL);
	redis_close(&r);

	/* A trailing slash without a number is db 0. */
	CHECK(redis_init(&r, "redis://h/", err, sizeof(err)) == 0);
	CHECK_STR(r.host, "h");
	CHECK(r.port == 6379 && r.db == 0);
	redis_close(&r);

	CHECK(redis_init(&r, "redis://h:1/15", err, sizeof(err)) == 0);
	CHECK(r.port == 1 && r.db == 15);
	redis_close(&r);

	CHECK(redis_init(&r, "redis://h:65535", err, sizeof(err)) == 0);
	CHECK(r.port == 65535 && r.db == 0);
	redis_close(&r);
}

static void test_credentials(void)
{
	struct redis r;
	char err[256];

	/* Password only, percent-decoded. */
	CHECK(redis_init(&r, "redis://:p%40ss@h:1/0", err, sizeof(err)) == 0);
	CHECK_STR(r.password, "p@ss");
	CHECK(r.username == NULL);
	CHECK_STR(r.host, "h");
	CHECK(r.port == 1 && r.db == 0);
	redis_close(&r);
	CHECK(r.password == NULL);

	/* User and password (Redis 6 ACL). */
	CHECK(redis_init(&r, "redis://user:pw@h", err, sizeof(err)) == 0);
	CHECK_STR(r.username, "user");
	CHECK_STR(r.password, "pw");
	CHECK_STR(r.host, "h");
	CHECK(r.port == 6379);
	redis_close(&r);

	/* Encoded ':', '/' and '@' in a password; the last '@' ends the credentials. */
	CHECK(redis_init(&r, "redis://u%3Ax:a%3Ab%2Fc%40d@host:7/3", err, sizeof(err)) == 0);
	CHECK_STR(r.username, "u:x");
	CHECK_STR(r.password, "a:b/c@d");
	CHECK_STR(r.host, "host");
	CHECK(r.port == 7 && r.db == 3);
	redis_close(&r);

	CHECK(redis_init(&r, "redis://:a@b@h", err, sizeof(err)) == 0);
	CHECK_STR(r.password, "a@b");
	CHECK_STR(r.host, "h");
	redis_close(&r);

	/* An empty password after the colon is an (empty) password. */
	CHECK(redis_init(&r, "redis://:@h", err, sizeof(err)) == 0);
	CHECK_STR(r.password, "");
	CHECK(r.username == NULL);
	redis_close(&r);
}

static void test_ipv6(void)
{
	struct redis r;
	char err[256];

	CHECK(redis_init(&r, "redis://[::1]:7000", err, sizeof(err)) == 0);
	CHECK_STR(r.host, "::1");
	CHECK(r.port == 7000 && r.db == 0);
	redis_close(&r);

	CHECK(redis_init(&r, "redis://[2001:db8::5]/4", err, sizeof(err)) == 0);
	CHECK_STR(r.host, "2001:db8::5");
	CHECK(r.port == 6379 && r.db == 4);
	redis_close(&r);

	CHECK(redis_init(&r, "redis://:pw@[::1]:6390/1", err, sizeof(err)) == 0);
	CHECK_STR(r.host, "::1");
	CHECK_STR(r.password, "pw");
	CHECK(r.port == 6390 && r.db == 1);
	redis_close(&r);
}

/* `url` is refused, leaves nothing behind and does not leak `secret` (may be NULL). */
static void refused(const char *url, const char *secret)
{
	struct redis r;
	char err[256], what[160];
	int rc;

	memset(err, 0, sizeof(err));
	rc = redis_init(&r, url, err, sizeof(err));
	snprintf(what, sizeof(what), "refused: %s", url);
	CHECK_MSG(rc == -1, what);
	snprintf(what, sizeof(what), "message names REDIS_URL: %s", url);
	CHECK_MSG(strstr(err, "REDIS_URL") != NULL, what);
	snprintf(what, sizeof(what), "nothing left to free: %s", url);
	CHECK_MSG(r.host == NULL && r.password == NULL && r.username == NULL && r.ctx == NULL,
	    what);
	/* (Skipped for "" and the bare scheme, which any message may contain.) */
	if (strlen(url) > strlen("redis://")) {
		snprintf(what, sizeof(what), "message does not quote the URL: %s", url);
		CHECK_MSG(strstr(err, url) == NULL, what);
	}
	if (secret != NULL) {
		snprintf(what, sizeof(what), "message does not hold the password: %s", url);
		CHECK_MSG(strstr(err, secret) == NULL, what);
	}
	if (rc == 0)
		redis_close(&r);
}

static void test_refused(void)
{
	refused("http://x", NULL);
	refused("rediss://x", NULL);
	refused("REDIS://x", NULL);
	refused("rediss://h:6380/0", NULL); /* TLS is not supported */
	refused("", NULL);
	refused("redis://", NULL);
	refused("redis:///0", NULL);
	refused("redis://:6379", NULL);
	refused("redis://h:0", NULL);
	refused("redis://h:70000", NULL);
	refused("redis://h:65536", NULL);
	refused("redis://h:12ab", NULL);
	refused("redis://h:-1", NULL);
	refused("redis://h:+80", NULL);
	refused("redis://h:", NULL);
	refused("redis://h:99999999999999999999", NULL);
	refused("redis://h/x", NULL);
	refused("redis://h/-1", NULL);
	refused("redis://h/1/2", NULL);
	refused("redis://h/0x1", NULL);
	refused("redis://[::1", NULL);
	refused("redis://[::1]x", NULL);
	refused("redis://[]:1", NULL);
	/* Credentials need a colon. */
	refused("redis://" SECRET "@h", SECRET);
	refused("redis://u@h", NULL);
	/* Bad escapes in the credentials, including a decoded NUL. */
	refused("redis://:" SECRET "%zz@h", SECRET);
	refused("redis://:" SECRET "%4@h", SECRET);
	refused("redis://:" SECRET "%@h", SECRET);
	refused("redis://:" SECRET "%00@h", SECRET);
	refused("redis://us%zzer:" SECRET "@h", SECRET);
	/* Otherwise fine credentials with a bad host part must not leak either. */
	refused("redis://:" SECRET "@h:bad", SECRET);
	refused("redis://user:" SECRET "@h/db", SECRET);
	refused("redis://user:" SECRET "@", SECRET);
}

static void test_unix(void)
{
	struct redis r;
	char err[256] = "";
	char longpath[200];

	CHECK(redis_init(&r, "unix:///run/redis/redis.sock", err, sizeof(err)) == 0);
	CHECK_STR(r.unix_path, "/run/redis/redis.sock");
	CHECK(r.host == NULL && r.db == 0 && r.password == NULL && r.username == NULL);
	redis_close(&r);
	CHECK(r.unix_path == NULL);

	CHECK(redis_init(&r, "unix://:p%40ss@/tmp/r.sock?db=3", err, sizeof(err)) == 0);
	CHECK_STR(r.unix_path, "/tmp/r.sock");
	CHECK_STR(r.password, "p@ss");
	CHECK(r.username == NULL && r.db == 3);
	redis_close(&r);

	CHECK(redis_init(&r, "unix://u:" SECRET "@/tmp/r.sock", err, sizeof(err)) == 0);
	CHECK_STR(r.username, "u");
	CHECK_STR(r.password, SECRET);
	redis_close(&r);

	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "unix:///", 8);
	longpath[sizeof(longpath) - 1] = '\0';
	{
		static const char *bad[] = {
			"unix://", "unix:///", "unix://relative.sock", "unix://host/tmp/r.sock",
			"unix://" SECRET "@/tmp/r.sock", "unix:///tmp/r.sock?db=x", "unix:///tmp/r.sock?db=",
			"unix:///tmp/r.sock?foo=1", "unix:///tmp/r%00.sock", "unix:///tmp/r.sock?db=1000001",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			err[0] = '\0';
			CHECK_MSG(redis_init(&r, bad[i], err, sizeof(err)) == -1 && err[0] != '\0' &&
				strstr(err, SECRET) == NULL && r.unix_path == NULL && r.password == NULL,
			    bad[i]);
		}
		CHECK_MSG(redis_init(&r, longpath, err, sizeof(err)) == -1,
		    "a socket path longer than sun_path is refused");
	}
}

int main(void)
{
	test_unix();
	test_full();
	test_defaults();
	test_credentials();
	test_ipv6();
	test_refused();
	return check_summary();
}
