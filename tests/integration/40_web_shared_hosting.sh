#!/usr/bin/env bash
# The shared-hosting install: `make install` lays the responders, an
# .htaccess, the migrations and a sample .env out under a PREFIX (DESTDIR
# honoured), and the result serves the API from an Apache that knows
# nothing of portcullis: the "host" below is an Apache with mod_cgi (prefork),
# mod_rewrite and AllowOverride All on a web root, as a hosting provider runs
# it; everything portcullis needs is in the installed .htaccess files.  The
# responders run as plain CGI (one process a request); then the same install
# under a host that also has mod_fcgid, and a second install served under a
# sub-path (/~tester/api, SITE_PATH).  Nothing secret is ever under the web
# root, by link or copy; a fresh install writes PREFIX/.env with mode 0600.
# Uses the test stack's PostgreSQL
# and Redis.  Independent of the web server under test: runs in the apache
# pass only.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

if [ "${WEB_SERVER:-lighttpd}" != apache ] || [ "${APACHE_MODE:-fcgid}" != fcgid ]; then
	echo "# skipped under $(web_name): runs in the apache pass"
	exit 0
fi

# ---- make install with DESTDIR ----
stage=$TMP/stage
if make -s -C "$ROOT" install DESTDIR="$stage" PREFIX=/srv/portcullis >"$TMP/install.out" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/srv/portcullis"
else
	not_ok "make install with DESTDIR: $(tail -n 5 "$TMP/install.out")"
fi
for f in bin/portcullis-migrate sql/001_accounts.sql .env.example .env htdocs/api/.htaccess \
	cgi-bin/health cgi-bin/login cgi-bin/register cgi-bin/session cgi-bin/data \
	htdocs/api/cgi-bin/health htdocs/api/cgi-bin/login htdocs/api/cgi-bin/register \
	htdocs/api/cgi-bin/session htdocs/api/cgi-bin/data htdocs/api/cgi-bin/.htaccess; do
	if [ -e "$stage/srv/portcullis/$f" ]; then ok "installed $f"; else not_ok "missing $f"; fi
done
if [ -x "$stage/srv/portcullis/htdocs/api/cgi-bin/data" ] && [ -x "$stage/srv/portcullis/cgi-bin/data" ]; then
	ok "the responders and their scripts are executable"
else
	not_ok "responders not executable"
fi
expect_eq "$(stat -c %a "$stage/srv/portcullis/.env")" 600 "a fresh install writes PREFIX/.env with mode 0600"
if grep -q '^exec /srv/portcullis/cgi-bin/data "\$@"$' "$stage/srv/portcullis/htdocs/api/cgi-bin/data"; then
	ok "the web root's cgi-bin/data execs PREFIX/cgi-bin/data (without DESTDIR)"
else
	not_ok "cgi-bin/data script: $(head -c 200 "$stage/srv/portcullis/htdocs/api/cgi-bin/data")"
fi
# no_secret_under WEBROOT WHAT - no link, no .env, no binary of ours there.
no_secret_under() {
	local links envs
	links=$(find "$1" -type l 2>/dev/null | head -n 3)
	envs=$(find "$1" -name '.env*' 2>/dev/null | head -n 3)
	if [ -z "$links$envs" ]; then ok "$2: no link and no .env under the web root"; else
		not_ok "$2: under the web root: $links $envs"
	fi
	if grep -rlq 'JWT_SECRET\|IP_HASH_SECRET\|DATABASE_URL' "$1" 2>/dev/null; then
		not_ok "$2: a file under the web root names a secret: $(grep -rl 'JWT_SECRET\|IP_HASH_SECRET\|DATABASE_URL' "$1" | head -n 1)"
	else
		ok "$2: no file under the web root holds a setting"
	fi
}
no_secret_under "$stage/srv/portcullis/htdocs" "make install with DESTDIR"
if grep -q 'PORTCULLIS_ENV_FILE "/srv/portcullis/.env"' "$stage/srv/portcullis/htdocs/api/.htaccess" &&
	! grep -q "$stage" "$stage/srv/portcullis/htdocs/api/.htaccess"; then
	ok "the .htaccess names PREFIX/.env, not the DESTDIR path"
else
	not_ok "the .htaccess paths: $(grep -n PORTCULLIS_ENV_FILE "$stage/srv/portcullis/htdocs/api/.htaccess")"
fi
if make -s -C "$ROOT" install DESTDIR="$stage" PREFIX=/srv/p WEBROOT=/srv/p >"$TMP/bad.out" 2>&1; then
	not_ok "make install with WEBROOT=PREFIX succeeds (the .env would be served from the web root)"
else
	ok "make install refuses WEBROOT=PREFIX: $(tail -n 1 "$TMP/bad.out")"
fi

# ---- a real install the host's www-data can reach ----
is_root() { [ "$(id -u)" -eq 0 ]; }
SH=$VAR_DIR/shared-hosting
PREFIX=$SH/portcullis
PORT=$((HTTPS_PORT + 20))
rm -rf "$SH"
mkdir -p "$SH"
chmod 0711 "$SH"
if port_busy=$(ss -Htln "sport = :$PORT" 2>/dev/null) && [ -n "$port_busy" ]; then
	not_ok "port $PORT for the shared-hosting Apache is taken"
	exit 1
fi
make -s -C "$ROOT" install PREFIX="$PREFIX" >"$TMP/install2.out" 2>&1 ||
	not_ok "make install PREFIX=$PREFIX: $(tail -n 3 "$TMP/install2.out")"
expect_eq "$(stat -c %a "$PREFIX/.env")" 600 "the real install writes PREFIX/.env with mode 0600"
# The settings, as the account owner would write them from .env.example;
# then install again, which keeps them and copies the origins in.
{
	"$STACK" env 2>/dev/null | grep -E '^(DATABASE_URL|REDIS_URL|JWT_SECRET|IP_HASH_SECRET)='
	echo 'BCRYPT_COST=4'
	echo 'CORS_ALLOWED_ORIGINS=https://app.example.test'
	echo "LOG_FILE=$SH/log/portcullis.log"
} >"$PREFIX/.env"
mkdir -p "$SH/log" "$SH/run"
if is_root; then
	chown www-data "$SH/log" "$SH/run"
	chgrp www-data "$PREFIX/.env"
fi
chmod 0640 "$PREFIX/.env"
cp "$PREFIX/.env" "$TMP/env.before"
make -s -C "$ROOT" install PREFIX="$PREFIX" >"$TMP/install3.out" 2>&1 ||
	not_ok "make install again: $(tail -n 3 "$TMP/install3.out")"
if cmp -s "$PREFIX/.env" "$TMP/env.before"; then ok "make install again keeps .env"; else not_ok "make install changed .env"; fi
expect_eq "$(stat -c %a "$PREFIX/.env")" 640 "make install again keeps the mode of .env"
no_secret_under "$PREFIX/htdocs" "the filled-in install"
# The same install under a sub-path of the site: /~tester/api.
PREFIX2=$SH/tester
mkdir -p "$PREFIX2"
cp -p "$PREFIX/.env" "$PREFIX2/.env"
make -s -C "$ROOT" install PREFIX="$PREFIX2" SITE_PATH=/~tester >"$TMP/install4.out" 2>&1 ||
	not_ok "make install SITE_PATH=/~tester: $(tail -n 3 "$TMP/install4.out")"
if grep -q '^RewriteBase /~tester/api/$' "$PREFIX2/htdocs/api/.htaccess" &&
	grep -q '^ErrorDocument 404 /~tester/api/cgi-bin/health$' "$PREFIX2/htdocs/api/.htaccess"; then
	ok "SITE_PATH=/~tester: RewriteBase and ErrorDocument follow it"
else
	not_ok "SITE_PATH: $(grep -n 'RewriteBase\|ErrorDocument 404' "$PREFIX2/htdocs/api/.htaccess")"
fi
if make -s -C "$ROOT" install PREFIX="$SH/bad" SITE_PATH='/a b' >"$TMP/bad2.out" 2>&1; then
	not_ok "make install takes SITE_PATH='/a b'"
else
	ok "make install refuses a SITE_PATH that is no URL path"
fi
if grep -q "^[[:space:]]*SetEnvIfExpr .*'https://app.example.test'" "$PREFIX/htdocs/api/.htaccess"; then
	ok "make install copies CORS_ALLOWED_ORIGINS from .env into the .htaccess"
else
	not_ok "no CORS origin in the .htaccess"
fi
# The installed migrate finds PREFIX/.env by itself.
if out=$(env -u PORTCULLIS_ENV_FILE "$PREFIX/bin/portcullis-migrate" --dir "$PREFIX/sql" 2>&1); then
	ok "the installed portcullis-migrate reads PREFIX/.env: $out"
else
	not_ok "installed portcullis-migrate: $out"
fi

# host_conf MODULES... - the hosting provider's Apache: nothing of portcullis.
host_conf() {
	local m
	{
		for m in mpm_prefork authz_core authz_host mime dir env headers setenvif rewrite alias \
			socache_shmcb ssl "$@"; do
			echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
		done
		cat <<EOF
TypesConfig /etc/mime.types
ServerName localhost
PidFile $SH/run/httpd.pid
DefaultRuntimeDir $SH/run
Mutex file:$SH/run default
ErrorLog $SH/log/error.log
LogLevel warn
$(is_root && printf 'User www-data\nGroup www-data\n')
Listen 127.0.0.1:$PORT
DocumentRoot $PREFIX/htdocs
<Directory />
	AllowOverride None
	Require all denied
</Directory>
<Directory $PREFIX/htdocs>
	AllowOverride All
	Options SymLinksIfOwnerMatch
	Require all granted
</Directory>
Alias /~tester $PREFIX2/htdocs
<Directory $PREFIX2/htdocs>
	AllowOverride All
	Options SymLinksIfOwnerMatch
	Require all granted
</Directory>
<VirtualHost *:$PORT>
	SSLEngine on
	SSLCertificateFile $VAR_DIR/tls/cert.pem
	SSLCertificateKeyFile $VAR_DIR/tls/key.pem
</VirtualHost>
EOF
		if [[ " $* " == *" fcgid "* ]]; then
			printf 'FcgidIPCDir %s/run/fcgid\nFcgidProcessTableFile %s/run/fcgid-shm\n' "$SH" "$SH"
		fi
	} >"$SH/httpd.conf"
}
host_start() {
	env -i PATH=/usr/sbin:/usr/bin:/bin apache2 -f "$SH/httpd.conf" -d "$SH" -k start >"$TMP/host.out" 2>&1 || return 1
	local _
	for _ in $(seq 1 50); do
		curl -sk -o /dev/null --max-time 2 "https://localhost:$PORT/" && return 0
		sleep 0.1
	done
	return 1
}
host_stop() {
	local pid
	pid=$(cat "$SH/run/httpd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
}
trap 'host_stop; rm -rf "$TMP" "$SH"' EXIT

# lib.sh's call() goes to the host's Apache from here on.
# shellcheck disable=SC2034
BASE=https://localhost:$PORT

# through_host KIND - the API through the host's Apache and the .htaccess.
through_host() {
	local kind=$1 name pw token
	call GET /api/health
	expect_status 200 "$kind: GET /api/health"
	expect_json .status ok "$kind: health"
	expect_api_shape "$kind: health"
	expect_header X-Content-Type-Options nosniff "$kind: nosniff from the .htaccess"
	expect_header Strict-Transport-Security 'max-age=[0-9]+.*' "$kind: HSTS from the .htaccess (HTTPS)"
	call GET /api/ready
	expect_status 200 "$kind: GET /api/ready"
	expect_json .checks.postgres ok "$kind: ready sees PostgreSQL"
	expect_json .checks.redis ok "$kind: ready sees Redis"

	name=sh$RANDOM$RANDOM
	pw="shared-hosting-$RANDOM-pass"
	call POST /api/auth/register -H 'Content-Type: application/json' --data "{\"username\":\"$name\",\"password\":\"$pw\"}"
	expect_status 201 "$kind: register"
	call POST /api/auth/login -H 'Content-Type: application/json' --data "{\"username\":\"$name\",\"password\":\"$pw\"}"
	expect_status 200 "$kind: login with cookies"
	if printf '%s\n' "$HEADERS" | grep -qi '^set-cookie: __Host-access='; then ok "$kind: the access cookie is set"; else not_ok "$kind: no access cookie"; fi
	call POST /api/auth/login -H 'Content-Type: application/json' \
		--data "{\"username\":\"$name\",\"password\":\"$pw\",\"token_transport\":\"bearer\"}"
	expect_status 200 "$kind: login, bearer"
	token=$(printf '%s' "$BODY" | jq -r .access_token)
	call GET /api/me -H "Authorization: Bearer $token"
	expect_status 200 "$kind: GET /api/me with a bearer token (the .htaccess passes Authorization)"
	expect_json .user.username "$name" "$kind: me"
	call PUT /api/data/shared-key -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		--data '{"n":1,"s":"x"}'
	expect_status 201 "$kind: PUT /api/data/shared-key"
	call GET /api/data/shared-key -H "Authorization: Bearer $token"
	expect_status 200 "$kind: GET /api/data/shared-key"
	expect_json .value.s x "$kind: the value comes back"
	expect_header ETag '"1"' "$kind: ETag"
	call GET /api/data/.. --path-as-is -H "Authorization: Bearer $token"
	expect_json_error 422 validation_failed "$kind: GET /api/data/.. reaches the data responder raw"

	for p in /api/nope /api /api/ /api/cgi-bin/health; do
		call GET "$p"
		expect_json_error 404 not_found "$kind: GET $p"
	done
	call POST /api/health -H 'Content-Type: application/json' --data '{}'
	expect_json_error 405 method_not_allowed "$kind: POST /api/health"
	expect_header Allow 'GET, HEAD' "$kind: 405 names the methods"
	call OPTIONS /api/data/shared-key -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: PUT'
	expect_status 204 "$kind: a foreign preflight is answered by the .htaccess"
	expect_no_header Access-Control-Allow-Origin "$kind: a foreign preflight gets no CORS header"
	expect_no_header X-Request-Id "$kind: a foreign preflight never reached a responder"
	for p in /api/.htaccess /api/.env /api/cgi-bin/.htaccess; do
		call GET "$p"
		if [ "$STATUS" = 403 ] || [ "$STATUS" = 404 ]; then ok "$kind: $p is not served ($STATUS)"; else
			not_ok "$kind: GET $p: $STATUS ${BODY:0:80}"
		fi
		if printf '%s' "$BODY" | grep -q 'JWT_SECRET\|RewriteRule'; then not_ok "$kind: $p leaked"; fi
	done

	call OPTIONS /api/data/shared-key -H 'Origin: https://app.example.test' -H 'Access-Control-Request-Method: PUT'
	expect_status 204 "$kind: preflight from the allowed origin"
	expect_header Access-Control-Allow-Origin 'https://app.example.test' "$kind: preflight"
	expect_header Access-Control-Allow-Methods 'GET, POST, PUT, DELETE, OPTIONS' "$kind: preflight"
	expect_no_header X-Request-Id "$kind: the preflight never reached a responder"
	call GET /api/health -H 'Origin: https://evil.example'
	expect_no_header Access-Control-Allow-Origin "$kind: a foreign origin"
}

host_conf cgi
if host_start; then ok "the host's Apache (mod_cgi, AllowOverride All) starts on $PORT"; else
	not_ok "the host's Apache: $(cat "$TMP/host.out") $(tail -n 5 "$SH/log/error.log" 2>/dev/null)"
	exit 1
fi
through_host "plain CGI"
left=$(pgrep -f "^$PREFIX/cgi-bin/" | wc -l)
expect_eq "$left" 0 "plain CGI: no responder process stays (one process a request)"
host_stop

host_conf cgi fcgid
if host_start; then ok "the host's Apache with mod_fcgid starts"; else
	not_ok "the host's Apache with mod_fcgid: $(cat "$TMP/host.out")"
	exit 1
fi
through_host "mod_fcgid"
left=$(pgrep -f "^$PREFIX/cgi-bin/" | wc -l)
if [ "$left" -gt 0 ]; then ok "mod_fcgid: the same responders stay up as FastCGI ($left)"; else
	not_ok "mod_fcgid: no FastCGI responder runs"
fi
if grep -q 'configuration error' "$SH/log/error.log"; then
	not_ok "a responder refused its configuration: $(grep 'configuration error' "$SH/log/error.log" | head -n 1)"
else
	ok "every responder found its settings (PREFIX/.env)"
fi
# shellcheck disable=SC2034
BASE=https://localhost:$PORT/~tester
through_host "mod_fcgid under /~tester"
call GET /api
expect_json_error 404 not_found "mod_fcgid under /~tester: GET /~tester/api"
if grep -q 'configuration error' "$SH/log/error.log"; then
	not_ok "a responder under /~tester refused its configuration"
else
	ok "the responders under /~tester found their settings without any link"
fi
host_stop
