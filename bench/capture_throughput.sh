#!/usr/bin/env bash
# capture_throughput: throughput of `sluice capture` (capture only, and end to end into Kafka)
# against pg_recvlogical on the same WAL. Starts a private PostgreSQL 15, writes N inserts
# (transactions of 1000 rows) plus updates into a table with a realistic column mix, then drains
# that WAL alternately with pg_recvlogical (pgoutput, to /dev/null) and sluice (--format none,
# then --format debezium, to /dev/null, then --format kafka to the embedded broker in the same
# process, until the broker acknowledged every event), each run from its own slot created before
# the workload, so every run reads the identical WAL. Prints best-of-R wall times, rows/s, the
# ratio to pg_recvlogical and peak RSS as a Markdown table (docs/BENCHMARKS.md). Cleans up its
# cluster and temp dir on exit.
#   bash bench/capture_throughput.sh [--rows N] [--updates N] [--runs R] [--sluice BIN]
set -euo pipefail

rows=1000000
updates=
runs=3
sluice_bin=
tx_rows=1000
while [ $# -gt 0 ]; do
    case "$1" in
    --rows) rows=$2; shift 2 ;;
    --updates) updates=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --sluice) sluice_bin=$2; shift 2 ;;
    -h | --help)
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
    *) echo "capture_throughput: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$updates" ] || updates=$((rows / 10))
[ $((rows % tx_rows)) -eq 0 ] && [ $((updates % tx_rows)) -eq 0 ] && [ "$updates" -le "$rows" ] ||
    { echo "capture_throughput: --rows and --updates must be multiples of $tx_rows, updates <= rows" >&2; exit 2; }

source "$(dirname "$0")/lib.bash"
recvlogical=$pg_bin/pg_recvlogical
[ -x "$recvlogical" ] || recvlogical=$(command -v pg_recvlogical) || die "pg_recvlogical not found"
bench_build_sluice
tools=(recvlogical none debezium kafka)
bench_pg_start $((runs * ${#tools[@]}))
bench_orders_create

# Every run gets its own slot, all created before the workload: identical WAL for each.
for ((r = 1; r <= runs; r++)); do
    for t in "${tools[@]}"; do
        q "SELECT lsn FROM pg_create_logical_replication_slot('bench_${t}_$r', 'pgoutput')" >/dev/null
    done
done

# ---- workload ---------------------------------------------------------------------------------
say "workload: $rows inserts and $updates updates in transactions of $tx_rows rows"
gen_start=$(date +%s)
q "DO \$\$
   BEGIN
     FOR b IN 0 .. $((rows / tx_rows - 1)) LOOP
       INSERT INTO public.orders
       SELECT i,
              'customer-' || (i % 9973) || ' ' || md5(i::text),
              round((i % 100000) * 1.37 + 0.01, 2),
              timestamptz '2024-01-01 00:00:00+00' + i * interval '1.25 second',
              i % 3 = 0,
              jsonb_build_object('sku', 'SKU-' || (i % 5000), 'qty', i % 7 + 1,
                                 'tags', jsonb_build_array('a', 'b' || (i % 11)), 'note', 'x')
       FROM generate_series(b * $tx_rows + 1, (b + 1) * $tx_rows) AS i;
       COMMIT;
     END LOOP;
     FOR b IN 0 .. $((updates / tx_rows - 1)) LOOP
       UPDATE public.orders SET paid = NOT paid, amount = amount + 1
       WHERE id > b * $tx_rows AND id <= (b + 1) * $tx_rows;
       COMMIT;
     END LOOP;
   END \$\$;"
end_lsn=$(q "SELECT pg_current_wal_insert_lsn()")
# A marker transaction after the end position: pg_recvlogical --endpos stops at its first record,
# sluice --end-lsn after its commit (one row more, not counted).
q "INSERT INTO public.orders VALUES (0, 'end marker', 0, now(), false, NULL)"
wal_bytes=$(q "SELECT pg_wal_lsn_diff('$end_lsn', min(confirmed_flush_lsn)) FROM pg_replication_slots")
total=$((rows + updates))
say "workload done in $(($(date +%s) - gen_start))s: end LSN $end_lsn, $((wal_bytes / 1048576)) MiB of WAL"

# ---- runs -------------------------------------------------------------------------------------

# run_one TOOL RUN: drain slot bench_TOOL_RUN up to end_lsn; sets run_ms, run_rss (peak RSS,
# KiB) and run_cpu (the client's user + system CPU seconds). For kafka, run_ms ends when sluice
# logs its latency summary: every event acknowledged and the position confirmed, before the
# embedded broker's teardown (librdkafka's mock cluster takes up to about 1 s to stop);
# run_exit_ms is the process's whole wall time.
run_one() {
    local tool=$1 r=$2 slot="bench_$1_$2" t0 t1 rc=0 tv=$tmp/time.$1.$2
    local -a cmd
    if [ "$tool" = recvlogical ]; then
        cmd=("$recvlogical" -d "$conninfo" --slot="$slot" --start -o proto_version=1
            -o publication_names=bench_pub --endpos="$end_lsn" -f /dev/null)
    else
        cmd=("$sluice_bin" capture --conninfo "$conninfo" --state-dir "$tmp/state.$slot" --slot "$slot"
            --publication bench_pub --snapshot-mode never --heartbeat-interval 0s --format "$tool"
            --end-lsn "$end_lsn")
        # kafka: sluice exits once the broker acknowledged every message (the stop waits for them)
        if [ "$tool" = kafka ]; then cmd+=(--kafka-brokers embedded); else cmd+=(--output /dev/null); fi
    fi
    t0=$(now_ns)
    /usr/bin/time -f '%M %U %S' -o "$tv" timeout 300 "${cmd[@]}" >"$tmp/out.$slot" 2>&1 & child=$!
    wait "$child" || rc=$?
    child=
    t1=$(now_ns)
    [ "$rc" = 0 ] || { cat "$tmp/out.$slot" >&2; die "$tool run $r exited with $rc"; }
    if [ "$tool" != recvlogical ]; then
        # sluice confirms only what it handed to its sink (kafka: what the broker acknowledged):
        # past end_lsn means it saw every row.
        local done
        done=$(q "SELECT confirmed_flush_lsn >= '$end_lsn' FROM pg_replication_slots WHERE slot_name = '$slot'")
        [ "$done" = t ] || die "$tool run $r stopped before $end_lsn"
    fi
    q "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    run_ms=$(((t1 - t0) / 1000000)) run_exit_ms=$(((t1 - t0) / 1000000))
    if [ "$tool" = kafka ]; then
        local acked
        acked=$(sed -n 's/^ts=\([^ ]*\) .*commit-to-ack transactions=.*/\1/p' "$tmp/out.$slot")
        [ -n "$acked" ] || { cat "$tmp/out.$slot" >&2; die "kafka run $r logged no commit-to-ack summary"; }
        run_ms=$((($(date -d "$acked" +%s%N) - t0) / 1000000))
    fi
    read -r run_rss run_cpu < <(tail -1 "$tv" | awk '{ printf "%d %.2f\n", $1, $2 + $3 }')
}

declare -A best_ms best_rss all cpus
for t in "${tools[@]}"; do best_ms[$t]=; best_rss[$t]=0; all[$t]=; cpus[$t]=; done
for ((r = 1; r <= runs; r++)); do
    for t in "${tools[@]}"; do
        run_one "$t" "$r"
        ms=$run_ms rss=$run_rss
        say "run $r $t: ${ms} ms$([ "$t" = kafka ] && echo " (exit after $run_exit_ms ms)"), client CPU ${run_cpu} s, peak RSS $((rss / 1024)) MiB"
        cpus[$t]="${cpus[$t]:+${cpus[$t]} }$run_cpu"
        all[$t]="${all[$t]:+${all[$t]} }$ms"
        if [ -z "${best_ms[$t]}" ] || [ "$ms" -lt "${best_ms[$t]}" ]; then best_ms[$t]=$ms; fi
        [ "$rss" -gt "${best_rss[$t]}" ] && best_rss[$t]=$rss
    done
done

# ---- report -----------------------------------------------------------------------------------
rate() { echo $((total * 1000 / $1)); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
median() { tr ' ' '\n' <<<"$1" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
base=${best_ms[recvlogical]}
base_median=$(median "${all[recvlogical]}")
label() {
    case "$1" in
    recvlogical) echo "pg_recvlogical (pgoutput → /dev/null)" ;;
    none) echo "sluice capture --format none (capture only)" ;;
    debezium) echo "sluice capture --format debezium (Debezium JSON → /dev/null)" ;;
    kafka) echo "sluice capture --format kafka (Debezium events → embedded broker, all acknowledged)" ;;
    esac
}
echo
bench_machine
echo "rows: $total ($rows inserts + $updates updates, $((rows / tx_rows + updates / tx_rows)) transactions), WAL: $((wal_bytes / 1048576)) MiB, runs: $runs (alternating)"
echo
echo "| client | best wall time (s) | all runs (s) | rows/s (best) | ratio to pg_recvlogical, best (median) | client CPU per run, user+sys (s) | peak RSS (MiB) |"
echo "|---|---:|---|---:|---:|---|---:|"
for t in "${tools[@]}"; do
    runs_s=$(for ms in ${all[$t]}; do awk -v m="$ms" 'BEGIN { printf "%.2f ", m / 1000 }'; done)
    printf '| %s | %.2f | %s | %d | %sx (%sx) | %s | %d |\n' "$(label "$t")" \
        "$(awk -v m="${best_ms[$t]}" 'BEGIN { printf "%.2f", m / 1000 }')" "${runs_s% }" \
        "$(rate "${best_ms[$t]}")" "$(ratio "${best_ms[$t]}" "$base")" \
        "$(ratio "$(median "${all[$t]}")" "$base_median")" "${cpus[$t]}" $((best_rss[$t] / 1024))
done
