/*
 * crypto.h - the few primitives the rest of lib/ builds on, all from
 * getrandom(2) and OpenSSL's libcrypto: randomness, SHA-256, HMAC-SHA256,
 * base64url, hex, and AES-256-GCM sealing.  Nothing here logs; the only
 * state is crypto_hmac's cache of keyed contexts.
 */
#ifndef PORTCULLIS_CRYPTO_H
#define PORTCULLIS_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SEAL_OVERHEAD (12 + 16) /* nonce + tag */

/* Fills `buf` with `len` bytes from the kernel CSPRNG.  0, or -1. */
int crypto_random(void *buf, size_t len);

/* SHA-256 of `len` bytes.  0, or -1. */
int crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN]);

/*
 * HMAC with the digest `md` ("SHA256", "SHA384" or "SHA512") of `len`
 * bytes under `key`; writes the MAC (at most `outmax` bytes) to `out` and
 * returns its length, or -1.  The MAC and digest implementations are
 * fetched once per process, and a context keyed with each of the last few
 * keys used (matched by content, in constant time) is kept and reset for
 * the next MAC, so a per-request HMAC under a long-lived secret (the JWT
 * key, IP_HASH_SECRET) costs neither an OpenSSL fetch nor a key schedule.
 * The cached copies of the keys are cleansed when evicted.  Safe to call
 * from several threads (one lock).
 */
int crypto_hmac(const char *md, const void *key, size_t keylen, const void *data, size_t len,
    unsigned char *out, size_t outmax);

/* HMAC-SHA256 (crypto_hmac).  0, or -1. */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[CRYPTO_SHA256_LEN]);

/* The value of one hex digit (either case), or -1. */
int crypto_hex_digit(int c);

/* Lowercase hex of `len` bytes into `out` (2 * len + 1 bytes). */
void crypto_hex(const unsigned char *in, size_t len, char *out);

/*
 * Unpadded base64url of `len` bytes into `out`; returns the length written
 * (excluding the NUL), or -1 if `outlen` is too small.
 */
int crypto_b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen);

/*
 * Decodes unpadded base64url; returns the byte count, or -1 on a character
 * outside the alphabet, an impossible length or a short `out`.
 */
int crypto_b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen);

/*
 * AES-256-GCM with a random nonce: writes nonce || ciphertext || tag
 * (len + CRYPTO_SEAL_OVERHEAD bytes) into `out`.  0, or -1.
 */
int crypto_seal(const unsigned char key[32], const void *plain, size_t len, unsigned char *out);

/*
 * Opens what crypto_seal() made; writes len - CRYPTO_SEAL_OVERHEAD bytes to
 * `out`.  0, or -1 when the input was forged, damaged or sealed with another key.
 */
int crypto_open(const unsigned char key[32], const unsigned char *in, size_t len, unsigned char *out);

/* Constant-time equality of two byte strings of length `len`: 1 or 0. */
int crypto_equal(const void *a, const void *b, size_t len);

#endif
