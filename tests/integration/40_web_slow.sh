#!/usr/bin/env bash
# Slow clients are shed, the same under every server: a client that
# completes the TLS handshake, sends part of its request and then goes
# quiet is cut off after about WEB_READ_TIMEOUT seconds (lighttpd:
# server.max-read-idle; Apache: RequestReadTimeout), and so is one that
# stops in the middle of its body, while other clients are served as usual
# all along.  Then: a client trickling its headers is dropped under Apache
# (RequestReadTimeout's MinRate); one address holding WEB_MAX_CONNS_PER_IP
# idle connections is refused more while 127.0.0.1 is served (lighttpd: a
# 503 at the next request; Apache: the connection closed at once).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

echo "# web server: $(web_name)"
T=$(knob WEB_READ_TIMEOUT 20)
LIMIT=$((T * 2 + 10))
echo "# WEB_READ_TIMEOUT=$T"

# slow_start NAME TEXT - opens a TLS connection and sends TEXT (printf
# format), then keeps the connection open and silent: the write end of a
# FIFO stays open in this shell (fd 7, 8, ...).  Sets SLOW_PID.
slow_fd=7
slow_start() {
	local fifo=$TMP/$1.in
	mkfifo "$fifo"
	openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$HTTPS_PORT" -servername localhost \
		<"$fifo" >"$TMP/$1.out" 2>"$TMP/$1.err" &
	SLOW_PID=$!
	eval "exec $slow_fd>\"\$fifo\""
	# shellcheck disable=SC2059 # the format is ours
	printf "$2" >&"$slow_fd"
	slow_fd=$((slow_fd + 1))
}

# slow_wait PID NAME - waits up to LIMIT seconds for the server to drop the
# connection (s_client then exits); prints the seconds it took, or "never".
slow_wait() {
	local pid=$1 t0=$2 i
	for ((i = 0; i < LIMIT * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo $((SECONDS - t0))
			return 0
		fi
		sleep 0.1
	done
	kill "$pid" 2>/dev/null
	echo never
}

t0=$SECONDS
slow_start headers 'GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: yes\r\n'
h_pid=$SLOW_PID
slow_start body 'PUT /api/data/k HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"partial":'
b_pid=$SLOW_PID
sleep 1
for i in 1 2 3 4 5; do
	call GET /api/health --max-time 3
	expect_status 200 "request $i is served while two clients stall"
	sleep 0.5
done
h_took=$(slow_wait "$h_pid" "$t0")
b_took=$(slow_wait "$b_pid" "$t0")
for what in "headers:$h_took" "body:$b_took"; do
	took=${what#*:}
	if [ "$took" = never ]; then
		not_ok "a client stalled in its ${what%%:*} is still connected after ${LIMIT}s"
	elif [ "$took" -ge $((T - 1)) ]; then
		ok "a client stalled in its ${what%%:*} is cut off after ${took}s (WEB_READ_TIMEOUT=$T)"
	else
		not_ok "a client stalled in its ${what%%:*} was cut off too early (${took}s, WEB_READ_TIMEOUT=$T): $(head -c 200 "$TMP/${what%%:*}.err")"
	fi
done
call GET /api/health
expect_status 200 "the server serves on after shedding them"
exec 7>&- 8>&-

# ---- a client that trickles its headers (one line a second) ----
# Apache's RequestReadTimeout wants 500 bytes a second: it drops it within
# the header timeout (WEB_READ_TIMEOUT, extended to at most twice that).
# lighttpd 1.4.69 restarts its read timeout with every byte and has no
# minimum rate: there the per-address cap is what bounds it (docs/deployment.md).
if [ "${WEB_SERVER:-lighttpd}" = apache ]; then
	fifo=$TMP/trickle.in
	mkfifo "$fifo"
	openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$HTTPS_PORT" -servername localhost \
		<"$fifo" >"$TMP/trickle.out" 2>/dev/null &
	tpid=$!
	exec 9>"$fifo"
	t0=$SECONDS
	printf 'GET /api/health HTTP/1.1\r\nHost: localhost\r\n' >&9
	for ((i = 0; i < LIMIT; i++)); do
		kill -0 "$tpid" 2>/dev/null || break
		printf 'X-Trickle-%d: y\r\n' "$i" >&9 2>/dev/null || break
		sleep 1
	done
	took=$((SECONDS - t0))
	if kill -0 "$tpid" 2>/dev/null; then
		kill "$tpid" 2>/dev/null
		not_ok "a client trickling its headers is still connected after ${took}s"
	elif [ "$took" -le $((T * 2 + 3)) ]; then
		ok "a client trickling its headers is dropped after ${took}s (WEB_READ_TIMEOUT=$T, MinRate 500)"
	else
		not_ok "a client trickling its headers was dropped late (${took}s)"
	fi
	exec 9>&-
else
	ok "skipped under $(web_name): no minimum rate (docs/deployment.md: the per-address cap bounds it)"
fi

# ---- at most WEB_MAX_CONNS_PER_IP connections per client address ----
max=$(senv WEB_MAX_CONNS_PER_IP "")
expect_eq "$max" 32 "the web server gets WEB_MAX_CONNS_PER_IP=32 by default"
max=${max:-32}
if [ "${WEB_SERVER:-lighttpd}" = apache ]; then
	# Apache (apache/mod_portcullis_conncap.c): a connection over the cap
	# is closed at once, before its TLS handshake, so the last 8 of the
	# idle ones are gone within the first second and a new one from the
	# same address gets no answer at all.
	python3 "$(dirname "$0")/idle_conns.py" 127.0.0.2 "$HTTPS_PORT" $((max + 8)) $((T + 3)) tls >"$TMP/idle.out" 2>&1 &
	ipid=$!
	for _ in $(seq 1 100); do grep -qs '^closed_after_1s' "$TMP/idle.out" && break; sleep 0.1; done
	expect_eq "$(sed -n 's/^open //p' "$TMP/idle.out")" $((max + 8)) "127.0.0.2 opens $((max + 8)) idle connections"
	echo "# opened in $(sed -n 's/^opened_in //p' "$TMP/idle.out") s"
	expect_eq "$(sed -n 's/^handshakes_refused //p' "$TMP/idle.out")" 8 \
		"the 8 over WEB_MAX_CONNS_PER_IP=$max are closed before their TLS handshake"
	expect_eq "$(sed -n 's/^closed_after_1s //p' "$TMP/idle.out")" 8 \
		"the first $max are kept"
	call_url GET "https://127.0.0.2:$HTTPS_PORT/api/health" --interface 127.0.0.2 --max-time 5
	expect_eq "$STATUS" 000 "a new connection from 127.0.0.2 over the cap is closed unanswered"
	call_url GET "http://127.0.0.2:$HTTP_PORT/api/health" --interface 127.0.0.2 --max-time 5
	expect_eq "$STATUS" 000 "the cap holds on the plain HTTP port too"
else
	python3 "$(dirname "$0")/idle_conns.py" 127.0.0.2 "$HTTPS_PORT" $((max + 8)) $((T + 3)) >"$TMP/idle.out" 2>&1 &
	ipid=$!
	for _ in $(seq 1 50); do grep -qs '^open' "$TMP/idle.out" && break; sleep 0.1; done
	expect_eq "$(sed -n 's/^open //p' "$TMP/idle.out")" $((max + 8)) "127.0.0.2 opens $((max + 8)) idle connections"
	call_url GET "https://127.0.0.2:$HTTPS_PORT/api/health" --interface 127.0.0.2 --max-time 5
	expect_error 503 service_unavailable "a request from 127.0.0.2 over WEB_MAX_CONNS_PER_IP=$max"
	expect_header Retry-After '[0-9]+' "the 503 over the cap says when to come back"
fi
call_url GET "https://127.0.0.1:$HTTPS_PORT/api/health" --max-time 5
expect_status 200 "127.0.0.1 is still served"
wait "$ipid"
if grep -q "^closed_at_end $((max + 8))" "$TMP/idle.out"; then
	ok "the idle connections are dropped after WEB_READ_TIMEOUT"
else
	not_ok "idle connections left open: $(tr '\n' ' ' <"$TMP/idle.out")"
fi
call_url GET "https://127.0.0.2:$HTTPS_PORT/api/health" --interface 127.0.0.2 --max-time 5
expect_status 200 "127.0.0.2 is served again once they are gone"
