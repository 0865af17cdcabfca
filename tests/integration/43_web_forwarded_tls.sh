#!/usr/bin/env bash
# Plain HTTP behind a TLS-terminating proxy or ingress, the same under every
# server.  Restarted with TRUSTED_PROXIES=127.0.0.1: a plain HTTP request
# from 127.0.0.1 (the proxy) with "X-Forwarded-Proto: https" is served as
# over HTTPS (the API, HSTS, CORS, the JSON envelope of the server's own
# refusals, Secure cookies), and is exempt from the per-address connection
# cap; the same header from a client that is not a trusted proxy
# (127.0.0.2), under another name, with another value or as a list, is
# ignored: the request is redirected to HTTPS as any plain one.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

echo "# web server: $(web_name)"
export VAR_DIR
HP=$HTTP_PORT
PROXY=http://127.0.0.1:$HP
STRANGER=http://127.0.0.2:$HP

# Before: no trusted proxy, so the header is nobody's.
call_url GET "$PROXY/api/health" -H 'X-Forwarded-Proto: https'
expect_status 301 "without TRUSTED_PROXIES, X-Forwarded-Proto: https from 127.0.0.1 is ignored"

web_trusting() {
	TRUSTED_PROXIES=127.0.0.1 "$STACK" "$@" web >>"$TMP/stack.log" 2>&1
}
web_restore_on_exit
web_trusting stop
if web_trusting start; then ok "the web server restarts with TRUSTED_PROXIES=127.0.0.1"; else
	not_ok "restart with TRUSTED_PROXIES: $(tail -n 5 "$TMP/stack.log")"
	exit 1
fi

# ---- honoured: from the trusted proxy, exactly "https" ----
call_url GET "$PROXY/api/health" -H 'X-Forwarded-Proto: https'
expect_status 200 "plain HTTP from the trusted proxy with X-Forwarded-Proto: https is served"
expect_json '.status' ok "it is the API's answer"
expect_api_shape "the forwarded answer"
expect_header Strict-Transport-Security 'max-age=31536000; includeSubDomains' "the forwarded answer carries HSTS"
expect_header X-Content-Type-Options nosniff "the forwarded answer carries nosniff"
call_url GET "$PROXY/api/health" -H 'X-Forwarded-Proto: HTTPS'
expect_status 200 "the scheme's case does not matter"
call_url GET "$PROXY/api/no-such-route" -H 'X-Forwarded-Proto: https'
expect_error 404 not_found "an unknown path, forwarded"
long=$(head -c 9000 /dev/zero | tr '\0' a)
call_url GET "$PROXY/api/health" -H 'X-Forwarded-Proto: https' --url-query "q=$long"
if [ "$STATUS" = 414 ] || [ "$STATUS" = 431 ]; then ok "a long URI, forwarded: the server's own $STATUS"; else
	not_ok "a long URI, forwarded: status $STATUS ${BODY:0:100}"
fi
expect_json '.error.code | test("^(uri_too_long|header_fields_too_large)$")' true "the server's refusal, forwarded, is the envelope"
expect_api_shape "the server's refusal, forwarded"
call_url OPTIONS "$PROXY/api/me" -H 'X-Forwarded-Proto: https' -H 'Origin: https://app.example.test' \
	-H 'Access-Control-Request-Method: GET'
expect_status 204 "a preflight, forwarded, is answered by the web server"
expect_header Access-Control-Allow-Origin 'https://app.example.test' "the preflight, forwarded, gets the CORS headers"

# A cookie login through the proxy: the cookies are Secure (the browser's
# hop is TLS) and work on the next forwarded request.
name=fwd$RANDOM$RANDOM$$
pw="pass-$RANDOM-$RANDOM-$RANDOM"
call_url POST "$PROXY/api/auth/register" -H 'X-Forwarded-Proto: https' -H 'Content-Type: application/json' \
	--data "{\"username\":\"$name\",\"password\":\"$pw\"}"
expect_status 201 "register through the proxy"
call_url POST "$PROXY/api/auth/login" -H 'X-Forwarded-Proto: https' -H 'Content-Type: application/json' \
	--data "{\"username\":\"$name\",\"password\":\"$pw\"}"
expect_status 200 "a cookie login through the proxy"
access=$(printf '%s\n' "$HEADERS" | grep -i '^set-cookie: __Host-access=' | head -n 1)
if [[ $access == *"; Secure"* ]]; then ok "the access cookie is __Host- and Secure"; else
	not_ok "access cookie: ${access:-none}"
fi
jwt=$(printf '%s' "$access" | sed -E 's/^[^=]*=([^;]*).*/\1/')
call_url GET "$PROXY/api/me" -H 'X-Forwarded-Proto: https' -H "Cookie: __Host-access=$jwt"
expect_status 200 "the cookie authenticates the next forwarded request"
expect_json '.user.username' "$name" "it is that user"

# ---- ignored: anything else is a plain request, redirected ----
# not_forwarded WHAT URL CURL-ARGS... - a GET that must be redirected (301
# to https://, no HSTS, nothing from a responder).
not_forwarded() {
	local what=$1 url=$2
	shift 2
	call_url GET "$url/api/health" "$@"
	expect_status 301 "$what: redirected"
	expect_header Location "https://[^/]+:$HTTPS_PORT/api/health" "$what: to HTTPS"
	expect_no_header Strict-Transport-Security "$what: plain HTTP"
}
not_forwarded "no X-Forwarded-Proto from the proxy" "$PROXY"
not_forwarded "X-Forwarded-Proto: http from the proxy" "$PROXY" -H 'X-Forwarded-Proto: http'
not_forwarded "X-Forwarded-Proto: https, https (a list)" "$PROXY" -H 'X-Forwarded-Proto: https, https'
not_forwarded "two X-Forwarded-Proto headers" "$PROXY" -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Proto: https'
not_forwarded "X_Forwarded_Proto: https (another name)" "$PROXY" -H 'X_Forwarded_Proto: https'
not_forwarded "X-Forwarded-Proto: https from 127.0.0.2 (not trusted)" "$STRANGER" --interface 127.0.0.2 \
	-H 'X-Forwarded-Proto: https'
call_url POST "$STRANGER/api/auth/login" --interface 127.0.0.2 -H 'X-Forwarded-Proto: https' \
	-H 'Content-Type: application/json' --data "{\"username\":\"$name\",\"password\":\"$pw\"}"
expect_status 308 "a POST from 127.0.0.2 with X-Forwarded-Proto: https is redirected"
if printf '%s\n' "$HEADERS" | grep -qi '^set-cookie:'; then not_ok "the redirected POST set a cookie"; else
	ok "the redirected POST never reached the responder (no cookie)"
fi

# ---- the trusted proxy is exempt from the per-address cap ----
max=$(senv WEB_MAX_CONNS_PER_IP 32)
if [ "$max" -gt 0 ]; then
	python3 "$(dirname "$0")/idle_conns.py" 127.0.0.1 "$HTTPS_PORT" $((max + 8)) 3 >"$TMP/idle.out" 2>&1 &
	ipid=$!
	for _ in $(seq 1 100); do grep -qs '^closed_after_1s' "$TMP/idle.out" && break; sleep 0.1; done
	expect_eq "$(sed -n 's/^closed_after_1s //p' "$TMP/idle.out")" 0 \
		"the proxy's $((max + 8)) idle connections are all kept (over WEB_MAX_CONNS_PER_IP=$max)"
	call_url GET "https://127.0.0.1:$HTTPS_PORT/api/health" --max-time 5
	expect_status 200 "the proxy is served while it holds them"
	wait "$ipid"
fi

web_restore
call_url GET "$PROXY/api/health" -H 'X-Forwarded-Proto: https'
expect_status 301 "restored without TRUSTED_PROXIES, the header is ignored again"
