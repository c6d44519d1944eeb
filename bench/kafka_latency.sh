#!/usr/bin/env bash
# kafka_latency: commit-to-acknowledgement latency of PostgreSQL -> Kafka at a fixed event rate.
# Starts a private PostgreSQL 15 and `sluice capture --format kafka` producing to the embedded
# broker (librdkafka's mock cluster, in the same process), then drives pgbench at a fixed rate of
# transactions of 10 inserted rows each (default 2,000 tx/s = 20,000 events/s) for D seconds.
# Latency is measured by sluice per transaction: from the commit timestamp PostgreSQL writes in
# the commit record to the delivery report of the transaction's last message (its histogram
# sluice_kafka_commit_to_ack_seconds); sluice prints p50/p90/p99 at exit. Prints a Markdown row.
#   bash bench/kafka_latency.sh [--rate TX_PER_S] [--seconds D] [--linger MS] [--sluice BIN]
set -euo pipefail

rate=2000
seconds=30
linger=5
sluice_bin=
while [ $# -gt 0 ]; do
    case "$1" in
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --linger) linger=$2; shift 2 ;;
    --sluice) sluice_bin=$2; shift 2 ;;
    -h | --help)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
    *) echo "kafka_latency: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

source "$(dirname "$0")/lib.bash"
pgbench=$pg_bin/pgbench
[ -x "$pgbench" ] || pgbench=$(command -v pgbench) || die "pgbench not found"
bench_build_sluice
bench_pg_start 2
bench_orders_create
q "CREATE SEQUENCE public.orders_seq"
# The sluice started in the background (daemon, then capture) does not outlive the script.
bg_pid=
trap '[ -z "$bg_pid" ] || kill "$bg_pid" 2>/dev/null || true; bench_cleanup' EXIT

# `sluice config set` needs an existing store: the daemon creates it on its first start.
state=$tmp/state
http=127.0.0.1:$(free_port)
"$sluice_bin" run --state-dir "$state" --listen "$http" >"$tmp/run.log" 2>&1 &
bg_pid=$!
for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://$http/healthz" 2>/dev/null && break
    kill -0 "$bg_pid" 2>/dev/null || { cat "$tmp/run.log" >&2; die "sluice run exited"; }
    sleep 0.1
done
kill -TERM "$bg_pid"
wait "$bg_pid" || { cat "$tmp/run.log" >&2; die "sluice run did not stop cleanly"; }
bg_pid=
"$sluice_bin" config set kafka.linger_ms "$linger" --state-dir "$state" >/dev/null

"$sluice_bin" capture --conninfo "$conninfo" --state-dir "$state" --slot bench --publication bench_pub \
    --snapshot-mode never --heartbeat-interval 0s --format kafka --kafka-brokers embedded \
    --flush-interval 100 2>"$tmp/sluice.log" &
bg_pid=$!
for _ in $(seq 100); do
    [ -n "$(q "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'bench' AND active")" ] && break
    kill -0 "$bg_pid" 2>/dev/null || { cat "$tmp/sluice.log" >&2; die "sluice exited"; }
    sleep 0.1
done

cat >"$tmp/tx.sql" <<'SQL'
INSERT INTO public.orders
SELECT nextval('public.orders_seq'), 'customer-' || g, 12.34, now(), false, '{"sku":"SKU-1","qty":2}'
FROM generate_series(1, 10) AS g;
SQL
say "pgbench: $rate transactions/s of 10 rows ($((rate * 10)) events/s) for $seconds s, linger.ms $linger"
"$pgbench" -n -h 127.0.0.1 -p "$port" -U postgres -d bench -f "$tmp/tx.sql" -R "$rate" -T "$seconds" \
    -c 4 -j 2 >"$tmp/pgbench.log" 2>&1 || { cat "$tmp/pgbench.log" >&2; die "pgbench failed"; }
tps=$(awk '/^tps = / { printf "%d", $3 }' "$tmp/pgbench.log")
sleep 2
kill -INT "$bg_pid"
wait "$bg_pid" || { bg_pid=; tail -20 "$tmp/sluice.log" >&2; die "sluice exited with an error"; }
bg_pid=
line=$(grep 'commit-to-ack' "$tmp/sluice.log" | tail -1) || true
[ -n "$line" ] || { tail -20 "$tmp/sluice.log" >&2; die "sluice printed no latency summary"; }
val() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$line"; }

echo
bench_machine
echo
echo "| offered load | achieved (pgbench) | transactions measured | p50 (ms) | p90 (ms) | p99 (ms) | linger.ms |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '| %d events/s (%d tx/s x 10 rows) | %d events/s | %s | %s | %s | %s | %s |\n' \
    $((rate * 10)) "$rate" $((tps * 10)) "$(val transactions)" "$(val p50_ms)" "$(val p90_ms)" "$(val p99_ms)" "$linger"
