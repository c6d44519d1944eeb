#!/usr/bin/env bash
# PostgreSQL restarted (pg_ctl restart -m fast, twice) while `sluice capture` streams a live
# insert workload: the capture logs the lost connection, reconnects with backoff, resumes from
# the slot without a new snapshot, and the output covers every committed row (re-sent
# transactions after the last confirmed position are allowed; missing ones are not). It then
# stops on SIGINT with exit 0.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
pg_start

psql_q "CREATE TABLE w (id bigserial PRIMARY KEY, batch int NOT NULL, payload text);
INSERT INTO w (batch, payload) SELECT 0, 'before' FROM generate_series(1, 100);"

out="$test_tmp/out.jsonl"
capture_start "$out" --slot rc_slot --publication rc_pub --snapshot-mode initial
wait_lines "$out" '"snapshot":"last"' 1 60
wait_log 'streaming from slot rc_slot' 30

# Workload: 10-row insert transactions, one connection each; those that hit the restart fail
# and are simply not in the table.
workload() {
    local b
    for ((b = 1; b <= 250; b++)); do
        psql -X -q -c "INSERT INTO w (batch, payload) SELECT $b, md5(random()::text) FROM generate_series(1, 10)" \
            >/dev/null 2>&1 || true
        sleep 0.02
    done
}
workload &
wl_pid=$!
test_pids+=("$wl_pid")

restart_pg() {
    pg_as_owner "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -m fast -w -t 60 restart >/dev/null ||
        { tail -20 "$pg_data/server.log"; fail "pg_ctl restart failed"; }
}
for round in 1 2; do
    sleep 2
    kill -0 "$wl_pid" 2>/dev/null || fail "the workload ended before restart $round; make it longer"
    before=$(grep -c '"op":"c"' "$out" || true)
    restart_pg
    # The capture survives and resumes: new inserts arrive after the restart.
    wait_lines "$out" '"op":"c"' $((before + 50)) 60
    pass "restart $round: capture resumed ($(( $(grep -c '"op":"c"' "$out") - before )) inserts since)"
done
wait "$wl_pid" || true

end_lsn=$(psql_q "SELECT pg_current_wal_lsn()")
wait_confirmed rc_slot "$end_lsn" 60
kill -0 "$capture_pid" 2>/dev/null || fail "capture exited"
capture_stop

reconnects=$(grep -c 'reconnecting in' "$test_tmp/capture.log" || true)
streams=$(grep -c 'streaming from slot rc_slot' "$test_tmp/capture.log" || true)
[ "$reconnects" -ge 2 ] || { cat "$test_tmp/capture.log"; fail "the log has $reconnects 'reconnecting' lines, want >= 2"; }
[ "$streams" -ge 3 ] || { cat "$test_tmp/capture.log"; fail "streaming started $streams times, want >= 3 (start + 2 reconnects)"; }
[ "$(grep -c 'initial snapshot of publication' "$test_tmp/capture.log")" = 1 ] || fail "a reconnect took a new snapshot"
[ "$(grep -c '"op":"r"' "$out")" = 100 ] || fail "$(grep -c '"op":"r"' "$out") snapshot rows, want 100"

# Coverage: the ids in the output are exactly the ids in the table (no deletes ran).
psql_q "SELECT id FROM w ORDER BY id" >"$test_tmp/want.txt"
grep -o '"after":{"id":[0-9]*' "$out" | grep -o '[0-9]*$' | sort -n -u >"$test_tmp/got.txt"
want_n=$(wc -l <"$test_tmp/want.txt")
[ "$want_n" -gt 1500 ] || fail "only $want_n rows committed: the workload did not run"
missing=$(comm -23 <(sort "$test_tmp/want.txt") <(sort "$test_tmp/got.txt") | wc -l)
extra=$(comm -13 <(sort "$test_tmp/want.txt") <(sort "$test_tmp/got.txt") | wc -l)
[ "$missing" = 0 ] || fail "$missing committed rows never came out, e.g. $(comm -23 <(sort "$test_tmp/want.txt") <(sort "$test_tmp/got.txt") | head -3 | xargs)"
[ "$extra" = 0 ] || fail "$extra rows came out that are not in the table"
total_c=$(grep -c '"op":"c"' "$out")
pass "two PostgreSQL restarts: $reconnects reconnects, all $want_n rows covered ($((total_c + 100 - want_n)) re-sent duplicates)"
