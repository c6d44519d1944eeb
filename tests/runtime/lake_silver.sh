#!/usr/bin/env bash
# Silver: Iceberg tables of the current state and the SCD2 history, exact after a randomized
# workload and several kill -9 crashes. Tables with rows (read by the initial snapshot) get ~400
# transactions of inserts, updates that leave a TOASTed column alone, updates of it, primary-key
# changes (also of a composite key), deletes, several changes of one row in one transaction, and
# rows inserted and deleted in one transaction; a table without a primary key is skipped. The
# daemon commits every second and is killed with SIGKILL three times at random moments (Parquet
# writing, uploads, manifests, catalog swaps all happen continuously). Then icebird (an
# independent reader) reads both tables of each source table: the current table must equal
# SELECT * (no duplicates), and the history must equal an SCD2 computed by silver_verify.py from
# the test_decoding oracle's change log, version for version, with valid_from/valid_to, op, lsn
# and txid. DuckDB reads a data file and a position-delete file with their Iceberg field ids.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/sluice.bash"
source "$(dirname "$0")/silver.bash"
e2e="$SLUICE_REPO/tests/e2e"
[ -f "$e2e/node_modules/icebird/package.json" ] ||
    fail "$e2e/node_modules/icebird is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
command -v node >/dev/null || fail "node is missing: run packaging/install-deps.sh --test"
pg_start
trap 'rc=$?; [ "$rc" = 0 ] || tail -40 "$test_tmp/s.log" 2>/dev/null; test_cleanup' EXIT   # the log on failure

seed=${SILVER_SEED:-$RANDOM}
echo "workload seed $seed (SILVER_SEED=$seed reproduces it)"
python3 "$(dirname "$0")/silver_workload.py" "$test_tmp" "$seed" a:200:20 b:150:5 c:100
psql -X -q -f "$test_tmp/schema.sql" >/dev/null
out=$test_tmp/out
mkdir -p "$out"
silver_pg_dump initial

lake=$test_tmp/lake
sluice_start s lake.store=local "lake.path=$lake" silver.enabled=true silver.commit_interval=1s bronze.enabled=false
wait_slot_active s 60
oracle_create

psql -X -q -f "$test_tmp/a.sql" >/dev/null &
workload=$!
for i in 1 2 3; do
    sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
    sleep $((RANDOM % 2))
    sluice_kill s
    pass "killed the daemon with SIGKILL ($i of 3)"
    sluice_start s
done
wait "$workload" || fail "workload part a failed"
psql -X -q -f "$test_tmp/b.sql" >/dev/null
psql -X -q -f "$test_tmp/c.sql" >/dev/null
end_lsn=$(wal_lsn_num)
wait_slot_confirmed s "$end_lsn" 120
pass "the slot is confirmed past the last transaction once the silver tables have committed it"
metrics=$(curl -s "http://127.0.0.1:${sluice_port[s]}/metrics")
grep -q '^sluice_silver_commits_total [1-9]' <<<"$metrics" || fail "no silver commits counted: $(grep silver <<<"$metrics")"
grep -q '^sluice_silver_keyless_tables_total 1' <<<"$metrics" || fail "the table without a key was not reported skipped"
echo "$(grep -E '^sluice_silver_' <<<"$metrics" | tr '\n' ' ')"
sluice_stop s
oracle_dump "$out/oracle.jsonl"
[ ! -e "$lake/silver/sluice/public/nokey" ] || fail "a table without a primary key was written to silver"

silver_pg_dump pg
silver_read_verify "after the workload" "file://$lake/silver/sluice/public"

# Position deletes and data files as an independent Parquet reader sees them.
data=$(ls "$lake"/silver/sluice/public/acct/data/*-00000.parquet | head -1)
dels=$(ls "$lake"/silver/sluice/public/acct/data/*-deletes.parquet | head -1)
[ -n "$dels" ] || fail "no position-delete file was written"
node "$e2e/tools/duckdb_query.mjs" "SELECT name, field_id FROM parquet_schema('$dels') WHERE field_id IS NOT NULL ORDER BY name" \
    >"$test_tmp/dels.json" || fail "DuckDB could not read $dels"
jq -e 'map("\(.name)=\(.field_id)") == ["file_path=2147483546", "pos=2147483545"]' "$test_tmp/dels.json" >/dev/null ||
    fail "position-delete columns or field ids are wrong: $(cat "$test_tmp/dels.json")"
node "$e2e/tools/duckdb_query.mjs" "SELECT count(*) AS n FROM read_parquet('$dels') WHERE file_path NOT LIKE 'file://$lake/silver/sluice/public/acct/data/%'" \
    >"$test_tmp/dels_paths.json" || fail "DuckDB could not read $dels"
jq -e '(.[0].n | tonumber) == 0' "$test_tmp/dels_paths.json" >/dev/null || fail "position deletes name files outside the table"
node "$e2e/tools/duckdb_query.mjs" "SELECT name, field_id FROM parquet_schema('$data') WHERE field_id IS NOT NULL ORDER BY field_id" \
    >"$test_tmp/data.json" || fail "DuckDB could not read $data"
jq -e 'map(.name) == ["id", "name", "balance", "note", "updated", "active"]' "$test_tmp/data.json" >/dev/null ||
    fail "data file columns: $(cat "$test_tmp/data.json")"
pass "DuckDB reads the data and position-delete files with Iceberg's field ids"
