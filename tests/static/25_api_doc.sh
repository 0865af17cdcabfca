#!/usr/bin/env bash
# docs/API.md, the project's contract, kept true statically (no server):
#  - its endpoints (the `METHOD /path` first cells of its tables) are
#    exactly the operations of openapi.yaml (HEAD and OPTIONS aside: GET
#    implies HEAD, and every path answers OPTIONS);
#  - when the responders print their route manifest (`cgi-bin/health
#    --list-routes`), they are exactly its routes too;
#  - every error code it names (its tables, and `NNN code` in the text)
#    appears in openapi.yaml;
#  - every relative link of README.md and docs/*.md names a file that
#    exists, and no file outside docs/ points at the shared directory
#    beside the repository: the contract lives here.
# shellcheck disable=SC2016 # the backquotes are Markdown's, not a shell's
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

DOC=docs/API.md
SPEC=openapi.yaml
for f in "$DOC" "$SPEC"; do
	if [ ! -f "$f" ]; then
		not_ok "$f exists"
		exit 0
	fi
done

# The "METHOD path" of every table row of docs/API.md that starts with one,
# the query string dropped.
grep -oE '^\| `(GET|POST|PUT|DELETE|PATCH) /[^` ?]*' "$DOC" | sed 's/^| `//' | sort -u >"$TMP/doc"
# The operations of openapi.yaml: paths at two spaces, methods at four (the
# layout tests/static/20_openapi.sh relies on too).
awk '/^[^ #]/ { top = $1 } top == "paths:" && /^  [^ #]/ { p = $1; sub(/:$/, "", p) }
	top == "paths:" && /^    (get|put|post|delete|patch):/ {
		m = $1; sub(/:$/, "", m); print toupper(m), p }' "$SPEC" | sort -u >"$TMP/spec"

# compare A B WHAT - one line: the two lists are equal, else what each lacks.
compare() {
	local only_a only_b
	only_a=$(comm -23 "$1" "$2" | paste -sd, -)
	only_b=$(comm -13 "$1" "$2" | paste -sd, -)
	if [ -s "$1" ] && [ -z "$only_a$only_b" ]; then
		ok "$3 ($(wc -l <"$1"))"
	else
		not_ok "$3: only in the first: [$only_a], only in the second: [$only_b]"
	fi
}

if [ "$(wc -l <"$TMP/doc")" -ge 10 ]; then
	ok "$DOC lists $(wc -l <"$TMP/doc") endpoints in its tables"
else
	not_ok "$DOC lists the endpoints in its tables (found $(wc -l <"$TMP/doc"))"
fi
compare "$TMP/doc" "$TMP/spec" "the endpoints of $DOC are the operations of $SPEC"

# The route manifest, as the responders print it.  Each line names a
# method (or * for every method) and a path template; other columns (the
# responder, the policy, ...) are not read here.
if [ ! -x cgi-bin/health ]; then
	not_ok "cgi-bin/health is built (make)"
elif ! cgi-bin/health --help 2>&1 </dev/null | grep -q -- '--list-routes'; then
	ok "skipped: the route manifest half (cgi-bin/health has no --list-routes option yet)"
elif ! env -i PATH=/usr/bin:/bin PORTCULLIS_ENV_FILE=/dev/null \
	JWT_SECRET=api-doc-check-secret-api-doc-check-secret \
	IP_HASH_SECRET=api-doc-check-secret-api-doc-check-secret \
	timeout 10 cgi-bin/health --list-routes </dev/null >"$TMP/manifest" 2>"$TMP/manifest.err"; then
	not_ok "cgi-bin/health --list-routes runs: $(head -c 300 "$TMP/manifest.err")"
else
	awk '{ m = ""; p = ""
		for (i = 1; i <= NF; i++) {
			if (m == "" && $i ~ /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|\*)$/) m = $i
			if (p == "" && $i ~ /^\//) p = $i
		}
		if (m != "" && p != "") print m, p }' "$TMP/manifest" | sort -u >"$TMP/rows"
	# A row of every method (*) stands for the documented methods of its path.
	awk '$1 == "*" { print $2 }' "$TMP/rows" | sort -u >"$TMP/star"
	{
		awk '$1 != "*" && $1 != "HEAD" && $1 != "OPTIONS"' "$TMP/rows"
		awk 'NR == FNR { star[$1] = 1; next } ($2 in star)' "$TMP/star" "$TMP/doc"
	} | sort -u >"$TMP/routes"
	missing=$(awk '{ print $1 }' "$TMP/star" | while read -r p; do
		grep -q " $p\$" "$TMP/doc" || printf '%s ' "$p"
	done)
	expect_eq "${missing% }" "" "every path the manifest routes for every method is in $DOC"
	compare "$TMP/doc" "$TMP/routes" "the endpoints of $DOC are the routes of cgi-bin/health --list-routes"
fi

# Error codes: the first table's `| NNN | `code` |`, the web servers' table's
# `| `code` | NNN |`, and `NNN code` in backquotes in the text.
{
	grep -oE '^\| [1-5][0-9]{2} \| `[a-z_]+`' "$DOC" | grep -oE '[a-z_]+`$'
	grep -oE '^\| `[a-z_]+` \| [1-5][0-9]{2} \|' "$DOC" | grep -oE '`[a-z_]+`'
	grep -oE '`[1-5][0-9]{2} [a-z][a-z_]+`' "$DOC" | grep -oE ' [a-z_]+`'
} | tr -d '` ' | sort -u >"$TMP/codes"
missing=""
while read -r code; do
	grep -qw -- "$code" "$SPEC" || missing="$missing $code"
done <"$TMP/codes"
if [ "$(wc -l <"$TMP/codes")" -ge 20 ] && [ -z "$missing" ]; then
	ok "every error code of $DOC appears in $SPEC ($(wc -l <"$TMP/codes"))"
else
	not_ok "every error code of $DOC appears in $SPEC (found $(wc -l <"$TMP/codes"); missing:${missing:- none})"
fi

# Relative links of the Markdown files, [text](path) or [text](path#anchor):
# the file exists, and an anchor into a Markdown file is one of its
# headings (as GitHub makes the anchor: lower case, punctuation dropped,
# spaces as hyphens).
bad=$(python3 - README.md docs/*.md <<'PY'
import os, re, sys
def anchors(path):
    out, fence = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"#{1,6} +(.*?) *#* *$", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-"))
    return out
bad = []
for f in sys.argv[1:]:
    text = re.sub(r"```.*?```", "", open(f, encoding="utf-8").read(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, frag = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
        if not os.path.exists(full):
            bad.append(f"{f}:{target}")
        elif frag and full.endswith(".md") and frag not in anchors(full):
            bad.append(f"{f}:{target} (no such heading)")
print(" ".join(bad))
PY
)
expect_eq "$bad" "" "every relative link of README.md and docs/*.md names a file of the repository (and a heading of it)"

# Nothing outside docs/ points at the shared directory beside the clone.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -co --exclude-standard >"$TMP/files"
else
	find . -type f ! -path './.git/*' ! -path './var/*' ! -path './build/*' \
		! -path '*/node_modules/*' | sed 's|^\./||' >"$TMP/files"
fi
outside=$(grep -v '^docs/' "$TMP/files" | while read -r f; do
	[ -f "$f" ] && grep -lE '\.\./shared|/work/shar[e]d' "$f" 2>/dev/null
done | paste -sd' ' -)
expect_eq "$outside" "" "no file outside docs/ points at the shared directory (the contract is $DOC)"
