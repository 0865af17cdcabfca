#!/usr/bin/env bash
# openapi.yaml through @redocly/cli lint (tests/static/package-lock.json)
# with redocly.yaml: the recommended rules, and not one warning or error
# beyond the findings .redocly.lint-ignore.yaml keeps with their reasons.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

if ! msg=$(npm_tools); then
	not_ok "the npm tools of tests/static install (npm ci): $msg"
	exit 0
fi
redocly=$ROOT/tests/static/node_modules/.bin/redocly
ver=$("$redocly" --version 2>/dev/null)
if out=$(REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$redocly" lint --format=stylish 2>&1); then
	status=0
else
	status=$?
fi
if [ "$status" -eq 0 ]; then ok "redocly $ver lint openapi.yaml passes"; else
	not_ok "redocly $ver lint openapi.yaml: $(printf '%s' "$out" | grep -E 'error|warning' | head -n 5)"; fi
if printf '%s' "$out" | grep -qiE '[0-9]+ warnings?|warning '; then
	not_ok "redocly lint: no warning ($(printf '%s' "$out" | grep -iE 'warning' | head -n 3))"
else
	ok "redocly lint: no warning"
fi
