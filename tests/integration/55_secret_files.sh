#!/usr/bin/env bash
# Secrets from files (Docker and Kubernetes secrets): each secret variable's
# _FILE twin names a file whose content, less one trailing newline, is the
# value.
#
#  - the configuration check (`health --check-config`, as `make up` runs it)
#    accepts JWT_SECRET_FILE, IP_HASH_SECRET_FILE, DATABASE_URL_FILE and
#    REDIS_URL_FILE; a missing file, a directory, a short secret (the
#    trailing newline not counted) or a bad URL in a file stops it with a
#    message naming the variable; a variable set together with its twin is
#    refused; METRICS_TOKEN_FILE too once METRICS_TOKEN is a setting;
#  - the migration tool reads DATABASE_URL_FILE;
#  - the value is the one used: the web server restarted with the JWT key in
#    a file holding a new key refuses a token signed with the old one and
#    serves one it issues itself; then the stack is put back.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

export VAR_DIR=${VAR_DIR:-$ROOT/var/test}
export ROOT
STACK=$ROOT/scripts/stack.sh
web_changed=0
SDIR=$VAR_DIR/secret-files-test
cleanup() {
	if [ "$web_changed" = 1 ]; then
		"$STACK" stop web >/dev/null 2>&1
		"$STACK" start web >/dev/null 2>&1
	fi
	rm -rf "$SDIR" "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

"$STACK" env >"$TMP/stack.env" 2>/dev/null
DB_URL=$(sed -n 's/^DATABASE_URL=//p' "$TMP/stack.env")
REDIS=$(sed -n 's/^REDIS_URL=//p' "$TMP/stack.env")
mkdir -p "$SDIR"
chmod 0755 "$SDIR"

# put NAME CONTENT - a secret file in $SDIR (readable by the responders' user).
put() {
	printf '%s' "$2" >"$SDIR/$1"
	chmod 0644 "$SDIR/$1"
}
good=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 40)
put jwt "$good"$'\n'
put ip "$good"$'\n'
put db "$DB_URL"$'\n'
put redis "$REDIS"
put short "0123456789012345678901234567890"$'\n'   # 31 bytes and a newline
put exact "01234567890123456789012345678901"$'\n'  # 32 bytes and a newline
put badredis "http://127.0.0.1:6379"$'\n'

# check VAR=VALUE... - the config check with only these settings; exit status, output in $TMP/out.
check() {
	env -i PATH="$PATH" PORTCULLIS_ENV_FILE=/dev/null "$@" "$ROOT/cgi-bin/health" --check-config \
		>"$TMP/out" 2>&1
	local rc=$?
	cat "$TMP/out" >>"$TMP/all"
	echo "$rc"
}
base=(DATABASE_URL_FILE="$SDIR/db" REDIS_URL_FILE="$SDIR/redis" JWT_SECRET_FILE="$SDIR/jwt"
	IP_HASH_SECRET_FILE="$SDIR/ip")
expect_eq "$(check "${base[@]}")" 0 "every secret and URL from _FILE twins passes the check"
expect_eq "$(check "${base[@]}" JWT_SECRET_FILE="$SDIR/exact")" 0 \
	"a 32-byte secret with a trailing newline is 32 bytes (the newline is not the value's)"

refused() { # WHAT MUST_NAME VAR=VALUE...
	local what=$1 name=$2 rc
	shift 2
	rc=$(check "$@")
	if [ "$rc" != 0 ] && grep -q "$name" "$TMP/out"; then
		ok "$what stops startup naming $name"
	else
		not_ok "$what: exit $rc, message: $(head -c 300 "$TMP/out")"
	fi
}
refused "JWT_SECRET_FILE naming a missing file" JWT_SECRET_FILE "${base[@]}" JWT_SECRET_FILE="$SDIR/nope"
refused "JWT_SECRET_FILE naming a directory" JWT_SECRET_FILE "${base[@]}" JWT_SECRET_FILE="$SDIR"
refused "a 31-byte JWT_SECRET_FILE" "JWT_SECRET (from JWT_SECRET_FILE)" "${base[@]}" JWT_SECRET_FILE="$SDIR/short"
refused "a 31-byte IP_HASH_SECRET_FILE" "IP_HASH_SECRET (from IP_HASH_SECRET_FILE)" "${base[@]}" IP_HASH_SECRET_FILE="$SDIR/short"
refused "IP_HASH_SECRET_FILE naming a missing file" IP_HASH_SECRET_FILE "${base[@]}" IP_HASH_SECRET_FILE="$SDIR/nope"
refused "DATABASE_URL_FILE naming a missing file" DATABASE_URL_FILE "${base[@]}" DATABASE_URL_FILE="$SDIR/nope"
refused "REDIS_URL_FILE holding an http:// URL" REDIS_URL "${base[@]}" REDIS_URL_FILE="$SDIR/badredis"
refused "JWT_SECRET and JWT_SECRET_FILE both set" "JWT_SECRET_FILE" "${base[@]}" JWT_SECRET="$good"
printf 'JWT_SECRET_FILE=%s\n' "$SDIR/short" >"$TMP/dotenv"
rc=$(env -i PATH="$PATH" PORTCULLIS_ENV_FILE="$TMP/dotenv" DATABASE_URL_FILE="$SDIR/db" \
	REDIS_URL_FILE="$SDIR/redis" IP_HASH_SECRET_FILE="$SDIR/ip" "$ROOT/cgi-bin/health" --check-config 2>&1)
if [[ $rc == *"JWT_SECRET (from JWT_SECRET_FILE)"* ]]; then ok "a _FILE twin in .env is read like one from the environment"; else
	not_ok "_FILE twin in .env: $rc"; fi
if grep -q '"METRICS_TOKEN"' "$ROOT/lib/config.c"; then
	refused "a 31-byte METRICS_TOKEN_FILE" "METRICS_TOKEN (from METRICS_TOKEN_FILE)" "${base[@]}" METRICS_TOKEN_FILE="$SDIR/short"
	expect_eq "$(check "${base[@]}" METRICS_TOKEN_FILE="$SDIR/exact")" 0 "METRICS_TOKEN_FILE with a 32-byte token passes"
fi
if grep -qF "$good" "$TMP/all"; then not_ok "no message shows a secret read from a file"; else
	ok "no message shows a secret read from a file"; fi

# The migration tool: DATABASE_URL from its file.
if out=$(env -i PATH="$PATH" PORTCULLIS_ENV_FILE=/dev/null DATABASE_URL_FILE="$SDIR/db" \
	"$ROOT/bin/portcullis-migrate" --dir "$ROOT/sql" 2>&1); then
	ok "portcullis-migrate reads DATABASE_URL_FILE"
else
	not_ok "portcullis-migrate with DATABASE_URL_FILE: $out"
fi

# ---- the key in a file is the key used --------------------------------------------
name=sf$$r$RANDOM
pw="Sf-$RANDOM-correct horse battery"
remember "$pw"
register "$name" "$pw" && login_bearer "$name" "$pw"
old_token=$ACCESS
expect_eq "$(me_status "$old_token")" 200 "setup: a token of the stack's own key works"
new_key=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 44)
put newjwt "$new_key"$'\n'
if [ "$(id -u)" -eq 0 ]; then chown -R www-data:www-data "$SDIR"; fi
remember "$new_key"
web_changed=1
"$STACK" stop web >"$TMP/web.log" 2>&1
if JWT_SECRET_FILE="$SDIR/newjwt" "$STACK" start web >>"$TMP/web.log" 2>&1; then
	ok "the web server starts with JWT_SECRET_FILE (and no JWT_SECRET)"
	if JWT_SECRET_FILE="$SDIR/newjwt" "$STACK" env 2>/dev/null | grep -q '^JWT_SECRET='; then
		not_ok "with JWT_SECRET_FILE set, the stack passes no generated JWT_SECRET"
	else
		ok "with JWT_SECRET_FILE set, the stack passes no generated JWT_SECRET"
	fi
	expect_eq "$(me_status "$old_token")" 401 "a token signed with the old key is refused: the file's key is used"
	login_bearer "$name" "$pw"
	expect_eq "$(me_status "$ACCESS")" 200 "a token issued under the file's key works"
	sig_ok=$(jwt_sign "$(jwt_part "$ACCESS" 1)" "$(jwt_part "$ACCESS" 2)" sha256 "$new_key")
	expect_eq "$sig_ok" "$ACCESS" "that token is signed with exactly the file's content, less its newline"
else
	not_ok "the web server starts with JWT_SECRET_FILE: $(tail -n 5 "$TMP/web.log")"
fi
auth_finish
