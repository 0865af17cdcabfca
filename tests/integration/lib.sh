# shellcheck shell=bash
# tests/integration/lib.sh - what every integration test sources: a curl
# wrapper against the test stack and assertions that print "ok - ..." or
# "not ok - ..." lines for tests/run.sh to count.
#
#   call GET /api/health [curl args...]   sets STATUS, BODY, HEADERS
#   expect_status 200 "what"
#   expect_json '.status' 'ok' "what"       (jq -r of the body)
#   expect_header 'Cache-Control' 'no-store' "what"   (extended regex, whole value)
#   expect_no_header 'Access-Control-Allow-Origin' "what"
#   expect_eq "$got" "$want" "what"
#   stack_pids health                       (this stack's pids of a responder)

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BASE=${BASE:-https://localhost:${HTTPS_PORT:-18443}}
HTTP_BASE=${HTTP_BASE:-http://localhost:${HTTP_PORT:-18080}}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
STATUS=""
BODY=""
HEADERS=""

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }

# call METHOD PATH [curl args...] - one request over HTTPS to the test stack.
call() {
	local method=$1 path=$2
	shift 2
	call_url "$method" "$BASE$path" "$@"
}

# call_url METHOD URL [curl args...] - the same, to any URL (no redirects followed).
call_url() {
	local method=$1 url=$2
	shift 2
	: >"$TMP/headers"
	: >"$TMP/body"
	if [ "$method" = HEAD ]; then
		# -I writes the headers to -o too: keep only what follows them.
		STATUS=$(curl -sk --head --max-time 20 -D "$TMP/headers" -o /dev/null \
			-w '%{http_code}' "$@" "$url")
	else
		STATUS=$(curl -sk --max-time 20 -X "$method" -D "$TMP/headers" -o "$TMP/body" \
			-w '%{http_code}' "$@" "$url")
	fi
	BODY=$(cat "$TMP/body")
	HEADERS=$(tr -d '\r' <"$TMP/headers")
}

# header NAME - the value of the last NAME header of the last response.
header() {
	printf '%s\n' "$HEADERS" | awk -v want="$(printf '%s' "$1" | tr 'A-Z' 'a-z')" '
		{ i = index($0, ":"); if (i == 0) next
		  name = tolower(substr($0, 1, i - 1))
		  if (name == want) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); last = v } }
		END { if (last != "") print last }'
}

expect_eq() {
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', want '$2')"; fi
}

expect_status() {
	expect_eq "$STATUS" "$1" "$2: status $1"
}

expect_json() {
	local got
	got=$(printf '%s' "$BODY" | jq -r "$1" 2>/dev/null) || got="<not JSON: ${BODY:0:80}>"
	expect_eq "$got" "$2" "$3: $1 = $2"
}

expect_header() {
	local got
	got=$(header "$1")
	if [[ "$got" =~ ^($2)$ ]]; then
		ok "$3: $1 matches $2"
	else
		not_ok "$3: $1 is '$got', want /$2/"
	fi
}

expect_no_header() {
	local got
	got=$(header "$1")
	if [ -z "$got" ]; then ok "$2: no $1"; else not_ok "$2: unexpected $1: $got"; fi
}

# expect_api_shape WHAT - what every /api JSON response carries.
expect_api_shape() {
	expect_header Content-Type 'application/json; charset=utf-8' "$1"
	expect_header Cache-Control 'no-store' "$1"
	expect_header X-Request-Id '[A-Za-z0-9._-]{1,64}' "$1"
}

# expect_error STATUS CODE WHAT - the contract's error envelope.
expect_error() {
	expect_status "$1" "$3"
	expect_json '.error.code' "$2" "$3"
	expect_json '.error.request_id' "$(header X-Request-Id)" "$3: request_id matches X-Request-Id"
	expect_json '.error.message | type' 'string' "$3"
	if [ "$1" != 422 ]; then
		expect_json '.error | has("fields")' 'false' "$3: no fields outside 422"
	fi
	expect_api_shape "$3"
}

# stack_pids NAME - this stack's processes of responder NAME, one pid a line,
# ascending: its binary (under CGI_DIR) and this stack's PORTCULLIS_STACK
# marker (VAR_DIR) in its environment; other stacks run the same binaries.
stack_pids() {
	local dir exe stack=${VAR_DIR:-$ROOT/var/test} bin=${CGI_DIR:-$ROOT/cgi-bin}/$1
	# One find over /proc (a readlink per process would fork hundreds of times).
	while read -r dir exe; do
		exe=${exe% (deleted)} # a binary rebuilt under a running process
		[ "$exe" = "$bin" ] || continue
		grep -qzxF "PORTCULLIS_STACK=$stack" "$dir/environ" 2>/dev/null || continue
		echo "${dir#/proc/}"
	done < <(find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$bin*" -printf '%h %l\n' 2>/dev/null) |
		sort -n
}

# wait_for DESC SECONDS CMD... - polls CMD until it succeeds; ok/not ok.
wait_for() {
	local desc=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		if "$@"; then
			ok "$desc"
			return 0
		fi
		sleep 0.2
	done
	not_ok "$desc (timed out after ${secs}s)"
	return 1
}
