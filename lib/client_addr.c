/*
 * client_addr.c - client-address resolution for rate limits and logs.
 *
 * Design: every piece of text from the wire (REMOTE_ADDR, X-Forwarded-For)
 * is length-checked first and then copied into a small bounded stack buffer
 * before inet_pton() sees it, so no parser here ever reads past what it was
 * given and nothing is allocated per request; only the TRUSTED_PROXIES list,
 * parsed once at startup, lives on the heap.  IPv4-mapped IPv6 is folded
 * into IPv4 at parse time, so one client has one binary form, one rate-limit
 * key and one hash.  The hash input uses the fixed bytes 4 and 6 for the
 * family rather than AF_INET/AF_INET6, whose values differ between systems,
 * so hosts sharing one Redis always agree on a client's key.
 */
#include "client_addr.h"
#include "crypto.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define ADDR_IN_MAX	64	/* longest text addr_parse() looks at */
#define XFF_MAX_BYTES	8192	/* longer X-Forwarded-For: malformed */
#define XFF_MAX_ENTRIES	64	/* more entries: malformed */
#define ERR_ITEM_MAX	80	/* bytes of a bad item quoted in a message */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Narrow [*s, *s + *len) to its part without leading/trailing spaces/tabs. */
static void trim(const char **s, size_t *len)
{
	while (*len > 0 && is_blank((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_blank((*s)[*len - 1]))
		(*len)--;
}

static int valid_family(const struct addr *a)
{
	return a != NULL && (a->family == AF_INET || a->family == AF_INET6);
}

static int family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/*
 * Parse a bare address (no brackets, port, zone or blanks) of len bytes.
 * *was_v6 tells whether the text was IPv6 (also when it was folded from
 * ::ffff:a.b.c.d into IPv4).  Returns 0 and fills *out, or -1.
 */
static int parse_plain(const char *s, size_t len, struct addr *out, int *was_v6)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	char buf[ADDR_IN_MAX + 1];
	unsigned char bin[16];
	struct addr a;

	if (len == 0 || len > ADDR_IN_MAX)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strlen(buf) != len || strchr(buf, '%') != NULL)
		return -1;

	memset(&a, 0, sizeof(a));
	if (strchr(buf, ':') != NULL) {
		if (inet_pton(AF_INET6, buf, bin) != 1)
			return -1;
		if (memcmp(bin, mapped, sizeof(mapped)) == 0) {
			a.family = AF_INET;
			memcpy(a.b, bin + 12, 4);
		} else {
			a.family = AF_INET6;
			memcpy(a.b, bin, 16);
		}
		*was_v6 = 1;
	} else {
		if (inet_pton(AF_INET, buf, bin) != 1)
			return -1;
		a.family = AF_INET;
		memcpy(a.b, bin, 4);
		*was_v6 = 0;
	}
	*out = a;
	return 0;
}

/* A port: 1 to 5 decimal digits, at most 65535.  Returns 0 or -1. */
static int valid_port(const char *s, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v <= 65535 ? 0 : -1;
}

int addr_parse(const char *s, size_t len, struct addr *out)
{
	const char *p, *close, *colon;
	size_t n, inner, ncolon, i;
	struct addr a;
	int was_v6;

	if (s == NULL || out == NULL || len == 0 || len > ADDR_IN_MAX)
		return -1;
	if (memchr(s, '\0', len) != NULL)
		return -1;
	p = s;
	n = len;
	trim(&p, &n);
	if (n == 0)
		return -1;

	if (p[0] == '[') {
		/* "[v6]" or "[v6]:port"; brackets hold IPv6 text only */
		close = memchr(p, ']', n);
		if (close == NULL)
			return -1;
		inner = (size_t)(close - p) - 1;
		if (parse_plain(p + 1, inner, &a, &was_v6) != 0 || !was_v6)
			return -1;
		i = (size_t)(close - p) + 1;	/* bytes up to and with ']' */
		if (i < n) {
			if (p[i] != ':' || valid_port(p + i + 1, n - i - 1) != 0)
				return -1;
		}
		*out = a;
		return 0;
	}

	ncolon = 0;
	for (i = 0; i < n; i++)
		if (p[i] == ':')
			ncolon++;
	if (ncolon == 1) {
		/* "a.b.c.d:port": one colon can only be IPv4 with a port */
		colon = memchr(p, ':', n);
		if (colon == NULL)
			return -1;
		inner = (size_t)(colon - p);
		if (parse_plain(p, inner, &a, &was_v6) != 0 || was_v6)
			return -1;
		if (valid_port(colon + 1, n - inner - 1) != 0)
			return -1;
		*out = a;
		return 0;
	}
	if (parse_plain(p, n, &a, &was_v6) != 0)
		return -1;
	*out = a;
	return 0;
}

/* Clear every bit of a past the first `prefix` bits. */
static void mask_addr(struct addr *a, int prefix)
{
	int bits = family_bits(a->family), i;

	for (i = 0; i < bits / 8; i++) {
		int keep = prefix - i * 8;

		if (keep >= 8)
			continue;
		if (keep <= 0)
			a->b[i] = 0;
		else
			a->b[i] &= (unsigned char)(0xffu << (8 - keep));
	}
}

/* 1 if the first `prefix` bits of x and y agree, else 0. */
static int prefix_equal(const unsigned char *x, const unsigned char *y, int prefix)
{
	int whole = prefix / 8, rest = prefix % 8;
	unsigned char m;

	if (whole > 0 && memcmp(x, y, (size_t)whole) != 0)
		return 0;
	if (rest == 0)
		return 1;
	m = (unsigned char)(0xffu << (8 - rest));
	return (x[whole] & m) == (y[whole] & m);
}

/*
 * Parse one list item: an address with an optional "/prefix".
 * Returns 0 and fills *out, or -1.
 */
static int parse_cidr(const char *s, size_t len, struct addr_cidr *out)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - s) : len;
	struct addr a;
	int was_v6, prefix, max;

	if (parse_plain(s, alen, &a, &was_v6) != 0)
		return -1;
	max = was_v6 ? 128 : 32;
	if (slash != NULL) {
		const char *d = slash + 1;
		size_t dlen = len - alen - 1, i;

		if (dlen == 0 || dlen > 3)
			return -1;
		prefix = 0;
		for (i = 0; i < dlen; i++) {
			if (d[i] < '0' || d[i] > '9')
				return -1;
			prefix = prefix * 10 + (d[i] - '0');
		}
		if (prefix > max)
			return -1;
	} else {
		prefix = max;
	}
	if (was_v6 && a.family == AF_INET) {
		/* ::ffff:a.b.c.d/N is the IPv4 network /N-96; wider is not */
		if (prefix < 96)
			return -1;
		prefix -= 96;
	}
	mask_addr(&a, prefix);
	out->net = a;
	out->prefix = prefix;
	return 0;
}

static void set_err(char *err, size_t errlen, const char *item, size_t len,
    const char *what)
{
	int n;

	if (err == NULL || errlen == 0)
		return;
	if (len > ERR_ITEM_MAX)
		n = snprintf(err, errlen, "\"%.*s...\" %s", ERR_ITEM_MAX, item, what);
	else
		n = snprintf(err, errlen, "\"%.*s\" %s", (int)len, item, what);
	if (n < 0)
		err[0] = '\0';
}

int addr_list_parse(const char *spec, struct addr_list *out, char *err, size_t errlen)
{
	struct addr_cidr *items = NULL;
	const char *p, *end, *comma, *item;
	size_t count, n, ilen;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL)
		return -1;
	out->items = NULL;
	out->n = 0;
	if (spec == NULL)
		return 0;

	end = spec + strlen(spec);
	p = spec;
	n = (size_t)(end - spec);
	trim(&p, &n);
	if (n == 0)
		return 0;

	count = 1;
	for (item = spec; item < end; item++) {
		if (*item == ',' && ++count > ADDR_LIST_MAX) {
			if (err != NULL && errlen > 0 &&
			    snprintf(err, errlen, "more than %d entries",
			    ADDR_LIST_MAX) < 0)
				err[0] = '\0';
			return -1;
		}
	}
	items = calloc(count, sizeof(*items));
	if (items == NULL) {
		if (err != NULL && errlen > 0 &&
		    snprintf(err, errlen, "out of memory") < 0)
			err[0] = '\0';
		return -1;
	}

	n = 0;
	p = spec;
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		item = p;
		ilen = (size_t)((comma != NULL ? comma : end) - p);
		trim(&item, &ilen);
		if (ilen == 0) {
			if (err != NULL && errlen > 0 &&
			    snprintf(err, errlen, "entry %zu is empty", n + 1) < 0)
				err[0] = '\0';
			goto fail;
		}
		if (parse_cidr(item, ilen, &items[n]) != 0) {
			set_err(err, errlen, item, ilen,
			    "is not an address or CIDR");
			goto fail;
		}
		n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	out->items = items;
	out->n = n;
	return 0;

fail:
	free(items);
	return -1;
}

void addr_list_free(struct addr_list *list)
{
	if (list == NULL)
		return;
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

int addr_list_contains(const struct addr_list *list, const struct addr *a)
{
	size_t i;

	if (list == NULL || !valid_family(a))
		return 0;
	for (i = 0; i < list->n; i++) {
		const struct addr_cidr *c = &list->items[i];

		if (c->net.family == a->family &&
		    prefix_equal(c->net.b, a->b, c->prefix))
			return 1;
	}
	return 0;
}

/*
 * Parse X-Forwarded-For into at most XFF_MAX_ENTRIES addresses, left to
 * right.  Returns the number of entries (0 for none), or -1 if malformed.
 */
static int parse_xff(const char *xff, struct addr *v)
{
	const char *p, *end, *comma;
	size_t len;
	int n = 0;

	if (xff == NULL)
		return 0;
	len = strnlen(xff, XFF_MAX_BYTES + 1);
	if (len > XFF_MAX_BYTES)
		return -1;
	if (len == 0)
		return 0;
	p = xff;
	end = xff + len;
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (n == XFF_MAX_ENTRIES)
			return -1;
		if (addr_parse(p, (size_t)((comma != NULL ? comma : end) - p),
		    &v[n]) != 0)
			return -1;
		n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return n;
}

int addr_resolve_client(const char *remote_addr, const char *xff,
    const struct addr_list *trusted, struct addr *out)
{
	struct addr remote, chain[XFF_MAX_ENTRIES];
	int n, i;

	if (remote_addr == NULL || out == NULL)
		return -1;
	if (addr_parse(remote_addr, strnlen(remote_addr, ADDR_IN_MAX + 1),
	    &remote) != 0)
		return -1;
	if (!addr_list_contains(trusted, &remote)) {
		*out = remote;
		return 0;
	}
	n = parse_xff(xff, chain);
	if (n <= 0) {
		*out = remote;
		return 0;
	}
	for (i = n - 1; i >= 0; i--) {
		if (!addr_list_contains(trusted, &chain[i])) {
			*out = chain[i];
			return 0;
		}
	}
	*out = chain[0];
	return 0;
}

int addr_is_loopback(const struct addr *a)
{
	static const unsigned char v6_loopback[16] = { [15] = 1 };

	if (!valid_family(a))
		return 0;
	if (a->family == AF_INET)
		return a->b[0] == 127;
	return memcmp(a->b, v6_loopback, sizeof(v6_loopback)) == 0;
}

int addr_forwarded_loopback(const char *remote_addr, const char *xff,
    const struct addr_list *trusted)
{
	struct addr remote, chain[XFF_MAX_ENTRIES];
	int n, i;

	if (remote_addr == NULL ||
	    addr_parse(remote_addr, strnlen(remote_addr, ADDR_IN_MAX + 1), &remote) != 0 ||
	    !addr_is_loopback(&remote))
		return 0;
	if (!addr_list_contains(trusted, &remote))
		return 1;
	n = parse_xff(xff, chain);
	if (n < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!addr_is_loopback(&chain[i]))
			return 0;
	return 1;
}

int addr_format(const struct addr *a, char *buf, size_t len)
{
	char tmp[ADDR_TEXT_MAX];
	size_t n;

	if (buf == NULL || len == 0)
		return -1;
	buf[0] = '\0';
	if (!valid_family(a))
		return -1;
	if (inet_ntop(a->family, a->b, tmp, sizeof(tmp)) == NULL)
		return -1;
	n = strnlen(tmp, sizeof(tmp));
	if (n >= len)
		return -1;
	memcpy(buf, tmp, n + 1);
	return 0;
}

void addr_limit_key(const struct addr *a, struct addr *out)
{
	struct addr k;

	if (a == NULL || out == NULL)
		return;
	k = *a;
	if (k.family == AF_INET)
		memset(k.b + 4, 0, 12);
	else if (k.family == AF_INET6)
		memset(k.b + 8, 0, 8);
	*out = k;
}

/*
 * The last few addresses hashed, with their key: a request hashes its
 * client twice (the log's client, the rate limit's key) and a client sends
 * many requests, so most hashes are found here instead of in an HMAC.
 */
#define HASH_CACHE_SLOTS 8
#define HASH_CACHE_KEY_MAX 128

static struct hash_slot {
	size_t keylen, msglen; /* keylen 0: empty */
	unsigned char key[HASH_CACHE_KEY_MAX];
	unsigned char msg[17];
	char hex[ADDR_HASH_HEX + 1];
} hash_cache[HASH_CACHE_SLOTS];
static unsigned hash_cache_next;

static const struct hash_slot *hash_cached(const void *key, size_t keylen,
    const unsigned char *msg, size_t msglen)
{
	for (size_t i = 0; i < HASH_CACHE_SLOTS; i++) {
		const struct hash_slot *s = &hash_cache[i];

		if (s->keylen == keylen && s->msglen == msglen && memcmp(s->msg, msg, msglen) == 0 &&
		    CRYPTO_memcmp(s->key, key, keylen) == 0)
			return s;
	}
	return NULL;
}

static void hash_remember(const void *key, size_t keylen, const unsigned char *msg,
    size_t msglen, const char *hex)
{
	struct hash_slot *s;

	if (keylen > HASH_CACHE_KEY_MAX)
		return;
	s = &hash_cache[hash_cache_next++ % HASH_CACHE_SLOTS];
	memcpy(s->key, key, keylen);
	s->keylen = keylen;
	memcpy(s->msg, msg, msglen);
	s->msglen = msglen;
	memcpy(s->hex, hex, sizeof(s->hex));
}

int addr_hash(const void *key, size_t keylen, const struct addr *a,
    char out[ADDR_HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	const struct hash_slot *hit;
	unsigned char msg[17], md[EVP_MAX_MD_SIZE];
	int mdlen;
	size_t msglen, i;

	if (out == NULL)
		return -1;
	out[0] = '\0';
	if (key == NULL || keylen == 0 || keylen > INT_MAX || !valid_family(a))
		return -1;
	if (a->family == AF_INET) {
		msg[0] = 4;
		memcpy(msg + 1, a->b, 4);
		msglen = 5;
	} else {
		msg[0] = 6;
		memcpy(msg + 1, a->b, 16);
		msglen = 17;
	}
	if ((hit = hash_cached(key, keylen, msg, msglen)) != NULL) {
		memcpy(out, hit->hex, ADDR_HASH_HEX + 1);
		OPENSSL_cleanse(msg, sizeof(msg));
		return 0;
	}
	mdlen = crypto_hmac("SHA256", key, keylen, msg, msglen, md, sizeof(md));
	if (mdlen < ADDR_HASH_HEX / 2) {
		OPENSSL_cleanse(md, sizeof(md));
		OPENSSL_cleanse(msg, sizeof(msg));
		return -1;
	}
	for (i = 0; i < ADDR_HASH_HEX / 2; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[ADDR_HASH_HEX] = '\0';
	hash_remember(key, keylen, msg, msglen, out);
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(msg, sizeof(msg));
	return 0;
}
