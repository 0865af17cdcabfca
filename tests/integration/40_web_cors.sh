#!/usr/bin/env bash
# CORS, answered by the web server (lighttpd: lighttpd/cors.lua; Apache:
# mod_headers, mod_setenvif and mod_rewrite) for the exact origins in
# CORS_ALLOWED_ORIGINS, the same under every server:
#   - a preflight from an allowed origin is 204 with every header of the
#     contract, answered by the server (no X-Request-Id, no RateLimit: no
#     responder saw it);
#   - the responses to an allowed origin, errors included, carry
#     Access-Control-Allow-Origin (that origin), -Allow-Credentials,
#     -Expose-Headers and Vary: Origin;
#   - any other origin (near misses included) gets no CORS header at all;
#     its preflight is answered 204 by the server too, without them, and is
#     never counted by the rate limits; an OPTIONS that is no preflight
#     (no Access-Control-Request-Method) reaches the application (405);
#   - the origins come from the same setting as the responders': restarted
#     with two other origins, those are allowed and the old one is not; a
#     value that is not an origin stops the start with a message naming it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

echo "# web server: $(web_name)"
origins=$(senv CORS_ALLOWED_ORIGINS)
ORIGIN=${origins%%,*}
ORIGIN=${ORIGIN// /}
if [ -z "$ORIGIN" ]; then
	not_ok "the test stack sets CORS_ALLOWED_ORIGINS (run.sh)"
	exit 1
fi
echo "# allowed origin: $ORIGIN"
EXPOSED="ETag RateLimit RateLimit-Policy RateLimit-Limit RateLimit-Remaining RateLimit-Reset Retry-After X-Request-Id"
ALLOWED_HEADERS="Content-Type Authorization If-Match If-None-Match X-Request-Id"

# has_all LIST WORDS WHAT - every one of WORDS is an item of the
# comma-separated LIST (case-insensitive, as header names are).
has_all() {
	local list=$1 w missing=""
	list=",$(printf '%s' "$list" | tr -d ' ' | tr 'A-Z' 'a-z'),"
	for w in $2; do
		[[ $list == *",$(printf '%s' "$w" | tr 'A-Z' 'a-z'),"* ]] || missing+=" $w"
	done
	if [ -z "$missing" ]; then ok "$3"; else not_ok "$3: missing$missing (got '$1')"; fi
}

# expect_cors WHAT - the headers of a response to the allowed origin.
expect_cors() {
	expect_header Access-Control-Allow-Origin "$ORIGIN" "$1"
	expect_header Access-Control-Allow-Credentials true "$1"
	has_all "$(header Access-Control-Expose-Headers)" "$EXPOSED" "$1: Access-Control-Expose-Headers lists every contract header"
	has_all "$(header Vary)" Origin "$1: Vary: Origin"
}

# expect_no_cors WHAT - no Access-Control-* header at all.
expect_no_cors() {
	local got
	got=$(cors_headers)
	if [ -z "$got" ]; then ok "$1: no CORS header"; else not_ok "$1: unexpected $(printf '%s' "$got" | tr '\r\n' '  ')"; fi
}

# ---- preflight from the allowed origin ----
for p in /api/data/some-key /api/auth/login /api/auth/refresh /api/me /api/data /api/nope; do
	call OPTIONS "$p" -H "Origin: $ORIGIN" -H 'Access-Control-Request-Method: PUT' \
		-H 'Access-Control-Request-Headers: content-type, authorization, if-match, x-request-id'
	expect_status 204 "preflight to $p"
	expect_cors "preflight to $p"
	expect_header Access-Control-Allow-Methods 'GET, POST, PUT, DELETE, OPTIONS' "preflight to $p: methods"
	has_all "$(header Access-Control-Allow-Headers)" "$ALLOWED_HEADERS" "preflight to $p: every request header of the contract is allowed"
	expect_header Access-Control-Max-Age '[1-9][0-9]*' "preflight to $p: Max-Age"
	expect_no_header X-Request-Id "preflight to $p never reached a responder"
	expect_no_header RateLimit "preflight to $p is not rate limited"
	expect_eq "$BODY" "" "preflight to $p has no body"
	expect_header Strict-Transport-Security 'max-age=[0-9]+.*' "preflight to $p: HSTS"
	expect_header X-Content-Type-Options nosniff "preflight to $p: nosniff"
done
# A preflight that carries a request id still never reaches a responder.
call OPTIONS /api/me -H "Origin: $ORIGIN" -H 'Access-Control-Request-Method: GET' -H 'X-Request-Id: pf-1'
expect_status 204 "a preflight with X-Request-Id"
expect_no_header X-Request-Id "the preflight's request id is not echoed (no responder)"
log=$VAR_DIR/log/portcullis.log
if [ -r "$log" ] && grep -q '"request_id":"pf-1"' "$log"; then
	not_ok "a preflight was logged by a responder"
else
	ok "no responder logged the preflight"
fi

# ---- actual requests from the allowed origin ----
call GET /api/health -H "Origin: $ORIGIN"
expect_status 200 "GET /api/health from $ORIGIN"
expect_cors "GET /api/health from $ORIGIN"
expect_no_header Access-Control-Allow-Methods "an actual response carries no preflight headers"
call GET /api/nope -H "Origin: $ORIGIN"
expect_status 404 "a 404 to $ORIGIN"
expect_cors "a 404 to $ORIGIN (the page can read the error)"
call GET /api/me -H "Origin: $ORIGIN"
expect_status 401 "a 401 to $ORIGIN"
expect_cors "a 401 to $ORIGIN"
new_user
call GET /api/me -H "Origin: $ORIGIN" -H "Authorization: Bearer $TOKEN"
expect_status 200 "GET /api/me with a bearer token from $ORIGIN"
expect_cors "GET /api/me from $ORIGIN"
call PUT /api/data/cors-key -H "Origin: $ORIGIN" -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data '"v"'
expect_status 201 "PUT from $ORIGIN"
expect_cors "PUT from $ORIGIN"
expect_header ETag '"1"' "the ETag the page may read"
expect_header RateLimit '.+' "the RateLimit field the page may read"
call POST /api/auth/login -H "Origin: $ORIGIN" -H 'Content-Type: application/json' \
	--data '{"username":"nobody-here","password":"wrong password!"}'
expect_status 401 "a failed login from $ORIGIN"
expect_cors "a failed login from $ORIGIN"

# ---- foreign origins: no CORS at all ----
for o in https://evil.example "${ORIGIN}.evil.example" "${ORIGIN/https:/http:}" \
	"$(printf '%s' "$ORIGIN" | tr 'a-z' 'A-Z')" "$ORIGIN/" "${ORIGIN}:443" null \
	"$ORIGIN, https://evil.example" "x$ORIGIN"; do
	call GET /api/health -H "Origin: $o"
	expect_status 200 "GET /api/health from '$o'"
	expect_no_cors "GET /api/health from '$o'"
	call OPTIONS /api/data/some-key -H "Origin: $o" -H 'Access-Control-Request-Method: PUT'
	expect_status 204 "a preflight from '$o' is answered by the server"
	expect_no_cors "a preflight from '$o'"
	expect_no_header X-Request-Id "a preflight from '$o' never reached a responder"
	expect_eq "$BODY" "" "a preflight from '$o' has no body"
done
call OPTIONS /api/data/some-key -H 'Origin: https://evil.example'
expect_json_error 405 method_not_allowed "an OPTIONS from a foreign origin that is no preflight reaches the application"
expect_no_cors "an OPTIONS from a foreign origin that is no preflight"
call GET /api/health
expect_no_cors "no Origin at all"

# ---- one setting for server and code: restart with other origins ----
export VAR_DIR
O1=https://one.example.test O2=http://two.example.test:8443
# (With a small api limit, so that a request counted shows in
# RateLimit-Remaining, for a client of its own behind the trusted loopback
# proxy: no other test meets that client's budget.)
web_with() {
	CORS_ALLOWED_ORIGINS=$1 RATE_LIMIT_API=50/3600 TRUSTED_PROXIES=127.0.0.1,::1 \
		"$STACK" stop web >>"$TMP/stack.log" 2>&1
	CORS_ALLOWED_ORIGINS=$1 RATE_LIMIT_API=50/3600 TRUSTED_PROXIES=127.0.0.1,::1 \
		"$STACK" start web >>"$TMP/stack.log" 2>&1
}
CLIENT=198.51.100.$((RANDOM % 250 + 1))
web_restore_on_exit
# Long enough (over 127 bytes) that mod_fcgid cannot carry it in
# FcgidInitialEnv: the responders must get it all the same.
PAD=https://padding-one.example.test,https://padding-two.example.test,https://padding-three.example.test
if web_with " $O1 , $O2,$PAD"; then ok "the web server restarts with CORS_ALLOWED_ORIGINS=' $O1 , $O2,...' (${#PAD} + bytes)"; else
	not_ok "restart with two origins: $(tail -n 5 "$TMP/stack.log")"
fi
for o in "$O1" "$O2"; do
	call OPTIONS /api/me -H "Origin: $o" -H 'Access-Control-Request-Method: GET'
	expect_status 204 "preflight from $o, one of two"
	expect_header Access-Control-Allow-Origin "$o" "preflight from $o names it"
	call GET /api/health -H "Origin: $o"
	expect_header Access-Control-Allow-Origin "$o" "GET from $o names it"
done
call GET /api/health -H "Origin: $ORIGIN"
expect_no_cors "$ORIGIN is no longer allowed"

# Preflights are never counted: RateLimit-Remaining of the api policy moves
# by one per request around three preflights (allowed and foreign).
remaining() { call GET /api/data/k -4 -H "Origin: $O1" -H "X-Forwarded-For: $CLIENT"; header RateLimit-Remaining; }
r1=$(remaining)
for o in "$O1" https://evil.example "$ORIGIN"; do
	call OPTIONS /api/data/k -4 -H "Origin: $o" -H 'Access-Control-Request-Method: PUT' -H "X-Forwarded-For: $CLIENT"
	expect_status 204 "preflight from $o between two counted requests"
done
r2=$(remaining)
if [[ $r1 =~ ^[0-9]+$ ]] && [[ $r2 =~ ^[0-9]+$ ]]; then
	expect_eq "$r2" "$((r1 - 1))" "three preflights are not counted (RateLimit-Remaining $r1 then $r2)"
else
	not_ok "RateLimit-Remaining is missing ('$r1', '$r2')"
fi
# The responders read the same list (the cross-site rule of logout).
call POST /api/auth/logout -H 'Content-Length: 0' -H 'Cookie: __Secure-refresh=x' -H "Origin: $O2"
expect_status 204 "the responders allow $O2 too (cookie logout from it)"
call POST /api/auth/logout -H 'Content-Length: 0' -H 'Cookie: __Secure-refresh=x' -H "Origin: $ORIGIN"
expect_json_error 403 origin_not_allowed "the responders no longer allow $ORIGIN"
if CORS_ALLOWED_ORIGINS="$O1,https://bad.example.test/path" "$STACK" start web >"$TMP/bad.out" 2>&1; then
	not_ok "a start with an origin that has a path succeeds"
elif grep -q CORS_ALLOWED_ORIGINS "$TMP/bad.out"; then
	ok "a start with an origin that has a path fails naming CORS_ALLOWED_ORIGINS"
else
	not_ok "the refused start does not name CORS_ALLOWED_ORIGINS: $(head -c 200 "$TMP/bad.out")"
fi
call GET /api/health -H "Origin: $O1"
expect_header Access-Control-Allow-Origin "$O1" "the running server is untouched by the refused start"
web_restore
call OPTIONS /api/me -H "Origin: $ORIGIN" -H 'Access-Control-Request-Method: GET'
expect_status 204 "after the restore, $ORIGIN is allowed again"
