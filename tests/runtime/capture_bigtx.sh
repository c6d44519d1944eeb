#!/usr/bin/env bash
# One huge transaction (10,000,000 inserted rows, committed at once) streams through
# `sluice capture` with bounded memory: sluice's resident set, sampled every 0.2 s while the
# transaction is decoded, stays under a fixed bound; every row comes out exactly once (counted
# on the fly through a FIFO, since 10M lines of Debezium JSON are ~4 GB); the slot's confirmed
# position reaches the end of the transaction; SIGINT then exits 0.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
pg_start "max_wal_size = 4GB" "checkpoint_timeout = 30min"

rows=10000000
# Bound on VmRSS in MiB. Measured on the 2-core Debian 12 test machine with SLUICE_SANITIZE=ON
# (AddressSanitizer, quarantine limited to 16 MiB below): 20 MiB when streaming starts, 50 MiB
# at most while the 10M rows are decoded (insert ~22 s, decode ~87 s, test ~110 s). 128 MiB
# leaves 2.5x margin; a capture that buffered the transaction would need gigabytes (~400 bytes
# of JSON per row), and a leak of a few bytes per row would pass it too.
rss_bound_mib=128

psql_q "CREATE TABLE t (id bigint PRIMARY KEY, v text)"

# ASan keeps up to 256 MiB of freed memory in quarantine by default, which would hide the
# difference between "bounded" and "slowly growing"; a small quarantine keeps RSS honest.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"

fifo="$test_tmp/out.fifo"
mkfifo "$fifo"
# Reader: count insert events and remember the last line (one pass, no disk).
awk 'index($0, "\"op\":\"c\"") { n++; last = $0 } END { print n + 0; print last }' <"$fifo" >"$test_tmp/count.txt" &
reader_pid=$!
test_pids+=("$reader_pid")

capture_start "$fifo" --slot big_slot --publication big_pub --snapshot-mode never --flush-interval 500
wait_log 'streaming from slot big_slot' 60
rss_start=$(rss_kib "$capture_pid")

t0=$SECONDS
psql_q "INSERT INTO t SELECT i, 'row ' || i FROM generate_series(1, $rows) i"
end_lsn=$(psql_q "SELECT pg_current_wal_lsn()")
t_insert=$((SECONDS - t0))

# Sample RSS every 0.2 s until the slot has confirmed the whole transaction (at most 240 s).
max_kib=0
samples=0
done_ok=
t1=$SECONDS
for ((i = 0; i < 1200; i++)); do
    kill -0 "$capture_pid" 2>/dev/null || { tail -20 "$test_tmp/capture.log"; fail "capture exited while decoding"; }
    r=$(rss_kib "$capture_pid")
    if [ -n "$r" ]; then
        samples=$((samples + 1))
        [ "$r" -gt "$max_kib" ] && max_kib=$r
    fi
    if ((i % 5 == 0)) &&
        [ "$(psql_q "SELECT confirmed_flush_lsn >= '$end_lsn'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'big_slot'")" = t ]; then
        done_ok=1
        break
    fi
    sleep 0.2
done
t_decode=$((SECONDS - t1))
[ -n "$done_ok" ] || { tail -20 "$test_tmp/capture.log"; fail "slot did not confirm $end_lsn within 240 s (confirmed $(slot_confirmed big_slot))"; }
echo "rows=$rows insert=${t_insert}s decode=${t_decode}s rss_start=$((rss_start / 1024))MiB max_rss=$((max_kib / 1024))MiB samples=$samples"

capture_stop
wait_exit "$reader_pid" 30 || fail "the output reader did not finish"
n=$(sed -n 1p "$test_tmp/count.txt")
last=$(sed -n 2p "$test_tmp/count.txt")
[ "$n" = "$rows" ] || fail "the output has $n insert events, want $rows"
grep -q "\"after\":{\"id\":$rows,\"v\":\"row $rows\"}" <<<"$last" || fail "last event is not row $rows: ${last:0:300}"
[ "$samples" -ge 10 ] || fail "only $samples RSS samples: decoding finished too fast to measure"
[ "$max_kib" -le $((rss_bound_mib * 1024)) ] ||
    fail "sluice's RSS reached $((max_kib / 1024)) MiB during the transaction, bound $rss_bound_mib MiB"
pass "$rows-row transaction: all rows once, confirmed, max RSS $((max_kib / 1024)) MiB <= $rss_bound_mib MiB"
