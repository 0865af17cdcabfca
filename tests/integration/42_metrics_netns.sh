#!/usr/bin/env bash
# /metrics from a real non-loopback client, the same under every server: a
# network namespace of this test's own, joined to the host by a veth pair
# (host 10.203.X.Y+1/30, namespace .Y+2; with IPv6 also fd42:203:X:Y::1/64
# and ::2), so the web server sees a peer address that is neither loopback
# nor one of the machine's own.  From there:
#   - /api/health is 200 (the path through the veth works);
#   - /metrics, with a query, with path variants that normalise to /metrics,
#     and with X-Forwarded-For: 127.0.0.1 (no trusted proxy in the suite) is
#     health's JSON 404 not_found, never a metric;
#   - the same /metrics from the host's loopback is 200 Prometheus text.
# The namespace and the veth go in an EXIT trap.  Skipped (with the reason)
# only where the machine cannot have a namespace: `ip netns add` or a veth
# refused (no CAP_NET_ADMIN, no veth driver).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

echo "# web server: $(web_name)"
port=$HTTPS_PORT

# Unique per run: names (a veth name has at most 15 bytes) and a /30 that no
# interface of the host already uses.
tag=$$
NS=pc42-$tag-$RANDOM
VH=pc42h$tag VN=pc42n$tag
for _ in 1 2 3 4 5 6 7 8; do
	x=$((RANDOM % 256)) y=$((RANDOM % 64 * 4))
	ip -4 -o addr show 2>/dev/null | grep -q " 10\.203\.$x\." || break
done
H4=10.203.$x.$((y + 1)) N4=10.203.$x.$((y + 2))
H6=fd42:203:$x:$y::1 N6=fd42:203:$x:$y::2

cleanup() {
	ip link del "$VH" >/dev/null 2>&1 || true
	ip netns del "$NS" >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

if ! command -v ip >/dev/null; then
	ok "skipped: no ip (iproute2) on this machine"
	exit 0
fi
if ! err=$(ip netns add "$NS" 2>&1); then
	ok "skipped: ip netns add is not permitted here ($err)"
	exit 0
fi
if ! err=$(ip link add "$VH" type veth peer name "$VN" 2>&1); then
	ok "skipped: no veth pair can be made here ($err)"
	exit 0
fi
in_ns() { ip netns exec "$NS" "$@"; }
if ip link set "$VN" netns "$NS" &&
	ip addr add "$H4/30" dev "$VH" &&
	ip link set "$VH" up &&
	in_ns ip link set lo up &&
	in_ns ip addr add "$N4/30" dev "$VN" &&
	in_ns ip link set "$VN" up; then
	ok "namespace $NS: $N4 over veth $VH to the host's $H4"
else
	not_ok "setting up namespace $NS and veth $VH"
	exit 1
fi

# IPv6 too when the host has it and the web server listens on [::].
v6=0
# (ss shows Apache's dual-stack [::] listener as "*:port".)
if [ -e /proc/net/if_inet6 ] && ss -Hltn "sport = :$port" 2>/dev/null | grep -qE '(\[::\]|\*):[0-9]+ '; then
	if ip addr add "$H6/64" dev "$VH" nodad 2>/dev/null &&
		in_ns ip addr add "$N6/64" dev "$VN" nodad 2>/dev/null; then
		v6=1
	fi
fi

# ns_call METHOD URL [curl args] - call_url, from inside the namespace.
ns_call() {
	local method=$1 url=$2
	shift 2
	: >"$TMP/headers"
	: >"$TMP/body"
	STATUS=$(in_ns curl -sk --max-time 20 -X "$method" -D "$TMP/headers" -o "$TMP/body" \
		-w '%{http_code}' "$@" "$url")
	BODY=$(cat "$TMP/body")
	# shellcheck disable=SC2034 # read by header() of lib.sh
	HEADERS=$(tr -d '\r' <"$TMP/headers")
}

# The veth needs a moment to carry traffic after it comes up.
ns_health() { ns_call GET "https://$H4:$port/api/health" --max-time 2 && [ "$STATUS" = 200 ]; }
if ! wait_for "the namespace reaches the web server at $H4:$port" 10 ns_health; then
	exit 1
fi

# no_metrics WHAT - the last answer is health's JSON 404 (a responder's:
# it has an X-Request-Id) and leaks no metric.
no_metrics() {
	local code ct rid
	code=$(printf '%s' "$BODY" | jq -r '.error.code' 2>/dev/null)
	ct=$(header Content-Type) rid=$(header X-Request-Id)
	if printf '%s' "$BODY" | grep -q 'portcullis_'; then
		not_ok "$1: leaked metrics (status $STATUS)"
	elif [ "$STATUS" = 404 ] && [ "$code" = not_found ] &&
		[ "$ct" = 'application/json; charset=utf-8' ] && [ -n "$rid" ]; then
		ok "$1: JSON 404 not_found, no metric"
	else
		not_ok "$1: want the JSON 404 not_found, got $STATUS '$ct' ${BODY:0:100}"
	fi
}

hosts=("$H4")
[ "$v6" = 1 ] && hosts+=("[$H6]")
[ "$v6" = 1 ] || ok "skipped: IPv6 client (no IPv6 here or the web server has no [::] listener)"
for h in "${hosts[@]}"; do
	echo "# client in the namespace -> https://$h:$port"
	ns_call GET "https://$h:$port/api/health"
	expect_status 200 "/api/health from the namespace via $h"
	expect_json '.status' ok "/api/health from the namespace via $h"
	for p in /metrics '/metrics?x=1' '/metrics?format=prometheus' '//metrics' '/./metrics' \
		'/api/../metrics' '/%6detrics' '/metrics/' '/METRICS'; do
		ns_call GET "https://$h:$port$p" --path-as-is
		case $p in
		/metrics/ | /METRICS)
			# Not /metrics at all: the server's own 404; never a metric.
			if [ "$STATUS" = 404 ] && ! printf '%s' "$BODY" | grep -q 'portcullis_'; then
				ok "GET $p from the namespace via $h: 404, no metric"
			else
				not_ok "GET $p from the namespace via $h: $STATUS ${BODY:0:100}"
			fi
			;;
		*) no_metrics "GET $p from the namespace via $h" ;;
		esac
	done
	ns_call GET "https://$h:$port/metrics" -H 'X-Forwarded-For: 127.0.0.1'
	no_metrics "GET /metrics from the namespace via $h with X-Forwarded-For: 127.0.0.1"
	ns_call HEAD "https://$h:$port/metrics" --head
	expect_status 404 "HEAD /metrics from the namespace via $h"
	ns_call GET "https://$h:$port/metrics" -H "Host: localhost:$port"
	no_metrics "GET /metrics from the namespace via $h with Host: localhost"
	# Plain HTTP only redirects, never answers /metrics itself.
	ns_call GET "http://$h:$HTTP_PORT/metrics"
	expect_status 301 "GET /metrics over plain HTTP from the namespace via $h is only redirected"
done

# The same request from the host's loopback is answered.
if [ -x "$ROOT/cgi-bin/metrics" ]; then
	call_url GET "https://127.0.0.1:$port/metrics"
	expect_status 200 "/metrics from the host's loopback"
	expect_header Content-Type 'text/plain.*' "/metrics from loopback is Prometheus text"
	if printf '%s' "$BODY" | grep -q '^# TYPE portcullis_http_requests_total counter'; then
		ok "/metrics from loopback carries portcullis_http_requests_total"
	else
		not_ok "/metrics from loopback: ${BODY:0:120}"
	fi
else
	not_ok "cgi-bin/metrics is not built: the loopback half cannot be checked"
fi

# The namespace and veth are gone after the trap; nothing else is touched.
cleanup
trap 'rm -rf "$TMP"' EXIT
if ip netns list 2>/dev/null | grep -q "^$NS\b" || ip link show "$VH" >/dev/null 2>&1; then
	not_ok "namespace $NS / veth $VH left behind"
else
	ok "namespace $NS and veth $VH removed"
fi
