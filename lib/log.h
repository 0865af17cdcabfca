/*
 * log.h - JSON-lines logging.
 *
 * One line per event, written with a single write(2) on an O_APPEND
 * descriptor so that lines from many responder processes sharing one file do
 * not interleave.  Fields are passed as a cJSON object so that every value is
 * escaped (as cJSON escapes them); callers never format JSON by hand.  Nothing secret may be
 * passed in: no password, token, cookie or raw client address.
 */
#ifndef PORTCULLIS_LOG_H
#define PORTCULLIS_LOG_H

#include "config.h"

#include <cJSON.h>

/*
 * Opens `path` for appending (NULL, "" or "-": standard error) and sets the
 * threshold.  `process` names the program in every line.  A file is reopened
 * after a rename (within a second) and on SIGHUP, which this installs.
 * Returns 0, or -1 with errno set when the file cannot be opened (logging
 * then goes to standard error).
 */
int log_init(const char *process, enum log_level level, const char *path);

/*
 * Rotates the log file to `<path>.1` (replacing an older one) once it holds
 * `bytes` or more (checked about once a second); 0 turns that off.
 */
void log_limit(long bytes);

/* Whether an event at `level` would be written. */
int log_enabled(enum log_level level);

/*
 * Writes one line: ts, level, msg, process, then the members of `fields`
 * (may be NULL).  Takes ownership of `fields` and frees it.
 */
void log_event(enum log_level level, const char *msg, cJSON *fields);

/* Convenience: an event with no fields but a message. */
void log_msg(enum log_level level, const char *msg);

/* Closes the log file if one was opened. */
void log_close(void);

#endif
