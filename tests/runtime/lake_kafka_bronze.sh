#!/usr/bin/env bash
# Kafka to bronze: three `sluice run` processes in one consumer group write the bronze layer of a
# shared local lake from two Debezium topics (6 partitions each) on librdkafka's mock cluster
# (3 brokers); one of them is killed with SIGKILL in the middle of the stream while kcat keeps
# producing. The topics hold a few thousand change events (keys, ts_ms over several hours), some
# wrapped as {schema, payload} (schemas.enable), tombstones, and records that are not change
# events. Before the group starts, the test leaves what a crashed member leaves behind (offsets
# committed with an upload intent): on one partition the intended object exists (its records must
# not be written again), on another it does not (it must be written, under exactly that key).
# The test waits until the group's committed offsets reach the end of every partition (read by
# an independent client, tests/tools/kafka_group_offsets), then reads every object with Python's
# gzip and json: every change event produced is in exactly one object, equal to the envelope sent
# (the payload when wrapped), nothing else is; each object holds exactly the change events of its
# partition between the offsets in its key, partitioned by table and the hour of source.ts_ms.
# Each process must have uploaded objects (the partitions were split).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/kafka.bash"
: "${SLUICE_BUILD_DIR:?SLUICE_BUILD_DIR must point to the build tree (ctest sets it)}"
offsets_tool="$SLUICE_BUILD_DIR/tests/kafka_group_offsets"
[ -x "$offsets_tool" ] || fail "kafka_group_offsets not built: $offsets_tool"

group=bronze-test
topics=(sluice.public.orders sluice.public.items)
lake=$test_tmp/lake
kafka_mock_start 3
for t in "${topics[@]}"; do kafka_mock_cmd topic "$t" 6 3; done

# The workload: per topic and phase a kcat input file of "key<TAB>value" lines (an empty value is
# a tombstone with -Z), and expected.jsonl: every change event as it must appear in bronze.
python3 - "$test_tmp" <<'PY'
import json, random, sys
tmp = sys.argv[1]
rnd = random.Random(11)
base_ms = 1709251200000 + 17 * 60 * 1000          # 2024-03-01T00:17Z
phases = {"a": 1400, "b": 1600, "c": 900}
total = sum(phases.values())
n = 0
expected = open(f"{tmp}/expected.jsonl", "w")
stats = {"events": 0, "wrapped": 0, "tombstones": 0, "other": 0}
keys = {t: [] for t in ("orders", "items")}
for phase, count in phases.items():
    files = {t: open(f"{tmp}/{phase}.{t}.txt", "w") for t in ("orders", "items")}
    for _ in range(count):
        n += 1
        table = "orders" if rnd.random() < 0.55 else "items"
        out = files[table]
        r = rnd.random()
        if r < 0.07 and keys[table]:                 # a tombstone for an earlier key
            out.write(f"{rnd.choice(keys[table])}\t\n")
            stats["tombstones"] += 1
            continue
        if r < 0.08:                                  # not a change event: skipped
            out.write(f"hb{n}\t" + (json.dumps({"ts_ms": base_ms}) if n % 2 else "not json {") + "\n")
            stats["other"] += 1
            continue
        ts = base_ms + n * (4 * 3600 * 1000) // total   # four hours over the workload
        key = json.dumps({"id": n})
        keys[table].append(key)
        op = rnd.choice("cuud")
        row = {"id": n, "note": f"n\u00e9e {n} \"q\" \\ tab\tend", "amount": str(rnd.randint(1, 10**6) / 100)}
        env = {"before": row if op in "ud" else None, "after": None if op == "d" else row,
               "source": {"version": "2.5.0.Final", "connector": "postgresql", "name": "sluice", "ts_ms": ts,
                          "snapshot": "false", "db": "shop", "sequence": None, "schema": "public",
                          "table": table, "txId": 1000 + n, "lsn": 40000000 + n * 64, "xmin": None},
               "op": op, "ts_ms": ts + 5, "transaction": None}
        line = json.dumps(env, ensure_ascii=False, separators=(",", ":"))
        if rnd.random() < 0.25:                       # schemas.enable
            wrapped = {"schema": {"type": "struct", "optional": False, "name": f"sluice.public.{table}.Envelope",
                                  "fields": []}, "payload": env}
            line = json.dumps(wrapped, ensure_ascii=False, separators=(", ", ": "))
            stats["wrapped"] += 1
        out.write(f"{key}\t{line}\n")
        expected.write(json.dumps(env, ensure_ascii=False) + "\n")
        stats["events"] += 1
    for f in files.values():
        f.close()
json.dump(stats, open(f"{tmp}/stats.json", "w"))
print("workload:", stats)
PY

produce() {   # produce PHASE: the phase's messages of both topics
    local t
    for t in orders items; do
        kcat -P -b "$kafka_bootstrap" -t "sluice.public.$t" -K $'\t' -Z -l "$test_tmp/$1.$t.txt" ||
            fail "kcat could not produce $1.$t"
    done
}
produce a
kafka_consume sluice.public.orders "$test_tmp/orders.a.json" 30 || fail "cannot read back sluice.public.orders"

# A crashed member's leftovers: on partition 0 of the orders topic an upload intent whose object
# exists, on partition 1 one whose object does not.
python3 - "$test_tmp/orders.a.json" "$lake" "$test_tmp/seed" <<'PY'
import datetime, gzip, json, os, sys
records = [json.loads(l) for l in open(sys.argv[1])]
lake, seed = sys.argv[2], open(sys.argv[3], "w")
def envelope(payload):
    try:
        v = json.loads(payload)
    except (TypeError, ValueError):
        return None
    if isinstance(v, dict) and "schema" in v and "payload" in v:
        v = v["payload"]
    return v if isinstance(v, dict) and "op" in v else None
for part, present in ((0, True), (1, False)):
    recs = sorted((r for r in records if r["partition"] == part), key=lambda r: r["offset"])
    events = [(r["offset"], envelope(r["payload"])) for r in recs if envelope(r["payload"])]
    # The first change event: a member that committed offset f has written everything before it.
    first, hour = events[0][0], events[0][1]["source"]["ts_ms"] // 3600000
    chosen = [e for e in events if e[0] >= first and e[1]["source"]["ts_ms"] // 3600000 == hour][:25]
    last = chosen[-1][0]
    assert all(e[0] in range(first, last + 1) for e in chosen) and len(chosen) >= 5
    t = datetime.datetime.fromtimestamp(hour * 3600, datetime.timezone.utc)
    key = (f"bronze/sluice/public.orders/date={t:%Y-%m-%d}/hour={t:%H}/"
           f"ksluice.public.orders.{part}_{first:019d}-{last:019d}.jsonl.gz")
    if present:
        os.makedirs(os.path.dirname(os.path.join(lake, key)), exist_ok=True)
        with gzip.open(os.path.join(lake, key), "wt", encoding="utf-8") as f:
            for _, env in chosen:
                f.write(json.dumps(env, ensure_ascii=False) + "\n")
    seed.write(f"{part} {first} {last} {key} {'present' if present else 'absent'}\n")
PY
while read -r part first last key state; do
    "$offsets_tool" "$kafka_bootstrap" "$group" commit sluice.public.orders "$part" "$first" \
        "sluice-bronze pending $last $key" || fail "cannot seed the intent of partition $part"
done <"$test_tmp/seed"
"$offsets_tool" "$kafka_bootstrap" "$group" list sluice.public.orders | grep -q ' 0 [0-9]* [0-9]* sluice-bronze pending ' ||
    fail "the seeded intent does not read back: $("$offsets_tool" "$kafka_bootstrap" "$group" list sluice.public.orders)"
pass "left a crashed member's upload intents (one uploaded, one not)"

settings=(lake.store=local "lake.path=$lake" bronze.roll_age=1s 'bronze.kafka_topics=^sluice\..*'
    "bronze.kafka_group=$group" bronze.kafka_session_timeout=6s)
for name in a b c; do sluice_start "$name" "${settings[@]}"; done

metric() {   # metric NAME METRIC: its value in NAME's /metrics (0 when absent)
    curl -s "http://127.0.0.1:${sluice_port[$1]}/metrics" | awk -v m="$2" '$1 == m { v = $2 } END { print v + 0 }'
}
# Mid-stream: each of the three writes objects, then c is killed while kcat keeps producing.
produce b &
producer=$!
start=$SECONDS
while :; do
    ready=0
    for name in a b c; do
        [ "$(metric "$name" sluice_bronze_kafka_objects_total)" -gt 0 ] && ready=$((ready + 1))
    done
    [ "$ready" = 3 ] && break
    ((SECONDS - start < 90)) || fail "not every process uploads: $(for n in a b c; do echo "$n: $(metric $n sluice_bronze_kafka_objects_total)"; done)"
    sluice_check_alive
    sleep 0.2
done
kill -9 "${sluice_pid[c]}"
wait "${sluice_pid[c]}" 2>/dev/null || true
unset "sluice_pid[c]"
pass "the three processes split the partitions; killed c with SIGKILL mid-stream"
wait "$producer" || fail "producing phase b failed"
produce c

# Until the group's committed offsets are at the end of every partition, with no intent left.
start=$SECONDS
while :; do
    "$offsets_tool" "$kafka_bootstrap" "$group" list "${topics[@]}" >"$test_tmp/offsets" 2>"$test_tmp/offsets.err" &&
        [ "$(wc -l <"$test_tmp/offsets")" = 12 ] &&
        awk '$3 != $4 || $5 != "-" { bad = 1 } END { exit bad }' "$test_tmp/offsets" && break
    if ((SECONDS - start > 120)); then
        cat "$test_tmp/offsets" "$test_tmp/offsets.err"
        for n in a b; do tail -20 "$test_tmp/$n.log"; done
        fail "the group's committed offsets did not reach the end of every partition"
    fi
    sluice_check_alive
    sleep 0.5
done
pass "committed offsets reached the end of all 12 partitions"

assigned=0
for name in a b; do
    m=$(curl -s "http://127.0.0.1:${sluice_port[$name]}/metrics")
    echo "$name: $(grep -E '^sluice_bronze_kafka_(objects_total|assigned_partitions|intents_settled_total|skipped_records_total)' <<<"$m" | tr '\n' ' ')"
    n=$(awk '$1 == "sluice_bronze_kafka_assigned_partitions" { print $2 + 0 }' <<<"$m")
    [ "${n:-0}" -gt 0 ] || fail "$name has no partitions after the rebalance"
    assigned=$((assigned + n))
done
[ "$assigned" = 12 ] || fail "the survivors hold $assigned partitions, want 12"
for name in a b; do sluice_stop "$name"; done
# A put that c's SIGKILL interrupted leaves its temporary file; the store's crash sweep removes it
# at the next start of any writer on the lake.
sluice_start a
sluice_stop a
[ -z "$(ls -A "$lake/.tmp" 2>/dev/null)" ] || fail "temporary files left in the lake: $(ls "$lake/.tmp")"
for t in "${topics[@]}"; do
    kafka_consume "$t" "$test_tmp/$t.all.json" 30 || fail "cannot read back $t"
done

python3 - "$lake" "$test_tmp" <<'PY'
import collections, datetime, gzip, json, os, re, sys
lake, tmp = sys.argv[1], sys.argv[2]
fails = []
def check(cond, msg):
    if not cond:
        fails.append(msg)
def envelope(payload):
    try:
        v = json.loads(payload)
    except (TypeError, ValueError):
        return None
    if isinstance(v, dict) and "schema" in v and "payload" in v:
        v = v["payload"]
    return v if isinstance(v, dict) and "op" in v and "source" in v else None
def canon(v):
    return json.dumps(v, sort_keys=True, ensure_ascii=False)

# What Kafka holds, read back by kcat: (topic, partition) -> {offset: envelope or None}.
kafka = collections.defaultdict(dict)
for t in ("sluice.public.orders", "sluice.public.items"):
    for line in open(f"{tmp}/{t}.all.json"):
        r = json.loads(line)
        kafka[(r["topic"], r["partition"])][r["offset"]] = envelope(r["payload"])
expected = collections.Counter(canon(json.loads(l)) for l in open(f"{tmp}/expected.jsonl"))
stats = json.load(open(f"{tmp}/stats.json"))
check(sum(1 for p in kafka.values() for e in p.values() if e) == stats["events"],
      "kcat reads back a different number of change events than were produced")
check(stats["events"] > 3000 and stats["wrapped"] > 300 and stats["tombstones"] > 100 and stats["other"] > 10,
      f"workload too small: {stats}")
check(len(kafka) == 12, f"records in {len(kafka)} partitions, want 12")

key_re = re.compile(r"^bronze/sluice/(public\.(orders|items))/date=(\d{4}-\d\d-\d\d)/hour=(\d\d)/"
                    r"k(sluice\.public\.(?:orders|items))\.(\d+)_(\d{19})-(\d{19})\.jsonl\.gz$")
got = collections.Counter()
covered = collections.defaultdict(list)   # (topic, partition) -> [(first, last, key)]
hours = set()
for root, dirs, files in os.walk(lake):
    dirs[:] = [d for d in dirs if d != ".tmp"]
    for f in files:
        key = os.path.relpath(os.path.join(root, f), lake)
        m = key_re.match(key)
        if not m:
            fails.append(f"unexpected object key {key}")
            continue
        table, tname, date, hour, topic = m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)
        part, first, last = int(m.group(6)), int(m.group(7)), int(m.group(8))
        check(topic == f"sluice.public.{tname}", f"{key}: topic {topic} in table {table}")
        with gzip.open(os.path.join(root, f), "rt", encoding="utf-8") as fh:
            raw = fh.read()
        check(raw.endswith("\n"), f"{key}: last line not newline-terminated")
        lines = [json.loads(l) for l in raw.split("\n") if l]
        recs = kafka.get((topic, part), {})
        want = [recs[o] for o in sorted(recs) if first <= o <= last and recs[o]]
        check(recs.get(first) is not None and recs.get(last) is not None,
              f"{key}: the offsets in its name are not change events")
        check([canon(x) for x in lines] == [canon(x) for x in want],
              f"{key}: holds {len(lines)} events, not the {len(want)} change events of offsets {first}-{last}")
        for ev in lines:
            got[canon(ev)] += 1
            check(f"{ev['source']['schema']}.{ev['source']['table']}" == table, f"{key}: event of another table")
        if lines:
            ts = datetime.datetime.fromtimestamp(lines[0]["source"]["ts_ms"] / 1000, datetime.timezone.utc)
            check(ts.strftime("%Y-%m-%d") == date and ts.strftime("%H") == hour,
                  f"{key}: partition {date}/{hour}, first event at {ts.isoformat()}")
            hours.add((date, hour))
        covered[(topic, part)].append((first, last, key))

for tp, objs in covered.items():
    objs.sort()
    for (f1, l1, k1), (f2, l2, k2) in zip(objs, objs[1:]):
        check(f2 > l1, f"{tp}: objects overlap: {k1} and {k2}")
missing, extra = expected - got, got - expected
check(not missing, f"{sum(missing.values())} event(s) missing from bronze, e.g. {list(missing)[:2]}")
check(not extra, f"{sum(extra.values())} event(s) duplicated or unexpected in bronze, e.g. {list(extra)[:2]}")
check(len(hours) >= 4, f"events in only {len(hours)} hour partitions")

# The seeded intents: the existing object kept, the missing one written under exactly its key.
for line in open(f"{tmp}/seed"):
    part, first, last, key, state = line.split()
    check(os.path.exists(os.path.join(lake, key)), f"the {state} intent's object {key} is not in the lake")
if fails:
    print("\n".join(fails[:30]))
    sys.exit(1)
print(f"ok: {sum(got.values())} events in {sum(len(v) for v in covered.values())} objects compared")
PY
pass "every change event is in exactly one bronze object; nothing else is"
settled=$(cat "$test_tmp/a.log" "$test_tmp/b.log" "$test_tmp/c.log" | grep -c 'by the previous owner' || true)
[ "$settled" -ge 2 ] || fail "the seeded intents were not reported as settled (log lines: $settled)"
pass "the upload intents left by a crashed member were settled"
