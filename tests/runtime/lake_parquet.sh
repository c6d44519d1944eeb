#!/usr/bin/env bash
# Parquet writer against independent readers. tests/tools/parquet_write (Sluice's writer,
# firmware/sinks/lake/parquet_*) writes files from descriptions made by parquet_cases.py: every
# type (boolean, int32, int64, float, double, decimal stored as INT32/INT64/FIXED, string, binary,
# uuid, date, time, timestamp, timestamptz), nulls (all-null and no-null columns), empty strings,
# unicode, a 300 KB binary, extreme values (INT64 min/max, decimals at precision 38, negative
# decimals, NaN/inf/-0.0, dates before 1970 and at 0001/9999, timestamps with microseconds),
# with each codec (none, snappy, zstd), dictionary on and off, several row groups and pages, a
# dictionary that overflows into PLAIN pages, and an empty file. DuckDB (@duckdb/node-api) and
# hyparquet (+ hyparquet-compressors) then read every value back exactly, and show the field ids,
# logical/converted types, codecs, encodings and per-row-group statistics that were written.
# Finally malformed input (a NULL in a required column, an out-of-range decimal, a value of the
# wrong type) is refused with a clear reason and leaves no file behind.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
e2e="$SLUICE_REPO/tests/e2e"
tool="$SLUICE_BUILD_DIR/tests/parquet_write"
cases="$(dirname "$0")/parquet_cases.py"
[ -x "$tool" ] || fail "$tool is missing (built from tests/tools/parquet_write.c)"
for pkg in @duckdb/node-api hyparquet hyparquet-compressors; do
    [ -f "$e2e/node_modules/$pkg/package.json" ] ||
        fail "$e2e/node_modules/$pkg is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
done

dir=$test_tmp/parquet
mkdir -p "$dir"
names=$(python3 "$cases" gen "$dir") || fail "could not generate the cases"
n=0
for c in $names; do
    "$tool" "$dir/$c.json" "$dir/$c.parquet" --info "$dir/$c.info.json" 2>"$dir/$c.err" ||
        fail "parquet_write $c: $(cat "$dir/$c.err")"
    [ ! -e "$dir/$c.parquet.tmp" ] || fail "$c: temporary file left behind"
    python3 "$cases" check "$dir" "$c" "$e2e" || fail "$c: the readers disagree with what was written"
    n=$((n + 1))
done
[ "$n" -ge 9 ] || fail "only $n cases ran"
pass "DuckDB and hyparquet read all $n files exactly, with the schema, statistics and encodings written"

# Malformed input: a clear reason, exit status 1, no file.
bad() {   # bad NAME EXPECTED-REASON SCHEMA-JSON ROWS-JSON
    local name=$1 want=$2
    printf '{"schema": %s, "options": {"codec": "zstd"}, "rows": %s}\n' "$3" "$4" >"$dir/$name.json"
    if "$tool" "$dir/$name.json" "$dir/$name.parquet" 2>"$dir/$name.err"; then
        fail "$name: accepted"
    fi
    grep -q -- "$want" "$dir/$name.err" || fail "$name: reason '$(cat "$dir/$name.err")', expected '$want'"
    [ ! -e "$dir/$name.parquet" ] && [ ! -e "$dir/$name.parquet.tmp" ] || fail "$name: a file was left behind"
    pass "$name: refused ($(cat "$dir/$name.err"))"
}
schema='[{"name": "id", "type": "int64", "field_id": 1},
         {"name": "amount", "type": "decimal", "precision": 5, "scale": 2, "field_id": 2, "optional": true}]'
bad null_required "row 2: column id is required: NULL value" "$schema" '[[1, "1.00"], [2, null], [null, "3.00"]]'
bad decimal_range "row 1: column amount: decimal value out of range for precision 5" "$schema" '[[1, "999.99"], [2, "1000.00"]]'
bad decimal_scale "row 0: '1.005' has more than 2 fraction digits" "$schema" '[[1, "1.005"]]'
bad wrong_type "row 0: column id: cannot read this JSON value as int64" "$schema" '[["x", "1.00"]]'
