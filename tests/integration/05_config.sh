#!/usr/bin/env bash
# Configuration: environment, then .env, then defaults; a bad value stops
# startup with a message that names the variable, both for a responder on
# its own and for the stack (`make up` runs scripts/stack.sh up).
source "$(dirname "$0")/lib.sh"

secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
base_env() {
	cat <<EOT
# a comment, then settings
DATABASE_URL=postgresql://nobody@127.0.0.1:1/none
REDIS_URL=redis://127.0.0.1:1/0
JWT_SECRET="$secret"
export IP_HASH_SECRET='$secret'
EOT
}
# check_config ENVFILE - runs the config check of a responder in a clean env.
check_config() {
	env -i PATH="$PATH" PORTCULLIS_ENV_FILE="$1" "$ROOT/cgi-bin/health" --check-config \
		>"$TMP/out" 2>&1
	echo $?
}

base_env >"$TMP/good.env"
expect_eq "$(check_config "$TMP/good.env")" 0 "a valid .env passes the check"

bad_value() { # VAR VALUE
	base_env >"$TMP/bad.env"
	printf '%s=%s\n' "$1" "$2" >>"$TMP/bad.env"
	local rc
	rc=$(check_config "$TMP/bad.env")
	if [ "$rc" != 0 ] && grep -q "$1" "$TMP/out"; then
		ok "$1=$2 stops startup naming $1"
	else
		not_ok "$1=$2: exit $rc, message: $(head -c 200 "$TMP/out")"
	fi
}
bad_value BCRYPT_COST abc
bad_value BCRYPT_COST 3
bad_value BCRYPT_COST 32
bad_value ACCESS_TOKEN_TTL 12x
bad_value RATE_LIMIT_AUTH 20
bad_value RATE_LIMIT_API 0/60
bad_value JWT_ALGORITHM none
bad_value JWT_ALGORITHM RS256
bad_value JWT_SECRET short-secret
bad_value IP_HASH_SECRET 0123456789012345678901234567890
bad_value TRUSTED_PROXIES 10.0.0.0/33
bad_value TRUSTED_PROXIES 'not-an-address'
bad_value REDIS_URL http://127.0.0.1:6379
bad_value MAX_BODY_BYTES -1
bad_value LOG_LEVEL loud
bad_value HTTPS_PORT 70000
bad_value WEB_SERVER nginx

base_env >"$TMP/bad.env"
echo 'THIS LINE IS NOT A SETTING' >>"$TMP/bad.env"
rc=$(check_config "$TMP/bad.env")
if [ "$rc" != 0 ] && grep -q "bad.env:6" "$TMP/out"; then ok "a malformed .env line is refused with file and line"; else not_ok "malformed line: exit $rc, $(cat "$TMP/out")"; fi

# Missing secrets refuse to start outside make run / make up.
grep -v JWT_SECRET "$TMP/good.env" >"$TMP/nosecret.env"
rc=$(check_config "$TMP/nosecret.env")
if [ "$rc" != 0 ] && grep -q "JWT_SECRET" "$TMP/out"; then ok "a missing JWT_SECRET stops startup naming it"; else not_ok "missing JWT_SECRET: exit $rc"; fi

# The environment wins over .env.
base_env >"$TMP/bad.env"
echo 'BCRYPT_COST=abc' >>"$TMP/bad.env"
env -i PATH="$PATH" PORTCULLIS_ENV_FILE="$TMP/bad.env" BCRYPT_COST=11 "$ROOT/cgi-bin/health" --check-config >/dev/null 2>&1
expect_eq "$?" 0 "the environment overrides .env"

# A low BCRYPT_COST is allowed but warned about at startup, in JSON.
base_env >"$TMP/low.env"
echo 'BCRYPT_COST=4' >>"$TMP/low.env"
env -i PATH="$PATH" PORTCULLIS_ENV_FILE="$TMP/low.env" REQUEST_METHOD=GET REQUEST_URI=/api/health \
	REMOTE_ADDR=127.0.0.1 "$ROOT/cgi-bin/health" >"$TMP/cgi.out" 2>"$TMP/cgi.err"
if jq -s -e 'any(.[]; .level == "warn" and (.msg | test("BCRYPT_COST")))' "$TMP/cgi.err" >/dev/null 2>&1; then
	ok "a low BCRYPT_COST logs a JSON warning at startup"
else
	not_ok "no BCRYPT_COST warning: $(head -c 300 "$TMP/cgi.err")"
fi

# The responder also runs as a plain CGI program.
if head -n 1 "$TMP/cgi.out" | grep -q '^Status: 200' && tail -n 1 "$TMP/cgi.out" | grep -q '"status":"ok"'; then
	ok "the responder answers as a plain CGI program"
else
	not_ok "CGI answer: $(head -c 300 "$TMP/cgi.out")"
fi
if ! grep -q "127.0.0.1" "$TMP/cgi.err"; then ok "the log line has no raw client address"; else not_ok "raw address in the log"; fi

# The stack refuses to start with a bad value and says which one; what runs keeps running.
base_env | grep -v -e DATABASE_URL -e REDIS_URL >"$TMP/stack-bad.env"
echo 'RATE_LIMIT_AUTH=lots' >>"$TMP/stack-bad.env"
PORTCULLIS_ENV_FILE="$TMP/stack-bad.env" "$ROOT/scripts/stack.sh" up >"$TMP/up.out" 2>&1
rc=$?
if [ "$rc" != 0 ] && grep -q RATE_LIMIT_AUTH "$TMP/up.out"; then
	ok "stack up with a bad .env value fails naming RATE_LIMIT_AUTH"
else
	not_ok "stack up with a bad value: exit $rc, $(tail -n 5 "$TMP/up.out")"
fi
call GET /api/ready
expect_status 200 "the running stack is untouched by the refused start"

# `up` again with a good configuration is harmless.
"$ROOT/scripts/stack.sh" up >"$TMP/up2.out" 2>&1
expect_eq "$?" 0 "stack up twice in a row is harmless"
call GET /api/ready
expect_status 200 "ready after the second up"
