/*
 * denylist.c - see denylist.h.
 */
#include "denylist.h"

#include "app.h"
#include "crypto.h"
#include "log.h"
#include "utf8.h"
#include "validate.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <locale.h>
#include <passwdqc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wctype.h>

#define PWQFILTER "/usr/bin/pwqfilter"
#define NORM_MAX (2 * DENY_ENTRY_MAX + 1)

static passwdqc_params_t params;
static int opened;
static int filter_fd = -1; /* held open: lookups go through /proc/self/fd, so a removed file still answers */
static const char *error_reason; /* what passwdqc_check() says when the filter cannot be read */
static locale_t utf8 = (locale_t)0;

/* passwdqc with every rule of its own off: only the filter decides. */
static int set_params(passwdqc_params_t *p, const char *filter, char *err, size_t errlen)
{
	char opt[PATH_MAX + 16];
	const char *argv[7] = { "min=0,0,0,0,0", "max=10000", "passphrase=0", "match=0",
		"similar=permit", "random=0", opt };
	char *reason = NULL;

	if (snprintf(opt, sizeof(opt), "filter=%s", filter) >= (int)sizeof(opt)) {
		snprintf(err, errlen, "the filter's path is too long");
		return -1;
	}
	passwdqc_params_reset(p);
	if (passwdqc_params_parse(p, &reason, 7, argv) != 0) {
		snprintf(err, errlen, "passwdqc: %s", reason != NULL ? reason : "out of memory");
		free(reason);
		return -1;
	}
	return 0;
}

int deny_normalize(const char *in, size_t len, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t start = 0, end = len, n = 0;

	if (utf8 == (locale_t)0)
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r'))
		end--;
	while (start < end && (s[start] == ' ' || s[start] == '\t'))
		start++;
	if (start == end || end - start > DENY_ENTRY_MAX || outlen < 2 * (end - start) + 1)
		return -1;
	for (size_t i = start; i < end;) {
		uint32_t cp;
		wint_t lower;
		size_t k;

		if (s[i] == '\0' || s[i] == '\r' || s[i] == '\n')
			return -1;
		if (s[i] < 0x80) {
			out[n++] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
			i++;
			continue;
		}
		k = utf8_decode(s + i, end - i, &cp);
		if (k == 0) {
			out[n++] = (char)s[i++];
			continue;
		}
		lower = utf8 != (locale_t)0 ? towlower_l((wint_t)cp, utf8) : (wint_t)cp;
		if (lower < 0x80 || lower > 0x10FFFF || (lower >= 0xD800 && lower <= 0xDFFF))
			lower = (wint_t)cp; /* keep the byte length bounded and the text valid */
		n += utf8_encode((uint32_t)lower, (unsigned char *)out + n);
		i += k;
	}
	out[n] = '\0';
	return (int)n;
}

/* 1 listed, 0 not, -1 error, with the passwdqc parameters `p`. */
static int lookup(const passwdqc_params_t *p, const char *password, size_t len)
{
	char norm[NORM_MAX];
	const char *reason;
	int n = deny_normalize(password, len, norm, sizeof(norm));

	if (n < 0)
		return 0; /* no list line can be this */
	reason = passwdqc_check(&p->qc, norm, NULL, NULL);
	explicit_bzero(norm, sizeof(norm));
	if (reason == NULL)
		return 0;
	return error_reason != NULL && strcmp(reason, error_reason) == 0 ? -1 : 1;
}

/* Makes sure `filter` answers (a lookup that is not an error). */
static int probe(const char *filter, passwdqc_params_t *p, char *err, size_t errlen)
{
	if (set_params(p, filter, err, errlen) != 0)
		return -1;
	if (lookup(p, "portcullis", 10) < 0) {
		passwdqc_params_free(p);
		snprintf(err, errlen, "%s is not a readable passwdqc filter", filter);
		return -1;
	}
	return 0;
}

/* Runs pwqfilter --create, feeding it the normalised lines of `in`. */
static int run_pwqfilter(FILE *in, long entries, const char *out, char *err, size_t errlen)
{
	char cap[48], line[DENY_ENTRY_MAX + 2], norm[NORM_MAX];
	int fds[2], status, rc = -1;
	pid_t pid;
	FILE *to;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	/* 2.04% headroom over the entries, as pwqfilter(1) asks, and more. */
	snprintf(cap, sizeof(cap), "--create=%ld", entries + entries / 25 + 64);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (dup2(fds[0], 0) < 0 || devnull < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
			_exit(127);
		execl(PWQFILTER, "pwqfilter", cap, "-o", out, (char *)NULL);
		execlp("pwqfilter", "pwqfilter", cap, "-o", out, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	sigaction(SIGPIPE, &ign, &old);
	to = fdopen(fds[1], "w");
	if (to == NULL)
		close(fds[1]);
	rewind(in);
	while (to != NULL && fgets(line, sizeof(line), in) != NULL) {
		size_t len = strlen(line);
		int n;

		if (len > 0 && line[len - 1] == '\n')
			len--;
		else if (!feof(in)) {
			/* Longer than any password looked up: skip the rest of it. */
			int ch;

			while ((ch = getc(in)) != EOF && ch != '\n')
				;
			continue;
		}
		if ((n = deny_normalize(line, len, norm, sizeof(norm))) < 0)
			continue;
		norm[n] = '\n';
		if (fwrite(norm, 1, (size_t)n + 1, to) != (size_t)n + 1)
			break;
	}
	explicit_bzero(norm, sizeof(norm));
	explicit_bzero(line, sizeof(line));
	if (to != NULL && fclose(to) != 0)
		snprintf(err, errlen, "pwqfilter stopped reading its input");
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGPIPE, &old, NULL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else
		snprintf(err, errlen, "pwqfilter (%s) failed to build the filter", PWQFILTER);
	return rc;
}

/* Entries of the plain list `in`: lines that normalise to something. */
static long count_entries(FILE *in)
{
	char line[DENY_ENTRY_MAX + 2], norm[NORM_MAX];
	long n = 0;

	while (fgets(line, sizeof(line), in) != NULL) {
		size_t len = strlen(line);

		if (len > 0 && line[len - 1] == '\n')
			len--;
		else if (!feof(in)) {
			int ch;

			while ((ch = getc(in)) != EOF && ch != '\n')
				;
			continue;
		}
		if (deny_normalize(line, len, norm, sizeof(norm)) >= 0)
			n++;
	}
	explicit_bzero(norm, sizeof(norm));
	explicit_bzero(line, sizeof(line));
	return ferror(in) ? -1 : n;
}

long deny_build(const char *list, const char *filter, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	FILE *in = fopen(list, "re");
	long entries;
	int fd;

	if (in == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", list, strerror(errno));
		return -1;
	}
	if ((entries = count_entries(in)) < 0) {
		snprintf(err, errlen, "cannot read %s", list);
		fclose(in);
		return -1;
	}
	/* The temporary name is ours (O_EXCL, no symlink) before pwqfilter opens it. */
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", filter, (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "the filter's path is too long");
		fclose(in);
		return -1;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		fclose(in);
		return -1;
	}
	close(fd);
	if (run_pwqfilter(in, entries, tmp, err, errlen) != 0 || rename(tmp, filter) != 0) {
		if (errno != 0 && err[0] == '\0')
			snprintf(err, errlen, "cannot write %s: %s", filter, strerror(errno));
		unlink(tmp);
		fclose(in);
		return -1;
	}
	fclose(in);
	return entries;
}

/* Where the shipped filter is: <directory of the binary>/../DENY_SHIPPED. */
static int shipped_path(const char *argv0, char *out, size_t outlen)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *slash;
	int n;

	if (len > 0)
		exe[len] = '\0';
	else if (snprintf(exe, sizeof(exe), "%s", argv0 != NULL ? argv0 : "") >= (int)sizeof(exe))
		return -1;
	slash = strrchr(exe, '/');
	n = slash == NULL ? snprintf(out, outlen, "../" DENY_SHIPPED)
			  : snprintf(out, outlen, "%.*s/../" DENY_SHIPPED, (int)(slash - exe), exe);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* 1 when `path` is a regular file of ours that nobody else may write. */
static int own_file(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	    (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* The directory of the cache files: /var/tmp (kept across reboots), else /tmp. */
static const char *cache_dir(void)
{
	struct stat st;

	return stat("/var/tmp", &st) == 0 && S_ISDIR(st.st_mode) ? "/var/tmp" : "/tmp";
}

/*
 * The cache file of the filter of the plain list `list` (open as `fd`) into
 * `out`, and its lock into `lock`: one per user and list path, the filter
 * also named after the list's version.
 */
static int cache_path(const char *list, int fd, char *out, char *lock, size_t outlen)
{
	struct stat st;
	char real[PATH_MAX], id[256], hex_path[17], hex_version[17];
	unsigned char h[CRYPTO_SHA256_LEN];
	int n, m;

	if (fstat(fd, &st) != 0 || realpath(list, real) == NULL ||
	    crypto_sha256(real, strlen(real), h) != 0)
		return -1;
	crypto_hex(h, 8, hex_path);
	n = snprintf(id, sizeof(id), "v1:%lu:%lu:%lld:%lld.%09ld", (unsigned long)st.st_dev,
	    (unsigned long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
	    st.st_mtim.tv_nsec);
	if (n < 0 || (size_t)n >= sizeof(id) || crypto_sha256(id, (size_t)n, h) != 0)
		return -1;
	crypto_hex(h, 8, hex_version);
	n = snprintf(out, outlen, "%s/portcullis-denylist-%lu-%s-%s.pwq", cache_dir(),
	    (unsigned long)geteuid(), hex_path, hex_version);
	m = snprintf(lock, outlen, "%s/portcullis-denylist-%lu-%s.lock", cache_dir(),
	    (unsigned long)geteuid(), hex_path);
	return n < 0 || (size_t)n >= outlen || m < 0 || (size_t)m >= outlen ? -1 : 0;
}

/* Removes the filters of earlier versions of the list whose current filter is `keep`. */
static void remove_stale(const char *keep)
{
	char pattern[PATH_MAX];
	const char *dash = strrchr(keep, '-');
	glob_t g;

	if (dash == NULL ||
	    snprintf(pattern, sizeof(pattern), "%.*s-*.pwq", (int)(dash - keep), keep) >= (int)sizeof(pattern) ||
	    glob(pattern, GLOB_NOSORT, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (strcmp(g.gl_pathv[i], keep) != 0 && own_file(g.gl_pathv[i]))
			unlink(g.gl_pathv[i]);
	globfree(&g);
}

/* The filter of plain list `list` into `filter`: the cached one, or built now. */
static int custom_filter(const char *list, char *filter, size_t filterlen, char *err, size_t errlen)
{
	char lock[PATH_MAX];
	int fd = open(list, O_RDONLY | O_CLOEXEC), lockfd = -1, rc = -1;
	long entries;

	if (fd < 0) {
		snprintf(err, errlen, "PASSWORD_DENYLIST: cannot read %s: %s", list, strerror(errno));
		return -1;
	}
	if (filterlen > sizeof(lock) || cache_path(list, fd, filter, lock, filterlen) != 0) {
		snprintf(err, errlen, "PASSWORD_DENYLIST: cannot read %s: %s", list, strerror(errno));
		goto out;
	}
	if (own_file(filter)) {
		rc = 0;
		goto out;
	}
	/* One process builds it; the others wait for it here. */
	lockfd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lockfd < 0 || !own_file(lock) || flock(lockfd, LOCK_EX) != 0) {
		snprintf(err, errlen, "PASSWORD_DENYLIST: cannot lock %s: %s", lock, strerror(errno));
		goto out;
	}
	if (own_file(filter)) {
		rc = 0;
		goto out;
	}
	err[0] = '\0';
	if ((entries = deny_build(list, filter, err, errlen)) < 0) {
		char why[CFG_ERR_MAX];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "PASSWORD_DENYLIST: %s", why);
		goto out;
	}
	remove_stale(filter);
	{
		cJSON *f = cJSON_CreateObject();

		cJSON_AddNumberToObject(f, "entries", (double)entries);
		log_event(LOG_INFO, "password deny list built", f);
	}
	rc = 0;
out:
	if (lockfd >= 0)
		close(lockfd);
	close(fd);
	return rc;
}

/* Opens `path` for good and points `params` at it through /proc/self/fd. */
static int hold_filter(const char *path, char *err, size_t errlen)
{
	char held[64];

	if ((filter_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(held, sizeof(held), "/proc/self/fd/%d", filter_fd);
	if (probe(held, &params, err, errlen) != 0) {
		snprintf(err, errlen, "%s is not a readable passwdqc filter", path);
		return -1;
	}
	return 0;
}

int deny_open(const struct config *cfg, const char *argv0, char *err, size_t errlen)
{
	char filter[PATH_MAX], why[CFG_ERR_MAX];
	passwdqc_params_t none;

	deny_close();
	/* What passwdqc answers for a filter it cannot read: told apart from "listed". */
	if (set_params(&none, "/nonexistent/portcullis.pwq", err, errlen) != 0)
		return -1;
	error_reason = passwdqc_check(&none.qc, "portcullis", NULL, NULL);
	passwdqc_params_free(&none);
	if (cfg->password_denylist != NULL && cfg->password_denylist[0] != '\0') {
		if (custom_filter(cfg->password_denylist, filter, sizeof(filter), err, errlen) != 0)
			return -1;
		if (hold_filter(filter, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "PASSWORD_DENYLIST: %s", why);
			deny_close();
			return -1;
		}
	} else if (shipped_path(argv0, filter, sizeof(filter)) != 0 ||
		   hold_filter(filter, why, sizeof(why)) != 0) {
		snprintf(err, errlen,
		    "PASSWORD_DENYLIST is not set and the shipped list (%s beside the binaries'"
		    " directory) cannot be used; run make", DENY_SHIPPED);
		deny_close();
		return -1;
	}
	opened = 1;
	return 0;
}

int deny_listed(const char *password, size_t len)
{
	if (!opened)
		return -1;
	return lookup(&params, password, len);
}

int deny_reply(struct ctx *c, const char *field, const char *password, size_t len)
{
	char message[96];
	cJSON *fields;

	switch (deny_listed(password, len)) {
	case 0:
		return 0;
	case 1:
		fields = cJSON_CreateObject();
		cJSON_AddStringToObject(fields, field, valid_reason_name(VALID_TOO_COMMON));
		snprintf(message, sizeof(message), "%s is too common", field);
		resp_error(c->resp, c->req, 422, "validation_failed", message, fields);
		return 1;
	default:
		log_msg(LOG_ERROR, "the password deny list cannot be read");
		resp_json(c->resp, c->req, 500, NULL);
		return 1;
	}
}

void deny_close(void)
{
	if (opened)
		passwdqc_params_free(&params);
	opened = 0;
	if (filter_fd >= 0)
		close(filter_fd);
	filter_fd = -1;
}
