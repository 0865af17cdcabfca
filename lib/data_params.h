/*
 * data_params.h - the request-line inputs of the data API as validation
 * tables (validate.h): the {key} of /api/data/{key}, and the `limit` and
 * `cursor` of GET /api/data.  Each answers 422 validation_failed with
 * invalid_format when it is not what the contract says:
 *
 *   key     1-128 bytes of [A-Za-z0-9._~-], not "." or "..", as the raw
 *           segment percent-decodes (data_key_decode()); the value is the
 *           decoded key
 *   limit   an integer from 1 to DATA_LIST_MAX in plain digits (optional;
 *           the value's `number`)
 *   cursor  the base64url of a key, as next_cursor gives it (optional; the
 *           value is the decoded key)
 */
#ifndef PORTCULLIS_DATA_PARAMS_H
#define PORTCULLIS_DATA_PARAMS_H

#include "validate.h"

#define DATA_LIST_DEFAULT 100
#define DATA_LIST_MAX 1000

/* The {key} of /api/data/{key}. */
extern const struct valid_field data_params_key[1];

/* GET /api/data: limit, cursor (in this order). */
enum { DATA_PARAMS_LIMIT, DATA_PARAMS_CURSOR, DATA_PARAMS_LIST_N };
extern const struct valid_field data_params_list[DATA_PARAMS_LIST_N];

#endif
