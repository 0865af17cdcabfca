/*
 * request_id.h - the X-Request-Id of every exchange.
 *
 * A well-formed incoming id (1-64 of [A-Za-z0-9._-]) is echoed so that a
 * client or proxy can follow its request through our logs; anything else is
 * replaced by 128 random bits in hex.
 */
#ifndef PORTCULLIS_REQUEST_ID_H
#define PORTCULLIS_REQUEST_ID_H

#include <stddef.h>

#define REQUEST_ID_MAX 64

/* 1 when `s` (NUL-terminated, may be NULL) is an acceptable incoming id. */
int request_id_valid(const char *s);

/*
 * Fills `out` (REQUEST_ID_MAX + 1 bytes) with `incoming` when valid, else with a
 * fresh random id.  Returns 0, or -1 if no randomness could be had (then a
 * time-and-pid based id is written, which is unique but not unguessable).
 */
int request_id_assign(const char *incoming, char out[REQUEST_ID_MAX + 1]);

#endif
