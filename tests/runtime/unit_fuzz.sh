#!/usr/bin/env bash
# Short libFuzzer runs of every target in tests/fuzz (clang, ASan + UBSan): the parsers must
# survive arbitrary input. Each target runs FUZZ_SECONDS (default 30) from its seed corpus.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
command -v clang >/dev/null || fail "clang is missing (packaging/install-deps.sh --test installs it)"
build="$SLUICE_BUILD_DIR/fuzz"
CC=clang cmake -S "$SLUICE_REPO" -B "$build" -DSLUICE_FUZZ=ON -DSLUICE_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j2 >"$test_tmp/build.log" 2>&1 || { cat "$test_tmp/build.log"; fail "fuzz build failed"; }
n=0
for src in "$SLUICE_REPO"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    corpus="$test_tmp/corpus-$name"
    mkdir -p "$corpus"
    seeds="$SLUICE_REPO/tests/fuzz/corpus/${name#fuzz_}"
    [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/
    "$build/$name" -max_total_time="${FUZZ_SECONDS:-30}" -max_len=4096 -print_final_stats=1 "$corpus" \
        >"$test_tmp/$name.log" 2>&1 || { tail -50 "$test_tmp/$name.log"; fail "$name found a crash"; }
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$test_tmp/$name.log" | grep -o '[0-9]*$')
    [ "${runs:-0}" -gt 1000 ] || fail "$name executed only ${runs:-0} inputs"
    pass "$name: $runs inputs, no crash"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no fuzz targets found"
