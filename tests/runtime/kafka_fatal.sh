#!/usr/bin/env bash
# A permanent Kafka failure stops the pipeline with a clear reason, and PostgreSQL never confirms
# past the change that failed, so nothing is lost: after the cause is removed and the daemon is
# restarted, the failed change and everything after it arrive. Two triggers:
#  1. the broker rejects a Produce request permanently (MESSAGE_TOO_LARGE injected by the mock
#     cluster): the delivery report fails;
#  2. a row larger than the producer's message.max.bytes (kafka.properties): librdkafka refuses
#     to enqueue it.
# In both, the change before the failure is delivered and confirmed first, then the failing
# change is committed: /readyz turns 503 naming the reason (or the daemon exits with it in its
# log); another change is committed; confirmed_flush_lsn stays below the failed transaction's
# commit while sampled for 3 s and after shutdown, and nothing after the failure reaches Kafka.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/kafka.bash"
pg_start
kafka_mock_start 1

psql_q "CREATE TABLE ta (id int PRIMARY KEY, v text); CREATE TABLE tb (id int PRIMARY KEY, v text)"
oracle_create

# commit_end ID TABLE: end LSN of the commit that inserted row ID into TABLE (from the oracle).
commit_end() {
    oracle_dump "$test_tmp/oracle.jsonl"
    python3 - "$test_tmp/oracle.jsonl" "$1" "$2" <<'PY'
import json, sys
path, want_id, table = sys.argv[1], sys.argv[2], sys.argv[3]
found = False
for line in open(path):
    o = json.loads(line)
    d = o["data"]
    if d.startswith(f"table public.{table}: INSERT: id[integer]:{want_id} "):
        found = True
    elif d.startswith("COMMIT") and found:
        print(o["lsn"])
        break
else:
    sys.exit(f"no commit for {table} id {want_id}")
PY
}

# wait_failure NAME PATTERN: the daemon reports PATTERN within 30 s, on /readyz (503) or by
# exiting; its log gives the reason too.
wait_failure() {
    local name=$1 pattern=$2 i code
    for ((i = 0; i < 300; i++)); do
        if ! kill -0 "${sluice_pid[$name]}" 2>/dev/null; then
            wait_exit "${sluice_pid[$name]}" 5 || true
            echo "sluice $name exited with status $exit_status"
            unset "sluice_pid[$name]"
            break
        fi
        code=$(curl -s -o "$test_tmp/$name.readyz" -w '%{http_code}' "http://127.0.0.1:${sluice_port[$name]}/readyz" || true)
        if [ "$code" = 503 ] && grep -qiE "$pattern" "$test_tmp/$name.readyz"; then
            echo "readyz: $(cat "$test_tmp/$name.readyz")"
            break
        fi
        sleep 0.1
    done
    [ "$i" -lt 300 ] || { tail -20 "$test_tmp/$name.log"; fail "$name: no failure matching '$pattern' on /readyz within 30 s: $(cat "$test_tmp/$name.readyz")"; }
    grep -qiE "$pattern" "$test_tmp/$name.log" || { tail -20 "$test_tmp/$name.log"; fail "$name: the log does not give the reason ('$pattern')"; }
}

# confirmed_stays_below NAME BAD_END: for 3 s, then after the daemon stops (SIGTERM, any exit
# status), the slot's confirmed_flush_lsn is below BAD_END, the end of the failed commit.
confirmed_stays_below() {
    local name=$1 bad_end=$2 i c
    for ((i = 0; i < 15; i++)); do
        c=$(slot_confirmed_num "$name")
        [ "$c" -lt "$bad_end" ] || fail "$name: confirmed_flush_lsn $c passed the failed transaction (commit ends at $bad_end)"
        sleep 0.2
    done
    if [ -n "${sluice_pid[$name]:-}" ]; then
        kill -TERM "${sluice_pid[$name]}"
        wait_exit "${sluice_pid[$name]}" 30 || fail "$name did not stop on SIGTERM after the failure"
        echo "sluice $name stopped after the failure with status $exit_status"
        unset "sluice_pid[$name]"
    fi
    c=$(slot_confirmed_num "$name")
    [ "$c" -lt "$bad_end" ] || fail "$name: confirmed_flush_lsn $c passed the failed transaction after shutdown"
}

# ids TOPIC: the ids of the change events on TOPIC, sorted, space-separated (duplicates kept).
ids() {
    kafka_consume "$1" "$test_tmp/ids.jsonl" || fail "kcat could not read $1"
    jq -r 'select(.payload != null) | .payload | fromjson | .after.id' "$test_tmp/ids.jsonl" | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# 1. The broker rejects the Produce request permanently.
sluice_start fa kafka.topic_prefix=fa source.tables=public.ta
psql_q "INSERT INTO ta VALUES (1, 'delivered')"
kafka_wait_count fa.public.ta 1 30 "$test_tmp/fa.jsonl"
wait_slot_confirmed fa "$(commit_end 1 ta)" 30
kafka_mock_cmd errors Produce MSG_SIZE_TOO_LARGE 1
psql_q "INSERT INTO ta VALUES (2, 'rejected by the broker')"
bad_end=$(commit_end 2 ta)
wait_failure fa "too large"
psql_q "INSERT INTO ta VALUES (3, 'after the failure')"
confirmed_stays_below fa "$bad_end"
[ "$(ids fa.public.ta)" = 1 ] || fail "after the failure fa.public.ta holds ids '$(ids fa.public.ta)', want only 1"
pass "a permanent Produce error stops the pipeline; no confirmation past it; nothing after it sent"

sluice_start fa
kafka_wait_count fa.public.ta 3 30 "$test_tmp/fa.jsonl"
[ "$(ids fa.public.ta)" = "1 2 3" ] || fail "after the restart fa.public.ta holds ids '$(ids fa.public.ta)', want 1 2 3"
wait_slot_confirmed fa "$(commit_end 3 ta)" 30
sluice_stop fa
pass "after a restart the failed change and the next are delivered, nothing twice"

# 2. A row larger than message.max.bytes.
sluice_start fb kafka.topic_prefix=fb source.tables=public.tb kafka.properties=message.max.bytes=20000
psql_q "INSERT INTO tb VALUES (1, 'small')"
kafka_wait_count fb.public.tb 1 30 "$test_tmp/fb.jsonl"
wait_slot_confirmed fb "$(commit_end 1 tb)" 30
psql_q "INSERT INTO tb SELECT 2, string_agg(md5(i::text), '') FROM generate_series(1, 1500) i"   # 48 kB
bad_end=$(commit_end 2 tb)
wait_failure fb "too large"
psql_q "INSERT INTO tb VALUES (3, 'after the failure')"
confirmed_stays_below fb "$bad_end"
[ "$(ids fb.public.tb)" = 1 ] || fail "after the failure fb.public.tb holds ids '$(ids fb.public.tb)', want only 1"
pass "a message over message.max.bytes stops the pipeline; no confirmation past it"

"$SLUICE_BIN" config set kafka.properties message.max.bytes=1000000 --state-dir "$test_tmp/fb.state" >/dev/null
sluice_start fb
kafka_wait_count fb.public.tb 3 30 "$test_tmp/fb.jsonl"
[ "$(ids fb.public.tb)" = "1 2 3" ] || fail "after the restart fb.public.tb holds ids '$(ids fb.public.tb)', want 1 2 3"
got=$(jq -r 'select(.payload != null) | .payload | fromjson | select(.after.id == 2) | .after.v' "$test_tmp/ids.jsonl" | md5sum)
want=$(psql_q "SELECT v FROM tb WHERE id = 2" | md5sum)
[ "$got" = "$want" ] || fail "the large row arrived changed"
sluice_stop fb
pass "after raising the limit and restarting, the large row arrives intact"
