#!/usr/bin/env python3
"""bronze_verify: check a bronze layer against what PostgreSQL committed (used by the lake_bronze*
tests; reads the objects with Python's own gzip and json, independently of Sluice).

  bronze_verify.py --root DIR --oracle FILE [--suffix S] [--snapshot-orders N] [--split-table T]
                   [--durable-before LSN]

--root: the directory holding bronze/ (a local lake, or s3rver's bucket directory, whose object
files end with --suffix, e.g. "._S3rver_object"). --oracle: test_decoding changes as written by
oracle_dump (sluice.bash). Checks: every key is bronze/sluice/<schema>.<table>/date=YYYY-MM-DD/
hour=HH/<first>-<last>.jsonl.gz with the partition of its first event's commit hour and
non-overlapping positions per table; the streamed events equal the oracle's changes as a multiset
of (table, op, LSN) (nothing missing, nothing twice); --snapshot-orders N: public.orders was
snapshotted with ids 1..N, each read once; --split-table: that table's large transaction spans
objects; events are Debezium envelopes with decimals as strings.
--durable-before LSN instead checks only that every change of a transaction whose commit ends at
or before LSN is present (what was confirmed to PostgreSQL must already be in the store), and
allows the rest to be missing.
"""
import argparse
import collections
import datetime
import gzip
import json
import os
import re
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--root", required=True)
ap.add_argument("--oracle", required=True)
ap.add_argument("--suffix", default="")
ap.add_argument("--snapshot-orders", type=int, default=0)
ap.add_argument("--split-table")
ap.add_argument("--durable-before", type=int)
a = ap.parse_args()

fails = []


def check(cond, msg):
    if not cond:
        fails.append(msg)


key_re = re.compile(r"^bronze/sluice/(public\.[a-z_]+)/date=(\d{4}-\d\d-\d\d)/hour=(\d\d)/"
                    r"([0-9A-F]{16})_(\d+)-([0-9A-F]{16})_(\d+)\.jsonl\.gz$")
objects = collections.defaultdict(list)
events = []
for root, dirs, files in os.walk(a.root):
    dirs[:] = [d for d in dirs if d != ".tmp"]
    for f in files:
        if not f.endswith(a.suffix):
            continue   # s3rver's metadata files
        key = os.path.relpath(os.path.join(root, f), a.root)
        if a.suffix:
            key = key[:-len(a.suffix)]
        m = key_re.match(key)
        if not m:
            fails.append(f"unexpected object key {key}")
            continue
        table, date, hour = m.group(1), m.group(2), m.group(3)
        first = (int(m.group(4), 16), int(m.group(5)))
        last = (int(m.group(6), 16), int(m.group(7)))
        check(first <= last, f"{key}: first position after last")
        with gzip.open(os.path.join(root, f), "rt", encoding="utf-8") as fh:
            lines = [json.loads(l) for l in fh if l.strip()]
        check(len(lines) > 0, f"{key}: empty object")
        for ev in lines:
            src = ev.get("source") or {}
            check(f"{src.get('schema')}.{src.get('table')}" == table, f"{key}: event of {src.get('table')} in {table}")
            events.append((table, ev))
        if lines:
            ts = datetime.datetime.fromtimestamp(lines[0]["source"]["ts_ms"] / 1000, datetime.timezone.utc)
            check(ts.strftime("%Y-%m-%d") == date and ts.strftime("%H") == hour,
                  f"{key}: partition {date}/{hour} but the first event committed at {ts.isoformat()}")
        objects[table].append((first, last, key))

for table, objs in objects.items():
    objs.sort()
    for (f1, l1, k1), (f2, l2, k2) in zip(objs, objs[1:]):
        check(f2 > l1, f"{table}: objects overlap: {k1} and {k2}")
if a.split_table:
    objs = sorted(objects[a.split_table])
    check(any(o1[1][0] == o2[0][0] for o1, o2 in zip(objs, objs[1:])),
          f"the large transaction was not split across objects: {objs}")

if a.snapshot_orders:
    reads = sorted(ev["after"]["id"] for t, ev in events if ev["op"] == "r")
    check(reads == list(range(1, a.snapshot_orders + 1)),
          f"snapshot reads {reads[:10]}... ({len(reads)}), want ids 1..{a.snapshot_orders} once each")

# Streamed events against the oracle: (table, op, lsn) as multisets.
opmap = {"INSERT": "c", "UPDATE": "u", "DELETE": "d"}
want, durable, pending = collections.Counter(), collections.Counter(), []
for line in open(a.oracle):
    o = json.loads(line)
    d = o["data"]
    if d.startswith("table "):
        table = d.split(":")[0][len("table "):]
        op = d.split(": ")[1].rstrip(":").split(":")[0]
        pending.append((table, opmap[op], o["lsn"]))
    elif d.startswith("COMMIT"):
        for c in pending:
            want[c] += 1
            if a.durable_before is not None and o["lsn"] <= a.durable_before:
                durable[c] += 1
        pending = []
got = collections.Counter((t, ev["op"], ev["source"]["lsn"]) for t, ev in events if ev["op"] != "r")
extra = got - want
check(not extra, f"{sum(extra.values())} change(s) duplicated or unexpected in bronze, e.g. {list(extra)[:5]}")
if a.durable_before is not None:
    missing = durable - got
    check(not missing, f"{sum(missing.values())} change(s) confirmed to PostgreSQL (commit at or before "
                       f"{a.durable_before}) but not in the store, e.g. {list(missing)[:5]}")
    check(sum(durable.values()) > 0, "nothing was confirmed: the check had nothing to check")
else:
    missing = want - got
    check(not missing, f"{sum(missing.values())} change(s) missing from bronze, e.g. {list(missing)[:5]}")
    check(sum(want.values()) > 1000, f"the workload made only {sum(want.values())} changes")
    by_table = collections.Counter(t for t, _, _ in want)
    check(all(by_table[t] for t in ("public.orders", "public.items", "public.events_nokey")),
          f"some table has no changes: {by_table}")

    # The events are Debezium envelopes with decimals as strings (bronze.decimal_handling_mode).
    sample = next((ev for t, ev in events if t == "public.orders" and ev["op"] == "c"), {"after": {}})
    check(list(sample) == ["before", "after", "source", "op", "ts_ms", "ts_us", "ts_ns", "transaction"],
          f"envelope fields {list(sample)}")
    check(isinstance(sample["after"].get("amount"), str),
          f"amount {sample['after'].get('amount')!r} is not a decimal string")
if fails:
    print("\n".join(fails[:30]))
    sys.exit(1)
print(f"ok: {len(events)} events in {sum(len(v) for v in objects.values())} objects compared")
