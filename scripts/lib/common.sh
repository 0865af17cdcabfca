# shellcheck shell=bash
# scripts/lib/common.sh - messages, privilege helpers and pid-file handling
# shared by the stack scripts.  Sourced, never run.
#
# Design: every daemon of the stack is tracked by a pid file under $VAR_DIR,
# and a pid is trusted only while /proc/<pid>/cmdline still names the program
# we started, so a stale or tampered pid file never makes us signal a
# stranger.

info() { printf '%s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# run_as USER CMD... - runs CMD as USER when we are root, else as ourselves.
run_as() {
	local user=$1
	shift
	if is_root && [ "$user" != root ]; then
		runuser -u "$user" -- "$@"
	else
		"$@"
	fi
}

# require_reach USER DIR WHO - dies unless USER can search every directory
# down to DIR, naming the first one in the way.
require_reach() {
	local user=$1 dir=$2 who=$3 cur="" part parts
	run_as "$user" test -x "$dir" && return 0
	IFS=/ read -ra parts <<<"${dir#/}"
	for part in "${parts[@]}"; do
		cur=$cur/$part
		run_as "$user" test -x "$cur" || break
	done
	die "$who: the '$user' user cannot reach $dir because it may not enter $cur; allow it (e.g. chmod o+x $cur) or choose another VAR_DIR / project location"
}

# pid_read FILE - prints the pid stored in FILE, if it holds a number.
pid_read() {
	local pid=""
	[ -r "$1" ] || return 1
	read -r pid <"$1" || true
	case "$pid" in
	'' | *[!0-9]*) return 1 ;;
	esac
	printf '%s\n' "$pid"
}

# pid_matches PID WORD - true if process PID is alive and WORD is one of the
# blank-separated words of its command line (e.g. the config path it was
# started with, or the address in Redis' process title).
pid_matches() {
	local pid=$1 word=$2 cmd
	pid_alive "$pid" || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ " $cmd " == *" $word "* ]]
}

# pid_of FILE WORD - prints the pid from FILE if that process is alive and
# is ours (its command line contains WORD).
pid_of() {
	local pid
	pid=$(pid_read "$1") || return 1
	pid_matches "$pid" "$2" || return 1
	printf '%s\n' "$pid"
}

# pid_alive PID - true if PID runs; a zombie (exited, not yet reaped by
# init) counts as gone.
pid_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# wait_gone SECONDS PID... - waits until none of the PIDs is alive.
wait_gone() {
	local tenths=$(($1 * 10)) pid alive
	shift
	while :; do
		alive=0
		for pid in "$@"; do
			if pid_alive "$pid"; then alive=1; fi
		done
		[ "$alive" -eq 0 ] && return 0
		[ "$tenths" -le 0 ] && return 1
		tenths=$((tenths - 1))
		sleep 0.1
	done
}

# stop_pids SECONDS PID... - SIGTERM, wait, then SIGKILL whatever is left.
stop_pids() {
	local secs=$1
	shift
	[ "$#" -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	wait_gone "$secs" "$@" && return 0
	warn "sending SIGKILL to $*"
	kill -KILL "$@" 2>/dev/null || true
	wait_gone 5 "$@"
}

# log_dir_ensure - creates $LOG_DIR.  As root it belongs to www-data (the
# responders write portcullis.log there); postgres and redis only open their
# own pre-created files in it, so others may search it but not list it.
log_dir_ensure() {
	mkdir -p "$LOG_DIR"
	if is_root; then
		chown www-data:www-data "$LOG_DIR"
		chmod 0711 "$LOG_DIR"
	else
		chmod 0700 "$LOG_DIR"
	fi
}

# port_in_use PORT - true if something listens on TCP PORT (any address).
port_in_use() {
	local hex
	hex=$(printf ':%04X$' "$1")
	# column 2 is local address:port in hex, column 4 the state (0A: LISTEN).
	awk -v p="$hex" '$2 ~ p && $4 == "0A" { found = 1 } END { exit !found }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null
}
