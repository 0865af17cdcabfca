/*
 * password.h - hashing and checking account passwords.
 *
 * bcrypt (libxcrypt's `$2b$`) is slow on purpose but reads only the first 72
 * bytes of a NUL-terminated phrase, so it never sees the password itself.
 * Scheme "pc1" feeds it a pre-hash instead:
 *
 *   S      = "$2b$<cost>$<22-char salt>"             (crypt_gensalt, 16 random bytes)
 *   pre    = base64(HMAC-SHA256(key = the 22 salt characters of S,
 *                               message = every byte of the password, NULs too))
 *   stored = "$pc1" bcrypt(pre, S)                   "$pc1$2b$12$<salt><hash>", 64 chars
 *
 * The pre-hash is 44 characters without NUL, so every byte counts and no two
 * passwords share a hash; it is keyed with the salt, so a leaked database of
 * plain SHA-256 digests cannot be tried against our hashes ("shucking").
 * Plain `$2a$`/`$2b$`/`$2y$` hashes (imports) still verify, always want a
 * rehash, and never match a password bcrypt would truncate or cut at a NUL.
 */
#ifndef PORTCULLIS_PASSWORD_H
#define PORTCULLIS_PASSWORD_H

#include <stddef.h>

#define PW_HASH_MAX 128  /* room for a stored hash and its NUL (pc1 uses 65) */
#define PW_COST_MIN 4    /* bcrypt's log2 rounds, as crypt_gensalt allows them */
#define PW_COST_MAX 31
#define PW_LEN_MAX 4096  /* longer passwords are refused (the API allows 512 bytes) */

/*
 * Hashes the `len` bytes at `password` (NULL allowed when `len` is 0) with a
 * fresh salt at `cost` into `out` as a NUL-terminated pc1 string.  Returns 0,
 * or -1 (cost outside PW_COST_MIN..PW_COST_MAX, `len` over PW_LEN_MAX, no
 * randomness, crypt failure) with `out` set to "".  Nothing is allocated that
 * outlives the call; intermediate secrets are wiped.
 */
int pw_hash(const void *password, size_t len, int cost, char out[PW_HASH_MAX]);

/*
 * Checks the `len` bytes at `password` against `stored` (a pc1 or plain
 * bcrypt hash).  Returns 1 on a match, 0 otherwise: wrong password, `stored`
 * NULL, malformed or of an unknown scheme, `len` over PW_LEN_MAX, or a plain
 * bcrypt hash with a password it would truncate (over 72 bytes or holding a
 * NUL).  Whenever `stored` is well-formed the call spends exactly one bcrypt
 * computation, whatever the password, so refusals take as long as mismatches;
 * a malformed `stored` returns at once.  The comparison is constant-time.
 */
int pw_verify(const void *password, size_t len, const char *stored);

/*
 * Returns 0 when `stored` is a well-formed pc1 hash made at `cost`, else 1
 * (plain bcrypt, another cost, malformed or NULL): hash the password again
 * with pw_hash after a successful pw_verify.
 */
int pw_needs_rehash(const char *stored, int cost);

/*
 * Returns a well-formed pc1 hash at `cost` that no password matches: random
 * salt and hash characters, made WITHOUT running bcrypt on the first call for
 * that cost and kept for the life of the process (static storage: do not
 * free or modify), or NULL (cost out of range, no randomness; a later call
 * tries again).  Verify against it when the username is unknown: that costs
 * exactly the one bcrypt a real hash at that cost costs, even in a process
 * that serves one request (plain CGI).  Thread-safe.
 */
const char *pw_dummy_hash(int cost);

/* Returns the bcrypt cost of a well-formed stored hash (pc1 or plain), else -1. */
int pw_cost_of(const char *stored);

#endif
