# shellcheck shell=bash
# tests/integration/web_lib.sh - helpers of the web server tests
# (40_web_*.sh), which run once per web server.  Sourced after lib.sh:
#
#   senv NAME [DEFAULT]        a value of `scripts/stack.sh env` (else DEFAULT)
#   knob NAME DEFAULT          a stack knob from the test's .env (else DEFAULT)
#   web_name                   "lighttpd", "apache (fcgid)" or "apache (proxy-fcgi)"
#   new_user                   registers a fresh user, logs in with the bearer
#                              transport; sets TOKEN (or a "not ok")
#   expect_json_error STATUS CODE WHAT   status, error code, JSON content type
#   cors_headers               the Access-Control-* lines of the last response
#   web_restore_on_exit        before a test restarts the web server with settings
#                              of its own: on exit (or at web_restore, once) it is
#                              restarted with the suite's settings, and $TMP removed

STACK=$ROOT/scripts/stack.sh

senv() {
	if [ ! -s "$TMP/stack.env" ]; then
		"$STACK" env >"$TMP/stack.env" 2>/dev/null
	fi
	local line
	line=$(grep -m1 "^$1=" "$TMP/stack.env")
	if [ -n "$line" ]; then printf '%s' "${line#*=}"; else printf '%s' "${2-}"; fi
}

knob() {
	local v
	v=$(sed -n "s/^$1=//p" "${PORTCULLIS_ENV_FILE:-/dev/null}" 2>/dev/null | tail -n 1)
	printf '%s' "${v:-$2}"
}

web_name() {
	if [ "${WEB_SERVER:-lighttpd}" = apache ]; then
		printf 'apache (%s)' "${APACHE_MODE:-fcgid}"
	else
		printf lighttpd
	fi
}

new_user() {
	local name pw
	name=web$RANDOM$RANDOM$$
	pw="pass-$RANDOM-$RANDOM-$RANDOM"
	call POST /api/auth/register -H 'Content-Type: application/json' \
		--data "{\"username\":\"$name\",\"password\":\"$pw\"}"
	[ "$STATUS" = 201 ] || not_ok "register $name: $STATUS $BODY"
	call POST /api/auth/login -H 'Content-Type: application/json' \
		--data "{\"username\":\"$name\",\"password\":\"$pw\",\"token_transport\":\"bearer\"}"
	TOKEN=$(printf '%s' "$BODY" | jq -r '.access_token // empty' 2>/dev/null)
	[ -n "$TOKEN" ] || not_ok "login $name: $STATUS $BODY"
}

expect_json_error() {
	expect_status "$1" "$3"
	expect_json '.error.code' "$2" "$3"
	expect_header Content-Type 'application/json; charset=utf-8' "$3"
}

cors_headers() {
	printf '%s\n' "$HEADERS" | grep -i '^access-control-' || true
}

web_restored=1
web_restore() {
	[ "$web_restored" = 1 ] && return 0
	web_restored=1
	{ "$STACK" stop web && "$STACK" start web; } >>"$TMP/stack.log" 2>&1
}

web_restore_on_exit() {
	web_restored=0
	trap 'web_restore; rm -rf "$TMP"' EXIT
}
