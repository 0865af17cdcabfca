# shellcheck shell=bash
# tests/static/lib.sh - what every static check sources: no stack, no
# server; "ok - ..." / "not ok - ..." lines for tests/run.sh to count.
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
expect_eq() {
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3 (got '$1', want '$2')"; fi
}

# npm_tools - installs tests/static/'s pinned tools (npm ci from the lock
# file) once; fails with a message when npm or the registry is missing.
npm_tools() {
	local dir=$ROOT/tests/static
	if [ -x "$dir/node_modules/.bin/redocly" ] && [ -d "$dir/node_modules/ajv" ] &&
		[ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
		return 0
	fi
	command -v npm >/dev/null || { echo "npm is not installed (scripts/install-deps.sh test)"; return 1; }
	(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$TMP/npm.log" 2>&1) ||
		{ tail -n 5 "$TMP/npm.log"; return 1; }
}
