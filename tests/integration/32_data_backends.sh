#!/usr/bin/env bash
# Per-user data when a backend goes away and comes back (API.md: reads never
# older than the last acknowledged write; 503 service_unavailable with
# Retry-After when PostgreSQL is needed and unreachable; the responders
# recover without a restart).  Runs with FCGI_PROCS=4, so several processes
# hold values in memory; the default is restored at the end.
#
#   1. a value written while Redis is down is what every process reads once
#      Redis is back (Redis comes back from its own snapshot: `stop` makes
#      it save, so it still holds the older version's stamp and entry);
#   2. the same, when the process that wrote during the outage is busy as
#      Redis returns, so that other processes answer first;
#   3. Redis restarted from an older snapshot (SAVE, a write, SHUTDOWN
#      NOSAVE, start): the write made after the snapshot is what is read;
#   4. Redis flushed (FLUSHALL): reads still right, then writes and reads;
#   5. Redis restarted with no write in between;
#   6. PostgreSQL stopped: 503 for whatever needs it, and back without a
#      restart of the responders.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"
source "$(dirname "$0")/data_lib.sh"

PROCS=4
STACK=$ROOT/scripts/stack.sh
restored=0
restore_all() {
	[ "$restored" = 1 ] && return 0
	restored=1
	"$STACK" start postgres >/dev/null 2>&1
	"$STACK" start redis >/dev/null 2>&1
	web_restart ""
}
trap 'restore_all >/dev/null 2>&1; rm -rf "$TMP"' EXIT

ready_is() { # HTTP_STATUS PG REDIS
	local out
	out=$(curl -sk --max-time 5 -w ' %{http_code}' "$BASE/api/ready")
	[ "${out##* }" = "$1" ] &&
		[ "$(printf '%s' "${out% *}" | jq -r '.checks.postgres + "," + .checks.redis' 2>/dev/null)" = "$2,$3" ]
}

# no_stale WHAT KEY WANT N - N reads (bursts of 5, and one at a time) all
# answer WANT ("200 <version> <value>").
no_stale() {
	local what=$1 key=$2 want=$3 n=$4 bad=0 i line
	: >"$TMP/ns"
	for ((i = 0; i < n / 10; i++)); do burst "$TOKEN_U" "$key" 5 >>"$TMP/ns"; done
	for ((i = 0; i < n - (n / 10) * 5; i++)); do q_get "$TOKEN_U" "$key" >>"$TMP/ns"; done
	while IFS= read -r line; do
		[ "$line" = "$want" ] || bad=$((bad + 1))
	done <"$TMP/ns"
	if [ "$bad" = 0 ]; then ok "$what: $(wc -l <"$TMP/ns") reads all '$want'"; else
		not_ok "$what: $bad of $(wc -l <"$TMP/ns") reads were not '$want': $(sort "$TMP/ns" | uniq -c | paste -sd';')"; fi
}

# warm KEY - every data process gets KEY (bursts of GETs); says how many did.
warm() {
	local p
	read -ra p <<<"$(data_pids)"
	echo "# $1 warmed into $(warm_all "$TOKEN_U" "$1" "${p[@]}") of ${#p[@]} processes"
}

if web_restart "$PROCS"; then ok "the web server restarts with FCGI_PROCS=$PROCS"; else
	not_ok "the web server restarts with FCGI_PROCS=$PROCS"; fi

data_user Bk || exit 1
TOKEN_U=$D_TOKEN UID_U=$D_UID
data_user BkHold || exit 1
TOKEN_H=$D_TOKEN UID_H=$D_UID
D_TOKEN=$TOKEN_U
# processes: all there with lighttpd, started on demand by mod_fcgid
n=$(spawn_procs "$TOKEN_U" warm-up "$PROCS")
if [ "$n" -ge 2 ]; then ok "$n data processes serve (FCGI_PROCS=$PROCS)"; else
	not_ok "$n data processes serve (FCGI_PROCS=$PROCS; want at least 2)"; fi

# ==== 1. written while Redis is down, read after it is back ====
dput outage '"v1"'
expect_status 201 "outage: v1 written with Redis up"
warm outage
"$STACK" stop redis >/dev/null 2>&1
wait_for "outage: ready says Redis is down" 15 ready_is 200 ok down
dput outage '"v2"'
expect_status 200 "outage: PUT v2 with Redis down succeeds"
expect_json '.version' 2 "outage: PUT v2"
no_stale "outage: reads while Redis is down (from PostgreSQL)" outage '200 2 "v2"' 10
"$STACK" start redis >/dev/null 2>&1
wait_for "outage: ready is ok again once Redis is back" 15 ready_is 200 ok ok
echo "# Redis came back with pc:epoch $(rcli GET pc:epoch) and stamp $(rcli GET "pc:dv:$UID_U:outage")"
no_stale "outage: reads after Redis is back" outage '200 2 "v2"' 20

# ==== 2. the same, while the process that wrote during the outage is busy ====
# In 1 the epoch moves as soon as Redis is back because some process that
# saw the outage reconnects first (the health responder answering /api/ready
# is one).  Here the only process that saw the outage, the writer, is busy
# when Redis returns, and the reads go to processes that never saw Redis
# fail: they must not serve v1 from memory, nor from the entry and stamp
# Redis restored from the snapshot it saved when it stopped.
dput outage2 '"v1"'
expect_status 201 "outage, writer busy: v1 written with Redis up"
warm outage2
stamp_v1=$(rcli GET "pc:dv:$UID_U:outage2")
"$STACK" stop redis >/dev/null 2>&1
wait_for "outage, writer busy: ready says Redis is down" 15 ready_is 200 ok down
# one request at a time: these go to one process, the writer
r=$(q_put "$TOKEN_U" outage2 '"v2"')
expect_eq "$r" "200 2" "outage, writer busy: PUT v2 with Redis down succeeds"
expect_eq "$(q_get "$TOKEN_U" outage2)" '200 2 "v2"' "outage, writer busy: the writer reads v2"
if hold_next_process 4 "$TOKEN_H" "$UID_H"; then ok "outage, writer busy: the writer is kept busy (a PUT waits on a row lock)"; else
	not_ok "outage, writer busy: the writer is kept busy (a PUT waits on a row lock)"; fi
"$STACK" start redis >/dev/null 2>&1
echo "# Redis came back with stamp $(rcli GET "pc:dv:$UID_U:outage2") (v1's was $stamp_v1)"
bad=0
for i in $(seq 6); do
	got=$(q_get "$TOKEN_U" outage2)
	[ "$got" = '200 2 "v2"' ] || { bad=$((bad + 1)); [ "$bad" = 1 ] && echo "# read $i while the writer is busy: $got"; }
done
expect_eq "$bad" 0 "outage, writer busy: the other processes read v2 as soon as Redis is back (not v1 from their memory or from Redis' snapshot)"
wait "${HOLD_PIDS[@]}"
expect_eq "$(cut -d' ' -f1 "$TMP/held.out")" 201 "outage, writer busy: the held PUT completes"
no_stale "outage, writer busy: reads after the writer is free again" outage2 '200 2 "v2"' 20
# (the health responder saw the outage too: its next /api/ready moves the epoch)
wait_for "outage, writer busy: ready is ok" 15 ready_is 200 ok ok

# ==== 3. Redis back from an older snapshot ====
# No process sees an outage at all (nothing is sent while Redis is away);
# Redis returns with v1's stamp and entry.  The process that wrote v2 is kept
# busy, so the reads go to the others.
dput snap '"v1"'
expect_status 201 "old snapshot: v1 written"
warm snap
expect_eq "$(rcli SAVE)" OK "old snapshot: Redis saves a snapshot holding v1"
dput snap '"v2"'
expect_status 200 "old snapshot: v2 written after the snapshot"
rcli SHUTDOWN NOSAVE >/dev/null
"$STACK" start redis >/dev/null 2>&1
wait_for "old snapshot: Redis is back" 15 ready_is 200 ok ok
echo "# Redis came back with stamp $(rcli GET "pc:dv:$UID_U:snap") (from the snapshot)"
if hold_next_process 4 "$TOKEN_H" "$UID_H"; then ok "old snapshot: one process is kept busy"; else
	not_ok "old snapshot: one process is kept busy"; fi
bad=0
for i in $(seq 6); do
	got=$(q_get "$TOKEN_U" snap)
	[ "$got" = '200 2 "v2"' ] || { bad=$((bad + 1)); [ "$bad" = 1 ] && echo "# read $i: $got"; }
done
expect_eq "$bad" 0 "old snapshot: reads see v2, not the snapshot's v1"
wait "${HOLD_PIDS[@]}"
no_stale "old snapshot: reads afterwards" snap '200 2 "v2"' 20

# ==== 4. Redis flushed ====
dput flush '"v1"'
warm flush
expect_eq "$(rcli FLUSHALL)" OK "flush: FLUSHALL"
no_stale "flush: reads after FLUSHALL" flush '200 1 "v1"' 20
dput flush '"v2"'
expect_status 200 "flush: a write after FLUSHALL"
no_stale "flush: read-your-writes after FLUSHALL" flush '200 2 "v2"' 20
dput flush2 '"v1"'
warm flush2
expect_eq "$(rcli FLUSHALL)" OK "flush, write first: FLUSHALL"
dput flush2 '"v2"'
expect_status 200 "flush, write first: a write right after FLUSHALL (no read before)"
no_stale "flush, write first: reads" flush2 '200 2 "v2"' 20
ddel flush2
expect_status 204 "flush: DELETE"
no_stale "flush: reads after the DELETE" flush2 '404' 10

# ==== 5. Redis restarted, nothing written meanwhile ====
dput restart '"v1"'
warm restart
"$STACK" stop redis >/dev/null 2>&1
"$STACK" start redis >/dev/null 2>&1
wait_for "restart: Redis is back" 15 ready_is 200 ok ok
if [ -n "$(rcli GET "pc:dv:$UID_U:restart")" ]; then echo "# Redis kept its data over the restart (snapshot on shutdown)"; else
	echo "# Redis came back empty"; fi
no_stale "restart: reads after the restart" restart '200 1 "v1"' 20
dput restart '"v2"'
expect_status 200 "restart: a write after the restart"
no_stale "restart: read-your-writes after the restart" restart '200 2 "v2"' 20

# ==== 6. PostgreSQL down ====
read -ra pids_before <<<"$(data_pids)"
dput pgkey '"cached"'
expect_status 201 "pg: a key written while PostgreSQL is up"
warm pgkey
psql_q "SELECT status FROM data_put('$UID_U', 'uncached', '\"only in pg\"', 12, 1000, NULL, false, NULL, false)" >/dev/null
# the 503s of this section are expected: auth_finish must not count them
n_before_pg=$(wc -l <"$STATUS_FILE")
"$STACK" stop postgres >/dev/null 2>&1
wait_for "pg: ready answers 503 when PostgreSQL stops" 15 ready_is 503 down ok
dget uncached
expect_error 503 service_unavailable "pg down: GET of a key no cache holds"
expect_header Retry-After '[0-9]+' "pg down: GET 503"
dget never-written
expect_error 503 service_unavailable "pg down: GET of a key that does not exist (only PostgreSQL knows)"
dput pgkey '"while down"'
expect_error 503 service_unavailable "pg down: PUT"
expect_header Retry-After '[0-9]+' "pg down: PUT 503"
dput brand-new '"while down"'
expect_error 503 service_unavailable "pg down: PUT of a new key"
ddel pgkey
expect_error 503 service_unavailable "pg down: DELETE"
expect_header Retry-After '[0-9]+' "pg down: DELETE 503"
dlist ""
expect_error 503 service_unavailable "pg down: list"
expect_header Retry-After '[0-9]+' "pg down: list 503"
# A read that a current cache entry can answer needs no PostgreSQL: the
# contract's 503 is for "the answer needs it", so 200 with the current value
# or 503 are both right; an older value never is.
dget pgkey
case $STATUS in
200) expect_json '.value + " " + (.version | tostring)' 'cached 1' "pg down: a cached key is served from the cache, current" ;;
503) expect_error 503 service_unavailable "pg down: a cached key" ;;
*) not_ok "pg down: GET of a cached key answers $STATUS (want 200 or 503)" ;;
esac
"$STACK" start postgres >/dev/null 2>&1
wait_for "pg: ready is ok again when PostgreSQL is back" 20 ready_is 200 ok ok
{ head -n "$n_before_pg" "$STATUS_FILE"; tail -n +$((n_before_pg + 1)) "$STATUS_FILE" | grep -v '^503 '; } >"$TMP/st" &&
	cp "$TMP/st" "$STATUS_FILE"
# Past the responders' 500 ms reconnect back-off: from now on PostgreSQL is
# reachable, so nothing may answer 503.  Every process gets GETs that need
# PostgreSQL (keys no cache holds), sent together so they spread.
sleep 1
burst "$TOKEN_U" uncached 8 >"$TMP/pgb"
burst "$TOKEN_U" never-written 8 >>"$TMP/pgb"
expect_eq "$(sort "$TMP/pgb" | uniq -c | awk '{ print $2 }' | sort -u | paste -sd' ')" "200 404" \
	"pg back: the first GETs that need PostgreSQL, on every process, answer 200/404 (no 503 once it is back: $(sort "$TMP/pgb" | uniq -c | paste -sd';'))"
sleep 0.6 # whatever failed above is past its back-off: the rest checks that all recovered
dget uncached
expect_status 200 "pg back: GET of the uncached key"
expect_json '.value' 'only in pg' "pg back: its value"
dget pgkey
expect_json '.value + " " + (.version | tostring)' 'cached 1' "pg back: the refused PUT and DELETE changed nothing"
dget brand-new
expect_error 404 not_found "pg back: the refused PUT of a new key created nothing"
dput pgkey '"after"'
expect_status 200 "pg back: PUT"
expect_json '.version' 2 "pg back: PUT"
no_stale "pg back: reads" pgkey '200 2 "after"' 10
ddel pgkey
expect_status 204 "pg back: DELETE"
dlist ""
expect_status 200 "pg back: list"
fails=0
for i in $(seq 20); do
	[[ "$(q_put "$TOKEN_U" "pg-$((i % 3))" "$i" | cut -d' ' -f1)" == 20[01] ]] || fails=$((fails + 1))
done
for i in $(seq 20); do [ "$(q_get "$TOKEN_U" "pg-$((i % 3))" | cut -d' ' -f1)" = 200 ] || fails=$((fails + 1)); done
expect_eq "$fails" 0 "pg back: 40 requests in a row on the recovered connections all succeed"
expect_eq "$(still_running "${pids_before[@]}")" "${#pids_before[@]}" "the data responders were not restarted (the same ${#pids_before[@]} pids still serve)"

auth_finish
if restore_all; then ok "the stack is back to its default (Redis and PostgreSQL up, FCGI_PROCS default)"; else
	not_ok "the stack is back to its default (Redis and PostgreSQL up, FCGI_PROCS default)"; fi
