#!/usr/bin/env bash
# The SigV4 and MSK IAM constants in tests/unit/test_aws_sigv4.c and tests/unit/test_aws_msk_iam.c
# are exactly what the independent signer prints: re-run tests/e2e/tools/sigv4_vectors.mjs
# (@smithy/signature-v4) and compare its "name value" lines with the files' {"name", "value"} rows.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
: "${SLUICE_REPO:?SLUICE_REPO must point to the source tree (ctest sets it)}"

e2e="$SLUICE_REPO/tests/e2e"
command -v node >/dev/null 2>&1 || fail "node not found: run packaging/install-deps.sh --test"
for pkg in @smithy/signature-v4 @aws-crypto/sha256-js @aws-sdk/util-format-url @smithy/core; do
    [ -f "$e2e/node_modules/$pkg/package.json" ] ||
        fail "$e2e/node_modules/$pkg is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
done

node "$e2e/tools/sigv4_vectors.mjs" >"$test_tmp/signer.raw" || fail "sigv4_vectors.mjs failed"
LC_ALL=C sort "$test_tmp/signer.raw" >"$test_tmp/signer.txt"
sed -n 's/^    {"\([a-z0-9_]*\)", "\([^"]*\)"},$/\1 \2/p' \
    "$SLUICE_REPO/tests/unit/test_aws_sigv4.c" "$SLUICE_REPO/tests/unit/test_aws_msk_iam.c" |
    LC_ALL=C sort >"$test_tmp/constants.txt"

n=$(wc -l <"$test_tmp/signer.txt")
[ "$n" -ge 14 ] || fail "the signer printed only $n vectors"
if ! diff -u "$test_tmp/constants.txt" "$test_tmp/signer.txt"; then
    fail "the C test constants differ from @smithy/signature-v4's output (- C tests, + signer): regenerate them with node tests/e2e/tools/sigv4_vectors.mjs"
fi
pass "$n SigV4/MSK IAM vectors in the C tests equal @smithy/signature-v4's output"
