/*
 * redis_script.c - see redis_script.h.
 */
#include "redis_script.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static const char *sha_of(struct redis_script *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (s->sha[0] == '\0' &&
	    EVP_Digest(s->source, strlen(s->source), md, &n, EVP_sha1(), NULL) == 1 && n == 20)
		for (unsigned int i = 0; i < n; i++)
			snprintf(s->sha + 2 * i, 3, "%02x", md[i]);
	return s->sha[0] != '\0' ? s->sha : NULL;
}

/* Builds argv/lens for EVAL or EVALSHA; returns argc or -1. */
static int build(const char *verb, const char *body, int nkeys, int nargs, const char **args,
    const size_t *lens, const char **argv, size_t *argl, char *nk)
{
	if (body == NULL || nargs < 0 || nargs > REDIS_SCRIPT_ARGS_MAX || nkeys > nargs)
		return -1;
	snprintf(nk, 12, "%d", nkeys);
	argv[0] = verb;
	argv[1] = body;
	argv[2] = nk;
	argl[0] = strlen(verb);
	argl[1] = strlen(body);
	argl[2] = strlen(nk);
	for (int i = 0; i < nargs; i++) {
		argv[3 + i] = args[i];
		argl[3 + i] = lens != NULL ? lens[i] : strlen(args[i]);
	}
	return 3 + nargs;
}

int redis_script_append(struct redis *r, struct redis_pipe *p, struct redis_script *s, int nkeys,
    int nargs, const char **args, const size_t *lens)
{
	const char *argv[3 + REDIS_SCRIPT_ARGS_MAX];
	size_t argl[3 + REDIS_SCRIPT_ARGS_MAX];
	char nk[12];
	int argc = build("EVALSHA", sha_of(s), nkeys, nargs, args, lens, argv, argl, nk);

	return argc < 0 ? -1 : redis_pipe_append(r, p, argc, argv, argl);
}

/* EVALSHA, or straight EVAL when the server is known not to have the script. */
static redisReply *run(struct redis *r, struct redis_script *s, int nkeys, int nargs,
    const char **args, const size_t *lens, int eval_first)
{
	const char *argv[3 + REDIS_SCRIPT_ARGS_MAX];
	size_t argl[3 + REDIS_SCRIPT_ARGS_MAX];
	char nk[12];
	int argc = build("EVALSHA", sha_of(s), nkeys, nargs, args, lens, argv, argl, nk);
	redisReply *rep = NULL;

	if (argc < 0)
		return NULL;
	if (!eval_first)
		rep = redis_command_argv(r, argc, argv, argl);
	if (eval_first ||
	    (rep != NULL && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0)) {
		freeReplyObject(rep);
		argv[0] = "EVAL";
		argl[0] = 4;
		argv[1] = s->source;
		argl[1] = strlen(s->source);
		rep = redis_command_argv(r, argc, argv, argl);
	}
	return rep;
}

redisReply *redis_script_run(struct redis *r, struct redis_script *s, int nkeys, int nargs,
    const char **args, const size_t *lens)
{
	return run(r, s, nkeys, nargs, args, lens, 0);
}

const redisReply *redis_script_reply(struct redis *r, struct redis_pipe *p, int index,
    struct redis_script *s, int nkeys, int nargs, const char **args, const size_t *lens,
    redisReply **owned)
{
	const redisReply *rep;

	*owned = NULL;
	if (index < 0 || redis_pipe_flush(r, p) != 0)
		return NULL;
	rep = redis_pipe_reply(p, index);
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
		*owned = run(r, s, nkeys, nargs, args, lens, 1);
		return *owned;
	}
	return rep;
}
