#!/usr/bin/env bash
# API_DOCS: /api/docs is openapi.yaml, served by the web server as a static
# file, only when API_DOCS=on.  Off (the default, as the stack runs): the
# JSON 404 of any unknown /api/ path.  On (the web server restarted with
# it): 200 application/yaml with exactly openapi.yaml's bytes, HEAD too,
# the HTTPS headers kept; every other path as before.
source "$(dirname "$0")/lib.sh"

export VAR_DIR=${VAR_DIR:-$ROOT/var/test}
STACK=$ROOT/scripts/stack.sh
web_changed=0
cleanup() {
	if [ "$web_changed" = 1 ]; then
		"$STACK" stop web >/dev/null 2>&1
		"$STACK" start web >/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

call GET /api/docs
expect_eq "$STATUS $(printf '%s' "$BODY" | jq -r '.error.code' 2>/dev/null)" "404 not_found" \
	"API_DOCS off (the default): /api/docs is the JSON 404"

web_changed=1
"$STACK" stop web >"$TMP/web.log" 2>&1
if API_DOCS=on "$STACK" start web >>"$TMP/web.log" 2>&1; then
	ok "the web server starts with API_DOCS=on"
else
	not_ok "the web server starts with API_DOCS=on: $(tail -n 5 "$TMP/web.log")"
	exit 0
fi
call GET /api/docs
expect_eq "$STATUS" 200 "API_DOCS=on: GET /api/docs is 200"
expect_header Content-Type 'application/yaml(; ?charset=utf-8)?' "API_DOCS=on: as application/yaml"
if cmp -s "$TMP/body" "$ROOT/openapi.yaml"; then ok "API_DOCS=on: the body is openapi.yaml, byte for byte"; else
	not_ok "API_DOCS=on: the body differs from openapi.yaml ($(wc -c <"$TMP/body") bytes)"; fi
expect_header Strict-Transport-Security 'max-age=31536000; includeSubDomains' "API_DOCS=on: HSTS on /api/docs"
expect_header X-Content-Type-Options nosniff "API_DOCS=on: nosniff on /api/docs"
call HEAD /api/docs
expect_eq "$STATUS" 200 "API_DOCS=on: HEAD /api/docs is 200"
call GET /api/docs/x
expect_eq "$STATUS $(printf '%s' "$BODY" | jq -r '.error.code' 2>/dev/null)" "404 not_found" \
	"API_DOCS=on: /api/docs/x is still the JSON 404"
call GET /api/health
expect_eq "$STATUS" 200 "API_DOCS=on: /api/health answers as before"
