#!/usr/bin/env bash
# `sluice check --source`: the preflight report against a real PostgreSQL 15. wal_level=replica
# fails with its fix; a table without a primary key fails by name until REPLICA IDENTITY FULL; a
# role without REPLICATION fails the privilege check; an open transaction older than the
# threshold is a warning naming its pid; settings and the password come from a store, and the
# password never appears in any output; a clean database passes with exit 0.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"

# check ARGS...: run `sluice check --source ARGS`, output in $out, exit status in $rc.
check() {
    rc=0
    out=$("$SLUICE_BIN" check --source "$@" 2>&1) || rc=$?
    echo "$out"
}

# pg_restart_with LINE...: append settings to postgresql.conf (later lines win) and restart.
pg_restart_with() {
    for line in "$@"; do echo "$line"; done >>"$pg_data/postgresql.conf"
    pg_as_owner "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w -t 60 -m fast restart \
        >/dev/null || { cat "$pg_data/server.log"; fail "PostgreSQL did not restart"; }
}

# 1. wal_level = replica: FAIL with the fix, exit 1.
pg_start "wal_level = replica"
[ "$(psql_q 'SHOW wal_level')" = replica ] || fail "the later wal_level line did not win"
check --conninfo "$pg_conninfo"
[ "$rc" = 1 ] || fail "wal_level=replica: exit $rc, want 1"
grep -q "^FAIL wal_level: wal_level is replica" <<<"$out" || fail "no wal_level FAIL"
grep -q "^     fix: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL (on RDS: set rds.logical_replication = 1" <<<"$out" ||
    fail "no wal_level fix"
pass "wal_level=replica: FAIL with its fix"

# 2. Logical now; a table without a primary key fails by name, REPLICA IDENTITY FULL fixes it.
pg_restart_with "wal_level = logical"
psql_q "CREATE TABLE orders (id int PRIMARY KEY, note text);
        CREATE TABLE audit_log (at timestamptz, msg text);"
check --conninfo "$pg_conninfo"
[ "$rc" = 1 ] || fail "table without key: exit $rc, want 1"
grep -q "^ok   wal_level: logical" <<<"$out" || fail "wal_level not ok after restart"
grep -q "^FAIL tables: .*public.audit_log (no primary key)" <<<"$out" || fail "keyless table not named"
grep -q 'fix: ALTER TABLE "public"."audit_log" REPLICA IDENTITY FULL;' <<<"$out" || fail "no ALTER TABLE fix"
grep -q "orders" <<<"$(grep '^FAIL' <<<"$out")" && fail "table with a primary key reported"
psql_q "ALTER TABLE audit_log REPLICA IDENTITY NOTHING"
check --conninfo "$pg_conninfo" --tables "audit_log"
grep -q "^FAIL tables: .*public.audit_log (REPLICA IDENTITY NOTHING)" <<<"$out" || fail "NOTHING not reported"
psql_q "ALTER TABLE audit_log REPLICA IDENTITY FULL"
check --conninfo "$pg_conninfo"
[ "$rc" = 0 ] || fail "after REPLICA IDENTITY FULL: exit $rc, want 0"
grep -q "^ok   tables: 2 user table(s)" <<<"$out" || fail "tables not ok"
grep -q "^source ok" <<<"$out" || fail "no summary line"
pass "keyless table FAIL by name; ok after REPLICA IDENTITY FULL"

# A configured list naming a missing table; an existing FOR ALL TABLES publication vs a list.
check --conninfo "$pg_conninfo" --tables "orders, public.nosuch"
[ "$rc" = 1 ] || fail "missing table: exit $rc, want 1"
grep -q "^FAIL tables: configured table(s) not found: public.nosuch" <<<"$out" || fail "missing table not named"
psql_q "CREATE PUBLICATION allpub FOR ALL TABLES"
check --conninfo "$pg_conninfo" --publication allpub --tables orders
grep -q "^FAIL publication: publication allpub exists FOR ALL TABLES but a table list is configured" <<<"$out" ||
    fail "FOR ALL TABLES publication vs list not reported"
check --conninfo "$pg_conninfo" --publication allpub
grep -q "^ok   publication: publication allpub exists FOR ALL TABLES" <<<"$out" || fail "existing publication not ok"
pass "missing table and publication conflicts reported"

# 3. A role without REPLICATION (and not a superuser).
psql_q "CREATE ROLE plain LOGIN"
check --conninfo "host=127.0.0.1 port=$PGPORT user=plain dbname=postgres"
[ "$rc" = 1 ] || fail "plain role: exit $rc, want 1"
grep -q "^FAIL privilege: role plain has neither SUPERUSER nor REPLICATION" <<<"$out" || fail "no privilege FAIL"
grep -q 'fix: ALTER ROLE "plain" REPLICATION;' <<<"$out" || fail "no privilege fix"
grep -q "^FAIL publication: publication sluice does not exist and only a superuser can create it" <<<"$out" ||
    fail "no publication FAIL for a plain role"
grep -q "^FAIL replication_connection:" <<<"$out" || fail "replication connection not refused"
pass "role without REPLICATION: FAIL privilege"

# 4. A transaction held open longer than the (test-lowered) threshold: WARN naming its pid.
PGAPPNAME=holder psql -X -q -c "BEGIN; SELECT pg_sleep(60);" >/dev/null 2>&1 &
test_pids+=("$!")
holder=
for _ in $(seq 50); do
    holder=$(psql_q "SELECT pid FROM pg_stat_activity WHERE application_name = 'holder' AND xact_start IS NOT NULL")
    [ -n "$holder" ] && break
    sleep 0.1
done
[ -n "$holder" ] || fail "the holding transaction did not start"
sleep 3
check --conninfo "$pg_conninfo" --long-tx-seconds 2
[ "$rc" = 0 ] || fail "a long transaction is a warning only: exit $rc, want 0"
grep -q "^WARN long_transactions: 1 transaction(s) open longer than 2 s: pid $holder (open [0-9]* s" <<<"$out" ||
    fail "long transaction not reported with its pid"
grep -q "fix: creating the replication slot waits for these to end" <<<"$out" || fail "no long transaction fix"
psql_q "SELECT pg_terminate_backend($holder)" >/dev/null
pass "open transaction older than the threshold: WARN with pid"

# 5. From a store: conninfo, slot, tables and the password (a secret) from the settings; the
# password never appears in output, even when it is wrong.
secret="pw-Very-Secret-4711"
psql_q "CREATE ROLE capt LOGIN REPLICATION PASSWORD '$secret'; GRANT SELECT ON ALL TABLES IN SCHEMA public TO capt"
{ echo "host all capt 127.0.0.1/32 scram-sha-256"; cat "$pg_data/pg_hba.conf"; } >"$test_tmp/hba"
cat "$test_tmp/hba" >"$pg_data/pg_hba.conf"
psql_q "SELECT pg_reload_conf()" >/dev/null
state="$test_tmp/state"
port=$(free_port)
"$SLUICE_BIN" run --state-dir "$state" --listen "127.0.0.1:$port" >"$test_tmp/run.out" 2>&1 &
pid=$!
test_pids+=("$pid")
wait_http "http://127.0.0.1:$port/healthz" 30 || { cat "$test_tmp/run.out"; fail "daemon did not come up to create the store"; }
kill -TERM "$pid"
wait_exit "$pid" 20 || fail "daemon did not stop"
"$SLUICE_BIN" config set source.conninfo "host=127.0.0.1 port=$PGPORT user=capt dbname=postgres" --state-dir "$state" >/dev/null
"$SLUICE_BIN" config set source.slot preflight_slot --state-dir "$state" >/dev/null
echo "wrong-$secret-x" | "$SLUICE_BIN" config set source.password - --state-dir "$state" >/dev/null
check --state-dir "$state"
[ "$rc" = 1 ] || fail "wrong password: exit $rc, want 1"
grep -q "^FAIL connection: .*password authentication failed" <<<"$out" || fail "wrong password not reported"
grep -q "$secret" <<<"$out" && fail "the password appeared in the output"
check --conninfo "host=127.0.0.1 port=$PGPORT password=$secret user"
[ "$rc" = 1 ] || fail "malformed conninfo: exit $rc, want 1"
grep -q "$secret" <<<"$out" && fail "the password appeared in a conninfo parse error"
echo "$secret" | "$SLUICE_BIN" config set source.password - --state-dir "$state" >/dev/null
"$SLUICE_BIN" config set source.tables orders --state-dir "$state" >/dev/null
psql_q "CREATE PUBLICATION sluice FOR TABLE orders"
check --state-dir "$state"
[ "$rc" = 0 ] || fail "store settings with the right password: exit $rc, want 0"
grep -q "^ok   publication: publication sluice exists (1 table(s))" <<<"$out" || fail "matching list publication not ok"
grep -q "^ok   tables: 1 configured table(s)" <<<"$out" || fail "source.tables not taken from the store"
grep -q "^ok   privilege: role capt has REPLICATION" <<<"$out" || fail "store connection did not use role capt"
grep -q "^ok   replication_slots: slot preflight_slot will be created" <<<"$out" || fail "slot name not taken from the store"
grep -q "^ok   replication_connection: accepted" <<<"$out" || fail "replication connection with the stored password failed"
grep -q "$secret" <<<"$out" && fail "the password appeared in the output"
pass "settings and secret password from the store; password never printed"

# 6. An existing slot is recognised; all checks ok.
psql_q "SELECT pg_create_logical_replication_slot('sluice', 'pgoutput')" >/dev/null
check --conninfo "$pg_conninfo"
[ "$rc" = 0 ] || fail "clean database: exit $rc, want 0"
grep -q "^ok   replication_slots: slot sluice exists (pgoutput, confirmed up to [0-9A-F]*/[0-9A-F]*)" <<<"$out" ||
    fail "existing slot not recognised"
grep -q "^FAIL\|^WARN" <<<"$out" && fail "a clean database reported problems"
psql_q "SELECT pg_drop_replication_slot('sluice')" >/dev/null
pass "all checks ok: exit 0"

# Usage.
rc=0
"$SLUICE_BIN" check --conninfo "$pg_conninfo" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--conninfo without --source: exit $rc, want 2"
"$SLUICE_BIN" check --help | grep -q -- "--source" || fail "usage does not mention --source"
pass "usage"
