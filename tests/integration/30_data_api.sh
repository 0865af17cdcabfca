#!/usr/bin/env bash
# Per-user data, every endpoint and error of API.md "Per-user data" and its
# fine print: PUT creates (201) and replaces (200) with ETag "<version>",
# GET with If-None-Match (304), If-Match / If-None-Match: * (412), DELETE
# (204, 404), versions that go on after a delete, values of every JSON type
# round-tripping, the key rules (422 envelope, never the web server's page),
# the value limit (413), bodies (400, 415), the key quota (403), the list
# (byte order, pagination, limit and cursor validation), isolation between
# users, authentication (bearer, cookie, 401), the cross-site rule and 405.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"
source "$(dirname "$0")/data_lib.sh"

RFC3339='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?Z'
MAX_VALUE=$(stack_env DATA_MAX_VALUE_BYTES)
MAX_VALUE=${MAX_VALUE:-65536}
MAX_KEYS=$(stack_env DATA_MAX_KEYS)
MAX_KEYS=${MAX_KEYS:-1000}

# expect_item KEY VERSION WHAT - {"key","value","version","updated_at"} exactly,
# with ETag "<version>" and the API's headers.
expect_item() {
	expect_json 'keys | join(",")' 'key,updated_at,value,version' "$3: exactly key, value, version, updated_at"
	expect_json '.key' "$1" "$3"
	expect_json '.version' "$2" "$3"
	expect_json '.updated_at | test("^'"$RFC3339"'$")' true "$3: updated_at is RFC 3339 UTC"
	expect_header ETag "\"$2\"" "$3"
	expect_api_shape "$3"
}

# same_json A B - A and B are the same JSON value (jq -S on both sides).
same_json() {
	local a b
	a=$(printf '%s' "$1" | jq -S -c . 2>&1) || return 1
	b=$(printf '%s' "$2" | jq -S -c . 2>&1) || return 1
	[ "$a" = "$b" ]
}

data_user DataA || exit 1
TOKEN_A=$D_TOKEN NAME_A=$D_NAME PASS_A=$D_PASS

# ---- create, replace, read ----
dput greeting '{"hello":"world","n":[1,2,3]}'
expect_status 201 "PUT of a new key creates it"
expect_item greeting 1 "PUT created"
expect_json '.value | tojson' '{"hello":"world","n":[1,2,3]}' "PUT created: the value"
created_at=$(printf '%s' "$BODY" | jq -r .updated_at)
put_body=$BODY

dget greeting
expect_status 200 "GET of the key"
expect_item greeting 1 "GET"
expect_eq "$(printf '%s' "$BODY" | jq -S -c .)" "$(printf '%s' "$put_body" | jq -S -c .)" "GET returns the same body as the PUT"

sleep 0.01
dput greeting '"replaced"'
expect_status 200 "PUT of an existing key replaces it"
expect_item greeting 2 "PUT replaced"
expect_json '.value' 'replaced' "PUT replaced: the new value"
expect_eq "$(printf '%s' "$BODY" | jq -r --arg c "$created_at" '.updated_at >= $c')" true "updated_at does not go back on replace"
put_body=$BODY
dget greeting
expect_status 200 "GET after replace"
expect_item greeting 2 "GET after replace"
expect_eq "$(printf '%s' "$BODY" | jq -S -c .)" "$(printf '%s' "$put_body" | jq -S -c .)" "GET after replace returns the PUT's body"

call HEAD /api/data/greeting -H "Authorization: Bearer $TOKEN_A"
expect_status 200 "HEAD of a key"
expect_header ETag '"2"' "HEAD"

# ---- values of every JSON type round-trip ----
deep_open=$(rep '[' 64)
deep_close=$(rep ']' 64)
values=(
	'{"a":{"b":[1,[2,[3,{"c":[]}]],{}],"d":null},"e":[true,false,null,"x"]}'
	'"just a string"'
	'0'
	'42'
	'-17'
	'9007199254740991'
	'0.1'
	'-2.5e-3'
	'1.7976931348623157e308'
	'5e-324'
	'true'
	'false'
	'null'
	'[]'
	'{}'
	'"héllo ✓ 😀"'
	'"\u00e9\u2713\ud83d\ude00"'
	'"nul\u0000inside"'
	'"\u0000"'
	'"q\"uote \\back\\slash\/ \b\f\n\r\t \u001f"'
	'{"key with \"quotes\"":"v","":"empty key","dup":1}'
	"${deep_open}1${deep_close}"
)
i=0
for v in "${values[@]}"; do
	i=$((i + 1))
	dput "val-$i" "$v"
	if [ "$STATUS" = 201 ] && same_json "$(printf '%s' "$BODY" | jq -c .value)" "$v"; then
		ok "value round-trips through PUT: ${v:0:40}"
	else
		not_ok "value round-trips through PUT: ${v:0:40} (status $STATUS, ${BODY:0:200})"
	fi
	dget "val-$i"
	if [ "$STATUS" = 200 ] && same_json "$(printf '%s' "$BODY" | jq -c .value)" "$v"; then
		ok "value round-trips through GET: ${v:0:40}"
	else
		not_ok "value round-trips through GET: ${v:0:40} (status $STATUS, ${BODY:0:200})"
	fi
done
# \u0000 in a string really is a NUL character, not dropped or cut
dget "val-18"
expect_json '.value | explode | length' 10 "a string holding \\u0000 keeps every character"
expect_json '.value | explode | .[3]' 0 "... and the NUL itself"
# numbers keep (at least) double precision
dget "val-9"
expect_json '.value == 1.7976931348623157e308' true "the largest double comes back as itself"
dget "val-7"
expect_json '.value == 0.1' true "0.1 comes back as 0.1"
# 65 levels are too deep; a lone surrogate is not Unicode
dput too-deep "$(rep '[' 65)1$(rep ']' 65)"
expect_error 400 invalid_json "65 levels of nesting"
dput lone-surrogate '"\ud800"'
expect_error 400 invalid_json "a lone surrogate escape"
dput bad-utf8 "$(printf '"\xc3\x28"')"
expect_error 400 invalid_json "a string that is not UTF-8"
dget lone-surrogate
expect_error 404 not_found "a refused PUT stored nothing"

# ---- whitespace is not kept; size is the compact JSON's byte length ----
pretty='{
  "a" : [ 1 , 2 ,
          3 ] ,
  "s" : "x  y\t z"
}'
compact='{"a":[1,2,3],"s":"x  y\t z"}'
dput spaced "$pretty"
expect_status 201 "PUT of a pretty-printed value"
expect_eq "$(raw_value)" "$compact" "the value comes back compact (whitespace inside strings kept)"
dget spaced
expect_eq "$(raw_value)" "$compact" "GET returns the compact value"
dput utf8-size '"héllo ✓ 😀"'
dput one '1'
dlist ""
expect_status 200 "list"
expect_json '.items[] | select(.key == "spaced") | .size' "$(printf '%s' "$compact" | LC_ALL=C wc -c | tr -d ' ')" \
	"size of a pretty value is the byte length of its compact JSON (not ${#pretty})"
expect_json '.items[] | select(.key == "utf8-size") | .size' \
	"$(printf '%s' '"héllo ✓ 😀"' | LC_ALL=C wc -c | tr -d ' ')" "size counts bytes, not characters"
expect_json '.items[] | select(.key == "one") | .size' 1 "size of 1 is 1"

# ---- conditionals ----
dget greeting -H 'If-None-Match: "2"'
expect_status 304 "GET with If-None-Match of the current version"
expect_eq "${#BODY}" 0 "304 has no body"
expect_header ETag '"2"' "304 carries the ETag"
expect_header Cache-Control 'no-store' "304"
expect_header X-Request-Id '[A-Za-z0-9._-]{1,64}' "304"
dget greeting -H 'If-None-Match: W/"2"'
expect_status 304 "GET with a weak If-None-Match of the current version (weak comparison)"
dget greeting -H 'If-None-Match: "1", "2"'
expect_status 304 "GET with If-None-Match listing the current version"
dget greeting -H 'If-None-Match: "1"'
expect_status 200 "GET with If-None-Match of another version"
expect_item greeting 2 "GET with a stale If-None-Match"
dget greeting -H 'If-None-Match: "12"'
expect_status 200 "GET with If-None-Match \"12\" (not a prefix match of 2)"

dput greeting '"v3"' -H 'If-Match: "2"'
expect_status 200 "PUT with If-Match of the current version"
expect_item greeting 3 "conditional PUT"
dput greeting '"stale"' -H 'If-Match: "2"'
expect_error 412 precondition_failed "PUT with a stale If-Match"
dput greeting '"stale"' -H 'If-Match: "1", "2"'
expect_error 412 precondition_failed "PUT with If-Match listing only stale versions"
dget greeting
expect_json '.value + " " + (.version | tostring)' 'v3 3' "a refused PUT changed nothing"
dput greeting '"weak"' -H 'If-Match: W/"3"'
expect_error 412 precondition_failed "PUT with a weak If-Match (If-Match compares strongly)"
dput greeting '"v4"' -H 'If-Match: "1", "3"'
expect_status 200 "PUT with If-Match listing the current version"
dput greeting '"v5"' -H 'If-Match: *'
expect_status 200 "PUT with If-Match: * of an existing key"
expect_json '.version' 5 "If-Match: *"
dput absent-key '"x"' -H 'If-Match: "1"'
expect_error 412 precondition_failed "If-Match on an absent key (PUT)"
dput absent-key '"x"' -H 'If-Match: *'
expect_error 412 precondition_failed "If-Match: * on an absent key (PUT)"
dget absent-key
expect_error 404 not_found "a refused conditional PUT created nothing"
dput greeting '"no"' -H 'If-None-Match: *'
expect_error 412 precondition_failed "PUT with If-None-Match: * of an existing key"
dput create-only '"yes"' -H 'If-None-Match: *'
expect_status 201 "PUT with If-None-Match: * of a new key"
expect_item create-only 1 "If-None-Match: * create"
ddel greeting -H 'If-Match: "4"'
expect_error 412 precondition_failed "DELETE with a stale If-Match"
dget greeting
expect_status 200 "a refused DELETE deleted nothing"
ddel absent-key -H 'If-Match: "1"'
expect_error 412 precondition_failed "If-Match on an absent key (DELETE)"
ddel greeting -H 'If-Match: "5"'
expect_empty_204 "DELETE with If-Match of the current version"

# ---- delete, and versions going on ----
dput cycle '"one"'
expect_status 201 "cycle: v1"
dput cycle '"two"'
expect_status 200 "cycle: v2"
ddel cycle
expect_empty_204 "DELETE of a key"
dget cycle
expect_error 404 not_found "GET after DELETE"
dget cycle -H 'If-None-Match: "2"'
expect_error 404 not_found "GET with If-None-Match after DELETE"
ddel cycle
expect_error 404 not_found "DELETE again"
dput cycle '"stale"' -H 'If-Match: "2"'
expect_error 412 precondition_failed "If-Match of the deleted version"
dput cycle '"three"'
expect_status 201 "a key deleted and created again is created (201)"
expect_item cycle 3 "re-created key goes on from its last version"
expect_json '.value' three "re-created key"
dget cycle
expect_item cycle 3 "GET of the re-created key"
ddel cycle
dput cycle '"four"' -H 'If-None-Match: *'
expect_status 201 "If-None-Match: * on a deleted key creates it"
expect_json '.version' 4 "... as version 4"

# ---- keys ----
k128=$(rep k 128)
dput "$k128" '128'
expect_status 201 "a key of 128 characters"
expect_json '.key' "$k128" "128-character key"
dput x '"1 char"'
expect_status 201 "a key of 1 character"
dput "${k128}k" '129'
expect_fields '{"key":"invalid_format"}' "a key of 129 characters"
dget "${k128}k"
expect_fields '{"key":"invalid_format"}' "GET of a key of 129 characters"
dput 'a.b_c~d-e' '"ok"'
expect_status 201 "a key of ._~- and alphanumerics"
expect_json '.key' 'a.b_c~d-e' "key of ._~-"
dput '.a' '"ok"'
expect_status 201 "a key that starts with a dot"
dput '..a' '"ok"'
expect_status 201 "a key of two dots and a letter"
for raw in 'a%20b' 'a%2Fb' '%2F' 'caf%C3%A9' '%C3%A9' 'a%00b' 'a+b' 'a%2Bb' 'a%3Ab' 'a@b' 'a%25' 'a%' 'a%2' 'a%zz' '%2e' '%2e%2e' '%2E%2E' '.' '..'; do
	call PUT "/api/data/$raw" --path-as-is -H "Authorization: Bearer $TOKEN_A" "${JSON_CT[@]}" --data-binary '"x"'
	expect_fields '{"key":"invalid_format"}' "PUT /api/data/$raw"
	call GET "/api/data/$raw" --path-as-is -H "Authorization: Bearer $TOKEN_A"
	expect_fields '{"key":"invalid_format"}' "GET /api/data/$raw"
done
call DELETE "/api/data/.." --path-as-is -H "Authorization: Bearer $TOKEN_A"
expect_fields '{"key":"invalid_format"}' "DELETE /api/data/.."
call DELETE "/api/data/%2F" -H "Authorization: Bearer $TOKEN_A"
expect_fields '{"key":"invalid_format"}' "DELETE /api/data/%2F"
dput A '"capital a"'
expect_status 201 "PUT A"
dget '%41'
expect_status 200 "%41 decodes to A"
expect_json '.key + "=" + .value' 'A=capital a' "%41 is the same key as A"
dput '%61%2e%7E' '"encoded"'
expect_status 201 "PUT of a percent-encoded key of allowed characters"
expect_json '.key' 'a.~' "percent-encoded key decoded"
dget 'a.~'
expect_json '.value' encoded "the decoded key is the plain key"
dget a
expect_error 404 not_found "keys are case-sensitive (a is not A)"

# ---- value size limit (on the body as sent) ----
s65536="\"$(rep a $((MAX_VALUE - 2)))\""
dput big "$s65536"
expect_status 201 "a body of exactly DATA_MAX_VALUE_BYTES ($MAX_VALUE) bytes"
dget big
expect_json '.value | length' $((MAX_VALUE - 2)) "the largest value comes back whole"
dput big "\"$(rep a $((MAX_VALUE - 1)))\""
expect_error 413 payload_too_large "a body of DATA_MAX_VALUE_BYTES + 1 bytes"
padded="$(rep ' ' 10)\"$(rep a $((MAX_VALUE - 10)))\""
dput big "$padded"
expect_error 413 payload_too_large "a body over the limit whose compact form would fit (the limit is on the body as sent)"
{ printf '"'; head -c $((MAX_VALUE * 2)) /dev/zero | tr '\0' b; printf '"'; } >"$TMP/huge"
dput big-new "@$TMP/huge"
expect_error 413 payload_too_large "a body of twice the limit"
dget big
expect_json '.version' 1 "refused oversized PUTs changed nothing"

# ---- bodies ----
dput bad 'not json'
expect_error 400 invalid_json "PUT of a body that is not JSON"
dput bad '{"a":'
expect_error 400 invalid_json "PUT of truncated JSON"
dput bad '{"a":1} {"b":2}'
expect_error 400 invalid_json "PUT of two JSON values"
dput bad "'single'"
expect_error 400 invalid_json "PUT of single-quoted text"
dput bad 'NaN'
expect_error 400 invalid_json "PUT of NaN"
dput bad '01'
expect_error 400 invalid_json "PUT of a number with a leading zero"
call PUT /api/data/bad -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: text/plain' --data-binary '"x"'
expect_error 415 unsupported_media_type "PUT with Content-Type text/plain"
call PUT /api/data/bad -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/x-www-form-urlencoded' --data-binary 'a=1'
expect_error 415 unsupported_media_type "PUT of a form"
call PUT /api/data/bad -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type:' --data-binary '"x"'
expect_error 415 unsupported_media_type "PUT without a Content-Type"
call PUT /api/data/bad -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/json; charset=latin1' --data-binary '"x"'
expect_error 415 unsupported_media_type "PUT with charset=latin1"
call PUT /api/data/bad -H "Authorization: Bearer $TOKEN_A" -H 'Content-Type: application/json; charset=utf-8' --data-binary '"utf8 ct"'
expect_status 201 "PUT with application/json; charset=utf-8"
call PUT /api/data/empty -H "Authorization: Bearer $TOKEN_A" "${JSON_CT[@]}" -H 'Content-Length: 0'
expect_error 400 invalid_json "PUT with an empty body"
call PUT /api/data/empty -H "Authorization: Bearer $TOKEN_A" "${JSON_CT[@]}" --data-binary '   '
expect_error 400 invalid_json "PUT with a body of whitespace only"
dget empty
expect_error 404 not_found "refused bodies stored nothing"

# ---- the list ----
data_user DataL || exit 1
TOKEN_L=$D_TOKEN D_TOKEN=$TOKEN_A
TOKEN=$TOKEN_L dlist ""
expect_status 200 "list of a user without keys"
expect_eq "$(printf '%s' "$BODY" | jq -c .)" '{"items":[],"next_cursor":null}' "empty list"
expect_api_shape "empty list"
list_keys=(B a _ - '~' 0 Z .x aa a- b)
for k in "${list_keys[@]}"; do
	TOKEN=$TOKEN_L dput "$k" "{\"k\":$(jstr "$k")}"
	[ "$STATUS" = 201 ] || not_ok "setup: PUT $k for the list (status $STATUS)"
done
TOKEN=$TOKEN_L ddel b
expect_status 204 "delete one key of the list"
TOKEN=$TOKEN_L dput B '[1,2]'
want_order=$(printf '%s\n' - .x 0 B Z _ a a- aa '~' | paste -sd' ')
TOKEN=$TOKEN_L dlist ""
expect_status 200 "list"
expect_api_shape "list"
expect_json '.items | map(.key) | join(" ")' "$want_order" "keys ascending by bytes (- . 0 B Z _ a a- aa ~), deleted b absent"
expect_json '.next_cursor' null "next_cursor is null when no key follows"
expect_json 'keys | join(",")' 'items,next_cursor' "list has items and next_cursor only"
expect_json '[.items[] | keys | join(",")] | unique | join(";")' 'key,size,updated_at,version' "each item has key, version, updated_at, size only"
expect_json '.items[] | select(.key == "B") | .version' 2 "list shows the current version"
expect_json '.items[] | select(.key == "B") | .size' 5 "list shows the size ([1,2])"
expect_json '[.items[].updated_at | test("^'"$RFC3339"'$")] | all' true "list updated_at values are RFC 3339 UTC"
# pagination, limit 2: 10 keys, 5 pages; next_cursor null only on the last one
walked=() pages=0 cursor="" nonnull_ok=1
while :; do
	pages=$((pages + 1))
	TOKEN=$TOKEN_L dlist "limit=2${cursor:+&cursor=$cursor}"
	[ "$STATUS" = 200 ] || { not_ok "page $pages (status $STATUS: ${BODY:0:200})"; break; }
	mapfile -t got < <(printf '%s' "$BODY" | jq -r '.items[].key')
	walked+=("${got[@]}")
	cursor=$(printf '%s' "$BODY" | jq -r '.next_cursor // empty')
	[ -z "$cursor" ] && break
	[ "${#got[@]}" = 2 ] || nonnull_ok=0
	[ "$pages" -lt 20 ] || break
done
expect_eq "$(printf '%s\n' "${walked[@]}" | paste -sd' ')" "$want_order" "pages of 2 walk every key exactly once, in order"
expect_eq "$pages" 5 "10 keys in pages of 2 are 5 pages (no empty page after the last)"
expect_eq "$nonnull_ok" 1 "every page with a next_cursor is full"
TOKEN=$TOKEN_L dlist "limit=3"
expect_json '.items | length' 3 "limit=3"
c=$(printf '%s' "$BODY" | jq -r .next_cursor)
TOKEN=$TOKEN_L dlist "limit=1000&cursor=$c"
expect_json '.items | map(.key) | join(" ")' "$(printf '%s\n' B Z _ a a- aa '~' | paste -sd' ')" "a cursor continues after the previous page"
expect_json '.next_cursor' null "the last page's next_cursor"
TOKEN=$TOKEN_L dlist "limit=1"
expect_json '.items | length' 1 "limit=1"
expect_json '.next_cursor | type' string "limit=1: next_cursor is a string"
TOKEN=$TOKEN_L dlist "limit=1000"
expect_json '.items | length' 10 "limit=1000"
for bad in 0 1001 abc 1.5 -1 '' '1e2' '+5' '%201' '99999999999999999999'; do
	TOKEN=$TOKEN_L dlist "limit=$bad"
	expect_fields '{"limit":"invalid_format"}' "limit=$bad"
done
for bad in '!!!' 'a%20b' '====' '%00'; do
	TOKEN=$TOKEN_L dlist "cursor=$bad"
	expect_fields '{"cursor":"invalid_format"}' "cursor=$bad"
done
TOKEN=$TOKEN_L dlist "cursor="
expect_fields '{"cursor":"invalid_format"}' "an empty cursor"

# ---- isolation ----
data_user DataB || exit 1
TOKEN_B=$D_TOKEN D_TOKEN=$TOKEN_A
TOKEN=$TOKEN_B dget A
expect_error 404 not_found "user B cannot GET user A's key"
TOKEN=$TOKEN_B dlist ""
expect_eq "$(printf '%s' "$BODY" | jq -c .)" '{"items":[],"next_cursor":null}' "user B's list is empty"
TOKEN=$TOKEN_B ddel A
expect_error 404 not_found "user B cannot DELETE user A's key"
TOKEN=$TOKEN_B dput A '"B was here"' -H 'If-Match: "1"'
expect_error 412 precondition_failed "user B's If-Match sees no key of A's"
TOKEN=$TOKEN_B dput A '"B was here"'
expect_status 201 "user B's PUT of the same key name creates B's own key"
expect_json '.version' 1 "B's key starts at version 1"
TOKEN=$TOKEN_A dget A
expect_json '.value + " " + (.version | tostring)' 'capital a 1' "user A's value is unchanged"
TOKEN=$TOKEN_B dget A
expect_json '.value' 'B was here' "user B reads B's value"
TOKEN=$TOKEN_L dget A
expect_error 404 not_found "a third user still sees no key A"
TOKEN=$TOKEN_B ddel A
expect_status 204 "user B deletes B's key"
TOKEN=$TOKEN_A dget A
expect_json '.value' 'capital a' "user A's key survives B's delete"

# ---- authentication ----
call GET /api/data/A
expect_error 401 unauthenticated "GET without a token"
call GET /api/data
expect_error 401 unauthenticated "list without a token"
call PUT /api/data/A "${JSON_CT[@]}" --data-binary '"anon"'
expect_error 401 unauthenticated "PUT without a token"
call DELETE /api/data/A
expect_error 401 unauthenticated "DELETE without a token"
call GET /api/data/A -H 'Authorization: Bearer not.a.token'
expect_error 401 unauthenticated "GET with a malformed token"
dget A
expect_json '.value' 'capital a' "unauthenticated writes changed nothing"

# a revoked session's access token no longer reads, even a value every
# process holds in memory (the revocation check rides on the same round trip)
login_bearer "$NAME_A" "$PASS_A" || exit 1
t_rev=$ACCESS r_rev=$REFRESH
burst "$t_rev" A 6 >"$TMP/before-logout"
expect_eq "$(cut -d' ' -f1 "$TMP/before-logout" | sort -u)" 200 "a second session reads the key"
call POST /api/auth/logout -H "Authorization: Bearer $t_rev" "${JSON_CT[@]}" --data-binary "{\"refresh_token\":$(jstr "$r_rev")}"
expect_status 204 "logout of the second session"
burst "$t_rev" A 6 >"$TMP/after-logout"
expect_eq "$(cut -d' ' -f1 "$TMP/after-logout" | sort -u)" 401 "after logout its access token reads nothing (401 on every process)"
call PUT /api/data/A -H "Authorization: Bearer $t_rev" "${JSON_CT[@]}" --data-binary '"revoked"'
expect_error 401 unauthenticated "PUT with a revoked access token"
dget A
expect_json '.value' 'capital a' "the first session still reads, and the value is unchanged"

# cookie transport, with curl's cookie jar
JAR=$TMP/jar
post_json /api/auth/login "{\"username\":$(jstr "$NAME_A"),\"password\":$(jstr "$PASS_A")}" -c "$JAR"
expect_status 200 "cookie login"
remember "$(set_cookie_value __Host-access)" "$(set_cookie_value __Secure-refresh)"
call GET /api/data/A -b "$JAR"
expect_status 200 "GET with the access cookie"
expect_json '.value' 'capital a' "cookie GET reads the user's key"
call PUT /api/data/cookie-key -b "$JAR" "${JSON_CT[@]}" --data-binary '"by cookie"'
expect_status 201 "PUT with the access cookie (no Origin)"
call PUT /api/data/cookie-key -b "$JAR" "${JSON_CT[@]}" --data-binary '"own origin"' -H "Origin: ${BASE%/}"
expect_status 200 "cookie PUT from the server's own origin"
call GET /api/data -b "$JAR"
expect_json '[.items[].key] | index("cookie-key") != null' true "cookie list"
call PUT /api/data/cookie-key -b "$JAR" "${JSON_CT[@]}" --data-binary '"evil"' -H 'Origin: https://evil.example'
expect_error 403 origin_not_allowed "cookie PUT from a foreign Origin"
call PUT /api/data/evil-new -b "$JAR" "${JSON_CT[@]}" --data-binary '"evil"' -H 'Origin: https://evil.example'
expect_error 403 origin_not_allowed "cookie PUT of a new key from a foreign Origin"
call DELETE /api/data/cookie-key -b "$JAR" -H 'Origin: https://evil.example'
expect_error 403 origin_not_allowed "cookie DELETE from a foreign Origin"
call DELETE /api/data/cookie-key -b "$JAR" -H 'Origin: null'
expect_error 403 origin_not_allowed "cookie DELETE from Origin null"
dget cookie-key
expect_json '.value + " " + (.version | tostring)' 'own origin 2' "the refused cross-site writes changed nothing"
dget evil-new
expect_error 404 not_found "the refused cross-site PUT created nothing"
call GET /api/data/cookie-key -b "$JAR" -H 'Origin: https://evil.example'
expect_status 200 "a cookie GET from a foreign Origin is not refused (reads are not cross-site writes)"
dput cookie-key '"bearer from anywhere"' -H 'Origin: https://evil.example'
expect_status 200 "a bearer PUT with a foreign Origin is allowed"
call DELETE /api/data/cookie-key -b "$JAR" -H "Origin: ${BASE%/}"
expect_empty_204 "cookie DELETE from the own origin"

# ---- request ids, methods ----
dget nope -H 'X-Request-Id: data-test.rid_1'
expect_error 404 not_found "an absent key"
expect_json '.error.request_id' 'data-test.rid_1' "the error carries the incoming X-Request-Id"
call POST /api/data/x "${NOBODY[@]}" -H "Authorization: Bearer $TOKEN_A"
expect_error 405 method_not_allowed "POST /api/data/x"
allow=$(header Allow | tr -d ' ' | tr ',' '\n' | sort | paste -sd,)
expect_eq "$allow" "DELETE,GET,HEAD,PUT" "405 Allow lists GET, HEAD, PUT, DELETE"
call PATCH /api/data "${JSON_CT[@]}" --data-binary '{}' -H "Authorization: Bearer $TOKEN_A"
expect_error 405 method_not_allowed "PATCH /api/data"
expect_header Allow '.*GET.*' "PATCH /api/data: Allow lists GET"
call PATCH /api/data/x "${JSON_CT[@]}" --data-binary '{}' -H "Authorization: Bearer $TOKEN_A"
expect_error 405 method_not_allowed "PATCH /api/data/x"
call POST /api/data "${NOBODY[@]}" -H "Authorization: Bearer $TOKEN_A"
expect_error 405 method_not_allowed "POST /api/data"
call DELETE /api/data -H "Authorization: Bearer $TOKEN_A"
expect_error 405 method_not_allowed "DELETE /api/data"
call GET /api/data/a/b -H "Authorization: Bearer $TOKEN_A"
expect_error 404 not_found "GET /api/data/a/b (no such route)"

# ---- quota ----
data_user DataQ || exit 1
TOKEN_Q=$D_TOKEN UID_Q=$D_UID D_TOKEN=$TOKEN_A
n=$((MAX_KEYS - 1))
# straight through data_put(), the function every PUT runs (no HTTP, no cache)
ins=$(psql_q "SELECT count(*) FILTER (WHERE p.status = 'created') FROM generate_series(1, $n) g, LATERAL data_put('$UID_Q', 'k' || g, '1', 1, $MAX_KEYS, NULL, false, NULL, false) p")
expect_eq "$ins" "$n" "setup: $n keys created directly in PostgreSQL"
TOKEN=$TOKEN_Q dput "new-$MAX_KEYS" '"fills the quota"'
expect_status 201 "key number DATA_MAX_KEYS ($MAX_KEYS) is created"
TOKEN=$TOKEN_Q dput "one-too-many" '"over"'
expect_error 403 quota_exceeded "one more new key"
TOKEN=$TOKEN_Q dput "one-too-many" '"over"' -H 'If-None-Match: *'
expect_error 403 quota_exceeded "one more new key with If-None-Match: *"
TOKEN=$TOKEN_Q dget "one-too-many"
expect_error 404 not_found "the refused key was not stored"
TOKEN=$TOKEN_Q dput k1 '"replaced at the quota"'
expect_status 200 "replacing an existing key at the quota"
expect_json '.version' 2 "replace at the quota"
TOKEN=$TOKEN_Q dlist ""
expect_json '.items | length' 100 "the list's default limit is 100"
expect_json '.next_cursor | type' string "... with a next_cursor"
TOKEN=$TOKEN_Q dlist "limit=1000"
expect_json '.items | length' "$MAX_KEYS" "limit=1000 lists all $MAX_KEYS keys"
expect_json '.next_cursor' null "... and next_cursor is null"
expect_json '[.items[].key] == ([.items[].key] | sort)' true "1000 keys in byte order (k1, k10, k100, ...)"
TOKEN=$TOKEN_Q ddel k2
expect_empty_204 "DELETE at the quota"
TOKEN=$TOKEN_Q dput "fits-again" '"after a delete"'
expect_status 201 "after a DELETE a new key fits again"
TOKEN=$TOKEN_Q dput "over-again" '"over"'
expect_error 403 quota_exceeded "and then the quota holds again"
TOKEN=$TOKEN_Q dput k2 '"back"'
expect_error 403 quota_exceeded "re-creating a deleted key counts as a new key"
TOKEN=$TOKEN_A dput "other-user-unaffected" '1'
expect_status 201 "another user is not affected by this user's quota"

auth_finish
