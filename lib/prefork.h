/*
 * prefork.h - one responder process that forks its pool.
 *
 * A responder started once by the web server (lighttpd's max-procs 1) with
 * `--workers N` loads its configuration, libraries and tables, then forks N
 * workers that accept on the socket it was given.  The pages written before
 * the fork (relocations, OpenSSL's tables, the configuration) stay shared
 * between the workers instead of being made once a process, and the kernel
 * queues the web server's connections on the one socket until a worker is
 * free.  The parent serves nothing: it restarts a worker that dies, passes
 * SIGHUP on (log reopening), and on SIGTERM or SIGINT stops the workers and
 * returns once they are gone.  Workers die with it (PR_SET_PDEATHSIG).
 */
#ifndef PORTCULLIS_PREFORK_H
#define PORTCULLIS_PREFORK_H

/* The most workers one parent runs. */
#define PREFORK_MAX 256

enum prefork_role {
	PREFORK_WORKER, /* a worker: serve, then return from main */
	PREFORK_DONE,	/* the parent, every worker gone after a stop */
	PREFORK_FAILED	/* the parent could not start a single worker */
};

/*
 * Forks `workers` (2 to PREFORK_MAX) processes and supervises them.
 * Returns PREFORK_WORKER in each worker (its signal mask as on entry) and,
 * in the parent, only once it stops.  `note(msg, pid, status)` is called in
 * the parent for each worker that exits while not stopping (NULL: none).
 */
enum prefork_role prefork_run(int workers, void (*note)(const char *msg, long pid, int status));

/* Parses a --workers value: 1 to PREFORK_MAX, or -1. */
int prefork_parse_workers(const char *s);

#endif
