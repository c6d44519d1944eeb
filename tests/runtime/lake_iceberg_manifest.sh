#!/usr/bin/env bash
# Iceberg manifests and manifest lists against an independent Avro reader. tests/tools/
# iceberg_manifest_write (Sluice's writers: firmware/sinks/lake/avro_ocf, iceberg_manifest*)
# writes, from descriptions made by iceberg_manifest_cases.py, a v2 manifest and its manifest
# list per case: identity partitions (string, date, decimal) with nulls; data files with every
# statistics map (column sizes, value/null/NaN counts) and lower/upper bounds of every type
# (long, string, date, decimal up to 38 digits, double with -0.0, uuid, timestamptz, boolean,
# binary, float with Infinity, time, int); added, existing and deleted entries with inherited and
# explicit snapshot ids and sequence numbers beyond 2^53; split offsets, key metadata, sort order;
# a deletes manifest (position deletes with referenced_data_file, equality deletes with
# equality_ids) without a partition spec; null and deflate codecs, and blocks cut small.
# avsc (npm, tests/e2e/tools/avro_read.mjs) reads every file; the check recomputes, on its own,
# the expected header keys and values, every field id / element id / map key and value id of the
# schemas as the Iceberg spec lists them, every record value exactly (Appendix D bound bytes,
# the partition tuple, the manifest_file summary with sequence numbers assigned from the list and
# partition field summaries). Finally a corrupted sync marker is refused by avsc, and the check
# itself fails on a description that does not match the files.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
e2e="$SLUICE_REPO/tests/e2e"
tool="$SLUICE_BUILD_DIR/tests/iceberg_manifest_write"
cases="$(dirname "$0")/iceberg_manifest_cases.py"
[ -x "$tool" ] || fail "$tool is missing (built from tests/tools/iceberg_manifest_write.c)"
[ -f "$e2e/node_modules/avsc/package.json" ] ||
    fail "$e2e/node_modules/avsc is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
command -v node >/dev/null || fail "node is missing: run packaging/install-deps.sh --test"

dir=$test_tmp/iceberg
mkdir -p "$dir"
names=$(python3 "$cases" gen "$dir") || fail "could not generate the cases"
n=0
for c in $names; do
    "$tool" "$dir/$c/desc.json" "$dir/$c" 2>"$dir/$c.err" || fail "iceberg_manifest_write $c: $(cat "$dir/$c.err")"
    python3 "$cases" check "$dir" "$c" "$e2e" || fail "$c: avsc reads something else than was described"
    pass "$c: avsc reads the manifest ($(stat -c %s "$dir/$c/manifest.avro") bytes) and the manifest list exactly"
    n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n cases ran"

# The framing is checked by avsc: a corrupted sync marker after the first block is refused.
bad=$test_tmp/bad.avro
cp "$dir/partitioned_deflate/manifest.avro" "$bad"
sync_hex=$(node "$e2e/tools/avro_read.mjs" "$bad" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sync"])')
python3 - "$bad" "$sync_hex" <<'EOF'
import sys
path, sync = sys.argv[1], bytes.fromhex(sys.argv[2])
data = bytearray(open(path, "rb").read())
first = data.index(sync)                       # the header's
second = data.index(sync, first + 16)          # the end of the first block
data[second] ^= 0xff
open(path, "wb").write(data)
EOF
if node "$e2e/tools/avro_read.mjs" "$bad" >/dev/null 2>"$test_tmp/bad.err"; then
    fail "avsc accepted a file with a corrupted sync marker"
fi
pass "a corrupted sync marker is refused by avsc ($(head -c 120 "$test_tmp/bad.err"))"

# The check can fail: a description that no longer matches the files is caught.
cp -r "$dir/partitioned" "$dir/tampered"
python3 - "$dir/tampered/desc.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["manifest"]["entries"][0]["file"]["columns"][3]["upper"]["value"] = "12.35"
json.dump(d, open(sys.argv[1], "w"))
EOF
if python3 "$cases" check "$dir" tampered "$e2e" 2>"$test_tmp/tampered.err"; then
    fail "the check accepted files that do not match their description"
fi
grep -q "manifest entry 0" "$test_tmp/tampered.err" || fail "tampered: unexpected report: $(cat "$test_tmp/tampered.err")"
pass "the check reports a bound that differs from the description"
