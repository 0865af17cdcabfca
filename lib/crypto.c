/*
 * crypto.c - see crypto.h.
 */
#include "crypto.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

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

int crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	if (keylen > (size_t)INT32_MAX)
		return -1;
	return HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n) != NULL &&
		   n == CRYPTO_SHA256_LEN
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
