#!/usr/bin/env bash
# scripts/install.sh - `make install`: lays portcullis out for a host that
# runs it without the local stack, such as shared hosting with a web root,
# .htaccess and plain CGI.
#
#   install.sh DESTDIR PREFIX WEBROOT      (make install PREFIX=... WEBROOT=... DESTDIR=...)
#
# Layout (DESTDIR, if given, is prepended to every path written, never to
# a path written into a file):
#   PREFIX/bin/portcullis-migrate      migrations: it finds PREFIX/.env itself
#   PREFIX/sql/NNN_*.sql
#   PREFIX/.env.example                copy to PREFIX/.env and fill in; kept
#                                      outside the web root, never overwritten
#   WEBROOT/api/.htaccess              routes /api/... to the responders
#                                      (from apache/htaccess.in)
#   WEBROOT/api/.env -> PREFIX/.env    for mod_fcgid, where SetEnv cannot
#                                      reach the responders (never served)
#   PREFIX/share/common-passwords.pwq  the shipped deny list (a passwdqc
#                                      filter); WEBROOT/api/share links there
#   WEBROOT/api/cgi-bin/<responder>    the responders, plain CGI or FastCGI
#   WEBROOT/api/cgi-bin/.htaccess      picks mod_fcgid or mod_cgi
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
[ "$WEBROOT" != "$PREFIX" ] || die "WEBROOT: must not be PREFIX itself (PREFIX/.env would be in the web root)"
case "$PREFIX/" in
"$WEBROOT"/*) die "PREFIX: must not be inside WEBROOT (its .env would be in the web root)" ;;
esac

# Every responder the .htaccess routes to (not metrics: /metrics is not
# served through .htaccess).
responders=()
for name in health register login session data; do
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
	dotenv_parse "$DESTDIR$PREFIX/.env" INSTALLED
	CONF[CORS_ALLOWED_ORIGINS]=${INSTALLED[CORS_ALLOWED_ORIGINS]-}
fi
cors_list="" if_cors="# "
while IFS= read -r origin; do
	cors_list+="${cors_list:+, }'$origin'"
done < <(cors_origins)
[ -z "$cors_list" ] || if_cors=""

api=$DESTDIR$WEBROOT/api
install -d -m 0755 "$DESTDIR$PREFIX" "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/sql" \
	"$DESTDIR$PREFIX/share" "$DESTDIR$WEBROOT" "$api" "$api/cgi-bin"
install -m 0755 "$ROOT/bin/portcullis-migrate" "$DESTDIR$PREFIX/bin/"
install -m 0644 "$ROOT"/sql/*.sql "$DESTDIR$PREFIX/sql/"
install -m 0644 "$ROOT/share/common-passwords.pwq" "$DESTDIR$PREFIX/share/"
install -m 0755 "$ROOT/bin/portcullis-denylist" "$DESTDIR$PREFIX/bin/"
install -m 0644 "$ROOT/apache/portcullis.env.example" "$DESTDIR$PREFIX/.env.example"
install -m 0755 "${responders[@]}" "$api/cgi-bin/"
install -m 0644 "$ROOT/apache/cgi-bin.htaccess" "$api/cgi-bin/.htaccess"
render "$ROOT/apache/htaccess.in" "$api/.htaccess.new" \
	"ENV_FILE=$PREFIX/.env" "IF_CORS=$if_cors" "CORS_LIST=$cors_list"
chmod 0644 "$api/.htaccess.new"
mv -f "$api/.htaccess.new" "$api/.htaccess"
ln -sfn "$PREFIX/.env" "$api/.env"
# The responders find the shipped deny list in <their directory>/../share.
ln -sfn "$PREFIX/share" "$api/share"

info "installed in $DESTDIR$PREFIX (web root $DESTDIR$WEBROOT/api)"
if [ ! -e "$DESTDIR$PREFIX/.env" ]; then
	info "next: cp $PREFIX/.env.example $PREFIX/.env, fill it in, then $PREFIX/bin/portcullis-migrate --dir $PREFIX/sql"
fi
