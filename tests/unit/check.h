/*
 * check.h - the tiny assertion harness of the C unit tests.
 *
 * Each test program includes this once, calls CHECK(...) as often as it
 * likes and ends main() with `return check_summary();`.  Every check prints a
 * TAP-like line ("ok - ..." / "not ok - ...") that tests/run.sh counts into
 * the final "N passed, N failed" line.
 */
#ifndef PORTCULLIS_CHECK_H
#define PORTCULLIS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

static void check_report(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		check_passed++;
		printf("ok - %s\n", what);
	} else {
		check_failed++;
		printf("not ok - %s (%s:%d)\n", what, file, line);
	}
}

#define CHECK(cond) check_report((cond) ? 1 : 0, __FILE__, __LINE__, #cond)
#define CHECK_MSG(cond, msg) check_report((cond) ? 1 : 0, __FILE__, __LINE__, (msg))
#define CHECK_STR(got, want)                                                  \
	do {                                                                  \
		const char *got_ = (got), *want_ = (want);                    \
		int ok_ = got_ != NULL && want_ != NULL && strcmp(got_, want_) == 0; \
		check_report(ok_, __FILE__, __LINE__, #got " == " #want);     \
		if (!ok_)                                                     \
			printf("#   got \"%s\", want \"%s\"\n",               \
			    got_ ? got_ : "(null)", want_ ? want_ : "(null)");\
	} while (0)

static int check_summary(void)
{
	printf("# %d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
