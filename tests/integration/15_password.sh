#!/usr/bin/env bash
# POST /api/auth/password: 204 and cookies cleared; every session of the
# user (this one included) revoked at once; the old password stops working
# and the new one works.  A wrong current password is 401
# invalid_credentials and counts as a failed login; 422 for the new
# password's rules and missing fields; 401 without authentication.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

P=/api/auth/password
maxf=$(stack_env LOGIN_MAX_FAILURES)
name=$(uniq_name Pwd)
pw=$(uniq_password)
pw2=$(uniq_password)
pw3=$(uniq_password)
register "$name" "$pw"

change_body() { printf '{"current_password":%s,"new_password":%s}' "$(jstr "$1")" "$(jstr "$2")"; }

# ---- three sessions, the change made through the cookie one ----
login_cookie "$name" "$pw"
ca=$ACCESS cr=$REFRESH
login_bearer "$name" "$pw"
b1a=$ACCESS b1r=$REFRESH
login_bearer "$name" "$pw"
b2a=$ACCESS b2r=$REFRESH
expect_eq "$(me_cookie_status "$ca"),$(me_status "$b1a"),$(me_status "$b2a")" 200,200,200 "three live sessions before the change"

# validation first: nothing changes
post_json $P "$(change_body "$pw" short)" -H "Cookie: __Host-access=$ca"
expect_fields '{"new_password":"too_short"}' "a new password that is too short"
post_json $P "$(change_body "$pw" "$(rep n 129)")" -H "Cookie: __Host-access=$ca"
expect_fields '{"new_password":"too_long"}' "a new password that is too long"
post_json $P "$(change_body "$pw" "$(rep '😀' 11)")" -H "Cookie: __Host-access=$ca"
expect_fields '{"new_password":"too_short"}' "a new password of 11 emoji (code points counted)"
post_json $P '{}' -H "Cookie: __Host-access=$ca"
expect_fields '{"current_password":"required","new_password":"required"}' "both fields missing"
post_json $P "{\"current_password\":$(jstr "$pw")}" -H "Cookie: __Host-access=$ca"
expect_fields '{"new_password":"required"}' "new_password missing"
post_json $P "{\"new_password\":$(jstr "$pw2")}" -H "Cookie: __Host-access=$ca"
expect_fields '{"current_password":"required"}' "current_password missing"
post_json $P '{"current_password":1,"new_password":null}' -H "Cookie: __Host-access=$ca"
expect_fields '{"current_password":"invalid_type","new_password":"invalid_type"}' "non-string fields"
post_json $P '[]' -H "Cookie: __Host-access=$ca"
expect_fields '{"body":"invalid_type"}' "a body that is not an object"
post_json $P '{"current_password":' -H "Cookie: __Host-access=$ca"
expect_error 400 invalid_json "a malformed body"
call POST $P -H "Cookie: __Host-access=$ca" -H 'Content-Type: text/plain' --data-binary "$(change_body "$pw" "$pw2")"
expect_error 415 unsupported_media_type "a text/plain body"
call POST $P -H "Cookie: __Host-access=$ca" "${JSON_CT[@]}" "${NOBODY[@]}"
expect_error 400 invalid_json "no body"
expect_eq "$(me_cookie_status "$ca"),$(me_status "$b1a"),$(me_status "$b2a")" 200,200,200 "refused changes revoke nothing"

# unauthenticated
post_json $P "$(change_body "$pw" "$pw2")"
expect_error 401 unauthenticated "no credentials"
post_json $P "$(change_body "$pw" "$pw2")" -H 'Authorization: Bearer a.b.c'
expect_error 401 unauthenticated "a garbage bearer token"
post_json $P "$(change_body "$pw" "$pw2")" -H 'Cookie: __Host-access=garbage'
expect_error 401 unauthenticated "a garbage access cookie"
post_json $P "$(change_body "$pw" "$pw2")" -H "Cookie: __Secure-refresh=$cr"
expect_error 401 unauthenticated "a refresh cookie is not authentication"
post_json $P '{}'
expect_error 401 unauthenticated "no credentials and an invalid body"

# wrong current password: 401, nothing changes
post_json $P "$(change_body "wrong-$pw" "$pw2")" -H "Cookie: __Host-access=$ca"
expect_error 401 invalid_credentials "a wrong current password"
expect_no_set_cookie "a wrong current password"
expect_eq "$(me_cookie_status "$ca"),$(me_status "$b1a"),$(me_status "$b2a")" 200,200,200 "a wrong current password revokes nothing"

# the change
post_json $P "$(change_body "$pw" "$pw2")" -H "Cookie: __Host-access=$ca"
expect_empty_204 "password change (cookie-authenticated)"
expect_cookies_cleared "password change"
expect_eq "$(me_cookie_status "$ca")" 401 "this session's access token is refused at once"
expect_eq "$(me_status "$b1a")" 401 "the second session's access token is refused at once"
expect_eq "$(me_status "$b2a")" 401 "the third session's access token is refused at once"
expect_eq "$(refresh_status "$cr"),$(refresh_status "$b1r"),$(refresh_status "$b2r")" 401,401,401 "every refresh token is refused"
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr"
expect_error 401 unauthenticated "this session's refresh cookie is refused"
expect_eq "$(psql_q "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE lower(u.username) = lower('$name') AND s.revoked_at IS NULL")" 0 "no live session of the user is left (PostgreSQL)"
post_json /api/auth/login "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw")}"
expect_error 401 invalid_credentials "the old password no longer logs in"
login_bearer "$name" "$pw2" && ok "the new password logs in"

# ---- the same through a bearer token ----
ba=$ACCESS br=$REFRESH
login_cookie "$name" "$pw2"
ca=$ACCESS
post_json $P "$(change_body "$pw2" "$pw3")" -H "Authorization: Bearer $ba"
expect_empty_204 "password change (bearer-authenticated)"
expect_cookies_cleared "bearer-authenticated password change"
expect_eq "$(me_status "$ba"),$(me_cookie_status "$ca"),$(refresh_status "$br")" 401,401,401 "every session revoked again"
post_json /api/auth/login "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw2")}"
expect_error 401 invalid_credentials "the previous password no longer logs in"
login_bearer "$name" "$pw3" && ok "the newest password logs in"
# the same password as new password is allowed (no rules beyond length)
post_json $P "$(change_body "$pw3" "$pw3")" -H "Authorization: Bearer $ACCESS"
expect_status 204 "changing to the same password"
login_bearer "$name" "$pw3" && ok "... which still logs in"

# ---- every byte of the new password counts ----
long="$(openssl rand -hex 45)abcdefghij"
remember "$long"
post_json $P "$(change_body "$pw3" "$long")" -H "Authorization: Bearer $ACCESS"
expect_status 204 "change to a 100-character password"
post_json /api/auth/login "{\"username\":$(jstr "$name"),\"password\":\"${long:0:90}0123456789\"}"
expect_error 401 invalid_credentials "the new password's first 90 bytes with another tail do not log in"
login_bearer "$name" "$long" && ok "the whole new password logs in"

# ---- a wrong current password counts as a failed login ----
lk=$(uniq_name PwdLock)
lpw=$(uniq_password)
register "$lk" "$lpw"
login_bearer "$lk" "$lpw"
la=$ACCESS
for i in $(seq "$maxf"); do
	post_json $P "$(change_body "wrong-$i-$lpw" "$(uniq_password)")" -H "Authorization: Bearer $la"
	expect_error 401 invalid_credentials "wrong current password $i of $maxf"
done
post_json /api/auth/login "{\"username\":$(jstr "$lk"),\"password\":$(jstr "$lpw")}"
expect_error 429 rate_limited "after $maxf wrong current passwords, login with the right password"
expect_header Retry-After '[0-9]+' "the 429 says when to come back"
post_json $P "$(change_body "$lpw" "$(uniq_password)")" -H "Authorization: Bearer $la"
expect_error 429 rate_limited "a password change with the right current password while locked"
expect_eq "$(me_status "$la")" 200 "the lock revoked nothing"

auth_finish
