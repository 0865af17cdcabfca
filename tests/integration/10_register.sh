#!/usr/bin/env bash
# POST /api/auth/register: 201 {"user"}, 409 for a name taken in any case,
# 422 with the exact fields for every rule of username and password, and the
# body rules of "Fine print: Bodies" (400 / 413 / 415 / 422).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

R=/api/auth/register

# ---- success ----
name=$(uniq_name Reg_Case.)
pw=$(uniq_password)
before=$(date -u +%s)
post_json $R "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw")}"
after=$(date -u +%s)
expect_status 201 "register"
expect_api_shape "register"
expect_json 'keys | join(",")' 'user' "register body has only user"
expect_json '.user | keys_unsorted | sort | join(",")' 'created_at,id,username' "the user has id, username, created_at only"
expect_json '.user.id | test("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")' true "the id is a uuid"
expect_json '.user.username' "$name" "the username is kept as registered (case included)"
expect_json '.user.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$")' true "created_at is RFC 3339 in UTC"
created=$(printf '%s' "$BODY" | jq -r '.user.created_at | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601' 2>/dev/null)
expect_eq "$([ -n "$created" ] && [ "$created" -ge $((before - 5)) ] && [ "$created" -le $((after + 5)) ] && echo now)" now "created_at is the time of registration"
expect_no_set_cookie "register logs nobody in"
expect_eq "$(printf '%s' "$BODY" | grep -cF -- "$pw")" 0 "the password is not echoed"
first_user=$(printf '%s' "$BODY" | jq -c .user)

# ---- taken, case-insensitively ----
upper=$(printf '%s' "$name" | tr 'a-z' 'A-Z')
post_json $R "{\"username\":$(jstr "$upper"),\"password\":$(jstr "$pw")}"
expect_error 409 username_taken "the same name in upper case"
lower=$(printf '%s' "$name" | tr 'A-Z' 'a-z')
post_json $R "{\"username\":$(jstr "$lower"),\"password\":\"another-password-1\"}"
expect_error 409 username_taken "the same name in lower case, another password"
post_json $R "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw")}"
expect_error 409 username_taken "the very same name again"
login_bearer "$name" "$pw" && expect_user "$first_user" "the first registration is the one that holds"

# racing registrations of one name in four spellings: exactly one wins
race=$(uniq_name Race)
i=0
for spelling in "$race" "${race^^}" "${race,,}" "r${race:1}"; do
	i=$((i + 1))
	curl -sk --max-time 20 -o "$TMP/race.$i" -w '%{http_code}\n' -X POST "${JSON_CT[@]}" \
		--data-binary "{\"username\":\"$spelling\",\"password\":\"long-enough-password\"}" "$BASE$R" >"$TMP/race.$i.status" &
done
wait
expect_eq "$(cat "$TMP"/race.?.status | sort | uniq -c | sed 's/^ *//' | paste -sd,)" "1 201,3 409" \
	"4 concurrent registrations of one name in different cases: one 201, three 409"
expect_eq "$(cat "$TMP"/race.? | jq -r '.error.code // empty' | sort | uniq -c | sed 's/^ *//')" "3 username_taken" "... the losers answer username_taken"

# ---- username rules ----
post_json $R '{"password":"long-enough-password"}'
expect_fields '{"username":"required"}' "missing username"
for v in null 42 '["abc"]' '{"a":1}' true; do
	post_json $R "{\"username\":$v,\"password\":\"long-enough-password\"}"
	expect_fields '{"username":"invalid_type"}' "username $v"
done
post_json $R '{"username":"ab","password":"long-enough-password"}'
expect_fields '{"username":"too_short"}' "a 2-character username"
post_json $R "{\"username\":\"$(rep a 33)\",\"password\":\"long-enough-password\"}"
expect_fields '{"username":"too_long"}' "a 33-character username"
for bad in 'a b' 'a/b' 'h\u00e9llo' 'h\u00c3llo' 'abc@x' 'a+b' 'ab:c' 'tab\tx' 'abc\u0000def'; do
	post_json $R "{\"username\":\"$bad\",\"password\":\"long-enough-password\"}"
	expect_fields '{"username":"invalid_format"}' "username \"$bad\""
done
# the raw (not escaped) UTF-8 form too
post_json $R "{\"username\":\"hé_llo\",\"password\":\"long-enough-password\"}"
expect_fields '{"username":"invalid_format"}' "username with a raw é"
for ok_name in "$(uniq_name x)" "$(uniq_name "_.-")" "$(uniq_name "$(rep Z 20)")"; do
	register "$ok_name" "long-enough-password" && ok "username '$ok_name' (${#ok_name} chars, [A-Za-z0-9_.-]) is accepted"
done
n32="$(uniq_name N32_)$(rep k 32)"
n32=${n32:0:32}
register "$n32" "long-enough-password" && ok "a 32-character username is accepted"

# ---- password rules (code points, not bytes) ----
u=$(uniq_name pw)
post_json $R "{\"username\":\"$u\"}"
expect_fields '{"password":"required"}' "missing password"
for v in null 123456789012 '["long-enough-password"]' false; do
	post_json $R "{\"username\":\"$u\",\"password\":$v}"
	expect_fields '{"password":"invalid_type"}' "password $v"
done
post_json $R "{\"username\":\"$u\",\"password\":\"$(rep p 11)\"}"
expect_fields '{"password":"too_short"}' "an 11-character password"
post_json $R "{\"username\":\"$u\",\"password\":\"$(rep p 129)\"}"
expect_fields '{"password":"too_long"}' "a 129-character password"
emoji11=$(rep '😀' 11)
post_json $R "{\"username\":\"$u\",\"password\":\"$emoji11\"}"
expect_fields '{"password":"too_short"}' "11 emoji (44 bytes) are 11 code points: too short"
emoji129=$(rep '😀' 129)
post_json $R "{\"username\":\"$u\",\"password\":\"$emoji129\"}"
expect_fields '{"password":"too_long"}' "129 emoji are too long"
post_json $R "{\"username\":\"$u\",\"password\":\"$(rep '\ud83d\ude00' 11)\"}"
expect_fields '{"password":"too_short"}' "11 escaped surrogate pairs are 11 code points"

register "$(uniq_name p12)" "$(rep q 12)" && ok "a 12-character password is accepted"
register "$(uniq_name p128)" "$(rep r 128)" && ok "a 128-character password is accepted"
ue=$(uniq_name emoji)
emoji12=$(rep '😀' 12)
register "$ue" "$emoji12" && ok "12 emoji (4-byte UTF-8 each) are 12 code points: accepted"
login_bearer "$ue" "$emoji12" && ok "and log in"
register "$(uniq_name e128)" "$(rep '😀' 128)" && ok "128 emoji (512 bytes) are accepted"
register "$(uniq_name spaces)" "            " && ok "a password of 12 spaces is accepted (any characters, no composition rules)"

# ---- both fields at once ----
post_json $R '{"username":"a","password":"short"}'
expect_fields '{"username":"too_short","password":"too_short"}' "both fields too short"
post_json $R '{}'
expect_fields '{"username":"required","password":"required"}' "both fields missing"
post_json $R '{"username":"a b","password":7}'
expect_fields '{"username":"invalid_format","password":"invalid_type"}' "a bad name and a number"

# ---- the body itself ----
for v in '[]' '"x"' 1 null '[{"username":"abc","password":"long-enough-password"}]'; do
	post_json $R "$v"
	expect_fields '{"body":"invalid_type"}' "a body of $v"
done
for v in '{"username":' '{"username":"abc","password":"long-enough-password",}' \
	"{'username':'abc'}" '{"username":"abc" "password":"x"}' 'nope' '{} {}' \
	'{"username":"abc","password":"\ud800-long-enough"}' \
	'{"username":"abc","password":"long-enough-\udc00"}' \
	'{"username":"abc","password":"long-enough-\ud800\u0041"}' \
	'{"username":"abc","password":"long-enough-\x"}' \
	'{"username":"abc","password":"long-enough-password"} x' \
	'{"username":"abc","password":NaN}' '{"a":01}'; do
	post_json $R "$v"
	expect_error 400 invalid_json "malformed body ${v:0:60}"
done
printf '{"username":"ab\xff\xfe","password":"long-enough-password"}' >"$TMP/bad-utf8.json"
call POST $R "${JSON_CT[@]}" --data-binary @"$TMP/bad-utf8.json"
expect_error 400 invalid_json "invalid UTF-8 bytes"
printf '{"username":"abc","password":"long-enough-\xed\xa0\x80x"}' >"$TMP/surrogate-utf8.json"
call POST $R "${JSON_CT[@]}" --data-binary @"$TMP/surrogate-utf8.json"
expect_error 400 invalid_json "a UTF-8-encoded surrogate"
printf '{"username":"abc","password":"long-enough-\xc0\xafxx"}' >"$TMP/overlong.json"
call POST $R "${JSON_CT[@]}" --data-binary @"$TMP/overlong.json"
expect_error 400 invalid_json "an overlong UTF-8 sequence"
printf '{"username":"abc","password":"long-enough\x01pass"}' >"$TMP/ctl.json"
call POST $R "${JSON_CT[@]}" --data-binary @"$TMP/ctl.json"
expect_error 400 invalid_json "a raw control character in a string"

# nesting: 64 levels are fine, 65 are not
post_json $R "$(rep '[' 65)$(rep ']' 65)"
expect_error 400 invalid_json "65 nested arrays"
post_json $R "$(rep '[' 64)$(rep ']' 64)"
expect_fields '{"body":"invalid_type"}' "64 nested arrays are valid JSON (not an object)"
post_json $R "{\"username\":$(rep '[' 63)$(rep ']' 63),\"password\":\"long-enough-password\"}"
expect_fields '{"username":"invalid_type"}' "an object holding 63 nested arrays (64 levels)"
post_json $R "{\"username\":$(rep '[' 64)$(rep ']' 64),\"password\":\"long-enough-password\"}"
expect_error 400 invalid_json "an object holding 64 nested arrays (65 levels)"
post_json $R "$(rep '{"a":' 64)1$(rep '}' 64)"
expect_fields '{"username":"required","password":"required"}' "64 nested objects"
post_json $R "$(rep '{"a":' 65)1$(rep '}' 65)"
expect_error 400 invalid_json "65 nested objects"

# content types
body_ok="{\"username\":\"$(uniq_name ct)\",\"password\":\"long-enough-password\"}"
call POST $R -H 'Content-Type: text/plain' --data-binary "$body_ok"
expect_error 415 unsupported_media_type "Content-Type: text/plain"
call POST $R -H 'Content-Type:' --data-binary "$body_ok"
expect_error 415 unsupported_media_type "a body without Content-Type"
call POST $R --data-binary "$body_ok"
expect_error 415 unsupported_media_type "a form content type (curl's default)"
call POST $R -H 'Content-Type: application/json-patch+json' --data-binary "$body_ok"
expect_error 415 unsupported_media_type "Content-Type: application/json-patch+json"
call POST $R -H 'Content-Type: application/json; charset=latin1' --data-binary "$body_ok"
expect_error 415 unsupported_media_type "application/json with another charset"
call POST $R -H 'Content-Type: application/json; charset=utf-8' --data-binary "$body_ok"
expect_status 201 "application/json; charset=utf-8 is accepted"
body_ok2="{\"username\":\"$(uniq_name ct2)\",\"password\":\"long-enough-password\"}"
call POST $R -H 'Content-Type: Application/JSON;charset="UTF-8"' --data-binary "$body_ok2"
expect_status 201 "Application/JSON;charset=\"UTF-8\" is accepted"

# no body at all (see auth_lib.sh on Content-Length: 0)
call POST $R "${JSON_CT[@]}" "${NOBODY[@]}"
expect_error 400 invalid_json "no body (Content-Length: 0)"
call POST $R "${NOBODY[@]}"
expect_error 400 invalid_json "no body and no content type"

# too large
max=$(stack_env MAX_BODY_BYTES)
{
	printf '{"username":"%s","password":"long-enough-password","pad":"' "$(uniq_name big)"
	head -c "$max" /dev/zero | tr '\0' 'x'
	printf '"}'
} >"$TMP/big.json"
call POST $R "${JSON_CT[@]}" --data-binary @"$TMP/big.json"
expect_error 413 payload_too_large "a body over MAX_BODY_BYTES ($max)"
head -c $((max + 1)) /dev/zero | tr '\0' ' ' >"$TMP/big.txt"
call POST $R -H 'Content-Type: text/plain' --data-binary @"$TMP/big.txt"
expect_eq "$([[ "$STATUS" =~ ^41[35]$ ]] && echo refused)" refused "an oversized non-JSON body is refused with 413 or 415 (got $STATUS)"
prefix="{\"username\":\"$(uniq_name exact)\",\"password\":\"long-enough-password\",\"pad\":\""
{
	printf '%s' "$prefix"
	head -c $((max - ${#prefix} - 2)) /dev/zero | tr '\0' 'x'
	printf '"}'
} >"$TMP/exact.json"
call POST $R "${JSON_CT[@]}" --data-binary @"$TMP/exact.json"
expect_eq "$(stat -c %s "$TMP/exact.json")|$STATUS" "$max|201" "a body of exactly MAX_BODY_BYTES is accepted (unknown members ignored)"

auth_finish
