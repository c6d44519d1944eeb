#!/usr/bin/env bash
# Silver on S3: the Iceberg tables of the current state and the SCD2 history, written to an S3 API
# server and read back over HTTP, exact after a randomized workload and a kill -9 crash. The
# daemon writes the silver layer (lake.store=s3, path style) to s3rver behind the signature check
# (tests/runtime/s3.bash: every request's SigV4 is recomputed and mismatches are refused) and
# commits every second; it is killed with SIGKILL once at a random moment of the workload
# (silver_workload.py: inserts, updates with and without the TOASTed column, primary-key changes,
# deletes, several changes of one row in a transaction; a table without a primary key is skipped).
# Once the slot is confirmed past the last transaction, icebird (an independent reader) reads both
# tables of each source table from s3rver's own HTTP port (anonymous GETs, which the signature
# check would refuse): the table URL is http://127.0.0.1:<port>/<bucket>/silver/sluice/public/<t>,
# and the s3:// locations the metadata holds are fetched from the same server
# (ICEBIRD_S3_HTTP_BASE, tests/e2e/tools/icebird_read.mjs). The current table must equal SELECT *
# and the history the SCD2 that silver_verify.py computes from the test_decoding oracle's change
# log. Also checked: the metadata names its manifest lists, manifests, data and delete files by
# s3://<bucket>/silver/... locations below the table, s3rver holds those objects, position deletes
# name data files by those locations, Parquet data was read with Range requests (206), and the
# signature check refused no request of the appliance.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/sluice.bash"
source "$(dirname "$0")/s3.bash"
source "$(dirname "$0")/silver.bash"
e2e="$SLUICE_REPO/tests/e2e"
command -v sqlite3 >/dev/null || fail "sqlite3 is needed to read the Iceberg catalog (install the Debian package sqlite3)"
for pkg in icebird @duckdb/node-api avsc; do
    [ -f "$e2e/node_modules/$pkg/package.json" ] ||
        fail "$e2e/node_modules/$pkg is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
done
pg_start
s3_start
trap 'rc=$?; [ "$rc" = 0 ] || tail -40 "$test_tmp/s.log" 2>/dev/null; test_cleanup' EXIT   # the log on failure

seed=${SILVER_SEED:-$RANDOM}
echo "workload seed $seed (SILVER_SEED=$seed reproduces it)"
python3 "$(dirname "$0")/silver_workload.py" "$test_tmp" "$seed" a:120:20 b:80:5 c:60
psql -X -q -f "$test_tmp/schema.sql" >/dev/null
out=$test_tmp/out
mkdir -p "$out"
silver_pg_dump initial

sluice_start s lake.store=s3 "s3.endpoint=http://127.0.0.1:$s3_port" "s3.bucket=$s3_bucket" "s3.region=$s3_region" \
    "s3.access_key_id=$s3_ak" "s3.secret_access_key=$s3_sk" s3.path_style=true \
    silver.enabled=true silver.commit_interval=1s bronze.enabled=false
wait_slot_active s 60
oracle_create

psql -X -q -f "$test_tmp/a.sql" >/dev/null &
workload=$!
sleep "$((RANDOM % 2)).$((RANDOM % 9 + 1))"
kill -0 "$workload" 2>/dev/null || fail "workload part a ended before the crash: lengthen it"
sluice_kill s
pass "killed the daemon with SIGKILL during the workload"
sluice_start s
wait "$workload" || fail "workload part a failed"
psql -X -q -f "$test_tmp/b.sql" >/dev/null
psql -X -q -f "$test_tmp/c.sql" >/dev/null
end_lsn=$(wal_lsn_num)
wait_slot_confirmed s "$end_lsn" 120
pass "the slot is confirmed past the last transaction once the silver tables on S3 have committed it"
metrics=$(curl -s "http://127.0.0.1:${sluice_port[s]}/metrics")
grep -q '^sluice_silver_commits_total [1-9]' <<<"$metrics" || fail "no silver commits counted: $(grep silver <<<"$metrics")"
grep -q '^sluice_silver_keyless_tables_total 1' <<<"$metrics" || fail "the table without a key was not reported skipped"
echo "$(grep -E '^sluice_silver_' <<<"$metrics" | tr '\n' ' ')"
[ "$(s3_stat sig_fail)" = 0 ] || fail "the signature check refused $(s3_stat sig_fail) requests of the appliance"
[ "$(s3_stat sig_ok)" -gt 0 ] || fail "no signed request of the appliance reached the signature check"
sluice_stop s
oracle_dump "$out/oracle.jsonl"
silver_pg_dump pg

# What s3rver holds: objects are files <key>._S3rver_object under $s3_data/<bucket>.
root=$s3_data/$s3_bucket/silver/sluice/public
[ -d "$root" ] || fail "s3rver holds no silver tables: $(cd "$s3_data/$s3_bucket" && find . -maxdepth 3 | head -20)"
[ ! -e "$root/nokey" ] || fail "a table without a primary key was written to silver"
for t in acct acct_history line line_history; do
    ls "$root/$t/metadata/"*.metadata.json._S3rver_object >/dev/null 2>&1 || fail "s3rver holds no metadata of $t"
    ls "$root/$t/data/"*.parquet._S3rver_object >/dev/null 2>&1 || fail "s3rver holds no data file of $t"
done
pass "s3rver holds the metadata and data files of the four silver tables (and none of the keyless table)"

# icebird over HTTP, straight from s3rver's port.
http_base=http://127.0.0.1:$s3rver_port
export ICEBIRD_S3_HTTP_BASE=$http_base ICEBIRD_FETCH_LOG=$test_tmp/fetch.jsonl
silver_read_verify "over HTTP from the S3 server" "$http_base/$s3_bucket/silver/sluice/public"
unset ICEBIRD_S3_HTTP_BASE ICEBIRD_FETCH_LOG

# Every request icebird made went to s3rver and succeeded; Parquet was read in ranges.
log=$test_tmp/fetch.jsonl
[ -s "$log" ] || fail "icebird made no HTTP request"
jq -se --arg b "$http_base/$s3_bucket/silver/sluice/public/" 'map(.url | startswith($b)) | all' "$log" >/dev/null ||
    fail "icebird fetched outside the tables on s3rver: $(jq -r --arg b "$http_base/$s3_bucket/silver/sluice/public/" 'select(.url | startswith($b) | not) | .url' "$log" | head -5)"
jq -se 'map(.status == 200 or .status == 206) | all' "$log" >/dev/null ||
    fail "requests of icebird failed: $(jq -c 'select(.status != 200 and .status != 206)' "$log" | head -5)"
for k in '/metadata/v[0-9]+\.metadata\.json$' '/metadata/snap-.*\.avro$' '/metadata/[^/]*-m[0-9]+\.avro$' '/data/.*\.parquet$'; do
    jq -se --arg k "$k" 'map(.url | test($k)) | any' "$log" >/dev/null || fail "icebird fetched nothing matching $k from s3rver"
done
jq -se 'map(select(.url | test("/data/.*\\.parquet$"))) | length > 0 and (map(.range != null and .status == 206) | all)' \
    "$log" >/dev/null ||
    fail "Parquet files were not read with Range requests answered 206: $(jq -c 'select(.url | test("parquet$"))' "$log" | head -3)"
pass "icebird read $(wc -l <"$log") objects over HTTP from s3rver, Parquet with $(jq -s 'map(select(.status == 206)) | length' "$log") Range requests (206)"

# The metadata names every file by its s3:// location below the table, s3rver holds each of them,
# and icebird read the version the catalog (sqlite, in the state directory) names as current.
for t in acct acct_history line line_history; do
    tdir=$root/$t
    hint=$(cat "$tdir/metadata/version-hint.text._S3rver_object") || fail "s3rver holds no version hint of $t"
    loc="s3://$s3_bucket/silver/sluice/public/$t"
    cat_loc=$(sqlite3 "$test_tmp/s.state/sluice.db" \
        "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = 'public' AND table_name = '$t'")
    [ "$cat_loc" = "$loc/metadata/v$hint.metadata.json" ] ||
        fail "$t: the catalog names ${cat_loc:-nothing}, the version hint on s3rver v$hint.metadata.json"
    grep -q "\"url\":\"$http_base/$s3_bucket/silver/sluice/public/$t/metadata/v$hint.metadata.json\"" "$log" ||
        fail "icebird did not read the current metadata v$hint.metadata.json of $t"
    python3 - "$tdir/metadata/v$hint.metadata.json._S3rver_object" "$loc" "$s3_data/$s3_bucket" "$e2e" <<'PY' ||
import json, os, subprocess, sys
meta_file, loc, bucket_dir, e2e = sys.argv[1:]
bucket = loc.split("/")[2]
def held(uri, below):   # the object s3rver holds for an s3:// URI below the table's location
    if not uri.startswith(f"{loc}/{below}/"):
        sys.exit(f"{uri} is not below {loc}/{below}/")
    path = os.path.join(bucket_dir, uri[len(f"s3://{bucket}/"):] + "._S3rver_object")
    if not os.path.isfile(path):
        sys.exit(f"s3rver does not hold {uri}")
    return path
def records(uri):
    r = subprocess.run(["node", f"{e2e}/tools/avro_read.mjs", held(uri, "metadata")], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"avsc could not read {uri}: {r.stderr}")
    return json.loads(r.stdout)["records"]
m = json.load(open(meta_file))   # Python's json keeps 64-bit snapshot ids exact
if m["location"] != loc:
    sys.exit(f"table location {m['location']}")
snap = [x for x in m["snapshots"] if x["snapshot-id"] == m["current-snapshot-id"]]
if len(snap) != 1:
    sys.exit(f"current snapshot {m['current-snapshot-id']} not found once")
files = 0
for mf in records(snap[0]["manifest-list"]):
    for e in records(mf["manifest_path"]):
        if e["status"] != 2:
            held(e["data_file"]["file_path"], "data")
            files += 1
if not files:
    sys.exit("the current snapshot has no live file")
print(f"{loc}: {files} live files, all held by s3rver")
PY
        fail "$t: the metadata names files that are not s3:// objects below $loc held by s3rver"
done
grep -q "\"url\":\"$http_base/$s3_bucket/silver/sluice/public/acct/data/[^\"]*-deletes\\.parquet\"" "$log" ||
    fail "icebird read no position-delete file of acct from s3rver"
dels=("$root"/acct/data/*-deletes.parquet._S3rver_object)
[ -f "${dels[0]}" ] || fail "s3rver holds no position-delete file of acct"
node "$e2e/tools/duckdb_query.mjs" "SELECT DISTINCT file_path FROM read_parquet('${dels[0]}')" >"$test_tmp/dels_paths.json" ||
    fail "DuckDB could not read ${dels[0]}"
jq -r '.[].file_path' "$test_tmp/dels_paths.json" >"$test_tmp/dels_paths.txt"
[ -s "$test_tmp/dels_paths.txt" ] || fail "the position-delete file ${dels[0]} names no data file"
while read -r p; do
    [[ $p == "s3://$s3_bucket/silver/sluice/public/acct/data/"*.parquet ]] ||
        fail "a position delete names $p, not a data file of s3://$s3_bucket/silver/sluice/public/acct"
    [ -f "$s3_data/$s3_bucket/${p#"s3://$s3_bucket/"}._S3rver_object" ] || fail "a position delete names $p, which s3rver does not hold"
done <"$test_tmp/dels_paths.txt"
pass "manifest lists, data and delete files are named by s3://$s3_bucket/silver/... locations that s3rver holds"
