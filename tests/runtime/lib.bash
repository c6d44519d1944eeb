# Shared helpers for the runtime test scripts (sourced by them, not a test itself): temp dirs, free ports,
# waiting for HTTP, failing loudly. Every script: set -euo pipefail; source lib.bash.
: "${SLUICE_BIN:?SLUICE_BIN must point to the sluice binary (ctest sets it)}"

test_tmp=$(mktemp -d /tmp/sluice-test.XXXXXX)
chmod 755 "$test_tmp"
test_pids=()

test_cleanup() {
    for pid in "${test_pids[@]:-}"; do
        [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$test_tmp"
}
trap test_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

pass() {
    echo "ok: $*"
}

# A TCP port nobody listens on right now.
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 12000))   # below the kernel's ephemeral range (32768+)
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# wait_http URL SECONDS [STATUS]: until URL answers with STATUS (default 200).
wait_http() {
    local url=$1 secs=$2 want=${3:-200} i code
    for ((i = 0; i < secs * 10; i++)); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
        [ "$code" = "$want" ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_exit PID SECONDS: wait for a child of this shell to exit and put its status in
# $exit_status (not in a subshell: only this shell can reap its children). 1 on timeout.
wait_exit() {
    local pid=$1 secs=$2 i
    exit_status=
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            exit_status=0
            wait "$pid" || exit_status=$?
            return 0
        fi
        sleep 0.1
    done
    return 1
}
