#!/usr/bin/env bash
# The migration runner: applies numbered files in order, once each, records
# them with a checksum, refuses edited files and schemas newer than the code,
# rolls back a failing file, and serialises concurrent runs.  Each case runs
# in a scratch schema of the test database (as its owner, no superuser).
source "$(dirname "$0")/lib.sh"

DATABASE_URL=$("$ROOT/scripts/stack.sh" env | sed -n 's/^DATABASE_URL=//p')
MIGRATE=$ROOT/bin/portcullis-migrate
n=0

# fresh_schema - a new empty schema; sets URL to reach it first on the search_path.
fresh_schema() {
	n=$((n + 1))
	SCHEMA=migtest_$$_$n
	psql -q "$DATABASE_URL" -c "CREATE SCHEMA $SCHEMA" >/dev/null 2>&1
	URL="$DATABASE_URL?options=-csearch_path%3D$SCHEMA"
	DIR=$TMP/m$n
	mkdir -p "$DIR"
}
migrate() { env -i PATH="$PATH" PORTCULLIS_ENV_FILE=/nonexistent DATABASE_URL="$URL" "$MIGRATE" --dir "$DIR" "$@" >"$TMP/mig.out" 2>&1; }
sql() { psql -qtA "$URL" -c "$1" 2>/dev/null; }

fresh_schema
echo 'CREATE TABLE a (id int);' >"$DIR/001_first.sql"
echo 'CREATE TABLE b (id int); INSERT INTO b VALUES (1), (2);' >"$DIR/002_second-one.sql"
echo 'not a migration' >"$DIR/README"
migrate
expect_eq "$?" 0 "pending migrations apply"
expect_eq "$(sql "SELECT string_agg(version::text || ':' || name, ',' ORDER BY version) FROM schema_migrations")" \
	"1:001_first.sql,2:002_second-one.sql" "both are recorded, in order"
expect_eq "$(sql "SELECT count(*) FROM schema_migrations WHERE checksum ~ '^[0-9a-f]{64}\$'")" 2 "each with a SHA-256 checksum"
expect_eq "$(sql 'SELECT count(*) FROM b')" 2 "the migration's statements ran"

migrate
expect_eq "$?" 0 "a second run succeeds"
expect_eq "$(sql 'SELECT count(*) FROM b')" 2 "a second run applies nothing again"
grep -q 'up to date' "$TMP/mig.out" && ok "a second run says the schema is up to date" || not_ok "second run: $(cat "$TMP/mig.out")"

echo 'CREATE TABLE c (id int);' >"$DIR/003_third.sql"
migrate --check
expect_eq "$?" 3 "--check reports pending migrations with exit 3"
expect_eq "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = '$SCHEMA' AND tablename = 'c'")" 0 "--check applies nothing"
migrate
expect_eq "$(sql 'SELECT max(version) FROM schema_migrations')" 3 "a new file is applied on the next run"

echo '-- edited' >>"$DIR/001_first.sql"
migrate
rc=$?
if [ "$rc" != 0 ] && grep -q '001_first.sql' "$TMP/mig.out" && grep -qi 'checksum' "$TMP/mig.out"; then
	ok "an applied file that was edited is refused"
else
	not_ok "edited file: exit $rc, $(cat "$TMP/mig.out")"
fi

fresh_schema
echo 'CREATE TABLE a (id int);' >"$DIR/001_first.sql"
migrate
sql "INSERT INTO schema_migrations (version, name, checksum) VALUES (7, '007_future.sql', 'x')" >/dev/null
migrate
rc=$?
if [ "$rc" != 0 ] && grep -q 'newer' "$TMP/mig.out"; then ok "a schema newer than the code is refused"; else not_ok "newer schema: exit $rc, $(cat "$TMP/mig.out")"; fi

fresh_schema
echo 'CREATE TABLE ok1 (id int);' >"$DIR/001_ok.sql"
printf 'CREATE TABLE half (id int);\nSELECT no_such_function();\n' >"$DIR/002_broken.sql"
migrate
rc=$?
expect_eq "$([ "$rc" != 0 ] && echo failed)" failed "a failing migration fails the run"
expect_eq "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = '$SCHEMA' AND tablename = 'half'")" 0 "its partial work is rolled back"
expect_eq "$(sql 'SELECT max(version) FROM schema_migrations')" 1 "only the good migration is recorded"

fresh_schema
echo 'CREATE TABLE x (id int);' >"$DIR/001_x.sql"
echo 'CREATE TABLE y (id int);' >"$DIR/001_y.sql"
migrate
rc=$?
if [ "$rc" != 0 ] && grep -q 'share version' "$TMP/mig.out"; then ok "two files with one version are refused"; else not_ok "duplicate version: $rc"; fi

fresh_schema
for i in 1 2 3; do printf 'CREATE TABLE t%s (id int); SELECT pg_sleep(0.2);\n' "$i" >"$DIR/00${i}_t$i.sql"; done
for _ in 1 2 3 4; do
	env -i PATH="$PATH" PORTCULLIS_ENV_FILE=/nonexistent DATABASE_URL="$URL" "$MIGRATE" --dir "$DIR" >/dev/null 2>&1 &
done
wait
expect_eq "$(sql 'SELECT count(*) FROM schema_migrations')" 3 "four concurrent runs apply each migration exactly once"

env -i PATH="$PATH" PORTCULLIS_ENV_FILE=/nonexistent "$MIGRATE" --dir "$DIR" >"$TMP/mig.out" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -q DATABASE_URL "$TMP/mig.out"; then ok "no DATABASE_URL: refused naming it"; else not_ok "no DATABASE_URL: $rc"; fi

# The project's own migrations are applied by `up`, and recorded.
expect_eq "$(psql -qtA "$DATABASE_URL" -c 'SELECT count(*) FROM schema_migrations' 2>/dev/null)" \
	"$(ls "$ROOT"/sql/[0-9]*.sql 2>/dev/null | wc -l | tr -d ' ')" "stack up applied every file of sql/"

for s in $(seq 1 $n); do psql -q "$DATABASE_URL" -c "DROP SCHEMA IF EXISTS migtest_$$_$s CASCADE" >/dev/null 2>&1; done
