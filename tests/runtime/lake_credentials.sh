#!/usr/bin/env bash
# The credential chain's network sources against loopback endpoints served by an independent
# implementation (tests/e2e/tools/aws_metadata_server.mjs, node:http):
#   IMDSv2: the token PUT comes first and carries the TTL header; the server refuses requests
#     without a token, and our client never sends one; the role lookup, then the role's
#     credentials; the key comes back; with simulated time, the next set is fetched only when
#     due (AWS_CREDENTIALS_REFRESH_S before the expiry); a failed refresh keeps the valid set and
#     fails once it has expired.
#   Container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI on the agent address, the full
#     URI with the Authorization token from the variable and from the token file, a wrong or
#     missing token refused (and no fall-back to the instance role), a non-loopback full URI
#     never contacted.
# The client is test_aws_credentials_provider's `get` mode (aws_credentials_provider over the
# real chain, from the environment given here). Secrets never appear in what it prints.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
: "${SLUICE_REPO:?SLUICE_REPO must point to the source tree (ctest sets it)}"
: "${SLUICE_BUILD_DIR:?SLUICE_BUILD_DIR must point to the build tree (ctest sets it)}"

command -v node >/dev/null 2>&1 || fail "node not found: run packaging/install-deps.sh --test"
command -v curl >/dev/null 2>&1 || fail "curl not found: run packaging/install-deps.sh --test"
server_js="$SLUICE_REPO/tests/e2e/tools/aws_metadata_server.mjs"
driver="$SLUICE_BUILD_DIR/tests/test_aws_credentials_provider"
[ -x "$driver" ] || fail "$driver is missing: build the tests"
[ -f "$server_js" ] || fail "$server_js is missing"

refresh_s=$(sed -n 's/^#define AWS_CREDENTIALS_REFRESH_S \([0-9][0-9]*\)$/\1/p' \
    "$SLUICE_REPO/firmware/aws/aws_credentials_provider.h")
[ -n "$refresh_s" ] || fail "AWS_CREDENTIALS_REFRESH_S not found in aws_credentials_provider.h"
e1=2000000000          # first set's expiry (2033-05-18T03:33:20Z)
e2=$((e1 + 3600))      # the second set's

# start_server NAME ARGS...: run the metadata server; its port in $port, its log in $log.
start_server() {
    local name=$1 i
    shift
    log="$test_tmp/$name.log"
    : >"$log"
    rm -f "$test_tmp/$name.port"
    node "$server_js" --port-file "$test_tmp/$name.port" --log "$log" "$@" 2>"$test_tmp/$name.err" &
    test_pids+=($!)
    disown $!   # killed by test_cleanup, without a "Killed" line
    for ((i = 0; i < 100; i++)); do
        [ -s "$test_tmp/$name.port" ] && break
        sleep 0.1
    done
    port=$(cat "$test_tmp/$name.port" 2>/dev/null || true)
    [ -n "$port" ] || fail "$name metadata server did not start: $(cat "$test_tmp/$name.err")"
}

# drive OUT ENV... -- ARGS...: the driver with only ENV (plus the sanitizer options) in its
# environment; its stdout in OUT, stderr in OUT.err. Fails the test if it crashes.
drive() {
    local out=$1 envs=()
    shift
    while [ "$1" != "--" ]; do
        envs+=("$1")
        shift
    done
    shift
    env -i HOME="$test_tmp/home" PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
        "${envs[@]}" "$driver" get --timeout-ms 3000 "$@" >"$out" 2>"$out.err" ||
        fail "the driver failed ($*): $(cat "$out.err")"
    if grep -q -e SECRETVALUE -e SESSIONVALUE "$out" "$out.err"; then
        fail "a secret access key or session token was printed: $(cat "$out")"
    fi
}

# expect_line FILE N PATTERN: line N of FILE matches the extended regular expression PATTERN.
expect_line() {
    local line
    line=$(sed -n "$2p" "$1")
    [[ "$line" =~ $3 ]] || fail "$(basename "$1") line $2: wanted /$3/, got '$line' (whole file: $(cat "$1"))"
}

expect_lines() {
    local n
    n=$(wc -l <"$1")
    [ "$n" -eq "$2" ] || fail "$(basename "$1"): wanted $2 lines, got $n: $(cat "$1")"
}

mkdir -p "$test_tmp/home"

# ---- IMDSv2 ----
start_server imds --expires "$e1,$e2" --fail-after 2
imds="http://127.0.0.1:$port"
out="$test_tmp/imds.out"
# due at e1-refresh_s: the calls just before and at that point tell whether the refresh is early
drive "$out" -- --imds "$imds" \
    $((e1 - 1000)) $((e1 - refresh_s - 1)) $((e1 - refresh_s)) $((e1 - 1)) $((e2 - refresh_s - 1)) \
    $((e2 - refresh_s)) $((e2 - 1)) "$e2"
cp "$log" "$test_tmp/imds.client.log"
cat "$out"
expect_lines "$out" 10
who="source=instance role$"
expect_line "$out" 1 "^ok now=$((e1 - 1000)) key=ASIAIMDS0001 expires=$e1 token=yes $who"
expect_line "$out" 2 "^ok now=$((e1 - refresh_s - 1)) key=ASIAIMDS0001 expires=$e1 "
expect_line "$out" 3 "^ok now=$((e1 - refresh_s)) key=ASIAIMDS0002 expires=$e2 token=yes $who"
expect_line "$out" 4 "^ok now=$((e1 - 1)) key=ASIAIMDS0002 expires=$e2 "
expect_line "$out" 5 "^ok now=$((e2 - refresh_s - 1)) key=ASIAIMDS0002 expires=$e2 "
# the third document is refused (--fail-after 2): the cached set while it is valid, then an error
expect_line "$out" 6 "^ok now=$((e2 - refresh_s)) key=ASIAIMDS0002 expires=$e2 "
expect_line "$out" 7 "^refresh-error now=$((e2 - refresh_s)) .*instance role \\(IMDS $imds\\): GET /latest/meta-data/iam/security-credentials/sluice-test-role: HTTP 500"
expect_line "$out" 8 "^ok now=$((e2 - 1)) key=ASIAIMDS0002 expires=$e2 "
expect_line "$out" 9 "^refresh-error now=$((e2 - 1)) "
expect_line "$out" 10 "^error now=$e2 no AWS credentials found; tried settings: .*HTTP 500"
pass "IMDSv2: the key comes back; the next set is fetched at expiry - ${refresh_s}s and not a second earlier; a failed refresh keeps the valid set, then fails at expiry"

# each fetch is token PUT (with the TTL header, no token), role list, role credentials, both
# with a valid token: 2 good fetches and 3 failing refreshes (at e2-refresh_s, e2-1, e2)
clog="$test_tmp/imds.client.log"
expect_lines "$clog" 15
role_re="^GET /latest/meta-data/iam/security-credentials/sluice-test-role ttl=none token=valid auth=none"
for ((f = 0; f < 5; f++)); do
    expect_line "$clog" $((3 * f + 1)) "^PUT /latest/api/token ttl=21600 token=none auth=none status=200$"
    expect_line "$clog" $((3 * f + 2)) "^GET /latest/meta-data/iam/security-credentials/ ttl=none token=valid auth=none status=200$"
    expect_line "$clog" $((3 * f + 3)) "$role_re status=$([ $f -lt 2 ] && echo 200 || echo 500)$"
done
if grep -v '^PUT /latest/api/token ' "$clog" | grep -q -v ' token=valid '; then
    fail "the client sent a metadata request without a valid token: $(cat "$clog")"
fi
pass "IMDSv2 wire: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds first, then the role lookup and the credentials, always with the token"

# the server itself refuses what IMDSv2 refuses (so the checks above could fail)
role_url="$imds/latest/meta-data/iam/security-credentials/"
code=$(curl -s -o /dev/null -w '%{http_code}' "$role_url")
[ "$code" = 401 ] || fail "IMDS without a token answered $code, not 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-aws-ec2-metadata-token: forged' "$role_url")
[ "$code" = 401 ] || fail "IMDS with a forged token answered $code, not 401"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$imds/latest/api/token")
[ "$code" = 400 ] || fail "a token PUT without the TTL header answered $code, not 400"
token=$(curl -s -f -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token") ||
    fail "a token PUT with the TTL header was refused"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-aws-ec2-metadata-token: $token" "$role_url")
[ "$code" = 200 ] || fail "IMDS with a token answered $code, not 200"
pass "the loopback IMDS refuses requests without a token (401) and token PUTs without a TTL (400)"

# no fall-back to IMDSv1: a service without the token API is not asked for credentials
start_server imdsv1 --v1-only 1
v1_log=$log
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/latest/meta-data/iam/security-credentials/")
[ "$code" = 200 ] || fail "the IMDSv1-only server answered $code without a token, not 200"
: >"$v1_log"
out="$test_tmp/imdsv1.out"
drive "$out" -- --imds "http://127.0.0.1:$port" "$e1"
expect_lines "$out" 1
expect_line "$out" 1 "^error now=$e1 .*instance role \\(IMDS http://127.0.0.1:$port\\): PUT /latest/api/token: HTTP 404"
expect_lines "$v1_log" 1
expect_line "$v1_log" 1 "^PUT /latest/api/token ttl=21600 "
pass "no IMDSv1 fall-back: when the token PUT fails, no metadata is requested without a token"

# ---- container credentials ----
start_server container --expires "$e1" --container-path /v2/credentials/task-1 \
    --container-full-path /pod/creds --container-token "Bearer tok-123"
base="http://127.0.0.1:$port"
clog=$log

out="$test_tmp/relative.out"
drive "$out" AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/task-1 -- \
    --container-endpoint "$base" --imds "$base" $((e1 - 1000)) $((e1 - refresh_s - 1))
expect_lines "$out" 2
expect_line "$out" 1 "^ok now=$((e1 - 1000)) key=ASIACONT0001 expires=$e1 token=yes source=container$"
expect_line "$out" 2 "^ok now=$((e1 - refresh_s - 1)) key=ASIACONT0001 "
expect_lines "$clog" 1
expect_line "$clog" 1 "^GET /v2/credentials/task-1 ttl=none token=none auth=none status=200$"
pass "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI fetched once from the agent address (no IMDS request)"

out="$test_tmp/full.out"
full="$base/pod/creds"
drive "$out" AWS_CONTAINER_CREDENTIALS_FULL_URI="$full" AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer tok-123" -- \
    --imds "$base" $((e1 - 1000))
expect_line "$out" 1 "^ok now=$((e1 - 1000)) key=ASIACONT0002 expires=$e1 token=yes source=container$"
printf 'Bearer tok-123\n' >"$test_tmp/token"
drive "$out" AWS_CONTAINER_CREDENTIALS_FULL_URI="$full" AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer wrong" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$test_tmp/token" -- --imds "$base" $((e1 - 1000))
expect_line "$out" 1 "^ok now=$((e1 - 1000)) key=ASIACONT0003 expires=$e1 token=yes source=container$"
expect_lines "$clog" 3
expect_line "$clog" 2 "^GET /pod/creds ttl=none token=none auth=ok status=200$"
expect_line "$clog" 3 "^GET /pod/creds ttl=none token=none auth=ok status=200$"
pass "container: AWS_CONTAINER_CREDENTIALS_FULL_URI with the token from AWS_CONTAINER_AUTHORIZATION_TOKEN and from the token file (which wins)"

out="$test_tmp/wrong.out"
drive "$out" AWS_CONTAINER_CREDENTIALS_FULL_URI="$full" AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer wrong-tok" -- \
    --imds "$base" $((e1 - 1000))
expect_line "$out" 1 "^error now=$((e1 - 1000)) container credentials \\($full\\): GET /pod/creds: HTTP 403 \\(the instance role is not tried"
grep -q 'wrong-tok' "$out" && fail "the token appeared in the error: $(cat "$out")"
drive "$out" AWS_CONTAINER_CREDENTIALS_FULL_URI="$full" -- --imds "$base" $((e1 - 1000))
expect_line "$out" 1 "^error now=$((e1 - 1000)) container credentials \\($full\\): GET /pod/creds: HTTP 401 "
expect_lines "$clog" 5
expect_line "$clog" 4 "^GET /pod/creds ttl=none token=none auth=wrong status=403$"
expect_line "$clog" 5 "^GET /pod/creds ttl=none token=none auth=none status=401$"
pass "container: a wrong token is refused (403), a missing one too (401); reported without the token, no fall-back to IMDS"

out="$test_tmp/remote.out"
drive "$out" AWS_CONTAINER_CREDENTIALS_FULL_URI="http://192.0.2.10:$port/pod/creds" \
    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer tok-123" -- --imds "$base" $((e1 - 1000))
expect_line "$out" 1 "^error now=$((e1 - 1000)) container credentials .*host 192.0.2.10 is not allowed over http"
expect_lines "$clog" 5
pass "container: a full URI outside loopback is refused before any request"

code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$full")
[ "$code" = 403 ] || fail "the container endpoint answered $code to a wrong token, not 403"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tok-123' "$full")
[ "$code" = 200 ] || fail "the container endpoint answered $code to the right token, not 200"
pass "the loopback container endpoint refuses a wrong token and accepts the right one"
