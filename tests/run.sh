#!/usr/bin/env bash
# README command 2 (and what .ci/run calls): installs what the tests need, builds sluice and
# the tests with AddressSanitizer + UndefinedBehaviorSanitizer, and runs the whole suite with
# ctest. Arguments go to ctest (e.g. `-L unit`).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
build="$top/build-test"
bash "$top/packaging/install-deps.sh" --test
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
exec ctest --output-on-failure --timeout 900 -j2 "$@"
