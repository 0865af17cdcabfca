/*
 * db.c - see db.h.
 */
#include "db.h"

#include "crypto.h"
#include "log.h"
#include "metrics.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int db_init(struct db *db, const char *url, const char *app_name)
{
	memset(db, 0, sizeof(*db));
	db->url = strdup(url);
	db->app_name = strdup(app_name);
	if (db->url == NULL || db->app_name == NULL) {
		db_close(db);
		return -1;
	}
	return 0;
}

static void set_state(struct db *db, int down)
{
	if (down) {
		metrics_backend_error(METRICS_POSTGRES);
		backoff_fail(&db->backoff, "postgres", DB_RETRY_MS);
	} else {
		backoff_ok(&db->backoff, "postgres");
	}
}

static void drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
}

PGconn *db_conn(struct db *db)
{
	/* Server-side settings ride on the startup packet: no extra round trip. */
	static const char options[] = "-c statement_timeout=" DB_STATEMENT_TIMEOUT_MS
				      " -c idle_in_transaction_session_timeout=10000";
	const char *keys[] = { "connect_timeout", "keepalives", "keepalives_idle",
		"application_name", "options", "dbname", NULL };
	const char *vals[] = { DB_CONNECT_TIMEOUT_S, "1", "30", db->app_name, options,
		db->url, NULL };

	if (db->conn != NULL) {
		PGTransactionStatusType ts;

		struct pollfd pfd = { .fd = PQsocket(db->conn), .events = POLLIN };

		/*
		 * Between our commands the server has nothing to say: anything
		 * readable is its goodbye (a restart sends 57P01, then closes),
		 * so the connection is replaced before it fails a request.
		 * Inside a transaction (ours, between BEGIN and COMMIT) the
		 * connection is kept: dropping it would drop the transaction.
		 */
		if (PQstatus(db->conn) == CONNECTION_OK && pfd.fd >= 0 && poll(&pfd, 1, 0) == 0 &&
		    ((ts = PQtransactionStatus(db->conn)) == PQTRANS_IDLE || ts == PQTRANS_INTRANS ||
			ts == PQTRANS_INERROR))
			return db->conn;
		drop(db);
	}
	if (!backoff_may_try(&db->backoff))
		return NULL;
	/* Later keys win, so anything in the URL overrides our defaults. */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		if (db->conn != NULL && log_enabled(LOG_DEBUG)) {
			cJSON *f = cJSON_CreateObject();

			/* libpq's message names host and port, never the password. */
			cJSON_AddStringToObject(f, "error", PQerrorMessage(db->conn));
			log_event(LOG_DEBUG, "postgres connect failed", f);
		}
		drop(db);
		set_state(db, 1);
		return NULL;
	}
	set_state(db, 0);
	db->conns++;
	return db->conn;
}

/* Connection-class failures mean "down", not "the query was wrong". */
static int is_connection_failure(PGconn *conn, const char *sqlstate)
{
	if (PQstatus(conn) != CONNECTION_OK)
		return 1;
	if (sqlstate == NULL)
		return 1;
	return strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
	    strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0 ||
	    strcmp(sqlstate, "53300") == 0;
}

/* Classifies the result `r` of a command on `conn`; see db_exec. */
static enum db_status finish(struct db *db, PGconn *conn, PGresult *r, PGresult **res,
    char sqlstate[6])
{
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		*res = r;
		return DB_OK;
	}
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (is_connection_failure(conn, state)) {
		/*
		 * The connection broke under a command: drop it.  The back-off
		 * (set_state) is for failed connects only, so the next command
		 * tries a fresh connection at once.
		 */
		PQclear(r);
		drop(db);
		metrics_backend_error(METRICS_POSTGRES);
		return DB_DOWN;
	}
	if (state != NULL && strcmp(state, "57014") == 0) {
		/* statement_timeout: the server is too busy to answer in time. */
		PQclear(r);
		metrics_backend_error(METRICS_POSTGRES);
		log_msg(LOG_WARN, "postgres statement timed out");
		return DB_DOWN;
	}
	if (sqlstate != NULL && state != NULL)
		snprintf(sqlstate, 6, "%.5s", state);
	{
		cJSON *f = cJSON_CreateObject();

		/* The SQLSTATE and the primary message; never the parameters. */
		cJSON_AddStringToObject(f, "sqlstate", state != NULL ? state : "");
		cJSON_AddStringToObject(f, "error",
		    r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : "no result");
		log_event(LOG_WARN, "postgres command failed", f);
	}
	PQclear(r);
	metrics_backend_error(METRICS_POSTGRES);
	return DB_ERROR;
}

enum db_status db_exec(struct db *db, const char *sql, int nparams, const char *const *values,
    PGresult **res, char sqlstate[6])
{
	PGconn *conn = db_conn(db);

	*res = NULL;
	if (sqlstate != NULL)
		sqlstate[0] = '\0';
	if (conn == NULL)
		return DB_DOWN;
	return finish(db, conn, PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0), res,
	    sqlstate);
}

/*
 * 1 when `r` failed with a SQLSTATE that says named statements do not work
 * here (see db_exec_stmt); it is then freed.
 */
static int named_unusable(PGresult *r)
{
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (state == NULL || (strcmp(state, "26000") != 0 && strcmp(state, "42P05") != 0 &&
				 strcmp(state, "0A000") != 0))
		return 0;
	PQclear(r);
	return 1;
}

/* From now on this process sends unnamed statements only; logged once. */
static void give_up_named(struct db *db, struct db_stmt *stmt)
{
	cJSON *f = cJSON_CreateObject();

	db->unnamed_only = 1;
	stmt->conn = 0;
	cJSON_AddStringToObject(f, "statement", stmt->prepared);
	log_event(LOG_INFO, "postgres named statements unusable here; unnamed from now on", f);
}

/* stmt->prepared: its name and the FNV-1a hash of its SQL. */
static void stmt_name(struct db_stmt *stmt)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)stmt->sql; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	snprintf(stmt->prepared, sizeof(stmt->prepared), "%.40s_%016llx", stmt->name, h);
}

enum db_status db_exec_stmt(struct db *db, struct db_stmt *stmt, const char *const *values,
    PGresult **res, char sqlstate[6])
{
	PGconn *conn = db_conn(db);
	PGresult *r;

	*res = NULL;
	if (sqlstate != NULL)
		sqlstate[0] = '\0';
	if (conn == NULL)
		return DB_DOWN;
	/* Prepared outside transactions only: a failed PREPARE would abort one. */
	if (db->unnamed_only || PQtransactionStatus(conn) != PQTRANS_IDLE)
		return db_exec(db, stmt->sql, stmt->nparams, values, res, sqlstate);
	if (stmt->prepared[0] == '\0')
		stmt_name(stmt);
	if (stmt->conn != db->conns) {
		r = PQprepare(conn, stmt->prepared, stmt->sql, stmt->nparams, NULL);
		if (r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK) {
			PQclear(r);
			stmt->conn = db->conns;
		} else if (named_unusable(r)) {
			give_up_named(db, stmt);
			return db_exec(db, stmt->sql, stmt->nparams, values, res, sqlstate);
		} else {
			return finish(db, conn, r, res, sqlstate);
		}
	}
	r = PQexecPrepared(conn, stmt->prepared, stmt->nparams, values, NULL, NULL, 0);
	if (named_unusable(r)) {
		/* Refused before it ran: run it once, unnamed. */
		give_up_named(db, stmt);
		return db_exec(db, stmt->sql, stmt->nparams, values, res, sqlstate);
	}
	return finish(db, conn, r, res, sqlstate);
}

void db_bytea_param(const unsigned char *in, size_t len, char *out)
{
	out[0] = '\\';
	out[1] = 'x';
	crypto_hex(in, len, out + 2);
}

enum db_status db_command(struct db *db, const char *sql)
{
	PGresult *r;
	enum db_status st = db_exec(db, sql, 0, NULL, &r, NULL);

	if (st == DB_OK)
		PQclear(r);
	return st;
}

void db_rollback(struct db *db)
{
	if (db->conn != NULL && PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		db_command(db, "ROLLBACK");
}

void db_end_request(struct db *db)
{
	PGresult *r;

	/* A handler that left a transaction open (a bug) must not leak it into the next request. */
	if (db->conn != NULL && PQtransactionStatus(db->conn) != PQTRANS_IDLE) {
		log_msg(LOG_ERROR, "a transaction was left open; rolled back");
		r = PQexec(db->conn, "ROLLBACK");
		PQclear(r);
		if (PQtransactionStatus(db->conn) != PQTRANS_IDLE)
			drop(db);
	}
}

int db_ping(struct db *db)
{
	PGresult *r;

	if (db_exec(db, "SELECT 1", 0, NULL, &r, NULL) != DB_OK)
		return 0;
	PQclear(r);
	return 1;
}

void db_close(struct db *db)
{
	drop(db);
	if (db->url != NULL)
		explicit_bzero(db->url, strlen(db->url));
	free(db->url);
	free(db->app_name);
	memset(db, 0, sizeof(*db));
}
