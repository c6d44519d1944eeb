#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs and that are missing: --build (compile and run,
# including the demo's PostgreSQL 15) or --test (all of --build plus the test peers).
# Used by packaging/demo.sh, tests/run.sh and therefore .ci/run. Must run as root.
set -euo pipefail

mode=${1:---build}
build_pkgs=(build-essential cmake pkg-config git ca-certificates
    libpq-dev librdkafka-dev libcivetweb-dev libsqlite3-dev libmbedtls-dev liblua5.4-dev
    libjansson-dev zlib1g-dev libzstd-dev libsnappy-dev libavro-dev
    postgresql-15 postgresql-client-15)
test_pkgs=(libcmocka-dev sqlite3 curl kcat prometheus chromium nodejs npm clang libclang-rt-14-dev openssl python3)

case "$mode" in
--build) want=("${build_pkgs[@]}") ;;
--test) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
-h | --help)
    echo "usage: packaging/install-deps.sh [--build|--test]"
    exit 0
    ;;
*)
    echo "install-deps: unknown mode '$mode' (use --build or --test)" >&2
    exit 2
    ;;
esac

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root (packages are installed with apt-get)" >&2
    exit 1
fi

missing=()
for p in "${want[@]}"; do
    # nodejs/npm: a Node.js already on PATH (e.g. from another source) serves as well.
    if { [ "$p" = nodejs ] || [ "$p" = npm ]; } && command -v "${p/nodejs/node}" >/dev/null 2>&1; then
        continue
    fi
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The browser tests' npm packages, from the committed lock file.
if [ "$mode" = --test ] && [ -f "$(dirname "$0")/../tests/e2e/package-lock.json" ]; then
    e2e="$(cd "$(dirname "$0")/../tests/e2e" && pwd)"
    if [ ! -d "$e2e/node_modules" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules/.package-lock.json" ]; then
        echo "install-deps: npm ci in tests/e2e"
        (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi
echo "install-deps: all $mode packages present"
