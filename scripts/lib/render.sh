# shellcheck shell=bash
# scripts/lib/render.sh - fills a template's @NAME@ placeholders.  Sourced.
#
# render TEMPLATE OUTPUT NAME=VALUE... replaces every @NAME@ with VALUE,
# line by line in bash (no sed: a value is never read as a pattern or as a
# replacement with `&` or `\` in it), then fails if a placeholder is left.
# The output is written with mode 0600 and replaced atomically.

render() {
	local template=$1 out=$2 line pair name value text=""
	shift 2
	[ -r "$template" ] || die "render: cannot read $template"
	# Bash 5.2 would read `&` in a replacement as the match; turn that off.
	shopt -u patsub_replacement 2>/dev/null || true
	while IFS= read -r line || [ -n "$line" ]; do
		for pair in "$@"; do
			name=${pair%%=*}
			value=${pair#*=}
			line=${line//"@$name@"/"$value"}
		done
		text+=$line$'\n'
	done <"$template"
	if [[ $text =~ @[A-Z0-9_]+@ ]]; then
		die "render: $template: no value for ${BASH_REMATCH[0]}"
	fi
	(
		umask 077
		printf '%s' "$text" >"$out.tmp"
	)
	mv -f "$out.tmp" "$out"
}
