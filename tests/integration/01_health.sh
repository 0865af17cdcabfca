#!/usr/bin/env bash
# GET /api/health and the shape every /api response shares: JSON content
# type, Cache-Control: no-store, X-Request-Id made or echoed.
source "$(dirname "$0")/lib.sh"

call GET /api/health
expect_status 200 "health"
expect_json '.status' 'ok' "health"
expect_json 'keys | join(",")' 'status' "health has only status"
expect_api_shape "health"
expect_header X-Request-Id '[0-9a-f]{32}' "a request id is made when none is sent"
first_id=$(header X-Request-Id)
call GET /api/health
if [ "$(header X-Request-Id)" != "$first_id" ]; then ok "each request gets its own id"; else not_ok "request ids repeat"; fi

call GET /api/health -H 'X-Request-Id: trace.ABC_123-x'
expect_header X-Request-Id 'trace\.ABC_123-x' "a well-formed X-Request-Id is echoed"
long64=$(printf 'a%.0s' $(seq 64))
call GET /api/health -H "X-Request-Id: $long64"
expect_header X-Request-Id "$long64" "a 64-character X-Request-Id is echoed"
for bad in "$long64"b 'has space' 'slash/y' 'semi;colon' 'ünï'; do
	call GET /api/health -H "X-Request-Id: $bad"
	expect_header X-Request-Id '[0-9a-f]{32}' "a malformed X-Request-Id ('${bad:0:12}') is replaced"
done

call GET /api/health
get_length=$(header Content-Length)
call HEAD /api/health
expect_status 200 "HEAD /api/health"
expect_header Content-Length "$get_length" "HEAD announces the length of the GET body"
expect_header Content-Type 'application/json; charset=utf-8' "HEAD has the GET headers"

call GET '/api/health?x=1&y'
expect_status 200 "a query string does not change the route"
