#!/usr/bin/env bash
# GET /api/ready follows the backends: ok, degraded without Redis, 503
# unavailable without PostgreSQL, and back to ok when they return, without
# restarting the responders.
source "$(dirname "$0")/lib.sh"

ready_is() { # STATUS PG REDIS
	call GET /api/ready
	[ "$STATUS" = "$1" ] &&
		[ "$(printf '%s' "$BODY" | jq -r '.checks.postgres')" = "$2" ] &&
		[ "$(printf '%s' "$BODY" | jq -r '.checks.redis')" = "$3" ]
}
# The health responders of this stack only (lib.sh), on one line.
responder_pids() { stack_pids health | tr '\n' ' '; }

call GET /api/ready
expect_status 200 "ready with both backends"
expect_json '.status' 'ok' "ready"
expect_json '.checks.postgres' 'ok' "ready"
expect_json '.checks.redis' 'ok' "ready"
expect_json 'keys | join(",")' 'checks,status' "ready has status and checks only"
expect_api_shape "ready"
pids_before=$(responder_pids)
expect_eq "$([ -n "$pids_before" ] && echo yes)" yes "responder processes are running"

scripts/stack.sh stop redis >/dev/null 2>&1
wait_for "ready turns degraded when Redis stops" 15 ready_is 200 ok down
expect_json '.status' 'degraded' "Redis down"
call GET /api/health
expect_status 200 "health does not depend on Redis"

scripts/stack.sh start redis >/dev/null 2>&1
wait_for "ready is ok again when Redis is back" 15 ready_is 200 ok ok
expect_json '.status' 'ok' "Redis back"

scripts/stack.sh stop postgres >/dev/null 2>&1
wait_for "ready answers 503 when PostgreSQL stops" 15 ready_is 503 down ok
expect_json '.status' 'unavailable' "PostgreSQL down"
expect_header Retry-After '[0-9]+' "503 from ready carries Retry-After"
expect_json 'has("error")' 'false' "ready answers with its status object, not the error envelope"
call GET /api/health
expect_status 200 "health does not depend on PostgreSQL"

scripts/stack.sh stop redis >/dev/null 2>&1
wait_for "both down: 503 with both checks down" 15 ready_is 503 down down

scripts/stack.sh start postgres >/dev/null 2>&1
scripts/stack.sh start redis >/dev/null 2>&1
wait_for "ready is ok again when both are back" 20 ready_is 200 ok ok
# mod_fcgid may start more processes on demand: none that was there may have gone.
pids_after=" $(responder_pids)"
gone=""
for pid in $pids_before; do
	case "$pids_after" in *" $pid "*) ;; *) gone="$gone $pid" ;; esac
done
expect_eq "$gone" "" "the responders were not restarted"

# Many requests in a row on the recovered connections all succeed.
fails=0
for _ in $(seq 30); do
	call GET /api/ready
	[ "$STATUS" = 200 ] || fails=$((fails + 1))
done
expect_eq "$fails" 0 "30 ready checks after recovery all answer 200"
