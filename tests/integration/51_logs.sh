#!/usr/bin/env bash
# Logs: the responders' JSON lines in var/log/portcullis.log.
#
# A whole session is played with known secrets (register, bearer login,
# refresh, /api/me, data PUT/GET/list, a wrong and a right password change,
# cookie login, cookie refresh, logout) from distinctive client addresses
# (the web server is restarted with loopback as a trusted proxy, so that
# X-Forwarded-For names the client), each request with its own
# X-Request-Id.  Then:
#
#  - no password, token, cookie value, secret of the stack, data value or
#    raw client address appears anywhere in the log;
#  - every line of the log parses as a JSON object with ts, level, msg and
#    process; no line has a key that could hold a secret;
#  - every request line has the contract's fields (request_id, route,
#    method, status, duration_ms, client as a 32-hex keyed hash, user_id
#    once authenticated), its route is a template, and each request of the
#    run left exactly one line with the right route, method and status;
#  - the client hash is stable per client and differs between clients;
#  - startup lines name each responder; LOG_LEVEL filters (plain CGI runs
#    with LOG_LEVEL=warn and info); a backend going down is logged once as
#    an error naming the backend.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

export VAR_DIR=${VAR_DIR:-$ROOT/var/test}
export ROOT
STACK=$ROOT/scripts/stack.sh
LOG=$(stack_env LOG_FILE)
LOG=${LOG:-$VAR_DIR/log/portcullis.log}
RUN=lt$$r$RANDOM
web_changed=0

cleanup() {
	if [ "$web_changed" = 1 ]; then
		"$STACK" stop web >/dev/null 2>&1
		"$STACK" start web >/dev/null 2>&1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ -f "$LOG" ]; then ok "the responders log to $LOG"; else not_ok "the log file $LOG exists"; fi

web_changed=1
"$STACK" stop web >"$TMP/web.log" 2>&1
if TRUSTED_PROXIES=127.0.0.1,::1 "$STACK" start web >>"$TMP/web.log" 2>&1; then
	ok "the web server restarts with loopback as a trusted proxy"
else
	not_ok "the web server restarts with TRUSTED_PROXIES: $(tail -n 5 "$TMP/web.log")"
	exit 0
fi

A4="203.0.113.$((RANDOM % 200 + 20))"
A6="2001:db8:feed:$((RANDOM % 9000 + 1000))::77"
remember "$A4" "$A6"
# req N - the X-Request-Id of step N; the expectations file maps it to what the line must say.
n=0
EXPECT=$TMP/expect
: >"$EXPECT"
# step ROUTE METHOD [curl args] - sets RID for the next call and records what its log line must hold.
step() {
	n=$((n + 1))
	RID="$RUN-$n"
	printf '%s %s %s\n' "$RID" "$1" "$2" >>"$EXPECT"
}
# after STATUS USER - completes the last step's expectation with its status and whether user_id is known.
after() { sed -i "\$s/\$/ $STATUS $1/" "$EXPECT"; }
H4=(-4 -H "X-Forwarded-For: $A4")
H6=(-4 -H "X-Forwarded-For: $A6")

name=$(uniq_name LogT)
pw1="Pw1-$(openssl rand -hex 12)-secret"
pw2="Pw2-$(openssl rand -hex 12)-secret"
wrong="Wrong-$(openssl rand -hex 12)-secret"
marker="data-value-$(openssl rand -hex 12)"
remember "$pw1" "$pw2" "$wrong" "$marker"

step /api/auth/register POST
post_json /api/auth/register "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw1")}" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 201 "register"
after any
uid=$(printf '%s' "$BODY" | jq -r .user.id)

step /api/auth/login POST
post_json /api/auth/login "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw1"),\"token_transport\":\"bearer\"}" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 200 "bearer login"
after yes
access=$(printf '%s' "$BODY" | jq -r .access_token)
refresh=$(printf '%s' "$BODY" | jq -r .refresh_token)
remember "$access" "$refresh" "${access##*.}"

step /api/auth/refresh POST
post_json /api/auth/refresh "{\"refresh_token\":$(jstr "$refresh")}" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 200 "bearer refresh"
after yes
access=$(printf '%s' "$BODY" | jq -r .access_token)
refresh=$(printf '%s' "$BODY" | jq -r .refresh_token)
remember "$access" "$refresh" "${access##*.}"

step /api/me GET
call GET /api/me -H "Authorization: Bearer $access" "${H6[@]}" -H "X-Request-Id: $RID"
expect_status 200 "GET /api/me"
after yes

key="k-$(openssl rand -hex 6)"
step "/api/data/{key}" PUT
call PUT "/api/data/$key" -H "Authorization: Bearer $access" "${JSON_CT[@]}" --data "{\"v\":\"$marker\"}" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 201 "PUT a data value"
after yes
step "/api/data/{key}" GET
call GET "/api/data/$key" -H "Authorization: Bearer $access" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 200 "GET it back"
after yes
step /api/data GET
call GET "/api/data?limit=5" -H "Authorization: Bearer $access" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 200 "list the keys"
after yes

step /api/auth/password POST
post_json /api/auth/password "{\"current_password\":$(jstr "$wrong"),\"new_password\":$(jstr "$pw2")}" \
	-H "Authorization: Bearer $access" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 401 "password change with a wrong current password"
after yes
step /api/auth/password POST
post_json /api/auth/password "{\"current_password\":$(jstr "$pw1"),\"new_password\":$(jstr "$pw2")}" \
	-H "Authorization: Bearer $access" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 204 "password change"
after yes

step /api/auth/login POST
post_json /api/auth/login "{\"username\":$(jstr "$name"),\"password\":$(jstr "$pw2")}" "${H6[@]}" -H "X-Request-Id: $RID"
expect_status 200 "cookie login with the new password"
after yes
ca=$(set_cookie_value __Host-access)
cr=$(set_cookie_value __Secure-refresh)
remember "$ca" "$cr" "${ca##*.}"
step /api/auth/refresh POST
call POST /api/auth/refresh "${NOBODY[@]}" -H "Cookie: __Secure-refresh=$cr" "${H6[@]}" -H "X-Request-Id: $RID"
expect_status 200 "cookie refresh"
after yes
ca=$(set_cookie_value __Host-access)
cr2=$(set_cookie_value __Secure-refresh)
remember "$ca" "$cr2" "${ca##*.}"
step /api/auth/logout POST
call POST /api/auth/logout "${NOBODY[@]}" -H "Cookie: __Host-access=$ca; __Secure-refresh=$cr2" "${H6[@]}" -H "X-Request-Id: $RID"
expect_status 204 "cookie logout"
after any
step other GET
call GET "/api/no-such-$marker" "${H4[@]}" -H "X-Request-Id: $RID"
expect_status 404 "an unknown path"
after no

# The stack's own secrets, and the passwords inside its URLs.
for k in JWT_SECRET IP_HASH_SECRET; do remember "$(stack_env "$k")"; done
for k in DATABASE_URL REDIS_URL; do
	u=$(stack_env "$k")
	p=${u#*://}
	p=${p%%@*}
	p=${p#*:}
	[ "$p" != "$u" ] && [ "${#p}" -ge 8 ] && remember "$p"
done
remember "Bearer $access"

"$STACK" stop web >>"$TMP/web.log" 2>&1
"$STACK" start web >>"$TMP/web.log" 2>&1 && web_changed=0

leaks=0
while IFS= read -r s; do
	[ -n "$s" ] || continue
	if grep -qF -- "$s" "$LOG"; then
		leaks=$((leaks + 1))
		not_ok "a secret appears in the log: '${s:0:6}…' ($(grep -cF -- "$s" "$LOG") lines)"
	fi
done <"$SECRETS_FILE"
expect_eq "$leaks" 0 "no password, token, cookie, secret, data value or client address in the log ($(wc -l <"$SECRETS_FILE") strings)"

# The route labels: the manifest's templates (the responders' own list), and "other".
ROUTE_LABELS=$("$ROOT/cgi-bin/health" --list-routes | cut -f3 | sort -u)
if [ -n "$ROUTE_LABELS" ]; then ok "the route manifest lists $(wc -l <<<"$ROUTE_LABELS") templates"; else
	not_ok "cgi-bin/health --list-routes lists the route templates"
fi

# Every line, and this run's request lines, in one pass.
LOG_FILE_PATH=$LOG RUN=$RUN EXPECT=$EXPECT UID_WANT=$uid ROUTE_LABELS=$ROUTE_LABELS python3 - <<'PY'
import json, os, re
def ok(m): print("ok - " + m)
def not_ok(m): print("not ok - " + m)
routes = set(os.environ["ROUTE_LABELS"].split()) | {"other"}
ts_re = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
bad_parse, bad_base, bad_req, bad_key, nreq, nlines = [], [], [], [], 0, 0
by_id, starting = {}, set()
suspicious = re.compile(r"pass|token|cookie|secret|authorization|remote_addr|forwarded", re.I)
for i, line in enumerate(open(os.environ["LOG_FILE_PATH"], encoding="utf-8", errors="replace"), 1):
    nlines += 1
    try:
        o = json.loads(line)
        assert isinstance(o, dict)
    except Exception:
        bad_parse.append(i)
        continue
    if not (isinstance(o.get("ts"), str) and ts_re.match(o["ts"]) and o.get("level") in ("debug", "info", "warn", "error")
            and isinstance(o.get("msg"), str) and isinstance(o.get("process"), str)):
        bad_base.append(i)
    if any(suspicious.search(k) for k in o):
        bad_key.append(i)
    if o.get("msg") == "starting":
        starting.add(o.get("process"))
    if o.get("msg") == "request":
        nreq += 1
        good = (isinstance(o.get("request_id"), str) and o.get("route") in routes and isinstance(o.get("method"), str)
                and isinstance(o.get("status"), int) and isinstance(o.get("duration_ms"), (int, float)) and o["duration_ms"] >= 0
                and isinstance(o.get("client"), str) and re.fullmatch(r"[0-9a-f]{32}|", o["client"]) is not None
                and ("user_id" not in o or re.fullmatch(r"[0-9a-f-]{36}", o["user_id"])))
        if not good:
            bad_req.append(i)
        by_id.setdefault(o.get("request_id"), []).append(o)
(ok if not bad_parse else not_ok)(f"every one of the {nlines} log lines is a JSON object" + (f" (not: lines {bad_parse[:5]})" if bad_parse else ""))
(ok if not bad_base else not_ok)("every line has ts (RFC 3339, ms, UTC), level, msg and process" + (f" (not: lines {bad_base[:5]})" if bad_base else ""))
(ok if not bad_key else not_ok)("no line has a field named like a password, token, cookie or address" + (f" (lines {bad_key[:5]})" if bad_key else ""))
(ok if nreq and not bad_req else not_ok)(f"all {nreq} request lines have request_id, a template route, method, status, duration_ms, a hashed client" + (f" (not: lines {bad_req[:5]})" if bad_req else ""))
want = {"health", "register", "login", "session", "data", "metrics"}
(ok if want <= starting else not_ok)("a startup line for every responder" + ("" if want <= starting else f" (missing {sorted(want - starting)})"))

clients = {}
mism = []
for line in open(os.environ["EXPECT"]):
    rid, route, method, status, user = line.split()
    got = by_id.get(rid, [])
    if len(got) != 1:
        mism.append(f"{rid}: {len(got)} lines")
        continue
    o = got[0]
    if (o["route"], o["method"], str(o["status"])) != (route, method, status):
        mism.append(f"{rid}: {o['route']} {o['method']} {o['status']}, want {route} {method} {status}")
    if user == "yes" and o.get("user_id") != os.environ["UID_WANT"]:
        mism.append(f"{rid}: user_id {o.get('user_id')}")
    if user == "no" and "user_id" in o:
        mism.append(f"{rid}: unexpected user_id")
    clients.setdefault(o["client"], set()).add(rid)
(ok if not mism else not_ok)("each request of the run left one line with its route template, method, status and user_id" + (f": {mism[:4]}" if mism else ""))
hashes = [c for c in clients if c]
(ok if len(hashes) == 2 else not_ok)(f"the client hash is stable per client and differs between the two clients (got {len(hashes)} distinct)")
PY

# LOG_LEVEL, and a backend going down, through plain CGI with a log of its own.
"$STACK" env >"$TMP/stack.env" 2>/dev/null
mapfile -t SENV < <(grep -vE '^(LOG_FILE|LOG_LEVEL|REDIS_URL|METRICS_FILE)=' "$TMP/stack.env")
cgi_health() {
	env -i "${SENV[@]}" GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=127.0.0.1 METRICS_FILE="$TMP/metrics" \
		"$@" "$ROOT/cgi-bin/health" >/dev/null 2>&1 </dev/null
}
cgi_health LOG_LEVEL=warn LOG_FILE="$TMP/warn.log" REDIS_URL=redis://127.0.0.1:1/0 REQUEST_METHOD=GET REQUEST_URI=/api/health
expect_eq "$(jq -c 'select(.msg == "request")' "$TMP/warn.log" 2>/dev/null | wc -l)" 0 "LOG_LEVEL=warn: a 200 writes no request line"
cgi_health LOG_LEVEL=warn LOG_FILE="$TMP/warn.log" REDIS_URL=redis://127.0.0.1:1/0 REQUEST_METHOD=GET REQUEST_URI=/api/ready
expect_eq "$(jq -r 'select(.msg == "backend down") | "\(.level) \(.backend)"' "$TMP/warn.log" 2>/dev/null)" "error redis" \
	"a backend going down is one error line naming it"
expect_eq "$(jq -r '.level | select(. != "warn" and . != "error")' "$TMP/warn.log" | sort -u | paste -sd' ')" "" \
	"LOG_LEVEL=warn: only warn and error lines"
cgi_health LOG_LEVEL=info LOG_FILE="$TMP/info.log" REDIS_URL=redis://127.0.0.1:1/0 REQUEST_METHOD=GET REQUEST_URI=/api/health
expect_eq "$(jq -r 'select(.msg == "request") | "\(.level) \(.route) \(.status) \(.client | length)"' "$TMP/info.log" 2>/dev/null)" \
	"info /api/health 200 32" "LOG_LEVEL=info: the request line"
# PostgreSQL unreachable: "postgres connect failed" is a debug line, "backend down" an error.
for lvl in info debug; do
	cgi_health LOG_LEVEL=$lvl LOG_FILE="$TMP/$lvl-pg.log" REDIS_URL=redis://127.0.0.1:1/0 \
		DATABASE_URL=postgresql://nobody@127.0.0.1:1/none REQUEST_METHOD=GET REQUEST_URI=/api/ready
done
expect_eq "$(jq -r 'select(.level == "debug") | .msg' "$TMP/info-pg.log" | wc -l) $(jq -r 'select(.msg == "backend down") | .backend' "$TMP/info-pg.log" | sort | paste -sd' ')" \
	"0 postgres redis" "LOG_LEVEL=info: no debug lines; both backends down, logged once each"
if [ "$(jq -c 'select(.level == "debug" and .msg == "postgres connect failed")' "$TMP/debug-pg.log" 2>/dev/null | wc -l)" = 1 ]; then
	ok "LOG_LEVEL=debug: the debug lines too"
else
	not_ok "LOG_LEVEL=debug: the debug lines too ($(head -c 300 "$TMP/debug-pg.log"))"
fi
