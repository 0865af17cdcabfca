#!/usr/bin/env bash
# The configuration table (lib/config.c) is the one list of settings; this
# checks the places that must agree with it against what the built
# responder prints (`cgi-bin/health --list-config`), so a key added to the
# table and forgotten elsewhere fails here:
#
#  - --list-config: six tab-separated fields a line, unique names, a
#    description each, a NAME_FILE twin after each key that has one;
#  - --print-config: secrets and URL passwords masked, _FILE twins
#    resolved, the environment over .env, unknown .env keys named;
#    --print-config=raw: values as set, a malformed .env refused with its
#    file and line, a control character refused;
#  - .env.example: every key, each with the table's default (a sample value
#    only for keys without a default), and no key the table lacks; the
#    shared-hosting sample apache/portcullis.env.example: only keys of the
#    table;
#  - docker-compose.yml: every ${VAR} is a key of the table with the table's
#    default (or a reasoned exception), the app's environment holds only
#    keys of the table (and the entrypoint's own PORTCULLIS_* hosts), and
#    every responder setting reaches the app (itself, its _FILE twin, or
#    built by the entrypoint);
#  - tests/unit/test_config.c keeps no list of its own (it walks the table).
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

bin=cgi-bin/health
if [ ! -x "$bin" ]; then
	not_ok "$bin is built (make)"
	exit 0
fi
if ! "$bin" --list-config >"$TMP/keys" || [ ! -s "$TMP/keys" ]; then
	not_ok "$bin --list-config prints the table"
	exit 0
fi
ok "$bin --list-config prints the table ($(wc -l <"$TMP/keys") keys)"

# ---- --print-config ---------------------------------------------------------
secret=print-config-secret-print-config-secret
cat >"$TMP/print.env" <<EOT
DATABASE_URL=postgresql://app:db-password-here@db.example/portcullis
JWT_SECRET_FILE=$TMP/jwt
IP_HASH_SECRET=$secret
BCRYPT_COST=11
LOG_LEVEL=debug
NOT_A_SETTING=typo
EOT
printf '%s\n' "$secret-from-file" >"$TMP/jwt"
pc() { env -i PATH=/usr/bin:/bin PORTCULLIS_ENV_FILE="$TMP/print.env" "$@"; }
field() { awk -F'\t' -v k="$1" -v n="$2" '$1 == k { print $n }' "$3"; }
if pc LOG_LEVEL=warn "$bin" --print-config >"$TMP/masked" 2>"$TMP/masked.err"; then
	ok "--print-config exits 0"
else
	not_ok "--print-config exits 0: $(head -c 300 "$TMP/masked.err")"
fi
if grep -q -e "$secret" -e db-password-here "$TMP/masked"; then
	not_ok "--print-config masks the secrets and the URL's password"
else
	ok "--print-config masks the secrets and the URL's password"
fi
expect_eq "$(field DATABASE_URL 3 "$TMP/masked")" "postgresql://app:****@db.example/portcullis" \
	"--print-config shows a URL with its password masked"
expect_eq "$(field JWT_SECRET 2 "$TMP/masked") $(field JWT_SECRET 3 "$TMP/masked")" \
	"JWT_SECRET_FILE <hidden: $((${#secret} + 10)) bytes>" \
	"--print-config resolves a _FILE twin (and masks what it read)"
expect_eq "$(field LOG_LEVEL 2 "$TMP/masked") $(field LOG_LEVEL 3 "$TMP/masked")" "environment warn" \
	"--print-config: the environment wins over .env"
expect_eq "$(field BCRYPT_COST 2 "$TMP/masked") $(field ACCESS_TOKEN_TTL 2 "$TMP/masked")" ".env default" \
	"--print-config names each value's source"
expect_eq "$(field NOT_A_SETTING 2 "$TMP/masked")" unknown "--print-config names a .env key the table lacks"
expect_eq "$(cut -f 1 "$TMP/masked" | grep -vx NOT_A_SETTING)" "$(cut -f 1 "$TMP/keys")" \
	"--print-config prints every key of the table, in its order"

pc "$bin" --print-config=raw >"$TMP/raw" 2>&1
expect_eq "$(field IP_HASH_SECRET 3 "$TMP/raw") $(field JWT_SECRET_FILE 3 "$TMP/raw")" "$secret $TMP/jwt" \
	"--print-config=raw prints values as set, twins unresolved"
expect_eq "$(field JWT_SECRET 2 "$TMP/raw")$(field NOT_A_SETTING 3 "$TMP/raw")" typo \
	"--print-config=raw leaves unset keys out and passes unknown ones on"
printf 'BCRYPT_COST=12\nthis is not a setting\n' >"$TMP/bad.env"
env -i PORTCULLIS_ENV_FILE="$TMP/bad.env" "$bin" --print-config=raw >/dev/null 2>"$TMP/bad.err"
rc=$?
if [ "$rc" = 2 ] && grep -q "bad.env:2" "$TMP/bad.err"; then
	ok "--print-config=raw refuses a malformed .env with its file and line (exit 2)"
else
	not_ok "--print-config=raw on a malformed .env: exit $rc, $(head -c 200 "$TMP/bad.err")"
fi
env -i PORTCULLIS_ENV_FILE=/dev/null "CORS_ALLOWED_ORIGINS=a
b" "$bin" --print-config=raw >/dev/null 2>"$TMP/ctl.err"
rc=$?
if [ "$rc" = 2 ] && grep -q CORS_ALLOWED_ORIGINS "$TMP/ctl.err"; then
	ok "--print-config=raw refuses a value holding a newline, naming it"
else
	not_ok "--print-config=raw with a newline in a value: exit $rc"
fi

# ---- the files that list the keys --------------------------------------------
KEYS=$TMP/keys python3 - <<'PY'
import os, re
import yaml

def ok(msg): print("ok - " + msg)
def not_ok(msg): print("not ok - " + msg)
def check(cond, msg, detail=""):
    (ok if cond else not_ok)(msg + ("" if cond or not detail else ": " + detail))

rows = [l.rstrip("\n").split("\t") for l in open(os.environ["KEYS"])]
bad = [r[0] for r in rows if len(r) != 6]
check(not bad, "--list-config: six tab-separated fields on every line", f"{bad}")
rows = [r for r in rows if len(r) == 6]
names = [r[0] for r in rows]
check(len(names) == len(set(names)), "--list-config: every name once")
check(all(r[5] for r in rows), "--list-config: every key has a description",
      f"{[r[0] for r in rows if not r[5]]}")
twin_ok = all(names[i + 1] == r[0] + "_FILE" and rows[i + 1][4] == "twin"
              for i, r in enumerate(rows) if "file" in r[4].split(","))
check(twin_ok, "--list-config: each key with a _FILE twin is followed by it")
table = {r[0]: {"type": r[1], "default": r[3], "flags": set(r[4].split(","))} for r in rows}
responder = {n for n, k in table.items() if not k["flags"] & {"stack", "compose", "twin"}}

# .env.example: every key with its default; nothing else.
ex = {}
for line in open(".env.example"):
    m = re.match(r"^#?([A-Z][A-Z0-9_]*)=(.*)$", line.rstrip("\n"))
    if m:
        ex[m.group(1)] = m.group(2)
missing = sorted(set(table) - set(ex))
check(not missing, f".env.example lists every key of the table ({len(table)})", f"missing {missing}")
extra = sorted(set(ex) - set(table))
check(not extra, ".env.example lists no key the table lacks", f"unknown {extra}")
wrong = sorted(f"{n}={ex[n]} (default {k['default']!r})" for n, k in table.items()
               if n in ex and "required" not in k["flags"] and ex[n] != k["default"])
check(not wrong, ".env.example shows each key's default (the table's)", "; ".join(wrong))

# The shared-hosting sample (make install) names only keys of the table,
# the ones it leaves commented out with their defaults.
sample = [re.match(r"^(#?)([A-Z][A-Z0-9_]*)=(.*)$", l.rstrip("\n")) for l in open("apache/portcullis.env.example")]
sample = [m for m in sample if m]
extra = sorted(m.group(2) for m in sample if m.group(2) not in table)
check(sample and not extra, "apache/portcullis.env.example names only keys of the table", f"unknown {extra}")
wrong = sorted(m.group(0) for m in sample if m.group(1) and m.group(2) in table
               and table[m.group(2)]["default"] and m.group(3) != table[m.group(2)]["default"])
check(not wrong, "apache/portcullis.env.example: each commented-out key shows its default", f"{wrong}")

# docker-compose.yml
text = open("docker-compose.yml").read()
compose = yaml.safe_load(text)
# Compose's own defaults that differ from the table's on purpose: the image
# logs to standard error (so `docker logs` shows the lines) and rotates the
# web server's copy of them at the local stack's size.
compose_defaults = {"LOG_FILE": "-", "LOG_MAX_BYTES": "16777216"}
body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
uses = re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}", body.replace("$$", ""))
unknown = sorted({n for n, _ in uses if n not in table})
check(uses and not unknown, f"compose: every ${{VAR}} is a key of the table ({len(uses)})", f"unknown {unknown}")
wrong = sorted(f"{n}:-{d} (table {table[n]['default']!r})" for n, d in uses
               if n in table and d != compose_defaults.get(n, table[n]["default"]))
check(not wrong, "compose: every ${VAR:-default} is the table's default (or a reasoned exception)",
      "; ".join(wrong))
app = (compose.get("services") or {}).get("app") or {}
env = app.get("environment") or {}
env = env if isinstance(env, dict) else dict(e.split("=", 1) for e in env)
entrypoint = open("ops/docker-entrypoint.sh").read()
foreign = sorted(k for k in env if k not in table
                 and not (k.startswith("PORTCULLIS_") and re.search(r"\$\{?" + k + r"\b", entrypoint)))
check(env and not foreign, "compose: the app's environment holds only keys of the table (and the entrypoint's hosts)",
      f"unknown {foreign}")
# Secrets arrive as files; DATABASE_URL and REDIS_URL are built by the
# entrypoint from the password secrets; METRICS_TOKEN and
# REDIS_SENTINEL_PASSWORD are optional; the stack sets METRICS_FILE.
built = {"DATABASE_URL", "REDIS_URL"}
optional = {"METRICS_TOKEN", "REDIS_SENTINEL_PASSWORD", "METRICS_FILE"}
lacking = sorted(k for k in responder - built - optional
                 if k not in env and (k + "_FILE") not in env)
check(not lacking, f"compose: the app gets every responder setting ({len(responder)})", f"missing {lacking}")
check(all(re.search(r"\b" + k + r"_FILE\b", entrypoint) for k in built),
      "compose: the entrypoint builds DATABASE_URL_FILE and REDIS_URL_FILE")

# test_config.c walks the table instead of keeping a list of its own.
unit = open("tests/unit/test_config.c").read()
crowded = [l for l in unit.splitlines() if len(set(re.findall(r'"([A-Z][A-Z0-9_]+)"', l)) & set(table)) >= 3]
check("cfg_key_at" in unit and not crowded, "test_config.c takes its keys from the table (no list of its own)",
      f"{crowded[:2]}")
PY
