/*
 * io.h - where a request comes from and where its answer goes.
 *
 * A responder runs under FastCGI (libfcgi hands over streams and a parameter
 * array) or as a plain CGI program (environment, stdin, stdout).  Both are
 * reached through this small table of functions, so nothing above lib/io.c
 * knows which one is in use.
 */
#ifndef PORTCULLIS_IO_H
#define PORTCULLIS_IO_H

#include <fcgiapp.h>

struct io {
	/* Reads up to `len` body bytes; returns the count, 0 at the end, -1 on error. */
	int (*read)(struct io *io, char *buf, int len);
	/* Writes all `len` bytes; returns 0, or -1 if the client went away. */
	int (*write)(struct io *io, const char *buf, int len);
	/* A CGI parameter (REQUEST_METHOD, HTTP_COOKIE, ...) or NULL. */
	const char *(*param)(struct io *io, const char *name);
	FCGX_Request *fcgx; /* NULL in CGI mode */
};

/* An io over an accepted libfcgi request; `r` must outlive it. */
void io_init_fcgi(struct io *io, FCGX_Request *r);

/* An io over this process' environment, stdin and stdout (plain CGI). */
void io_init_cgi(struct io *io);

#endif
