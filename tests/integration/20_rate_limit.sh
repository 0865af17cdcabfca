#!/usr/bin/env bash
# Rate limits: the web server is restarted with small limits of its
# own (auth 5/20, api 8/60, loopback a trusted proxy, 3 processes per
# responder), each case uses its own client address through X-Forwarded-For
# so that cases do not meet, and the normal web server is restored at the end.
#
# Covered: exact counts and the RateLimit fields for both policies, 429s not
# counted, health/ready never limited, addresses independent, IPv6 per /64,
# IPv4-mapped IPv6, the trusted-proxy rule and malformed X-Forwarded-For, the
# limit across processes (concurrent requests), Redis stopped (per-process
# fallback) and restarted, and no raw address in Redis or in the JSON log.
source "$(dirname "$0")/lib.sh"

# stack.sh reads VAR_DIR, the ports and PORTCULLIS_ENV_FILE from the
# environment: they must reach it (run.sh exports them).
export VAR_DIR=${VAR_DIR:-$ROOT/var/test}
export ROOT
STACK=$ROOT/scripts/stack.sh

# Steps of T = W/N = 4 s and 7.5 s: the sequential runs of N requests
# below must fit in one step even on a loaded machine (1.25 s did not).
AUTH_N=5 AUTH_W=20 API_N=8 API_W=60

# Every X-Forwarded-For this test sends goes to $TMP/used (a file: bursts run
# in subshells); used_addrs prints each address in it once, without ports or
# brackets, leaving out the trusted loopback proxy and non-addresses.
used() { printf '%s\n' "$1" >>"$TMP/used"; }
used_addrs() {
	tr ',' '\n' <"$TMP/used" | tr -d ' \t' |
		sed -E 's/^\[([^]]*)\](:[0-9]+)?$/\1/; s/^([0-9.]+):[0-9]+$/\1/' |
		grep -vxE '127\.0\.0\.1|::1|garbage|' | sort -u
}

web_limited() {
	RATE_LIMIT_AUTH=$AUTH_N/$AUTH_W RATE_LIMIT_API=$API_N/$API_W TRUSTED_PROXIES=127.0.0.1,::1 \
		FCGI_PROCS=3 "$STACK" "$@" web >>"$TMP/stack.log" 2>&1
}
ready_ok() { call GET /api/ready -4 && [ "$STATUS" = 200 ] && [ "$(printf '%s' "$BODY" | jq -r .status)" = ok ]; }
redis_down() { call GET /api/ready -4 && [ "$(printf '%s' "$BODY" | jq -r .checks.redis)" = down ]; }
ready_up() { call GET /api/ready -4 && [ "$STATUS" = 200 ]; }

restored=0
restore() {
	[ "$restored" = 1 ] && return 0
	restored=1
	{
		"$STACK" start redis
		"$STACK" stop web
		"$STACK" start web
	} >>"$TMP/stack.log" 2>&1
}
cleanup() {
	restore
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM # so that a timeout still restores the stack

web_limited stop
if web_limited start; then ok "the web server restarts with RATE_LIMIT_AUTH=$AUTH_N/$AUTH_W RATE_LIMIT_API=$API_N/$API_W, 3 processes"; else
	not_ok "the web server restarts with small limits: $(tail -n 5 "$TMP/stack.log")"
	exit 1
fi
wait_for "ready with the small limits" 15 ready_ok

# rl METHOD PATH ADDR [curl args...] - one request as client ADDR (through
# the trusted loopback proxy); ADDR "-" sends no X-Forwarded-For.
rl() {
	local m=$1 p=$2 a=$3
	shift 3
	local args=(-4)
	if [ "$a" != - ]; then
		args+=(-H "X-Forwarded-For: $a")
		used "$a"
	fi
	[ "$m" = POST ] && args+=(-H 'Content-Type: application/json' --data '{}')
	call "$m" "$p" "${args[@]}" "$@"
}
# Only the status, quickly: rl_status METHOD PATH XFF
rl_status() {
	local m=$1 p=$2 a=$3 args=(-4)
	if [ "$a" != - ]; then
		args+=(-H "X-Forwarded-For: $a")
		used "$a"
	fi
	[ "$m" = POST ] && args+=(-H 'Content-Type: application/json' --data '{}')
	curl -sk --max-time 20 -o /dev/null -w '%{http_code}\n' -X "$m" "${args[@]}" "$BASE$p"
}
# burst K METHOD PATH XFF - K concurrent requests; prints "<passed> <429s>
# <other> <ms>": passed is any status but 429 and 5xx, other counts 5xx and
# 000 (no answer), ms is how long the whole burst took.
burst() {
	local k=$1 m=$2 p=$3 a=$4 i t0
	: >"$TMP/burst"
	t0=$(date +%s%N)
	for ((i = 0; i < k; i++)); do
		rl_status "$m" "$p" "$a" >>"$TMP/burst" &
	done
	wait
	awk -v ms=$((($(date +%s%N) - t0) / 1000000)) '
		$1 == 429 { l++ } $1 ~ /^(5|0)/ { o++ } $1 !~ /^(429|5|0)/ { p++ }
		END { printf "%d %d %d %d\n", p, l, o, ms }' "$TMP/burst"
}

# expect_burst K N STEP_MS "P L O MS" WHAT - of K concurrent requests exactly
# N passed and the rest were 429.  A burst that took longer than the step T
# (a very slow machine) may see refills: then N .. N + MS/T passes.
expect_burst() {
	local k=$1 n=$2 step=$3 what=$5 p l o ms extra
	read -r p l o ms <<<"$4"
	extra=$((ms / step))
	if [ "$o" = 0 ] && [ $((p + l)) = "$k" ] && [ "$p" -ge "$n" ] && [ "$p" -le $((n + extra)) ]; then
		ok "$what: $p of $k concurrent requests pass, $l are 429 (${ms} ms)"
	else
		not_ok "$what: $p passed, $l limited, $o 5xx/failed of $k in ${ms} ms; want $n passed"
	fi
}
AUTH_T=$((AUTH_W * 1000 / AUTH_N)) API_T=$((API_W * 1000 / API_N)) # ms

# check_fields POLICY N W REMAINING WHAT - the five RateLimit fields of the
# last response; the reset is whole seconds, at most the window.
check_fields() {
	local pol=$1 n=$2 w=$3 r=$4 what=$5 t
	expect_header RateLimit-Policy "\"$pol\";q=$n;w=$w" "$what"
	expect_header RateLimit "\"$pol\";r=$r;t=[0-9]+" "$what"
	expect_header RateLimit-Limit "$n" "$what"
	expect_header RateLimit-Remaining "$r" "$what"
	t=$(header RateLimit-Reset)
	expect_eq "$(header RateLimit)" "\"$pol\";r=$r;t=$t" "$what: RateLimit's t equals RateLimit-Reset"
	if [[ $t =~ ^[0-9]+$ ]] && [ "$t" -ge 1 ] && [ "$t" -le "$w" ]; then ok "$what: reset $t in 1..$w"; else
		not_ok "$what: RateLimit-Reset '$t' not in 1..$w"
	fi
}

# exact_limit POLICY N W METHOD PATH ADDR PASS_STATUS NAME - N pass with
# Remaining N-1..0, the next is 429 rate_limited with Retry-After.
exact_limit() {
	local pol=$1 n=$2 w=$3 m=$4 p=$5 a=$6 want=$7 name=$8 i statuses="" rems="" bad=0
	for ((i = 1; i <= n; i++)); do
		rl "$m" "$p" "$a"
		statuses+="$STATUS "
		rems+="$(header RateLimit-Remaining) "
		if [ "$i" = 1 ] || [ "$i" = "$n" ]; then
			check_fields "$pol" "$n" "$w" "$((n - i))" "$name request $i"
			expect_no_header Retry-After "$name request $i"
			# A fresh client holds one step T = W/N after its first request,
			# rounded up; the whole window after the N-th (both < 1 s later).
			[ "$i" = 1 ] && expect_eq "$(header RateLimit)" \
				"\"$pol\";r=$((n - 1));t=$(((w * 1000 / n + 999) / 1000))" "$name request 1: exact RateLimit"
			[ "$i" = "$n" ] && expect_eq "$(header RateLimit)" "\"$pol\";r=0;t=$w" \
				"$name request $n: exact RateLimit"
		elif [ "$(header RateLimit-Policy)" != "\"$pol\";q=$n;w=$w" ] ||
			[ "$(header RateLimit)" != "\"$pol\";r=$((n - i));t=$(header RateLimit-Reset)" ]; then
			bad=1
		fi
	done
	expect_eq "$statuses" "$(for ((i = 1; i <= n; i++)); do printf '%s ' "$want"; done)" \
		"$name: $n requests pass ($want, counted)"
	expect_eq "$rems" "$(for ((i = n - 1; i >= 0; i--)); do printf '%s ' "$i"; done)" \
		"$name: RateLimit-Remaining counts down"
	expect_eq "$bad" 0 "$name: every response carries the policy and RateLimit fields"
	rl "$m" "$p" "$a"
	expect_error 429 rate_limited "$name request $((n + 1))"
	check_fields "$pol" "$n" "$w" 0 "$name 429"
	expect_header Retry-After '[1-9][0-9]*' "$name 429"
}

# ---- exact counts -------------------------------------------------------
t0=$(date +%s%N)
exact_limit auth $AUTH_N $AUTH_W POST /api/auth/login 203.0.113.1 422 "auth policy (POST /api/auth/login, bad body)"
took_ms=$((($(date +%s%N) - t0) / 1000000))
retry=$(header Retry-After)
# The 429 right after the burst says one auth step T = W/N less the time
# since the burst's first request, rounded up: T itself when that took
# under a second.
T=$((AUTH_W / AUTH_N))
if [[ $retry =~ ^[0-9]+$ ]] && [ "$retry" -le "$T" ] && [ $((retry * 1000)) -ge $((T * 1000 - took_ms)) ]; then
	ok "auth 429 right after the burst: Retry-After $retry s, T = $T s less the burst's $took_ms ms"
else
	not_ok "auth 429 right after the burst: Retry-After '$retry', want T = $T s less the burst's $took_ms ms, rounded up"
fi

# ---- 429s are not counted -------------------------------------------------
a=203.0.113.1 # exhausted above
codes=""
for _ in 1 2 3 4 5 6; do
	rl POST /api/auth/login $a
	codes+="$STATUS "
done
expect_eq "$codes" "429 429 429 429 429 429 " "auth: more requests while limited are all 429"
retry=$(header Retry-After)
if [[ $retry =~ ^[1-9][0-9]*$ ]]; then
	sleep "$retry"
	rl POST /api/auth/login $a
	expect_status 422 "after waiting Retry-After ($retry s) one more passes: 429s were not counted"
	check_fields auth $AUTH_N $AUTH_W 0 "the refilled request"
	rl POST /api/auth/login $a
	expect_status 429 "and only one"
else
	not_ok "Retry-After '$retry' is not a positive integer"
fi

exact_limit api $API_N $API_W GET /api/me 203.0.113.2 401 "api policy (GET /api/me unauthenticated)"
exact_limit api $API_N $API_W GET /api/nope 203.0.113.3 404 "api policy (GET /api/nope)"
rl POST /api/auth/register 203.0.113.4
check_fields auth $AUTH_N $AUTH_W 4 "POST /api/auth/register is under auth"
rl GET /api/auth/login 203.0.113.4
check_fields api $API_N $API_W 7 "GET /api/auth/login is under api"

# ---- health and ready: never limited, no fields ----------------------------
a=203.0.113.3 # exhausted on the api policy above
rl GET /api/nope $a
expect_status 429 "203.0.113.3 is limited on the api policy"
codes="" fields=""
for _ in $(seq 12); do
	for p in /api/health /api/ready; do
		rl GET $p $a
		codes+="$STATUS "
		fields+=$(printf '%s\n' "$HEADERS" | grep -ci '^ratelimit\|^retry-after')
	done
done
expect_eq "$(echo "$codes" | tr ' ' '\n' | sort -u | tr -d '\n')" 200 \
	"/api/health and /api/ready: 24 requests from a limited address all 200"
expect_eq "$fields" "$(printf '0%.0s' $(seq 24))" "/api/health and /api/ready carry no RateLimit fields"
rl HEAD /api/health $a
expect_status 200 "HEAD /api/health is not limited either"
expect_no_header RateLimit "HEAD /api/health"

# ---- addresses ---------------------------------------------------------------
rl POST /api/auth/login 203.0.113.5
expect_status 422 "another address (203.0.113.5) is independent of the exhausted 203.0.113.1"
check_fields auth $AUTH_N $AUTH_W 4 "203.0.113.5 first request"

# IPv6: per /64.
codes=""
for a in 2001:db8:1::1 2001:db8:1::1 2001:db8:1::1 2001:db8:1::2 2001:db8:1::2; do
	rl POST /api/auth/login $a
	codes+="$STATUS "
done
expect_eq "$codes" "422 422 422 422 422 " "2001:db8:1::1 x3 then 2001:db8:1::2 x2 all pass"
expect_header RateLimit-Remaining 0 "2001:db8:1::2 shares the /64's count"
rl POST /api/auth/login 2001:db8:1::2
expect_status 429 "the 6th request of the /64 (from ::2) is limited"
rl POST /api/auth/login '2001:db8:1:0:abcd::9'
expect_status 429 "another address in 2001:db8:1::/64 is limited too"
rl POST /api/auth/login 2001:db8:2::1
expect_status 422 "2001:db8:2::1 (another /64) is not limited"
expect_header RateLimit-Remaining 4 "2001:db8:2::1 has its own count"
rl POST /api/auth/login '[2001:db8:1::3]:4711'
expect_status 429 "bracketed IPv6 with a port in X-Forwarded-For is the same /64"

# IPv4-mapped IPv6 counts as IPv4.
codes=""
for a in ::ffff:198.51.100.7 ::ffff:198.51.100.7 ::ffff:198.51.100.7 198.51.100.7 198.51.100.7; do
	rl POST /api/auth/login $a
	codes+="$STATUS "
done
expect_eq "$codes" "422 422 422 422 422 " "3 x ::ffff:198.51.100.7 then 2 x 198.51.100.7 pass"
expect_header RateLimit-Remaining 0 "198.51.100.7 shares the count of ::ffff:198.51.100.7"
rl POST /api/auth/login ::ffff:198.51.100.7
expect_status 429 "::ffff:198.51.100.7 is then limited"
rl POST /api/auth/login 198.51.100.8
expect_status 422 "198.51.100.8 is not"

# ---- trusted proxies --------------------------------------------------------
# Loopback is trusted: the right-most entry that is not a trusted proxy is
# the client.
codes=""
for i in 1 2 3 4 5; do
	rl POST /api/auth/login '198.51.100.1, 127.0.0.1'
	codes+="$STATUS "
done
expect_eq "$codes" "422 422 422 422 422 " "XFF '198.51.100.1, 127.0.0.1': 5 pass"
rl POST /api/auth/login 198.51.100.1
expect_status 429 "... they counted for 198.51.100.1 (the right-most untrusted entry)"
rl POST /api/auth/login '198.51.100.1, ::1, 127.0.0.1'
expect_status 429 "... also behind two trusted hops"

# A client that sends its own X-Forwarded-For, which the proxy then appends
# its real address to: varying the left-most entries does not escape.
codes=""
for i in 1 2 3 4 5 6 7; do
	rl POST /api/auth/login "10.9.$i.$i, 192.0.2.$i, 198.51.100.2"
	codes+="$STATUS "
done
expect_eq "$codes" "422 422 422 422 422 429 429 " \
	"forged left-most XFF entries vary, the appended client 198.51.100.2 is limited after 5"
rl POST /api/auth/login 198.51.100.2
expect_status 429 "198.51.100.2 itself is limited"

# Malformed X-Forwarded-For: the client is REMOTE_ADDR (127.0.0.1), never an
# error.  The loopback count is fresh (this test always sends an XFF so far),
# but the key may hold a little of the other tests' requests: count passes
# among 12 and expect at most N, then 429s.
codes=""
for i in $(seq 12); do
	case $((i % 3)) in
	0) codes+="$(rl_status GET /api/nope garbage) " ;;
	1) codes+="$(rl_status GET /api/nope '1.2.3.4,,') " ;;
	2) codes+="$(rl_status GET /api/nope -) " ;;
	esac
done
passes=$(echo "$codes" | tr ' ' '\n' | grep -c '^404$')
limited=$(echo "$codes" | tr ' ' '\n' | grep -c '^429$')
expect_eq "$((passes + limited))" 12 "malformed XFF: every answer is 404 or 429, never 400/500 ($codes)"
if [ "$passes" -le "$API_N" ] && [ "$passes" -ge $((API_N - 2)) ] && [ "$limited" -ge 4 ]; then
	ok "malformed XFF ('garbage', '1.2.3.4,,') counts with plain REMOTE_ADDR requests ($passes passed)"
else
	not_ok "malformed XFF: $passes passed, $limited limited; want <= $API_N passed, shared with REMOTE_ADDR"
fi
rl GET /api/nope '1.2.3.4,,'
expect_status 429 "'1.2.3.4,,' is REMOTE_ADDR's count, not 1.2.3.4's"
rl GET /api/nope 1.2.3.4
expect_status 404 "a well-formed '1.2.3.4' is its own client"

# ---- across processes ---------------------------------------------------------
expect_burst $((2 * AUTH_N)) $AUTH_N $AUTH_T "$(burst $((2 * AUTH_N)) POST /api/auth/login 203.0.113.20)" \
	"auth across 3 processes and one Redis: exactly $AUTH_N"
expect_burst $((2 * API_N)) $API_N $API_T "$(burst $((2 * API_N)) GET /api/nope 203.0.113.21)" \
	"api across processes: exactly $API_N"
expect_burst $((2 * API_N)) $API_N $API_T "$(burst $((2 * API_N)) GET /api/me 2001:db8:21::1)" \
	"api, IPv6, GET /api/me: exactly $API_N"

# ---- Redis holds no raw address -----------------------------------------------
redis_url=$("$STACK" env 2>/dev/null | sed -n 's/^REDIS_URL=//p')
if [[ $redis_url =~ ^redis://:([^@]*)@127\.0\.0\.1:([0-9]+)/([0-9]+)$ ]]; then
	rpass=${BASH_REMATCH[1]} rport=${BASH_REMATCH[2]} rdb=${BASH_REMATCH[3]}
else
	rpass="" rport="" rdb=0
	not_ok "REDIS_URL from stack.sh env has the expected form"
fi
rcli() { redis-cli -h 127.0.0.1 -p "$rport" -a "$rpass" -n "$rdb" --no-auth-warning "$@"; }

# scan_redis WHAT - every key, and every string value, without any used address.
scan_redis() {
	local what=$1 k dump=$TMP/redis.dump leaks=0 badkeys=0 nauth=0 napi=0
	: >"$dump"
	while IFS= read -r k; do
		printf 'KEY %s\n' "$k" >>"$dump"
		if [[ $k == pc:rl:* ]]; then
			if [[ $k =~ ^pc:rl:(auth|api):[0-9a-f]{32}$ ]]; then
				[ "${BASH_REMATCH[1]}" = auth ] && nauth=$((nauth + 1))
				[ "${BASH_REMATCH[1]}" = api ] && napi=$((napi + 1))
			else
				badkeys=$((badkeys + 1))
			fi
		fi
		if [ "$(rcli TYPE "$k")" = string ]; then
			printf 'VAL %s\n' "$(rcli GET "$k")" >>"$dump"
		fi
	done < <(rcli --scan)
	for addr in $(used_addrs); do
		if grep -qiF -- "$addr" "$dump"; then
			leaks=$((leaks + 1))
			echo "#   $addr found in Redis"
		fi
	done
	expect_eq "$leaks" 0 "$what: no Redis key or string value holds any of the $(used_addrs | wc -l) addresses this test used"
	grep -qiE '2001:db8|198\.51\.100\.|203\.0\.113\.' "$dump"
	expect_eq "$?" 1 "$what: not even a prefix of the test networks appears in Redis"
	expect_eq "$badkeys" 0 "$what: rate-limit keys look like pc:rl:(auth|api):<32 hex>"
	if [ "$nauth" -ge 1 ] && [ "$napi" -ge 1 ]; then ok "$what: rate-limit keys exist for both policies ($nauth auth, $napi api)"; else
		not_ok "$what: rate-limit keys: $nauth auth, $napi api"
	fi
}
scan_redis "Redis scan"

# ---- Redis stopped: per-process fallback ----------------------------------------
"$STACK" stop redis >>"$TMP/stack.log" 2>&1
wait_for "ready notices Redis is down" 15 redis_down
call GET /api/health -4
expect_status 200 "Redis down: /api/health answers 200"
rl GET /api/me 203.0.113.30
expect_status 401 "Redis down: GET /api/me still answers 401"
check_fields api $API_N $API_W 7 "Redis down: the fallback still sends the fields"
rl GET /api/nope 203.0.113.30
expect_status 404 "Redis down: GET /api/nope still answers 404"
rl POST /api/auth/login 203.0.113.30
expect_status 422 "Redis down: POST /api/auth/login still answers"
# Each of the 3 login processes now limits on its own table (no shared
# count), so one address passes at most N per process: at most 3N = 15 of 40
# (plus, per process, one refill per step T = 2 s the burst lasts: none
# normally), at least N (some process gets at least N of them: the limit is
# not simply off), and so at least one 429.
read -r p l o ms <<<"$(burst 40 POST /api/auth/login 203.0.113.31)"
max=$((3 * (AUTH_N + ms / AUTH_T)))
if [ "$o" = 0 ] && [ "$p" -le "$max" ] && [ "$p" -ge "$AUTH_N" ] && [ "$l" -ge 1 ]; then
	ok "Redis down: 40 concurrent requests of one address: $p pass (N=$AUTH_N <= p <= 3N), $l are 429"
else
	not_ok "Redis down: 40 concurrent requests in $ms ms: $p passed, $l limited, $o 5xx/failed (want $AUTH_N..$max, >=1 429, 0)"
fi
codes=""
for _ in $(seq 20); do codes+="$(rl_status POST /api/auth/login 203.0.113.32) "; done
p=$(echo "$codes" | tr ' ' '\n' | grep -c '^422$')
if [ "$p" -ge "$AUTH_N" ] && [ "$p" -le $((3 * AUTH_N)) ] && [[ $codes == *429* ]] && [[ $codes != *5??* ]]; then
	ok "Redis down: 20 sequential requests: $p pass, the rest 429"
else
	not_ok "Redis down: 20 sequential requests: $codes"
fi

# ---- Redis back: shared limits again ---------------------------------------
"$STACK" start redis >>"$TMP/stack.log" 2>&1
wait_for "ready is ok again with Redis back" 15 ready_ok
sleep 1.2 # past REDIS_RETRY_MS: every process reconnects on its next request
expect_burst $((2 * AUTH_N)) $AUTH_N $AUTH_T "$(burst $((2 * AUTH_N)) POST /api/auth/login 203.0.113.40)" \
	"Redis back, one shared count again: exactly $AUTH_N"
expect_burst $((2 * API_N)) $API_N $API_T "$(burst $((2 * API_N)) GET /api/nope 2001:db8:40::1)" \
	"Redis back, api: exactly $API_N"
scan_redis "Redis scan after the restart"

# ---- the JSON log holds no raw address ---------------------------------------
log=$VAR_DIR/log/portcullis.log
if [ -s "$log" ]; then
	leaks=0
	for addr in $(used_addrs); do
		if grep -qiF -- "$addr" "$log"; then
			leaks=$((leaks + 1))
			echo "#   $addr found in $log"
		fi
	done
	expect_eq "$leaks" 0 "the JSON log holds no address this test used"
	grep -qiE '2001:db8|198\.51\.100\.|203\.0\.113\.' "$log"
	expect_eq "$?" 1 "the JSON log holds no address of the test networks at all"
	n=$(grep -c '"client":"[0-9a-f]\{32\}"' "$log")
	if [ "$n" -ge 100 ]; then ok "request lines carry the client as a 32-hex keyed hash ($n)"; else
		not_ok "only $n request lines with a hashed client"
	fi
else
	not_ok "the JSON log $log exists"
fi

# ---- restore the normal web server -------------------------------------------
restore
wait_for "the normal web server is back (ready 200)" 20 ready_up
rl GET /api/nope 203.0.113.1
expect_header RateLimit-Policy '"api";q=[0-9]+;w=[0-9]+' "normal limits again"
if [ "$(header RateLimit-Limit)" != "$API_N" ]; then ok "the small limits are gone"; else
	not_ok "the web server still runs with RATE_LIMIT_API=$API_N/$API_W"
fi
