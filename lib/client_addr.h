/*
 * client_addr.h - who the client is, for rate limits and logs.
 *
 * The client address is REMOTE_ADDR unless that is a trusted proxy; then it
 * is the right-most X-Forwarded-For entry that is not a trusted proxy (the
 * left-most when all are trusted; REMOTE_ADDR when the header is malformed).
 * Addresses are kept as fixed-size binary values (no allocation per
 * request), IPv4-mapped IPv6 is folded into IPv4 at parse time so both
 * spellings are one client, and a raw address only ever leaves this module
 * as an HMAC (addr_hash) - never as text in a log line or a Redis key.
 */
#ifndef PORTCULLIS_CLIENT_ADDR_H
#define PORTCULLIS_CLIENT_ADDR_H

#include <stddef.h>
#include <sys/socket.h> /* AF_INET, AF_INET6 */

/*
 * One address.  Unused bytes of b are always zero (IPv4 uses b[0..3]), so two
 * equal addresses compare equal with memcmp.
 */
struct addr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char b[16];	/* IPv4 in b[0..3] */
};

/* One network: `net` already has its host bits cleared. */
struct addr_cidr {
	struct addr net;
	int prefix;		/* 0..32 for AF_INET, 0..128 for AF_INET6 */
};

/* A list of networks (TRUSTED_PROXIES); owned by whoever parsed it. */
struct addr_list {
	struct addr_cidr *items;
	size_t n;
};

#define ADDR_LIST_MAX 256	/* more entries: parse error */
#define ADDR_TEXT_MAX 46	/* INET6_ADDRSTRLEN */
#define ADDR_HASH_HEX 32	/* hex chars of the truncated keyed hash (128 bits) */

/*
 * Parse `len` bytes of `s` (need not be NUL-terminated) as one address:
 * IPv4 dotted quad or IPv6, surrounding spaces/tabs trimmed, and the forms
 * seen in X-Forwarded-For: "1.2.3.4:5678", "[2001:db8::1]",
 * "[2001:db8::1]:443".  "::ffff:a.b.c.d" yields the IPv4 address.  Rejects
 * len 0, len > 64, embedded NULs, zone ids and anything else.
 * Returns 0 and fills *out, or -1 leaving *out untouched.
 */
int addr_parse(const char *s, size_t len, struct addr *out);

/*
 * Parse a comma-separated list of addresses and CIDRs ("10.0.0.0/8,
 * 2001:db8::/32, 192.0.2.7"); a bare address is a /32 or /128, host bits
 * are masked off, "::ffff:a.b.c.d/N" (N >= 96) becomes the IPv4 CIDR /N-96.
 * Items are plain addresses: no ports, no brackets.  An empty or blank spec
 * gives an empty list (n 0, items NULL).
 * Returns 0 and fills *out; the caller owns out->items and releases it with
 * addr_list_free().  Returns -1 on any bad item, empty item or more than
 * ADDR_LIST_MAX items; then *out is empty (nothing to free) and, when err is
 * not NULL and errlen > 0, err holds a NUL-terminated message naming the
 * item (the caller prefixes the variable name).
 */
int addr_list_parse(const char *spec, struct addr_list *out, char *err, size_t errlen);

/*
 * Release what addr_list_parse() allocated and leave *list empty.  NULL and
 * an already empty list are fine.
 */
void addr_list_free(struct addr_list *list);

/*
 * Returns 1 if *a lies in any network of *list of the same family, else 0
 * (also 0 when list or a is NULL).
 */
int addr_list_contains(const struct addr_list *list, const struct addr *a);

/*
 * Resolve the client of a request.  remote_addr is REMOTE_ADDR
 * (NUL-terminated), xff the X-Forwarded-For header (NULL or "" = none),
 * trusted the trusted proxies (NULL = none).  If remote_addr is not trusted
 * it is the client; otherwise the right-most XFF entry that is not trusted,
 * or the left-most when all are.  A malformed XFF (bad or empty entry, more
 * than 8192 bytes, more than 64 entries) means the client is remote_addr.
 * Returns 0 and fills *out, or -1 (out untouched) only when remote_addr is
 * NULL or does not parse.
 */
int addr_resolve_client(const char *remote_addr, const char *xff,
    const struct addr_list *trusted, struct addr *out);

/*
 * Returns 1 if *a is a loopback address (127.0.0.0/8, ::1; ::ffff:127.x is
 * already IPv4 after addr_parse), else 0 (also for NULL).
 */
int addr_is_loopback(const struct addr *a);

/*
 * Whether a request comes from this host, for /metrics: 1 when REMOTE_ADDR
 * is loopback and, if it is a trusted proxy that sent X-Forwarded-For,
 * every entry of that header is a well-formed loopback address too; 0
 * otherwise, and always for a malformed header (bad or empty entry, over
 * the limits of addr_resolve_client).  Stricter than addr_resolve_client,
 * which stops at the right-most untrusted entry and falls back to
 * REMOTE_ADDR on a malformed header.
 */
int addr_forwarded_loopback(const char *remote_addr, const char *xff,
    const struct addr_list *trusted);

/*
 * Write the canonical text of *a (inet_ntop) into buf of `len` bytes,
 * NUL-terminated; ADDR_TEXT_MAX is always enough.  Returns 0, or -1 when buf
 * is too small or *a is not a valid address (buf then holds "" if len > 0).
 * The text is a raw address: never log it - log addr_hash() instead.
 */
int addr_format(const struct addr *a, char *buf, size_t len);

/*
 * The identity rate limits count on: an IPv4 address is itself; an IPv6
 * address is its /64 (lower 8 bytes zeroed).  Writes *out (may alias a).
 */
void addr_limit_key(const struct addr *a, struct addr *out);

/*
 * Keyed hash of an address for logs and Redis keys:
 * HMAC-SHA256(key, v || address bytes), with v the byte 4 and 4 bytes for
 * IPv4, 6 and 16 bytes for IPv6; the first 16 bytes of the MAC as 32
 * lowercase hex chars plus NUL in out.  The last few results are kept, with
 * a copy of their key (up to 128 bytes), and answered from memory.
 * Returns 0, or -1 (out = "") when key is NULL or empty, *a is not a valid
 * address, or the HMAC fails.  Logs nothing.
 */
int addr_hash(const void *key, size_t keylen, const struct addr *a,
    char out[ADDR_HASH_HEX + 1]);

#endif
