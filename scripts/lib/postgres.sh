# shellcheck shell=bash disable=SC2034
# scripts/lib/postgres.sh - the private PostgreSQL 15 cluster of this
# $VAR_DIR, used only when DATABASE_URL is not set.  Sourced.
#
# Layout: $VAR_DIR/pg/data (cluster), $VAR_DIR/pg/sock (unix socket, 0700),
# log in $VAR_DIR/log/postgresql.log.  It listens on 127.0.0.1:$PG_PORT only.
# When we are root the cluster belongs to the `postgres` system user; else to
# us.  That OS user is the cluster's superuser and may connect only through
# the private unix socket (peer); everything else, the application included,
# authenticates with scram-sha-256.  The application role `portcullis` is a
# plain LOGIN role that owns the database `portcullis`, so migrations run as
# the database owner, never as a superuser.

PG_BIN=/usr/lib/postgresql/15/bin
PG_ROLE=portcullis
PG_DB=portcullis

pg_paths() {
	PG_DIR=$VAR_DIR/pg
	PG_DATA=$PG_DIR/data
	PG_SOCK=$PG_DIR/sock
	PG_LOG=$LOG_DIR/postgresql.log
	if is_root; then PG_USER=postgres; else PG_USER=$(id -un); fi
}

# PG_EXTERNAL is set by stack.sh: 1 when DATABASE_URL names a server.
pg_managed() { [ "${PG_EXTERNAL:-0}" = 0 ]; }

pg_pid() {
	pg_paths
	pid_of "$PG_DATA/postmaster.pid" "$PG_DATA"
}

pg_url() {
	printf 'postgresql://%s:%s@127.0.0.1:%s/%s' \
		"$PG_ROLE" "${SECRET[PG_PASSWORD]}" "$PG_PORT" "$PG_DB"
}

# pg_use_private - points DATABASE_URL at the private cluster.
pg_use_private() {
	CONF[DATABASE_URL]=$(pg_url)
}

pg_check_access() {
	[ -x "$PG_BIN/initdb" ] || die "postgres: $PG_BIN/initdb not found (scripts/install-deps.sh run)"
	is_root || return 0
	id "$PG_USER" >/dev/null 2>&1 || die "postgres: no '$PG_USER' system user (is postgresql-15 installed?)"
	require_reach "$PG_USER" "$VAR_DIR" postgres
}

# shellcheck disable=SC2016 # $1 belongs to the inner sh
pg_init() {
	local pwfile
	pg_paths
	[ -f "$PG_DATA/PG_VERSION" ] && return 0
	pg_check_access
	info "postgres: initialising a private cluster in $PG_DATA"
	if [ -d "$PG_DATA" ] && [ -n "$(ls -A "$PG_DATA")" ]; then
		die "postgres: $PG_DATA is not empty but holds no cluster; move it away"
	fi
	mkdir -p "$PG_DATA" "$PG_SOCK"
	is_root && chown -R "$PG_USER:" "$PG_DIR"
	chmod 0700 "$PG_DIR" "$PG_DATA" "$PG_SOCK"
	# The superuser gets a random password nobody keeps: it logs in by peer.
	pwfile=$PG_DIR/initdb.pw
	(
		umask 077
		secret_new >"$pwfile"
	)
	is_root && chown "$PG_USER:" "$pwfile"
	if ! run_as "$PG_USER" "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_USER" \
		--pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 \
		--encoding=UTF8 --no-locale --no-instructions \
		>"$PG_DIR/initdb.log" 2>&1; then
		rm -f "$pwfile"
		cat "$PG_DIR/initdb.log" >&2
		die "postgres: initdb failed"
	fi
	rm -f "$pwfile"
	run_as "$PG_USER" sh -c 'cat >"$1"' sh "$PG_DATA/pg_hba.conf" <<EOF
# Written by scripts/lib/postgres.sh.
# TYPE  DATABASE  USER        ADDRESS        METHOD
local   all       $PG_USER    peer
local   all       all                        scram-sha-256
host    all       all         127.0.0.1/32   scram-sha-256
EOF
	printf "\n# Added by scripts/lib/postgres.sh; rewritten on every start.\ninclude 'portcullis.conf'\n" |
		run_as "$PG_USER" sh -c 'cat >>"$1"' sh "$PG_DATA/postgresql.conf"
}

# shellcheck disable=SC2016 # $1 belongs to the inner sh
pg_write_conf() {
	run_as "$PG_USER" sh -c 'cat >"$1"' sh "$PG_DATA/portcullis.conf" <<EOF
# Written by scripts/lib/postgres.sh on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
unix_socket_permissions = 0700
password_encryption = 'scram-sha-256'
log_timezone = 'UTC'
timezone = 'UTC'
EOF
}

# pg_start - starts the cluster unless it runs; dies with its log if it fails.
pg_start() {
	local out
	pg_paths
	pg_pid >/dev/null && return 0
	pg_init
	pg_check_access
	if port_in_use "$PG_PORT"; then
		die "postgres: port $PG_PORT is taken by another program (set PG_PORT)"
	fi
	log_dir_ensure
	touch "$PG_LOG"
	is_root && chown "$PG_USER:" "$PG_LOG"
	chmod 0600 "$PG_LOG"
	pg_write_conf
	if ! out=$(run_as "$PG_USER" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" \
		-w -t 60 -s start 2>&1); then
		printf '%s\n' "$out" >&2
		tail -n 20 "$PG_LOG" >&2 || true
		die "postgres: pg_ctl start failed (log: $PG_LOG)"
	fi
	info "postgres: started on 127.0.0.1:$PG_PORT (log: $PG_LOG)"
}

# pg_provision - creates the application role and database (idempotent) and
# sets the role's password from secrets.env.
pg_provision() {
	local pw=${SECRET[PG_PASSWORD]//\'/\'\'} sql
	sql="SELECT format('CREATE ROLE %I LOGIN', '$PG_ROLE')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE')\\gexec
ALTER ROLE $PG_ROLE WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE
  NOREPLICATION NOBYPASSRLS PASSWORD '$pw';
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_DB', '$PG_ROLE')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB')\\gexec
REVOKE ALL ON DATABASE $PG_DB FROM PUBLIC;"
	# The SQL goes through stdin: the password never shows in `ps`.
	printf '%s\n' "$sql" |
		run_as "$PG_USER" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
			-h "$PG_SOCK" -p "$PG_PORT" -U "$PG_USER" -d postgres -f - >/dev/null ||
		die "postgres: could not create role and database '$PG_DB'"
}

pg_stop() {
	local pid out
	pg_paths
	pid=$(pg_pid) || return 0
	if ! out=$(run_as "$PG_USER" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast \
		-w -t 60 -s stop 2>&1); then
		printf '%s\n' "$out" >&2
		warn "postgres: pg_ctl stop failed; signalling pid $pid"
		stop_pids 30 "$pid"
	fi
	info "postgres: stopped"
}

pg_status() {
	local pid
	if ! pg_managed; then
		printf 'postgres: external (DATABASE_URL)\n'
		return 0
	fi
	if pid=$(pg_pid); then
		printf 'postgres: running (pid %s, 127.0.0.1:%s, data %s)\n' "$pid" "$PG_PORT" "$PG_DATA"
	else
		printf 'postgres: stopped\n'
		return 1
	fi
}
