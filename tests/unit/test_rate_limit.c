/*
 * test_rate_limit.c - unit tests of lib/rate_limit.c: the GCRA with an
 * injected clock (rl_gcra), the per-process fallback table
 * (rl_memory_check), the contract's policy table (routes_policy of lib/routes.c,
 * rl_policy_limit), rl_check's fallback when Redis is unreachable, and how
 * client addresses become limit keys (addr_limit_key + addr_hash).
 *
 * Times are in µs.  T = W * 1e6 / N is the spacing of the refill.
 */
#include "rate_limit.h"
#include "routes.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000000LL
#define HASH_KEY "portcullis-test-key-0123456789abcdef"
#define T0 (1700000000LL * SEC) /* an arbitrary "now" */


/* One request; returns allowed. */
static int req(int64_t now, int64_t *tat, long n, long w, struct rl_decision *d)
{
	rl_gcra(now, tat, n, w, d);
	return d->allowed;
}

/* ---- exact counts: 20/60 ---------------------------------------------- */

static void test_burst_20_60(void)
{
	int64_t tat = 0, saved;
	struct rl_decision d;
	int ok_remaining = 1, ok_reset = 1, ok_fields = 1, allowed = 0;

	for (int i = 1; i <= 20; i++) {
		if (req(T0, &tat, 20, 60, &d))
			allowed++;
		if (d.remaining != 20 - i)
			ok_remaining = 0;
		if (d.reset != 3 * i) /* i requests in the bucket: 3 s each */
			ok_reset = 0;
		if (d.limit != 20 || d.window != 60 || d.retry_after != 0)
			ok_fields = 0;
	}
	CHECKF(allowed == 20, "20/60: a burst of exactly 20 passes at one instant (got %d)", allowed);
	CHECK_MSG(ok_remaining, "20/60: remaining counts down 19..0 exactly");
	CHECK_MSG(ok_reset, "20/60: reset is 3, 6, ..., 60 s during the burst");
	CHECK_MSG(ok_fields, "20/60: limit 20, window 60, no retry_after while allowed");
	CHECK(tat == T0 + 60 * SEC);

	saved = tat;
	CHECK_MSG(!req(T0, &tat, 20, 60, &d), "20/60: the 21st at the same instant is refused");
	CHECKF(d.retry_after == 3, "20/60: 21st has retry_after 3 s (got %ld)", d.retry_after);
	CHECKF(d.remaining == 0, "20/60: 21st has remaining 0 (got %ld)", d.remaining);
	CHECKF(d.reset == 60, "20/60: 21st has reset 60 s (got %ld)", d.reset);
	CHECK(d.limit == 20 && d.window == 60);
	CHECK_MSG(tat == saved, "20/60: a refused request does not change the state (not counted)");
	for (int i = 0; i < 100; i++)
		req(T0 + i, &tat, 20, 60, &d);
	CHECK_MSG(tat == saved, "20/60: 100 more refused requests are not counted either");

	/* Refill: exactly one more after T = 3 s, not at T - 1 µs. */
	CHECK_MSG(!req(T0 + 3 * SEC - 1, &tat, 20, 60, &d), "20/60: refused at T - 1 µs");
	CHECKF(d.retry_after == 1, "20/60: at T - 1 µs retry_after rounds up to 1 (got %ld)",
	    d.retry_after);
	CHECK_MSG(req(T0 + 3 * SEC, &tat, 20, 60, &d), "20/60: one more allowed at exactly T");
	CHECKF(d.remaining == 0, "20/60: ... with remaining 0 (got %ld)", d.remaining);
	CHECKF(d.reset == 60, "20/60: ... and reset 60 (got %ld)", d.reset);
	CHECK_MSG(!req(T0 + 3 * SEC, &tat, 20, 60, &d), "20/60: but only one at T");
	CHECKF(d.retry_after == 3, "20/60: then retry_after 3 again (got %ld)", d.retry_after);

	/* Half a step later: reset rounds up. */
	tat = 0;
	req(T0, &tat, 20, 60, &d);
	req(T0 + 1500000, &tat, 20, 60, &d); /* 1.5 s left of the first + 3 s */
	CHECKF(d.reset == 5 && d.remaining == 18,
	    "20/60: reset rounds up (4.5 s -> 5) and remaining floors (got reset %ld remaining %ld)",
	    d.reset, d.remaining);
}

static void test_full_refill(void)
{
	int64_t tat = 0;
	struct rl_decision d;
	int n = 0;

	for (int i = 0; i < 25; i++)
		n += req(T0, &tat, 20, 60, &d);
	CHECK(n == 20);
	/* 59.999999 s later: 19 back, not 20. */
	n = 0;
	{
		int64_t t2 = tat;

		for (int i = 0; i < 25; i++)
			n += req(T0 + 60 * SEC - 1, &t2, 20, 60, &d);
		CHECKF(n == 19, "20/60: 1 µs before W only 19 are back (got %d)", n);
	}
	n = 0;
	for (int i = 0; i < 25; i++) {
		n += req(T0 + 60 * SEC, &tat, 20, 60, &d);
		if (i == 0)
			CHECKF(d.remaining == 19, "20/60: after W the first has remaining 19 (got %ld)",
			    d.remaining);
	}
	CHECKF(n == 20, "20/60: after exactly W the whole burst of 20 is back (got %d)", n);
	/* Long idle: never more than the burst. */
	n = 0;
	for (int i = 0; i < 25; i++)
		n += req(T0 + 3600 * SEC, &tat, 20, 60, &d);
	CHECKF(n == 20, "20/60: after an hour idle still exactly 20 (got %d)", n);
}

/* ---- no window-boundary doubling -------------------------------------- */

/* Largest number of timestamps (sorted) inside any closed interval of length len. */
static long max_in_interval(const int64_t *ts, long n, int64_t len, int64_t from)
{
	long best = 0, j = 0;

	for (long i = 0; i < n; i++) {
		if (ts[i] < from)
			continue;
		if (j < i)
			j = i;
		while (j < n && ts[j] - ts[i] <= len)
			j++;
		if (j - i > best)
			best = j - i;
	}
	return best;
}

static void test_no_doubling(void)
{
	const long N = 20, W = 60;
	const int64_t T = 3 * SEC;
	int64_t tat = 0, *ts = calloc(4096, sizeof(*ts));
	long n = 0;
	struct rl_decision d;
	int ok;

	/* A greedy client polling every ms for 10 windows. */
	for (int64_t t = 0; t <= 10 * W * SEC; t += 1000)
		while (n < 4096 && req(T0 + t, &tat, N, W, &d))
			ts[n++] = t;
	CHECKF(n == N + 10 * W * SEC / T, "greedy 20/60 over 10 windows: exactly N + 10W/T = 220 (got %ld)", n);

	ok = 1;
	{
		const int64_t lens[] = { 0, 1000, SEC, T - 1, T, T + 1, W * SEC / 2, W * SEC - 1,
			W * SEC, W * SEC + 1, 2 * W * SEC, 10 * W * SEC };

		for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
			long got = max_in_interval(ts, n, lens[k], 0);

			if (got > N + lens[k] / T) {
				ok = 0;
				printf("#   interval %lld µs: %ld > %lld\n", (long long)lens[k], got,
				    (long long)(N + lens[k] / T));
			}
		}
	}
	CHECK_MSG(ok, "greedy 20/60: any interval of length L holds at most N + L/T");
	CHECKF(max_in_interval(ts, n, W * SEC / 2, 1) <= N,
	    "greedy 20/60: after the initial burst any W/2 holds at most N (got %ld)",
	    max_in_interval(ts, n, W * SEC / 2, 1));
	CHECKF(max_in_interval(ts, n, W * SEC, 1) <= W * SEC / T + 1,
	    "greedy 20/60: after the initial burst any W holds at most W/T + 1 = 21 (got %ld)",
	    max_in_interval(ts, n, W * SEC, 1));
	CHECKF(max_in_interval(ts, n, 2 * SEC, 0) <= N,
	    "greedy 20/60: no 2 s span ever holds more than N (got %ld)",
	    max_in_interval(ts, n, 2 * SEC, 0));

	/* The fixed-window attack: N at the end of one "window", N at the start of the next. */
	tat = 0;
	{
		long a = 0, b = 0;

		for (int i = 0; i < 2 * N; i++)
			a += req(T0 + W * SEC - 1000, &tat, N, W, &d);
		for (int i = 0; i < 2 * N; i++)
			b += req(T0 + W * SEC + 1000, &tat, N, W, &d);
		CHECKF(a == N && b == 0,
		    "boundary attack: N just before a window edge, 0 just after (got %ld, %ld)", a, b);
	}

	/* A random client (deterministic LCG): the bound holds for it too. */
	{
		uint64_t s = 12345;
		int64_t t = 0;

		tat = 0;
		n = 0;
		while (t < 10 * W * SEC && n < 4096) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			t += (int64_t)((s >> 33) % (2 * SEC)); /* gaps of 0..2 s */
			if (req(T0 + t, &tat, N, W, &d))
				ts[n++] = t;
		}
		ok = 1;
		for (int64_t len = 0; len <= 3 * W * SEC; len += SEC / 4)
			if (max_in_interval(ts, n, len, 0) > N + len / T)
				ok = 0;
		CHECK_MSG(ok, "random 20/60 client: any interval of length L holds at most N + L/T");
	}
	free(ts);
}

/* ---- other limits ---------------------------------------------------- */

static void test_limit_1(void)
{
	int64_t tat = 0;
	struct rl_decision d;

	CHECK_MSG(req(T0, &tat, 1, 60, &d), "1/60: the first passes");
	CHECK(d.remaining == 0 && d.reset == 60 && d.limit == 1 && d.window == 60);
	CHECK_MSG(!req(T0, &tat, 1, 60, &d), "1/60: the second is refused");
	CHECKF(d.retry_after == 60 && d.remaining == 0 && d.reset == 60,
	    "1/60: refused with retry_after 60, remaining 0, reset 60 (got %ld %ld %ld)",
	    d.retry_after, d.remaining, d.reset);
	CHECK_MSG(!req(T0 + 60 * SEC - 1, &tat, 1, 60, &d), "1/60: refused 1 µs before 60 s");
	CHECK(d.retry_after == 1);
	CHECK_MSG(req(T0 + 60 * SEC, &tat, 1, 60, &d), "1/60: allowed at 60 s");
	CHECK_MSG(!req(T0 + 60 * SEC, &tat, 1, 60, &d), "1/60: and only one");
	CHECK(req(T0 + 1000 * SEC, &tat, 1, 1, &d) && !req(T0 + 1000 * SEC, &tat, 1, 1, &d));
	CHECK_MSG(d.retry_after == 1, "1/1: refused with retry_after 1");
}

static void test_odd_7_60(void)
{
	const int64_t T = 60 * SEC / 7; /* 8571428.57 µs: not an integer number of ms */
	int64_t tat = 0, t, next;
	struct rl_decision d;
	int n = 0, ok_rem = 1, ok;

	for (int i = 1; i <= 10; i++) {
		int a = req(T0, &tat, 7, 60, &d);

		n += a;
		if (a && d.remaining != 7 - i)
			ok_rem = 0;
	}
	CHECKF(n == 7, "7/60: a burst of exactly 7 (got %d)", n);
	CHECK_MSG(ok_rem, "7/60: remaining 6..0 exactly");
	CHECK_MSG(!req(T0, &tat, 7, 60, &d), "7/60: the 8th is refused");
	CHECKF(d.retry_after == 9, "7/60: retry_after is 8.57 s rounded up: 9 (got %ld)",
	    d.retry_after);
	CHECKF(d.reset == 60, "7/60: reset 60 (got %ld)", d.reset);
	CHECK_MSG(!req(T0 + T - 1, &tat, 7, 60, &d), "7/60: refused 1 µs before T");
	CHECK_MSG(req(T0 + T, &tat, 7, 60, &d), "7/60: allowed at T = 8571428 µs");
	CHECK_MSG(!req(T0 + T, &tat, 7, 60, &d), "7/60: only one at T");

	/* A client that always comes back at the first allowed µs, for 10 windows. */
	tat = 0;
	t = T0;
	n = 0;
	ok = 1;
	while (t < T0 + 600 * SEC) {
		while (n < 1000 && req(t, &tat, 7, 60, &d))
			n++;
		next = tat - 7 * T + T; /* the first instant with room for one */
		if (next <= t || req(next - 1, &tat, 7, 60, &d)) {
			ok = 0;
			break;
		}
		t = next;
	}
	CHECK_MSG(ok, "7/60: each refill comes exactly at its µs, not one µs earlier");
	CHECKF(n >= 7 + 69 && n <= 7 + 70,
	    "7/60: over 600 s a greedy client gets N + 600/T (~77, got %d)", n);

	/* Full refill after W. */
	tat = 0;
	for (int i = 0; i < 7; i++)
		req(T0, &tat, 7, 60, &d);
	n = 0;
	for (int i = 0; i < 10; i++)
		n += req(T0 + 60 * SEC, &tat, 7, 60, &d);
	CHECKF(n == 7, "7/60: the full burst is back after W (got %d)", n);
}

static void test_large(void)
{
	int64_t tat = 0;
	struct rl_decision d;
	long n = 0;
	int ok = 1;

	for (long i = 1; i <= 1100; i++) {
		int a = req(T0, &tat, 1000, 60, &d);

		n += a;
		if (a && d.remaining != 1000 - i)
			ok = 0;
	}
	CHECKF(n == 1000, "1000/60: a burst of exactly 1000 (got %ld)", n);
	CHECK_MSG(ok, "1000/60: remaining 999..0 exactly");
	CHECKF(!d.allowed && d.retry_after == 1 && d.reset == 60 && d.remaining == 0,
	    "1000/60: refused with retry_after 1 (0.06 s up), reset 60 (got %ld, %ld)",
	    d.retry_after, d.reset);
	CHECK_MSG(!req(T0 + 60000 - 1, &tat, 1000, 60, &d), "1000/60: refused 1 µs before T = 60 ms");
	CHECK_MSG(req(T0 + 60000, &tat, 1000, 60, &d), "1000/60: allowed at T = 60 ms");

	/* 1000000/1: T = 1 µs. */
	tat = 0;
	n = 0;
	ok = 1;
	for (long i = 1; i <= 1000001; i++) {
		int a = req(T0, &tat, 1000000, 1, &d);

		n += a;
		if (a && d.remaining != 1000000 - i)
			ok = 0;
	}
	CHECKF(n == 1000000, "1000000/1: a burst of exactly 1000000 (got %ld)", n);
	CHECK_MSG(ok, "1000000/1: remaining counts down exactly");
	CHECKF(!d.allowed && d.retry_after == 1 && d.reset == 1 && d.limit == 1000000,
	    "1000000/1: the next is refused, retry_after 1, reset 1 (got %ld, %ld)", d.retry_after,
	    d.reset);
	CHECK_MSG(req(T0 + 1, &tat, 1000000, 1, &d), "1000000/1: one more 1 µs later");
	CHECK_MSG(!req(T0 + 1, &tat, 1000000, 1, &d), "1000000/1: only one");
	n = 0;
	for (long i = 0; i < 1000010; i++)
		n += req(T0 + SEC + 1, &tat, 1000000, 1, &d);
	CHECKF(n == 1000000, "1000000/1: whole burst back after 1 s (got %ld)", n);
}

static void test_tat_future_past(void)
{
	int64_t tat;
	struct rl_decision d;
	int n;

	/* Stored arrival time long past: as if fresh. */
	tat = T0 - 3600 * SEC;
	CHECK_MSG(req(T0, &tat, 20, 60, &d), "tat in the past: allowed");
	CHECKF(d.remaining == 19 && d.reset == 3 && tat == T0 + 3 * SEC,
	    "tat in the past counts from now (remaining %ld, reset %ld)", d.remaining, d.reset);

	/* tat 15 s ahead (5 requests in the bucket): 15 left. */
	tat = T0 + 15 * SEC;
	n = 0;
	req(T0, &tat, 20, 60, &d);
	CHECKF(d.allowed && d.remaining == 14 && d.reset == 18,
	    "tat 15 s ahead: allowed with remaining 14, reset 18 (got %ld, %ld)", d.remaining,
	    d.reset);
	n = 1;
	while (n < 100 && req(T0, &tat, 20, 60, &d))
		n++;
	CHECKF(n == 15, "tat 15 s ahead: exactly 15 more pass (got %d)", n);

	/* tat ahead of the whole bucket (e.g. a stricter earlier setting). */
	tat = T0 + 120 * SEC;
	CHECK_MSG(!req(T0, &tat, 20, 60, &d), "tat beyond the bucket: refused");
	CHECKF(d.retry_after == 63 && d.reset == 120 && d.remaining == 0,
	    "tat beyond the bucket: retry_after 63, reset 120 (got %ld, %ld)", d.retry_after,
	    d.reset);
	CHECK_MSG(tat == T0 + 120 * SEC, "tat beyond the bucket: state untouched");
	CHECK_MSG(!req(T0 + 63 * SEC - 1, &tat, 20, 60, &d), "... still refused 1 µs before retry_after");
	CHECK_MSG(req(T0 + 63 * SEC, &tat, 20, 60, &d), "... allowed at retry_after");

	/* tat exactly now: like fresh. */
	tat = T0;
	CHECK(req(T0, &tat, 20, 60, &d) && d.remaining == 19);
	/* tat 0 = no state. */
	tat = 0;
	CHECK(req(T0, &tat, 20, 60, &d) && d.remaining == 19 && tat == T0 + 3 * SEC);
}

/* ---- policies ---------------------------------------------------------- */

static void test_policy_for(void)
{
	static const struct {
		const char *m, *p;
		enum rl_policy want;
	} rows[] = {
		{ "POST", "/api/auth/login", POLICY_AUTH },
		{ "POST", "/api/auth/register", POLICY_AUTH },
		{ "POST", "/api/auth/refresh", POLICY_AUTH },
		{ "POST", "/api/auth/logout", POLICY_AUTH },
		{ "POST", "/api/auth/password", POLICY_AUTH },
		{ "GET", "/api/auth/login", POLICY_API },
		{ "OPTIONS", "/api/auth/login", POLICY_API },
		{ "PUT", "/api/auth/login", POLICY_API },
		{ "GET", "/api/health", POLICY_NONE },
		{ "POST", "/api/health", POLICY_NONE },
		{ "HEAD", "/api/health", POLICY_NONE },
		{ "DELETE", "/api/health", POLICY_NONE },
		{ "GET", "/api/ready", POLICY_NONE },
		{ "POST", "/api/ready", POLICY_NONE },
		{ "HEAD", "/api/ready", POLICY_NONE },
		{ "GET", "/api/data/x", POLICY_API },
		{ "PUT", "/api/data/x", POLICY_API },
		{ "DELETE", "/api/data/x", POLICY_API },
		{ "GET", "/api/data", POLICY_API },
		{ "GET", "/api/me", POLICY_API },
		{ "GET", "/api/nope", POLICY_API },
		{ "POST", "/api/nope", POLICY_API },
		{ "GET", "/api", POLICY_API },
		{ "GET", "/api/", POLICY_API },
		{ "POST", "/api/auth", POLICY_API },
		{ "GET", "/api/healthz", POLICY_API },
		{ "GET", "/api/health/", POLICY_API },
		{ "GET", "/metrics", POLICY_NONE },
		{ "GET", "/other", POLICY_NONE },
		{ "GET", "/", POLICY_NONE },
		{ "GET", "/apix", POLICY_NONE },
		{ "POST", "/apiauth/login", POLICY_NONE },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum rl_policy got = routes_policy(rows[i].m, rows[i].p);

		CHECKF(got == rows[i].want, "routes_policy(%s %s) = %s (got %s)", rows[i].m, rows[i].p,
		    rl_policy_name(rows[i].want), rl_policy_name(got));
	}
	CHECK_STR(rl_policy_name(POLICY_AUTH), "auth");
	CHECK_STR(rl_policy_name(POLICY_API), "api");
}

static void test_policy_limit(void)
{
	struct config cfg;
	long n = -1, w = -1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.rate_limit_auth = (struct cfg_rate){ 20, 60 };
	cfg.rate_limit_api = (struct cfg_rate){ 1000, 60 };
	CHECK(rl_policy_limit(&cfg, POLICY_AUTH, &n, &w) == 1 && n == 20 && w == 60);
	CHECK(rl_policy_limit(&cfg, POLICY_API, &n, &w) == 1 && n == 1000 && w == 60);
	CHECK_MSG(rl_policy_limit(&cfg, POLICY_NONE, &n, &w) == 0, "rl_policy_limit: none is off");
	cfg.rate_limit_auth = (struct cfg_rate){ 0, 0 };
	CHECK_MSG(rl_policy_limit(&cfg, POLICY_AUTH, &n, &w) == 0, "rl_policy_limit: 0 = off (auth)");
	CHECK(rl_policy_limit(&cfg, POLICY_API, &n, &w) == 1 && n == 1000);
	cfg.rate_limit_api = (struct cfg_rate){ 0, 0 };
	CHECK_MSG(rl_policy_limit(&cfg, POLICY_API, &n, &w) == 0, "rl_policy_limit: 0 = off (api)");
}

/* ---- the fallback table ------------------------------------------------ */

static void mkkey(unsigned char key[17], int policy, unsigned i)
{
	memset(key, 0, 17);
	key[0] = (unsigned char)policy;
	key[1] = (unsigned char)(i >> 24);
	key[2] = (unsigned char)(i >> 16);
	key[3] = (unsigned char)(i >> 8);
	key[4] = (unsigned char)i;
	key[16] = 0x5a;
}

static int in_table(const struct rl_memory *m, const unsigned char key[17])
{
	for (size_t i = 0; i < m->used && i < RL_MEMORY_SLOTS; i++)
		if (memcmp(m->slots[i].key, key, 17) == 0)
			return 1;
	return 0;
}

/* A request given back (the lockout's 429) is as if it had not been made. */
static void test_memory_refund(void)
{
	struct rl_memory *m = calloc(1, sizeof(*m));
	unsigned char a[17], b[17];
	struct rl_decision d;

	if (m == NULL)
		return;
	mkkey(a, POLICY_AUTH, 7);
	mkkey(b, POLICY_AUTH, 8);
	rl_memory_check(m, a, T0, 5, 10, &d);
	rl_memory_check(m, a, T0, 5, 10, &d);
	CHECK(d.allowed && d.remaining == 3);
	rl_memory_refund(m, a, T0, 5, 10);
	rl_memory_check(m, a, T0, 5, 10, &d);
	CHECK_MSG(d.allowed && d.remaining == 3, "refund: the given-back request is not counted");
	for (int i = 0; i < 3; i++)
		rl_memory_check(m, a, T0, 5, 10, &d);
	CHECK(d.allowed && d.remaining == 0);
	rl_memory_check(m, a, T0, 5, 10, &d);
	CHECK(!d.allowed);
	rl_memory_refund(m, a, T0, 5, 10);
	rl_memory_check(m, a, T0, 5, 10, &d);
	CHECK_MSG(d.allowed && d.remaining == 0, "refund: one request back makes room for exactly one");
	rl_memory_refund(m, b, T0, 5, 10); /* unknown key: nothing happens */
	CHECK_MSG(!in_table(m, b), "refund: an unknown client is not added");
	for (int i = 0; i < 10; i++)
		rl_memory_refund(m, a, T0, 5, 10);
	rl_memory_check(m, a, T0, 5, 10, &d);
	CHECK_MSG(d.allowed && d.remaining == 4, "refund: never more than a full bucket");
	free(m);
}

static void test_memory(void)
{
	struct rl_memory *m = calloc(1, sizeof(*m));
	unsigned char a[17], b[17], c[17], k[17];
	struct rl_decision d;
	int na = 0, nb = 0, ok;

	mkkey(a, POLICY_AUTH, 1);
	mkkey(b, POLICY_AUTH, 2);
	mkkey(c, POLICY_API, 1); /* same hash, other policy */
	for (int i = 0; i < 8; i++)
		na += (rl_memory_check(m, a, T0, 5, 10, &d), d.allowed);
	CHECKF(na == 5, "memory: key a gets exactly 5 of 5/10 (got %d)", na);
	CHECK(!d.allowed && d.retry_after == 2 && d.remaining == 0);
	for (int i = 0; i < 8; i++)
		nb += (rl_memory_check(m, b, T0, 5, 10, &d), d.allowed);
	CHECKF(nb == 5, "memory: key b is independent of a (got %d)", nb);
	rl_memory_check(m, c, T0, 5, 10, &d);
	CHECK_MSG(d.allowed && d.remaining == 4, "memory: the same hash under another policy is independent");
	CHECKF(m->used == 3, "memory: three keys, three slots (got %zu)", m->used);
	rl_memory_check(m, a, T0 + 2 * SEC - 1, 5, 10, &d);
	CHECK_MSG(!d.allowed, "memory: a refused 1 µs before T");
	rl_memory_check(m, a, T0 + 2 * SEC, 5, 10, &d);
	CHECK_MSG(d.allowed && d.remaining == 0, "memory: a gets one more at T");
	free(m);

	/* Eviction: fill every slot, then one more key. */
	m = calloc(1, sizeof(*m));
	/* Key 0 first, then exhausted: its tat is far ahead (recent state). */
	mkkey(k, POLICY_API, 0);
	for (int i = 0; i < 10; i++)
		rl_memory_check(m, k, T0, 5, 10, &d);
	/* Keys 1..SLOTS-1 one request each at increasing times: key 1 has the oldest tat. */
	for (unsigned i = 1; i < RL_MEMORY_SLOTS; i++) {
		mkkey(k, POLICY_API, i);
		rl_memory_check(m, k, T0 + (int64_t)i, 5, 10, &d);
	}
	CHECKF(m->used == RL_MEMORY_SLOTS, "memory: the table holds RL_MEMORY_SLOTS keys (got %zu)",
	    m->used);
	mkkey(k, POLICY_API, RL_MEMORY_SLOTS);
	rl_memory_check(m, k, T0 + 5000, 5, 10, &d);
	CHECK_MSG(d.allowed && d.remaining == 4, "memory: a new key in a full table starts fresh");
	CHECKF(m->used == RL_MEMORY_SLOTS, "memory: the table never exceeds RL_MEMORY_SLOTS (got %zu)",
	    m->used);
	mkkey(k, POLICY_API, 1);
	CHECK_MSG(!in_table(m, k), "memory: the key with the oldest tat (1) was evicted");
	mkkey(k, POLICY_API, RL_MEMORY_SLOTS);
	CHECK_MSG(in_table(m, k), "memory: the new key is in the table");
	ok = 1;
	for (unsigned i = 2; i < RL_MEMORY_SLOTS; i++) {
		mkkey(k, POLICY_API, i);
		if (!in_table(m, k))
			ok = 0;
	}
	mkkey(k, POLICY_API, 0);
	CHECK_MSG(ok && in_table(m, k), "memory: every other key is still there");
	rl_memory_check(m, k, T0 + 5000, 5, 10, &d);
	CHECK_MSG(!d.allowed, "memory: the exhausted recent key's state survived (still refused)");
	CHECK(m->used == RL_MEMORY_SLOTS);
	/* Many more new keys: still bounded, and key 0 (most recent tat) survives a while. */
	for (unsigned i = 0; i < 1000; i++) {
		mkkey(k, POLICY_AUTH, i);
		rl_memory_check(m, k, T0 + 5000, 5, 10, &d);
	}
	CHECK(m->used == RL_MEMORY_SLOTS);
	mkkey(k, POLICY_API, 0);
	CHECK_MSG(in_table(m, k), "memory: 1000 new keys evict the old ones, not the recent one");
	free(m);
}

/* ---- rl_check when Redis is unreachable -------------------------------- */

static void test_check_fallback(void)
{
	struct config cfg;
	struct redis r;
	struct rl_memory *m = calloc(1, sizeof(*m));
	struct rl_stats st;
	struct addr a, b;
	struct rl_decision d;
	char err[256];
	int n = 0, nb = 0;

	memset(&cfg, 0, sizeof(cfg));
	memset(&st, 0, sizeof(st));
	cfg.rate_limit_auth = (struct cfg_rate){ 3, 3600 };
	cfg.rate_limit_api = (struct cfg_rate){ 0, 0 };
	cfg.ip_hash_secret = (char *)HASH_KEY;
	CHECK(redis_init(&r, "redis://127.0.0.1:1/0", err, sizeof(err)) == 0); /* nothing listens */
	CHECK(addr_parse("2001:db8:1::1", 13, &a) == 0);
	CHECK(addr_parse("2001:db8:1::2", 13, &b) == 0);
	for (int i = 0; i < 5; i++) {
		CHECK(rl_check(&cfg, &r, m, &st, POLICY_AUTH, &a, &d) == 0);
		n += d.allowed;
	}
	CHECKF(n == 3, "rl_check without Redis: the fallback allows exactly 3 of 3/3600 (got %d)", n);
	CHECK(!d.allowed && d.limit == 3 && d.window == 3600 && d.retry_after == 1200);
	CHECK(rl_check(&cfg, &r, m, &st, POLICY_AUTH, &b, &d) == 0);
	nb = d.allowed;
	CHECK_MSG(!nb, "rl_check fallback: another address of the same /64 shares the limit");
	CHECKF(st.fallback_decisions == 6 && st.blocked[POLICY_AUTH] == 3 && st.blocked[POLICY_API] == 0,
	    "rl_check: stats count fallback decisions and refusals (%lu, %lu)",
	    st.fallback_decisions, st.blocked[POLICY_AUTH]);
	CHECK_MSG(rl_check(&cfg, &r, m, &st, POLICY_API, &a, &d) == -1, "rl_check: a policy that is off decides nothing");
	CHECK_MSG(rl_check(&cfg, &r, m, &st, POLICY_NONE, &a, &d) == -1, "rl_check: POLICY_NONE decides nothing");
	CHECK_MSG(rl_check(&cfg, &r, NULL, &st, POLICY_AUTH, &a, &d) == -1,
	    "rl_check: no Redis and no table: no decision (caller allows)");
	CHECK(m->used == 1);
	CHECK_MSG(m->slots[0].key[0] == POLICY_AUTH, "rl_check: the table key starts with the policy");
	redis_close(&r);
	free(m);
}

/* ---- address keying ---------------------------------------------------- */

static int key_of(const char *s, char out[ADDR_HASH_HEX + 1])
{
	struct addr a, k;

	if (addr_parse(s, strlen(s), &a) != 0)
		return -1;
	addr_limit_key(&a, &k);
	return addr_hash(HASH_KEY, strlen(HASH_KEY), &k, out);
}

static int same_key(const char *x, const char *y)
{
	char hx[ADDR_HASH_HEX + 1], hy[ADDR_HASH_HEX + 1];

	if (key_of(x, hx) != 0 || key_of(y, hy) != 0)
		return -1;
	return strcmp(hx, hy) == 0;
}

static void test_address_keys(void)
{
	char h[ADDR_HASH_HEX + 1];
	struct addr a, k;
	int hex = 1;

	CHECK_MSG(same_key("2001:db8:1::1", "2001:db8:1::2") == 1, "keys: two addresses in one /64 share a key");
	CHECK_MSG(same_key("2001:db8:1::1", "2001:db8:1:0:ffff:ffff:ffff:ffff") == 1,
	    "keys: the whole /64 is one key");
	CHECK_MSG(same_key("2001:db8:1::1", "2001:db8:2::1") == 0, "keys: different /64s differ");
	CHECK_MSG(same_key("2001:db8:1::1", "2001:db8:1:1::1") == 0, "keys: the 4th group is inside the /64");
	CHECK_MSG(same_key("::ffff:1.2.3.4", "1.2.3.4") == 1, "keys: ::ffff:1.2.3.4 is 1.2.3.4");
	CHECK_MSG(same_key("[::ffff:1.2.3.4]:443", "1.2.3.4:80") == 1, "keys: also in XFF forms with ports");
	CHECK_MSG(same_key("1.2.3.4", "1.2.3.5") == 0, "keys: IPv4 is not grouped");
	CHECK_MSG(same_key("::ffff:1.2.3.4", "::ffff:1.2.3.5") == 0, "keys: mapped IPv4 is not grouped per /64");
	CHECK_MSG(same_key("::1", "::2") == 1 && same_key("::1", "127.0.0.1") == 0,
	    "keys: IPv6 loopback is a /64, not IPv4");
	CHECK(addr_parse("::ffff:1.2.3.4", 14, &a) == 0 && a.family == AF_INET);
	CHECK(addr_parse("2001:db8:1:2:3:4:5:6", 20, &a) == 0);
	addr_limit_key(&a, &k);
	CHECK_MSG(k.family == AF_INET6 && memcmp(k.b, a.b, 8) == 0 &&
		memcmp(k.b + 8, "\0\0\0\0\0\0\0\0", 8) == 0,
	    "addr_limit_key: IPv6 keeps the upper 64 bits, clears the rest");
	addr_limit_key(&a, &a);
	CHECK_MSG(memcmp(&a, &k, sizeof(a)) == 0, "addr_limit_key: may alias");
	CHECK(key_of("203.0.113.7", h) == 0 && strlen(h) == ADDR_HASH_HEX);
	for (const char *p = h; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			hex = 0;
	CHECK_MSG(hex, "keys: the hash is 32 lowercase hex");
	{
		char k2[ADDR_HASH_HEX + 1];
		struct addr x;

		addr_parse("203.0.113.7", 11, &x);
		CHECK(addr_hash("another-key-0123456789abcdef0123", 32, &x, k2) == 0);
		CHECK_MSG(strcmp(h, k2) != 0, "keys: the hash depends on IP_HASH_SECRET");
	}
}

int main(void)
{
	/* Line by line: rl_check logs "backend down" to stderr in between. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_burst_20_60();
	test_full_refill();
	test_no_doubling();
	test_limit_1();
	test_odd_7_60();
	test_large();
	test_tat_future_past();
	test_policy_for();
	test_policy_limit();
	test_memory();
	test_memory_refund();
	test_check_fallback();
	test_address_keys();
	return check_summary();
}
