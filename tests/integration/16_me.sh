#!/usr/bin/env bash
# GET /api/me: 200 {"user"} exactly as registered, by cookie or bearer;
# 401 without a token; 405 with Allow (GET, HEAD, DELETE) for other methods.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

name=$(uniq_name MiXeD.Case-Me_)
pw=$(uniq_password)
register "$name" "$pw"
user=$USER_JSON

login_bearer "$(printf '%s' "$name" | tr 'A-Z' 'a-z')" "$pw"
ba=$ACCESS
call GET /api/me -H "Authorization: Bearer $ba"
expect_status 200 "GET /api/me (bearer)"
expect_api_shape "GET /api/me"
expect_json 'keys | join(",")' user "the body has only user"
expect_json '.user | keys | join(",")' 'created_at,id,username' "the user has id, username, created_at only"
expect_user "$user" "GET /api/me is the user exactly as registered"
expect_json '.user.username' "$name" "the username keeps its original case (logged in in lower case)"
expect_no_set_cookie "GET /api/me"
get_length=$(header Content-Length)

login_cookie "$name" "$pw"
ca=$ACCESS
call GET /api/me -H "Cookie: __Host-access=$ca"
expect_status 200 "GET /api/me (cookie)"
expect_api_shape "GET /api/me by cookie"
expect_user "$user" "GET /api/me by cookie"

# twice more: whatever cache answers, the same user
for i in 1 2; do
	call GET /api/me -H "Authorization: Bearer $ba"
	expect_user "$user" "GET /api/me again ($i)"
done

# another user sees only themself
other=$(uniq_name other)
register "$other" "$pw"
other_user=$USER_JSON
login_bearer "$other" "$pw"
call GET /api/me -H "Authorization: Bearer $ACCESS"
expect_user "$other_user" "another user's token answers that user"

call HEAD /api/me -H "Authorization: Bearer $ba"
expect_status 200 "HEAD /api/me"
expect_header Content-Length "$get_length" "HEAD /api/me announces the GET length"

call GET /api/me
expect_error 401 unauthenticated "GET /api/me without a token"
expect_no_set_cookie "GET /api/me without a token"
call GET /api/me -H 'Authorization: Bearer nope'
expect_error 401 unauthenticated "GET /api/me with a bad token"
call GET /api/me -H "X-Request-Id: me-trace-1"
expect_json '.error.request_id' 'me-trace-1' "the 401 carries the echoed request id"

for m in POST PUT PATCH; do # DELETE deletes the account (22_delete_me.sh)
	call "$m" /api/me -H "Authorization: Bearer $ba" "${JSON_CT[@]}" --data-binary '{}'
	expect_error 405 method_not_allowed "$m /api/me"
	expect_header Allow 'GET, HEAD, DELETE' "$m /api/me lists the allowed methods"
done
call POST /api/me "${NOBODY[@]}"
expect_error 405 method_not_allowed "POST /api/me without a body or token"
expect_header Allow 'GET, HEAD, DELETE' "POST /api/me without a body lists the allowed methods"

call GET /api/me/ -H "Authorization: Bearer $ba"
expect_error 404 not_found "GET /api/me/ (trailing slash) is another path"
call GET /api/me/x -H "Authorization: Bearer $ba"
expect_error 404 not_found "GET /api/me/x"

auth_finish
