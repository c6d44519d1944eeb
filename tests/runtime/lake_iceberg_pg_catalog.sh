#!/usr/bin/env bash
# Two appliances commit to one Iceberg table through the SQL catalog in PostgreSQL
# (firmware/sinks/lake/iceberg_catalog_pg, iceberg_table; driven by tests/tools/iceberg_append
# --catalog-pg). The first append makes the catalog tables (the Iceberg JDBC catalog's layout,
# checked in information_schema) and the table; then two writers run at once, each a loop of
# single-file appends with its own seeds, 50 appends in all, each round started together so that
# their commits collide. Every append must succeed (the catalog row may skip metadata versions:
# a writer that loses vN writes its next try as a higher N), at least
# one must have lost a compare-and-swap and retried (attempts>1), icebird (npm,
# tests/e2e/tools/icebird_read.mjs) must read every appended row exactly once from the metadata
# the catalog row points at, and the metadata's snapshot chain must be linear (each parent the
# previous snapshot, sequence numbers 1..50). Four processes starting at once on an empty
# database must all make the catalog tables without an error, and a conninfo with nothing
# listening must fail with an error about the catalog that does not show the password.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
e2e="$SLUICE_REPO/tests/e2e"
tool="$SLUICE_BUILD_DIR/tests/iceberg_append"
[ -x "$tool" ] || fail "$tool is missing (built from tests/tools/iceberg_append.c)"
[ -f "$e2e/node_modules/icebird/package.json" ] ||
    fail "$e2e/node_modules/icebird is missing: run packaging/install-deps.sh --test (npm ci in tests/e2e)"
command -v node >/dev/null || fail "node is missing: run packaging/install-deps.sh --test"

pg_start
lake=$test_tmp/lake
table_url="file://$lake/shop/orders"
per_writer=25
total=$((2 * per_writer))
rows=7   # covers both null patterns (name every 7th, score every 5th)

# append W I: writer W's I-th append (seed W*1000+I), its rows in expect.W.I.jsonl and its
# output line in out.W. An append that gave up with "still conflicting" is run again (noted in
# retried.W): iceberg_table's attempt limit, not this catalog, decides that.
append() {
    local w=$1 i=$2 try
    for try in 1 2 3 4 5; do
        rm -f "$test_tmp/expect.$w.$i.jsonl"
        if "$tool" --dir "$lake" --catalog-pg "$pg_conninfo" --table shop.orders --files 1 --rows "$rows" \
            --seed $((w * 1000 + i)) --expect "$test_tmp/expect.$w.$i.jsonl" >>"$test_tmp/out.$w" \
            2>"$test_tmp/err.$w.$i"; then
            return 0
        fi
        grep -q "still conflicting" "$test_tmp/err.$w.$i" || break
        echo "$w.$i: $(cat "$test_tmp/err.$w.$i")" >>"$test_tmp/retried.$w"
    done
    echo "append $w.$i: $(cat "$test_tmp/err.$w.$i")" >>"$test_tmp/failed.$w"
    rm -f "$test_tmp/expect.$w.$i.jsonl"
    return 1
}

# writer W FIRST: appends FIRST..per_writer. Left to run freely, two loops drift apart after a
# conflict (the loser backs off) and some runs saw a single conflict in 50 appends, so each
# round starts when the other writer has reached it as well (or is done): their load-to-commit
# windows overlap and conflicts happen in most rounds.
writer() {
    local w=$1 first=$2 other=$((3 - $1)) i r k
    for ((i = first; i <= per_writer; i++)); do
        r=$((i - first + 1))
        : >"$test_tmp/round.$w.$r"
        for ((k = 0; k < 3000; k++)); do
            [ -e "$test_tmp/round.$other.$r" ] || [ -e "$test_tmp/done.$other" ] && break
            sleep 0.01
        done
        append "$w" "$i" || true
    done
    : >"$test_tmp/done.$w"
}

# The first append makes the catalog tables and the table (writer 1's first append).
append 1 1 || fail "the first append failed: $(cat "$test_tmp/failed.1")"
[ "$(psql_q "SELECT count(*) FROM iceberg_tables")" = 1 ] || fail "the first append left no catalog row"

# The catalog tables are the Iceberg JDBC catalog's (JdbcUtil, schema V1).
cols=$(psql_q "SELECT table_name || '.' || column_name || ':' || data_type || ':' ||
                      coalesce(character_maximum_length::text, '') || ':' || is_nullable
               FROM information_schema.columns
               WHERE table_name IN ('iceberg_tables', 'iceberg_namespace_properties')
               ORDER BY table_name, ordinal_position" | tr '\n' ' ')
want="iceberg_namespace_properties.catalog_name:character varying:255:NO"
want+=" iceberg_namespace_properties.namespace:character varying:255:NO"
want+=" iceberg_namespace_properties.property_key:character varying:255:NO"
want+=" iceberg_namespace_properties.property_value:character varying:1000:YES"
want+=" iceberg_tables.catalog_name:character varying:255:NO"
want+=" iceberg_tables.table_namespace:character varying:255:NO"
want+=" iceberg_tables.table_name:character varying:255:NO"
want+=" iceberg_tables.metadata_location:character varying:1000:YES"
want+=" iceberg_tables.previous_metadata_location:character varying:1000:YES"
want+=" iceberg_tables.iceberg_type:character varying:5:YES "
[ "$cols" = "$want" ] || fail "catalog tables differ from the JDBC catalog's: $cols"
pk=$(psql_q "SELECT string_agg(a.attname, ',' ORDER BY k.n)
             FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, n), pg_attribute a
             WHERE i.indrelid = 'iceberg_tables'::regclass AND i.indisprimary
               AND a.attrelid = i.indrelid AND a.attnum = k.attnum")
[ "$pk" = "catalog_name,table_namespace,table_name" ] || fail "iceberg_tables' primary key is ($pk)"
pass "the first append made the JDBC catalog's tables" \
    "(V1 iceberg_tables with iceberg_type, iceberg_namespace_properties)"

# Two writers at once.
started=$SECONDS
writer 1 2 &
w1=$!
writer 2 1 &
w2=$!
test_pids+=("$w1" "$w2")
wait "$w1" || fail "writer 1 exited with $?"
wait "$w2" || fail "writer 2 exited with $?"
elapsed=$((SECONDS - started))
if compgen -G "$test_tmp/failed.*" >/dev/null; then
    fail "appends failed: $(cat "$test_tmp"/failed.*)"
fi
n=$(cat "$test_tmp"/out.1 "$test_tmp"/out.2 | grep -c '^metadata=.* attempts=[0-9]*$' || true)
[ "$n" = "$total" ] || fail "$n of $total appends reported a commit: $(cat "$test_tmp"/out.*)"
conflicted=$(cat "$test_tmp"/out.1 "$test_tmp"/out.2 | grep -c 'attempts=\([2-9]\|[1-9][0-9]\)$' || true)
max_attempts=$(cat "$test_tmp"/out.1 "$test_tmp"/out.2 | sed 's/.*attempts=//' | sort -n | tail -1)
retried=$(cat "$test_tmp"/retried.* 2>/dev/null | wc -l || true)
[ "$conflicted" -ge 1 ] || fail "no append ever conflicted (all attempts=1): the test did not exercise the CAS"
pass "2 writers x $per_writer appends committed in ${elapsed}s; $conflicted retried after a conflict" \
    "(at most $max_attempts attempts), $retried re-run by the script after \"still conflicting\""

# The catalog row: the current metadata file and the one before it (version numbers may skip:
# a writer that lost vN to another one writes its next try as a higher N).
row=$(psql_q "SELECT metadata_location || ' ' || previous_metadata_location || ' ' || iceberg_type
              FROM iceberg_tables WHERE catalog_name = 'sluice' AND table_namespace = 'shop' AND table_name = 'orders'")
read -r current previous type <<<"$row"
[[ "$current" =~ ^$table_url/metadata/v[0-9]+\.metadata\.json$ ]] && [ "$type" = TABLE ] ||
    fail "catalog row: $row (expected $table_url/metadata/vN.metadata.json ... TABLE)"
last=${current##*/}
[ -f "$lake/shop/orders/metadata/$last" ] || fail "the catalog points at $current, which does not exist"
pass "the catalog row points at $last (previous ${previous##*/}), iceberg_type TABLE"

# icebird reads what the catalog points at: every row of every append exactly once.
cat "$test_tmp"/expect.*.jsonl >"$test_tmp/expect.jsonl"
node "$e2e/tools/icebird_read.mjs" "$table_url" "$last" >"$test_tmp/read.json" 2>"$test_tmp/read.err" ||
    fail "icebird could not read the table: $(cat "$test_tmp/read.err")"
python3 - "$test_tmp/read.json" "$test_tmp/expect.jsonl" "$total" "$rows" <<'EOF' ||
    fail "icebird reads something else than was appended"
import json, sys
got = json.load(open(sys.argv[1]))
want = [json.loads(l) for l in open(sys.argv[2])]
total, rows = int(sys.argv[3]), int(sys.argv[4])
assert got["snapshots"] == total, f"icebird sees {got['snapshots']} snapshots, expected {total}"
def norm_got(r):
    return (int(r["id"]), r["name"], None if r["amount"] is None else "%.2f" % r["amount"], r["flag"],
            None if r["ts"] is None else int(r["ts"]),
            r["score"])
def norm_want(r):
    return (r["id"], r["name"], r["amount"], r["flag"], r["ts"], r["score"])
g = sorted(norm_got(r) for r in got["rows"])
w = sorted(norm_want(r) for r in want)
assert len(w) == total * rows, f"{len(w)} rows appended, expected {total * rows}"
assert len({r[0] for r in w}) == len(w), "the appends' ids are not distinct"
assert len(g) == len(w), f"icebird returned {len(g)} rows, expected {len(w)}"
for a, b in zip(g, w):
    assert a == b, f"row differs: icebird {a}, appended {b}"
EOF
pass "icebird reads all $((total * rows)) rows of the $total appends exactly once and sees $total snapshots"

python3 - "$lake/shop/orders/metadata" "$table_url" "$total" "$rows" "$last" "$previous" <<'EOF' ||
import json, os, sys
mdir, url, total, rows, last, previous = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:]
m = json.load(open(f"{mdir}/{last}"))
snaps = m["snapshots"]
assert len(snaps) == total, len(snaps)
assert len({s["snapshot-id"] for s in snaps}) == total, "snapshot ids repeat"
for i, s in enumerate(snaps):
    assert s["sequence-number"] == i + 1, f"snapshot {i}: sequence {s['sequence-number']}"
    if i == 0:
        assert "parent-snapshot-id" not in s, "the first snapshot has a parent"
    else:
        assert s.get("parent-snapshot-id") == snaps[i - 1]["snapshot-id"], f"snapshot {i}: parent is not the previous"
    assert s["summary"]["added-data-files"] == "1" and s["summary"]["added-records"] == str(rows)
    assert s["summary"]["total-data-files"] == str(i + 1), f"snapshot {i}: {s['summary']['total-data-files']} files"
    assert s["summary"]["total-records"] == str((i + 1) * rows)
assert m["last-sequence-number"] == total and m["current-snapshot-id"] == snaps[-1]["snapshot-id"]
assert m["refs"] == {"main": {"snapshot-id": snaps[-1]["snapshot-id"], "type": "branch"}}
assert [e["snapshot-id"] for e in m["snapshot-log"]] == [s["snapshot-id"] for s in snaps]
# The metadata log: v1 (the create), then each commit's file, the last the catalog's previous
# location; every one of them is still there, and each lists the ones before it.
log = [e["metadata-file"] for e in m["metadata-log"]]
assert len(log) == total and log[0] == f"{url}/metadata/v1.metadata.json" and log[-1] == previous, log
for k, f in enumerate(log):
    assert f.startswith(f"{url}/metadata/"), f
    p = json.load(open(os.path.join(mdir, os.path.basename(f))))
    assert [e["metadata-file"] for e in p["metadata-log"]] == log[:k], f"{f}: its log is not the chain before it"
    assert len(p.get("snapshots", [])) == k, f"{f}: {len(p.get('snapshots', []))} snapshots, expected {k}"
EOF
    fail "the snapshot chain is not linear"
pass "the snapshot chain is linear: parents are the previous snapshots, sequence numbers 1..$total, totals add up"
hint=$(cat "$lake/shop/orders/metadata/version-hint.text")
[ "v$hint.metadata.json" = "$last" ] ||
    echo "note: version-hint.text says $hint, the catalog $last (a concurrent writer wrote it late)"

# Four processes starting at once on a database without catalog tables: all make them (or find
# them made) without an error, each creating its own table.
psql_q "CREATE DATABASE race" >/dev/null
race_pids=()
for k in 1 2 3 4; do
    "$tool" --dir "$test_tmp/race" --catalog-pg "${pg_conninfo/dbname=postgres/dbname=race}" --table "race.t$k" \
        --files 1 --rows 3 --seed "$k" >"$test_tmp/race.$k.out" 2>"$test_tmp/race.$k.err" &
    race_pids+=("$!")
done
test_pids+=("${race_pids[@]}")
for k in 1 2 3 4; do
    wait "${race_pids[$((k - 1))]}" || fail "concurrent start $k: $(cat "$test_tmp/race.$k.err")"
done
race_rows=$(psql -X -At -d race -c "SELECT count(*) FROM iceberg_tables")
[ "$race_rows" = 4 ] || fail "concurrent starts left $race_rows catalog rows, expected 4"
pass "4 processes starting at once on an empty database made the catalog tables and 4 tables without an error"

# The check can fail: nothing listens on the port, so the append fails and says why.
bad_port=$(free_port)
rc=0
"$tool" --dir "$lake" --catalog-pg "host=127.0.0.1 port=$bad_port user=postgres password=s3cr3t-pw dbname=postgres" \
    --table shop.orders --files 1 --rows 3 --seed 9999 >"$test_tmp/bad.out" 2>"$test_tmp/bad.err" || rc=$?
[ "$rc" -ne 0 ] || fail "an append with nothing listening on port $bad_port exited 0"
grep -q "iceberg catalog (postgresql)" "$test_tmp/bad.err" ||
    fail "the error does not mention the catalog: $(cat "$test_tmp/bad.err")"
if grep -q "s3cr3t-pw" "$test_tmp/bad.err"; then
    fail "the error shows the password: $(cat "$test_tmp/bad.err")"
fi
pass "a conninfo with nothing listening fails (exit $rc): $(head -c 200 "$test_tmp/bad.err")"
