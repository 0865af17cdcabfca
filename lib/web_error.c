/*
 * web_error.c - see web_error.h.
 */
#include "web_error.h"

#include <string.h>

static const struct {
	int from;
	struct web_error_answer to;
} answers[] = {
	{ 400, { 400, "bad_request", "the request is malformed" } },
	/* Nothing under /api is refused so: to the client it is not there. */
	{ 403, { 404, "not_found", "no such resource" } },
	{ 404, { 404, "not_found", "no such resource" } },
	{ 405, { 405, "method_not_allowed", "method not allowed" } },
	/* A request the server gave up reading. */
	{ 408, { 400, "bad_request", "the request took too long" } },
	{ 411, { 411, "length_required", "send Content-Length (Content-Length: 0 with an empty POST)" } },
	{ 413, { 413, "payload_too_large", "the request body is over the limit" } },
	{ 414, { 414, "uri_too_long", "the request URI is over the limit" } },
	/* An Expect header the server cannot meet. */
	{ 417, { 400, "bad_request", "the Expect header cannot be met" } },
	{ 431, { 431, "header_fields_too_large", "the request header section is over the limit" } },
	{ 500, { 500, "internal_error", "internal error" } },
	/* A method the server does not know. */
	{ 501, { 400, "bad_request", "the request method is not supported" } },
	/* A responder that failed (502), or gave no answer in time (504). */
	{ 502, { 500, "internal_error", "internal error" } },
	{ 503, { 503, "service_unavailable", "the service is unavailable" } },
	{ 504, { 503, "service_unavailable", "the service is unavailable" } },
};

struct web_error_answer web_error_for(int from)
{
	static const struct web_error_answer client = { 400, "bad_request", "the request was refused" };
	static const struct web_error_answer server = { 500, "internal_error", "internal error" };

	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		if (answers[i].from == from)
			return answers[i].to;
	return from < 500 ? client : server;
}

int web_error(struct request *req, struct response *resp)
{
	const char *v = req_param(req, "PORTCULLIS_WEB_ERROR");
	struct web_error_answer a;

	if (v == NULL || strlen(v) != 3 || v[0] < '4' || v[0] > '5' ||
	    v[1] < '0' || v[1] > '9' || v[2] < '0' || v[2] > '9')
		return 0;
	a = web_error_for((v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0'));
	/* (resp_error adds Retry-After to a 503.) */
	resp_error(resp, req, a.status, a.code, a.message, NULL);
	return 1;
}
