/*
 * test_auth.c - unit tests of lib/auth.c without Redis or PostgreSQL: the
 * token taken from `Authorization: Bearer` or the `__Host-access` cookie,
 * the cross-site rule of cookie-authenticated writes, the 401/503 answers,
 * and the decisions of auth_begin / queue / finish over real tokens
 * (token_issue) and fakes of the revocation check and the request's Redis
 * pipe.
 *
 * The file includes auth.c itself (as test_cache_memory.c does) to reach
 * its static helpers and to put the fakes in place of Redis and the
 * revocation module.
 */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fake_io.h"

#define revoke_from_reply fake_revoke_from_reply
#define revoke_check_postgres fake_revoke_check_postgres
#define redis_synced fake_redis_synced
#define redis_pipe_append fake_pipe_append
#define redis_pipe_flush fake_pipe_flush
#define redis_pipe_reply fake_pipe_reply
#include "auth.c"
#undef revoke_from_reply
#undef revoke_check_postgres
#undef redis_synced
#undef redis_pipe_append
#undef redis_pipe_flush
#undef redis_pipe_reply

#define HASH_KEY "0123456789abcdef0123456789abcdef"
#define USER "6b1e1f7a-54f3-4a0e-9d2e-1c9a3f5b7d10"
#define SID "0b5c6a5e-3f1d-4c8e-9a51-2f7b8c0d1e23"

/* ---- the fakes ---- */

static struct {
	enum revoke_state state;  /* what every revocation check answers */
	int pg_checks, reply_checks;
	int synced;               /* redis_synced answers a context */
	int appends, flushes;
	int argc;
	char argv[8][96];
	redisReply *mget;         /* what the pipe answers for the MGET */
} fake;

enum revoke_state fake_revoke_from_reply(struct app *app, const char *sid, const redisReply *rv,
    const redisReply *ready)
{
	(void)app;
	(void)sid;
	(void)rv;
	(void)ready;
	fake.reply_checks++;
	return fake.state;
}

enum revoke_state fake_revoke_check_postgres(struct app *app, const char *sid)
{
	(void)app;
	(void)sid;
	fake.pg_checks++;
	return fake.state;
}

static redisContext fake_ctx;

redisContext *fake_redis_synced(struct redis *r)
{
	(void)r;
	return fake.synced ? &fake_ctx : NULL;
}

int fake_pipe_append(struct redis *r, struct redis_pipe *p, int argc, const char **argv,
    const size_t *lens)
{
	(void)r;
	(void)p;
	(void)lens;
	fake.appends++;
	fake.argc = argc;
	for (int i = 0; i < argc && i < 8; i++)
		snprintf(fake.argv[i], sizeof(fake.argv[i]), "%s", argv[i]);
	return 0;
}

int fake_pipe_flush(struct redis *r, struct redis_pipe *p)
{
	(void)r;
	(void)p;
	fake.flushes++;
	return 0;
}

redisReply *fake_pipe_reply(const struct redis_pipe *p, int i)
{
	(void)p;
	return i == 0 ? fake.mget : NULL;
}

/* ---- a request ---- */

static char secret[] = "auth-test-secret-0123456789abcdef-0123456789abcdef";
static char issuer[] = "https://auth.example.test";
static char audience[] = "portcullis-api";
static char origins[] = " https://app.example.test , https://other.example.test";
static char origins_trailing[] = "https://other.example.test,";
static int app_origins_trailing; /* the list ends in a comma */

static struct fake_io f;
static struct request req;
static struct response resp;
static struct app app;
static struct ctx c;

/* A fresh request with the CGI parameters `params` (name, value pairs, NULL-ended). */
static void start(const char *method, const char *const *params)
{
	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", method);
	fake_io_param(&f, "REQUEST_URI", "/api/me");
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.10");
	for (int i = 0; params != NULL && params[i] != NULL; i += 2)
		fake_io_param(&f, params[i], params[i + 1]);
	req_init(&req, &f.io, NULL, HASH_KEY, strlen(HASH_KEY));
	resp_init(&resp);
	memset(&app, 0, sizeof(app));
	app.cfg.jwt_secret = secret;
	app.cfg.jwt_algorithm = CFG_JWT_HS256;
	app.cfg.jwt_issuer = issuer;
	app.cfg.jwt_audience = audience;
	app.cfg.access_token_ttl = 300;
	app.cfg.cors_allowed_origins = app_origins_trailing ? origins_trailing : origins;
	app.redis.synced = 1;
	memset(&c, 0, sizeof(c));
	c.app = &app;
	c.cfg = &app.cfg;
	c.req = &req;
	c.resp = &resp;
	memset(&fake, 0, sizeof(fake));
	fake.synced = 1;
}

static void finish(void)
{
	resp_free(&resp);
	req_free(&req);
}

/* A valid access token of USER in SID (malloc'd). */
static char *token(void)
{
	struct config cfg;
	char *jwt = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.jwt_secret = secret;
	cfg.jwt_algorithm = CFG_JWT_HS256;
	cfg.jwt_issuer = issuer;
	cfg.jwt_audience = audience;
	cfg.access_token_ttl = 300;
	if (token_issue(&cfg, USER, SID, (long)time(NULL), &jwt, NULL) != 0)
		abort();
	return jwt;
}

/* auth_token() of a request with these headers: the token, "(none)", and *via. */
static const char *token_of(const char *authorization, const char *cookie, int *via)
{
	static char out[64];
	const char *params[] = { "HTTP_AUTHORIZATION", authorization, "HTTP_COOKIE", cookie, NULL };
	const char *const *p = params;
	const char *rest[] = { "HTTP_COOKIE", cookie, NULL };

	if (authorization == NULL)
		p = cookie != NULL ? rest : NULL;
	else if (cookie == NULL)
		params[2] = NULL;
	start("GET", p);
	*via = -1;
	if (!auth_token(&req, out, sizeof(out), via))
		snprintf(out, sizeof(out), "(none)");
	finish();
	return out;
}

/* ---- the tests ---- */

static void test_token_sources(void)
{
	char small[4];
	int via;

	CHECK_STR(token_of("Bearer abc.def.ghi", NULL, &via), "abc.def.ghi");
	CHECK(via == 0);
	CHECK_STR(token_of("bearer   abc ", NULL, &via), "abc");
	CHECK_MSG(via == 0, "the scheme is case-insensitive, blanks around the token go");
	CHECK_STR(token_of("Bearer ", NULL, &via), "(none)");
	CHECK_STR(token_of("Bearer    ", NULL, &via), "(none)");
	CHECK_STR(token_of("Basic dXNlcjpwdw==", NULL, &via), "(none)");
	CHECK_STR(token_of("Bearerabc", NULL, &via), "(none)");
	CHECK_STR(token_of(NULL, "__Host-access=ck.tok.en", &via), "ck.tok.en");
	CHECK_MSG(via == 1, "from the cookie: via_cookie");
	CHECK_STR(token_of(NULL, "a=1; __Host-access=ck; b=2", &via), "ck");
	CHECK_STR(token_of(NULL, "__Host-access=", &via), "(none)");
	CHECK_STR(token_of(NULL, "access=ck", &via), "(none)");
	CHECK_MSG(strcmp(token_of("Bearer hdr", "__Host-access=ck", &via), "hdr") == 0 && via == 0,
	    "the header wins over the cookie");
	CHECK_MSG(strcmp(token_of("Basic x", "__Host-access=ck", &via), "ck") == 0 && via == 1,
	    "another scheme falls back to the cookie");
	CHECK_STR(token_of(NULL, NULL, &via), "(none)");
	CHECK(via == 0);

	/* A token that does not fit is none (never cut). */
	start("GET", (const char *[]){ "HTTP_AUTHORIZATION", "Bearer abcd", NULL });
	CHECK(auth_token(&req, small, sizeof(small), &via) == 0);
	CHECK(auth_has_bearer(&req) == 1);
	finish();
	start("GET", (const char *[]){ "HTTP_AUTHORIZATION", "Bearer abc", NULL });
	CHECK(auth_token(&req, small, sizeof(small), &via) == 1 && strcmp(small, "abc") == 0);
	finish();
	start("GET", (const char *[]){ "HTTP_COOKIE", "__Host-access=abcd", NULL });
	CHECK_MSG(auth_token(&req, small, sizeof(small), &via) == 0, "a cookie that does not fit is none");
	CHECK(auth_has_bearer(&req) == 0);
	finish();
}

static void test_origin_listed(void)
{
	static const char *const no = NULL;

	CHECK(origin_listed("https://a.test", "https://a.test"));
	CHECK(origin_listed(" https://a.test ,\thttps://b.test\t", "https://b.test"));
	CHECK(origin_listed("https://a.test,https://b.test", "https://a.test"));
	CHECK_MSG(!origin_listed("https://a.test", "https://a.tes"), "a prefix is not the origin");
	CHECK_MSG(!origin_listed("https://a.test", "https://a.test.evil"), "nor is a longer one");
	CHECK_MSG(!origin_listed("https://A.test", "https://a.test"), "origins compare exactly");
	CHECK(!origin_listed("", "https://a.test"));
	CHECK(!origin_listed(no, "https://a.test"));
	CHECK_MSG(!origin_listed("https://a.test,,", ""), "an empty entry lets no empty Origin through");
}

/* auth_refuse_cross_site() of `method` with Origin `origin`; the status answered (0: none). */
static int cross_site(const char *method, const char *origin, int cookie_auth)
{
	const char *params[] = { "HTTP_HOST", "api.example.test", "HTTP_ORIGIN", origin, NULL };
	int status;

	if (origin == NULL)
		params[2] = NULL;
	start(method, params);
	status = auth_refuse_cross_site(&c, cookie_auth) ? resp.status : 0;
	if (status != 0 && (resp.body == NULL || strstr(resp.body, "\"origin_not_allowed\"") == NULL))
		status = -1;
	finish();
	return status;
}

static void test_cross_site(void)
{
	CHECK_MSG(cross_site("POST", "https://evil.test", 1) == 403, "a foreign origin's cookie POST: 403");
	CHECK(cross_site("PUT", "https://evil.test", 1) == 403);
	CHECK(cross_site("DELETE", "https://evil.test", 1) == 403);
	CHECK_MSG(cross_site("GET", "https://evil.test", 1) == 0, "a read is never refused");
	CHECK_MSG(cross_site("POST", "https://evil.test", 0) == 0, "a bearer-authenticated write is not refused");
	CHECK_MSG(cross_site("POST", NULL, 1) == 0, "no Origin: not cross-site");
	CHECK_MSG(cross_site("POST", "https://api.example.test", 1) == 0, "the server's own origin");
	CHECK_MSG(cross_site("POST", "http://api.example.test", 1) == 403, "its own host over http is foreign");
	CHECK_MSG(cross_site("POST", "https://other.example.test", 1) == 0, "a listed origin");
	CHECK_MSG(cross_site("POST", "null", 1) == 403, "Origin: null is foreign");
	app_origins_trailing = 1;
	CHECK_MSG(cross_site("POST", "", 1) == 403, "an empty Origin is foreign, whatever the list");
	app_origins_trailing = 0;
}

static void test_reply(void)
{
	start("GET", NULL);
	auth_reply(&c, AUTH_MISSING);
	CHECK(resp.status == 401 && strstr(resp.body, "\"unauthenticated\"") != NULL &&
	    strstr(resp.body, "authentication required") != NULL);
	finish();
	start("GET", NULL);
	auth_reply(&c, AUTH_REVOKED);
	CHECK(resp.status == 401 && strstr(resp.body, "the access token is not valid") != NULL);
	finish();
	start("GET", NULL);
	auth_reply(&c, AUTH_UNAVAILABLE);
	CHECK(resp.status == 503 && strstr(resp.body, "\"service_unavailable\"") != NULL);
	finish();
}

/* auth_begin() then auth_finish() of a request with `authorization`, Redis answering `state`. */
static enum auth_result verdict(const char *authorization, enum revoke_state state)
{
	struct auth_pending p;
	redisReply rv, ready, *elements[2], mget;
	enum auth_result r;

	memset(&rv, 0, sizeof(rv));
	rv.type = REDIS_REPLY_NIL;
	ready = rv;
	elements[0] = &rv;
	elements[1] = &ready;
	memset(&mget, 0, sizeof(mget));
	mget.type = REDIS_REPLY_ARRAY;
	mget.elements = 2;
	mget.element = elements;
	start("GET", (const char *[]){ "HTTP_AUTHORIZATION", authorization, NULL });
	fake.state = state;
	fake.mget = &mget;
	auth_begin(&c, &p);
	auth_queue(&c, &p, NULL, 0);
	r = auth_finish(&c, &p, NULL);
	if (r == AUTH_OK && (strcmp(p.a.claims.sub, USER) != 0 || strcmp(p.a.claims.sid, SID) != 0 ||
				strcmp(req.user_id, USER) != 0))
		r = (enum auth_result)-1;
	if (r != AUTH_OK && req.user_id[0] != '\0')
		r = (enum auth_result)-2;
	finish();
	return r;
}

static void test_verdicts(void)
{
	char *jwt = token(), bearer[1024];

	snprintf(bearer, sizeof(bearer), "Bearer %s", jwt);
	CHECK_MSG(verdict(bearer, REVOKE_LIVE) == AUTH_OK, "a valid token of a live session: its claims and user");
	CHECK(fake.reply_checks == 1 && fake.pg_checks == 0);
	CHECK_MSG(verdict(bearer, REVOKE_REVOKED) == AUTH_REVOKED, "a revoked session: refused, no user");
	CHECK(verdict(bearer, REVOKE_UNAVAILABLE) == AUTH_UNAVAILABLE);
	CHECK_MSG(verdict("Bearer not.a.token", REVOKE_LIVE) == AUTH_INVALID && fake.reply_checks == 0 &&
		fake.appends == 0,
	    "a bad token is refused before any revocation check");
	jwt[strlen(jwt) - 2] = jwt[strlen(jwt) - 2] == 'A' ? 'B' : 'A';
	snprintf(bearer, sizeof(bearer), "Bearer %s", jwt);
	CHECK_MSG(verdict(bearer, REVOKE_LIVE) == AUTH_INVALID, "a tampered signature is refused");
	free(jwt);
}

static void test_split(void)
{
	char *jwt = token(), cookie[1024];
	struct auth_pending p;
	const redisReply *replies[2];
	redisReply rv, ready, extra[2], *elements[4], mget;
	const char *keys[2] = { "pc:dv:x", "pc:dc:x" };

	memset(&rv, 0, sizeof(rv));
	rv.type = REDIS_REPLY_NIL;
	ready = rv;
	extra[0] = rv;
	extra[1] = rv;
	elements[0] = &rv;
	elements[1] = &ready;
	elements[2] = &extra[0];
	elements[3] = &extra[1];
	memset(&mget, 0, sizeof(mget));
	mget.type = REDIS_REPLY_ARRAY;
	mget.elements = 4;
	mget.element = elements;
	snprintf(cookie, sizeof(cookie), "__Host-access=%s", jwt);

	/* The common path: one MGET of the revocation pair and the route's keys. */
	start("GET", (const char *[]){ "HTTP_COOKIE", cookie, NULL });
	auth_begin(&c, &p);
	CHECK(p.result == AUTH_OK && p.a.via_cookie == 1 && p.index == -1);
	auth_queue(&c, &p, keys, 2);
	CHECK(fake.appends == 1 && fake.argc == 5 && p.n_extra == 2 && p.index == 0);
	{
		char rk[96];

		revoke_key(SID, rk, sizeof(rk));
		CHECK_MSG(strcmp(fake.argv[0], "MGET") == 0 && strcmp(fake.argv[1], rk) == 0 &&
			strcmp(fake.argv[2], REVOKE_READY_KEY) == 0 && strcmp(fake.argv[3], keys[0]) == 0 &&
			strcmp(fake.argv[4], keys[1]) == 0,
		    "MGET <revocation key> <ready key> <the route's keys>");
	}
	fake.mget = &mget;
	CHECK(auth_finish(&c, &p, replies) == AUTH_OK);
	CHECK(fake.flushes == 1 && fake.reply_checks == 1 && fake.pg_checks == 0);
	CHECK_MSG(replies[0] == &extra[0] && replies[1] == &extra[1], "the route gets its replies");
	CHECK_STR(req.user_id, USER);
	finish();

	/* A Redis that lost its data meanwhile: the revocation answer stands, the route's replies do not. */
	start("GET", (const char *[]){ "HTTP_COOKIE", cookie, NULL });
	auth_begin(&c, &p);
	auth_queue(&c, &p, keys, 2);
	fake.mget = &mget;
	app.redis.synced = 0;
	CHECK(auth_finish(&c, &p, replies) == AUTH_OK);
	CHECK_MSG(replies[0] == NULL && replies[1] == NULL, "replies of an unsynced Redis are not used");
	finish();

	/* A reply of the wrong shape, or none: PostgreSQL answers for the revocation. */
	start("GET", (const char *[]){ "HTTP_COOKIE", cookie, NULL });
	auth_begin(&c, &p);
	auth_queue(&c, &p, keys, 1);
	fake.mget = &mget; /* 4 elements where 3 were asked for */
	replies[0] = &rv;
	CHECK(auth_finish(&c, &p, replies) == AUTH_OK);
	CHECK(fake.pg_checks == 1 && fake.reply_checks == 0 && replies[0] == NULL);
	finish();

	/* Redis not in sync: nothing queued, every wanted reply NULL, PostgreSQL decides. */
	start("GET", (const char *[]){ "HTTP_COOKIE", cookie, NULL });
	fake.synced = 0;
	auth_begin(&c, &p);
	auth_queue(&c, &p, keys, 2);
	CHECK(fake.appends == 0 && p.index == -1 && p.n_wanted == 2);
	replies[0] = replies[1] = &rv;
	fake.state = REVOKE_REVOKED;
	CHECK(auth_finish(&c, &p, replies) == AUTH_REVOKED);
	CHECK_MSG(replies[0] == NULL && replies[1] == NULL && fake.pg_checks == 1,
	    "not in sync: the replies are NULL and PostgreSQL answers");
	CHECK(req.user_id[0] == '\0');
	finish();

	/* No token: nothing queued, the wanted replies NULL anyway. */
	start("GET", NULL);
	auth_begin(&c, &p);
	CHECK(p.result == AUTH_MISSING);
	auth_queue(&c, &p, keys, 2);
	CHECK(fake.appends == 0);
	replies[0] = replies[1] = &rv;
	CHECK(auth_finish(&c, &p, replies) == AUTH_MISSING);
	CHECK_MSG(fake.flushes == 0 && fake.pg_checks == 0, "no token: no round trip at all");
	finish();

	/* More keys than AUTH_EXTRA_MAX are refused. */
	start("GET", (const char *[]){ "HTTP_COOKIE", cookie, NULL });
	auth_begin(&c, &p);
	auth_queue(&c, &p, keys, AUTH_EXTRA_MAX + 1);
	CHECK(fake.appends == 0 && p.n_wanted == 0);
	finish();
	start("GET", (const char *[]){ "HTTP_COOKIE", "__Host-access=garbage", NULL });
	auth_begin(&c, &p);
	CHECK(p.result == AUTH_INVALID && p.a.via_cookie == 1);
	finish();
	free(jwt);
}

int main(void)
{
	test_token_sources();
	test_origin_listed();
	test_cross_site();
	test_reply();
	test_verdicts();
	test_split();
	return check_summary();
}
