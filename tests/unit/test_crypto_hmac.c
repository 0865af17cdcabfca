/*
 * test_crypto_hmac.c - unit tests of crypto_hmac (lib/crypto.c): the HMAC
 * with a cache of keyed contexts.  The MACs must be those of RFC 4231 for
 * every digest, whatever the cache holds: the same key again (a reset
 * context), more keys than the cache has slots (evictions), a key that
 * differs from a cached one only in its last byte or its length, an empty
 * key and one longer than the digest's block.
 */
#include "crypto.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

static void hex(const unsigned char *b, int n, char *out)
{
	for (int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[n > 0 ? 2 * n : 0] = '\0';
}

/* crypto_hmac as hex, or "(error)". */
static const char *mac(const char *md, const void *key, size_t keylen, const char *data)
{
	static char out[2 * 64 + 1];
	unsigned char m[64];
	int n = crypto_hmac(md, key, keylen, data, strlen(data), m, sizeof(m));

	if (n < 0)
		return "(error)";
	hex(m, n, out);
	return out;
}

int main(void)
{
	unsigned char key1[20], key6[131];
	char buf[32];
	const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";

	memset(key1, 0x0b, sizeof(key1));
	memset(key6, 0xaa, sizeof(key6));

	/* RFC 4231, test case 1. */
	CHECK_STR(mac("SHA256", key1, sizeof(key1), "Hi There"),
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	CHECK_STR(mac("SHA384", key1, sizeof(key1), "Hi There"),
	    "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
	    "faea9ea9076ede7f4af152e8b2fa9cb6");
	CHECK_STR(mac("SHA512", key1, sizeof(key1), "Hi There"),
	    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
	/* The same key again: the cached context restarts cleanly. */
	CHECK_STR(mac("SHA256", key1, sizeof(key1), "Hi There"),
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* RFC 4231, test case 2 ("Jefe"), and 6 (a key longer than the block). */
	CHECK_STR(mac("SHA256", "Jefe", 4, "what do ya want for nothing?"),
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	CHECK_STR(mac("SHA256", key6, sizeof(key6), data6),
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* A key that is a prefix of a cached one (openssl dgst -hmac Jef), or differs in its last byte. */
	CHECK_STR(mac("SHA256", "Jef", 3, "what do ya want for nothing?"),
	    "89630a7f7bb95aced9efa60255f18a10e7d378665751be11dd40bb9594158c29");
	CHECK_STR(mac("SHA256", "Jefe", 4, "what do ya want for nothing?"),
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	CHECK(strcmp(mac("SHA256", "Jeff", 4, "what do ya want for nothing?"),
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") != 0);
	/* More keys than slots, then the first ones again. */
	for (int i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "key-%d", i);
		CHECK(strcmp(mac("SHA256", buf, strlen(buf), "x"), "(error)") != 0);
	}
	CHECK_STR(mac("SHA256", key1, sizeof(key1), "Hi There"),
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	CHECK_STR(mac("SHA512", key1, sizeof(key1), "Hi There"),
	    "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
	    "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854");
	/* An empty key (HMAC-SHA256("", "")). */
	CHECK_STR(mac("SHA256", "", 0, ""),
	    "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
	/* The wrapper, and what is refused. */
	{
		unsigned char m[32];
		char h[65];

		CHECK(crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, m) == 0);
		hex(m, 32, h);
		CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
		CHECK(crypto_hmac("MD-NOPE", "k", 1, "x", 1, m, sizeof(m)) == -1);
		CHECK(crypto_hmac("SHA512", "k", 1, "x", 1, m, sizeof(m)) == -1); /* 64 > 32 */
		CHECK(crypto_hmac(NULL, "k", 1, "x", 1, m, sizeof(m)) == -1);
		CHECK(crypto_hmac("SHA256", "k", 1, "x", 1, NULL, 32) == -1);
		/* After a refusal the cache still answers right. */
		CHECK(crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, m) == 0);
		hex(m, 32, h);
		CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	}
	return check_summary();
}
