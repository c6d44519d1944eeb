# Helpers for tests against an S3 API (sourced after lib.bash): s3rver (files under $s3_data)
# behind tests/e2e/tools/s3_sigcheck.mjs, which recomputes every request's SigV4 with
# @smithy/signature-v4 and refuses mismatches, and injects faults through its control port.
# Missing peers fail the test: nothing here skips silently.
: "${SLUICE_REPO:?SLUICE_REPO must point to the source tree (ctest sets it)}"
e2e="$SLUICE_REPO/tests/e2e"
command -v node >/dev/null 2>&1 || fail "node not found: run packaging/install-deps.sh --test"
command -v python3 >/dev/null 2>&1 || fail "python3 not found"
command -v curl >/dev/null 2>&1 || fail "curl not found"
for pkg in s3rver @smithy/signature-v4 @aws-crypto/sha256-js @smithy/core; do
    [ -f "$e2e/node_modules/$pkg/package.json" ] ||
        fail "$e2e/node_modules/$pkg is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
done

s3_ak=AKIDSLUICETEST000001
s3_sk='sluice/Secret+Key=with/odd+chars0123'
s3_region=eu-west-3
s3_bucket=sluice-lake

# s3_start: start s3rver and the signature check in front of it; sets s3_port (the S3 endpoint
# is http://127.0.0.1:$s3_port), s3_ctl (control URL), s3_data (s3rver's directory; an object is
# the file $s3_data/$s3_bucket/<key>._S3rver_object).
s3_start() {
    local i
    s3rver_port=$(free_port)
    s3_port=$(free_port)
    s3_ctl_port=$(free_port)
    while [ "$s3_ctl_port" = "$s3_port" ] || [ "$s3_ctl_port" = "$s3rver_port" ] || [ "$s3_port" = "$s3rver_port" ]; do
        s3_ctl_port=$(free_port)
        s3_port=$(free_port)
    done
    s3_data="$test_tmp/s3rver"
    mkdir -p "$s3_data"
    node --openssl-legacy-provider "$e2e/node_modules/s3rver/bin/s3rver.js" -d "$s3_data" -a 127.0.0.1 -p "$s3rver_port" -s \
        --configure-bucket "$s3_bucket" >"$test_tmp/s3rver.log" 2>&1 &
    test_pids+=($!)
    s3_proxy_start
    for ((i = 0; i < 100; i++)); do
        [ -d "$s3_data/$s3_bucket" ] && (exec 3<>"/dev/tcp/127.0.0.1/$s3rver_port") 2>/dev/null && break
        sleep 0.1
    done
    [ -d "$s3_data/$s3_bucket" ] || { cat "$test_tmp/s3rver.log"; fail "s3rver did not start"; }
}

# s3_proxy_start / s3_proxy_stop: the signature check alone (stopping it is an outage: the
# endpoint refuses connections; starting it again reuses the same ports).
s3_proxy_start() {
    node "$e2e/tools/s3_sigcheck.mjs" --port "$s3_port" --control "$s3_ctl_port" --upstream "http://127.0.0.1:$s3rver_port" \
        --access-key "$s3_ak" --secret "$s3_sk" --region "$s3_region" --vhost-base localhost \
        --log "$test_tmp/requests.jsonl" >>"$test_tmp/sigcheck.log" 2>&1 &
    s3_proxy_pid=$!
    test_pids+=("$s3_proxy_pid")
    s3_ctl="http://127.0.0.1:$s3_ctl_port"
    wait_http "$s3_ctl/stats" 20 || { cat "$test_tmp/sigcheck.log"; fail "s3_sigcheck did not start"; }
}
s3_proxy_stop() {
    kill "$s3_proxy_pid" 2>/dev/null || true
    wait "$s3_proxy_pid" 2>/dev/null || true
}

# s3_control PATH JSON: a control request (e.g. s3_control fault '{"kind":"status","count":3}').
s3_control() {
    curl -sf -XPOST "$s3_ctl/$1" -d "$2" >/dev/null || fail "s3_sigcheck control $1 $2 failed"
}

# s3_stat NAME: one counter of the signature check (requests, sig_ok, sig_fail, faults, ...).
s3_stat() {
    curl -sf "$s3_ctl/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
