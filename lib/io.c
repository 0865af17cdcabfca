/*
 * io.c - FastCGI and plain CGI behind one interface; see io.h.
 */
#include "io.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int fcgi_read(struct io *io, char *buf, int len)
{
	int n = FCGX_GetStr(buf, len, io->fcgx->in);

	if (n < len && FCGX_GetError(io->fcgx->in) != 0)
		return -1;
	return n;
}

static int fcgi_write(struct io *io, const char *buf, int len)
{
	if (len == 0)
		return 0;
	return FCGX_PutStr(buf, len, io->fcgx->out) == len ? 0 : -1;
}

static const char *fcgi_param(struct io *io, const char *name)
{
	return FCGX_GetParam(name, io->fcgx->envp);
}

void io_init_fcgi(struct io *io, FCGX_Request *r)
{
	io->read = fcgi_read;
	io->write = fcgi_write;
	io->param = fcgi_param;
	io->fcgx = r;
}

static int cgi_read(struct io *io, char *buf, int len)
{
	(void)io;
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, (size_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : (int)n;
	}
}

static int cgi_write(struct io *io, const char *buf, int len)
{
	(void)io;
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, (size_t)len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (int)n;
	}
	return 0;
}

static const char *cgi_param(struct io *io, const char *name)
{
	(void)io;
	return getenv(name);
}

void io_init_cgi(struct io *io)
{
	io->read = cgi_read;
	io->write = cgi_write;
	io->param = cgi_param;
	io->fcgx = NULL;
}

int io_finish_input(struct io *io, size_t max)
{
	char buf[4096];
	size_t total = 0;

	if (io->fcgx == NULL)
		return 0;
	for (;;) {
		int n = FCGX_GetStr(buf, (int)sizeof(buf), io->fcgx->in);

		if (n < 0 || FCGX_GetError(io->fcgx->in) != 0)
			return -1;
		if (n == 0)
			return 0;
		total += (size_t)n;
		if (total > max)
			return -1;
	}
}
