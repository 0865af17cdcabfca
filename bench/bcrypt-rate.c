/*
 * bench/bcrypt-rate.c - the raw bcrypt rate of this machine: one process a
 * core (or the count given), each computing bcrypt ($2b$, libxcrypt's
 * crypt_rn, as lib/password.c does) at the given cost for the given time;
 * prints the total hashes a second.  `make bench` compares the login
 * scenario with it.  Built into build/bench/; never installed.
 *
 *   bcrypt-rate COST SECONDS [PROCESSES]
 */
#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Hashes until `secs` have passed; returns the count (or -1). */
static long worker(int cost, double secs)
{
	static const char salt_bytes[16] = "portcullis-bench";
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = calloc(1, sizeof(*data));
	double end = now() + secs;
	long n = 0;

	if (data == NULL ||
	    crypt_gensalt_rn("$2b$", (unsigned long)cost, salt_bytes, sizeof(salt_bytes), setting,
		sizeof(setting)) == NULL) {
		free(data);
		return -1;
	}
	while (now() < end) {
		/* 44 bytes, as the pre-hashed phrase of lib/password.c. */
		if (crypt_rn("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH", setting, data,
			(int)sizeof(*data)) == NULL) {
			free(data);
			return -1;
		}
		n++;
	}
	free(data);
	return n;
}

int main(int argc, char **argv)
{
	long procs = sysconf(_SC_NPROCESSORS_ONLN), total = 0;
	int cost, fds[2];
	double secs, start;

	if (argc < 3 || argc > 4 || (cost = atoi(argv[1])) < 4 || cost > 31 ||
	    (secs = atof(argv[2])) <= 0 || secs > 3600 ||
	    (argc == 4 && ((procs = atol(argv[3])) < 1 || procs > 1024))) {
		fprintf(stderr, "usage: bcrypt-rate COST(4-31) SECONDS [PROCESSES]\n");
		return 2;
	}
	if (procs < 1)
		procs = 1;
	if (pipe(fds) != 0) {
		perror("bcrypt-rate: pipe");
		return 1;
	}
	start = now();
	for (long i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("bcrypt-rate: fork");
			return 1;
		}
		if (pid == 0) {
			long n = worker(cost, secs);

			close(fds[0]);
			if (write(fds[1], &n, sizeof(n)) != (ssize_t)sizeof(n))
				_exit(1);
			_exit(n < 0);
		}
	}
	close(fds[1]);
	for (long i = 0; i < procs; i++) {
		long n;

		if (read(fds[0], &n, sizeof(n)) != (ssize_t)sizeof(n) || n < 0) {
			fprintf(stderr, "bcrypt-rate: a worker failed\n");
			return 1;
		}
		total += n;
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	printf("%.1f\n", (double)total / (now() - start));
	return 0;
}
