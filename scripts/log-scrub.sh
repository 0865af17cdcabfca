#!/usr/bin/env bash
# scripts/log-scrub.sh - lighttpd's piped error log: appends each line read
# from stdin to FILE with client addresses replaced by "(client)".
#
#   log-scrub.sh FILE
#
# lighttpd's TLS errors end with the peer's address in parentheses, e.g.
# "SSL: 1 error:0A000102:...:unsupported protocol (127.0.0.1)"; the
# responders' stderr goes through here too.  The contract keeps raw client
# addresses out of every log we own, so parenthesised IPv4 and IPv6
# addresses are masked before anything reaches the disk.  lighttpd starts
# this before it drops privileges; as root it re-executes itself as
# www-data, the owner of the log directory, so it never writes there as root.

set -euo pipefail

[ "$#" -eq 1 ] || {
	echo "usage: log-scrub.sh FILE" >&2
	exit 2
}
if [ "$(id -u)" -eq 0 ] && id www-data >/dev/null 2>&1; then
	exec setpriv --reuid=www-data --regid=www-data --init-groups -- "$0" "$@"
fi
exec sed -u -E \
	-e 's/\((::ffff:)?[0-9]{1,3}(\.[0-9]{1,3}){3}\)/(client)/g' \
	-e 's/\([0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(%[A-Za-z0-9]+)?\)/(client)/g' \
	>>"$1"
