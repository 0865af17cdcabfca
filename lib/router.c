/*
 * router.c - see router.h.
 */
#include "router.h"

#include <string.h>

/* Matches `path` against `tmpl`; sets the parameter span when there is one. */
static int template_matches(const char *tmpl, const char *path, const char **param,
    size_t *param_len)
{
	const char *brace = strchr(tmpl, '{');
	size_t fixed, rest;

	*param = NULL;
	*param_len = 0;
	if (brace == NULL)
		return strcmp(tmpl, path) == 0;
	fixed = (size_t)(brace - tmpl);
	if (strncmp(tmpl, path, fixed) != 0)
		return 0;
	rest = strlen(path + fixed);
	if (rest == 0 || memchr(path + fixed, '/', rest) != NULL)
		return 0;
	*param = path + fixed;
	*param_len = rest;
	return 1;
}

static void allow_add(char *allow, const char *method)
{
	size_t len = strlen(allow);

	if (strstr(allow, method) != NULL)
		return;
	if (len + strlen(method) + 3 > ROUTE_ALLOW_MAX)
		return;
	if (len > 0)
		strcat(allow, ", ");
	strcat(allow, method);
}

enum route_result route_match(const struct route *routes, size_t n, const char *method,
    const char *path, struct route_match *m)
{
	int path_known = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		const char *param;
		size_t param_len;

		if (!template_matches(routes[i].template, path, &param, &param_len))
			continue;
		if (!path_known) {
			m->template = routes[i].template;
			path_known = 1;
		}
		if (strcmp(routes[i].method, method) == 0 || strcmp(routes[i].method, "*") == 0 ||
		    (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
			m->route = &routes[i];
			m->template = routes[i].template;
			m->param = param;
			m->param_len = param_len;
			return ROUTE_FOUND;
		}
		allow_add(m->allow, routes[i].method);
		if (strcmp(routes[i].method, "GET") == 0)
			allow_add(m->allow, "HEAD");
	}
	return path_known ? ROUTE_METHOD_NOT_ALLOWED : ROUTE_NOT_FOUND;
}

int route_key_add(struct route_keys *k, const char *key)
{
	size_t len = strlen(key);

	if (k->n < 0 || k->n >= ROUTE_KEYS_MAX || len >= ROUTE_KEY_LEN)
		return -1;
	memcpy(k->key[k->n], key, len + 1);
	k->n++;
	return 0;
}
