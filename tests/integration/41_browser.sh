#!/usr/bin/env bash
# A real browser, the same under every server: Debian's chromium, headless,
# driven by playwright-core (tests/browser/, installed here with `npm ci`
# from its lock file), runs tests/browser/cors.mjs:
#   - a page served from the allowed origin of the suite's
#     CORS_ALLOWED_ORIGINS (https://app.example.test), on the API's site
#     (the API is https://api.example.test:$HTTPS_PORT; Chromium resolves
#     both to loopback with --host-resolver-rules) registers, logs in with
#     cookies, reads and writes data through CORS preflights the web server
#     answers, refreshes and logs out;
#   - a page from another site (https://evil.example.net:<port>) makes the
#     same calls with the session live in the same browser: each is blocked,
#     carries no cookie (SameSite=Strict), and changes nothing, as a bearer
#     session of the same user then sees from the server's side.
# The allowed page is served on the port of that origin (443 when it has
# none) on a loopback address of its own.  Where that port cannot be had
# (not root; taken), the web server is restarted for the test with one more
# allowed origin, https://app.<site>:<free port>, and restored afterwards.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

echo "# web server: $(web_name)"
DIR=$ROOT/tests/browser
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# ---- prerequisites: chromium, node >= 20, npm (scripts/install-deps.sh test) ----
if [ ! -x "$CHROMIUM" ]; then
	not_ok "chromium is installed at $CHROMIUM (scripts/install-deps.sh test installs it)"
	exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
if [ -z "$node_major" ] || [ "$node_major" -lt 20 ] || ! command -v npm >/dev/null; then
	not_ok "node >= 20 and npm are installed (have node '$(node --version 2>/dev/null)'; scripts/install-deps.sh test)"
	exit 1
fi

# ---- playwright-core, from the lock file; again only when the lock changed ----
stamp=$DIR/node_modules/.portcullis-lock
t0=$(date +%s%N)
if [ -f "$stamp" ] && cmp -s "$stamp" "$DIR/package-lock.json" &&
	[ -f "$DIR/node_modules/playwright-core/package.json" ]; then
	echo "# tests/browser/node_modules is up to date with package-lock.json"
elif (cd "$DIR" && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline \
	--loglevel=error) >"$TMP/npm.log" 2>&1; then
	cp "$DIR/package-lock.json" "$stamp"
	echo "# npm ci took $((($(date +%s%N) - t0) / 1000000)) ms"
else
	not_ok "npm ci in tests/browser: $(grep -v 'nodedir' "$TMP/npm.log" | tail -n 5 | tr '\n' ' ')"
	exit 1
fi
ok "playwright-core $(node -p 'require(process.argv[1]).version' "$DIR/node_modules/playwright-core/package.json") is installed in tests/browser"

# ---- the allowed origin: https://<label>.<site>[:port] from the stack ----
origins=$(senv CORS_ALLOWED_ORIGINS)
APP_ORIGIN="" SITE="" APP_PORT=""
for o in ${origins//,/ }; do
	if [[ $o =~ ^https://([a-z0-9-]+)\.([a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z][a-z0-9-]*)(:([0-9]+))?$ ]]; then
		APP_ORIGIN=$o SITE=${BASH_REMATCH[2]} APP_PORT=${BASH_REMATCH[5]:-443}
		[ "${BASH_REMATCH[1]}" = api ] && API_HOST=portcullis-api.$SITE || API_HOST=api.$SITE
		break
	fi
done
if [ -z "$APP_ORIGIN" ]; then
	not_ok "CORS_ALLOWED_ORIGINS ('$origins') has an https origin on a named site for the page (run.sh sets https://app.example.test)"
	exit 1
fi

# allow_free_port WHY - the page goes on a free port instead: the web server
# is restarted with https://<label>.<site>:<that port> allowed too (the
# responders read the same setting), and restored on exit.
restored=1
restore() {
	[ "$restored" = 1 ] && return 0
	restored=1
	{ "$STACK" stop web && "$STACK" start web; } >>"$TMP/stack.log" 2>&1 ||
		not_ok "the web server restarts with the suite's settings: $(tail -n 3 "$TMP/stack.log")"
}
trap 'restore; rm -rf "$TMP"' EXIT
allow_free_port() {
	local port
	port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	APP_ORIGIN=${APP_ORIGIN%:[0-9]*}:$port
	echo "# $1: allowing $APP_ORIGIN for this test"
	restored=0
	export VAR_DIR
	if ! { CORS_ALLOWED_ORIGINS="$origins,$APP_ORIGIN" "$STACK" stop web &&
		CORS_ALLOWED_ORIGINS="$origins,$APP_ORIGIN" "$STACK" start web; } >>"$TMP/stack.log" 2>&1; then
		not_ok "the web server restarts with $APP_ORIGIN allowed: $(tail -n 3 "$TMP/stack.log")"
		exit 1
	fi
}
low=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null || echo 1024)
if [ "$(id -u)" -ne 0 ] && [ "$APP_PORT" -lt "$low" ]; then
	allow_free_port "not root, port $APP_PORT is out of reach"
fi

# ---- the test: everything chromium and node write goes under $TMP ----
mkdir -p "$TMP/home"
run_browser() {
	echo "# page origin $APP_ORIGIN, API https://$API_HOST:$HTTPS_PORT"
	t0=$(date +%s%N)
	(cd "$DIR" && HOME=$TMP/home TMPDIR=$TMP APP_ORIGIN=$APP_ORIGIN API_HOST=$API_HOST \
		HTTPS_PORT=$HTTPS_PORT BASE=$BASE TLS_CERT=$VAR_DIR/tls/cert.pem TLS_KEY=$VAR_DIR/tls/key.pem \
		FOREIGN_HOST=evil.example.net CHROMIUM=$CHROMIUM timeout 240 node cors.mjs) 2>"$TMP/node.err" |
		tee "$TMP/out"
	rc=${PIPESTATUS[0]}
	echo "# cors.mjs took $((($(date +%s%N) - t0) / 1000000)) ms"
}
run_browser
if [ "$rc" = 3 ] && [ "$restored" = 1 ]; then
	allow_free_port "the page's port is not to be had"
	run_browser
fi
if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$TMP/out"; then
	not_ok "cors.mjs exited with status $rc: $(tail -n 5 "$TMP/node.err" | tr '\n' ' ')"
fi
if ! grep -q '^# browser test: ' "$TMP/out"; then
	not_ok "cors.mjs ran to its end"
fi
# No browser left behind (each one runs with a profile under $TMP).
if pgrep -f -- "--user-data-dir=$TMP/" >/dev/null 2>&1; then
	not_ok "a chromium of this test is still running"
else
	ok "no chromium of this test is left running"
fi
