/*
 * web_error.h - the web server's own refusals, answered in the envelope.
 *
 * Apache cannot write the contract's envelope itself for most of its
 * refusals: its ErrorDocument hands them to the health responder with
 * PORTCULLIS_WEB_ERROR=<status> (a FastCGI/CGI parameter only the server
 * configuration can set; a client's headers arrive as HTTP_*).  Each status
 * is answered with a status and code of the contract's table: where the
 * server's status has no code there (403, 408, 417, 501, 502, 504) it is
 * mapped to the nearest that has one (lighttpd/errors.lua maps alike).
 */
#ifndef PORTCULLIS_WEB_ERROR_H
#define PORTCULLIS_WEB_ERROR_H

#include "request.h"
#include "response.h"

/* What one refusal of the web server is answered with. */
struct web_error_answer {
	int status;		/* the status sent */
	const char *code;	/* the contract's code for it */
	const char *message;
};

/*
 * The answer for the web server's status `from` (400-599): the table's
 * entry, else 400 bad_request for a 4xx and 500 internal_error for a 5xx.
 */
struct web_error_answer web_error_for(int from);

/*
 * When the request is a web server's refusal (PORTCULLIS_WEB_ERROR is three
 * digits from 400 to 599), fills `resp` with its envelope (Retry-After on a
 * 503) and returns 1; else returns 0 and leaves `resp` alone.
 */
int web_error(struct request *req, struct response *resp);

#endif
