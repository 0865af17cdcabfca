#!/usr/bin/env bash
# The write path's budget and its locks:
#   - a PUT or DELETE costs one PostgreSQL round trip: the data backend runs
#     exactly one statement for it (log_statement = all, set by the
#     cluster's superuser for this script only, counts every statement a
#     client sends; what data_put() runs inside the server is not a round
#     trip and is not logged), whatever the answer (201, 200, 204, 404,
#     412, 403);
#   - a replace is not serialized behind the user's other writes: it
#     completes while another session holds the user's data_owners row (the
#     row every create and delete updates), the users row, and another
#     key's row; a create waits for the data_owners row and completes once
#     it is free;
#   - the quota is exact under concurrency: many creates at once, through
#     HTTP and straight from PostgreSQL sessions, never pass DATA_MAX_KEYS;
#     concurrent If-None-Match: * creates of one key make one 201;
#     concurrent If-Match of one version let one writer through.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"
source "$(dirname "$0")/data_lib.sh"

MAX_KEYS=$(stack_env DATA_MAX_KEYS)
MAX_KEYS=${MAX_KEYS:-1000}
PG_LOG=$LOG_DIR/postgresql.log

# pg_super SQL... - each SQL as the private cluster's superuser (peer
# authentication on its socket; the cluster runs as `postgres` when the
# suite runs as root).
pg_super() {
	local sock=${VAR_DIR:-$ROOT/var/test}/pg/sock port args=() q
	port=$(stack_env PG_PORT)
	port=${port:-$PG_PORT}
	for q in "$@"; do args+=(-c "$q"); done
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- psql -h "$sock" -p "$port" -d portcullis -X -At -v ON_ERROR_STOP=1 "${args[@]}" 2>&1
	else
		psql -h "$sock" -p "$port" -d portcullis -X -At -v ON_ERROR_STOP=1 "${args[@]}" 2>&1
	fi
}
log_all_off() {
	pg_super "ALTER SYSTEM RESET log_statement" "ALTER SYSTEM RESET log_parameter_max_length" "SELECT pg_reload_conf()"
}
cleanup() {
	log_all_off >/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

data_user Writes || exit 1

# ---- one round trip a write ----
# data backends' pids, and the statements they logged since byte OFFSET
data_backends() { psql_q "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name = 'data' AND datname = current_database()"; }
statements_since() {
	local pids p n=0
	pids=$(data_backends)
	for p in $pids; do
		n=$((n + $(tail -c +"$(($1 + 1))" "$PG_LOG" | grep -cE "\[$p\] LOG:  (statement|execute [^:]*):")))
	done
	echo "$n"
}
# counted WHAT STATUS CMD... - runs one request, expects STATUS and one statement
counted() {
	local what=$1 want=$2 off n
	shift 2
	off=$(stat -c %s "$PG_LOG")
	"$@"
	sleep 0.2 # the log collector writes asynchronously
	n=$(statements_since "$off")
	expect_eq "$STATUS $n" "$want 1" "round trips: $what answers $want with one PostgreSQL statement"
	grep -E "LOG:  (statement|execute [^:]*):" <(tail -c +"$((off + 1))" "$PG_LOG") | grep -v pg_stat_activity | sed 's/^[^]]*\] LOG:  /#   /' | cut -c1-150
}

out=$(pg_super "ALTER SYSTEM SET log_statement = 'all'" "ALTER SYSTEM SET log_parameter_max_length = 0" "SELECT pg_reload_conf()")
expect_eq "$(printf '%s' "$out" | tail -1)" t "setup: log_statement = all for this script"
sleep 0.5
dput warm '"connect first"' # every process may need to connect: not counted
counted "PUT (create)" 201 dput rt '"v1"'
counted "PUT (replace)" 200 dput rt '"v2"'
counted "PUT If-Match (replace)" 200 dput rt '"v3"' -H 'If-Match: "2"'
counted "PUT stale If-Match" 412 dput rt '"no"' -H 'If-Match: "1"'
counted "PUT If-None-Match: * of a live key" 412 dput rt '"no"' -H 'If-None-Match: *'
counted "PUT If-None-Match: * (create)" 201 dput rt-new '"new"' -H 'If-None-Match: *'
counted "DELETE stale If-Match" 412 ddel rt -H 'If-Match: "1"'
counted "DELETE If-None-Match of the live version" 412 ddel rt -H 'If-None-Match: "3"'
counted "DELETE If-None-Match: *" 412 ddel rt -H 'If-None-Match: *'
dget rt
expect_json '.version' 3 "a DELETE refused by If-None-Match deleted nothing"
counted "DELETE" 204 ddel rt
counted "DELETE of an absent key" 404 ddel rt
counted "PUT (create again after a delete)" 201 dput rt '"v4"'
expect_json '.version' 4 "round trips: the re-created key goes on from its last version"
# one more write after the control, to see statements are logged at all
off=$(stat -c %s "$PG_LOG")
dput rt '"v5"'
sleep 0.2
if grep -q "data_put" <(tail -c +"$((off + 1))" "$PG_LOG"); then ok "control: the write's statement is in the log (data_put)"; else
	not_ok "control: the write's statement is in the log (data_put)"; fi
log_all_off >/dev/null

# ---- quota answer in one statement too (a user at the quota) ----
data_user WritesQ || exit 1
UID_Q=$D_UID
n=$(psql_q "SELECT count(*) FILTER (WHERE p.status = 'created') FROM generate_series(1, $MAX_KEYS) g, LATERAL data_put('$UID_Q', 'q' || g, '1', 1, $MAX_KEYS, NULL, false, NULL, false) p")
expect_eq "$n" "$MAX_KEYS" "setup: a user with DATA_MAX_KEYS keys"
dput one-more '"x"'
expect_error 403 quota_exceeded "at the quota: a new key"
dput q1 '"replaced"'
expect_status 200 "at the quota: a replace"

# ---- a replace does not wait for the user's other writes ----
data_user Lock || exit 1
UID_L=$D_UID
dput hot '"v1"'
dput other '"o1"'
expect_status 201 "locks: setup"
# hold SQL SECS - a psql session that runs SQL, then sleeps SECS holding its locks
hold() {
	psql "$(stack_env DATABASE_URL)" -X -q -v ON_ERROR_STOP=1 \
		-c "BEGIN; $1; SELECT pg_sleep($2) /* lockhold */; COMMIT;" >/dev/null 2>&1 &
	HOLD=$!
	for ((i = 0; i < 50; i++)); do
		[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%/* lockhold */%' AND state = 'active' AND pid <> pg_backend_pid()")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# timed_put KEY JSON - "STATUS VERSION MS"
timed_put() {
	local t0 t1 r
	t0=$(date +%s%N)
	r=$(q_put "$D_TOKEN" "$1" "$2")
	t1=$(date +%s%N)
	echo "$r $(((t1 - t0) / 1000000))"
}
v=1
for what in "data_owners row:SELECT 1 FROM data_owners WHERE user_id = '$UID_L' FOR UPDATE" \
	"users row:SELECT 1 FROM users WHERE id = '$UID_L' FOR UPDATE" \
	"another key's row:UPDATE data_items SET size = size WHERE user_id = '$UID_L' AND key = 'other'"; do
	name=${what%%:*}
	hold "${what#*:}" 4 || not_ok "locks: the $name is held"
	v=$((v + 1))
	read -r st ver ms <<<"$(timed_put hot "\"v$v\"")"
	alive=$(kill -0 "$HOLD" 2>/dev/null && echo held || echo released)
	echo "# replace while another session holds the $name: $st v$ver in $ms ms (lock still $alive)"
	expect_eq "$st $ver $alive" "200 $v held" "locks: a replace completes while another session holds the $name"
	wait "$HOLD"
done
# a create does wait for the data_owners row (that is what keeps the quota exact)
hold "SELECT 1 FROM data_owners WHERE user_id = '$UID_L' FOR UPDATE" 2 || not_ok "locks: the data_owners row is held"
read -r st ver ms <<<"$(timed_put fresh '"f"')"
echo "# create while the data_owners row is held (2 s): $st in $ms ms"
if [ "$st" = 201 ] && [ "$ms" -ge 1000 ]; then ok "locks: a create waits for the data_owners row, then completes (201)"; else
	not_ok "locks: a create waits for the data_owners row, then completes (got $st after $ms ms)"; fi
wait "$HOLD"

# ---- the quota under concurrency ----
data_user Conc || exit 1
UID_C=$D_UID
room=5
n=$(psql_q "SELECT count(*) FILTER (WHERE p.status = 'created') FROM generate_series(1, $((MAX_KEYS - room))) g, LATERAL data_put('$UID_C', 'c' || g, '1', 1, $MAX_KEYS, NULL, false, NULL, false) p")
expect_eq "$n" "$((MAX_KEYS - room))" "quota race: setup, $room keys of room left"
# puts_at_once FILE ARGS-PER-URL... - PUTs sent together (curl --parallel, one
# HTTP/2 connection), each URL with its own options; codes into FILE.
puts_at_once() {
	local f=$1 a k j h args=() hdr
	shift
	for a in "$@"; do # each "KEY JSON [HEADER]"
		[ "${#args[@]}" -gt 0 ] && args+=(--next)
		read -r k j h <<<"$a"
		hdr=()
		[ -n "$h" ] && hdr=(-H "$h")
		args+=(-sk --max-time 30 -X PUT -H "Authorization: Bearer $D_TOKEN" -H "Content-Type: application/json"
			"${hdr[@]}" --data-binary "$j" -o /dev/null -w '%{http_code}\n' "$BASE/api/data/$k")
	done
	curl -Z --parallel-max 32 "${args[@]}" >"$f" 2>/dev/null
}
reqs=()
for ((i = 0; i < 30; i++)); do reqs+=("race-$i \"n$i\""); done
puts_at_once "$TMP/race.codes" "${reqs[@]}"
sed 's/$/ qrace/' "$TMP/race.codes" >>"$STATUS_FILE"
expect_eq "$(sort "$TMP/race.codes" | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')" "201x$room 403x$((30 - room))" \
	"quota race: 30 creates at once over HTTP: exactly $room pass (201), the rest are 403"
# straight from 8 PostgreSQL sessions at once: delete 20, then 8 x 10 creates race for 20 places
psql_q "SELECT count(*) FROM generate_series(1, 20) g, LATERAL data_delete('$UID_C', 'c' || g, NULL, false, NULL, false, $MAX_KEYS) p" >/dev/null
for ((s = 0; s < 8; s++)); do
	psql_q "SELECT p.status FROM generate_series(1, 10) g, LATERAL data_put('$UID_C', 'pg$s-' || g, '1', 1, $MAX_KEYS, NULL, false, NULL, false) p" >"$TMP/pg$s.out" &
done
wait
expect_eq "$(cat "$TMP"/pg[0-9].out | sort | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')" "createdx20 quotax60" \
	"quota race: 8 sessions x 10 creates for 20 places: 20 created, 60 refused"
expect_eq "$(psql_q "SELECT (SELECT count(*) FROM data_items WHERE user_id = '$UID_C') || ' ' || (SELECT keys FROM data_owners WHERE user_id = '$UID_C')")" \
	"$MAX_KEYS $MAX_KEYS" "quota race: the user has exactly DATA_MAX_KEYS keys, and data_owners says so"

# one key, If-None-Match: * from many at once: one creates it
data_user Once || exit 1
reqs=()
for ((i = 0; i < 12; i++)); do reqs+=("once \"w$i\" If-None-Match:*"); done
puts_at_once "$TMP/once.codes" "${reqs[@]}"
sed 's/$/ qonce/' "$TMP/once.codes" >>"$STATUS_FILE"
expect_eq "$(sort "$TMP/once.codes" | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')" "201x1 412x11" \
	"If-None-Match: * from 12 at once: one 201, eleven 412"
for ((s = 0; s < 8; s++)); do
	psql_q "SELECT p.status FROM data_put('$D_UID', 'once-pg', '$s', 1, $MAX_KEYS, NULL, false, NULL, true) p" >"$TMP/once$s.out" &
done
wait
expect_eq "$(cat "$TMP"/once[0-9].out | sort | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')" "createdx1 preconditionx7" \
	"If-None-Match: * from 8 PostgreSQL sessions at once: one created"
# If-Match of one version from many at once: one replaces it
dput im '"base"'
for ((s = 0; s < 8; s++)); do
	psql_q "SELECT p.status || ' ' || coalesce(p.version::text, '-') FROM data_put('$D_UID', 'im', '$s', 1, $MAX_KEYS, '{1}', false, NULL, false) p" >"$TMP/im$s.out" &
done
wait
expect_eq "$(cat "$TMP"/im[0-9].out | sort | uniq -c | awk '{ print $2 "_" $3 "x" $1 }' | paste -sd' ')" "precondition_-x7 replaced_2x1" \
	"If-Match: \"1\" from 8 sessions at once: one replaces (version 2), seven 412"
# replaces at once: no lost update, versions +1 each
for ((s = 0; s < 8; s++)); do
	psql_q "SELECT p.version FROM generate_series(1, 10) g, LATERAL data_put('$D_UID', 'many', g::text, 1, $MAX_KEYS, NULL, false, NULL, false) p" >"$TMP/many$s.out" &
done
wait
expect_eq "$(cat "$TMP"/many[0-9].out | sort -n | paste -sd' ')" "$(seq 1 80 | paste -sd' ')" \
	"80 writes of one key from 8 sessions at once: versions 1..80, each once"

auth_finish
