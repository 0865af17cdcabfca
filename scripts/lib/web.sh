# shellcheck shell=bash disable=SC2034
# scripts/lib/web.sh - lighttpd and the FastCGI responders it spawns from
# cgi-bin/.  Sourced.
#
# The configuration is rendered from lighttpd/lighttpd.conf.in into
# $VAR_DIR/lighttpd/ and holds no secret.  The responders get their settings
# from the environment: lighttpd 1.4 copies its whole environment into every
# FastCGI child it spawns when "bin-copy-environment" is not set, so lighttpd
# is started with a clean environment that holds only PATH and the resolved
# portcullis settings (built with `export` in a subshell, so no value ever
# appears on a command line).  /proc/<pid>/environ is readable only by the
# process owner and root.
#
# As root, lighttpd drops to www-data after binding and reading the key; only
# $VAR_DIR/run (sockets, pid file, upload buffers, the empty document root)
# and $VAR_DIR/log are writable by www-data.

WEB_USER=www-data

web_paths() {
	WEB_CONF_DIR=$VAR_DIR/lighttpd
	WEB_CONF=$WEB_CONF_DIR/lighttpd.conf
	WEB_PID=$RUN_DIR/lighttpd.pid
	WEB_ERRLOG=$LOG_DIR/lighttpd-error.log
}

web_pid() {
	web_paths
	pid_of "$WEB_PID" "$WEB_CONF"
}

# web_env - fills RESP_ENV with the responders' environment, NAME=VALUE each.
web_env() {
	local key envfile=$ENV_FILE
	# A .env the responders cannot read would stop them; all of its values
	# are in their environment anyway.
	if [ -e "$envfile" ] && is_root && ! run_as "$WEB_USER" test -r "$envfile"; then
		envfile=/dev/null
	fi
	# PORTCULLIS_STACK marks this stack's processes (see web_orphans).
	RESP_ENV=("PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
		"PORTCULLIS_ENV_FILE=$envfile" "PORTCULLIS_STACK=$VAR_DIR")
	for key in "${!CONF[@]}"; do
		RESP_ENV+=("$key=${CONF[$key]}")
	done
}

# with_resp_env CMD... - runs CMD with exactly the responders' environment.
with_resp_env() {
	(
		local v
		while read -r v; do
			unset "$v" 2>/dev/null || true
		done < <(compgen -e)
		for v in "${RESP_ENV[@]}"; do
			export "${v?}"
		done
		exec "$@"
	)
}

web_prepare_dirs() {
	web_paths
	mkdir -p "$RUN_DIR/www" "$RUN_DIR/upload" "$WEB_CONF_DIR"
	log_dir_ensure
	chmod 0700 "$RUN_DIR" "$RUN_DIR/upload" "$WEB_CONF_DIR"
	chmod 0755 "$RUN_DIR/www"
	touch "${CONF[LOG_FILE]}"
	chmod 0640 "${CONF[LOG_FILE]}"
	if is_root; then
		chown -R "$WEB_USER:$WEB_USER" "$RUN_DIR"
		chown "$WEB_USER:$WEB_USER" "${CONF[LOG_FILE]}"
		require_reach "$WEB_USER" "$ROOT/cgi-bin" web
		require_reach "$WEB_USER" "$ROOT/scripts" web
		require_reach "$WEB_USER" "$RUN_DIR" web
	fi
}

web_render() {
	local body kib if_root="" if_ipv6="" sock
	body=${CONF[MAX_BODY_BYTES]}
	if [ "${CONF[DATA_MAX_VALUE_BYTES]:-65536}" -gt "$body" ]; then
		body=${CONF[DATA_MAX_VALUE_BYTES]}
	fi
	kib=$(((body * 2 + 1023) / 1024 + 16))
	is_root || if_root="# "
	grep -q ' lo$' /proc/net/if_inet6 2>/dev/null || if_ipv6="# "
	# A unix socket path holds at most 107 bytes; lighttpd appends "-<n>".
	sock="$RUN_DIR/register.sock-$((FCGI_PROCS - 1))"
	[ "${#sock}" -le 107 ] || die "web: VAR_DIR is too long for unix sockets ($sock)"
	render "$ROOT/lighttpd/lighttpd.conf.in" "$WEB_CONF" \
		"ROOT=$ROOT" "RUN_DIR=$RUN_DIR" "LOG_DIR=$LOG_DIR" \
		"HTTP_PORT=$HTTP_PORT" "HTTPS_PORT=$HTTPS_PORT" \
		"FCGI_PROCS=$FCGI_PROCS" "MAX_REQUEST_KIB=$kib" \
		"TLS_CERT=$TLS_CERT" "TLS_KEY=$TLS_KEY" \
		"IF_ROOT=$if_root" "IF_IPV6=$if_ipv6"
}

# web_children PID - the FastCGI children of lighttpd PID.
web_children() {
	pgrep -P "$1" 2>/dev/null || true
}

# web_responders PID - the responder processes (from cgi-bin/) of lighttpd PID.
web_responders() {
	local kid exe
	for kid in $(web_children "$1"); do
		exe=$(readlink "/proc/$kid/exe" 2>/dev/null) || continue
		[[ $exe == "$ROOT/cgi-bin/"* ]] && printf '%s\n' "$kid"
	done
	return 0
}

# web_orphans - processes of this stack's web tier whose lighttpd is gone:
# a binary from cgi-bin/ (or the log filter, sed) with this stack's
# PORTCULLIS_STACK marker in its environment.
web_orphans() {
	local dir exe
	for dir in /proc/[0-9]*; do
		exe=$(readlink "$dir/exe" 2>/dev/null) || continue
		case "$exe" in
		"$ROOT/cgi-bin/"* | */sed) ;;
		*) continue ;;
		esac
		tr '\0' '\n' <"$dir/environ" 2>/dev/null |
			grep -qxF "PORTCULLIS_STACK=$VAR_DIR" || continue
		printf '%s\n' "${dir#/proc/}"
	done
}

web_start() {
	local pid i out lighttpd orphans=()
	web_paths
	web_pid >/dev/null && return 0
	[ -x "$ROOT/cgi-bin/health" ] || die "web: $ROOT/cgi-bin/health is missing (run make)"
	lighttpd=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH command -v lighttpd) ||
		die "web: lighttpd not found (scripts/install-deps.sh run)"
	for i in "$HTTPS_PORT" "$HTTP_PORT"; do
		if port_in_use "$i"; then
			die "web: port $i is taken by another program (set HTTP_PORT/HTTPS_PORT)"
		fi
	done
	# Responders left over from a lighttpd that died would hold the sockets.
	mapfile -t orphans < <(web_orphans)
	[ "${#orphans[@]}" -eq 0 ] || stop_pids 10 "${orphans[@]}"
	web_prepare_dirs
	web_render
	rm -f "$WEB_PID" "$RUN_DIR"/*.sock "$RUN_DIR"/*.sock-*
	web_env
	if ! out=$("$lighttpd" -tt -f "$WEB_CONF" 2>&1); then
		printf '%s\n' "$out" >&2
		die "web: lighttpd rejects $WEB_CONF"
	fi
	if ! out=$(umask 027 && with_resp_env "$lighttpd" -f "$WEB_CONF" 2>&1); then
		printf '%s\n' "$out" >&2
		tail -n 20 "$WEB_ERRLOG" >&2 2>/dev/null || true
		die "web: lighttpd did not start (log: $WEB_ERRLOG)"
	fi
	for i in $(seq 1 50); do
		pid=$(web_pid) && break
		[ "$i" -eq 50 ] && {
			tail -n 20 "$WEB_ERRLOG" >&2 2>/dev/null || true
			die "web: lighttpd wrote no pid file (log: $WEB_ERRLOG)"
		}
		sleep 0.1
	done
	info "web: lighttpd started (pid $pid, log: $WEB_ERRLOG)"
}

# web_wait_ready SECONDS - waits until /api/ready answers from a responder
# (any status, but JSON: lighttpd's own error pages are HTML).
web_wait_ready() {
	local url="https://localhost:$HTTPS_PORT/api/ready" deadline got
	deadline=$((SECONDS + $1))
	while [ "$SECONDS" -lt "$deadline" ]; do
		got=$(curl -sk -o /dev/null --max-time 3 -w '%{http_code} %{content_type}' "$url" || true)
		case "$got" in
		[1-5][0-9][0-9]\ application/json*) return 0 ;;
		esac
		web_pid >/dev/null || break
		sleep 0.2
	done
	tail -n 20 "$WEB_ERRLOG" >&2 2>/dev/null || true
	die "web: $url did not answer within $1 s (last: ${got:-nothing}; log: $WEB_ERRLOG)"
}

web_stop() {
	local pid kids=() left=()
	web_paths
	if pid=$(web_pid); then
		mapfile -t kids < <(web_children "$pid")
		stop_pids 15 "$pid" || die "web: lighttpd pid $pid does not stop"
		info "web: lighttpd stopped"
	fi
	# lighttpd signals its responders on the way out and the log filter
	# ends with its input; give them a moment, then make sure.
	if [ "${#kids[@]}" -gt 0 ] && ! wait_gone 5 "${kids[@]}"; then
		stop_pids 10 "${kids[@]}" || true
	fi
	mapfile -t left < <(web_orphans)
	if [ "${#left[@]}" -gt 0 ]; then
		warn "web: stopping leftover responders: ${left[*]}"
		stop_pids 10 "${left[@]}" || die "web: responders ${left[*]} do not stop"
	fi
	rm -f "$WEB_PID" "$RUN_DIR"/*.sock "$RUN_DIR"/*.sock-* 2>/dev/null || true
}

web_status() {
	local pid n
	if pid=$(web_pid); then
		n=$(web_responders "$pid" | wc -l)
		printf 'web: running (lighttpd pid %s, %s responder processes, https://localhost:%s, http on %s)\n' \
			"$pid" "$n" "$HTTPS_PORT" "$HTTP_PORT"
	else
		printf 'web: stopped\n'
		return 1
	fi
}
