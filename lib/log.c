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

void log_event(enum log_level level, const char *msg, cJSON *fields)
{
	cJSON *line;
	char ts[40], *text;

	if (!log_enabled(level)) {
		cJSON_Delete(fields);
		return;
	}
	format_ts(ts, sizeof(ts));
	line = cJSON_CreateObject();
	if (line == NULL || !cJSON_AddStringToObject(line, "ts", ts) ||
	    !cJSON_AddStringToObject(line, "level", level_names[level]) ||
	    !cJSON_AddStringToObject(line, "msg", msg) ||
	    !cJSON_AddStringToObject(line, "process", process_name)) {
		cJSON_Delete(line);
		cJSON_Delete(fields);
		return;
	}
	if (fields != NULL) {
		/* Move the members over; detach one by one to keep ownership simple. */
		cJSON *item;

		while ((item = fields->child) != NULL) {
			cJSON_DetachItemViaPointer(fields, item);
			cJSON_AddItemToObject(line, item->string, item);
		}
		cJSON_Delete(fields);
	}
	text = cJSON_PrintUnformatted(line);
	cJSON_Delete(line);
	if (text == NULL)
		return;
	size_t len = strlen(text);
	char *out = realloc(text, len + 2);
	if (out == NULL) {
		free(text);
		return;
	}
	out[len] = '\n';
	out[len + 1] = '\0';
	log_maintain();
	write_all(out, len + 1);
	free(out);
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
