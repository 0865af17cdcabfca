#!/usr/bin/env bash
# JSON 404 and 405 for anything under /api that is not a route, through
# the one error envelope.
source "$(dirname "$0")/lib.sh"

for path in /api/nope /api/ /api /api/health/extra /api/healthz /api/HEALTH \
	'/api/data%2F..%2Fx' '/api/auth/nothing'; do
	call GET "$path"
	expect_error 404 not_found "GET $path"
done

long=$(printf 'x%.0s' $(seq 3000))
call GET "/api/$long"
expect_error 404 not_found "a 3000-character path"

call POST /api/health -H 'Content-Type: application/json' --data '{}'
expect_error 405 method_not_allowed "POST /api/health"
expect_header Allow 'GET, HEAD' "405 lists the allowed methods"
call DELETE /api/ready
expect_error 405 method_not_allowed "DELETE /api/ready"
expect_header Allow 'GET, HEAD' "405 on /api/ready lists the allowed methods"
call PUT /api/health --data 'x'
expect_error 405 method_not_allowed "PUT with a non-JSON body to a GET-only route"

call GET /api/nope -H 'X-Request-Id: my-trace-1'
expect_json '.error.request_id' 'my-trace-1' "the envelope carries the echoed request id"
