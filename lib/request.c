/*
 * request.c - see request.h.
 */
#include "request.h"
#include "crypto.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void req_init(struct request *req, struct io *io, const struct addr_list *trusted,
    const void *hash_key, size_t hash_key_len)
{
	const char *m, *uri, *q, *pfx;
	size_t len, plen;

	memset(req, 0, sizeof(*req));
	req->io = io;
	req->route = "other";
	clock_gettime(CLOCK_MONOTONIC, &req->started);

	m = req_param(req, "REQUEST_METHOD");
	if (m != NULL && (len = strlen(m)) > 0 && len <= REQ_METHOD_MAX)
		memcpy(req->method, m, len + 1);
	for (char *c = req->method; *c != '\0'; c++)
		if (!isupper((unsigned char)*c)) {
			req->method[0] = '\0';
			break;
		}

	/* REQUEST_URI is raw; SCRIPT_NAME + PATH_INFO would be decoded. */
	uri = req_param(req, "REQUEST_URI");
	if (uri == NULL)
		uri = "";
	/* A site under a sub-path (shared hosting at /~user/api: its .htaccess
	 * sets PORTCULLIS_URL_PREFIX=/~user) is routed without the prefix. */
	pfx = req_param(req, "PORTCULLIS_URL_PREFIX");
	if (pfx != NULL && (plen = strlen(pfx)) > 0 && strncmp(uri, pfx, plen) == 0 &&
	    uri[plen] == '/')
		uri += plen;
	q = strchr(uri, '?');
	len = q != NULL ? (size_t)(q - uri) : strlen(uri);
	if (len > REQ_PATH_MAX) {
		req->path_too_long = 1;
		len = 0;
	}
	memcpy(req->path, uri, len);
	req->path[len] = '\0';
	req->query = q != NULL ? q + 1 : "";

	request_id_assign(req_header(req, "X-Request-Id"), req->id);

	if (addr_resolve_client(req_param(req, "REMOTE_ADDR"), req_header(req, "X-Forwarded-For"),
		trusted, &req->client) == 0) {
		req->client_known = 1;
		if (addr_hash(hash_key, hash_key_len, &req->client, req->client_hash) != 0)
			req->client_hash[0] = '\0';
	}
}

const char *req_param(const struct request *req, const char *name)
{
	return req->io->param(req->io, name);
}

const char *req_header(const struct request *req, const char *name)
{
	char key[128] = "HTTP_";
	size_t off = 5, n = strlen(name);

	if (strcasecmp(name, "Content-Type") == 0)
		return req_param(req, "CONTENT_TYPE");
	if (strcasecmp(name, "Content-Length") == 0)
		return req_param(req, "CONTENT_LENGTH");
	if (n + off >= sizeof(key))
		return NULL;
	for (size_t i = 0; i < n; i++)
		key[off + i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	key[off + n] = '\0';
	return req_param(req, key);
}

enum body_status req_read_body(struct request *req, size_t max)
{
	const char *cl;
	char *end;
	unsigned long long want;
	size_t got = 0;

	if (req->body_read)
		return req->body_status;
	req->body_read = 1;
	cl = req_header(req, "Content-Length");
	if (cl == NULL || *cl == '\0')
		return req->body_status = BODY_EMPTY;
	errno = 0;
	want = strtoull(cl, &end, 10);
	if (*end != '\0' || !isdigit((unsigned char)*cl))
		return req->body_status = BODY_ERROR;
	/* All digits but past ULLONG_MAX (ERANGE) is a valid, too large length. */
	if (errno == ERANGE)
		return req->body_status = BODY_TOO_LARGE;
	if (want == 0)
		return req->body_status = BODY_EMPTY;
	if (want > max)
		return req->body_status = BODY_TOO_LARGE;
	req->body = malloc((size_t)want + 1);
	if (req->body == NULL)
		return req->body_status = BODY_ERROR;
	while (got < want) {
		int n = req->io->read(req->io, req->body + got, (int)(want - got));

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != want) {
		free(req->body);
		req->body = NULL;
		return req->body_status = BODY_ERROR;
	}
	req->body[got] = '\0';
	req->body_len = got;
	return req->body_status = BODY_OK;
}

/* Percent-decodes [s, e) into out; '+' is a space in a query.  -1 if malformed. */
static int decode(const char *s, const char *e, char *out, size_t outlen)
{
	size_t n = 0;

	while (s < e) {
		int c = (unsigned char)*s++;

		if (c == '%') {
			int hi, lo;

			if (e - s < 2 || (hi = crypto_hex_digit(s[0])) < 0 || (lo = crypto_hex_digit(s[1])) < 0)
				return -1;
			c = hi * 16 + lo;
			s += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == 0 || n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

int req_query_param(const struct request *req, const char *name, char *out, size_t outlen)
{
	const char *p = req->query, *end;
	size_t nlen = strlen(name), qlen = strnlen(p, REQ_QUERY_MAX + 1);

	if (qlen > REQ_QUERY_MAX)
		return -1;
	end = p + qlen;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pend = amp != NULL ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pend - p));
		const char *kend = eq != NULL ? eq : pend;
		char key[64];

		if (decode(p, kend, key, sizeof(key)) == 0 && strcmp(key, name) == 0 &&
		    (size_t)(kend - p) >= nlen) {
			if (eq == NULL) {
				if (outlen == 0)
					return -1;
				out[0] = '\0';
				return 1;
			}
			return decode(eq + 1, pend, out, outlen) == 0 ? 1 : -1;
		}
		p = pend + 1;
	}
	return 0;
}

void req_drain(struct request *req, size_t max)
{
	const char *cl = req_header(req, "Content-Length");
	unsigned long long want;
	char *end, buf[16384];

	if ((req->body_read && req->body_status == BODY_OK) || cl == NULL || *cl < '0' || *cl > '9')
		return;
	errno = 0;
	want = strtoull(cl, &end, 10);
	if (errno != 0 || *end != '\0' || want == 0 || want > max)
		return;
	while (want > 0) {
		int n = req->io->read(req->io, buf, want < sizeof(buf) ? (int)want : (int)sizeof(buf));

		if (n <= 0)
			break;
		want -= (unsigned long long)n;
	}
}

double req_elapsed_ms(const struct request *req)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - req->started.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - req->started.tv_nsec) / 1e6;
}

void req_free(struct request *req)
{
	free(req->body);
	req->body = NULL;
	req->body_len = 0;
}
