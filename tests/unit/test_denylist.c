/*
 * test_denylist.c - unit tests of lib/denylist.c: the normalisation both
 * the list and the lookups go through, and a custom PASSWORD_DENYLIST built
 * into a passwdqc filter (pwqfilter) and looked up - listed, case and blank
 * variants, unlisted, a password that holds a line break or NUL, a missing
 * file.  The shipped list is tested through the stack (23_denylist.sh).
 */
#include "denylist.h"
#include "check.h"
#include "crypto.h"

#include <glob.h>
#include <limits.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *norm(const char *s)
{
	static char out[2 * DENY_ENTRY_MAX + 1];

	return deny_normalize(s, strlen(s), out, sizeof(out)) < 0 ? "(none)" : out;
}

static void test_normalize(void)
{
	static const struct check_str_case cases[] = {
		{ "Password1", "password1" },
		{ "  Hunter2 \t", "hunter2" },
		{ "line\r", "line" },
		{ "in ner", "in ner" },
		{ "ÄÖÜ straße", "äöü straße" },
		{ "ΣΟΦΙΑ", "σοφια" },
		{ "", "(none)" },
		{ " \t ", "(none)" },
		{ "two\nlines", "(none)" },
		/* Bytes that are not UTF-8 stay, ASCII is lower-cased around them. */
		{ "A\xff" "B", "a\xff" "b" },
	};
	char out[64];

	CHECK_STR_CASES(norm, cases);
	CHECK_MSG(deny_normalize("a\0b", 3, out, sizeof(out)) == -1, "a NUL is no entry");
	CHECK_MSG(deny_normalize("abc", 3, out, 4) == -1, "an output buffer under 2n+1 is refused");
}

/* Removes the cache files of `list` (named after a hash of its real path). */
static void remove_cache(const char *list)
{
	char real[PATH_MAX], hex[17], pattern[PATH_MAX + 64];
	unsigned char h[CRYPTO_SHA256_LEN];
	glob_t g;

	if (realpath(list, real) == NULL || crypto_sha256(real, strlen(real), h) != 0)
		return;
	crypto_hex(h, 8, hex);
	snprintf(pattern, sizeof(pattern), "/*/tmp/portcullis-denylist-%lu-%s*",
	    (unsigned long)geteuid(), hex);
	if (glob(pattern, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		unlink(g.gl_pathv[i]);
	globfree(&g);
}

static void test_custom_list(void)
{
	static const struct check_len_case listed[] = {
		{ "correct horse battery staple", 28, 1 },
		{ "Correct Horse Battery STAPLE", 28, 1 },
		{ " correct horse battery staple\t", 30, 1 },
		{ "tr0ub4dor&3", 11, 1 },
		{ "allcapspassword", 15, 1 },
		{ "# not a comment", 15, 1 },
		{ "correct horse battery staples", 29, 0 },
		{ "correct horse battery staple\nx", 30, 0 },
		{ "correct horse battery staple\0x", 30, 0 },
		{ "", 0, 0 },
	};
	char list[] = "/tmp/test_denylist_XXXXXX", err[CFG_ERR_MAX];
	struct config cfg;
	FILE *f;
	int fd = mkstemp(list);

	CHECK(fd >= 0);
	f = fdopen(fd, "w");
	fputs("correct horse battery staple\n  Tr0ub4dor&3  \r\nALLCAPSPASSWORD\n\n# not a comment\n", f);
	fclose(f);
	memset(&cfg, 0, sizeof(cfg));
	cfg.password_denylist = list;
	CHECK_MSG(deny_open(&cfg, "/nonexistent/cgi-bin/x", err, sizeof(err)) == 0, "custom list opens");
	CHECK_LEN_CASES(deny_listed, listed);
	/* A second open finds the cached filter. */
	CHECK_MSG(deny_open(&cfg, "/nonexistent/cgi-bin/x", err, sizeof(err)) == 0, "cached filter opens");
	CHECK(deny_listed("ALLCAPSPASSWORD", 15) == 1);
	/* The filter is held open: removing its cache file (a tmp cleaner) changes nothing. */
	remove_cache(list);
	CHECK(deny_listed("allcapspassword", 15) == 1);
	deny_close();
	CHECK_MSG(deny_listed("allcapspassword", 15) == -1, "closed: an error, never \"not listed\"");
	unlink(list);
	CHECK_MSG(deny_open(&cfg, "/nonexistent/cgi-bin/x", err, sizeof(err)) == -1, "missing file refused");
	CHECK_MSG(strstr(err, "PASSWORD_DENYLIST") != NULL, "the message names PASSWORD_DENYLIST");
	CHECK_MSG(deny_open(&(struct config){ 0 }, "/nonexistent/cgi-bin/x", err, sizeof(err)) == -1,
	    "no shipped filter: refused");
	CHECK_MSG(strstr(err, "PASSWORD_DENYLIST") != NULL, "that message names PASSWORD_DENYLIST too");
	cfg.password_denylist = (char *)"";
	CHECK_MSG(deny_open(&cfg, "/nonexistent/cgi-bin/x", err, sizeof(err)) == -1 &&
		strstr(err, "shipped") != NULL, "an empty PASSWORD_DENYLIST means the shipped list");
}

int main(void)
{
	test_normalize();
	test_custom_list();
	deny_close();
	return check_summary();
}
