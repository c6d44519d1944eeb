#!/usr/bin/env bash
# parquet_write: Sluice's Parquet writer against DuckDB's, on the same rows, in the same run.
# Builds tests/tools/parquet_write (Release) and writes N rows of a 10-column orders table
# (bigint, int, two strings of which one low-cardinality, decimal(12,2), timestamptz, boolean,
# int, double, a nullable string) with `parquet_write --bench`; DuckDB writes the same rows with
# COPY (SELECT ... FROM range(N)) TO 'f.parquet' (FORMAT parquet, COMPRESSION C)
# (bench/parquet_duckdb.mjs), with its default threads (all cores) and with one thread. Both
# time generation + encoding + writing, in R rounds that alternate the writers (each round: two
# runs per writer in one process, the faster kept); best and median of the rounds. DuckDB checks
# that the two files hold identical rows and column types. Prints the Markdown table of
# docs/BENCHMARKS.md ("Parquet writing"). Needs tests/e2e/node_modules (npm ci in tests/e2e).
#   bash bench/parquet_write.sh [--rows N] [--runs R] [--codecs "snappy zstd"] [--build DIR]
set -euo pipefail

rows=1000000
runs=3
codecs="snappy zstd"
build=
while [ $# -gt 0 ]; do
    case "$1" in
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --codecs) codecs=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;   # an existing Release build tree with the tests on
    -h | --help)
        sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
    *) echo "parquet_write: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ "$rows" =~ ^[1-9][0-9]*$ && "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "parquet_write: --rows and --runs must be positive integers" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }
tmp=$(mktemp -d /tmp/sluice-parquet-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

[ -f "$repo/tests/e2e/node_modules/@duckdb/node-api/package.json" ] ||
    die "tests/e2e/node_modules/@duckdb/node-api is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
if [ -z "$build" ]; then
    build=$repo/bench/build-parquet   # ignored by git through build*/
    say "building parquet_write (Release) in $build"
    mkdir -p "$build"
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSLUICE_TESTS=ON >"$build/bench-build.log" 2>&1 &&
        cmake --build "$build" -j"$(nproc)" --target parquet_write >>"$build/bench-build.log" 2>&1 ||
        { tail -30 "$build/bench-build.log" >&2; die "build failed (see $build/bench-build.log)"; }
fi
tool=$build/tests/parquet_write
[ -x "$tool" ] || die "no parquet_write at $tool"
grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$build/CMakeCache.txt" 2>/dev/null || say "warning: $build is not a Release build"
query() { node "$repo/tests/e2e/tools/duckdb_query.mjs" "$@"; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

cores=$(nproc)
table="| codec | writer | best (s) | per round (s) | rows/s (best) | file (MiB) | this / sluice, best (median) |
|---|---|---:|---|---:|---:|---:|"
for codec in $codecs; do
    # Rounds alternate the writers so that they share the machine's noise; each round runs each
    # writer twice in one process (the first run warms it up) and keeps the faster.
    declare -A times=() last=()
    for ((r = 1; r <= runs; r++)); do
        say "$codec: round $r/$runs: sluice, DuckDB ($cores threads), DuckDB (1 thread), $rows rows each"
        last[ours]=$("$tool" --bench "$rows" "$tmp/sluice.parquet" --codec "$codec" --runs 2) || die "parquet_write --bench failed"
        last[duck]=$(node "$repo/bench/parquet_duckdb.mjs" "$rows" "$tmp/duckdb.parquet" "$codec" 2 "$cores") || die "DuckDB failed"
        last[duck1]=$(node "$repo/bench/parquet_duckdb.mjs" "$rows" "$tmp/duckdb1.parquet" "$codec" 2 1) || die "DuckDB failed"
        for k in ours duck duck1; do times[$k]+="$(field best_s "${last[$k]}") "; done
    done

    # Same rows, same types: every row of each file is in the other (as a multiset).
    diff=$(query "SET TimeZone = 'UTC'" "SELECT
        (SELECT count(*) FROM (SELECT * FROM read_parquet('$tmp/sluice.parquet') EXCEPT ALL SELECT * FROM read_parquet('$tmp/duckdb.parquet'))) +
        (SELECT count(*) FROM (SELECT * FROM read_parquet('$tmp/duckdb.parquet') EXCEPT ALL SELECT * FROM read_parquet('$tmp/sluice.parquet'))) AS d,
        (SELECT count(*) FROM read_parquet('$tmp/sluice.parquet')) AS n") || die "DuckDB could not compare the files"
    [ "$diff" = "[{\"d\":\"0\",\"n\":\"$rows\"}]" ] || die "the files differ: $diff"
    t1=$(query "SELECT string_agg(column_type, ',') AS t FROM (DESCRIBE SELECT * FROM read_parquet('$tmp/sluice.parquet'))")
    t2=$(query "SELECT string_agg(column_type, ',') AS t FROM (DESCRIBE SELECT * FROM read_parquet('$tmp/duckdb.parquet'))")
    [ "$t1" = "$t2" ] || die "column types differ: sluice $t1, DuckDB $t2"
    say "$codec: both files hold the same $rows rows with the same types"

    stat() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk -v w="$2" '{ v[NR] = $1 } END { print (w == "best" ? v[1] : v[int((NR + 1) / 2)]) }'; }
    ours_best=$(stat "${times[ours]}" best) ours_med=$(stat "${times[ours]}" median)
    for w in "sluice parquet_writer (1 thread)|ours" "DuckDB COPY ($cores threads)|duck" "DuckDB COPY (1 thread)|duck1"; do
        name=${w%%|*} k=${w#*|}
        best=$(stat "${times[$k]}" best) med=$(stat "${times[$k]}" median)
        ratio=$(awk -v a="$best" -v b="$ours_best" -v c="$med" -v d="$ours_med" 'BEGIN { printf "%.2fx (%.2fx)", a / b, c / d }')
        rps=$(awk -v n="$rows" -v t="$best" 'BEGIN { printf "%.0f", n / t }')
        mib=$(awk -v b="$(field bytes "${last[$k]}")" 'BEGIN { printf "%.1f", b / 1048576 }')
        table+="
| $codec | $name | $best | ${times[$k]% } | $rps | $mib | $ratio |"
    done
done
echo "$table"
echo
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD -- firmware 2>/dev/null || commit="$commit+changes"
echo "sluice $commit, $rows rows, $runs rounds," \
    "$cores x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "this / sluice = this writer's time / sluice's time, best and (median) of the rounds (above 1: sluice is faster)"
