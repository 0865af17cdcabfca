#!/usr/bin/env bash
# Nothing grows without bound (API.md, Operations): expired and revoked
# sessions with their refresh tokens, spent tokens' sealed successors, and
# failed-login records older than their window are purged automatically -
# after a login or refresh has answered (at most once a minute per FastCGI
# process, after every request of a plain CGI one), by a bounded batch.
#
# Ages are set in PostgreSQL directly (the TTLs are days long), then one
# login - through plain CGI, then through the stack after a web-server
# restart (fresh processes purge on their first login) - must leave only
# what is still needed: live sessions, revocations still inside the replay
# window, failures still inside the window.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

STACK=$ROOT/scripts/stack.sh
"$STACK" env >"$TMP/stack.env" 2>/dev/null
mapfile -t SENV < <(grep -vE '^(LOG_FILE|METRICS_FILE)=' "$TMP/stack.env")
cgi_login() { # NAME PASSWORD - one login through plain CGI; output in $TMP/cgi.out
	local body="{\"username\":$(jstr "$1"),\"password\":$(jstr "$2")}"
	printf '%s' "$body" | env -i "${SENV[@]}" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 \
		LOG_FILE="$TMP/cgi.log" METRICS_FILE="$TMP/metrics" CONTENT_LENGTH=${#body} \
		REQUEST_METHOD=POST REQUEST_URI=/api/auth/login CONTENT_TYPE=application/json \
		"$ROOT/cgi-bin/login" >"$TMP/cgi.out" 2>"$TMP/cgi.err"
}
q() { psql_q "$1"; }
sessions_of() { q "SELECT count(*) FROM sessions WHERE user_id = '$1'"; }
bytea_of() { printf "sha256(convert_to('%s', 'UTF8'))" "$1"; }

# setup RUN - a user with: a live session refreshed twice (A), a session
# revoked long ago (B), a session whose live token expired long ago (C), a
# session revoked just now (D).  Sets UID_R, A_REFRESH and the session ids.
setup() {
	local n pw
	n=$(uniq_name Purge$1)
	pw=$(uniq_password)
	PNAME=$n PPW=$pw
	register "$n" "$pw" || return 1
	UID_R=$USER_ID
	login_bearer "$n" "$pw" || return 1
	A_SID=$SID A_FIRST=$REFRESH
	post_json /api/auth/refresh "{\"refresh_token\":$(jstr "$REFRESH")}"
	A_SECOND=$(printf '%s' "$BODY" | jq -r .refresh_token)
	post_json /api/auth/refresh "{\"refresh_token\":$(jstr "$A_SECOND")}"
	A_REFRESH=$(printf '%s' "$BODY" | jq -r .refresh_token)
	remember "$A_SECOND" "$A_REFRESH"
	login_bearer "$n" "$pw" && B_SID=$SID
	login_bearer "$n" "$pw" && C_SID=$SID
	login_bearer "$n" "$pw" && D_SID=$SID
	call POST /api/auth/logout "${JSON_CT[@]}" -H "Authorization: Bearer $ACCESS" --data-binary '{}'
	# ages
	q "UPDATE sessions SET revoked_at = now() - interval '2 days', revoked_reason = 'logout' WHERE id = '$B_SID'" >/dev/null
	q "UPDATE refresh_tokens SET expires_at = now() - interval '2 days', created_at = now() - interval '30 days' WHERE session_id = '$C_SID'" >/dev/null
	# A's spent tokens: spent an hour ago (successor no longer needed); the first also expired
	q "UPDATE refresh_tokens SET spent_at = now() - interval '1 hour' WHERE session_id = '$A_SID' AND spent_at IS NOT NULL" >/dev/null
	q "UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE token_hash = $(bytea_of "$A_FIRST")" >/dev/null
	expect_eq "$(sessions_of "$UID_R"),$(q "SELECT count(*) FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = '$UID_R' AND t.successor IS NOT NULL")" \
		"4,2" "setup $1: four sessions, two spent tokens with sealed successors"
}

# failures - a failed-login row from long ago and a recent one (stamped a
# minute ahead, so that it is inside the test stack's few-second
# LOGIN_FAILURE_WINDOW whenever the purge runs on a loaded machine).
failures() {
	OLD_HASH=$(openssl rand -hex 32) NEW_HASH=$(openssl rand -hex 32)
	q "INSERT INTO login_failures (name_hash, failed_at) VALUES ('\\x$OLD_HASH', ARRAY[now() - interval '2 days', now() - interval '1 day']), ('\\x$NEW_HASH', ARRAY[now() - interval '2 days', now() + interval '1 minute'])" >/dev/null
}

# check WHAT - what the purge must have left.
check() {
	local what=$1
	expect_eq "$(q "SELECT count(*) FROM sessions WHERE id IN ('$B_SID', '$C_SID')")" 0 "$what: the long-revoked and the long-expired sessions are gone"
	expect_eq "$(q "SELECT count(*) FROM refresh_tokens WHERE session_id IN ('$B_SID', '$C_SID')")" 0 "$what: ... with their refresh tokens"
	expect_eq "$(q "SELECT count(*) FROM sessions WHERE id IN ('$A_SID', '$D_SID')")" 2 "$what: the live session and the one revoked just now (inside the replay window) stay"
	expect_eq "$(q "SELECT count(*) FROM refresh_tokens WHERE token_hash = $(bytea_of "$A_FIRST")")" 0 "$what: the expired spent token is gone"
	expect_eq "$(q "SELECT count(*) FILTER (WHERE successor IS NULL) || '/' || count(*) FROM refresh_tokens WHERE session_id = '$A_SID' AND spent_at IS NOT NULL")" "1/1" \
		"$what: the other spent token stays (reuse detection) without its sealed successor"
	expect_eq "$(q "SELECT count(*) FROM login_failures WHERE name_hash = '\\x$OLD_HASH'"),$(q "SELECT count(*) FROM login_failures WHERE name_hash = '\\x$NEW_HASH'")" "0,1" \
		"$what: a failed-login row whose failures all left the window is gone; one with a recent failure stays"
}

# ---- plain CGI: the purge runs after the answer ----
setup cgi
failures
cgi_login "$PNAME" "$PPW"
expect_eq "$(sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$TMP/cgi.out")" 200 "plain CGI: login answers 200"
if jq -e 'select(.msg == "purged" and .expired_sessions >= 1 and .revoked_sessions >= 1)' "$TMP/cgi.log" >/dev/null 2>&1; then
	ok "plain CGI: the login's process logged what it purged"
else
	not_ok "plain CGI: no 'purged' line with sessions in the CGI log: $(grep purged "$TMP/cgi.log" | head -c 300)"
fi
check "plain CGI"

# ---- FastCGI: a fresh process purges after its first login ----
setup fcgi
"$STACK" stop web >/dev/null 2>&1
"$STACK" start web >/dev/null 2>&1
wait_for "the web server restarted" 30 ready_ok
failures
login_bearer "$PNAME" "$PPW"
gone() { [ "$(q "SELECT count(*) FROM sessions WHERE id IN ('$B_SID', '$C_SID')")" = 0 ]; }
wait_for "FastCGI: the purge ran after a login" 10 gone
check "FastCGI"
post_json /api/auth/refresh "{\"refresh_token\":$(jstr "$A_REFRESH")}"
expect_status 200 "FastCGI: the live session still refreshes after the purge"
remember "$(printf '%s' "$BODY" | jq -r .refresh_token)" "$(printf '%s' "$BODY" | jq -r .access_token)"
post_json /api/auth/refresh "{\"refresh_token\":$(jstr "$A_SECOND")}"
expect_error 401 refresh_token_reused "FastCGI: a spent token whose successor was purged still reveals its reuse"

auth_finish
