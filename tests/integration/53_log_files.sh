#!/usr/bin/env bash
# Log destinations and rotation: where the JSON lines go and that a log
# file can be rotated under running responders.
#
#  - LOG_FILE=- (the Docker image's default) and LOG_FILE unset: a plain-CGI
#    responder writes its JSON lines to standard error, and nothing else
#    there;
#  - LOG_MAX_BYTES: a file over the size is renamed to LOG_FILE.1 (replacing
#    an older one) and the line goes to a fresh LOG_FILE;
#  - the stack's responders (FastCGI, behind the web server under test):
#    after the log is renamed away they write to a new file at the path, by
#    themselves within a second, and on SIGHUP at once; SIGHUP neither kills
#    nor restarts them (their pids stay), and the renamed file gets no more
#    lines (what logrotate without copytruncate needs).
source "$(dirname "$0")/lib.sh"

export VAR_DIR=${VAR_DIR:-$ROOT/var/test}
STACK=$ROOT/scripts/stack.sh
"$STACK" env >"$TMP/stack.env" 2>/dev/null
LOG=$(sed -n 's/^LOG_FILE=//p' "$TMP/stack.env")
mapfile -t SENV < <(grep -vE '^(LOG_FILE|LOG_MAX_BYTES|METRICS_FILE)=' "$TMP/stack.env")

# cgi VAR=VALUE... - GET /api/health as plain CGI; stdout to $TMP/out, stderr to $TMP/err.
cgi() {
	env -i "${SENV[@]}" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 METRICS_FILE="$TMP/metrics" \
		REQUEST_METHOD=GET REQUEST_URI=/api/health "$@" "$ROOT/cgi-bin/health" \
		>"$TMP/out" 2>"$TMP/err" </dev/null
}
# json_lines FILE - how many lines of FILE are JSON objects with ts, level, msg, process.
json_lines() {
	jq -R 'fromjson? | select(type == "object" and has("ts") and has("level") and has("msg") and has("process"))' "$1" 2>/dev/null |
		jq -s length
}

# ---- standard error ------------------------------------------------------------
for v in LOG_FILE=- ""; do
	what=${v:-"LOG_FILE unset"}
	if [ -n "$v" ]; then cgi "$v"; else cgi; fi
	total=$(wc -l <"$TMP/err")
	good=$(json_lines "$TMP/err")
	if [ "$total" -ge 1 ] && [ "$good" = "$total" ] &&
		[ "$(jq -r 'select(.msg == "request") | .route' "$TMP/err" | head -n1)" = /api/health ]; then
		ok "$what: the JSON lines go to standard error ($total, the request line among them)"
	else
		not_ok "$what: stderr has $total lines, $good JSON: $(head -c 300 "$TMP/err")"
	fi
	expect_eq "$(sed -n '1s/\r$//p' "$TMP/out")" "Status: 200 OK" "$what: the answer is unchanged on standard output"
done
cgi LOG_FILE="$TMP/file.log"
expect_eq "$(wc -c <"$TMP/err")" 0 "LOG_FILE=<file>: nothing on standard error"
expect_eq "$(json_lines "$TMP/file.log")" "$(wc -l <"$TMP/file.log")" "LOG_FILE=<file>: every line there is JSON"

# ---- LOG_MAX_BYTES ----------------------------------------------------------------
printf 'older\n' >"$TMP/size.log.1"
head -c 5000 /dev/zero | tr '\0' x >"$TMP/size.log"
printf '\n' >>"$TMP/size.log"
cgi LOG_FILE="$TMP/size.log" LOG_MAX_BYTES=4096
if [ "$(head -c 4 "$TMP/size.log.1")" = xxxx ] && [ "$(json_lines "$TMP/size.log")" -ge 1 ] &&
	! grep -q xxxx "$TMP/size.log"; then
	ok "LOG_MAX_BYTES: a full file is renamed to .1 (replacing the older one), lines go to a new one"
else
	not_ok "LOG_MAX_BYTES rotation: .1 starts '$(head -c 10 "$TMP/size.log.1")', new file: $(head -c 200 "$TMP/size.log")"
fi
head -c 100 /dev/zero | tr '\0' y >"$TMP/small.log"
cgi LOG_FILE="$TMP/small.log" LOG_MAX_BYTES=4096
if [ ! -e "$TMP/small.log.1" ] && grep -q yyyy "$TMP/small.log"; then
	ok "LOG_MAX_BYTES: a file under the size is kept"
else
	not_ok "LOG_MAX_BYTES: a small file was rotated"
fi
bad=$(env -i "${SENV[@]}" LOG_MAX_BYTES=-1 "$ROOT/cgi-bin/health" --check-config 2>&1)
if [[ $bad == *LOG_MAX_BYTES* ]]; then ok "LOG_MAX_BYTES=-1 stops startup naming it"; else
	not_ok "LOG_MAX_BYTES=-1: $bad"; fi

# ---- the stack's responders: rename, SIGHUP ------------------------------------------
if [ -z "$LOG" ] || [ "$LOG" = - ] || [ ! -f "$LOG" ]; then
	not_ok "the stack logs to a file (LOG_FILE=$LOG)"
	exit 0
fi
# hit ID - GET /api/health with X-Request-Id ID through the web server.
hit() { curl -sk --max-time 10 -o /dev/null -H "X-Request-Id: $1" "$BASE/api/health"; }
# has_line FILE ID - whether FILE has the request line of ID.
has_line() { grep -qF "\"request_id\":\"$2\"" "$1" 2>/dev/null; }
# hits_after TAG OLDFILE - sends the 8 requests ids[] (TAG-...), then counts
# their request lines in $LOG (new) and in OLDFILE, the renamed log (old).
hits_after() {
	local i id
	ids=()
	for i in 1 2 3 4 5 6 7 8; do ids+=("$1-$$-$i"); hit "$1-$$-$i"; done
	sleep 0.3
	new=0 old=0
	for id in "${ids[@]}"; do
		has_line "$LOG" "$id" && new=$((new + 1))
		has_line "$2" "$id" && old=$((old + 1))
	done
}

for i in 1 2 3 4 5 6; do hit "warm-$$-$i"; done
mapfile -t before < <(stack_pids health)
if [ "${#before[@]}" -ge 1 ]; then ok "the stack's health responder runs (${#before[@]} processes)"; else
	not_ok "no health responder process of this stack found"
	exit 0
fi

# 1. Renamed away, no signal: the next lines, a second later, land in a new file.
mv "$LOG" "$LOG.rotated"
sleep 1.2
hits_after moved "$LOG.rotated"
if [ -f "$LOG" ] && [ "$new" = "${#ids[@]}" ] && [ "$old" = 0 ]; then
	ok "after a rename the responders write to a new file at the path by themselves (${#ids[@]} of ${#ids[@]})"
else
	not_ok "after a rename: $new lines in the new file, $old in the renamed one, of ${#ids[@]}"
fi

# 2. Renamed again, then SIGHUP at once: reopened, and the processes stay.
mv "$LOG" "$LOG.rotated2"
mapfile -t pids < <(stack_pids health; stack_pids register; stack_pids login; stack_pids session; stack_pids data)
kill -HUP "${pids[@]}" 2>/dev/null
sleep 0.3
hits_after hup "$LOG.rotated2"
if [ "$new" = "${#ids[@]}" ] && [ "$old" = 0 ]; then
	ok "after a rename and SIGHUP every line goes to the new file (${#ids[@]} of ${#ids[@]})"
else
	not_ok "after SIGHUP: $new lines in the new file, $old in the renamed one, of ${#ids[@]}"
fi
mapfile -t after < <(stack_pids health)
expect_eq "${after[*]}" "${before[*]}" "SIGHUP neither kills nor restarts the responders (same health pids)"
if [ -f "$LOG" ] && [ "$(stat -c %a "$LOG")" = 640 ]; then ok "the new log file is created 0640"; else
	not_ok "new log file mode: $(stat -c %a "$LOG" 2>&1)"; fi
rm -f "$LOG.rotated" "$LOG.rotated2"
