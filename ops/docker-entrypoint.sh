#!/usr/bin/env bash
# ops/docker-entrypoint.sh - the image's entrypoint.  Started as root, it does
# only what needs root, then runs the command (default `scripts/stack.sh
# run`) as the unprivileged user `portcullis`:
#
#  - secrets: every *_FILE variable (JWT_SECRET_FILE, IP_HASH_SECRET_FILE,
#    METRICS_TOKEN_FILE, DATABASE_URL_FILE, REDIS_URL_FILE) naming a file
#    the app user cannot read (compose mounts `secrets:` with the host's
#    owner and mode) is copied to /run/portcullis/ (0400, owned by the app
#    user) and the variable repointed there;
#  - with the secrets postgres_password / redis_password mounted and no
#    DATABASE_URL(_FILE) / REDIS_URL(_FILE) set, it writes the URL files
#    from them (password percent-encoded; hosts PORTCULLIS_DB_HOST, default
#    `postgres`, and PORTCULLIS_REDIS_HOST, default `redis`);
#  - the secrets tls_cert and tls_key, when mounted, replace the
#    self-signed certificate in $VAR_DIR/tls/;
#  - $VAR_DIR and its run/, log/ and tls/ belong to the app user.
#
# Started as any other user (`docker run --user ...`, Kubernetes'
# runAsNonRoot), it runs the command at once: the files must then be
# readable by that user already.
set -euo pipefail
export LC_ALL=C

APP_USER=portcullis
VAR_DIR=${VAR_DIR:-/var/lib/portcullis}
SECRETS=${PORTCULLIS_SECRETS_DIR:-/run/secrets}
PRIVATE=/run/portcullis

if [ "$(id -u)" -ne 0 ]; then
	exec "$@"
fi

# urlencode TEXT - percent-encodes everything outside RFC 3986's unreserved set.
urlencode() {
	local s=$1 out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) printf -v c '%%%02X' "'$c" && out+=$c ;;
		esac
	done
	printf '%s' "$out"
}

# private NAME - stdin into $PRIVATE/NAME, readable by the app user only.
private() {
	(umask 077 && cat >"$PRIVATE/$1")
	chown "$APP_USER:$APP_USER" "$PRIVATE/$1"
	chmod 0400 "$PRIVATE/$1"
}

install -d -m 0700 -o "$APP_USER" -g "$APP_USER" "$PRIVATE"
rm -f "$PRIVATE"/*

if [ -z "${DATABASE_URL:-}${DATABASE_URL_FILE:-}" ] && [ -r "$SECRETS/postgres_password" ]; then
	pw=$(cat "$SECRETS/postgres_password")
	printf 'postgresql://portcullis:%s@%s:5432/portcullis\n' "$(urlencode "$pw")" \
		"${PORTCULLIS_DB_HOST:-postgres}" | private database_url
	export DATABASE_URL_FILE=$PRIVATE/database_url
fi
if [ -z "${REDIS_URL:-}${REDIS_URL_FILE:-}" ] && [ -r "$SECRETS/redis_password" ]; then
	pw=$(cat "$SECRETS/redis_password")
	printf 'redis://:%s@%s:6379/0\n' "$(urlencode "$pw")" \
		"${PORTCULLIS_REDIS_HOST:-redis}" | private redis_url
	export REDIS_URL_FILE=$PRIVATE/redis_url
fi
unset pw

for var in JWT_SECRET_FILE IP_HASH_SECRET_FILE METRICS_TOKEN_FILE DATABASE_URL_FILE REDIS_URL_FILE; do
	path=${!var:-}
	[ -n "$path" ] || continue
	[[ $path == "$PRIVATE"/* ]] && continue
	if [ ! -r "$path" ]; then
		echo "docker-entrypoint: $var: cannot read $path" >&2
		exit 1
	fi
	if ! setpriv --reuid="$APP_USER" --regid="$APP_USER" --clear-groups -- test -r "$path"; then
		name=${var%_FILE}
		private "${name,,}" <"$path"
		export "$var=$PRIVATE/${name,,}"
	fi
done

install -d -m 0700 -o "$APP_USER" -g "$APP_USER" "$VAR_DIR" "$VAR_DIR/run" "$VAR_DIR/tls"
install -d -m 0750 -o "$APP_USER" -g "$APP_USER" "$VAR_DIR/log"
if [ -r "$SECRETS/tls_cert" ] && [ -r "$SECRETS/tls_key" ]; then
	install -m 0644 -o "$APP_USER" -g "$APP_USER" "$SECRETS/tls_cert" "$VAR_DIR/tls/cert.pem"
	install -m 0600 -o "$APP_USER" -g "$APP_USER" "$SECRETS/tls_key" "$VAR_DIR/tls/key.pem"
fi

exec setpriv --reuid="$APP_USER" --regid="$APP_USER" --init-groups -- "$@"
