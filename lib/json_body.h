/*
 * json_body.h - reading a JSON request body, strictly.
 *
 * cJSON is lenient (it takes any byte <= 0x20 as whitespace, lone surrogate
 * escapes, invalid UTF-8, unbounded-ish nesting), so every body is first run
 * through our own RFC 8259 validator, body_json_valid(), and only then
 * handed to cJSON.  The validator is iterative with a fixed stack of
 * BODY_MAX_DEPTH levels, so no input can make it recurse or allocate.
 *
 * Order of the checks in body_parse_json() (contract "Fine print: Bodies"):
 *   1. no body (Content-Length absent, empty or 0)   -> MISSING    (400)
 *   2. Content-Length over the limit                 -> TOO_LARGE  (413)
 *   3. not an application/json content type          -> MEDIA      (415)
 *   4. read the body; strict validation, then cJSON  -> INVALID    (400)
 *   5. top level not an object (when wanted)         -> NOT_OBJECT (422)
 * 413 wins over 415 because it can be told from Content-Length alone and is
 * the answer the client has to act on first (a smaller body); neither needs
 * the body to be read.
 *
 * A byte-order mark is refused (400): RFC 8259 says a sender MUST NOT add
 * one, and a body we would read differently from a stricter parser in front
 * of us is the kind of ambiguity we do not want.
 */
#ifndef PORTCULLIS_JSON_BODY_H
#define PORTCULLIS_JSON_BODY_H

#include "request.h"

#include <cJSON.h>
#include <stddef.h>

struct ctx;

#define BODY_MAX_DEPTH 64 /* nested arrays + objects; one more is invalid_json */

enum body_result {
	BODY_JSON_OK,
	BODY_JSON_MISSING,    /* 400 invalid_json: the endpoint needs a body, none came */
	BODY_JSON_MEDIA,      /* 415 unsupported_media_type */
	BODY_JSON_TOO_LARGE,  /* 413 payload_too_large */
	BODY_JSON_INVALID,    /* 400 invalid_json (also: bad Content-Length, client gone) */
	BODY_JSON_NOT_OBJECT, /* 422 validation_failed {"body": "invalid_type"} */
};

/*
 * Reads and parses the body of `req` (at most `max_bytes` bytes).  With
 * `want_object`, a valid JSON text whose top level is not an object is
 * BODY_JSON_NOT_OBJECT.  On BODY_JSON_OK, *out is the parsed tree, owned by
 * the caller (cJSON_Delete); on any other result *out is NULL.  The raw body
 * stays in req->body / req->body_len (owned by `req`).
 */
enum body_result body_parse_json(struct request *req, size_t max_bytes, int want_object,
    cJSON **out);

/*
 * 1 when `content_type` is application/json (type and subtype compared
 * case-insensitively), optionally followed by well-formed parameters
 * (RFC 9110: `; name=token` or `; name="quoted"`, optional whitespace around
 * ';'), where a charset parameter, if any, is utf-8 (case-insensitive).
 * 0 otherwise, including NULL, "application/json-patch", "text/json" and a
 * malformed parameter list.
 */
int body_is_json_content_type(const char *content_type);

/*
 * 1 when buf[0..len) is one strictly valid JSON text (RFC 8259): valid
 * UTF-8 (no overlongs, no encoded surrogates, nothing above U+10FFFF, no
 * truncated sequence), the JSON grammar and nothing more (no comments,
 * trailing commas, single quotes, leading zeros, NaN/Infinity, raw control
 * characters in strings, unknown escapes, lone or mis-ordered surrogate
 * escapes, BOM), only the four JSON whitespace bytes, exactly one value, and
 * no more than BODY_MAX_DEPTH nested arrays and objects.  0 otherwise
 * (an empty buffer included).  Embedded NUL bytes are refused.
 */
int body_json_valid(const char *buf, size_t len);

/*
 * Answers a non-OK result through resp_error() with the contract's status
 * and code: MISSING and INVALID 400 invalid_json, MEDIA 415
 * unsupported_media_type, TOO_LARGE 413 payload_too_large, NOT_OBJECT 422
 * validation_failed with fields {"body": "invalid_type"}.  BODY_JSON_OK
 * answers nothing.
 */
void body_reply_error(struct ctx *c, enum body_result r);

/*
 * Reads and validates a JSON body of any type without building a tree
 * (the data store keeps values as text: cJSON would cut strings at \u0000).
 * Same checks and results as body_parse_json(); on BODY_JSON_OK the text is
 * req->body / req->body_len.
 */
enum body_result body_read_json(struct request *req, size_t max_bytes);

/*
 * Writes the compact form of the valid JSON text `in` (whitespace outside
 * strings removed; strings and numbers byte for byte as sent) into `out`,
 * which must hold `len` bytes; returns the compact length.
 */
size_t body_compact(const char *in, size_t len, char *out);

/* One member of a body's top-level object, as body_members() hands it over. */
struct body_member {
	const char *name;  /* the decoded name: its exact bytes, NUL-terminated */
	size_t name_len;   /* bytes; more than strlen(name) when it holds U+0000 */
	int is_string;     /* the value is a JSON string */
	const char *value; /* is_string: the decoded value, exact and NUL-terminated; else NULL */
	size_t value_len;
};

/*
 * Walks the members of the top-level object of `body` (`len` bytes), in
 * body order, calling `fn(m, arg)` for each; a non-zero return stops the
 * walk.  Names and string values are decoded to their exact bytes: unlike
 * cJSON, an escaped NUL neither ends nor shortens them, so "password\u0000"
 * is not "password".  `m` and its strings live only during the call.
 * Returns 1 when `body` is one valid JSON text (body_json_valid()) whose top
 * level is an object, 0 when it is not (fn never called), -1 when out of
 * memory.
 */
int body_members(const char *body, size_t len,
    int (*fn)(const struct body_member *m, void *arg), void *arg);

#endif
