/*
 * db.h - the PostgreSQL connection of a responder process (libpq).
 *
 * One connection per process, opened on first use with a connect timeout and
 * a statement timeout.  A broken connection is detected before it is used
 * (PQconsumeInput sees the server's goodbye) and after a failed call, and is
 * then dropped; the next call reconnects.  After a failed connect the
 * process waits DB_RETRY_MS before trying again (backoff.h), so a dead
 * server costs a request nothing but a quick "down".  Callers turn DB_DOWN into
 * 503 service_unavailable; nothing here exits or crashes.
 */
#ifndef PORTCULLIS_DB_H
#define PORTCULLIS_DB_H

#include "backoff.h"

#include <libpq-fe.h>

#define DB_RETRY_MS 500
#define DB_CONNECT_TIMEOUT_S "3"
#define DB_STATEMENT_TIMEOUT_MS "5000"

enum db_status {
	DB_OK,    /* the command ran; the result is the caller's */
	DB_DOWN,  /* no usable connection: answer 503 */
	DB_ERROR, /* the server refused the command (a bug or a constraint) */
};

struct db {
	char *url;
	char *app_name;
	PGconn *conn;
	unsigned long conns;    /* connections opened so far: names the current one */
	int unnamed_only;       /* a named statement failed as through a pooler: no more */
	struct backoff backoff; /* up or down, and when to connect again */
};

/*
 * A statement run often (the data writes): prepared once per connection,
 * then only bound and executed, which spares the server the parsing and
 * planning of each call.  It is prepared as `name` followed by a hash of
 * `sql` (`prepared`, filled on first use), so that two builds whose
 * statements differ never run each other's through a shared server
 * connection.  `conn` is the connection it was prepared on (db.conns; 0 =
 * none).
 */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
	unsigned long conn;
	char prepared[64];
};

/* Prepares `db` for `url`; connects lazily.  Returns 0, or -1 out of memory. */
int db_init(struct db *db, const char *url, const char *app_name);

/* A live connection, connecting if needed; NULL when the server is down. */
PGconn *db_conn(struct db *db);

/*
 * Runs `sql` with text parameters.  On DB_OK `*res` is a result the caller
 * PQclear()s; on other statuses `*res` is NULL.  DB_ERROR results carry the
 * SQLSTATE in `sqlstate` (6 bytes, may be NULL) for constraint handling.
 */
enum db_status db_exec(struct db *db, const char *sql, int nparams, const char *const *values,
    PGresult **res, char sqlstate[6]);

/*
 * As db_exec, with `stmt` prepared on the connection first when it is not
 * yet.  Falls back to db_exec (the unnamed statement) for good in this
 * process when the server does not keep named statements between
 * transactions (PgBouncer before 1.21 in transaction mode: SQLSTATE 26000
 * or 42P05) or cannot reuse the plan (0A000 after a schema change): those
 * errors come before the statement runs, so the fallback runs it once.
 */
enum db_status db_exec_stmt(struct db *db, struct db_stmt *stmt, const char *const *values,
    PGresult **res, char sqlstate[6]);

/* At the end of every request: rolls back a transaction a handler left open. */
void db_end_request(struct db *db);

/*
 * Writes `len` bytes as a bytea text parameter (`\x` + hex) into `out`,
 * which holds 2 * len + 3 bytes.
 */
void db_bytea_param(const unsigned char *in, size_t len, char *out);

/* Runs a parameterless command whose result is not needed (BEGIN, COMMIT). */
enum db_status db_command(struct db *db, const char *sql);

/* Rolls back the current transaction, if the connection still has one. */
void db_rollback(struct db *db);

/* 1 when `SELECT 1` succeeds now, else 0. */
int db_ping(struct db *db);

/* Closes the connection and frees `db`.  Idempotent. */
void db_close(struct db *db);

#endif
