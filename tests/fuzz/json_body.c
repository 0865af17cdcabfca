/*
 * json_body.c - fuzzes the strict JSON reader (lib/json_body.c) on request
 * bodies: body_json_valid(), body_members(), body_compact() and, through a
 * fake io, body_parse_json() with its Content-Type and Content-Length checks.
 *
 * Input: one byte of flags (bit 0: a Content-Type of the input's first line
 * rather than application/json; bit 1: a wrong Content-Length), then the
 * body.  Checks that what the validator accepts cJSON parses, that the
 * compact form is valid again and no longer, that the members walk only an
 * object, and that body_parse_json() agrees with body_json_valid().
 */
#include "json_body.h"
#include "request.h"
#include "fake_io.h"
#include "fuzz.h"

#include <cJSON.h>
#include <stdio.h>

#define HASH_KEY "fuzz-ip-hash-key-0123456789abcdef"
#define MAX_BODY 4096

static struct fake_io f;

static int on_member(const struct body_member *m, void *arg)
{
	size_t *count = arg;

	FUZZ_ASSERT(m->name[m->name_len] == '\0');
	FUZZ_ASSERT(!m->is_string || m->value[m->value_len] == '\0');
	FUZZ_ASSERT(m->is_string || m->value == NULL);
	(*count)++;
	return 0;
}

/* The body on its own: validator, members, compact form, cJSON. */
static int check_text(const char *body, size_t len)
{
	int valid = body_json_valid(body, len);
	size_t members = 0;
	int r = body_members(body, len, on_member, &members);

	FUZZ_ASSERT(r == 0 || r == 1);
	if (!valid) {
		FUZZ_ASSERT(r == 0 && members == 0);
		return 0;
	}
	{
		char *compact = malloc(len > 0 ? len : 1);
		size_t clen;
		cJSON *j = cJSON_ParseWithLength(body, len);

		if (compact == NULL)
			abort();
		clen = body_compact(body, len, compact);
		FUZZ_ASSERT(clen <= len && body_json_valid(compact, clen));
		FUZZ_ASSERT(j != NULL); /* what we accept, cJSON reads */
		FUZZ_ASSERT(r == (cJSON_IsObject(j) ? 1 : 0));
		if (r == 1)
			FUZZ_ASSERT(members == (size_t)cJSON_GetArraySize(j));
		cJSON_Delete(j);
		free(compact);
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body, *ctype = NULL, cl[32];
	size_t len, clen;
	struct request req;
	cJSON *out = NULL;
	enum body_result r;
	int flags, valid;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	if (flags & 1)
		ctype = fuzz_split(&data, &size, &clen);
	body = fuzz_str(data, size);
	len = size;
	valid = check_text(body, len);

	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "POST");
	fake_io_param(&f, "REQUEST_URI", "/api/auth/login");
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
	fake_io_param(&f, "CONTENT_TYPE", ctype != NULL ? ctype : "application/json");
	snprintf(cl, sizeof(cl), "%zu", flags & 2 ? len + 1 : len);
	fake_io_param(&f, "CONTENT_LENGTH", cl);
	fake_io_body(&f, body, len, 0);
	req_init(&req, &f.io, NULL, HASH_KEY, sizeof(HASH_KEY) - 1);
	r = body_parse_json(&req, MAX_BODY, flags & 4, &out);
	FUZZ_ASSERT((r == BODY_JSON_OK) == (out != NULL));
	if (ctype == NULL && !(flags & 2) && len > 0 && len <= MAX_BODY) {
		if (valid)
			FUZZ_ASSERT(r == BODY_JSON_OK || r == BODY_JSON_NOT_OBJECT);
		else
			FUZZ_ASSERT(r == BODY_JSON_INVALID);
	}
	if (r == BODY_JSON_OK)
		FUZZ_ASSERT(body_json_valid(req.body, req.body_len));
	cJSON_Delete(out);
	req_free(&req);
	free(ctype);
	free(body);
	return 0;
}
