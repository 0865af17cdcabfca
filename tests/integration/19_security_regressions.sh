#!/usr/bin/env bash
# Regression tests of an outside security review, each through the stack
# (or the responders as plain CGI against the stack's PostgreSQL):
#
#   1. GET /api/me while Redis is down: the revocation MGET (with the
#      hook's key) is not queued, and the handler must not read a reply it
#      never got (a build with -ftrivial-auto-var-init=pattern crashed on
#      it);
#   2. an unknown name costs exactly one bcrypt under plain CGI (the dummy
#      hash is made without hashing), counted in the metrics file (the time
#      of both is printed, as a measurement);
#   3. parallel wrong passwords count exactly LOGIN_MAX_FAILURES (decided
#      and recorded in one statement); the rest get the lockout's 429;
#   4. logins with the old password racing a password change: none yields a
#      token that works after the change committed;
#   5. the lockout's 429 gives its request back to the `auth` rate limit;
#   6. a Redis whose maxmemory-policy evicts is not trusted for revocation:
#      with the marker gone (as eviction would do) and the ready key kept,
#      a revoked token stays refused; /api/ready says who decides.
#
# Sections 3-5 restart the web server with FCGI_PROCS=6 (real parallelism),
# BCRYPT_COST=9 (a bcrypt long enough for the race to be real) and a small
# `auth` limit behind a trusted loopback proxy (each section its own client
# address); the default is restored at the end.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

STACK=$ROOT/scripts/stack.sh
L=/api/auth/login
P=/api/auth/password
maxf=$(stack_env LOGIN_MAX_FAILURES)
echo "# LOGIN_MAX_FAILURES=$maxf"

web() { # stop|start, with this test's settings
	FCGI_PROCS=6 BCRYPT_COST=9 RATE_LIMIT_AUTH=200/12000 TRUSTED_PROXIES=127.0.0.1,::1 \
		"$STACK" "$1" web >>"$TMP/stack.log" 2>&1
}
restored=0
restore() {
	[ "$restored" = 1 ] && return 0
	restored=1
	{
		rcli CONFIG SET maxmemory-policy noeviction
		"$STACK" start redis
		"$STACK" stop web
		# this test's small auth limit left arrival times far ahead: the
		# default limit must not inherit them
		rcli --scan --pattern 'pc:rl:*' | while IFS= read -r k; do rcli DEL "$k"; done
		"$STACK" start web
	} >>"$TMP/stack.log" 2>&1
}
trap 'restore; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

"$STACK" env >"$TMP/stack.env" 2>/dev/null
mapfile -t SENV < <(grep -vE '^(LOG_FILE|METRICS_FILE|LOG_LEVEL)=' "$TMP/stack.env")
# cgi RESPONDER BODY VAR=VALUE... - one plain-CGI request; output in $TMP/cgi.out
cgi() {
	local bin=$1 body=$2
	shift 2
	printf '%s' "$body" | env -i "${SENV[@]}" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 \
		LOG_FILE="$TMP/cgi.log" METRICS_FILE="$TMP/metrics" CONTENT_LENGTH=${#body} "$@" \
		"$bin" >"$TMP/cgi.out" 2>"$TMP/cgi.err"
}
cgi_status() { sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$TMP/cgi.out"; }
ready_field() { curl -sk --max-time 5 "$BASE/api/ready" | jq -r "$1" 2>/dev/null; }
redis_up_ready() { [ "$(ready_field '.checks.redis')" = ok ]; }

# ==== 1. GET /api/me while Redis is down ====
name=$(uniq_name MeDown)
pw=$(uniq_password)
register "$name" "$pw"
login_bearer "$name" "$pw"
tok=$ACCESS
"$STACK" stop redis >>"$TMP/stack.log" 2>&1
expect_eq "$(me_status "$tok")" 200 "GET /api/me with Redis stopped: 200 from PostgreSQL"
expect_eq "$(me_status "$tok")" 200 "... again (the process did not crash)"
# the same handler built so that any uninitialised pointer is 0xfefe...: it crashed before
PKGS="fcgi hiredis libpq libcjson libjwt libcrypto libxcrypt"
# (in a bin/ beside a link to share/: a responder finds the shipped deny
# list in <its directory>/../share)
mkdir -p "$TMP/pattern/bin" && ln -sfn "$ROOT/share" "$TMP/pattern/share"
# shellcheck disable=SC2046,SC2086
if cc -std=c11 -D_GNU_SOURCE -O0 -g -ftrivial-auto-var-init=pattern -I"$ROOT/lib" \
	$(pkg-config --cflags $PKGS) "$ROOT/src/session.c" "$ROOT"/lib/*.c \
	$(pkg-config --libs $PKGS) -lpasswdqc -o "$TMP/pattern/bin/session" 2>"$TMP/cc.err"; then
	cgi "$TMP/pattern/bin/session" "" REDIS_URL=redis://127.0.0.1:1/0 REQUEST_METHOD=GET \
		REQUEST_URI=/api/me HTTP_AUTHORIZATION="Bearer $tok"
	rc=$?
	expect_eq "$rc $(cgi_status)" "0 200" "a -ftrivial-auto-var-init=pattern build of session, plain CGI, Redis unreachable: GET /api/me exits 0 with 200"
else
	not_ok "build session with -ftrivial-auto-var-init=pattern: $(head -c 300 "$TMP/cc.err")"
fi
"$STACK" start redis >>"$TMP/stack.log" 2>&1
wait_for "Redis is back" 20 redis_up_ready
expect_eq "$(me_status "$tok")" 200 "GET /api/me with Redis back"

# ==== 2. one bcrypt for an unknown name under plain CGI ====
hash_count() {
	env -i "${SENV[@]}" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET REQUEST_URI=/metrics \
		REMOTE_ADDR=127.0.0.1 LOG_FILE="$TMP/cgi.log" METRICS_FILE="$TMP/metrics" \
		"$ROOT/cgi-bin/metrics" 2>/dev/null </dev/null | tr -d '\r' |
		awk '$1 == "portcullis_password_hash_duration_seconds_count" { print $2 }'
}
cgi_login() { # NAME PASSWORD [VAR=VALUE...] - sets rc; output in $TMP/cgi.out
	local n=$1 p=$2
	shift 2
	cgi "$ROOT/cgi-bin/login" "{\"username\":$(jstr "$n"),\"password\":$(jstr "$p")}" \
		REQUEST_METHOD=POST REQUEST_URI=$L CONTENT_TYPE=application/json "$@"
}
kname=$(uniq_name CgiKnown)
kpw=$(uniq_password)
# registered through plain CGI at cost 10, so that both paths below run bcrypt at 10
body="{\"username\":$(jstr "$kname"),\"password\":$(jstr "$kpw")}"
cgi "$ROOT/cgi-bin/register" "$body" BCRYPT_COST=10 REQUEST_METHOD=POST \
	REQUEST_URI=/api/auth/register CONTENT_TYPE=application/json
expect_eq "$(cgi_status)" 201 "setup: register through plain CGI at BCRYPT_COST=10"
c0=$(hash_count)
cgi_login "$(uniq_name CgiGhost)" "whatever-password" BCRYPT_COST=10
s1=$(cgi_status)
c1=$(hash_count)
cgi_login "$kname" "a-wrong-password" BCRYPT_COST=10
s2=$(cgi_status)
c2=$(hash_count)
expect_eq "$s1 $s2" "401 401" "plain CGI: an unknown name and a wrong password both answer 401"
expect_eq "$((c1 - c0))" 1 "plain CGI: a login of an unknown name runs exactly one bcrypt (portcullis_password_hash_duration_seconds_count)"
expect_eq "$((c2 - c1))" 1 "plain CGI: a wrong password runs exactly one bcrypt"
# and so they take about as long: a measurement printed for the record, not
# a timed test (the machine may be loaded; the counts above are the test)
tu=() tw=()
for i in 1 2 3 4; do
	t0=$(date +%s%N)
	cgi_login "$(uniq_name CgiGhost)" "whatever-password" BCRYPT_COST=10
	t1=$(date +%s%N)
	cgi_login "$kname" "another-wrong-password-$i" BCRYPT_COST=10
	t2=$(date +%s%N)
	tu+=($(((t1 - t0) / 1000))) tw+=($(((t2 - t1) / 1000)))
done
mu=$(median "${tu[@]}") mw=$(median "${tw[@]}")
echo "# plain CGI at cost 10: unknown name ${mu} us, wrong password ${mw} us (medians of 4, interleaved), ratio $(awk -v a="$mu" -v b="$mw" 'BEGIN { printf "%.2f", a / b }')"
expect_eq "$(($(hash_count) - c2))" 8 "plain CGI: those 8 failed logins ran exactly 8 bcrypts"

# ==== the web server with this test's settings ====
web stop
if web start; then ok "the web server restarts with FCGI_PROCS=6 BCRYPT_COST=9 RATE_LIMIT_AUTH=200/12000"; else
	not_ok "the web server restarts with this test's settings: $(tail -n 5 "$TMP/stack.log")"
	exit 1
fi
wait_for "ready" 20 ready_ok

# ==== 3. parallel wrong passwords count exactly the limit ====
pname=$(uniq_name Para)
ppw=$(uniq_password)
post_json /api/auth/register "{\"username\":$(jstr "$pname"),\"password\":$(jstr "$ppw")}" -H 'X-Forwarded-For: 203.0.113.3'
expect_status 201 "setup: register $pname"
for i in $(seq 15); do
	curl -sk --max-time 30 -o /dev/null -w '%{http_code}\n' -X POST "${JSON_CT[@]}" \
		-H 'X-Forwarded-For: 203.0.113.3' \
		--data-binary "{\"username\":$(jstr "$pname"),\"password\":\"wrong-$i\"}" \
		"$BASE$L" >"$TMP/para.$i" &
done
wait
statuses=$(cat "$TMP"/para.* | sort | uniq -c | awk '{ printf "%s x%s ", $2, $1 }')
echo "# 15 parallel wrong passwords: $statuses"
expect_eq "$(cat "$TMP"/para.* | grep -c '^401$')" "$maxf" "15 parallel wrong passwords: exactly LOGIN_MAX_FAILURES ($maxf) answer 401"
expect_eq "$(cat "$TMP"/para.* | grep -c '^429$')" "$((15 - maxf))" "... and the other $((15 - maxf)) the lockout's 429"
# the name's row, found by its keyed hash (HMAC(IP_HASH_SECRET, "login-name:" || lower(name)))
nh=$(printf 'login-name:%s' "$(printf '%s' "$pname" | tr 'A-Z' 'a-z')" |
	openssl dgst -sha256 -mac HMAC -macopt "key:$(stack_env IP_HASH_SECRET)" | awk '{ print $NF }')
expect_eq "$(psql_q "SELECT cardinality(failed_at) FROM login_failures WHERE name_hash = '\\x$nh'::bytea")" "$maxf" \
	"login_failures holds exactly $maxf failures of the name"
post_json $L "{\"username\":$(jstr "$pname"),\"password\":$(jstr "$ppw")}" -H 'X-Forwarded-For: 203.0.113.3'
expect_status 429 "the right password is then refused by the lockout"

# ==== 4. logins racing a password change ====
race_round() { # N - one round: a fresh user, 24 logins with its password while it changes
	local r=$1 rname rpw rpw2 i live ok_tokens=0 working=0 st
	rname=$(uniq_name "Race$r")
	rpw=$(uniq_password)
	rpw2=$(uniq_password)
	post_json /api/auth/register "{\"username\":$(jstr "$rname"),\"password\":$(jstr "$rpw")}" -H "X-Forwarded-For: 203.0.113.4$r"
	[ "$STATUS" = 201 ] || { not_ok "setup: register $rname ($STATUS)"; return; }
	post_json $L "{\"username\":$(jstr "$rname"),\"password\":$(jstr "$rpw"),\"token_transport\":\"bearer\"}" -H "X-Forwarded-For: 203.0.113.4$r"
	local changer
	changer=$(printf '%s' "$BODY" | jq -r .access_token)
	remember "$changer"
	mkdir -p "$TMP/race$r"
	for i in $(seq 24); do
		(
			sleep "0.0$((i % 10))"
			curl -sk --max-time 30 -o "$TMP/race$r/$i.json" -w '%{http_code}' -X POST "${JSON_CT[@]}" \
				-H "X-Forwarded-For: 203.0.113.4$r" \
				--data-binary "{\"username\":$(jstr "$rname"),\"password\":$(jstr "$rpw"),\"token_transport\":\"bearer\"}" \
				"$BASE$L" >"$TMP/race$r/$i.status"
		) &
	done
	sleep 0.05
	st=$(curl -sk --max-time 30 -o /dev/null -w '%{http_code}' -X POST "${JSON_CT[@]}" \
		-H "Authorization: Bearer $changer" -H "X-Forwarded-For: 203.0.113.4$r" \
		--data-binary "{\"current_password\":$(jstr "$rpw"),\"new_password\":$(jstr "$rpw2")}" "$BASE$P")
	wait
	[ "$st" = 204 ] || { not_ok "round $r: the password change answered $st"; return; }
	for i in $(seq 24); do
		[ "$(cat "$TMP/race$r/$i.status")" = 200 ] || continue
		ok_tokens=$((ok_tokens + 1))
		local a rt
		a=$(jq -r .access_token "$TMP/race$r/$i.json")
		rt=$(jq -r .refresh_token "$TMP/race$r/$i.json")
		remember "$a" "$rt"
		[ "$(me_status "$a")" = 401 ] || working=$((working + 1))
		[ "$(refresh_status "$rt")" = 401 ] || working=$((working + 1))
	done
	live=$(psql_q "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE lower(u.username) = lower('$rname') AND s.revoked_at IS NULL")
	echo "# round $r: $ok_tokens of 24 logins got tokens, $((24 - ok_tokens)) were refused"
	expect_eq "$working,$live" "0,0" "round $r: no token of the $ok_tokens logins with the old password works after the change (me, refresh), no live session left"
}
for r in 1 2 3; do race_round "$r"; done

# ==== 5. the lockout's 429 is not counted by the rate limit ====
# Counted from the first request's RateLimit-Remaining: every later request
# that is not a 429 spends one; the lockout's 429s spend nothing.  (The test
# stack's failure window is a few seconds: on a slow machine a lock may lift
# in between, so what is counted is what was answered.)
remaining() { header RateLimit-Remaining; }
lname=$(uniq_name Budget)
XFF=(-H 'X-Forwarded-For: 203.0.113.5')
post_json $L "{\"username\":$(jstr "$lname"),\"password\":\"wrong-0\"}" "${XFF[@]}"
r0=$(remaining)
expect_status 401 "budget: a first wrong password"
spent=0 refused=0
for i in $(seq 2 "$maxf") l1 l2 l3 l4 l5; do
	post_json $L "{\"username\":$(jstr "$lname"),\"password\":\"wrong-$i\"}" "${XFF[@]}"
	if [ "$STATUS" = 429 ] && [ "$(printf '%s' "$BODY" | jq -r .error.code)" = rate_limited ]; then
		refused=$((refused + 1))
	else
		spent=$((spent + 1))
	fi
done
if [ "$refused" -ge 3 ]; then ok "budget: $refused attempts refused by the lockout"; else
	not_ok "budget: only $refused attempts refused by the lockout (want at least 3)"; fi
post_json $L "{\"username\":$(jstr "$(uniq_name Other)"),\"password\":\"wrong\"}" "${XFF[@]}"
spent=$((spent + 1))
r2=$(remaining)
echo "# RateLimit-Remaining: $r0 after the first request, $r2 after $spent answered and $refused lockout refusals"
expect_eq "$((r0 - r2))" "$spent" "budget: the auth budget went down by the $spent requests not refused with 429 only (the $refused lockout refusals spent nothing)"

# ==== 6. an evicting Redis is not trusted for revocation ====
ename=$(uniq_name Evict)
epw=$(uniq_password)
register "$ename" "$epw"
login_bearer "$ename" "$epw"
eacc=$ACCESS esid=$SID
call POST /api/auth/logout "${JSON_CT[@]}" -H "Authorization: Bearer $eacc" --data-binary "{\"refresh_token\":$(jstr "$REFRESH")}"
expect_status 204 "evict: logout"
expect_eq "$(me_status "$eacc")" 401 "evict: the revoked token is refused"
expect_eq "$(ready_field '.checks.revocation')" redis "ready: revocation decided by redis under noeviction"
expect_eq "$(rcli CONFIG SET maxmemory-policy allkeys-lru)" OK "evict: the test Redis switched to allkeys-lru"
rcli CLIENT KILL TYPE normal >/dev/null # the responders reconnect and read the policy
revoc_pg() { [ "$(ready_field '.checks.revocation')" = postgres ] && [ "$(ready_field '.status')" = ok ]; }
wait_for "ready: revocation decided by postgres under allkeys-lru (status still ok)" 15 revoc_pg
works=0
for i in $(seq 10); do
	rcli DEL "pc:rv:$esid" >/dev/null # what an eviction does; pc:rv:ready stays
	[ "$(me_status "$eacc")" = 401 ] || works=$((works + 1))
done
expect_eq "$(rcli EXISTS pc:rv:ready)" 1 "evict: the ready marker is still there"
expect_eq "$works" 0 "evict: with its marker deleted 10 times, the revoked token is refused every time"
if grep -h '"maxmemory_policy":"allkeys-lru"' "$LOG_DIR"/portcullis.log | grep -q '"level":"warn"'; then
	ok "evict: a warning names the policy in the log"
else
	not_ok "evict: no warning naming allkeys-lru in $LOG_DIR/portcullis.log"
fi
login_bearer "$ename" "$epw"
expect_eq "$(me_status "$ACCESS")" 200 "evict: a live token still works"
rcli CONFIG SET maxmemory-policy noeviction >/dev/null
rcli CLIENT KILL TYPE normal >/dev/null
revoc_redis() { [ "$(ready_field '.checks.revocation')" = redis ]; }
wait_for "ready: back to redis under noeviction" 15 revoc_redis

restore
wait_for "the default web server is back" 30 ready_ok
auth_finish
