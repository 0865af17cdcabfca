/*
 * test_backoff.c - unit tests of lib/backoff.c, the up/down state and
 * reconnect wait of db.c and redis.c.
 *
 * The file includes backoff.c itself (as lighttpd's src/t does) with
 * clock_gettime() replaced by a clock the test moves, so waits are tested
 * to the millisecond without sleeping; the log goes to a temporary file
 * whose lines are counted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static struct timespec fake_now = { 1000, 0 };

static int fake_clock_gettime(clockid_t id, struct timespec *t)
{
	(void)id;
	*t = fake_now;
	return 0;
}

#define clock_gettime fake_clock_gettime
#include "backoff.c"
#undef clock_gettime

static void advance_ms(long ms)
{
	fake_now.tv_nsec += ms % 1000 * 1000000L;
	fake_now.tv_sec += ms / 1000 + fake_now.tv_nsec / 1000000000L;
	fake_now.tv_nsec %= 1000000000L;
}

static char log_path[] = "/tmp/portcullis-test-backoff-XXXXXX";

/* Lines of the log holding `what` (and, when not NULL, `also`). */
static int log_lines(const char *what, const char *also)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(log_path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, what) != NULL && (also == NULL || strstr(line, also) != NULL);
	fclose(f);
	return n;
}

int main(void)
{
	struct backoff b;
	struct timespec t;
	int fd = mkstemp(log_path);

	if (fd < 0 || close(fd) != 0 || log_init("test_backoff", LOG_DEBUG, log_path) != 0) {
		CHECK_MSG(0, "a temporary log file");
		return check_summary();
	}

	memset(&b, 0, sizeof(b));
	CHECK_MSG(backoff_may_try(&b), "a zeroed backoff is up: try at once");
	backoff_ok(&b, "postgres");
	CHECK_MSG(log_lines("backend up", NULL) == 0, "success while up logs nothing");

	backoff_fail(&b, "postgres", 500);
	CHECK(b.down == 1);
	CHECK_MSG(!backoff_may_try(&b), "right after a failure: wait");
	CHECK_MSG(log_lines("backend down", "\"backend\":\"postgres\"") == 1, "the failure is logged");
	advance_ms(499);
	CHECK_MSG(!backoff_may_try(&b), "499 ms later: still waiting");
	advance_ms(1);
	CHECK_MSG(backoff_may_try(&b), "500 ms later: try again");

	/* A failed retry starts a new wait from its own time, and is not logged again. */
	backoff_fail(&b, "postgres", 500);
	CHECK(!backoff_may_try(&b));
	CHECK_MSG(log_lines("backend down", NULL) == 1, "down while down logs nothing more");
	advance_ms(250);
	CHECK(!backoff_may_try(&b));
	backoff_skip(&b);
	CHECK_MSG(backoff_may_try(&b), "backoff_skip ends the wait");
	CHECK_MSG(b.down == 1, "and keeps the state");

	backoff_ok(&b, "postgres");
	CHECK(b.down == 0 && backoff_may_try(&b));
	CHECK_MSG(log_lines("backend up", "\"backend\":\"postgres\"") == 1, "coming back is logged once");
	backoff_ok(&b, "postgres");
	CHECK(log_lines("backend up", NULL) == 1);

	/* Waits of a second and more carry into tv_sec. */
	fake_now.tv_nsec = 900000000L;
	backoff_fail(&b, "redis", 2300);
	CHECK(log_lines("backend down", "\"backend\":\"redis\"") == 1);
	CHECK(b.retry_at.tv_nsec >= 0 && b.retry_at.tv_nsec < 1000000000L);
	advance_ms(2299);
	CHECK(!backoff_may_try(&b));
	advance_ms(1);
	CHECK(backoff_may_try(&b));

	backoff_deadline(&t, 1500);
	CHECK(backoff_ms_left(&t) == 1500);
	advance_ms(1600);
	CHECK_MSG(backoff_ms_left(&t) == -100, "a passed deadline is negative");

	log_close();
	unlink(log_path);
	return check_summary();
}
