#!/usr/bin/env bash
# The optimized builds compile warning-free: the demo's (README command 1, packaging/demo.sh)
# and Release, which the benchmarks in bench/ build. The suite itself builds with sanitizers at
# low optimization, where GCC does not report what it finds at -O2/-O3 (maybe-uninitialized, ...),
# and the build uses -Werror. Builds the sluice binary with each build type in its own tree and
# checks that it runs.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
demo=$(grep -o -- '-DCMAKE_BUILD_TYPE=[A-Za-z]*' "$SLUICE_REPO/packaging/demo.sh" | head -1)
[ -n "$demo" ] || fail "packaging/demo.sh names no CMAKE_BUILD_TYPE"
for type in "$demo" -DCMAKE_BUILD_TYPE=Release; do
    build="$SLUICE_BUILD_DIR/optimized-check-${type#*=}"
    cmake -S "$SLUICE_REPO" -B "$build" "$type" -DSLUICE_TESTS=OFF >"$test_tmp/configure.log" 2>&1 ||
        { cat "$test_tmp/configure.log"; fail "configure ($type) failed"; }
    cmake --build "$build" -j2 --target sluice >"$test_tmp/build.log" 2>&1 ||
        { grep -E "error|warning" "$test_tmp/build.log" | head -40; fail "the build ($type) failed"; }
    if grep -q "warning:" "$test_tmp/build.log"; then
        grep "warning:" "$test_tmp/build.log" | head -20
        fail "the build ($type) has warnings"
    fi
    "$build/sluice" --help >"$test_tmp/help.txt" 2>&1 || true
    grep -q "sluice" "$test_tmp/help.txt" || { cat "$test_tmp/help.txt"; fail "the $type binary does not run"; }
    pass "the build ($type) compiles without warnings and runs"
done
