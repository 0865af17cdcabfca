#!/usr/bin/env bash
# Slow clients are shed, the same under every server: a client that
# completes the TLS handshake, sends part of its request and then goes
# quiet is cut off after about WEB_READ_TIMEOUT seconds (lighttpd:
# server.max-read-idle; Apache: RequestReadTimeout), and so is one that
# stops in the middle of its body, while other clients are served as usual
# all along.
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
