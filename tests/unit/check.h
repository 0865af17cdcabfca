/*
 * check.h - the tiny assertion harness of the C unit tests.
 *
 * Each test program includes this once, calls CHECK(...) as often as it
 * likes (or runs a table of cases, below) and ends main() with
 * `return check_summary();`.  Every check prints a
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

/*
 * Tables of cases, for a function tested on many inputs: each row is one
 * check, named after the function and the row's index.
 *
 *	static const struct check_str_case cases[] = { { "In", "in" }, ... };
 *	CHECK_STR_CASES(norm, cases);          (norm(in) equals want)
 *	static const struct check_len_case ids[] = { { "x", 1, 0 }, ... };
 *	CHECK_LEN_CASES(session_list_id_valid, ids);  (session_list_id_valid(s, len) == want)
 */
struct check_str_case {
	const char *in, *want;
};

struct check_len_case {
	const char *s;
	size_t len;
	int want;
};

#define CHECK_CASES_N(cases) (sizeof(cases) / sizeof((cases)[0]))
#define CHECK_STR_CASES(fn, cases) \
	check_str_cases((fn), #fn, (cases), CHECK_CASES_N(cases), __FILE__, __LINE__)
#define CHECK_LEN_CASES(fn, cases) \
	check_len_cases((fn), #fn, (cases), CHECK_CASES_N(cases), __FILE__, __LINE__)

static inline void check_str_cases(const char *(*fn)(const char *), const char *name,
    const struct check_str_case *cases, size_t n, const char *file, int line)
{
	char what[96];

	for (size_t i = 0; i < n; i++) {
		const char *got = fn(cases[i].in);
		int ok = got != NULL && strcmp(got, cases[i].want) == 0;

		snprintf(what, sizeof(what), "%s, case %zu", name, i);
		check_report(ok, file, line, what);
		if (!ok)
			printf("#   got \"%s\", want \"%s\"\n", got ? got : "(null)", cases[i].want);
	}
}

static inline void check_len_cases(int (*fn)(const char *, size_t), const char *name,
    const struct check_len_case *cases, size_t n, const char *file, int line)
{
	char what[96];

	for (size_t i = 0; i < n; i++) {
		int got = fn(cases[i].s, cases[i].len);

		snprintf(what, sizeof(what), "%s, case %zu", name, i);
		check_report(got == cases[i].want, file, line, what);
		if (got != cases[i].want)
			printf("#   got %d, want %d\n", got, cases[i].want);
	}
}

/* CHECK_MSG with a printf-style message (up to 1 KiB). */
#define CHECKF(cond, ...)                                                \
	do {                                                             \
		static char checkf_msg_[1024];                           \
		snprintf(checkf_msg_, sizeof(checkf_msg_), __VA_ARGS__); \
		CHECK_MSG((cond), checkf_msg_);                          \
	} while (0)

static int check_summary(void)
{
	printf("# %d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
