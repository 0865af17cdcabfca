#!/usr/bin/env bash
# The route manifest (lib/routes.def), as the responders print it
# (`cgi-bin/health --list-routes`), against what else names the routes.
# No stack; needs the responders built (make).
#
#  - the listing is the manifest: every row of lib/routes.def, in order,
#    and every responder of src/ that serves routes is in it;
#  - openapi.yaml both ways: every route is documented with its method
#    (HEAD too wherever GET is; a "*" route is its GET), and every
#    documented operation but HEAD and OPTIONS is a route;
#  - the tests take the routes from the listing rather than keeping a copy:
#    no test of the stack (tests/integration, tests/cluster) holds five or
#    more of the templates within four lines, and 50_metrics and 51_logs
#    call --list-routes.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

if [ ! -x cgi-bin/health ]; then
	not_ok "cgi-bin/health is built (make)"
	exit 0
fi
if ! cgi-bin/health --list-routes >"$TMP/routes"; then
	not_ok "cgi-bin/health --list-routes exits 0"
	exit 0
fi
ok "cgi-bin/health --list-routes lists $(wc -l <"$TMP/routes") routes"

ROUTES_FILE=$TMP/routes python3 - <<'PY'
import glob, os, re

def ok(m): print("ok - " + m)
def not_ok(m): print("not ok - " + m)
def check(cond, msg, detail=""):
    (ok if cond else not_ok)(msg + ("" if cond or not detail else ": " + str(detail)[:300]))

listed = [tuple(l.rstrip("\n").split("\t")) for l in open(os.environ["ROUTES_FILE"], encoding="utf-8")]
check(listed and all(len(r) == 5 for r in listed), "each line is responder, method, template, policy, auth",
      [r for r in listed if len(r) != 5][:3])
listed = [r for r in listed if len(r) == 5]

# ---- the listing is the manifest -------------------------------------------------
rows = re.findall(r'^ROUTE\(\s*(\w+),\s*"([A-Z*]+)",\s*"([^"]+)",\s*([A-Z]+),\s*([A-Z]+),',
                  open("lib/routes.def", encoding="utf-8").read(), re.M)
want = [(r, m, t, p.lower(), a.lower()) for r, m, t, p, a in rows]
check(rows and listed == want, f"--list-routes prints the {len(rows)} rows of lib/routes.def in order",
      f"only listed {sorted(set(listed) - set(want))}, only in the file {sorted(set(want) - set(listed))}")
check({r[3] for r in listed} <= {"none", "auth", "api"} and {r[4] for r in listed} <= {"none", "token"},
      "policies are none/auth/api and auth none/token")
serving = set()
for f in glob.glob("src/*.c"):
    if re.search(r'^#define ROUTE_SELF_\w+ ROUTE_PROBE$', open(f, encoding="utf-8").read(), re.M):
        serving.add(os.path.basename(f)[:-2])
check(serving and serving == {r[0] for r in listed},
      f"the responders that expand routes ({', '.join(sorted(serving))}) are the manifest's",
      f"src/ {sorted(serving)}, manifest {sorted({r[0] for r in listed})}")
dup = sorted({(m, t) for _, m, t, _, _ in listed if sum(1 for x in listed if x[1:3] == (m, t)) > 1})
check(not dup, "no method and template is listed twice", dup)

# ---- openapi.yaml both ways -------------------------------------------------------
try:
    import yaml
    paths = (yaml.safe_load(open("openapi.yaml", encoding="utf-8")) or {}).get("paths") or {}
    ops = {(p, m.upper()) for p, item in paths.items() if isinstance(item, dict) for m in item
           if m in ("get", "put", "post", "delete", "patch", "head", "options", "trace")}
except ImportError:
    # The layout is fixed: paths at two spaces, methods at four.
    ops, top, p = set(), None, None
    for line in open("openapi.yaml", encoding="utf-8"):
        if re.match(r"^[^ #]", line):
            top = line.split()[0]
        elif top == "paths:" and re.match(r"^  [^ #]", line):
            p = line.strip().rstrip(":").strip("'\"")
        elif top == "paths:" and p and re.match(r"^    (get|put|post|delete|patch|head|options|trace):", line):
            ops.add((p, line.strip().rstrip(":").upper()))
served = set()
for _, m, t, _, _ in listed:
    for method in (("GET", "HEAD") if m in ("GET", "*") else (m,)):
        served.add((t, method))
undocumented = sorted(served - ops)
check(served and not undocumented, f"every route of the manifest is documented in openapi.yaml ({len(served)} operations with HEAD)",
      f"undocumented {undocumented}")
unserved = sorted((p, m) for p, m in ops - served if m != "OPTIONS")
check(ops and not unserved, "every operation of openapi.yaml but OPTIONS is a route of the manifest", f"no route for {unserved}")

# ---- the tests use the listing ----------------------------------------------------------
templates = {t for _, _, t, _, _ in listed}
copies = []
for f in sorted(glob.glob("tests/integration/*.sh") + glob.glob("tests/cluster/*.sh")):
    lines = open(f, encoding="utf-8", errors="replace").read().split("\n")
    for i in range(len(lines)):
        window = "\n".join(lines[i:i + 4])
        found = {t for t in re.findall(r'["\'](/[^"\'\s]*)["\']', window) if t in templates}
        if len(found) >= 5:
            copies.append(f"{f}:{i + 1}")
            break
check(not copies, "no test of the stack keeps its own copy of the route list", copies)
for f in ("tests/integration/50_metrics.sh", "tests/integration/51_logs.sh"):
    check("--list-routes" in open(f, encoding="utf-8").read(), f"{f} takes the routes from --list-routes")
PY
