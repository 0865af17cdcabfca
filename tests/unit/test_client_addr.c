/*
 * test_client_addr.c - unit tests of lib/client_addr.c.
 *
 * Tests the public API only: this file is linked with client_addr.o (or
 * lib/client_addr.c), it does not #include the .c.  Build:
 *   gcc ... -Ilib -Itests/unit tests/unit/test_client_addr.c \
 *       lib/client_addr.c -lcrypto
 * The expected HMAC values were computed independently with
 *   printf '\x04\xc0\x00\x02\x01' | openssl dgst -sha256 -hmac "$KEY"
 * (and the 17-byte IPv6 message likewise), KEY as HASH_KEY below.
 */
#include "client_addr.h"
#include "check.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define HASH_KEY "portcullis-test-key-0123456789abcdef"

/* Parse s (NUL-terminated) and return its canonical text, or "ERR". */
static const char *parsed(const char *s, char buf[ADDR_TEXT_MAX])
{
	struct addr a;

	if (addr_parse(s, strlen(s), &a) != 0)
		return "ERR";
	if (addr_format(&a, buf, ADDR_TEXT_MAX) != 0)
		return "FMT";
	return buf;
}

static int family_of(const char *s)
{
	struct addr a;

	if (addr_parse(s, strlen(s), &a) != 0)
		return -1;
	return a.family;
}

/* An address from text that must parse. */
static struct addr A(const char *s)
{
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (addr_parse(s, strlen(s), &a) != 0)
		printf("# test bug: \"%s\" does not parse\n", s);
	return a;
}

static int in_list(const char *spec, const char *addr)
{
	struct addr_list l;
	struct addr a = A(addr);
	int r;

	if (addr_list_parse(spec, &l, NULL, 0) != 0)
		return -1;
	r = addr_list_contains(&l, &a);
	addr_list_free(&l);
	return r;
}

/* The error message addr_list_parse gives for spec, or "OK". */
static const char *list_err(const char *spec, char *err, size_t errlen)
{
	struct addr_list l;

	if (addr_list_parse(spec, &l, err, errlen) == 0) {
		addr_list_free(&l);
		return "OK";
	}
	if (l.items != NULL || l.n != 0)
		return "NOT EMPTY";
	return err;
}

/* Resolve and return the client's text, "ERR" on -1. */
static const char *resolved(const char *remote, const char *xff,
    const struct addr_list *trusted, char buf[ADDR_TEXT_MAX])
{
	struct addr a;

	if (addr_resolve_client(remote, xff, trusted, &a) != 0)
		return "ERR";
	if (addr_format(&a, buf, ADDR_TEXT_MAX) != 0)
		return "FMT";
	return buf;
}

static int is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return s[n] == '\0';
}

static void test_parse(void)
{
	char buf[ADDR_TEXT_MAX], big[301];
	struct addr a, sentinel;

	/* IPv4 */
	CHECK_STR(parsed("192.0.2.1", buf), "192.0.2.1");
	CHECK(family_of("192.0.2.1") == AF_INET);
	CHECK_STR(parsed("0.0.0.0", buf), "0.0.0.0");
	CHECK_STR(parsed("255.255.255.255", buf), "255.255.255.255");
	CHECK_STR(parsed("  192.0.2.1\t", buf), "192.0.2.1");
	CHECK_STR(parsed("\t \t192.0.2.1", buf), "192.0.2.1");

	/* IPv6 */
	CHECK_STR(parsed("2001:db8::1", buf), "2001:db8::1");
	CHECK(family_of("2001:db8::1") == AF_INET6);
	CHECK_STR(parsed("2001:DB8:0:0:0:0:0:1", buf), "2001:db8::1");
	CHECK_STR(parsed("::1", buf), "::1");
	CHECK_STR(parsed("::", buf), "::");
	CHECK_STR(parsed(" fe80::1 ", buf), "fe80::1");
	CHECK_STR(parsed("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", buf),
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* IPv4-compatible (not mapped) stays IPv6 */
	CHECK(family_of("::1.2.3.4") == AF_INET6);

	/* IPv4-mapped IPv6 becomes IPv4 */
	CHECK_STR(parsed("::ffff:192.0.2.1", buf), "192.0.2.1");
	CHECK(family_of("::ffff:192.0.2.1") == AF_INET);
	CHECK_STR(parsed("::FFFF:c000:0201", buf), "192.0.2.1");
	CHECK_STR(parsed("0:0:0:0:0:ffff:192.0.2.1", buf), "192.0.2.1");
	CHECK(memcmp(A("::ffff:192.0.2.1").b, A("192.0.2.1").b, 16) == 0);

	/* ports and brackets */
	CHECK_STR(parsed("192.0.2.1:5678", buf), "192.0.2.1");
	CHECK_STR(parsed("192.0.2.1:0", buf), "192.0.2.1");
	CHECK_STR(parsed("192.0.2.1:65535", buf), "192.0.2.1");
	CHECK_STR(parsed("[2001:db8::1]", buf), "2001:db8::1");
	CHECK_STR(parsed("[2001:db8::1]:443", buf), "2001:db8::1");
	CHECK_STR(parsed(" [2001:db8::1]:443\t", buf), "2001:db8::1");
	CHECK_STR(parsed("[::ffff:192.0.2.1]:80", buf), "192.0.2.1");
	CHECK(family_of("[::ffff:192.0.2.1]") == AF_INET);

	/* garbage */
	CHECK_STR(parsed("", buf), "ERR");
	CHECK_STR(parsed("   ", buf), "ERR");
	CHECK_STR(parsed("1.2.3", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4.5", buf), "ERR");
	CHECK_STR(parsed("::g", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4 5", buf), "ERR");
	CHECK_STR(parsed("256.1.1.1", buf), "ERR");
	CHECK_STR(parsed("01.2.3.4", buf), "ERR");
	CHECK_STR(parsed("-1.2.3.4", buf), "ERR");
	CHECK_STR(parsed("localhost", buf), "ERR");
	CHECK_STR(parsed("unknown", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4/32", buf), "ERR");
	CHECK_STR(parsed("fe80::1%eth0", buf), "ERR");
	CHECK_STR(parsed("[fe80::1%eth0]:80", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4:", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4:65536", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4:123456", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4:8x", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4:-1", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4:80:80", buf), "ERR");
	CHECK_STR(parsed("1.2.3.4 :80", buf), "ERR");
	CHECK_STR(parsed("[1.2.3.4]", buf), "ERR");
	CHECK_STR(parsed("[1.2.3.4]:80", buf), "ERR");
	CHECK_STR(parsed("[2001:db8::1", buf), "ERR");
	CHECK_STR(parsed("2001:db8::1]", buf), "ERR");
	CHECK_STR(parsed("[2001:db8::1]:", buf), "ERR");
	CHECK_STR(parsed("[2001:db8::1]443", buf), "ERR");
	CHECK_STR(parsed("[2001:db8::1]:443:1", buf), "ERR");
	CHECK_STR(parsed("[]", buf), "ERR");
	CHECK_STR(parsed("[ 2001:db8::1]", buf), "ERR");
	CHECK_STR(parsed("2001:db8:::1", buf), "ERR");
	CHECK_STR(parsed("1:2:3:4:5:6:7:8:9", buf), "ERR");

	memset(big, '1', 300);
	big[300] = '\0';
	CHECK_STR(parsed(big, buf), "ERR");
	/* 300 chars of valid address padded by spaces: still too long */
	memset(big, ' ', 300);
	memcpy(big + 150, "192.0.2.1", 9);
	CHECK_STR(parsed(big, buf), "ERR");
	/* 64 bytes is the limit, 65 is too many */
	memset(big, ' ', 64);
	memcpy(big, "192.0.2.1", 9);
	CHECK(addr_parse(big, 64, &a) == 0);
	CHECK(addr_parse(big, 65, &a) == -1);

	/* embedded NUL, not NUL-terminated input */
	CHECK(addr_parse("1.2.3.4\0", 8, &a) == -1);
	CHECK(addr_parse("1.2\0.3.4", 8, &a) == -1);
	CHECK(addr_parse("\0", 1, &a) == -1);
	CHECK(addr_parse("1.2.3.4", 0, &a) == -1);
	CHECK(addr_parse(NULL, 4, &a) == -1);
	CHECK(addr_parse("10.0.0.1XYZ", 8, &a) == 0 &&
	    addr_format(&a, buf, sizeof(buf)) == 0 && strcmp(buf, "10.0.0.1") == 0);
	CHECK(addr_parse("10.0.0.1234", 8, &a) == 0 && a.b[3] == 1);

	/* out untouched on failure; unused bytes zero on success */
	memset(&sentinel, 0xa5, sizeof(sentinel));
	a = sentinel;
	CHECK(addr_parse("1.2.3", 5, &a) == -1 &&
	    memcmp(&a, &sentinel, sizeof(a)) == 0);
	CHECK(addr_parse("1.2.3.4", 7, &a) == 0 && a.family == AF_INET &&
	    a.b[0] == 1 && a.b[3] == 4 && a.b[4] == 0 && a.b[15] == 0);
}

static void test_contains(void)
{
	/* IPv4 /0, /1, /8, /12, /24, /32 at their boundaries */
	CHECK(in_list("0.0.0.0/0", "0.0.0.0") == 1);
	CHECK(in_list("0.0.0.0/0", "255.255.255.255") == 1);
	CHECK(in_list("0.0.0.0/0", "::1") == 0);
	CHECK(in_list("0.0.0.0/0", "::ffff:192.0.2.1") == 1);
	CHECK(in_list("128.0.0.0/1", "128.0.0.0") == 1);
	CHECK(in_list("128.0.0.0/1", "255.255.255.255") == 1);
	CHECK(in_list("128.0.0.0/1", "127.255.255.255") == 0);
	CHECK(in_list("10.0.0.0/8", "10.0.0.0") == 1);
	CHECK(in_list("10.0.0.0/8", "10.255.255.255") == 1);
	CHECK(in_list("10.0.0.0/8", "9.255.255.255") == 0);
	CHECK(in_list("10.0.0.0/8", "11.0.0.0") == 0);
	CHECK(in_list("10.0.0.0/8", "::ffff:10.1.2.3") == 1);
	CHECK(in_list("10.0.0.0/8", "::a01:203") == 0);
	CHECK(in_list("10.0.0.0/12", "10.15.255.255") == 1);
	CHECK(in_list("10.0.0.0/12", "10.16.0.0") == 0);
	CHECK(in_list("192.0.2.0/24", "192.0.2.0") == 1);
	CHECK(in_list("192.0.2.0/24", "192.0.2.255") == 1);
	CHECK(in_list("192.0.2.0/24", "192.0.1.255") == 0);
	CHECK(in_list("192.0.2.0/24", "192.0.3.0") == 0);
	CHECK(in_list("192.0.2.7/32", "192.0.2.7") == 1);
	CHECK(in_list("192.0.2.7", "192.0.2.7") == 1);
	CHECK(in_list("192.0.2.7", "192.0.2.6") == 0);
	CHECK(in_list("192.0.2.7", "192.0.2.8") == 0);

	/* IPv6 /0, /1, /32, /33, /64, /128 at their boundaries */
	CHECK(in_list("::/0", "::") == 1);
	CHECK(in_list("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 1);
	CHECK(in_list("::/0", "192.0.2.1") == 0);
	CHECK(in_list("8000::/1", "8000::") == 1);
	CHECK(in_list("8000::/1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 1);
	CHECK(in_list("8000::/1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 0);
	CHECK(in_list("2001:db8::/32", "2001:db8::") == 1);
	CHECK(in_list("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff") == 1);
	CHECK(in_list("2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff") == 0);
	CHECK(in_list("2001:db8::/32", "2001:db9::") == 0);
	CHECK(in_list("2001:db8:8000::/33", "2001:db8:8000::") == 1);
	CHECK(in_list("2001:db8:8000::/33", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff") == 1);
	CHECK(in_list("2001:db8:8000::/33", "2001:db8:7fff:ffff:ffff:ffff:ffff:ffff") == 0);
	CHECK(in_list("2001:db8:1:2::/64", "2001:db8:1:2::") == 1);
	CHECK(in_list("2001:db8:1:2::/64", "2001:db8:1:2:ffff:ffff:ffff:ffff") == 1);
	CHECK(in_list("2001:db8:1:2::/64", "2001:db8:1:1:ffff:ffff:ffff:ffff") == 0);
	CHECK(in_list("2001:db8:1:2::/64", "2001:db8:1:3::") == 0);
	CHECK(in_list("2001:db8::1/128", "2001:db8::1") == 1);
	CHECK(in_list("2001:db8::1", "2001:db8::1") == 1);
	CHECK(in_list("2001:db8::1", "2001:db8::") == 0);
	CHECK(in_list("2001:db8::1", "2001:db8::2") == 0);

	/* several items, mixed families */
	CHECK(in_list("10.0.0.0/8, 2001:db8::/32", "2001:db8::5") == 1);
	CHECK(in_list("10.0.0.0/8, 2001:db8::/32", "10.9.9.9") == 1);
	CHECK(in_list("10.0.0.0/8, 2001:db8::/32", "192.0.2.1") == 0);

	/* empty and NULL */
	{
		struct addr_list empty = { NULL, 0 };
		struct addr a = A("10.0.0.1");

		CHECK(addr_list_contains(&empty, &a) == 0);
		CHECK(addr_list_contains(NULL, &a) == 0);
	}
}

static void test_list_parse(void)
{
	struct addr_list l, sentinel;
	struct addr_cidr dummy;
	char err[256], buf[ADDR_TEXT_MAX], spec[257 * 12 + 1];
	size_t i, n;
	int r;

	/* empty specs */
	CHECK(addr_list_parse("", &l, err, sizeof(err)) == 0 && l.n == 0 &&
	    l.items == NULL);
	CHECK(addr_list_parse("  \t ", &l, err, sizeof(err)) == 0 && l.n == 0 &&
	    l.items == NULL);
	CHECK(addr_list_parse(NULL, &l, err, sizeof(err)) == 0 && l.n == 0 &&
	    l.items == NULL);
	addr_list_free(&l);
	addr_list_free(NULL);

	/* several items, spaces, bare addresses, host bits masked */
	r = addr_list_parse(" 10.0.0.1/8, 2001:db8::1/32 ,\t192.0.2.7,::1 ", &l,
	    err, sizeof(err));
	CHECK(r == 0 && l.n == 4);
	if (r == 0 && l.n == 4) {
		CHECK(l.items[0].net.family == AF_INET && l.items[0].prefix == 8);
		CHECK(addr_format(&l.items[0].net, buf, sizeof(buf)) == 0);
		CHECK_STR(buf, "10.0.0.0");
		CHECK(l.items[1].net.family == AF_INET6 && l.items[1].prefix == 32);
		CHECK(addr_format(&l.items[1].net, buf, sizeof(buf)) == 0);
		CHECK_STR(buf, "2001:db8::");
		CHECK(l.items[2].net.family == AF_INET && l.items[2].prefix == 32);
		CHECK(l.items[3].net.family == AF_INET6 && l.items[3].prefix == 128);
	}
	addr_list_free(&l);
	CHECK(l.items == NULL && l.n == 0);

	/* odd prefixes mask inside a byte */
	CHECK(addr_list_parse("192.0.2.255/25", &l, err, sizeof(err)) == 0 &&
	    l.n == 1 && addr_format(&l.items[0].net, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "192.0.2.128");
	addr_list_free(&l);
	CHECK(addr_list_parse("10.0.0.0/0, ::1/0", &l, err, sizeof(err)) == 0 &&
	    l.n == 2 && l.items[0].prefix == 0 && l.items[0].net.b[0] == 0 &&
	    l.items[1].prefix == 0 && l.items[1].net.b[15] == 0);
	addr_list_free(&l);

	/* IPv4-mapped CIDRs become IPv4 CIDRs (prefix - 96); wider ones fail */
	CHECK(addr_list_parse("::ffff:10.0.0.0/104", &l, err, sizeof(err)) == 0 &&
	    l.n == 1 && l.items[0].net.family == AF_INET &&
	    l.items[0].prefix == 8 &&
	    addr_format(&l.items[0].net, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "10.0.0.0");
	addr_list_free(&l);
	CHECK(addr_list_parse("::ffff:10.0.0.1", &l, err, sizeof(err)) == 0 &&
	    l.n == 1 && l.items[0].net.family == AF_INET &&
	    l.items[0].prefix == 32);
	addr_list_free(&l);
	CHECK(addr_list_parse("::ffff:0.0.0.0/96", &l, err, sizeof(err)) == 0 &&
	    l.n == 1 && l.items[0].net.family == AF_INET &&
	    l.items[0].prefix == 0);
	addr_list_free(&l);
	CHECK(in_list("::ffff:10.0.0.0/104", "10.200.0.1") == 1);
	CHECK(in_list("::ffff:10.0.0.0/104", "::ffff:10.200.0.1") == 1);
	CHECK(in_list("::ffff:10.0.0.0/104", "11.0.0.1") == 0);
	CHECK_STR(list_err("::ffff:10.0.0.0/95", err, sizeof(err)),
	    "\"::ffff:10.0.0.0/95\" is not an address or CIDR");
	CHECK_STR(list_err("::ffff:10.0.0.0/129", err, sizeof(err)),
	    "\"::ffff:10.0.0.0/129\" is not an address or CIDR");

	/* bad prefixes and addresses */
	CHECK_STR(list_err("10.0.0.0/33", err, sizeof(err)),
	    "\"10.0.0.0/33\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0/-1", err, sizeof(err)),
	    "\"10.0.0.0/-1\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0/x", err, sizeof(err)),
	    "\"10.0.0.0/x\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0/", err, sizeof(err)),
	    "\"10.0.0.0/\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0/+8", err, sizeof(err)),
	    "\"10.0.0.0/+8\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0/0008", err, sizeof(err)),
	    "\"10.0.0.0/0008\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0/8/8", err, sizeof(err)),
	    "\"10.0.0.0/8/8\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0 /8", err, sizeof(err)),
	    "\"10.0.0.0 /8\" is not an address or CIDR");
	CHECK_STR(list_err("2001:db8::/129", err, sizeof(err)),
	    "\"2001:db8::/129\" is not an address or CIDR");
	CHECK_STR(list_err("/8", err, sizeof(err)),
	    "\"/8\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.1, bogus", err, sizeof(err)),
	    "\"bogus\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.1:80", err, sizeof(err)),
	    "\"10.0.0.1:80\" is not an address or CIDR");
	CHECK_STR(list_err("[::1]", err, sizeof(err)),
	    "\"[::1]\" is not an address or CIDR");
	CHECK_STR(list_err("fe80::1%eth0/64", err, sizeof(err)),
	    "\"fe80::1%eth0/64\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0/8 10.1.0.0/16", err, sizeof(err)),
	    "\"10.0.0.0/8 10.1.0.0/16\" is not an address or CIDR");
	CHECK_STR(list_err("10.0.0.0/8;10.1.0.0/16", err, sizeof(err)),
	    "\"10.0.0.0/8;10.1.0.0/16\" is not an address or CIDR");

	/* empty items */
	CHECK_STR(list_err("10.0.0.1,,10.0.0.2", err, sizeof(err)),
	    "entry 2 is empty");
	CHECK_STR(list_err("10.0.0.1, ,10.0.0.2", err, sizeof(err)),
	    "entry 2 is empty");
	CHECK_STR(list_err("10.0.0.1,", err, sizeof(err)), "entry 2 is empty");
	CHECK_STR(list_err(",10.0.0.1", err, sizeof(err)), "entry 1 is empty");
	CHECK_STR(list_err(",", err, sizeof(err)), "entry 1 is empty");

	/* a long bad item is quoted truncated; short buffers stay terminated */
	{
		char longitem[201];

		memset(longitem, 'x', 200);
		longitem[200] = '\0';
		CHECK(strcmp(list_err(longitem, err, sizeof(err)), "NOT EMPTY") != 0);
		CHECK(strncmp(err, "\"xxxx", 5) == 0 && strstr(err, "...\"") != NULL &&
		    strlen(err) < 120);
		CHECK(strcmp(list_err(longitem, err, 8), "NOT EMPTY") != 0 &&
		    strlen(err) == 7);
		CHECK(addr_list_parse(longitem, &l, NULL, 0) == -1 &&
		    l.items == NULL && l.n == 0);
	}

	/* ADDR_LIST_MAX items are fine, one more is not */
	spec[0] = '\0';
	for (i = 0, n = 0; i < ADDR_LIST_MAX; i++)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%s10.0.%zu.%zu",
		    i ? "," : "", i / 256, i % 256);
	CHECK(addr_list_parse(spec, &l, err, sizeof(err)) == 0 &&
	    l.n == ADDR_LIST_MAX);
	CHECK(in_list(spec, "10.0.0.255") == 1);
	addr_list_free(&l);
	snprintf(spec + n, sizeof(spec) - n, ",10.1.0.0");
	CHECK_STR(list_err(spec, err, sizeof(err)), "more than 256 entries");

	/* on -1, out is left empty even if it held something before */
	sentinel.items = &dummy;
	sentinel.n = 7;
	l = sentinel;
	CHECK(addr_list_parse("10.0.0.0/33", &l, err, sizeof(err)) == -1 &&
	    l.items == NULL && l.n == 0);
	l = sentinel;
	CHECK(addr_list_parse("10.0.0.1,,", &l, NULL, 0) == -1 &&
	    l.items == NULL && l.n == 0);
	CHECK(addr_list_parse("10.0.0.1", NULL, err, sizeof(err)) == -1);
}

static void test_resolve(void)
{
	struct addr_list t, empty = { NULL, 0 };
	struct addr a, sentinel;
	char buf[ADDR_TEXT_MAX], err[128], xff[9000];
	size_t i, n;

	if (addr_list_parse("10.0.0.0/8, 2001:db8:ffff::/48", &t, err,
	    sizeof(err)) != 0) {
		CHECK_MSG(0, "trusted list parses");
		return;
	}

	/* untrusted remote: XFF ignored */
	CHECK_STR(resolved("198.51.100.7", "203.0.113.9", &t, buf), "198.51.100.7");
	CHECK_STR(resolved("198.51.100.7", "10.0.0.2", &t, buf), "198.51.100.7");
	CHECK_STR(resolved("198.51.100.7", NULL, &t, buf), "198.51.100.7");
	CHECK_STR(resolved("2001:db8:1::1", "203.0.113.9", &t, buf), "2001:db8:1::1");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9", NULL, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9", &empty, buf), "10.0.0.1");

	/* trusted remote, no XFF */
	CHECK_STR(resolved("10.0.0.1", NULL, &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "", &t, buf), "10.0.0.1");

	/* trusted remote: right-most untrusted entry */
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9", &t, buf), "203.0.113.9");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9, 10.0.0.3, 10.0.0.2", &t, buf),
	    "203.0.113.9");
	CHECK_STR(resolved("10.0.0.1", "198.51.100.1, 203.0.113.9, 10.0.0.2", &t, buf),
	    "203.0.113.9");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9,10.0.0.2", &t, buf), "203.0.113.9");
	/* all trusted: the left-most */
	CHECK_STR(resolved("10.0.0.1", "10.0.0.5, 10.0.0.3", &t, buf), "10.0.0.5");
	CHECK_STR(resolved("10.0.0.1", "10.0.0.5", &t, buf), "10.0.0.5");

	/* spaces and tabs around entries */
	CHECK_STR(resolved("10.0.0.1", "  203.0.113.9 ,\t10.0.0.2  ", &t, buf),
	    "203.0.113.9");
	/* ports, brackets, IPv6 and mapped IPv4 in XFF */
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9:5678, 10.0.0.2:80", &t, buf),
	    "203.0.113.9");
	CHECK_STR(resolved("2001:db8:ffff::1",
	    "2001:db8:1::42, [2001:db8:ffff::2]:443", &t, buf), "2001:db8:1::42");
	CHECK_STR(resolved("10.0.0.1", "[2001:db8:1::42]", &t, buf), "2001:db8:1::42");
	CHECK_STR(resolved("10.0.0.1", "::ffff:203.0.113.9, ::ffff:10.0.0.2", &t, buf),
	    "203.0.113.9");
	CHECK(addr_resolve_client("10.0.0.1", "::ffff:203.0.113.9", &t, &a) == 0 &&
	    a.family == AF_INET);
	CHECK_STR(resolved("::ffff:10.0.0.1", "203.0.113.9", &t, buf), "203.0.113.9");
	CHECK_STR(resolved("[2001:db8:ffff::1]", "203.0.113.9", &t, buf), "203.0.113.9");

	/* malformed XFF: the remote address */
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9, bogus", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "bogus, 203.0.113.9", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9,,10.0.0.2", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9,", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", ",203.0.113.9", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9, ", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", " ", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "unknown", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9 10.0.0.2", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "203.0.113.9;10.0.0.2", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "fe80::1%eth0", &t, buf), "10.0.0.1");
	CHECK_STR(resolved("10.0.0.1", "for=203.0.113.9", &t, buf), "10.0.0.1");

	/* 64 entries fine, 65 malformed */
	for (i = 0, n = 0; i < 64; i++)
		n += (size_t)snprintf(xff + n, sizeof(xff) - n, "%s203.0.113.%zu",
		    i ? ", " : "", i);
	CHECK_STR(resolved("10.0.0.1", xff, &t, buf), "203.0.113.63");
	snprintf(xff + n, sizeof(xff) - n, ", 10.0.0.2");
	CHECK_STR(resolved("10.0.0.1", xff, &t, buf), "10.0.0.1");

	/*
	 * Longest well-formed header: 64 entries of 64 bytes (blank-padded) and
	 * 63 commas = 4159 bytes, so the 8192-byte cap only ever cuts headers the
	 * entry rules would reject anyway; check both sides of each bound.
	 */
	n = 0;
	for (i = 0; i < 64; i++)
		n += (size_t)snprintf(xff + n, sizeof(xff) - n, "%s%53s%-11s",
		    i ? "," : "", "", i == 63 ? "203.0.113.9" : "10.0.0.2");
	CHECK(n == 4159);
	CHECK_STR(resolved("10.0.0.1", xff, &t, buf), "203.0.113.9");
	/* one more blank makes the last entry 65 bytes: malformed */
	memcpy(xff + n, " ", 2);
	CHECK_STR(resolved("10.0.0.1", xff, &t, buf), "10.0.0.1");
	/* 8192 bytes / 8193 bytes of blanks around a lone address */
	memset(xff, ' ', sizeof(xff));
	memcpy(xff + 100, "203.0.113.9", 11);
	xff[8192] = '\0';
	CHECK_STR(resolved("10.0.0.1", xff, &t, buf), "10.0.0.1");
	xff[8192] = ' ';
	xff[8193] = '\0';
	CHECK_STR(resolved("10.0.0.1", xff, &t, buf), "10.0.0.1");
	/* 8193 bytes of otherwise fine-looking entries */
	n = 0;
	for (i = 0; n <= 8192; i++)
		n += (size_t)snprintf(xff + n, sizeof(xff) - n, "%s203.0.113.9",
		    i ? "," : "");
	CHECK(n > 8192);
	CHECK_STR(resolved("10.0.0.1", xff, &t, buf), "10.0.0.1");

	/* remote address errors: -1, out untouched */
	memset(&sentinel, 0x5a, sizeof(sentinel));
	a = sentinel;
	CHECK(addr_resolve_client(NULL, "203.0.113.9", &t, &a) == -1 &&
	    memcmp(&a, &sentinel, sizeof(a)) == 0);
	CHECK(addr_resolve_client("", NULL, &t, &a) == -1 &&
	    memcmp(&a, &sentinel, sizeof(a)) == 0);
	CHECK(addr_resolve_client("bogus", "203.0.113.9", &t, &a) == -1 &&
	    memcmp(&a, &sentinel, sizeof(a)) == 0);
	memset(xff, '1', 200);
	xff[200] = '\0';
	CHECK(addr_resolve_client(xff, NULL, &t, &a) == -1 &&
	    memcmp(&a, &sentinel, sizeof(a)) == 0);

	addr_list_free(&t);
}

static void test_format(void)
{
	struct addr a = A("192.0.2.1"), bad;
	char buf[ADDR_TEXT_MAX], small[10];

	CHECK(addr_format(&a, small, 10) == 0);
	CHECK_STR(small, "192.0.2.1");
	CHECK(addr_format(&a, small, 9) == -1 && small[0] == '\0');
	CHECK(addr_format(&a, small, 0) == -1);
	CHECK(addr_format(&a, NULL, 10) == -1);
	a = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	CHECK(addr_format(&a, buf, sizeof(buf)) == 0 && strlen(buf) == 39);
	CHECK(addr_format(&a, buf, 40) == 0);
	CHECK(addr_format(&a, buf, 39) == -1 && buf[0] == '\0');
	memset(&bad, 0, sizeof(bad));
	bad.family = 12345;
	CHECK(addr_format(&bad, buf, sizeof(buf)) == -1 && buf[0] == '\0');
	CHECK(addr_format(NULL, buf, sizeof(buf)) == -1);
}

static void test_limit_key(void)
{
	struct addr a, k, k2;
	char buf[ADDR_TEXT_MAX];

	a = A("192.0.2.1");
	addr_limit_key(&a, &k);
	CHECK(memcmp(&a, &k, sizeof(a)) == 0);
	a = A("::ffff:192.0.2.1");
	addr_limit_key(&a, &k2);
	CHECK(memcmp(&k, &k2, sizeof(k)) == 0);

	a = A("2001:db8:1:2:3:4:5:6");
	addr_limit_key(&a, &k);
	CHECK(k.family == AF_INET6 && addr_format(&k, buf, sizeof(buf)) == 0);
	CHECK_STR(buf, "2001:db8:1:2::");
	a = A("2001:db8:1:2:ffff:ffff:ffff:ffff");
	addr_limit_key(&a, &k2);
	CHECK(memcmp(&k, &k2, sizeof(k)) == 0);
	a = A("2001:db8:1:3::");
	addr_limit_key(&a, &k2);
	CHECK(memcmp(&k, &k2, sizeof(k)) != 0);
	a = A("2001:db8:1:1:ffff:ffff:ffff:ffff");
	addr_limit_key(&a, &k2);
	CHECK(memcmp(&k, &k2, sizeof(k)) != 0);

	/* in place */
	a = A("2001:db8:1:2:3:4:5:6");
	addr_limit_key(&a, &a);
	CHECK(memcmp(&a, &k, sizeof(a)) == 0);
}

static void test_hash(void)
{
	static const char key[] = HASH_KEY;
	static const char other[] = HASH_KEY "!";
	struct addr a, b, k1, k2, bad;
	char h[ADDR_HASH_HEX + 1], h2[ADDR_HASH_HEX + 1];

	a = A("192.0.2.1");
	CHECK(addr_hash(key, strlen(key), &a, h) == 0);
	CHECK(strlen(h) == ADDR_HASH_HEX && is_lower_hex(h, ADDR_HASH_HEX));
	/* openssl dgst -sha256 -hmac KEY over 04 c0 00 02 01 */
	CHECK_STR(h, "0916ba9c3ff16f898675ed052d75ca1a");
	CHECK(addr_hash(key, strlen(key), &a, h2) == 0);
	CHECK_STR(h2, h);

	b = A("::ffff:192.0.2.1");
	CHECK(addr_hash(key, strlen(key), &b, h2) == 0);
	CHECK_STR(h2, h);
	b = A("192.0.2.2");
	CHECK(addr_hash(key, strlen(key), &b, h2) == 0 && strcmp(h, h2) != 0);
	CHECK(addr_hash(other, strlen(other), &a, h2) == 0 && strcmp(h, h2) != 0);
	CHECK(addr_hash(key, strlen(key) - 1, &a, h2) == 0 && strcmp(h, h2) != 0);

	a = A("2001:db8::1");
	CHECK(addr_hash(key, strlen(key), &a, h) == 0);
	/* openssl dgst -sha256 -hmac KEY over 06 20 01 0d b8 00 .. 00 01 */
	CHECK_STR(h, "8f982424178acdfd1db64e91df153af7");
	/* the IPv4-compatible ::c000:201 is not 192.0.2.1 */
	b = A("::192.0.2.1");
	CHECK(addr_hash(key, strlen(key), &b, h2) == 0 &&
	    strcmp(h2, "0916ba9c3ff16f898675ed052d75ca1a") != 0);

	/* one /64, one rate-limit hash */
	a = A("2001:db8:1:2::1");
	b = A("2001:db8:1:2:aaaa::9");
	addr_limit_key(&a, &k1);
	addr_limit_key(&b, &k2);
	CHECK(addr_hash(key, strlen(key), &k1, h) == 0 &&
	    addr_hash(key, strlen(key), &k2, h2) == 0);
	CHECK_STR(h2, h);
	CHECK(addr_hash(key, strlen(key), &a, h) == 0 &&
	    addr_hash(key, strlen(key), &b, h2) == 0 && strcmp(h, h2) != 0);

	/* Remembered results: the same answers after other addresses and keys came and went. */
	for (int i = 0; i < 40; i++) {
		char text[32];

		snprintf(text, sizeof(text), "198.51.100.%d", i);
		b = A(text);
		CHECK(addr_hash(i % 2 ? other : key, strlen(key) + (size_t)(i % 2), &b, h2) == 0);
		a = A("192.0.2.1");
		CHECK(addr_hash(key, strlen(key), &a, h) == 0);
		CHECK_STR(h, "0916ba9c3ff16f898675ed052d75ca1a");
		CHECK(addr_hash(other, strlen(other), &a, h) == 0 &&
		    strcmp(h, "0916ba9c3ff16f898675ed052d75ca1a") != 0);
	}
	a = A("2001:db8::1");
	CHECK(addr_hash(key, strlen(key), &a, h) == 0);
	CHECK_STR(h, "8f982424178acdfd1db64e91df153af7");
	/* A key of the same length but other bytes is not the cached one. */
	{
		char twin[sizeof(key)];

		memcpy(twin, key, sizeof(key));
		twin[0] ^= 1;
		CHECK(addr_hash(twin, strlen(twin), &a, h2) == 0 && strcmp(h, h2) != 0);
	}

	/* refusals leave "" */
	a = A("192.0.2.1");
	memcpy(h, "junk", 5);
	CHECK(addr_hash(NULL, 32, &a, h) == -1 && h[0] == '\0');
	memcpy(h, "junk", 5);
	CHECK(addr_hash(key, 0, &a, h) == -1 && h[0] == '\0');
	memset(&bad, 0, sizeof(bad));
	bad.family = 12345;
	memcpy(h, "junk", 5);
	CHECK(addr_hash(key, strlen(key), &bad, h) == -1 && h[0] == '\0');
	CHECK(addr_hash(key, strlen(key), NULL, h) == -1);
}

static void test_forwarded_loopback(void)
{
	struct addr_list t, none = { NULL, 0 };
	struct addr a;
	char err[128];

	if (addr_list_parse("127.0.0.1, ::1", &t, err, sizeof(err)) != 0) {
		CHECK_MSG(0, "trusted list parses");
		return;
	}
	/* not behind a trusted proxy: REMOTE_ADDR alone decides */
	CHECK(addr_forwarded_loopback("127.0.0.1", "203.0.113.9", &none) == 1);
	CHECK(addr_forwarded_loopback("127.0.0.2", NULL, &none) == 1);
	CHECK(addr_forwarded_loopback("::1", NULL, &none) == 1);
	CHECK(addr_forwarded_loopback("::ffff:127.0.0.1", NULL, &none) == 1);
	CHECK(addr_forwarded_loopback("192.0.2.1", "127.0.0.1", &none) == 0);
	CHECK(addr_forwarded_loopback("192.0.2.1", NULL, &t) == 0);
	CHECK(addr_forwarded_loopback(NULL, NULL, &t) == 0);
	CHECK(addr_forwarded_loopback("garbage", NULL, &none) == 0);
	/* behind a trusted loopback proxy: every entry must be loopback */
	CHECK(addr_forwarded_loopback("127.0.0.1", NULL, &t) == 1);
	CHECK(addr_forwarded_loopback("127.0.0.1", "", &t) == 1);
	CHECK(addr_forwarded_loopback("127.0.0.1", "127.0.0.1", &t) == 1);
	CHECK(addr_forwarded_loopback("127.0.0.1", "127.0.0.5, ::1, [::1]:80", &t) == 1);
	CHECK(addr_forwarded_loopback("127.0.0.1", "203.0.113.9", &t) == 0);
	CHECK(addr_forwarded_loopback("127.0.0.1", "203.0.113.9, 127.0.0.1", &t) == 0);
	CHECK(addr_forwarded_loopback("127.0.0.1", "127.0.0.1, 203.0.113.9", &t) == 0);
	/* malformed: never loopback, though rate limits fall back to REMOTE_ADDR */
	CHECK(addr_forwarded_loopback("127.0.0.1", "x, 203.0.113.9", &t) == 0);
	CHECK(addr_resolve_client("127.0.0.1", "x, 203.0.113.9", &t, &a) == 0 && addr_is_loopback(&a));
	CHECK(addr_forwarded_loopback("127.0.0.1", "127.0.0.1,", &t) == 0);
	CHECK(addr_forwarded_loopback("127.0.0.1", "garbage", &t) == 0);
	/* addr_is_loopback */
	a = A("127.255.0.1");
	CHECK(addr_is_loopback(&a) == 1);
	a = A("128.0.0.1");
	CHECK(addr_is_loopback(&a) == 0);
	a = A("::2");
	CHECK(addr_is_loopback(&a) == 0);
	CHECK(addr_is_loopback(NULL) == 0);
	addr_list_free(&t);
}

int main(void)
{
	test_parse();
	test_contains();
	test_list_parse();
	test_resolve();
	test_format();
	test_limit_key();
	test_hash();
	test_forwarded_loopback();
	return check_summary();
}
