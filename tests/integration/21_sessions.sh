#!/usr/bin/env bash
# GET /api/sessions, DELETE /api/sessions/{id}, DELETE /api/sessions: the
# listing (shape, newest first, `current` from the request's own token,
# the User-Agent of the login cut to 256 bytes of whole characters, null
# when none, last_used_at moving on a refresh, revoked sessions absent);
# ending one (its access and refresh tokens fail at once; another user's id
# is a 404 like an unknown one and that session lives on); ending all the
# others; ending the current one is a logout (cookies cleared); the
# cross-site rule for cookie-authenticated DELETEs; revocation while Redis
# is down and after it comes back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

S=/api/sessions

# login_as MODE UA_ARGS... - a login (bearer or cookie) with the given curl
# User-Agent arguments; sets ACCESS, REFRESH, SID.
login_as() {
	local mode=$1 extra=""
	shift
	[ "$mode" = bearer ] && extra=',"token_transport":"bearer"'
	post_json /api/auth/login "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw")$extra}" "$@"
	if [ "$mode" = bearer ]; then
		ACCESS=$(printf '%s' "$BODY" | jq -r '.access_token // empty')
		REFRESH=$(printf '%s' "$BODY" | jq -r '.refresh_token // empty')
	else
		ACCESS=$(set_cookie_value __Host-access)
		REFRESH=$(set_cookie_value __Secure-refresh)
	fi
	SID=$(jwt_part "$ACCESS" 2 | jq -r '.sid // empty')
	remember "$ACCESS" "$REFRESH"
	[ "$STATUS" = 200 ] && [ -n "$SID" ] || not_ok "setup: $mode login (status $STATUS: ${BODY:0:120})"
}
list() { call GET $S -H "Authorization: Bearer $1"; }
# session_field SID FIELD - .FIELD of session SID in the last listing.
session_field() { printf '%s' "$BODY" | jq -r --arg id "$1" ".sessions[] | select(.id == \$id) | .$2"; }
ids() { printf '%s' "$BODY" | jq -r '[.sessions[].id] | join(",")'; }
end() { call DELETE "$S/$2" -H "Authorization: Bearer $1"; }

name=$(uniq_name Ses)
pw=$(uniq_password)
register "$name" "$pw"

# ---- listing ----
login_as bearer -A "agent-A/1.0 (X11)"
a=$ACCESS ar=$REFRESH asid=$SID
sleep 0.05
login_as cookie -H 'User-Agent:'
b=$ACCESS bsid=$SID
sleep 0.05
long="a$(rep 'é' 200)"
login_as bearer -H "User-Agent: $long"
c=$ACCESS csid=$SID

list "$a"
expect_status 200 "GET /api/sessions"
expect_api_shape "GET /api/sessions"
expect_json '.sessions | length' 3 "three sessions"
expect_eq "$(ids)" "$csid,$bsid,$asid" "newest created_at first"
expect_json '[.sessions[] | keys | join(",")] | unique | join(";")' \
	'created_at,current,id,last_used_at,user_agent' "each session has exactly the contract's fields"
expect_json '[.sessions[] | select(.current)] | map(.id) | join(",")' "$asid" "current: only the session of the request's own token"
expect_json '[.sessions[].current | type] | unique | join(",")' boolean "current is a boolean"
expect_eq "$(session_field "$asid" user_agent)" "agent-A/1.0 (X11)" "the User-Agent sent at login"
expect_eq "$(session_field "$bsid" 'user_agent | type')" null "no User-Agent: null"
want="a$(rep 'é' 127)"
expect_eq "$(session_field "$csid" user_agent)" "$want" "a long User-Agent: its first 256 bytes, cut back to whole UTF-8 characters (255 here)"
ts='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$'
bad=$(printf '%s' "$BODY" | jq -r --arg re "$ts" '[.sessions[] | .created_at, .last_used_at | select(test($re) | not)] | length')
expect_eq "$bad" 0 "created_at and last_used_at are RFC 3339 UTC"
expect_eq "$(session_field "$asid" last_used_at)" "$(session_field "$asid" created_at)" "never refreshed: last_used_at is the login"

call GET $S -H "Cookie: __Host-access=$b"
expect_status 200 "GET /api/sessions by cookie"
expect_json '[.sessions[] | select(.current)] | map(.id) | join(",")' "$bsid" "current follows the cookie's token"

# a User-Agent that is not UTF-8 is kept up to its first malformed byte
login_as bearer -H $'User-Agent: ua-latin1-caf\xe9-end'
l1=$SID
login_as bearer -H $'User-Agent: \xffua'
l2=$SID
list "$a"
expect_eq "$(session_field "$l1" user_agent)" "ua-latin1-caf" "a User-Agent that is not UTF-8: up to its first malformed byte"
expect_eq "$(session_field "$l2" 'user_agent | type')" null "... and null when that is its first byte"
end "$a" "$l1"
expect_status 204 "setup: end the first of those two"
end "$a" "$l2"
expect_status 204 "setup: end the second"
# the User-Agent is shown to its user, never logged (auth_finish greps the logs)
remember "agent-A/1.0 (X11)" "ua-latin1-caf"

# last_used_at moves on a refresh; created_at does not
list "$a"
a_created=$(session_field "$asid" created_at) a_used=$(session_field "$asid" last_used_at)
sleep 0.05
post_json /api/auth/refresh "{\"refresh_token\":\"$ar\"}"
expect_status 200 "setup: refresh session A"
a=$(printf '%s' "$BODY" | jq -r .access_token) ar=$(printf '%s' "$BODY" | jq -r .refresh_token)
remember "$a" "$ar"
list "$a"
expect_eq "$(session_field "$asid" created_at)" "$a_created" "a refresh keeps created_at"
if [[ "$(session_field "$asid" last_used_at)" > "$a_used" ]]; then ok "a refresh moves last_used_at ($a_used -> $(session_field "$asid" last_used_at))"; else
	not_ok "last_used_at did not move on refresh ($a_used -> $(session_field "$asid" last_used_at))"
fi
expect_json '[.sessions[] | select(.current)] | map(.id) | join(",")' "$asid" "the refreshed token is still session A's"

# revoked sessions are absent
call POST /api/auth/logout -H "Authorization: Bearer $c" "${NOBODY[@]}"
expect_status 204 "setup: log session C out"
list "$a"
expect_eq "$(ids)" "$bsid,$asid" "a logged-out session is not listed"

for bad_auth in "" "Authorization: Bearer garbage" "Authorization: Bearer $c"; do
	call GET $S ${bad_auth:+-H "$bad_auth"}
	expect_error 401 unauthenticated "GET /api/sessions with ${bad_auth:-no token}"
done
call POST $S "${NOBODY[@]}" -H "Authorization: Bearer $a"
expect_error 405 method_not_allowed "POST /api/sessions"
expect_header Allow 'GET, (HEAD, )?DELETE|DELETE, GET(, HEAD)?|GET, DELETE' "its Allow header"

# ---- another user ----
other=$(uniq_name Oth)
opw=$(uniq_password)
register "$other" "$opw"
login_bearer "$other" "$opw"
x=$ACCESS xr=$REFRESH xsid=$SID
end "$a" "$xsid"
expect_error 404 not_found "ending another user's session"
other_body=$(printf '%s' "$BODY" | jq -c 'del(.error.request_id)')
end "$a" "$(cat /proc/sys/kernel/random/uuid)"
expect_error 404 not_found "ending an unknown session"
expect_eq "$(printf '%s' "$BODY" | jq -c 'del(.error.request_id)')" "$other_body" "another user's session and an unknown one answer alike"
expect_eq "$(me_status "$x")" 200 "the other user's session lives on"
expect_eq "$(refresh_status "$xr")" 200 "... its refresh token too"
call GET $S -H "Authorization: Bearer $x"
expect_json '.sessions | length' 1 "the other user sees only their own session"
for junk in not-a-uuid "${asid}x" "${asid:0:35}" "%41" "$(rep 0 36)"; do
	end "$a" "$junk"
	expect_error 404 not_found "DELETE /api/sessions/$junk"
done

# ---- ending one ----
login_as bearer -A d
d=$ACCESS dr=$REFRESH dsid=$SID
end "$a" "$dsid"
expect_empty_204 "DELETE /api/sessions/{id}"
expect_no_set_cookie "ending another session of mine"
expect_eq "$(me_status "$d")" 401 "the ended session's access token fails at once"
expect_eq "$(refresh_status "$dr")" 401 "... and its refresh token"
expect_eq "$(psql_q "SELECT revoked_reason FROM sessions WHERE id = '$dsid'")" logout "it is revoked as by its own logout"
expect_eq "$(me_status "$a")" 200 "the session that ended it lives on"
end "$a" "$dsid"
expect_error 404 not_found "ending it again"
# an id in capitals is the same id
login_as bearer
e=$ACCESS esid=$SID
end "$a" "$(printf '%s' "$esid" | tr a-f A-F)"
expect_status 204 "an id in capital hex digits"
expect_eq "$(me_status "$e")" 401 "... ended that session"

# ---- cross-site ----
call DELETE "$S/$asid" -H "Cookie: __Host-access=$b" -H 'Origin: https://evil.example'
expect_error 403 origin_not_allowed "a cookie-authenticated DELETE from a foreign origin"
expect_no_set_cookie "the refused DELETE"
expect_eq "$(me_status "$a")" 200 "... changed nothing"
call DELETE $S -H "Cookie: __Host-access=$b" -H 'Origin: https://evil.example'
expect_error 403 origin_not_allowed "a cookie-authenticated DELETE /api/sessions from a foreign origin"
expect_eq "$(me_status "$a")" 200 "... changed nothing"
login_as bearer
fsid=$SID
call DELETE "$S/$fsid" -H "Authorization: Bearer $a" -H 'Origin: https://evil.example'
expect_status 204 "a bearer DELETE from a foreign origin is not the cookie rule's business"
call DELETE "$S/$fsid" -H "Cookie: __Host-access=$b" -H 'Origin: https://app.example.test'
expect_error 404 not_found "an allowed origin with the cookie passes the rule (that session is gone)"

# ---- ending all the others ----
login_as bearer
g=$ACCESS gr=$REFRESH
login_as cookie
h=$ACCESS hr=$REFRESH
call DELETE $S -H "Authorization: Bearer $a"
expect_empty_204 "DELETE /api/sessions"
expect_eq "$(me_status "$g"),$(me_cookie_status "$h"),$(me_cookie_status "$b")" 401,401,401 "every other session's access token fails at once"
expect_eq "$(refresh_status "$gr"),$(refresh_status "$hr")" 401,401 "... and their refresh tokens"
expect_eq "$(me_status "$a")" 200 "the current session lives on"
list "$a"
expect_eq "$(ids)" "$asid" "only the current session is left"
expect_eq "$(me_status "$x")" 200 "another user's session is not touched"

# ---- ending the current one: a logout ----
login_as cookie
k=$ACCESS kr=$REFRESH ksid=$SID
call DELETE "$S/$ksid" -H "Cookie: __Host-access=$k"
expect_empty_204 "ending the current session"
expect_cookies_cleared "ending the current session"
expect_eq "$(me_cookie_status "$k")" 401 "its access token fails"
expect_eq "$(refresh_status "$kr")" 401 "... and its refresh token"

# ---- Redis down, and back ----
redis_up() { [ "$(rcli PING)" = PONG ]; }
redis_down() { ! redis_up; }
login_as bearer
m=$ACCESS mr=$REFRESH msid=$SID
"$ROOT/scripts/stack.sh" stop redis >/dev/null 2>&1
wait_for "Redis is stopped" 10 redis_down
list "$a"
expect_status 200 "Redis down: GET /api/sessions (PostgreSQL checks the token)"
end "$a" "$msid"
expect_empty_204 "Redis down: ending a session"
expect_eq "$(me_status "$m"),$(refresh_status "$mr")" 401,401 "Redis down: its tokens fail at once"
"$ROOT/scripts/stack.sh" start redis >/dev/null 2>&1
wait_for "Redis is back" 15 redis_up
wait_for "/api/ready is ok again" 15 ready_ok
got=""
for i in 1 2 3 4; do got+=" $(me_status "$m"),$(me_status "$a")"; done
expect_eq "$got" " 401,200 401,200 401,200 401,200" "Redis back: the session ended during the outage stays refused (4 tries)"
redis_up || "$ROOT/scripts/stack.sh" start redis >/dev/null 2>&1

auth_finish
