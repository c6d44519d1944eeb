#!/usr/bin/env bash
# README command 1: installs what is missing, builds sluice and runs `sluice demo`
# (a private PostgreSQL 15 with a live workload and the appliance; console on 127.0.0.1:8080).
# Extra arguments go to `sluice demo` (see `sluice demo --help`). Ctrl-C stops everything.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
bash "$top/packaging/install-deps.sh" --build
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TESTS=OFF >/dev/null
cmake --build "$top/build" -j"$(nproc)"
exec "$top/build/sluice" demo "$@"
