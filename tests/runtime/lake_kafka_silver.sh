#!/usr/bin/env bash
# Kafka to silver: one `sluice run` (p) captures PostgreSQL into Debezium topics with Connect
# schemas (kafka.schemas_enable, 3 partitions per topic, tombstones after deletes, heartbeats
# every second) on librdkafka's mock cluster (3 brokers); a second one (s), without a source of
# its own, writes the silver layer of a local lake from those topics through the consumer group
# sluice-silver (silver.kafka_topics). The workload is lake_silver's (silver_workload.py: a
# TOASTed column left alone and updated, primary-key changes also of a composite key, deletes,
# several changes of one row in one transaction, a table without a primary key); s commits every
# second and is killed with SIGKILL three times while the workload runs, each at a random moment
# after the group gave it its partitions (silver.kafka_session_timeout=6s), mid-backlog (p is
# never killed: a producer restart may send a change again at a new offset, which Debezium's
# at-least-once delivery allows). The test waits until the group's committed offsets (read by an
# independent client, tests/tools/kafka_group_offsets) reach the end of every partition, then
# icebird reads both tables of each source table: the current table must equal SELECT *, and the
# history must equal the SCD2 silver_verify.py computes from the test_decoding oracle's change
# log. The latest snapshot of each table (its metadata file, as the catalog names it) must carry
# sluice.appliance = kafka/sluice-silver and sluice.kafka.offsets = the offset of the last change
# event of each partition of its topic (read back with kcat). Then the group's offsets are rewound
# to 0 while s is stopped: s reads every record again and must skip all of them (the watermarks
# in the summaries), the tables unchanged. A second process joining the group must make the
# process given a share of a topic refuse it (silver from Kafka runs as one process per group) without
# writing anything; with it gone, a restarted s goes on alone. Tombstones and heartbeats must be
# skipped without being counted; then a record that is not JSON is produced with kcat: it must be
# counted in sluice_silver_kafka_skipped_records_total and logged, the group's offsets must move
# past it, and the tables must still be exact. Last, a change event without a Connect schema (of
# a row that does not exist): silver cannot read its types, so the consumer stops at it, as Kafka
# Connect does by default: /readyz reports silver_kafka down with the topic, partition, offset and
# reason, the group's offset stays at that record, the tables stay exact, and s stops cleanly.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/kafka.bash"
source "$(dirname "$0")/silver.bash"
: "${SLUICE_BUILD_DIR:?SLUICE_BUILD_DIR must point to the build tree (ctest sets it)}"
offsets_tool="$SLUICE_BUILD_DIR/tests/kafka_group_offsets"
[ -x "$offsets_tool" ] || fail "kafka_group_offsets not built: $offsets_tool"
e2e="$SLUICE_REPO/tests/e2e"
[ -f "$e2e/node_modules/icebird/package.json" ] ||
    fail "$e2e/node_modules/icebird is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
command -v node >/dev/null || fail "node is missing: run packaging/install-deps.sh --test"
pg_start
trap 'rc=$?; [ "$rc" = 0 ] || { tail -40 "$test_tmp/s.log"; tail -15 "$test_tmp/p.log"; } 2>/dev/null; pg_stop; test_cleanup' EXIT

seed=${SILVER_SEED:-$RANDOM}
echo "workload seed $seed (SILVER_SEED=$seed reproduces it)"
python3 "$(dirname "$0")/silver_workload.py" "$test_tmp" "$seed" a:200:20 b:150:5 c:100
psql -X -q -f "$test_tmp/schema.sql" >/dev/null
out=$test_tmp/out
mkdir -p "$out"
silver_pg_dump initial

group=sluice-silver
heartbeat=__debezium-heartbeat.sluice
tables=(sluice.public.acct sluice.public.line sluice.public.nokey)
topics=("${tables[@]}" "$heartbeat")
lake=$test_tmp/lake
kafka_mock_start 3
for t in "${tables[@]}"; do kafka_mock_cmd topic "$t" 3 3; done

# p: the capture, into Kafka only (no lake, no silver).
sluice_start p kafka.schemas_enable=true kafka.partitions=3 kafka.heartbeat_interval=1s lake.store=none \
    silver.enabled=false
wait_slot_active p 60
oracle_create
kafka_wait_count "$heartbeat" 1 60 "$test_tmp/heartbeat.json"
kafka_wait_count sluice.public.acct 40 60 "$test_tmp/acct.snapshot.json"
jq -e -s 'all(.[]; .payload | fromjson | has("schema") and has("payload"))' "$test_tmp/acct.snapshot.json" >/dev/null ||
    fail "p's records do not carry Connect schemas: $(head -c 300 "$test_tmp/acct.snapshot.json")"
pass "p captures into Kafka with Connect schemas (the snapshot is in sluice.public.acct)"

# s: silver from the topics, no capture of its own (pg_conninfo empty: sluice_start sets no source).
s_settings=(lake.store=local "lake.path=$lake" silver.enabled=true silver.commit_interval=1s bronze.enabled=false
    "silver.kafka_topics=^sluice\\..*,$heartbeat" "silver.kafka_group=$group" silver.kafka_session_timeout=6s)
start_s() { pg_conninfo='' sluice_start s "${s_settings[@]}"; }
start_s
grep -q '^source\.' "$test_tmp/s.conf" && fail "s was configured with a source: $(cat "$test_tmp/s.conf")"

metric() {   # metric NAME METRIC: its value in NAME's /metrics (0 when absent)
    curl -s "http://127.0.0.1:${sluice_port[$1]}/metrics" | awk -v m="$2" '$1 == m { v = $2 } END { print v + 0 }'
}

# wait_caught_up SECS WHAT: until the group's committed offsets are at the end of every
# non-empty partition of the topics.
wait_caught_up() {
    local secs=$1 what=$2 start=$SECONDS
    while :; do
        "$offsets_tool" "$kafka_bootstrap" "$group" list "${topics[@]}" >"$test_tmp/offsets" 2>"$test_tmp/offsets.err" &&
            awk '$4 > 0 && $3 != $4 { bad = 1 } END { exit bad }' "$test_tmp/offsets" && break
        if ((SECONDS - start > secs)); then
            cat "$test_tmp/offsets" "$test_tmp/offsets.err"
            curl -s "http://127.0.0.1:${sluice_port[s]}/metrics" | grep -E '^sluice_silver_(kafka|skipped|commits)' || true
            curl -s "http://127.0.0.1:${sluice_port[s]}/readyz" || true
            fail "$what: the group's committed offsets did not reach the end of every partition in $secs s"
        fi
        sluice_check_alive
        sleep 0.5
    done
    echo "caught up after $((SECONDS - start)) s: $(awk '{ printf "%s:%s=%s/%s ", $1, $2, $3, $4 }' "$test_tmp/offsets")"
}

# wait_assigned: until s's consumer holds partitions (after a SIGKILL the group waits out the dead
# member's session, silver.kafka_session_timeout, before it assigns them again).
wait_assigned() {
    local start=$SECONDS
    until [ "$(metric s sluice_silver_kafka_assigned_partitions)" -gt 0 ]; do
        ((SECONDS - start < 60)) || fail "s was assigned no partitions in 60 s"
        sluice_check_alive
        sleep 0.1
    done
}
# Parts a and b run while s is killed three times, each at a random moment after it was assigned
# its partitions (it is then reading the backlog, writing files and committing).
{ psql -X -q -f "$test_tmp/a.sql" >/dev/null && psql -X -q -f "$test_tmp/b.sql" >/dev/null; } &
workload=$!
for i in 1 2 3; do
    wait_assigned
    sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
    sleep $((RANDOM % 2))
    records=$(metric s sluice_silver_kafka_records_total)
    sluice_kill s
    pass "killed s with SIGKILL ($i of 3) after it consumed $records change records"
    start_s
done
wait "$workload" || fail "workload parts a and b failed"
psql -X -q -f "$test_tmp/c.sql" >/dev/null
end_lsn=$(wal_lsn_num)
wait_slot_confirmed p "$end_lsn" 120
sluice_stop p   # every change is in Kafka; no more heartbeats
pass "p produced every change (its slot is confirmed past the last transaction)"

wait_caught_up 300 "after the workload"
for t in "${tables[@]}"; do
    n=$(awk -v t="$t" '$1 == t' "$test_tmp/offsets" | wc -l)
    [ "$n" = 3 ] || fail "topic $t has $n partitions, want 3: $(cat "$test_tmp/offsets")"
done
pass "the group's committed offsets reached the end of every partition"
metrics=$(curl -s "http://127.0.0.1:${sluice_port[s]}/metrics")
echo "$(grep -E '^sluice_silver_' <<<"$metrics" | tr '\n' ' ')"
grep -q '^sluice_silver_commits_total [1-9]' <<<"$metrics" || fail "no silver commits counted: $(grep silver <<<"$metrics")"
grep -q '^sluice_silver_kafka_records_total [1-9]' <<<"$metrics" ||
    fail "no change records counted in sluice_silver_kafka_records_total: $(grep silver_kafka <<<"$metrics")"
[ "$(metric s sluice_silver_kafka_skipped_records_total)" = 0 ] ||
    fail "tombstones, heartbeats or change events were counted as undecodable: $(grep silver_kafka <<<"$metrics")"
grep -q '^sluice_silver_keyless_tables_total 1' <<<"$metrics" || fail "the table without a key was not reported skipped"
[ ! -e "$lake/silver/sluice/public/nokey" ] || fail "a table without a primary key was written to silver"
oracle_dump "$out/oracle.jsonl"
silver_pg_dump pg

verify() {   # verify WHEN: icebird reads the silver tables; silver_verify.py compares them
    silver_read_verify "$1" "file://$lake/silver/sluice/public"
}
# What the topics hold, read back by kcat (for the summaries' offsets below).
for t in acct line; do
    kafka_consume "sluice.public.$t" "$test_tmp/$t.all.json" 30 || fail "cannot read back sluice.public.$t"
done
verify "after the workload"

# The latest snapshot's summary of each table: the appliance and, per partition of its topic, the
# offset of the last change event there (kcat's reading; tombstones and other records excluded).
check_summaries() {
    python3 - "$test_tmp" "$lake" "$group" <<'PY'
import glob, json, os, sqlite3, sys, urllib.parse
tmp, lake, group = sys.argv[1:4]
fails = []
# The catalog (Iceberg's JDBC layout) is in one of s's state databases.
locations = {}
for db in sorted(glob.glob(f"{tmp}/s.state/*.db")):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for ns, name, loc in con.execute("SELECT table_namespace, table_name, metadata_location FROM iceberg_tables"):
            locations[(ns, name)] = loc
    except sqlite3.OperationalError:
        pass
    con.close()
for t in ("acct", "line"):
    last = {}
    for line in open(f"{tmp}/{t}.all.json"):
        r = json.loads(line)
        try:
            v = json.loads(r["payload"]) if r["payload"] is not None else None
        except ValueError:
            v = None
        if isinstance(v, dict) and isinstance(v.get("payload"), dict) and v["payload"].get("op") in ("c", "u", "d", "r"):
            p = r["partition"]
            last[p] = max(last.get(p, -1), r["offset"])
    want = {f"sluice.public.{t}:{p}={o}" for p, o in last.items()}
    if len(want) != 3:
        fails.append(f"sluice.public.{t}: change events in {len(want)} partitions, want 3")
    for table in (t, f"{t}_history"):
        loc = locations.get(("public", table))
        if not loc:
            fails.append(f"the catalog has no table public.{table} (has {sorted(locations)})")
            continue
        path = urllib.parse.urlparse(loc).path if loc.startswith("file:") else loc
        if not path.startswith(os.path.join(lake, "silver/sluice/public", table) + "/metadata/"):
            fails.append(f"{table}: metadata location {loc} is not in the table's directory")
            continue
        m = json.load(open(path))
        cur = m.get("current-snapshot-id")
        snap = [s for s in m.get("snapshots", []) if s.get("snapshot-id") == cur]
        if not snap:
            fails.append(f"{table}: no current snapshot in {loc}")
            continue
        summary = snap[0].get("summary", {})
        if summary.get("sluice.appliance") != f"kafka/{group}":
            fails.append(f"{table}: sluice.appliance is {summary.get('sluice.appliance')!r}, want 'kafka/{group}'")
        got = summary.get("sluice.kafka.offsets")
        if got is None or set(got.split(",")) != want or len(got.split(",")) != len(want):
            fails.append(f"{table}: sluice.kafka.offsets is {got!r}, want {','.join(sorted(want))}")
        print(f"{table}: {os.path.basename(path)} sluice.appliance={summary.get('sluice.appliance')} "
              f"sluice.kafka.offsets={got}")
if fails:
    print("\n".join(fails))
    sys.exit(1)
PY
}
check_summaries || fail "the latest snapshots' summaries do not carry the Kafka positions"
pass "the latest snapshots carry sluice.appliance=kafka/$group and the offset of each partition's last change event"

# The watermark, deterministically: with s stopped, the group's offsets are rewound to the start
# of every partition (as after a crash between a silver commit and the offset commit, or a reset
# by an operator); s reads everything again and must apply none of it.
sluice_stop s
"$offsets_tool" "$kafka_bootstrap" "$group" rewind "${topics[@]}" >"$test_tmp/rewind.out" 2>&1 ||
    fail "cannot rewind the group's offsets: $(cat "$test_tmp/rewind.out")"
"$offsets_tool" "$kafka_bootstrap" "$group" list "${topics[@]}" >"$test_tmp/offsets"
awk '$3 != 0 { bad = 1 } END { exit bad }' "$test_tmp/offsets" || fail "the rewind left offsets: $(cat "$test_tmp/offsets")"
start_s
wait_caught_up 120 "after rewinding the group's offsets"
replayed=$(metric s sluice_silver_skipped_events_total)
# the change events of the tables with a key (nokey's are not written to silver at all)
records=$(cat "$test_tmp/acct.all.json" "$test_tmp/line.all.json" | jq -s '[.[] | select(.payload != null)] | length')
[ "$records" -gt 0 ] && [ "$replayed" = "$records" ] ||
    fail "after the rewind s skipped $replayed change events as already in the tables, want all $records of acct and line"
verify "after rewinding the group's offsets"
check_summaries || fail "the latest snapshots' summaries changed after the rewind"
pass "after rewinding the group's offsets all $records change records were skipped as already in the tables"

# One writer per group: a second process (its own state, so its own index of live rows) joins the
# group; the partitions are split and a process given a share of a topic refuses it, with the
# reason; the second process writes nothing. With the second one gone and s restarted, s takes every partition again.
kafka_down() {   # kafka_down: until s or s2 reports silver_kafka down (its message in $down)
    local start=$SECONDS n
    while :; do
        for n in s s2; do
            down=$(curl -s "http://127.0.0.1:${sluice_port[$n]}/readyz" |
                jq -er '.components[] | select(.name == "silver_kafka" and .state == "down") | .message') && return 0
        done
        ((SECONDS - start < 90)) || { tail -20 "$test_tmp/s2.log"; fail "neither process refused a share of the group's partitions"; }
        sleep 0.3
    done
}
pg_conninfo='' sluice_start s2 "${s_settings[@]}"
# Which of the two gets a share first depends on the group's timing (under load the coordinator
# may even give s2 everything for a while, s being slow to rejoin): one of them must refuse.
kafka_down
grep -q "another process consumes in the same group" <<<"$down" || fail "stopped for another reason: $down"
pass "a second process in the group: a share is refused ($(cut -c1-150 <<<"$down"))"
[ ! -e "$test_tmp/s2.state/silver.db" ] || [ "$(sqlite3 "$test_tmp/s2.state/silver.db" 'SELECT count(*) FROM silver_rows')" = 0 ] ||
    fail "the second process wrote rows to its index"
sluice_stop s2
sluice_stop s
start_s
wait_caught_up 120 "after the second process left"
curl -s "http://127.0.0.1:${sluice_port[s]}/readyz" | jq -e '.components[] | select(.name == "silver_kafka" and .state == "ok")' >/dev/null ||
    fail "s did not resume consuming alone"
verify "after the second process left"
check_summaries || fail "the latest snapshots' summaries changed after the second process"

# Records that cannot be decoded, one at a time: each must be counted in
# sluice_silver_kafka_skipped_records_total (the count reaches WANT), the group's offsets must move
# past it, and the tables must stay exact with unchanged positions in their summaries.
undecodable() {   # undecodable WHAT WANT: after producing the record
    local what=$1 want=$2 start=$SECONDS
    until [ "$(metric s sluice_silver_kafka_skipped_records_total)" -ge "$want" ]; do
        if ((SECONDS - start > 60)); then
            grep -E 'silver_kafka' "$test_tmp/s.log" | tail -3
            fail "$what: sluice_silver_kafka_skipped_records_total is $(metric s sluice_silver_kafka_skipped_records_total), want $want"
        fi
        sluice_check_alive
        sleep 0.3
    done
    pass "$what: counted in sluice_silver_kafka_skipped_records_total"
    wait_caught_up 60 "$what"
    pass "$what: the group's committed offsets moved past it"
    verify "$what"
    check_summaries || fail "$what: the latest snapshots' summaries changed"
}
log_lines=$(wc -l <"$test_tmp/s.log")
printf 'not json {\n' | kcat -P -b "$kafka_bootstrap" -t sluice.public.acct -p 0 ||
    fail "kcat could not produce the record that is not JSON"
undecodable "a record that is not JSON" 1
# The first skip is logged (later ones may be rate-limited), naming the record's topic.
tail -n +"$((log_lines + 1))" "$test_tmp/s.log" | grep -q 'component=silver_kafka.*sluice\.public\.acct' ||
    fail "the skipped record that is not JSON was not logged: $(tail -n +"$((log_lines + 1))" "$test_tmp/s.log")"
pass "the skipped record was logged"
# A change event of a row that never existed, without its Connect schema: were it applied, the
# current table would hold id 999999.
printf '%s\t%s\n' '{"id":999999}' '{"before":null,"after":{"id":999999,"name":"ghost","balance":"AQ==","note":null,"updated":null,"active":true},"source":{"version":"2.5.0.Final","connector":"postgresql","name":"sluice","ts_ms":1,"snapshot":"false","db":"postgres","sequence":null,"schema":"public","table":"acct","txId":1,"lsn":1,"xmin":null},"op":"c","ts_ms":1,"transaction":null}' |
    kcat -P -b "$kafka_bootstrap" -t sluice.public.acct -p 1 -K $'\t' || fail "kcat could not produce the change event without a schema"
start=$SECONDS
until curl -s "http://127.0.0.1:${sluice_port[s]}/readyz" >"$test_tmp/readyz.json" &&
    jq -e '.components[] | select(.name == "silver_kafka" and .state == "down")' "$test_tmp/readyz.json" >/dev/null; do
    ((SECONDS - start < 60)) || fail "a change event without a Connect schema did not stop the consumer: $(cat "$test_tmp/readyz.json")"
    sluice_check_alive
    sleep 0.3
done
jq -r '.components[] | select(.name == "silver_kafka") | .message' "$test_tmp/readyz.json" >"$test_tmp/down.txt"
grep -q 'sluice.public.acct \[1\] offset [0-9]*: .*Connect schema' "$test_tmp/down.txt" ||
    fail "the consumer's stop does not name the record and the reason: $(cat "$test_tmp/down.txt")"
pass "a change event without a Connect schema stops the consumer: $(cat "$test_tmp/down.txt" | cut -c1-160)"
bad_offset=$(sed -n 's/.*sluice.public.acct \[1\] offset \([0-9]*\):.*/\1/p' "$test_tmp/down.txt")
"$offsets_tool" "$kafka_bootstrap" "$group" list sluice.public.acct >"$test_tmp/offsets"
awk -v o="$bad_offset" '$2 == 1 { found = 1; if ($3 != o) exit 1 } END { exit !found }' "$test_tmp/offsets" ||
    fail "the group's offset of sluice.public.acct [1] is not at the unread record ($bad_offset): $(cat "$test_tmp/offsets")"
pass "the group's offset stays at the unread record ($bad_offset)"
[ "$(metric s sluice_silver_kafka_skipped_records_total)" = 1 ] ||
    fail "the change event was counted as skipped: $(metric s sluice_silver_kafka_skipped_records_total)"
verify "after the unreadable change event"
check_summaries || fail "the latest snapshots' summaries changed after the unreadable change event"
sluice_stop s
pass "s stopped cleanly"
