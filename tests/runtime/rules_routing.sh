#!/usr/bin/env bash
# Rules' route(event) end to end: the Kafka topic and the bronze table each event goes to.
# Two rules are active while a deterministic workload runs over three tables:
#  - "regions" (public.users) routes by a column: region "eu" -> "public.users_eu" (Kafka
#    <prefix>.public.users_eu, lake table public.users_eu), other regions the table's own; a
#    user named "bad" gets an illegal topic name, which must be a dead letter with the reason;
#  - "audit" (public.orders) uses the table form: {topic = "audit.exact"} for every order (the
#    exact Kafka topic, no prefix), plus table = "audit.big_orders" for amounts >= 1000 (the lake
#    table), so one source table feeds two lake streams;
#  - public.items has no rule: its own topic and lake table.
# Daemon k produces to a Kafka cluster (the mock cluster) and writes a local lake; daemon l
# writes only a local lake and is killed with SIGKILL in the middle of the workload (replay
# through the rules after the restart). Then, against an independent test_decoding slot:
# with kcat, every change is on exactly its expected topic (once, with the primary key as key,
# Debezium's value naming the captured table in source, the delete's tombstone after it), no
# message is on any other topic, and the default topic of the audited table was never created;
# in both lakes (Python's gzip and json) every change is in exactly one object, under
# bronze/sluice/<destination>/date=.../hour=.../, with non-overlapping positions per destination.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/kafka.bash"
command -v sqlite3 >/dev/null || fail "sqlite3 not found (install the Debian package sqlite3)"
pg_start

psql_q "CREATE TABLE users (id int PRIMARY KEY, region text, name text);
CREATE TABLE orders (id int PRIMARY KEY, amount int);
CREATE TABLE items (id int PRIMARY KEY, v text);
ALTER TABLE users REPLICA IDENTITY FULL;
ALTER TABLE orders REPLICA IDENTITY FULL;
ALTER TABLE items REPLICA IDENTITY FULL;"

# l: lake only (started before the mock cluster, so without Kafka); k: Kafka and a lake.
sluice_start l lake.store=local "lake.path=$test_tmp/lake_l" bronze.roll_age=1s
kafka_mock_start 1
sluice_start k kafka.topic_prefix=rt lake.store=local "lake.path=$test_tmp/lake_k" bronze.roll_age=1s
wait_slot_active l 60
wait_slot_active k 60
oracle_create

cat >"$test_tmp/regions.lua" <<'LUA'
function transform(e) return e end
function route(e)
  local row = e.after or e.before
  if row.name == "bad" then return {topic = "bad topic!"} end
  if row.region == "eu" then return "public.users_eu" end
  return nil
end
LUA
cat >"$test_tmp/audit.lua" <<'LUA'
function transform(e) return e end
function route(e)
  local row = e.after or e.before
  if row.amount >= 1000 then return {topic = "audit.exact", table = "audit.big_orders"} end
  return {topic = "audit.exact"}
end
LUA
rules() { local d=$1; shift; "$SLUICE_BIN" rules "$@" --state-dir "$test_tmp/$d.state"; }
reloads() { curl -s "http://127.0.0.1:${sluice_port[$1]}/metrics" | sed -n 's/^sluice_rules_reloads_total //p'; }
for d in k l; do
    rules "$d" add regions --pattern public.users --file "$test_tmp/regions.lua" --activate >/dev/null
    rules "$d" add audit --pattern public.orders --file "$test_tmp/audit.lua" --activate >/dev/null
done
sleep 1.2   # the next transaction picks the activation up (checked at most once a second)

# The workload: 300 transactions (~7 s) of 1-4 changes over the three tables; regions and amounts
# move across the routing boundaries in updates; one transaction holds the "bad" user.
python3 - "$test_tmp/work.sql" <<'PY'
import random, sys
r = random.Random(20240301)
users, orders, items = {}, {}, {}
nxt = {"u": 1, "o": 1, "i": 1}
lines = ["\\set ON_ERROR_STOP 1"]
for t in range(300):
    stmts = []
    for _ in range(r.randint(1, 4)):
        k = r.random()
        if k < 0.25 or not users:
            i = nxt["u"]; nxt["u"] += 1
            users[i] = r.choice(["eu", "us", "apac"])
            stmts.append(f"INSERT INTO users VALUES ({i}, '{users[i]}', 'u{i}')")
        elif k < 0.40:
            i = r.choice(sorted(users))
            users[i] = r.choice(["eu", "us", "apac"])
            stmts.append(f"UPDATE users SET region = '{users[i]}', name = 'u{i}x{t}' WHERE id = {i}")
        elif k < 0.47:
            i = r.choice(sorted(users))
            del users[i]
            stmts.append(f"DELETE FROM users WHERE id = {i}")
        elif k < 0.67 or not orders:
            i = nxt["o"]; nxt["o"] += 1
            orders[i] = r.choice([r.randint(1, 999), r.randint(1000, 5000)])
            stmts.append(f"INSERT INTO orders VALUES ({i}, {orders[i]})")
        elif k < 0.78:
            i = r.choice(sorted(orders))
            orders[i] = r.choice([r.randint(1, 999), r.randint(1000, 5000)])
            stmts.append(f"UPDATE orders SET amount = {orders[i]} WHERE id = {i}")
        elif k < 0.84:
            i = r.choice(sorted(orders))
            del orders[i]
            stmts.append(f"DELETE FROM orders WHERE id = {i}")
        elif k < 0.94 or not items:
            i = nxt["i"]; nxt["i"] += 1
            items[i] = 1
            stmts.append(f"INSERT INTO items VALUES ({i}, 'v{i}')")
        else:
            i = r.choice(sorted(items))
            stmts.append(f"UPDATE items SET v = 'v{i}t{t}' WHERE id = {i}")
    if t == 150:
        stmts.append("INSERT INTO users VALUES (100000, 'eu', 'bad')")
    lines.append("BEGIN; " + "; ".join(stmts) + "; COMMIT; SELECT pg_sleep(0.02);")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
psql -X -q -f "$test_tmp/work.sql" >/dev/null &
workload=$!
sleep 3
kill -9 "${sluice_pid[l]}"
wait "${sluice_pid[l]}" 2>/dev/null || true
unset "sluice_pid[l]"
pass "killed daemon l with SIGKILL during the workload"
sluice_start l
wait "$workload" || fail "the workload failed"
end=$(wal_lsn_num)
wait_slot_confirmed k "$end" 90
wait_slot_confirmed l "$end" 90
echo "daemon l after its restart: $(curl -s "http://127.0.0.1:${sluice_port[l]}/metrics" |
    grep -E '^sluice_bronze_(skipped_events|objects)_total' | tr '\n' ' ')"
[ "$(reloads k)" = 1 ] || fail "daemon k did not pick up the activation once (reloads: $(reloads k))"
sluice_check_alive

# Every topic on the cluster, each read to its end (everything is acknowledged by now).
kcat -L -b "$kafka_bootstrap" -J >"$test_tmp/meta.json" 2>"$test_tmp/meta.err" || fail "kcat -L: $(cat "$test_tmp/meta.err")"
mkdir -p "$test_tmp/topics"
for t in $(jq -r '.topics[].topic' "$test_tmp/meta.json"); do
    case "$t" in __*) continue ;; esac
    kafka_consume "$t" "$test_tmp/topics/$t.jsonl" || fail "kcat could not read $t"
done
sluice_stop k
sluice_stop l
oracle_dump "$test_tmp/oracle.jsonl"
for d in k l; do
    sqlite3 -json "$test_tmp/$d.state/sluice.db" "SELECT rule, version, error, table_name, lsn, event FROM dead_letters" \
        >"$test_tmp/dead_$d.json"
done

python3 - "$test_tmp" <<'PY'
import collections, gzip, json, os, re, sys
tmp = sys.argv[1]
fails = []
def check(cond, msg):
    if not cond:
        fails.append(msg)
def compact(o):
    return json.dumps(o, separators=(",", ":"))

# The oracle's changes, with their rows parsed from test_decoding's text.
col_re = re.compile(r"(\w+)\[([^\]]+)\]:('(?:[^']|'')*'|null|\S+)")
def row(text):
    out = {}
    for name, typ, v in col_re.findall(text):
        out[name] = None if v == "null" else v[1:-1].replace("''", "'") if v.startswith("'") else int(v)
    return out
changes = []
for line in open(f"{tmp}/oracle.jsonl"):
    o = json.loads(line)
    d = o["data"]
    if not d.startswith("table "):
        continue
    m = re.match(r"table public\.(\w+): (INSERT|UPDATE|DELETE): (.*)$", d)
    table, op, rest = m.group(1), m.group(2), m.group(3)
    before = after = None
    if op == "INSERT":
        after = row(rest)
    elif op == "DELETE":
        before = row(rest)
    else:
        old, new = rest.split(" new-tuple: ")
        before, after = row(old[len("old-key: "):]), row(new)
    changes.append({"table": table, "op": {"INSERT": "c", "UPDATE": "u", "DELETE": "d"}[op], "lsn": o["lsn"],
                    "before": before, "after": after, "id": (after or before)["id"]})
check(len(changes) > 500, f"only {len(changes)} changes in the oracle")

# Where each change must go, by the rules above: (Kafka topic, lake table); None: a dead letter.
def dest(c):
    r = c["after"] or c["before"]
    if c["table"] == "users":
        if r["name"] == "bad":
            return None
        return ("rt.public.users_eu", "public.users_eu") if r["region"] == "eu" else ("rt.public.users", "public.users")
    if c["table"] == "orders":
        return ("audit.exact", "audit.big_orders" if r["amount"] >= 1000 else "public.orders")
    return ("rt.public.items", "public.items")
want_topics = {"rt.public.users_eu", "rt.public.users", "audit.exact", "rt.public.items"}
want_tables = {"public.users_eu", "public.users", "audit.big_orders", "public.orders", "public.items"}
check(sum(1 for c in changes if dest(c) and dest(c)[0] == "rt.public.users_eu") > 20 and
      sum(1 for c in changes if dest(c) and dest(c)[1] == "audit.big_orders") > 20 and
      sum(1 for c in changes if c["op"] == "d" and dest(c) and dest(c)[0] == "rt.public.users_eu") > 2,
      "the workload does not exercise every route")

def check_value(where, v, c):
    if not isinstance(v, dict):
        fails.append(f"{where}: value {v!r} is not an event")
        return
    s = v.get("source") or {}
    check(v.get("op") == c["op"], f"{where}: op {v.get('op')}, want {c['op']}")
    check(v.get("before") == c["before"], f"{where}: before {compact(v.get('before'))}, want {compact(c['before'])}")
    check(v.get("after") == c["after"], f"{where}: after {compact(v.get('after'))}, want {compact(c['after'])}")
    check((s.get("schema"), s.get("table")) == ("public", c["table"]),
          f"{where}: source names {s.get('schema')}.{s.get('table')}, want the captured public.{c['table']}")

# ---- Kafka ----
topics = {}
for f in os.listdir(f"{tmp}/topics"):
    if not f.endswith(".jsonl"):
        continue   # kcat's stderr
    msgs = []
    for line in open(f"{tmp}/topics/{f}"):
        if line.strip():
            m = json.loads(line)
            m["value"] = json.loads(m["payload"]) if m.get("payload") is not None else None
            msgs.append(m)
    topics[f[:-len(".jsonl")]] = msgs
# The dead-letter topic (kafka.dlq_topic, default <prefix>.dlq), when the producer has one, holds
# only the refused event (the bad user): it is not a routing destination.
dlq = topics.pop("rt.dlq", [])
check(all(m.get("key") == '{"id":100000}' for m in dlq), f"rt.dlq holds other events: {[m.get('key') for m in dlq][:5]}")
check(set(topics) == want_topics, f"topics on the cluster: {sorted(topics)}, want {sorted(want_topics)} "
      "(rt.public.orders must never be created: every order is routed)")
used = set()
for c in changes:
    d = dest(c)
    if d is None:
        continue
    where = f"{c['table']} id {c['id']} op {c['op']} lsn {c['lsn']}"
    anywhere = [(t, m) for t, ms in topics.items() for m in ms if m["value"] is not None and
                (m["value"].get("source") or {}).get("lsn") == c["lsn"] and m["value"].get("op") == c["op"]]
    check([t for t, m in anywhere] == [d[0]], f"{where}: on topics {[t for t, m in anywhere]}, want exactly once on {d[0]}")
    for t, m in anywhere:
        used.add((t, m["partition"], m["offset"]))
        check(m.get("key") == compact({"id": c["id"]}), f"{where}: key {m.get('key')!r}, want {compact({'id': c['id']})}")
        check_value(where, m["value"], c)
        if c["op"] == "d":
            tomb = [x for x in topics[t] if x["partition"] == m["partition"] and x["offset"] == m["offset"] + 1]
            check(len(tomb) == 1 and tomb[0]["value"] is None and tomb[0].get("key") == m.get("key"),
                  f"{where}: no tombstone after the delete on {t}")
            for x in tomb:
                used.add((t, x["partition"], x["offset"]))
extra = [(t, m.get("key"), (m["value"] or {}).get("op")) for t, ms in topics.items() for m in ms
         if (t, m["partition"], m["offset"]) not in used]
check(not extra, f"{len(extra)} message(s) on Kafka that are no expected change: {extra[:5]}")
print(f"kafka: {len(used)} messages on {len(topics)} topics checked")

# ---- the dead letter ----
for d in ("k", "l"):
    dead = json.load(open(f"{tmp}/dead_{d}.json")) if open(f"{tmp}/dead_{d}.json").read().strip() else []
    check(len(dead) >= 1 and all(x["rule"] == "regions" and x["table_name"] == "public.users" and
                                 x["error"] == "route: 'bad topic!' is not a legal Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)" and
                                 json.loads(x["event"])["after"]["name"] == "bad" for x in dead),
          f"daemon {d}: dead letters {[(x['rule'], x['error']) for x in dead]}, want the bad user's refused route")
    # l replays part of the workload after SIGKILL: the same dead letter may be recorded again.
    check(d == "l" or len(dead) == 1, f"daemon {d}: {len(dead)} dead letters, want 1")

# ---- the lakes ----
key_re = re.compile(r"^bronze/sluice/([A-Za-z0-9._-]+)/date=(\d{4}-\d\d-\d\d)/hour=(\d\d)/"
                    r"([0-9A-F]{16})_(\d+)-([0-9A-F]{16})_(\d+)\.jsonl\.gz$")
for lake in ("lake_k", "lake_l"):
    root = f"{tmp}/{lake}"
    objects = collections.defaultdict(list)
    got = collections.Counter()
    events = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != ".tmp"]
        for f in files:
            key = os.path.relpath(os.path.join(dirpath, f), root)
            m = key_re.match(key)
            if not m:
                fails.append(f"{lake}: unexpected object {key}")
                continue
            objects[m.group(1)].append(((int(m.group(4), 16), int(m.group(5))), (int(m.group(6), 16), int(m.group(7))), key))
            with gzip.open(os.path.join(dirpath, f), "rt") as fh:
                for l in fh:
                    if l.strip():
                        v = json.loads(l)
                        k = (m.group(1), v["source"]["table"], v["op"], v["source"]["lsn"])
                        got[k] += 1
                        events[k] = v
    check(set(objects) == want_tables, f"{lake}: tables {sorted(objects)}, want {sorted(want_tables)}")
    for table, objs in objects.items():
        objs.sort()
        for a, b in zip(objs, objs[1:]):
            check(a[1] < b[0], f"{lake}: objects {a[2]} and {b[2]} overlap")
    want = collections.Counter((dest(c)[1], c["table"], c["op"], c["lsn"]) for c in changes if dest(c))
    missing, dup, extra = want - got, [k for k, n in got.items() if n > 1], got - want
    check(not missing, f"{lake}: {len(missing)} change(s) missing, e.g. {list(missing)[:3]}")
    check(not dup, f"{lake}: {len(dup)} change(s) written twice, e.g. {dup[:3]}")
    check(not extra, f"{lake}: {len(extra)} change(s) in the wrong table or unexpected, e.g. {list(extra)[:3]}")
    for c in changes:
        k = (dest(c)[1], c["table"], c["op"], c["lsn"]) if dest(c) else None
        if k in events:
            check_value(f"{lake} {k}", events[k], c)
    print(f"{lake}: {sum(got.values())} events in {sum(len(o) for o in objects.values())} objects checked "
          f"({', '.join(f'{t}: {len(o)}' for t, o in sorted(objects.items()))})")
if fails:
    print("\n".join(fails[:40]))
    sys.exit(1)
PY
pass "routed events are on exactly their Kafka topics and lake tables, once each, also across a SIGKILL"
