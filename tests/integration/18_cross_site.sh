#!/usr/bin/env bash
# The cross-site rule: a cookie-authenticated POST to logout, refresh or
# password whose Origin is foreign is 403 origin_not_allowed and changes
# nothing (no Set-Cookie, no session or token touched).  The server's own
# origin (https:// + Host), no Origin at all, and bearer authentication with
# any Origin are allowed.  CORS_ALLOWED_ORIGINS is empty in the test stack.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

EVIL=https://evil.example
# curl sends Host: localhost:<port> for $BASE, so the own origin is $BASE itself.
OWN=${BASE%/}
echo "# own origin: $OWN; CORS_ALLOWED_ORIGINS='$(stack_env CORS_ALLOWED_ORIGINS)'"
name=$(uniq_name Xsite)
pw=$(uniq_password)
pw2=$(uniq_password)
register "$name" "$pw"

# refused WHAT - 403 origin_not_allowed and no cookie set or cleared.
refused() {
	expect_error 403 origin_not_allowed "$1"
	expect_no_set_cookie "$1"
}

login_cookie "$name" "$pw"
ca=$ACCESS cr=$REFRESH csid=$SID
cookies="__Host-access=$ca; __Secure-refresh=$cr"
rows_before=$(psql_q "SELECT count(*) FROM refresh_tokens WHERE session_id = '$csid'")

# ---- foreign origin, cookie-authenticated: refused, nothing changes ----
for origin in "$EVIL" "http://${OWN#https://}" "${OWN}.evil.example" "https://localhost" 'null' "$OWN/"; do
	call POST /api/auth/logout "${NOBODY[@]}" -H "Cookie: $cookies" -H "Origin: $origin"
	refused "cookie logout from Origin $origin"
done
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr" -H "Origin: $EVIL"
refused "cookie refresh from a foreign Origin"
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: $cookies" -H "Origin: $EVIL"
refused "cookie refresh (both cookies) from a foreign Origin"
post_json /api/auth/password "{\"current_password\":$(jstr "$pw"),\"new_password\":$(jstr "$pw2")}" \
	-H "Cookie: __Host-access=$ca" -H "Origin: $EVIL"
refused "cookie password change from a foreign Origin"
post_json /api/auth/password '{}' -H "Cookie: __Host-access=$ca" -H "Origin: $EVIL"
refused "cookie password change with an invalid body from a foreign Origin"
post_json /api/auth/logout '{}' -H "Cookie: $cookies" -H "Origin: $EVIL"
refused "cookie logout with a JSON body from a foreign Origin"

expect_eq "$(me_cookie_status "$ca")" 200 "after the refusals the session still works"
expect_eq "$(psql_q "SELECT revoked_at IS NULL FROM sessions WHERE id = '$csid'")" t "the session is not revoked (PostgreSQL)"
expect_eq "$(psql_q "SELECT count(*) FROM refresh_tokens WHERE session_id = '$csid'")|$(psql_q "SELECT spent_at IS NULL FROM refresh_tokens WHERE token_hash = $(sha256_sql "$cr")")" \
	"$rows_before|t" "the refresh token was not rotated"
post_json /api/auth/login "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw2")}"
expect_error 401 invalid_credentials "the password did not change (the new one does not log in)"

# ---- own origin: allowed ----
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr" -H "Origin: $OWN"
expect_status 200 "cookie refresh from the server's own origin"
cr2=$(set_cookie_value __Secure-refresh) ca2=$(set_cookie_value __Host-access)
remember "$cr2" "$ca2"
expect_eq "$([ -n "$cr2" ] && [ "$cr2" != "$cr" ] && echo yes)" yes "... rotates the refresh token"
post_json /api/auth/password "{\"current_password\":$(jstr "$pw"),\"new_password\":$(jstr "$pw2")}" \
	-H "Cookie: __Host-access=$ca2" -H "Origin: $OWN"
expect_status 204 "cookie password change from the server's own origin"
expect_eq "$(me_cookie_status "$ca2")" 401 "... which revoked the session"
login_cookie "$name" "$pw2"
ca=$ACCESS cr=$REFRESH
call POST /api/auth/logout "${NOBODY[@]}" -H "Cookie: __Host-access=$ca; __Secure-refresh=$cr" -H "Origin: $OWN"
expect_status 204 "cookie logout from the server's own origin"
expect_cookies_cleared "cookie logout from the own origin"
expect_eq "$(me_cookie_status "$ca")" 401 "... which revoked the session"
# the own origin follows the Host header
login_cookie "$name" "$pw2"
ca=$ACCESS cr=$REFRESH
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr" -H 'Host: api.example.test' \
	-H 'Origin: https://api.example.test' --http1.1
expect_status 200 "Origin https://<Host> is the own origin, whatever the Host"
ca=$(set_cookie_value __Host-access) cr=$(set_cookie_value __Secure-refresh)
remember "$ca" "$cr"
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr" -H 'Host: api.example.test' \
	-H "Origin: $OWN" --http1.1
refused "Origin of another host than the Host header"

# ---- no Origin: allowed ----
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr"
expect_status 200 "cookie refresh without Origin"
ca=$(set_cookie_value __Host-access) cr=$(set_cookie_value __Secure-refresh)
remember "$ca" "$cr"
call POST /api/auth/logout "${NOBODY[@]}" -H "Cookie: __Host-access=$ca; __Secure-refresh=$cr"
expect_status 204 "cookie logout without Origin"
expect_eq "$(me_cookie_status "$ca")" 401 "... which revoked the session"
login_cookie "$name" "$pw2"
post_json /api/auth/password "{\"current_password\":$(jstr "$pw2"),\"new_password\":$(jstr "$pw")}" \
	-H "Cookie: __Host-access=$ACCESS"
expect_status 204 "cookie password change without Origin"

# ---- bearer with a foreign Origin: allowed (no cookie, no CSRF) ----
login_bearer "$name" "$pw"
ba=$ACCESS br=$REFRESH
post_json /api/auth/refresh "{\"refresh_token\":\"$br\"}" -H "Origin: $EVIL"
expect_status 200 "bearer refresh from a foreign Origin"
ba=$(printf '%s' "$BODY" | jq -r .access_token) br=$(printf '%s' "$BODY" | jq -r .refresh_token)
remember "$ba" "$br"
post_json /api/auth/password "{\"current_password\":$(jstr "$pw"),\"new_password\":$(jstr "$pw2")}" \
	-H "Authorization: Bearer $ba" -H "Origin: $EVIL"
expect_status 204 "bearer password change from a foreign Origin"
login_bearer "$name" "$pw2"
ba=$ACCESS br=$REFRESH
call POST /api/auth/logout -H "Authorization: Bearer $ba" -H "Origin: $EVIL" "${JSON_CT[@]}" \
	--data-binary "{\"refresh_token\":\"$br\"}"
expect_status 204 "bearer logout from a foreign Origin"
expect_eq "$(me_status "$ba")" 401 "... which revoked the session"

# ---- a bearer header does not make a cookie-authenticated request bearer ----
# The refresh cookie is what authenticates these requests (the header holds
# no usable token), so they are cookie-authenticated and must be refused.
login_cookie "$name" "$pw2"
ca=$ACCESS cr=$REFRESH csid=$SID
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr" -H 'Authorization: Bearer x' -H "Origin: $EVIL"
expect_eq "$STATUS $(printf '%s' "$BODY" | jq -r '.error.code' 2>/dev/null) $(set_cookie_count)" "403 origin_not_allowed 0" \
	"a refresh by cookie with a junk bearer header from a foreign Origin: 403 origin_not_allowed, no Set-Cookie"
remember "$(set_cookie_value __Host-access)" "$(set_cookie_value __Secure-refresh)"
expect_eq "$(psql_q "SELECT spent_at IS NULL FROM refresh_tokens WHERE token_hash = $(sha256_sql "$cr")")" t \
	"... and the refresh cookie was not rotated"
call POST /api/auth/logout "${NOBODY[@]}" -H "Cookie: __Host-access=$ca; __Secure-refresh=$cr" -H 'Authorization: Bearer x' -H "Origin: $EVIL"
expect_eq "$STATUS $(printf '%s' "$BODY" | jq -r '.error.code' 2>/dev/null) $(set_cookie_count)" "403 origin_not_allowed 0" \
	"a logout by cookie with a junk bearer header from a foreign Origin: 403 origin_not_allowed, no Set-Cookie"
expect_eq "$(psql_q "SELECT revoked_at IS NULL FROM sessions WHERE id = '$csid'")" t "... and the cookie session was not revoked"

# ---- no credentials at all with a foreign Origin ----
call POST /api/auth/logout "${NOBODY[@]}" -H "Origin: $EVIL"
expect_status 204 "logout without any credential from a foreign Origin (nothing to protect)"
call POST /api/auth/refresh "${NOBODY[@]}" -H "Origin: $EVIL"
expect_error 401 unauthenticated "refresh without any credential from a foreign Origin"

# ---- login and register are not cookie-authenticated ----
post_json /api/auth/login "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw2")}" -H "Origin: $EVIL"
expect_status 200 "login from a foreign Origin (not cookie-authenticated)"
remember "$(set_cookie_value __Host-access)" "$(set_cookie_value __Secure-refresh)"
expect_no_header Access-Control-Allow-Origin "a foreign Origin gets no CORS headers"

auth_finish
