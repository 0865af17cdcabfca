# shellcheck shell=bash disable=SC2034
# scripts/lib/redis.sh - the private Redis of this $VAR_DIR, used only when
# REDIS_URL is not set.  Sourced.
#
# A generated redis.conf in $VAR_DIR/redis/ (0600: it holds requirepass)
# binds 127.0.0.1:$REDIS_PORT with protected mode and a password from
# secrets.env; data (dump.rdb) and the pid file stay in that directory, the
# log goes to $VAR_DIR/log/redis.log.  As root it runs as the `redis` system
# user.  The password reaches redis-cli through REDISCLI_AUTH, never argv.

redis_paths() {
	REDIS_DIR=$VAR_DIR/redis
	# The unix socket, in a directory of its own that others may only cross
	# (REDIS_DIR holds the snapshot and stays closed): 0666 like the TCP port
	# on loopback, the password guards both.
	REDIS_SOCK_DIR=$VAR_DIR/redis-socket
	REDIS_SOCK=$REDIS_SOCK_DIR/redis.sock
	REDIS_CONF=$REDIS_DIR/redis.conf
	REDIS_PID=$REDIS_DIR/redis.pid
	REDIS_LOG=$LOG_DIR/redis.log
	REDIS_USER=$(id -un)
	if is_root && id redis >/dev/null 2>&1; then REDIS_USER=redis; fi
}

# REDIS_EXTERNAL is set by stack.sh: 1 when REDIS_URL names a server.
redis_managed() { [ "${REDIS_EXTERNAL:-0}" = 0 ]; }

redis_use_private() {
	CONF[REDIS_URL]="redis://:${SECRET[REDIS_PASSWORD]}@127.0.0.1:$REDIS_PORT/0"
}

# redis_pid - the pid of this stack's Redis.  Redis rewrites its command
# line, so it is recognised by its working directory (its `dir`), which
# stays right even if REDIS_PORT changed since it started.
redis_pid() {
	local pid cwd
	redis_paths
	pid=$(pid_read "$REDIS_PID") || return 1
	pid_alive "$pid" || return 1
	cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 1
	[ "$cwd" = "$REDIS_DIR" ] || return 1
	printf '%s\n' "$pid"
}

redis_ping() {
	REDISCLI_AUTH=${SECRET[REDIS_PASSWORD]} redis-cli --no-auth-warning \
		-h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q '^PONG$'
}

redis_write_conf() {
	(
		umask 077
		cat >"$REDIS_CONF" <<EOF
# Written by scripts/lib/redis.sh on every start; edits are lost.
bind 127.0.0.1
port $REDIS_PORT
unixsocket "$REDIS_SOCK"
unixsocketperm 666
protected-mode yes
requirepass "${SECRET[REDIS_PASSWORD]}"
daemonize yes
supervised no
pidfile "$REDIS_PID"
logfile "$REDIS_LOG"
loglevel notice
dir "$REDIS_DIR"
dbfilename dump.rdb
save 3600 1 300 100 60 10000
appendonly no
always-show-logo no
EOF
	)
	is_root && chown "$REDIS_USER:" "$REDIS_CONF"
	chmod 0600 "$REDIS_CONF"
}

redis_start() {
	local i
	redis_paths
	redis_pid >/dev/null && return 0
	command -v redis-server >/dev/null || die "redis: redis-server not found (scripts/install-deps.sh run)"
	if port_in_use "$REDIS_PORT"; then
		die "redis: port $REDIS_PORT is taken by another program (set REDIS_PORT)"
	fi
	if is_root && [ "$REDIS_USER" != root ]; then
		require_reach "$REDIS_USER" "$VAR_DIR" redis
	fi
	mkdir -p "$REDIS_DIR" "$REDIS_SOCK_DIR"
	[ "${#REDIS_SOCK}" -le 107 ] || die "redis: VAR_DIR is too long for a unix socket ($REDIS_SOCK)"
	log_dir_ensure
	touch "$REDIS_LOG"
	if is_root; then chown "$REDIS_USER:" "$REDIS_DIR" "$REDIS_SOCK_DIR" "$REDIS_LOG"; fi
	chmod 0700 "$REDIS_DIR"
	chmod 0711 "$REDIS_SOCK_DIR"
	chmod 0600 "$REDIS_LOG"
	rm -f "$REDIS_PID"
	redis_write_conf
	run_as "$REDIS_USER" redis-server "$REDIS_CONF" >/dev/null ||
		die "redis: redis-server failed (log: $REDIS_LOG)"
	for i in $(seq 1 100); do
		redis_ping && break
		if [ "$i" -eq 100 ]; then
			tail -n 20 "$REDIS_LOG" >&2 || true
			die "redis: no answer to PING on 127.0.0.1:$REDIS_PORT after 10 s (log: $REDIS_LOG)"
		fi
		sleep 0.1
	done
	info "redis: started on 127.0.0.1:$REDIS_PORT (log: $REDIS_LOG)"
}

redis_stop() {
	local pid
	redis_paths
	pid=$(redis_pid) || return 0
	# SIGTERM makes Redis save its snapshot and exit.
	stop_pids 30 "$pid" || die "redis: pid $pid does not stop"
	rm -f "$REDIS_PID"
	info "redis: stopped"
}

redis_status() {
	local pid
	if ! redis_managed; then
		printf 'redis: external (REDIS_URL)\n'
		return 0
	fi
	if pid=$(redis_pid); then
		printf 'redis: running (pid %s, 127.0.0.1:%s)\n' "$pid" "$REDIS_PORT"
	else
		printf 'redis: stopped\n'
		return 1
	fi
}
