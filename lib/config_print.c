/*
 * config_print.c - the configuration table on the command line: every
 * responder's --list-config, --print-config and --check-config=stack (see
 * config.h).
 *
 * The table in config.c is the one list of settings: the scripts, the test
 * suite and the static checks read it from here instead of keeping lists
 * of their own, and --print-config=raw lets scripts/lib/config.sh take its
 * values from config.c's `.env` parser instead of a second one in bash.
 * Output is tab separated, one key a line, in the table's order; no value
 * printed here holds a tab or a newline.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum print_mode { PRINT_MASKED, PRINT_RAW };

static int is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if (is_control((unsigned char)*s))
			return 1;
	return 0;
}

/* `s` with control bytes as '?', for a line meant to be read by a person. */
static void put_shown(const char *s)
{
	for (; *s != '\0'; s++)
		putchar(is_control((unsigned char)*s) ? '?' : *s);
}

/* The flags column: comma-separated words, or "-". */
static void put_flags(const struct cfg_key *k)
{
	static const struct {
		unsigned flag;
		const char *word;
	} words[] = {
		{ CFG_KEY_REQUIRED, "required" }, { CFG_KEY_SECRET, "secret" },
		{ CFG_KEY_STACK, "stack" }, { CFG_KEY_COMPOSE, "compose" },
	};
	int n = 0;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (k->flags & words[i].flag)
			printf("%s%s", n++ > 0 ? "," : "", words[i].word);
	if (k->twin != NULL)
		printf("%sfile", n++ > 0 ? "," : "");
	if (n == 0)
		putchar('-');
}

static void list_one(const struct cfg_key *k)
{
	printf("%s\t%s\t", k->name, k->type);
	if (strcmp(k->type, "int") == 0) {
		printf("%ld..%ld", k->min, k->max);
	} else if (k->choices != NULL) {
		for (int i = 0; k->choices[i] != NULL; i++)
			printf("%s%s", i > 0 ? "|" : "", k->choices[i]);
	} else if (strcmp(k->type, "rate") == 0) {
		fputs("<requests>/<seconds>|0", stdout);
	}
	printf("\t%s\t", k->def != NULL ? k->def : "");
	put_flags(k);
	printf("\t%s\n", k->desc);
	if (k->twin != NULL)
		printf("%s\tfile\t\t\ttwin\ta file holding %s (Docker and Kubernetes secrets);"
		       " not together with %s\n",
		    k->twin, k->name, k->name);
}

static void list_keys(void)
{
	struct cfg_key k;

	for (size_t i = 0; cfg_key_at(i, &k); i++)
		list_one(&k);
}

/* A URL with the password of its userinfo and any password= parameter masked. */
static void put_url_masked(const char *v)
{
	const char *auth = strstr(v, "://"), *end, *at = NULL, *colon, *q;

	if (auth == NULL) {
		put_shown(v);
		return;
	}
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (colon != NULL) {
		printf("%.*s****", (int)(colon + 1 - v), v);
		v = at;
	}
	q = strstr(v, "password=");
	if (q != NULL) {
		printf("%.*s", (int)(q + 9 - v), v);
		fputs("****", stdout);
		return;
	}
	put_shown(v);
}

/* One NAME <tab> SOURCE <tab> VALUE line as a person reads it. */
static void put_masked(const char *name, const char *source, const char *value, int secret,
    int url)
{
	printf("%s\t%s\t", name, source);
	if (secret && value[0] != '\0')
		printf("<hidden: %zu bytes>", strlen(value));
	else if (url)
		put_url_masked(value);
	else
		put_shown(value);
	putchar('\n');
}

/* One line as the scripts read it; -1 (message in `err`) for a value no line can hold. */
static int put_raw(const char *name, const char *source, const char *value, char *err,
    size_t errlen)
{
	if (has_control(value)) {
		snprintf(err, errlen, "%s (from %s): holds a control character", name, source);
		return -1;
	}
	printf("%s\t%s\t%s\n", name, source, value);
	return 0;
}

static int print_key(const struct cfg_env *e, const struct cfg_key *k, enum print_mode mode,
    char *err, size_t errlen)
{
	int secret = (k->flags & CFG_KEY_SECRET) != 0, url = strcmp(k->type, "url") == 0;
	const char *source, *v;

	if (mode == PRINT_RAW) {
		v = cfg_env_get(e, k->name, &source);
		if (v == NULL && (v = k->def) != NULL)
			source = "default";
		if (v != NULL && put_raw(k->name, source, v, err, errlen) != 0)
			return -1;
		if (k->twin != NULL && (v = cfg_env_get(e, k->twin, &source)) != NULL)
			return put_raw(k->twin, source, v, err, errlen);
		return 0;
	} else {
		char src[128], *value;
		int r = cfg_env_value(e, k->name, &value, src, sizeof(src), err, errlen);

		if (r < 0)
			return -1;
		if (r == 1)
			put_masked(k->name, src, value, secret, url);
		else if (k->def != NULL)
			put_masked(k->name, "default", k->def, secret, url);
		else
			put_masked(k->name, "unset", "", 0, 0);
		cfg_value_free(value);
		if (k->twin != NULL) {
			v = cfg_env_get(e, k->twin, &source);
			put_masked(k->twin, v != NULL ? source : "unset", v != NULL ? v : "", 0, 0);
		}
		return 0;
	}
}

/* 1 when `key` is a row of the table or the twin of one. */
static int is_known(const char *key)
{
	struct cfg_key k;

	for (size_t i = 0; cfg_key_at(i, &k); i++)
		if (strcmp(k.name, key) == 0 || (k.twin != NULL && strcmp(k.twin, key) == 0))
			return 1;
	return 0;
}

/* The keys of the file the table does not have, each once (its last setting). */
static int print_unknown(const struct cfg_env *e, enum print_mode mode, char *err, size_t errlen)
{
	size_t n = cfg_env_size(e);

	for (size_t i = 0; i < n; i++) {
		const char *key, *value, *later, *ignored;
		size_t j;

		cfg_env_pair(e, i, &key, &value);
		for (j = i + 1; j < n; j++) {
			cfg_env_pair(e, j, &later, &ignored);
			if (strcmp(later, key) == 0)
				break;
		}
		if (j < n || is_known(key))
			continue;
		if (mode == PRINT_RAW) {
			if (put_raw(key, "unknown", value, err, errlen) != 0)
				return -1;
		} else {
			put_masked(key, "unknown", value, 1, 0);
		}
	}
	return 0;
}

static int print_values(const char *argv0, enum print_mode mode, char *err, size_t errlen)
{
	char env_file[4096];
	struct cfg_env *e;
	struct cfg_key k;
	int rc = 0;

	if (cfg_default_env_file(argv0, env_file, sizeof(env_file)) != 0) {
		snprintf(err, errlen, "the .env path is too long");
		return -1;
	}
	if (cfg_env_open(env_file, &e, err, errlen) != 0)
		return -1;
	for (size_t i = 0; rc == 0 && cfg_key_at(i, &k); i++)
		rc = print_key(e, &k, mode, err, errlen);
	if (rc == 0)
		rc = print_unknown(e, mode, err, errlen);
	cfg_env_close(e);
	return rc;
}

int cfg_option(const char *arg, const char *argv0, const char *name)
{
	char err[CFG_ERR_MAX];
	int rc;

	if (strcmp(arg, "--list-config") == 0) {
		list_keys();
		rc = 0;
	} else if (strcmp(arg, "--print-config") == 0 || strcmp(arg, "--print-config=raw") == 0) {
		rc = print_values(argv0, arg[14] == '=' ? PRINT_RAW : PRINT_MASKED, err, sizeof(err));
		if (rc != 0) {
			fflush(stdout);
			fprintf(stderr, "%s: configuration error: %s\n", name, err);
			return 2;
		}
	} else if (strcmp(arg, "--check-config=stack") == 0) {
		char env_file[4096];

		if (cfg_default_env_file(argv0, env_file, sizeof(env_file)) != 0)
			snprintf(err, sizeof(err), "the .env path is too long");
		else if (cfg_check_stack(env_file, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "%s: configuration error: %s\n", name, err);
		return 2;
	} else {
		return -1;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the configuration\n", name);
		return 1;
	}
	return 0;
}
