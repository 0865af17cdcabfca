#!/usr/bin/env bash
# Process metrics per responder and the build: GET /metrics (over HTTPS
# from loopback, through the web server under test) against what /proc
# says of this stack's responder processes, read around the scrape.
#
#  - process_resident_memory_bytes, process_open_fds and
#    portcullis_responder_processes add up every process of a responder;
#    process_cpu_seconds_total is at least their CPU time so far;
#    process_start_time_seconds is the start of the oldest one, and is
#    absent for a responder with no process;
#  - process_cpu_seconds_total does not go back when the web server stops
#    its responders cleanly and starts new ones (the stopped ones' CPU is
#    kept in the shared file);
#  - portcullis_build_info{version,commit} is 1 with the Makefile's version
#    and the commit git names (what `make` baked in);
#  - the body passes `promtool check metrics`.
source "$(dirname "$0")/lib.sh"

export VAR_DIR=${VAR_DIR:-$ROOT/var/test}
STACK=$ROOT/scripts/stack.sh
RESPONDERS=(health register login session data metrics)
TICKS=$(getconf CLK_TCK)
PAGE=$(getconf PAGESIZE)
BTIME=$(awk '$1 == "btime" { print $2 }' /proc/stat)

# proc_sum NAME FIELD - over NAME's processes: cpu (seconds), rss (bytes), fds, start (oldest, Unix s), n.
proc_sum() {
	local pid total=0 v
	case "$2" in
	n) stack_pids "$1" | wc -l; return ;;
	start)
		for pid in $(stack_pids "$1"); do
			v=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $20 }')
			[ -n "$v" ] && { [ "$total" = 0 ] || [ "$v" -lt "$total" ]; } && total=$v
		done
		[ "$total" = 0 ] && { echo 0; return; }
		awk -v b="$BTIME" -v s="$total" -v t="$TICKS" 'BEGIN { printf "%.2f\n", b + s / t }'
		return
		;;
	esac
	for pid in $(stack_pids "$1"); do
		case "$2" in
		cpu) v=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }') ;;
		rss) v=$(awk -v p="$PAGE" '{ print $2 * p }' "/proc/$pid/statm" 2>/dev/null) ;;
		fds) v=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) ;;
		esac
		total=$((total + ${v:-0}))
	done
	if [ "$2" = cpu ]; then awk -v c="$total" -v t="$TICKS" 'BEGIN { printf "%.2f\n", c / t }'; else echo "$total"; fi
}
scrape() {
	curl -sk --max-time 10 -o "$TMP/scrape" -w '%{http_code}' "$BASE/metrics"
}
metric() {
	awk -v s="$1" 'index($0, s " ") == 1 { v = $2 } END { print (v == "" ? "absent" : v) }' "$TMP/scrape"
}
# within GOT WANT LOW HIGH - GOT between WANT*LOW and WANT*HIGH (numbers).
within() { awk -v g="$1" -v w="$2" -v l="$3" -v h="$4" 'BEGIN { exit !(g >= w * l && g <= w * h) }'; }

# Traffic so each responder has run (mod_fcgid starts them on demand) and
# has used some CPU.
for i in $(seq 1 40); do
	curl -sk -o /dev/null "$BASE/api/health"
	curl -sk -o /dev/null -X POST -H 'Content-Type: application/json' -d '{' "$BASE/api/auth/register"
	curl -sk -o /dev/null -X POST -H 'Content-Type: application/json' -d '{' "$BASE/api/auth/login"
	curl -sk -o /dev/null "$BASE/api/me"
	curl -sk -o /dev/null "$BASE/api/data"
	curl -sk -o /dev/null "$BASE/metrics"
done

declare -A CPU0 N0
for r in "${RESPONDERS[@]}"; do
	CPU0[$r]=$(proc_sum "$r" cpu)
	N0[$r]=$(proc_sum "$r" n)
done
expect_eq "$(scrape)" 200 "GET /metrics from loopback"
for r in "${RESPONDERS[@]}"; do
	n=$(proc_sum "$r" n) rss=$(proc_sum "$r" rss) fds=$(proc_sum "$r" fds) start=$(proc_sum "$r" start)
	cpu1=$(proc_sum "$r" cpu)
	m_n=$(metric "portcullis_responder_processes{responder=\"$r\"}")
	m_rss=$(metric "process_resident_memory_bytes{responder=\"$r\"}")
	m_fds=$(metric "process_open_fds{responder=\"$r\"}")
	m_cpu=$(metric "process_cpu_seconds_total{responder=\"$r\"}")
	m_start=$(metric "process_start_time_seconds{responder=\"$r\"}")
	if [ "$n" != "${N0[$r]}" ]; then
		echo "# $r: its processes changed during the scrape (${N0[$r]} -> $n); not compared"
		continue
	fi
	expect_eq "$m_n" "$n" "$r: portcullis_responder_processes counts its $n processes"
	if [ "$n" = 0 ]; then
		expect_eq "$m_rss $m_fds $m_start" "0 0 absent" "$r: no process, so no memory, no descriptor, no start time"
		continue
	fi
	if within "$m_rss" "$rss" 0.8 1.25; then ok "$r: process_resident_memory_bytes adds up its $n processes ($m_rss vs /proc $rss)"; else
		not_ok "$r: process_resident_memory_bytes $m_rss, /proc says $rss over $n processes"; fi
	if awk -v g="$m_fds" -v w="$fds" -v n="$n" 'BEGIN { exit !(g >= w - 2 * n && g <= w + 2 * n) }'; then
		ok "$r: process_open_fds adds up its $n processes ($m_fds vs /proc $fds)"
	else
		not_ok "$r: process_open_fds $m_fds, /proc says $fds over $n processes"
	fi
	if awk -v g="$m_cpu" -v lo="${CPU0[$r]}" 'BEGIN { exit !(g + 0.011 >= lo) }'; then
		ok "$r: process_cpu_seconds_total covers its processes' CPU ($m_cpu >= /proc ${CPU0[$r]})"
	else
		not_ok "$r: process_cpu_seconds_total $m_cpu, less than /proc's ${CPU0[$r]} (after: $cpu1)"
	fi
	if awk -v g="$m_start" -v w="$start" 'BEGIN { d = g - w; exit !(d <= 1.05 && d >= -1.05) }'; then
		ok "$r: process_start_time_seconds is its oldest process' start ($m_start vs $start)"
	else
		not_ok "$r: process_start_time_seconds $m_start, /proc's oldest process started at $start"
	fi
done
expect_eq "$(metric 'process_resident_memory_bytes{responder="other"}')" 0 "no process counts as responder=\"other\""

if out=$(promtool check metrics <"$TMP/scrape" 2>&1); then ok "promtool check metrics: the body with the process series passes"; else
	not_ok "promtool check metrics: $(printf '%s' "$out" | head -n 5)"; fi

version=$(sed -n 's/^VERSION *?= *//p' "$ROOT/Makefile")
commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# (the commit is the binary's only 12-hex-digit string; "unknown" appears
# in other strings too, so it counts only when there is no commit)
built=$(strings "$ROOT/cgi-bin/metrics" | grep -xE '[0-9a-f]{12}' | head -n1)
[ -n "$built" ] || built=unknown
line=$(grep '^portcullis_build_info{' "$TMP/scrape")
expect_eq "$line" "portcullis_build_info{version=\"$version\",commit=\"$built\"} 1" \
	"portcullis_build_info names the Makefile's version and the commit baked into the binaries"
if [ "$built" = "$commit" ] || [ -n "$(git -C "$ROOT" status --porcelain -- lib src Makefile 2>/dev/null)" ]; then
	ok "the baked commit is git's HEAD ($built) when the build is of it"
else
	# A binary built at an older commit: rebuilt by `make`, it must say HEAD.
	not_ok "cgi-bin/metrics says commit $built, git HEAD is $commit (was make run after the last commit?)"
fi

# Responders stopped cleanly keep their CPU in the total.
before=0
for r in "${RESPONDERS[@]}"; do
	v=$(metric "process_cpu_seconds_total{responder=\"$r\"}")
	before=$(awk -v a="$before" -v b="$v" 'BEGIN { print a + b }')
done
"$STACK" stop web >"$TMP/web.log" 2>&1
"$STACK" start web >>"$TMP/web.log" 2>&1 || not_ok "the web server restarts: $(tail -n 3 "$TMP/web.log")"
curl -sk -o /dev/null "$BASE/api/health"
scrape >/dev/null
after=0
for r in "${RESPONDERS[@]}"; do
	v=$(metric "process_cpu_seconds_total{responder=\"$r\"}")
	after=$(awk -v a="$after" -v b="$v" 'BEGIN { print a + b }')
done
if awk -v a="$after" -v b="$before" 'BEGIN { exit !(a + 0.011 >= b) }'; then
	ok "process_cpu_seconds_total does not go back over a restart of the responders ($before -> $after)"
else
	not_ok "process_cpu_seconds_total went back from $before to $after over a restart"
fi
