/*
 * validate.h - the inputs of an endpoint, declared as a table (kcgi's kvalid).
 *
 * Each handler lists its inputs - body fields, query parameters, the path's
 * {param} - with their rules in one array; the handler then sees only values
 * that passed, and the 422 `fields` map of the contract falls out of the same
 * table:
 *
 *	const struct valid_field fields[] = {
 *		{ .name = "username", .required = 1, .min_chars = 3, .max_chars = 32,
 *		  .format = valid_username_format },
 *		{ .name = "password", .required = 1,
 *		  .min_chars = (size_t)c->cfg->password_min_length, .max_chars = 128 },
 *	};
 *	struct valid_value v[2] = { { NULL, 0, 0 } };
 *
 *	if (valid_reply(c, valid_body(c->req->body, c->req->body_len, fields, 2, v)))
 *		goto out;	(422 answered)
 *	... v[0].s is the username, v[1].s / v[1].len the password ...
 *	out: valid_values_free(v, 2);
 *
 * The table is checked in one pass over the exact bytes of the body, not
 * over cJSON's view of it: cJSON ends a string at an escaped NUL, so it
 * would take the member "password\u0000" for "password", and cut a value
 * holding U+0000.  Field names are exact bytes; values keep every byte.
 *
 * Bounds that come from the configuration (PASSWORD_MIN_LENGTH) go straight
 * into the initializer: the table is an automatic `const` array in the
 * handler, which C allows to be initialized from runtime values.  Tables
 * with only constant bounds may be `static const`.
 *
 * Query and path parameters go through valid_params() with the same rules
 * (a `decode` turns their text into the value: a percent-decoded key, a
 * number):
 *
 *	static const struct valid_field list[] = {
 *		{ .name = "limit", .in = VALID_IN_QUERY, .decode = valid_decimal,
 *		  .min_value = 1, .max_value = 1000 },
 *	};
 *	if (valid_reply(c, valid_params(c->req, c->param, c->param_len, list, 1, v)))
 *
 * All fields are strings (every auth endpoint takes strings).  The checks, in
 * order, each stopping at the first failure of a field:
 *   absent            -> required (skipped when optional)
 *   not a string      -> invalid_type (null, numbers, objects... included)
 *   < min_chars       -> too_short   (counted in Unicode code points, U+0000 too)
 *   > max_chars       -> too_long    (max_chars 0: no bound)
 *   format(s) == 0    -> invalid_format (a U+0000 fails any format)
 *   not in choices    -> invalid_format
 *   decode(v) != 0    -> invalid_format
 * Keys are matched on their exact bytes, case-sensitively, as JSON keys are;
 * when a name comes twice, the first member counts.
 */
#ifndef PORTCULLIS_VALIDATE_H
#define PORTCULLIS_VALIDATE_H

#include <cJSON.h>
#include <stddef.h>

#define VALID_FIELDS_MAX 16 /* fields in one table */

struct ctx;
struct request;

enum valid_reason {
	VALID_OK,
	VALID_REQUIRED,
	VALID_INVALID_TYPE,
	VALID_TOO_SHORT,
	VALID_TOO_LONG,
	VALID_INVALID_FORMAT,
	VALID_TOO_COMMON, /* on the deny list of common passwords (denylist.h) */
};

/* Where a field is read from. */
enum valid_in {
	VALID_IN_BODY,  /* a member of the body's top-level object: valid_body() */
	VALID_IN_QUERY, /* a query parameter, percent-decoded: valid_params() */
	VALID_IN_PATH,  /* the route's {param} segment, as sent (raw): valid_params() */
};

struct valid_value;

struct valid_field {
	const char *name;
	int required;                 /* absent -> required; absent and optional -> skipped */
	size_t min_chars, max_chars;  /* bounds in Unicode code points; max 0 = no bound */
	int (*format)(const char *s); /* NULL = any; returns 1 if well-formed */
	const char *const *choices;   /* NULL-terminated allowed values, or NULL = any */
	enum valid_in in;             /* VALID_IN_BODY unless set */
	/*
	 * Last, on a value that passed the rules above: turns the text in
	 * v->s / v->len into the handler's value in place (a decoding that may
	 * only shrink it; v->s stays NUL-terminated) and may set v->number.
	 * 0, or -1 for invalid_format.  NULL: the text is the value.
	 */
	int (*decode)(const struct valid_field *f, struct valid_value *v);
	long long min_value, max_value; /* the range of valid_decimal() */
};

/*
 * The contract's name of a reason: "required", "invalid_type", "too_short",
 * "too_long", "invalid_format", "too_common"; "ok" for VALID_OK and unknown
 * values.
 */
const char *valid_reason_name(enum valid_reason r);

/* 1 when `s` is non-empty and only [A-Za-z0-9_.-]; 0 otherwise (NULL too). */
int valid_username_format(const char *s);

/*
 * Checks one string value against `f`'s bounds, format and choices (not
 * presence or type): VALID_OK or the first failing reason.  For values that
 * do not come from a JSON body (a path segment, a query parameter).
 */
enum valid_reason valid_string(const char *s, const struct valid_field *f);

/* A field's value as sent: its exact bytes, U+0000 included (or as `decode` left it). */
struct valid_value {
	char *s;    /* malloc'd and NUL-terminated; NULL when absent or failing */
	size_t len; /* bytes, without the terminator */
	long long number; /* what a `decode` such as valid_decimal() parsed; else 0 */
};

/*
 * A `decode` for whole numbers: the text is only ASCII digits (no sign,
 * blank, point or exponent; leading zeros allowed) and its value lies in
 * [f->min_value, f->max_value]; it goes into v->number.
 */
int valid_decimal(const struct valid_field *f, struct valid_value *v);

/*
 * Checks the `n` fields (at most VALID_FIELDS_MAX) against the top-level
 * object of `body`, `len` bytes that body_read_json() accepted, in one pass
 * over its exact bytes (body_members()).  Returns NULL when every field is
 * valid.  Otherwise returns a new object mapping each failing field name, in
 * table order, to its reason name ({"password": "too_short"}), owned by the
 * caller (hand it to valid_reply() or resp_error(), or cJSON_Delete it); a
 * body whose top level is not an object gives {"body": "invalid_type"}.
 * Either way values[i] holds the value of each field that passed (s NULL for
 * the others and for an absent optional field): release them with
 * valid_values_free().  Running out of memory aborts the process: a NULL
 * from here must only ever mean "valid".
 */
cJSON *valid_body(const char *body, size_t len, const struct valid_field *fields, size_t n,
    struct valid_value values[]);

/*
 * The same table mechanism for the request line: checks the VALID_IN_QUERY
 * and VALID_IN_PATH fields of `fields` (the VALID_IN_BODY ones are skipped:
 * valid_body()) against the query string of `req` and the route's raw
 * {param} segment `path` (`path_len` bytes; NULL when the route has none;
 * `req` may be NULL when the table has no query field).
 * A query parameter that is present but malformed (a bad %-escape, %00, or
 * longer than REQ_QUERY_MAX) is invalid_format; when a name comes twice the
 * first counts.  The rules and their order are those of valid_body(), then
 * the field's `decode`.  Returns NULL when every field is valid, else the
 * failing fields' map as valid_body() does; values[i] as there.  Aborts when
 * out of memory.
 */
cJSON *valid_params(const struct request *req, const char *path, size_t path_len,
    const struct valid_field *fields, size_t n, struct valid_value values[]);

/* Wipes (they may be credentials) and frees values[0..n); each is left empty. */
void valid_values_free(struct valid_value values[], size_t n);

/*
 * With `fields` NULL, does nothing and returns 0.  Otherwise takes ownership
 * of `fields`, answers 422 validation_failed with it as the `fields` map and a
 * message naming the first failing field ("password is too short"), and
 * returns 1.
 */
int valid_reply(struct ctx *c, cJSON *fields);

#endif
