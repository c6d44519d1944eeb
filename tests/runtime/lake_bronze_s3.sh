#!/usr/bin/env bash
# Bronze on S3 through faults: nothing missing, nothing duplicated, nothing confirmed early.
# The daemon writes the bronze layer to s3rver behind the signature check (tests/runtime/s3.bash)
# while a deterministic workload of a few thousand changes runs for about three minutes. The
# check's control port injects a burst of 503 SlowDown answers longer than the client's retries,
# responses slower than its timeout, and connections reset in the middle of uploads; then the
# endpoint goes away for two minutes (the check is stopped: connections are refused) and comes
# back on the same port.
# During the outage nothing can reach the store, so what s3rver holds is exactly what was
# uploaded before it: every change of a transaction whose commit PostgreSQL has been told is
# flushed (the slot's confirmed_flush_lsn, sampled at the start and the end of the outage) must be
# among those objects. Meanwhile /readyz reports bronze degraded and the failures are counted.
# After the outage the appliance catches up by itself, and in the end the objects hold exactly the
# changes PostgreSQL committed (bronze_verify.py, against an independent test_decoding slot).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/sluice.bash"
source "$(dirname "$0")/s3.bash"
pg_start
s3_start

python3 "$(dirname "$0")/bronze_workload.py" "$test_tmp" 11 w1:150 big:big w2:1500:100
psql -X -q -f "$test_tmp/schema.sql" >/dev/null
sluice_start s lake.store=s3 "s3.endpoint=http://127.0.0.1:$s3_port" "s3.bucket=$s3_bucket" "s3.region=$s3_region" \
    "s3.access_key_id=$s3_ak" "s3.secret_access_key=$s3_sk" s3.path_style=true s3.max_retries=1 s3.request_timeout=2s \
    bronze.roll_age=1s bronze.roll_size=1
wait_slot_active s 60
oracle_create
verify() {
    oracle_dump "$test_tmp/oracle.jsonl"
    python3 "$(dirname "$0")/bronze_verify.py" --root "$s3_data/$s3_bucket" --suffix ._S3rver_object \
        --oracle "$test_tmp/oracle.jsonl" "$@"
}
metric() {
    curl -s "http://127.0.0.1:${sluice_port[s]}/metrics" | sed -n "s/^$1 //p"
}

psql -X -q -f "$test_tmp/w1.sql" >/dev/null
psql -X -q -f "$test_tmp/big.sql" >/dev/null
psql -X -q -f "$test_tmp/w2.sql" >/dev/null &   # about 150 s of transactions
workload_pid=$!

# Faults while the endpoint is up: each must actually hit an upload.
faults0=$(s3_stat faults)
s3_control fault '{"kind":"status","count":6,"status":503,"code":"SlowDown"}'
sleep 6
s3_control fault '{"kind":"delay","count":3,"ms":4000}'
sleep 10
s3_control fault '{"kind":"reset","count":1,"after":0,"method":"PUT"}'
s3_control fault '{"kind":"reset","count":1,"after":100,"method":"PUT"}'
sleep 6
[ $(($(s3_stat faults) - faults0)) -ge 11 ] || fail "only $(($(s3_stat faults) - faults0)) of 11 injected faults were hit"
[ "$(s3_stat sig_fail)" = 0 ] || fail "the signature check refused requests of the appliance"
[ "$(metric sluice_bronze_upload_failures_total)" != 0 ] || fail "the failed uploads were not counted"
pass "5xx bursts, slow responses and resets mid-upload are retried"

# Two minutes without the endpoint.
s3_proxy_stop
sleep 10
c1=$(slot_confirmed_num s)
verify --durable-before "$c1" || fail "a change was confirmed to PostgreSQL before its object was in the store"
sluice_readyz s | grep -q '"name":"bronze","state":"degraded"' || fail "bronze is not degraded during the outage: $(sluice_readyz s)"
sleep 100
c2=$(slot_confirmed_num s)
verify --durable-before "$c2" || fail "a change was confirmed to PostgreSQL during the outage without being stored"
[ "$(wal_lsn_num)" -gt "$c2" ] || fail "the workload did not run during the outage"
kill -0 "$workload_pid" 2>/dev/null || fail "the workload ended before the outage did: lengthen w2"
pass "during a two-minute outage nothing is confirmed that is not in the store (confirmed $c1, then $c2)"

s3_proxy_start
wait "$workload_pid" || fail "the workload failed"
end_lsn=$(wal_lsn_num)
wait_slot_confirmed s "$end_lsn" 120
sluice_readyz s | grep -q '"name":"bronze","state":"ok"' || fail "bronze did not recover: $(sluice_readyz s)"
pass "the appliance caught up by itself after the outage"
sluice_stop s
verify --snapshot-orders 50 --split-table public.blobs || fail "the bronze objects do not hold exactly the captured changes"
pass "every change is in exactly one object after the faults"
