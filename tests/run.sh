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
# 2. The libFuzzer harnesses of build/fuzz/ (`make fuzz`, tests/fuzz/): each
#    replays its committed corpus (seeds and kept crash inputs), then fuzzes
#    for FUZZ_SECONDS (default 12) from a scratch copy, FUZZ_JOBS (default 2)
#    at a time; a crash, leak or sanitizer report is a "not ok" line.
# 3. The integration suite (tests/integration/run.sh): a private stack of
#    its own (PostgreSQL, Redis, lighttpd with the responders) on test ports
#    under var/test, driven with curl over HTTPS, stopped at the end.  Its
#    lighttpd pass runs the responders built with ASan + UBSan
#    (build/san/cgi-bin, `make san-responders`); a report of theirs fails it.
# 4. The cluster test (tests/cluster/run.sh): two web hosts in network
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

# fuzz_one BIN OUT - the corpus replay and the bounded run of harness BIN,
# as TAP lines on stdout; the libFuzzer output goes to OUT.*.
fuzz_one() {
	local bin=$1 out=$2 name=${1##*/} corpus work status execs crash
	corpus=tests/fuzz/corpus/$name
	work=build/fuzz-run/$name
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/crashes" "$corpus"
	timeout 300 "$bin" -runs=0 "$corpus" >"$out.replay" 2>&1
	status=$?
	if [ "$status" -eq 0 ]; then
		echo "ok - fuzz $name: the $(find "$corpus" -type f | wc -l) inputs of $corpus run clean"
	else
		echo "not ok - fuzz $name: replaying $corpus (status $status, see $out.replay)"
		grep -E 'ERROR|SUMMARY|assertion|runtime error' "$out.replay" | head -n 5 | sed 's/^/#   /'
	fi
	timeout $((FUZZ_SECONDS + 120)) "$bin" -max_total_time="$FUZZ_SECONDS" -max_len=4096 \
		-print_final_stats=1 -artifact_prefix="$work/crashes/" \
		"$work/corpus" "$corpus" >"$out" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out")
	crash=$(find "$work/crashes" -type f | head -n 1)
	if [ "$status" -eq 0 ] && [ -z "$crash" ]; then
		echo "ok - fuzz $name: ${execs:-?} executions in ${FUZZ_SECONDS} s, no crash, leak or sanitizer report"
	else
		echo "not ok - fuzz $name: status $status${crash:+, input kept in $crash} (see $out)"
		grep -E 'ERROR|SUMMARY|assertion|runtime error' "$out" | head -n 5 | sed 's/^/#   /'
	fi
}

# run_fuzz - every harness, FUZZ_JOBS (default 2, one a core) at a time.
run_fuzz() {
	local bin out running=0 bins=()
	for bin in build/fuzz/*; do
		[ -f "$bin" ] && [ -x "$bin" ] && bins+=("$bin")
	done
	echo "# fuzz: ${#bins[@]} harnesses, ${FUZZ_SECONDS} s each, ${FUZZ_JOBS} at a time"
	for bin in "${bins[@]}"; do
		if [ "$running" -ge "$FUZZ_JOBS" ]; then
			wait -n
			running=$((running - 1))
		fi
		out=$log_dir/fuzz_${bin##*/}.out
		ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			fuzz_one "$bin" "$out" >"$out.tap" &
		running=$((running + 1))
	done
	wait
	for bin in "${bins[@]}"; do
		out=$log_dir/fuzz_${bin##*/}.out
		echo "# fuzz: ${bin##*/}"
		grep -E '^(not ok|#   )' "$out.tap" || true
		count "$out.tap" 0 "fuzz ${bin##*/}"
	done
}

run_integration() {
	local out=$log_dir/integration.out status
	echo "# integration: tests/integration/run.sh"
	TEST_SAN_CGI_DIR=${TEST_SAN_CGI_DIR-build/san/cgi-bin} \
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

FUZZ_SECONDS=${FUZZ_SECONDS:-12}
FUZZ_JOBS=${FUZZ_JOBS:-2}
case "${1-}" in
unit)
	run_unit
	run_static quick
	;;
check) run_static all ;;
*)
	run_static all
	run_unit
	run_fuzz
	run_integration
	run_cluster
	;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
