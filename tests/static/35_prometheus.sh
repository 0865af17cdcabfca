#!/usr/bin/env bash
# ops/prometheus and the dashboard through promtool (Debian's prometheus
# package): `check config` (with its rule files), `check rules`, `test
# rules` with ops/prometheus/alerts.test.yml (the responder alerts fire
# under lighttpd and stay quiet under Apache mod_fcgid before a responder's
# first request), and every Prometheus query of the Grafana dashboard,
# with Grafana's variables set, as a recording rule through `check rules`
# (the PromQL parses).  Alertmanager's file: the keys Prometheus' alerts
# need (a route with a receiver that exists).
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

if ! command -v promtool >/dev/null; then
	not_ok "promtool is installed (Debian's prometheus; scripts/install-deps.sh test)"
	exit 0
fi
f=ops/prometheus/prometheus.yml
if out=$(promtool check config "$f" 2>&1); then ok "promtool check config $f (and its rule files)"; else
	not_ok "promtool check config $f: $(printf '%s' "$out" | tail -n 3)"; fi
f=ops/prometheus/alerts.yml
if out=$(promtool check rules "$f" 2>&1); then ok "promtool check rules $f"; else
	not_ok "promtool check rules $f: $(printf '%s' "$out" | tail -n 3)"; fi
if out=$(cd ops/prometheus && promtool test rules alerts.test.yml 2>&1); then
	ok "promtool test rules ops/prometheus/alerts.test.yml"
else
	not_ok "promtool test rules alerts.test.yml: $(printf '%s' "$out" | tail -n 8)"
fi

python3 - "$TMP/dashboard-rules.yml" <<'PY'
import json, sys
d = json.load(open("ops/grafana/dashboards/portcullis.json"))
rules = []
def walk(panels):
    for p in panels:
        walk(p.get("panels") or [])
        ds = (p.get("datasource") or {}).get("uid")
        for t in p.get("targets") or []:
            if (t.get("datasource") or {}).get("uid", ds) != "prometheus" or not t.get("expr"):
                continue
            e = (t["expr"].replace("$__rate_interval", "1m").replace("$__interval", "15s")
                 .replace("$__range", "1h"))
            rules.append({"record": "dashboard:panel%d_%s" % (p["id"], t.get("refId", "A")), "expr": e})
walk(d["panels"])
json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[1], "w"))
print("# %d dashboard queries" % len(rules))
PY
if out=$(promtool check rules "$TMP/dashboard-rules.yml" 2>&1); then
	ok "every Prometheus query of the dashboard parses ($(grep -o 'SUCCESS: [0-9]* rules' <<<"$out"))"
else
	not_ok "the dashboard's queries through promtool: $(printf '%s' "$out" | tail -n 5)"
fi

python3 - <<'PY'
import yaml
def ok(m): print("ok - " + m)
def not_ok(m): print("not ok - " + m)
am = yaml.safe_load(open("ops/alertmanager/alertmanager.yml"))
names = {r.get("name") for r in am.get("receivers") or []}
route = am.get("route") or {}
def receivers(r):
    yield r.get("receiver")
    for c in r.get("routes") or []:
        yield from receivers(c)
used = {x for x in receivers(route) if x}
(ok if route.get("receiver") in names and used <= names else not_ok)(
    "alertmanager.yml: the route's receivers exist (%s)" % ", ".join(sorted(used)))
prom = yaml.safe_load(open("ops/prometheus/prometheus.yml"))
targets = [t for a in (prom.get("alerting") or {}).get("alertmanagers") or []
           for s in a.get("static_configs") or [] for t in s.get("targets") or []]
(ok if "alertmanager:9093" in targets else not_ok)("prometheus.yml sends alerts to the alertmanager service")
PY
