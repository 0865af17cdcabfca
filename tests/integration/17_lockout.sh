#!/usr/bin/env bash
# The failed-login limit: LOGIN_MAX_FAILURES failures for one name within
# LOGIN_FAILURE_WINDOW seconds lock that name (429 rate_limited with
# Retry-After, no RateLimit fields), even for the right password; unknown
# names lock alike; names compare case-insensitively; refused attempts are
# not counted; the lock lifts with the window; a success resets the count.
# Neither PostgreSQL nor Redis holds the name or the client address.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

L=/api/auth/login
maxf=$(stack_env LOGIN_MAX_FAILURES)
window=$(stack_env LOGIN_FAILURE_WINDOW)
echo "# LOGIN_MAX_FAILURES=$maxf LOGIN_FAILURE_WINDOW=$window"
names=()

try_login() { # NAME PASSWORD - one login attempt (sets STATUS, BODY, HEADERS)
	post_json $L "{\"username\":$(jstr "$1"),\"password\":$(jstr "$2")}"
}
fail_n() { # NAME N - N wrong passwords; echoes the statuses
	local i out=""
	for ((i = 1; i <= $2; i++)); do
		try_login "$1" "wrong-password-$i-$RANDOM"
		out+="$STATUS "
	done
	printf '%s' "${out% }"
}
expect_locked() { # WHAT
	expect_error 429 rate_limited "$1"
	local ra
	ra=$(header Retry-After)
	if [[ "$ra" =~ ^[0-9]+$ ]] && [ "$ra" -ge 1 ] && [ "$ra" -le "$window" ]; then
		ok "$1: Retry-After $ra is an integer from 1 to LOGIN_FAILURE_WINDOW ($window)"
	else
		not_ok "$1: Retry-After '$ra' is not an integer from 1 to $window"
	fi
	# Fine print: the failed-login 429 carries Retry-After, not the RateLimit fields
	local h rl=""
	for h in RateLimit RateLimit-Policy RateLimit-Limit RateLimit-Remaining RateLimit-Reset; do
		[ -z "$(header "$h")" ] || rl+="$h "
	done
	expect_eq "${rl% }" "" "$1: no RateLimit fields on the failed-login 429"
	expect_no_set_cookie "$1"
}
wrongs() { rep '401 ' "$1" | sed 's/ $//'; }

# the window slides: these failures are checked again at the end
sname=$(uniq_name Slide)
spw=$(uniq_password)
register "$sname" "$spw"
names+=("$sname")
fail_n "$sname" $((maxf - 1)) >/dev/null
t_slide=$(date +%s)

# ---- a known name ----
name=$(uniq_name Lock)
pw=$(uniq_password)
register "$name" "$pw"
names+=("$name")
expect_eq "$(fail_n "$name" "$maxf")" "$(wrongs "$maxf")" "$maxf wrong passwords answer 401"
t_locked=$(date +%s)
try_login "$name" "$pw"
expect_locked "the next attempt, with the right password"
retry=$(header Retry-After)
try_login "$name" "wrong-again"
expect_locked "a wrong password while locked"
# attempts refused while locked are not counted: make some, later in the window
sleep 2
for i in $(seq "$maxf"); do # enough to keep the name locked, were they counted
	try_login "$name" "wrong-while-locked-$i"
	[ "$STATUS" = 429 ] || not_ok "attempt $i while locked answered $STATUS"
done
expect_locked "still locked 2 s later"
expect_eq "$(psql_q "SELECT 1")" 1 "PostgreSQL answers (setup)"
# wait until the first Retry-After has passed
left=$((t_locked + retry + 2 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
login_bearer "$name" "$pw" && ok "after Retry-After has passed the right password logs in (the refused attempts were not counted)"

# ---- an unknown name locks the same way ----
ghost=$(uniq_name Ghost)
names+=("$ghost")
expect_eq "$(fail_n "$ghost" "$maxf")" "$(wrongs "$maxf")" "$maxf failures of an unknown name answer 401"
try_login "$ghost" "anything-at-all"
expect_locked "an unknown name is locked alike"
unknown_body=$(printf '%s' "$BODY" | jq -c 'del(.error.request_id)')

# ---- case-insensitive ----
cname=$(uniq_name Case)
cpw=$(uniq_password)
register "$cname" "$cpw"
names+=("$cname")
lower=$(printf '%s' "$cname" | tr 'A-Z' 'a-z')
upper=$(printf '%s' "$cname" | tr 'a-z' 'A-Z')
fail_n "$cname" 2 >/dev/null
fail_n "$lower" 2 >/dev/null
expect_eq "$(fail_n "$upper" $((maxf - 4)))" "$(wrongs $((maxf - 4)))" "failures spread over Case, case and CASE"
try_login "$upper" "$cpw"
expect_locked "failures on three spellings lock the name in upper case"
known_body=$(printf '%s' "$BODY" | jq -c 'del(.error.request_id)')
expect_eq "$known_body" "$unknown_body" "a locked known name and a locked unknown name answer alike"
try_login "$lower" "$cpw"
expect_locked "... and in lower case"
try_login "X$cname" "$cpw"
expect_error 401 invalid_credentials "a different name is not locked"

# ---- a success resets the count ----
rname=$(uniq_name Reset)
rpw=$(uniq_password)
register "$rname" "$rpw"
names+=("$rname")
fail_n "$rname" $((maxf - 1)) >/dev/null
login_bearer "$rname" "$rpw" && ok "$((maxf - 1)) failures, then the right password logs in"
expect_eq "$(fail_n "$rname" $((maxf - 1)))" "$(wrongs $((maxf - 1)))" "$((maxf - 1)) more failures answer 401"
login_bearer "$rname" "$rpw" && ok "... and the name is still not locked: the success reset the count"

# ---- the window slides (failures made at the start of the script) ----
left=$((t_slide + window + 2 - $(date +%s)))
[ "$left" -gt 0 ] && sleep "$left"
expect_eq "$(fail_n "$sname" 1)" 401 "a failure after the window has passed"
login_bearer "$sname" "$spw" && ok "failures older than LOGIN_FAILURE_WINDOW do not count"

# ---- nothing stores the name or the address ----
dump=$(psql_q "SELECT encode(name_hash, 'hex'), length(name_hash), failed_at FROM login_failures")
rows=$(psql_q "SELECT count(*) FROM login_failures")
echo "# login_failures holds $rows rows"
expect_eq "$(psql_q "SELECT count(*) FROM login_failures WHERE length(name_hash) <> 32")" 0 "every name_hash is 32 bytes"
expect_eq "$(psql_q "SELECT count(*) FROM information_schema.columns WHERE table_name = 'login_failures' AND column_name NOT IN ('name_hash', 'failed_at')")" 0 \
	"login_failures has no column beyond name_hash and failed_at"
leak=0
for n in "${names[@]}"; do
	lc=$(printf '%s' "$n" | tr 'A-Z' 'a-z')
	for form in "$n" "$lc" "$(printf '%s' "$lc" | od -An -tx1 | tr -d ' \n')" \
		"$(printf '%s' "$lc" | sha256sum | cut -d' ' -f1)" "$(printf 'login-name:%s' "$lc" | sha256sum | cut -d' ' -f1)"; do
		if printf '%s' "$dump" | grep -qiF -- "$form"; then
			leak=$((leak + 1))
			echo "# login_failures shows ${n} as '${form:0:16}...'"
		fi
	done
done
expect_eq "$leak" 0 "login_failures holds no username (plain, hex or unkeyed SHA-256)"
full_dump=$(psql_q "COPY (SELECT * FROM login_failures) TO STDOUT")
bad=0
for n in "${names[@]}"; do printf '%s' "$full_dump" | grep -qiF -- "$n" && bad=$((bad + 1)); done
expect_eq "$bad" 0 "a full dump of login_failures does not contain any of the names"

keys=$(rcli --scan)
echo "# redis holds $(printf '%s\n' "$keys" | grep -c .) keys"
bad=0
for n in "${names[@]}"; do
	lc=$(printf '%s' "$n" | tr 'A-Z' 'a-z')
	if printf '%s' "$keys" | grep -qiF -e "$lc" -e "$(printf '%s' "$lc" | od -An -tx1 | tr -d ' \n')"; then
		bad=$((bad + 1))
		echo "# a redis key holds the name $n"
	fi
done
for addr in 127.0.0.1 ::1 '7f000001' 'localhost'; do
	if printf '%s' "$keys" | grep -qF -- "$addr"; then
		bad=$((bad + 1))
		echo "# a redis key holds the address $addr"
	fi
done
expect_eq "$bad" 0 "no Redis key holds a username or a raw client address"
vals=""
while IFS= read -r k; do
	[ -n "$k" ] || continue
	[ "$(rcli TYPE "$k")" = string ] && vals+="$(rcli GET "$k")"$'\n'
done <<<"$(printf '%s\n' "$keys" | head -2000)"
# (values may hold a username: the user record cache is keyed by user id)
bad=0
for addr in 127.0.0.1 '"::1"' '::ffff:'; do printf '%s' "$vals" | grep -qF -- "$addr" && bad=$((bad + 1)); done
expect_eq "$bad" 0 "no Redis string value holds a raw client address"

auth_finish
