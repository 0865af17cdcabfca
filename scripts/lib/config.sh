# shellcheck shell=bash disable=SC2034
# scripts/lib/config.sh - reads configuration the way the responders do:
# process environment first, then the `.env` file, then defaults.  Sourced.
#
# The `.env` file (PORTCULLIS_ENV_FILE, default <root>/.env) is parsed, never
# sourced, with the same rules as lib/config.c: KEY=VALUE lines, `#` comment
# lines, blank lines, an optional `export ` prefix, optional matching single
# or double quotes (taken literally, a `#` comment may follow), and for an
# unquoted value a ` #` starts a comment and trailing blanks go.  A malformed
# line stops with its file and line number.  The last setting of a key wins.
#
# A variable set in the environment wins even when empty, as in lib/config.c;
# only DATABASE_URL, REDIS_URL, JWT_SECRET and IP_HASH_SECRET treat an empty
# value as unset (private server started / secret generated), and then only
# when their _FILE twin (a file holding the value) is unset too.
#
# Stack-only knobs (read from the same sources; not passed to responders):
#   VAR_DIR     where everything of this stack lives   (default <root>/var)
#   PG_PORT     private PostgreSQL port on 127.0.0.1  (default 55432)
#   REDIS_PORT  private Redis port on 127.0.0.1       (default 56379)
#   FCGI_PROCS  FastCGI processes of every responder that has no
#               FCGI_PROCS_<NAME> of its own (default: sized per responder
#               from the cores, see pool_default)
#   FCGI_PROCS_HEALTH, _LOGIN, _REGISTER, _SESSION, _DATA, _METRICS
#               one responder's processes
#   APACHE_MODE with WEB_SERVER=apache: `fcgid` (Apache spawns the
#               responders, mod_fcgid) or `proxy-fcgi` (spawn-fcgi starts
#               them, Apache reaches them with mod_proxy_fcgi)  (default fcgid)
#   WEB_READ_TIMEOUT  seconds the web server waits on a client that has not
#               sent its request (or its body) before it drops it  (default 20)
#   API_DOCS    `on`: the web server serves openapi.yaml at /api/docs as a
#               static file (application/yaml)               (default off)
#   CGI_DIR     where lighttpd finds the responders (default <root>/cgi-bin;
#               the test suite's lighttpd pass runs build/san/cgi-bin)
#   WEB_MAX_CONNS_PER_IP  connections one client address may hold at the web
#               server, trusted proxies exempt; 0 for no cap  (default 32)
# and from the contract: HTTP_PORT (8080), HTTPS_PORT (8443), MAX_BODY_BYTES
# (65536, sizes lighttpd's request limit), LOG_LEVEL (info), DATABASE_URL,
# REDIS_URL, JWT_SECRET, IP_HASH_SECRET, CORS_ALLOWED_ORIGINS.
#
# After config_load:
#   ROOT, ENV_FILE, VAR_DIR, PG_PORT, REDIS_PORT, FCGI_PROCS, APACHE_MODE,
#   WEB_READ_TIMEOUT, CGI_DIR, HTTP_PORT, HTTPS_PORT     plain variables
#   PROCS[NAME]    the process count of each responder (pool_sizes)
#   CONF[KEY]      every responder setting that has a value (environment,
#                  .env, or a stack default); unset keys are left out so the
#                  responders apply their own defaults.

# Every variable the responders read (lib/config.c's table).
CONFIG_KEYS=(
	DATABASE_URL REDIS_URL JWT_SECRET JWT_ALGORITHM JWT_ISSUER JWT_AUDIENCE
	IP_HASH_SECRET ACCESS_TOKEN_TTL REFRESH_TOKEN_TTL REFRESH_REUSE_INTERVAL
	BCRYPT_COST PASSWORD_MIN_LENGTH LOGIN_MAX_FAILURES LOGIN_FAILURE_WINDOW
	RATE_LIMIT_AUTH RATE_LIMIT_API TRUSTED_PROXIES CORS_ALLOWED_ORIGINS
	MAX_BODY_BYTES DATA_MAX_VALUE_BYTES DATA_MAX_KEYS CACHE_TTL
	CACHE_MAX_ENTRIES CACHE_MAX_BYTES HTTP_PORT HTTPS_PORT WEB_SERVER LOG_LEVEL LOG_FILE
	METRICS_FILE METRICS_TOKEN
	LOG_MAX_BYTES DATABASE_URL_FILE REDIS_URL_FILE JWT_SECRET_FILE IP_HASH_SECRET_FILE
	METRICS_TOKEN_FILE PASSWORD_DENYLIST
	REDIS_SENTINELS REDIS_MASTER_NAME REDIS_SENTINEL_PASSWORD REDIS_SENTINEL_PASSWORD_FILE
)
STACK_KEYS=(VAR_DIR PG_PORT REDIS_PORT FCGI_PROCS APACHE_MODE WEB_READ_TIMEOUT API_DOCS CGI_DIR
	WEB_MAX_CONNS_PER_IP FCGI_PROCS_HEALTH FCGI_PROCS_LOGIN FCGI_PROCS_REGISTER
	FCGI_PROCS_SESSION FCGI_PROCS_DATA FCGI_PROCS_METRICS)
# The responders whose pools are sized (every one of cgi-bin/).
POOL_RESPONDERS=(health login register session data metrics)
declare -gA PROCS=()

declare -gA DOTENV=()
declare -gA CONF=()

# dotenv_parse FILE ARRAY - fills associative ARRAY from FILE (absent: empty).
dotenv_parse() {
	local file=$1 line p key val q rest after n=0
	local -n _out=$2
	[ -e "$file" ] || return 0
	[ -r "$file" ] || die "$file: cannot read"
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%$'\r'}
		p=${line#"${line%%[![:blank:]]*}"}
		[ -z "$p" ] && continue
		[ "${p:0:1}" = "#" ] && continue
		if [[ $p =~ ^export[[:blank:]]+(.*)$ ]]; then
			p=${BASH_REMATCH[1]}
		fi
		[[ $p =~ ^([A-Za-z_][A-Za-z0-9_]*)[[:blank:]]*=[[:blank:]]*(.*)$ ]] ||
			die "$file:$n: not a KEY=VALUE line"
		key=${BASH_REMATCH[1]}
		val=${BASH_REMATCH[2]}
		q=${val:0:1}
		if [ "$q" = '"' ] || [ "$q" = "'" ]; then
			rest=${val:1}
			[[ $rest == *"$q"* ]] || die "$file:$n: not a KEY=VALUE line"
			val=${rest%%"$q"*}
			after=${rest#*"$q"}
			[[ $after =~ ^[[:blank:]]*(#.*)?$ ]] ||
				die "$file:$n: not a KEY=VALUE line"
		else
			val=${val%%[[:blank:]]#*}
			val=${val%"${val##*[![:blank:]]}"}
		fi
		_out["$key"]=$val
	done <"$file"
}

# cfg_raw KEY - prints KEY's value (environment, then .env); fails if unset.
cfg_raw() {
	local key=$1
	if [ -n "${!key+x}" ]; then
		printf '%s' "${!key}"
	elif [ -n "${DOTENV[$key]+x}" ]; then
		printf '%s' "${DOTENV[$key]}"
	else
		return 1
	fi
}

# cfg_get KEY DEFAULT - prints KEY's value, or DEFAULT when unset.
cfg_get() {
	cfg_raw "$1" || printf '%s' "$2"
}

# check_int NAME VALUE MIN MAX - dies unless VALUE is an integer in range.
check_int() {
	if ! [[ $2 =~ ^[0-9]{1,9}$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
		die "$1: \"$2\" is not an integer from $3 to $4"
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
	dotenv_parse "$ENV_FILE" DOTENV

	VAR_DIR=$(cfg_get VAR_DIR "$ROOT/var")
	[[ $VAR_DIR == /* ]] || VAR_DIR=$ROOT/$VAR_DIR
	VAR_DIR=$(realpath -m -- "$VAR_DIR")
	check_path VAR_DIR "$VAR_DIR"
	PG_PORT=$(cfg_get PG_PORT 55432)
	REDIS_PORT=$(cfg_get REDIS_PORT 56379)
	FCGI_PROCS=$(cfg_get FCGI_PROCS "")
	pool_sizes
	APACHE_MODE=$(cfg_get APACHE_MODE fcgid)
	WEB_READ_TIMEOUT=$(cfg_get WEB_READ_TIMEOUT 20)
	API_DOCS=$(cfg_get API_DOCS off)
	CGI_DIR=$(cfg_get CGI_DIR "$ROOT/cgi-bin")
	[[ $CGI_DIR == /* ]] || CGI_DIR=$ROOT/$CGI_DIR
	CGI_DIR=$(realpath -m -- "$CGI_DIR")
	check_path CGI_DIR "$CGI_DIR"
	WEB_MAX_CONNS_PER_IP=$(cfg_get WEB_MAX_CONNS_PER_IP 32)
	HTTP_PORT=$(cfg_get HTTP_PORT 8080)
	HTTPS_PORT=$(cfg_get HTTPS_PORT 8443)

	CONF=()
	for key in "${CONFIG_KEYS[@]}" "${!DOTENV[@]}"; do
		case " ${STACK_KEYS[*]} " in *" $key "*) continue ;; esac
		if val=$(cfg_raw "$key"); then
			CONF[$key]=$val
		fi
	done
	for key in DATABASE_URL REDIS_URL JWT_SECRET IP_HASH_SECRET; do
		[ -n "${CONF[$key]-}" ] || unset "CONF[$key]"
	done
	CONF[HTTP_PORT]=$HTTP_PORT
	CONF[HTTPS_PORT]=$HTTPS_PORT
	CONF[MAX_BODY_BYTES]=$(cfg_get MAX_BODY_BYTES 65536)
	CONF[LOG_LEVEL]=$(cfg_get LOG_LEVEL info)
	CONF[WEB_SERVER]=$(cfg_get WEB_SERVER lighttpd)
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
# else FCGI_PROCS, else pool_default.
pool_sizes() {
	local name
	PROCS=()
	for name in "${POOL_RESPONDERS[@]}"; do
		PROCS[$name]=$(cfg_get "FCGI_PROCS_${name^^}" "${FCGI_PROCS:-$(pool_default "$name")}")
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
# (The responders' own settings are checked by `health --check-config`.)
config_check() {
	check_int PG_PORT "$PG_PORT" 1 65535
	check_int REDIS_PORT "$REDIS_PORT" 1 65535
	[ -z "$FCGI_PROCS" ] || check_int FCGI_PROCS "$FCGI_PROCS" 1 64
	local name
	for name in "${POOL_RESPONDERS[@]}"; do
		check_int "FCGI_PROCS_${name^^}" "${PROCS[$name]}" 1 64
	done
	check_int WEB_READ_TIMEOUT "$WEB_READ_TIMEOUT" 1 3600
	case "$API_DOCS" in
	on | off) ;;
	*) die "API_DOCS: \"$API_DOCS\" is not on or off" ;;
	esac
	check_int WEB_MAX_CONNS_PER_IP "$WEB_MAX_CONNS_PER_IP" 0 65535
	case "$APACHE_MODE" in
	fcgid | proxy-fcgi) ;;
	*) die "APACHE_MODE: \"$APACHE_MODE\" is not fcgid or proxy-fcgi" ;;
	esac
	check_int HTTP_PORT "$HTTP_PORT" 1 65535
	check_int HTTPS_PORT "$HTTPS_PORT" 1 65535
	[ "$HTTP_PORT" != "$HTTPS_PORT" ] || die "HTTP_PORT and HTTPS_PORT are both $HTTP_PORT"
	check_int MAX_BODY_BYTES "${CONF[MAX_BODY_BYTES]}" 1 999999999
	if [ -n "${CONF[DATA_MAX_VALUE_BYTES]-}" ]; then
		check_int DATA_MAX_VALUE_BYTES "${CONF[DATA_MAX_VALUE_BYTES]}" 1 999999999
	fi
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
