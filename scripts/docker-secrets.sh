#!/usr/bin/env bash
# scripts/docker-secrets.sh - writes the files docker-compose.yml's
# `secrets:` name, once: secrets/postgres_password, redis_password,
# jwt_secret, ip_hash_secret and grafana_admin_password, each 48 random
# bytes as 64 URL-safe characters (`openssl rand`), mode 0600 in a 0700
# directory.  An existing file is kept, so a secret of your own put there
# first wins.  Never committed (.gitignore) nor sent to the image
# (.dockerignore).
#
#   scripts/docker-secrets.sh [DIR]      (default: <project>/secrets)
set -euo pipefail
dir=${1:-$(cd "$(dirname "$0")/.." && pwd)/secrets}
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"
for name in postgres_password redis_password jwt_secret ip_hash_secret grafana_admin_password; do
	f=$dir/$name
	if [ -s "$f" ]; then
		echo "kept    $f"
		continue
	fi
	value=$(openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\n')
	[ "${#value}" -ge 64 ] || { echo "openssl rand failed" >&2; exit 1; }
	printf '%s\n' "$value" >"$f.tmp"
	mv -f "$f.tmp" "$f"
	echo "made    $f"
done
