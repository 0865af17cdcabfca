/*
 * response.c - see response.h.
 */
#include "response.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_AFTER_UNAVAILABLE "5"

void resp_init(struct response *resp)
{
	memset(resp, 0, sizeof(*resp));
}

static int has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

int resp_header(struct response *resp, const char *name, const char *value)
{
	size_t room = sizeof(resp->headers) - resp->headers_len;
	int n;

	if (has_crlf(name) || has_crlf(value))
		return -1;
	n = snprintf(resp->headers + resp->headers_len, room, "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= room) {
		resp->headers[resp->headers_len] = '\0';
		resp->headers_overflow = 1;
		return -1;
	}
	resp->headers_len += (size_t)n;
	return 0;
}

int resp_headerf(struct response *resp, const char *name, const char *fmt, ...)
{
	char value[RESP_HEADER_VALUE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(value))
		return -1;
	return resp_header(resp, name, value);
}

static void set_internal_error(struct response *resp, const struct request *req)
{
	static const char fmt[] =
	    "{\"error\":{\"code\":\"internal_error\",\"message\":\"internal error\","
	    "\"request_id\":\"%s\"}}";
	char *body;

	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = 500;
	resp->content_type = NULL;
	/* The id is [A-Za-z0-9._-] only, so it needs no escaping. */
	if (asprintf(&body, fmt, req->id) >= 0) {
		resp->body = body;
		resp->body_len = strlen(body);
	}
}

void resp_json(struct response *resp, const struct request *req, int status, cJSON *body)
{
	char *text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;

	cJSON_Delete(body);
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	if (text == NULL) {
		set_internal_error(resp, req);
		return;
	}
	resp->status = status;
	resp->body = text;
	resp->body_len = strlen(text);
	resp->content_type = NULL;
}

void resp_text(struct response *resp, int status, const char *content_type, char *body,
    size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->body = body;
	resp->body_len = len;
	resp->content_type = content_type;
}

void resp_empty(struct response *resp, int status)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
	resp->status = status;
}

void resp_error(struct response *resp, const struct request *req, int status,
    const char *code, const char *message, cJSON *fields)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *err = cJSON_CreateObject();

	if (root == NULL || err == NULL) {
		cJSON_Delete(root);
		cJSON_Delete(err);
		cJSON_Delete(fields);
		set_internal_error(resp, req);
		return;
	}
	cJSON_AddItemToObject(root, "error", err);
	if (!cJSON_AddStringToObject(err, "code", code) ||
	    !cJSON_AddStringToObject(err, "message", message) ||
	    !cJSON_AddStringToObject(err, "request_id", req->id)) {
		cJSON_Delete(root);
		cJSON_Delete(fields);
		set_internal_error(resp, req);
		return;
	}
	if (fields != NULL) {
		if (status == 422)
			cJSON_AddItemToObject(err, "fields", fields);
		else
			cJSON_Delete(fields);
	}
	if (status == 503)
		resp_header(resp, "Retry-After", RETRY_AFTER_UNAVAILABLE);
	resp_json(resp, req, status, root);
}

const char *resp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

int resp_send(struct response *resp, const struct request *req)
{
	char head[RESP_HEADERS_MAX + 1024];
	char length[48] = "";
	int n, no_content, has_body;

	if (resp->status == 0 || resp->headers_overflow) {
		resp->headers_len = 0;
		resp->headers[0] = '\0';
		resp->headers_overflow = 0;
		set_internal_error(resp, req);
	}
	no_content = resp->status == 204 || resp->status == 304;
	has_body = !no_content && resp->body != NULL;
	/* A 204 or 304 must not carry Content-Length (RFC 9110, 8.6). */
	if (!no_content)
		snprintf(length, sizeof(length), "Content-Length: %zu\r\n",
		    has_body ? resp->body_len : (size_t)0);
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "%s%s%s"
	    "%s"
	    "Cache-Control: no-store\r\n"
	    "X-Request-Id: %s\r\n"
	    "%s%s"
	    "\r\n",
	    resp->status, resp_reason(resp->status), has_body ? "Content-Type: " : "",
	    !has_body ? "" : resp->content_type != NULL ? resp->content_type : "application/json; charset=utf-8",
	    has_body ? "\r\n" : "", length, req->id,
	    resp->omit_rate_limit_fields ? "" : resp->rate_limit_fields, resp->headers);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	if (req->io->write(req->io, head, n) != 0)
		return -1;
	/* HEAD gets the headers of GET and no body. */
	if (has_body && strcmp(req->method, "HEAD") != 0)
		return req->io->write(req->io, resp->body, (int)resp->body_len);
	return 0;
}

void resp_free(struct response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}
