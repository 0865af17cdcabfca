/*
 * validate.c - see validate.h.
 */
#include "validate.h"

#include "app.h"
#include "json_body.h"
#include "response.h"
#include "utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *valid_reason_name(enum valid_reason r)
{
	switch (r) {
	case VALID_REQUIRED: return "required";
	case VALID_INVALID_TYPE: return "invalid_type";
	case VALID_TOO_SHORT: return "too_short";
	case VALID_TOO_LONG: return "too_long";
	case VALID_INVALID_FORMAT: return "invalid_format";
	case VALID_TOO_COMMON: return "too_common";
	case VALID_OK:
	default: return "ok";
	}
}

int valid_username_format(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* The reason for the exact bytes s[0..len) (NUL-terminated at len) against `f`. */
static enum valid_reason exact_reason(const char *s, size_t len, const struct valid_field *f)
{
	size_t chars = utf8_chars(s, len);

	if (chars < f->min_chars)
		return VALID_TOO_SHORT;
	if (f->max_chars != 0 && chars > f->max_chars)
		return VALID_TOO_LONG;
	if ((f->format != NULL || f->choices != NULL) && memchr(s, '\0', len) != NULL)
		return VALID_INVALID_FORMAT; /* no format or choice holds U+0000 */
	if (f->format != NULL && !f->format(s))
		return VALID_INVALID_FORMAT;
	if (f->choices != NULL) {
		const char *const *c;

		for (c = f->choices; *c != NULL; c++)
			if (strcmp(*c, s) == 0)
				break;
		if (*c == NULL)
			return VALID_INVALID_FORMAT;
	}
	return VALID_OK;
}

enum valid_reason valid_string(const char *s, const struct valid_field *f)
{
	if (s == NULL)
		return VALID_INVALID_TYPE;
	return exact_reason(s, strlen(s), f);
}

/* Adds name: reason to the map (made on first use).  Aborts when out of memory. */
static void add_failure(cJSON **map, const char *name, enum valid_reason r)
{
	if (*map == NULL && (*map = cJSON_CreateObject()) == NULL)
		abort();
	if (cJSON_AddStringToObject(*map, name, valid_reason_name(r)) == NULL)
		abort();
}

/* What valid_body() learns in its one pass: the first member of each field's name. */
struct scan {
	const struct valid_field *fields;
	size_t n;
	struct valid_value *values;
	enum valid_reason reason[VALID_FIELDS_MAX];
	unsigned char seen[VALID_FIELDS_MAX];
};

static int on_member(const struct body_member *m, void *arg)
{
	struct scan *sc = arg;

	for (size_t i = 0; i < sc->n; i++) {
		const char *name = sc->fields[i].name;

		if (sc->seen[i] || strlen(name) != m->name_len || memcmp(name, m->name, m->name_len) != 0)
			continue;
		sc->seen[i] = 1;
		sc->reason[i] = m->is_string ? exact_reason(m->value, m->value_len, &sc->fields[i])
					     : VALID_INVALID_TYPE;
		if (sc->reason[i] == VALID_OK) {
			if ((sc->values[i].s = malloc(m->value_len + 1)) == NULL)
				abort(); /* NULL must only ever mean "valid" */
			memcpy(sc->values[i].s, m->value, m->value_len + 1);
			sc->values[i].len = m->value_len;
		}
		break; /* names in a table are distinct */
	}
	return 0;
}

cJSON *valid_body(const char *body, size_t len, const struct valid_field *fields, size_t n,
    struct valid_value values[])
{
	struct scan sc;
	cJSON *failed = NULL;
	int r;

	if (n > VALID_FIELDS_MAX)
		abort(); /* a table this long is a programming error */
	memset(&sc, 0, sizeof(sc));
	sc.fields = fields;
	sc.n = n;
	sc.values = values;
	for (size_t i = 0; i < n; i++) {
		values[i].s = NULL;
		values[i].len = 0;
	}
	if ((r = body_members(body, len, on_member, &sc)) < 0)
		abort();
	if (r == 0) {
		add_failure(&failed, "body", VALID_INVALID_TYPE);
		return failed;
	}
	for (size_t i = 0; i < n; i++) {
		if (!sc.seen[i]) {
			if (fields[i].required)
				add_failure(&failed, fields[i].name, VALID_REQUIRED);
		} else if (sc.reason[i] != VALID_OK) {
			add_failure(&failed, fields[i].name, sc.reason[i]);
		}
	}
	return failed;
}

void valid_values_free(struct valid_value values[], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (values[i].s != NULL) {
			explicit_bzero(values[i].s, values[i].len);
			free(values[i].s);
		}
		values[i].s = NULL;
		values[i].len = 0;
	}
}

static const char *reason_phrase(const char *reason)
{
	if (strcmp(reason, "required") == 0)
		return "is required";
	if (strcmp(reason, "invalid_type") == 0)
		return "must be a string";
	if (strcmp(reason, "too_short") == 0)
		return "is too short";
	if (strcmp(reason, "too_long") == 0)
		return "is too long";
	if (strcmp(reason, "invalid_format") == 0)
		return "is not in the expected format";
	return "is invalid";
}

int valid_reply(struct ctx *c, cJSON *fields)
{
	const cJSON *first;
	char message[160];

	if (fields == NULL)
		return 0;
	first = fields->child;
	if (first != NULL && first->string != NULL && cJSON_IsString(first)) {
		if (strcmp(first->string, "body") == 0 &&
		    strcmp(first->valuestring, "invalid_type") == 0)
			snprintf(message, sizeof(message), "the body must be a JSON object");
		else
			snprintf(message, sizeof(message), "%.64s %s", first->string,
			    reason_phrase(first->valuestring));
	} else {
		snprintf(message, sizeof(message), "the request is not valid");
	}
	resp_error(c->resp, c->req, 422, "validation_failed", message, fields);
	return 1;
}
