# shellcheck shell=bash disable=SC2034
# (variables set here are read by the scripts that source it)
# tests/integration/auth_lib.sh - helpers of the accounts-and-sessions tests
# (10_register.sh .. 18_cross_site.sh).  Sourced after lib.sh:
#
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/auth_lib.sh"
#   ...
#   auth_finish            # at the end: no 5xx was seen, no secret was logged
#
# Note on bodiless POSTs: lighttpd 1.4.69 answers a POST that carries no
# Content-Length at all with its own HTML 411 (hard-coded in its request
# parser), before the application sees it.  Browsers always send
# `Content-Length: 0` on an empty POST, so the tests do the same
# (NOBODY=(-H 'Content-Length: 0')); this is a property of the web server,
# not something the tests hide.
#
#   stack_env NAME            a value of `scripts/stack.sh env` (secrets included)
#   post_json PATH JSON [curl args]      POST with Content-Type: application/json
#   register NAME PASSWORD    201 or a "not ok"; sets USER_JSON, USER_ID
#   login_bearer NAME PASSWORD           sets ACCESS, REFRESH (and SID, from the JWT)
#   login_cookie NAME PASSWORD           sets ACCESS, REFRESH from the Set-Cookie headers
#   set_cookie NAME           the whole Set-Cookie line of cookie NAME in the last response
#   set_cookie_value NAME     its value
#   jwt_part TOKEN 1|2        decoded header / payload of a JWT
#   jwt_sign HEADER_JSON PAYLOAD_JSON [DIGEST [SECRET]]  a signed JWT (HS256 by default)
#   psql_q SQL                one value (psql -At) from the stack's PostgreSQL
#   rcli ARGS...              redis-cli against the stack's Redis
#   remember SECRET...        passwords/tokens auth_finish greps the logs for
#   me_status TOKEN           HTTP status of GET /api/me with that bearer token

NOBODY=(-H 'Content-Length: 0')
JSON_CT=(-H 'Content-Type: application/json')
LOG_DIR=${VAR_DIR:-$ROOT/var/test}/log
SECRETS_FILE=$TMP/secrets
STATUS_FILE=$TMP/statuses
: >"$SECRETS_FILE"
: >"$STATUS_FILE"

# Every response of the script is recorded, so auth_finish can say that
# nothing ever answered 5xx.  (The original call_url of lib.sh is kept.)
eval "lib_call_url() $(declare -f call_url | tail -n +2)"
call_url() {
	lib_call_url "$@"
	printf '%s %s %s\n' "$STATUS" "$1" "${2#"$BASE"}" >>"$STATUS_FILE"
}

stack_env() {
	if [ ! -s "$TMP/stack.env" ]; then
		"$ROOT/scripts/stack.sh" env >"$TMP/stack.env" 2>/dev/null
	fi
	local line
	line=$(grep -m1 "^$1=" "$TMP/stack.env")
	if [ -n "$line" ]; then
		printf '%s' "${line#*=}"
	else
		case $1 in # defaults the stack does not spell out
		JWT_ISSUER) printf portcullis ;;
		JWT_AUDIENCE) printf portcullis-api ;;
		ACCESS_TOKEN_TTL) printf 900 ;;
		REFRESH_TOKEN_TTL) printf 1209600 ;;
		MAX_BODY_BYTES) printf 65536 ;;
		PASSWORD_MIN_LENGTH) printf 12 ;;
		esac
	fi
}

# uniq_name PREFIX - a username no other run or script uses (<= 32 chars).
uniq_name() {
	local n
	n="$1$$x$RANDOM$RANDOM"
	printf '%s' "${n:0:32}"
}

# uniq_password - 24 characters, unique, so that the logs can be grepped for it.
uniq_password() {
	local p
	p="pw-$(openssl rand -hex 10)"
	remember "$p"
	printf '%s' "$p"
}

remember() {
	local s
	for s in "$@"; do
		[ -n "$s" ] && printf '%s\n' "$s" >>"$SECRETS_FILE"
	done
	return 0
}

# rep STR N - STR N times.
rep() {
	local i out=""
	for ((i = 0; i < $2; i++)); do out+=$1; done
	printf '%s' "$out"
}

# jstr VALUE - VALUE as a JSON string.
jstr() { jq -cn --arg v "$1" '$v'; }

post_json() {
	local path=$1 json=$2
	shift 2
	call POST "$path" "${JSON_CT[@]}" --data-binary "$json" "$@"
}

register() {
	post_json /api/auth/register "{\"username\":$(jstr "$1"),\"password\":$(jstr "$2")}"
	USER_JSON=$(printf '%s' "$BODY" | jq -c '.user' 2>/dev/null)
	USER_ID=$(printf '%s' "$BODY" | jq -r '.user.id' 2>/dev/null)
	if [ "$STATUS" != 201 ]; then
		not_ok "setup: register $1 (status $STATUS: ${BODY:0:200})"
		return 1
	fi
}

login_bearer() {
	post_json /api/auth/login "{\"username\":$(jstr "$1"),\"password\":$(jstr "$2"),\"token_transport\":\"bearer\"}"
	ACCESS=$(printf '%s' "$BODY" | jq -r '.access_token // empty' 2>/dev/null)
	REFRESH=$(printf '%s' "$BODY" | jq -r '.refresh_token // empty' 2>/dev/null)
	SID=$(jwt_part "$ACCESS" 2 | jq -r '.sid // empty' 2>/dev/null)
	remember "$ACCESS" "$REFRESH"
	if [ "$STATUS" != 200 ] || [ -z "$ACCESS" ] || [ -z "$REFRESH" ]; then
		not_ok "setup: bearer login of $1 (status $STATUS: ${BODY:0:200})"
		return 1
	fi
}

login_cookie() {
	post_json /api/auth/login "{\"username\":$(jstr "$1"),\"password\":$(jstr "$2")}"
	ACCESS=$(set_cookie_value __Host-access)
	REFRESH=$(set_cookie_value __Secure-refresh)
	SID=$(jwt_part "$ACCESS" 2 | jq -r '.sid // empty' 2>/dev/null)
	remember "$ACCESS" "$REFRESH"
	if [ "$STATUS" != 200 ] || [ -z "$ACCESS" ] || [ -z "$REFRESH" ]; then
		not_ok "setup: cookie login of $1 (status $STATUS: ${BODY:0:200})"
		return 1
	fi
}

# set_cookie NAME - the (last) Set-Cookie line that sets cookie NAME.
set_cookie() {
	printf '%s\n' "$HEADERS" | awk -v want="$1" '
		{ i = index($0, ":"); if (i == 0) next
		  if (tolower(substr($0, 1, i - 1)) != "set-cookie") next
		  v = substr($0, i + 1); sub(/^[ \t]+/, "", v)
		  if (index(v, want "=") == 1) last = v }
		END { if (last != "") print last }'
}

set_cookie_value() {
	local line
	line=$(set_cookie "$1")
	line=${line%%;*}
	printf '%s' "${line#*=}"
}

# set_cookie_count - how many Set-Cookie headers the last response had.
set_cookie_count() {
	printf '%s\n' "$HEADERS" | grep -ci '^set-cookie:'
}

# expect_cookie NAME VALUE_REGEX PATH MAX_AGE WHAT - the cookie, attribute by
# attribute: exactly NAME=<value>; Path; Secure; HttpOnly; SameSite=Strict;
# Max-Age and nothing else (no Domain, no Expires).
expect_cookie() {
	local name=$1 re=$2 path=$3 maxage=$4 what=$5 line value attrs want
	line=$(set_cookie "$name")
	if [ -z "$line" ]; then
		not_ok "$what: a Set-Cookie for $name"
		return
	fi
	value=${line%%;*}
	value=${value#*=}
	if [[ "$value" =~ ^($re)$ ]]; then ok "$what: $name value matches /$re/"; else
		not_ok "$what: $name value '${value:0:60}' does not match /$re/"; fi
	attrs=$(printf '%s' "${line#*;}" | tr ';' '\n' | sed 's/^ *//; s/ *$//' | grep -v '^$' | sort | paste -sd'|')
	want=$(printf '%s\n' "Path=$path" Secure HttpOnly SameSite=Strict "Max-Age=$maxage" | sort | paste -sd'|')
	expect_eq "$attrs" "$want" "$what: $name attributes"
}

# expect_fields JSON WHAT - a 422 validation_failed whose fields are exactly JSON.
expect_fields() {
	expect_error 422 validation_failed "$2"
	local got want
	got=$(printf '%s' "$BODY" | jq -S -c '.error.fields' 2>/dev/null)
	want=$(printf '%s' "$1" | jq -S -c .)
	expect_eq "$got" "$want" "$2: fields"
}

# expect_empty_204 WHAT - a 204 with no body, no-store and a request id.
expect_empty_204() {
	expect_status 204 "$1"
	expect_eq "${#BODY}" 0 "$1: no body"
	expect_header Cache-Control 'no-store' "$1"
	expect_header X-Request-Id '[A-Za-z0-9._-]{1,64}' "$1"
	expect_no_header Content-Type "$1"
}

# expect_cookies_cleared WHAT - both session cookies expired, same attributes.
expect_cookies_cleared() {
	expect_cookie __Host-access '' / 0 "$1: access cookie cleared"
	expect_cookie __Secure-refresh '' /api/auth 0 "$1: refresh cookie cleared"
}

expect_no_set_cookie() {
	expect_eq "$(set_cookie_count)" 0 "$1: no Set-Cookie"
}

# expect_user JSON WHAT - the body's .user is exactly the user JSON.
expect_user() {
	local got want
	got=$(printf '%s' "$BODY" | jq -S -c '.user' 2>/dev/null)
	want=$(printf '%s' "$1" | jq -S -c .)
	expect_eq "$got" "$want" "$2: the user"
}

# ---- JWTs ----

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

b64url_decode() {
	local s
	s=$(printf '%s' "$1" | tr -- '-_' '+/')
	case $((${#s} % 4)) in
	2) s="$s==" ;;
	3) s="$s=" ;;
	esac
	printf '%s' "$s" | openssl base64 -d -A 2>/dev/null
}

jwt_part() {
	local seg
	seg=$(printf '%s' "$1" | cut -d. -f"$2")
	b64url_decode "$seg"
}

# jwt_mac DIGEST SECRET INPUT - the base64url HMAC of INPUT.
jwt_mac() {
	printf '%s' "$3" | openssl dgst -"$1" -mac HMAC -macopt "hexkey:$(printf '%s' "$2" | od -An -tx1 -v | tr -d ' \n')" -binary | b64url
}

jwt_sign() {
	local digest=${3:-sha256} secret=${4:-$(stack_env JWT_SECRET)} input
	input="$(printf '%s' "$1" | b64url).$(printf '%s' "$2" | b64url)"
	printf '%s.%s' "$input" "$(jwt_mac "$digest" "$secret" "$input")"
}

me_status() {
	qcurl -H "Authorization: Bearer $1" "$BASE/api/me"
}

# qcurl [curl args] - prints only the HTTP status (recorded for auth_finish).
qcurl() {
	local st
	st=$(curl -sk --max-time 20 -o /dev/null -w '%{http_code}' "$@")
	printf '%s qcurl %s\n' "$st" "${*: -1}" >>"$STATUS_FILE"
	printf '%s' "$st"
}

# me_cookie_status TOKEN - the same with the access cookie.
me_cookie_status() {
	qcurl -H "Cookie: __Host-access=$1" "$BASE/api/me"
}

# refresh_status TOKEN - HTTP status of a bearer-mode refresh with TOKEN.
refresh_status() {
	qcurl -X POST "${JSON_CT[@]}" --data-binary "{\"refresh_token\":$(jstr "$1")}" "$BASE/api/auth/refresh"
}

# ---- backends ----

psql_q() {
	psql "$(stack_env DATABASE_URL)" -X -At -v ON_ERROR_STOP=1 -c "$1" 2>&1
}

rcli() {
	local url rest userinfo="" hostport db=0 host port=6379 user="" pass=""
	url=$(stack_env REDIS_URL)
	rest=${url#redis://}
	if [[ "$rest" == *@* ]]; then
		userinfo=${rest%@*}
		rest=${rest##*@}
	fi
	hostport=${rest%%/*}
	[[ "$rest" == */* ]] && db=${rest#*/}
	host=${hostport%:*}
	[[ "$hostport" == *:* ]] && port=${hostport##*:}
	if [ -n "$userinfo" ]; then
		user=${userinfo%%:*}
		pass=$(printf '%b' "${userinfo#*:}" | sed 's/%\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')
		pass=$(printf '%b' "$pass")
	fi
	# the password goes through the environment, never argv
	REDISCLI_AUTH=$pass redis-cli --no-auth-warning -h "$host" -p "$port" -n "${db:-0}" \
		${user:+--user "$user"} "$@" 2>&1
}

# sha256_sql TOKEN - the SQL expression of the stored hash of a refresh token.
sha256_sql() { printf "sha256(convert_to('%s', 'UTF8'))" "$1"; }

# ready_ok - /api/ready answers 200 with both checks ok.
ready_ok() {
	local body
	body=$(curl -sk --max-time 5 "$BASE/api/ready") || return 1
	[ "$(printf '%s' "$body" | jq -r '.checks.postgres + "," + .checks.redis' 2>/dev/null)" = ok,ok ]
}

# median N... - the median of the numbers.
median() {
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# auth_finish - no response of this script was a 5xx; no remembered password
# or token appears in any log of the stack.
auth_finish() {
	local fivexx leaks=0 s f
	fivexx=$(grep -c '^5' "$STATUS_FILE")
	expect_eq "$fivexx" 0 "no response of this script was a 5xx$([ "$fivexx" = 0 ] || printf ' (%s)' "$(grep '^5' "$STATUS_FILE" | head -3 | paste -sd';')")"
	sort -u "$SECRETS_FILE" -o "$SECRETS_FILE"
	for f in "$LOG_DIR"/*.log; do
		[ -f "$f" ] || continue
		while IFS= read -r s; do
			[ "${#s}" -ge 8 ] || continue
			if grep -qF -- "$s" "$f"; then
				leaks=$((leaks + 1))
				echo "# leaked into $(basename "$f"): ${s:0:12}..."
			fi
			# a JWT's signature alone is just as secret
			if [[ "$s" == *.*.* ]] && grep -qF -- "${s##*.}" "$f"; then
				leaks=$((leaks + 1))
				echo "# a token signature leaked into $(basename "$f")"
			fi
		done <"$SECRETS_FILE"
	done
	expect_eq "$leaks" 0 "no password, token or cookie of this script ($(wc -l <"$SECRETS_FILE") secrets) is in $LOG_DIR/*.log"
}
