/*
 * token_cache.c - see token_cache.h.
 */
#include "token_cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

struct slot {
	size_t len; /* 0: empty */
	char token[TOKEN_CACHE_TOKEN_MAX];
	struct token_claims claims;
	struct token_times times;
};

/* The configuration the slots were verified under (copies: a config may be freed). */
static struct {
	int set;
	enum jwt_alg_cfg alg;
	char *secret, *issuer, *audience;
} owner;

static struct slot *slots; /* TOKEN_CACHE_SLOTS, allocated on first use */

/* FNV-1a: only spreads tokens over the slots, equality is checked on the bytes. */
static size_t slot_of(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3u;
	}
	return (size_t)(h ^ (h >> 32)) & (TOKEN_CACHE_SLOTS - 1);
}

static int same_string(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int owned_by(const struct config *cfg)
{
	return owner.set && owner.alg == cfg->jwt_algorithm &&
	    same_string(owner.secret, cfg->jwt_secret) &&
	    same_string(owner.issuer, cfg->jwt_issuer) &&
	    same_string(owner.audience, cfg->jwt_audience);
}

static void forget_owner(void)
{
	if (owner.secret != NULL)
		OPENSSL_cleanse(owner.secret, strlen(owner.secret));
	free(owner.secret);
	free(owner.issuer);
	free(owner.audience);
	memset(&owner, 0, sizeof(owner));
}

void token_cache_clear(void)
{
	if (slots != NULL) {
		OPENSSL_cleanse(slots, sizeof(*slots) * TOKEN_CACHE_SLOTS);
		free(slots);
		slots = NULL;
	}
	forget_owner();
}

int token_cache_find(const struct config *cfg, const char *jwt, size_t len, long now,
    struct token_claims *out, enum token_result *r)
{
	const struct slot *s;

	if (slots == NULL || len == 0 || len > TOKEN_CACHE_TOKEN_MAX || !owned_by(cfg))
		return 0;
	s = &slots[slot_of(jwt, len)];
	if (s->len != len || CRYPTO_memcmp(s->token, jwt, len) != 0)
		return 0;
	/* token_verify()'s time checks, in its order (see check_claims). */
	if (s->claims.exp + TOKEN_LEEWAY_S <= now)
		*r = TOKEN_EXPIRED;
	else if (s->claims.iat - TOKEN_LEEWAY_S > now)
		*r = TOKEN_NOT_YET_VALID;
	else if (s->times.has_nbf && s->times.nbf - TOKEN_LEEWAY_S > now)
		*r = TOKEN_NOT_YET_VALID;
	else
		*r = TOKEN_OK;
	if (*r == TOKEN_OK && out != NULL)
		*out = s->claims;
	return 1;
}

/* Makes the cache `cfg`'s, emptying it when it was another's.  Returns 0, or -1. */
static int take_for(const struct config *cfg)
{
	if (owned_by(cfg))
		return 0;
	token_cache_clear();
	slots = calloc(TOKEN_CACHE_SLOTS, sizeof(*slots));
	owner.secret = strdup(cfg->jwt_secret);
	owner.issuer = strdup(cfg->jwt_issuer);
	owner.audience = strdup(cfg->jwt_audience);
	if (slots == NULL || owner.secret == NULL || owner.issuer == NULL || owner.audience == NULL) {
		token_cache_clear();
		return -1;
	}
	owner.alg = cfg->jwt_algorithm;
	owner.set = 1;
	return 0;
}

void token_cache_put(const struct config *cfg, const char *jwt, size_t len,
    const struct token_claims *c, const struct token_times *t)
{
	struct slot *s;

	if (len == 0 || len > TOKEN_CACHE_TOKEN_MAX || take_for(cfg) != 0)
		return;
	s = &slots[slot_of(jwt, len)];
	memcpy(s->token, jwt, len);
	s->len = len;
	s->claims = *c;
	s->times = *t;
}
