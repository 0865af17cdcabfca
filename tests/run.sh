#!/usr/bin/env bash
# tests/run.sh [unit|check] - runs every test and prints the one summary
# line "N passed, N failed".  Called by `make test` after the build; `make
# unit` runs `tests/run.sh unit` (the unit tests and the static checks that
# need nothing from npm), `make check` runs `tests/run.sh check` (every
# static check with the real tools).
#
# 0. Static checks (tests/static/[0-9]*.sh): no stack; those named *_npm.sh
#    use tools installed from tests/static/package-lock.json.
# 1. C unit tests of lib/, built plain (build/test/) and with ASan + UBSan
#    (build/san/); every "ok"/"not ok" line they print counts.
# 2. The integration suite (tests/integration/run.sh): a private stack of
#    its own (PostgreSQL, Redis, lighttpd with the responders) on test ports
#    under var/test, driven with curl over HTTPS, stopped at the end.
# 3. The cluster test (tests/cluster/run.sh): two web hosts in network
#    namespaces, PgBouncer, Redis with Sentinel, a failover.
#
# A test program that crashes or exits non-zero without a "not ok" line
# counts as one failure, so a sanitizer abort can never pass silently.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

passed=0
failed=0
log_dir=build/test-logs
mkdir -p "$log_dir"

# count FILE STATUS NAME - adds the ok / not ok lines of FILE to the totals.
count() {
	local file=$1 status=$2 name=$3 ok bad
	ok=$(grep -c '^ok ' "$file")
	bad=$(grep -c '^not ok ' "$file")
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		echo "not ok - $name exited with status $status"
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
}

run_unit() {
	local bin name out status
	for bin in build/test/test_* build/san/test_*; do
		[ -x "$bin" ] || continue
		name=${bin#build/}
		out=$log_dir/${name//\//_}.out
		echo "# unit: $name"
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
			timeout 120 "$bin" >"$out" 2>&1
		status=$?
		grep -E '^(not ok|#   )' "$out" || true
		[ "$status" -eq 0 ] || tail -n 30 "$out"
		count "$out" "$status" "$name"
	done
}

run_static() {
	local t name out status quick=$1
	for t in tests/static/[0-9]*.sh; do
		[ "$quick" = quick ] && [[ $t == *_npm.sh ]] && continue
		name=static_$(basename "$t" .sh)
		out=$log_dir/$name.out
		echo "# static: $t"
		timeout 600 bash "$t" >"$out" 2>&1
		status=$?
		grep -E '^not ok' "$out" || true
		count "$out" "$status" "$t"
	done
}

run_integration() {
	local out=$log_dir/integration.out status
	echo "# integration: tests/integration/run.sh"
	timeout 1800 tests/integration/run.sh 2>&1 | tee "$out" | grep -E '^(not ok|# )'
	status=${PIPESTATUS[0]}
	count "$out" "$status" "integration suite"
}

# Two web hosts in network namespaces over PgBouncer and Redis with
# Sentinel, through a failover (tests/cluster/run.sh; bounded, cleans up).
run_cluster() {
	local out=$log_dir/cluster.out status
	echo "# cluster: tests/cluster/run.sh"
	timeout 240 tests/cluster/run.sh 2>&1 | tee "$out" | grep -E '^(not ok|# )'
	status=${PIPESTATUS[0]}
	count "$out" "$status" "cluster test"
}

case "${1-}" in
unit)
	run_unit
	run_static quick
	;;
check) run_static all ;;
*)
	run_static all
	run_unit
	run_integration
	run_cluster
	;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
