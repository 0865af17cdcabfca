/*
 * redis_sentinel.c - see redis_sentinel.h.
 */
#include "redis_sentinel.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A port of 1-65535 from [s, s+n); -1 when it is not one. */
static int parse_port(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

/* One "host:port" or "[v6]:port" entry of [s, s+n) into `node`; 0 or -1. */
static int parse_entry(const char *s, size_t n, struct redis_node *node)
{
	const char *colon, *hstart, *hend;

	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	hstart = s;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return -1;
	if (*s == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL || close + 1 >= s + n || close[1] != ':')
			return -1;
		hstart = s + 1;
		hend = close;
		colon = close + 1;
	} else {
		colon = memrchr(s, ':', n);
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;
		hend = colon;
	}
	if (hend == hstart || (size_t)(hend - hstart) >= REDIS_HOST_MAX)
		return -1;
	for (const char *p = hstart; p < hend; p++)
		if (*p == ' ' || *p == '\t' || *p == '/' || *p == '@' || *p == '[' || *p == ']')
			return -1;
	if ((node->port = parse_port(colon + 1, (size_t)(s + n - colon - 1))) < 0)
		return -1;
	node->host = strndup(hstart, (size_t)(hend - hstart));
	return node->host != NULL ? 0 : -1;
}

int redis_sentinel_init(struct redis *r, const char *list, const char *master_name,
    const char *password, char *err, size_t errlen)
{
	const char *p = list;

	if (list == NULL || list[strspn(list, " \t")] == '\0')
		return 0;
	if (master_name == NULL || master_name[0] == '\0' || strlen(master_name) > 256 ||
	    strpbrk(master_name, " \t") != NULL) {
		snprintf(err, errlen, "REDIS_MASTER_NAME: must be a name without blanks");
		return -1;
	}
	while (*p != '\0') {
		const char *comma = strchr(p, ',');
		size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);

		if (r->nsentinels == REDIS_SENTINELS_MAX) {
			snprintf(err, errlen, "REDIS_SENTINELS: more than %d entries", REDIS_SENTINELS_MAX);
			goto fail;
		}
		if (parse_entry(p, n, &r->sentinels[r->nsentinels]) != 0) {
			snprintf(err, errlen, "REDIS_SENTINELS: entry %d is not host:port or [address]:port",
			    r->nsentinels + 1);
			goto fail;
		}
		r->nsentinels++;
		p += n;
		if (*p == ',' && *++p == '\0') {
			snprintf(err, errlen, "REDIS_SENTINELS: ends with a comma");
			goto fail;
		}
	}
	if ((r->master_name = strdup(master_name)) == NULL ||
	    (password != NULL && (r->sentinel_password = strdup(password)) == NULL)) {
		snprintf(err, errlen, "REDIS_SENTINELS: out of memory");
		goto fail;
	}
	/* The master is whatever the Sentinels say: REDIS_URL's host is not used. */
	free(r->host);
	r->host = NULL;
	r->port = 0;
	free(r->unix_path);
	r->unix_path = NULL;
	return 0;
fail:
	redis_close(r);
	return -1;
}

int redis_sentinel_parse_master(const redisReply *rep, char *host, size_t hostlen, int *port)
{
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[1]->type != REDIS_REPLY_STRING || rep->element[0]->len == 0 ||
	    rep->element[0]->len >= hostlen || memchr(rep->element[0]->str, '\0', rep->element[0]->len) != NULL)
		return -1;
	if ((*port = parse_port(rep->element[1]->str, rep->element[1]->len)) < 0)
		return -1;
	memcpy(host, rep->element[0]->str, rep->element[0]->len);
	host[rep->element[0]->len] = '\0';
	return 0;
}

int redis_role_is_master(const redisReply *rep)
{
	return rep != NULL && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
	    rep->element[0]->type == REDIS_REPLY_STRING && rep->element[0]->len == 6 &&
	    memcmp(rep->element[0]->str, "master", 6) == 0;
}

void redis_sentinel_close(struct redis *r)
{
	if (r->sentinel != NULL)
		redisFree(r->sentinel);
	r->sentinel = NULL;
}

/* A fresh, authenticated connection to Sentinel `i`, or NULL. */
static redisContext *sentinel_connect(const struct redis *r, int i, redisReply **err_rep)
{
	struct timeval tv = { 0, REDIS_SENTINEL_TIMEOUT_MS * 1000 };
	const char *auth[] = { "AUTH", r->sentinel_password };
	redisContext *c = redisConnectWithTimeout(r->sentinels[i].host, r->sentinels[i].port, tv);
	redisReply *rep;

	if (c == NULL || c->err != 0 || redisSetTimeout(c, tv) != REDIS_OK)
		goto fail;
	if (r->sentinel_password != NULL) {
		rep = redisCommandArgv(c, 2, auth, NULL);
		if (rep == NULL || rep->type != REDIS_REPLY_STATUS) {
			*err_rep = rep;
			goto fail;
		}
		freeReplyObject(rep);
	}
	return c;
fail:
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/* Asks Sentinel `i` (over the kept connection when it is that one); 0 or -1. */
static int ask(struct redis *r, int i, char *host, size_t hostlen, int *port)
{
	const char *q[] = { "SENTINEL", "get-master-addr-by-name", r->master_name };
	redisReply *rep = NULL;
	int rc = -1;

	if (r->sentinel != NULL && (r->sentinel_idx != i || r->sentinel->err != 0))
		redis_sentinel_close(r);
	if (r->sentinel == NULL) {
		if ((r->sentinel = sentinel_connect(r, i, &rep)) == NULL)
			goto out;
		r->sentinel_idx = i;
	}
	rep = redisCommandArgv(r->sentinel, 3, q, NULL);
	rc = redis_sentinel_parse_master(rep, host, hostlen, port);
out:
	if (rc != 0) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "backend", "redis");
		cJSON_AddStringToObject(f, "sentinel", r->sentinels[i].host);
		cJSON_AddNumberToObject(f, "port", r->sentinels[i].port);
		if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
			cJSON_AddStringToObject(f, "error", rep->str);
		log_event(LOG_WARN, "redis sentinel gave no master", f);
		redis_sentinel_close(r);
	}
	freeReplyObject(rep);
	return rc;
}

int redis_sentinel_locate(struct redis *r, char *host, size_t hostlen, int *port)
{
	int first = r->sentinel != NULL ? r->sentinel_idx : 0;

	if (ask(r, first, host, hostlen, port) == 0)
		return 0;
	for (int i = 0; i < r->nsentinels; i++)
		if (i != first && ask(r, i, host, hostlen, port) == 0)
			return 0;
	return -1;
}
