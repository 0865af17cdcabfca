#!/usr/bin/env bash
# More requests at once than a responder has processes queue for them, the
# same under every server, and none takes a second: lighttpd and
# mod_proxy_fcgi queue them for a process (the socket's backlog, the proxy
# pool), and under mod_fcgid, which has no queue (a request that finds
# every process of its responder busy sleeps one whole second in
# fcgid_bridge.c), apache/mod_portcullis_fcgid_gate.c does.  Without the
# gate, the load below meets that sleep on every run.  Under mod_fcgid,
# also: the pool was started whole with Apache (the warm-up of
# scripts/lib/apache.sh) and does not grow past FCGI_PROCS_DATA under the
# load.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

echo "# web server: $(web_name)"
fcgid=0
[ "$(web_name)" = "apache (fcgid)" ] && fcgid=1

new_user
pool=$(stack_pids data | wc -l)
echo "# data processes: $pool"
if [ "$fcgid" = 1 ]; then
	want=$(knob FCGI_PROCS_DATA "$(knob FCGI_PROCS "")")
	if [ -z "$want" ]; then
		cores=$(nproc)
		want=$((2 * cores + 2 > 64 ? 64 : 2 * cores + 2))
	fi
	expect_eq "$pool" "$want" "mod_fcgid: the data pool runs whole from the start ($want processes)"
fi

# Four times the pool, but under the per-address connection cap.
conns=$((pool * 4))
cap=$(senv WEB_MAX_CONNS_PER_IP 32)
[ "$cap" -eq 0 ] || [ "$conns" -le $((cap - 4)) ] || conns=$((cap - 4))
[ "$conns" -gt "$pool" ] || conns=$((pool + 1))
echo "# $conns requests at once, 5 rounds"

# A data read (a missing key: 404), each on its own connection, all at once.
conf="header = \"Authorization: Bearer $TOKEN\""$'\n'
for ((i = 0; i < conns; i++)); do
	conf+="url = \"$BASE/api/data/queue-$i\""$'\n'"output = \"/dev/null\""$'\n'
done
: >"$TMP/times"
for round in 1 2 3 4 5; do
	printf '%s' "$conf" | curl --silent --insecure --http1.1 --parallel --parallel-immediate \
		--parallel-max "$conns" --max-time 20 --config - -w '%{http_code} %{time_total}\n' \
		>>"$TMP/times" 2>/dev/null
	: "$round"
done
n=$(wc -l <"$TMP/times")
expect_eq "$n" $((conns * 5)) "every request was answered"
bad=$(awk '$1 != 404' "$TMP/times" | sort | uniq -c | tr '\n' ' ')
expect_eq "$bad" "" "every request got its 404 (a missing key), none a 503"
slowest=$(sort -k2 -n "$TMP/times" | tail -n 1 | cut -d' ' -f2)
echo "# slowest request: ${slowest:-none} s"
if awk -v t="${slowest:-9}" 'BEGIN { exit !(t < 1.0) }'; then
	ok "no request took a second or more ($conns at once on $pool processes; slowest ${slowest} s)"
else
	not_ok "no request took a second or more ($conns at once on $pool processes; slowest ${slowest} s)"
fi

if [ "$fcgid" = 1 ]; then
	after=$(stack_pids data | wc -l)
	expect_eq "$after" "$pool" "mod_fcgid: the data pool did not grow under the load"
fi

