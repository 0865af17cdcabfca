/*
 * test_utf8.c - unit tests of lib/utf8.c: the decoder against the table of
 * RFC 3629 (section 4), written out here a second time as byte ranges, over
 * every sequence of one to three bytes and every four-byte sequence whose
 * last two bytes are at the edges of their range; the encoder by a round
 * trip of every code point; the code-point counter.
 */
#include "utf8.h"
#include "check.h"

#include <stdint.h>
#include <string.h>

/* The RFC's table: the length of the well-formed sequence at s[0..n), or 0. */
static size_t rfc_len(const unsigned char *s, size_t n)
{
	static const struct {
		unsigned char lo[4], hi[4];
		size_t len;
	} rows[] = {
		{ { 0x00 }, { 0x7F }, 1 },
		{ { 0xC2, 0x80 }, { 0xDF, 0xBF }, 2 },
		{ { 0xE0, 0xA0, 0x80 }, { 0xE0, 0xBF, 0xBF }, 3 },
		{ { 0xE1, 0x80, 0x80 }, { 0xEC, 0xBF, 0xBF }, 3 },
		{ { 0xED, 0x80, 0x80 }, { 0xED, 0x9F, 0xBF }, 3 },
		{ { 0xEE, 0x80, 0x80 }, { 0xEF, 0xBF, 0xBF }, 3 },
		{ { 0xF0, 0x90, 0x80, 0x80 }, { 0xF0, 0xBF, 0xBF, 0xBF }, 4 },
		{ { 0xF1, 0x80, 0x80, 0x80 }, { 0xF3, 0xBF, 0xBF, 0xBF }, 4 },
		{ { 0xF4, 0x80, 0x80, 0x80 }, { 0xF4, 0x8F, 0xBF, 0xBF }, 4 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		size_t i;

		if (n < rows[r].len)
			continue;
		for (i = 0; i < rows[r].len; i++)
			if (s[i] < rows[r].lo[i] || s[i] > rows[r].hi[i])
				break;
		if (i == rows[r].len)
			return rows[r].len;
	}
	return 0;
}

/* The code point of a well-formed sequence, by the bit layout of the RFC. */
static uint32_t rfc_cp(const unsigned char *s, size_t len)
{
	static const unsigned char lead_bits[] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
	uint32_t v = s[0] & lead_bits[len];

	for (size_t i = 1; i < len; i++)
		v = v << 6 | (s[i] & 0x3F);
	return v;
}

static unsigned long mismatches;

static void compare(const unsigned char *s, size_t n)
{
	uint32_t cp = 0xFFFFFFFF;
	size_t want = rfc_len(s, n), got = utf8_decode(s, n, &cp);

	if (got != want || (want != 0 && cp != rfc_cp(s, want))) {
		if (mismatches++ < 5)
			printf("#   %02x %02x %02x %02x (%zu bytes): got %zu U+%04X, want %zu\n", s[0],
			    n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n, got, (unsigned)cp,
			    want);
	}
}

static void test_decode_table(void)
{
	unsigned char s[4];
	static const unsigned char edges[] = { 0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF };

	mismatches = 0;
	for (unsigned a = 0; a < 256; a++) {
		s[0] = (unsigned char)a;
		compare(s, 1);
		for (unsigned b = 0; b < 256; b++) {
			s[1] = (unsigned char)b;
			compare(s, 2);
			for (unsigned c = 0; c < 256; c++) {
				s[2] = (unsigned char)c;
				compare(s, 3);
			}
		}
	}
	CHECK_MSG(mismatches == 0, "every sequence of 1 to 3 bytes decodes as the RFC's table says");

	mismatches = 0;
	for (unsigned a = 0xC0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (size_t c = 0; c < sizeof(edges); c++)
				for (size_t d = 0; d < sizeof(edges); d++) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = edges[c];
					s[3] = edges[d];
					compare(s, 4);
				}
	CHECK_MSG(mismatches == 0, "four-byte sequences decode as the RFC's table says");
}

static void test_decode_cases(void)
{
	uint32_t cp = 0;

	CHECK(utf8_decode((const unsigned char *)"a", 1, &cp) == 1 && cp == 'a');
	CHECK_MSG(utf8_decode((const unsigned char *)"", 1, &cp) == 1 && cp == 0,
	    "a NUL is a sequence of one byte");
	CHECK_MSG(utf8_decode((const unsigned char *)"a", 0, &cp) == 0, "no bytes, no sequence");
	CHECK(utf8_decode((const unsigned char *)"\xC3\xA9", 2, &cp) == 2 && cp == 0xE9);
	CHECK(utf8_decode((const unsigned char *)"\xE2\x82\xAC", 3, &cp) == 3 && cp == 0x20AC);
	CHECK(utf8_decode((const unsigned char *)"\xF0\x9F\x98\x80", 4, &cp) == 4 && cp == 0x1F600);
	CHECK(utf8_decode((const unsigned char *)"\xF4\x8F\xBF\xBF", 4, &cp) == 4 && cp == 0x10FFFF);
	CHECK_MSG(utf8_decode((const unsigned char *)"\xF4\x90\x80\x80", 4, NULL) == 0,
	    "above U+10FFFF is refused");
	CHECK_MSG(utf8_decode((const unsigned char *)"\xED\xA0\x80", 3, NULL) == 0,
	    "an encoded surrogate is refused");
	CHECK_MSG(utf8_decode((const unsigned char *)"\xC0\xAF", 2, NULL) == 0, "an overlong '/' is refused");
	CHECK_MSG(utf8_decode((const unsigned char *)"\xE0\x80\xAF", 3, NULL) == 0,
	    "a three-byte overlong is refused");
	CHECK_MSG(utf8_decode((const unsigned char *)"\xF0\x80\x80\xAF", 4, NULL) == 0,
	    "a four-byte overlong is refused");
	CHECK_MSG(utf8_decode((const unsigned char *)"\xE2\x82\xAC", 2, NULL) == 0,
	    "a sequence cut by `left` is refused");
	CHECK_MSG(utf8_decode((const unsigned char *)"\x80", 1, NULL) == 0,
	    "a lone continuation byte is refused");
	cp = 7;
	CHECK_MSG(utf8_decode((const unsigned char *)"\xFF", 1, &cp) == 0 && cp == 7,
	    "a refused sequence leaves *cp alone");
}

static void test_encode(void)
{
	unsigned long bad = 0;
	unsigned char out[UTF8_SEQ_MAX];

	for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
		size_t n = utf8_encode(cp, out);
		size_t want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		uint32_t back = 0xFFFFFFFF;
		int surrogate = cp >= 0xD800 && cp <= 0xDFFF;

		if (n != want || rfc_cp(out, n) != cp ||
		    (surrogate ? utf8_decode(out, n, NULL) != 0
			       : utf8_decode(out, n, &back) != n || back != cp)) {
			if (bad++ < 5)
				printf("#   U+%04X: %zu bytes\n", (unsigned)cp, n);
		}
	}
	CHECK_MSG(bad == 0, "every code point encodes to its shortest form and decodes back");
	CHECK(utf8_encode(0x20AC, out) == 3 && memcmp(out, "\xE2\x82\xAC", 3) == 0);
}

static void test_chars(void)
{
	CHECK(utf8_chars("", 0) == 0);
	CHECK(utf8_chars("abc", 3) == 3);
	CHECK(utf8_chars("abc", 2) == 2);
	CHECK(utf8_chars("\xC3\xA9", 2) == 1);
	CHECK(utf8_chars("\xE2\x82\xAC" "a", 4) == 2);
	CHECK(utf8_chars("\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 8) == 2);
	CHECK_MSG(utf8_chars("a\0b", 3) == 3, "a NUL counts as a code point");
}

int main(void)
{
	test_decode_table();
	test_decode_cases();
	test_encode();
	test_chars();
	return check_summary();
}
