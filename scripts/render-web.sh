#!/usr/bin/env bash
# scripts/render-web.sh - renders the web server's configuration from the
# templates (lighttpd/lighttpd.conf.in, apache/httpd.conf.in with
# apache/site.conf.in and apache/fcgid.conf.in or apache/proxy-fcgi.conf.in) with the current
# settings, exactly as `make up` does, without starting anything, and
# prints the paths of the rendered files.  The documentation points here
# instead of keeping copies of the templates.
#
#   scripts/render-web.sh            WEB_SERVER, APACHE_MODE, HTTPS_PORT,
#                                    CORS_ALLOWED_ORIGINS, FCGI_PROCS_<NAME>,
#                                    ... from the environment, then .env
#
# The files go under $VAR_DIR (default var; set VAR_DIR to leave a running
# stack's files alone).  TLS_CERT and TLS_KEY, when set, replace the local
# self-signed certificate's paths (a server's own certificate).  The
# responders must be built (make).  Under mod_fcgid the rendered
# responders.conf holds the responders' settings, secrets included (mode
# 0600), as it does for `make up`.

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
# shellcheck source=lib/render.sh
. "$LIB/render.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"
# shellcheck source=lib/web.sh
. "$LIB/web.sh"
# shellcheck source=lib/apache.sh
. "$LIB/apache.sh"

[ "$#" -eq 0 ] || {
	sed -n '9,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

cert=${TLS_CERT-}
key=${TLS_KEY-}
config_load
secrets_load create
tls_paths
TLS_CERT=${cert:-$TLS_CERT}
TLS_KEY=${key:-$TLS_KEY}
web_paths
mkdir -p "$RUN_DIR/www" "$RUN_DIR/upload" "$LOG_DIR" "$LT_CONF_DIR"
web_render_values
web_env
if [ "$(web_kind)" = apache ]; then
	apache_paths
	mkdir -p "$RUN_DIR/fcgid"
	apache_render
	printf '%s\n' "$AP_CONF" "$AP_SITE_CONF" "$AP_RESP_CONF"
	if [ "$APACHE_MODE" = fcgid ]; then printf '%s\n' "$AP_ENV_FILE"; fi
else
	lighttpd_render
	printf '%s\n' "$LT_CONF"
fi
