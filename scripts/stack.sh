#!/usr/bin/env bash
# scripts/stack.sh - starts and stops the private local portcullis stack:
# PostgreSQL, Redis, migrations, the web server (lighttpd, or Apache with
# WEB_SERVER=apache) with the FastCGI responders.
#
#   stack.sh up                      start whatever is not running; returns
#                                    once https://localhost:$HTTPS_PORT/api/ready
#                                    answers
#   stack.sh down                    stop everything this $VAR_DIR started
#   stack.sh run                     up, then wait in the foreground; Ctrl-C
#                                    or SIGTERM runs down
#   stack.sh status                  one line per service; exit 0 if all run
#   stack.sh env                     the responders' resolved environment,
#                                    NAME=VALUE lines (secrets included)
#   stack.sh start|stop postgres|redis|web
#                                    one service only (web = the web server
#                                    WEB_SERVER names and its responders;
#                                    stop web stops whichever runs)
#
# Configuration: environment, then .env, then defaults, read through the
# built cgi-bin/health (scripts/lib/config.sh); `cgi-bin/health
# --list-config` lists every setting, the stack's own knobs (VAR_DIR,
# PG_PORT, REDIS_PORT, FCGI_PROCS, APACHE_MODE, WEB_READ_TIMEOUT, ...)
# flagged `stack`.
# Everything the stack writes lives under $VAR_DIR.  Exit status: 0 on
# success, 1 on failure (with a message on stderr), 2 on a usage error,
# 3 from `status` when some service is stopped.

# shellcheck source-path=SCRIPTDIR
set -euo pipefail
umask 077

LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd -P)
# shellcheck source=lib/common.sh
. "$LIB/common.sh"
# shellcheck source=lib/config.sh
. "$LIB/config.sh"
# shellcheck source=lib/secrets.sh
. "$LIB/secrets.sh"
# shellcheck source=lib/tls.sh
. "$LIB/tls.sh"
# shellcheck source=lib/postgres.sh
. "$LIB/postgres.sh"
# shellcheck source=lib/redis.sh
. "$LIB/redis.sh"
# shellcheck source=lib/render.sh
. "$LIB/render.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
# shellcheck source=lib/web.sh
. "$LIB/web.sh"
# shellcheck source=lib/apache.sh
. "$LIB/apache.sh"
# shellcheck source=lib/app.sh
. "$LIB/app.sh"

usage() {
	echo "usage:" >&2
	sed -n '6,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# setup create|read - loads the configuration and the secrets (create:
# generating missing ones; read: only if they exist, so `down` and `status`
# write nothing), and points DATABASE_URL / REDIS_URL at the private
# servers when they are unset.
setup() {
	config_load
	PG_EXTERNAL=0
	REDIS_EXTERNAL=0
	[ -z "${CONF[DATABASE_URL]-}${CONF[DATABASE_URL_FILE]-}" ] || PG_EXTERNAL=1
	[ -z "${CONF[REDIS_URL]-}${CONF[REDIS_URL_FILE]-}" ] || REDIS_EXTERNAL=1
	secrets_load "$1"
	if pg_managed; then pg_use_private; fi
	if redis_managed; then redis_use_private; fi
	tls_paths
	pg_paths
	redis_paths
	web_paths
}

start_postgres() {
	pg_managed || die "postgres: DATABASE_URL names an external server; nothing to start"
	pg_start
	pg_provision
}

start_redis() {
	redis_managed || die "redis: REDIS_URL names an external server; nothing to start"
	redis_start
}

start_web() {
	tls_ensure
	app_check_config
	web_start
	web_wait_ready 30
}

cmd_up() {
	# A bad setting stops `up` before anything starts.
	app_check_config
	tls_ensure
	if pg_managed; then start_postgres; fi
	if redis_managed; then start_redis; fi
	app_migrate
	web_start
	web_wait_ready 30
	info "portcullis is up: https://localhost:$HTTPS_PORT"
	info "logs: $LOG_DIR/"
}

cmd_down() {
	web_stop
	if redis_managed; then redis_stop; fi
	if pg_managed; then pg_stop; fi
}

cmd_status() {
	local rc=0
	pg_status || rc=3
	redis_status || rc=3
	web_status || rc=3
	return "$rc"
}

cmd_run() {
	LOG_TAIL=""
	trap 'trap - INT TERM; info ""; info "stopping..."; cmd_down; stop_tail; exit 0' INT TERM
	# `up` as a child: when it fails, what it started is stopped again.
	if ! "${BASH_SOURCE[0]}" up; then
		cmd_down
		exit 1
	fi
	info "running in the foreground; Ctrl-C stops it"
	# LOG_FILE=-: the responders' lines land in the web server's error log;
	# follow it on our standard error (what `docker logs` shows).
	if [ "${CONF[LOG_FILE]}" = - ]; then
		tail -q -n 0 -F "$LOG_DIR/lighttpd-error.log" "$LOG_DIR/apache-error.log" >&2 2>/dev/null &
		LOG_TAIL=$!
	fi
	while web_pid >/dev/null; do
		sleep 2 &
		wait $! || true
	done
	warn "the web server exited; stopping the rest"
	cmd_down
	stop_tail
	exit 1
}

stop_tail() {
	[ -z "$LOG_TAIL" ] || kill "$LOG_TAIL" 2>/dev/null || true
}

main() {
	[ "$#" -ge 1 ] || usage
	local cmd=$1 svc=${2-}
	case "$cmd" in
	up | down | run | status | env) [ "$#" -eq 1 ] || usage ;;
	start | stop)
		[ "$#" -eq 2 ] || usage
		case "$svc" in postgres | redis | web) ;; *) usage ;; esac
		;;
	*) usage ;;
	esac
	case "$cmd" in
	up | run | start)
		setup create
		config_check
		;;
	*) setup read ;;
	esac
	case "$cmd" in
	up) cmd_up ;;
	down) cmd_down ;;
	run) cmd_run ;;
	status) cmd_status ;;
	env)
		web_env
		printf '%s\n' "${RESP_ENV[@]}" | sort
		;;
	start) "start_$svc" ;;
	stop)
		case "$svc" in
		postgres) pg_managed || die "postgres: external (DATABASE_URL); not ours to stop"; pg_stop ;;
		redis) redis_managed || die "redis: external (REDIS_URL); not ours to stop"; redis_stop ;;
		web) web_stop ;;
		esac
		;;
	esac
}

main "$@"
