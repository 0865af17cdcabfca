# shellcheck shell=bash disable=SC2034
# scripts/lib/config.sh - reads configuration the way the responders do:
# process environment first, then the `.env` file, then defaults.  Sourced.
#
# Nothing here parses `.env` or lists the settings: lib/config.c's table is
# the one list (keys, types, defaults, which are secrets, which have a _FILE
# twin, which are the stack's own) and its parser the one parser.  The
# scripts ask the built responder for both: `cgi-bin/health --list-config`
# and `--print-config=raw` (the values from the environment and the `.env`
# file, PORTCULLIS_ENV_FILE, default <root>/.env, with the table's defaults),
# so `make` has to have run first.  A malformed `.env` line stops with its
# file and line number.
#
# A variable set in the environment wins even when empty, as in lib/config.c;
# only DATABASE_URL, REDIS_URL, JWT_SECRET and IP_HASH_SECRET treat an empty
# value as unset (private server started / secret generated), and then only
# when their _FILE twin (a file holding the value) is unset too.
#
# The stack's own knobs (flag `stack` in --list-config: VAR_DIR, PG_PORT,
# REDIS_PORT, FCGI_PROCS, FCGI_PROCS_<NAME>, APACHE_MODE, WEB_READ_TIMEOUT,
# API_DOCS, CGI_DIR, WEB_MAX_CONNS_PER_IP) are read from the same sources
# and not passed to the responders; relative VAR_DIR and CGI_DIR are taken
# from the project directory.  From the responders' settings the stack
# uses HTTP_PORT, HTTPS_PORT, MAX_BODY_BYTES and DATA_MAX_VALUE_BYTES (they
# size the web server's request limit), LOG_LEVEL, WEB_SERVER, DATABASE_URL,
# REDIS_URL, JWT_SECRET, IP_HASH_SECRET, TRUSTED_PROXIES and
# CORS_ALLOWED_ORIGINS, and gives LOG_FILE, LOG_MAX_BYTES and METRICS_FILE
# defaults of its own under VAR_DIR.
#
# After config_load:
#   ROOT, ENV_FILE, VAR_DIR, PG_PORT, REDIS_PORT, FCGI_PROCS, APACHE_MODE,
#   WEB_READ_TIMEOUT, CGI_DIR, HTTP_PORT, HTTPS_PORT     plain variables
#   PROCS[NAME]    the process count of each responder (pool_sizes)
#   CONF[KEY]      every responder setting that has a value (environment,
#                  .env, or a stack default); unset keys are left out so the
#                  responders apply their own defaults.
#   KEY_FLAGS[KEY] the flags of every key of the table (config_keys)

# The responders whose pools are sized (every one of cgi-bin/).
POOL_RESPONDERS=(health login register session data metrics)
declare -gA PROCS=()

# The table of settings and their values come from lib/config.c, through
# `cgi-bin/health --list-config` and `--print-config=raw`: the one list of
# keys and the one `.env` parser.
declare -gA KEY_FLAGS=()
declare -gA CFG_VAL=() CFG_SRC=()
declare -gA CONF=()

# config_bin - the program that reads the configuration and prints the
# route manifest: cgi-bin/health (built by make), or $PORTCULLIS_TOOL (an
# absolute path: `make bench`'s ceiling tree, whose responders are the
# do-nothing one, asks the real one).
config_bin() {
	local bin=${PORTCULLIS_TOOL:-$ROOT/cgi-bin/health}
	[ -x "$bin" ] || die "config: $bin is missing (run make)"
	printf '%s' "$bin"
}

# config_keys - fills KEY_FLAGS[NAME] with the flags column of every key of
# the table (required, secret, file, stack, compose, twin; "-": none).
config_keys() {
	local bin name flags
	bin=$(config_bin)
	KEY_FLAGS=()
	while read -r name flags; do
		KEY_FLAGS[$name]=$flags
	done < <("$bin" --list-config | cut -f 1,5)
	[ "${#KEY_FLAGS[@]}" -gt 0 ] || die "config: $bin --list-config printed no key"
}

# config_read FILE VALUES SOURCES [env -i] - reads the settings as the
# responders do (the environment, then FILE, then the table's defaults) into
# the associative arrays VALUES and SOURCES (environment, .env, default, or
# unknown: a key of FILE the table does not have).  With a fourth argument,
# the environment is left out (FILE alone).  Dies on a malformed FILE,
# naming its file and line.
config_read() {
	local file=$1 out bin name src val
	local -n _vals=$2 _srcs=$3
	bin=$(config_bin)
	if [ -n "${4-}" ]; then
		out=$(env -i PORTCULLIS_ENV_FILE="$file" "$bin" --print-config=raw) || die "config: cannot read $file"
	else
		out=$(PORTCULLIS_ENV_FILE=$file "$bin" --print-config=raw) || die "config: cannot read $file"
	fi
	_vals=()
	_srcs=()
	while IFS=$'\t' read -r name src val; do
		[ -n "$name" ] || continue
		_vals["$name"]=$val
		_srcs["$name"]=$src
	done <<<"$out"
}

# config_file_pairs FILE ARRAY - fills associative ARRAY with what FILE
# itself sets (no environment, no defaults): its KEY=VALUE lines, parsed by
# lib/config.c.
config_file_pairs() {
	local key
	local -A vals=() srcs=()
	local -n _pairs=$2
	_pairs=()
	[ -e "$1" ] || return 0
	config_read "$1" vals srcs env-only
	for key in "${!srcs[@]}"; do
		case "${srcs[$key]}" in .env | unknown) _pairs["$key"]=${vals[$key]} ;; esac
	done
}

# cfg_raw KEY - prints KEY's value as set (environment, then .env); fails if unset.
cfg_raw() {
	case "${CFG_SRC[$1]-}" in
	environment | .env | unknown) printf '%s' "${CFG_VAL[$1]}" ;;
	*) return 1 ;;
	esac
}

# cfg_get KEY [DEFAULT] - prints KEY's value: as set, else DEFAULT when
# given, else the table's default (nothing when it has none).
cfg_get() {
	if ! cfg_raw "$1"; then
		if [ "$#" -ge 2 ]; then printf '%s' "$2"; else printf '%s' "${CFG_VAL[$1]-}"; fi
	fi
}

# check_path NAME PATH - dies unless PATH is absolute and safe to embed in
# the generated lighttpd, PostgreSQL and Redis configuration files.
check_path() {
	[[ $2 == /* ]] || die "$1: \"$2\" is not an absolute path"
	[[ $2 =~ ^[A-Za-z0-9/._+@,:=-]+$ ]] ||
		die "$1: \"$2\" has characters other than letters, digits and /._+@,:=-"
}

config_load() {
	local key val
	ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
	check_path "project directory" "$ROOT"
	ENV_FILE=${PORTCULLIS_ENV_FILE:-$ROOT/.env}
	[[ $ENV_FILE == /* ]] || ENV_FILE=$PWD/$ENV_FILE
	config_keys
	config_read "$ENV_FILE" CFG_VAL CFG_SRC

	VAR_DIR=$(cfg_get VAR_DIR)
	[[ $VAR_DIR == /* ]] || VAR_DIR=$ROOT/$VAR_DIR
	VAR_DIR=$(realpath -m -- "$VAR_DIR")
	check_path VAR_DIR "$VAR_DIR"
	PG_PORT=$(cfg_get PG_PORT)
	REDIS_PORT=$(cfg_get REDIS_PORT)
	FCGI_PROCS=$(cfg_get FCGI_PROCS)
	pool_sizes
	APACHE_MODE=$(cfg_get APACHE_MODE)
	WEB_READ_TIMEOUT=$(cfg_get WEB_READ_TIMEOUT)
	API_DOCS=$(cfg_get API_DOCS)
	CGI_DIR=$(cfg_get CGI_DIR)
	[[ $CGI_DIR == /* ]] || CGI_DIR=$ROOT/$CGI_DIR
	CGI_DIR=$(realpath -m -- "$CGI_DIR")
	check_path CGI_DIR "$CGI_DIR"
	WEB_MAX_CONNS_PER_IP=$(cfg_get WEB_MAX_CONNS_PER_IP)
	HTTP_PORT=$(cfg_get HTTP_PORT)
	HTTPS_PORT=$(cfg_get HTTPS_PORT)

	# What the responders get: every key that is set, less the stack's and
	# compose's own.
	CONF=()
	for key in "${!CFG_SRC[@]}"; do
		case ",${KEY_FLAGS[$key]-}," in *,stack,* | *,compose,*) continue ;; esac
		if val=$(cfg_raw "$key"); then
			CONF[$key]=$val
		fi
	done
	for key in DATABASE_URL REDIS_URL JWT_SECRET IP_HASH_SECRET; do
		[ -n "${CONF[$key]-}" ] || unset "CONF[$key]"
	done
	CONF[HTTP_PORT]=$HTTP_PORT
	CONF[HTTPS_PORT]=$HTTPS_PORT
	CONF[MAX_BODY_BYTES]=$(cfg_get MAX_BODY_BYTES)
	CONF[LOG_LEVEL]=$(cfg_get LOG_LEVEL)
	CONF[WEB_SERVER]=$(cfg_get WEB_SERVER)
	# "-": standard error (the web server's error log; `stack.sh run` forwards it)
	CONF[LOG_FILE]=$(cfg_get LOG_FILE "$VAR_DIR/log/portcullis.log")
	# The local stack's log rotates at 16 MiB (to portcullis.log.1).
	CONF[LOG_MAX_BYTES]=$(cfg_get LOG_MAX_BYTES 16777216)
	CONF[METRICS_FILE]=$(cfg_get METRICS_FILE "$VAR_DIR/run/portcullis.metrics")

	LOG_DIR=$VAR_DIR/log
	RUN_DIR=$VAR_DIR/run
}

# pool_default NAME - the process count of responder NAME when nothing sets
# it, from the cores this machine has (nproc) and the kind of work:
#   health, session, data  2 x cores + 2: they spend a request mostly
#                          waiting (Redis, PostgreSQL, and the web server's
#                          FastCGI hop, one connection a request), so more
#                          processes than cores keep the cores busy
#   login, register        one a core: bcrypt keeps a core busy for the
#                          whole request, more would only queue on the CPU
#   metrics                1: a scrape now and then
# On 2 cores: 6 + 6 + 6 + 2 + 2 + 1 = 23 processes; with lighttpd 26 to
# 54 MiB PSS, as full as the data caches are (docs/performance.md).
pool_default() {
	local cores
	cores=$(nproc 2>/dev/null || echo 1)
	[[ $cores =~ ^[0-9]+$ ]] && [ "$cores" -ge 1 ] || cores=1
	case "$1" in
	login | register) echo $((cores > 64 ? 64 : cores)) ;;
	metrics) echo 1 ;;
	*) echo $((2 * cores + 2 > 64 ? 64 : 2 * cores + 2)) ;;
	esac
}

# pool_sizes - fills PROCS[NAME] for every responder: FCGI_PROCS_<NAME>,
# else FCGI_PROCS, else pool_default (empty counts as unset).
pool_sizes() {
	local name
	PROCS=()
	for name in "${POOL_RESPONDERS[@]}"; do
		PROCS[$name]=$(cfg_get "FCGI_PROCS_${name^^}")
		# Empty is unset, as for FCGI_PROCS (cfg_check_stack).
		[ -n "${PROCS[$name]}" ] || PROCS[$name]=${FCGI_PROCS:-$(pool_default "$name")}
	done
}

# procs_max - the largest pool.
procs_max() {
	local name max=1
	for name in "${POOL_RESPONDERS[@]}"; do
		[ "${PROCS[$name]}" -le "$max" ] 2>/dev/null || max=${PROCS[$name]}
	done
	echo "$max"
}

# config_check - dies on a stack knob the scripts cannot use.  Called before
# starting anything; `down` and `status` work even with a broken setting.
# Each knob is checked against its row of the table (`health
# --check-config=stack`, which names a bad one); the responders' own
# settings by `health --check-config` (app_check_config), before anything
# uses them.
config_check() {
	local err
	if ! err=$(PORTCULLIS_ENV_FILE=$ENV_FILE "$(config_bin)" --check-config=stack 2>&1); then
		die "${err#*: configuration error: }"
	fi
	[ "$HTTP_PORT" != "$HTTPS_PORT" ] || die "HTTP_PORT and HTTPS_PORT are both $HTTP_PORT"
	cors_origins >/dev/null
}

# cors_origins - prints the entries of CORS_ALLOWED_ORIGINS one a line, split
# on commas and trimmed as lib/auth.c does; dies on an entry that is not an
# origin (scheme://host[:port], no path, no trailing slash), which would
# never match a browser's Origin header.  The web server configurations
# embed these, so nothing else may pass.
cors_origins() {
	local item items=() re
	re='^https?://([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$'
	IFS=, read -r -a items <<<"${CONF[CORS_ALLOWED_ORIGINS]-}"
	for item in "${items[@]}"; do
		item=${item#"${item%%[![:blank:]]*}"}
		item=${item%"${item##*[![:blank:]]}"}
		[ -n "$item" ] || continue
		[[ $item =~ $re ]] ||
			die "CORS_ALLOWED_ORIGINS: \"$item\" is not an origin (scheme://host[:port], nothing after it)"
		printf '%s\n' "$item"
	done
}
