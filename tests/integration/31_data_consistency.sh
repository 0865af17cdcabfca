#!/usr/bin/env bash
# Per-user data across processes (API.md: "A write is visible to the very
# next read from any process ... caches never serve a value older than the
# last acknowledged write").  The web server is restarted with FCGI_PROCS=4,
# so every request may land on any of four data processes, each with its own
# memory cache; the default is restored at the end.
#
# lighttpd hands a request to the least loaded process, so requests sent one
# after the other all land on the same one: the reads below are sent several
# at a time (each a new curl process, a new connection) so that they spread
# over the processes, and /proc/<pid>/io shows that they did.
#
#   - read-your-writes: 300 writes, each followed at once by reads on fresh
#     connections, which must all see that write (and by parallel workers,
#     so that the writes spread over the processes too);
#   - two users writing the same key name never see each other's values;
#   - 20 concurrent PUTs to one key: versions +1 each, no lost update, the
#     final GET is the write of the final version; on a new key, one 201;
#   - two sessions of one user alternating writes and reads;
#   - after a DELETE, every process answers 404.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"
source "$(dirname "$0")/data_lib.sh"

PROCS=4
restored=0
restore_web() {
	[ "$restored" = 1 ] && return 0
	restored=1
	web_restart ""
}
trap 'restore_web >/dev/null 2>&1; rm -rf "$TMP"' EXIT

if web_restart "$PROCS"; then ok "the web server restarts with FCGI_PROCS=$PROCS"; else
	not_ok "the web server restarts with FCGI_PROCS=$PROCS"; fi

data_user Rw || exit 1
TA=$D_TOKEN
data_user Rw2 || exit 1
TB=$D_TOKEN
D_TOKEN=$TA
# processes: all there with lighttpd, started on demand by mod_fcgid
n=$(spawn_procs "$TA" warm-up "$PROCS")
if [ "$n" -ge 2 ]; then ok "$n data processes serve (FCGI_PROCS=$PROCS)"; else
	not_ok "$n data processes serve (FCGI_PROCS=$PROCS; want at least 2)"; fi
read -ra PIDS <<<"$(data_pids)"

# ---- read-your-writes: after each write, reads on fresh connections ----
# one GET on a new curl process, and a new curl process sending 3 GETs at
# once (HTTP/2), which reach lighttpd together and so spread over processes
N=300
READS=4
before=$(io_writes "${PIDS[@]}")
fails=0 put_fails=0
for ((i = 1; i <= N; i++)); do
	r=$(q_put "$TA" ryw "{\"i\":$i}")
	if [ "$r" != "$([ "$i" = 1 ] && echo 201 || echo 200) $i" ]; then
		put_fails=$((put_fails + 1))
		[ "$put_fails" -le 3 ] && echo "# PUT $i answered: $r"
		continue
	fi
	{
		q_get "$TA" ryw
		burst "$TA" ryw 3
	} >"$TMP/reads"
	while IFS= read -r got; do
		if [ "$got" != "200 $i {\"i\":$i}" ]; then
			fails=$((fails + 1))
			[ "$fails" -le 5 ] && echo "# after PUT $i a reader got: $got"
		fi
	done <"$TMP/reads"
	[ "$(wc -l <"$TMP/reads")" = "$READS" ] || fails=$((fails + 1))
done
after=$(io_writes "${PIDS[@]}")
echo "# write syscalls per process before/after: $before / $after"
expect_eq "$put_fails" 0 "$N PUTs, versions 1..$N, all acknowledged"
expect_eq "$fails" 0 "read-your-writes: $((N * READS)) reads on fresh connections right after each of $N writes see that write"
served=$(io_served "$before" "$after")
if [ "$served" -ge 2 ]; then ok "the reads were served by $served of ${#PIDS[@]} processes (cross-process)"; else
	not_ok "the reads were served by $served of ${#PIDS[@]} processes (want at least 2)"; fi

# ---- read-your-writes with the writes spread too: parallel workers ----
# worker W KEY COUNT - PUT i then GET (new connection), COUNT times; prints failures.
worker() {
	local tok=$1 key=$2 n=$3 f=0 k r g
	for ((k = 1; k <= n; k++)); do
		r=$(q_put "$tok" "$key" "\"$key-$k\"")
		g=$(q_get "$tok" "$key")
		if [ "${r#* }" != "$k" ] || [ "$g" != "200 $k \"$key-$k\"" ]; then
			f=$((f + 1))
			echo "# $key: put $r, get $g" >&2
		fi
	done
	echo "$f"
}
before=$(io_writes "${PIDS[@]}")
for w in 1 2 3 4; do worker "$TA" "par$w" 40 >"$TMP/w$w" 2>"$TMP/w$w.err" & done
# and user B writes the key name user A also uses, at the same time
worker "$TB" par1 40 >"$TMP/wb" 2>"$TMP/wb.err" &
wait
after=$(io_writes "${PIDS[@]}")
wfails=0
for f in "$TMP"/w1 "$TMP"/w2 "$TMP"/w3 "$TMP"/w4 "$TMP"/wb; do wfails=$((wfails + $(cat "$f"))); done
cat "$TMP"/w*.err | head -n 5
expect_eq "$wfails" 0 "5 parallel workers x 40 write/read pairs: every read sees its write"
served=$(io_served "$before" "$after")
# lighttpd spreads by load; mod_fcgid hands a request to the idle process it
# used last, so with writes this fast two may carry all five workers there.
want=$((${#PIDS[@]} < 3 ? ${#PIDS[@]} : 3))
[ "${WEB_SERVER:-lighttpd}" = apache ] && want=2
if [ "$served" -ge "$want" ]; then ok "parallel writers and readers used $served of ${#PIDS[@]} processes"; else
	not_ok "parallel writers and readers used $served of ${#PIDS[@]} processes (want at least $want)"; fi
TOKEN=$TA dget par1
expect_json '.value + " " + (.version | tostring)' 'par1-40 40' "user A's par1 is user A's last write"
TOKEN=$TB dget par1
expect_json '.value + " " + (.version | tostring)' 'par1-40 40' "user B's par1 is user B's own last write, version 40"

# ---- two users, same key name, interleaved ----
cross=0
for i in $(seq 30); do
	q_put "$TA" shared "\"A$i\"" >/dev/null
	q_put "$TB" shared "\"B$i\"" >/dev/null
	for t in A B; do
		tok=$TA
		[ "$t" = B ] && tok=$TB
		for ((j = 0; j < 2; j++)); do q_get "$tok" shared >"$TMP/s$t$j" & done
	done
	wait
	for j in 0 1; do
		[ "$(cat "$TMP/sA$j")" = "200 $i \"A$i\"" ] || cross=$((cross + 1))
		[ "$(cat "$TMP/sB$j")" = "200 $i \"B$i\"" ] || cross=$((cross + 1))
	done
done
expect_eq "$cross" 0 "two users writing the same key name each read only their own value (120 reads)"

# ---- concurrent writers: no lost update ----
dput race '"start"'
v0=$(printf '%s' "$BODY" | jq -r .version)
for i in $(seq 20); do
	curl -sk --max-time 20 -X PUT -H "Authorization: Bearer $TA" "${JSON_CT[@]}" \
		--data-binary "{\"writer\":$i}" -o "$TMP/race$i" -w '%{http_code}\n' "$BASE/api/data/race" >"$TMP/race$i.st" &
done
wait
codes=$(cat "$TMP"/race*.st | sort | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')
expect_eq "$codes" "200x20" "20 concurrent PUTs of an existing key all answer 200"
versions=$(for i in $(seq 20); do jq -r .version "$TMP/race$i"; done | sort -n | paste -sd' ')
expect_eq "$versions" "$(seq $((v0 + 1)) $((v0 + 20)) | paste -sd' ')" "the 20 PUTs got versions $((v0 + 1))..$((v0 + 20)), one each"
dget race
expect_json '.version' $((v0 + 20)) "the final version is the previous + 20 (no lost update)"
final_writer=$(printf '%s' "$BODY" | jq -c .value)
want_writer=$(for i in $(seq 20); do jq -c "select(.version == $((v0 + 20))) | .value" "$TMP/race$i"; done)
expect_eq "$final_writer" "$want_writer" "GET returns the value of the PUT that got the final version"
stale=0
for j in $(seq 12); do q_get "$TA" race >"$TMP/rg$j" & done
wait
for j in $(seq 12); do [ "$(cat "$TMP/rg$j")" = "200 $((v0 + 20)) $final_writer" ] || stale=$((stale + 1)); done
expect_eq "$stale" 0 "12 concurrent GETs after the race all return the final version and value"

for i in $(seq 20); do
	curl -sk --max-time 20 -X PUT -H "Authorization: Bearer $TA" "${JSON_CT[@]}" \
		--data-binary "{\"creator\":$i}" -o "$TMP/new$i" -w '%{http_code}\n' "$BASE/api/data/fresh-race" >"$TMP/new$i.st" &
done
wait
codes=$(cat "$TMP"/new*.st | sort | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')
expect_eq "$codes" "200x19 201x1" "20 concurrent PUTs of a new key: exactly one 201"
versions=$(for i in $(seq 20); do jq -r .version "$TMP/new$i"; done | sort -n | paste -sd' ')
expect_eq "$versions" "$(seq 1 20 | paste -sd' ')" "... with versions 1..20"
first=$(for i in $(seq 20); do [ "$(cat "$TMP/new$i.st")" = 201 ] && jq -r .version "$TMP/new$i"; done)
expect_eq "$first" 1 "the 201 is version 1"

# ---- two sessions of the same user ----
# D_NAME / D_PASS are user B's (the last data_user): a second session of B.
login_bearer "$D_NAME" "$D_PASS" || exit 1
TB2=$ACCESS
alt=0
for i in $(seq 40); do
	if ((i % 2)); then w=$TB r=$TB2; else w=$TB2 r=$TB; fi
	q_put "$w" alt "$i" >/dev/null
	g1=$(q_get "$r" alt)
	g2=$(q_get "$w" alt)
	if [ "$g1" != "200 $i $i" ] || [ "$g2" != "200 $i $i" ]; then
		alt=$((alt + 1))
		[ "$alt" -le 3 ] && echo "# alt $i: $g1 / $g2"
	fi
done
expect_eq "$alt" 0 "two sessions of one user alternating writes and reads always read the last write"

# ---- after a DELETE, every process says 404 ----
dput gone '"here"'
for r in 1 2 3; do
	for j in $(seq 8); do q_get "$TA" gone >/dev/null & done
	wait
done
ddel gone
expect_status 204 "DELETE of a key every process has cached"
not404=0
for j in $(seq 10); do q_get "$TA" gone >"$TMP/g$j" & done
wait
for j in $(seq 10); do [ "$(cut -d' ' -f1 "$TMP/g$j")" = 404 ] || not404=$((not404 + 1)); done
for j in $(seq 10); do [ "$(q_get "$TA" gone | cut -d' ' -f1)" = 404 ] || not404=$((not404 + 1)); done
expect_eq "$not404" 0 "after the DELETE, 20 GETs (10 at once, 10 in a row) all answer 404"
dput gone '"back"'
expect_status 201 "the key is created again"
expect_json '.version' 2 "... as version 2"
back=0
for j in $(seq 10); do q_get "$TA" gone >"$TMP/g$j" & done
wait
for j in $(seq 10); do [ "$(cat "$TMP/g$j")" = "200 2 \"back\"" ] || back=$((back + 1)); done
expect_eq "$back" 0 "10 concurrent GETs see the re-created key"

expect_eq "$(still_running "${PIDS[@]}")" "${#PIDS[@]}" "no data process restarted during the test"

if restore_web; then ok "the web server is back to the default FCGI_PROCS"; else
	not_ok "the web server is back to the default FCGI_PROCS"; fi
auth_finish
