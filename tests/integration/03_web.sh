#!/usr/bin/env bash
# What the web server adds: HTTP redirects to HTTPS (301 for GET/HEAD, 308
# otherwise), HSTS and nosniff on HTTPS answers.
source "$(dirname "$0")/lib.sh"

call_url GET "$HTTP_BASE/api/health?a=1"
expect_status 301 "GET over HTTP redirects"
expect_header Location "https://localhost:${HTTPS_PORT}/api/health\\?a=1" "the redirect keeps path and query"
call_url HEAD "$HTTP_BASE/api/health"
expect_status 301 "HEAD over HTTP redirects"
for m in POST PUT DELETE; do
	call_url "$m" "$HTTP_BASE/api/data/k" -H 'Content-Type: application/json' --data '1'
	expect_status 308 "$m over HTTP redirects with 308"
	expect_header Location "https://localhost:${HTTPS_PORT}/api/data/k" "$m redirect target"
done

call GET /api/health
expect_header Strict-Transport-Security 'max-age=[0-9]+.*' "HSTS on HTTPS"
expect_header X-Content-Type-Options 'nosniff' "nosniff on HTTPS"
call GET /api/nope
expect_header X-Content-Type-Options 'nosniff' "nosniff on errors too"
