#!/usr/bin/env bash
# tests/integration/run.sh - the integration suite: starts a private stack
# of its own (PostgreSQL, Redis, a web server and the responders) under
# var/test on test ports, so it never touches a developer's `make up`, runs
# every tests/integration/[0-9]*.sh against it with curl over HTTPS, and
# stops it.
#
# The whole suite runs once per web server, each pass on a fresh stack with
# everything else identical:
#   lighttpd   lighttpd + mod_fastcgi
#   apache     Apache + mod_fcgid
# then a smoke pass (the SMOKE tests below) with Apache + mod_proxy_fcgi and
# the responders started by spawn-fcgi, on the apache pass' stack.  Every
# "ok"/"not ok" line and "#" header says its pass: "ok - [apache] ...".
# WEB_SERVER and APACHE_MODE are exported per pass, so a test that restarts
# the web server (scripts/stack.sh stop/start web) restarts the one under test.
#
# For a developer: TEST_PASSES (default "lighttpd apache apache-proxy")
# picks passes, TEST_FILES (default every [0-9]*.sh) the tests, and
# TEST_VAR_DIR, TEST_HTTP_PORT, TEST_HTTPS_PORT, TEST_PG_PORT,
# TEST_REDIS_PORT, TEST_LOG_DIR move the suite's stack beside another one.
# TEST_SAN_CGI_DIR (tests/run.sh sets it to build/san/cgi-bin, from `make
# san-responders`) makes the lighttpd pass run the responders built with
# ASan + UBSan from there: their reports go to files under
# build/test-logs/san-lighttpd/, and each file is a failure of the pass.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

# The suite owns its servers and configuration: nothing from the caller's
# environment or .env may point it elsewhere.  The settings are those of
# lib/config.c's table (with their _FILE twins), as the built health
# responder lists them.
if ! keys=$(cgi-bin/health --list-config | cut -f 1) || [ -z "$keys" ]; then
	echo "not ok - cgi-bin/health --list-config lists the settings (run make)"
	exit 1
fi
for v in $keys ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	unset "$v"
done
export ROOT
export VAR_DIR=${TEST_VAR_DIR:-$ROOT/var/test}
export HTTP_PORT=${TEST_HTTP_PORT:-18080} HTTPS_PORT=${TEST_HTTPS_PORT:-18443}
export PG_PORT=${TEST_PG_PORT:-55433} REDIS_PORT=${TEST_REDIS_PORT:-56380}
export PORTCULLIS_ENV_FILE=$VAR_DIR/test.env
export BASE=https://localhost:$HTTPS_PORT HTTP_BASE=http://localhost:$HTTP_PORT
LOGS=${TEST_LOG_DIR:-$ROOT/build/test-logs}
mkdir -p "$LOGS"

# Tests the mod_proxy_fcgi pass runs (those that exist).
SMOKE="01_health 02_errors 03_web 10_register 16_me 40_web_cors 40_web_http 40_web_metrics 40_web_slow
	43_web_forwarded_tls 44_web_queue"

stop_stack() { scripts/stack.sh down >/dev/null 2>&1 || true; }
trap stop_stack EXIT

# fresh_stack NAME - a clean stack for pass NAME: whatever a previous run
# left behind goes first.
fresh_stack() {
	local log=$LOGS/stack-up-$1.log
	stop_stack
	rm -rf "$VAR_DIR"
	mkdir -p "$VAR_DIR"
	# Settings the suite relies on: cheap bcrypt, short windows so that
	# "after the interval" cases do not wait long, rate limits high enough
	# that only the rate-limit tests (which restart the web server with
	# their own limits) ever meet them, an allowed CORS origin, and a short
	# read timeout so the slow-client test does not wait long.  Tests read
	# them back from `scripts/stack.sh env` (or this file).
	cat >"$PORTCULLIS_ENV_FILE" <<'EOT'
BCRYPT_COST=4
REFRESH_REUSE_INTERVAL=3
LOGIN_MAX_FAILURES=5
LOGIN_FAILURE_WINDOW=8
LOG_LEVEL=debug
RATE_LIMIT_AUTH=100000/60
RATE_LIMIT_API=100000/60
CORS_ALLOWED_ORIGINS=https://app.example.test
WEB_READ_TIMEOUT=5
EOT
	if ! scripts/stack.sh up >"$log" 2>&1; then
		echo "not ok - [$1] the test stack starts (see build/test-logs/stack-up-$1.log)"
		sed 's/^/#   /' "$log" | tail -n 40
		return 1
	fi
	echo "ok - [$1] the test stack starts"
}

# san_begin NAME - with TEST_SAN_CGI_DIR, pass NAME (lighttpd only) runs the
# sanitized responders, writing their reports under $LOGS/san-NAME/.
san_begin() {
	SAN_LOGS=
	[ "$1" = lighttpd ] && [ -n "${TEST_SAN_CGI_DIR-}" ] || return 0
	if [ ! -x "$TEST_SAN_CGI_DIR/health" ]; then
		echo "not ok - [$1] sanitized responders in $TEST_SAN_CGI_DIR (make san-responders)"
		return 0
	fi
	SAN_LOGS=$LOGS/san-$1
	rm -rf "$SAN_LOGS"
	mkdir -p "$SAN_LOGS"
	chmod 0777 "$SAN_LOGS" # the responders run as www-data under root
	CGI_DIR=$(realpath "$TEST_SAN_CGI_DIR")
	export CGI_DIR
	# Leaks are reported when a responder exits (the stack stops at the end).
	export ASAN_OPTIONS="log_path=$SAN_LOGS/asan:detect_leaks=1:halt_on_error=1"
	export UBSAN_OPTIONS="log_path=$SAN_LOGS/ubsan:print_stacktrace=1:halt_on_error=1"
	echo "# [$1] responders from $CGI_DIR (ASan + UBSan)"
}

# san_end NAME - stops the stack (so the responders exit and LeakSanitizer
# runs), then one "not ok" per sanitizer report, or one "ok".
san_end() {
	local f n=0
	[ -n "$SAN_LOGS" ] || return 0
	stop_stack
	for f in "$SAN_LOGS"/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		echo "not ok - [$1] sanitizer report from a responder: ${f#"$ROOT"/}"
		sed 's/^/#   /' "$f" | head -n 40
	done
	[ "$n" -gt 0 ] || echo "ok - [$1] no sanitizer report from the responders (ASan + UBSan)"
	unset CGI_DIR ASAN_OPTIONS UBSAN_OPTIONS
	SAN_LOGS=
}

# run_tests NAME FILE... - runs each test file, its lines tagged with NAME.
run_tests() {
	local name=$1 t status t0
	shift
	for t in "$@"; do
		echo "# [$name] $t"
		t0=$SECONDS
		timeout 600 bash "$t" 2>&1 |
			sed -u -E "s/^(not ok|ok) - /\\1 - [$name] /; s/^# /# [$name] /"
		status=${PIPESTATUS[0]}
		[ "$status" -eq 0 ] || echo "not ok - [$name] $t exited with status $status"
		echo "# [$name] $t took $((SECONDS - t0)) s"
	done
}

files=()
if [ -n "${TEST_FILES-}" ]; then
	for t in $TEST_FILES; do files+=("tests/integration/${t%.sh}.sh"); done
else
	files=(tests/integration/[0-9]*.sh)
fi

for pass in ${TEST_PASSES:-lighttpd apache apache-proxy}; do
	case "$pass" in
	lighttpd | apache)
		export WEB_SERVER=$pass APACHE_MODE=fcgid
		echo "# pass: $pass"
		san_begin "$pass"
		fresh_stack "$pass" && run_tests "$pass" "${files[@]}"
		san_end "$pass"
		;;
	apache-proxy)
		export WEB_SERVER=apache APACHE_MODE=proxy-fcgi
		echo "# pass: $pass (smoke)"
		# On the apache pass' stack when it is up, else on a fresh one.
		if scripts/stack.sh status >/dev/null 2>&1; then
			if scripts/stack.sh start web >"$LOGS/stack-up-$pass.log" 2>&1; then
				echo "ok - [$pass] the web server restarts as apache with mod_proxy_fcgi"
			else
				echo "not ok - [$pass] the web server restarts with mod_proxy_fcgi (see build/test-logs/stack-up-$pass.log)"
				continue
			fi
		else
			fresh_stack "$pass" || continue
		fi
		smoke=()
		for t in $SMOKE; do
			t=tests/integration/$t.sh
			[ -e "$t" ] && [[ " ${files[*]} " == *" $t "* ]] && smoke+=("$t")
		done
		run_tests "$pass" "${smoke[@]}"
		;;
	*) echo "not ok - unknown pass '$pass' in TEST_PASSES" ;;
	esac
done
