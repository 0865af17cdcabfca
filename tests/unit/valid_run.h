/*
 * valid_run.h - runs a validation table over a request line, for the unit
 * tests of valid_params() and of the tables built on it.
 *
 *	const char *bad = valid_run(table, n, "/api/data?limit=0", NULL, v);
 *	CHECK_STR(bad, "{\"limit\":\"invalid_format\"}");   ("" when valid)
 *	... v[i] as valid_params() left them; valid_values_free(v, n) ...
 */
#ifndef PORTCULLIS_VALID_RUN_H
#define PORTCULLIS_VALID_RUN_H

#include "fake_io.h"
#include "request.h"
#include "validate.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * valid_params() of the `n` fields of `t` for a GET of `uri` (its query
 * string) with the raw {param} `path` (NULL: none); the failing fields'
 * map printed compactly into a static buffer, "" when every field passed.
 */
static inline const char *valid_run(const struct valid_field *t, size_t n, const char *uri,
    const char *path, struct valid_value *v)
{
	static char printed[512];
	struct fake_io f;
	struct request req;
	cJSON *bad;
	char *s;

	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "GET");
	fake_io_param(&f, "REQUEST_URI", uri);
	fake_io_param(&f, "REMOTE_ADDR", "192.0.2.1");
	req_init(&req, &f.io, NULL, "unit-test-hash-key-0123456789abcdef", 35);
	bad = valid_params(&req, path, path != NULL ? strlen(path) : 0, t, n, v);
	s = bad != NULL ? cJSON_PrintUnformatted(bad) : NULL;
	snprintf(printed, sizeof(printed), "%s", s != NULL ? s : "");
	free(s);
	cJSON_Delete(bad);
	req_free(&req);
	return printed;
}

#endif
