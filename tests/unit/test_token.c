/*
 * test_token.c - access tokens: issue/verify round trips and every way
 * token_verify() must refuse a token.  Hostile tokens are built here by hand
 * (our own base64url and libcrypto HMAC), never by the code under test.
 */
#include "check.h"
#include "config.h"
#include "token.h"
#include "token_cache.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define NOW 1700000000L
#define TTL 900L

static char secret[] = "test-secret-0123456789abcdef-0123456789abcdef";
static char other_secret[] = "another-secret-0123456789abcdef-0123456789";
static char issuer[] = "https://auth.example.test";
static char audience[] = "portcullis-api";

static struct config cfg;

#define H256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

/* ---- helpers ---------------------------------------------------------- */

static void b64url_enc(const unsigned char *in, size_t n, char *out)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
	}
	out[o] = '\0';
}

/* Lenient base64url decode for reading what token_issue() wrote. */
static size_t b64url_dec(const char *in, size_t n, unsigned char *out)
{
	unsigned long acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", in[i]);

		if (p == NULL || in[i] == '\0')
			break;
		acc = acc << 6 | (unsigned long)(p - "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	out[o] = '\0';
	return o;
}

/* Segment `k` (0..2) of `tok`, decoded and parsed as JSON; NULL if not JSON. */
static cJSON *segment_json(const char *tok, int k)
{
	static unsigned char buf[8192];
	const char *p = tok, *e;

	for (int i = 0; i < k; i++) {
		p = strchr(p, '.');
		if (p == NULL)
			return NULL;
		p++;
	}
	e = strchr(p, '.');
	b64url_dec(p, e ? (size_t)(e - p) : strlen(p), buf);
	return cJSON_Parse((const char *)buf);
}

/* A ring of buffers so a few results can be alive in one expression. */
static char *ring(void)
{
	static char bufs[32][16384];
	static int next;

	next = (next + 1) % 32;
	return bufs[next];
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	char *out = ring();
	va_list ap;

	va_start(ap, f);
	vsnprintf(out, 16384, f, ap);
	va_end(ap);
	return out;
}

/*
 * header.payload.signature from raw JSON bytes: the signature is the HMAC
 * with `md` and `key`, or `rawsig` verbatim when `md` is NULL.
 */
static char *craft_n(const EVP_MD *md, const char *key, const char *header,
    const char *payload, size_t payload_len, const char *rawsig)
{
	char *out = ring();
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t n;

	b64url_enc((const unsigned char *)header, strlen(header), out);
	n = strlen(out);
	out[n++] = '.';
	b64url_enc((const unsigned char *)payload, payload_len, out + n);
	n = strlen(out);
	if (md != NULL) {
		HMAC(md, key, (int)strlen(key), (const unsigned char *)out, n, mac, &maclen);
		out[n++] = '.';
		b64url_enc(mac, maclen, out + n);
	} else {
		out[n++] = '.';
		strcpy(out + n, rawsig);
	}
	return out;
}

static char *craft(const EVP_MD *md, const char *key, const char *header, const char *payload)
{
	return craft_n(md, key, header, payload, strlen(payload), "");
}

/* A correctly signed HS256 token over `payload`. */
static char *signed256(const char *payload)
{
	return craft(EVP_sha256(), secret, H256, payload);
}

static char *claims(long iat, long exp)
{
	return fmt("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"user-1\",\"sid\":\"sess-1\","
		   "\"iat\":%ld,\"exp\":%ld,\"jti\":\"0123456789abcdef0123456789abcdef\"}",
	    issuer, audience, iat, exp);
}

static char *good_claims(void)
{
	return claims(NOW, NOW + TTL);
}

#define expect(tok, want, what) expect_at(__LINE__, (tok), (want), (what))

static void expect_at(int line, const char *tok, enum token_result want, const char *what)
{
	enum token_result got = token_verify(&cfg, tok, NOW, NULL);

	check_report(got == want, __FILE__, line, what);
	if (got != want)
		printf("#   got %s, want %s\n", token_result_name(got), token_result_name(want));
}

static int is_hex32(const char *s)
{
	if (s == NULL || strlen(s) != 32)
		return 0;
	for (int i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(it) ? it->valuedouble : -1.0;
}

/* ---- round trips ------------------------------------------------------- */

static void test_round_trip(enum jwt_alg_cfg alg, const char *name, jwt_alg_t lib_alg)
{
	char *tok = NULL, *tok2 = NULL;
	struct token_claims issued, got, got2;
	cJSON *h, *p;
	jwt_t *lj = NULL;
	char what[128];

	cfg.jwt_algorithm = alg;
	memset(&got, 0, sizeof(got));
	snprintf(what, sizeof(what), "%s: token_issue succeeds", name);
	CHECK_MSG(token_issue(&cfg, "user-42", "sess-7", NOW, &tok, &issued) == 0 && tok, what);
	if (tok == NULL)
		return;
	CHECK(strlen(tok) <= TOKEN_MAX_LEN);
	snprintf(what, sizeof(what), "%s: own token verifies", name);
	CHECK_MSG(token_verify(&cfg, tok, NOW, &got) == TOKEN_OK, what);
	CHECK_STR(got.sub, "user-42");
	CHECK_STR(got.sid, "sess-7");
	CHECK_STR(got.jti, issued.jti);
	CHECK(got.iat == NOW && got.exp == NOW + TTL);
	CHECK(issued.iat == NOW && issued.exp == NOW + TTL);
	CHECK_STR(issued.sub, "user-42");
	CHECK_STR(issued.sid, "sess-7");

	/* What is on the wire, read independently of token_verify(). */
	h = segment_json(tok, 0);
	p = segment_json(tok, 1);
	CHECK(cJSON_IsObject(h) && cJSON_IsObject(p));
	CHECK_STR(jstr(h, "alg"), name);
	CHECK_STR(jstr(h, "typ"), "JWT");
	CHECK_STR(jstr(p, "iss"), issuer);
	CHECK_STR(jstr(p, "aud"), audience);
	CHECK_STR(jstr(p, "sub"), "user-42");
	CHECK_STR(jstr(p, "sid"), "sess-7");
	CHECK(jnum(p, "iat") == (double)NOW);
	CHECK(jnum(p, "exp") == (double)(NOW + TTL));
	CHECK(jnum(p, "exp") - jnum(p, "iat") == (double)TTL);
	CHECK(is_hex32(jstr(p, "jti")));
	CHECK_STR(jstr(p, "jti"), issued.jti);
	CHECK(cJSON_GetArraySize(p) == 7);
	cJSON_Delete(h);
	cJSON_Delete(p);

	/* Interoperable: libjwt itself accepts it with the same key and alg. */
	CHECK(jwt_decode(&lj, tok, (const unsigned char *)secret, (int)strlen(secret)) == 0);
	CHECK(lj != NULL && jwt_get_alg(lj) == lib_alg);
	CHECK(lj != NULL && jwt_get_grant(lj, "sid") && strcmp(jwt_get_grant(lj, "sid"), "sess-7") == 0);
	jwt_free(lj);

	/* Two tokens never share a jti. */
	CHECK(token_issue(&cfg, "user-42", "sess-7", NOW, &tok2, NULL) == 0);
	CHECK(tok2 != NULL && token_verify(&cfg, tok2, NOW, &got2) == TOKEN_OK);
	CHECK(tok2 != NULL && strcmp(got2.jti, got.jti) != 0 && is_hex32(got2.jti));

	/* Valid until exp + leeway, then expired. */
	CHECK(token_verify(&cfg, tok, NOW + TTL + TOKEN_LEEWAY_S - 1, NULL) == TOKEN_OK);
	CHECK(token_verify(&cfg, tok, NOW + TTL + TOKEN_LEEWAY_S, NULL) == TOKEN_EXPIRED);

	/* Under another secret, or another configured algorithm, it fails. */
	cfg.jwt_secret = other_secret;
	CHECK(token_verify(&cfg, tok, NOW, NULL) == TOKEN_BAD_SIGNATURE);
	cfg.jwt_secret = secret;
	cfg.jwt_algorithm = alg == CFG_JWT_HS256 ? CFG_JWT_HS512 : CFG_JWT_HS256;
	CHECK(token_verify(&cfg, tok, NOW, NULL) == TOKEN_BAD_ALGORITHM);
	cfg.jwt_algorithm = CFG_JWT_HS256;
	free(tok);
	free(tok2);
}

static void test_issue_rejects(void)
{
	static char sentinel;
	char *tok = &sentinel;
	char id64[TOKEN_ID_MAX + 1], id65[TOKEN_ID_MAX + 2];
	char empty[] = "";

	memset(id64, 'a', TOKEN_ID_MAX);
	id64[TOKEN_ID_MAX] = '\0';
	memset(id65, 'a', TOKEN_ID_MAX + 1);
	id65[TOKEN_ID_MAX + 1] = '\0';

	CHECK(token_issue(&cfg, "", "s", NOW, &tok, NULL) == -1 && tok == NULL);
	CHECK(token_issue(&cfg, NULL, "s", NOW, &tok, NULL) == -1);
	CHECK(token_issue(&cfg, "u", "a b", NOW, &tok, NULL) == -1);
	CHECK(token_issue(&cfg, "u/1", "s", NOW, &tok, NULL) == -1);
	CHECK(token_issue(&cfg, id65, "s", NOW, &tok, NULL) == -1);
	CHECK(token_issue(&cfg, "u", "s", NOW, NULL, NULL) == -1);
	CHECK(token_issue(&cfg, id64, id64, NOW, &tok, NULL) == 0 && tok != NULL);
	CHECK(tok != NULL && token_verify(&cfg, tok, NOW, NULL) == TOKEN_OK);
	free(tok);

	cfg.jwt_secret = empty;
	CHECK(token_issue(&cfg, "u", "s", NOW, &tok, NULL) == -1);
	CHECK(token_verify(&cfg, signed256(good_claims()), NOW, NULL) == TOKEN_BAD_SIGNATURE);
	cfg.jwt_secret = secret;
	cfg.access_token_ttl = 0;
	CHECK(token_issue(&cfg, "u", "s", NOW, &tok, NULL) == -1);
	cfg.access_token_ttl = TTL;
}

/* ---- crafted tokens ---------------------------------------------------- */

static void test_baseline(void)
{
	struct token_claims c;

	memset(&c, 0, sizeof(c));
	CHECK(token_verify(&cfg, signed256(good_claims()), NOW, &c) == TOKEN_OK);
	CHECK_STR(c.sub, "user-1");
	CHECK_STR(c.sid, "sess-1");
	CHECK_STR(c.jti, "0123456789abcdef0123456789abcdef");
	CHECK(c.iat == NOW && c.exp == NOW + TTL);
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"HS256\"}", good_claims()), TOKEN_OK,
	    "header without typ is accepted");
	expect(craft(EVP_sha256(), secret, "{ \"typ\" : \"JWT\", \"alg\" : \"HS256\" }",
		   good_claims()), TOKEN_OK, "header key order and spacing do not matter");
}

static void test_algorithms(void)
{
	char p[1024];

	strcpy(p, good_claims());
	expect(craft_n(NULL, NULL, "{\"alg\":\"none\",\"typ\":\"JWT\"}", p, strlen(p), ""),
	    TOKEN_MALFORMED, "alg none, empty signature");
	expect(craft_n(NULL, NULL, "{\"alg\":\"none\",\"typ\":\"JWT\"}", p, strlen(p),
		   strrchr(signed256(p), '.') + 1),
	    TOKEN_BAD_ALGORITHM, "alg none with a (valid HS256) signature");
	expect(craft_n(NULL, NULL, "{\"alg\":\"None\"}", p, strlen(p), "AAAA"),
	    TOKEN_BAD_ALGORITHM, "alg None");
	expect(craft_n(NULL, NULL, "{\"alg\":\"NONE\"}", p, strlen(p), "AAAA"),
	    TOKEN_BAD_ALGORITHM, "alg NONE");
	expect(craft(EVP_sha384(), secret, "{\"alg\":\"HS384\",\"typ\":\"JWT\"}", p),
	    TOKEN_BAD_ALGORITHM, "HS384 properly signed while HS256 is configured");
	expect(craft(EVP_sha512(), secret, "{\"alg\":\"HS512\",\"typ\":\"JWT\"}", p),
	    TOKEN_BAD_ALGORITHM, "HS512 properly signed while HS256 is configured");
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", p),
	    TOKEN_BAD_ALGORITHM, "RS256 header");
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"hs256\"}", p),
	    TOKEN_BAD_ALGORITHM, "alg in lower case");
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"HS256 \"}", p),
	    TOKEN_BAD_ALGORITHM, "alg with a trailing space");
	expect(craft(EVP_sha256(), secret, "{\"typ\":\"JWT\"}", p),
	    TOKEN_BAD_ALGORITHM, "no alg");
	expect(craft(EVP_sha256(), secret, "{\"alg\":256}", p),
	    TOKEN_BAD_ALGORITHM, "alg not a string");
	expect(craft(EVP_sha256(), secret, "{\"ALG\":\"HS256\"}", p),
	    TOKEN_BAD_ALGORITHM, "ALG key in the wrong case");
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"HS256\",\"typ\":\"JWS\"}", p),
	    TOKEN_MALFORMED, "typ other than JWT");
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"HS256\",\"typ\":1}", p),
	    TOKEN_MALFORMED, "typ not a string");
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", p),
	    TOKEN_MALFORMED, "crit header");

	/* HS384 and HS512 configured: only their own name passes. */
	cfg.jwt_algorithm = CFG_JWT_HS384;
	expect(craft(EVP_sha384(), secret, "{\"alg\":\"HS384\",\"typ\":\"JWT\"}", p),
	    TOKEN_OK, "HS384 configured: HS384 token accepted");
	expect(signed256(p), TOKEN_BAD_ALGORITHM, "HS384 configured: HS256 token refused");
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"HS384\"}", p), TOKEN_BAD_SIGNATURE,
	    "HS384 header over an HS256 MAC");
	cfg.jwt_algorithm = CFG_JWT_HS512;
	expect(craft(EVP_sha512(), secret, "{\"alg\":\"HS512\"}", p),
	    TOKEN_OK, "HS512 configured: HS512 token accepted");
	expect(craft(EVP_sha384(), secret, "{\"alg\":\"HS384\"}", p),
	    TOKEN_BAD_ALGORITHM, "HS512 configured: HS384 token refused");
	cfg.jwt_algorithm = CFG_JWT_HS256;
}

static void test_signatures(void)
{
	char good[1024], tampered[1024], bad[1024], p[1024];
	const char *sig;
	char *q;
	size_t n;

	strcpy(p, good_claims());
	strcpy(good, signed256(p));
	sig = strrchr(good, '.') + 1;

	/* Payload with one character flipped, re-encoded, old signature kept. */
	q = fmt("%s", p);
	q[strstr(q, "user-1") - q + 5] = '2';
	strcpy(tampered, craft_n(NULL, NULL, H256, q, strlen(q), sig));
	expect(tampered, TOKEN_BAD_SIGNATURE, "tampered payload, old signature");
	q = fmt("%s", p);
	q[strstr(q, "\"exp\":") - q + 6] = '9';
	expect(craft_n(NULL, NULL, H256, q, strlen(q), sig), TOKEN_BAD_SIGNATURE,
	    "exp pushed into the future, old signature");
	expect(craft_n(NULL, NULL, "{\"alg\":\"HS256\"}", p, strlen(p), sig),
	    TOKEN_BAD_SIGNATURE, "header changed, old signature");

	expect(craft(EVP_sha256(), other_secret, H256, p), TOKEN_BAD_SIGNATURE,
	    "signed with another secret");
	expect(craft(EVP_sha256(), "", H256, p), TOKEN_BAD_SIGNATURE, "signed with an empty key");

	/* Signature bytes changed, cut short, lengthened. */
	strcpy(bad, good);
	n = strlen(bad);
	bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A';
	expect(bad, TOKEN_BAD_SIGNATURE, "one signature character changed");
	strcpy(bad, good);
	bad[strlen(bad) - 3] = '\0'; /* 40 of 43 characters: 30 bytes */
	expect(bad, TOKEN_BAD_SIGNATURE, "signature cut short");
	expect(fmt("%sAAAA", good), TOKEN_BAD_SIGNATURE, "signature lengthened");
	strcpy(bad, good);
	n = strlen(bad);
	bad[n - 1] = '\0'; /* 42 characters: decodable only if the low bits are 0 */
	{
		enum token_result r = token_verify(&cfg, bad, NOW, NULL);

		CHECK_MSG(r == TOKEN_BAD_SIGNATURE || r == TOKEN_MALFORMED,
		    "signature missing its last character");
	}

	/* A second spelling of the same MAC (unused low bits set) is refused. */
	strcpy(bad, good);
	n = strlen(bad);
	{
		const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		long v = strchr(a, bad[n - 1]) - a;

		bad[n - 1] = a[v ^ 1];
	}
	expect(bad, TOKEN_MALFORMED, "non-canonical base64url signature");
}

static void test_times(void)
{
	expect(signed256(claims(NOW - 1000, NOW - 11)), TOKEN_EXPIRED, "exp = now - 11");
	expect(signed256(claims(NOW - 1000, NOW - 10)), TOKEN_EXPIRED, "exp = now - 10");
	expect(signed256(claims(NOW - 1000, NOW - 9)), TOKEN_OK, "exp = now - 9 (leeway)");
	expect(signed256(claims(NOW - 1000, NOW - 5)), TOKEN_OK, "exp = now - 5 (leeway)");
	expect(signed256(claims(NOW - 1000, 0)), TOKEN_EXPIRED, "exp = 0");
	expect(signed256(claims(NOW - 1000, -5)), TOKEN_EXPIRED, "exp negative");
	expect(signed256(claims(NOW + 11, NOW + TTL)), TOKEN_NOT_YET_VALID, "iat = now + 11");
	expect(signed256(claims(NOW + 3600, NOW + 7200)), TOKEN_NOT_YET_VALID, "iat an hour ahead");
	expect(signed256(claims(NOW + 10, NOW + TTL)), TOKEN_OK, "iat = now + 10 (leeway)");
	expect(signed256(claims(NOW + 11, NOW - 11)), TOKEN_EXPIRED, "exp is checked before iat");

	expect(signed256(fmt("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u\",\"sid\":\"s\",\"jti\":\"j\","
			     "\"iat\":%ld,\"exp\":%ld,\"nbf\":%ld}",
		   issuer, audience, NOW, NOW + TTL, NOW + 11)),
	    TOKEN_NOT_YET_VALID, "nbf = now + 11");
	expect(signed256(fmt("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u\",\"sid\":\"s\",\"jti\":\"j\","
			     "\"iat\":%ld,\"exp\":%ld,\"nbf\":%ld}",
		   issuer, audience, NOW, NOW + TTL, NOW + 5)),
	    TOKEN_OK, "nbf = now + 5 (leeway)");
	expect(signed256(fmt("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u\",\"sid\":\"s\",\"jti\":\"j\","
			     "\"iat\":%ld,\"exp\":%ld,\"nbf\":\"0\"}",
		   issuer, audience, NOW, NOW + TTL)),
	    TOKEN_MALFORMED, "nbf as a string");
}

static void test_issuer_audience(void)
{
	char iss[64], aud[64];

	snprintf(iss, sizeof(iss), "\"%s\"", issuer);
	snprintf(aud, sizeof(aud), "\"%s\"", audience);

#define P(i, a) fmt("{\"iss\":%s,\"aud\":%s,\"sub\":\"user-1\",\"sid\":\"sess-1\"," \
		    "\"iat\":%ld,\"exp\":%ld,\"jti\":\"j-1\"}", (i), (a), NOW, NOW + TTL)
	expect(signed256(P(iss, aud)), TOKEN_OK, "iss and aud as configured");
	expect(signed256(P("\"https://evil.example\"", aud)), TOKEN_BAD_ISSUER, "wrong iss");
	expect(signed256(P("\"https://auth.example.test/\"", aud)), TOKEN_BAD_ISSUER,
	    "iss with a trailing slash");
	expect(signed256(P("\"HTTPS://AUTH.EXAMPLE.TEST\"", aud)), TOKEN_BAD_ISSUER,
	    "iss in another case");
	expect(signed256(P("[\"https://auth.example.test\"]", aud)), TOKEN_BAD_ISSUER,
	    "iss as an array");
	expect(signed256(fmt("{\"aud\":%s,\"sub\":\"u\",\"sid\":\"s\",\"iat\":%ld,\"exp\":%ld,"
			     "\"jti\":\"j\"}", aud, NOW, NOW + TTL)),
	    TOKEN_BAD_ISSUER, "no iss");

	expect(signed256(P(iss, "\"other-api\"")), TOKEN_BAD_AUDIENCE, "wrong aud");
	expect(signed256(P(iss, "\"portcullis-api \"")), TOKEN_BAD_AUDIENCE, "aud with a space");
	expect(signed256(P(iss, fmt("[\"other-api\",%s]", aud))), TOKEN_OK,
	    "aud array containing ours");
	expect(signed256(P(iss, "[\"other-api\",\"third\"]")), TOKEN_BAD_AUDIENCE,
	    "aud array not containing ours");
	expect(signed256(P(iss, "[]")), TOKEN_BAD_AUDIENCE, "aud empty array");
	expect(signed256(P(iss, "[[\"portcullis-api\"]]")), TOKEN_BAD_AUDIENCE,
	    "aud nested array");
	expect(signed256(P(iss, "42")), TOKEN_BAD_AUDIENCE, "aud a number");
	expect(signed256(fmt("{\"iss\":%s,\"sub\":\"u\",\"sid\":\"s\",\"iat\":%ld,\"exp\":%ld,"
			     "\"jti\":\"j\"}", iss, NOW, NOW + TTL)),
	    TOKEN_BAD_AUDIENCE, "no aud");
#undef P
}

static void test_missing_claims(void)
{
	const char *base = "\"iss\":\"https://auth.example.test\",\"aud\":\"portcullis-api\"";
	char id64[TOKEN_ID_MAX + 1], id65[TOKEN_ID_MAX + 2];

	memset(id64, 'Z', TOKEN_ID_MAX);
	id64[TOKEN_ID_MAX] = '\0';
	memset(id65, 'Z', TOKEN_ID_MAX + 1);
	id65[TOKEN_ID_MAX + 1] = '\0';

#define T(body) signed256(fmt("{%s," body "}", base))
	expect(T("\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "no sub");
	expect(T("\"sub\":\"u\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "no sid");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900"),
	    TOKEN_MISSING_CLAIM, "no jti");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "no exp");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"exp\":1700000900,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "no iat");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":\"1700000900\",\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "exp as a string");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900.5,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "exp not an integer");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1e300,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "exp out of range");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":null,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "exp null");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"iat\":true,\"exp\":1700000900,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "iat a boolean");
	expect(T("\"sub\":\"\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "sub empty");
	expect(T("\"sub\":42,\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "sub a number");
	expect(T("\"sub\":\"u/1\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "sub with a slash");
	expect(T("\"sub\":\"u\",\"sid\":\"s s\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\""),
	    TOKEN_MISSING_CLAIM, "sid with a space");
	expect(T("\"sub\":\"u\",\"sid\":\"s\",\"iat\":1700000000,\"exp\":1700000900,\"jti\":\"j\\u00e9\""),
	    TOKEN_MISSING_CLAIM, "jti with a non-ASCII character");
	expect(signed256(fmt("{%s,\"sub\":\"%s\",\"sid\":\"s\",\"iat\":%ld,\"exp\":%ld,\"jti\":\"j\"}",
		   base, id65, NOW, NOW + TTL)),
	    TOKEN_MISSING_CLAIM, "sub of 65 characters");
	expect(signed256(fmt("{%s,\"sub\":\"%s\",\"sid\":\"%s\",\"iat\":%ld,\"exp\":%ld,\"jti\":\"%s\"}",
		   base, id64, id64, NOW, NOW + TTL, id64)),
	    TOKEN_OK, "ids of 64 characters");
#undef T
}

static void test_shapes(void)
{
	char good[1024], s[1024], big[16384], p[1024];
	char hdr[256], pl[4096];

	strcpy(p, good_claims());
	strcpy(good, signed256(p));

	b64url_enc((const unsigned char *)H256, strlen(H256), hdr);
	b64url_enc((const unsigned char *)p, strlen(p), pl);

	expect(craft(EVP_sha256(), secret, "not json", p), TOKEN_MALFORMED, "header not JSON");
	expect(craft(EVP_sha256(), secret, "[\"HS256\"]", p), TOKEN_MALFORMED, "header a JSON array");
	expect(craft(EVP_sha256(), secret, "\"HS256\"", p), TOKEN_MALFORMED, "header a JSON string");
	expect(craft(EVP_sha256(), secret, H256 "x", p), TOKEN_MALFORMED, "header with trailing bytes");
	expect(craft(EVP_sha256(), secret, "{\"alg\":\"HS256\"", p), TOKEN_MALFORMED,
	    "header truncated JSON");
	expect(signed256("not json"), TOKEN_MALFORMED, "payload not JSON (signed)");
	expect(signed256("[1,2,3]"), TOKEN_MALFORMED, "payload a JSON array (signed)");
	expect(signed256("1700000000"), TOKEN_MALFORMED, "payload a JSON number (signed)");
	expect(signed256(fmt("%s{}", p)), TOKEN_MALFORMED, "payload with trailing JSON (signed)");
	{
		char withnul[2048];
		size_t n = strlen(p);

		memcpy(withnul, p, n);
		withnul[n] = '\0';
		memcpy(withnul + n + 1, "junk", 4);
		expect(craft_n(EVP_sha256(), secret, H256, withnul, n + 5, ""), TOKEN_MALFORMED,
		    "payload with a NUL byte (signed)");
	}
	expect(fmt("%s.A.%s", hdr, strrchr(good, '.') + 1), TOKEN_MALFORMED,
	    "payload segment of length 4k+1");

	expect(fmt("%s.%s", hdr, pl), TOKEN_MALFORMED, "two segments");
	expect(fmt("%s.AAAA", good), TOKEN_MALFORMED, "four segments");
	expect(fmt("%s.", good), TOKEN_MALFORMED, "trailing dot");
	expect("..", TOKEN_MALFORMED, "only dots");
	expect(fmt("%s..%s", hdr, strrchr(good, '.') + 1), TOKEN_MALFORMED, "empty payload");
	expect(fmt(".%s", strchr(good, '.') + 1), TOKEN_MALFORMED, "empty header");
	expect(fmt("%s.%s.", hdr, pl), TOKEN_MALFORMED, "empty signature");
	expect("", TOKEN_MALFORMED, "empty string");
	expect(NULL, TOKEN_MALFORMED, "NULL");
	expect(fmt("%s=", good), TOKEN_MALFORMED, "padding on the signature");
	expect(fmt("%s=.%s", hdr, strchr(good, '.') + 1), TOKEN_MALFORMED, "padding on the header");
	expect(fmt(" %s", good), TOKEN_MALFORMED, "leading space");
	expect(fmt("%s\n", good), TOKEN_MALFORMED, "trailing newline");
	expect(fmt("%s\r\n", good), TOKEN_MALFORMED, "trailing CRLF");
	strcpy(s, good);
	s[10] = ' ';
	expect(s, TOKEN_MALFORMED, "space inside");
	strcpy(s, good);
	s[10] = '\t';
	expect(s, TOKEN_MALFORMED, "tab inside");
	strcpy(s, good);
	s[10] = '+';
	expect(s, TOKEN_MALFORMED, "base64 (not base64url) character");
	expect(fmt("Bearer %s", good), TOKEN_MALFORMED, "Bearer prefix left on");
	expect(fmt("%s\xc3\xa9", good), TOKEN_MALFORMED, "non-ASCII bytes at the end");
	strcpy(s, good);
	s[3] = (char)0xff;
	expect(s, TOKEN_MALFORMED, "byte 0xff inside");

	/* Length: 5000 bytes of otherwise well-formed, correctly signed token. */
	{
		char *padded = fmt("{\"x\":\"%0*d\",%s", 3500, 0, p + 1);

		strcpy(big, signed256(padded));
		CHECK(strlen(big) > 4900);
		expect(big, TOKEN_MALFORMED, "a ~5000-byte token (signed)");
	}
	memset(big, 'A', 5000);
	big[100] = '.';
	big[200] = '.';
	big[5000] = '\0';
	expect(big, TOKEN_MALFORMED, "a 5000-byte token");
	/* The limit itself: a signed token of exactly TOKEN_MAX_LEN still verifies. */
	{
		int pad = 0;
		char *t = NULL;

		for (pad = 2000; pad < 3200; pad++) {
			t = signed256(fmt("{\"x\":\"%0*d\",%s", pad, 0, p + 1));
			if (strlen(t) >= TOKEN_MAX_LEN)
				break;
		}
		if (t != NULL && strlen(t) == TOKEN_MAX_LEN)
			expect(t, TOKEN_OK, "a token of exactly TOKEN_MAX_LEN bytes");
		else
			CHECK_MSG(t != NULL && strlen(t) == TOKEN_MAX_LEN + 1,
			    "found a token at the length limit");
		t = signed256(fmt("{\"x\":\"%0*d\",%s", pad + 1, 0, p + 1));
		CHECK(strlen(t) > TOKEN_MAX_LEN);
		expect(t, TOKEN_MALFORMED, "a token one step over TOKEN_MAX_LEN");
	}
}

static void test_out_untouched(void)
{
	struct token_claims c, before;

	memset(&c, 0xAA, sizeof(c));
	memcpy(&before, &c, sizeof(c));
	CHECK(token_verify(&cfg, signed256(claims(NOW - 100, NOW - 50)), NOW, &c) == TOKEN_EXPIRED);
	CHECK(memcmp(&c, &before, sizeof(c)) == 0);
	CHECK(token_verify(&cfg, craft(EVP_sha256(), other_secret, H256, good_claims()), NOW, &c) ==
	    TOKEN_BAD_SIGNATURE);
	CHECK(memcmp(&c, &before, sizeof(c)) == 0);
	CHECK(token_verify(&cfg, signed256(good_claims()), NOW, NULL) == TOKEN_OK);
	CHECK(token_verify(NULL, signed256(good_claims()), NOW, &c) == TOKEN_BAD_SIGNATURE);
	CHECK(memcmp(&c, &before, sizeof(c)) == 0);
}

static void test_names(void)
{
	CHECK_STR(token_result_name(TOKEN_OK), "ok");
	CHECK_STR(token_result_name(TOKEN_MALFORMED), "malformed");
	CHECK_STR(token_result_name(TOKEN_BAD_ALGORITHM), "bad_algorithm");
	CHECK_STR(token_result_name(TOKEN_BAD_SIGNATURE), "bad_signature");
	CHECK_STR(token_result_name(TOKEN_EXPIRED), "expired");
	CHECK_STR(token_result_name(TOKEN_NOT_YET_VALID), "not_yet_valid");
	CHECK_STR(token_result_name(TOKEN_BAD_ISSUER), "bad_issuer");
	CHECK_STR(token_result_name(TOKEN_BAD_AUDIENCE), "bad_audience");
	CHECK_STR(token_result_name(TOKEN_MISSING_CLAIM), "missing_claim");
	CHECK_STR(token_result_name((enum token_result)99), "unknown");
}

/* ---- the cache of verified tokens (token_cache.h) ------------------------ */

/* token_verify at `now` with the cache as it is, and again with it emptied first. */
static void same_cached_and_fresh(const char *tok, long now, const char *what)
{
	struct token_claims a, b;
	enum token_result cached, fresh;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	cached = token_verify(&cfg, tok, now, &a);
	token_cache_clear();
	fresh = token_verify(&cfg, tok, now, &b);
	check_report(cached == fresh && memcmp(&a, &b, sizeof(a)) == 0, __FILE__, __LINE__, what);
	if (cached != fresh)
		printf("#   cached %s, fresh %s\n", token_result_name(cached), token_result_name(fresh));
}

static void test_cache(void)
{
	char *good = signed256(good_claims());
	char *nbf = signed256(fmt("{\"iss\":\"%s\",\"aud\":[\"x\",\"%s\"],\"sub\":\"u\",\"sid\":\"s\","
				  "\"iat\":%ld,\"nbf\":%ld,\"exp\":%ld,\"jti\":\"j\"}",
	    issuer, audience, NOW - 100, NOW - 5, NOW + TTL));
	char *other, *longer;
	static char other_issuer[] = "https://elsewhere.example";
	struct token_claims c;
	enum token_result r;
	const long times[] = { NOW, NOW - 1, NOW - TOKEN_LEEWAY_S, NOW - TOKEN_LEEWAY_S - 1,
		NOW - 200, NOW + TTL + TOKEN_LEEWAY_S - 1, NOW + TTL + TOKEN_LEEWAY_S, NOW + 10 * TTL };

	token_cache_clear();
	CHECK(token_verify(&cfg, good, NOW, NULL) == TOKEN_OK);
	CHECK_MSG(token_cache_find(&cfg, good, strlen(good), NOW, &c, &r) == 1 && r == TOKEN_OK &&
		strcmp(c.sub, "user-1") == 0 && c.exp == NOW + TTL,
	    "a verified token is cached with its claims");

	/* Every time check gives the answer a full verification gives. */
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		CHECK(token_verify(&cfg, good, NOW, NULL) == TOKEN_OK);
		same_cached_and_fresh(good, times[i], "cached = fresh (exp, iat)");
		CHECK(token_verify(&cfg, nbf, NOW, NULL) == TOKEN_OK);
		same_cached_and_fresh(nbf, times[i], "cached = fresh (nbf, audience list)");
	}
	CHECK(token_verify(&cfg, good, NOW, NULL) == TOKEN_OK);
	CHECK(token_verify(&cfg, good, NOW + TTL + TOKEN_LEEWAY_S, NULL) == TOKEN_EXPIRED);
	CHECK(token_verify(&cfg, nbf, NOW, NULL) == TOKEN_OK);
	CHECK(token_verify(&cfg, nbf, NOW - 5 - TOKEN_LEEWAY_S - 1, NULL) == TOKEN_NOT_YET_VALID);

	/* Another byte is another token; a tampered copy is not found. */
	other = strdup(good);
	other[strlen(other) - 2] = other[strlen(other) - 2] == 'A' ? 'B' : 'A';
	CHECK(token_cache_find(&cfg, other, strlen(other), NOW, NULL, &r) == 0);
	CHECK(token_verify(&cfg, other, NOW, NULL) == TOKEN_BAD_SIGNATURE);

	/* A cache belongs to its configuration: another secret or issuer verifies afresh. */
	CHECK(token_verify(&cfg, good, NOW, NULL) == TOKEN_OK);
	cfg.jwt_secret = other_secret;
	CHECK(token_cache_find(&cfg, good, strlen(good), NOW, NULL, &r) == 0);
	CHECK(token_verify(&cfg, good, NOW, NULL) == TOKEN_BAD_SIGNATURE);
	cfg.jwt_secret = secret;
	CHECK(token_verify(&cfg, good, NOW, NULL) == TOKEN_OK);
	cfg.jwt_issuer = other_issuer;
	CHECK(token_verify(&cfg, good, NOW, NULL) == TOKEN_BAD_ISSUER);
	cfg.jwt_issuer = issuer;
	cfg.jwt_algorithm = CFG_JWT_HS512;
	CHECK(token_verify(&cfg, good, NOW, NULL) == TOKEN_BAD_ALGORITHM);
	cfg.jwt_algorithm = CFG_JWT_HS256;

	/* Tokens over the cache's size are verified every time, never stored. */
	longer = signed256(fmt("{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"u\",\"sid\":\"s\","
			      "\"iat\":%ld,\"exp\":%ld,\"jti\":\"j\",\"pad\":\"%0900d\"}",
	    issuer, audience, NOW, NOW + TTL, 0));
	CHECK(strlen(longer) > TOKEN_CACHE_TOKEN_MAX);
	CHECK(token_verify(&cfg, longer, NOW, NULL) == TOKEN_OK);
	CHECK(token_cache_find(&cfg, longer, strlen(longer), NOW, NULL, &r) == 0);

	token_cache_clear();
	CHECK(token_cache_find(&cfg, good, strlen(good), NOW, NULL, &r) == 0);
	free(other);
}

int main(void)
{
	cfg.jwt_secret = secret;
	cfg.jwt_algorithm = CFG_JWT_HS256;
	cfg.jwt_issuer = issuer;
	cfg.jwt_audience = audience;
	cfg.access_token_ttl = TTL;

	test_round_trip(CFG_JWT_HS256, "HS256", JWT_ALG_HS256);
	test_round_trip(CFG_JWT_HS384, "HS384", JWT_ALG_HS384);
	test_round_trip(CFG_JWT_HS512, "HS512", JWT_ALG_HS512);
	test_issue_rejects();
	test_baseline();
	test_algorithms();
	test_signatures();
	test_times();
	test_issuer_audience();
	test_missing_claims();
	test_shapes();
	test_out_untouched();
	test_names();
	test_cache();
	token_cache_clear();
	return check_summary();
}
