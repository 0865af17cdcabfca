# shellcheck shell=bash disable=SC2034
# scripts/lib/apache.sh - Apache 2.4 in front of the responders, for
# WEB_SERVER=apache.  Sourced after web.sh, which calls these functions.
#
# Apache runs from its binary with its own configuration: `-f`
# $VAR_DIR/apache/httpd.conf (rendered from apache/httpd.conf.in) and `-d`
# $VAR_DIR/apache as ServerRoot; modules load by absolute path from
# /usr/lib/apache2/modules, and nothing under /etc/apache2 is read or
# changed.  Pid file, fcgid sockets and shared memory live in $VAR_DIR/run,
# logs in $VAR_DIR/log.  As root it binds and reads its files as root, then
# serves (and runs the responders) as www-data.
#
# APACHE_MODE picks how the responders are reached (apache/<mode>.conf.in,
# rendered into $VAR_DIR/apache/responders.conf):
#   fcgid       mod_fcgid spawns them; their settings are FcgidInitialEnv
#               lines in that file (so it is 0600 root, in a 0700 directory),
#               with values over mod_fcgid's 127-byte limit in a dotenv file
#               of www-data's own (0400) named by PORTCULLIS_ENV_FILE.
#   proxy-fcgi  spawn-fcgi starts PROCS[NAME] processes of each responder on
#               a unix socket in $VAR_DIR/run, with the responders'
#               environment (as lighttpd's children get it); mod_proxy_fcgi
#               forwards to them.  `down` and `stop web` stop them too.

AP_MODULES=/usr/lib/apache2/modules
# Worker threads of Apache's one process: the requests it serves at once
# (apache/httpd.conf.in).
AP_THREADS=48
# mod_fcgid's fixed limits: 64 variables of at most 127 bytes each.
AP_INITENV_MAX_VALUE=127
AP_INITENV_MAX_COUNT=60

apache_paths() {
	AP_DIR=$VAR_DIR/apache
	AP_CONF=$AP_DIR/httpd.conf
	AP_RESP_CONF=$AP_DIR/responders.conf
	AP_SITE_CONF=$AP_DIR/site.conf
	AP_CONNCAP_SO=$ROOT/build/apache/mod_portcullis_conncap.so
	AP_GATE_SO=$ROOT/build/apache/mod_portcullis_fcgid_gate.so
	AP_PID=$RUN_DIR/apache.pid
	AP_ERRLOG=$LOG_DIR/apache-error.log
	AP_ENV_FILE=$RUN_DIR/responders.env
	AP_SPAWN_LOG=$LOG_DIR/spawn-fcgi.log
}

apache_pid() {
	apache_paths
	pid_of "$AP_PID" "$AP_CONF"
}

apache_bin() {
	PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH command -v apache2 ||
		die "web: apache2 not found (scripts/install-deps.sh run)"
}

# apache_conf_quote VALUE - VALUE as a double-quoted Apache argument; fails
# for a value Apache cannot take back literally (a line break, or "${",
# which Apache would read as a variable of its own).
apache_conf_quote() {
	local v=$1
	# shellcheck disable=SC2016 # a literal "${"
	case "$v" in
	*$'\n'* | *$'\r'* | *'${'*) return 1 ;;
	esac
	v=${v//\\/\\\\}
	v=${v//\"/\\\"}
	printf '"%s"' "$v"
}

# dotenv_quote VALUE - VALUE as a .env value that lib/config.c reads back
# exactly (quotes are taken literally, with no escapes); fails if none does.
dotenv_quote() {
	local v=$1
	case "$v" in *$'\n'* | *$'\r'*) return 1 ;; esac
	if [[ $v != *"'"* ]]; then
		printf "'%s'" "$v"
	elif [[ $v != *'"'* ]]; then
		printf '"%s"' "$v"
	elif [[ $v != [[:blank:]\"\']* && $v != *[[:blank:]] && ! $v =~ [[:blank:]]# ]]; then
		printf '%s' "$v"
	else
		return 1
	fi
}

# apache_initenv - prints the FcgidInitialEnv lines for RESP_ENV and writes
# what they cannot carry to $AP_ENV_FILE (always written, maybe empty, and
# named by PORTCULLIS_ENV_FILE: every setting is in one or the other, so the
# project's .env is not needed by the responders).
apache_initenv() {
	local pair key val q n=0 overflow=""
	for pair in "${RESP_ENV[@]}"; do
		key=${pair%%=*}
		val=${pair#*=}
		[ "$key" = PORTCULLIS_ENV_FILE ] && continue
		if [ "${#val}" -le "$AP_INITENV_MAX_VALUE" ] && [ "$n" -lt "$AP_INITENV_MAX_COUNT" ] &&
			q=$(apache_conf_quote "$val"); then
			printf 'FcgidInitialEnv %s %s\n' "$key" "$q"
			n=$((n + 1))
		else
			q=$(dotenv_quote "$val") ||
				die "$key: its value cannot be handed to the responders under Apache (line break, or both kinds of quotes)"
			overflow+="$key=$q"$'\n'
		fi
	done
	printf 'FcgidInitialEnv PORTCULLIS_ENV_FILE %s\n' "$(apache_conf_quote "$AP_ENV_FILE")"
	(
		umask 077
		rm -f "$AP_ENV_FILE"
		printf '# Written by scripts/lib/apache.sh: settings too long for FcgidInitialEnv.\n%s' \
			"$overflow" >"$AP_ENV_FILE"
	)
	if is_root; then chown "$WEB_USER:$WEB_USER" "$AP_ENV_FILE"; fi
	chmod 0400 "$AP_ENV_FILE"
}

# apache_cmd_options INITENV - one FcgidCmdOptions line per responder, for
# its own pool size (PROCS[NAME], config.sh).  A command with FcgidCmdOptions
# takes none of the server-wide Fcgid* values, so the lifetimes and timeouts
# of fcgid.conf and the environment (INITENV, the FcgidInitialEnv lines of
# apache_initenv) are repeated on it.
apache_cmd_options() {
	local name env="" line key rest
	while IFS= read -r line; do
		[[ $line =~ ^FcgidInitialEnv\ ([A-Za-z_][A-Za-z0-9_]*)\ \"(.*)$ ]] || continue
		key=${BASH_REMATCH[1]}
		rest=${BASH_REMATCH[2]}
		env+=" InitialEnv \"$key=$rest"
	done <<<"$1"
	for name in "${WEB_RESPONDERS[@]}"; do
		printf 'FcgidCmdOptions %s MaxProcesses %s MinProcesses 1 IdleTimeout 0 MaxProcessLifetime 0 MaxRequestsPerProcess 0 ConnectTimeout 5 IOTimeout 60%s\n' \
			"$(apache_conf_quote "$ROOT/cgi-bin/$name")" "$(apache_fcgid_max "$name")" "$env"
	done
}

# apache_fcgid_max NAME - the processes mod_fcgid runs of NAME: its pool
# (PROCS[NAME]).  mod_portcullis_fcgid_gate lets no more of its requests in
# at once (apache_gate_lines), and apache_warmup starts them all.
apache_fcgid_max() {
	echo "${PROCS[$1]}"
}

# apache_gate_lines - one PortcullisFcgidGate line per responder: at most
# its pool of requests inside mod_fcgid at once.
apache_gate_lines() {
	local name
	for name in "${WEB_RESPONDERS[@]}"; do
		printf 'PortcullisFcgidGate %s %s\n' "$(apache_conf_quote "$ROOT/cgi-bin/$name")" "$(apache_fcgid_max "$name")"
	done
}

# apache_warmup_path NAME - a path the rewrite rules hand to NAME.
apache_warmup_path() {
	local line name tmpl
	[ "$1" = metrics ] && { printf '/metrics'; return 0; }
	for line in "${ROUTES[@]}"; do
		IFS=$'\t' read -r name _ tmpl _ <<<"$line"
		[ "$name" = "$1" ] || continue
		printf '%s' "${tmpl//\{*\}/warmup}"
		return 0
	done
	return 1
}

# apache_fcgid_exes - the executable of each responder process of this
# stack (its PORTCULLIS_STACK marker), one a line; one find over /proc.
apache_fcgid_exes() {
	local dir exe
	while read -r dir exe; do
		grep -qzxF "PORTCULLIS_STACK=$VAR_DIR" "$dir/environ" 2>/dev/null && printf '%s\n' "$exe"
	done < <(find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$ROOT/cgi-bin/*" -printf '%h %l\n' 2>/dev/null)
	return 0
}

# apache_warmup - fcgid mode: starts every responder's whole pool now.
# mod_fcgid starts a process only when a request has slept a second finding
# the pool busy; N requests at once with the warm-up token, whose processes
# mod_portcullis_fcgid_gate holds until all N hold one, make it start N.
# The responders go in groups that stay under Apache's threads and the
# per-address connection cap.  The token goes to curl on its standard input,
# not its command line.
apache_warmup() {
	local budget name n path group=() sum=0 conf="" got=() exes
	budget=$((AP_THREADS - 8))
	if [ "$WEB_MAX_CONNS_PER_IP" -gt 0 ] && [ "$((WEB_MAX_CONNS_PER_IP - 2))" -lt "$budget" ]; then
		budget=$((WEB_MAX_CONNS_PER_IP - 2))
	fi
	[ "$budget" -ge 1 ] || budget=1
	for name in "${WEB_RESPONDERS[@]}" ""; do
		if [ -n "$name" ]; then
			n=$(apache_fcgid_max "$name")
			# A pool of one starts with its first request, which never waits.
			[ "$n" -gt 1 ] || continue
			[ "$n" -le "$budget" ] || n=$budget
			path=$(apache_warmup_path "$name") || continue
		fi
		if [ -z "$name" ] || [ $((sum + n)) -gt "$budget" ]; then
			if [ "$sum" -gt 0 ]; then
				printf 'header = "X-Portcullis-Warmup: %s"\n%s' "$AP_GATE_TOKEN" "$conf" |
					curl --silent --insecure --http1.1 --parallel --parallel-immediate \
						--parallel-max "$sum" --max-time 15 --config - >/dev/null 2>&1 || true
			fi
			group=() sum=0 conf=""
			[ -n "$name" ] || break
		fi
		group+=("$name")
		sum=$((sum + n))
		for _ in $(seq 1 "$n"); do
			conf+="url = \"https://127.0.0.1:$HTTPS_PORT$path\""$'\n'"output = \"/dev/null\""$'\n'
		done
	done
	exes=$(apache_fcgid_exes)
	for name in "${WEB_RESPONDERS[@]}"; do
		got+=("$name $(grep -c -x -F "$ROOT/cgi-bin/$name" <<<"$exes")/$(apache_fcgid_max "$name")")
	done
	info "web: mod_fcgid pools: $(IFS=,; printf '%s' "${got[*]}" | sed 's/,/, /g')"
}

# apache_proxy_pools - the <Proxy> worker of each responder of proxy-fcgi.conf.
apache_proxy_pools() {
	local name
	for name in "${WEB_RESPONDERS[@]}"; do
		printf '<Proxy "fcgi://portcullis-%s/" enablereuse=on max=%s>\n</Proxy>\n' "$name" "${PROCS[$name]}"
	done
}

# apache_proxy_handlers - the <Files> sections of proxy-fcgi.conf.
apache_proxy_handlers() {
	local name
	for name in "${WEB_RESPONDERS[@]}"; do
		printf '\t<Files "%s">\n\t\tSetHandler "proxy:unix:%s/%s.sock|fcgi://portcullis-%s/"\n\t</Files>\n' \
			"$name" "$RUN_DIR" "$name" "$name"
	done
}

# apache_forwarded_tls - the condition (an Apache expression) under which a
# plain HTTP request is one a trusted proxy forwarded from its own TLS:
# from an address of TRUSTED_PROXIES with X-Forwarded-Proto exactly
# "https" (case aside); "false" when TRUSTED_PROXIES is empty.
apache_forwarded_tls() {
	local item from=""
	while IFS= read -r item; do
		from+="${from:+ || }-R '$item'"
	done < <(trusted_proxy_items)
	if [ -z "$from" ]; then
		printf 'false'
	else
		printf "(%s) && tolower(req_novary('X-Forwarded-Proto')) == 'https'" "$from"
	fi
}

# apache_conncap - sets AP_IF_CONNCAP, AP_IF_CONNCAP_EXEMPT and
# AP_CONNCAP_EXEMPT for httpd.conf: the module of the per-address cap is
# loaded unless WEB_MAX_CONNS_PER_IP is 0, with TRUSTED_PROXIES exempt; a
# missing module stops the start (it is built by make where apxs is).
apache_conncap() {
	local items
	AP_IF_CONNCAP="# " AP_IF_CONNCAP_EXEMPT="# " AP_CONNCAP_EXEMPT=""
	[ "$WEB_MAX_CONNS_PER_IP" -gt 0 ] || return 0
	[ -e "$AP_CONNCAP_SO" ] ||
		die "web: $AP_CONNCAP_SO is missing: Apache needs it for WEB_MAX_CONNS_PER_IP (install apache2-dev, then make; or set WEB_MAX_CONNS_PER_IP=0)"
	AP_IF_CONNCAP=""
	items=$(trusted_proxy_items | tr '\n' ' ')
	if [ -n "$items" ]; then
		AP_IF_CONNCAP_EXEMPT=""
		AP_CONNCAP_EXEMPT=${items% }
	fi
}

apache_render() {
	local cors_list="" if_cors="# " origin mode_conf extra=() initenv name n total=0 class_max=1 values
	while IFS= read -r origin; do
		cors_list+="${cors_list:+, }'$origin'"
	done < <(cors_origins)
	[ -z "$cors_list" ] || if_cors=""
	mkdir -p "$AP_DIR"
	chmod 0700 "$AP_DIR"
	case "$APACHE_MODE" in
	fcgid)
		mode_conf=$ROOT/apache/fcgid.conf.in
		initenv=$(apache_initenv)
		for name in "${WEB_RESPONDERS[@]}"; do
			n=$(apache_fcgid_max "$name")
			total=$((total + n))
			[ "$n" -le "$class_max" ] || class_max=$n
		done
		[ -e "$AP_GATE_SO" ] ||
			die "web: $AP_GATE_SO is missing: Apache with mod_fcgid needs it (install apache2-dev, then make; or APACHE_MODE=proxy-fcgi)"
		AP_GATE_TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
		[ "${#AP_GATE_TOKEN}" -eq 32 ] || die "web: no random token for the warm-up"
		extra=("INITENV=$initenv" "CMD_OPTIONS=$(apache_cmd_options "$initenv")"
			"FCGID_MAX_PROCS=$((total + 4))" "FCGID_CLASS_MAX=$class_max"
			"FCGID_SPAWN_LIMIT=$((2 * class_max > 10 ? 2 * class_max : 10))"
			"GATE_SO=$AP_GATE_SO" "GATE_LINES=$(apache_gate_lines)" "GATE_TOKEN=$AP_GATE_TOKEN")
		;;
	proxy-fcgi)
		mode_conf=$ROOT/apache/proxy-fcgi.conf.in
		extra=("HANDLERS=$(apache_proxy_handlers)" "POOLS=$(apache_proxy_pools)")
		;;
	esac
	render "$mode_conf" "$AP_RESP_CONF" \
		"MODULES=$AP_MODULES" "ROOT=$ROOT" "RUN_DIR=$RUN_DIR" \
		"FCGI_PROCS=$(procs_max)" "BODY_LIMIT=$WEB_BODY_LIMIT" "${extra[@]}"
	apache_conncap
	values=("MODULES=$AP_MODULES" "ROOT=$ROOT" "RUN_DIR=$RUN_DIR" "LOG_DIR=$LOG_DIR"
		"AP_DIR=$AP_DIR" "HTTP_PORT=$HTTP_PORT" "HTTPS_PORT=$HTTPS_PORT"
		"TLS_CERT=$TLS_CERT" "TLS_KEY=$TLS_KEY" "BODY_LIMIT=$WEB_BODY_LIMIT"
		"READ_TIMEOUT=$WEB_READ_TIMEOUT" "READ_TIMEOUT_MAX=$((WEB_READ_TIMEOUT * 2))"
		"IF_ROOT=$WEB_IF_ROOT" "IF_IPV6=$WEB_IF_IPV6" "IF_METRICS=$WEB_IF_METRICS"
		"IF_CORS=$if_cors" "CORS_LIST=$cors_list" "IF_API_DOCS=$WEB_IF_API_DOCS"
		"IF_PROXY=$([ "$APACHE_MODE" = proxy-fcgi ] || printf '# ')" "THREADS=$AP_THREADS"
		"FORWARDED_TLS=$(apache_forwarded_tls)"
		"IF_CONNCAP=$AP_IF_CONNCAP" "CONNCAP_SO=$AP_CONNCAP_SO"
		"MAX_CONNS_PER_IP=$WEB_MAX_CONNS_PER_IP"
		"IF_CONNCAP_EXEMPT=$AP_IF_CONNCAP_EXEMPT" "CONNCAP_EXEMPT=$AP_CONNCAP_EXEMPT"
		"ROUTE_RULES=$(routes_apache "$ROOT/cgi-bin")")
	render "$ROOT/apache/site.conf.in" "$AP_SITE_CONF" "${values[@]}"
	render "$ROOT/apache/httpd.conf.in" "$AP_CONF" "${values[@]}"
}

# apache_spawn_start - proxy-fcgi mode: PROCS[NAME] processes of each
# responder on $RUN_DIR/<name>.sock, started by spawn-fcgi with the
# responders' environment, as www-data when we are root.  spawn-fcgi starts
# one process a responder, which forks its pool (--workers, lib/prefork.h),
# writes its pid to $RUN_DIR/<name>.pids and exits.
apache_spawn_start() {
	local spawn name sock user_args=() i workers=()
	spawn=$(PATH=/usr/bin:/usr/sbin:/bin:/sbin:$PATH command -v spawn-fcgi) ||
		die "web: spawn-fcgi not found (scripts/install-deps.sh run)"
	if is_root; then
		user_args=(-u "$WEB_USER" -g "$WEB_USER" -U "$WEB_USER" -G "$WEB_USER")
	fi
	touch "$AP_SPAWN_LOG"
	if is_root; then chown "$WEB_USER:$WEB_USER" "$AP_SPAWN_LOG"; fi
	chmod 0600 "$AP_SPAWN_LOG"
	for name in "${WEB_RESPONDERS[@]}"; do
		sock=$RUN_DIR/$name.sock
		rm -f "$sock" "$RUN_DIR/$name.pids"
		read -ra workers <<<"$(routes_workers "$name")"
		if ! with_resp_env "$spawn" -s "$sock" -M 0600 "${user_args[@]}" \
			-F 1 -P "$RUN_DIR/$name.pids" -d "$ROOT/cgi-bin" \
			-- "$ROOT/cgi-bin/$name" "${workers[@]}" >>"$AP_SPAWN_LOG" 2>&1; then
			tail -n 20 "$AP_SPAWN_LOG" >&2 || true
			apache_spawn_stop
			die "web: spawn-fcgi could not start $name (log: $AP_SPAWN_LOG)"
		fi
	done
	# A responder that cannot start (a bad setting) exits at once.
	sleep 0.2
	for name in "${WEB_RESPONDERS[@]}"; do
		i=$(apache_serving "$name" | wc -l)
		if [ "$i" -lt "${PROCS[$name]}" ]; then
			tail -n 20 "$AP_SPAWN_LOG" >&2 || true
			apache_spawn_stop
			die "web: $name: $i of ${PROCS[$name]} processes run (log: $AP_SPAWN_LOG)"
		fi
	done
}

# apache_spawned [NAME] - the live pids spawn-fcgi recorded (for NAME, or all).
apache_spawned() {
	local f pid name
	for f in "$RUN_DIR"/*.pids; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .pids)
		[ -z "${1-}" ] || [ "$1" = "$name" ] || continue
		# spawn-fcgi ends its last line without a newline.
		while read -r pid || [ -n "$pid" ]; do
			case "$pid" in '' | *[!0-9]*) continue ;; esac
			[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$ROOT/cgi-bin/$name" ] &&
				printf '%s\n' "$pid"
		done <"$f"
	done
	return 0
}

# apache_serving NAME - the processes that serve NAME's socket: the workers
# its spawned process forked, or that process itself when it has none.
apache_serving() {
	local pid kid kids
	while read -r pid; do
		kids=0
		for kid in $(pgrep -P "$pid" 2>/dev/null); do
			[ "$(readlink "/proc/$kid/exe" 2>/dev/null)" = "$ROOT/cgi-bin/$1" ] || continue
			printf '%s\n' "$kid"
			kids=$((kids + 1))
		done
		[ "$kids" -gt 0 ] || printf '%s\n' "$pid"
	done < <(apache_spawned "$1")
}

apache_spawn_stop() {
	local pids=()
	mapfile -t pids < <(apache_spawned)
	if [ "${#pids[@]}" -gt 0 ]; then
		stop_pids 10 "${pids[@]}" || die "web: responders ${pids[*]} do not stop"
	fi
	rm -f "$RUN_DIR"/*.pids
}

apache_start() {
	local apache out pid i
	apache=$(apache_bin)
	apache_paths
	web_render_values
	mkdir -p "$RUN_DIR/fcgid"
	chmod 0700 "$RUN_DIR/fcgid"
	if is_root; then chown "$WEB_USER:$WEB_USER" "$RUN_DIR/fcgid"; fi
	rm -f "$AP_PID" "$RUN_DIR"/fcgid/* 2>/dev/null || true
	web_env
	apache_render
	if ! out=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$apache" -t -f "$AP_CONF" -d "$AP_DIR" 2>&1); then
		printf '%s\n' "$out" >&2
		die "web: apache rejects $AP_CONF"
	fi
	[ "$APACHE_MODE" = proxy-fcgi ] && apache_spawn_start
	# A clean environment: Apache needs none of the settings (they are in
	# its files, or in the spawned responders' own environment).
	if ! out=$(umask 027 && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C \
		PORTCULLIS_STACK="$VAR_DIR" "$apache" -f "$AP_CONF" -d "$AP_DIR" -k start 2>&1); then
		printf '%s\n' "$out" >&2
		tail -n 20 "$AP_ERRLOG" >&2 2>/dev/null || true
		apache_spawn_stop
		die "web: apache did not start (log: $AP_ERRLOG)"
	fi
	for i in $(seq 1 50); do
		pid=$(apache_pid) && break
		if [ "$i" -eq 50 ]; then
			tail -n 20 "$AP_ERRLOG" >&2 2>/dev/null || true
			apache_spawn_stop
			die "web: apache wrote no pid file (log: $AP_ERRLOG)"
		fi
		sleep 0.1
	done
	printf '%s\n' "$APACHE_MODE" >"$AP_DIR/mode"
	info "web: apache ($APACHE_MODE) started (pid $pid, log: $AP_ERRLOG)"
	[ "$APACHE_MODE" != fcgid ] || apache_warmup
}

apache_stop() {
	local pid kids=()
	apache_paths
	if pid=$(apache_pid); then
		mapfile -t kids < <(pgrep -P "$pid" 2>/dev/null || true)
		stop_pids 15 "$pid" || die "web: apache pid $pid does not stop"
		# The workers, mod_fcgid's process manager and its responders
		# follow their parent out; give them a moment, then make sure.
		if [ "${#kids[@]}" -gt 0 ] && ! wait_gone 5 "${kids[@]}"; then
			stop_pids 10 "${kids[@]}" || true
		fi
		info "web: apache stopped"
	fi
	apache_spawn_stop
	rm -f "$AP_PID" "$AP_DIR/mode" "$RUN_DIR"/fcgid/* "$RUN_DIR"/ssl_scache* 2>/dev/null || true
}

