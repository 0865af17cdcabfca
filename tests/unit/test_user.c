/*
 * test_user.c - unit tests of lib/user.c, the users store, without a
 * PostgreSQL server: the public record (user_set, user_json, user_parse)
 * and how each statement's answer becomes a user_result - a taken name,
 * a missing or unusable row, a server that is down.
 *
 * The file includes user.c itself (as lighttpd's src/t does) with db_exec()
 * replaced by fake_db.h's; the sanitized build's leak check covers every
 * path that must PQclear() its result.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

#define db_exec fake_db_exec
#include "user.c"
#undef db_exec

#include "fake_db.h"

#define ID "0b8f3c2e-6a43-4d8e-9a59-2f1c5e7d9a10"
#define AT "2026-01-02T03:04:05Z"
#define HASH "$pc1$12$abcdefghijklmnopqrstuv$ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"

static struct app app;

static void test_record(void)
{
	struct user u, back;
	char long_name[40];
	cJSON *o;
	char *text;

	CHECK(user_set(&u, ID, "alice", AT) == 0);
	CHECK_MSG(user_set(&u, ID, "", AT) == -1 && user_set(&u, NULL, "alice", AT) == -1,
	    "an empty or missing field is refused");
	memset(long_name, 'a', 33);
	long_name[33] = '\0';
	CHECK_MSG(user_set(&u, ID, long_name, AT) == -1, "a 33-byte name does not fit");
	long_name[32] = '\0';
	CHECK_MSG(user_set(&u, ID, long_name, AT) == 0, "a 32-byte one does");

	CHECK(user_set(&u, ID, "alice", AT) == 0);
	o = user_json(&u);
	text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
	CHECK_STR(text, "{\"id\":\"" ID "\",\"username\":\"alice\",\"created_at\":\"" AT "\"}");
	CHECK_MSG(text != NULL && user_parse(text, &back) == 0 && strcmp(back.id, u.id) == 0 &&
		strcmp(back.username, u.username) == 0 && strcmp(back.created_at, u.created_at) == 0,
	    "the cached form parses back to the same user");
	cJSON_free(text);
	cJSON_Delete(o);
	CHECK_MSG(user_parse("{\"id\":\"" ID "\",\"username\":\"alice\"}", &back) == -1,
	    "a cached form without created_at is refused");
	CHECK(user_parse("[1]", &back) == -1 && user_parse("{", &back) == -1);
}

static void test_create(void)
{
	struct user u;

	fake_db_answer(DB_OK, 3, 1);
	fake_db.cells[0][0] = ID;
	fake_db.cells[0][1] = "Alice";
	fake_db.cells[0][2] = AT;
	CHECK(user_create(&app, "Alice", HASH, &u) == USER_OK);
	CHECK(strcmp(u.id, ID) == 0 && strcmp(u.username, "Alice") == 0 && strcmp(u.created_at, AT) == 0);
	CHECK_MSG(strstr(fake_db.sql, "INSERT INTO users") != NULL && fake_db.nparams == 2 &&
		strcmp(fake_db.params[0], "Alice") == 0 && strcmp(fake_db.params[1], HASH) == 0,
	    "one INSERT of the name and the hash");

	fake_db_answer(DB_ERROR, 0, 0);
	memcpy(fake_db.sqlstate, "23505", 6);
	CHECK_MSG(user_create(&app, "alice", HASH, &u) == USER_TAKEN, "a unique violation: taken");
	fake_db_answer(DB_ERROR, 0, 0);
	memcpy(fake_db.sqlstate, "23514", 6);
	CHECK_MSG(user_create(&app, "alice", HASH, &u) == USER_ERROR, "another refusal is an error");
	fake_db_answer(DB_DOWN, 0, 0);
	CHECK(user_create(&app, "alice", HASH, &u) == USER_DOWN);
	fake_db_answer(DB_OK, 3, 1);
	fake_db.cells[0][0] = ID;
	fake_db.cells[0][1] = "alice";
	CHECK_MSG(user_create(&app, "alice", HASH, &u) == USER_ERROR,
	    "a returned row that does not make a user is an error");
}

static void credentials_row(const char *hash, const char *version)
{
	fake_db_answer(DB_OK, 5, 1);
	fake_db.cells[0][0] = ID;
	fake_db.cells[0][1] = "alice";
	fake_db.cells[0][2] = AT;
	fake_db.cells[0][3] = hash;
	fake_db.cells[0][4] = version;
}

static void test_credentials(void)
{
	struct user_credentials cr;
	char long_hash[PW_HASH_MAX + 1];

	credentials_row(HASH, "3");
	CHECK(user_credentials_by_name(&app, "ALICE", &cr) == USER_OK);
	CHECK(strcmp(cr.user.id, ID) == 0 && strcmp(cr.user.username, "alice") == 0);
	CHECK(strcmp(cr.password_hash, HASH) == 0 && strcmp(cr.password_version, "3") == 0);
	CHECK_MSG(strstr(fake_db.sql, "lower(username) = lower($1)") != NULL &&
		strcmp(fake_db.params[0], "ALICE") == 0,
	    "by name: compared case-insensitively");

	credentials_row(HASH, "12");
	CHECK(user_credentials_by_id(&app, ID, &cr) == USER_OK && strcmp(cr.password_version, "12") == 0);
	CHECK_MSG(strstr(fake_db.sql, "WHERE id = $1::uuid") != NULL && strcmp(fake_db.params[0], ID) == 0,
	    "by id: the id is the parameter");

	fake_db_answer(DB_OK, 5, 0);
	CHECK(user_credentials_by_name(&app, "bob", &cr) == USER_NOT_FOUND);
	CHECK_MSG(cr.password_hash[0] == '\0' && cr.user.id[0] == '\0', "nothing is left in `out`");
	fake_db_answer(DB_DOWN, 0, 0);
	CHECK(user_credentials_by_id(&app, ID, &cr) == USER_DOWN);
	fake_db_answer(DB_ERROR, 0, 0);
	CHECK(user_credentials_by_id(&app, ID, &cr) == USER_ERROR);

	memset(long_hash, 'h', PW_HASH_MAX);
	long_hash[PW_HASH_MAX] = '\0';
	credentials_row(long_hash, "1");
	CHECK_MSG(user_credentials_by_name(&app, "alice", &cr) == USER_NOT_FOUND &&
		cr.password_hash[0] == '\0',
	    "a hash that does not fit: as absent, never cut");
	credentials_row(HASH, NULL);
	CHECK_MSG(user_credentials_by_name(&app, "alice", &cr) == USER_NOT_FOUND,
	    "a row without a version: as absent");
}

static void test_update_hash(void)
{
	fake_db_answer(DB_OK, 0, 0);
	user_update_hash(&app, ID, "4", HASH);
	CHECK_MSG(fake_db.calls == 1 &&
		strstr(fake_db.sql, "UPDATE users SET password_hash = $2") != NULL &&
		strstr(fake_db.sql, "password_version = $3::bigint") != NULL,
	    "one UPDATE, only over the version that was verified");
	CHECK(strcmp(fake_db.params[0], ID) == 0 && strcmp(fake_db.params[1], HASH) == 0 &&
	    strcmp(fake_db.params[2], "4") == 0);
	fake_db_answer(DB_DOWN, 0, 0);
	user_update_hash(&app, ID, "4", HASH);
	CHECK_MSG(fake_db.calls == 1, "a server that is down is only tried");
}

int main(void)
{
	test_record();
	test_create();
	test_credentials();
	test_update_hash();
	return check_summary();
}
