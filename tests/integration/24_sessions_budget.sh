#!/usr/bin/env bash
# The budget of the sessions endpoints, counted by PostgreSQL itself: with
# log_statement = all (set by the cluster's superuser, the `postgres` OS user
# of the private cluster, for the length of this test), every statement a
# backend runs is one log line.  GET /api/sessions runs one statement; ending
# a session (DELETE /api/sessions/{id}) runs as many as a logout (one), and
# publishes to Redis as many SETs.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"

export VAR_DIR=${VAR_DIR:-$ROOT/var/test}
conf=$VAR_DIR/pg/data/portcullis.conf
plog=$VAR_DIR/log/postgresql.log
sock=$(sed -n "s/^unix_socket_directories = '\(.*\)'/\1/p" "$conf" 2>/dev/null)
if [ "$(id -u)" != 0 ] || [ -z "$sock" ] || [ ! -f "$plog" ]; then
	ok "skipped: needs root and the suite's private PostgreSQL cluster (log_statement is the superuser's)"
	exit 0
fi
su_psql() { runuser -u postgres -- psql -h "$sock" -p "${PG_PORT:-55433}" -X -At -d postgres -c "$1" 2>&1; }
log_all() {
	su_psql "ALTER SYSTEM SET log_statement = '$1'" >/dev/null && su_psql "SELECT pg_reload_conf()" >/dev/null
}
trap 'su_psql "ALTER SYSTEM RESET log_statement" >/dev/null; su_psql "SELECT pg_reload_conf()" >/dev/null; rm -rf "$TMP"' EXIT
# statements_since OFFSET - statement lines written to the server log after OFFSET bytes.
statements_since() { tail -c +$(($1 + 1)) "$plog" | grep -c 'LOG:  \(statement\|execute\)'; }
sets() { rcli INFO commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_set" { c = $3 } END { print c + 0 }'; }

name=$(uniq_name Bud)
pw=$(uniq_password)
register "$name" "$pw"
login_bearer "$name" "$pw"
tok=$ACCESS
for i in 1 2 3 4 5 6; do qcurl -H "Authorization: Bearer $tok" "$BASE/api/sessions" >/dev/null; done # every process synced
declare -a toks refs sids
for i in 0 1 2 3 4 5; do
	login_bearer "$name" "$pw"
	toks[i]=$ACCESS refs[i]=$REFRESH sids[i]=$SID
done
if log_all all; then ok "setup: log_statement = all"; else not_ok "setup: log_statement = all"; exit 0; fi
sleep 1

n0=$(stat -c %s "$plog")
for i in $(seq 10); do qcurl -H "Authorization: Bearer $tok" "$BASE/api/sessions" >/dev/null; done
sleep 0.5
expect_eq "$(statements_since "$n0")" 10 "10 GET /api/sessions ran 10 PostgreSQL statements (one each)"

n0=$(stat -c %s "$plog") s0=$(sets)
for i in 0 1 2; do
	expect_eq "$(qcurl -X DELETE -H "Authorization: Bearer $tok" "$BASE/api/sessions/${sids[i]}")" 204 "setup: end session $i"
done
sleep 0.5
ended=$(statements_since "$n0") ended_sets=$(($(sets) - s0))
n0=$(stat -c %s "$plog") s0=$(sets)
for i in 3 4 5; do
	expect_eq "$(qcurl -X POST -H "Authorization: Bearer ${toks[i]}" "${JSON_CT[@]}" --data-binary "{\"refresh_token\":\"${refs[i]}\"}" "$BASE/api/auth/logout")" 204 "setup: log session $i out"
done
sleep 0.5
logouts=$(statements_since "$n0") logout_sets=$(($(sets) - s0))
expect_eq "$ended" "$logouts" "ending 3 sessions ran as many PostgreSQL statements as 3 logouts ($logouts)"
expect_eq "$ended_sets" "$logout_sets" "... and published as many revocations to Redis ($logout_sets SETs)"

auth_finish
