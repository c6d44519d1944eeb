#!/usr/bin/env bash
# docs/CONFIGURATION.md is exactly what `sluice config reference` generates from the config maps.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
"$SLUICE_BIN" config reference >"$test_tmp/reference.md"
if ! diff -u "$SLUICE_REPO/docs/CONFIGURATION.md" "$test_tmp/reference.md"; then
    fail "docs/CONFIGURATION.md is stale: regenerate with 'sluice config reference > docs/CONFIGURATION.md'"
fi
grep -q '^| `console.listen` | host:port' "$test_tmp/reference.md" || fail "reference lacks console.listen"
pass "configuration reference is current"
