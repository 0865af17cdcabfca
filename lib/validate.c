/*
 * validate.c - see validate.h.
 */
#include "validate.h"

#include "app.h"
#include "json_body.h"
#include "request.h"
#include "response.h"
#include "utf8.h"

#include <limits.h>
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

int valid_decimal(const struct valid_field *f, struct valid_value *v)
{
	long long n = 0;

	if (v->len == 0)
		return -1;
	for (size_t i = 0; i < v->len; i++) {
		int d = (unsigned char)v->s[i] - '0';

		if (d < 0 || d > 9 || n > (LLONG_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (n < f->min_value || n > f->max_value)
		return -1;
	v->number = n;
	return 0;
}

/*
 * The reason for the exact bytes s[0..len) against every rule of `f`, its
 * `decode` last; on VALID_OK `v` holds the value (malloc'd; aborts when out
 * of memory: NULL must only ever mean "valid"), else it is left empty.
 */
static enum valid_reason take_value(const char *s, size_t len, const struct valid_field *f,
    struct valid_value *v)
{
	enum valid_reason r = exact_reason(s, len, f);

	if (r != VALID_OK)
		return r;
	if ((v->s = malloc(len + 1)) == NULL)
		abort();
	memcpy(v->s, s, len);
	v->s[len] = '\0';
	v->len = len;
	v->number = 0;
	if (f->decode != NULL && f->decode(f, v) != 0) {
		explicit_bzero(v->s, len);
		free(v->s);
		v->s = NULL;
		v->len = 0;
		v->number = 0;
		return VALID_INVALID_FORMAT;
	}
	return VALID_OK;
}

/* Adds name: reason to the map (made on first use).  Aborts when out of memory. */
static void add_failure(cJSON **map, const char *name, enum valid_reason r)
{
	if (*map == NULL && (*map = cJSON_CreateObject()) == NULL)
		abort();
	if (cJSON_AddStringToObject(*map, name, valid_reason_name(r)) == NULL)
		abort();
}

/* Adds what became of field `f` (absent when not `seen`) to the map. */
static void add_outcome(cJSON **map, const struct valid_field *f, int seen, enum valid_reason r)
{
	if (!seen) {
		if (f->required)
			add_failure(map, f->name, VALID_REQUIRED);
	} else if (r != VALID_OK) {
		add_failure(map, f->name, r);
	}
}

static void clear_values(struct valid_value values[], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		values[i].s = NULL;
		values[i].len = 0;
		values[i].number = 0;
	}
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

		if (sc->seen[i] || sc->fields[i].in != VALID_IN_BODY || strlen(name) != m->name_len ||
		    memcmp(name, m->name, m->name_len) != 0)
			continue;
		sc->seen[i] = 1;
		sc->reason[i] = m->is_string
		    ? take_value(m->value, m->value_len, &sc->fields[i], &sc->values[i])
		    : VALID_INVALID_TYPE;
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
	clear_values(values, n);
	if ((r = body_members(body, len, on_member, &sc)) < 0)
		abort();
	if (r == 0) {
		add_failure(&failed, "body", VALID_INVALID_TYPE);
		return failed;
	}
	for (size_t i = 0; i < n; i++)
		if (fields[i].in == VALID_IN_BODY)
			add_outcome(&failed, &fields[i], sc.seen[i], sc.reason[i]);
	return failed;
}

cJSON *valid_params(const struct request *req, const char *path, size_t path_len,
    const struct valid_field *fields, size_t n, struct valid_value values[])
{
	char buf[REQ_QUERY_MAX + 1];
	cJSON *failed = NULL;

	if (n > VALID_FIELDS_MAX)
		abort(); /* a table this long is a programming error */
	clear_values(values, n);
	for (size_t i = 0; i < n; i++) {
		const struct valid_field *f = &fields[i];
		enum valid_reason r = VALID_OK;
		int seen = 0;

		if (f->in == VALID_IN_QUERY) {
			int found = req_query_param(req, f->name, buf, sizeof(buf));

			seen = found != 0;
			r = found == 1 ? take_value(buf, strlen(buf), f, &values[i]) : VALID_INVALID_FORMAT;
		} else if (f->in == VALID_IN_PATH) {
			seen = path != NULL;
			r = seen ? take_value(path, path_len, f, &values[i]) : VALID_OK;
		} else {
			continue;
		}
		add_outcome(&failed, f, seen, r);
	}
	explicit_bzero(buf, sizeof(buf));
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
		values[i].number = 0;
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
