#!/usr/bin/env bash
# The S3 object store (firmware/objstore/objstore_s3.c) against a real S3 API: s3rver behind
# tests/e2e/tools/s3_sigcheck.mjs, which recomputes every request's SigV4 with
# @smithy/signature-v4 (and the body hash from the bytes that arrived) and refuses mismatches.
# tests/tools/objstore_s3_check drives randomized requests (keys with spaces, unicode, + = ? & %,
# empty and large bodies, multipart, listings over many pages, path-style and virtual-hosted,
# a key prefix, SSE headers) and checks each answer; then what was stored is checked
# independently: every object's bytes on s3rver's disk (python3) and fetched with curl
# --aws-sigv4 through the signature check. Wrong keys must be refused with the S3 error reported.
# Faults through the proxy's control port: 5xx bursts shorter and longer than max_retries,
# connection resets mid-upload (single and multipart), a response slower than the timeout, idle
# kept-alive connections closed by the server, and a store without conditional writes (501).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
: "${SLUICE_BUILD_DIR:?SLUICE_BUILD_DIR must point to the build tree (ctest sets it)}"

source "$(dirname "$0")/s3.bash"
check="$SLUICE_BUILD_DIR/tests/objstore_s3_check"
[ -x "$check" ] || fail "$check is missing (it is built from tests/tools/objstore_s3_check.c)"

ak=$s3_ak
sk=$s3_sk
region=$s3_region
bucket=$s3_bucket
s3_start
port=$s3_port
data=$s3_data
ctl=$s3_ctl

common=(--endpoint "http://127.0.0.1:$port" --bucket "$bucket" --region "$region" --access-key "$ak" --secret "$sk")
stat_of() { grep "^stats " "$2" | grep -o " $1=[0-9]*" | cut -d= -f2; }

# Every object of a manifest ("sha256 size url-encoded-key", keys under prefix) is on s3rver's
# disk with exactly those bytes, and nothing else is under the run's directory there.
verify_disk() {
    python3 - "$1" "$data/$bucket" "$2" <<'PY' || fail "s3rver's files differ from what the client put"
import hashlib, os, sys, urllib.parse
manifest, root, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
for line in open(manifest, encoding="ascii"):
    h, size, enc = line.split()
    key = prefix + urllib.parse.unquote(enc, errors="strict")
    path = os.path.join(root, key + "._S3rver_object")
    body = open(path, "rb").read()
    if len(body) != int(size) or hashlib.sha256(body).hexdigest() != h:
        sys.exit(f"{key!r}: {len(body)} bytes on disk, sha256 differs or size != {size}")
    n += 1
print(f"{n} objects on disk match")
PY
}

# Fetch objects of a manifest with curl's own SigV4 through the signature check.
verify_curl() {
    local manifest=$1 prefix_enc=$2 every=$3 n=0 h size enc got
    while read -r h size enc; do
        n=$((n + 1))
        [ $((n % every)) -eq 0 ] || continue
        got=$(curl -sf --aws-sigv4 "aws:amz:$region:s3" --user "$ak:$sk" \
            -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
            "http://127.0.0.1:$port/$bucket/$prefix_enc$enc" | sha256sum | cut -d' ' -f1) ||
            fail "curl --aws-sigv4 could not fetch $enc"
        [ "$got" = "$h" ] || fail "curl fetched different bytes for $enc"
    done <"$manifest"
}

# 1. Randomized requests, path-style, small list pages; one kept-alive connection throughout.
"$check" random "${common[@]}" --seed 11 --count 250 --page-keys 7 --manifest "$test_tmp/m1" \
    >"$test_tmp/r1.out" 2>&1 || { cat "$test_tmp/r1.out"; fail "randomized requests (path-style) failed"; }
cat "$test_tmp/r1.out"
[ "$(stat_of connects "$test_tmp/r1.out")" = 1 ] || fail "the client opened more than one connection (no keep-alive)"
[ "$(stat_of requests "$test_tmp/r1.out")" -gt 300 ] || fail "too few requests in the randomized run"
[ "$(s3_stat sig_fail)" = 0 ] || fail "the signature check refused some of the client's requests"
[ "$(wc -l <"$test_tmp/m1")" -gt 50 ] || fail "the randomized run left too few objects to check"
verify_disk "$test_tmp/m1" ""
verify_curl "$test_tmp/m1" "" 1
pass "randomized requests (path-style, $(stat_of requests "$test_tmp/r1.out") requests on one connection) verified on disk and with curl --aws-sigv4"

# 2. Virtual-hosted addressing (Host: sluice-lake.localhost), a key prefix with a space and
#    unicode, SSE-KMS headers on every new object.
"$check" random --endpoint "http://localhost:$port" --connect "127.0.0.1:$port" --path-style 0 --prefix "lake é" \
    --bucket "$bucket" --region "$region" --access-key "$ak" --secret "$sk" --sse aws:kms --kms-key alias/sluice \
    --seed 12 --count 120 --page-keys 5 --manifest "$test_tmp/m2" >"$test_tmp/r2.out" 2>&1 ||
    { cat "$test_tmp/r2.out"; fail "randomized requests (virtual-hosted, prefix, SSE) failed"; }
cat "$test_tmp/r2.out"
verify_disk "$test_tmp/m2" "lake é/"
verify_curl "$test_tmp/m2" "lake%20%C3%A9/" 3
python3 - "$test_tmp/requests.jsonl" <<'PY' || fail "virtual-hosted requests or SSE headers are not as configured"
import json, sys
vh = [json.loads(l) for l in open(sys.argv[1]) if '"sluice-lake.localhost' in l]
puts = [r for r in vh if r["method"] == "PUT" and "partNumber=" not in r["url"]]
creates = [r for r in vh if r["method"] == "POST" and "uploads" in r["url"]]
parts = [r for r in vh if "partNumber=" in r["url"]]
assert len(vh) > 100 and puts and creates and parts, (len(vh), len(puts), len(creates), len(parts))
assert all(r["sse"] == "aws:kms" and r["kms"] == "alias/sluice" for r in puts + creates), "SSE missing"
assert all(r["sse"] is None for r in parts), "SSE headers sent with UploadPart"
assert all(r["url"].startswith("/lake%20%C3%A9/") or (r["url"].startswith("/?") and "list-type=2" in r["url"] and "prefix=lake%20%C3%A9%2F" in r["url"]) for r in vh), "prefix"
print(f"{len(vh)} virtual-hosted requests, {len(puts) + len(creates)} with SSE-KMS headers")
PY
pass "virtual-hosted addressing, key prefix and SSE headers"

# 3. Wrong keys are refused, and the client says so with S3's code and message.
before=$(s3_stat sig_fail)
"$check" fail "${common[@]}" --secret "not-the-secret" --key "wrong/secret" >"$test_tmp/wrong.out" 2>&1 ||
    { cat "$test_tmp/wrong.out"; fail "the wrong-secret run did not fail as expected"; }
cat "$test_tmp/wrong.out"
grep -q "^error: S3 PUT $bucket/wrong/secret: 403 SignatureDoesNotMatch: The request signature we calculated does not match" \
    "$test_tmp/wrong.out" || fail "a wrong secret is not reported as 403 SignatureDoesNotMatch with its message"
[ "$(s3_stat sig_fail)" -gt "$before" ] || fail "the signature check did not count the refused request"
"$check" fail "${common[@]}" --access-key AKIDNOTKNOWN00000000 --key "wrong/key" >"$test_tmp/wrongak.out" 2>&1 ||
    fail "the wrong-access-key run did not fail as expected"
grep -q "403 InvalidAccessKeyId: The AWS Access Key Id you provided does not exist" "$test_tmp/wrongak.out" ||
    { cat "$test_tmp/wrongak.out"; fail "a wrong access key is not reported with S3's code and message"; }
[ ! -e "$data/$bucket/wrong/secret._S3rver_object" ] || fail "a request with a wrong secret was stored"
code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:$region:s3" --user "$ak:wrong" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "http://127.0.0.1:$port/$bucket/")
[ "$code" = 403 ] || fail "curl with a wrong secret got $code, not 403"
pass "wrong secret and access key refused with 403 and reported clearly"

# 4. Retries: a 5xx burst shorter than max_retries succeeds; a longer one fails clearly.
s3_control fault '{"kind":"status","count":3,"status":503,"code":"SlowDown"}'
"$check" put "${common[@]}" --key "faults/burst ok" --size 5000 --seed 3 --max-retries 4 >"$test_tmp/b1.out" 2>&1 ||
    { cat "$test_tmp/b1.out"; fail "a 3-request SlowDown burst with max_retries 4 failed"; }
[ "$(stat_of retries "$test_tmp/b1.out")" = 3 ] || fail "expected 3 retries: $(cat "$test_tmp/b1.out")"
"$check" get "${common[@]}" --key "faults/burst ok" --size 5000 --seed 3 >/dev/null || fail "object after the burst is wrong"
s3_control fault '{"kind":"status","count":8,"status":500,"code":"InternalError"}'
if "$check" put "${common[@]}" --key "faults/burst long" --size 5000 --max-retries 4 >"$test_tmp/b2.out" 2>&1; then
    fail "a burst longer than max_retries succeeded"
fi
grep -q "error: S3 PUT $bucket/faults/burst long: 500 InternalError: We encountered an internal error. Please try again. (5 attempts)" \
    "$test_tmp/b2.out" || { cat "$test_tmp/b2.out"; fail "the exhausted retries are not reported clearly"; }
s3_control clear '{}'
s3_control fault '{"kind":"status","count":2,"status":429,"code":"TooManyRequests","method":"GET"}'
"$check" get "${common[@]}" --key "faults/burst ok" --size 5000 --seed 3 --max-retries 2 >"$test_tmp/b3.out" 2>&1 ||
    { cat "$test_tmp/b3.out"; fail "429 responses were not retried"; }
pass "5xx/429 bursts: retried within max_retries, reported after"

# 5. Connection resets mid-upload are retried and the object is intact.
s3_control fault '{"kind":"reset","count":1,"after":65536,"method":"PUT"}'
"$check" put "${common[@]}" --key "faults/reset single" --size 3000000 --seed 4 --max-retries 2 >"$test_tmp/x1.out" 2>&1 ||
    { cat "$test_tmp/x1.out"; fail "a PUT reset mid-upload was not retried"; }
[ "$(stat_of retries "$test_tmp/x1.out")" = 1 ] || fail "expected one retry after the reset: $(cat "$test_tmp/x1.out")"
"$check" get "${common[@]}" --key "faults/reset single" --size 3000000 --seed 4 >/dev/null || fail "reset object is not intact"
s3_control fault '{"kind":"reset","count":2,"after":100000,"match":"partNumber=2"}'
"$check" put "${common[@]}" --key "faults/reset multi" --size 11000000 --parts 3 --seed 5 --max-retries 3 \
    >"$test_tmp/x2.out" 2>&1 || { cat "$test_tmp/x2.out"; fail "a part upload reset twice was not retried"; }
"$check" get "${common[@]}" --key "faults/reset multi" --size 11000000 --seed 5 >/dev/null ||
    fail "the multipart object is not intact after resets"
python3 - "$data/$bucket" <<'PY' || fail "objects stored after resets differ on disk"
import hashlib, sys
for key, size, seed in (("faults/reset single", 3000000, 4), ("faults/reset multi", 11000000, 5)):
    body = open(f"{sys.argv[1]}/{key}._S3rver_object", "rb").read()
    assert len(body) == size, (key, len(body))
PY
s3_control fault '{"kind":"delay","count":1,"ms":2500}'
"$check" put "${common[@]}" --key "faults/slow" --size 100 --timeout-ms 800 --max-retries 2 >"$test_tmp/x3.out" 2>&1 ||
    { cat "$test_tmp/x3.out"; fail "a response slower than the timeout was not retried"; }
[ "$(stat_of retries "$test_tmp/x3.out")" = 1 ] || fail "expected one retry after the timeout: $(cat "$test_tmp/x3.out")"
pass "resets mid-upload (single and multipart) and a slow response: retried, objects intact"

# 6. The server closes an idle kept-alive connection: the next request reconnects once, by
#    itself, even with max_retries 0.
"$check" reuse "${common[@]}" --key "faults/reuse" --size 2000 --pause-ms 1500 --max-retries 0 >"$test_tmp/k.out" 2>&1 &
reuse_pid=$!
sleep 0.7
s3_control close-idle '{}'
wait "$reuse_pid" || { cat "$test_tmp/k.out"; fail "a request on a connection closed by the server failed"; }
[ "$(stat_of reconnects "$test_tmp/k.out")" = 1 ] || fail "expected one transparent reconnect: $(cat "$test_tmp/k.out")"
pass "closed kept-alive connection: reconnected transparently"

# 7. Create-only writes: If-None-Match: * (412 -> exists); a store answering 501 is reported;
#    with conditional writes off the client looks first instead.
"$check" create "${common[@]}" --key "cond/a" --expect ok >/dev/null || fail "create-only put of a new key"
"$check" create "${common[@]}" --key "cond/a" --expect exists >/dev/null || fail "create-only put of an existing key"
grep -q '"url":"/sluice-lake/cond/a".*"inm":"\*"' "$test_tmp/requests.jsonl" || fail "If-None-Match: * was not sent"
s3_control conditional '{"mode":"501"}'
"$check" create "${common[@]}" --key "cond/b" --expect error >"$test_tmp/c.out" 2>&1 || { cat "$test_tmp/c.out"; fail "501"; }
grep -q "501 NotImplemented: .*(this store does not support conditional writes, If-None-Match: \*; set s3.conditional_writes=false)" \
    "$test_tmp/c.out" || { cat "$test_tmp/c.out"; fail "a 501 to If-None-Match is not reported clearly"; }
"$check" create "${common[@]}" --conditional 0 --key "cond/b" --expect ok >/dev/null || fail "emulated create (new key)"
"$check" create "${common[@]}" --conditional 0 --key "cond/b" --expect exists >/dev/null || fail "emulated create (existing)"
s3_control conditional '{"mode":"emulate"}'
pass "create-only writes: 412 -> exists, 501 reported, HEAD-first when conditional writes are off"

[ "$(s3_stat sig_fail)" = 5 ] || fail "expected exactly the 5 refused requests of step 3: $(curl -s "$ctl/stats")"

# 8. HTTPS: the same randomized requests to a TLS endpoint (a second signature check serving a
#    certificate from a test CA): accepted with that CA as s3.ca_file, refused without it.
command -v openssl >/dev/null 2>&1 || fail "openssl not found: run packaging/install-deps.sh --test"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sluice test CA" -keyout "$test_tmp/ca.key" \
    -out "$test_tmp/ca.pem" 2>/dev/null || fail "openssl could not make the test CA"
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$test_tmp/srv.key" -out "$test_tmp/srv.csr" 2>/dev/null &&
    openssl x509 -req -in "$test_tmp/srv.csr" -CA "$test_tmp/ca.pem" -CAkey "$test_tmp/ca.key" -CAcreateserial -days 2 \
        -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$test_tmp/srv.pem" 2>/dev/null ||
    fail "openssl could not make the server certificate"
tport=$(free_port)
tctl=$(free_port)
node "$e2e/tools/s3_sigcheck.mjs" --port "$tport" --control "$tctl" --upstream "http://127.0.0.1:$s3rver_port" \
    --access-key "$ak" --secret "$sk" --region "$region" --tls-cert "$test_tmp/srv.pem" --tls-key "$test_tmp/srv.key" \
    >"$test_tmp/sigcheck_tls.log" 2>&1 &
test_pids+=($!)
wait_http "http://127.0.0.1:$tctl/stats" 20 || { cat "$test_tmp/sigcheck_tls.log"; fail "the TLS signature check did not start"; }
tls=(--endpoint "https://127.0.0.1:$tport" --bucket "$bucket" --region "$region" --access-key "$ak" --secret "$sk")
"$check" random "${tls[@]}" --ca-file "$test_tmp/ca.pem" --prefix tls/ --seed 31 --count 60 --page-keys 9 \
    --manifest "$test_tmp/m8" >"$test_tmp/r8.out" 2>&1 || { cat "$test_tmp/r8.out"; fail "randomized requests over HTTPS failed"; }
[ "$(stat_of connects "$test_tmp/r8.out")" = 1 ] || fail "HTTPS: the client opened more than one connection (no keep-alive)"
verify_disk "$test_tmp/m8" "tls/"
[ "$(curl -sf "http://127.0.0.1:$tctl/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["sig_ok"] > 60 and s["sig_fail"] == 0)')" = True ] ||
    fail "HTTPS: the signature check did not verify the requests: $(curl -s "http://127.0.0.1:$tctl/stats")"
"$check" put "${tls[@]}" --key tls/refused --size 10 >"$test_tmp/r8b.out" 2>&1 && fail "HTTPS without the test CA was accepted"
grep -q "certificate not trusted" "$test_tmp/r8b.out" || { cat "$test_tmp/r8b.out"; fail "an untrusted certificate is not reported clearly"; }
pass "HTTPS endpoint: requests verified with s3.ca_file on one kept-alive TLS connection, refused without it"
