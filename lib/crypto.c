/*
 * crypto.c - see crypto.h.
 */
#include "crypto.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define HMAC_SLOTS 4
#define HMAC_KEY_MAX 4096
#define HMAC_MD_NAME_MAX 8

int crypto_random(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == CRYPTO_SHA256_LEN ? 0 : -1;
}

/* One keyed HMAC context of the cache: its digest, a copy of its key, when it was last used. */
struct hmac_slot {
	char md[HMAC_MD_NAME_MAX];
	unsigned char *key;
	size_t keylen;
	unsigned long used;
	EVP_MAC_CTX *ctx;
};

static pthread_mutex_t hmac_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_MAC *hmac_impl;
static struct hmac_slot hmac_slots[HMAC_SLOTS];
static unsigned long hmac_clock;

static void slot_clear(struct hmac_slot *s)
{
	EVP_MAC_CTX_free(s->ctx);
	if (s->key != NULL)
		OPENSSL_clear_free(s->key, s->keylen);
	memset(s, 0, sizeof(*s));
}

/* The slot keyed with (md, key), made in place of the least recently used one if need be. */
static struct hmac_slot *slot_for(const char *md, const void *key, size_t keylen)
{
	struct hmac_slot *s, *victim = &hmac_slots[0];
	OSSL_PARAM params[2];
	char mdname[HMAC_MD_NAME_MAX];

	for (int i = 0; i < HMAC_SLOTS; i++) {
		s = &hmac_slots[i];
		if (s->ctx != NULL && s->keylen == keylen && strcmp(s->md, md) == 0 &&
		    CRYPTO_memcmp(s->key, key, keylen) == 0)
			return s;
		if (s->used < victim->used)
			victim = s;
	}
	if (hmac_impl == NULL && (hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return NULL;
	s = victim;
	slot_clear(s);
	snprintf(mdname, sizeof(mdname), "%s", md);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, mdname, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* keylen 0 still needs a buffer for the copy and the compare. */
	if ((s->key = OPENSSL_malloc(keylen > 0 ? keylen : 1)) == NULL ||
	    (s->ctx = EVP_MAC_CTX_new(hmac_impl)) == NULL ||
	    EVP_MAC_init(s->ctx, key, keylen, params) != 1) {
		slot_clear(s);
		return NULL;
	}
	memcpy(s->key, key, keylen);
	s->keylen = keylen;
	snprintf(s->md, sizeof(s->md), "%s", md);
	return s;
}

int crypto_hmac(const char *md, const void *key, size_t keylen, const void *data, size_t len,
    unsigned char *out, size_t outmax)
{
	static const unsigned char empty[1];
	struct hmac_slot *s;
	size_t n = 0;
	int rc = -1;

	if (key == NULL && keylen == 0)
		key = empty;
	if (md == NULL || strlen(md) >= HMAC_MD_NAME_MAX || (key == NULL && keylen > 0) ||
	    keylen > HMAC_KEY_MAX || (data == NULL && len > 0) || out == NULL)
		return -1;
	if (pthread_mutex_lock(&hmac_lock) != 0)
		return -1;
	s = slot_for(md, key, keylen);
	if (s == NULL)
		goto out;
	s->used = ++hmac_clock;
	/* A NULL key restarts the MAC with the key the context already holds. */
	if (EVP_MAC_init(s->ctx, NULL, 0, NULL) == 1 &&
	    EVP_MAC_update(s->ctx, data, len) == 1 && EVP_MAC_final(s->ctx, out, &n, outmax) == 1 &&
	    n <= (size_t)INT32_MAX)
		rc = (int)n;
	else
		slot_clear(s);
out:
	pthread_mutex_unlock(&hmac_lock);
	return rc;
}

int crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[CRYPTO_SHA256_LEN])
{
	return crypto_hmac("SHA256", key, keylen, data, len, out, CRYPTO_SHA256_LEN) ==
		   CRYPTO_SHA256_LEN
	    ? 0
	    : -1;
}

int crypto_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void crypto_hex(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int crypto_b64url_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	size_t need = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0), o = 0;

	if (outlen < need + 1)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return (int)o;
}

static int b64val(char c)
{
	const char *p = c != '\0' ? strchr(b64url, c) : NULL;

	return p != NULL ? (int)(p - b64url) : -1;
}

int crypto_b64url_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
	size_t o = 0, need;
	unsigned v = 0;
	int bits = 0;

	if (len % 4 == 1)
		return -1;
	need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (need > outlen)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int d = b64val(in[i]);

		if (d < 0)
			return -1;
		v = (v << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
			v &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero, so every token has one encoding. */
	if (v != 0)
		return -1;
	return (int)o;
}

int crypto_seal(const unsigned char key[32], const void *plain, size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char *nonce = out, *ct = out + 12, *tag = out + 12 + len;
	int n = 0, fin = 0, ok;

	if (c == NULL || len > (size_t)INT32_MAX - 64)
		goto fail;
	ok = crypto_random(nonce, 12) == 0 &&
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
	    EVP_EncryptUpdate(c, ct, &n, plain, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(c, ct + n, &fin) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
fail:
	EVP_CIPHER_CTX_free(c);
	return -1;
}

int crypto_open(const unsigned char key[32], const unsigned char *in, size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *c;
	size_t ctlen;
	int n = 0, fin = 0, ok;
	unsigned char tag[16];

	if (len < CRYPTO_SEAL_OVERHEAD || len > (size_t)INT32_MAX)
		return -1;
	ctlen = len - CRYPTO_SEAL_OVERHEAD;
	memcpy(tag, in + 12 + ctlen, 16);
	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in) == 1 &&
	    EVP_DecryptUpdate(c, out, &n, in + 12, (int)ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	    EVP_DecryptFinal_ex(c, out + n, &fin) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok)
		OPENSSL_cleanse(out, ctlen);
	return ok ? 0 : -1;
}

int crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
