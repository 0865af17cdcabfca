/*
 * password.c - see password.h.  bcrypt from libxcrypt (crypt_rn with a
 * zeroed heap work area, crypt_gensalt_rn fed by getrandom), HMAC-SHA256 and
 * base64 from libcrypto.  A stored hash is parsed strictly (exact length,
 * alphabet, cost range) before any work is done, so a malformed one costs
 * nothing and a well-formed one costs exactly one bcrypt.
 */
#include "password.h"
#include "metrics.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define PC1_PREFIX "$pc1"
#define PC1_PREFIX_LEN 4
#define BCRYPT_LEN 60         /* "$2b$NN$" + 22 salt + 31 hash characters */
#define BCRYPT_SETTING_LEN 29 /* "$2b$NN$" + 22 salt characters */
#define BCRYPT_SALT_OFF 7
#define BCRYPT_SALT_LEN 22
#define BCRYPT_KEY_MAX 72     /* bytes of a phrase bcrypt reads */
#define MAC_LEN 32            /* HMAC-SHA256 */
#define PRE_LEN 44            /* base64 of MAC_LEN bytes, padded */
#define SALT_RANDOM 16        /* random bytes behind the 22 salt characters */

enum form {
	FORM_BAD,
	FORM_PC1,
	FORM_LEGACY,
};

/* bcrypt's base64 alphabet: ./A-Za-z0-9 */
static int is_bcrypt_char(char c)
{
	return c == '.' || c == '/' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

/*
 * Returns the cost of `h` when it is exactly a bcrypt hash "$2<v>$NN$" plus
 * 53 characters, <v> one of `variants` and NN in PW_COST_MIN..PW_COST_MAX;
 * else -1.  Reads at most BCRYPT_LEN + 1 bytes.
 */
static int bcrypt_cost(const char *h, const char *variants)
{
	int cost;

	if (strnlen(h, BCRYPT_LEN + 1) != BCRYPT_LEN)
		return -1;
	if (h[0] != '$' || h[1] != '2' || strchr(variants, h[2]) == NULL || h[3] != '$' ||
	    h[6] != '$')
		return -1;
	if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9')
		return -1;
	cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < PW_COST_MIN || cost > PW_COST_MAX)
		return -1;
	for (int i = BCRYPT_SALT_OFF; i < BCRYPT_LEN; i++)
		if (!is_bcrypt_char(h[i]))
			return -1;
	return cost;
}

/* Sorts `stored` into a form; for a good one, `*h` is its bcrypt part and `*cost` its cost. */
static enum form classify(const char *stored, const char **h, int *cost)
{
	if (stored == NULL)
		return FORM_BAD;
	if (strncmp(stored, PC1_PREFIX, PC1_PREFIX_LEN) == 0) {
		*h = stored + PC1_PREFIX_LEN;
		*cost = bcrypt_cost(*h, "b");
		return *cost < 0 ? FORM_BAD : FORM_PC1;
	}
	*h = stored;
	*cost = bcrypt_cost(stored, "aby");
	return *cost < 0 ? FORM_BAD : FORM_LEGACY;
}

/* Fills `buf` with `n` bytes from the kernel's CSPRNG; 0, or -1. */
static int fill_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Writes the pc1 pre-hash of the password under bcrypt setting or hash `h`
 * (its 22 salt characters are the HMAC key), NUL-terminated, into `pre`.
 * Returns 0, or -1.
 */
static int prehash(const void *password, size_t len, const char *h, char pre[PRE_LEN + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	const unsigned char *msg = len > 0 ? password : (const unsigned char *)"";
	int rc = -1;

	if (HMAC(EVP_sha256(), h + BCRYPT_SALT_OFF, BCRYPT_SALT_LEN, msg, len, mac, &maclen) ==
	        NULL ||
	    maclen != MAC_LEN)
		goto out;
	if (EVP_EncodeBlock((unsigned char *)pre, mac, MAC_LEN) != PRE_LEN)
		goto out;
	rc = 0;
out:
	explicit_bzero(mac, sizeof(mac));
	return rc;
}

/*
 * One bcrypt computation of `phrase` under `setting` (a setting or a whole
 * hash).  Copies the 60-character result, NUL-terminated, into `out` and
 * returns 0, or returns -1.  The work area is wiped and freed.
 */
static int bcrypt_run(const char *phrase, const char *setting, char out[BCRYPT_LEN + 1])
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *r;
	double t0;
	int rc = -1;

	if (cd == NULL)
		return -1;
	t0 = metrics_now();
	r = crypt_rn(phrase, setting, cd, (int)sizeof(*cd));
	metrics_password_hash(metrics_now() - t0);
	if (r != NULL && strnlen(r, BCRYPT_LEN + 1) == BCRYPT_LEN) {
		memcpy(out, r, BCRYPT_LEN);
		out[BCRYPT_LEN] = '\0';
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int pw_hash(const void *password, size_t len, int cost, char out[PW_HASH_MAX])
{
	unsigned char rnd[SALT_RANDOM];
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	char pre[PRE_LEN + 1];
	char h[BCRYPT_LEN + 1];
	int rc = -1;

	if (out == NULL)
		return -1;
	out[0] = '\0';
	if (cost < PW_COST_MIN || cost > PW_COST_MAX || len > PW_LEN_MAX ||
	    (password == NULL && len > 0))
		return -1;
	if (fill_random(rnd, sizeof(rnd)) != 0)
		goto out;
	if (crypt_gensalt_rn("$2b$", (unsigned long)cost, (const char *)rnd, (int)sizeof(rnd),
	        setting, (int)sizeof(setting)) == NULL)
		goto out;
	if (strnlen(setting, sizeof(setting)) != BCRYPT_SETTING_LEN ||
	    strncmp(setting, "$2b$", 4) != 0)
		goto out;
	if (prehash(password, len, setting, pre) != 0)
		goto out;
	/* The result must carry our setting unchanged: verify keys the HMAC with it. */
	if (bcrypt_run(pre, setting, h) != 0 || memcmp(h, setting, BCRYPT_SETTING_LEN) != 0 ||
	    bcrypt_cost(h, "b") != cost)
		goto out;
	memcpy(out, PC1_PREFIX, PC1_PREFIX_LEN);
	memcpy(out + PC1_PREFIX_LEN, h, BCRYPT_LEN + 1);
	rc = 0;
out:
	explicit_bzero(rnd, sizeof(rnd));
	explicit_bzero(setting, sizeof(setting));
	explicit_bzero(pre, sizeof(pre));
	return rc;
}

int pw_verify(const void *password, size_t len, const char *stored)
{
	char phrase[BCRYPT_KEY_MAX + 1]; /* a pc1 pre-hash or a plain password */
	char got[BCRYPT_LEN + 1];
	const char *h = NULL;
	int cost, ok, match = 0;
	enum form f = classify(stored, &h, &cost);

	if (f == FORM_BAD)
		return 0;
	/* A refused password still pays its bcrypt, on an empty phrase, and never matches. */
	phrase[0] = '\0';
	ok = len <= PW_LEN_MAX && (password != NULL || len == 0);
	if (ok && f == FORM_PC1) {
		ok = prehash(password, len, h, phrase) == 0;
	} else if (ok) {
		/* bcrypt would cut such a password short: refuse rather than truncate. */
		ok = len <= BCRYPT_KEY_MAX && (len == 0 || memchr(password, '\0', len) == NULL);
		if (ok) {
			if (len > 0)
				memcpy(phrase, password, len);
			phrase[len] = '\0';
		}
	}
	if (!ok)
		phrase[0] = '\0';
	if (bcrypt_run(phrase, h, got) == 0)
		match = CRYPTO_memcmp(got, h, BCRYPT_LEN) == 0;
	explicit_bzero(phrase, sizeof(phrase));
	explicit_bzero(got, sizeof(got));
	return ok && match;
}

int pw_needs_rehash(const char *stored, int cost)
{
	const char *h;
	int c = -1;

	return !(classify(stored, &h, &c) == FORM_PC1 && c == cost);
}

/* bcrypt's base64 of `n` bytes (its alphabet, no padding) into `out`; returns the length. */
static size_t bcrypt_b64(const unsigned char *in, size_t n, char *out)
{
	static const char alphabet[] =
	    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t o = 0;
	unsigned int acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	return o;
}

/*
 * A well-formed pc1 hash at `cost`, of random salt and random hash bytes,
 * into `out`: made without running bcrypt, so verifying against it costs
 * exactly the one bcrypt of a real hash at that cost and it matches nothing.
 */
static int make_dummy(int cost, char out[PW_HASH_MAX])
{
	unsigned char rnd[SALT_RANDOM], body[23]; /* 23 bytes: bcrypt's 31 hash characters */
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	int rc = -1;

	out[0] = '\0';
	if (fill_random(rnd, sizeof(rnd)) != 0 || fill_random(body, sizeof(body)) != 0)
		goto out;
	/* crypt_gensalt only formats the setting: no hashing happens here. */
	if (crypt_gensalt_rn("$2b$", (unsigned long)cost, (const char *)rnd, (int)sizeof(rnd),
	        setting, (int)sizeof(setting)) == NULL ||
	    strnlen(setting, sizeof(setting)) != BCRYPT_SETTING_LEN)
		goto out;
	memcpy(out, PC1_PREFIX, PC1_PREFIX_LEN);
	memcpy(out + PC1_PREFIX_LEN, setting, BCRYPT_SETTING_LEN);
	if (bcrypt_b64(body, sizeof(body), out + PC1_PREFIX_LEN + BCRYPT_SETTING_LEN) !=
	    BCRYPT_LEN - BCRYPT_SETTING_LEN)
		goto out;
	out[PC1_PREFIX_LEN + BCRYPT_LEN] = '\0';
	rc = bcrypt_cost(out + PC1_PREFIX_LEN, "b") == cost ? 0 : -1;
out:
	if (rc != 0)
		out[0] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	explicit_bzero(body, sizeof(body));
	explicit_bzero(setting, sizeof(setting));
	return rc;
}

const char *pw_dummy_hash(int cost)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char cache[PW_COST_MAX - PW_COST_MIN + 1][PW_HASH_MAX];
	const char *r = NULL;
	char *slot;

	if (cost < PW_COST_MIN || cost > PW_COST_MAX)
		return NULL;
	slot = cache[cost - PW_COST_MIN];
	if (pthread_mutex_lock(&lock) != 0)
		return NULL;
	if (slot[0] == '\0')
		(void)make_dummy(cost, slot); /* "" on failure */
	if (slot[0] != '\0')
		r = slot;
	pthread_mutex_unlock(&lock);
	return r;
}

int pw_cost_of(const char *stored)
{
	const char *h;
	int cost = -1;

	return classify(stored, &h, &cost) == FORM_BAD ? -1 : cost;
}
