#!/usr/bin/env bash
# The issue's budget: "A GET /api/data/{key} served from memory costs no
# PostgreSQL query and at most one Redis round trip in total, the rate
# limit's included."
#
# Every data process gets the key into memory first; then a burst of 100
# GETs is measured:
#   - PostgreSQL: no data backend runs anything (pg_stat_activity: no state
#     change, no new connection since the burst began), and the database's
#     transaction count (pg_stat_database xact_commit + xact_rollback) does
#     not move beyond this script's own measuring queries.  PostgreSQL 15
#     flushes a backend's counters when a transaction ends and the last
#     flush is over 1 s old, else when it has been idle 10 s
#     (PGSTAT_IDLE_INTERVAL): so the first reading waits 11 s for what the
#     set-up left pending, and the second one 1.1 s after the burst (a data
#     backend idle for 11 s would flush its first transaction at once).
#     Autovacuum's transactions count there too (a worker visits the
#     database every minute, vacuuming or not): a window that shows any
#     transaction is measured again, up to three times; a server that used
#     PostgreSQL for these GETs would show in every one.
#   - Redis (CONFIG RESETSTAT, then INFO): per request exactly one EVALSHA
#     (the rate limit's GCRA script, whose TIME, GET and SET show up in
#     commandstats too) and one MGET (revocation marker, revocation-ready
#     key, cache epoch, the key's version stamp); nothing else.  And one
#     round trip: lib/app.c handle() appends the token check's MGET (with
#     the keys of the route's hook, data.c get_item_keys -> auth_queue) and
#     the rate limit's EVALSHA to one hiredis pipeline and flushes it once,
#     so both leave in one write and Redis sees one read event per request
#     (total_reads_processed grows by one per request).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"
source "$(dirname "$0")/data_lib.sh"

N=100

# redis_stat NAME - a field of INFO stats.
redis_stat() { rcli INFO stats | tr -d '\r' | awk -F: -v k="$1" '$1 == k { print $2 }'; }
# cmd_calls NAME - calls of a command in INFO commandstats (0 if absent).
cmd_calls() {
	rcli INFO commandstats | tr -d '\r' | awk -F'[:=,]' -v k="cmdstat_$1" '$1 == k { c = $3 } END { print c + 0 }'
}
xacts() { psql_q "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"; }
autovacuums() { psql_q "SELECT sum(autovacuum_count + autoanalyze_count) FROM pg_stat_all_tables"; }
pg_now() { psql_q "SELECT now()"; }
# data_backend_activity T - data backends whose state changed, or that
# connected, after T: "<changed> <new>".
data_backend_activity() {
	psql_q "SELECT count(*) FILTER (WHERE state_change > '$1') || ' ' || count(*) FILTER (WHERE backend_start > '$1') FROM pg_stat_activity WHERE application_name = 'data' AND datname = current_database()"
}

data_user Budget || exit 1
dput budget '{"warm":true,"n":[1,2,3]}'
expect_status 201 "setup: the key"
# every process that will ever serve (mod_fcgid starts them on demand, up to
# FCGI_PROCS; one started during the burst would have an empty memory)
procs=$(spawn_procs "$D_TOKEN" budget "${FCGI_PROCS:-2}")
read -ra PIDS <<<"$(data_pids)"
echo "# data processes: ${PIDS[*]} ($procs)"
want=$(item_line 200 "$BODY")
reached=$(warm_all "$D_TOKEN" budget "${PIDS[@]}")
expect_eq "$reached" "${#PIDS[@]}" "warm-up: every data process served the key (so each holds it in memory)"
# one more round so that every process has served it from memory at least once
burst "$D_TOKEN" budget 16 >/dev/null

# ---- the PostgreSQL side: the activity check must see a query when there is one ----
t=$(pg_now)
q_get "$D_TOKEN" no-such-key >/dev/null # not in any cache: PostgreSQL answers
expect_eq "$(data_backend_activity "$t" | cut -d' ' -f1)" 1 "control: a GET that needs PostgreSQL shows in pg_stat_activity"
burst "$D_TOKEN" budget 16 >/dev/null

# measure_burst - sends the burst; sets X_BEFORE/X_AFTER/OWN (pg_stat_database),
# AV_MOVED (autovacuum ran in the window), ACTIVITY, R_* (Redis), CODES_OK, SAME.
measure_burst() {
	local t0 r0 a0 x0 i
	echo "# waiting 11 s for PostgreSQL's pending counters to be flushed"
	sleep 11
	a0=$(autovacuums)
	x0=$(xacts)
	X_BEFORE=$(xacts)
	OWN=$((X_BEFORE - x0)) # what one reading of ours adds
	t0=$(pg_now)
	rcli CONFIG RESETSTAT >/dev/null
	r0=$(redis_stat total_reads_processed)
	R_BEFORE=$(redis_stat total_reads_processed)
	R_CAL=$((R_BEFORE - r0)) # the read events of one INFO of ours (connect, AUTH, INFO)
	local args=()
	for ((i = 0; i < N; i++)); do args+=(-o "$TMP/b$i" "$BASE/api/data/budget"); done
	curl -sk --max-time 30 -Z --parallel-max 10 -H "Authorization: Bearer $D_TOKEN" \
		-w '%{http_code}\n' "${args[@]}" >"$TMP/codes" 2>/dev/null
	R_AFTER=$(redis_stat total_reads_processed)
	ACTIVITY=$(data_backend_activity "$t0")
	for c in evalsha mget get set time; do CALLS[$c]=$(cmd_calls "$c"); done
	OTHERS=$(rcli INFO commandstats | tr -d '\r' | grep '^cmdstat_' | cut -d: -f1 | sed 's/^cmdstat_//' |
		grep -vxE 'evalsha|mget|get|set|time|auth|info|config\|resetstat' | paste -sd,)
	CODES=$(sort "$TMP/codes" | uniq -c | awk '{ print $2 "x" $1 }')
	SAME=0
	for ((i = 0; i < N; i++)); do [ "$(item_line 200 "$(cat "$TMP/b$i")")" = "$want" ] && SAME=$((SAME + 1)); done
	sleep 1.1
	X_AFTER=$(xacts)
	AV_MOVED=$([ "$(autovacuums)" = "$a0" ] && echo 0 || echo 1)
}

declare -A CALLS
for attempt in 1 2 3; do
	measure_burst
	# between X_BEFORE and X_AFTER our own queries were: X_BEFORE, t0, the activity check
	tx=$((X_AFTER - X_BEFORE - 3 * OWN))
	echo "# window $attempt: pg_stat_database xacts $X_BEFORE before, $X_AFTER after the burst ($((X_AFTER - X_BEFORE)), of which $((3 * OWN)) are ours; autovacuum vacuumed or analyzed: $AV_MOVED)"
	[ "$tx" = 0 ] && break
done
expect_eq "$CODES" "200x$N" "the burst: $N GETs answer 200"
expect_eq "$SAME" "$N" "the burst: every answer is the stored value"

# ---- Redis ----
echo "# Redis commandstats after $N GETs: evalsha=${CALLS[evalsha]} mget=${CALLS[mget]} (script: time=${CALLS[time]} get=${CALLS[get]} set=${CALLS[set]})"
expect_eq "${CALLS[evalsha]}" "$N" "Redis: one EVALSHA (the rate limit) per GET"
expect_eq "${CALLS[mget]}" "$N" "Redis: one MGET (revocation + cache stamp) per GET"
expect_eq "${CALLS[time]} ${CALLS[get]} ${CALLS[set]}" "$N $N $N" "Redis: TIME, GET, SET only from inside the rate-limit script (one each per GET)"
expect_eq "$OTHERS" "" "Redis: no other command was sent (no EVAL, no extra GET/SET, no PING)"
reads=$((R_AFTER - R_BEFORE - R_CAL))
echo "# Redis total_reads_processed: $R_BEFORE after RESETSTAT (one INFO adds $R_CAL), $R_AFTER after the burst: $reads read events for $N GETs"
expect_eq "$reads" "$N" "Redis: one read event per GET: EVALSHA and MGET arrive together (one round trip)"

# ---- PostgreSQL ----
expect_eq "$ACTIVITY" "0 0" "PostgreSQL: no data backend ran a query or connected during the burst (pg_stat_activity)"
expect_eq "$tx" 0 "PostgreSQL: $N GETs from memory added no transaction (pg_stat_database)"
# control: the same reading sees GETs that do need PostgreSQL
x3=$(xacts)
burst "$D_TOKEN" not-in-any-cache 10 >/dev/null
sleep 1.1
x4=$(xacts)
echo "# control: 10 GETs of a key no cache holds: $((x4 - x3 - OWN)) transactions beyond ours"
if [ $((x4 - x3 - OWN)) -ge 1 ]; then ok "control: pg_stat_database shows GETs that need PostgreSQL"; else
	not_ok "control: pg_stat_database shows GETs that need PostgreSQL ($x3 -> $x4)"; fi

# ---- what the one MGET asks for (MONITOR, one request) ----
url=$(stack_env REDIS_URL)
rest=${url#redis://}
pass=""
if [[ "$rest" == *@* ]]; then
	pass=${rest%@*}
	pass=${pass#*:}
	rest=${rest##*@}
fi
hostport=${rest%%/*}
REDISCLI_AUTH=$pass timeout 3 redis-cli --no-auth-warning -h "${hostport%:*}" -p "${hostport##*:}" MONITOR >"$TMP/monitor" 2>/dev/null &
mon=$!
sleep 0.5
q_get "$D_TOKEN" budget >/dev/null
sleep 0.3
wait "$mon"
mget=$(grep -F '"MGET"' "$TMP/monitor" | grep -F "pc:dv:$D_UID:budget" | head -1)
echo "# MONITOR: $(printf '%s' "$mget" | sed 's/pc:rv:[0-9a-f-]*/pc:rv:<sid>/; s/^[0-9.]* \[[^]]*\] //')"
expect_eq "$(printf '%s' "$mget" | grep -o '"[^"]*"' | sed 1d | sed 's/pc:rv:[0-9a-f-]\{36\}/pc:rv:<sid>/' | paste -sd' ')" \
	"\"pc:rv:<sid>\" \"pc:rv:ready\" \"pc:epoch\" \"pc:dv:$D_UID:budget\"" \
	"MONITOR: the MGET of a memory hit asks for the revocation marker, the ready key, the epoch and the stamp (not the Redis entry)"
expect_eq "$(grep -c -F '"EVALSHA"' "$TMP/monitor")" 1 "MONITOR: one EVALSHA for that GET"
expect_eq "$(grep -v -F -e '"MGET"' -e '"EVALSHA"' -e 'lua]' -e '"monitor"' "$TMP/monitor" | grep -v '^OK$' | grep -c .)" 0 "MONITOR: nothing else but the script's own calls"

auth_finish
