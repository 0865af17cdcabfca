/*
 * data_params.c - see data_params.h.
 */
#include "data_params.h"

#include "crypto.h"
#include "data_key.h"

#include <string.h>

/* The raw segment, percent-decoded into a key, in place (decoding only shrinks). */
static int decode_key(const struct valid_field *f, struct valid_value *v)
{
	char key[DATA_KEY_LEN_MAX + 1];
	size_t n;

	(void)f;
	if (data_key_decode(v->s, v->len, key) != 0)
		return -1;
	n = strlen(key);
	memcpy(v->s, key, n + 1);
	v->len = n;
	return 0;
}

/* A cursor, base64url-decoded into the key it names, in place. */
static int decode_cursor(const struct valid_field *f, struct valid_value *v)
{
	char key[DATA_KEY_LEN_MAX + 1];
	int n;

	(void)f;
	n = crypto_b64url_decode(v->s, v->len, (unsigned char *)key, DATA_KEY_LEN_MAX);
	if (n <= 0 || !data_key_valid(key, (size_t)n))
		return -1;
	memcpy(v->s, key, (size_t)n); /* base64url is longer than what it encodes */
	v->s[n] = '\0';
	v->len = (size_t)n;
	return 0;
}

const struct valid_field data_params_key[1] = {
	{ .name = "key", .required = 1, .in = VALID_IN_PATH, .decode = decode_key },
};

const struct valid_field data_params_list[DATA_PARAMS_LIST_N] = {
	[DATA_PARAMS_LIMIT] = { .name = "limit", .in = VALID_IN_QUERY, .decode = valid_decimal,
	    .min_value = 1, .max_value = DATA_LIST_MAX },
	[DATA_PARAMS_CURSOR] = { .name = "cursor", .in = VALID_IN_QUERY, .decode = decode_cursor },
};
