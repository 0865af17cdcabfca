/*
 * fake_io.h - a `struct io` for unit tests, with no web server behind it.
 *
 * A test fills a table of CGI parameters (what `param` answers), a request
 * body (what `read` hands out, optionally in chunks of `chunk` bytes, or an
 * error after the body) and gets back everything `write` was given in one
 * output buffer.  The fake counts its calls so a test can see, for instance,
 * that a body over the limit was never read.
 *
 *	struct fake_io f;
 *	fake_io_init(&f);
 *	fake_io_param(&f, "REQUEST_METHOD", "GET");
 *	req_init(&req, &f.io, NULL, key, keylen);
 */
#ifndef PORTCULLIS_FAKE_IO_H
#define PORTCULLIS_FAKE_IO_H

#include "io.h"

#include <stddef.h>
#include <string.h>

#define FAKE_IO_PARAMS_MAX 32
#define FAKE_IO_OUT_MAX (256 * 1024)

struct fake_io {
	struct io io; /* first, so a struct io * is a struct fake_io * */
	const char *names[FAKE_IO_PARAMS_MAX];
	const char *values[FAKE_IO_PARAMS_MAX];
	size_t nparams;

	const char *body;  /* what `read` hands out; not owned */
	size_t body_len;
	size_t body_off;
	int chunk;         /* most bytes per read; 0 = as many as asked */
	int read_error;    /* `read` returns -1 once the body is used up */
	int reads;         /* calls of `read` */

	char out[FAKE_IO_OUT_MAX + 1]; /* NUL-terminated for string checks */
	size_t out_len;
	int writes;        /* calls of `write` */
	int write_fail;    /* `write` returns -1 */
	int out_overflow;  /* more than FAKE_IO_OUT_MAX bytes were written */
};

static inline int fake_io_read(struct io *io, char *buf, int len)
{
	struct fake_io *f = (struct fake_io *)io;
	size_t left = f->body_len - f->body_off;
	size_t n = len < 0 ? 0 : (size_t)len;

	f->reads++;
	if (left == 0)
		return f->read_error ? -1 : 0;
	if (n > left)
		n = left;
	if (f->chunk > 0 && n > (size_t)f->chunk)
		n = (size_t)f->chunk;
	memcpy(buf, f->body + f->body_off, n);
	f->body_off += n;
	return (int)n;
}

static inline int fake_io_write(struct io *io, const char *buf, int len)
{
	struct fake_io *f = (struct fake_io *)io;

	f->writes++;
	if (f->write_fail || len < 0)
		return -1;
	if ((size_t)len > FAKE_IO_OUT_MAX - f->out_len) {
		f->out_overflow = 1;
		return -1;
	}
	memcpy(f->out + f->out_len, buf, (size_t)len);
	f->out_len += (size_t)len;
	f->out[f->out_len] = '\0';
	return 0;
}

static inline const char *fake_io_get(struct io *io, const char *name)
{
	struct fake_io *f = (struct fake_io *)io;

	for (size_t i = 0; i < f->nparams; i++)
		if (strcmp(f->names[i], name) == 0)
			return f->values[i];
	return NULL;
}

/* An empty fake: no parameters, no body, nothing written. */
static inline void fake_io_init(struct fake_io *f)
{
	memset(f, 0, sizeof(*f));
	f->io.read = fake_io_read;
	f->io.write = fake_io_write;
	f->io.param = fake_io_get;
	f->io.fcgx = NULL;
}

/* Sets (or replaces) a CGI parameter; both strings are borrowed. */
static inline void fake_io_param(struct fake_io *f, const char *name, const char *value)
{
	for (size_t i = 0; i < f->nparams; i++) {
		if (strcmp(f->names[i], name) == 0) {
			f->values[i] = value;
			return;
		}
	}
	if (f->nparams < FAKE_IO_PARAMS_MAX) {
		f->names[f->nparams] = name;
		f->values[f->nparams] = value;
		f->nparams++;
	}
}

/* The body `read` hands out (borrowed), `chunk` bytes at most per call (0: any). */
static inline void fake_io_body(struct fake_io *f, const char *body, size_t len, int chunk)
{
	f->body = body;
	f->body_len = len;
	f->body_off = 0;
	f->chunk = chunk;
}

/* Forgets what was written. */
static inline void fake_io_reset_out(struct fake_io *f)
{
	f->out_len = 0;
	f->out[0] = '\0';
	f->writes = 0;
}

#endif
