/*
 * etag.c - see etag.h.
 */
#include "etag.h"

#include <stddef.h>

void etag_parse_list(const char *header, int weak, int *present, int *any, int *n, long long *v)
{
	const char *p = header;

	*present = header != NULL;
	*any = 0;
	*n = 0;
	if (header == NULL)
		return;
	while (*p != '\0') {
		const char *start;
		long long version = 0;
		int digits = 0, is_weak = 0;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*') {
			*any = 1;
			p++;
			continue;
		}
		if (p[0] == 'W' && p[1] == '/') {
			is_weak = 1;
			p += 2;
		}
		start = p;
		if (*p == '"') {
			for (p++; *p >= '0' && *p <= '9' && digits < 18; p++, digits++)
				version = version * 10 + (*p - '0');
			if (*p == '"' && digits > 0 && (weak || !is_weak) && *n < ETAG_LIST_MAX)
				v[(*n)++] = version;
		}
		/* Skip the rest of this tag, whatever it is; a bare "W/" at the
		 * end leaves p on the NUL, which must not be stepped over. */
		if (p == start && *p != '\0')
			p++;
		while (*p != '\0' && *p != ',')
			p++;
	}
}
