/*
 * data_key.h - the keys of the data API (/api/data/{key}): what a key may
 * be, and decoding one from its raw path segment.
 *
 * A key is 1-128 bytes of the URL-unreserved set [A-Za-z0-9._~-], except
 * "." and ".." (which clients and proxies resolve as path segments), so a
 * decoded key needs no escaping in a URL, in a Redis key name or in a log.
 */
#ifndef PORTCULLIS_DATA_KEY_H
#define PORTCULLIS_DATA_KEY_H

#include <stddef.h>

#define DATA_KEY_LEN_MAX 128

/* 1 when a key of `len` raw bytes is 1-128 of [A-Za-z0-9._~-] and not "." or "..". */
int data_key_valid(const char *key, size_t len);

/*
 * Percent-decodes a raw path segment into `out` (DATA_KEY_LEN_MAX + 1 bytes).
 * 0, or -1 when it is malformed, too long, or decodes to a byte outside
 * the key set.
 */
int data_key_decode(const char *raw, size_t len, char *out);

#endif
