#!/usr/bin/env bash
# /metrics at the web server, the same under every server: routed to the
# metrics responder for a loopback client only (127.0.0.1, ::1); any other
# client gets health's JSON 404 and never reaches the metrics responder.
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
