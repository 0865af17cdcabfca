/*
 * test_metrics.c - unit tests of lib/metrics.c: label escaping, bucket
 * arithmetic (`le` boundaries, +Inf, _sum and _count), the fixed label sets
 * folding into "other", the shared file (created once, kept across a
 * restart, replaced when its layout differs, never followed through a
 * symlink), process slots (a dead process is not counted), and counters
 * written by many processes at once (forked children hammering one file:
 * the totals are exact).
 *
 * Every case uses its own file in a fresh temporary directory.
 */
#include "metrics.h"
#include "check.h"
#include "fake_io.h"
#include "response.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/pc-metrics-test-XXXXXX";

static const char *path_of(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* The rendered text; the caller frees it. */
static char *scrape(void)
{
	char *text = NULL;
	size_t len = 0;

	if (metrics_render(&text, &len) != 0 || text == NULL || strlen(text) != len) {
		free(text);
		return strdup("");
	}
	return text;
}

/* The value of the sample `series` (name and labels exactly) in `text`, or -1. */
static long long value_of(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	}
	return -1;
}

/* The text value (up to the newline) of `series`, into a static buffer. */
static const char *text_of(const char *text, const char *series)
{
	static char out[64];
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			size_t k = strcspn(p + n + 1, "\n");

			snprintf(out, sizeof(out), "%.*s", (int)k, p + n + 1);
			return out;
		}
	}
	return "(absent)";
}

/* ---- escaping ---------------------------------------------------------- */

static void test_escape(void)
{
	char out[64];

	CHECK(metrics_escape_label("plain/api{key}", out, sizeof(out)) == 14);
	CHECK_STR(out, "plain/api{key}");
	CHECK(metrics_escape_label("a\"b\\c\nd", out, sizeof(out)) == 10);
	CHECK_STR(out, "a\\\"b\\\\c\\nd");
	CHECK(metrics_escape_label("", out, sizeof(out)) == 0);
	CHECK_STR(out, "");
	/* Exactly fitting, and one byte short (the NUL counts). */
	CHECK(metrics_escape_label("ab\"", out, 5) == 4);
	CHECK_STR(out, "ab\\\"");
	CHECK(metrics_escape_label("ab\"", out, 4) == -1);
	CHECK(metrics_escape_label("x", out, 0) == -1);
	CHECK(metrics_escape_label("x", out, 1) == -1);
	/* Tabs and UTF-8 pass unchanged: only \, " and newline are escaped. */
	CHECK(metrics_escape_label("t\t\xc3\xa9", out, sizeof(out)) == 4);
}

/* ---- bucket arithmetic ------------------------------------------------- */

static void test_bucket_index(void)
{
	const uint64_t b[] = { 10, 20, 50 };

	CHECK(metrics_bucket_index(b, 3, 0) == 0);
	CHECK(metrics_bucket_index(b, 3, 10) == 0); /* le: the bound itself is inside */
	CHECK(metrics_bucket_index(b, 3, 11) == 1);
	CHECK(metrics_bucket_index(b, 3, 20) == 1);
	CHECK(metrics_bucket_index(b, 3, 49) == 2);
	CHECK(metrics_bucket_index(b, 3, 50) == 2);
	CHECK(metrics_bucket_index(b, 3, 51) == 3); /* +Inf */
	CHECK(metrics_bucket_index(b, 3, UINT64_MAX) == 3);
	CHECK(metrics_bucket_index(b, 0, 5) == 0);
}

#define DUR "portcullis_http_request_duration_seconds"

static void test_histogram(void)
{
	char *t;

	CHECK(metrics_open(path_of("hist"), "health") == 0);
	metrics_request("/api/health", "GET", 200, 0.0005);     /* exactly on le="0.0005" */
	metrics_request("/api/health", "GET", 200, 0.000500001); /* just over: le="0.001" */
	metrics_request("/api/health", "GET", 200, 5.0);         /* on the last bound */
	metrics_request("/api/health", "GET", 200, 5.1);         /* +Inf only */
	metrics_request("/api/health", "HEAD", 200, 0);          /* zero is in the first bucket */
	t = scrape();
	CHECK(value_of(t, DUR "_bucket{route=\"/api/health\",le=\"0.0005\"}") == 2);
	CHECK(value_of(t, DUR "_bucket{route=\"/api/health\",le=\"0.001\"}") == 3);
	CHECK(value_of(t, DUR "_bucket{route=\"/api/health\",le=\"2.5\"}") == 3);
	CHECK(value_of(t, DUR "_bucket{route=\"/api/health\",le=\"5\"}") == 4);
	CHECK(value_of(t, DUR "_bucket{route=\"/api/health\",le=\"+Inf\"}") == 5);
	CHECK(value_of(t, DUR "_count{route=\"/api/health\"}") == 5);
	CHECK_STR(text_of(t, DUR "_sum{route=\"/api/health\"}"), "10.101000001");
	/* Every route has its histogram, observed or not. */
	CHECK(value_of(t, DUR "_count{route=\"/api/data/{key}\"}") == 0);
	CHECK_STR(text_of(t, DUR "_sum{route=\"other\"}"), "0.000000000");
	CHECK(value_of(t, "portcullis_http_requests_total{route=\"/api/health\",method=\"GET\",status=\"200\"}") == 4);
	CHECK(value_of(t, "portcullis_http_requests_total{route=\"/api/health\",method=\"HEAD\",status=\"200\"}") == 1);
	/* A counter that never moved is not listed (routes x methods x statuses). */
	CHECK(value_of(t, "portcullis_http_requests_total{route=\"/api/me\",method=\"GET\",status=\"200\"}") == -1);

	/* Cumulative buckets never decrease, and +Inf equals _count, for every route. */
	{
		int monotonic = 1;
		long long prev = -1;

		for (const char *p = strstr(t, DUR "_bucket"); p != NULL; p = strstr(p + 1, DUR "_bucket")) {
			const char *le = strstr(p, "le=\"");
			long long v = strtoll(strchr(p, '}') + 2, NULL, 10);

			if (strncmp(le, "le=\"0.0005\"", 11) == 0) /* the next route starts */
				prev = -1;
			if (v < prev)
				monotonic = 0;
			prev = v;
		}
		CHECK_MSG(monotonic, "cumulative buckets never decrease");
	}
	free(t);
	metrics_close();
}

static void test_password_hash_histogram(void)
{
	char *t;

	CHECK(metrics_open(path_of("pw"), "login") == 0);
	metrics_password_hash(0.3);
	metrics_password_hash(0.001);
	metrics_password_hash(12);
	t = scrape();
	CHECK(value_of(t, "portcullis_password_hash_duration_seconds_bucket{le=\"0.001\"}") == 1);
	CHECK(value_of(t, "portcullis_password_hash_duration_seconds_bucket{le=\"0.25\"}") == 1);
	CHECK(value_of(t, "portcullis_password_hash_duration_seconds_bucket{le=\"0.5\"}") == 2);
	CHECK(value_of(t, "portcullis_password_hash_duration_seconds_bucket{le=\"10\"}") == 2);
	CHECK(value_of(t, "portcullis_password_hash_duration_seconds_bucket{le=\"+Inf\"}") == 3);
	CHECK(value_of(t, "portcullis_password_hash_duration_seconds_count") == 3);
	CHECK_STR(text_of(t, "portcullis_password_hash_duration_seconds_sum"), "12.301000000");
	free(t);
	metrics_close();
}

/* ---- fixed label sets and the other series ---------------------------- */

static void test_label_sets(void)
{
	char *t;

	CHECK(metrics_open(path_of("labels"), "data") == 0);
	metrics_request("/api/nope", "BREW", 418, 0.01);
	metrics_request(NULL, NULL, 0, -1);
	metrics_request("/api/data/{key}", "PUT", 201, 0.002);
	metrics_cache_lookup(METRICS_MEMORY, 1);
	metrics_cache_lookup(METRICS_MEMORY, 1);
	metrics_cache_lookup(METRICS_MEMORY, 0);
	metrics_cache_lookup(METRICS_REDIS, 0);
	metrics_rate_limited(POLICY_API);
	metrics_rate_limited(POLICY_AUTH);
	metrics_rate_limited(POLICY_AUTH);
	metrics_rate_limited(POLICY_NONE);
	metrics_login("success");
	metrics_login("failure");
	metrics_login("locked");
	metrics_login("locked");
	metrics_login("bogus");
	metrics_login(NULL);
	metrics_backend_error(METRICS_POSTGRES);
	metrics_backend_error(METRICS_REDIS_BACKEND);
	metrics_backend_error(METRICS_REDIS_BACKEND);
	t = scrape();
	CHECK(value_of(t, "portcullis_http_requests_total{route=\"other\",method=\"other\",status=\"other\"}") == 2);
	CHECK(value_of(t, "portcullis_http_requests_total{route=\"/api/data/{key}\",method=\"PUT\",status=\"201\"}") == 1);
	CHECK(value_of(t, "portcullis_cache_lookups_total{layer=\"memory\",result=\"hit\"}") == 2);
	CHECK(value_of(t, "portcullis_cache_lookups_total{layer=\"memory\",result=\"miss\"}") == 1);
	CHECK(value_of(t, "portcullis_cache_lookups_total{layer=\"redis\",result=\"hit\"}") == 0);
	CHECK(value_of(t, "portcullis_cache_lookups_total{layer=\"redis\",result=\"miss\"}") == 1);
	CHECK(value_of(t, "portcullis_rate_limit_rejections_total{policy=\"auth\"}") == 2);
	CHECK(value_of(t, "portcullis_rate_limit_rejections_total{policy=\"api\"}") == 1);
	CHECK(value_of(t, "portcullis_logins_total{result=\"success\"}") == 1);
	CHECK(value_of(t, "portcullis_logins_total{result=\"failure\"}") == 1);
	CHECK(value_of(t, "portcullis_logins_total{result=\"locked\"}") == 2);
	CHECK(value_of(t, "portcullis_backend_errors_total{backend=\"postgres\"}") == 1);
	CHECK(value_of(t, "portcullis_backend_errors_total{backend=\"redis\"}") == 2);
	CHECK(value_of(t, "portcullis_responder_processes{responder=\"data\"}") == 1);
	CHECK(value_of(t, "portcullis_responder_starts_total{responder=\"data\"}") == 1);
	CHECK(value_of(t, "portcullis_metrics_start_time_seconds") > 1600000000);
	/* This process holds the data responder's slot: its own /proc figures. */
	CHECK(value_of(t, "process_resident_memory_bytes{responder=\"data\"}") > 1024 * 1024);
	CHECK(value_of(t, "process_open_fds{responder=\"data\"}") >= 3);
	CHECK(value_of(t, "process_start_time_seconds{responder=\"data\"}") > (double)time(NULL) - 3600);
	CHECK(value_of(t, "process_start_time_seconds{responder=\"data\"}") <= (double)time(NULL) + 1);
	CHECK(value_of(t, "process_resident_memory_bytes{responder=\"login\"}") == 0);
	CHECK(strstr(t, "process_start_time_seconds{responder=\"login\"}") == NULL);
	CHECK(strstr(t, "\nportcullis_build_info{version=\"") != NULL);

	/* Shape: every family has HELP then TYPE; every sample is `name[{...}] value`. */
	{
		int shape = 1, helps = 0, types = 0;
		char *save = NULL, *copy = strdup(t);

		for (char *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
			if (strncmp(line, "# HELP portcullis_", 18) == 0 ||
			    strncmp(line, "# HELP process_", 15) == 0) {
				helps++;
			} else if (strncmp(line, "# TYPE portcullis_", 18) == 0 ||
			    strncmp(line, "# TYPE process_", 15) == 0) {
				types++;
				if (!strstr(line, " counter") && !strstr(line, " gauge") && !strstr(line, " histogram"))
					shape = 0;
			} else if ((strncmp(line, "portcullis_", 11) != 0 && strncmp(line, "process_", 8) != 0) ||
			    strchr(line, ' ') == NULL) {
				shape = 0;
			}
		}
		free(copy);
		/* 11 portcullis_ families (build_info included) and 4 process_ ones. */
		CHECKF(shape && helps == types && helps == 15,
		    "exposition shape: %d HELP, %d TYPE lines, samples well-formed", helps, types);
	}
	CHECK(t[strlen(t) - 1] == '\n');
	free(t);
	metrics_close();
}

/* ---- the file ----------------------------------------------------------- */

static void test_restart_keeps_totals(void)
{
	const char *p = path_of("restart");
	struct stat st;
	char *t;

	CHECK(metrics_open(p, "login") == 0);
	metrics_login("success");
	metrics_close();
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0640);
	CHECK(metrics_open(p, "login") == 0);
	metrics_login("success");
	t = scrape();
	CHECK_MSG(value_of(t, "portcullis_logins_total{result=\"success\"}") == 2,
	    "a restarted process goes on from the host's totals");
	CHECK(value_of(t, "portcullis_responder_starts_total{responder=\"login\"}") == 2);
	CHECK(value_of(t, "portcullis_responder_processes{responder=\"login\"}") == 1);
	free(t);
	metrics_close();
	/* No temporary file is left next to it. */
	{
		char tmp[300];

		snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", p, (long)getpid());
		CHECK(access(tmp, F_OK) != 0);
	}
}

static void test_other_layout_replaced(void)
{
	const char *p = path_of("layout");
	struct stat st, fresh;
	int fd;
	char *t;

	/* A file of another size. */
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0640);
	CHECK(fd >= 0 && write(fd, "garbage", 7) == 7);
	close(fd);
	CHECK(metrics_open(p, "health") == 0);
	metrics_login("failure");
	metrics_close();
	CHECK(stat(p, &st) == 0 && st.st_size > 7);

	/* The right size but another header (magic overwritten). */
	fd = open(p, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, "XXXXXXXX", 8, 0) == 8);
	close(fd);
	CHECK(metrics_open(p, "health") == 0);
	t = scrape();
	CHECK_MSG(value_of(t, "portcullis_logins_total{result=\"failure\"}") == 0,
	    "a file of another layout is replaced, never read");
	free(t);
	metrics_close();
	CHECK(stat(p, &fresh) == 0 && fresh.st_size == st.st_size);
}

static void test_symlink_refused(void)
{
	const char *target = path_of("target");
	const char *link_path = path_of("link");
	char *t;

	CHECK(symlink(target, link_path) == 0);
	CHECK_MSG(metrics_open(link_path, "health") == -1, "a symlink is never followed");
	CHECK(access(target, F_OK) != 0);
	/* Counting still works, in this process' memory. */
	metrics_login("success");
	t = scrape();
	CHECK(value_of(t, "portcullis_logins_total{result=\"success\"}") == 1);
	free(t);
	metrics_close();
	/* A directory that does not exist: the same fallback. */
	CHECK(metrics_open(path_of("no/such/dir/m"), "health") == -1);
	metrics_close();
}

/*
 * A process that may read but not write the file (another user; here: root's
 * file, read by `nobody`) counts alone, yet a scrape it serves shows the host.
 */
static void test_read_only_view(void)
{
	const char *p = path_of("readonly");
	pid_t pid;
	int status = -1;

	if (geteuid() != 0) {
		CHECK_MSG(1, "read-only view: skipped (needs root to switch users)");
		return;
	}
	CHECK(metrics_open(p, "health") == 0);
	metrics_login("locked");
	CHECK(chmod(p, 0644) == 0 && chmod(dir, 0755) == 0);
	pid = fork();
	if (pid == 0) {
		char *t;
		int rc;

		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		rc = metrics_open(p, "metrics");
		metrics_login("locked"); /* in its own memory */
		t = scrape();
		_exit(rc == -1 && value_of(t, "portcullis_logins_total{result=\"locked\"}") == 1 ? 0 : 11);
	}
	waitpid(pid, &status, 0);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "read-only: another user counts alone but its scrape reads the shared file");
	CHECK(chmod(dir, 0700) == 0);
	metrics_close();
}

/* ---- process slots ---------------------------------------------------- */

static void test_dead_process_not_counted(void)
{
	const char *p = path_of("slots");
	int ready[2], go[2];
	pid_t pid;
	char c, *t;

	CHECK(metrics_open(p, "health") == 0);
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	pid = fork();
	if (pid == 0) {
		metrics_open(p, "session");
		(void)!write(ready[1], "r", 1);
		(void)!read(go[0], &c, 1);
		_exit(0); /* dies without metrics_close(), as a crash would */
	}
	CHECK(read(ready[0], &c, 1) == 1);
	t = scrape();
	CHECK(value_of(t, "portcullis_responder_processes{responder=\"session\"}") == 1);
	CHECK(value_of(t, "portcullis_responder_processes{responder=\"health\"}") == 1);
	free(t);
	(void)!write(go[1], "g", 1);
	waitpid(pid, NULL, 0);
	t = scrape();
	CHECK_MSG(value_of(t, "portcullis_responder_processes{responder=\"session\"}") == 0,
	    "a process that died without closing is not counted");
	CHECK(value_of(t, "portcullis_responder_starts_total{responder=\"session\"}") == 1);
	free(t);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	metrics_close();
}

/* ---- many processes at once ------------------------------------------- */

#define CHILDREN 8
#define PER_CHILD 20000

static void test_concurrent_processes(void)
{
	const char *p = path_of("shared"); /* does not exist yet: the children race to create it */
	int go[2], ok_exit = 1;
	pid_t kids[CHILDREN];
	char *t;
	long long want = (long long)CHILDREN * PER_CHILD;

	CHECK(pipe(go) == 0);
	for (int i = 0; i < CHILDREN; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char c;

			close(go[1]);
			(void)!read(go[0], &c, 1); /* all start together */
			if (metrics_open(p, "data") != 0)
				_exit(3);
			for (int k = 0; k < PER_CHILD; k++) {
				metrics_request("/api/data/{key}", "GET", 200, 0.0002);
				metrics_cache_lookup(METRICS_MEMORY, k % 2);
			}
			metrics_close();
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]); /* EOF: go */
	for (int i = 0; i < CHILDREN; i++) {
		int status = 0;

		if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok_exit = 0;
	}
	CHECK_MSG(ok_exit, "every child mapped the one shared file");
	CHECK(metrics_open(p, "metrics") == 0);
	t = scrape();
	CHECKF(value_of(t, "portcullis_http_requests_total{route=\"/api/data/{key}\",method=\"GET\",status=\"200\"}") == want,
	    "%d processes x %d requests at once: the total is exact", CHILDREN, PER_CHILD);
	CHECK(value_of(t, DUR "_count{route=\"/api/data/{key}\"}") == want);
	CHECK(value_of(t, DUR "_bucket{route=\"/api/data/{key}\",le=\"0.0005\"}") == want);
	CHECK_STR(text_of(t, DUR "_sum{route=\"/api/data/{key}\"}"), "32.000000000");
	CHECK(value_of(t, "portcullis_cache_lookups_total{layer=\"memory\",result=\"hit\"}") == want / 2);
	CHECK(value_of(t, "portcullis_cache_lookups_total{layer=\"memory\",result=\"miss\"}") == want / 2);
	CHECK(value_of(t, "portcullis_responder_starts_total{responder=\"data\"}") == CHILDREN);
	CHECK(value_of(t, "portcullis_responder_processes{responder=\"data\"}") == 0);
	CHECK(value_of(t, "portcullis_responder_processes{responder=\"metrics\"}") == 1);
	free(t);
	metrics_close();
}

/* Without a shared file every call is still safe (the migration tool, other tests). */
static void test_unopened(void)
{
	char *t;

	metrics_close();
	metrics_request("/api/me", "GET", 200, 0.001);
	metrics_password_hash(0.01);
	t = scrape();
	CHECK(strstr(t, "# TYPE portcullis_http_requests_total counter") != NULL);
	free(t);
	CHECK(metrics_now() > 0);
}

/* What /metrics sends: the exposition's content type, not JSON; a JSON error after it is JSON again. */
static void test_resp_text(void)
{
	static struct fake_io f;
	struct request req;
	struct response resp;
	char *body = strdup("# HELP x y\n");

	fake_io_init(&f);
	fake_io_param(&f, "REQUEST_METHOD", "GET");
	fake_io_param(&f, "REQUEST_URI", "/metrics");
	fake_io_param(&f, "REMOTE_ADDR", "127.0.0.1");
	fake_io_param(&f, "HTTP_X_REQUEST_ID", "rid-1");
	req_init(&req, &f.io, NULL, "k", 1);
	resp_init(&resp);
	resp_text(&resp, 200, METRICS_CONTENT_TYPE, body, strlen(body));
	CHECK(resp_send(&resp, &req) == 0);
	CHECK_STR(f.out, "Status: 200 OK\r\n"
			 "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
			 "Content-Length: 11\r\n"
			 "Cache-Control: no-store\r\n"
			 "X-Request-Id: rid-1\r\n"
			 "\r\n"
			 "# HELP x y\n");
	fake_io_reset_out(&f);
	resp_error(&resp, &req, 404, "not_found", "no such resource", NULL);
	CHECK(resp_send(&resp, &req) == 0);
	CHECK(strstr(f.out, "Content-Type: application/json; charset=utf-8\r\n") != NULL);
	resp_free(&resp);
	req_free(&req);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_unopened();
	test_escape();
	test_bucket_index();
	test_histogram();
	test_password_hash_histogram();
	test_label_sets();
	test_restart_keeps_totals();
	test_other_layout_replaced();
	test_symlink_refused();
	test_read_only_view();
	test_dead_process_not_counted();
	test_concurrent_processes();
	test_resp_text();
	cleanup();
	return check_summary();
}
