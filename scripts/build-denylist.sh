#!/usr/bin/env bash
# scripts/build-denylist.sh OUT - builds the shipped deny list of common
# passwords (a passwdqc filter, see lib/denylist.h) into OUT.
#
# The source is Debian's python3-zxcvbn (installed by install-deps.sh
# build): the "passwords" frequency list of zxcvbn, the 30,000 most common
# passwords of Mark Burnett's 10-million-password corpus, as Dropbox's
# password strength estimator ranks them.  It is read from the installed
# package, never kept in this repository, and normalised and built by
# bin/portcullis-denylist exactly as the responders look passwords up.
set -euo pipefail

[ "$#" -eq 1 ] || {
	echo "usage: build-denylist.sh OUT" >&2
	exit 2
}
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$(dirname "$out")"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
# Debian's interpreter, where Debian's module is (not a python3 of a virtualenv first in PATH).
/usr/bin/python3 - >"$list" <<'PY'
import sys
from zxcvbn.frequency_lists import FREQUENCY_LISTS
words = FREQUENCY_LISTS["passwords"]
if len(words) < 10000:
    sys.exit("build-denylist.sh: python3-zxcvbn's list has only %d passwords" % len(words))
sys.stdout.write("\n".join(words) + "\n")
PY
"$root/bin/portcullis-denylist" "$list" "$out.new" >/dev/null
mv -f "$out.new" "$out"
echo "build-denylist.sh: $(wc -l <"$list") common passwords (python3-zxcvbn $(dpkg-query -W -f='${Version}' python3-zxcvbn)) into $out"
