#!/usr/bin/env bash
# Common passwords refused on register and password change: 422 with
# reason too_common, after the length rules (a short listed password is
# too_short) and before any bcrypt; compared case-insensitively with
# surrounding blanks ignored.  The shipped list (python3-zxcvbn's 30,000),
# then a custom PASSWORD_DENYLIST in its place; a missing or unreadable
# file stops startup with a message naming the variable.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

export VAR_DIR=${VAR_DIR:-$ROOT/var/test}
STACK=$ROOT/scripts/stack.sh
R=/api/auth/register
reg() { post_json $R "{\"username\":$(jstr "$(uniq_name Dny)"),\"password\":$(jstr "$1")}"; }
hashes() {
	curl -sk --max-time 10 "$BASE/metrics" | awk '$1 == "portcullis_password_hash_duration_seconds_count" { print $2 }'
}

# ---- the shipped list ----
listed=1qaz2wsx3edc # in python3-zxcvbn's list, and 12 characters long
n=$(/usr/bin/python3 -c 'from zxcvbn.frequency_lists import FREQUENCY_LISTS as F; print(len(F["passwords"]))' 2>/dev/null)
if [ "${n:-0}" -ge 10000 ]; then ok "the shipped list's source has $n passwords"; else not_ok "the shipped list's source has '${n}' passwords"; fi
expect_eq "$(printf '%s\n' 123456 "$listed" "$(uniq_password)" | pwqfilter -c -f "$ROOT/share/common-passwords.pwq")" 2 "share/common-passwords.pwq holds them (pwqfilter finds 2 of 3)"
h0=$(hashes)
reg "$listed"
expect_fields '{"password":"too_common"}' "register with a listed password"
expect_json '.error.message' 'password is too common' "its message"
reg "1QAZ2wsx3EDC"
expect_fields '{"password":"too_common"}' "a case variant"
reg "  $listed	"
expect_fields '{"password":"too_common"}' "surrounded by blanks"
h1=$(hashes)
if [[ "$h0" =~ ^[0-9]+$ ]] && [ "$h1" = "$h0" ]; then ok "refused before any bcrypt (the hash count stays $h0)"; else
	not_ok "bcrypt count before/after the refusals: '$h0' / '$h1'"
fi
reg "$(uniq_password)"
expect_status 201 "setup: an accepted register"
if [ "$(hashes)" -gt "${h0:-0}" ] 2>/dev/null; then ok "... which the hash count does show"; else not_ok "the hash count did not move on an accepted register"; fi
reg 123456
expect_fields '{"password":"too_short"}' "a short listed password is too_short"
reg "${listed}x"
expect_status 201 "one character more is not listed"
reg "$listed"$'\n'"x"
expect_status 201 "a password holding a line break is never a list entry"

# password change
name=$(uniq_name Chg)
pw=$(uniq_password)
register "$name" "$pw"
login_bearer "$name" "$pw"
tok=$ACCESS
post_json /api/auth/password "{\"current_password\":$(jstr "$pw"),\"new_password\":\"QAZWSXEDCRFV\"}" -H "Authorization: Bearer $tok"
expect_fields '{"new_password":"too_common"}' "password change to a listed password"
expect_eq "$(me_status "$tok")" 200 "the refused change revoked nothing"
post_json /api/auth/password "{\"current_password\":$(jstr "$pw"),\"new_password\":\"qwerty\"}" -H "Authorization: Bearer $tok"
expect_fields '{"new_password":"too_short"}' "a short listed new password is too_short"
login_bearer "$name" "$pw"
expect_status 200 "the password is unchanged"

# ---- a custom PASSWORD_DENYLIST ----
dir=$(mktemp -d)
chmod 0755 "$dir" # the responders may run as www-data
list=$dir/breach.txt
printf '%s\n' 'Zebra-Crossing-Forty-2' '   spaced entry value   ' 'ÜBERGRÖSSE-passwort' '' >"$list"
printf 'crlf-line-entry-99\r\n' >>"$list"
chmod 0644 "$list"
web() { PASSWORD_DENYLIST=$1 "$STACK" "$2" web >>"$TMP/stack.log" 2>&1; }
restored=0
restore() {
	[ "$restored" = 1 ] && return 0
	restored=1
	"$STACK" stop web >>"$TMP/stack.log" 2>&1
	"$STACK" start web >>"$TMP/stack.log" 2>&1
}
# The responders' cache files of this list (lib/denylist.c names them after its real path).
path_hash() { printf '%s' "$(realpath "$1")" | sha256sum | cut -c1-16; }
list_hash=$(path_hash "$list") dir_hash=$(path_hash "$dir")
trap 'restore; for h in "$list_hash" "$dir_hash"; do rm -f /var/tmp/portcullis-denylist-*-"$h"[-.]* /tmp/portcullis-denylist-*-"$h"[-.]*; done; rm -rf "$TMP" "$dir"' EXIT
web "$list" stop
if web "$list" start; then ok "the web server restarts with PASSWORD_DENYLIST"; else not_ok "restart with PASSWORD_DENYLIST: $(tail -n 5 "$TMP/stack.log")"; fi
wait_for "ready with the custom list" 20 ready_ok
reg zebra-crossing-forty-2
expect_fields '{"password":"too_common"}' "custom list: an entry, in another case"
reg 'spaced entry value'
expect_fields '{"password":"too_common"}' "custom list: an entry written with surrounding blanks"
reg 'übergrösse-PASSWORT'
expect_fields '{"password":"too_common"}' "custom list: non-ASCII letters compared case-insensitively"
reg 'crlf-line-entry-99'
expect_fields '{"password":"too_common"}' "custom list: a CRLF line"
reg "$listed"
expect_status 201 "custom list: it replaces the shipped one"
reg 'zebra-crossing-forty-3'
expect_status 201 "custom list: an unlisted password"

# a missing or unreadable file stops startup, naming the variable
"$STACK" env >"$TMP/stack.env" 2>/dev/null
check() {
	env -i PATH="$PATH" PORTCULLIS_ENV_FILE="$TMP/stack.env" PASSWORD_DENYLIST="$1" \
		"$ROOT/cgi-bin/register" --check-config >"$TMP/out" 2>&1
	echo $?
}
expect_eq "$(check "$dir/missing.txt")" 2 "a missing PASSWORD_DENYLIST stops startup"
if grep -q 'PASSWORD_DENYLIST' "$TMP/out"; then ok "... with a message naming it: $(head -c 160 "$TMP/out")"; else not_ok "message: $(cat "$TMP/out")"; fi
expect_eq "$(check "$dir")" 2 "an unreadable PASSWORD_DENYLIST (a directory) stops startup"
grep -q 'PASSWORD_DENYLIST' "$TMP/out" && ok "... naming it" || not_ok "message: $(cat "$TMP/out")"
expect_eq "$(check "$list")" 0 "the readable list passes the check"
web "$dir/missing.txt" stop
if web "$dir/missing.txt" start; then not_ok "the stack started with a missing PASSWORD_DENYLIST"; else ok "the stack refuses to start with a missing PASSWORD_DENYLIST"; fi
grep -q PASSWORD_DENYLIST "$TMP/stack.log" && ok "... and says why" || not_ok "the stack's message: $(tail -n 3 "$TMP/stack.log")"

restore
wait_for "the shipped list is back" 20 ready_ok
reg "$listed"
expect_fields '{"password":"too_common"}' "after the restart the shipped list applies again"

auth_finish
