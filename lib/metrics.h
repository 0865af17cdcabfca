/*
 * metrics.h - Prometheus counters shared by every responder process on the
 * host, and their text exposition (`GET /metrics`).
 *
 * Design: one memory-mapped file (METRICS_FILE) of fixed-size counters and
 * histogram buckets, C11 atomics in the mapping.  Every responder process
 * maps it once at startup and counts with a relaxed fetch-add: no system
 * call and no lock on the request path.  A scrape reads the same file, so
 * one answer sums every process of the host, whichever process serves it.
 * The file outlives the processes: a restarted responder maps it again and
 * goes on counting, so the host's totals are not reset.
 *
 * The label sets are fixed at compile time (routes, methods, statuses,
 * responders below; anything else folds into "other"), so the file has one
 * fixed size.  Its header holds a magic, a version, the size and a hash of
 * the label sets and buckets: a file of another layout (after an upgrade
 * that changed them) is replaced by a fresh one - a counter reset that
 * Prometheus handles - and never read with the wrong layout.
 *
 * The file is created whole under a temporary name and published with
 * link(2), so no process ever maps a half-initialised file; it is opened
 * with O_NOFOLLOW, must be a regular file of the right size, owned by this
 * user or root (or opened by root) and not writable by others.  When it
 * cannot be written, the process logs a warning and counts in its own
 * memory only (a scrape it serves still reads the file when it may); the
 * service goes on either way.
 */
#ifndef PORTCULLIS_METRICS_H
#define PORTCULLIS_METRICS_H

#include "router.h"

#include <stddef.h>
#include <stdint.h>

/* The Content-Type of the text exposition format. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_layer { METRICS_MEMORY, METRICS_REDIS };
enum metrics_backend { METRICS_POSTGRES, METRICS_REDIS_BACKEND };

/*
 * Maps the shared file at `path` (NULL or "": the default,
 * /dev/shm/portcullis-metrics-<euid>, or /tmp/... without /dev/shm),
 * creating it when absent and replacing it when its layout differs, and
 * takes a process slot for `responder` (its name: "health", "login"...).
 * Returns 0 when the shared file is in use; -1 (after logging a warning)
 * when this process counts in its own memory instead.  Either way every
 * other metrics_* call is safe.  Calling it again first closes.
 */
int metrics_open(const char *path, const char *responder);

/* Gives the process slot back and unmaps the file.  Idempotent. */
void metrics_close(void);

/*
 * One answered request: `route` is the template ("/api/data/{key}") or
 * "other", `method` and `status` as sent, `seconds` how long it took.
 * Values outside the fixed sets are counted as "other".
 */
void metrics_request(const char *route, const char *method, int status, double seconds);

/* One cache lookup at `layer`: hit (1) or miss (0). */
void metrics_cache_lookup(enum metrics_layer layer, int hit);

/* One request refused with 429 by rate-limit `policy` (POLICY_AUTH, POLICY_API). */
void metrics_rate_limited(enum rl_policy policy);

/* One login attempt: "success", "failure" or "locked"; anything else is ignored. */
void metrics_login(const char *result);

/* One error of a backend (a failed connect or command). */
void metrics_backend_error(enum metrics_backend backend);

/* One bcrypt computation that took `seconds`. */
void metrics_password_hash(double seconds);

/* A monotonic clock in seconds, for measuring what metrics_*() observe. */
double metrics_now(void);

/*
 * The text exposition of every series (HELP and TYPE lines, Prometheus text
 * format 0.0.4) into a malloc'd, NUL-terminated `*out` of `*len` bytes that
 * the caller frees.  Returns 0, or -1 (out of memory; nothing to free).
 */
int metrics_render(char **out, size_t *len);

/*
 * Exposed for tests.  metrics_escape_label() writes `in` escaped as a label
 * value (backslash, double quote and newline as \\, \" and \n) into `out`,
 * NUL-terminated; returns its length, or -1 when it does not fit in
 * `outlen`.  metrics_bucket_index() returns the first i with
 * value_ns <= bounds_ns[i] (Prometheus' `le`), or n for +Inf.
 */
int metrics_escape_label(const char *in, char *out, size_t outlen);
size_t metrics_bucket_index(const uint64_t *bounds_ns, size_t n, uint64_t value_ns);

#endif
