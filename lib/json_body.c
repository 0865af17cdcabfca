/*
 * json_body.c - see json_body.h.
 *
 * The validator walks the bytes once, iteratively: a fixed stack of
 * BODY_MAX_DEPTH bytes ('{' or '[') remembers the open containers, so a body
 * of 100000 '[' costs 65 steps and no recursion.  Strings are checked for
 * UTF-8 (the table of RFC 3629, section 4) and escapes (surrogate pairs in
 * order) as they are scanned (utf8.h); outside strings only ASCII can be valid.
 */
#include "json_body.h"
#include "crypto.h"
#include "utf8.h"

#include "app.h"
#include "response.h"

#include <string.h>
#include <strings.h>

/* ---- the strict validator ---- */

struct scan {
	const unsigned char *p, *end;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end &&
	    (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* The 4 hex digits at p (p + 4 <= end checked by the caller); -1 if not hex. */
static long hex4(const unsigned char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = crypto_hex_digit(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* A string starting at the opening quote. */
static int scan_string(struct scan *s)
{
	const unsigned char *p = s->p + 1, *end = s->end;

	while (p < end) {
		unsigned char c = *p;
		size_t k;

		if (c == '"') {
			s->p = p + 1;
			return 1;
		}
		if (c == '\\') {
			long cp;

			if (end - p < 2)
				return 0;
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				p += 2;
				continue;
			case 'u':
				break;
			default:
				return 0;
			}
			if (end - p < 6 || (cp = hex4(p + 2)) < 0)
				return 0;
			p += 6;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return 0; /* a low surrogate with no high one before it */
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				long lo;

				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    (lo = hex4(p + 2)) < 0xDC00 || lo > 0xDFFF)
					return 0;
				p += 6;
			}
			continue;
		}
		if (c < 0x20)
			return 0;
		if (c < 0x80) {
			p++;
			continue;
		}
		if ((k = utf8_decode(p, (size_t)(end - p), NULL)) == 0)
			return 0;
		p += k;
	}
	return 0; /* unterminated */
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)? */
static int scan_number(struct scan *s)
{
	const unsigned char *p = s->p, *end = s->end;

	if (p < end && *p == '-')
		p++;
	if (p == end || !is_digit(*p))
		return 0;
	if (*p++ != '0')
		while (p < end && is_digit(*p))
			p++;
	if (p < end && *p == '.') {
		p++;
		if (p == end || !is_digit(*p))
			return 0;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return 0;
		while (p < end && is_digit(*p))
			p++;
	}
	s->p = p;
	return 1;
}

static int scan_word(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return 0;
	s->p += n;
	return 1;
}

/* `"key" :` inside an object, whitespace before the key already skipped. */
static int scan_key(struct scan *s)
{
	if (s->p == s->end || *s->p != '"' || !scan_string(s))
		return 0;
	skip_ws(s);
	if (s->p == s->end || *s->p != ':')
		return 0;
	s->p++;
	return 1;
}

int body_json_valid(const char *buf, size_t len)
{
	unsigned char open[BODY_MAX_DEPTH]; /* '{' or '[' per open container */
	size_t depth = 0;
	struct scan s;

	if (buf == NULL)
		return 0;
	s.p = (const unsigned char *)buf;
	s.end = s.p + len;
	for (;;) {
		/* A value is expected here. */
		skip_ws(&s);
		if (s.p == s.end)
			return 0;
		switch (*s.p) {
		case '{':
		case '[':
			if (depth == BODY_MAX_DEPTH)
				return 0;
			open[depth++] = *s.p++;
			skip_ws(&s);
			if (s.p < s.end && *s.p == (open[depth - 1] == '{' ? '}' : ']')) {
				s.p++;
				depth--;
				break; /* an empty container is a complete value */
			}
			if (open[depth - 1] == '{' && !scan_key(&s))
				return 0;
			continue; /* its first value */
		case '"':
			if (!scan_string(&s))
				return 0;
			break;
		case 't':
			if (!scan_word(&s, "true"))
				return 0;
			break;
		case 'f':
			if (!scan_word(&s, "false"))
				return 0;
			break;
		case 'n':
			if (!scan_word(&s, "null"))
				return 0;
			break;
		default:
			if (!scan_number(&s))
				return 0;
			break;
		}
		/* After a complete value: close containers, or a comma and the next. */
		for (;;) {
			unsigned char c;

			skip_ws(&s);
			if (depth == 0)
				return s.p == s.end;
			if (s.p == s.end)
				return 0;
			c = *s.p++;
			if (c == ',') {
				if (open[depth - 1] == '{') {
					skip_ws(&s);
					if (!scan_key(&s))
						return 0;
				}
				break;
			}
			if (c != (open[depth - 1] == '{' ? '}' : ']'))
				return 0;
			depth--;
		}
	}
}

/* ---- Content-Type ---- */

static int is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static size_t token_len(const char *s)
{
	size_t n = 0;

	while (is_tchar((unsigned char)s[n]))
		n++;
	return n;
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* `s` is exactly the token `word`, compared case-insensitively. */
static int token_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

/*
 * A quoted-string (RFC 9110, 5.6.4) at s (on the opening quote), unescaped
 * into out (truncated to outlen - 1; *trunc set then).  Returns the byte
 * after the closing quote, or NULL when malformed.
 */
static const char *quoted(const char *s, char *out, size_t outlen, int *trunc)
{
	size_t n = 0;

	*trunc = 0;
	for (s++;; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			break;
		if (c == '\\') {
			c = (unsigned char)*++s;
			if (c != '\t' && (c < 0x20 || c == 0x7F))
				return NULL; /* the NUL at the end included */
		} else if (c != '\t' && (c < 0x20 || c == 0x7F)) {
			return NULL;
		}
		if (n + 1 < outlen)
			out[n++] = (char)c;
		else
			*trunc = 1;
	}
	out[n] = '\0';
	return s + 1;
}

int body_is_json_content_type(const char *ct)
{
	const char *s;
	size_t n;

	if (ct == NULL)
		return 0;
	s = skip_ows(ct);
	n = token_len(s);
	if (!token_is(s, n, "application") || s[n] != '/')
		return 0;
	s += n + 1;
	n = token_len(s);
	if (!token_is(s, n, "json"))
		return 0;
	s += n;
	/* *( OWS ";" OWS [ parameter ] ) OWS */
	for (;;) {
		const char *name;
		size_t nlen;
		char value[32];
		int trunc = 0;

		s = skip_ows(s);
		if (*s == '\0')
			return 1;
		if (*s != ';')
			return 0;
		s = skip_ows(s + 1);
		if (*s == ';' || *s == '\0')
			continue;
		name = s;
		nlen = token_len(s);
		if (nlen == 0 || s[nlen] != '=')
			return 0;
		s += nlen + 1;
		if (*s == '"') {
			if ((s = quoted(s, value, sizeof(value), &trunc)) == NULL)
				return 0;
		} else {
			n = token_len(s);
			if (n == 0)
				return 0;
			trunc = n >= sizeof(value);
			if (!trunc) {
				memcpy(value, s, n);
				value[n] = '\0';
			}
			s += n;
		}
		if (token_is(name, nlen, "charset") &&
		    (trunc || strcasecmp(value, "utf-8") != 0))
			return 0;
	}
}

/* ---- reading the body ---- */

/*
 * What Content-Length says: 0 no body (absent, empty or zero), 1 a body of
 * at most `max` bytes, 2 more than `max`, -1 malformed.
 */
static int content_length(const char *cl, size_t max)
{
	size_t v = 0;
	int nonzero = 0;

	if (cl == NULL || *cl == '\0')
		return 0;
	for (const char *p = cl; *p != '\0'; p++) {
		if (!is_digit((unsigned char)*p))
			return -1;
	}
	for (const char *p = cl; *p != '\0'; p++) {
		size_t d = (size_t)(*p - '0');

		if (d != 0)
			nonzero = 1;
		if (d > max || v > (max - d) / 10)
			return 2; /* over max, and maybe past SIZE_MAX too */
		v = v * 10 + d;
	}
	return nonzero ? 1 : 0;
}

enum body_result body_read_json(struct request *req, size_t max_bytes)
{
	switch (content_length(req_header(req, "Content-Length"), max_bytes)) {
	case 0:
		return BODY_JSON_MISSING;
	case 2:
		return BODY_JSON_TOO_LARGE;
	case -1:
		return BODY_JSON_INVALID;
	default:
		break;
	}
	/* Decided before reading: a 415 never needs the body. */
	if (!body_is_json_content_type(req_header(req, "Content-Type")))
		return BODY_JSON_MEDIA;
	switch (req_read_body(req, max_bytes)) {
	case BODY_OK:
		break;
	case BODY_EMPTY:
		return BODY_JSON_MISSING;
	case BODY_TOO_LARGE:
		return BODY_JSON_TOO_LARGE;
	case BODY_ERROR:
	default:
		return BODY_JSON_INVALID;
	}
	if (req->body_len > max_bytes) /* read earlier with a larger limit */
		return BODY_JSON_TOO_LARGE;
	if (!body_json_valid(req->body, req->body_len))
		return BODY_JSON_INVALID;
	return BODY_JSON_OK;
}

size_t body_compact(const char *in, size_t len, char *out)
{
	size_t n = 0;
	int in_string = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = in[i];

		if (in_string) {
			out[n++] = ch;
			if (ch == '\\' && i + 1 < len)
				out[n++] = in[++i];
			else if (ch == '"')
				in_string = 0;
		} else if (ch == '"') {
			in_string = 1;
			out[n++] = ch;
		} else if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
			out[n++] = ch;
		}
	}
	return n;
}

enum body_result body_parse_json(struct request *req, size_t max_bytes, int want_object,
    cJSON **out)
{
	const char *end = NULL;
	cJSON *json;
	enum body_result r;

	*out = NULL;
	if ((r = body_read_json(req, max_bytes)) != BODY_JSON_OK)
		return r;
	/*
	 * The length includes the NUL that req_read_body() puts after the body:
	 * with require_null_terminated, cJSON wants to see that NUL inside the
	 * buffer.  The validator has already refused any NUL in the body itself.
	 */
	json = cJSON_ParseWithLengthOpts(req->body, req->body_len + 1, &end, 1);
	if (json == NULL)
		return BODY_JSON_INVALID;
	if (want_object && !cJSON_IsObject(json)) {
		cJSON_Delete(json);
		return BODY_JSON_NOT_OBJECT;
	}
	*out = json;
	return BODY_JSON_OK;
}

void body_reply_error(struct ctx *c, enum body_result r)
{
	cJSON *fields;

	switch (r) {
	case BODY_JSON_OK:
		return;
	case BODY_JSON_MEDIA:
		resp_error(c->resp, c->req, 415, "unsupported_media_type",
		    "the body must be sent as Content-Type: application/json", NULL);
		return;
	case BODY_JSON_TOO_LARGE:
		resp_error(c->resp, c->req, 413, "payload_too_large",
		    "the body is larger than the server accepts", NULL);
		return;
	case BODY_JSON_NOT_OBJECT:
		fields = cJSON_CreateObject();
		if (fields != NULL && cJSON_AddStringToObject(fields, "body", "invalid_type") == NULL) {
			cJSON_Delete(fields);
			fields = NULL;
		}
		if (fields == NULL) {
			resp_error(c->resp, c->req, 500, "internal_error", "internal error", NULL);
			return;
		}
		resp_error(c->resp, c->req, 422, "validation_failed",
		    "the body must be a JSON object", fields);
		return;
	case BODY_JSON_MISSING:
		resp_error(c->resp, c->req, 400, "invalid_json", "the request needs a JSON body", NULL);
		return;
	case BODY_JSON_INVALID:
	default:
		resp_error(c->resp, c->req, 400, "invalid_json", "the body is not valid JSON", NULL);
		return;
	}
}

/*
 * Decodes the string starting at the quote *p into `o` (room for the raw
 * length is enough: no escape grows); returns its decoded length and moves
 * *p past the closing quote.  The input was validated, so it is well-formed.
 */
static size_t decode_string(const unsigned char **p, const unsigned char *end, unsigned char *o)
{
	const unsigned char *s = *p + 1;
	size_t n = 0;

	while (s < end && *s != '"') {
		if (*s != '\\') {
			o[n++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'b': o[n++] = '\b'; s++; break;
		case 'f': o[n++] = '\f'; s++; break;
		case 'n': o[n++] = '\n'; s++; break;
		case 'r': o[n++] = '\r'; s++; break;
		case 't': o[n++] = '\t'; s++; break;
		case 'u': {
			unsigned long cp = (unsigned long)hex4(s + 1);

			s += 5;
			if (cp >= 0xd800 && cp <= 0xdbff && s + 6 <= end && s[0] == '\\' && s[1] == 'u') {
				unsigned long lo = (unsigned long)hex4(s + 2);

				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
			n += utf8_encode((uint32_t)cp, o + n);
			break;
		}
		default: o[n++] = *s++; break; /* \" \\ \/ */
		}
	}
	*p = s + 1;
	return n;
}

/* Moves *p past one JSON value (validated input). */
static void skip_value(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *s = *p;
	int depth = 0;

	do {
		while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
			s++;
		if (s >= end)
			break;
		if (*s == '"') {
			for (s++; s < end && *s != '"'; s++)
				if (*s == '\\')
					s++;
			s++;
		} else if (*s == '{' || *s == '[') {
			depth++;
			s++;
		} else if (*s == '}' || *s == ']') {
			depth--;
			s++;
		} else if (*s == ',' || *s == ':') {
			s++;
		} else {
			while (s < end && *s != ',' && *s != '}' && *s != ']' && *s != ' ' &&
			    *s != '\t' && *s != '\n' && *s != '\r')
				s++;
		}
	} while (depth > 0 && s < end);
	*p = s;
}

static void skip_blank(const unsigned char **p, const unsigned char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r'))
		(*p)++;
}

int body_members(const char *body, size_t len,
    int (*fn)(const struct body_member *m, void *arg), void *arg)
{
	const unsigned char *p = (const unsigned char *)body, *end;
	unsigned char *buf;
	struct body_member m;

	if (!body_json_valid(body, len))
		return 0;
	end = p + len;
	skip_blank(&p, end);
	if (*p != '{')
		return 0;
	/* A decoded string is shorter than its quoted form: name + value fit in len + 2. */
	if ((buf = malloc(len + 2)) == NULL)
		return -1;
	p++;
	for (;;) {
		skip_blank(&p, end);
		if (p >= end || *p != '"')
			break; /* the closing brace of the object */
		m.name = (const char *)buf;
		m.name_len = decode_string(&p, end, buf);
		buf[m.name_len] = '\0';
		skip_blank(&p, end);
		p++; /* ':' */
		skip_blank(&p, end);
		m.is_string = *p == '"';
		m.value = NULL;
		m.value_len = 0;
		if (m.is_string) {
			unsigned char *v = buf + m.name_len + 1;

			m.value_len = decode_string(&p, end, v);
			v[m.value_len] = '\0';
			m.value = (const char *)v;
		} else {
			skip_value(&p, end);
		}
		if (fn(&m, arg) != 0)
			break;
		skip_blank(&p, end);
		if (p >= end || *p != ',')
			break;
		p++;
	}
	explicit_bzero(buf, len + 2);
	free(buf);
	return 1;
}
