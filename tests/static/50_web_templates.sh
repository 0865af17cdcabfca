#!/usr/bin/env bash
# The web server templates, rendered by the stack's own code
# (scripts/lib/web.sh, apache.sh) into a throwaway VAR_DIR and checked by
# the servers themselves: `lighttpd -tt` (which loads the modules) and
# `apache2ctl -t` under mod_fcgid and mod_proxy_fcgi, each with API_DOCS
# off and on, with a CORS origin and trusted proxies set (the connection
# cap module, built by make, loaded with its exempt list).  Nothing is started.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

for tool in lighttpd apache2ctl; do
	if ! PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$tool" >/dev/null; then
		not_ok "$tool is installed (scripts/install-deps.sh run)"
		exit 0
	fi
done
for r in health register login session data metrics; do
	if [ ! -x "cgi-bin/$r" ]; then
		not_ok "cgi-bin/$r is built (make)"
		exit 0
	fi
done

# render_and_check SERVER MODE API_DOCS - one configuration, one line.
render_and_check() {
	local server=$1 mode=$2 docs=$3 var=$TMP/var-$1-$2-$3 out
	mkdir -p "$var"
	out=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$TMP" LANG=C \
		VAR_DIR="$var" PORTCULLIS_ENV_FILE=/dev/null WEB_SERVER="$server" APACHE_MODE="$mode" \
		API_DOCS="$docs" CORS_ALLOWED_ORIGINS=https://app.example.test \
		TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.7, 2001:db8::/32" \
		DATABASE_URL=postgresql://x@127.0.0.1:1/x REDIS_URL=redis://127.0.0.1:1/0 \
		JWT_SECRET=template-check-secret-template-check IP_HASH_SECRET=template-check-secret-template-check \
		bash -c '
			set -euo pipefail
			LIB=$1/scripts/lib
			for f in common config secrets tls render routes web apache; do . "$LIB/$f.sh"; done
			config_load
			secrets_load create >/dev/null
			tls_paths; web_paths; tls_ensure >/dev/null
			mkdir -p "$RUN_DIR/www" "$LOG_DIR" "$LT_CONF_DIR"
			web_render_values
			web_env
			if [ "$WEB_SERVER" = lighttpd ]; then
				lighttpd_render
				lighttpd -tt -f "$LT_CONF"
			else
				apache_paths
				mkdir -p "$RUN_DIR/fcgid"
				apache_render
				env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin APACHE_CONFDIR="$AP_DIR" \
					apache2ctl -t -f "$AP_CONF" -d "$AP_DIR"
			fi
			if [ "$API_DOCS" = on ]; then cmp -s "$1/openapi.yaml" "$RUN_DIR/www/api/docs"
			else [ ! -e "$RUN_DIR/www/api/docs" ]; fi
		' _ "$ROOT" 2>&1)
	local status=$?
	local what="$server${mode:+ ($mode)} with API_DOCS=$docs"
	[ "$server" = lighttpd ] && what="lighttpd with API_DOCS=$docs"
	if [ "$status" -eq 0 ]; then
		ok "the rendered configuration of $what passes the server's own check"
	else
		not_ok "$what: $(printf '%s' "$out" | grep -v '^Syntax OK' | tail -n 4)"
	fi
}

for docs in off on; do
	render_and_check lighttpd fcgid "$docs"
	render_and_check apache fcgid "$docs"
	render_and_check apache proxy-fcgi "$docs"
done
