#!/usr/bin/env bash
# /metrics at the web server, the same under every server: routed to the
# metrics responder for a loopback client (127.0.0.1, ::1) or one with a
# bearer token; any other client gets health's JSON 404 and never reaches
# the metrics responder.  Then, restarted with TRUSTED_PROXIES=127.0.0.1 and
# METRICS_TOKEN: a forwarded request is loopback only when every
# X-Forwarded-For entry is (a malformed or mixed header never is), an
# X_Forwarded_For header changes nothing, the token opens /metrics from
# another address and a wrong one is 404; a short token stops the start.
# The "other client" here is this machine itself through one of its
# non-loopback addresses (a client in a network namespace of its own is
# another test's).  Without cgi-bin/metrics, /metrics is health's 404 for
# everyone.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

echo "# web server: $(web_name)"
port=$HTTPS_PORT

# A non-loopback address of this machine, if it has one.
other=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')

if [ ! -x "$ROOT/cgi-bin/metrics" ]; then
	ok "skipped: cgi-bin/metrics is not built, /metrics is not routed to it"
	call_url GET "https://127.0.0.1:$port/metrics"
	expect_json_error 404 not_found "/metrics without the metrics responder"
	exit 0
fi

call_url GET "https://127.0.0.1:$port/metrics"
expect_status 200 "/metrics from 127.0.0.1"
expect_header Content-Type 'text/plain.*' "/metrics is the Prometheus text format"
if printf '%s' "$BODY" | grep -q '^# TYPE portcullis_'; then ok "/metrics from 127.0.0.1 is the metrics responder's"; else
	not_ok "/metrics body: ${BODY:0:120}"
fi
expect_header Strict-Transport-Security 'max-age=[0-9]+.*' "/metrics: HSTS"
expect_header X-Content-Type-Options nosniff "/metrics: nosniff"
call_url GET "https://127.0.0.1:$port/metrics?x=1"
expect_status 200 "/metrics with a query from 127.0.0.1"
if grep -q ' lo$' /proc/net/if_inet6 2>/dev/null; then
	call_url GET "https://[::1]:$port/metrics"
	expect_status 200 "/metrics from ::1"
else
	ok "skipped: no IPv6 on loopback"
fi
call GET /metrics -H 'X-Forwarded-For: 127.0.0.1'
expect_status 200 "/metrics through localhost (whatever X-Forwarded-For says, the peer is loopback)"

if [ -z "$other" ]; then
	ok "skipped: this machine has no non-loopback IPv4 address to ask from"
	exit 0
fi
echo "# non-loopback client: $other"
for p in /metrics '/metrics?x=1'; do
	call_url GET "https://$other:$port$p" -H 'X-Forwarded-For: 127.0.0.1'
	expect_json_error 404 not_found "GET $p from $other (not loopback)"
	if printf '%s' "$BODY" | grep -q 'portcullis_'; then not_ok "$p leaked metrics to $other"; else
		ok "no metric reaches $other"
	fi
done
call_url GET "https://$other:$port/api/health"
expect_status 200 "the same client reaches the API"
call_url GET "https://$other:$port/metrics" -H 'Authorization: Bearer not-the-token-not-the-token-not-the-token'
expect_json_error 404 not_found "a bearer token from $other without METRICS_TOKEN set"

# ---- behind a trusted proxy on this host, and METRICS_TOKEN ----
export VAR_DIR
TOKEN_M=metrics-token-$RANDOM$RANDOM-0123456789abcdef0123456789
web_metrics() {
	TRUSTED_PROXIES=127.0.0.1 METRICS_TOKEN=$TOKEN_M "$STACK" "$@" web >>"$TMP/stack.log" 2>&1
}
web_restore_on_exit
web_metrics stop
if web_metrics start; then ok "the web server restarts with TRUSTED_PROXIES=127.0.0.1 and METRICS_TOKEN"; else
	not_ok "restart with TRUSTED_PROXIES and METRICS_TOKEN: $(tail -n 5 "$TMP/stack.log")"
	exit 1
fi
# metrics_as WHAT WANT CURL-ARGS... - GET /metrics from 127.0.0.1 (the
# trusted proxy); WANT 200 (the metrics) or 404 (the envelope, no metric).
metrics_as() {
	local what=$1 want=$2
	shift 2
	call_url GET "https://127.0.0.1:$port/metrics" "$@"
	if [ "$want" = 200 ]; then
		expect_status 200 "$what"
	else
		expect_json_error 404 not_found "$what"
		if printf '%s' "$BODY" | grep -q 'portcullis_'; then not_ok "$what: metrics leaked"; fi
	fi
}
metrics_as "no X-Forwarded-For: the proxy's own request" 200
metrics_as "X-Forwarded-For: 127.0.0.1" 200 -H 'X-Forwarded-For: 127.0.0.1'
metrics_as "X-Forwarded-For: 127.0.0.1, ::1" 200 -H 'X-Forwarded-For: 127.0.0.1, ::1'
metrics_as "X-Forwarded-For: 203.0.113.9" 404 -H 'X-Forwarded-For: 203.0.113.9'
metrics_as "malformed X-Forwarded-For: x, 203.0.113.9" 404 -H 'X-Forwarded-For: x, 203.0.113.9'
metrics_as "malformed X-Forwarded-For: garbage" 404 -H 'X-Forwarded-For: garbage'
metrics_as "malformed X-Forwarded-For: 127.0.0.1," 404 -H 'X-Forwarded-For: 127.0.0.1,'
metrics_as "mixed X-Forwarded-For: 203.0.113.9, 127.0.0.1" 404 -H 'X-Forwarded-For: 203.0.113.9, 127.0.0.1'
metrics_as "mixed X-Forwarded-For: 127.0.0.1, 203.0.113.9" 404 -H 'X-Forwarded-For: 127.0.0.1, 203.0.113.9'
# lighttpd maps both names to one variable, the last one winning; the
# underscore one must change nothing, in either order.
metrics_as "X_Forwarded_For: 127.0.0.1 after X-Forwarded-For: 203.0.113.9" 404 \
	-H 'X-Forwarded-For: 203.0.113.9' -H 'X_Forwarded_For: 127.0.0.1'
metrics_as "X_Forwarded_For: 127.0.0.1 before X-Forwarded-For: 203.0.113.9" 404 \
	-H 'X_Forwarded_For: 127.0.0.1' -H 'X-Forwarded-For: 203.0.113.9'
metrics_as "X_Forwarded_For: 203.0.113.9 beside X-Forwarded-For: 127.0.0.1" 200 \
	-H 'X-Forwarded-For: 127.0.0.1' -H 'X_Forwarded_For: 203.0.113.9'
metrics_as "the token opens it whatever X-Forwarded-For says" 200 \
	-H 'X-Forwarded-For: 203.0.113.9' -H "Authorization: Bearer $TOKEN_M"
metrics_as "a wrong token from a forwarded stranger" 404 \
	-H 'X-Forwarded-For: 203.0.113.9' -H "Authorization: Bearer ${TOKEN_M}x"
if [ -n "$other" ]; then
	call_url GET "https://$other:$port/metrics" -H "Authorization: Bearer $TOKEN_M"
	expect_status 200 "METRICS_TOKEN opens /metrics from $other"
	if printf '%s' "$BODY" | grep -q '^# TYPE portcullis_'; then ok "the token gets the metrics"; else not_ok "token body: ${BODY:0:80}"; fi
	call_url GET "https://$other:$port/metrics" -H "Authorization: bearer $TOKEN_M"
	expect_status 200 "the scheme of Authorization is case-insensitive"
	for bad in "${TOKEN_M}x" "${TOKEN_M:0:-1}" short "$TOKEN_M $TOKEN_M"; do
		call_url GET "https://$other:$port/metrics" -H "Authorization: Bearer $bad"
		expect_json_error 404 not_found "a wrong token from $other (${#bad} bytes)"
	done
	call_url GET "https://$other:$port/metrics" -H "Authorization: Basic $TOKEN_M"
	expect_json_error 404 not_found "the token under another scheme from $other"
	call_url POST "https://$other:$port/metrics" -H "Authorization: Bearer ${TOKEN_M}x" -d ''
	expect_json_error 404 not_found "a POST with a wrong token from $other"
fi
"$STACK" stop web >>"$TMP/stack.log" 2>&1
if METRICS_TOKEN=too-short-a-token "$STACK" start web >"$TMP/bad.out" 2>&1; then
	not_ok "the web server starts with a METRICS_TOKEN of 17 bytes"
elif grep -q METRICS_TOKEN "$TMP/bad.out"; then
	ok "a METRICS_TOKEN under 32 bytes stops the start naming it: $(grep -m1 METRICS_TOKEN "$TMP/bad.out")"
else
	not_ok "a short METRICS_TOKEN: $(head -c 200 "$TMP/bad.out")"
fi
web_restore
