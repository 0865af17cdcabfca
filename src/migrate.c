/*
 * migrate.c - portcullis-migrate: applies the numbered SQL migrations of
 * sql/ to the database DATABASE_URL names, in order, each once.
 *
 * Each file is `NNN_name.sql`; NNN is its version.  An applied migration is
 * recorded in `schema_migrations` with the SHA-256 of its text, so a file
 * edited after it ran is refused rather than silently diverging.  A database
 * whose schema is newer than the newest file here belongs to newer code:
 * the runner refuses to go on.  A session advisory lock makes concurrent
 * runs (two `make up` at once, several hosts) apply each file exactly once.
 * Everything runs as the database owner; no superuser is needed.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATIONS_MAX 1000
#define MIGRATION_MAX_BYTES (4 * 1024 * 1024)
#define NAME_MAX_LEN 200
/* Any constant works; this one spells "portcullis" in hex-ish. */
#define ADVISORY_LOCK_KEY "7043797213"

struct migration {
	long version;
	char file[NAME_MAX_LEN + 1];
	char checksum[65];
	char *sql;
};

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static int by_version(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* Parses "NNN_name.sql"; returns the version or -1 if the name is not a migration. */
static long parse_name(const char *name)
{
	size_t len = strlen(name), digits = 0;
	long v = 0;

	if (len < 6 || len > NAME_MAX_LEN || strcmp(name + len - 4, ".sql") != 0)
		return -1;
	while (name[digits] >= '0' && name[digits] <= '9' && digits < 9)
		v = v * 10 + (name[digits++] - '0');
	if (digits == 0 || name[digits] != '_')
		return -1;
	for (const char *c = name + digits + 1; c < name + len - 4; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
			return -1;
	return v;
}

static int sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static char *read_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len;

	if (f == NULL)
		return NULL;
	buf = malloc(MIGRATION_MAX_BYTES + 1);
	if (buf == NULL)
		goto fail;
	len = fread(buf, 1, MIGRATION_MAX_BYTES + 1, f);
	if (ferror(f) || len > MIGRATION_MAX_BYTES || memchr(buf, '\0', len) != NULL)
		goto fail;
	buf[len] = '\0';
	fclose(f);
	*len_out = len;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

static void free_migrations(struct migration *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].sql);
	free(m);
}

/* Loads every migration of `dir`, sorted; -1 with a message on any problem. */
static int load_dir(const char *dir, struct migration **out, size_t *nout)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct migration *m;
	size_t n = 0;

	if (d == NULL) {
		fprintf(stderr, "portcullis-migrate: cannot open %s: %s\n", dir, strerror(errno));
		return -1;
	}
	m = calloc(MIGRATIONS_MAX, sizeof(*m));
	if (m == NULL) {
		closedir(d);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		size_t len;
		long v;

		if (e->d_name[0] == '.')
			continue;
		v = parse_name(e->d_name);
		if (v < 0) {
			if (strlen(e->d_name) > 4 && strcmp(e->d_name + strlen(e->d_name) - 4, ".sql") == 0) {
				fprintf(stderr, "portcullis-migrate: %s/%s: not named NNN_name.sql\n", dir, e->d_name);
				goto fail;
			}
			continue;
		}
		if (n == MIGRATIONS_MAX) {
			fprintf(stderr, "portcullis-migrate: more than %d migrations\n", MIGRATIONS_MAX);
			goto fail;
		}
		snprintf(m[n].file, sizeof(m[n].file), "%s", e->d_name);
		m[n].version = v;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    (m[n].sql = read_file(path, &len)) == NULL) {
			fprintf(stderr, "portcullis-migrate: cannot read %s/%s (or larger than %d bytes)\n",
			    dir, e->d_name, MIGRATION_MAX_BYTES);
			goto fail;
		}
		if (sha256_hex(m[n].sql, len, m[n].checksum) != 0)
			goto fail;
		n++;
	}
	closedir(d);
	d = NULL;
	qsort(m, n, sizeof(*m), by_version);
	for (size_t i = 1; i < n; i++) {
		if (m[i].version == m[i - 1].version) {
			fprintf(stderr, "portcullis-migrate: %s and %s share version %ld\n",
			    m[i - 1].file, m[i].file, m[i].version);
			goto fail;
		}
	}
	*out = m;
	*nout = n;
	return 0;
fail:
	if (d != NULL)
		closedir(d);
	free_migrations(m, n + 1 <= MIGRATIONS_MAX ? n + 1 : n);
	return -1;
}

static const struct migration *find(const struct migration *m, size_t n, long version)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].version == version)
			return &m[i];
	return NULL;
}

/* Runs a command that returns no rows; prints the server's message on failure. */
static int exec_ok(PGconn *conn, const char *sql, const char *what)
{
	PGresult *r = PQexec(conn, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "portcullis-migrate: %s failed: %s", what, PQerrorMessage(conn));
	PQclear(r);
	return ok ? 0 : -1;
}

static int apply(PGconn *conn, const struct migration *m)
{
	char version[24];
	const char *params[3] = { version, m->file, m->checksum };
	PGresult *r;

	snprintf(version, sizeof(version), "%ld", m->version);
	if (exec_ok(conn, "BEGIN", "BEGIN") != 0)
		return -1;
	r = PQexec(conn, m->sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "portcullis-migrate: %s failed: %s", m->file, PQerrorMessage(conn));
		PQclear(r);
		exec_ok(conn, "ROLLBACK", "ROLLBACK");
		return -1;
	}
	PQclear(r);
	r = PQexecParams(conn,
	    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "portcullis-migrate: recording %s failed: %s", m->file, PQerrorMessage(conn));
		PQclear(r);
		exec_ok(conn, "ROLLBACK", "ROLLBACK");
		return -1;
	}
	PQclear(r);
	if (exec_ok(conn, "COMMIT", "COMMIT") != 0)
		return -1;
	printf("portcullis-migrate: applied %s\n", m->file);
	return 0;
}

/* Compares the database's record with the files and applies what is pending. */
static int migrate(PGconn *conn, const struct migration *m, size_t n, int check_only)
{
	PGresult *r;
	long newest_known = n > 0 ? m[n - 1].version : 0, newest_applied = 0;
	int rc = -1, rows, pending = 0;

	if (exec_ok(conn, create_table, "creating schema_migrations") != 0)
		return -1;
	r = PQexec(conn, "SELECT version, name, checksum FROM schema_migrations ORDER BY version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "portcullis-migrate: reading schema_migrations failed: %s",
		    PQerrorMessage(conn));
		goto out;
	}
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		long v = strtol(PQgetvalue(r, i, 0), NULL, 10);
		const struct migration *f = find(m, n, v);

		if (v > newest_applied)
			newest_applied = v;
		if (v > newest_known) {
			fprintf(stderr,
			    "portcullis-migrate: the database schema is at version %ld, newer than this "
			    "code knows (%ld): refusing to start; deploy the newer code\n",
			    v, newest_known);
			goto out;
		}
		if (f == NULL) {
			fprintf(stderr, "portcullis-migrate: applied migration %s is missing from the "
			    "migrations directory\n", PQgetvalue(r, i, 1));
			goto out;
		}
		if (strcmp(f->checksum, PQgetvalue(r, i, 2)) != 0) {
			fprintf(stderr, "portcullis-migrate: %s was changed after it was applied "
			    "(checksum differs); write a new migration instead\n", f->file);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		int applied = 0;

		for (int j = 0; j < rows && !applied; j++)
			applied = strtol(PQgetvalue(r, j, 0), NULL, 10) == m[i].version;
		if (applied)
			continue;
		if (m[i].version < newest_applied) {
			fprintf(stderr, "portcullis-migrate: %s is older than the newest applied "
			    "migration but was never applied; renumber it\n", m[i].file);
			goto out;
		}
		pending++;
		if (!check_only && apply(conn, &m[i]) != 0)
			goto out;
	}
	if (check_only && pending > 0) {
		printf("portcullis-migrate: %d migration(s) pending\n", pending);
		rc = 3;
		goto out;
	}
	printf("portcullis-migrate: schema is up to date (version %ld)\n", newest_known);
	rc = 0;
out:
	PQclear(r);
	return rc;
}

static void usage(void)
{
	fprintf(stderr,
	    "usage: portcullis-migrate [--dir DIR] [--check]\n"
	    "  Applies pending migrations from DIR (default: sql) to DATABASE_URL.\n"
	    "  --check  apply nothing; exit 3 when migrations are pending\n");
}

int main(int argc, char **argv)
{
	const char *dir = "sql";
	char env_file[4096], url[4096], err[CFG_ERR_MAX];
	struct migration *m = NULL;
	size_t n = 0;
	PGconn *conn = NULL;
	int check_only = 0, rc = 1, found;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--check") == 0) {
			check_only = 1;
		} else {
			usage();
			return strcmp(argv[i], "--help") == 0 ? 0 : 1;
		}
	}
	if (cfg_default_env_file(argv[0], env_file, sizeof(env_file)) != 0)
		return 1;
	found = cfg_get_raw(env_file, "DATABASE_URL", url, sizeof(url), err, sizeof(err));
	if (found <= 0) {
		fprintf(stderr, "portcullis-migrate: configuration error: %s\n",
		    found < 0 ? err : "DATABASE_URL: is not set");
		return 2;
	}
	if (load_dir(dir, &m, &n) != 0)
		return 1;
	{
		const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
		const char *vals[] = { "10", "portcullis-migrate", url, NULL };

		conn = PQconnectdbParams(keys, vals, 1);
	}
	explicit_bzero(url, sizeof(url));
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "portcullis-migrate: cannot connect to the database: %s",
		    conn != NULL ? PQerrorMessage(conn) : "out of memory\n");
		goto out;
	}
	if (exec_ok(conn, "SET client_min_messages = warning", "setup") != 0 ||
	    exec_ok(conn, "SELECT pg_advisory_lock(" ADVISORY_LOCK_KEY ")", "taking the lock") != 0)
		goto out;
	rc = migrate(conn, m, n, check_only);
	if (rc < 0)
		rc = 1;
	exec_ok(conn, "SELECT pg_advisory_unlock(" ADVISORY_LOCK_KEY ")", "releasing the lock");
out:
	PQfinish(conn);
	free_migrations(m, n);
	return rc;
}
