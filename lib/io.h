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
#include <stddef.h>

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

/*
 * FastCGI: reads what is left of the request's input up to the end of its
 * stream (the empty FCGI_STDIN record every web server sends), at most
 * `max` bytes; does nothing in CGI mode.  libfcgi leaves that record in
 * the socket when nothing read the input to its end, and on a connection
 * the web server keeps open (FCGI_KEEP_CONN, mod_proxy_fcgi's enablereuse)
 * the next request would then meet it first, take it for a protocol error
 * and close the connection under the request the server sent on it.
 * Returns 0 at the end of the stream, -1 on an error or past `max`.
 */
int io_finish_input(struct io *io, size_t max);

#endif
