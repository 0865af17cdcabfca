# shellcheck shell=bash disable=SC2034
# scripts/lib/secrets.sh - the stack's generated secrets, kept in
# $VAR_DIR/secrets.env (mode 0600).  Sourced.
#
# Each secret is 48 random bytes from `openssl rand`, base64url without
# padding (64 characters, safe inside URLs).  A secret is generated once, the
# first time it is missing, and kept across runs.  JWT_SECRET and
# IP_HASH_SECRET set in the environment or .env win over the generated ones;
# PG_PASSWORD and REDIS_PASSWORD are for the private servers only.

SECRET_KEYS=(JWT_SECRET IP_HASH_SECRET PG_PASSWORD REDIS_PASSWORD)
declare -gA SECRET=()

secret_new() {
	openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\n'
}

# var_dir_ensure - creates $VAR_DIR: private to us, but searchable when root
# so the postgres, redis and www-data users reach their own subdirectories.
var_dir_ensure() {
	mkdir -p "$VAR_DIR"
	if is_root; then chmod 0711 "$VAR_DIR"; else chmod 0700 "$VAR_DIR"; fi
}

# secrets_load create|read - fills SECRET[] and the CONF[] entries that the
# environment and .env left unset.  `create` first generates what is
# missing; `read` only reads an existing file and writes nothing.
secrets_load() {
	local file=$VAR_DIR/secrets.env key
	SECRET=()
	if [ "$1" = create ]; then
		var_dir_ensure
		(
			umask 077
			touch "$file"
		)
		chmod 0600 "$file"
	fi
	if [ -r "$file" ]; then config_file_pairs "$file" SECRET; fi
	for key in "${SECRET_KEYS[@]}"; do
		if [ -z "${SECRET[$key]-}" ] && [ "$1" = create ]; then
			SECRET["$key"]=$(secret_new)
			[ "${#SECRET[$key]}" -ge 64 ] || die "openssl rand failed"
			printf '%s=%s\n' "$key" "${SECRET[$key]}" >>"$file"
		fi
		SECRET["$key"]=${SECRET[$key]-}
	done
	for key in JWT_SECRET IP_HASH_SECRET; do
		if [ -z "${CONF[$key]-}" ] && [ -z "${CONF[${key}_FILE]-}" ] && [ -n "${SECRET[$key]}" ]; then
			CONF["$key"]=${SECRET[$key]}
		fi
	done
}
