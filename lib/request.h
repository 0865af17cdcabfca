/*
 * request.h - one HTTP request as the web server hands it over.
 *
 * Everything is read through `struct io` (FastCGI or CGI).  The path is kept
 * raw, as REQUEST_URI has it, so that percent-encoded bytes (`%2F` in a data
 * key) reach the handler instead of being decoded by the web server first.
 * All memory a request owns is released by one req_free() at the end of the
 * accept loop.
 */
#ifndef PORTCULLIS_REQUEST_H
#define PORTCULLIS_REQUEST_H

#include "client_addr.h"
#include "io.h"
#include "request_id.h"

#include <stddef.h>
#include <time.h>

#define REQ_PATH_MAX 2048  /* longer paths are answered 404 */
#define REQ_QUERY_MAX 2048 /* a longer query is treated as malformed */
#define REQ_METHOD_MAX 16

enum body_status {
	BODY_OK,        /* req->body holds req->body_len bytes (NUL-terminated) */
	BODY_EMPTY,     /* no body was sent */
	BODY_TOO_LARGE, /* more than the limit: answer 413 */
	BODY_ERROR,     /* the client went away or sent a bad length */
};

struct request {
	struct io *io;
	struct timespec started; /* CLOCK_MONOTONIC */
	char method[REQ_METHOD_MAX + 1];
	char path[REQ_PATH_MAX + 1]; /* raw, without the query */
	int path_too_long;
	const char *query;           /* raw, without '?'; "" when none */
	char id[REQUEST_ID_MAX + 1];
	struct addr client;          /* resolved as for rate limits */
	int client_known;
	char client_hash[ADDR_HASH_HEX + 1]; /* keyed hash for logs; "" if unknown */
	const char *route;           /* matched template, or "other" */
	char user_id[72];            /* set once authenticated; "" otherwise */
	char *body;
	size_t body_len;
	int body_read;
	enum body_status body_status;
};

/*
 * Fills `req` from `io`: method, raw path and query, request id, client
 * address (resolved against `trusted`, hashed with `hash_key`).  Never fails:
 * malformed parts are recorded as such for the router to refuse.
 */
void req_init(struct request *req, struct io *io, const struct addr_list *trusted,
    const void *hash_key, size_t hash_key_len);

/* A request header by its HTTP name ("Content-Type", "Origin"); NULL if absent. */
const char *req_header(const struct request *req, const char *name);

/* A CGI parameter by its exact name (REQUEST_METHOD, REMOTE_ADDR); NULL if absent. */
const char *req_param(const struct request *req, const char *name);

/*
 * Reads the body once, up to `max` bytes.  Later calls return the first
 * result.  The body is owned by `req`.
 */
enum body_status req_read_body(struct request *req, size_t max);

/*
 * Copies the first query parameter called `name`, percent-decoded, into `out`.
 * Returns 1 when found, 0 when absent, -1 when present but malformed
 * (bad escape, NUL, or longer than `outlen` - 1).
 */
int req_query_param(const struct request *req, const char *name, char *out, size_t outlen);

/*
 * Reads and discards whatever body the handler did not read, when
 * Content-Length says it is at most `max` bytes.  A FastCGI server that
 * streams the body (Apache mod_proxy_fcgi) fails the exchange when a
 * responder finishes before taking all of it, so an early 413 or 415 would
 * never reach the client.
 */
void req_drain(struct request *req, size_t max);

/* Milliseconds since req_init(). */
double req_elapsed_ms(const struct request *req);

/* Releases what `req` owns.  Idempotent. */
void req_free(struct request *req);

#endif
