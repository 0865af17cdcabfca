/*
 * client_addr.c - fuzzes lib/client_addr.c: X-Forwarded-For, REMOTE_ADDR and
 * the TRUSTED_PROXIES list of CIDRs.
 *
 * Input: "<REMOTE_ADDR>\n<X-Forwarded-For>\n<TRUSTED_PROXIES>".  Checks that
 * a parsed address prints and parses back to itself, that a parsed list's
 * networks have their host bits clear and contain their own network, that
 * the resolved client is REMOTE_ADDR or one of the X-Forwarded-For entries,
 * and that hashing and the rate-limit key work on whatever came out.
 */
#include "client_addr.h"
#include "fuzz.h"

static const char key[] = "fuzz-ip-hash-key-0123456789abcdef";

/* Parses, prints, parses again: the same address. */
static void round_trip(const struct addr *a)
{
	char text[ADDR_TEXT_MAX], hash[ADDR_HASH_HEX + 1];
	struct addr back, lim;

	FUZZ_ASSERT(a->family == AF_INET || a->family == AF_INET6);
	FUZZ_ASSERT(addr_format(a, text, sizeof(text)) == 0);
	FUZZ_ASSERT(addr_parse(text, strlen(text), &back) == 0);
	FUZZ_ASSERT(memcmp(&back, a, sizeof(back)) == 0);
	FUZZ_ASSERT(addr_format(a, text, 2) == -1 && text[0] == '\0');
	FUZZ_ASSERT(addr_hash(key, sizeof(key) - 1, a, hash) == 0 && strlen(hash) == ADDR_HASH_HEX);
	addr_limit_key(a, &lim);
	FUZZ_ASSERT(lim.family == a->family);
}

static void check_list(const struct addr_list *l)
{
	FUZZ_ASSERT(l->n <= ADDR_LIST_MAX);
	FUZZ_ASSERT((l->n == 0) == (l->items == NULL));
	for (size_t i = 0; i < l->n; i++) {
		const struct addr_cidr *c = &l->items[i];
		int bits = c->net.family == AF_INET ? 32 : 128;

		FUZZ_ASSERT(c->prefix >= 0 && c->prefix <= bits);
		for (int b = c->prefix; b < bits; b++)
			FUZZ_ASSERT((c->net.b[b / 8] & (0x80 >> (b % 8))) == 0);
		FUZZ_ASSERT(addr_list_contains(l, &c->net) == 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t rlen, xlen, tlen;
	char *remote = fuzz_split(&data, &size, &rlen);
	char *xff = fuzz_split(&data, &size, &xlen);
	char *spec = fuzz_split(&data, &size, &tlen);
	struct addr_list trusted = { NULL, 0 };
	struct addr a, client;
	char err[128];
	int rc;

	if (addr_parse(remote, rlen, &a) == 0)
		round_trip(&a);
	if (addr_parse(xff, xlen, &a) == 0)
		round_trip(&a);
	err[0] = '\0';
	rc = addr_list_parse(spec, &trusted, err, sizeof(err));
	if (rc == 0)
		check_list(&trusted);
	else
		FUZZ_ASSERT(trusted.n == 0 && trusted.items == NULL && err[0] != '\0');
	addr_list_free(&trusted);
	FUZZ_ASSERT(addr_list_parse(spec, &trusted, NULL, 0) == rc); /* no message: same verdict */

	memset(&client, 0, sizeof(client));
	if (addr_resolve_client(remote, xlen > 0 ? xff : NULL, &trusted, &client) == 0) {
		round_trip(&client);
		/* Untrusted REMOTE_ADDR: it is the client, whatever XFF says. */
		if (addr_parse(remote, strlen(remote), &a) == 0 && !addr_list_contains(&trusted, &a))
			FUZZ_ASSERT(memcmp(&a, &client, sizeof(a)) == 0);
	} else {
		FUZZ_ASSERT(addr_parse(remote, strlen(remote), &a) != 0);
	}
	FUZZ_ASSERT(addr_resolve_client(NULL, xff, &trusted, &client) == -1);
	addr_list_free(&trusted);
	addr_list_free(&trusted);
	free(remote);
	free(xff);
	free(spec);
	return 0;
}
