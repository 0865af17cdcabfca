/*
 * test_prefork.c - unit tests of lib/prefork.c: the --workers parser, and a
 * real pool of forked workers: each starts, a killed one is replaced, a
 * SIGHUP reaches every worker, SIGTERM stops them all before the parent
 * returns, and workers die with a parent that is killed.
 *
 * Workers report over a pipe as "<letter> <pid>\n" lines: 's' started,
 * 'h' got SIGHUP.  The parent's exit notes arrive as 'x' lines.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "prefork.h"

#define WORKERS 3

static int report_fd = -1;
static volatile sig_atomic_t got_hup;

static void say(char what, long pid)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%c %ld\n", what, pid);

	if (write(report_fd, line, (size_t)n) != n)
		_exit(3);
}

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

static void note(const char *msg, long pid, int status)
{
	(void)msg;
	(void)status;
	say('x', pid);
}

/* What a worker does: says it started, then waits for signals until killed. */
static void worker(void)
{
	struct sigaction sa;
	sigset_t hup, waiting;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	/* SIGHUP held except inside sigsuspend(): none is lost before the wait. */
	sigemptyset(&hup);
	sigaddset(&hup, SIGHUP);
	sigprocmask(SIG_BLOCK, &hup, &waiting);
	sigdelset(&waiting, SIGHUP);
	say('s', (long)getpid());
	for (;;) {
		sigsuspend(&waiting);
		if (got_hup) {
			got_hup = 0;
			say('h', (long)getpid());
		}
	}
}

/* The supervisor process: exits 0 when prefork_run() returned PREFORK_DONE. */
static pid_t start_pool(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		enum prefork_role role = prefork_run(WORKERS, note);

		if (role == PREFORK_WORKER)
			worker();
		_exit(role == PREFORK_DONE ? 0 : 1);
	}
	return pid;
}

/* Reads one "<c> <pid>" line within `ms`; returns its letter, 0 on timeout. */
static char next_report(int fd, long *pid, int ms)
{
	char line[32];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, ms) != 1 || read(fd, line + n, 1) != 1)
			return 0;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (n < 3 || sscanf(line + 2, "%ld", pid) != 1)
		return 0;
	return line[0];
}

static int alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

/* Waits up to `ms` for every pid of `pids` to be gone. */
static int all_gone(const long *pids, int n, int ms)
{
	for (int t = 0; t < ms; t += 10) {
		int any = 0;

		for (int i = 0; i < n; i++)
			any |= pids[i] > 0 && alive(pids[i]);
		if (!any)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void test_parse(void)
{
	CHECK(prefork_parse_workers("1") == 1);
	CHECK(prefork_parse_workers("6") == 6);
	CHECK(prefork_parse_workers("256") == PREFORK_MAX);
	CHECK(prefork_parse_workers("257") == -1);
	CHECK(prefork_parse_workers("0") == -1);
	CHECK(prefork_parse_workers("-2") == -1);
	CHECK(prefork_parse_workers("+2") == -1);
	CHECK(prefork_parse_workers(" 2") == -1);
	CHECK(prefork_parse_workers("2x") == -1);
	CHECK(prefork_parse_workers("") == -1);
	CHECK(prefork_parse_workers("99999999999999999999") == -1);
	CHECK(prefork_parse_workers(NULL) == -1);
	CHECK(prefork_run(0, NULL) == PREFORK_FAILED);
	CHECK(prefork_run(PREFORK_MAX + 1, NULL) == PREFORK_FAILED);
}

/* Collects `n` 's' lines into pids; returns how many arrived. */
static int collect_starts(int fd, long *pids, int n, int ms)
{
	int got = 0;
	long pid;
	char c;

	while (got < n && (c = next_report(fd, &pid, ms)) != 0)
		if (c == 's')
			pids[got++] = pid;
	return got;
}

static void test_pool(void)
{
	int fds[2], status = -1, hups = 0, replaced = 0, noted = 0;
	long pids[WORKERS + 1] = { 0 }, pid, killed;
	pid_t parent;
	char c;

	if (pipe(fds) != 0) {
		CHECK_MSG(0, "pipe");
		return;
	}
	report_fd = fds[1];
	parent = start_pool();
	CHECK_MSG(collect_starts(fds[0], pids, WORKERS, 5000) == WORKERS, "every worker starts");
	for (int i = 0; i < WORKERS; i++)
		CHECK_MSG(pids[i] != parent && alive(pids[i]), "a worker is a process of its own");

	/* A worker killed is noted and replaced (after the quick-death pause). */
	killed = pids[0];
	kill((pid_t)killed, SIGKILL);
	while ((c = next_report(fds[0], &pid, 5000)) != 0) {
		if (c == 'x' && pid == killed)
			noted = 1;
		if (c == 's') {
			pids[0] = pid;
			replaced = 1;
			break;
		}
	}
	CHECK_MSG(noted, "the parent notes the worker that died");
	CHECK_MSG(replaced && pids[0] != killed && alive(pids[0]), "a new worker takes its place");

	/* SIGHUP reaches every worker. */
	kill(parent, SIGHUP);
	while (hups < WORKERS && (c = next_report(fds[0], &pid, 5000)) != 0)
		hups += c == 'h';
	CHECK_MSG(hups == WORKERS, "SIGHUP is passed on to every worker");

	/* SIGTERM: the parent returns once every worker is gone. */
	kill(parent, SIGTERM);
	CHECK_MSG(waitpid(parent, &status, 0) == parent && WIFEXITED(status) &&
		WEXITSTATUS(status) == 0,
	    "on SIGTERM the parent returns PREFORK_DONE");
	CHECK_MSG(all_gone(pids, WORKERS, 100), "no worker outlives the parent's return");

	/* A parent killed outright takes its workers with it. */
	parent = start_pool();
	memset(pids, 0, sizeof(pids));
	CHECK_MSG(collect_starts(fds[0], pids, WORKERS, 5000) == WORKERS, "a second pool starts");
	kill(parent, SIGKILL);
	waitpid(parent, &status, 0);
	CHECK_MSG(all_gone(pids, WORKERS, 3000), "workers die with a killed parent");
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_parse();
	test_pool();
	return check_summary();
}
