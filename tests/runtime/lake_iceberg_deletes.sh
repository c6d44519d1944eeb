#!/usr/bin/env bash
# Iceberg v2 merge-on-read commits by Sluice (firmware/sinks/lake/iceberg_table's commit of data
# files and position-delete files, iceberg_metadata's delete counts; driven by
# tests/tools/iceberg_row_delta) read by independent readers. Three commits to a new table:
# append (data file A, ids 1..N), overwrite (data file B, ids N+1..2N, plus one position-delete
# file deleting rows of A and of B, B being added by the same commit), delete (a position-delete
# file of A only, with referenced_data_file). icebird (npm, tests/e2e/tools/icebird_read.mjs)
# must return exactly the surviving rows after each commit (time travel by metadata file); DuckDB
# (tests/e2e/tools/duckdb_query.mjs) reads each delete file: file_path/pos with the spec's field
# ids 2147483546/2147483545, rows sorted by file_path then pos, and computes the surviving ids on
# its own (data files anti-joined with the delete files by file and row number); avsc
# (tests/e2e/tools/avro_read.mjs) reads the manifest lists and manifests: delete manifests of
# content 1 listed next to the parent's manifests with the commit's sequence number, entries of
# content POSITION_DELETES; python checks the metadata JSON: operations append / overwrite /
# delete and the summary's added-* / total-* counts. Finally the check itself fails when a
# delete file is left out of the table.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
e2e="$SLUICE_REPO/tests/e2e"
tool="$SLUICE_BUILD_DIR/tests/iceberg_row_delta"
[ -x "$tool" ] || fail "$tool is missing (built from tests/tools/iceberg_row_delta.c)"
for m in icebird avsc @duckdb/node-api; do
    [ -f "$e2e/node_modules/$m/package.json" ] ||
        fail "$e2e/node_modules/$m is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
done
command -v node >/dev/null || fail "node is missing: run packaging/install-deps.sh --test"

lake=$test_tmp/lake
db=$test_tmp/sluice.db
expect=$test_tmp/expect.json
rows=40
"$tool" --dir "$lake" --db "$db" --table shop.items --rows $rows --expect "$expect" >"$test_tmp/commits.out" \
    2>"$test_tmp/commits.err" || fail "iceberg_row_delta: $(cat "$test_tmp/commits.err")"
pass "three commits (append, overwrite, delete) committed: $(tr '\n' ' ' <"$test_tmp/commits.out" | sed 's/metadata=[^ ]* //g')"
table_url="file://$lake/shop/items"

# icebird: the rows that survive each commit, read at that commit's metadata file.
for k in 0 1 2; do
    meta=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["commits"][int(sys.argv[2])]["metadata"].rsplit("/",1)[1])' \
        "$expect" $k)
    node "$e2e/tools/icebird_read.mjs" "$table_url" "$meta" >"$test_tmp/read$k.json" 2>"$test_tmp/read$k.err" ||
        fail "icebird could not read $meta: $(cat "$test_tmp/read$k.err")"
    python3 - "$test_tmp/read$k.json" "$expect" $k <<'EOF' || fail "icebird reads other rows than survive commit $((k + 1))"
import json, sys
got = json.load(open(sys.argv[1]))
commit = json.load(open(sys.argv[2]))["commits"][int(sys.argv[3])]
assert got["snapshots"] == int(sys.argv[3]) + 1, got["snapshots"]
g = sorted((int(r["id"]), r["name"]) for r in got["rows"])
w = sorted((r["id"], r["name"]) for r in commit["surviving"])
assert len(g) == len(set(g)), "icebird returned a row twice"
assert g == w, f"icebird: {len(g)} rows, expected {len(w)}; extra {sorted(set(g) - set(w))[:5]}, missing {sorted(set(w) - set(g))[:5]}"
EOF
done
n1=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rows"]))' "$test_tmp/read1.json")
n2=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rows"]))' "$test_tmp/read2.json")
[ "$n2" -lt "$n1" ] && [ "$n1" -lt $((2 * rows)) ] || fail "the deletes removed nothing ($n1, $n2 of $((2 * rows)) rows)"
pass "icebird reads exactly the surviving rows at each commit: $rows, $n1, $n2 of $((2 * rows)) (deletes of the same commit's file applied)"

# DuckDB: each delete file's schema (field ids), order, and an independent merge-on-read.
python3 - "$expect" "$e2e" <<'EOF' || fail "DuckDB reads the delete files differently"
import json, subprocess, sys
from urllib.parse import unquote, urlparse
exp, e2e = json.load(open(sys.argv[1])), sys.argv[2]
def q(*sql):
    out = subprocess.run(["node", f"{e2e}/tools/duckdb_query.mjs", *sql], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)
local = lambda uri: unquote(urlparse(uri).path)
for i, uri in enumerate(exp["delete_files"]):
    p = local(uri)
    schema = {r["name"]: r for r in q(f"SELECT name, field_id, type, converted_type, repetition_type FROM parquet_schema('{p}')")}
    assert str(schema["file_path"]["field_id"]) == "2147483546" and schema["file_path"]["type"] == "BYTE_ARRAY", schema
    assert schema["file_path"]["converted_type"] == "UTF8" and schema["file_path"]["repetition_type"] == "REQUIRED", schema
    assert str(schema["pos"]["field_id"]) == "2147483545" and schema["pos"]["type"] == "INT64", schema
    assert schema["pos"]["repetition_type"] == "REQUIRED", schema
    rows = [(r["file_path"], int(r["pos"])) for r in q(f"SELECT file_path, pos FROM read_parquet('{p}')")]
    assert rows == sorted(rows) and len(rows) == len(set(rows)), f"delete file {i} is not sorted by file_path, pos"
    assert {f for f, _ in rows} <= set(exp["data_files"]), "a delete targets an unknown file"
    assert len(rows) == exp["commits"][i + 1]["deletes"], (len(rows), exp["commits"][i + 1]["deletes"])
data = ", ".join(f"'{local(u)}'" for u in exp["data_files"])
dels = ", ".join(f"'{local(u)}'" for u in exp["delete_files"])
ids = [int(r["id"]) for r in q(
    f"SELECT d.id FROM read_parquet([{data}], filename = true, file_row_number = true) d"
    f" WHERE NOT EXISTS (SELECT 1 FROM read_parquet([{dels}]) x"
    f"  WHERE x.file_path = 'file://' || d.filename AND x.pos = d.file_row_number) ORDER BY d.id")]
want = sorted(r["id"] for r in exp["commits"][2]["surviving"])
assert ids == want, f"DuckDB merge-on-read: {len(ids)} ids, expected {len(want)}"
EOF
pass "DuckDB: delete files carry file_path/pos with field ids 2147483546/2147483545, sorted; its own merge-on-read agrees"

# avsc: manifest lists and manifests; python: the metadata JSON.
python3 - "$lake/shop/items/metadata" "$table_url" "$expect" "$e2e" <<'EOF' || fail "the metadata or manifests are not what the spec requires"
import json, subprocess, sys
mdir, url, exp, e2e = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), sys.argv[4]
local = lambda uri: uri[len("file://"):]
def avro(uri):
    out = subprocess.run(["node", f"{e2e}/tools/avro_read.mjs", local(uri)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)
m = json.load(open(f"{mdir}/v4.metadata.json"))
assert m["format-version"] == 2 and m["last-sequence-number"] == 3 and m["last-column-id"] == 2
snaps = m["snapshots"]
assert [s["summary"]["operation"] for s in snaps] == ["append", "overwrite", "delete"]
assert [s["sequence-number"] for s in snaps] == [1, 2, 3]
assert [str(s["snapshot-id"]) for s in snaps] == [c["snapshot"] for c in exp["commits"]]
assert snaps[0]["snapshot-id"] == 1001 and snaps[2]["snapshot-id"] == 3003
assert snaps[1]["parent-snapshot-id"] == snaps[0]["snapshot-id"] and snaps[2]["parent-snapshot-id"] == snaps[1]["snapshot-id"]
assert m["current-snapshot-id"] == snaps[2]["snapshot-id"]
n, d1, d2 = exp["rows"], exp["commits"][1]["deletes"], exp["commits"][2]["deletes"]
s1, s2, s3 = (s["summary"] for s in snaps)
want = [
    (s1, {"added-data-files": "1", "added-records": str(n), "total-data-files": "1", "total-records": str(n),
          "total-delete-files": "0", "total-position-deletes": "0", "total-equality-deletes": "0",
          "sluice.seq": "1", "sluice.lsn": "0/1000"}),
    (s2, {"added-data-files": "1", "added-records": str(n), "added-delete-files": "1",
          "added-position-delete-files": "1", "added-position-deletes": str(d1), "total-data-files": "2",
          "total-records": str(2 * n), "total-delete-files": "1", "total-position-deletes": str(d1),
          "total-equality-deletes": "0", "sluice.seq": "2", "sluice.lsn": "0/2000"}),
    (s3, {"added-delete-files": "1", "added-position-delete-files": "1", "added-position-deletes": str(d2),
          "total-data-files": "2", "total-records": str(2 * n), "total-delete-files": "2",
          "total-position-deletes": str(d1 + d2), "total-equality-deletes": "0", "sluice.seq": "3",
          "sluice.lsn": "0/3000"}),
]
for i, (s, w) in enumerate(want):
    for k, v in w.items():
        assert s.get(k) == v, f"snapshot {i + 1}: {k} = {s.get(k)}, expected {v}"
for k in ["added-position-deletes", "added-delete-files"]:
    assert k not in s1, f"the append's summary has {k}"
for k in ["added-data-files", "added-records"]:
    assert k not in s3, f"the delete's summary has {k}"
sizes = [int(s["added-files-size"]) for s in (s1, s2, s3)]
assert [int(s["total-files-size"]) for s in (s1, s2, s3)] == [sizes[0], sizes[0] + sizes[1], sum(sizes)]
assert sum(1 for s in snaps if s["summary"]["operation"] == "delete") == 1

# Manifest lists: the new manifests first, then the parent's, with inherited sequence numbers.
lists = [avro(s["manifest-list"])["records"] for s in snaps]
content_seq = lambda l: [(r["content"], int(r["sequence_number"]), str(r["added_snapshot_id"])) for r in l]
i1, i2, i3 = (str(s["snapshot-id"]) for s in snaps)
assert content_seq(lists[0]) == [(0, 1, i1)], content_seq(lists[0])
assert content_seq(lists[1]) == [(0, 2, i2), (1, 2, i2), (0, 1, i1)], content_seq(lists[1])
assert content_seq(lists[2]) == [(1, 3, i3), (0, 2, i2), (1, 2, i2), (0, 1, i1)], content_seq(lists[2])
assert [r["manifest_path"] for r in lists[2][1:]] == [r["manifest_path"] for r in lists[1]]
assert [int(r["added_rows_count"]) for r in lists[2]] == [d2, n, d1, n]
# Manifests: header content, entries of content 1 (position deletes), referenced_data_file.
man = [avro(r["manifest_path"]) for r in lists[2]]
assert [x["header"]["content"] for x in man] == ["deletes", "data", "deletes", "data"]
assert all(x["header"]["format-version"] == "2" for x in man)
e = [x["records"] for x in man]
assert [len(r) for r in e] == [1, 1, 1, 1]
assert [r[0]["data_file"]["content"] for r in e] == [1, 0, 1, 0]
assert all(r[0]["status"] == 1 and r[0]["sequence_number"] is None for r in e), "new entries must inherit"
assert [r[0]["data_file"]["file_path"] for r in e] == [exp["delete_files"][1], exp["data_files"][1],
                                                       exp["delete_files"][0], exp["data_files"][0]]
assert e[0][0]["data_file"]["referenced_data_file"] == exp["data_files"][0]
assert e[2][0]["data_file"]["referenced_data_file"] is None
assert [int(r[0]["data_file"]["record_count"]) for r in e] == [d2, n, d1, n]
bounds = {b["key"]: b["value"] for b in e[0][0]["data_file"]["lower_bounds"]}
assert bytes.fromhex(bounds[2147483546][4:]).decode() == exp["data_files"][0], "file_path lower bound"
EOF
pass "metadata: operations append/overwrite/delete, added-/total- delete counts; manifest lists carry content-1 manifests with their commit's sequence number"

# The check can fail: with the second delete file dropped from the last manifest list, icebird
# reads rows the table says are deleted.
python3 - "$lake/shop/items/metadata/v4.metadata.json" "$lake/shop/items/metadata/v99.metadata.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["snapshots"][2]["manifest-list"] = m["snapshots"][1]["manifest-list"]
json.dump(m, open(sys.argv[2], "w"))
EOF
node "$e2e/tools/icebird_read.mjs" "$table_url" v99.metadata.json >"$test_tmp/tampered.json" ||
    fail "icebird could not read the tampered metadata"
if python3 - "$test_tmp/tampered.json" "$expect" 2 <<'EOF' 2>/dev/null; then
import json, sys
got = json.load(open(sys.argv[1]))
commit = json.load(open(sys.argv[2]))["commits"][int(sys.argv[3])]
assert sorted(int(r["id"]) for r in got["rows"]) == sorted(r["id"] for r in commit["surviving"])
EOF
    fail "the check accepted a table whose last delete file was left out"
fi
pass "the check catches a table without its last delete file ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rows"]))' "$test_tmp/tampered.json") rows instead of $n2)"
