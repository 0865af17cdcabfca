# shellcheck shell=bash
# scripts/lib/app.sh - the two steps that run portcullis' own binaries
# before the web server starts.  Sourced.
#
# app_check_config: `cgi-bin/health --check-config` with exactly the
# responders' environment; it names a bad variable on stderr and exits 1.
# app_migrate: `bin/portcullis-migrate --dir <root>/sql` against DATABASE_URL;
# it applies pending migrations once, in order, and refuses a schema newer
# than the code.  Either failing stops `up` before lighttpd starts.

app_check_config() {
	local bin=$ROOT/cgi-bin/health err
	[ -x "$bin" ] || die "config: $bin is missing (run make)"
	web_env
	if ! err=$(with_resp_env "$bin" --check-config 2>&1 >/dev/null); then
		printf '%s\n' "$err" >&2
		die "config: the configuration is not valid (see above); fix it in the environment or $ENV_FILE"
	fi
}

app_migrate() {
	local bin=$ROOT/bin/portcullis-migrate out
	[ -x "$bin" ] || die "migrate: $bin is missing (run make)"
	web_env
	if ! out=$(with_resp_env "$bin" --dir "$ROOT/sql" 2>&1); then
		printf '%s\n' "$out" >&2
		die "migrate: migrations failed; the web server was not started"
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
}
