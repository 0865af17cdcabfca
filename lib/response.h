/*
 * response.h - the answer to one request.
 *
 * A handler sets a status, extra headers and a JSON body; resp_send() adds
 * what every /api response carries (Content-Type, Cache-Control: no-store,
 * X-Request-Id) and writes it all at once.  Every error goes through
 * resp_error(), which alone knows the contract's envelope.
 */
#ifndef PORTCULLIS_RESPONSE_H
#define PORTCULLIS_RESPONSE_H

#include "request.h"

#include <cJSON.h>
#include <stddef.h>

#define RESP_HEADERS_MAX 8192
#define RESP_HEADER_VALUE_MAX 6144 /* longest value resp_headerf() formats */

struct response {
	int status;               /* 0 until a handler answers */
	char headers[RESP_HEADERS_MAX];
	size_t headers_len;
	int headers_overflow;     /* a header did not fit: answer 500 */
	char *body;               /* owned; NULL for 204/304 */
	size_t body_len;
	const char *content_type; /* static; NULL: JSON (set by resp_text) */
	/*
	 * The rate limit's RateLimit fields, kept apart so that a handler can
	 * drop them: the failed-login 429 carries Retry-After only.
	 */
	char rate_limit_fields[512];
	int omit_rate_limit_fields;
};

void resp_init(struct response *resp);

/*
 * Adds `Name: value`.  Returns 0, or -1 (and nothing is added) when either
 * holds a CR, LF or NUL, or the header block is full.
 */
int resp_header(struct response *resp, const char *name, const char *value);

/* Same as resp_header() with a printf-style value. */
int resp_headerf(struct response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Sets `status` and the JSON `body`, taking ownership of it (it is freed
 * here, also on failure).  A body that cannot be printed becomes a 500.
 */
void resp_json(struct response *resp, const struct request *req, int status, cJSON *body);

/*
 * Sets `status` and a non-JSON `body` of `len` bytes (malloc'd, owned from
 * here on) sent with `content_type` (static storage), e.g. /metrics' text.
 */
void resp_text(struct response *resp, int status, const char *content_type, char *body,
    size_t len);

/* A status without a body (204, 304). */
void resp_empty(struct response *resp, int status);

/*
 * The contract's error envelope: {"error": {"code", "message", "request_id",
 * "fields"?}}.  `fields` (may be NULL) is owned from here on; it is included
 * only on 422.  503 adds Retry-After; 405 callers add Allow themselves.
 */
void resp_error(struct response *resp, const struct request *req, int status,
    const char *code, const char *message, cJSON *fields);

/*
 * Writes the response to the request's io.  Returns 0, or -1 when the
 * client has gone away (nothing more to do about it).
 */
int resp_send(struct response *resp, const struct request *req);

/* Releases what `resp` owns.  Idempotent. */
void resp_free(struct response *resp);

/* The reason phrase of a status code ("Not Found"). */
const char *resp_reason(int status);

#endif
