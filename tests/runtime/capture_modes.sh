#!/usr/bin/env bash
# Snapshot modes of `sluice capture`:
#   never         no snapshot (no op "r"), changes after the slot's creation are streamed;
#   initial_only  snapshot, exit 0 by itself, slot kept; a second run exits 0 at once, writes nothing
#                 (checked last, after the others);
#   when_needed   an existing, completed slot: no new snapshot; a slot dropped while sluice was
#                 stopped: a new slot and a new, complete snapshot;
#   initial       a slot dropped while sluice was stopped: a new slot and a new snapshot (the
#                 changes made while the slot was missing are only in that snapshot);
#   an invalid mode exits non-zero with a message naming the valid ones; a wrong port keeps the
#   capture retrying with growing backoff ("reconnecting in N ms") until SIGINT, which exits 0.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
pg_start

rows=1000
psql_q "CREATE TABLE m (id int PRIMARY KEY, v text);
INSERT INTO m SELECT i, 'v' || i FROM generate_series(1, $rows) i;"
ops() { grep -c "\"op\":\"$2\"" "$1" || true; }
distinct_r() { grep '"op":"r"' "$1" | grep -o '"after":{"id":[0-9]*' | sort -u | wc -l; }

# --- never ---
out="$test_tmp/never.jsonl"
capture_start "$out" --slot m_never --publication m_pub --snapshot-mode never
wait_log 'streaming from slot m_never' 60
psql_q "INSERT INTO m VALUES (2001, 'n1'), (2002, 'n2'); UPDATE m SET v = 'upd' WHERE id = 1"
wait_lines "$out" '"op":"u"' 1 30
capture_stop
[ "$(ops "$out" r)" = 0 ] || fail "never: $(ops "$out" r) snapshot rows written"
[ "$(ops "$out" c)" = 2 ] || fail "never: $(ops "$out" c) inserts, want 2"
grep -q '"after":{"id":2002,"v":"n2"}' "$out" || fail "never: insert 2002 missing"
[ -n "$(slot_confirmed m_never)" ] || fail "never: slot m_never missing"
pass "never: no snapshot, later changes streamed"

# --- when_needed, then initial: existing slot, then slot dropped while stopped ---
for mode in when_needed initial; do
    slot="m_$mode"
    out="$test_tmp/$mode.jsonl"
    n=$(psql_q "SELECT count(*) FROM m")
    capture_start "$out" --slot "$slot" --publication m_pub --snapshot-mode "$mode"
    wait_lines "$out" '"snapshot":"last"' 1 60
    psql_q "INSERT INTO m VALUES (4001 + (SELECT count(*) FROM m), '$mode streamed')"
    wait_lines "$out" '"op":"c"' 1 30
    capture_stop
    [ "$(ops "$out" r)" = "$n" ] || fail "$mode: first snapshot has $(ops "$out" r) rows, want $n"

    # Restart with the slot in place: no new snapshot.
    lines=$(wc -l <"$out")
    capture_start "$out" --slot "$slot" --publication m_pub --snapshot-mode "$mode"
    psql_q "INSERT INTO m VALUES (5001 + (SELECT count(*) FROM m), '$mode restarted')"
    wait_lines "$out" '"op":"c"' 2 30
    capture_stop
    new=$(tail -n +"$((lines + 1))" "$out")
    grep -q '"op":"r"' <<<"$new" && fail "$mode: a restart with a completed slot snapshotted again"
    [ "$(grep -c '"op":"c"' <<<"$new")" = 1 ] || fail "$mode: restart wrote $(grep -c '"op":"c"' <<<"$new") inserts, want 1"

    # Drop the slot while sluice is stopped; change the table meanwhile.
    psql_q "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    psql_q "INSERT INTO m VALUES (6001 + (SELECT count(*) FROM m), '$mode while slot missing'); DELETE FROM m WHERE id = 2"
    n2=$(psql_q "SELECT count(*) FROM m")
    lines=$(wc -l <"$out")
    log_lines=$(wc -l <"$test_tmp/capture.log")
    capture_start "$out" --slot "$slot" --publication m_pub --snapshot-mode "$mode"
    for ((i = 0; i < 600; i++)); do
        [ "$(tail -n +"$((lines + 1))" "$out" | grep -c '"snapshot":"last"')" -ge 1 ] && break
        kill -0 "$capture_pid" 2>/dev/null || { tail -20 "$test_tmp/capture.log"; fail "$mode: capture exited after the slot was dropped"; }
        sleep 0.1
    done
    tail -n +"$((lines + 1))" "$out" >"$test_tmp/$mode.after-drop.jsonl"
    capture_stop
    after="$test_tmp/$mode.after-drop.jsonl"
    grep -q "replication slot created.*slot=$slot" <<<"$(tail -n +"$((log_lines + 1))" "$test_tmp/capture.log")" ||
        fail "$mode: no new slot was created after the drop"
    [ -n "$(slot_confirmed "$slot")" ] || fail "$mode: slot $slot missing after the run"
    [ "$(ops "$after" r)" = "$n2" ] && [ "$(distinct_r "$after")" = "$n2" ] ||
        fail "$mode: after the slot was dropped: $(ops "$after" r) snapshot rows ($(distinct_r "$after") distinct), want $n2 (a new snapshot)"
    grep -q "\"v\":\"$mode while slot missing\"" "$after" || fail "$mode: the row inserted while the slot was missing is not in the new snapshot"
    grep -q '"after":{"id":2,' "$after" && fail "$mode: the new snapshot still has the deleted row 2"
    pass "$mode: no snapshot with a completed slot; a dropped slot is recreated with a new complete snapshot"
done

# --- invalid mode ---
set +e
"$SLUICE_BIN" capture --state-dir "$test_tmp/state" --conninfo "$pg_conninfo" --output "$test_tmp/bad.jsonl" \
    --slot m_bad --publication m_pub --snapshot-mode bogus >"$test_tmp/bad.out" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "an invalid snapshot mode exited 0"
grep -q "snapshot_mode" "$test_tmp/bad.out" && grep -q "bogus" "$test_tmp/bad.out" &&
    grep -q "initial|never|initial_only|when_needed" "$test_tmp/bad.out" ||
    fail "invalid mode message does not name the setting and the valid modes: $(cat "$test_tmp/bad.out")"
[ -z "$(slot_confirmed m_bad)" ] || fail "an invalid mode still created slot m_bad"
pass "invalid snapshot mode: exit $rc, $(tr -d '\n' <"$test_tmp/bad.out" | cut -c1-160)"

# --- wrong port: retry with backoff, SIGINT exits 0 ---
: >"$test_tmp/capture.log"
"$SLUICE_BIN" capture --state-dir "$test_tmp/state" --conninfo "host=127.0.0.1 port=$(free_port) user=postgres dbname=postgres" \
    --output "$test_tmp/noport.jsonl" --slot m_np --publication m_pub 2>>"$test_tmp/capture.log" &
capture_pid=$!
test_pids+=("$capture_pid")
for ((i = 0; i < 100; i++)); do
    [ "$(grep -c 'reconnecting in' "$test_tmp/capture.log")" -ge 3 ] && break
    kill -0 "$capture_pid" 2>/dev/null || { cat "$test_tmp/capture.log"; fail "capture gave up on a wrong port"; }
    sleep 0.1
done
delays=$(grep -o 'reconnecting in [0-9]* ms' "$test_tmp/capture.log" | awk '{print $3}' | xargs)
[ "$(wc -w <<<"$delays")" -ge 3 ] || { cat "$test_tmp/capture.log"; fail "fewer than 3 reconnect attempts in 10 s: $delays"; }
awk '{for (i = 2; i <= NF; i++) if ($i <= $(i - 1)) exit 1}' <<<"$delays" || fail "backoff does not grow: $delays"
grep -q 'Connection refused' "$test_tmp/capture.log" || fail "the log does not say why: $(head -1 "$test_tmp/capture.log")"
start=$SECONDS
capture_stop
[ $((SECONDS - start)) -le 3 ] || fail "SIGINT during backoff took $((SECONDS - start)) s"
pass "wrong port: retries with backoff ($delays ms), SIGINT exits 0"

# --- initial_only ---
out="$test_tmp/only.jsonl"
n=$(psql_q "SELECT count(*) FROM m")
capture_start "$out" --slot m_only --publication m_pub --snapshot-mode initial_only
wait_exit "$capture_pid" 120 || { tail -20 "$test_tmp/capture.log"; fail "initial_only did not exit by itself"; }
[ "$exit_status" = 0 ] || { tail -20 "$test_tmp/capture.log"; fail "initial_only exited $exit_status"; }
[ "$(ops "$out" r)" = "$n" ] && [ "$(distinct_r "$out")" = "$n" ] ||
    fail "initial_only: $(ops "$out" r) snapshot rows ($(distinct_r "$out") distinct), want $n"
[ "$(wc -l <"$out")" = "$n" ] || fail "initial_only: $(wc -l <"$out") lines, want only the $n snapshot rows"
[ -n "$(slot_confirmed m_only)" ] || fail "initial_only: the slot was not kept"
psql_q "INSERT INTO m VALUES (3001, 'after only')"
capture_start "$out" --slot m_only --publication m_pub --snapshot-mode initial_only
wait_exit "$capture_pid" 30 || { tail -20 "$test_tmp/capture.log"; fail "second initial_only run did not exit by itself"; }
[ "$exit_status" = 0 ] || { tail -20 "$test_tmp/capture.log"; fail "second initial_only run exited $exit_status"; }
[ "$(wc -l <"$out")" = "$n" ] || fail "second initial_only run wrote $(( $(wc -l <"$out") - n )) more lines"
grep -q 'initial_only: the snapshot of slot m_only is already done' "$test_tmp/capture.log" ||
    fail "second initial_only run did not say the snapshot is done"
pass "initial_only: snapshot, exit 0, slot kept; second run exits 0 and writes nothing"
