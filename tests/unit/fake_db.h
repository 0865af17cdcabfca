/*
 * fake_db.h - db_exec() for unit tests, with no PostgreSQL behind it.
 *
 * A test includes the module under test with db_exec renamed, so that its
 * statements come here:
 *
 *	#define db_exec fake_db_exec
 *	#define db_exec_stmt fake_db_exec_stmt
 *	#include "kv_store.c"
 *	#undef db_exec
 *	#undef db_exec_stmt
 *	#include "fake_db.h"
 *
 * Before each call it says what to answer: fake_db_answer(DB_OK, ncols,
 * nrows) and the cells (fake_db.cells[row][col], NULL for SQL NULL), or
 * DB_DOWN / DB_ERROR with fake_db.sqlstate.  The fake keeps the last
 * statement and its parameters (copies) for the test to check, and answers
 * with a result built by libpq on the client side (PQmakeEmptyPGresult,
 * PQsetvalue) that the module must PQclear() - the sanitized build's leak
 * check sees any path that does not.
 */
#ifndef PORTCULLIS_FAKE_DB_H
#define PORTCULLIS_FAKE_DB_H

#include "db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_DB_COLS 6
#define FAKE_DB_ROWS 8
#define FAKE_DB_PARAMS 12

static struct {
	enum db_status status;
	char sqlstate[6];
	int ncols, nrows;
	const char *cells[FAKE_DB_ROWS][FAKE_DB_COLS]; /* NULL: SQL NULL */
	int calls;
	char sql[2048];
	int nparams;
	char params[FAKE_DB_PARAMS][400];
	int param_null[FAKE_DB_PARAMS];
} fake_db;

/* Forgets the last call; the next one answers `st` with `ncols` x `nrows` cells. */
static void fake_db_answer(enum db_status st, int ncols, int nrows)
{
	memset(&fake_db, 0, sizeof(fake_db));
	fake_db.status = st;
	fake_db.ncols = ncols;
	fake_db.nrows = nrows;
}

enum db_status fake_db_exec(struct db *db, const char *sql, int nparams,
    const char *const *values, PGresult **res, char sqlstate[6])
{
	PGresAttDesc attrs[FAKE_DB_COLS];
	PGresult *r;

	(void)db;
	fake_db.calls++;
	snprintf(fake_db.sql, sizeof(fake_db.sql), "%s", sql);
	fake_db.nparams = nparams;
	for (int i = 0; i < nparams && i < FAKE_DB_PARAMS; i++) {
		fake_db.param_null[i] = values[i] == NULL;
		snprintf(fake_db.params[i], sizeof(fake_db.params[i]), "%s",
		    values[i] != NULL ? values[i] : "");
	}
	*res = NULL;
	if (sqlstate != NULL)
		memcpy(sqlstate, fake_db.sqlstate, sizeof(fake_db.sqlstate));
	if (fake_db.status != DB_OK)
		return fake_db.status;
	if ((r = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK)) == NULL)
		abort();
	memset(attrs, 0, sizeof(attrs));
	for (int c = 0; c < fake_db.ncols; c++) {
		attrs[c].name = (char *)"col";
		attrs[c].typid = 25; /* text */
		attrs[c].typlen = -1;
		attrs[c].atttypmod = -1;
	}
	if (!PQsetResultAttrs(r, fake_db.ncols, attrs))
		abort();
	for (int row = 0; row < fake_db.nrows; row++)
		for (int c = 0; c < fake_db.ncols; c++) {
			const char *v = fake_db.cells[row][c];

			if (!PQsetvalue(r, row, c, (char *)v, v != NULL ? (int)strlen(v) : -1))
				abort();
		}
	*res = r;
	return DB_OK;
}

/* db_exec_stmt() for the same tests: the statement's SQL through fake_db_exec. */
enum db_status fake_db_exec_stmt(struct db *db, struct db_stmt *stmt, const char *const *values,
    PGresult **res, char sqlstate[6]);
enum db_status fake_db_exec_stmt(struct db *db, struct db_stmt *stmt, const char *const *values,
    PGresult **res, char sqlstate[6])
{
	return fake_db_exec(db, stmt->sql, stmt->nparams, values, res, sqlstate);
}

#endif
