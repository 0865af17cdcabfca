# shellcheck shell=bash disable=SC2034
# scripts/lib/web.sh - the web server in front of the FastCGI responders of
# cgi-bin/: lighttpd (here) or Apache (scripts/lib/apache.sh), as WEB_SERVER
# says, on the same ports with the same API.  Sourced.
#
# Both are configured from templates (lighttpd/lighttpd.conf.in,
# apache/*.conf.in) filled from the same settings as the responders, so one
# value (a port, an origin, a body limit) reaches server and code alike.
# The responders get their settings from the environment: lighttpd 1.4
# copies its whole environment into every FastCGI child it spawns when
# "bin-copy-environment" is not set, so lighttpd is started with a clean
# environment that holds only PATH and the resolved portcullis settings
# (built with `export` in a subshell, so no value ever appears on a command
# line); its rendered configuration holds no secret.  /proc/<pid>/environ is
# readable only by the process owner and root.  (Apache: see apache.sh.)
#
# As root, the web server drops to www-data after binding and reading the
# key; only $VAR_DIR/run (sockets, pid file, upload buffers, the empty
# document root) and $VAR_DIR/log are writable by www-data.
#
# Only one web server of a $VAR_DIR runs at a time: starting one stops the
# other, and `stop` stops whichever runs.

WEB_USER=www-data

web_kind() { printf '%s' "${CONF[WEB_SERVER]:-lighttpd}"; }

# web_cgi_dir - where this web server runs the responders from: CGI_DIR for
# lighttpd (sanitized builds in the test suite), cgi-bin/ for Apache.
web_cgi_dir() {
	if [ "$(web_kind)" = apache ]; then
		printf '%s' "$ROOT/cgi-bin"
	else
		printf '%s' "$CGI_DIR"
	fi
}

web_paths() {
	LT_CONF_DIR=$VAR_DIR/lighttpd
	LT_CONF=$LT_CONF_DIR/lighttpd.conf
	LT_PID=$RUN_DIR/lighttpd.pid
	LT_ERRLOG=$LOG_DIR/lighttpd-error.log
	apache_paths
	if [ "$(web_kind)" = apache ]; then
		WEB_NAME="apache ($APACHE_MODE)"
		WEB_ERRLOG=$AP_ERRLOG
	else
		WEB_NAME=lighttpd
		WEB_ERRLOG=$LT_ERRLOG
	fi
}

lighttpd_pid() {
	web_paths
	pid_of "$LT_PID" "$LT_CONF"
}

# web_pid - the pid of this $VAR_DIR's web server, whichever runs.
web_pid() {
	lighttpd_pid || apache_pid
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
	# WEB_MAX_CONNS_PER_IP is for lighttpd/conn_cap.lua (the responders
	# ignore it).
	RESP_ENV=("PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
		"PORTCULLIS_ENV_FILE=$envfile" "PORTCULLIS_STACK=$VAR_DIR"
		"WEB_MAX_CONNS_PER_IP=$WEB_MAX_CONNS_PER_IP")
	# Responders built with sanitizers (CGI_DIR) read their options here.
	for key in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -z "${!key-}" ] || RESP_ENV+=("$key=${!key}")
	done
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
	mkdir -p "$RUN_DIR/www" "$RUN_DIR/upload" "$LT_CONF_DIR"
	log_dir_ensure
	chmod 0700 "$RUN_DIR" "$RUN_DIR/upload" "$LT_CONF_DIR"
	chmod 0755 "$RUN_DIR/www"
	if [ "${CONF[LOG_FILE]}" != - ]; then
		touch "${CONF[LOG_FILE]}"
		chmod 0640 "${CONF[LOG_FILE]}"
		if is_root; then chown "$WEB_USER:$WEB_USER" "${CONF[LOG_FILE]}"; fi
	fi
	if is_root; then
		chown -R "$WEB_USER:$WEB_USER" "$RUN_DIR"
		require_reach "$WEB_USER" "$(web_cgi_dir)" web
		require_reach "$WEB_USER" "$ROOT/scripts" web
		require_reach "$WEB_USER" "$RUN_DIR" web
		# Read at request time, after the drop to www-data.
		if [ "$(web_kind)" = apache ]; then
			require_reach "$WEB_USER" "$ROOT/apache/errors" web
		else
			require_reach "$WEB_USER" "$ROOT/lighttpd" web
		fi
	fi
}

# web_render_values - what both servers' templates are filled with:
#   WEB_BODY_LIMIT    request body limit in bytes: twice the larger of
#                     MAX_BODY_BYTES and DATA_MAX_VALUE_BYTES, plus 16 KiB
#                     (a whole KiB count), so a body just over either
#                     reaches the responder for its JSON 413
#   WEB_IF_ROOT       "" when root (drop to www-data), else "# "
#   WEB_IF_IPV6       "" when loopback has IPv6 (listen on it too), else "# "
#   WEB_IF_METRICS    "" when cgi-bin/metrics exists (route /metrics), else "# "
#   WEB_IF_API_DOCS   "" with API_DOCS=on (static /api/docs), else "# "
#   WEB_RESPONDERS    the responders routed to, by name: health (the
#                     fallback), those of the route manifest under /api/
#                     (routes.sh), and metrics when it exists
web_render_values() {
	local body kib
	body=${CONF[MAX_BODY_BYTES]}
	if [ "${CONF[DATA_MAX_VALUE_BYTES]:-65536}" -gt "$body" ]; then
		body=${CONF[DATA_MAX_VALUE_BYTES]}
	fi
	kib=$(((body * 2 + 1023) / 1024 + 16))
	WEB_BODY_LIMIT=$((kib * 1024))
	WEB_MAX_REQUEST_KIB=$kib
	WEB_IF_ROOT=""
	is_root || WEB_IF_ROOT="# "
	WEB_IF_IPV6=""
	grep -q ' lo$' /proc/net/if_inet6 2>/dev/null || WEB_IF_IPV6="# "
	routes_load
	mapfile -t WEB_RESPONDERS < <(printf '%s\n' "$ROUTES_FALLBACK"; routes_api_responders)
	WEB_IF_METRICS="# "
	if [ -x "$(web_cgi_dir)/metrics" ]; then
		WEB_IF_METRICS=""
		WEB_RESPONDERS+=(metrics)
	fi
	# API_DOCS=on: openapi.yaml as the static file <document root>/api/docs.
	WEB_IF_API_DOCS="# "
	rm -rf "$RUN_DIR/www/api"
	if [ "${API_DOCS:-off}" = on ]; then
		WEB_IF_API_DOCS=""
		mkdir -p "$RUN_DIR/www/api"
		cp "$ROOT/openapi.yaml" "$RUN_DIR/www/api/docs"
		chmod 0755 "$RUN_DIR/www/api"
		chmod 0644 "$RUN_DIR/www/api/docs"
		if is_root; then chown -R "$WEB_USER:$WEB_USER" "$RUN_DIR/www/api"; fi
	fi
	local name
	for name in "${WEB_RESPONDERS[@]}"; do
		[ -x "$(web_cgi_dir)/$name" ] || die "web: $(web_cgi_dir)/$name is missing (run make)"
	done
}

# trusted_proxy_items - the entries of TRUSTED_PROXIES, one a line, blanks
# removed; dies naming one that is not an address or CIDR.
trusted_proxy_items() {
	local item items=()
	IFS=, read -r -a items <<<"${CONF[TRUSTED_PROXIES]-}"
	for item in "${items[@]}"; do
		item=${item//[[:blank:]]/}
		[ -n "$item" ] || continue
		[[ $item =~ ^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$ ]] ||
			die "TRUSTED_PROXIES: \"$item\" is not an address or CIDR"
		printf '%s\n' "$item"
	done
}

# lighttpd_trusted_blocks - for each entry of TRUSTED_PROXIES, a block that
# runs the request scripts without the per-address cap (conn_cap.lua), and
# first forwarded_tls.lua (a request it forwarded from its own TLS is served
# as HTTPS).
lighttpd_trusted_blocks() {
	local item
	while IFS= read -r item; do
		# shellcheck disable=SC2016 # a literal lighttpd "$HTTP"
		printf '$HTTP["remoteip"] == "%s" {\n' "$item"
		printf '\tmagnet.attract-raw-url-to = ( "%s/lighttpd/forwarded_tls.lua", "%s/lighttpd/edge.lua", "%s/lighttpd/cors.lua" )\n}\n' \
			"$ROOT" "$ROOT" "$ROOT"
	done < <(trusted_proxy_items)
}

lighttpd_render() {
	local sock name pools=()
	# A unix socket path holds at most 107 bytes; lighttpd appends "-0".
	sock="$RUN_DIR/register.sock-0"
	[ "${#sock}" -le 107 ] || die "web: VAR_DIR is too long for unix sockets ($sock)"
	for name in "${POOL_RESPONDERS[@]}"; do
		pools+=("WORKERS_${name^^}=$(routes_workers "$name")")
	done
	render "$ROOT/lighttpd/lighttpd.conf.in" "$LT_CONF" \
		"ROOT=$ROOT" "RUN_DIR=$RUN_DIR" "LOG_DIR=$LOG_DIR" \
		"HTTP_PORT=$HTTP_PORT" "HTTPS_PORT=$HTTPS_PORT" "CGI_DIR=$CGI_DIR" "${pools[@]}" \
		"MAX_REQUEST_KIB=$WEB_MAX_REQUEST_KIB" \
		"READ_TIMEOUT=$WEB_READ_TIMEOUT" \
		"TLS_CERT=$TLS_CERT" "TLS_KEY=$TLS_KEY" \
		"IF_ROOT=$WEB_IF_ROOT" "IF_IPV6=$WEB_IF_IPV6" "IF_METRICS=$WEB_IF_METRICS" \
		"IF_API_DOCS=$WEB_IF_API_DOCS" \
		"TRUSTED_BLOCKS=$(lighttpd_trusted_blocks)" \
		"ROUTE_BLOCKS=$(routes_lighttpd "$CGI_DIR" "$RUN_DIR")"
}

# web_children PID - the child processes of PID.
web_children() {
	pgrep -P "$1" 2>/dev/null || true
}

# web_responders - the responder processes (from cgi-bin/ or CGI_DIR) of this stack.
web_responders() {
	local dir exe
	for dir in /proc/[0-9]*; do
		exe=$(readlink "$dir/exe" 2>/dev/null) || continue
		[[ $exe == "$ROOT/cgi-bin/"* || $exe == "$CGI_DIR/"* ]] || continue
		tr '\0' '\n' <"$dir/environ" 2>/dev/null |
			grep -qxF "PORTCULLIS_STACK=$VAR_DIR" || continue
		printf '%s\n' "${dir#/proc/}"
	done
	return 0
}

# web_orphans - processes of this stack's web tier whose web server is gone:
# a binary from cgi-bin/ (or the log filter, sed) with this stack's
# PORTCULLIS_STACK marker in its environment.
web_orphans() {
	local dir exe
	for dir in /proc/[0-9]*; do
		exe=$(readlink "$dir/exe" 2>/dev/null) || continue
		case "$exe" in
		"$ROOT/cgi-bin/"* | "$CGI_DIR/"* | */sed) ;;
		*) continue ;;
		esac
		tr '\0' '\n' <"$dir/environ" 2>/dev/null |
			grep -qxF "PORTCULLIS_STACK=$VAR_DIR" || continue
		printf '%s\n' "${dir#/proc/}"
	done
}

lighttpd_start() {
	local pid i out lighttpd
	lighttpd=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH command -v lighttpd) ||
		die "web: lighttpd not found (scripts/install-deps.sh run)"
	[ -e /usr/lib/lighttpd/mod_magnet.so ] ||
		die "web: lighttpd's mod_magnet is missing (package lighttpd-modules-lua; scripts/install-deps.sh run)"
	web_render_values
	lighttpd_render
	rm -f "$LT_PID" "$RUN_DIR"/*.sock "$RUN_DIR"/*.sock-*
	web_env
	if ! out=$("$lighttpd" -tt -f "$LT_CONF" 2>&1); then
		printf '%s\n' "$out" >&2
		die "web: lighttpd rejects $LT_CONF"
	fi
	if ! out=$(umask 027 && with_resp_env "$lighttpd" -f "$LT_CONF" 2>&1); then
		printf '%s\n' "$out" >&2
		tail -n 20 "$LT_ERRLOG" >&2 2>/dev/null || true
		die "web: lighttpd did not start (log: $LT_ERRLOG)"
	fi
	for i in $(seq 1 50); do
		pid=$(lighttpd_pid) && break
		[ "$i" -eq 50 ] && {
			tail -n 20 "$LT_ERRLOG" >&2 2>/dev/null || true
			die "web: lighttpd wrote no pid file (log: $LT_ERRLOG)"
		}
		sleep 0.1
	done
	info "web: lighttpd started (pid $pid, log: $LT_ERRLOG)"
}

lighttpd_stop() {
	local pid kids=()
	web_paths
	pid=$(lighttpd_pid) || return 0
	mapfile -t kids < <(web_children "$pid")
	stop_pids 15 "$pid" || die "web: lighttpd pid $pid does not stop"
	info "web: lighttpd stopped"
	# lighttpd signals its responders on the way out and the log filter
	# ends with its input; give them a moment, then make sure.
	if [ "${#kids[@]}" -gt 0 ] && ! wait_gone 5 "${kids[@]}"; then
		stop_pids 10 "${kids[@]}" || true
	fi
}

# web_start - starts the web server WEB_SERVER names (Apache: in
# APACHE_MODE), unless it runs; another one (or Apache in the other mode),
# if it runs for this $VAR_DIR, is stopped first.
web_start() {
	local i orphans=()
	web_paths
	case "$(web_kind)" in
	lighttpd) lighttpd_pid >/dev/null && return 0 ;;
	apache)
		if apache_pid >/dev/null; then
			[ "$(cat "$AP_DIR/mode" 2>/dev/null)" != "$APACHE_MODE" ] || return 0
		fi
		;;
	*) die "web: WEB_SERVER \"$(web_kind)\" is not lighttpd or apache" ;;
	esac
	if web_pid >/dev/null; then
		info "web: switching to $WEB_NAME"
		web_stop
	fi
	[ -x "$ROOT/cgi-bin/health" ] || die "web: $ROOT/cgi-bin/health is missing (run make)"
	for i in "$HTTPS_PORT" "$HTTP_PORT"; do
		if port_in_use "$i"; then
			die "web: port $i is taken by another program (set HTTP_PORT/HTTPS_PORT)"
		fi
	done
	# Responders left over from a web server that died would hold the sockets.
	mapfile -t orphans < <(web_orphans)
	[ "${#orphans[@]}" -eq 0 ] || stop_pids 10 "${orphans[@]}"
	web_prepare_dirs
	case "$(web_kind)" in
	lighttpd) lighttpd_start ;;
	apache) apache_start ;;
	esac
}

# web_wait_ready SECONDS - waits until /api/ready answers from a responder
# (any status, but JSON: the servers' own error pages are HTML).
web_wait_ready() {
	local url="https://localhost:$HTTPS_PORT/api/ready" deadline got
	web_paths
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

# web_stop - stops this $VAR_DIR's web server, whichever runs, and every
# responder and log filter of it that is left.
web_stop() {
	local left=()
	web_paths
	lighttpd_stop
	apache_stop
	mapfile -t left < <(web_orphans)
	if [ "${#left[@]}" -gt 0 ]; then
		warn "web: stopping leftover responders: ${left[*]}"
		stop_pids 10 "${left[@]}" || die "web: responders ${left[*]} do not stop"
	fi
	rm -f "$LT_PID" "$RUN_DIR"/*.sock "$RUN_DIR"/*.sock-* 2>/dev/null || true
}

web_status() {
	local pid n name
	web_paths
	if pid=$(lighttpd_pid); then
		name=lighttpd
	elif pid=$(apache_pid); then
		name="apache, $(cat "$AP_DIR/mode" 2>/dev/null || echo "$APACHE_MODE")"
	else
		printf 'web: stopped\n'
		return 1
	fi
	n=$(web_responders | wc -l)
	printf 'web: running (%s pid %s, %s responder processes, https://localhost:%s, http on %s)\n' \
		"$name" "$pid" "$n" "$HTTPS_PORT" "$HTTP_PORT"
}
