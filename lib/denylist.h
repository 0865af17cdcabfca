/*
 * denylist.h - commonly used passwords, refused on register and password
 * change (422, reason too_common), checked after the length rules and
 * before any bcrypt.
 *
 * The list is looked up through Openwall's passwdqc: a binary filter built
 * by its pwqfilter (an improved cuckoo filter) and consulted with its
 * `filter=` option, which costs at most two small reads of the file per
 * check whatever the list's size - no list is parsed or held in memory per
 * request or per process - and never misses an entry (a false positive is
 * rarer than one in a billion).  Only that check of passwdqc is used: its
 * own policy (minimum lengths per character class, passphrases, dictionary
 * words and sequences, similarity) is switched off, since the contract has
 * none of it.  passwdqc's `denylist=` option is not used: it reads the
 * plain file on every check and compares case-sensitively.
 *
 * Entries and passwords are compared normalised (deny_normalize()):
 * surrounding blanks dropped, letters lower-cased.
 *
 * The shipped list is built at build time into
 * <root>/share/common-passwords.pwq (scripts/build-denylist.sh); the
 * responders find it beside their own directory, as they find `.env`.
 * PASSWORD_DENYLIST names a plain file instead (one password a line): the
 * first process that starts with it builds its filter into a cache file of
 * its own user (/var/tmp, else /tmp), which every later process reuses
 * until the file changes (its device, inode, size or modification time).
 */
#ifndef PORTCULLIS_DENYLIST_H
#define PORTCULLIS_DENYLIST_H

#include "config.h"

#include <stddef.h>

struct ctx;

#define DENY_SHIPPED "share/common-passwords.pwq" /* relative to the project root */
#define DENY_ENTRY_MAX 1024 /* bytes of a list line or password looked up; longer: never listed */

/*
 * Opens the list of `cfg` (PASSWORD_DENYLIST, else - unset or empty - the
 * shipped filter found from `argv0`), building and caching a filter for a plain file.  0, or -1
 * with a message naming the variable in `err`.  Done once at startup.
 */
int deny_open(const struct config *cfg, const char *argv0, char *err, size_t errlen);

/* 1 when the password (`len` bytes, any bytes) is on the list, 0 when not, -1 on error. */
int deny_listed(const char *password, size_t len);

/*
 * Answers 422 {"<field>": "too_common"} when the password is listed (500 on
 * error) and returns 1; returns 0 when it may be used.
 */
int deny_reply(struct ctx *c, const char *field, const char *password, size_t len);

/*
 * The normalised form of one entry or password: blanks (space, tab; and a
 * line's CR) trimmed at both ends, each character lower-cased (simple case
 * mapping of C.UTF-8; bytes that are not UTF-8 are kept, ASCII lower-cased).
 * Writes it into `out` (`outlen` >= 2 * len + 1) and returns its length, or
 * -1 when it can be no entry: empty after trimming, longer than
 * DENY_ENTRY_MAX, holding NUL, CR or LF.
 */
int deny_normalize(const char *in, size_t len, char *out, size_t outlen);

/*
 * Builds a passwdqc filter from the plain list `list` into `filter` (written
 * whole under a temporary name, then renamed) with pwqfilter.  Returns the
 * number of entries, or -1 with a message in `err`.
 */
long deny_build(const char *list, const char *filter, char *err, size_t errlen);

/* Releases what deny_open() holds.  Idempotent. */
void deny_close(void);

#endif
