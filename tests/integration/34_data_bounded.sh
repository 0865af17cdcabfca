#!/usr/bin/env bash
# Deleting data keys leaves nothing behind that grows with each delete, and
# the ETag rule still holds (API.md, Operations and Per-user data).
#
# A user PUTs then DELETEs CHURN fresh keys (twice DATA_MAX_KEYS, the
# tombstone budget), over four keep-alive connections at once.  Afterwards, read from
# PostgreSQL directly: no live key is left, the tombstones are exactly the
# budget (the oldest deletes are forgotten), data_owners agrees with the rows, and
# the user's rows in all data tables stay within 2 x DATA_MAX_KEYS + 1.
# Then the versions:
#   - a key whose tombstone was kept goes on from its last version (+1);
#   - a key whose tombstone was forgotten is created again above every
#     version it had: its old ETags neither match (If-Match: 412) nor
#     produce a 304 (If-None-Match), and its value is the new one;
#   - a brand-new key after that starts above the floor too (documented).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/auth_lib.sh"
source "$(dirname "$0")/data_lib.sh"

MAX_KEYS=$(stack_env DATA_MAX_KEYS)
MAX_KEYS=${MAX_KEYS:-1000}
CHURN=$((MAX_KEYS * 2))

data_user Churn || exit 1

# a key with some history first: versions 1..3, then deleted
for v in 1 2 3; do dput old-key "\"old v$v\""; done
expect_json '.version' 3 "setup: old-key written three times"
ddel old-key
expect_status 204 "setup: old-key deleted at version 3"

# churn_cfg PREFIX FROM TO - a curl config: a PUT and a DELETE of each of
# the keys PREFIX-FROM .. PREFIX-TO, in turn, on one keep-alive connection.
churn_cfg() {
	local i m
	for ((i = $2; i <= $3; i++)); do
		for m in PUT DELETE; do
			printf 'url = "%s/api/data/%s-%d"\nrequest = "%s"\ninsecure\nsilent\n' "$BASE" "$1" "$i" "$m"
			printf 'header = "Authorization: Bearer %s"\noutput = "/dev/null"\n' "$D_TOKEN"
			printf 'write-out = "%%{http_code}\\n"\n'
			[ "$m" = PUT ] && printf 'header = "Content-Type: application/json"\ndata-binary = "\\"value %d\\""\n' "$i"
			[ "$i$m" = "$3DELETE" ] || printf 'next\n'
		done
	done
}
# churn PREFIX N - N fresh keys created and deleted by STREAMS curl processes
# at once (so creates and deletes of this user also race); prints the codes.
STREAMS=4
churn() {
	local s per=$(($2 / STREAMS)) pids=()
	for ((s = 0; s < STREAMS; s++)); do
		churn_cfg "$1" $((s * per + 1)) $(((s + 1) * per)) >"$TMP/churn$s.cfg"
		curl --max-time 600 -K "$TMP/churn$s.cfg" >"$TMP/churn$s.codes" 2>/dev/null &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$TMP"/churn[0-9]*.codes
	cat "$TMP"/churn[0-9]*.codes | sed 's/$/ qchurn/' >>"$STATUS_FILE"
}
codes_of() { sort | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' '; }

start=$SECONDS
expect_eq "$(churn churn "$CHURN" | codes_of)" "201x$CHURN 204x$CHURN" "churn: $CHURN fresh keys each created (201) and deleted (204), $STREAMS streams at once"
echo "# $CHURN PUT+DELETE pairs took $((SECONDS - start)) s"

# ---- rows, read from PostgreSQL ----
uid=$D_UID
live=$(psql_q "SELECT count(*) FROM data_items WHERE user_id = '$uid'")
tombs=$(psql_q "SELECT count(*) FROM data_tombstones WHERE user_id = '$uid'")
owner=$(psql_q "SELECT keys || ' ' || tombstones FROM data_owners WHERE user_id = '$uid'")
floor=$(psql_q "SELECT version_floor FROM data_owners WHERE user_id = '$uid'")
echo "# after the churn: $live live rows, $tombs tombstones, owner row '$owner', version floor $floor"
expect_eq "$live" 0 "rows: no live key is left"
expect_eq "$tombs" "$MAX_KEYS" "rows: tombstones are bounded by the budget (DATA_MAX_KEYS = $MAX_KEYS), not $((CHURN + 1))"
expect_eq "$owner" "0 $MAX_KEYS" "rows: data_owners counts agree with the rows"
total=$((live + tombs + 1))
if [ "$total" -le $((2 * MAX_KEYS + 1)) ]; then ok "rows: $total rows for this user (<= 2 x DATA_MAX_KEYS + 1)"; else
	not_ok "rows: $total rows for this user (want <= $((2 * MAX_KEYS + 1)))"; fi
expect_eq "$(psql_q "SELECT count(*) FROM data_tombstones WHERE user_id = '$uid' AND (key = 'old-key' OR key = 'churn-1')")" 0 \
	"rows: the oldest tombstones (old-key, churn-1) were forgotten"
if [ "${floor:-0}" -ge 3 ]; then ok "rows: the version floor ($floor) covers the forgotten versions (old-key had 3)"; else
	not_ok "rows: the version floor ($floor) covers the forgotten versions (old-key had 3)"; fi

# another churn leaves the same number of rows
expect_eq "$(churn again "$MAX_KEYS" | codes_of)" "201x$MAX_KEYS 204x$MAX_KEYS" "churn again: $MAX_KEYS more keys"
expect_eq "$(psql_q "SELECT (SELECT count(*) FROM data_items WHERE user_id = '$uid') || ' ' || (SELECT count(*) FROM data_tombstones WHERE user_id = '$uid') || ' ' || (SELECT keys || ' ' || tombstones FROM data_owners WHERE user_id = '$uid')")" \
	"0 $MAX_KEYS 0 $MAX_KEYS" "rows: after $((CHURN + MAX_KEYS + 1)) deletes still $MAX_KEYS tombstones, counts agree (no growth)"

# ---- versions ----
# kept tombstone: goes on from its last version
last=$(psql_q "SELECT version FROM data_tombstones WHERE user_id = '$uid' AND key = 'again-$MAX_KEYS'")
dput "again-$MAX_KEYS" '"back"'
expect_status 201 "kept tombstone: the key is created again (201)"
expect_json '.version' "$((last + 1))" "kept tombstone: it goes on from its last version ($last -> $((last + 1)))"
# forgotten tombstone: above every version the key had
dput old-key '"a new value"'
expect_status 201 "forgotten tombstone: old-key is created again (201)"
v=$(printf '%s' "$BODY" | jq -r .version)
if [ "$v" -gt 3 ]; then ok "forgotten tombstone: its version ($v) is above every version it had (1..3)"; else
	not_ok "forgotten tombstone: its version ($v) is above every version it had (1..3)"; fi
expect_header ETag "\"$v\"" "forgotten tombstone: ETag of the new value"
for old in 1 2 3; do
	dget old-key -H "If-None-Match: \"$old\""
	expect_status 200 "forgotten tombstone: If-None-Match: \"$old\" (an old ETag) is no 304"
done
expect_json '.value' "a new value" "forgotten tombstone: GET gives the new value"
dput old-key '"stale write"' -H 'If-Match: "3"'
expect_error 412 precondition_failed "forgotten tombstone: If-Match of its last old ETag"
ddel old-key -H 'If-Match: "1"'
expect_error 412 precondition_failed "forgotten tombstone: DELETE with If-Match of an old ETag"
dput churn-1 '"x"'
expect_status 201 "forgotten tombstone: churn-1 created again"
expect_eq "$(printf '%s' "$BODY" | jq -r '.version > 1')" true "forgotten tombstone: churn-1's version is not 1 again"
dput brand-new '"y"'
expect_status 201 "a brand-new key after forgotten tombstones"
expect_eq "$(printf '%s' "$BODY" | jq -r ".version == $(psql_q "SELECT version_floor FROM data_owners WHERE user_id = '$uid'") + 1")" true \
	"a brand-new key starts just above the version floor"
dlist ""
expect_json '[.items[].key] | join(" ")' "again-$MAX_KEYS brand-new churn-1 old-key" "the list shows only the live keys"

# deleting the user (as account deletion does) takes every data row with it
expect_eq "$(psql_q "DELETE FROM users WHERE id = '$uid'")" "DELETE 1" "the user row is deleted"
expect_eq "$(psql_q "SELECT (SELECT count(*) FROM data_items WHERE user_id = '$uid') + (SELECT count(*) FROM data_tombstones WHERE user_id = '$uid') + (SELECT count(*) FROM data_owners WHERE user_id = '$uid')")" \
	0 "deleting the user leaves no data row (items, tombstones, owner)"

auth_finish
