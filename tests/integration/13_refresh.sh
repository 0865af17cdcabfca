#!/usr/bin/env bash
# POST /api/auth/refresh: rotation in cookie and bearer mode, the reuse
# interval (a spent token answered with the family's current tokens), reuse
# after it (the family revoked), concurrent refreshes of one token (one
# winner, no fork), and 401 for unknown, malformed, revoked, expired tokens.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

F=/api/auth/refresh
ttl=$(stack_env ACCESS_TOKEN_TTL)
rttl=$(stack_env REFRESH_TOKEN_TTL)
reuse=$(stack_env REFRESH_REUSE_INTERVAL)
echo "# REFRESH_REUSE_INTERVAL=$reuse"
name=$(uniq_name Ref)
pw=$(uniq_password)
register "$name" "$pw"
user=$USER_JSON

# refresh_bearer TOKEN - bearer-mode refresh; sets STATUS/BODY and NEW_ACCESS/NEW_REFRESH.
refresh_bearer() {
	post_json $F "{\"refresh_token\":$(jstr "$1")}"
	NEW_ACCESS=$(printf '%s' "$BODY" | jq -r '.access_token // empty' 2>/dev/null)
	NEW_REFRESH=$(printf '%s' "$BODY" | jq -r '.refresh_token // empty' 2>/dev/null)
	remember "$NEW_ACCESS" "$NEW_REFRESH"
}
# refresh_cookie TOKEN - cookie-mode refresh (no body); NEW_ACCESS/NEW_REFRESH from Set-Cookie.
refresh_cookie() {
	call POST $F "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$1"
	NEW_ACCESS=$(set_cookie_value __Host-access)
	NEW_REFRESH=$(set_cookie_value __Secure-refresh)
	remember "$NEW_ACCESS" "$NEW_REFRESH"
}
spent_sql() { psql_q "SELECT spent_at IS NOT NULL FROM refresh_tokens WHERE token_hash = $(sha256_sql "$1")"; }
live_in_family() { psql_q "SELECT count(*) FROM refresh_tokens WHERE session_id = '$1' AND spent_at IS NULL"; }

# ---- cookie mode ----
login_cookie "$name" "$pw"
a0=$ACCESS r0=$REFRESH sid0=$SID
refresh_cookie "$r0"
expect_status 200 "cookie-mode refresh (Content-Length: 0, no content type)"
expect_api_shape "cookie-mode refresh"
expect_json 'keys | sort | join(",")' 'access_token_expires_at,refresh_token_expires_at,user' "cookie-mode refresh body (no tokens)"
expect_user "$user" "cookie-mode refresh"
expect_eq "$(set_cookie_count)" 2 "cookie-mode refresh sets two cookies"
expect_cookie __Host-access '[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+' / "$ttl" "cookie-mode refresh"
expect_cookie __Secure-refresh '[A-Za-z0-9_-]{43}' /api/auth "$rttl" "cookie-mode refresh"
a1=$NEW_ACCESS r1=$NEW_REFRESH
expect_eq "$([ -n "$r1" ] && [ "$r1" != "$r0" ] && echo yes)" yes "the new refresh token differs from the old one"
expect_eq "$([ -n "$a1" ] && [ "$a1" != "$a0" ] && echo yes)" yes "the new access token differs from the old one"
expect_eq "$(jwt_part "$a1" 2 | jq -r .sid)" "$sid0" "the new pair is of the same family (sid)"
expect_eq "$(spent_sql "$r0")" t "the old refresh token is spent (PostgreSQL)"
expect_eq "$(spent_sql "$r1")" f "the new refresh token is live (PostgreSQL)"
expect_eq "$(live_in_family "$sid0")" 1 "the family has one live refresh token"
expect_eq "$(me_cookie_status "$a1")" 200 "the new access cookie works on /api/me"
expect_eq "$(me_cookie_status "$a0")" 200 "the old access token of the family is not revoked by a rotation"
call POST $F "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$r1; __Host-access=$a1"
expect_status 200 "cookie-mode refresh with both cookies"
r1b=$(set_cookie_value __Secure-refresh)
remember "$(set_cookie_value __Host-access)" "$r1b"
expect_eq "$([ -n "$r1b" ] && [ "$r1b" != "$r1" ] && echo yes)" yes "... rotates again"
refresh_cookie "$r0"
expect_status 200 "cookie mode: a spent token inside REFRESH_REUSE_INTERVAL"
expect_eq "$NEW_REFRESH" "$r1b" "cookie mode: the family's current refresh token comes back as the cookie"

# ---- bearer mode ----
login_bearer "$name" "$pw"
b0=$REFRESH ba0=$ACCESS sid=$SID
refresh_bearer "$b0"
expect_status 200 "bearer-mode refresh"
expect_api_shape "bearer-mode refresh"
expect_no_set_cookie "bearer-mode refresh"
expect_json 'keys | sort | join(",")' \
	'access_token,access_token_expires_at,expires_in,refresh_token,refresh_token_expires_at,token_type,user' \
	"bearer-mode refresh body"
expect_json '.token_type' Bearer "bearer-mode refresh"
expect_json ".expires_in == $ttl or .expires_in == $((ttl - 1))" true "bearer-mode refresh expires_in"
expect_json '.refresh_token | test("^[A-Za-z0-9_-]{43}$")' true "bearer-mode refresh token shape"
expect_user "$user" "bearer-mode refresh"
b1=$NEW_REFRESH ba1=$NEW_ACCESS
expect_eq "$([ "$b1" != "$b0" ] && [ "$ba1" != "$ba0" ] && echo yes)" yes "bearer-mode refresh: a new pair"
expect_eq "$(me_status "$ba1")" 200 "the new access token works on /api/me"
expect_eq "$(spent_sql "$b0")" t "the old refresh token is spent"

# ---- reuse inside the interval: the family's current tokens ----
refresh_bearer "$b1"
b2=$NEW_REFRESH ba2=$NEW_ACCESS
expect_status 200 "second rotation"
refresh_bearer "$b0" # spent two rotations ago, still within the interval
expect_status 200 "a spent token inside REFRESH_REUSE_INTERVAL answers 200"
expect_eq "$NEW_REFRESH" "$b2" "... with the family's current refresh token (not a new one)"
expect_eq "$NEW_ACCESS" "$ba2" "... and the current access token (not a new one)"
refresh_bearer "$b1"
expect_status 200 "the other spent token inside the interval"
expect_eq "$NEW_REFRESH" "$b2" "... answers the same current refresh token"
expect_eq "$(live_in_family "$sid")" 1 "still one live refresh token in the family"
expect_eq "$(psql_q "SELECT count(*) FROM refresh_tokens WHERE session_id = '$sid'")" 3 "no token was minted by the reuses"

# ---- reuse after the interval: the family is revoked ----
sleep $((reuse + 1))
refresh_bearer "$b0"
expect_error 401 refresh_token_reused "a spent token after the interval"
expect_no_set_cookie "bearer-mode reuse"
expect_eq "$(refresh_status "$b2")" 401 "the family's current refresh token fails from then on"
expect_eq "$(me_status "$ba2")" 401 "the family's current access token fails at once"
expect_eq "$(me_status "$ba1")" 401 "the family's older access token fails"
expect_eq "$(me_status "$ba0")" 401 "the family's first access token fails"
expect_eq "$(psql_q "SELECT revoked_reason FROM sessions WHERE id = '$sid'")" reuse "the session is revoked for reuse (PostgreSQL)"
refresh_bearer "$b2"
expect_error 401 unauthenticated "the current token of a revoked family is unauthenticated"
refresh_bearer "$b0"
expect_error 401 unauthenticated "the reused token once more: the family is already revoked"
# the cookie family is untouched by the other family's reuse
expect_eq "$(me_cookie_status "$a1")" 200 "another session of the same user still works"

# cookie mode after the interval
call POST $F "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$r0"
expect_error 401 refresh_token_reused "cookie mode: a spent token after the interval"
expect_eq "$(me_cookie_status "$a1")" 401 "cookie mode: the family's access token fails at once"
expect_eq "$(refresh_status "$r1b")" 401 "cookie mode: the family's current refresh token fails"

# ---- concurrent refreshes of one token ----
# Several rounds: a race that forks the family shows in some rounds only.
rounds=5 bad_status=0 forked=0 live_bad=0 rotations_bad=0 winner=""
for round in $(seq $rounds); do
	login_bearer "$name" "$pw" || continue
	c0=$REFRESH csid=$SID
	for i in 1 2 3 4 5; do
		curl -sk --max-time 20 -o "$TMP/conc.$i" -w '%{http_code}' -X POST "${JSON_CT[@]}" \
			--data-binary "{\"refresh_token\":\"$c0\"}" "$BASE$F" >"$TMP/conc.$i.status" &
	done
	wait
	st=$(for i in 1 2 3 4 5; do cat "$TMP/conc.$i.status"; echo; done | sort | uniq -c | sed 's/^ *//' | paste -sd,)
	[ "$st" = "5 200" ] || { bad_status=$((bad_status + 1)); echo "# round $round: statuses $st"; }
	tokens=$(for i in 1 2 3 4 5; do jq -r '.refresh_token // "none"' "$TMP/conc.$i" 2>/dev/null; done | sort -u)
	# shellcheck disable=SC2086,SC2046 # one token per word
	remember $tokens $(for i in 1 2 3 4 5; do jq -r '.access_token // empty' "$TMP/conc.$i" 2>/dev/null; done)
	if [ "$(printf '%s\n' "$tokens" | wc -l)" != 1 ] || [ "$tokens" = "$c0" ] || [ "$tokens" = none ]; then
		forked=$((forked + 1))
		echo "# round $round: $(printf '%s\n' "$tokens" | wc -l) different refresh tokens came back"
	fi
	live=$(live_in_family "$csid")
	[ "$live" = 1 ] || { live_bad=$((live_bad + 1)); echo "# round $round: $live live refresh tokens in the family"; }
	all=$(psql_q "SELECT count(*) FROM refresh_tokens WHERE session_id = '$csid'")
	[ "$all" = 2 ] || { rotations_bad=$((rotations_bad + 1)); echo "# round $round: $((all - 1)) rotations of one token"; }
	winner=$(printf '%s\n' "$tokens" | head -1)
done
expect_eq "$bad_status" 0 "5 concurrent refreshes of one token all answer 200 ($rounds rounds)"
expect_eq "$forked" 0 "... all with the same new refresh token, no fork (rounds that forked)"
expect_eq "$live_bad" 0 "... and the family has exactly one live refresh token in PostgreSQL (rounds with more)"
expect_eq "$rotations_bad" 0 "... and exactly one rotation happened (rounds with more)"
refresh_bearer "$winner"
expect_status 200 "a winner's refresh token rotates on"
# concurrent cookie-mode refreshes as well
kforked=0 klive=0 kst_bad=0
for round in 1 2 3; do
	login_cookie "$name" "$pw" || continue
	k0=$REFRESH ksid=$SID
	for i in 1 2 3; do
		curl -sk --max-time 20 -D "$TMP/kc.$i.h" -o /dev/null -w '%{http_code}' -X POST "${NOBODY[@]}" \
			-H "Cookie: __Secure-refresh=$k0" "$BASE$F" >"$TMP/kc.$i.status" &
	done
	wait
	[ "$(for i in 1 2 3; do cat "$TMP/kc.$i.status"; echo; done | sort | uniq -c | sed 's/^ *//' | paste -sd,)" = "3 200" ] ||
		kst_bad=$((kst_bad + 1))
	kt=$(cat "$TMP"/kc.?.h | tr -d '\r' | grep -i '^set-cookie: __Secure-refresh=' | sed 's/^[^=]*=//; s/;.*//' | sort -u)
	# shellcheck disable=SC2086 # one token per word
	remember $kt
	[ "$(printf '%s\n' "$kt" | grep -c .)" = 1 ] || kforked=$((kforked + 1))
	[ "$(live_in_family "$ksid")" = 1 ] || klive=$((klive + 1))
done
expect_eq "$kst_bad" 0 "3 concurrent cookie-mode refreshes all answer 200 (3 rounds)"
expect_eq "$kforked" 0 "... all with the same new refresh cookie (rounds that forked)"
expect_eq "$klive" 0 "... and one live refresh token in that family (rounds with more)"

# ---- refused ----
refresh_bearer "$(head -c 32 /dev/urandom | b64url)"
expect_error 401 unauthenticated "an unknown (well-formed) refresh token"
for bad in abc '' "$(rep A 44)" "$(rep A 42)" "${winner:0:42}!" "$(rep '€' 43)"; do
	refresh_bearer "$bad"
	expect_error 401 unauthenticated "a malformed refresh token '${bad:0:12}'"
done
call POST $F "${NOBODY[@]}" -H 'Cookie: __Secure-refresh=abc'
expect_error 401 unauthenticated "a malformed refresh cookie"
call POST $F "${NOBODY[@]}" -H 'Cookie: __Secure-refresh='
expect_error 401 unauthenticated "an empty refresh cookie"
call POST $F "${NOBODY[@]}"
expect_error 401 unauthenticated "no refresh token at all"
expect_no_set_cookie "no refresh token at all"
post_json $F '{}'
expect_error 401 unauthenticated "an empty JSON body and no cookie"
for v in 42 null '["x"]'; do
	post_json $F "{\"refresh_token\":$v}"
	expect_fields '{"refresh_token":"invalid_type"}' "refresh_token $v"
done
post_json $F '[]'
expect_fields '{"body":"invalid_type"}' "a refresh body that is an array"
post_json $F '{"refresh_token":'
expect_error 400 invalid_json "a malformed refresh body"
call POST $F -H 'Content-Type: text/plain' --data-binary "{\"refresh_token\":\"$winner\"}"
expect_error 415 unsupported_media_type "a refresh body as text/plain"
call POST $F -H "Authorization: Bearer $ba0" "${NOBODY[@]}"
expect_error 401 unauthenticated "an access token is not a refresh token"

# a logged-out session
login_bearer "$name" "$pw"
lo_r=$REFRESH
call POST /api/auth/logout -H "Authorization: Bearer $ACCESS" "${JSON_CT[@]}" --data-binary "{\"refresh_token\":\"$lo_r\"}"
expect_status 204 "logout (setup)"
refresh_bearer "$lo_r"
expect_error 401 unauthenticated "the refresh token of a logged-out session"

# an expired one
login_bearer "$name" "$pw"
ex_r=$REFRESH ex_sid=$SID
expect_eq "$(psql_q "WITH u AS (UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE session_id = '$ex_sid' RETURNING 1) SELECT count(*) FROM u")" 1 "setup: the refresh token's expires_at is moved into the past"
refresh_bearer "$ex_r"
expect_error 401 unauthenticated "an expired refresh token"
call POST $F "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$ex_r"
expect_error 401 unauthenticated "an expired refresh cookie"
expect_eq "$(live_in_family "$ex_sid")" 1 "the expired token was not rotated"

auth_finish
