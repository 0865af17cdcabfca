#!/usr/bin/env bash
# DELETE /api/me {"password"}: the account, its sessions, refresh tokens,
# failed-login records and data keys go at once; every token fails; no
# cached copy answers (Redis entries and user record gone, the keys' stamps
# moved to "deleted", so even with a revocation marker lost the memory tier
# of every data process stays silent); revocations outlive the rows through
# a Redis flush (deleted_sessions is replayed); the name can be registered
# again and the new account sees nothing of the old.  A wrong password is
# 401 invalid_credentials and counts toward the lockout; a cross-site
# refusal changes nothing; a burst of logins racing the deletion leaves no
# live session.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"
source "$(dirname "$0")/data_lib.sh"

M=/api/me
# name_hash NAME - hex of the failed-login key of NAME (lib/login_guard.c).
name_hash() {
	printf 'login-name:%s' "$(printf '%s' "$1" | tr 'A-Z' 'a-z')" |
		openssl dgst -sha256 -mac HMAC -macopt "key:$(stack_env IP_HASH_SECRET)" -r | cut -d' ' -f1
}
failures() { psql_q "SELECT count(*) FROM login_failures WHERE name_hash = '\\x$(name_hash "$1")'"; }
delete_me() { call DELETE $M "${JSON_CT[@]}" --data-binary "{\"password\":$(jstr "$1")}" "${@:2}"; }

data_user Del || exit 1
name=$D_NAME pw=$D_PASS uid=$D_UID a=$ACCESS ar=$REFRESH asid=$SID
login_cookie "$name" "$pw"
b=$ACCESS br=$REFRESH bsid=$SID
TOKEN=$a
dput k1 '{"secret":"old-account-value"}'
expect_status 201 "setup: k1"
dput k2 '[1,2,3]'
expect_status 201 "setup: k2"
dput gone '1'
ddel gone
expect_status 204 "setup: a tombstone"
# every data process gets k1 into its memory tier
procs=$(spawn_procs "$a" k1 "${FCGI_PROCS:-2}")
read -ra PIDS <<<"$(data_pids)"
reached=$(warm_all "$a" k1 "${PIDS[@]}")
expect_eq "$reached" "${#PIDS[@]}" "setup: every data process ($procs) served k1 from its cache"
expect_eq "$(rcli EXISTS "pc:dc:$uid:k1")" 1 "setup: k1 is in the Redis tier"

# ---- refused: nothing changes ----
call DELETE $M -H "Authorization: Bearer $a" "${NOBODY[@]}"
expect_error 400 invalid_json "DELETE /api/me without a body"
call DELETE $M -H "Authorization: Bearer $a" -H 'Content-Type: text/plain' --data-binary "{\"password\":\"$pw\"}"
expect_error 415 unsupported_media_type "DELETE /api/me with a text/plain body"
delete_me "$pw" # no token
expect_error 401 unauthenticated "DELETE /api/me without a token"
call DELETE $M -H "Authorization: Bearer $a" "${JSON_CT[@]}" --data-binary '{}'
expect_fields '{"password":"required"}' "DELETE /api/me without a password"
call DELETE $M -H "Authorization: Bearer $a" "${JSON_CT[@]}" --data-binary '{"password":12}'
expect_fields '{"password":"invalid_type"}' "DELETE /api/me with a non-string password"
before=$(failures "$name")
delete_me "wrong-$pw" -H "Authorization: Bearer $a"
expect_error 401 invalid_credentials "DELETE /api/me with a wrong password"
expect_eq "$(failures "$name")" $((before + 1)) "the wrong password is recorded as a failed login"
delete_me "$pw" -H "Cookie: __Host-access=$b" -H 'Origin: https://evil.example'
expect_error 403 origin_not_allowed "a cookie-authenticated DELETE /api/me from a foreign origin"
expect_no_set_cookie "the refused deletion"
expect_eq "$(me_status "$a"),$(me_cookie_status "$b")" 200,200 "after the refusals the sessions live"
dget k1
expect_status 200 "... and the data is there"
expect_eq "$(psql_q "SELECT count(*) FROM users WHERE id = '$uid'")" 1 "... and the account"

# ---- deleted ----
delete_me "$pw" -H "Cookie: __Host-access=$b" -H 'Origin: https://app.example.test'
expect_empty_204 "DELETE /api/me (cookie, allowed origin)"
expect_cookies_cleared "DELETE /api/me"
expect_eq "$(me_status "$a"),$(me_cookie_status "$b")" 401,401 "every access token fails at once"
expect_eq "$(refresh_status "$ar"),$(refresh_status "$br")" 401,401 "every refresh token fails"
got=$(burst "$a" k1 8 | sort | uniq -c | paste -sd';')
if [[ "$got" == *200* ]]; then not_ok "a data read with the old token answered: $got"; else ok "data reads with the old token fail ($got)"; fi
expect_eq "$(psql_q "SELECT (SELECT count(*) FROM users WHERE id = '$uid') || ',' ||
	(SELECT count(*) FROM sessions WHERE user_id = '$uid') || ',' ||
	(SELECT count(*) FROM refresh_tokens WHERE session_id IN ('$asid', '$bsid')) || ',' ||
	(SELECT count(*) FROM data_items WHERE user_id = '$uid') || ',' || $(failures "$name")")" 0,0,0,0,0 \
	"PostgreSQL: no user, session, refresh token, data key (tombstones included) or failed login is left"
expect_eq "$(psql_q "SELECT count(*) FROM deleted_sessions WHERE id IN ('$asid', '$bsid')")" 2 "the sessions' ids are kept for the revocation replay"
expect_eq "$(rcli EXISTS "pc:user:$uid" "pc:dc:$uid:k1" "pc:dc:$uid:k2")" 0 "Redis: the user record and the cached values are gone"
stamp=$(rcli GET "pc:dv:$uid:k1")
if [[ "${stamp##*:}" =~ ^[0-9]+$ ]] && [ $((${stamp##*:} % 2)) = 1 ]; then ok "Redis: k1's stamp says deleted ($stamp)"; else not_ok "k1's stamp: '$stamp'"; fi
# Even a lost revocation marker does not bring a cached copy back.
rcli DEL "pc:rv:$asid" >/dev/null
got=$(burst "$a" k1 16 | sort | uniq -c | paste -sd';')
if [[ "$got" == *old-account-value* ]] || [[ "$got" == *200* ]]; then not_ok "a cached copy answered once the marker was gone: $got"; else
	ok "with the revocation marker removed, no process' memory or Redis serves k1 ($got)"
fi
# A flush: PostgreSQL answers, then the replay brings the markers back from deleted_sessions.
expect_eq "$(rcli FLUSHALL)" OK "setup: FLUSHALL"
got=""
for i in 1 2 3 4; do got+=" $(me_status "$a")"; done
expect_eq "$got" " 401 401 401 401" "after a flush the old token stays refused (4 tries)"
markers_back() {
	me_status "$a" >/dev/null
	[ "$(rcli EXISTS "pc:rv:$asid" "pc:rv:$bsid")" = 2 ]
}
wait_for "the replay restores the deleted account's revocation markers (deleted_sessions)" 10 markers_back

# ---- the name again ----
register "$name" "$pw"
expect_status 201 "the name can be registered again"
new_uid=$USER_ID
if [ -n "$new_uid" ] && [ "$new_uid" != "$uid" ]; then ok "the new account has a new id"; else not_ok "new id '$new_uid' (old '$uid')"; fi
login_bearer "$name" "$pw"
expect_status 200 "the new account logs in (no lockout left over)"
TOKEN=$ACCESS
dget k1
expect_error 404 not_found "the new account does not see the old k1"
dlist ""
expect_json '.items | length' 0 "the new account has no keys"
call GET /api/sessions -H "Authorization: Bearer $ACCESS"
expect_json '.sessions | length' 1 "the new account has only its own session"

# ---- a wrong password counts toward the lockout ----
lname=$(uniq_name Lck)
lpw=$(uniq_password)
register "$lname" "$lpw"
login_bearer "$lname" "$lpw"
la=$ACCESS
max=$(stack_env LOGIN_MAX_FAILURES)
for ((i = 0; i < ${max:-5}; i++)); do delete_me "nope-$i-$lpw" -H "Authorization: Bearer $la"; done
expect_error 401 invalid_credentials "the last of $max wrong passwords"
delete_me "$lpw" -H "Authorization: Bearer $la"
expect_error 429 rate_limited "then even the right password is locked out"
post_json /api/auth/login "{\"username\":$(jstr "$lname"),\"password\":$(jstr "$lpw")}"
expect_error 429 rate_limited "... and so is a login"
expect_eq "$(me_status "$la")" 200 "the account is still there"

# ---- a burst of logins racing the deletion ----
rname=$(uniq_name Race)
rpw=$(uniq_password)
register "$rname" "$rpw"
ruid=$USER_ID
login_bearer "$rname" "$rpw"
ra=$ACCESS
body="{\"username\":$(jstr "$rname"),\"password\":$(jstr "$rpw"),\"token_transport\":\"bearer\"}"
for ((i = 0; i < 24; i++)); do
	curl -sk --max-time 20 -o "$TMP/race$i" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$body" "$BASE/api/auth/login" >"$TMP/race$i.code" &
	[ "$i" = 12 ] && delete_me "$rpw" -H "Authorization: Bearer $ra"
done
wait
expect_status 204 "the deletion in the middle of the burst"
codes="" live=0
for ((i = 0; i < 24; i++)); do
	c=$(cat "$TMP/race$i.code")
	codes+="$c "
	if [ "$c" = 200 ]; then
		t=$(jq -r .access_token "$TMP/race$i") r=$(jq -r .refresh_token "$TMP/race$i")
		remember "$t" "$r"
		[ "$(me_status "$t")" = 401 ] || live=$((live + 1))
		[ "$(refresh_status "$r")" = 401 ] || live=$((live + 1))
	fi
done
echo "# login statuses around the deletion: $(printf '%s\n' $codes | sort | uniq -c | paste -sd';')"
expect_eq "$live" 0 "no login of the burst left a usable access or refresh token"
expect_eq "$(psql_q "SELECT count(*) FROM sessions WHERE user_id = '$ruid'")" 0 "no session of the deleted account exists"
bad=$(printf '%s\n' $codes | grep -cvE '^(200|401|429)$')
expect_eq "$bad" 0 "every login of the burst answered 200 (then revoked), 401 or 429 (the name's failures lock it)"

auth_finish
