# shellcheck shell=bash
# scripts/lib/routes.sh - the web servers' routing (which path goes to which
# responder), rendered from the route manifest lib/routes.def as the
# responders print it: `cgi-bin/health --list-routes`, one line a route,
# responder, method, template, policy and auth separated by tabs.  Sourced
# by web.sh (lighttpd, Apache) and install.sh (.htaccess).
#
# Rendered here: a rule for each responder that serves paths under /api/,
# matching exactly its templates, a `{param}` as one path segment.  Kept
# in the templates, because they are about the web server and not a route:
#   - health is the fallback: every /api path no rule claims goes to it (and
#     so do its own routes), answered with the JSON 404/405;
#   - /metrics goes to the metrics responder only from loopback or with a
#     bearer token, to health's JSON 404 otherwise;
#   - /api/docs is a static file (API_DOCS=on);
#   - Apache's own refusals (/api/.error), and under .htaccess the paths
#     that Apache has folded (/api/data/.. arrives as /api/).
# The responders route again themselves, on the raw REQUEST_URI: a rule
# here only picks the process.

ROUTES_FALLBACK=health

# routes_load - reads the manifest into ROUTES from config_bin (config.sh:
# cgi-bin/health); dies when the binary is missing or prints no route.
routes_load() {
	local bin line
	bin=$(config_bin)
	ROUTES=()
	while IFS= read -r line; do
		[[ $line =~ ^[a-z][a-z0-9_]*$'\t'[A-Z*]+$'\t'/[A-Za-z0-9/_.~{}-]*$'\t'[a-z]+$'\t'[a-z]+$ ]] ||
			die "routes: $bin --list-routes printed a line that is not a route: $line"
		ROUTES+=("$line")
	done < <("$bin" --list-routes) || true
	[ "${#ROUTES[@]}" -gt 0 ] || die "routes: $bin --list-routes printed no route"
}

# routes_api_responders - the responders that get a rule of their own: those
# with a template under /api/, but the fallback, in manifest order.
routes_api_responders() {
	local line name tmpl seen=" "
	for line in "${ROUTES[@]}"; do
		IFS=$'\t' read -r name _ tmpl _ <<<"$line"
		[[ $tmpl == /api/* ]] && [ "$name" != "$ROUTES_FALLBACK" ] || continue
		[[ $seen == *" $name "* ]] && continue
		seen+="$name "
		printf '%s\n' "$name"
	done
}

# routes_regex NAME raw|dir - the anchored regex of responder NAME's paths:
#   raw  the whole path as sent (lighttpd after edge.lua, Apache's PC_PATH):
#        a `{param}` is one segment, [^/]+
#   dir  relative to /api/ in a .htaccess, where Apache has decoded the path
#        already: a `{param}` is the rest of it, .+
routes_regex() {
	local want=$1 mode=$2 line name tmpl re alts=() seen=" " param
	[ "$mode" = raw ] && param='[^/]+' || param='.+'
	for line in "${ROUTES[@]}"; do
		IFS=$'\t' read -r name _ tmpl _ <<<"$line"
		[ "$name" = "$want" ] || continue
		[[ $seen == *" $tmpl "* ]] && continue
		seen+="$tmpl "
		re=$tmpl
		[ "$mode" = raw ] || re=${re#/api/}
		re=${re//./\\.}
		while [[ $re =~ \{[A-Za-z0-9_]+\} ]]; do
			re=${re/"${BASH_REMATCH[0]}"/"$param"}
		done
		alts+=("$re")
	done
	[ "${#alts[@]}" -gt 0 ] || die "routes: responder $want has no route"
	local IFS='|'
	printf '^(%s)$' "${alts[*]}"
}

# routes_workers NAME - the bin-path arguments that make responder NAME fork
# its pool of PROCS[NAME] processes (lib/prefork.h): " --workers N", or
# nothing for a pool of one.
routes_workers() {
	local n=${PROCS[$1]:?no pool size for $1}
	[ "$n" -gt 1 ] && printf ' --workers %s' "$n"
	return 0
}

# routes_lighttpd CGI_DIR RUN_DIR - a $HTTP["url"] block per responder of
# routes_api_responders.  lighttpd starts one process a responder
# (max-procs 1), which forks its pool of PROCS[NAME] (routes_workers).
routes_lighttpd() {
	local name
	while IFS= read -r name; do
		# shellcheck disable=SC2016 # a literal lighttpd "$HTTP"
		printf '$HTTP["url"] =~ "%s" {\n' "$(routes_regex "$name" raw)"
		printf '\tfastcgi.server = ( "/" => ( "%s" => (\n' "$name"
		printf '\t\t"bin-path" => "%s/%s%s",\n' "$1" "$name" "$(routes_workers "$name")"
		printf '\t\t"socket" => "%s/%s.sock",\n' "$2" "$name"
		printf '\t\t"max-procs" => 1,\n'
		printf '\t\t"check-local" => "disable",\n\t)))\n}\n'
	done < <(routes_api_responders)
}

# routes_apache CGI_BIN - the rewrite rules of httpd.conf: each path as sent
# (PC_PATH) to its responder in CGI_BIN.
routes_apache() {
	local name
	while IFS= read -r name; do
		printf '\tRewriteCond %%{ENV:PC_PATH} %s\n' "$(routes_regex "$name" raw)"
		printf '\tRewriteRule ^ %s/%s [END]\n' "$1" "$name"
	done < <(routes_api_responders)
}

# routes_htaccess - the rewrite rules of the .htaccess in /api/ (paths
# relative to it) to ./cgi-bin/.
routes_htaccess() {
	local name
	while IFS= read -r name; do
		printf 'RewriteRule %s cgi-bin/%s [END]\n' "$(routes_regex "$name" dir)" "$name"
	done < <(routes_api_responders)
}
