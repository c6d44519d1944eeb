#!/usr/bin/env bash
# kill -9 of `sluice capture` during the initial snapshot and while streaming under a live
# workload, then restart: the union of what was written covers every row and every change
# (nothing lost), so the position confirmed to PostgreSQL never passed undelivered output.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
pg_start

rows=300000
psql_q "CREATE TABLE snap_t (id int PRIMARY KEY, payload text);
INSERT INTO snap_t SELECT i, md5(i::text) FROM generate_series(1, $rows) i;
CREATE TABLE seq_t (id bigserial PRIMARY KEY, payload text);"

# 1. Killed during the snapshot: the next run drops the unfinished slot and snapshots again.
out="$test_tmp/snap.jsonl"
capture_start "$out" --slot crash_slot --publication crash_pub
wait_lines "$out" '"op":"r"' 20000 120
grep -q '"snapshot":"last"' "$out" && fail "snapshot finished before it could be interrupted; raise rows"
kill -9 "$capture_pid"
wait_exit "$capture_pid" 10 || fail "killed capture did not exit"
capture_start "$out" --slot crash_slot --publication crash_pub
wait_lines "$out" '"snapshot":"last"' 1 180
grep -q "taking a new snapshot" "$test_tmp/capture.log" || fail "restart did not replace the unfinished snapshot"
n=$(grep '"op":"r"' "$out" | grep -o '"after":{"id":[0-9]*' | sort -u | wc -l)
[ "$n" = "$rows" ] || fail "snapshot union has $n distinct rows, want $rows"
pass "kill -9 during the snapshot: restart snapshots again, all $rows rows delivered"

# 2. Killed repeatedly while streaming a live workload.
workload() {
    for i in $(seq 1 300); do
        psql -X -q -c "INSERT INTO seq_t (payload) SELECT md5(random()::text) FROM generate_series(1, 10)" 2>/dev/null || true
        sleep 0.02
    done
}
workload &
wl_pid=$!
test_pids+=("$wl_pid")
for round in 1 2 3; do
    sleep 1.5
    kill -9 "$capture_pid"
    wait_exit "$capture_pid" 10 || fail "killed capture did not exit"
    capture_start "$out" --slot crash_slot --publication crash_pub
done
wait "$wl_pid" || true
max=$(psql_q "SELECT max(id) FROM seq_t")
total=$(psql_q "SELECT count(*) FROM seq_t")
[ "$total" -gt 1000 ] || fail "workload wrote only $total rows"
wait_lines "$out" "\"after\":{\"id\":$max," 1 120
capture_stop
got=$(grep '"op":"c"' "$out" | grep '"table":"seq_t"' | grep -o '"after":{"id":[0-9]*' | sort -u | wc -l)
[ "$got" = "$total" ] || fail "delivered $got distinct inserts, want $total"
pass "kill -9 while streaming (3 times): all $total inserts delivered"
