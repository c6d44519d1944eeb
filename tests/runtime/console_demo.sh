#!/usr/bin/env bash
# `sluice demo` end to end: it starts a private PostgreSQL with the shop database and a live
# workload, the console becomes ready and the one-time password is printed; the workload inserts
# and updates rows over its own connection; SIGINT stops everything (exit 0, no postgres left,
# both ports free); and a SIGKILLed sluice leaves no postgres behind (PR_SET_PDEATHSIG).
set -euo pipefail
source "$(dirname "$0")/lib.bash"

command -v psql >/dev/null || fail "psql is needed (Debian package postgresql-client-15)"

# psql_q PORT SQL: one value, unaligned.
psql_q() {
    psql "host=127.0.0.1 port=$1 dbname=shop user=postgres connect_timeout=5" -XAtq -v ON_ERROR_STOP=1 -c "$2"
}

# listening PORT: exit 0 when something listens on 127.0.0.1:PORT.
listening() {
    [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]
}

# demo_start NAME: starts the demo in $test_tmp/NAME; sets demo_pid, pg_port, web_port, state, log.
demo_start() {
    state="$test_tmp/$1"
    log="$test_tmp/$1.log"
    pg_port=$(free_port)
    web_port=$(free_port)
    while [ "$web_port" = "$pg_port" ]; do web_port=$(free_port); done
    "$SLUICE_BIN" demo --state-dir "$state" --pg-port "$pg_port" --listen "127.0.0.1:$web_port" \
        --rate 50 >"$log" 2>&1 &
    demo_pid=$!
    test_pids+=("$demo_pid")
    for ((i = 0; i < 900; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$web_port/readyz" || true)
        [ "$code" = 200 ] && return 0
        if ! kill -0 "$demo_pid" 2>/dev/null; then
            cat "$log" >&2
            fail "sluice demo exited during start-up"
        fi
        sleep 0.1
    done
    cat "$log" >&2
    curl -s "http://127.0.0.1:$web_port/readyz" >&2 || true
    fail "sluice demo not ready within 90 s"
}

# demo_wait SECONDS: wait for the demo to exit, in this shell (a $(...) subshell cannot reap it
# reliably); sets demo_rc. Returns 1 on timeout.
demo_wait() {
    for ((i = 0; i < $1 * 10; i++)); do
        if ! kill -0 "$demo_pid" 2>/dev/null; then
            demo_rc=0
            wait "$demo_pid" || demo_rc=$?
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# pids of the demo's postgres: the postmaster (its command line names the state dir) and its children.
demo_postgres_pids() {
    local pm
    for pm in $(pgrep -f -- "-D $state/pg" || true); do
        echo "$pm"
        pgrep -P "$pm" || true
    done
}

# --- 1. start, data, workload, clean stop on SIGINT ---------------------------------------------
demo_start one
grep -q "one-time password for admin: " "$log" || { cat "$log"; fail "no one-time password printed"; }
grep -q "127.0.0.1:$pg_port" "$log" || fail "banner does not name the PostgreSQL address"
pass "demo ready: console on $web_port, PostgreSQL on $pg_port, one-time password printed"

for table in customers products inventory orders order_items; do
    n=$(psql_q "$pg_port" "SELECT count(*) FROM $table")
    [ "$n" -gt 0 ] || fail "table $table is empty"
done
[ "$(psql_q "$pg_port" "SHOW wal_level")" = logical ] || fail "wal_level is not logical"
[ "$(psql_q "$pg_port" "SELECT puballtables FROM pg_publication WHERE pubname = 'sluice'")" = t ] ||
    fail "the capture did not create its publication"
pass "shop schema and seed loaded; wal_level=logical; publication created by the capture"

# Rows that existed before only change through updates and deletes: their checksum must move.
max_before=$(psql_q "$pg_port" "SELECT max(id) FROM orders")
old_rows="SELECT md5(string_agg(id || ':' || status || ':' || total, ',' ORDER BY id)) FROM orders WHERE id <= $max_before"
sum_before=$(psql_q "$pg_port" "$old_rows")
prices="SELECT md5(string_agg(id || ':' || price, ',' ORDER BY id)) FROM products"
prices_before=$(psql_q "$pg_port" "$prices")
grew=0 changed=0 repriced=0
for ((i = 0; i < 100; i++)); do
    [ "$(psql_q "$pg_port" "SELECT max(id) FROM orders")" -gt "$max_before" ] && grew=1
    [ "$(psql_q "$pg_port" "$old_rows")" != "$sum_before" ] && changed=1
    [ "$(psql_q "$pg_port" "$prices")" != "$prices_before" ] && repriced=1
    [ "$grew$changed$repriced" = 111 ] && break
    sleep 0.1
done
[ "$grew" = 1 ] || fail "the workload created no orders within 10 s"
[ "$changed" = 1 ] || fail "the workload changed no existing orders within 10 s"
[ "$repriced" = 1 ] || fail "the workload changed no prices within 10 s"
n=$(psql_q "$pg_port" "SELECT count(*) FROM pg_stat_activity WHERE datname = 'shop' AND application_name = 'sluice-demo-workload'")
[ "$n" -ge 1 ] || fail "no workload connection in pg_stat_activity"
metrics=$(curl -s "http://127.0.0.1:$web_port/metrics")
grep -Eq '^sluice_demo_workload_transactions_total [1-9]' <<<"$metrics" || fail "workload transactions not counted"
grep -q '^sluice_demo_workload_errors_total 0$' <<<"$metrics" || fail "workload errors counted: $(echo "$metrics" | grep errors_total)"
pass "workload inserts, updates and reprices over its own connection"

# The appliance captures the shop: snapshot rows, then the workload's changes, in changes.jsonl.
changes="$state/appliance/changes.jsonl"
for ((i = 0; i < 100; i++)); do
    grep -q '"op":"u","ts_ms"' "$changes" 2>/dev/null && break
    sleep 0.1
done
n_seed=$(psql_q "$pg_port" "SELECT count(*) FROM customers WHERE id <= 300")
[ "$(grep -c '"snapshot":"true".*"table":"customers"\|"table":"customers".*"op":"r"' "$changes")" -ge "$n_seed" ] ||
    fail "snapshot of customers missing from $changes"
grep -q '"op":"c",' "$changes" || fail "no streamed insert in $changes"
grep -q '"op":"u",' "$changes" || fail "no streamed update in $changes"
grep -q '"name":"capture","state":"ok"' <<<"$(curl -s "http://127.0.0.1:$web_port/readyz")" || fail "capture not ok in /readyz"
grep -Eq '^sluice_capture_events_total\{op="c"\} [1-9]' <<<"$(curl -s "http://127.0.0.1:$web_port/metrics")" ||
    fail "capture events not counted"
pass "capture: snapshot and live changes in changes.jsonl, healthy, counted"

# Re-snapshot a table from the console API while streaming goes on (incremental snapshot).
api="http://127.0.0.1:$web_port/api/v1"
jar="$test_tmp/cookies"
onetime=$(sed -n 's/^one-time password for admin: //p' "$log" | head -1)
curl -s -c "$jar" -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"user\":\"admin\",\"password\":\"$onetime\"}" "$api/session"
curl -s -b "$jar" -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"current\":\"$onetime\",\"new\":\"demo-password-123\"}" "$api/session/password"
code=$(curl -s -b "$jar" -o "$test_tmp/snap.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"tables":["public.products"]}' "$api/capture/snapshots")
[ "$code" = 202 ] || fail "snapshot request answered $code: $(cat "$test_tmp/snap.json")"
grep -q '"lsn":"[0-9A-F]*/[0-9A-F]*"' "$test_tmp/snap.json" || fail "no LSN in $(cat "$test_tmp/snap.json")"
n_products=$(psql_q "$pg_port" "SELECT count(*) FROM products")
for ((i = 0; i < 300; i++)); do
    grep -q 'incremental snapshot done.*products' "$log" && break
    sleep 0.1
done
grep -q 'incremental snapshot done.*products' "$log" || fail "incremental snapshot of products did not finish"
# Rows the workload changed inside a chunk's window come from the stream instead (DBLog), so
# not every product is a read; most are.
for ((i = 0; i < 100; i++)); do   # the file sink writes out once a second
    reads=$(grep -c '"snapshot":"incremental".*"table":"products"' "$changes" || true)
    [ "$reads" -ge $((n_products / 2)) ] && break
    sleep 0.1
done
[ "$reads" -ge $((n_products / 2)) ] || fail "only $reads of $n_products products read by the incremental snapshot"
code=$(curl -s -b "$jar" -o "$test_tmp/bad.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d '{"tables":["public.nope"]}' "$api/capture/snapshots")
[ "$code" = 400 ] && grep -q nope "$test_tmp/bad.json" || fail "unknown table: $code $(cat "$test_tmp/bad.json")"
grep -q '"name":"capture","state":"ok"' <<<"$(curl -s -b "$jar" "$api/status")" || fail "capture not ok after the re-snapshot"
pass "console API re-snapshots a table while streaming"

pg_pids=$(demo_postgres_pids)
[ -n "$pg_pids" ] || fail "no postgres process found for $state"
kill -INT "$demo_pid"
demo_wait 60 || { cat "$log" >&2; fail "demo did not stop within 60 s of SIGINT"; }
[ "$demo_rc" = 0 ] || { cat "$log" >&2; fail "exit status $demo_rc after SIGINT, want 0"; }
[ -z "$(pgrep -f -- "$state" || true)" ] || fail "processes naming $state remain: $(pgrep -af -- "$state")"
for pid in $pg_pids; do
    kill -0 "$pid" 2>/dev/null && fail "postgres process $pid outlived the demo"
done
listening "$pg_port" && fail "something still listens on $pg_port"
listening "$web_port" && fail "something still listens on $web_port"
pass "SIGINT: exit 0, postgres stopped, ports $pg_port and $web_port free"

# --- 2. SIGKILL of sluice: postgres follows it (PR_SET_PDEATHSIG) ------------------------------
demo_start two
pg_pids=$(demo_postgres_pids)
[ -n "$pg_pids" ] || fail "no postgres process found for $state"
kill -KILL "$demo_pid"
wait "$demo_pid" 2>/dev/null || true
gone=0
for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in $pg_pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && { gone=1; break; }
    sleep 0.1
done
[ "$gone" = 1 ] || fail "postgres outlived a SIGKILLed sluice by 10 s: $(ps -o pid,cmd -p "${pg_pids//$'\n'/,}" || true)"
listening "$pg_port" && fail "something still listens on $pg_port after SIGKILL"
pass "SIGKILL of sluice: postgres gone within 10 s"
