/*
 * redis.c - see redis.h.
 */
#include "redis.h"
#include "crypto.h"
#include "redis_sentinel.h"

#include "log.h"
#include "metrics.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Percent-decoded copy of [s, s+n); NULL if malformed or out of memory. */
static char *decode_dup(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n || (hi = crypto_hex_digit(s[i + 1])) < 0 ||
			    (lo = crypto_hex_digit(s[i + 2])) < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int parse_int(const char *s, size_t n, long min, long max, int *out)
{
	long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* `[user]:password@` of a URL, from p up to at: into r (percent-decoded). */
static int parse_credentials(struct redis *r, const char *p, const char *at)
{
	const char *c = memchr(p, ':', (size_t)(at - p));

	if (c == NULL)
		return -1;
	if (c > p && (r->username = decode_dup(p, (size_t)(c - p))) == NULL)
		return -1;
	if ((r->password = decode_dup(c + 1, (size_t)(at - c - 1))) == NULL)
		return -1;
	return 0;
}

/*
 * unix://[[user]:password@]/path/to/redis.sock[?db=N] (after "unix://"):
 * a server on this host, over its unix socket.
 */
static int parse_unix(struct redis *r, const char *p)
{
	const char *path = strchr(p, '/'), *query, *at;
	size_t len;

	if (path == NULL)
		return -1;
	at = memrchr(p, '@', (size_t)(path - p));
	if (at != NULL ? at + 1 != path || parse_credentials(r, p, at) != 0 : path != p)
		return -1;
	query = strchr(path, '?');
	len = query != NULL ? (size_t)(query - path) : strlen(path);
	if (len < 2 || len >= REDIS_UNIX_PATH_MAX)
		return -1;
	if (query != NULL &&
	    (strncmp(query, "?db=", 4) != 0 || parse_int(query + 4, strlen(query + 4), 0, 1000000, &r->db) != 0))
		return -1;
	if ((r->unix_path = decode_dup(path, len)) == NULL)
		return -1;
	return 0;
}

int redis_init(struct redis *r, const char *url, char *err, size_t errlen)
{
	static const char scheme[] = "redis://", unix_scheme[] = "unix://";
	const char *p, *at, *hostend, *slash, *colon;

	memset(r, 0, sizeof(*r));
	r->port = 6379;
	if (strncmp(url, unix_scheme, sizeof(unix_scheme) - 1) == 0) {
		if (parse_unix(r, url + sizeof(unix_scheme) - 1) == 0)
			return 0;
		snprintf(err, errlen, "REDIS_URL: not of the form unix://[[user]:password@]/path/to/socket[?db=N]");
		redis_close(r);
		return -1;
	}
	if (strncmp(url, scheme, sizeof(scheme) - 1) != 0) {
		snprintf(err, errlen, "REDIS_URL: must start with redis:// or unix:// (TLS is not supported)");
		return -1;
	}
	p = url + sizeof(scheme) - 1;
	slash = strchr(p, '/');
	hostend = slash != NULL ? slash : p + strlen(p);
	at = memrchr(p, '@', (size_t)(hostend - p));
	if (at != NULL) {
		if (memchr(p, ':', (size_t)(at - p)) == NULL) {
			snprintf(err, errlen, "REDIS_URL: credentials must be [user]:password@");
			goto fail;
		}
		if (parse_credentials(r, p, at) != 0)
			goto bad;
		p = at + 1;
	}
	if (*p == '[') { /* [IPv6]:port */
		const char *close = memchr(p, ']', (size_t)(hostend - p));

		if (close == NULL)
			goto bad;
		r->host = strndup(p + 1, (size_t)(close - p - 1));
		colon = close + 1 < hostend && close[1] == ':' ? close + 1 : NULL;
		if (colon == NULL && close + 1 != hostend)
			goto bad;
	} else {
		colon = memchr(p, ':', (size_t)(hostend - p));
		r->host = strndup(p, (size_t)((colon != NULL ? colon : hostend) - p));
	}
	if (r->host == NULL || r->host[0] == '\0')
		goto bad;
	if (colon != NULL && parse_int(colon + 1, (size_t)(hostend - colon - 1), 1, 65535, &r->port) != 0)
		goto bad;
	if (slash != NULL && slash[1] != '\0' &&
	    parse_int(slash + 1, strlen(slash + 1), 0, 1000000, &r->db) != 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "REDIS_URL: not of the form redis://[[user]:password@]host[:port][/db]");
fail:
	redis_close(r);
	return -1;
}

static void set_state(struct redis *r, int down)
{
	if (down) {
		r->outage_seen = 1;
		metrics_backend_error(METRICS_REDIS_BACKEND);
		backoff_fail(&r->backoff, "redis", REDIS_RETRY_MS);
	} else {
		backoff_ok(&r->backoff, "redis");
	}
}

static void drop(struct redis *r)
{
	if (r->ctx != NULL)
		redisFree(r->ctx);
	r->ctx = NULL;
	r->synced = 0;
}

void redis_fail(struct redis *r)
{
	drop(r);
	set_state(r, 1);
}

void redis_retry_now(struct redis *r)
{
	backoff_skip(&r->backoff);
}

/* An idle connection with something to read has been closed by the server. */
static int idle_conn_is_closed(redisContext *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	return poll(&pfd, 1, 0) != 0;
}

/* Runs a setup command on a fresh context; 0 when it answered +OK. */
static int setup_command(redisContext *c, int argc, const char **argv)
{
	redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
	int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;

	if (rep != NULL && rep->type == REDIS_REPLY_ERROR) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "backend", "redis");
		cJSON_AddStringToObject(f, "command", argv[0]);
		cJSON_AddStringToObject(f, "error", rep->str);
		log_event(LOG_ERROR, "redis setup command refused", f);
	}
	freeReplyObject(rep);
	return ok ? 0 : -1;
}

/*
 * With Sentinels: points r->host/port at the master they name now.  A
 * different master than the one used before counts as an outage (see
 * redis_sentinel.h).  0, or -1 when no Sentinel answers.
 */
static int locate_master(struct redis *r)
{
	char host[REDIS_HOST_MAX];
	int port;
	char *copy;

	if (redis_sentinel_locate(r, host, sizeof(host), &port) != 0)
		return -1;
	if (r->host != NULL && strcmp(r->host, host) == 0 && r->port == port)
		return 0;
	if ((copy = strdup(host)) == NULL)
		return -1;
	if (r->host != NULL) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "backend", "redis");
		cJSON_AddStringToObject(f, "master", copy);
		cJSON_AddNumberToObject(f, "port", port);
		log_event(LOG_WARN, "redis master changed", f);
		r->outage_seen = 1;
	}
	free(r->host);
	r->host = copy;
	r->port = port;
	return 0;
}

/* With Sentinels: 0 when the fresh connection's server says it is a master. */
static int check_role(struct redis *r)
{
	const char *argv[] = { "ROLE" };
	redisReply *rep;
	int ok;

	if (r->nsentinels == 0)
		return 0;
	rep = redisCommandArgv(r->ctx, 1, argv, NULL);
	ok = redis_role_is_master(rep);
	if (!ok && rep != NULL) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "backend", "redis");
		cJSON_AddStringToObject(f, "master", r->host);
		cJSON_AddNumberToObject(f, "port", r->port);
		log_event(LOG_WARN, "redis server named by the sentinels is not a master", f);
	}
	freeReplyObject(rep);
	return ok ? 0 : -1;
}

static void set_check_at(struct redis *r, long ms)
{
	backoff_deadline(&r->check_at, ms);
}

/*
 * With Sentinels, at most every REDIS_SENTINEL_CHECK_MS: 1 when they now
 * name another master than the live connection's (locate_master() has
 * then moved r->host and flagged the change).  Sentinels that do not
 * answer leave a working connection alone.
 */
static int master_moved(struct redis *r)
{
	char *was;
	int was_port, moved;

	if (r->nsentinels == 0 || backoff_ms_left(&r->check_at) > 0)
		return 0;
	set_check_at(r, REDIS_SENTINEL_CHECK_MS);
	if ((was = strdup(r->host)) == NULL)
		return 0;
	was_port = r->port;
	if (locate_master(r) != 0) {
		/* No Sentinel answers: keep the master, ask less often. */
		set_check_at(r, 8 * REDIS_SENTINEL_CHECK_MS);
		moved = 0;
	} else {
		moved = strcmp(was, r->host) != 0 || was_port != r->port;
	}
	free(was);
	return moved;
}

/* A -READONLY reply: the server was demoted under our connection. */
static int is_readonly(const redisReply *rep)
{
	return rep != NULL && rep->type == REDIS_REPLY_ERROR && rep->len >= 8 &&
	    strncmp(rep->str, "READONLY", 8) == 0;
}

redisContext *redis_conn(struct redis *r)
{
	struct timeval ct = { 0, REDIS_CONNECT_TIMEOUT_MS * 1000 };
	struct timeval rt = { 0, REDIS_COMMAND_TIMEOUT_MS * 1000 };
	char dbtext[16];
	const char *stage = "sentinels";

	if (r->ctx != NULL) {
		if (r->ctx->err == 0 && (r->live_checked || !idle_conn_is_closed(r->ctx)) &&
		    !master_moved(r)) {
			r->live_checked = 1;
			return r->ctx;
		}
		drop(r);
	}
	if (!backoff_may_try(&r->backoff))
		return NULL;
	ct.tv_sec = ct.tv_usec / 1000000;
	ct.tv_usec %= 1000000;
	rt.tv_sec = rt.tv_usec / 1000000;
	rt.tv_usec %= 1000000;
	if (r->nsentinels > 0 && locate_master(r) != 0)
		goto fail;
	stage = "connect";
	r->ctx = r->unix_path != NULL ? redisConnectUnixWithTimeout(r->unix_path, ct)
				      : redisConnectWithTimeout(r->host, r->port, ct);
	if (r->ctx == NULL || r->ctx->err != 0 || redisSetTimeout(r->ctx, rt) != REDIS_OK)
		goto fail;
	stage = "setup";
	if (r->password != NULL) {
		const char *auth2[] = { "AUTH", r->password };
		const char *auth3[] = { "AUTH", r->username, r->password };

		if (setup_command(r->ctx, r->username != NULL ? 3 : 2,
			r->username != NULL ? auth3 : auth2) != 0)
			goto fail;
	}
	if (r->db != 0) {
		const char *sel[] = { "SELECT", dbtext };

		snprintf(dbtext, sizeof(dbtext), "%d", r->db);
		if (setup_command(r->ctx, 2, sel) != 0)
			goto fail;
	}
	stage = "role";
	if (check_role(r) != 0)
		goto fail;
	if (r->nsentinels > 0) {
		set_check_at(r, REDIS_SENTINEL_CHECK_MS);
		/*
		 * Another process may still write to the old master for up to
		 * its own check interval after a switchover, and what it wrote
		 * there is lost when that master is demoted: bring this one up
		 * to date once more when that time has passed (a revocation is
		 * recorded in PostgreSQL before it is sent to Redis).
		 */
		backoff_deadline(&r->resync_at, REDIS_SENTINEL_RESYNC_MS);
	}
	r->conns++;
	r->live_checked = 1;
	set_state(r, 0);
	r->synced = r->on_connect == NULL || r->on_connect(r, r->on_connect_arg) == 0;
	return r->ctx;
fail:
	if (log_enabled(LOG_DEBUG)) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "backend", "redis");
		cJSON_AddStringToObject(f, "stage", stage);
		if (r->ctx != NULL && r->ctx->err != 0)
			cJSON_AddStringToObject(f, "error", r->ctx->errstr);
		log_event(LOG_DEBUG, "redis connect failed", f);
	}
	drop(r);
	set_state(r, 1);
	return NULL;
}

void redis_request_begin(struct redis *r)
{
	r->live_checked = 0;
}

/* 1 when this connection's one resync (a zero resync_at: none) is due. */
static int resync_due(const struct redis *r)
{
	return (r->resync_at.tv_sec != 0 || r->resync_at.tv_nsec != 0) &&
	    backoff_ms_left(&r->resync_at) <= 0;
}

redisContext *redis_synced(struct redis *r)
{
	redisContext *c = redis_conn(r);

	if (c != NULL && r->synced && resync_due(r)) {
		memset(&r->resync_at, 0, sizeof(r->resync_at));
		r->synced = 0;
		r->outage_seen = 1; /* data stamps sent to an old master are lost too: epoch on */
	}
	if (c != NULL && !r->synced && r->on_connect != NULL)
		r->synced = r->on_connect(r, r->on_connect_arg) == 0;
	return c != NULL && r->synced && r->ctx != NULL ? r->ctx : NULL;
}

redisReply *redis_command_argv(struct redis *r, int argc, const char **argv, const size_t *lens)
{
	redisContext *c = redis_conn(r);
	redisReply *rep;

	if (c == NULL)
		return NULL;
	rep = redisCommandArgv(c, argc, argv, lens);
	if (rep == NULL || is_readonly(rep)) {
		freeReplyObject(rep);
		redis_fail(r);
		return NULL;
	}
	return rep;
}

int redis_ping(struct redis *r)
{
	const char *argv[] = { "PING" };
	redisReply *rep = redis_command_argv(r, 1, argv, NULL);
	int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;

	freeReplyObject(rep);
	return ok;
}

void redis_close(struct redis *r)
{
	drop(r);
	if (r->password != NULL)
		explicit_bzero(r->password, strlen(r->password));
	free(r->password);
	free(r->username);
	free(r->host);
	free(r->unix_path);
	redis_sentinel_close(r);
	for (int i = 0; i < r->nsentinels; i++)
		free(r->sentinels[i].host);
	free(r->master_name);
	if (r->sentinel_password != NULL)
		explicit_bzero(r->sentinel_password, strlen(r->sentinel_password));
	free(r->sentinel_password);
	memset(r, 0, sizeof(*r));
}

int redis_pipe_append(struct redis *r, struct redis_pipe *p, int argc, const char **argv,
    const size_t *lens)
{
	redisContext *c;

	if (p->sent || p->n >= REDIS_PIPE_MAX)
		return -1;
	if (p->n == 0) {
		if ((c = redis_conn(r)) == NULL)
			return -1;
		p->conn = r->conns;
	} else if ((c = r->ctx) == NULL || r->conns != p->conn) {
		return -1;
	}
	if (redisAppendCommandArgv(c, argc, argv, lens) != REDIS_OK) {
		redis_fail(r);
		return -1;
	}
	return p->n++;
}

int redis_pipe_flush(struct redis *r, struct redis_pipe *p)
{
	if (p->sent)
		return p->failed ? -1 : 0;
	p->sent = 1;
	if (p->n == 0)
		return 0;
	if (r->ctx == NULL || r->conns != p->conn) {
		/* Dropped or replaced since the commands went out: they are lost. */
		p->failed = 1;
		return -1;
	}
	for (int i = 0; i < p->n; i++) {
		void *rep = NULL;

		if (redisGetReply(r->ctx, &rep) != REDIS_OK) {
			redis_fail(r);
			redis_pipe_free(p);
			p->failed = 1;
			return -1;
		}
		p->replies[i] = rep;
	}
	for (int i = 0; i < p->n; i++) {
		if (is_readonly(p->replies[i])) {
			redis_fail(r);
			redis_pipe_free(p);
			p->failed = 1;
			return -1;
		}
	}
	return 0;
}

redisReply *redis_pipe_reply(const struct redis_pipe *p, int i)
{
	return i >= 0 && i < p->n && !p->failed ? p->replies[i] : NULL;
}

void redis_pipe_free(struct redis_pipe *p)
{
	for (int i = 0; i < REDIS_PIPE_MAX; i++) {
		freeReplyObject(p->replies[i]);
		p->replies[i] = NULL;
	}
}
