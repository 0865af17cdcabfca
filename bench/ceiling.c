/*
 * bench/ceiling.c - the do-nothing FastCGI responder of `make bench`: the
 * ceiling the real responders are measured against.  It accepts requests
 * with libfcgi exactly as lib/app.c does (FCGX_Accept_r / FCGX_Finish_r on
 * the socket the web server or spawn-fcgi hands it, or on --listen ADDR;
 * with --workers N, forked into a pool by lib/prefork.c as they are)
 * and answers every one with a fixed 200 JSON body, reading nothing of the
 * request but its input stream to the end (as lib/io.c does): whatever
 * remains is what a web server and libfcgi cost.
 * FCGI_KEEP_CONN is honoured the same way as by the responders (libfcgi
 * keeps the connection when the web server asks).  --check-config prints
 * "ok" and exits, so the stack scripts can start it in place of any
 * responder.  Built by `make bench` into build/bench/; never installed.
 */
#include "prefork.h"

#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

int main(int argc, char **argv)
{
	static const char answer[] =
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json; charset=utf-8\r\n"
	    "Content-Length: 15\r\n"
	    "Cache-Control: no-store\r\n"
	    "\r\n"
	    "{\"status\":\"ok\"}";
	const char *listen_addr = NULL;
	FCGX_Request r;
	struct sigaction sa;
	int fd = 0, workers = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check-config") == 0) {
			puts("ceiling: configuration ok");
			return 0;
		}
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
			listen_addr = argv[++i];
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc &&
		    (workers = prefork_parse_workers(argv[i + 1])) > 0) {
			i++;
		} else {
			fprintf(stderr, "usage: %s [--check-config] [--listen ADDR] [--workers N]\n", argv[0]);
			return 1;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (FCGX_Init() != 0)
		return 1;
	if (listen_addr != NULL && (fd = FCGX_OpenSocket(listen_addr, 128)) < 0) {
		fprintf(stderr, "ceiling: cannot listen on %s\n", listen_addr);
		return 1;
	}
	if (workers > 1) {
		enum prefork_role role = prefork_run(workers, NULL);

		if (role != PREFORK_WORKER)
			return role == PREFORK_DONE ? 0 : 1;
	}
	if (FCGX_InitRequest(&r, fd, 0) != 0)
		return 1;
	while (!stopping && FCGX_Accept_r(&r) >= 0) {
		char buf[4096];

		/* The input to its end, as lib/io.c does: a kept connection stays usable. */
		while (FCGX_GetStr(buf, (int)sizeof(buf), r.in) > 0)
			;
		if (FCGX_PutStr(answer, (int)sizeof(answer) - 1, r.out) != (int)sizeof(answer) - 1)
			fprintf(stderr, "ceiling: write failed\n");
		/* The close lib/app.c makes once the input is read to its end. */
		if (FCGX_GetError(r.in) == 0)
			(void)FCGX_Detach(&r);
		else
			(void)FCGX_Attach(&r);
		FCGX_Finish_r(&r);
	}
	FCGX_Free(&r, 1);
	return 0;
}
