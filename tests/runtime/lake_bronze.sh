#!/usr/bin/env bash
# Bronze on a local lake: every change lands in exactly one bronze object, also across a kill -9.
# A daemon writes the bronze layer of a local lake (objects rolled every second and at 1 MiB)
# while a deterministic workload runs: a snapshot of existing rows, ~300 transactions of
# inserts, updates and deletes over three tables (one without a primary key), transactions
# spanning tables, and one large transaction (~2 MiB compressed) that must be split across
# objects. The daemon is killed with SIGKILL in the middle of the workload and restarted.
# Then every object is read independently (Python's gzip and json): the streamed events equal,
# as a multiset of (table, op, LSN), what an independent test_decoding slot saw PostgreSQL commit;
# the snapshot reads are the rows that existed; no event appears twice; keys follow
# bronze/<source>/<schema>.<table>/date=YYYY-MM-DD/hour=HH/<first>-<last>.jsonl.gz with the
# partition of the first event's commit hour and non-overlapping positions per table. Finally
# DuckDB's read_json_auto over the objects returns the same events: the count per table and op,
# and full equality of every event of one table.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/sluice.bash"
e2e="$SLUICE_REPO/tests/e2e"
[ -f "$e2e/node_modules/@duckdb/node-api/package.json" ] ||
    fail "$e2e/node_modules/@duckdb/node-api is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
pg_start

# The workload, deterministic, in parts around the crash.
python3 "$(dirname "$0")/bronze_workload.py" "$test_tmp" 7 a:120 big:big b:120:10 c:60
psql -X -q -f "$test_tmp/schema.sql" >/dev/null

lake=$test_tmp/lake
sluice_start b lake.store=local "lake.path=$lake" bronze.roll_age=1s bronze.roll_size=1
wait_slot_active b 60
oracle_create

psql -X -q -f "$test_tmp/a.sql" >/dev/null
psql -X -q -f "$test_tmp/big.sql" >/dev/null

# Part b runs while the daemon is killed and restarted.
psql -X -q -f "$test_tmp/b.sql" >/dev/null &
workload_pid=$!
sleep 1
kill -9 "${sluice_pid[b]}"
wait "${sluice_pid[b]}" 2>/dev/null || true
unset "sluice_pid[b]"
pass "killed the daemon with SIGKILL during the workload"
sluice_start b
wait "$workload_pid" || fail "workload part b failed"
psql -X -q -f "$test_tmp/c.sql" >/dev/null
end_lsn=$(wal_lsn_num)
wait_slot_confirmed b "$end_lsn" 60
pass "the slot is confirmed past the last transaction once its objects are uploaded"
metrics=$(curl -s "http://127.0.0.1:${sluice_port[b]}/metrics")
grep -q '^sluice_bronze_objects_total [1-9]' <<<"$metrics" || fail "no bronze objects counted: $(grep bronze <<<"$metrics")"
echo "after the restart: $(grep -E '^sluice_bronze_(skipped_events|objects)_total' <<<"$metrics" | tr '\n' ' ')"
sluice_stop b
oracle_dump "$test_tmp/oracle.jsonl"
[ -z "$(ls -A "$lake/.tmp" 2>/dev/null)" ] || fail "temporary files left in the lake: $(ls "$lake/.tmp")"

python3 "$(dirname "$0")/bronze_verify.py" --root "$lake" --oracle "$test_tmp/oracle.jsonl" --snapshot-orders 50 \
    --split-table public.blobs || fail "the bronze objects do not hold exactly the captured changes"
pass "every change is in exactly one bronze object, named and partitioned as documented"

# DuckDB, an independent reader, over the layer as users query it.
for t in orders items events_nokey blobs; do
    node "$e2e/tools/duckdb_query.mjs" "SELECT op, count(*) AS n FROM read_json_auto('$lake/bronze/sluice/public.$t/*/*/*.jsonl.gz') GROUP BY op ORDER BY op" \
        >"$test_tmp/duck_$t.json" || fail "DuckDB could not read the bronze objects of $t"
done
node "$e2e/tools/duckdb_query.mjs" "SELECT to_json(before) AS before, to_json(after) AS after, op, source.lsn AS lsn, source.txId AS tx
    FROM read_json_auto('$lake/bronze/sluice/public.items/*/*/*.jsonl.gz') ORDER BY source.lsn, op" >"$test_tmp/duck_rows.json" ||
    fail "DuckDB could not read the items events"
python3 - "$lake" "$test_tmp" <<'PY'
import collections, glob, gzip, json, sys
lake, tmp = sys.argv[1], sys.argv[2]
fails = []
for t in ("orders", "items", "events_nokey", "blobs"):
    mine = collections.Counter()
    for f in glob.glob(f"{lake}/bronze/sluice/public.{t}/*/*/*.jsonl.gz"):
        with gzip.open(f, "rt") as fh:
            mine.update(json.loads(l)["op"] for l in fh if l.strip())
    duck = {r["op"]: int(r["n"]) for r in json.load(open(f"{tmp}/duck_{t}.json"))}
    if duck != dict(mine):
        fails.append(f"{t}: DuckDB counts {duck}, the objects hold {dict(mine)}")
rows = []
for f in glob.glob(f"{lake}/bronze/sluice/public.items/*/*/*.jsonl.gz"):
    with gzip.open(f, "rt") as fh:
        rows += [json.loads(l) for l in fh if l.strip()]
mine = sorted((json.dumps(e["before"], sort_keys=True), json.dumps(e["after"], sort_keys=True), e["op"],
               e["source"]["lsn"], e["source"]["txId"]) for e in rows)
duck = sorted((json.dumps(json.loads(r["before"]) if r["before"] else None, sort_keys=True),
               json.dumps(json.loads(r["after"]) if r["after"] else None, sort_keys=True), r["op"],
               int(r["lsn"]), int(r["tx"])) for r in json.load(open(f"{tmp}/duck_rows.json")))
if mine != duck:
    fails.append(f"items: DuckDB's rows differ from the objects' (e.g. {[x for x in duck if x not in mine][:2]} "
                 f"vs {[x for x in mine if x not in duck][:2]})")
if len(mine) < 100:
    fails.append(f"items: only {len(mine)} events to compare")
if fails:
    print("\n".join(fails))
    sys.exit(1)
print(f"ok: DuckDB agrees on every table's counts and on all {len(mine)} items events")
PY
pass "DuckDB's read_json_auto reads exactly these events"
