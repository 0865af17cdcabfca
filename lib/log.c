/*
 * log.c - JSON-lines logging; see log.h.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;
static enum log_level threshold = LOG_INFO;
static char process_name[32] = "portcullis";

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int log_init(const char *process, enum log_level level, const char *path)
{
	int fd;

	threshold = level;
	if (process != NULL)
		snprintf(process_name, sizeof(process_name), "%s", process);
	if (path == NULL || *path == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	log_close();
	log_fd = fd;
	return 0;
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
}
