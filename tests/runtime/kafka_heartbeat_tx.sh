#!/usr/bin/env bash
# Debezium's heartbeats and transaction metadata on Kafka, read back by kcat:
# kafka.heartbeat_interval=1s writes {"ts_ms": now} records keyed {"serverName": prefix} to
# __debezium-heartbeat.<prefix> about once a second, also while nothing changes;
# kafka.transaction_metadata=true adds the "transaction" block {id, total_order,
# data_collection_order} to every change event and a BEGIN and an END record per transaction
# to <prefix>.transaction, keyed {"id": "<txId>:<commit LSN>"}, whose event_count and per-table
# counts match the change events actually written; transactions that touch no captured table
# write nothing. txIds, commit times and LSNs are checked against an independent test_decoding slot.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/kafka.bash"
pg_start
kafka_mock_start 1

psql_q "
CREATE TABLE a (id int PRIMARY KEY, v text);
CREATE TABLE b (id int PRIMARY KEY, v text);
CREATE TABLE other (id int PRIMARY KEY);"

t0_ms=$(date +%s%3N)
sluice_start hb kafka.topic_prefix=hb kafka.heartbeat_interval=1s kafka.transaction_metadata=true \
    source.tables=public.a,public.b
wait_slot_active hb 30
oracle_create

# Heartbeats while idle: about one a second.
kafka_wait_count __debezium-heartbeat.hb 1 30 "$test_tmp/hb0.jsonl"
n0=$(wc -l <"$test_tmp/hb0.jsonl")
sleep 6
kafka_consume __debezium-heartbeat.hb "$test_tmp/hb1.jsonl" || fail "kcat could not read the heartbeat topic"
n1=$(wc -l <"$test_tmp/hb1.jsonl")
[ $((n1 - n0)) -ge 4 ] && [ $((n1 - n0)) -le 9 ] || fail "$((n1 - n0)) heartbeats in about 6 s with kafka.heartbeat_interval=1s"
t1_ms=$(date +%s%3N)
python3 - "$test_tmp/hb1.jsonl" "$t0_ms" "$t1_ms" <<'PY'
import json, sys
path, t0, t1 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
msgs = sorted((json.loads(l) for l in open(path) if l.strip()), key=lambda m: (m["partition"], m["offset"]))
fails = []
last = 0
for m in msgs:
    if m["key"] != '{"serverName":"hb"}':
        fails.append(f"heartbeat key {m['key']!r}, want {{\"serverName\":\"hb\"}}")
    v = json.loads(m["payload"]) if m["payload"] is not None else None
    if not isinstance(v, dict) or list(v) != ["ts_ms"] or not isinstance(v["ts_ms"], int):
        fails.append(f"heartbeat value {m['payload']!r}, want {{\"ts_ms\": <now>}}")
        continue
    if not (t0 - 1000 <= v["ts_ms"] <= t1 + 1000):
        fails.append(f"heartbeat ts_ms {v['ts_ms']} outside the test's run [{t0}, {t1}]")
    if v["ts_ms"] < last:
        fails.append(f"heartbeat ts_ms went back: {last} -> {v['ts_ms']}")
    last = v["ts_ms"]
if fails:
    sys.exit("\n".join(fails))
print(f"ok: {len(msgs)} heartbeats")
PY
pass "heartbeats on __debezium-heartbeat.hb while idle"

psql_q "BEGIN; INSERT INTO a VALUES (1, 'x'); INSERT INTO b VALUES (1, 'y'); INSERT INTO a VALUES (2, 'z');
        UPDATE a SET v = 'w' WHERE id = 1; COMMIT"
psql_q "INSERT INTO b VALUES (2, 'q')"
psql_q "INSERT INTO other VALUES (1)"   # not captured: no transaction records
psql_q "DELETE FROM a WHERE id = 2"
kafka_wait_count hb.transaction 6 60 "$test_tmp/tx.jsonl"
kafka_wait_count hb.public.a 5 30 "$test_tmp/a.jsonl"    # c c u d + tombstone
kafka_wait_count hb.public.b 2 30 "$test_tmp/b.jsonl"
sleep 2
for t in transaction public.a public.b; do kafka_consume "hb.$t" "$test_tmp/${t#public.}.jsonl" || fail "kcat could not read hb.$t"; done
oracle_dump "$test_tmp/oracle.jsonl"

python3 - "$test_tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
fails = []
def check(cond, msg):
    if not cond:
        fails.append(msg)
def load(name):
    return sorted((json.loads(l) for l in open(f"{tmp}/{name}.jsonl") if l.strip()), key=lambda m: (m["partition"], m["offset"]))

# Oracle: transactions in commit order with their changes.
txs, cur = [], None
for line in open(f"{tmp}/oracle.jsonl"):
    o = json.loads(line)
    if o["data"].startswith("BEGIN"):
        cur = {"xid": o["xid"], "changes": []}
    elif o["data"].startswith("table "):
        cur["changes"].append((o["data"].split(":")[0][6:], o["lsn"]))
    elif o["data"].startswith("COMMIT"):
        cur["end_lsn"], cur["commit_us"] = o["lsn"], o["commit_us"]
        txs.append(cur)
captured = [t for t in txs if any(c[0] in ("public.a", "public.b") for c in t["changes"])]
check(len(txs) == 4 and len(captured) == 3, f"oracle: {len(txs)} transactions, {len(captured)} captured; want 4 and 3")

tx_msgs = load("transaction")
events = [m for m in load("a") + load("b") if m["payload"] is not None]
ev_by_tx = {}
for m in events:
    v = json.loads(m["payload"])
    t = v.get("transaction")
    if not isinstance(t, dict) or list(t) != ["id", "total_order", "data_collection_order"]:
        fails.append(f"event {m['topic']}@{m['offset']}: transaction block {t!r}")
        continue
    ev_by_tx.setdefault(t["id"], []).append((v["source"]["lsn"], v["source"]["table"], v["source"]["txId"], t))

check(len(tx_msgs) == 6, f"{len(tx_msgs)} records on hb.transaction, want 6 (BEGIN and END of 3 transactions)")
# BEGIN and END share a key, so they are in one partition, BEGIN first.
by_xid = {}
for m in tx_msgs:
    p = json.loads(m["payload"]) if m["payload"] else {}
    by_xid.setdefault(str(p.get("id", "")).partition(":")[0], []).append(m)
check(sorted(by_xid) == sorted(str(t["xid"]) for t in captured), f"transaction records for txIds {sorted(by_xid)}, want {[t['xid'] for t in captured]}")
for tx in captured:
    pair = by_xid.get(str(tx["xid"]), [])
    where = f"transaction {tx['xid']}"
    if len(pair) != 2:
        fails.append(f"{where}: {len(pair)} records, want BEGIN and END")
        continue
    begin, end = (json.loads(m["payload"]) for m in pair)
    tid = begin.get("id", "")
    xid_s, _, lsn_s = tid.partition(":")
    check(xid_s == str(tx["xid"]) and lsn_s.isdigit(), f"{where}: id {tid!r}, want '{tx['xid']}:<commit LSN>'")
    if lsn_s.isdigit():
        check(max(c[1] for c in tx["changes"]) < int(lsn_s) < tx["end_lsn"],
              f"{where}: id LSN {lsn_s} is not the commit record's (after the last change, before {tx['end_lsn']})")
    for m in pair:
        check(m["key"] == json.dumps({"id": tid}, separators=(",", ":")), f"{where}: key {m['key']!r}")
    ts = tx["commit_us"] // 1000
    # field order of Debezium's TransactionMetadataValue schema: status, id, event_count, data_collections, ts_ms
    want_begin = {"status": "BEGIN", "id": tid, "event_count": None, "data_collections": None, "ts_ms": ts}
    check(begin == want_begin and list(begin) == list(want_begin), f"{where}: BEGIN {begin}, want {want_begin}")
    evs = sorted(ev_by_tx.get(tid, []))
    tables = [c[0] for c in tx["changes"]]
    counts = {t: tables.count(t) for t in tables}
    check(len(evs) == len(tx["changes"]), f"{where}: {len(evs)} events carry its id, want {len(tx['changes'])}")
    check(list(end) == ["status", "id", "event_count", "data_collections", "ts_ms"] and end.get("status") == "END" and end.get("id") == tid
          and end.get("ts_ms") == ts and end.get("event_count") == len(evs) == len(tx["changes"]),
          f"{where}: END {end}, want {len(tx['changes'])} events")
    dc = end.get("data_collections") or []
    check(sorted((d.get("data_collection"), d.get("event_count")) for d in dc) == sorted(counts.items()) and
          all(list(d) == ["data_collection", "event_count"] for d in dc),
          f"{where}: data_collections {dc}, want {counts}")
    # total_order 1..n in LSN order; data_collection_order 1..k per table.
    per_table = {}
    for n, (lsn, table, txid, t) in enumerate(evs, 1):
        per_table[table] = per_table.get(table, 0) + 1
        check(txid == tx["xid"], f"{where}: event source.txId {txid}")
        check(t["total_order"] == n and t["data_collection_order"] == per_table[table],
              f"{where}: event {table}@{lsn} transaction {t}, want total_order {n} data_collection_order {per_table[table]}")
if fails:
    sys.exit("\n".join(fails))
print(f"ok: {len(tx_msgs)} transaction records, {len(events)} events")
PY
pass "transaction metadata: BEGIN/END records and per-event transaction blocks match"
sluice_stop hb
