#!/usr/bin/env bash
# POST /api/auth/logout: 204, cookies cleared, the access token and the
# refresh family revoked on the very next request, in cookie and in bearer
# mode; 204 with no or garbage credentials.  Revocation holds while Redis is
# down, after Redis is flushed and after it restarts.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

O=/api/auth/logout
name=$(uniq_name Out)
pw=$(uniq_password)
register "$name" "$pw"

# ---- cookie mode ----
login_cookie "$name" "$pw"
ca=$ACCESS cr=$REFRESH csid=$SID
login_bearer "$name" "$pw"
other_a=$ACCESS other_r=$REFRESH
call POST $O "${NOBODY[@]}" -H "Cookie: __Host-access=$ca; __Secure-refresh=$cr"
expect_empty_204 "cookie-mode logout"
expect_eq "$(set_cookie_count)" 2 "cookie-mode logout sets two cookies"
expect_cookies_cleared "cookie-mode logout"
expect_eq "$(me_cookie_status "$ca")" 401 "the old access cookie is refused on the very next request"
expect_eq "$(me_status "$ca")" 401 "... and as a bearer token"
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr"
expect_error 401 unauthenticated "the old refresh cookie is refused"
expect_eq "$(refresh_status "$cr")" 401 "... and in bearer mode"
expect_eq "$(psql_q "SELECT revoked_reason FROM sessions WHERE id = '$csid'")" logout "the session is revoked for logout (PostgreSQL)"
expect_eq "$(me_status "$other_a")" 200 "another session of the same user is untouched"

# the access cookie alone revokes its family
login_cookie "$name" "$pw"
ca=$ACCESS cr=$REFRESH
call POST $O "${NOBODY[@]}" -H "Cookie: __Host-access=$ca"
expect_empty_204 "logout with the access cookie only"
expect_eq "$(me_cookie_status "$ca")" 401 "... its access token is refused"
expect_eq "$(refresh_status "$cr")" 401 "... and its refresh token too (same family)"
# the refresh cookie alone revokes its access tokens
login_cookie "$name" "$pw"
ca=$ACCESS cr=$REFRESH
call POST $O "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr"
expect_empty_204 "logout with the refresh cookie only"
expect_eq "$(me_cookie_status "$ca")" 401 "... the family's access token is refused"
expect_eq "$(refresh_status "$cr")" 401 "... and the refresh token"

# ---- bearer mode ----
login_bearer "$name" "$pw"
ba=$ACCESS br=$REFRESH
call POST $O -H "Authorization: Bearer $ba" "${JSON_CT[@]}" --data-binary "{\"refresh_token\":\"$br\"}"
expect_empty_204 "bearer-mode logout"
expect_cookies_cleared "bearer-mode logout"
expect_eq "$(me_status "$ba")" 401 "bearer: the access token is refused on the very next request"
expect_eq "$(refresh_status "$br")" 401 "bearer: the refresh token is refused"
# a refresh token alone in the body revokes the family's access tokens
login_bearer "$name" "$pw"
ba=$ACCESS br=$REFRESH
post_json $O "{\"refresh_token\":\"$br\"}"
expect_empty_204 "logout with a refresh token in the body only"
expect_eq "$(me_status "$ba")" 401 "... the family's access token is refused"
# the bearer header alone revokes the refresh family
login_bearer "$name" "$pw"
ba=$ACCESS br=$REFRESH
call POST $O -H "Authorization: Bearer $ba" "${NOBODY[@]}"
expect_empty_204 "logout with the bearer header only"
expect_eq "$(refresh_status "$br")" 401 "... the family's refresh token is refused"
# a rotated family: the logout revokes what came after the token too
login_bearer "$name" "$pw"
ba=$ACCESS br=$REFRESH
post_json /api/auth/refresh "{\"refresh_token\":\"$br\"}"
ba2=$(printf '%s' "$BODY" | jq -r .access_token) br2=$(printf '%s' "$BODY" | jq -r .refresh_token)
remember "$ba2" "$br2"
call POST $O -H "Authorization: Bearer $ba2" "${JSON_CT[@]}" --data-binary "{\"refresh_token\":\"$br2\"}"
expect_empty_204 "logout after a rotation"
expect_eq "$(me_status "$ba"),$(me_status "$ba2"),$(refresh_status "$br2")" 401,401,401 "every token of the rotated family is refused"
expect_eq "$(me_status "$other_a")" 200 "the other session still works"
expect_eq "$(refresh_status "$other_r")" 200 "... and refreshes"

# ---- no or bad credentials: still 204 and cleared ----
call POST $O "${NOBODY[@]}"
expect_empty_204 "logout with no credentials at all"
expect_cookies_cleared "logout with no credentials"
post_json $O '{}'
expect_empty_204 "logout with an empty JSON object"
call POST $O "${NOBODY[@]}" -H 'Cookie: __Host-access=garbage; __Secure-refresh=garbage'
expect_empty_204 "logout with garbage cookies"
expect_cookies_cleared "logout with garbage cookies"
call POST $O -H 'Authorization: Bearer a.b.c' "${JSON_CT[@]}" --data-binary '{"refresh_token":"garbage"}'
expect_empty_204 "logout with a garbage bearer token and refresh token"
call POST $O "${NOBODY[@]}" -H "Authorization: Bearer $ba"
expect_empty_204 "logout with an already revoked access token"
post_json $O "{\"refresh_token\":\"$(head -c 32 /dev/urandom | b64url)\"}"
expect_empty_204 "logout with an unknown refresh token"
expired=$(jwt_sign '{"alg":"HS256","typ":"JWT"}' "$(jq -cn --arg s "$(jwt_part "$other_a" 2 | jq -r .sid)" \
	--arg u "$(jwt_part "$other_a" 2 | jq -r .sub)" --argjson n "$(date +%s)" \
	'{iss:"portcullis",aud:"portcullis-api",sub:$u,sid:$s,iat:($n-1000),exp:($n-100),jti:"00000000000000000000000000000000"}')")
call POST $O "${NOBODY[@]}" -H "Authorization: Bearer $expired"
expect_empty_204 "logout with an expired access token"
expect_eq "$(me_status "$other_a")" 200 "an expired token revokes nothing (its session lives on)"
post_json $O '{"refresh_token":42}'
expect_fields '{"refresh_token":"invalid_type"}' "logout with a non-string refresh_token"
post_json $O '{"refresh_token":'
expect_error 400 invalid_json "logout with a malformed body"
call POST $O -H 'Content-Type: text/plain' --data-binary '{"refresh_token":"x"}'
expect_error 415 unsupported_media_type "logout with a text/plain body"
expect_no_set_cookie "a refused logout body"

# ---- revocation and Redis ----
redis_up() { [ "$(rcli PING)" = PONG ]; }
redis_down() { ! redis_up; }
login_bearer "$name" "$pw"
ra=$ACCESS rr=$REFRESH
login_bearer "$name" "$pw"
live_a=$ACCESS
call POST $O -H "Authorization: Bearer $ra" "${JSON_CT[@]}" --data-binary "{\"refresh_token\":\"$rr\"}"
expect_status 204 "logout (Redis up)"

"$ROOT/scripts/stack.sh" stop redis >/dev/null 2>&1
wait_for "Redis is stopped" 10 redis_down
expect_eq "$(me_status "$ra")" 401 "Redis down: the revoked token stays refused"
expect_eq "$(me_status "$live_a")" 200 "Redis down: a live token still works (PostgreSQL path)"
# a logout while Redis is down
login_bearer "$name" "$pw"
da=$ACCESS dr=$REFRESH
call POST $O -H "Authorization: Bearer $da" "${JSON_CT[@]}" --data-binary "{\"refresh_token\":\"$dr\"}"
expect_empty_204 "logout while Redis is down"
expect_eq "$(me_status "$da")" 401 "Redis down: a token revoked while Redis is down is refused at once"
expect_eq "$(refresh_status "$dr")" 401 "Redis down: its refresh token too"

"$ROOT/scripts/stack.sh" start redis >/dev/null 2>&1
wait_for "Redis is back" 15 redis_up
wait_for "/api/ready is ok again" 15 ready_ok
got="" # several requests: each responder process gets its turn
for i in 1 2 3 4; do got+=" $(me_status "$ra"),$(me_status "$da"),$(me_status "$live_a")"; done
expect_eq "$got" " 401,401,200 401,401,200 401,401,200 401,401,200" \
	"Redis restarted: tokens revoked before and during the outage stay refused, the live one works (4 tries)"

# flushed: the markers are gone, the record is not
login_bearer "$name" "$pw"
fa=$ACCESS fr=$REFRESH
call POST $O -H "Authorization: Bearer $fa" "${JSON_CT[@]}" --data-binary "{\"refresh_token\":\"$fr\"}"
expect_status 204 "logout before a flush"
expect_eq "$(me_status "$fa")" 401 "revoked before the flush"
expect_eq "$(rcli FLUSHALL)" OK "setup: FLUSHALL"
got=""
for i in 1 2 3 4; do got+=" $(me_status "$fa"),$(me_status "$ra"),$(me_status "$live_a")"; done
expect_eq "$got" " 401,401,200 401,401,200 401,401,200 401,401,200" \
	"Redis flushed: revoked tokens stay refused, the live one works (4 tries)"
expect_eq "$(refresh_status "$fr")" 401 "Redis flushed: the revoked family's refresh token stays refused"

# whatever happened, leave Redis running and the stack ready
redis_up || "$ROOT/scripts/stack.sh" start redis >/dev/null 2>&1
wait_for "the stack is ready at the end" 20 ready_ok

auth_finish
