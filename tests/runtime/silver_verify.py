#!/usr/bin/env python3
"""silver_verify: checks the silver tables of the lake_silver test against PostgreSQL and an SCD2
computed here, independently of Sluice, from what PostgreSQL committed.

  silver_verify.py DIR [TABLES]

TABLES: the tables to check, comma-separated (default "acct,line"). DIR holds, per table T:
  T.current.json  T.history.json   icebird's reading of the silver tables ({"rows": [...]})
  T.pg.json                        SELECT * from PostgreSQL at the end (json_agg of the rows)
  T.initial.json                   the rows that existed when the capture's snapshot read them
and oracle.jsonl, the test_decoding slot's log (sluice.bash oracle_dump).

Checks: the current table equals PostgreSQL's table (as a multiset: no duplicate, no missing
row); the history table equals this SCD2, version for version: the snapshot's rows as op r
(their valid_from and lsn are the snapshot's, taken from the table and checked to be one
value), then per committed change in commit order: a create opens a version (op c); an update
closes the key's version (valid_to = the commit time, is_current false) and opens one (op u);
a delete closes it and adds the row it leaves (op d, valid_from = valid_to = the commit time);
a primary-key change is a delete of the old key and a create of the new one. Unchanged TOAST
values come from the key's previous version. lsn is the change's WAL position, txid its
transaction's xid. The current table also equals the history's current versions.
"""
import collections
import datetime
import decimal
import json
import re
import sys

DIR = sys.argv[1]

TABLES = {
    "acct": {"key": ["id"], "cols": ["id", "name", "balance", "note", "updated", "active"]},
    "line": {"key": ["order_id", "line"], "cols": ["order_id", "line", "qty", "price"]},
}


def norm(table, col, v):
    """One value as comparable text, from any of the sources (icebird, PostgreSQL JSON, test_decoding)."""
    if v is None:
        return None
    if table == "acct" and col == "balance":
        return "%.2f" % decimal.Decimal(str(v))
    if col in ("id", "order_id", "line", "qty", "updated"):
        return str(int(v))
    if col == "price":
        return repr(float(v))
    if col == "active":
        return bool(v)
    return v


def norm_row(table, r):
    return tuple(norm(table, c, r.get(c)) for c in TABLES[table]["cols"])


# ---- test_decoding -------------------------------------------------------------------------------

TOKEN = re.compile(r"(\w+)\[([^\]]+)\]:('(?:[^']|'')*'|\S+)")
TS = re.compile(r"(\d+)-(\d+)-(\d+) (\d+):(\d+):(\d+)(\.\d+)?([+-]\d\d)(?::?(\d\d))?")
UNCHANGED = object()


def td_value(typ, raw):
    if raw == "null":
        return None
    if raw == "unchanged-toast-datum":
        return UNCHANGED
    if raw.startswith("'"):
        raw = raw[1:-1].replace("''", "'")
    if typ == "timestamp with time zone":
        m = TS.fullmatch(raw)
        assert m, f"unexpected timestamp {raw!r}"
        y, mo, d, h, mi, s = (int(x) for x in m.group(1, 2, 3, 4, 5, 6))
        frac = int((m.group(7) or ".0")[1:].ljust(6, "0"))
        off = int(m.group(8)) * 3600 + (int(m.group(9) or 0) * 60 * (1 if m.group(8)[0] == "+" else -1))
        t = datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc) - datetime.timedelta(seconds=off)
        return (int(t.timestamp()) * 1000000) + frac
    if typ == "boolean":
        return raw == "true"
    return raw


def td_tuple(text):
    return {m.group(1): td_value(m.group(2), m.group(3)) for m in TOKEN.finditer(text)}


def td_change(data):
    """(table, op, old key values or None, values) of a change line."""
    m = re.match(r"table public\.(\w+): (INSERT|UPDATE|DELETE): (.*)$", data, re.S)
    if not m:
        return None
    table, op, rest = m.groups()
    old = None
    if op == "UPDATE" and rest.startswith("old-key: "):
        old_text, new_text = rest[len("old-key: "):].split(" new-tuple: ", 1)
        old, rest = td_tuple(old_text), new_text
    return table, op, old, td_tuple(rest)


# ---- the expected SCD2 ------------------------------------------------------------------------------

def expected_history(table, initial, snap_from, snap_lsn, oracle):
    spec = TABLES[table]
    keyf = lambda vals: tuple(norm(table, c, vals[c]) for c in spec["key"])
    live = {}       # key -> (values, valid_from, op, lsn, txid)
    out = []

    def close(key, ts, lsn, txid, marker):
        vals, vf, op, vl, vt = live.pop(key)
        out.append((vals, vf, ts, False, op, vl, vt))
        if marker:
            out.append((vals, ts, ts, False, "d", lsn, txid))
        return vals

    for r in initial:
        live[keyf(r)] = (r, snap_from, "r", snap_lsn, 0)
    tx = []
    for rec in oracle:
        data = rec["data"]
        if data.startswith("BEGIN"):
            tx = []
        elif data.startswith("COMMIT"):
            ts = rec["commit_us"]
            for lsn, xid, (t, op, old, vals) in tx:
                if t != table:
                    continue
                if op == "INSERT":
                    live[keyf(vals)] = (vals, ts, "c", lsn, xid)
                elif op == "DELETE":
                    k = keyf(vals)
                    if k in live:
                        close(k, ts, lsn, xid, True)
                else:
                    old_key = keyf(old) if old else keyf(vals)
                    prev = live[old_key][0]
                    vals = {c: (prev[c] if v is UNCHANGED else v) for c, v in vals.items()}
                    new_key = keyf(vals)
                    if new_key != old_key:
                        close(old_key, ts, lsn, xid, True)
                        live[new_key] = (vals, ts, "c", lsn, xid)
                    else:
                        close(old_key, ts, lsn, xid, False)
                        live[new_key] = (vals, ts, "u", lsn, xid)
        else:
            ch = td_change(data)
            if ch:
                tx.append((rec["lsn"], rec["xid"], ch))
    for vals, vf, op, lsn, txid in live.values():
        out.append((vals, vf, None, True, op, lsn, txid))
    return [norm_row(table, v) + (str(vf), None if vt is None else str(vt), cur, op, str(lsn), str(txid))
            for v, vf, vt, cur, op, lsn, txid in out]


def history_row(table, r):
    return norm_row(table, r) + (str(int(r["valid_from"])), None if r["valid_to"] is None else str(int(r["valid_to"])),
                                 r["is_current"], r["op"], str(int(r["lsn"])), str(int(r["txid"])))


def short(row):
    return tuple(v[:20] + "..." if isinstance(v, str) and len(v) > 23 else v for v in row)


def diff(name, got, want, nkey):
    """Differences of two multisets of rows, explained by key where a key has rows on both sides."""
    g, w = collections.Counter(got), collections.Counter(want)
    if g == w:
        return []
    extra, missing = list((g - w).elements()), list((w - g).elements())
    by_key = collections.defaultdict(lambda: ([], []))
    for r in extra:
        by_key[r[:nkey]][0].append(r)
    for r in missing:
        by_key[r[:nkey]][1].append(r)
    notes = []
    for key, (e, m) in list(by_key.items())[:3]:
        if e and m:
            cols = [i for i in range(len(e[0])) if e[0][i] != m[0][i]]
            notes.append(f"key {key}: columns {cols} differ: got {short(e[0])}, want {short(m[0])}")
        else:
            notes.append(f"key {key}: {'unexpected ' + str(short(e[0])) if e else 'missing ' + str(short(m[0]))}")
    return [f"{name}: {len(extra)} unexpected row(s), {len(missing)} missing; " + "; ".join(notes)]


def load(name):
    return json.load(open(f"{DIR}/{name}"))


CHECK = sys.argv[2].split(",") if len(sys.argv) > 2 else list(TABLES)
unknown = [t for t in CHECK if t not in TABLES]
if unknown:
    sys.exit(f"silver_verify: unknown table(s) {unknown}: known are {list(TABLES)}")

oracle = [json.loads(l) for l in open(f"{DIR}/oracle.jsonl")]
fails = []
for table in CHECK:
    current = [norm_row(table, r) for r in load(f"{table}.current.json")["rows"]]
    pg = [norm_row(table, r) for r in (load(f"{table}.pg.json") or [])]
    nkey = len(TABLES[table]["key"])
    fails += diff(f"{table}: current table vs SELECT *", current, pg, nkey)
    hist_rows = load(f"{table}.history.json")["rows"]
    snap = [r for r in hist_rows if r["op"] == "r"]
    initial = load(f"{table}.initial.json") or []
    froms = {int(r["valid_from"]) for r in snap}
    lsns = {int(r["lsn"]) for r in snap}
    if len(initial) and (len(froms) != 1 or len(lsns) != 1):
        fails.append(f"{table}: snapshot versions do not share one valid_from and lsn: {froms} {lsns}")
        continue
    got = [history_row(table, r) for r in hist_rows]
    want = expected_history(table, initial, min(froms) if froms else 0, min(lsns) if lsns else 0, oracle)
    fails += diff(f"{table}: history table vs the SCD2 of the change log", got, want, nkey)
    cur_versions = [history_row(table, r)[:len(TABLES[table]["cols"])] for r in hist_rows if r["is_current"]]
    fails += diff(f"{table}: history's current versions vs the current table", cur_versions, current, nkey)
    ops = collections.Counter(r["op"] for r in hist_rows)
    print(f"{table}: {len(current)} current rows, {len(hist_rows)} history rows {dict(ops)}")
    if len(want) < 50 or not ops.get("d") or not ops.get("u"):
        fails.append(f"{table}: the workload did too little to test ({dict(ops)})")
if fails:
    print("\n".join(fails))
    sys.exit(1)
print("ok: current tables equal PostgreSQL's, history tables equal the SCD2 of the change log")
