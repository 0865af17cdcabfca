/*
 * test_request_id.c - unit tests of lib/request_id.c.
 *
 * A well-formed incoming X-Request-Id (1-64 of [A-Za-z0-9._-]) is echoed
 * byte for byte; anything else is replaced by 32 lowercase hex digits of
 * fresh randomness.
 */
#include "request_id.h"
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#include <string.h>

/* 1 when `s` is 32 lowercase hex digits and nothing else. */
static int is_hex32(const char *s)
{
	size_t n = strlen(s);

	if (n != 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* request_id_assign into a buffer pre-filled with junk; returns the id. */
static const char *assign(const char *incoming, int *rc)
{
	static char out[REQUEST_ID_MAX + 1];

	memset(out, 'Q', sizeof(out));
	*rc = request_id_assign(incoming, out);
	return out;
}

static void test_valid(void)
{
	char id64[REQUEST_ID_MAX + 1];
	const char *got;
	int rc;

	memset(id64, 'a', REQUEST_ID_MAX);
	id64[REQUEST_ID_MAX] = '\0';

	CHECK(request_id_valid("a") == 1);
	CHECK(request_id_valid("Z") == 1);
	CHECK(request_id_valid("0") == 1);
	CHECK(request_id_valid(".") == 1);
	CHECK(request_id_valid("_") == 1);
	CHECK(request_id_valid("-") == 1);
	CHECK(request_id_valid("azAZ09._-") == 1);
	CHECK(request_id_valid("3f2a9c1e-1b2c-4d5e-8f90-a1b2c3d4e5f6") == 1);
	CHECK(request_id_valid(id64) == 1);

	got = assign("a", &rc);
	CHECK(rc == 0);
	CHECK_STR(got, "a");
	got = assign(id64, &rc);
	CHECK(rc == 0);
	CHECK_STR(got, id64);
	got = assign("req-1.2_X", &rc);
	CHECK_STR(got, "req-1.2_X");
}

static void test_invalid(void)
{
	static const char *const bad[] = {
		"", " ", "a b", " a", "a ", "a/b", "a\\b", "a+b", "a:b", "a;b", "a\"b",
		"a%20b", "a\rb", "a\nb", "a\r\n", "\t", "caf\xc3\xa9", "\xff", "a\x7f",
		"a,b", "a=b", "<script>",
	};
	char id65[REQUEST_ID_MAX + 2];
	char id200[201];
	const char *got;
	int rc;

	memset(id65, 'a', REQUEST_ID_MAX + 1);
	id65[REQUEST_ID_MAX + 1] = '\0';
	memset(id200, 'b', 200);
	id200[200] = '\0';

	CHECK(request_id_valid(NULL) == 0);
	CHECK(request_id_valid(id65) == 0);
	CHECK(request_id_valid(id200) == 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char what[96];

		snprintf(what, sizeof(what), "invalid id #%zu is refused", i);
		CHECK_MSG(request_id_valid(bad[i]) == 0, what);
		got = assign(bad[i], &rc);
		snprintf(what, sizeof(what), "invalid id #%zu is replaced by 32 hex", i);
		CHECK_MSG(rc == 0 && is_hex32(got), what);
	}

	got = assign(NULL, &rc);
	CHECK(rc == 0);
	CHECK(is_hex32(got));
	got = assign(id65, &rc);
	CHECK(is_hex32(got));
	/* Not a truncated copy of the oversized id. */
	CHECK(strncmp(got, id65, 32) != 0);
}

static void test_random(void)
{
	char a[REQUEST_ID_MAX + 1], b[REQUEST_ID_MAX + 1], c[REQUEST_ID_MAX + 1];

	CHECK(request_id_assign(NULL, a) == 0);
	CHECK(request_id_assign("", b) == 0);
	CHECK(request_id_assign("bad id", c) == 0);
	CHECK(is_hex32(a) && is_hex32(b) && is_hex32(c));
	CHECK(strcmp(a, b) != 0);
	CHECK(strcmp(a, c) != 0);
	CHECK(strcmp(b, c) != 0);
	/* A generated id is itself a valid id (it can be echoed by the next hop). */
	CHECK(request_id_valid(a) == 1);
}

/* 200 ids (past the 64 of one refill of the pool) are all different. */
static void test_many_distinct(void)
{
	static char ids[200][REQUEST_ID_MAX + 1];
	int dup = 0, bad = 0;

	for (int i = 0; i < 200; i++) {
		bad |= request_id_assign(NULL, ids[i]) != 0 || !is_hex32(ids[i]);
		for (int j = 0; j < i && !dup; j++)
			dup = strcmp(ids[i], ids[j]) == 0;
	}
	CHECK_MSG(!bad, "200 ids in a row are generated, 32 hex digits each");
	CHECK_MSG(!dup, "200 ids in a row are all different");
}

/* A forked child never hands out the ids left in its parent's pool. */
static void test_fork(void)
{
	char parent_next[REQUEST_ID_MAX + 1], child_first[REQUEST_ID_MAX + 1] = "";
	int fds[2], status;
	pid_t pid;

	request_id_assign(NULL, parent_next); /* the pool is part used */
	if (pipe(fds) != 0) {
		CHECK_MSG(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		char id[REQUEST_ID_MAX + 1];

		request_id_assign(NULL, id);
		_exit(write(fds[1], id, 32) == 32 ? 0 : 1);
	}
	close(fds[1]);
	CHECK(pid > 0 && read(fds[0], child_first, 32) == 32);
	close(fds[0]);
	waitpid(pid, &status, 0);
	child_first[32] = '\0';
	request_id_assign(NULL, parent_next);
	CHECK_MSG(is_hex32(child_first) && strcmp(child_first, parent_next) != 0,
	    "a forked child's first id is not its parent's next one");
}

int main(void)
{
	test_valid();
	test_invalid();
	test_random();
	test_many_distinct();
	test_fork();
	return check_summary();
}
