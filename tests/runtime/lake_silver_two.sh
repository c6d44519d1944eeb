#!/usr/bin/env bash
# Two appliances write one silver table through the Iceberg SQL catalog in PostgreSQL. Appliances
# a and b capture two databases (db1, db2: the same `orders` table, disjoint keys, as shards of
# one service) into the same lake (lake.source_name shared) and the same catalog
# (silver.catalog = postgresql, database cat), committing every second, so their commits to
# public.orders and public.orders_history race and conflict; a is killed with SIGKILL and
# restarted in the middle. Afterwards: every commit of both survived (the snapshot chain is
# linear and holds snapshots of both appliances, named in "sluice.appliance"), and icebird's
# reading of the current table equals the union of SELECT * from both databases; the history's
# current versions equal it too.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/sluice.bash"
e2e="$SLUICE_REPO/tests/e2e"
[ -f "$e2e/node_modules/icebird/package.json" ] ||
    fail "$e2e/node_modules/icebird is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
pg_start
trap 'rc=$?; [ "$rc" = 0 ] || { tail -20 "$test_tmp/a.log"; tail -20 "$test_tmp/b.log"; } 2>/dev/null; test_cleanup' EXIT

for db in db1 db2 cat; do psql_q "CREATE DATABASE $db" >/dev/null; done
for db in db1 db2; do
    base=$([ "$db" = db1 ] && echo 0 || echo 100000)
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" <<SQL
CREATE TABLE orders (id int PRIMARY KEY, owner text, amount numeric(12,2), note text);
INSERT INTO orders SELECT $base + g, '$db', g * 1.5, 'seed ' || g FROM generate_series(1, 30) g;
SQL
done

# A workload per database, in its own key range: inserts, updates, key changes, deletes.
python3 - "$test_tmp" <<'PY'
import random, sys
out = sys.argv[1]
for db, base, seed in (("db1", 0, 1), ("db2", 100000, 2)):
    rnd = random.Random(seed)
    keys = set(range(base + 1, base + 31))
    nxt = base + 1000
    with open(f"{out}/{db}.sql", "w") as f:
        f.write("\\set ON_ERROR_STOP 1\n")
        for _ in range(300):
            f.write("BEGIN;\n")
            for _ in range(rnd.randrange(1, 5)):
                r = rnd.random()
                if r < 0.35 or len(keys) < 5:
                    nxt += 1
                    keys.add(nxt)
                    f.write(f"INSERT INTO orders VALUES ({nxt}, '{db}', {rnd.randrange(10**6)}.{rnd.randrange(100):02d}, 'n{nxt}');\n")
                    continue
                k = rnd.choice(sorted(keys))
                if r < 0.75:
                    f.write(f"UPDATE orders SET amount = amount + 1, note = 'u{rnd.randrange(1000)}' WHERE id = {k};\n")
                elif r < 0.85:
                    nxt += 1
                    keys.discard(k)
                    keys.add(nxt)
                    f.write(f"UPDATE orders SET id = {nxt} WHERE id = {k};\n")
                else:
                    keys.discard(k)
                    f.write(f"DELETE FROM orders WHERE id = {k};\n")
            f.write("COMMIT;\nSELECT pg_sleep(0.02);\n")
PY

lake=$test_tmp/lake
common=(lake.store=local "lake.path=$lake" lake.source_name=shared silver.enabled=true silver.commit_interval=1s
    bronze.enabled=false silver.catalog=postgresql "silver.catalog_conninfo=host=127.0.0.1 port=$PGPORT user=postgres dbname=cat")
sluice_start a "${common[@]}" "source.conninfo=host=127.0.0.1 port=$PGPORT user=postgres dbname=db1"
sluice_start b "${common[@]}" "source.conninfo=host=127.0.0.1 port=$PGPORT user=postgres dbname=db2"
PGDATABASE=db1 wait_slot_active a 60
PGDATABASE=db2 wait_slot_active b 60

psql -X -q -d db1 -f "$test_tmp/db1.sql" >/dev/null &
w1=$!
psql -X -q -d db2 -f "$test_tmp/db2.sql" >/dev/null &
w2=$!
sleep 2
sluice_kill a
pass "killed appliance a with SIGKILL while both commit"
sluice_start a
wait "$w1" || fail "workload of db1 failed"
wait "$w2" || fail "workload of db2 failed"
end_lsn=$(wal_lsn_num)
wait_slot_confirmed a "$end_lsn" 120
wait_slot_confirmed b "$end_lsn" 120
pass "both appliances confirmed the whole workload (committed to the shared silver tables)"
for n in a b; do
    echo "$n: $(curl -s "http://127.0.0.1:${sluice_port[$n]}/metrics" | grep -E '^sluice_silver_(commits|commit_conflicts)_total' | tr '\n' ' ')"
done
sluice_stop a
sluice_stop b

table=$lake/silver/shared/public/orders
for t in orders orders_history; do
    node "$e2e/tools/icebird_read.mjs" "file://$lake/silver/shared/public/$t" >"$test_tmp/$t.json" 2>"$test_tmp/icebird.err" ||
        fail "icebird could not read $t: $(cat "$test_tmp/icebird.err")"
done
for db in db1 db2; do
    psql -X -At -d "$db" -c "SELECT coalesce(json_agg(json_build_object('id', id, 'owner', owner, 'amount', amount::text,
        'note', note)), '[]') FROM orders" >"$test_tmp/$db.json"
done
location=$(psql -X -At -d cat -c "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = 'shared'
    AND table_namespace = 'public' AND table_name = 'orders'")
[ -n "$location" ] || fail "the PostgreSQL catalog has no row for public.orders"
python3 - "$test_tmp" "${location#file://}" <<'PY' || fail "the shared silver table lost something"
import collections, decimal, json, sys
tmp, meta = sys.argv[1], sys.argv[2]
norm = lambda r: (int(r["id"]), r["owner"], "%.2f" % decimal.Decimal(str(r["amount"])), r["note"])
want = sorted(norm(r) for db in ("db1", "db2") for r in json.load(open(f"{tmp}/{db}.json")))
got = sorted(norm(r) for r in json.load(open(f"{tmp}/orders.json"))["rows"])
assert got == want, (f"current table vs both databases: {len(got)} vs {len(want)} rows; "
                     f"e.g. {[r for r in got if r not in want][:2]} / {[r for r in want if r not in got][:2]}")
hist = json.load(open(f"{tmp}/orders_history.json"))["rows"]
live = sorted(norm(r) for r in hist if r["is_current"])
assert live == want, "the history's current versions differ from both databases"
m = json.load(open(meta))
snaps = {s["snapshot-id"]: s for s in m["snapshots"]}
chain, cur = [], m["current-snapshot-id"]
while cur is not None and cur in snaps:
    chain.append(snaps[cur])
    cur = snaps[cur].get("parent-snapshot-id")
assert len(chain) == len(snaps), f"the snapshot chain holds {len(chain)} of {len(snaps)} snapshots"
by = collections.Counter(s["summary"].get("sluice.appliance") for s in chain)
assert by.get("db1/a", 0) >= 3 and by.get("db2/b", 0) >= 3, f"snapshots per appliance: {dict(by)}"
seqs = [s["sequence-number"] for s in reversed(chain)]
assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers are not 1..n along the chain"
print(f"ok: {len(got)} rows from both databases; {len(chain)} snapshots in one chain, per appliance {dict(by)}")
PY
pass "both appliances' commits survive in one snapshot chain; the table holds both databases exactly (icebird)"
