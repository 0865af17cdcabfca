#!/usr/bin/env bash
# Containers and operator files, checked statically: no Docker engine runs
# where the tests run, so nothing here builds an image or starts a
# container (30_compose.sh and 31_compose_schema_npm.sh run Compose v1.29
# and the Compose schemas over the file, 35_prometheus.sh promtool).  What
# is checked:
#
#  - docker-compose.yml, every YAML under ops/ and the dashboard JSON parse;
#  - compose: the eight services, each with a health check; named volumes
#    declared and used for every service's data; every bind-mounted file
#    exists; every ${VAR} is documented (docs/configuration.md's tables or the
#    compose file's own header); secrets reach the app as compose
#    `secrets:` files, and Prometheus shares its network namespace (GET
#    /metrics answers loopback only); the app's environment against the
#    configuration table is 15_config_keys.sh;
#  - Dockerfile: Debian 12 in both stages, the build stage installs every
#    package of `install-deps.sh build`, the runtime stage what `run` adds
#    (less the PostgreSQL and Redis servers, which are services here), every
#    COPY source exists and is not excluded by .dockerignore;
#  - Prometheus: `promtool check config` and `check rules`; the scrape target
#    is the app's port inside the container; every series the rules and the
#    dashboard name is one that cgi-bin/metrics exposes;
#  - Grafana: datasource uids the dashboard uses are provisioned; the
#    provider's path is where compose mounts the dashboards;
#  - Loki/promtail: promtail pushes to the loki service's port and reads the
#    file the app writes (the shared log volume), with low-cardinality labels.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

if ! python3 -c 'import yaml' 2>/dev/null; then
	not_ok "python3-yaml is installed (scripts/install-deps.sh test)"
	exit 0
fi

# The series cgi-bin/metrics exposes (its HELP lines), from a plain-CGI run
# with a throwaway configuration and metrics file.
env -i PATH=/usr/bin:/bin PORTCULLIS_ENV_FILE=/dev/null \
	DATABASE_URL=postgresql://x@127.0.0.1:1/x REDIS_URL=redis://127.0.0.1:1/0 \
	JWT_SECRET=static-check-secret-static-check-secret IP_HASH_SECRET=static-check-secret-static-check-secret \
	METRICS_FILE="$TMP/metrics" LOG_FILE="$TMP/log" GATEWAY_INTERFACE=CGI/1.1 \
	REQUEST_METHOD=GET REQUEST_URI=/metrics REMOTE_ADDR=127.0.0.1 \
	"$ROOT/cgi-bin/metrics" 2>/dev/null | sed -n 's/^# HELP \([a-z_]*\) .*/\1/p' >"$TMP/series"
if [ -s "$TMP/series" ]; then ok "cgi-bin/metrics lists its series ($(wc -l <"$TMP/series"))"; else
	not_ok "cgi-bin/metrics lists its series (is it built?)"; fi

f=ops/prometheus/prometheus.yml
if out=$(promtool check config "$f" 2>&1); then ok "promtool check config $f (and its rule files)"; else
	not_ok "promtool check config $f: $(printf '%s' "$out" | tail -n 3)"; fi
f=ops/prometheus/alerts.yml
if out=$(promtool check rules "$f" 2>&1); then ok "promtool check rules $f"; else
	not_ok "promtool check rules $f: $(printf '%s' "$out" | tail -n 3)"; fi

SERIES=$TMP/series python3 - <<'PY'
import glob, json, os, re, shlex, subprocess, sys
import yaml

root = os.getcwd()
series = set(open(os.environ["SERIES"]).read().split())

def ok(msg): print("ok - " + msg)
def not_ok(msg): print("not ok - " + msg)
def check(cond, msg, detail=""):
    (ok if cond else not_ok)(msg + ("" if cond or not detail else ": " + detail))

# ---- everything parses --------------------------------------------------------
docs = {}
for f in ["docker-compose.yml"] + sorted(glob.glob("ops/**/*.yml", recursive=True)):
    try:
        docs[f] = yaml.safe_load(open(f))
        ok(f"{f} is valid YAML")
    except Exception as e:
        not_ok(f"{f} is valid YAML: {e}")
for f in sorted(glob.glob("ops/**/*.json", recursive=True)):
    try:
        docs[f] = json.load(open(f))
        ok(f"{f} is valid JSON")
    except Exception as e:
        not_ok(f"{f} is valid JSON: {e}")
compose = docs.get("docker-compose.yml") or {}
services = compose.get("services") or {}

# ---- compose ---------------------------------------------------------------
want = {"app", "postgres", "redis", "prometheus", "alertmanager", "grafana", "loki", "promtail"}
check(set(services) == want, "compose: the services are " + ", ".join(sorted(want)), f"got {sorted(services)}")
nohc = [n for n, s in services.items() if not (s.get("healthcheck") or {}).get("test")]
check(not nohc, "compose: every service has a health check", f"none for {nohc}")

declared = set((compose.get("volumes") or {}).keys())
used, binds, missing = set(), [], []
for name, s in services.items():
    for v in s.get("volumes") or []:
        src = v.split(":")[0] if isinstance(v, str) else v.get("source", "")
        if src.startswith(("./", "/", "../")):
            binds.append((name, src, v))
            if not os.path.exists(os.path.join(root, src)):
                missing.append(src)
        else:
            used.add(src)
check(used <= declared, "compose: every named volume is declared", f"undeclared {sorted(used - declared)}")
check(not missing, f"compose: every bind-mounted file exists ({len(binds)})", f"missing {missing}")
data_paths = {"app": "/var/lib/portcullis", "postgres": "/var/lib/postgresql/data", "redis": "/data",
              "prometheus": "/prometheus", "alertmanager": "/alertmanager", "grafana": "/var/lib/grafana",
              "loki": "/loki"}
nodata = [n for n, p in data_paths.items()
          if not any(isinstance(v, str) and v.split(":")[0] in declared and v.split(":")[1] == p
                     for v in (services.get(n) or {}).get("volumes") or [])]
check(not nodata, "compose: a named volume keeps each service's data", f"none for {nodata}")
b = (services.get("app") or {}).get("build")
ctx = b if isinstance(b, str) else (b or {}).get("context", ".")
check(os.path.isfile(os.path.join(root, ctx, "Dockerfile")), "compose: the app builds from the Dockerfile")

# Every interpolated variable is documented.
text_vars = set()
def walk(x):
    if isinstance(x, dict):
        for k, v in x.items():
            walk(k); walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
    elif isinstance(x, str):
        s = x.replace("$$", "")
        text_vars.update(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", s))
        text_vars.update(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", s))
walk(compose)
readme = "".join(open(f).read() for f in ("README.md", "docs/configuration.md") if os.path.exists(f))
readme_vars = set(re.findall(r"^\|[^|\n]*`([A-Z][A-Z0-9_]+)`", readme, re.M))
readme_vars |= {v for line in re.findall(r"^\|([^|\n]*)\|", readme, re.M) for v in re.findall(r"`([A-Z][A-Z0-9_]+)`", line)}
header = "".join(l for l in open("docker-compose.yml") if l.startswith("#"))
header_vars = set(re.findall(r"^#\s+([A-Z][A-Z0-9_]+)\s", header, re.M))
undoc = sorted(v for v in text_vars if v not in readme_vars and v not in header_vars)
check(text_vars and not undoc, f"compose: every variable it uses is documented ({len(text_vars)})", f"undocumented {undoc}")

# The app's environment against the configuration table: 15_config_keys.sh.
env = (services.get("app") or {}).get("environment") or {}
env = env if isinstance(env, dict) else dict(e.split("=", 1) for e in env)
app_secrets = set((services.get("app") or {}).get("secrets") or [])
check({"postgres_password", "redis_password"} <= app_secrets,
      "compose: the app gets the database and Redis passwords as secrets (the entrypoint builds the URLs)",
      f"secrets {sorted(app_secrets)}")
declared_secrets = set((compose.get("secrets") or {}).keys())
used_secrets = {x if isinstance(x, str) else x.get("source") for s_ in services.values() for x in s_.get("secrets") or []}
check(used_secrets and used_secrets <= declared_secrets, "compose: every secret a service uses is declared",
      f"undeclared {sorted(used_secrets - declared_secrets)}")
plain = sorted(k for s_ in services.values() for k, v in ((s_.get("environment") or {}).items()
               if isinstance(s_.get("environment"), dict) else [])
               if re.search(r"(PASSWORD|SECRET|TOKEN)$", k))
check(not plain, "compose: no password, secret or token in an environment variable (files only)", f"{plain}")
pg_hc = " ".join((services.get("postgres") or {}).get("healthcheck", {}).get("test", []))
check("-h 127.0.0.1" in pg_hc, "compose: PostgreSQL's health check goes over TCP (not the init server's socket)", pg_hc)
loki_hc = (services.get("loki") or {}).get("healthcheck", {}).get("test", [])
check(loki_hc[1:] == ["/usr/bin/loki", "-health"], "compose: Loki checks itself with its binary (no wget in 3.6+ images)", f"{loki_hc}")
nolog = [n for n, s_ in services.items() if not ((s_.get("logging") or {}).get("options") or {}).get("max-size")]
check(not nolog, "compose: every container's log is capped (json-file max-size)", f"uncapped {nolog}")
check((services.get("prometheus") or {}).get("network_mode") == "service:app",
      "compose: Prometheus shares the app's network namespace (a loopback client of /metrics)")

# ---- Dockerfile ------------------------------------------------------------
dockerfile = open("Dockerfile").read()
logical = re.sub(r"\\\n", " ", dockerfile)
lines = [l.strip() for l in logical.splitlines() if l.strip() and not l.strip().startswith("#")]
froms = [l.split()[1] for l in lines if l.upper().startswith("FROM ")]
check(froms and all(f.startswith("debian:bookworm") for f in froms),
      "Dockerfile: every stage is Debian 12 (bookworm)", f"got {froms}")
stages, cur = [], None
for l in lines:
    if l.upper().startswith("FROM "):
        cur = []
        stages.append(cur)
    elif cur is not None:
        cur.append(l)
def installed(stage):
    pk = set()
    for l in stage:
        if l.upper().startswith("RUN ") and "apt-get install" in l:
            for part in l.split("&&"):
                if "apt-get install" in part:
                    pk.update(w for w in shlex.split(part) if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w))
    return pk
deps = open("scripts/install-deps.sh").read()
def pkg_list(name):
    m = re.search(name + r"=\(([^)]*)\)", deps)
    return [w for w in (m.group(1).split() if m else []) if not w.startswith("\"$")]
build_pk, run_pk = pkg_list("BUILD"), pkg_list("RUN")
# (a -dev package of the run list builds something: the build stage has it)
runtime_pk = [p for p in run_pk if not re.match(r"(postgresql|redis)|.*-dev$", p)]
miss_dev = sorted(p for p in run_pk if p.endswith("-dev"))
if len(stages) >= 2:
    miss_b = sorted(set(build_pk) - installed(stages[0]))
    check(build_pk and not miss_b, f"Dockerfile: the build stage installs install-deps.sh's build packages ({len(build_pk)})", f"missing {miss_b}")
    miss_r = sorted(set(runtime_pk) - installed(stages[-1]))
    check(runtime_pk and not miss_r, f"Dockerfile: the runtime stage installs what install-deps.sh run adds ({len(runtime_pk)})", f"missing {miss_r}")
    miss_dev = sorted(set(miss_dev) - installed(stages[0]))
    check(not miss_dev, "Dockerfile: the build stage installs the -dev packages of install-deps.sh run", f"missing {miss_dev}")
else:
    not_ok("Dockerfile: a build stage and a runtime stage")
# The shared libraries the binaries need (ELF NEEDED) come from packages the
# runtime stage installs (libc6 is in every Debian image).
def lib_packages():
    wanted = {}
    for b in sorted(glob.glob("cgi-bin/*")) + ["bin/portcullis-migrate"]:
        if not os.access(b, os.X_OK) or os.path.isdir(b):
            continue
        needed = re.findall(r"\(NEEDED\).*\[(.*)\]", subprocess.run(["readelf", "-d", b], capture_output=True, text=True).stdout)
        paths = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(["ldd", b], capture_output=True, text=True).stdout, re.M))
        for n in needed:
            if n in paths:
                wanted[n] = paths[n]
    # One dpkg -S for every library (the real path, and the link as found).
    pk = {}
    args = sorted({os.path.realpath(p) for p in wanted.values()} | set(wanted.values()))
    out = subprocess.run(["dpkg", "-S"] + args, capture_output=True, text=True).stdout if args else ""
    owner = {}
    for line in out.splitlines():
        if ": " in line:
            pkgs, path = line.split(": ", 1)
            owner[path.strip()] = pkgs.split(",")[0].split(":")[0].strip()
    for n, p in wanted.items():
        o = owner.get(os.path.realpath(p)) or owner.get(p)
        if o:
            pk[o] = n
    return pk
if len(stages) >= 2:
    libs = lib_packages()
    miss_l = sorted(p for p in libs if p not in installed(stages[-1]) and p != "libc6")
    check(libs and not miss_l, f"Dockerfile: the runtime stage installs the packages of every shared library the binaries link ({len(libs)})",
          f"missing {miss_l}")
ignore = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
def ignored(path):
    path = path.rstrip("/")
    hit = False
    for pat in ignore:
        neg = pat.startswith("!")
        p = pat[1:] if neg else pat
        p = p.rstrip("/")
        if re.fullmatch(re.escape(p).replace(r"\*", "[^/]*"), path) or path.startswith(p + "/"):
            hit = not neg
    return hit
bad = []
ncopy = 0
for l in lines:
    if l.upper().startswith(("COPY ", "ADD ")) and "--from=" not in l:
        srcs = shlex.split(l)[1:-1]
        for s in srcs:
            ncopy += 1
            if not os.path.exists(os.path.join(root, s)) or ignored(s):
                bad.append(s)
check(ncopy and not bad, f"Dockerfile: every COPY source exists and is in the build context ({ncopy})", f"bad {bad}")
cmd = [l for l in lines if l.upper().startswith("CMD ")]
check(cmd and os.access(json.loads(cmd[-1][4:])[0], os.X_OK), "Dockerfile: CMD runs scripts/stack.sh, which exists")
check(ignored(".env") and ignored("var") and ignored("cgi-bin/health") and not ignored("lib"),
      ".dockerignore keeps .env, var/ and built binaries out, the sources in")

# ---- Prometheus --------------------------------------------------------------
prom = docs.get("ops/prometheus/prometheus.yml") or {}
targets = [t for sc in prom.get("scrape_configs", []) if sc.get("job_name") == "portcullis"
           for g in sc.get("static_configs", []) for t in g.get("targets", [])]
app_https = str(env.get("HTTPS_PORT", ""))
check(targets == [f"localhost:{app_https}"], "prometheus.yml: scrapes the app's HTTPS port over loopback",
      f"targets {targets}, app HTTPS_PORT {app_https}")
def names_in(expr):
    found = set()
    for n in re.findall(r"\bportcullis_[a-z_]+", expr):
        found.add(re.sub(r"_(bucket|sum|count)$", "", n) if re.sub(r"_(bucket|sum|count)$", "", n) in series else n)
    return found
rules = docs.get("ops/prometheus/alerts.yml") or {}
rule_names = set()
for g in rules.get("groups", []):
    for r in g.get("rules", []):
        rule_names |= names_in(r.get("expr", ""))
check(rule_names and rule_names <= series, f"alerts.yml: every series it uses exists ({len(rule_names)})", f"unknown {sorted(rule_names - series)}")

# ---- Grafana -------------------------------------------------------------------
ds = docs.get("ops/grafana/provisioning/datasources/portcullis.yml") or {}
uids = {d.get("uid") for d in ds.get("datasources", [])}
check({"prometheus", "loki"} <= uids, "grafana: Prometheus and Loki data sources are provisioned", f"uids {uids}")
prom_url = next((d.get("url") for d in ds.get("datasources", []) if d.get("type") == "prometheus"), "")
check(prom_url == "http://app:9090", "grafana: reaches Prometheus through the app service's network namespace", prom_url)
dash = docs.get("ops/grafana/dashboards/portcullis.json") or {}
used_uids, exprs = set(), []
def walk_dash(x):
    if isinstance(x, dict):
        if "datasource" in x and isinstance(x["datasource"], dict):
            used_uids.add(x["datasource"].get("uid"))
        if "expr" in x:
            exprs.append(((x.get("datasource") or {}).get("uid"), x["expr"]))
        for v in x.values():
            walk_dash(v)
    elif isinstance(x, list):
        for v in x:
            walk_dash(v)
walk_dash(dash)
check(used_uids and used_uids <= uids, "grafana: every data source the dashboard names is provisioned", f"{used_uids - uids}")
dash_names = set()
for uid, e in exprs:
    if uid == "prometheus":
        dash_names |= names_in(e)
check(dash_names and dash_names <= series, f"grafana: every series the dashboard queries exists ({len(dash_names)})",
      f"unknown {sorted(dash_names - series)}")
titles = " | ".join(p.get("title", "") for p in dash.get("panels", [])).lower()
need = ["request rate", "latency", "cache hit ratio", "rate-limit", "logins", "backend errors"]
check(all(n in titles for n in need), "grafana: panels for request rate, latency quantiles, cache hit ratio, rate-limit rejections, logins, backend errors")
prov = docs.get("ops/grafana/provisioning/dashboards/portcullis.yml") or {}
ppath = ((prov.get("providers") or [{}])[0].get("options") or {}).get("path")
gmounts = [v.split(":")[1] for v in (services.get("grafana") or {}).get("volumes", []) if v.startswith("./ops/grafana/dashboards")]
check(ppath and ppath in gmounts, "grafana: the dashboard provider reads where compose mounts the dashboards", f"{ppath} vs {gmounts}")

# ---- Loki and promtail ---------------------------------------------------------
loki = docs.get("ops/loki/loki.yml") or {}
pt = docs.get("ops/promtail/promtail.yml") or {}
lport = (loki.get("server") or {}).get("http_listen_port")
urls = [c.get("url", "") for c in pt.get("clients", [])]
check(urls == [f"http://loki:{lport}/loki/api/v1/push"], "promtail: pushes to the loki service's port", f"{urls}")
paths = [g.get("labels", {}).get("__path__") for sc in pt.get("scrape_configs", []) for g in sc.get("static_configs", [])]
pmounts = {v.split(":")[1]: v.split(":")[0] for v in (services.get("promtail") or {}).get("volumes", [])}
amounts = {v.split(":")[0]: v.split(":")[1] for v in (services.get("app") or {}).get("volumes", [])}
log_vol = pmounts.get("/var/log/portcullis")
app_log_dir = amounts.get(log_vol or "", "")
check(paths and all(p and p.startswith("/var/log/portcullis/") for p in paths) and
      app_log_dir == env.get("VAR_DIR", "") + "/log",
      "promtail: reads the app's log directory (VAR_DIR/log) through the shared volume", f"{paths}, {log_vol} -> {app_log_dir}")
labels = set()
for sc in pt.get("scrape_configs", []):
    for st in sc.get("pipeline_stages", []):
        labels |= set((st.get("labels") or {}).keys())
check({"level", "process"} <= labels and not labels & {"request_id", "client", "user_id", "duration_ms", "msg"},
      "promtail: level/process/route/status as labels, never high-cardinality fields", f"{sorted(labels)}")
PY
