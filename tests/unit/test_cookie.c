/*
 * test_cookie.c - unit tests of lib/cookie.c (cookie_get).
 *
 * The Cookie header is attacker-controlled, so besides the ordinary forms
 * this checks the bounds (header length, number of pairs, output size) and
 * that malformed pairs are skipped rather than misread.
 */
#include "cookie.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

/* cookie_get into a 256-byte buffer; returns the value, or a marker. */
static const char *get(const char *header, const char *name)
{
	static char out[256];

	memset(out, 'Z', sizeof(out));
	switch (cookie_get(header, name, out, sizeof(out))) {
	case COOKIE_FOUND:
		return out;
	case COOKIE_ABSENT:
		return "(absent)";
	case COOKIE_TOO_LONG:
		return "(too long)";
	}
	return "(bad result)";
}

static void test_simple(void)
{
	CHECK_STR(get("a=1", "a"), "1");
	CHECK_STR(get("__Host-access=eyJ.x.y", "__Host-access"), "eyJ.x.y");
	CHECK_STR(get("a=1", "b"), "(absent)");
	CHECK_STR(get("", "a"), "(absent)");
	CHECK_STR(get("a=1", ""), "(absent)");
}

static void test_several_pairs(void)
{
	const char *h = "a=1; b=22; c=333";

	CHECK_STR(get(h, "a"), "1");
	CHECK_STR(get(h, "b"), "22");
	CHECK_STR(get(h, "c"), "333");
	CHECK_STR(get(h, "d"), "(absent)");
	/* No space after the semicolon, and extra blanks around pairs. */
	CHECK_STR(get("a=1;b=2", "b"), "2");
	CHECK_STR(get("  a=1 ;   b=2  ", "a"), "1");
	CHECK_STR(get("  a=1 ;   b=2  ", "b"), "2");
	CHECK_STR(get("a=1;\tb=2", "b"), "2");
	/* Empty pairs in between are harmless. */
	CHECK_STR(get(";;a=1;;;b=2;", "b"), "2");
	/* A name must match whole, not as a part of the value. */
	CHECK_STR(get("x=b=3; b=4", "b"), "4");
	CHECK_STR(get("x=b=3", "x"), "b=3");
}

static void test_duplicates(void)
{
	CHECK_STR(get("a=first; a=second", "a"), "first");
	CHECK_STR(get("b=0; a=first; a=second", "a"), "first");
	/* An invalid first one is skipped, the next valid one counts. */
	CHECK_STR(get("a=bad\\value; a=good", "a"), "good");
}

static void test_quoted(void)
{
	CHECK_STR(get("a=\"quoted\"", "a"), "quoted");
	CHECK_STR(get("a=\"\"", "a"), "");
	CHECK_STR(get("a=\"x\"; b=2", "a"), "x");
	/* A lone or unbalanced quote is not a valid value. */
	CHECK_STR(get("a=\"", "a"), "(absent)");
	CHECK_STR(get("a=\"open", "a"), "(absent)");
	CHECK_STR(get("a=close\"", "a"), "(absent)");
	/* A quote inside the quotes is not a cookie-octet either. */
	CHECK_STR(get("a=\"x\"y\"", "a"), "(absent)");
}

static void test_prefix_suffix_names(void)
{
	const char *h = "__Host-accessX=wrong1; X__Host-access=wrong2; __Host-acces=wrong3; "
	    "__Host-access=right";

	CHECK_STR(get(h, "__Host-access"), "right");
	CHECK_STR(get(h, "__Host-accessX"), "wrong1");
	CHECK_STR(get(h, "X__Host-access"), "wrong2");
	CHECK_STR(get("__Host-accessX=1; X__Host-access=2", "__Host-access"), "(absent)");
	/* Names are case-sensitive. */
	CHECK_STR(get("__host-access=1", "__Host-access"), "(absent)");
	/* A name of a value must not be matched: "a" inside "ba". */
	CHECK_STR(get("ba=1", "a"), "(absent)");
	CHECK_STR(get("ab=1", "a"), "(absent)");
}

static void test_empty_and_no_equals(void)
{
	CHECK_STR(get("a=", "a"), "");
	CHECK_STR(get("a=; b=2", "a"), "");
	CHECK_STR(get("a=; b=2", "b"), "2");
	/* A pair without '=' is skipped, also when it equals the name. */
	CHECK_STR(get("a", "a"), "(absent)");
	CHECK_STR(get("a; a=2", "a"), "2");
	CHECK_STR(get("junk; b=2", "b"), "2");
	/* An empty name is not a pair. */
	CHECK_STR(get("=1; a=2", "a"), "2");
	CHECK_STR(get("=1", ""), "(absent)");
}

static void test_invalid_octets(void)
{
	/* Values: space, comma, backslash, DQUOTE inside, control, DEL, 8-bit. */
	CHECK_STR(get("a=x y", "a"), "(absent)");
	CHECK_STR(get("a=x,y", "a"), "(absent)");
	CHECK_STR(get("a=x\\y", "a"), "(absent)");
	CHECK_STR(get("a=x\"y", "a"), "(absent)");
	CHECK_STR(get("a=x\001y", "a"), "(absent)");
	CHECK_STR(get("a=x\177y", "a"), "(absent)");
	CHECK_STR(get("a=\xc3\xa9", "a"), "(absent)");
	CHECK_STR(get("a=x\r\ny", "a"), "(absent)");
	/* The bad pair is skipped; the others still parse. */
	CHECK_STR(get("a=x y; b=ok", "b"), "ok");
	CHECK_STR(get("b=ok; a=x,y", "b"), "ok");
	/* Names: separators and 8-bit bytes make a pair invalid. */
	CHECK_STR(get("a(=1", "a("), "(absent)");
	CHECK_STR(get("a/b=1", "a/b"), "(absent)");
	CHECK_STR(get("\xc3\xa9=1", "\xc3\xa9"), "(absent)");
	CHECK_STR(get("a b=1; c=2", "c"), "2");
	/* Every allowed octet class passes (0x21, 0x23-0x2b, 0x2d-0x3a, 0x3c-0x5b, 0x5d-0x7e). */
	CHECK_STR(get("a=!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~", "a"), "!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~");
}

static void test_header_max(void)
{
	size_t n = COOKIE_HEADER_MAX;
	char *h = malloc(n + 2);
	char out[16];

	if (h == NULL) {
		CHECK_MSG(0, "malloc");
		return;
	}
	/* Exactly COOKIE_HEADER_MAX bytes: "a=1; " then filler "x=yyyy...". */
	memset(h, 'y', n + 1);
	memcpy(h, "a=1; x=", 7);
	h[n] = '\0';
	CHECK(strlen(h) == COOKIE_HEADER_MAX);
	CHECK(cookie_get(h, "a", out, sizeof(out)) == COOKIE_FOUND);
	CHECK_STR(out, "1");
	/* One byte more: the whole header is ignored. */
	h[n] = 'y';
	h[n + 1] = '\0';
	CHECK(strlen(h) == COOKIE_HEADER_MAX + 1);
	CHECK(cookie_get(h, "a", out, sizeof(out)) == COOKIE_ABSENT);
	free(h);
}

static void test_pairs_max(void)
{
	char h[2048];
	size_t len = 0;

	/* Pairs p1..p(MAX-1), then the target as pair number MAX. */
	for (int i = 1; i < COOKIE_PAIRS_MAX; i++)
		len += (size_t)snprintf(h + len, sizeof(h) - len, "p%d=%d; ", i, i);
	snprintf(h + len, sizeof(h) - len, "target=yes");
	CHECK_STR(get(h, "target"), "yes");
	CHECK_STR(get(h, "p1"), "1");
	/* Pushed to pair number MAX + 1, it is no longer looked at. */
	memmove(h + 5, h, strlen(h) + 1);
	memcpy(h, "q=0; ", 5);
	CHECK_STR(get(h, "q"), "0");
	CHECK_STR(get(h, "target"), "(absent)");
	/* Pairs without '=' count as pairs too. */
	len = 0;
	for (int i = 0; i < COOKIE_PAIRS_MAX; i++)
		len += (size_t)snprintf(h + len, sizeof(h) - len, "junk; ");
	snprintf(h + len, sizeof(h) - len, "target=yes");
	CHECK_STR(get(h, "target"), "(absent)");
}

static void test_outlen(void)
{
	char out[8];

	/* A 7-byte value fits 8 bytes with its NUL. */
	memset(out, 'Z', sizeof(out));
	CHECK(cookie_get("a=1234567", "a", out, sizeof(out)) == COOKIE_FOUND);
	CHECK_STR(out, "1234567");
	/* 8 bytes does not, and out is left alone. */
	memset(out, 'Z', sizeof(out));
	CHECK(cookie_get("a=12345678", "a", out, sizeof(out)) == COOKIE_TOO_LONG);
	CHECK(memcmp(out, "ZZZZZZZZ", 8) == 0);
	/* Quotes do not count against the length. */
	CHECK(cookie_get("a=\"1234567\"", "a", out, sizeof(out)) == COOKIE_FOUND);
	CHECK_STR(out, "1234567");
	/* An empty value needs one byte; zero bytes fit nothing. */
	CHECK(cookie_get("a=", "a", out, 1) == COOKIE_FOUND);
	CHECK(out[0] == '\0');
	memset(out, 'Z', sizeof(out));
	CHECK(cookie_get("a=", "a", out, 0) == COOKIE_TOO_LONG);
	CHECK(out[0] == 'Z');
	/* Absent leaves out untouched too. */
	memset(out, 'Z', sizeof(out));
	CHECK(cookie_get("b=1", "a", out, sizeof(out)) == COOKIE_ABSENT);
	CHECK(out[0] == 'Z');
}

static void test_null(void)
{
	char out[8] = "keep";

	CHECK(cookie_get(NULL, "a", out, sizeof(out)) == COOKIE_ABSENT);
	CHECK_STR(out, "keep");
	CHECK(cookie_get("a=1", NULL, out, sizeof(out)) == COOKIE_ABSENT);
	CHECK_STR(out, "keep");
}

int main(void)
{
	test_simple();
	test_several_pairs();
	test_duplicates();
	test_quoted();
	test_prefix_suffix_names();
	test_empty_and_no_equals();
	test_invalid_octets();
	test_header_max();
	test_pairs_max();
	test_outlen();
	test_null();
	return check_summary();
}
