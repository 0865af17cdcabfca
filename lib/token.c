/*
 * token.c - see token.h.
 *
 * Verification never hands the token to libjwt: jwt_decode() in libjwt 1.10
 * picks the algorithm from the attacker's header and parses with jansson,
 * while the claims are read here with cJSON.  Doing the HMAC ourselves keeps
 * one parser, one algorithm (the configured one, pinned before the signature
 * is even looked at) and one comparison we can see is constant-time
 * (CRYPTO_memcmp over the raw MAC bytes).
 */
#include "token.h"
#include "crypto.h"
#include "token_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cJSON.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define JTI_BYTES 16

/* Largest integer a JSON number (a double in cJSON) holds exactly: 2^53. */
#define EXACT_INT_MAX 9007199254740992.0

static int valid_id(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= TOKEN_ID_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return n > 0;
}

/* The digest of the HMAC, by its OpenSSL name (crypto_hmac). */
static const char *alg_md_name(enum jwt_alg_cfg alg)
{
	switch (alg) {
	case CFG_JWT_HS256:
		return "SHA256";
	case CFG_JWT_HS384:
		return "SHA384";
	case CFG_JWT_HS512:
		return "SHA512";
	}
	return NULL;
}

static jwt_alg_t alg_libjwt(enum jwt_alg_cfg alg)
{
	switch (alg) {
	case CFG_JWT_HS256:
		return JWT_ALG_HS256;
	case CFG_JWT_HS384:
		return JWT_ALG_HS384;
	case CFG_JWT_HS512:
		return JWT_ALG_HS512;
	}
	return JWT_ALG_INVAL;
}

/* Our own name for the algorithm: no fallback for an out-of-range value. */
static const char *alg_name(enum jwt_alg_cfg alg)
{
	switch (alg) {
	case CFG_JWT_HS256:
		return "HS256";
	case CFG_JWT_HS384:
		return "HS384";
	case CFG_JWT_HS512:
		return "HS512";
	}
	return NULL;
}

static int cfg_usable(const struct config *cfg)
{
	return cfg != NULL && cfg->jwt_secret != NULL && cfg->jwt_secret[0] != '\0' &&
	    strlen(cfg->jwt_secret) <= (size_t)0x7fffffff &&
	    cfg->jwt_issuer != NULL && cfg->jwt_audience != NULL &&
	    alg_md_name(cfg->jwt_algorithm) != NULL && alg_name(cfg->jwt_algorithm) != NULL;
}

/* ---- issuing ---------------------------------------------------------- */

static int random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[JTI_BYTES];
	size_t got = 0;

	if (nbytes > sizeof(raw))
		return -1;
	while (got < nbytes) {
		ssize_t r = getrandom(raw + got, nbytes - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * nbytes] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int token_issue(const struct config *cfg, const char *sub, const char *sid, long now,
    char **jwt_out, struct token_claims *claims_out)
{
	struct token_claims c;
	jwt_t *jwt = NULL;
	char *s = NULL;
	size_t keylen;
	int rc = -1;

	if (jwt_out == NULL)
		return -1;
	*jwt_out = NULL;
	if (!cfg_usable(cfg) || !valid_id(sub) || !valid_id(sid) ||
	    cfg->access_token_ttl <= 0 || now < 0 || now > (long)EXACT_INT_MAX / 2 ||
	    cfg->access_token_ttl > (long)EXACT_INT_MAX / 2)
		return -1;
	keylen = strlen(cfg->jwt_secret);

	memset(&c, 0, sizeof(c));
	memcpy(c.sub, sub, strlen(sub) + 1);
	memcpy(c.sid, sid, strlen(sid) + 1);
	if (random_hex(c.jti, JTI_BYTES) != 0)
		return -1;
	c.iat = now;
	c.exp = now + cfg->access_token_ttl;

	if (jwt_new(&jwt) != 0)
		goto out;
	if (jwt_set_alg(jwt, alg_libjwt(cfg->jwt_algorithm),
		(const unsigned char *)cfg->jwt_secret, (int)keylen) != 0)
		goto out;
	if (jwt_add_grant(jwt, "iss", cfg->jwt_issuer) != 0 ||
	    jwt_add_grant(jwt, "aud", cfg->jwt_audience) != 0 ||
	    jwt_add_grant(jwt, "sub", c.sub) != 0 ||
	    jwt_add_grant(jwt, "sid", c.sid) != 0 ||
	    jwt_add_grant_int(jwt, "iat", c.iat) != 0 ||
	    jwt_add_grant_int(jwt, "exp", c.exp) != 0 ||
	    jwt_add_grant(jwt, "jti", c.jti) != 0)
		goto out;
	s = jwt_encode_str(jwt);
	if (s == NULL || strlen(s) > TOKEN_MAX_LEN)
		goto out;

	*jwt_out = s;
	s = NULL;
	if (claims_out != NULL)
		*claims_out = c;
	rc = 0;
out:
	free(s);
	jwt_free(jwt); /* NULL-safe; libjwt wipes its copy of the key */
	return rc;
}

/* ---- verifying -------------------------------------------------------- */

/* Each base64url character's value plus one; 0 for every other byte. */
static const unsigned char b64url_values[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7, ['H'] = 8,
	['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15,
	['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29,
	['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
	['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49, ['x'] = 50,
	['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

/* The value of base64url character `c`, or -1: one load a character. */
static int b64url_value(char c)
{
	return (int)b64url_values[(unsigned char)c] - 1;
}

/*
 * Strict unpadded base64url: only the alphabet, no length of 4k+1, and the
 * unused low bits of the last character zero (one spelling per byte string).
 * Writes at most `cap` bytes; returns 0 with *outlen set, or -1.
 */
static int b64url_decode(const char *in, size_t n, unsigned char *out, size_t cap,
    size_t *outlen)
{
	unsigned long acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value(in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;
	*outlen = o;
	return 0;
}

/*
 * Splits `jwt` (length `len`) into exactly three non-empty segments of the
 * base64url alphabet, each of a decodable length.  Returns 0, or -1.
 */
static int split(const char *jwt, size_t len, const char *seg[3], size_t seglen[3])
{
	size_t start = 0, k = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || jwt[i] == '.') {
			/* 4k+1 characters cannot be base64url of anything. */
			if (k == 3 || i == start || (i - start) % 4 == 1)
				return -1;
			seg[k] = jwt + start;
			seglen[k] = i - start;
			k++;
			start = i + 1;
		} else if (b64url_value(jwt[i]) < 0) {
			return -1;
		}
	}
	return k == 3 ? 0 : -1;
}

/*
 * Decodes one segment into `buf` (capacity `cap`, one byte is kept for the
 * terminator) and parses it as a JSON object.  Returns the object (free with
 * cJSON_Delete), or NULL.
 */
static cJSON *decode_object(const char *seg, size_t seglen, unsigned char *buf, size_t cap)
{
	size_t n;
	cJSON *j;

	if (cap == 0 || b64url_decode(seg, seglen, buf, cap - 1, &n) != 0)
		return NULL;
	if (memchr(buf, '\0', n) != NULL) /* cJSON would stop at it */
		return NULL;
	buf[n] = '\0';
	/* The length counts the terminator: trailing bytes after the value fail. */
	j = cJSON_ParseWithLengthOpts((const char *)buf, n + 1, NULL, 1);
	if (j != NULL && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}

static enum token_result check_header(const cJSON *hdr, const char *want_alg)
{
	const cJSON *alg = cJSON_GetObjectItemCaseSensitive(hdr, "alg");
	const cJSON *typ = cJSON_GetObjectItemCaseSensitive(hdr, "typ");

	if (!cJSON_IsString(alg) || strcmp(alg->valuestring, want_alg) != 0)
		return TOKEN_BAD_ALGORITHM;
	if (typ != NULL && (!cJSON_IsString(typ) || strcmp(typ->valuestring, "JWT") != 0))
		return TOKEN_MALFORMED;
	/* RFC 7515 4.1.11: extensions we do not understand must be refused. */
	if (cJSON_GetObjectItemCaseSensitive(hdr, "crit") != NULL)
		return TOKEN_MALFORMED;
	return TOKEN_OK;
}

/* An integral JSON number within +-2^53.  Returns 0 with *out set, or -1. */
static int get_int(const cJSON *obj, const char *name, long *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	double d;

	if (!cJSON_IsNumber(it))
		return -1;
	d = it->valuedouble;
	if (!(d > -EXACT_INT_MAX && d < EXACT_INT_MAX)) /* also NaN */
		return -1;
	if ((double)(long long)d != d)
		return -1;
	*out = (long)d;
	return 0;
}

static int copy_id(const cJSON *obj, const char *name, char out[TOKEN_ID_MAX + 1])
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(it) || !valid_id(it->valuestring))
		return -1;
	memcpy(out, it->valuestring, strlen(it->valuestring) + 1);
	return 0;
}

static int audience_ok(const cJSON *aud, const char *want)
{
	const cJSON *el;

	if (cJSON_IsString(aud))
		return strcmp(aud->valuestring, want) == 0;
	if (!cJSON_IsArray(aud))
		return 0;
	cJSON_ArrayForEach(el, aud) {
		if (cJSON_IsString(el) && strcmp(el->valuestring, want) == 0)
			return 1;
	}
	return 0;
}

static enum token_result check_claims(const struct config *cfg, const cJSON *pl, long now,
    struct token_claims *c, struct token_times *t)
{
	const cJSON *iss = cJSON_GetObjectItemCaseSensitive(pl, "iss");
	long nbf;

	/*
	 * exp > now - leeway, iat <= now + leeway, nbf <= now + leeway, with the
	 * leeway moved to the claim side: claims are within +-2^53, so that
	 * cannot overflow whatever `now` is.
	 */
	if (get_int(pl, "exp", &c->exp) != 0)
		return TOKEN_MISSING_CLAIM;
	if (c->exp + TOKEN_LEEWAY_S <= now)
		return TOKEN_EXPIRED;
	if (get_int(pl, "iat", &c->iat) != 0)
		return TOKEN_MISSING_CLAIM;
	if (c->iat - TOKEN_LEEWAY_S > now)
		return TOKEN_NOT_YET_VALID;
	if (cJSON_GetObjectItemCaseSensitive(pl, "nbf") != NULL) {
		if (get_int(pl, "nbf", &nbf) != 0)
			return TOKEN_MALFORMED;
		if (nbf - TOKEN_LEEWAY_S > now)
			return TOKEN_NOT_YET_VALID;
		t->has_nbf = 1;
		t->nbf = nbf;
	}
	if (!cJSON_IsString(iss) || strcmp(iss->valuestring, cfg->jwt_issuer) != 0)
		return TOKEN_BAD_ISSUER;
	if (!audience_ok(cJSON_GetObjectItemCaseSensitive(pl, "aud"), cfg->jwt_audience))
		return TOKEN_BAD_AUDIENCE;
	if (copy_id(pl, "sub", c->sub) != 0 || copy_id(pl, "sid", c->sid) != 0 ||
	    copy_id(pl, "jti", c->jti) != 0)
		return TOKEN_MISSING_CLAIM;
	return TOKEN_OK;
}

enum token_result token_verify(const struct config *cfg, const char *jwt, long now,
    struct token_claims *out)
{
	unsigned char buf[TOKEN_MAX_LEN + 1];
	unsigned char mac[EVP_MAX_MD_SIZE];
	int maclen;
	const char *seg[3];
	size_t seglen[3], len, n;
	struct token_claims c;
	struct token_times t = { .has_nbf = 0 };
	cJSON *hdr = NULL, *pl = NULL;
	enum token_result r = TOKEN_MALFORMED;

	if (!cfg_usable(cfg))
		return TOKEN_BAD_SIGNATURE; /* fail closed: nothing can verify */
	if (jwt == NULL)
		return TOKEN_MALFORMED;
	len = strnlen(jwt, TOKEN_MAX_LEN + 1);
	if (len > TOKEN_MAX_LEN)
		return TOKEN_MALFORMED;
	/* A token verified before: the same answer, from its claims (token_cache.h). */
	if (token_cache_find(cfg, jwt, len, now, out, &r))
		return r;
	r = TOKEN_MALFORMED;
	if (split(jwt, len, seg, seglen) != 0)
		return TOKEN_MALFORMED;

	/* 1. The header, and the algorithm pinned to ours before anything else. */
	hdr = decode_object(seg[0], seglen[0], buf, sizeof(buf));
	if (hdr == NULL)
		goto out;
	r = check_header(hdr, alg_name(cfg->jwt_algorithm));
	if (r != TOKEN_OK)
		goto out;

	/* 2. The signature: HMAC(secret, "header.payload"), constant-time compare. */
	r = TOKEN_MALFORMED;
	if (b64url_decode(seg[2], seglen[2], buf, sizeof(buf), &n) != 0)
		goto out;
	maclen = crypto_hmac(alg_md_name(cfg->jwt_algorithm), cfg->jwt_secret,
	    strlen(cfg->jwt_secret), jwt, seglen[0] + 1 + seglen[1], mac, sizeof(mac));
	if (maclen < 0) {
		r = TOKEN_BAD_SIGNATURE;
		goto out;
	}
	r = TOKEN_BAD_SIGNATURE;
	if (n != (size_t)maclen || CRYPTO_memcmp(buf, mac, (size_t)maclen) != 0)
		goto out;

	/* 3. The claims of an authentic payload. */
	r = TOKEN_MALFORMED;
	pl = decode_object(seg[1], seglen[1], buf, sizeof(buf));
	if (pl == NULL)
		goto out;
	memset(&c, 0, sizeof(c));
	r = check_claims(cfg, pl, now, &c, &t);
	if (r == TOKEN_OK) {
		token_cache_put(cfg, jwt, len, &c, &t);
		if (out != NULL)
			*out = c;
	}
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	cJSON_Delete(hdr);
	cJSON_Delete(pl);
	return r;
}

const char *token_result_name(enum token_result r)
{
	switch (r) {
	case TOKEN_OK:
		return "ok";
	case TOKEN_MALFORMED:
		return "malformed";
	case TOKEN_BAD_ALGORITHM:
		return "bad_algorithm";
	case TOKEN_BAD_SIGNATURE:
		return "bad_signature";
	case TOKEN_EXPIRED:
		return "expired";
	case TOKEN_NOT_YET_VALID:
		return "not_yet_valid";
	case TOKEN_BAD_ISSUER:
		return "bad_issuer";
	case TOKEN_BAD_AUDIENCE:
		return "bad_audience";
	case TOKEN_MISSING_CLAIM:
		return "missing_claim";
	}
	return "unknown";
}
