/*
 * validate.h - the inputs of an endpoint, declared as a table (kcgi's kvalid).
 *
 * Each handler lists its body fields with their rules in one array; the
 * handler then sees only values that passed, and the 422 `fields` map of the
 * contract falls out of the same table:
 *
 *	const struct valid_field fields[] = {
 *		{ "username", 1, 3, 32, valid_username_format, NULL },
 *		{ "password", 1, (size_t)c->cfg->password_min_length, 128, NULL, NULL },
 *	};
 *	const char *v[2];
 *
 *	if (valid_reply(c, valid_check(body, fields, 2, v)))
 *		goto out;	(422 answered)
 *	... v[0] is the username, v[1] the password ...
 *
 * Bounds that come from the configuration (PASSWORD_MIN_LENGTH) go straight
 * into the initializer: the table is an automatic `const` array in the
 * handler, which C allows to be initialized from runtime values.  Tables
 * with only constant bounds may be `static const`.
 *
 * All fields are strings (every auth endpoint takes strings).  The checks, in
 * order, each stopping at the first failure of a field:
 *   absent            -> required (skipped when optional)
 *   not a string      -> invalid_type (null, numbers, objects... included)
 *   < min_chars       -> too_short   (counted in Unicode code points)
 *   > max_chars       -> too_long    (max_chars 0: no bound)
 *   format(s) == 0    -> invalid_format
 *   not in choices    -> invalid_format
 * Keys are matched case-sensitively, as JSON keys are.
 */
#ifndef PORTCULLIS_VALIDATE_H
#define PORTCULLIS_VALIDATE_H

#include <cJSON.h>
#include <stddef.h>

struct ctx;

enum valid_reason {
	VALID_OK,
	VALID_REQUIRED,
	VALID_INVALID_TYPE,
	VALID_TOO_SHORT,
	VALID_TOO_LONG,
	VALID_INVALID_FORMAT,
	VALID_TOO_COMMON, /* on the deny list of common passwords (denylist.h) */
};

struct valid_field {
	const char *name;
	int required;                 /* absent -> required; absent and optional -> skipped */
	size_t min_chars, max_chars;  /* bounds in Unicode code points; max 0 = no bound */
	int (*format)(const char *s); /* NULL = any; returns 1 if well-formed */
	const char *const *choices;   /* NULL-terminated allowed values, or NULL = any */
};

/*
 * The contract's name of a reason: "required", "invalid_type", "too_short",
 * "too_long", "invalid_format", "too_common"; "ok" for VALID_OK and unknown
 * values.
 */
const char *valid_reason_name(enum valid_reason r);

/*
 * The number of code points of `s`, a valid UTF-8 string (what cJSON gives
 * back from a body body_json_valid() accepted): the bytes that are not
 * continuation bytes.  0 for NULL.
 */
size_t valid_utf8_chars(const char *s);

/* 1 when `s` is non-empty and only [A-Za-z0-9_.-]; 0 otherwise (NULL too). */
int valid_username_format(const char *s);

/*
 * Checks one string value against `f`'s bounds, format and choices (not
 * presence or type): VALID_OK or the first failing reason.  For values that
 * do not come from a JSON body (a path segment, a query parameter).
 */
enum valid_reason valid_string(const char *s, const struct valid_field *f);

/*
 * Checks the `n` fields of `obj` (a JSON object).  Returns NULL when every
 * field is valid, with values[i] pointing at field i's string inside `obj`
 * (valid as long as `obj` is), or NULL for an optional field that is absent.
 * Otherwise returns a new object mapping each failing field name, in table
 * order, to its reason name ({"password": "too_short"}), owned by the caller
 * (hand it to valid_reply() or resp_error(), or cJSON_Delete it); values[i]
 * is then NULL for each failing field.  An `obj` that is not an object gives
 * {"body": "invalid_type"}.  Running out of memory aborts the process: a
 * NULL from here must only ever mean "valid".
 */
cJSON *valid_check(const cJSON *obj, const struct valid_field *fields, size_t n,
    const char *values[]);

/*
 * Checks field `f` again on its exact bytes (see body_exact_string(), which
 * keeps an escaped NUL that cJSON would cut the string at): `found` 0 or a
 * NUL in a field with a format is invalid_format, and the bounds are
 * counted on all `len` bytes.  Returns NULL when valid, else a new fields map
 * ({"password": "too_long"}) for valid_reply().
 */
cJSON *valid_exact(const struct valid_field *f, int found, const char *exact, size_t len);

/*
 * Merges the exact-bytes verdict on field `f` into the map `map` from
 * valid_check() (either may be NULL): when the field was present as a
 * string, its entry is replaced by what valid_exact() says on the exact
 * bytes (so a password holding U+0000 is measured in full); a `required`
 * or `invalid_type` entry is kept.  Returns the map (NULL when empty).
 */
cJSON *valid_merge_exact(cJSON *map, const struct valid_field *f, int found, const char *exact,
    size_t len);

/*
 * With `fields` NULL, does nothing and returns 0.  Otherwise takes ownership
 * of `fields`, answers 422 validation_failed with it as the `fields` map and a
 * message naming the first failing field ("password is too short"), and
 * returns 1.
 */
int valid_reply(struct ctx *c, cJSON *fields);

#endif
