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
#
# FILE never grows past LOG_SCRUB_MAX_BYTES (default 16 MiB): it is then
# renamed to FILE.1 (replacing the older one) and started anew.  It is
# opened with O_APPEND, so logrotate's copytruncate also works.

set -euo pipefail

[ "$#" -eq 1 ] || {
	echo "usage: log-scrub.sh FILE" >&2
	exit 2
}
if [ "$(id -u)" -eq 0 ] && id www-data >/dev/null 2>&1; then
	exec setpriv --reuid=www-data --regid=www-data --init-groups -- "$0" "$@"
fi
file=$1
max=${LOG_SCRUB_MAX_BYTES:-16777216}
sed -u -E \
	-e 's/\((::ffff:)?[0-9]{1,3}(\.[0-9]{1,3}){3}\)/(client)/g' \
	-e 's/\([0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(%[A-Za-z0-9]+)?\)/(client)/g' | {
	exec 3>>"$file"
	size=$(stat -c %s -- "$file" 2>/dev/null || echo 0)
	while IFS= read -r line; do
		printf '%s\n' "$line" >&3
		size=$((size + ${#line} + 1))
		if [ "$size" -ge "$max" ]; then
			mv -f -- "$file" "$file.1" && exec 3>>"$file"
			size=0
		fi
	done
}
