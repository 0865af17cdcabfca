/*
 * log.c - JSON-lines logging; see log.h.
 *
 * A log file is reopened when it was renamed or removed (logrotate without
 * copytruncate; noticed within a second, no signal needed), on SIGHUP, and,
 * with a size limit, rotated to `<path>.1` by whichever process first sees
 * it over the limit (an flock on the old file picks one), so it never grows
 * past about twice the limit.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;
static char log_path[PATH_MAX]; /* empty: standard error */
static long max_bytes;          /* 0: no size limit */
static time_t last_check;
static volatile sig_atomic_t reopen_requested;
static enum log_level threshold = LOG_INFO;
static char process_name[32] = "portcullis";

static const char *const level_names[] = { "debug", "info", "warn", "error" };

static void on_hup(int sig)
{
	(void)sig;
	reopen_requested = 1;
}

static int open_log(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int log_init(const char *process, enum log_level level, const char *path)
{
	struct sigaction sa;
	int fd;

	threshold = level;
	if (process != NULL)
		snprintf(process_name, sizeof(process_name), "%s", process);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
	if (path == NULL || *path == '\0' || strcmp(path, "-") == 0) {
		log_close();
		return 0;
	}
	if (strlen(path) >= sizeof(log_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open_log(path);
	if (fd < 0)
		return -1;
	log_close();
	log_fd = fd;
	memcpy(log_path, path, strlen(path) + 1);
	return 0;
}

void log_limit(long bytes)
{
	max_bytes = bytes > 0 ? bytes : 0;
}

/* Opens the path anew; on failure the old descriptor stays. */
static void reopen(void)
{
	int fd = open_log(log_path);

	if (fd < 0)
		return;
	close(log_fd);
	log_fd = fd;
}

/* Renames a full file to `<path>.1`, unless another process is already at it. */
static void rotate(const struct stat *mine)
{
	char old[PATH_MAX + 2];
	struct stat now;

	if (flock(log_fd, LOCK_EX | LOCK_NB) != 0)
		return;
	/* Still the file at the path: nobody rotated it while we waited. */
	if (stat(log_path, &now) == 0 && now.st_ino == mine->st_ino && now.st_dev == mine->st_dev &&
	    snprintf(old, sizeof(old), "%s.1", log_path) < (int)sizeof(old))
		rename(log_path, old);
	reopen(); /* closing the old descriptor drops the lock */
}

/* Before a line: follow a rename, a SIGHUP or the size limit (checked once a second). */
static void log_maintain(void)
{
	struct stat fst, pst;
	time_t now;

	if (log_path[0] == '\0')
		return;
	if (reopen_requested) {
		reopen_requested = 0;
		reopen();
		return;
	}
	now = time(NULL);
	if (now == last_check)
		return;
	last_check = now;
	if (fstat(log_fd, &fst) != 0)
		return;
	if (stat(log_path, &pst) != 0 || pst.st_ino != fst.st_ino || pst.st_dev != fst.st_dev)
		reopen();
	else if (max_bytes > 0 && fst.st_size >= max_bytes)
		rotate(&fst);
}

int log_enabled(enum log_level level)
{
	return level >= threshold;
}

/* RFC 3339 UTC with milliseconds: 2026-11-21T10:18:31.123Z */
static void format_ts(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void write_all(const char *s, size_t len)
{
	while (len > 0) {
		ssize_t w = write(log_fd, s, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report it */
		}
		s += w;
		len -= (size_t)w;
	}
}

/*
 * A line under construction: on the stack while it fits (every request line
 * does), on the heap beyond.  `failed` sticks after an allocation failure.
 */
struct line {
	char *p;
	size_t len, cap;
	int failed;
	char stack[1024];
};

static void line_put(struct line *l, const char *s, size_t n)
{
	if (l->failed)
		return;
	if (n > l->cap - l->len) {
		size_t cap = l->cap;
		char *p;

		while (n > cap - l->len) {
			if (cap > ((size_t)1 << 30)) {
				l->failed = 1;
				return;
			}
			cap *= 2;
		}
		p = l->p == l->stack ? malloc(cap) : realloc(l->p, cap);
		if (p == NULL) {
			l->failed = 1;
			return;
		}
		if (l->p == l->stack)
			memcpy(p, l->stack, l->len);
		l->p = p;
		l->cap = cap;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

/* A JSON string, escaped as cJSON escapes it (bytes >= 0x80 pass as they are). */
static void line_string(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	line_put(l, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 0, '0', '0', 0, 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		line_put(l, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0x0f];
			n = 6;
		}
		line_put(l, esc, n);
	}
	line_put(l, run, (size_t)(s - run));
	line_put(l, "\"", 1);
}

/* A number as cJSON prints one: integers exactly, others in the fewest digits that read back. */
static void line_number(struct line *l, double d)
{
	char buf[40];
	int n;

	if (d != d || d - d != 0) /* NaN, infinity */
		n = snprintf(buf, sizeof(buf), "null");
	else if (d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(long long)d)
		n = snprintf(buf, sizeof(buf), "%lld", (long long)d);
	else {
		n = snprintf(buf, sizeof(buf), "%1.15g", d);
		if (strtod(buf, NULL) != d)
			n = snprintf(buf, sizeof(buf), "%1.17g", d);
	}
	if (n > 0 && (size_t)n < sizeof(buf))
		line_put(l, buf, (size_t)n);
	else
		l->failed = 1;
}

/* One member's value; anything but a string, number or literal goes through cJSON. */
static void line_value(struct line *l, const cJSON *item)
{
	char *text;

	if (cJSON_IsString(item)) {
		line_string(l, item->valuestring);
	} else if (cJSON_IsNumber(item)) {
		line_number(l, item->valuedouble);
	} else if (cJSON_IsTrue(item)) {
		line_put(l, "true", 4);
	} else if (cJSON_IsFalse(item)) {
		line_put(l, "false", 5);
	} else if (cJSON_IsNull(item)) {
		line_put(l, "null", 4);
	} else {
		text = cJSON_PrintUnformatted(item);
		if (text == NULL) {
			l->failed = 1;
			return;
		}
		line_put(l, text, strlen(text));
		free(text);
	}
}

static void line_member(struct line *l, const char *key, const char *value)
{
	line_put(l, ",", 1);
	line_string(l, key);
	line_put(l, ":", 1);
	line_string(l, value);
}

/*
 * Written directly rather than through a cJSON tree and cJSON_Print: a
 * request's line is on every request's path, and the tree cost more than
 * the rest of the logging (allocations, and a sscanf per number).
 */
void log_event(enum log_level level, const char *msg, cJSON *fields)
{
	struct line l;
	const cJSON *item;
	char ts[40];

	if (!log_enabled(level)) {
		cJSON_Delete(fields);
		return;
	}
	format_ts(ts, sizeof(ts));
	l.p = l.stack;
	l.len = 0;
	l.cap = sizeof(l.stack);
	l.failed = 0;
	line_put(&l, "{\"ts\":", 6);
	line_string(&l, ts);
	line_member(&l, "level", level_names[level]);
	line_member(&l, "msg", msg != NULL ? msg : "");
	line_member(&l, "process", process_name);
	if (fields != NULL) {
		cJSON_ArrayForEach(item, fields) {
			if (item->string == NULL)
				continue;
			line_put(&l, ",", 1);
			line_string(&l, item->string);
			line_put(&l, ":", 1);
			line_value(&l, item);
		}
		cJSON_Delete(fields);
	}
	line_put(&l, "}\n", 2);
	if (!l.failed) {
		log_maintain();
		write_all(l.p, l.len);
	}
	if (l.p != l.stack)
		free(l.p);
}

void log_msg(enum log_level level, const char *msg)
{
	log_event(level, msg, NULL);
}

void log_close(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	log_path[0] = '\0';
}
