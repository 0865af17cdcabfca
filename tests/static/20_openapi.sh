#!/usr/bin/env bash
# openapi.yaml, checked statically against the contract and the code: no
# server is started or called, nothing from the test stack is used, so this
# also runs on its own (`bash tests/static/20_openapi.sh`).
#
# With python3 and its yaml module (Debian's python3-yaml):
#  - the document parses, says `openapi: 3.1.x`, and info.description has
#    the section "Where the contract is silent";
#  - the paths are exactly the contract's, each with its methods (HEAD
#    wherever GET is), and every row of the route manifest (lib/routes.def)
#    is documented; each path's OPTIONS names the `Allow` value the router
#    builds from them;
#  - every local $ref resolves;
#  - every (status, code) of docs/API.md's error table and every status and
#    (status, code) the responders can answer (resp_error / resp_json /
#    resp_empty / resp_text in src/ and lib/) is documented for at least one
#    operation; the code and reason enums are the contract's and the code's;
#  - `fields` only on 422; Allow on 405; Retry-After on 429 and 503;
#    X-Request-Id and Cache-Control everywhere; ETag, Set-Cookie and the
#    RateLimit fields where they belong;
#  - the rules in the schemas are the code's: username pattern and bounds,
#    password bounds and PASSWORD_MIN_LENGTH's default, token_transport,
#    key pattern and length, limit bounds and default, cookie names, paths
#    and attributes, security schemes.
# Without the yaml module nothing is installed: a structural check by
# indentation (version, paths and methods, codes, statuses, component
# $refs) runs instead and the rest is reported as skipped.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

SPEC=openapi.yaml
API_MD=${API_MD:-$ROOT/docs/API.md}
[ -f "$API_MD" ] || API_MD=""

if [ ! -f "$SPEC" ]; then
	not_ok "$SPEC exists at the repository root"
	exit 0
fi

# The statuses the responders can answer: the status argument of every
# resp_error/resp_json (third) and resp_empty/resp_text (second) call, with
# every three-digit number in it (`pg ? 200 : 503` gives both).
code_statuses() {
	cat src/*.c lib/*.c | tr '\n' ' ' |
		grep -oE 'resp_(error|json)\([^,()]+,[^,()]+,[^,]+,|resp_(empty|text)\([^,()]+,[^,)]+[,)]' |
		sed -E 's/^resp_(error|json)\([^,]*,[^,]*,//; s/^resp_(empty|text)\([^,]*,//' |
		grep -oE '\b[1-5][0-9]{2}\b' | sort -u
}

if ! python3 -c 'import yaml' 2>/dev/null; then
	ok "skipped: YAML-parse-dependent checks (python3 cannot import yaml; Debian's python3-yaml): full \$ref resolution, per-operation statuses and codes, headers, schemas, rules"
	# ---- structural fallback: the document's layout is fixed (paths at two
	# spaces, methods at four; components sections at two, entries at four).
	if grep -qE '^openapi: *["'"'"']?3\.1\.[0-9]+["'"'"']? *$' "$SPEC"; then
		ok "openapi: 3.1.x"
	else
		not_ok "openapi: 3.1.x (got '$(grep -m1 '^openapi:' "$SPEC")')"
	fi
	awk '/^[^ #]/ { top = $1 } top == "paths:" && /^  [^ #]/ { p = $1; sub(/:$/, "", p) }
		top == "paths:" && /^    (get|put|post|delete|patch|head|options|trace):/ {
			m = $1; sub(/:$/, "", m); print p, m }' "$SPEC" >"$TMP/ops"
	for want in "/api/health get head" "/api/ready get head" "/api/auth/register post" \
		"/api/auth/login post" "/api/auth/refresh post" "/api/auth/logout post" \
		"/api/auth/password post" "/api/me get head delete" "/api/sessions get head delete" \
		"/api/sessions/{id} delete" "/api/data get head" \
		"/api/data/{key} get head put delete" "/metrics get head"; do
		read -r path methods <<<"$want"
		got=$(awk -v p="$path" '$1 == p && $2 != "options" { print $2 }' "$TMP/ops" | sort | paste -sd' ')
		exp=$(tr ' ' '\n' <<<"$methods" | sort | paste -sd' ')
		expect_eq "$got" "$exp" "$path has the methods $exp"
	done
	if [ -n "$API_MD" ]; then
		missing=""
		# shellcheck disable=SC2016 # the backquotes are API.md's, not a shell's
		while read -r code; do
			grep -q "\\b$code\\b" "$SPEC" || missing="$missing $code"
		done < <(grep -oE '^\| [0-9]{3} \| `[a-z_]+`' "$API_MD" | grep -oE '[a-z_]{4,}')
		expect_eq "${missing# }" "" "every error code of API.md's table appears in $SPEC"
	else
		not_ok "the contract's error table: $ROOT/docs/API.md is missing (or set API_MD)"
	fi
	missing=""
	for s in $(code_statuses); do
		grep -qE "^ +'$s':" "$SPEC" || missing="$missing $s"
	done
	expect_eq "${missing# }" "" "every status the responders answer ($(code_statuses | paste -sd' ')) is a documented response"
	awk '/^[^ #]/ { top = $1 } top == "components:" && /^  [^ #]/ { sec = $1; sub(/:$/, "", sec) }
		top == "components:" && /^    [^ #-]/ { n = $1; sub(/:$/, "", n); print "#/components/" sec "/" n }' \
		"$SPEC" | sort -u >"$TMP/defined"
	grep -oE "\\\$ref: *'[^']*'" "$SPEC" | sed -E "s/.*'([^']*)'/\\1/" | sort -u >"$TMP/refs"
	bad=$(grep -vxFf "$TMP/defined" "$TMP/refs" | paste -sd' ')
	expect_eq "$bad" "" "every \$ref names a defined component ($(wc -l <"$TMP/refs") distinct)"
	exit 0
fi

API_MD="$API_MD" STATUSES="$(code_statuses | paste -sd' ')" python3 - <<'PY'
import glob, os, re, sys
import yaml

def ok(msg): print("ok - " + msg)
def not_ok(msg): print("not ok - " + msg)
def check(cond, msg, detail=""):
    if isinstance(detail, str) and len(detail) > 300:
        detail = detail[:300] + " ..."
    (ok if cond else not_ok)(msg + ("" if cond or not detail else ": " + str(detail)))

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()

try:
    doc = yaml.safe_load(read("openapi.yaml"))
    check(isinstance(doc, dict), "openapi.yaml is valid YAML (a mapping)")
except Exception as e:
    not_ok(f"openapi.yaml is valid YAML: {e}")
    sys.exit(0)
if not isinstance(doc, dict):
    sys.exit(0)

# ---- references ---------------------------------------------------------------
def pointer(ref):
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return None
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node

refs, bad_refs = [], []
def walk_refs(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "$ref":
                refs.append(v)
                if pointer(v) is None:
                    bad_refs.append(v)
            else:
                walk_refs(v)
    elif isinstance(x, list):
        for v in x:
            walk_refs(v)
walk_refs(doc)
check(refs and not bad_refs, f"every $ref resolves ({len(refs)}, all local)", f"unresolved {sorted(set(map(str, bad_refs)))}")

def deref(x, depth=0):
    while isinstance(x, dict) and "$ref" in x and depth < 32:
        x = pointer(x["$ref"])
        depth += 1
    return x

# ---- version and description --------------------------------------------------------
check(re.fullmatch(r"3\.1\.\d+", str(doc.get("openapi", ""))) is not None, "openapi: 3.1.x", f"got {doc.get('openapi')!r}")
info = doc.get("info") or {}
desc = str(info.get("description", ""))
check(info.get("title") and info.get("version"), "info has a title and a version")
silent = desc.split("Where the contract is silent", 1)
check(len(silent) == 2 and silent[1].count("\n- ") >= 10,
      "info.description has the section \"Where the contract is silent\" with its readings",
      f"{silent[1].count(chr(10) + '- ') if len(silent) == 2 else 0} items")
# The readings every client needs, by a word each.
needles = {"413 before 415": "413 is checked before 415", "BOM": "byte-order mark",
           "lighttpd's 411": "411", "Content-Length: 0": "Content-Length: 0",
           "login outside the rules": "outside the username rules", "U+0000": "U+0000",
           "refresh mode": "refresh_token", "failed-login 429": "failed-login `429`",
           "empty key": "/api/data/", "weak If-None-Match": "weak tags",
           "timestamps": "millisecond"}
lacking = [k for k, v in needles.items() if v not in (silent[1] if len(silent) == 2 else "")]
check(not lacking, "the readings name: " + ", ".join(needles), f"missing {lacking}")

# ---- paths and methods ------------------------------------------------------------
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
EXPECTED = {
    "/api/health": {"get"}, "/api/ready": {"get"},
    "/api/auth/register": {"post"}, "/api/auth/login": {"post"}, "/api/auth/refresh": {"post"},
    "/api/auth/logout": {"post"}, "/api/auth/password": {"post"},
    "/api/me": {"get", "delete"}, "/api/sessions": {"get", "delete"}, "/api/sessions/{id}": {"delete"},
    "/api/data": {"get"}, "/api/data/{key}": {"get", "put", "delete"},
    "/metrics": {"get"},
}
paths = doc.get("paths") or {}
check(set(paths) == set(EXPECTED), f"the paths are the contract's {len(EXPECTED)}",
      f"missing {sorted(set(EXPECTED) - set(paths))}, extra {sorted(set(paths) - set(EXPECTED))}")
for p, want in EXPECTED.items():
    item = paths.get(p) or {}
    have = {m for m in item if m in METHODS}
    main = have - {"head", "options"}
    good = main == want and (("head" in have) == ("get" in want))
    check(good, f"{p}: {', '.join(sorted(m.upper() for m in want | ({'head'} if 'get' in want else set())))}",
          f"documented {sorted(have)}")

ops = [(p, m, op) for p, item in paths.items() if isinstance(item, dict)
       for m, op in item.items() if m in METHODS and isinstance(op, dict)]

# The route manifest (lib/routes.def): every row is documented; Allow as router.c builds it.
# A "*" row (/metrics) answers every method alike and has no 405 of its own.
rows = []
for m in re.finditer(r'^ROUTE\(\s*(\w+),\s*"([A-Z]+)",\s*"(/[^"]*)",\s*[A-Z]+,\s*[A-Z]+,\s*(\w+)', read("lib/routes.def"), re.M):
    rows.append((f"src/{m.group(1)}.c", m.group(2), m.group(3), m.group(4)))
served = rows
undoc = [f"{r[1]} {r[2]} ({r[0]})" for r in served if r[1].lower() not in (paths.get(r[2]) or {})]
check(served and not undoc, f"every route row of lib/routes.def is documented ({len(served)})", f"undocumented {undoc}")
allow = {}
for _, method, tmpl, _ in served:
    lst = allow.setdefault(tmpl, [])
    for m in (method, "HEAD") if method == "GET" else (method,):
        if m not in lst:
            lst.append(m)
wrong = []
for tmpl, lst in allow.items():
    o = (paths.get(tmpl) or {}).get("options") or {}
    if f"Allow: {', '.join(lst)}`" not in str(o.get("description", "")):
        wrong.append(f"{tmpl} (Allow: {', '.join(lst)})")
check(allow and not wrong, "each path's OPTIONS names the Allow value of its 405", f"wrong or missing {wrong}")

# ---- statuses and error codes ----------------------------------------------------------
def meet(a, b):
    return b if a is None else a if b is None else a & b

def values_of(s):
    """The values a schema allows (const/enum, through $ref and allOf), or None."""
    s = deref(s)
    if not isinstance(s, dict):
        return None
    r = None
    if "const" in s:
        r = meet(r, {s["const"]})
    if "enum" in s:
        r = meet(r, set(s["enum"]))
    for sub in s.get("allOf") or []:
        r = meet(r, values_of(sub))
    return r

def error_objects(s, out):
    """The schemas of the `error` member a response schema can have."""
    s = deref(s)
    if not isinstance(s, dict):
        return out
    e = (s.get("properties") or {}).get("error")
    if e is not None:
        out.append(deref(e))
    for k in ("allOf", "oneOf", "anyOf"):
        for sub in s.get(k) or []:
            error_objects(sub, out)
    return out

def codes_of(schema):
    """The error codes a response schema allows; None when it is not an error."""
    errs = error_objects(schema, [])
    if not errs:
        return None
    r = None
    for e in errs:
        for part in [e] + [deref(x) for x in e.get("allOf") or []]:
            c = (part.get("properties") or {}).get("code") if isinstance(part, dict) else None
            if c is not None:
                r = meet(r, values_of(c))
    return r if r is not None else set()

def json_schema(resp):
    content = (resp.get("content") or {})
    media = content.get("application/json") or {}
    return media.get("schema")

responses = []  # (path, method, status, resolved response)
for p, m, op in ops:
    for status, r in (op.get("responses") or {}).items():
        responses.append((p, m, str(status), deref(r) or {}))

documented = {s for _, _, s, _ in responses}
pairs = set()
for _, _, s, r in responses:
    sch = json_schema(r)
    codes = codes_of(sch) if sch is not None else None
    for c in codes or ():
        pairs.add((s, c))

statuses = os.environ.get("STATUSES", "").split()
check(len(statuses) >= 10 and not set(statuses) - documented,
      f"every status the responders answer is documented for an operation ({' '.join(statuses)})",
      f"undocumented {sorted(set(statuses) - documented)}")

src = " ".join(read(f) for f in sorted(glob.glob("src/*.c") + glob.glob("lib/*.c")))
code_pairs = set(re.findall(r'resp_error\(\s*[^,()]+,\s*[^,()]+,\s*([1-5][0-9]{2}),\s*"([a-z_]+)"', src))
code_pairs.add(("500", "internal_error"))  # set_internal_error(): a NULL body, an unset status
check(len(code_pairs) >= 10 and not code_pairs - pairs,
      f"every (status, code) resp_error() answers is documented with that status ({len(code_pairs)})",
      f"undocumented {sorted(code_pairs - pairs)}")

schemas = (doc.get("components") or {}).get("schemas") or {}
enum_codes = set((schemas.get("ErrorCode") or {}).get("enum") or [])
reasons = set((schemas.get("FieldReason") or {}).get("enum") or [])
code_reasons = set(re.findall(r'case VALID_[A-Z_]+: return "([a-z_]+)";', read("lib/validate.c"))) - {"ok"}
api_md = os.environ.get("API_MD")
if api_md:
    text = read(api_md)
    table = set(re.findall(r'^\| ([0-9]{3}) \| `([a-z_]+)` \|', text, re.M))
    check(len(table) >= 15 and not table - pairs,
          f"every (status, code) of API.md's error table is documented with that status ({len(table)})",
          f"undocumented {sorted(table - pairs)}")
    check(enum_codes == {c for _, c in table}, "the ErrorCode enum is exactly API.md's codes",
          f"extra {sorted(enum_codes - {c for _, c in table})}, missing {sorted({c for _, c in table} - enum_codes)}")
    m = re.search(r"Its reasons are ([^.]*)\.", text)
    md_reasons = set(re.findall(r"`([a-z_]+)`", m.group(1))) if m else set()
    check(md_reasons and reasons == md_reasons == code_reasons,
          "the FieldReason enum is API.md's reasons and lib/validate.c's",
          f"doc {sorted(reasons)}, API.md {sorted(md_reasons)}, code {sorted(code_reasons)}")
else:
    not_ok("the contract's error table: docs/API.md is missing (or set API_MD)")
    check(reasons == code_reasons, "the FieldReason enum is lib/validate.c's", f"{sorted(reasons)} vs {sorted(code_reasons)}")
check({c for _, c in code_pairs} <= enum_codes, "every code resp_error() answers is in the ErrorCode enum",
      f"missing {sorted({c for _, c in code_pairs} - enum_codes)}")

# `fields` only on 422.
def allows_fields(sch):
    return any("fields" in (e.get("properties") or {}) for e in error_objects(sch, []))
def closed(sch):
    # allOf: one closed branch (the envelope's own) closes the object.
    return any(e.get("additionalProperties") is False or e.get("unevaluatedProperties") is False
               for e in error_objects(sch, []))
def requires_fields(sch):
    return any("fields" in (e.get("required") or []) for e in error_objects(sch, []))
bad_fields, bad_422, open_err = [], [], []
for p, m, s, r in responses:
    sch = json_schema(r)
    if sch is None or codes_of(sch) is None:
        continue
    if not closed(sch):
        open_err.append(f"{m.upper()} {p} {s}")
    if s == "422":
        if not requires_fields(sch):
            bad_422.append(f"{m.upper()} {p}")
    elif allows_fields(sch):
        bad_fields.append(f"{m.upper()} {p} {s}")
check(not bad_fields and not open_err, "error envelopes are closed and carry no `fields` outside 422",
      f"fields on {bad_fields}, open {open_err}")
check(not bad_422 and any(s == "422" for _, _, s, _ in responses), "every 422 requires `fields`", f"not on {bad_422}")

# ---- headers --------------------------------------------------------------------------
def headers_of(r):
    return {k.lower(): deref(v) for k, v in (r.get("headers") or {}).items()}
preflight = lambda m, s: m == "options" and s == "204"
miss = [f"{m.upper()} {p} {s}" for p, m, s, r in responses
        if not preflight(m, s) and not {"x-request-id", "cache-control"} <= set(headers_of(r))]
check(not miss, "every response documents X-Request-Id and Cache-Control", f"not {miss}")
cc = deref(((doc.get("components") or {}).get("headers") or {}).get("Cache-Control")) or {}
check((cc.get("schema") or {}).get("const") == "no-store", "Cache-Control is no-store")
miss = [f"{m.upper()} {p}" for p, m, s, r in responses if s == "405" and "allow" not in headers_of(r)]
check(not miss and "405" in documented, "every 405 documents Allow", f"not {miss}")
miss = [f"{m.upper()} {p} {s}" for p, m, s, r in responses if s in ("429", "503") and "retry-after" not in headers_of(r)]
check(not miss and "429" in documented, "every 429 and 503 documents Retry-After", f"not {miss}")
RL = {"ratelimit-policy", "ratelimit", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"}
UNLIMITED = {"/api/health", "/api/ready", "/metrics"}
# The web server's own refusals (411, 414, 431, its 400 and 413) come before
# any responder, so they carry no RateLimit fields.
by_server = lambda r: "Answered by the web server itself" in (r.get("description") or "")
miss = [f"{m.upper()} {p} {s}" for p, m, s, r in responses
        if p not in UNLIMITED and not preflight(m, s) and s != "500" and not by_server(r)
        and not RL <= set(headers_of(r))]
check(not miss, "every response of a rate-limited path documents the five RateLimit fields", f"not {miss}")
for p, m, s in [("/api/data/{key}", "get", "200"), ("/api/data/{key}", "get", "304"),
                ("/api/data/{key}", "put", "200"), ("/api/data/{key}", "put", "201"),
                ("/api/data/{key}", "head", "200")]:
    r = deref((((paths.get(p) or {}).get(m) or {}).get("responses") or {}).get(s)) or {}
    check("etag" in headers_of(r), f"{m.upper()} {p} {s} documents ETag")
for p, s in [("/api/auth/login", "200"), ("/api/auth/refresh", "200"),
             ("/api/auth/logout", "204"), ("/api/auth/password", "204")]:
    r = deref((((paths.get(p) or {}).get("post") or {}).get("responses") or {}).get(s)) or {}
    check("set-cookie" in headers_of(r), f"POST {p} {s} documents Set-Cookie")
params = {}
for p, m, op in ops:
    for prm in (op.get("parameters") or []) + ((paths.get(p) or {}).get("parameters") or []):
        prm = deref(prm) or {}
        params.setdefault((p, m), {})[str(prm.get("name", "")).lower()] = prm
for p, m, names in [("/api/data/{key}", "get", {"if-none-match"}), ("/api/data/{key}", "put", {"if-match", "if-none-match"}),
                    ("/api/data/{key}", "delete", {"if-match"}), ("/api/data", "get", {"limit", "cursor"})]:
    check(names <= set(params.get((p, m), {})), f"{m.upper()} {p} takes {', '.join(sorted(names))}")

# ---- the rules are the code's -----------------------------------------------------------
def grab(pattern, text, what):
    m = re.search(pattern, text)
    if not m:
        not_ok(f"found {what} in the code")
    return m

register_c, login_c = read("src/register.c"), read("src/login.c")
config_c, cookie_h, cookie_c = read("lib/config.c"), read("lib/cookie.h"), read("lib/cookie.c")
u = deref(schemas.get("Username")) or {}
m = grab(r'\{\s*\.name = "username",\s*\.required = 1,\s*\.min_chars = (\d+),\s*\.max_chars = (\d+),\s*'
         r'\.format = valid_username_format', register_c, "the username bounds")
if m:
    check(u.get("pattern") == "^[A-Za-z0-9_.-]{3,32}$" and (u.get("minLength"), u.get("maxLength")) == (int(m.group(1)), int(m.group(2))),
          f"Username: ^[A-Za-z0-9_.-]{{3,32}}$, {m.group(1)}-{m.group(2)} as in src/register.c", f"{u}")
pw = deref(schemas.get("Password")) or {}
m1 = grab(r'\{\s*"PASSWORD_MIN_LENGTH",\s*T_INT,\s*"(\d+)"', config_c, "PASSWORD_MIN_LENGTH's default")
m2 = grab(r'\{\s*\.name = "password",\s*\.required = 1,\s*\.min_chars = \(size_t\)c->cfg->password_min_length,\s*'
          r'\.max_chars = (\d+)', register_c, "the password's maximum")
if m1 and m2:
    check((pw.get("minLength"), pw.get("maxLength")) == (int(m1.group(1)), int(m2.group(1))) and "code point" in str(pw.get("description", "")),
          f"Password: PASSWORD_MIN_LENGTH (default {m1.group(1)}) to {m2.group(1)} code points", f"{pw.get('minLength')}-{pw.get('maxLength')}")
m = grab(r'transports\[\]\s*=\s*\{([^}]*)\}', login_c, "the token transports")
if m:
    want = set(re.findall(r'"([a-z]+)"', m.group(1)))
    check(values_of(schemas.get("TokenTransport")) == want, f"token_transport is one of {sorted(want)}")
km = grab(r'#define DATA_KEY_LEN_MAX (\d+)', read("lib/data_key.h"), "DATA_KEY_LEN_MAX")
key = deref(schemas.get("DataKey")) or {}
if km:
    check(key.get("pattern") == "^[A-Za-z0-9._~-]{1,%s}$" % km.group(1) and key.get("maxLength") == int(km.group(1))
          and key.get("minLength") == 1 and set((key.get("not") or {}).get("enum") or []) == {".", ".."},
          f"DataKey: 1-{km.group(1)} of [A-Za-z0-9._~-], not . or ..", f"{key}")
lim = (deref(params.get(("/api/data", "get"), {}).get("limit")) or {}).get("schema") or {}
data_params_h = read("lib/data_params.h")
d = grab(r"#define DATA_LIST_DEFAULT (\d+)", data_params_h, "DATA_LIST_DEFAULT")
mx = grab(r"#define DATA_LIST_MAX (\d+)", data_params_h, "DATA_LIST_MAX")
if d and mx:
    check((lim.get("minimum"), lim.get("maximum"), lim.get("default")) == (1, int(mx.group(1)), int(d.group(1))),
          f"limit: 1-{mx.group(1)}, default {d.group(1)} as in lib/data_params.h", f"{lim}")

names = dict(re.findall(r'#define (COOKIE_[A-Z_]+) "([^"]*)"', cookie_h))
fmt = grab(r'"%s=%s; Path=%s(; [^"]*)%ld"', cookie_c, "the Set-Cookie format")
hdrs = (doc.get("components") or {}).get("headers") or {}
if fmt and {"COOKIE_ACCESS", "COOKIE_ACCESS_PATH", "COOKIE_REFRESH", "COOKIE_REFRESH_PATH"} <= set(names):
    tail = fmt.group(1)
    lines = [f"{names['COOKIE_ACCESS']}=<JWT>; Path={names['COOKIE_ACCESS_PATH']}{tail}<ACCESS_TOKEN_TTL>",
             f"{names['COOKIE_REFRESH']}=<opaque>; Path={names['COOKIE_REFRESH_PATH']}{tail}<REFRESH_TOKEN_TTL>"]
    sess = str((hdrs.get("Set-Cookie-Session") or {}).get("description", ""))
    check(all(l in sess for l in lines), "the two session cookies are documented exactly as lib/cookie.c sets them", lines)
    clear = set((((hdrs.get("Set-Cookie-Clear") or {}).get("schema")) or {}).get("enum") or [])
    want = {f"{names['COOKIE_ACCESS']}=; Path={names['COOKIE_ACCESS_PATH']}{tail}0",
            f"{names['COOKIE_REFRESH']}=; Path={names['COOKIE_REFRESH_PATH']}{tail}0"}
    check(clear == want, "the cleared cookies are documented exactly as lib/cookie.c clears them", sorted(want))
    sec = (doc.get("components") or {}).get("securitySchemes") or {}
    byname = {(v.get("type"), v.get("in"), v.get("name"), v.get("scheme")): k for k, v in sec.items()}
    bearer = byname.get(("http", None, None, "bearer"))
    access = byname.get(("apiKey", "cookie", names["COOKIE_ACCESS"], None))
    refresh = byname.get(("apiKey", "cookie", names["COOKIE_REFRESH"], None))
    check(bearer and access and refresh and (sec[bearer].get("bearerFormat") == "JWT"),
          f"security schemes: bearer JWT, the {names['COOKIE_ACCESS']} cookie, the {names['COOKIE_REFRESH']} cookie")
    def alts(op):
        return [set(req) for req in (op.get("security") if "security" in op else doc.get("security") or [])]
    wrong = []
    for p, m, op in ops:
        if m == "options":
            continue
        a = alts(op)
        if p in ("/api/me", "/api/auth/password", "/api/sessions", "/api/sessions/{id}", "/api/data", "/api/data/{key}"):
            if {bearer} not in a or {access} not in a:
                wrong.append(f"{m.upper()} {p}")
        elif p in ("/api/auth/refresh", "/api/auth/logout"):
            if not any(refresh in s for s in a) or set() not in a:
                wrong.append(f"{m.upper()} {p}")
        elif any(a_ for a_ in a):
            wrong.append(f"{m.upper()} {p}")
    check(bearer and not wrong, "security: bearer or access cookie where authenticated; the refresh cookie (or none) on refresh and logout; none elsewhere", f"wrong on {wrong}")

# ---- bodies ------------------------------------------------------------------------------
def body_schema(p, m="post"):
    rb = deref(((paths.get(p) or {}).get(m) or {}).get("requestBody")) or {}
    return rb, deref(((rb.get("content") or {}).get("application/json") or {}).get("schema")) or {}
for p, req in [("/api/auth/register", {"username", "password"}), ("/api/auth/login", {"username", "password"}),
               ("/api/auth/password", {"current_password", "new_password"})]:
    rb, s = body_schema(p)
    check(rb.get("required") is True and set(s.get("required") or []) == req, f"POST {p} needs a JSON body with {', '.join(sorted(req))}")
for p in ("/api/auth/refresh", "/api/auth/logout"):
    rb, s = body_schema(p)
    check(rb.get("required") is not True and "refresh_token" in (s.get("properties") or {}), f"POST {p}: an optional body with refresh_token")
rb, s = body_schema("/api/auth/login")
check(deref((s.get("properties") or {}).get("token_transport")) is deref(schemas.get("TokenTransport")), "login's token_transport is the TokenTransport enum")
rb, s = body_schema("/api/data/{key}", "put")
check(rb.get("required") is True and "application/json" in (rb.get("content") or {}), "PUT /api/data/{key} takes the value as its JSON body")

def props(name):
    return set((deref(schemas.get(name)) or {}).get("properties") or {})
check(props("User") == {"id", "username", "created_at"}, "User is {id, username, created_at}")
check(props("SessionBearer") - props("SessionCookie") == {"token_type", "access_token", "expires_in", "refresh_token"},
      "the bearer login adds token_type, access_token, expires_in, refresh_token to the cookie login's body")
check(props("DataItem") == {"key", "value", "version", "updated_at"} and props("DataListItem") == {"key", "version", "updated_at", "size"},
      "a data item is {key, value, version, updated_at}; a list item {key, version, updated_at, size}")
nc = (deref(schemas.get("DataList")) or {}).get("properties", {}).get("next_cursor") or {}
check(props("DataList") == {"items", "next_cursor"} and "null" in (nc.get("type") or []), "a list page is {items, next_cursor: string | null}")
rd = deref(schemas.get("Ready")) or {}
check(values_of((rd.get("properties") or {}).get("status")) == {"ok", "degraded", "unavailable"},
      "the ready object's status is ok, degraded or unavailable")
PY
