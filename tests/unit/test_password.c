/*
 * test_password.c - unit tests of lib/password.c (pw_hash, pw_verify,
 * pw_needs_rehash, pw_dummy_hash, pw_cost_of).
 *
 * Besides the round trip this checks what bcrypt alone gets wrong (bytes after
 * the 72nd, embedded NULs), that the stored form is exactly the pc1 scheme
 * (so that other tools can check it) and not shuckable, the plain bcrypt
 * imports, malformed stored strings, and that an unknown user (dummy hash)
 * takes as long as a wrong password.  Cost 4 keeps it fast.
 */
#include "password.h"
#include "check.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#define COST 4

/* A plain bcrypt hash of the NUL-terminated `pw`, as an import would bring it; "" on failure. */
static const char *legacy_hash(const char *pw, const char *variant, char out[PW_HASH_MAX])
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *r = NULL;

	out[0] = '\0';
	if (cd != NULL && crypt_gensalt_rn("$2b$", COST, NULL, 0, setting, sizeof(setting)) != NULL)
		r = crypt_r(pw, setting, cd);
	if (r != NULL && strlen(r) == 60) {
		memcpy(out, r, 61);
		out[2] = variant[0]; /* $2a$, $2b$ and $2y$ hash ASCII alike */
	}
	free(cd);
	return out;
}

/* bcrypt of the NUL-terminated `phrase` under setting or hash `setting`; "" on failure. */
static const char *bcrypt_of(const char *phrase, const char *setting, char out[PW_HASH_MAX])
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *r = cd != NULL ? crypt_r(phrase, setting, cd) : NULL;

	snprintf(out, PW_HASH_MAX, "%s", r != NULL && r[0] == '$' ? r : "");
	free(cd);
	return out;
}

static int well_formed(const char *h, int cost)
{
	char prefix[16];

	snprintf(prefix, sizeof(prefix), "$pc1$2b$%02d$", cost);
	if (h == NULL || strlen(h) != 64 || strncmp(h, prefix, 11) != 0)
		return 0;
	for (const char *p = h + 11; *p; p++)
		if (!strchr("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", *p))
			return 0;
	return 1;
}

static void test_round_trip(void)
{
	char h[PW_HASH_MAX];
	const char *pw = "correct horse battery staple";

	CHECK(pw_hash(pw, strlen(pw), COST, h) == 0);
	CHECK(well_formed(h, COST));
	CHECK(pw_verify(pw, strlen(pw), h) == 1);
	CHECK(pw_verify("correct horse battery stapl", 27, h) == 0);
	CHECK(pw_verify("correct horse battery staple!", 29, h) == 0);
	CHECK(pw_verify("Correct horse battery staple", 28, h) == 0);
	CHECK(pw_verify(pw, strlen(pw) - 1, h) == 0);
	CHECK(pw_needs_rehash(h, COST) == 0);
	CHECK(pw_cost_of(h) == COST);
}

static void test_salted(void)
{
	char a[PW_HASH_MAX], b[PW_HASH_MAX];

	CHECK(pw_hash("same password", 13, COST, a) == 0);
	CHECK(pw_hash("same password", 13, COST, b) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(memcmp(a + 11, b + 11, 22) != 0); /* the salts differ */
	CHECK(pw_verify("same password", 13, a) == 1);
	CHECK(pw_verify("same password", 13, b) == 1);
}

/* Bytes past bcrypt's 72 count: passwords sharing 72, then 100, bytes differ. */
static void test_long_shared_prefix(void)
{
	char a[120], b[120], ha[PW_HASH_MAX], hb[PW_HASH_MAX];

	for (size_t n = 72; n <= 100; n += 28) {
		memset(a, 'x', sizeof(a));
		memset(b, 'x', sizeof(b));
		a[n] = 'A';
		b[n] = 'B';
		CHECK(pw_hash(a, n + 1, COST, ha) == 0);
		CHECK(pw_hash(b, n + 1, COST, hb) == 0);
		CHECK(pw_verify(a, n + 1, ha) == 1);
		CHECK(pw_verify(b, n + 1, hb) == 1);
		CHECK(pw_verify(a, n + 1, hb) == 0);
		CHECK(pw_verify(b, n + 1, ha) == 0);
		CHECK(pw_verify(a, n, ha) == 0); /* the shared prefix alone */
		CHECK(pw_verify(a, 72, ha) == 0);
		CHECK(pw_verify(a, sizeof(a), ha) == 0); /* longer, same start */
	}
}

/* An embedded NUL does not end the password. */
static void test_nul_bytes(void)
{
	char h7[PW_HASH_MAX], h3[PW_HASH_MAX], h4[PW_HASH_MAX];

	CHECK(pw_hash("abc\0def", 7, COST, h7) == 0);
	CHECK(pw_hash("abc", 3, COST, h3) == 0);
	CHECK(pw_hash("abc\0", 4, COST, h4) == 0);
	CHECK(pw_verify("abc\0def", 7, h7) == 1);
	CHECK(pw_verify("abc", 3, h7) == 0);
	CHECK(pw_verify("abc\0", 4, h7) == 0);
	CHECK(pw_verify("abc\0deg", 7, h7) == 0);
	CHECK(pw_verify("abc\0def", 7, h3) == 0);
	CHECK(pw_verify("abc\0", 4, h3) == 0);
	CHECK(pw_verify("abc", 3, h4) == 0);
	CHECK(pw_verify("abc\0", 4, h4) == 1);
	CHECK(pw_verify("\0", 1, h3) == 0);
}

static void test_empty(void)
{
	char h[PW_HASH_MAX], hn[PW_HASH_MAX];

	CHECK(pw_hash("", 0, COST, h) == 0);
	CHECK(well_formed(h, COST));
	CHECK(pw_verify("", 0, h) == 1);
	CHECK(pw_verify(NULL, 0, h) == 1);
	CHECK(pw_verify("a", 1, h) == 0);
	CHECK(pw_verify("\0", 1, h) == 0);
	CHECK(pw_hash(NULL, 0, COST, hn) == 0);
	CHECK(pw_verify("", 0, hn) == 1);
	CHECK(pw_verify(NULL, 5, h) == 0);
}

/* The longest password the API allows: 128 four-byte code points. */
static void test_max_utf8(void)
{
	char pw[512], h[PW_HASH_MAX];

	for (int i = 0; i < 128; i++)
		memcpy(pw + 4 * i, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
	CHECK(pw_hash(pw, sizeof(pw), COST, h) == 0);
	CHECK(well_formed(h, COST));
	CHECK(pw_verify(pw, sizeof(pw), h) == 1);
	CHECK(pw_verify(pw, sizeof(pw) - 4, h) == 0);
	pw[511] = '\x81'; /* the last code point becomes U+1F601 */
	CHECK(pw_verify(pw, sizeof(pw), h) == 0);
}

static void test_bounds(void)
{
	static char big[PW_LEN_MAX + 1];
	char h[PW_HASH_MAX];

	memset(big, 'p', sizeof(big));
	strcpy(h, "junk");
	CHECK(pw_hash("pw", 2, 3, h) == -1);
	CHECK(h[0] == '\0');
	CHECK(pw_hash("pw", 2, 32, h) == -1);
	CHECK(pw_hash("pw", 2, -1, h) == -1);
	CHECK(pw_hash(NULL, 2, COST, h) == -1);
	CHECK(pw_hash(big, PW_LEN_MAX + 1, COST, h) == -1);
	CHECK(h[0] == '\0');
	CHECK(pw_hash(big, PW_LEN_MAX, COST, h) == 0);
	CHECK(pw_verify(big, PW_LEN_MAX, h) == 1);
	CHECK(pw_verify(big, PW_LEN_MAX + 1, h) == 0);
	CHECK(pw_verify(big, (size_t)-1, h) == 0);
}

/* The stored form is exactly "$pc1" + bcrypt(base64(HMAC-SHA256(salt, pw)), S). */
static void test_scheme(void)
{
	const char *pw = "hunter2 hunter2";
	char h[PW_HASH_MAX], out[PW_HASH_MAX], pre[64];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const char *plain;

	CHECK(pw_hash(pw, strlen(pw), COST, h) == 0);
	plain = h + 4;
	CHECK(HMAC(EVP_sha256(), plain + 7, 22, (const unsigned char *)pw, strlen(pw), md,
	          &mdlen) != NULL);
	CHECK(EVP_EncodeBlock((unsigned char *)pre, md, (int)mdlen) == 44);
	CHECK_STR(bcrypt_of(pre, plain, out), plain);
	CHECK(pw_verify(pre, 44, plain) == 1); /* it is a plain bcrypt of the pre-hash */

	/* Not shuckable: an unsalted SHA-256 of the password does not open it... */
	SHA256((const unsigned char *)pw, strlen(pw), md);
	EVP_EncodeBlock((unsigned char *)pre, md, SHA256_DIGEST_LENGTH);
	CHECK(pw_verify(pre, 44, plain) == 0);
	CHECK(pw_verify(pre, 44, h) == 0);
	/* ...and a pc1 hash stripped of its prefix does not take the raw password. */
	CHECK(pw_verify(pw, strlen(pw), plain) == 0);
}

static void test_legacy(void)
{
	char h[PW_HASH_MAX], l[PW_HASH_MAX], l72[PW_HASH_MAX], lnul[PW_HASH_MAX];
	char p72[80];
	const char *variants[] = {"a", "b", "y"};

	for (int i = 0; i < 3; i++) {
		legacy_hash("legacy password", variants[i], l);
		CHECK(strlen(l) == 60);
		CHECK(pw_verify("legacy password", 15, l) == 1);
		CHECK(pw_verify("legacy passwore", 15, l) == 0);
		CHECK(pw_verify("legacy password\0x", 17, l) == 0);
		CHECK(pw_needs_rehash(l, COST) == 1);
		CHECK(pw_cost_of(l) == COST);
	}
	/* "$pc1" in front of a plain bcrypt of the raw password is no pc1 hash of it. */
	snprintf(h, sizeof(h), "$pc1%s", legacy_hash("legacy password", "b", l));
	CHECK(pw_verify("legacy password", 15, h) == 0);
	CHECK(pw_needs_rehash(h, COST) == 0); /* well-formed, though it opens for nobody */

	/* bcrypt would cut these short; the plain form refuses rather than truncate. */
	memset(p72, 'q', sizeof(p72));
	p72[72] = '\0';
	legacy_hash(p72, "b", l72);
	CHECK(pw_verify(p72, 72, l72) == 1);
	CHECK(pw_verify(p72, 73, l72) == 0);
	p72[72] = 'r';
	CHECK(pw_verify(p72, 73, l72) == 0);
	legacy_hash("abc", "b", lnul);
	CHECK(pw_verify("abc", 3, lnul) == 1);
	CHECK(pw_verify("abc\0def", 7, lnul) == 0);
	CHECK(pw_verify("abc\0", 4, lnul) == 0);

	legacy_hash("", "b", l);
	CHECK(pw_verify("", 0, l) == 1);
	CHECK(pw_verify("\0", 1, l) == 0); /* refused, though bcrypt sees "" */
}

static void test_rehash_and_cost(void)
{
	char h4[PW_HASH_MAX], h10[PW_HASH_MAX];

	CHECK(pw_hash("pw", 2, COST, h4) == 0);
	CHECK(pw_hash("pw", 2, 10, h10) == 0);
	CHECK(well_formed(h10, 10));
	CHECK(pw_cost_of(h10) == 10);
	CHECK(pw_cost_of(h4) == COST);
	CHECK(pw_needs_rehash(h10, 10) == 0);
	CHECK(pw_needs_rehash(h10, 12) == 1);
	CHECK(pw_needs_rehash(h4, 10) == 1);
	CHECK(pw_needs_rehash(h4, COST) == 0);
	CHECK(pw_verify("pw", 2, h10) == 1);
	CHECK(pw_needs_rehash("garbage", COST) == 1);
	CHECK(pw_needs_rehash("", COST) == 1);
	CHECK(pw_needs_rehash(NULL, COST) == 1);
	CHECK(pw_cost_of("garbage") == -1);
	CHECK(pw_cost_of(NULL) == -1);
}

static void test_malformed(void)
{
	char h[PW_HASH_MAX], bad[PW_HASH_MAX + 8], sha[PW_HASH_MAX];
	const char *fixed[] = {
		"",
		"$",
		"$pc1",
		"$pc1$",
		"$pc1$2b$04$short",
		"$pc1$2b$04$",
		"$2b$04$short",
		"*0",
		"$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc."
		    "g13gDaTMcYjomBlpJ9SJ0",
	};

	CHECK(pw_hash("pw", 2, COST, h) == 0);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		CHECK_MSG(pw_verify("pw", 2, fixed[i]) == 0, fixed[i]);
		CHECK_MSG(pw_verify("", 0, fixed[i]) == 0, fixed[i]);
		CHECK_MSG(pw_cost_of(fixed[i]) == -1, fixed[i]);
		CHECK_MSG(pw_needs_rehash(fixed[i], COST) == 1, fixed[i]);
	}
	CHECK(pw_verify("pw", 2, NULL) == 0);

	/* A real sha512crypt hash of the password is an unknown scheme. */
	bcrypt_of("pw", "$6$saltsalt$", sha);
	CHECK(strncmp(sha, "$6$", 3) == 0);
	CHECK(pw_verify("pw", 2, sha) == 0);

	/* One change at a time to a good hash. */
	snprintf(bad, sizeof(bad), "%s", h);
	bad[63] = '\0'; /* one short */
	CHECK(pw_verify("pw", 2, bad) == 0);
	snprintf(bad, sizeof(bad), "%sA", h); /* one long */
	CHECK(pw_verify("pw", 2, bad) == 0);
	CHECK(pw_cost_of(bad) == -1);
	snprintf(bad, sizeof(bad), "%s", h);
	bad[30] = '!'; /* outside the alphabet */
	CHECK(pw_verify("pw", 2, bad) == 0);
	snprintf(bad, sizeof(bad), "%s", h);
	bad[6] = 'y'; /* pc1 is $2b$ only */
	CHECK(pw_verify("pw", 2, bad) == 0);
	snprintf(bad, sizeof(bad), "%s", h);
	memcpy(bad + 8, "03", 2); /* cost below 4 */
	CHECK(pw_verify("pw", 2, bad) == 0);
	CHECK(pw_cost_of(bad) == -1);
	memcpy(bad + 8, "32", 2); /* above 31 */
	CHECK(pw_cost_of(bad) == -1);
	memcpy(bad + 8, "0x", 2);
	CHECK(pw_cost_of(bad) == -1);
	snprintf(bad, sizeof(bad), "%s", h);
	bad[1] = 'P';
	CHECK(pw_verify("pw", 2, bad) == 0);
	snprintf(bad, sizeof(bad), "%s", h);
	bad[63] = bad[63] == 'a' ? 'b' : 'a'; /* well-formed, wrong digest */
	CHECK(pw_verify("pw", 2, bad) == 0);
	snprintf(bad, sizeof(bad), "%s", h);
	CHECK(pw_verify("pw", 2, bad) == 1); /* the copy itself is fine */
}

static void test_dummy(void)
{
	const char *d = pw_dummy_hash(COST), *d6 = pw_dummy_hash(6);
	unsigned char rnd[32];

	CHECK(d != NULL);
	CHECK(d == pw_dummy_hash(COST));
	CHECK(d6 != NULL && d6 != d);
	CHECK(d6 == pw_dummy_hash(6));
	CHECK(well_formed(d, COST));
	CHECK(well_formed(d6, 6));
	CHECK(pw_cost_of(d) == COST);
	CHECK(pw_needs_rehash(d, COST) == 0);
	CHECK(pw_verify("", 0, d) == 0);
	CHECK(pw_verify("password", 8, d) == 0);
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (unsigned char)(i * 37 + 11);
	CHECK(pw_verify(rnd, sizeof(rnd), d) == 0);
	CHECK(pw_dummy_hash(3) == NULL);
	CHECK(pw_dummy_hash(32) == NULL);
}

static double now(void);

/*
 * The dummy is made without hashing: at cost 16 one bcrypt takes seconds,
 * making the dummy must not (a process serving one request - plain CGI -
 * would otherwise pay two bcrypts for an unknown name).
 */
static void test_dummy_costs_no_bcrypt(void)
{
	double t = now();
	const char *d = pw_dummy_hash(16);

	t = now() - t;
	printf("#   the cost-16 dummy took %.3f ms\n", t * 1e3);
	CHECK(d != NULL && well_formed(d, 16));
	CHECK_MSG(t < 0.05, "the dummy hash of a fresh cost is made without running bcrypt");
	CHECK(pw_dummy_hash(16) == d);
}

/*
 * This thread's CPU time: bcrypt is all CPU, and unlike the wall clock this
 * does not count the time other processes of a loaded machine take, so the
 * comparisons below hold on a busy CI host too.
 */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best of a few runs of one pw_verify call. */
static double time_verify(const void *pw, size_t len, const char *stored)
{
	double best = 1e9;

	for (int i = 0; i < 5; i++) {
		double t = now();

		(void)pw_verify(pw, len, stored);
		t = now() - t;
		if (t < best)
			best = t;
	}
	return best;
}

static int same_order(double a, double b)
{
	printf("#   %.2f ms vs %.2f ms\n", a * 1e3, b * 1e3);
	return a > 0 && b > 0 && a < 3 * b && b < 3 * a;
}

/* Unknown user (dummy hash), wrong password and refused input take alike. */
static void test_timing(void)
{
	static char big[PW_LEN_MAX + 1];
	char h[PW_HASH_MAX], l[PW_HASH_MAX];
	const char *d = pw_dummy_hash(6);
	double real;

	CHECK(pw_hash("the real password", 17, 6, h) == 0);
	CHECK(d != NULL);
	if (d == NULL)
		return;
	real = time_verify("a wrong password", 16, h);
	CHECK_MSG(same_order(time_verify("a wrong password", 16, d), real),
	    "dummy hash and real hash verify in about the same time");
	CHECK_MSG(same_order(time_verify("the real password", 17, h), real),
	    "right and wrong password verify in about the same time");
	CHECK_MSG(same_order(time_verify(big, sizeof(big), h), real),
	    "an over-long password still spends one bcrypt");
	CHECK_MSG(time_verify("x", 1, "$pc1$2b$06$short") < real / 10,
	    "a malformed hash spends no bcrypt");

	legacy_hash("abc", "b", l);
	memcpy(l + 4, "06", 2); /* same salt at cost 6 is still well-formed */
	CHECK(pw_cost_of(l) == 6);
	CHECK_MSG(same_order(time_verify("abc\0", 4, l), real),
	    "a password refused by the plain form still spends one bcrypt");
}

int main(void)
{
	test_round_trip();
	test_salted();
	test_long_shared_prefix();
	test_nul_bytes();
	test_empty();
	test_max_utf8();
	test_dummy_costs_no_bcrypt();
	test_bounds();
	test_scheme();
	test_legacy();
	test_rehash_and_cost();
	test_malformed();
	test_dummy();
	test_timing();
	return check_summary();
}
