# shellcheck shell=bash
# tests/integration/data_lib.sh - helpers of the per-user data tests
# (30_data_api.sh .. 33_data_budget.sh).  Sourced after lib.sh and
# auth_lib.sh (register, login_bearer, psql_q, rcli, stack_env, ...):
#
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/auth_lib.sh"
#   source "$(dirname "$0")/data_lib.sh"
#
#   data_user PREFIX          registers a fresh user and logs in (bearer);
#                             sets D_NAME, D_PASS, D_TOKEN, D_UID
#   dget KEY [curl args]      GET /api/data/KEY with D_TOKEN      (STATUS, BODY, HEADERS)
#   dput KEY JSON [curl args] PUT /api/data/KEY with D_TOKEN, JSON content type
#   ddel KEY [curl args]      DELETE /api/data/KEY with D_TOKEN
#   dlist QUERY [curl args]   GET /api/data?QUERY with D_TOKEN
#   (each of them takes TOKEN=... in the environment to act as another user)
#   q_get TOKEN KEY           one GET on a fresh curl process: prints "STATUS VERSION VALUE"
#                             (VALUE: the value's JSON as the server wrote it)
#   q_put TOKEN KEY JSON      one PUT on a fresh curl process: prints "STATUS VERSION"
#   burst TOKEN KEY N         N GETs at once over one HTTP/2 connection: one line each
#   data_pids                 the pids of this stack's data processes, sorted, one line
#   io_writes PIDS... / io_served BEFORE AFTER     which processes served requests
#   warm_all TOKEN KEY PIDS...  bursts of GETs until every process served KEY
#   spawn_procs TOKEN KEY N   bursts until N data processes run; still_running PIDS...
#   hold_next_process SECS TOKEN UID  keeps the process that would serve the
#                             next request busy
#   web_restart [FCGI_PROCS]  restarts lighttpd and the responders (FCGI_PROCS
#                             empty: the default) and waits for /api/ready ok
#   ready_ok_wait SECONDS     waits for /api/ready 200 ok,ok (quietly); 0/1
#   raw_value                 the value of the last dget/dput body as the server wrote it
#
# The web server hands each request to an idle process of the responder
# (lighttpd: the least loaded; mod_fcgid: an idle one, spawning more up to
# FCGI_PROCS under load), so requests sent one after the other all land on
# the same process; requests that arrive together spread over the processes.

# shellcheck disable=SC2034 # used by the scripts that source this file
D_NAME=""
# shellcheck disable=SC2034
D_PASS=""
D_TOKEN=""
# shellcheck disable=SC2034
D_UID=""

data_user() {
	local name pass
	name=$(uniq_name "$1")
	pass=$(uniq_password)
	register "$name" "$pass" || return 1
	login_bearer "$name" "$pass" || return 1
	# shellcheck disable=SC2034
	D_NAME=$name D_PASS=$pass D_TOKEN=$ACCESS D_UID=$USER_ID
}

dget() {
	local key=$1
	shift
	call GET "/api/data/$key" -H "Authorization: Bearer ${TOKEN:-$D_TOKEN}" "$@"
}

dput() {
	local key=$1 json=$2
	shift 2
	call PUT "/api/data/$key" -H "Authorization: Bearer ${TOKEN:-$D_TOKEN}" \
		"${JSON_CT[@]}" --data-binary "$json" "$@"
}

ddel() {
	local key=$1
	shift
	call DELETE "/api/data/$key" -H "Authorization: Bearer ${TOKEN:-$D_TOKEN}" "$@"
}

dlist() {
	local q=$1
	shift
	call GET "/api/data${q:+?$q}" -H "Authorization: Bearer ${TOKEN:-$D_TOKEN}" "$@"
}

# raw_value - the value of the last GET/PUT body exactly as the server wrote
# it (the text between `"value":` and `,"version":`), for byte counts.
raw_value() {
	# shellcheck disable=SC2153 # BODY: the last response, from lib.sh
	local b=$BODY
	b=${b#*\"value\":}
	printf '%s' "${b%,\"version\":*}"
}

# item_line STATUS BODY - "STATUS VERSION VALUE" of an item body, else "STATUS".
# Parsed in the shell (no jq): these run by the thousand.
item_line() {
	local st=$1 body=$2 v
	if [[ "$body" == '{"key":'*'"value":'*',"version":'*',"updated_at":'* ]]; then
		v=${body#*,\"version\":}
		v=${v%%,*}
		body=${body#*\"value\":}
		printf '%s %s %s\n' "$st" "$v" "${body%,\"version\":*}"
	else
		printf '%s\n' "$st"
	fi
}

# q_get TOKEN KEY - one GET on a new curl process (a new connection).
q_get() {
	local out st body
	out=$(curl -sk --max-time 20 -H "Authorization: Bearer $1" -w '\n%{http_code}' "$BASE/api/data/$2")
	st=${out##*$'\n'}
	body=${out%$'\n'*}
	printf '%s qget %s\n' "$st" "$2" >>"$STATUS_FILE"
	item_line "$st" "$body"
}

# q_put TOKEN KEY JSON - "STATUS VERSION" (VERSION empty unless an item came back).
q_put() {
	local out st body v=""
	out=$(curl -sk --max-time 20 -X PUT -H "Authorization: Bearer $1" "${JSON_CT[@]}" \
		--data-binary "$3" -w '\n%{http_code}' "$BASE/api/data/$2")
	st=${out##*$'\n'}
	body=${out%$'\n'*}
	printf '%s qput %s\n' "$st" "$2" >>"$STATUS_FILE"
	if [[ "$body" == *',"version":'* ]]; then
		v=${body#*,\"version\":}
		v=${v%%[,\}]*}
	fi
	printf '%s %s\n' "$st" "$v"
}

# burst TOKEN KEY N - N GETs of KEY sent at once (curl --parallel over one
# HTTP/2 connection, so that they reach lighttpd together and spread over
# the processes); prints one item_line per answer.
burst() {
	local tok=$1 key=$2 n=$3 i f c body args=()
	local -A code=()
	for ((i = 0; i < n; i++)); do
		args+=(-o "$TMP/burst$i" "$BASE/api/data/$key")
		rm -f "$TMP/burst$i"
	done
	curl -sk --max-time 20 -Z --parallel-max "$n" -H "Authorization: Bearer $tok" \
		-w '%{filename_effective} %{http_code}\n' "${args[@]}" >"$TMP/burst.codes" 2>/dev/null
	while read -r f c; do code[$f]=$c; done <"$TMP/burst.codes"
	for ((i = 0; i < n; i++)); do
		f=$TMP/burst$i
		body=""
		[ -f "$f" ] && body=$(<"$f")
		printf '%s burst %s\n' "${code[$f]:-000}" "$key" >>"$STATUS_FILE"
		item_line "${code[$f]:-000}" "$body"
	done
}

# data_pids - only this stack's data processes that serve requests, whatever
# started them (lighttpd, Apache's mod_fcgid, spawn-fcgi): other stacks on the
# machine run the same binary, so a process counts when its environment
# carries this stack's PORTCULLIS_STACK marker (scripts/lib/web.sh puts it
# there); the parent of a forked pool (--workers, lib/prefork.h) serves
# nothing and is left out.
data_pids() {
	local p stack=${VAR_DIR:-$ROOT/var/test} mine=() parents=" "
	for p in $(pgrep -f "${CGI_DIR:-$ROOT/cgi-bin}/data"); do
		tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qxF "PORTCULLIS_STACK=$stack" && mine+=("$p")
	done
	for p in "${mine[@]}"; do
		parents+="$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null) "
	done
	for p in "${mine[@]}"; do
		[[ $parents == *" $p "* ]] || echo "$p"
	done | sort -n | paste -sd' '
}

# io_writes PIDS... - "pid:write-syscalls" for each pid: a process that served
# a request shows a larger count afterwards (root reads any /proc/<pid>/io).
io_writes() {
	local p
	for p in "$@"; do
		printf '%s:%s ' "$p" "$(awk '/^syscw/ { print $2 }' "/proc/$p/io" 2>/dev/null)"
	done
	echo
}

# io_served BEFORE AFTER - how many processes of two io_writes snapshots
# wrote something in between.
io_served() {
	local n=0 b a
	for a in $2; do
		for b in $1; do
			[ "${b%%:*}" = "${a%%:*}" ] && [ "${a#*:}" != "${b#*:}" ] && n=$((n + 1))
		done
	done
	echo "$n"
}

# warm_all TOKEN KEY PIDS... - bursts of GETs of KEY until every data
# process (the pids given) has served some (so each has KEY in memory); at
# most 5 bursts.  Prints how many processes were reached, or "mixed: ..."
# when the answers were not all the same.
warm_all() {
	local tok=$1 key=$2 before after reached=0 r
	shift 2
	before=$(io_writes "$@")
	: >"$TMP/warm.all"
	for ((r = 0; r < 5; r++)); do
		burst "$tok" "$key" 16 >>"$TMP/warm.all"
		after=$(io_writes "$@")
		reached=$(io_served "$before" "$after")
		[ "$reached" -ge "$#" ] && break
	done
	if [ "$(sort -u "$TMP/warm.all" | wc -l)" = 1 ]; then echo "$reached"; else
		echo "mixed: $(sort "$TMP/warm.all" | uniq -c | paste -sd';')"; fi
}

# hold_next_process SECONDS TOKEN UID - keeps busy, for about SECONDS, the
# data process lighttpd would hand the next request to: a psql session locks
# the data_owners row of UID (the row a PUT that creates a key updates),
# then a PUT of a new key with TOKEN (that user's) goes to the least loaded
# process and waits there on the lock.  Requests sent meanwhile go to the
# other processes.  0 once the PUT is seen waiting; `wait "${HOLD_PIDS[@]}"`
# afterwards.
HOLD_PIDS=()
hold_next_process() {
	local secs=$1 tok=$2 uid=$3 i
	psql "$(stack_env DATABASE_URL)" -X -q -v ON_ERROR_STOP=1 \
		-c "BEGIN; INSERT INTO data_owners (user_id) VALUES ('$uid') ON CONFLICT (user_id) DO UPDATE SET keys = data_owners.keys; SELECT pg_sleep($secs) /* hold */; COMMIT;" \
		>/dev/null 2>&1 &
	HOLD_PIDS=($!)
	for ((i = 0; i < 50; i++)); do
		[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%/* hold */%' AND state = 'active' AND pid <> pg_backend_pid()")" = 1 ] && break
		sleep 0.1
	done
	q_put "$tok" "held-$RANDOM$RANDOM" "\"held\"" >"$TMP/held.out" &
	HOLD_PIDS+=($!)
	for ((i = 0; i < 50; i++)); do
		[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")" -ge 1 ] && return 0
		sleep 0.1
	done
	return 1
}

ready_ok_wait() {
	local i
	for ((i = 0; i < $1 * 5; i++)); do
		ready_ok && return 0
		sleep 0.2
	done
	return 1
}

# web_restart [PROCS] - lighttpd and the responders again, with FCGI_PROCS=PROCS
# (or the default when empty); waits for /api/ready.
web_restart() {
	"$ROOT/scripts/stack.sh" stop web >/dev/null 2>&1
	if [ -n "${1:-}" ]; then
		FCGI_PROCS=$1 "$ROOT/scripts/stack.sh" start web >/dev/null 2>&1
	else
		(
			unset FCGI_PROCS
			"$ROOT/scripts/stack.sh" start web >/dev/null 2>&1
		)
	fi
	ready_ok_wait 30
}

# spawn_procs TOKEN KEY WANT - bursts of GETs of KEY until this stack runs
# WANT data processes (mod_fcgid starts them on demand; lighttpd has them
# from the start), at most 10 bursts; prints how many run.
spawn_procs() {
	local i n
	for ((i = 0; i < 10; i++)); do
		read -ra _sp <<<"$(data_pids)"
		n=${#_sp[@]}
		[ "$n" -ge "$3" ] && break
		burst "$1" "$2" 16 >/dev/null
		sleep 0.2
	done
	read -ra _sp <<<"$(data_pids)"
	echo "${#_sp[@]}"
}

# still_running PIDS... - how many of PIDS are still this stack's data processes.
still_running() {
	local now p n=0
	now=" $(data_pids) "
	for p in "$@"; do [[ "$now" == *" $p "* ]] && n=$((n + 1)); done
	echo "$n"
}
