#!/usr/bin/env bash
# Change events on Kafka are what Debezium's PostgreSQL connector writes, read back by kcat:
# topics <prefix>.<schema>.<table>; snapshot reads (op r, source.snapshot true/last); inserts,
# updates and deletes followed by a tombstone; a primary-key change as delete (header
# __debezium.newkey) + tombstone + create (header __debezium.oldkey); a keyless table (null key);
# tables with REPLICA IDENTITY FULL (full before image, primary key as the key, none without one;
# a keyless delete still gets its tombstone); truncates
# skipped by default and sent with kafka.skipped_operations=none. Every key, value and
# header is compared with the expected Debezium JSON written out below; source.lsn, txId and the
# commit time come from an independent test_decoding slot. Only the envelope's processing times
# (ts_ms/ts_us/ts_ns, checked for consistency) and source.version are not fixed in advance.
# Keyed messages must sit in the partition Java's murmur2 partitioner picks (computed here).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/kafka.bash"
pg_start
kafka_mock_start 3

psql_q "
CREATE TABLE acct (id int PRIMARY KEY, name text, balance bigint);
CREATE TABLE pairs (a int, b text, n int, PRIMARY KEY (a, b));
CREATE TABLE nokey (a int, b text);
CREATE TABLE trunc (id int PRIMARY KEY);
CREATE TABLE acct_full (id int PRIMARY KEY, name text);
ALTER TABLE nokey REPLICA IDENTITY FULL;
ALTER TABLE acct_full REPLICA IDENTITY FULL;
INSERT INTO acct VALUES (1, 'one', 100), (2, 'two', 200), (3, 'three', 300);"

# Topics with 3 partitions made beforehand, so the murmur2 check below spans partitions whatever
# the cluster's own topic creation does (librdkafka's mock cluster has no CreateTopics).
for t in shop.public.acct shop.public.pairs shop.public.nokey shop.public.trunc shop.public.acct_full trall.public.trunc; do
    kafka_mock_cmd topic "$t" 3 3
done

# shop: every table, default settings (truncates skipped); tr_all: truncates sent, no snapshot.
sluice_start shop kafka.topic_prefix=shop kafka.partitions=3
sluice_start tr_all kafka.topic_prefix=trall kafka.partitions=3 kafka.skipped_operations=none \
    source.tables=public.trunc source.snapshot_mode=never
kafka_wait_count shop.public.acct 3 60 "$test_tmp/acct.jsonl"
wait_slot_active shop 30
wait_slot_active tr_all 30
oracle_create

# Each statement is its own transaction except the explicit one.
psql_q "INSERT INTO acct VALUES (4, 'four', 400)"
psql_q "UPDATE acct SET name = 'uno', balance = 101 WHERE id = 1"
psql_q "DELETE FROM acct WHERE id = 3"
psql_q "UPDATE acct SET id = 20 WHERE id = 2"
psql_q "BEGIN; INSERT INTO pairs VALUES (1, 'x', 1), (1, 'y', 2); UPDATE pairs SET n = n + 10 WHERE b = 'x'; COMMIT"
psql_q "INSERT INTO nokey VALUES (7, 'seven'), (8, 'eight')"
psql_q "UPDATE nokey SET b = 'eight!' WHERE a = 8"
psql_q "DELETE FROM nokey WHERE a = 7"
psql_q "INSERT INTO trunc VALUES (1), (2)"
psql_q "TRUNCATE trunc"
psql_q "INSERT INTO acct VALUES (5, 'five', 500)"
psql_q "INSERT INTO acct_full VALUES (1, 'one')"
psql_q "UPDATE acct_full SET name = 'uno' WHERE id = 1"

# 3 reads + c + u + d, tombstone + d, tombstone, c (key change) + c
kafka_wait_count shop.public.acct 11 60 "$test_tmp/acct.jsonl"
kafka_wait_count shop.public.pairs 3 30 "$test_tmp/pairs.jsonl"
kafka_wait_count shop.public.nokey 5 30 "$test_tmp/nokey.jsonl"
kafka_wait_count shop.public.trunc 2 30 "$test_tmp/trunc.jsonl"
kafka_wait_count trall.public.trunc 3 30 "$test_tmp/all_trunc.jsonl"
kafka_wait_count shop.public.acct_full 2 30 "$test_tmp/acct_full.jsonl"
sleep 2   # anything extra (a duplicate, a truncate that should be skipped) would show up now
for t in acct pairs nokey trunc acct_full; do kafka_consume "shop.public.$t" "$test_tmp/$t.jsonl" || fail "kcat could not read shop.public.$t"; done
kafka_consume trall.public.trunc "$test_tmp/all_trunc.jsonl" || fail "kcat could not read trall.public.trunc"
oracle_dump "$test_tmp/oracle.jsonl"

python3 - "$test_tmp" <<'PY'
import json, sys, time

tmp = sys.argv[1]
fails = []
def check(cond, msg):
    if not cond:
        fails.append(msg)

def murmur2(data):
    """Kafka's org.apache.kafka.common.utils.Utils.murmur2, on unsigned 32-bit arithmetic."""
    m, r, mask = 0x5bd1e995, 24, 0xffffffff
    n = len(data)
    h = (0x9747b28c ^ n) & mask
    for i in range(n // 4):
        k = int.from_bytes(data[4 * i:4 * i + 4], 'little')
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = ((h * m) & mask) ^ k
    tail = n & ~3
    rem = n % 4
    if rem == 3:
        h ^= data[tail + 2] << 16
    if rem >= 2:
        h ^= data[tail + 1] << 8
    if rem >= 1:
        h ^= data[tail]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h

# Kafka's own test vectors (UtilsTest.testMurmur2): the implementation above is Java's.
for s, want in [(b"21", -973932308), (b"foobar", -790332482), (b"a-little-bit-long-string", -985981536),
                (b"a-little-bit-longer-string", -1486304829), (b"abc", 479470107),
                (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]:
    assert murmur2(s) == want, (s, murmur2(s), want)

def java_partition(key_bytes, n):
    return (murmur2(key_bytes) & 0x7fffffff) % n

def load(name):
    out = []
    with open(f"{tmp}/{name}.jsonl") as f:
        for line in f:
            if line.strip():
                m = json.loads(line)
                m["value"] = json.loads(m["payload"]) if m.get("payload") is not None else None
                h = m.get("headers") or []
                m["hdrs"] = [(h[i], h[i + 1]) for i in range(0, len(h), 2)]
                out.append(m)
    return out

topics = {"shop.public.acct": load("acct"), "shop.public.pairs": load("pairs"),
          "shop.public.nokey": load("nokey"), "shop.public.trunc": load("trunc"),
          "shop.public.acct_full": load("acct_full"),
          "trall.public.trunc": load("all_trunc")}

# The oracle: every change PostgreSQL committed, in commit order, with its LSN, xid and commit time.
changes, commit_us, pending = [], {}, []
for line in open(f"{tmp}/oracle.jsonl"):
    o = json.loads(line)
    d = o["data"]
    if d.startswith("table "):
        table, op = d.split(":")[0][len("table "):], d.split(": ")[1].rstrip(":").split(":")[0]
        pending.append({"table": table, "op": op, "lsn": o["lsn"], "xid": o["xid"], "data": d})
    elif d.startswith("COMMIT"):
        for c in pending:
            c["commit_us"] = o["commit_us"]
        changes.extend(pending)
        pending = []
want_changes = [("public.acct", "INSERT"), ("public.acct", "UPDATE"), ("public.acct", "DELETE"),
                ("public.acct", "UPDATE"), ("public.pairs", "INSERT"), ("public.pairs", "INSERT"),
                ("public.pairs", "UPDATE"), ("public.nokey", "INSERT"), ("public.nokey", "INSERT"),
                ("public.nokey", "UPDATE"), ("public.nokey", "DELETE"), ("public.trunc", "INSERT"), ("public.trunc", "INSERT"),
                ("public.trunc", "TRUNCATE"), ("public.acct", "INSERT"), ("public.acct_full", "INSERT"),
                ("public.acct_full", "UPDATE")]
got_changes = [(c["table"], c["op"]) for c in changes]
if got_changes != want_changes:
    sys.exit(f"oracle saw {got_changes}\nwant {want_changes}")

def compact(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)

ENVELOPE = ["before", "after", "source", "op", "ts_ms", "ts_us", "ts_ns", "transaction"]
SOURCE = ["version", "connector", "name", "ts_ms", "snapshot", "db", "sequence", "ts_us", "ts_ns",
          "schema", "table", "txId", "lsn", "xmin"]
now_us = int(time.time() * 1e6)

def check_times(where, v, not_before_us):
    ts_ms, ts_us, ts_ns = v.get("ts_ms"), v.get("ts_us"), v.get("ts_ns")
    ok = all(isinstance(x, int) for x in (ts_ms, ts_us, ts_ns))
    check(ok and ts_us // 1000 == ts_ms and ts_ns // 1000 == ts_us, f"{where}: inconsistent ts_ms/us/ns {ts_ms} {ts_us} {ts_ns}")
    check(ok and not_before_us - 1000 <= ts_us <= now_us, f"{where}: processing time {ts_us} outside [{not_before_us}, {now_us}]")

def check_value(where, m, prefix, table, op, before, after, change=None, snapshot="false"):
    v = m["value"]
    if v is None:
        fails.append(f"{where}: null value, want op {op}")
        return
    check(list(v) == ENVELOPE, f"{where}: envelope fields {list(v)}, want {ENVELOPE}")
    check(v.get("op") == op, f"{where}: op {v.get('op')}, want {op}")
    check(v.get("before") == before, f"{where}: before {compact(v.get('before'))}, want {compact(before)}")
    check(v.get("after") == after, f"{where}: after {compact(v.get('after'))}, want {compact(after)}")
    check(v.get("transaction") is None, f"{where}: transaction block without kafka.transaction_metadata")
    s = v.get("source") or {}
    check(list(s) == SOURCE, f"{where}: source fields {list(s)}, want {SOURCE}")
    check(isinstance(s.get("version"), str) and s.get("version"), f"{where}: source.version {s.get('version')!r}")
    want = {"connector": "postgresql", "name": prefix, "snapshot": snapshot, "db": "postgres",
            "schema": "public", "table": table, "xmin": None}
    if change is not None:
        cu = change["commit_us"]
        want.update({"ts_ms": cu // 1000, "ts_us": cu, "ts_ns": cu * 1000, "txId": change["xid"], "lsn": change["lsn"]})
        check_times(where, v, cu)
        try:
            seq = json.loads(s.get("sequence"))
            check(isinstance(seq, list) and len(seq) == 2 and seq[1] == str(change["lsn"]) and
                  (seq[0] is None or (seq[0].isdigit() and int(seq[0]) < change["lsn"])),
                  f"{where}: source.sequence {s.get('sequence')!r}, want [\"<last commit LSN>\",\"{change['lsn']}\"]")
        except (TypeError, ValueError):
            fails.append(f"{where}: source.sequence is not a JSON array string: {s.get('sequence')!r}")
    else:   # snapshot read: positions of the snapshot, not of a change
        check(isinstance(s.get("lsn"), int) and (s.get("txId") is None or isinstance(s.get("txId"), int)),
              f"{where}: snapshot source.lsn/txId {s.get('lsn')!r}/{s.get('txId')!r}")
        check(isinstance(s.get("ts_ms"), int) and isinstance(s.get("ts_us"), int) and s["ts_us"] // 1000 == s["ts_ms"],
              f"{where}: snapshot source times {s.get('ts_ms')!r}/{s.get('ts_us')!r}")
        check_times(where, v, 0)
    for k, w in want.items():
        check(s.get(k) == w, f"{where}: source.{k} = {s.get(k)!r}, want {w!r}")

used = set()
def take(topic, pred, what):
    found = [m for m in topics[topic] if pred(m)]
    if len(found) != 1:
        fails.append(f"{topic}: {len(found)} messages for {what}, want exactly 1")
        return None
    used.add((topic, found[0]["partition"], found[0]["offset"]))
    return found[0]

def check_key(where, m, key, nparts=3):
    if key is None:
        check(m.get("key") is None, f"{where}: key {m.get('key')!r}, want null (no primary key)")
        return
    check(m.get("key") == compact(key), f"{where}: key {m.get('key')!r}, want {compact(key)}")
    if m.get("key") is not None:
        want_p = java_partition(m["key"].encode(), nparts)
        check(m["partition"] == want_p, f"{where}: key {m['key']} in partition {m['partition']}, murmur2 says {want_p}")

def event(topic, k, op, key, before, after, headers=(), tombstone=False, prefix="shop"):
    """Check the message for oracle change k (and the tombstone after it); returns the event."""
    c = changes[k]
    table = topic.split(".")[-1]
    where = f"{topic} change {k} ({c['data'][:60]}) op {op}"
    m = take(topic, lambda m: m["value"] is not None and m["value"].get("op") == op and
             (m["value"].get("source") or {}).get("lsn") == c["lsn"], where)
    if not m:
        return None
    check_key(where, m, key)
    check(m["hdrs"] == list(headers), f"{where}: headers {m['hdrs']}, want {list(headers)}")
    check_value(where, m, prefix, table, op, before, after, change=c)
    if tombstone:
        t = take(topic, lambda x: x["partition"] == m["partition"] and x["offset"] == m["offset"] + 1, f"tombstone after {where}")
        if t:
            check(t["value"] is None and t.get("payload") is None, f"{where}: message after the delete is not a tombstone: {t.get('payload')!r}")
            check(t.get("key") == m.get("key"), f"{where}: tombstone key {t.get('key')!r}, want {m.get('key')!r}")
            # Debezium copies the delete's headers onto its tombstone (EventDispatcher).
            check(t["hdrs"] == m["hdrs"], f"{where}: tombstone headers {t['hdrs']}, want the delete's {m['hdrs']}")
    return m

acct = lambda i, name, bal: {"id": i, "name": name, "balance": bal}
keyonly = lambda i: {"id": i, "name": None, "balance": None}

# Snapshot: three reads, exactly one marked last.
reads = [m for m in topics["shop.public.acct"] if m["value"] is not None and m["value"].get("op") == "r"]
check(len(reads) == 3, f"{len(reads)} snapshot reads, want 3")
rows = {1: acct(1, "one", 100), 2: acct(2, "two", 200), 3: acct(3, "three", 300)}
for m in reads:
    i = (m["value"].get("after") or {}).get("id")
    where = f"snapshot read id {i}"
    snap = (m["value"].get("source") or {}).get("snapshot")
    check(i in rows, f"{where}: unexpected row")
    check_key(where, m, {"id": i})
    check(m["hdrs"] == [], f"{where}: headers {m['hdrs']}")
    check_value(where, m, "shop", "acct", "r", None, rows.get(i), snapshot=snap if snap in ("true", "last") else "true/last")
    used.add(("shop.public.acct", m["partition"], m["offset"]))
check(sorted((m["value"]["source"] or {}).get("snapshot") for m in reads) == ["last", "true", "true"],
      f"snapshot markers {[m['value']['source'].get('snapshot') for m in reads]}, want true, true, last")

A = "shop.public.acct"
event(A, 0, "c", {"id": 4}, None, acct(4, "four", 400))
event(A, 1, "u", {"id": 1}, None, acct(1, "uno", 101))   # REPLICA IDENTITY DEFAULT: no before
event(A, 2, "d", {"id": 3}, keyonly(3), None, tombstone=True)
pk_del = event(A, 3, "d", {"id": 2}, keyonly(2), None, headers=[("__debezium.newkey", '{"id":20}')], tombstone=True)
pk_ins = event(A, 3, "c", {"id": 20}, None, acct(20, "two", 200), headers=[("__debezium.oldkey", '{"id":2}')])
event(A, 14, "c", {"id": 5}, None, acct(5, "five", 500))
P = "shop.public.pairs"
event(P, 4, "c", {"a": 1, "b": "x"}, None, {"a": 1, "b": "x", "n": 1})
event(P, 5, "c", {"a": 1, "b": "y"}, None, {"a": 1, "b": "y", "n": 2})
event(P, 6, "u", {"a": 1, "b": "x"}, None, {"a": 1, "b": "x", "n": 11})
N = "shop.public.nokey"
event(N, 7, "c", None, None, {"a": 7, "b": "seven"})
event(N, 8, "c", None, None, {"a": 8, "b": "eight"})
# REPLICA IDENTITY FULL without a primary key: the full before image, still no key
event(N, 9, "u", None, {"a": 8, "b": "eight"}, {"a": 8, "b": "eight!"})
event(N, 10, "d", None, {"a": 7, "b": "seven"}, None)
# Debezium sends the tombstone after a keyless delete too: null key, null value, in whatever
# partition the producer picks for a null key
take(N, lambda m: m["value"] is None and m.get("key") is None and m.get("payload") is None and m["hdrs"] == [],
     "the tombstone after the keyless delete")
T = "shop.public.trunc"
event(T, 11, "c", {"id": 1}, None, {"id": 1})
event(T, 12, "c", {"id": 2}, None, {"id": 2})
F = "shop.public.acct_full"   # REPLICA IDENTITY FULL with a primary key: the key is the primary key
event(F, 15, "c", {"id": 1}, None, {"id": 1, "name": "one"})
event(F, 16, "u", {"id": 1}, {"id": 1, "name": "one"}, {"id": 1, "name": "uno"})   # an update, not a key change
AT = "trall.public.trunc"
event(AT, 11, "c", {"id": 1}, None, {"id": 1}, prefix="trall")
event(AT, 12, "c", {"id": 2}, None, {"id": 2}, prefix="trall")
event(AT, 13, "t", None, None, None, prefix="trall")

# Nothing else: no duplicates, no truncate on shop (skipped by default).
for topic, msgs in topics.items():
    for m in msgs:
        if (topic, m["partition"], m["offset"]) not in used:
            fails.append(f"{topic}: unexpected message p{m['partition']}@{m['offset']} key {m.get('key')} value {m.get('payload')}")

# Per key, the messages come in commit order within their partition.
for topic, msgs in topics.items():
    by_key = {}
    for m in msgs:
        if m.get("key") is not None:
            by_key.setdefault(m["key"], []).append(m)
    for key, ms in by_key.items():
        check(len({m["partition"] for m in ms}) == 1, f"{topic}: key {key} spread over partitions")
        ms.sort(key=lambda m: m["offset"])
        lsns = [(m["value"] or {}).get("source", {}).get("lsn", -1) if m["value"] else None for m in ms]
        ops = [m["value"]["op"] if m["value"] else "tombstone" for m in ms]
        check(ops[0:1] != ["tombstone"], f"{topic}: key {key} starts with a tombstone")
        stream = [l for l, o in zip(lsns, ops) if o not in ("r", "tombstone")]
        check(stream == sorted(stream), f"{topic}: key {key} out of commit order: {list(zip(ops, lsns))}")
        check(all(o == "r" for o in ops[:sum(1 for o in ops if o == 'r')]), f"{topic}: key {key}: snapshot read after a change: {ops}")

if pk_del and pk_ins:
    check(pk_del["key"] == '{"id":2}' and pk_ins["key"] == '{"id":20}', "key change keys")

if fails:
    print("\n".join(fails))
    sys.exit(1)
print(f"ok: {sum(len(v) for v in topics.values())} messages compared")
PY
pass "keys, values, headers, tombstones and partitions as Debezium writes them"

# Everything is delivered, so both slots confirm the last transaction.
last_commit=$(python3 -c "
import json,sys
print([json.loads(l)['lsn'] for l in open(sys.argv[1]) if json.loads(l)['data'].startswith('COMMIT')][-1])" "$test_tmp/oracle.jsonl")
wait_slot_confirmed shop "$last_commit" 30
wait_slot_confirmed tr_all "$last_commit" 30
pass "confirmed_flush_lsn reaches the last delivered transaction"
sluice_stop shop
sluice_stop tr_all
pass "both daemons stop cleanly"
