/*
 * validate.c - see validate.h.
 */
#include "validate.h"

#include "app.h"
#include "response.h"

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

size_t valid_utf8_chars(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p & 0xC0) != 0x80)
			n++;
	return n;
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

enum valid_reason valid_string(const char *s, const struct valid_field *f)
{
	size_t chars;

	if (s == NULL)
		return VALID_INVALID_TYPE;
	chars = valid_utf8_chars(s);
	if (chars < f->min_chars)
		return VALID_TOO_SHORT;
	if (f->max_chars != 0 && chars > f->max_chars)
		return VALID_TOO_LONG;
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

/* Adds name: reason to the map (made on first use).  Aborts when out of memory. */
static void add_failure(cJSON **map, const char *name, enum valid_reason r)
{
	if (*map == NULL && (*map = cJSON_CreateObject()) == NULL)
		abort();
	if (cJSON_AddStringToObject(*map, name, valid_reason_name(r)) == NULL)
		abort();
}

cJSON *valid_check(const cJSON *obj, const struct valid_field *fields, size_t n,
    const char *values[])
{
	cJSON *failed = NULL;

	for (size_t i = 0; i < n; i++)
		values[i] = NULL;
	if (!cJSON_IsObject(obj)) {
		add_failure(&failed, "body", VALID_INVALID_TYPE);
		return failed;
	}
	for (size_t i = 0; i < n; i++) {
		const struct valid_field *f = &fields[i];
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, f->name);
		enum valid_reason r;

		if (item == NULL) {
			if (f->required)
				add_failure(&failed, f->name, VALID_REQUIRED);
			continue;
		}
		if (!cJSON_IsString(item) || item->valuestring == NULL)
			r = VALID_INVALID_TYPE;
		else
			r = valid_string(item->valuestring, f);
		if (r != VALID_OK)
			add_failure(&failed, f->name, r);
		else
			values[i] = item->valuestring;
	}
	return failed;
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

cJSON *valid_exact(const struct valid_field *f, int found, const char *exact, size_t len)
{
	enum valid_reason r = VALID_OK;
	size_t chars = 0;
	cJSON *map;

	if (found != 1 ||
	    ((f->format != NULL || f->choices != NULL) && memchr(exact, '\0', len) != NULL)) {
		r = VALID_INVALID_FORMAT;
	} else {
		/* Same order as valid_check(): bounds, then format and choices. */
		for (size_t i = 0; i < len; i++)
			chars += ((unsigned char)exact[i] & 0xc0) != 0x80;
		if (chars < f->min_chars)
			r = VALID_TOO_SHORT;
		else if (f->max_chars != 0 && chars > f->max_chars)
			r = VALID_TOO_LONG;
		else if (f->format != NULL && !f->format(exact))
			r = VALID_INVALID_FORMAT;
		else if (f->choices != NULL) {
			const char *const *c = f->choices;

			while (*c != NULL && strcmp(*c, exact) != 0)
				c++;
			if (*c == NULL)
				r = VALID_INVALID_FORMAT;
		}
	}
	if (r == VALID_OK)
		return NULL;
	map = cJSON_CreateObject();
	if (map == NULL || !cJSON_AddStringToObject(map, f->name, valid_reason_name(r)))
		abort(); /* as valid_check(): NULL must only ever mean "valid" */
	return map;
}

cJSON *valid_merge_exact(cJSON *map, const struct valid_field *f, int found, const char *exact,
    size_t len)
{
	const char *old = map != NULL
	    ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(map, f->name))
	    : NULL;
	cJSON *verdict;

	if (old != NULL && (strcmp(old, valid_reason_name(VALID_REQUIRED)) == 0 ||
			       strcmp(old, valid_reason_name(VALID_INVALID_TYPE)) == 0))
		return map;
	if (found == 0 && old == NULL)
		return map; /* absent and optional: nothing to say */
	verdict = valid_exact(f, found, exact, len);
	if (map != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(map, f->name);
	if (verdict != NULL) {
		if (map == NULL) {
			map = verdict;
		} else {
			cJSON *item = cJSON_DetachItemFromObjectCaseSensitive(verdict, f->name);

			cJSON_AddItemToObject(map, f->name, item);
			cJSON_Delete(verdict);
		}
	}
	if (map != NULL && map->child == NULL) {
		cJSON_Delete(map);
		map = NULL;
	}
	return map;
}
