#!/usr/bin/env bash
# Field names are exact bytes: a member whose name holds an escaped NUL
# ("password\u0000") is another field, never the one it starts like, so the
# real field is missing (422 required) on register, login and password
# change, and nothing is stored or changed.  A parser that cut the name at
# the NUL once let "password\u0000" through as an empty password (and
# "username\u0000" was a 500).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

R=/api/auth/register L=/api/auth/login P=/api/auth/password
name=$(uniq_name Exact)
pw=$(uniq_password)
pw2=$(uniq_password)

# ---- register ----
post_json $R "{\"username\":$(jstr "$name"),\"password\\u0000\":$(jstr "$pw")}"
expect_fields '{"password":"required"}' "register with \"password\\u0000\" lacks password"
post_json $R "{\"username\\u0000\":$(jstr "$name"),\"password\":$(jstr "$pw")}"
expect_fields '{"username":"required"}' "register with \"username\\u0000\" lacks username (not a 500)"
post_json $R "{\"\\u0000username\":$(jstr "$name"),\"password\\u0000x\":$(jstr "$pw")}"
expect_fields '{"username":"required","password":"required"}' "a NUL anywhere in a name makes it another name"
post_json $L "{\"username\":$(jstr "$name"),\"password\":\"\",\"token_transport\":\"bearer\"}"
expect_error 401 invalid_credentials "no account with an empty password was made"
expect_eq "$(psql_q "SELECT count(*) FROM users WHERE lower(username) = lower('$name')")" 0 \
	"the refused registrations stored nothing"

# the real field after a NUL-named one counts (and the NUL-named one is ignored)
post_json $R "{\"username\":$(jstr "$name"),\"password\\u0000\":\"x\",\"password\":$(jstr "$pw")}"
expect_status 201 "register with \"password\\u0000\" beside the real password"

# ---- login ----
post_json $L "{\"username\":$(jstr "$name"),\"password\\u0000\":$(jstr "$pw")}"
expect_fields '{"password":"required"}' "login with \"password\\u0000\" lacks password"
post_json $L "{\"username\\u0000\":$(jstr "$name"),\"password\":$(jstr "$pw")}"
expect_fields '{"username":"required"}' "login with \"username\\u0000\" lacks username"
post_json $L "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw"),\"token_transport\\u0000\":\"nonsense\"}"
expect_status 200 "an unknown NUL-named member beside a valid login is ignored"
login_bearer "$name" "$pw" || exit 0
access=$ACCESS

# ---- password change ----
post_json $P "{\"current_password\":$(jstr "$pw"),\"new_password\\u0000\":$(jstr "$pw2")}" \
	-H "Authorization: Bearer $access"
expect_fields '{"new_password":"required"}' "password change with \"new_password\\u0000\" lacks new_password"
post_json $P "{\"current_password\\u0000\":$(jstr "$pw"),\"new_password\":$(jstr "$pw2")}" \
	-H "Authorization: Bearer $access"
expect_fields '{"current_password":"required"}' "password change with \"current_password\\u0000\" lacks current_password"
expect_eq "$(me_status "$access")" 200 "the refused changes revoked nothing"
post_json $L "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw"),\"token_transport\":\"bearer\"}"
expect_status 200 "the password is unchanged after the refused changes"
post_json $L "{\"username\":$(jstr "$name"),\"password\":\"\",\"token_transport\":\"bearer\"}"
expect_error 401 invalid_credentials "the password did not become empty"
