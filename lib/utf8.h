/*
 * utf8.h - UTF-8 as RFC 3629 (section 4) defines it: the one decoder,
 * encoder and code-point counter of the project.
 *
 * Well-formed means the table of the RFC: no overlong forms, no encoded
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
 * sequence, no stray continuation byte.
 */
#ifndef PORTCULLIS_UTF8_H
#define PORTCULLIS_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_SEQ_MAX 4 /* bytes of the longest sequence */

/*
 * The length (1 to 4) of the well-formed sequence at s[0..left), with its
 * code point in `*cp` (when not NULL); 0 when the bytes there are not one
 * (or `left` is 0).  An ASCII byte, NUL included, is a sequence of 1.
 */
size_t utf8_decode(const unsigned char *s, size_t left, uint32_t *cp);

/*
 * Writes code point `cp` (at most U+10FFFF) into `out`, which has room for
 * UTF8_SEQ_MAX bytes; returns the bytes written.
 */
size_t utf8_encode(uint32_t cp, unsigned char *out);

/*
 * The code points of the well-formed text s[0..len): its bytes that are not
 * continuation bytes (a NUL counts as one).
 */
size_t utf8_chars(const char *s, size_t len);

#endif
