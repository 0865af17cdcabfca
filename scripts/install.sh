#!/usr/bin/env bash
# scripts/install.sh - `make install`: lays portcullis out for a host that
# runs it without the local stack, such as shared hosting with a web root,
# .htaccess and plain CGI.
#
#   install.sh DESTDIR PREFIX WEBROOT      (make install PREFIX=... WEBROOT=... DESTDIR=...)
#   SITE_PATH (environment, or `make install SITE_PATH=/~you`): the URL path
#   at which WEBROOT is served, "" (the default) for the site's root; the API
#   is then at SITE_PATH/api.
#
# Layout (DESTDIR, if given, is prepended to every path written, never to
# a path written into a file):
#   PREFIX/bin/portcullis-migrate      migrations: it finds PREFIX/.env itself
#   PREFIX/sql/NNN_*.sql
#   PREFIX/.env.example                the settings to fill in
#   PREFIX/.env                        written from it (mode 0600) when absent,
#                                      never overwritten
#   PREFIX/cgi-bin/<responder>         the responders; they find PREFIX/.env
#                                      as <their directory>/../.env
#   WEBROOT/api/.htaccess              routes SITE_PATH/api/... to the
#                                      responders (from apache/htaccess.in)
#   WEBROOT/api/cgi-bin/<responder>    a two-line script that execs
#                                      PREFIX/cgi-bin/<responder> (plain CGI
#                                      or FastCGI, the same process)
#   PREFIX/share/common-passwords.pwq  the shipped deny list (a passwdqc
#                                      filter), found by the responders as
#                                      <their directory>/../share
#   WEBROOT/api/cgi-bin/.htaccess      picks mod_fcgid or mod_cgi
# Nothing secret is under WEBROOT, by link or by copy: a host that ignores
# .htaccess (AllowOverride None) shows scripts and rules, never a setting.
# WEBROOT defaults to PREFIX/htdocs: point the site's document root there,
# or give your web root (e.g. WEBROOT=$HOME/public_html; only its api/
# directory is touched).
#
# CORS_ALLOWED_ORIGINS, from the environment or else from PREFIX/.env when it
# exists, is written into the .htaccess: run `make install` again after
# changing it.  Exit status: 0 on success, 1 on failure, 2 on a usage error.

# shellcheck source-path=SCRIPTDIR
set -euo pipefail
umask 022

LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")/lib" && pwd -P)
# shellcheck source=lib/common.sh
. "$LIB/common.sh"
# shellcheck source=lib/config.sh
. "$LIB/config.sh"
# shellcheck source=lib/render.sh
. "$LIB/render.sh"
# shellcheck source=lib/routes.sh
. "$LIB/routes.sh"

[ "$#" -eq 3 ] || {
	echo "usage: install.sh DESTDIR PREFIX WEBROOT" >&2
	exit 2
}
DESTDIR=$1 PREFIX=${2%/} WEBROOT=${3%/}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

check_path PREFIX "$PREFIX"
check_path WEBROOT "$WEBROOT"
PREFIX=$(realpath -m -s -- "$PREFIX")
WEBROOT=$(realpath -m -s -- "$WEBROOT")
[ -z "$DESTDIR" ] || check_path DESTDIR "$DESTDIR"
SITE_PATH=${SITE_PATH-}
SITE_PATH=${SITE_PATH%/}
if [ -n "$SITE_PATH" ] && ! [[ $SITE_PATH =~ ^(/[A-Za-z0-9._~-]+)+$ ]]; then
	die "SITE_PATH: \"$SITE_PATH\" is not a URL path such as /~you (letters, digits, ._~- between slashes)"
fi
[ "$WEBROOT" != "$PREFIX" ] || die "WEBROOT: must not be PREFIX itself (PREFIX/.env would be in the web root)"
case "$PREFIX/" in
"$WEBROOT"/*) die "PREFIX: must not be inside WEBROOT (its .env would be in the web root)" ;;
esac

# Every responder the .htaccess routes to: health (the fallback) and those
# of the route manifest under /api/ (not metrics: /metrics is not served
# through .htaccess).
routes_load
mapfile -t names < <(printf '%s\n' "$ROUTES_FALLBACK"; routes_api_responders)
responders=()
for name in "${names[@]}"; do
	responders+=("$ROOT/cgi-bin/$name")
	[ -x "$ROOT/cgi-bin/$name" ] || die "install: cgi-bin/$name is not built (run make)"
done
[ -x "$ROOT/bin/portcullis-migrate" ] || die "install: bin/portcullis-migrate is not built (run make)"
[ -s "$ROOT/share/common-passwords.pwq" ] || die "install: share/common-passwords.pwq is not built (run make)"

# CORS origins: environment first, then the installed .env (as the
# responders will read them), checked as the stack checks them
# (cors_origins reads CONF).
# shellcheck disable=SC2034
declare -A CONF=()
if [ -n "${CORS_ALLOWED_ORIGINS+x}" ]; then
	CONF[CORS_ALLOWED_ORIGINS]=$CORS_ALLOWED_ORIGINS
elif [ -e "$DESTDIR$PREFIX/.env" ]; then
	declare -A INSTALLED=()
	config_file_pairs "$DESTDIR$PREFIX/.env" INSTALLED
	CONF[CORS_ALLOWED_ORIGINS]=${INSTALLED[CORS_ALLOWED_ORIGINS]-}
fi
cors_list="" if_cors="# "
while IFS= read -r origin; do
	cors_list+="${cors_list:+, }'$origin'"
done < <(cors_origins)
[ -z "$cors_list" ] || if_cors=""

api=$DESTDIR$WEBROOT/api
install -d -m 0755 "$DESTDIR$PREFIX" "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/sql" \
	"$DESTDIR$PREFIX/cgi-bin" "$DESTDIR$PREFIX/share" "$DESTDIR$WEBROOT" "$api" "$api/cgi-bin"
install -m 0755 "$ROOT/bin/portcullis-migrate" "$DESTDIR$PREFIX/bin/"
install -m 0644 "$ROOT"/sql/*.sql "$DESTDIR$PREFIX/sql/"
install -m 0644 "$ROOT/share/common-passwords.pwq" "$DESTDIR$PREFIX/share/"
install -m 0755 "$ROOT/bin/portcullis-denylist" "$DESTDIR$PREFIX/bin/"
install -m 0644 "$ROOT/apache/portcullis.env.example" "$DESTDIR$PREFIX/.env.example"
install -m 0755 "${responders[@]}" "$DESTDIR$PREFIX/cgi-bin/"
fresh_env=0
if [ ! -e "$DESTDIR$PREFIX/.env" ] && [ ! -L "$DESTDIR$PREFIX/.env" ]; then
	install -m 0600 "$ROOT/apache/portcullis.env.example" "$DESTDIR$PREFIX/.env"
	fresh_env=1
fi
# An older install linked WEBROOT/api/.env to the settings, and copied the
# responders themselves there: neither stays.
rm -f "$api/.env"
for name in "${names[@]}"; do
	rm -f "$api/cgi-bin/$name"
	printf '#!/bin/sh\n# portcullis: runs the %s responder, kept outside the web root.\nexec %s "$@"\n' \
		"$name" "$PREFIX/cgi-bin/$name" >"$api/cgi-bin/$name"
	chmod 0755 "$api/cgi-bin/$name"
done
install -m 0644 "$ROOT/apache/cgi-bin.htaccess" "$api/cgi-bin/.htaccess"
render "$ROOT/apache/htaccess.in" "$api/.htaccess.new" \
	"ENV_FILE=$PREFIX/.env" "IF_CORS=$if_cors" "CORS_LIST=$cors_list" \
	"SITE_PATH=$SITE_PATH" "ROUTE_RULES=$(routes_htaccess)"
chmod 0644 "$api/.htaccess.new"
mv -f "$api/.htaccess.new" "$api/.htaccess"

info "installed in $DESTDIR$PREFIX (web root $DESTDIR$WEBROOT/api, served at ${SITE_PATH}/api)"
if [ "$fresh_env" = 1 ]; then
	info "next: fill in $PREFIX/.env (mode 0600: make it 0640 with the web server's group if the responders do not run as you), then $PREFIX/bin/portcullis-migrate --dir $PREFIX/sql"
fi
