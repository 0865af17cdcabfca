/*
 * prefork.c - see prefork.h.
 */
#include "prefork.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A worker that dies this soon after its start is restarted only after a pause. */
#define QUICK_DEATH_MS 1000
#define RESTART_PAUSE_MS 1000
/* How long stopping workers may take before they are killed. */
#define STOP_GRACE_MS 10000

struct worker {
	pid_t pid;	    /* 0: not running */
	long started_ms;    /* when it was forked */
	long restart_at_ms; /* not before this (0: at once) */
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int prefork_parse_workers(const char *s)
{
	char *end;
	long n;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > PREFORK_MAX)
		return -1;
	return (int)n;
}

/* Forks worker `w`: returns 1 in the child, 0 in the parent (pid 0 on failure). */
static int spawn(struct worker *w, pid_t parent, const sigset_t *old_mask)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* Stop with the parent, however it ends. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
			_exit(0);
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		return 1;
	}
	w->pid = pid > 0 ? pid : 0;
	w->started_ms = now_ms();
	w->restart_at_ms = pid > 0 ? 0 : w->started_ms + RESTART_PAUSE_MS;
	return 0;
}

static void signal_all(const struct worker *ws, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (ws[i].pid > 0)
			kill(ws[i].pid, sig);
}

/* Reaps every exited worker; returns how many are still running. */
static int reap(struct worker *ws, int n, int stopping,
    void (*note)(const char *msg, long pid, int status))
{
	pid_t pid;
	int status, alive = 0;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < n; i++) {
			if (ws[i].pid != pid)
				continue;
			ws[i].pid = 0;
			if (!stopping) {
				long t = now_ms();

				if (note != NULL)
					note("worker exited; restarting it", (long)pid, status);
				ws[i].restart_at_ms = t - ws[i].started_ms < QUICK_DEATH_MS ? t + RESTART_PAUSE_MS : 0;
			}
		}
	}
	for (int i = 0; i < n; i++)
		alive += ws[i].pid > 0;
	return alive;
}

/*
 * How long the parent may wait for a signal: until the stop deadline, or
 * the next restart of a worker that is down; -1: until a signal comes.
 */
static long next_due_ms(const struct worker *ws, int n, int stopping, long stop_deadline)
{
	long t = now_ms(), due = -1;

	if (stopping)
		return stop_deadline > t ? stop_deadline - t : 10;
	for (int i = 0; i < n; i++) {
		long left;

		if (ws[i].pid != 0)
			continue;
		left = ws[i].restart_at_ms > t ? ws[i].restart_at_ms - t : 0;
		if (due < 0 || left < due)
			due = left;
	}
	return due;
}

enum prefork_role prefork_run(int workers, void (*note)(const char *msg, long pid, int status))
{
	static struct worker ws[PREFORK_MAX];
	sigset_t set, old;
	pid_t parent = getpid();
	int stopping = 0, started = 0;
	long stop_deadline = 0;

	if (workers < 1 || workers > PREFORK_MAX)
		return PREFORK_FAILED;
	memset(ws, 0, sizeof(ws));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &old) != 0)
		return PREFORK_FAILED;
	for (int i = 0; i < workers; i++) {
		if (spawn(&ws[i], parent, &old))
			return PREFORK_WORKER;
		started += ws[i].pid > 0;
	}
	if (started == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return PREFORK_FAILED;
	}
	for (;;) {
		long due = next_due_ms(ws, workers, stopping, stop_deadline), t;
		struct timespec wait = { due / 1000, due % 1000 * 1000000L };
		int sig = sigtimedwait(&set, NULL, due < 0 ? NULL : &wait), alive;

		if (sig == SIGTERM || sig == SIGINT) {
			if (!stopping) {
				stopping = 1;
				stop_deadline = now_ms() + STOP_GRACE_MS;
			}
			signal_all(ws, workers, SIGTERM);
		} else if (sig == SIGHUP) {
			signal_all(ws, workers, SIGHUP);
		}
		alive = reap(ws, workers, stopping, note);
		t = now_ms();
		if (stopping) {
			if (alive == 0)
				break;
			if (t >= stop_deadline)
				signal_all(ws, workers, SIGKILL);
			continue;
		}
		for (int i = 0; i < workers; i++) {
			if (ws[i].pid != 0 || t < ws[i].restart_at_ms)
				continue;
			if (spawn(&ws[i], parent, &old))
				return PREFORK_WORKER;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return PREFORK_DONE;
}
