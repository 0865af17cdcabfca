#!/usr/bin/env bash
# scripts/bench.sh - `make bench`: a benchmark of the local stack, never a
# test.  It starts the stack (scripts/stack.sh up) under $VAR_DIR with a
# bench configuration: rate limits and the failed-login limit so high they
# never reject (but still run: the GCRA script is evaluated on every
# request), BCRYPT_COST=10, a day-long access token, a key quota that
# `create` cannot reach.  Beside it, on ports of its own, runs the ceiling:
# the same web server from the same templates and scripts, with the same
# process count per responder, but every responder replaced by
# bench/ceiling.c, a libfcgi responder that answers 200 and does nothing.
# Each scenario runs against the ceiling and then against portcullis, one
# after the other, each after a warm-up, with the same wrk script, so a
# ratio compares two figures taken a few seconds apart on the same machine.
#
# Scenarios (bench/<name>.lua, wrk over HTTPS keep-alive):
#   health    GET /api/health
#   me        GET /api/me, bearer token of user after user
#   get-hot   GET /api/data/hot, one user's one key
#   get-many  GET /api/data/item of a random one of BENCH_USERS users (warm cache)
#   put-hot   PUT, one user, 32 existing keys replaced in turn
#   put-many  PUT, a random user, 4 existing keys each replaced
#   create    PUT of a new key each time, a random user
#   refresh   POST /api/auth/refresh, bearer mode, each session rotated in turn
#   login     POST /api/auth/login, bearer, right password (one bcrypt)
# Then: the raw bcrypt rate of every core at BCRYPT_COST (bench/bcrypt-rate.c)
# and the PSS of every process of the app (web server, its helpers and the
# responders; PostgreSQL and Redis listed apart), at the start and the end.
#
# Knobs (environment): BENCH_SECONDS (8) per measured run, BENCH_WARMUP (2),
# BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_SCENARIOS (all, in the
# order above), BENCH_USERS (1000), BENCH_KEEP=1 leaves both stacks running;
# WEB_SERVER, APACHE_MODE, FCGI_PROCS, FCGI_PROCS_<NAME> as for `make up`;
# VAR_DIR (var/bench), HTTP_PORT (24080), HTTPS_PORT (24443), PG_PORT
# (24432), REDIS_PORT (24379); the ceiling's server: BENCH_CEILING_HTTP_PORT
# (24580), BENCH_CEILING_HTTPS_PORT (24543).  The users (bench0000...) and
# their tokens are kept in $VAR_DIR between runs and made again when the
# tokens no longer work.  The table goes to stdout and to
# $VAR_DIR/bench/results-<time>.txt.
set -euo pipefail
umask 077

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}
say() { printf '%s\n' "$*" >&2; }

BENCH_SECONDS=${BENCH_SECONDS:-8}
BENCH_WARMUP=${BENCH_WARMUP:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_USERS=${BENCH_USERS:-1000}
BENCH_SCENARIOS=${BENCH_SCENARIOS:-health me get-hot get-many put-hot put-many create refresh login}
for v in BENCH_SECONDS BENCH_WARMUP BENCH_CONNECTIONS BENCH_THREADS BENCH_USERS; do
	[[ ${!v} =~ ^[0-9]{1,6}$ ]] || die "$v: \"${!v}\" is not a whole number"
done
[ "$BENCH_SECONDS" -ge 1 ] || die "BENCH_SECONDS: at least 1"
[ "$BENCH_USERS" -ge 2 ] || die "BENCH_USERS: at least 2"
if [ "$BENCH_THREADS" -lt 1 ] || [ "$BENCH_CONNECTIONS" -lt "$BENCH_THREADS" ]; then
	die "BENCH_CONNECTIONS must be at least BENCH_THREADS (at least 1)"
fi
for s in $BENCH_SCENARIOS; do
	[ -r "bench/$s.lua" ] || die "BENCH_SCENARIOS: no scenario \"$s\" (bench/*.lua)"
done

export VAR_DIR=${VAR_DIR:-$ROOT/var/bench}
[[ $VAR_DIR == /* ]] || VAR_DIR=$ROOT/$VAR_DIR
export HTTP_PORT=${HTTP_PORT:-24080} HTTPS_PORT=${HTTPS_PORT:-24443}
export PG_PORT=${PG_PORT:-24432} REDIS_PORT=${REDIS_PORT:-24379}
CEIL_HTTP_PORT=${BENCH_CEILING_HTTP_PORT:-24580}
CEIL_HTTPS_PORT=${BENCH_CEILING_HTTPS_PORT:-24543}
export PORTCULLIS_ENV_FILE=$VAR_DIR/bench.env
export BENCH_THREADS BENCH_PASSWORD="bench-password-7Tq2vX9w"
BCRYPT_COST=${BCRYPT_COST:-10}
DIR=$VAR_DIR/bench
CEIL_ROOT=$VAR_DIR/ceiling-root
CEIL_VAR=$VAR_DIR/ceiling
BASE=https://localhost:$HTTPS_PORT
CEIL_BASE=https://localhost:$CEIL_HTTPS_PORT
USERS_FILE=$DIR/users.tsv
REFRESH_FILE=$DIR/refresh.tsv
export BENCH_USERS_FILE=$USERS_FILE BENCH_REFRESH_FILE=$REFRESH_FILE
export BENCH_RUN
BENCH_RUN=$(date +%s)

for bin in build/bench/ceiling build/bench/bcrypt-rate cgi-bin/health; do
	[ -x "$bin" ] || die "$bin is missing (run make bench)"
done
command -v wrk >/dev/null || die "wrk is missing (scripts/install-deps.sh bench)"
command -v jq >/dev/null || die "jq is missing (scripts/install-deps.sh bench)"

(umask 022 && mkdir -p "$VAR_DIR")
mkdir -p "$DIR"
cat >"$PORTCULLIS_ENV_FILE" <<EOT
# Written by scripts/bench.sh for every run: limits that never reject but
# still run, bcrypt at the cost the table names.
BCRYPT_COST=$BCRYPT_COST
RATE_LIMIT_AUTH=1000000000/86400
RATE_LIMIT_API=1000000000/86400
LOGIN_MAX_FAILURES=10000
ACCESS_TOKEN_TTL=86400
DATA_MAX_KEYS=10000000
WEB_MAX_CONNS_PER_IP=0
EOT

# The ceiling's project tree: the same scripts, templates and Apache modules,
# and the do-nothing responder under every responder's name.
ceiling_tree() {
	rm -rf "$CEIL_ROOT"
	mkdir -p "$CEIL_ROOT/cgi-bin" "$CEIL_ROOT/build/apache"
	cp -R scripts lighttpd apache "$CEIL_ROOT/"
	if compgen -G 'build/apache/*.so' >/dev/null; then cp build/apache/*.so "$CEIL_ROOT/build/apache/"; fi
	for name in health login register session data metrics; do
		cp build/bench/ceiling "$CEIL_ROOT/cgi-bin/$name"
	done
	chmod -R go+rX "$CEIL_ROOT"
}

ceiling_stack() {
	env VAR_DIR="$CEIL_VAR" HTTP_PORT="$CEIL_HTTP_PORT" HTTPS_PORT="$CEIL_HTTPS_PORT" \
		PG_PORT=1 REDIS_PORT=1 PORTCULLIS_TOOL="$ROOT/cgi-bin/health" \
		"$CEIL_ROOT/scripts/stack.sh" "$@"
}

stop_all() {
	[ "${BENCH_KEEP:-0}" = 1 ] && return 0
	if [ -x "$CEIL_ROOT/scripts/stack.sh" ]; then ceiling_stack stop web >/dev/null 2>&1 || true; fi
	scripts/stack.sh down >/dev/null 2>&1 || true
}
trap stop_all EXIT

# curl_batch CONFIG - runs the transfers of curl config file CONFIG, 8 at a
# time; prints each one's status code on a line.
curl_batch() {
	sed -i '$d' "$1" # the "next" after the last transfer
	curl -s --no-progress-meter --parallel --parallel-max 8 -K "$1" || true
}

# batch_entry URL BODY OUTPUT [TOKEN] - one transfer of a curl config file.
batch_entry() {
	local body=${2//\\/\\\\}
	body=${body//\"/\\\"}
	printf 'url = "%s"\ninsecure\nsilent\nheader = "Content-Type: application/json"\n' "$1"
	[ -z "${4-}" ] || printf 'header = "Authorization: Bearer %s"\n' "$4"
	[ "$2" = "-" ] || printf 'data = "%s"\n' "$body"
	[ -z "${5-}" ] || printf 'request = "%s"\n' "$5"
	printf 'output = "%s"\nwrite-out = "%%{http_code} %%{errormsg}\\n"\nnext\n' "$3"
}

user_name() { printf 'bench%04d' "$1"; }

# tally - counts the status codes on stdin: "201 x998, 409 x2".
tally() { sort | uniq -c | awk '{ c = $1; $1 = ""; printf "%s%s x%s", (NR > 1 ? ", " : ""), substr($0, 2), c }'; }

# login_users FIRST COUNT OUTFILE FIELD - logs users in (bearer) and writes
# "username<TAB><FIELD of the answer>" lines.
login_users() {
	local first=$1 count=$2 out=$3 field=$4 cfg=$DIR/login.curl i round todo
	rm -rf "$DIR/login" && mkdir -p "$DIR/login"
	for round in 1 2 3; do
		: >"$cfg"
		todo=0
		for ((i = first; i < first + count; i++)); do
			jq -e --arg f "$field" '.[$f] != null' "$DIR/login/$i.json" >/dev/null 2>&1 && continue
			batch_entry "$BASE/api/auth/login" \
				"{\"username\":\"$(user_name "$i")\",\"password\":\"$BENCH_PASSWORD\",\"token_transport\":\"bearer\"}" \
				"$DIR/login/$i.json" >>"$cfg"
			todo=$((todo + 1))
		done
		[ "$todo" -gt 0 ] || break
		say "  login x$todo (round $round): $(curl_batch "$cfg" | tally)"
	done
	jq -r --arg f "$field" 'select(.[$f] != null) | [.user.username, .[$f]] | @tsv' \
		"$DIR"/login/*.json >"$out"
	[ "$(wc -l <"$out")" -eq "$count" ] || die "only $(wc -l <"$out") of $count logins worked"
}

# users_ready - BENCH_USERS users with a working access token each, their
# "item" and the first user's "hot" keys in place.
users_ready() {
	local cfg=$DIR/setup.curl i n tok
	if [ -s "$USERS_FILE" ] && [ "$(wc -l <"$USERS_FILE")" -eq "$BENCH_USERS" ] &&
		[ -n "$(find "$USERS_FILE" -mmin -1200)" ]; then
		tok=$(head -n 1 "$USERS_FILE" | cut -f2)
		n=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$BASE/api/data/item" || true)
		tok=$(tail -n 1 "$USERS_FILE" | cut -f2)
		if [ "$n" = 200 ] && [ "$(curl -sk -o /dev/null -w '%{http_code}' \
			-H "Authorization: Bearer $tok" "$BASE/api/data/item" || true)" = 200 ]; then
			say "setup: $BENCH_USERS users and tokens from the last run"
			return 0
		fi
	fi
	say "setup: $BENCH_USERS users (bcrypt cost $BCRYPT_COST: this takes a while once)"
	: >"$cfg"
	for ((i = 0; i < BENCH_USERS; i++)); do
		batch_entry "$BASE/api/auth/register" \
			"{\"username\":\"$(user_name "$i")\",\"password\":\"$BENCH_PASSWORD\"}" /dev/null >>"$cfg"
	done
	say "  register x$BENCH_USERS: $(curl_batch "$cfg" | tally)"
	login_users 0 "$BENCH_USERS" "$USERS_FILE.new" access_token
	sort -o "$USERS_FILE.new" "$USERS_FILE.new"
	mv "$USERS_FILE.new" "$USERS_FILE"
	: >"$cfg"
	i=0
	while IFS=$'\t' read -r _ tok; do
		batch_entry "$BASE/api/data/item" "{\"user\":$i,\"note\":\"read by get-many\"}" /dev/null "$tok" PUT >>"$cfg"
		if [ "$i" -eq 0 ]; then
			batch_entry "$BASE/api/data/hot" '{"note":"read by get-hot"}' /dev/null "$tok" PUT >>"$cfg"
			for n in $(seq 0 31); do
				batch_entry "$BASE/api/data/hot-$n" '{"note":"replaced by put-hot"}' /dev/null "$tok" PUT >>"$cfg"
			done
		fi
		for n in 0 1 2 3; do
			batch_entry "$BASE/api/data/w$n" '{"note":"replaced by put-many"}' /dev/null "$tok" PUT >>"$cfg"
		done
		i=$((i + 1))
	done <"$USERS_FILE"
	say "  keys: $(curl_batch "$cfg" | tally)"
}

# run_wrk BASE SCENARIO SECONDS - one wrk run; prints its BENCH line.
run_wrk() {
	local out
	out=$(wrk -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" -d"$3"s --timeout 10s \
		-s "bench/$2.lua" "$1" 2>&1) || {
		printf '%s\n' "$out" >&2
		die "wrk failed on $2 ($1)"
	}
	printf '%s\n' "$out" >>"$DIR/wrk.log"
	grep '^BENCH ' <<<"$out" | tail -n 1
}

field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"; }

rate() { awk -v n="$(field requests "$1")" -v d="$(field duration_us "$1")" 'BEGIN { printf "%.0f", (d > 0 ? n / (d / 1e6) : 0) }'; }

ms() { awk -v u="$(field "$1" "$2")" 'BEGIN { printf (u < 10000 ? "%.2f" : "%.0f"), u / 1000 }'; }

# pss_of PID... - total PSS of the PIDs in KiB.
pss_of() {
	local pid kb total=0
	for pid in "$@"; do
		kb=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
		total=$((total + ${kb:-0}))
	done
	echo "$total"
}

# descendants PID - PID and every process below it.
descendants() {
	local p
	printf '%s\n' "$1"
	for p in $(pgrep -P "$1" 2>/dev/null); do
		descendants "$p"
	done
}

# app_pids - the app's processes: the web server and everything under it,
# and spawn-fcgi's responders (proxy-fcgi), each as "pid<TAB>program".
app_pids() {
	local pid exe f
	{
		for f in "$VAR_DIR/run/lighttpd.pid" "$VAR_DIR/run/apache.pid"; do
			pid=$(cat "$f" 2>/dev/null) || continue
			[ -d "/proc/$pid" ] && descendants "$pid"
		done
		# spawn-fcgi ends its last line without a newline.
		# (with the workers each forks: --workers, lib/prefork.h).
		for f in "$VAR_DIR"/run/*.pids; do
			[ -e "$f" ] || continue
			for pid in $(tr -c '0-9\n' '\n' <"$f"); do
				[ -d "/proc/$pid" ] && descendants "$pid"
			done
		done
	} | sort -un | while read -r pid; do
		[ -n "$pid" ] || continue
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		printf '%s\t%s\n' "$pid" "$(basename "$exe")"
	done
}

# memory_report - one line per program of the app: processes and PSS.
memory_report() {
	local rows prog pids=() total=0 kb n all=0
	rows=$(app_pids)
	while IFS= read -r prog; do
		[ -n "$prog" ] || continue
		mapfile -t pids < <(awk -F'\t' -v p="$prog" '$2 == p { print $1 }' <<<"$rows")
		kb=$(pss_of "${pids[@]}")
		n=${#pids[@]}
		total=$((total + kb))
		all=$((all + n))
		printf '| %s | %d | %.1f MiB |\n' "$prog" "$n" "$(awk -v k="$kb" 'BEGIN { print k / 1024 }')"
	done < <(cut -f2 <<<"$rows" | sort -u)
	printf '| **all app processes** | %d | **%.1f MiB** |\n' "$all" "$(awk -v k="$total" 'BEGIN { print k / 1024 }')"
}

# app_pss - "pid<TAB>PSS KiB" of every app process.
app_pss() {
	local pid
	for pid in $(app_pids | cut -f1); do
		printf '%s\t%s\n' "$pid" "$(pss_of "$pid")"
	done
}

# growth START END - the PSS change of the processes in both lists, and
# what the processes that only END has add: "+0.4 MiB in 20 processes; 2 new (3.1 MiB)".
growth() {
	awk -F'\t' 'NR == FNR { start[$1] = $2; next }
		($1 in start) { d += $2 - start[$1]; n++; next }
		{ nn++; nk += $2 }
		END { printf "%+.1f MiB in the %d processes that ran throughout; %d started since (%.1f MiB)", d / 1024, n, nn, nk / 1024 }' \
		<(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# metric NAME_AND_LABELS - the sum of the samples of /metrics whose line starts so.
metric() {
	curl -sk "$BASE/metrics" | awk -v m="$1" 'index($0, m) == 1 { s += $NF } END { printf "%d", s }'
}

backend_pss() {
	local pids=()
	mapfile -t pids < <(pgrep -f "postgres.*$VAR_DIR/pg" 2>/dev/null; pgrep -f "redis-server.*:$REDIS_PORT" 2>/dev/null)
	[ "${#pids[@]}" -gt 0 ] || return 0
	printf 'PostgreSQL and Redis (not counted above): %d processes, %.1f MiB PSS\n' "${#pids[@]}" \
		"$(awk -v k="$(pss_of "${pids[@]}")" 'BEGIN { print k / 1024 }')"
}

# ---- start --------------------------------------------------------------

say "bench: starting the stack in $VAR_DIR (https://localhost:$HTTPS_PORT) and the ceiling (https://localhost:$CEIL_HTTPS_PORT)"
# The web tiers start afresh, with the configuration of this run.
scripts/stack.sh stop web >/dev/null 2>&1 || true
[ -x "$CEIL_ROOT/scripts/stack.sh" ] && { ceiling_stack stop web >/dev/null 2>&1 || true; }
scripts/stack.sh up >"$DIR/stack-up.log" 2>&1 || {
	tail -n 30 "$DIR/stack-up.log" >&2
	die "the stack did not start (log: $DIR/stack-up.log)"
}
ceiling_tree
ceiling_stack start web >"$DIR/ceiling-up.log" 2>&1 || {
	tail -n 30 "$DIR/ceiling-up.log" >&2
	die "the ceiling did not start (log: $DIR/ceiling-up.log)"
}
users_ready
: >"$DIR/wrk.log"

MEM_START=$(memory_report)
PSS_START=$(app_pss)
REQS_START=$(metric portcullis_http_requests_total)

SERVER=$(scripts/stack.sh status 2>/dev/null | sed -n 's/^web: running (\([^ ]* *[^ ]*\) pid.*/\1/p' | tr -d ',')
ROWS=""
for s in $BENCH_SCENARIOS; do
	# refresh: each wrk run starts from sessions nothing has rotated yet
	# (wrk forgets the tokens it was given when it exits); the ceiling
	# spends none.
	nsess=$((BENCH_CONNECTIONS + 4 * BENCH_THREADS))
	[ "$nsess" -le $((BENCH_USERS - 1)) ] || nsess=$((BENCH_USERS - 1))
	[ "$s" != refresh ] || { say "refresh: $nsess sessions" && login_users 1 "$nsess" "$REFRESH_FILE" refresh_token; }
	say "$s: ceiling"
	run_wrk "$CEIL_BASE" "$s" "$BENCH_WARMUP" >/dev/null
	c=$(run_wrk "$CEIL_BASE" "$s" "$BENCH_SECONDS")
	say "$s: portcullis"
	run_wrk "$BASE" "$s" "$BENCH_WARMUP" >/dev/null
	[ "$s" != refresh ] || { say "refresh: $nsess new sessions" && login_users 1 "$nsess" "$REFRESH_FILE" refresh_token; }
	# Logins as the server counts them: wrk's count misses the answers
	# still queued behind the bcrypt of others when a run ends.
	[ "$s" != login ] || { t0=$(date +%s.%N) && l0=$(metric 'portcullis_logins_total{result="success"}'); }
	r=$(run_wrk "$BASE" "$s" "$BENCH_SECONDS")
	[ "$s" != login ] || LOGIN_RATE=$(awk -v a="$(metric 'portcullis_logins_total{result="success"}')" \
		-v b="$l0" -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", (a - b) / (t1 - t0) }')
	ratio=$(awk -v a="$(rate "$r")" -v b="$(rate "$c")" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	errs=$(($(field non2xx "$r") + $(field socket_errors "$r")))
	rps=$(rate "$r")
	[ "$s" != login ] || rps="$LOGIN_RATE (wrk: $rps)"
	ROWS+="| $s | $rps | $(ms p50_us "$r") | $(ms p99_us "$r") | $(ms max_us "$r") | $errs | $(rate "$c") | $(ms p99_us "$c") | $ratio |"$'\n'
done

REQS_END=$(metric portcullis_http_requests_total)
MEM_END=$(memory_report)
PSS_END=$(app_pss)

# Steady state: with every pool started and the caches full, get-many and
# me until the app has served 100,000 more requests (at most 12 runs).  A
# round of each first fills every worker's caches (each worker of a pool
# holds its own memory cache and token cache, and writes its share of the
# pages it got from its parent), so what is left is growth per request.
STEADY=""
if [[ " $BENCH_SCENARIOS " == *" get-many "* ]]; then
	say "steady state: a round of get-many and me to fill the caches, then both until 100,000 requests"
	run_wrk "$BASE" get-many 10 >/dev/null
	run_wrk "$BASE" me 10 >/dev/null
	REQS_STEADY=$(metric portcullis_http_requests_total)
	PSS_STEADY=$(app_pss)
	for i in $(seq 1 12); do
		[ "$(($(metric portcullis_http_requests_total) - REQS_STEADY))" -lt 100000 ] || break
		if [ $((i % 2)) -eq 1 ]; then run_wrk "$BASE" get-many 10 >/dev/null; else run_wrk "$BASE" me 10 >/dev/null; fi
	done
	STEADY="Steady state (get-many and me after the run and a round of each, caches full): $(growth "$PSS_STEADY" "$(app_pss)") over $(($(metric portcullis_http_requests_total) - REQS_STEADY)) requests."
fi

say "bcrypt: the raw rate of every core"
CORES=$(nproc)
BCRYPT_RATE=$(build/bench/bcrypt-rate "$BCRYPT_COST" 5 "$CORES")

RESULT=$DIR/results-$(date -u +%Y%m%dT%H%M%SZ).txt
{
	printf '## make bench: %s, %s\n\n' "${SERVER:-?}" "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf 'Machine: %s, %s cores (%s), %s MiB RAM; load average before the run: %s\n' \
		"$(uname -sr)" "$CORES" "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n 1)" \
		"$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf 'wrk -t%s -c%s, %s s per run after %s s of warm-up, HTTPS keep-alive; BCRYPT_COST=%s; %s users\n' \
		"$BENCH_THREADS" "$BENCH_CONNECTIONS" "$BENCH_SECONDS" "$BENCH_WARMUP" "$BCRYPT_COST" "$BENCH_USERS"
	printf 'Pools: %s\n\n' "$(scripts/stack.sh status 2>/dev/null | sed -n 's/^web: //p')"
	printf '| scenario | req/s | p50 ms | p99 ms | max ms | non-2xx | ceiling req/s | ceiling p99 ms | ratio to ceiling |\n'
	printf '|---|---:|---:|---:|---:|---:|---:|---:|---:|\n'
	printf '%s' "$ROWS"
	printf '\nceiling: bench/ceiling.c behind the same server, same route, same process count, same wrk script, run just before.\n'
	printf 'non-2xx: answers of status 400 or more plus socket errors and timeouts (10 s).\n'
	printf 'login req/s: the logins the server completed during the run (wrk'"'"'s own count misses those still queued when it ends).\n'
	printf '\nRaw bcrypt (cost %s, %s processes, bench/bcrypt-rate.c): %s hashes/s' "$BCRYPT_COST" "$CORES" "$BCRYPT_RATE"
	if [ -n "${LOGIN_RATE-}" ]; then
		printf '; logins the server completed during the login run: %s/s = %s x that' "$LOGIN_RATE" "$(awk -v a="$LOGIN_RATE" -v b="$BCRYPT_RATE" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
	fi
	printf '\n\nMemory (PSS), after the setup:\n\n| program | processes | PSS |\n|---|---:|---:|\n%s\n\nat the end:\n\n| program | processes | PSS |\n|---|---:|---:|\n%s\n\n' \
		"$MEM_START" "$MEM_END"
	printf 'Growth over the %d requests the app served in between: %s.\n' \
		"$((REQS_END - REQS_START))" "$(growth "$PSS_START" "$PSS_END")"
	[ -z "$STEADY" ] || printf '%s\n' "$STEADY"
	backend_pss
} | tee "$RESULT"
say "bench: written to $RESULT"
