#!/usr/bin/env bash
# shellcheck over the scripts: every scripts/*.sh and ops/*.sh, following
# what they source (-x), so scripts/lib/*.sh is checked as stack.sh and
# install.sh use it.  One line per script.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

if ! command -v shellcheck >/dev/null; then
	not_ok "shellcheck is installed (scripts/install-deps.sh test)"
	exit 0
fi
for f in scripts/*.sh ops/*.sh; do
	if out=$(shellcheck -x "$f" 2>&1); then ok "shellcheck $f"; else
		not_ok "shellcheck $f: $(printf '%s' "$out" | grep -E '^In |SC[0-9]+' | head -n 4 | tr '\n' ' ')"
	fi
done
# Every library file is checked through a script that sources it (a
# `# shellcheck source=lib/NAME.sh` directive there), or on its own.
for f in scripts/lib/*.sh; do
	if grep -q "^# shellcheck source=lib/$(basename "$f")\$" scripts/*.sh; then
		ok "shellcheck -x reaches $f through the script that sources it"
	elif out=$(shellcheck -x "$f" 2>&1); then
		ok "shellcheck $f"
	else
		not_ok "shellcheck $f: $(printf '%s' "$out" | grep -E 'SC[0-9]+' | head -n 2 | tr '\n' ' ')"
	fi
done
