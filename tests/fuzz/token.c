/*
 * token.c - fuzzes token_verify() (lib/token.c) with a fixed key and clock.
 *
 * The first byte picks the mode.  Even: the rest is the token as a client
 * sends it (Authorization: Bearer or the access cookie).  Odd: the rest is
 * "<header JSON>\n<payload JSON>", which the harness encodes and signs with
 * the configured key, so the claim checks behind the signature are reached
 * too.  On TOKEN_OK the claims must be the ids the contract allows and an
 * exp that has not passed.
 */
#include "token.h"
#include "token_cache.h"
#include "fuzz.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define NOW 1700000000L
#define SECRET "fuzz-secret-0123456789abcdef0123456789"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cfg.jwt_secret = (char *)SECRET;
	cfg.jwt_algorithm = CFG_JWT_HS256;
	cfg.jwt_issuer = (char *)"portcullis";
	cfg.jwt_audience = (char *)"portcullis-api";
	cfg.access_token_ttl = 900;
	return 0;
}

/* Unpadded base64url of in[0..n) at out; returns the length written. */
static size_t b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		unsigned long v = (unsigned long)in[i] << 8 | in[i + 1];

		out[o++] = a[v >> 10 & 63];
		out[o++] = a[v >> 4 & 63];
		out[o++] = a[(v & 15) << 2];
	}
	return o;
}

static int valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TOKEN_ID_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* Encodes and signs header.payload as the server would; a malloc'd token. */
static char *sign(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl != NULL ? (size_t)(nl - data) : size;
	const uint8_t *pl = nl != NULL ? nl + 1 : data + size;
	size_t plen = nl != NULL ? size - hlen - 1 : 0;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char *t = malloc((hlen + plen + EVP_MAX_MD_SIZE) / 3 * 4 + 16);
	size_t o = 0;

	if (t == NULL)
		abort();
	o += b64url(data, hlen, t + o);
	t[o++] = '.';
	o += b64url(pl, plen, t + o);
	if (HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)t, o, mac,
		&maclen) == NULL)
		abort();
	t[o++] = '.';
	o += b64url(mac, maclen, t + o);
	t[o] = '\0';
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct token_claims c;
	enum token_result r;
	char *jwt;

	if (size < 1 || size > 2 * TOKEN_MAX_LEN)
		return 0;
	jwt = data[0] & 1 ? sign(data + 1, size - 1) : fuzz_str(data + 1, size - 1);
	memset(&c, 0x55, sizeof(c));
	r = token_verify(&cfg, jwt, NOW, &c);
	FUZZ_ASSERT(token_result_name(r) != NULL);
	if (r == TOKEN_OK) {
		FUZZ_ASSERT(valid_id(c.sub) && valid_id(c.sid) && valid_id(c.jti));
		FUZZ_ASSERT(c.exp + TOKEN_LEEWAY_S > NOW);
		FUZZ_ASSERT(c.iat - TOKEN_LEEWAY_S <= NOW);
	}
	FUZZ_ASSERT(token_verify(&cfg, jwt, NOW, NULL) == r);
	/* The cache of verified tokens answers as a full verification does, at any time. */
	if (r == TOKEN_OK) {
		long later = NOW + (long)(data[0] >> 1) * 37 - 2000;
		enum token_result cached = token_verify(&cfg, jwt, later, NULL);

		token_cache_clear();
		FUZZ_ASSERT(token_verify(&cfg, jwt, later, NULL) == cached);
	}
	free(jwt);
	return 0;
}
