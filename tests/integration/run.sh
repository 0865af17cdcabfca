#!/usr/bin/env bash
# tests/integration/run.sh - the integration suite: starts a private stack
# of its own (PostgreSQL, Redis, lighttpd and the responders) under var/test
# on test ports, so it never touches a developer's `make up`, runs every
# tests/integration/[0-9]*.sh against it with curl over HTTPS, and stops it.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

# The suite owns its servers and configuration: nothing from the caller's
# environment or .env may point it elsewhere.
for v in DATABASE_URL REDIS_URL JWT_SECRET IP_HASH_SECRET JWT_ALGORITHM JWT_ISSUER \
	JWT_AUDIENCE ACCESS_TOKEN_TTL REFRESH_TOKEN_TTL REFRESH_REUSE_INTERVAL BCRYPT_COST \
	PASSWORD_MIN_LENGTH LOGIN_MAX_FAILURES LOGIN_FAILURE_WINDOW RATE_LIMIT_AUTH \
	RATE_LIMIT_API TRUSTED_PROXIES CORS_ALLOWED_ORIGINS MAX_BODY_BYTES DATA_MAX_VALUE_BYTES \
	DATA_MAX_KEYS CACHE_TTL CACHE_MAX_ENTRIES CACHE_MAX_BYTES WEB_SERVER LOG_LEVEL LOG_FILE; do
	unset "$v"
done
export ROOT
export VAR_DIR=$ROOT/var/test
export HTTP_PORT=18080 HTTPS_PORT=18443 PG_PORT=55433 REDIS_PORT=56380
export PORTCULLIS_ENV_FILE=$VAR_DIR/test.env
export BASE=https://localhost:$HTTPS_PORT HTTP_BASE=http://localhost:$HTTP_PORT

stop_stack() { scripts/stack.sh down >/dev/null 2>&1 || true; }

# A clean start: whatever a previous run left behind goes first.
stop_stack
rm -rf "$VAR_DIR"
mkdir -p "$VAR_DIR"
# Settings the suite relies on: cheap bcrypt, short windows so that
# "after the interval" cases do not wait long, and rate limits high enough
# that only the rate-limit tests (which restart the web server with their
# own limits) ever meet them.  Tests read them back from
# `scripts/stack.sh env`.
cat >"$PORTCULLIS_ENV_FILE" <<'EOT'
BCRYPT_COST=4
REFRESH_REUSE_INTERVAL=3
LOGIN_MAX_FAILURES=5
LOGIN_FAILURE_WINDOW=8
LOG_LEVEL=debug
RATE_LIMIT_AUTH=100000/60
RATE_LIMIT_API=100000/60
EOT
trap stop_stack EXIT

if ! scripts/stack.sh up >"$ROOT/build/test-logs/stack-up.log" 2>&1; then
	echo "not ok - the test stack starts (see build/test-logs/stack-up.log)"
	sed 's/^/#   /' "$ROOT/build/test-logs/stack-up.log" | tail -n 40
	exit 1
fi
echo "ok - the test stack starts"

for t in tests/integration/[0-9]*.sh; do
	echo "# $t"
	timeout 600 bash "$t"
	status=$?
	[ "$status" -eq 0 ] || echo "not ok - $t exited with status $status"
done
