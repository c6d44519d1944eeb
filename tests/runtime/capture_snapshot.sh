#!/usr/bin/env bash
# The initial snapshot (`sluice capture --snapshot-mode initial_only`): every published table is
# read completely and exactly once (single and composite primary keys, no key with REPLICA
# IDENTITY FULL, several FETCH batches, an empty table, quoted names, a generated column), all as
# op "r" with exactly one "last" row at the very end; and under concurrent writers the rows form
# one consistent snapshot (per-row and whole-table invariants hold) taken while writes went on.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
command -v node >/dev/null || fail "node is needed to check the output"
pg_start

big_rows=25000   # default FETCH size is 10000: three batches
psql_q "
CREATE TABLE single_pk (id int PRIMARY KEY, name text, flag boolean, n8 bigint, d date, amount numeric(10,2));
INSERT INTO single_pk
  SELECT i, 'name ' || i, i % 2 = 0, i::bigint * 1000000, DATE '2024-01-01' + i, i * 1.25
  FROM generate_series(1, 500) i;
INSERT INTO single_pk (id) VALUES (501);
CREATE TABLE composite (region text, n int, v int, PRIMARY KEY (region, n));
INSERT INTO composite SELECT r, i, i * 10 FROM unnest(ARRAY['eu', 'us', 'ap']) r, generate_series(1, 40) i;
CREATE TABLE no_pk (a int, b text);
ALTER TABLE no_pk REPLICA IDENTITY FULL;
INSERT INTO no_pk SELECT i % 7, 'b' || (i % 3) FROM generate_series(1, 60) i;
CREATE TABLE big (id bigint PRIMARY KEY, payload text);
INSERT INTO big SELECT i, md5(i::text) FROM generate_series(1, $big_rows) i;
CREATE TABLE empty_t (id int PRIMARY KEY, v text);
CREATE TABLE gen (id int PRIMARY KEY, x int, twice int GENERATED ALWAYS AS (x * 2) STORED);
INSERT INTO gen (id, x) SELECT i, i FROM generate_series(1, 5) i;
CREATE SCHEMA \"Odd Schema\";
CREATE TABLE \"Odd Schema\".\"Tab \"\"le\" (\"Key\" int PRIMARY KEY, \"select\" text);
INSERT INTO \"Odd Schema\".\"Tab \"\"le\" VALUES (1, 'x'), (2, NULL);"

# Expected content, computed by PostgreSQL: one line per row, "schema.table<TAB>key".
psql_q "
SELECT 'public.single_pk' || E'\t' || id FROM single_pk UNION ALL
SELECT 'public.composite' || E'\t' || region || '|' || n FROM composite UNION ALL
SELECT 'public.no_pk' || E'\t' || a || '|' || b FROM no_pk UNION ALL
SELECT 'public.big' || E'\t' || id FROM big UNION ALL
SELECT 'public.gen' || E'\t' || id FROM gen UNION ALL
SELECT 'Odd Schema.Tab \"le' || E'\t' || \"Key\" FROM \"Odd Schema\".\"Tab \"\"le\"" >"$test_tmp/expected.tsv"
# A few rows in full, as Debezium's JSON writes them (ints, bigints, text, bools, dates as days).
psql_q "SELECT json_build_object('id', id, 'name', name, 'flag', flag, 'n8', n8, 'd', d - DATE '1970-01-01')
        FROM single_pk WHERE id IN (1, 2, 250, 501) ORDER BY id" >"$test_tmp/expected_rows.jsonl"

# 1. Every table, complete, in one snapshot.
out="$test_tmp/snap.jsonl"
capture_start "$out" --slot snap_slot --publication snap_pub --snapshot-mode initial_only
wait_exit "$capture_pid" 300 || { tail -20 "$test_tmp/capture.log"; fail "initial_only capture did not exit"; }
[ "$exit_status" = 0 ] || { tail -20 "$test_tmp/capture.log"; fail "initial_only capture exited $exit_status"; }
consistent=$(psql_q "SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = 'snap_slot'")
[ -n "$consistent" ] || fail "slot snap_slot does not exist after the snapshot"

node - "$out" "$test_tmp/expected.tsv" "$test_tmp/expected_rows.jsonl" "$consistent" <<'JS'
const fs = require('fs');
const [outFile, expFile, rowsFile, consistent] = process.argv.slice(2);
const lines = fs.readFileSync(outFile, 'utf8').split('\n').filter(l => l.length);
const evs = lines.map(l => JSON.parse(l));
const fails = [];
const expect = (cond, msg) => { if (!cond) fails.push(msg); };

expect(evs.length > 0, 'no events');
expect(evs.every(e => e.op === 'r'), 'every event is a read (op r)');
expect(evs.every(e => e.before === null && e.after !== null), 'before null, after set');
const last = evs.filter(e => e.source.snapshot === 'last');
expect(last.length === 1, `exactly one "last" snapshot row (got ${last.length})`);
expect(evs.length && evs[evs.length - 1].source.snapshot === 'last', 'the "last" row is the last line');
expect(evs.slice(0, -1).every(e => e.source.snapshot === 'true'), 'all other rows have snapshot "true"');
expect(new Set(evs.map(e => e.source.lsn)).size === 1, 'one source.lsn for the whole snapshot');
expect(evs.length && String(evs[0].source.lsn) === consistent,
  `source.lsn ${evs.length && evs[0].source.lsn} is the slot's consistent point ${consistent}`);

// Keys per table, as multisets (no_pk has duplicate rows).
const keyOf = (e) => {
  const t = e.source.schema + '.' + e.source.table, a = e.after;
  switch (t) {
    case 'public.composite': return a.region + '|' + a.n;
    case 'public.no_pk': return a.a + '|' + a.b;
    case 'Odd Schema.Tab "le': return String(a.Key);
    default: return String(a.id);
  }
};
const count = (pairs) => {
  const m = new Map();
  for (const [t, k] of pairs) {
    if (!m.has(t)) m.set(t, new Map());
    const tm = m.get(t);
    tm.set(k, (tm.get(k) || 0) + 1);
  }
  return m;
};
const want = count(fs.readFileSync(expFile, 'utf8').split('\n').filter(l => l).map(l => l.split('\t')));
const got = count(evs.map(e => [e.source.schema + '.' + e.source.table, keyOf(e)]));
for (const t of new Set([...want.keys(), ...got.keys()])) {
  const w = want.get(t) || new Map(), g = got.get(t) || new Map();
  const wn = [...w.values()].reduce((x, y) => x + y, 0), gn = [...g.values()].reduce((x, y) => x + y, 0);
  expect(wn === gn, `${t}: ${gn} rows, table has ${wn}`);
  let diff = 0;
  for (const k of new Set([...w.keys(), ...g.keys()])) if ((w.get(k) || 0) !== (g.get(k) || 0)) diff++;
  expect(diff === 0, `${t}: ${diff} keys differ from the table`);
}
expect(!got.has('public.empty_t'), 'the empty table yields no rows');

// Primary-key order within a table (the cursor reads ORDER BY the key).
const ids = evs.filter(e => e.source.table === 'big').map(e => e.after.id);
expect(ids.every((v, i) => i === 0 || v > ids[i - 1]), 'big is read in key order');
const comp = evs.filter(e => e.source.table === 'composite').map(e => [e.after.region, e.after.n]);
expect(comp.every((v, i) => i === 0 || v[0] > comp[i - 1][0] || (v[0] === comp[i - 1][0] && v[1] > comp[i - 1][1])),
  'composite is read in (region, n) order');
// Each table's rows are contiguous.
const order = evs.map(e => e.source.schema + '.' + e.source.table).filter((t, i, a) => i === 0 || t !== a[i - 1]);
expect(order.length === new Set(order).size, 'each table read once, contiguously: ' + order.join(' '));

// Values: full rows as Debezium writes them; generated columns are absent, as pgoutput sends them.
for (const l of fs.readFileSync(rowsFile, 'utf8').split('\n').filter(l => l)) {
  const w = JSON.parse(l);
  const e = evs.find(e => e.source.table === 'single_pk' && e.after.id === w.id);
  const g = e && Object.fromEntries(Object.keys(w).map(k => [k, e.after[k]]));
  expect(e && JSON.stringify(g) === JSON.stringify(w), `single_pk row ${w.id}: got ${JSON.stringify(g)} want ${l}`);
}
const gen = evs.find(e => e.source.table === 'gen');
expect(gen && !('twice' in gen.after) && gen.after.x === gen.after.id, 'generated column left out: ' + JSON.stringify(gen && gen.after));
const odd = evs.filter(e => e.source.schema === 'Odd Schema');
expect(odd.length === 2 && odd[1].after.select === null && odd[0].after.select === 'x', 'quoted identifiers and NULL');

if (fails.length) { console.error(fails.join('\n')); process.exit(1); }
console.log(`ok: ${evs.length} snapshot rows`);
JS
pass "initial snapshot: every table complete, exactly once, one last row at the end"

# 2. Concurrent writers: transfers between accounts (the total balance never changes; a and b of a
# row move together, in different statements of one transaction; each transfer also adds a ledger
# row), inserts and deletes. Every snapshot row must satisfy a = b, the snapshot's total balance
# must be the constant, the ledger (read after acct) must hold exactly sum(a) / 2 rows (both
# tables in one snapshot), and the snapshot must lie strictly between the states before and after
# the capture ran.
accounts=100000
psql_q "
CREATE TABLE acct (id int PRIMARY KEY, bal bigint NOT NULL, a bigint NOT NULL, b bigint NOT NULL);
INSERT INTO acct SELECT i, 1000, 0, 0 FROM generate_series(1, $accounts) i;
CREATE TABLE ledger (id bigserial PRIMARY KEY, amount int NOT NULL);"
total=$((accounts * 1000))
cat >"$test_tmp/transfer.sql" <<SQL
\set x random(1, $accounts)
\set r random(1, $((accounts - 2)))
\set y 1 + (:x + :r) % $accounts
\set lo least(:x, :y)
\set hi greatest(:x, :y)
\set amt random(1, 100)
BEGIN;
UPDATE acct SET bal = bal - :amt, a = a + 1 WHERE id = :lo;
UPDATE acct SET bal = bal + :amt, a = a + 1 WHERE id = :hi;
UPDATE acct SET b = b + 1 WHERE id IN (:lo, :hi);
INSERT INTO ledger (amount) VALUES (:amt);
COMMIT;
SQL
cat >"$test_tmp/churn.sql" <<SQL
\set id random($((accounts + 1)), $((accounts + 5000)))
INSERT INTO acct VALUES (:id, 0, 0, 0) ON CONFLICT (id) DO NOTHING;
\set id2 random($((accounts + 1)), $((accounts + 5000)))
DELETE FROM acct WHERE id = :id2 AND bal = 0;
SQL
"$pg_bin/pgbench" -n -c 2 -j 2 -T 300 -f "$test_tmp/transfer.sql@4" -f "$test_tmp/churn.sql@1" \
    >"$test_tmp/pgbench.log" 2>&1 &
bench_pid=$!
test_pids+=("$bench_pid")
sleep 1
kill -0 "$bench_pid" 2>/dev/null || { cat "$test_tmp/pgbench.log"; fail "pgbench did not start"; }
a_before=$(psql_q "SELECT sum(a) FROM acct")
sleep 0.5

out2="$test_tmp/conc.jsonl"
capture_start "$out2" --slot conc_slot --publication conc_pub --tables public.acct,public.ledger --snapshot-mode initial_only
wait_exit "$capture_pid" 300 || { tail -20 "$test_tmp/capture.log"; fail "concurrent initial_only capture did not exit"; }
[ "$exit_status" = 0 ] || { tail -20 "$test_tmp/capture.log"; fail "concurrent initial_only capture exited $exit_status"; }
sleep 0.5
kill -0 "$bench_pid" 2>/dev/null || { cat "$test_tmp/pgbench.log"; fail "pgbench stopped before the snapshot was done"; }
a_after=$(psql_q "SELECT sum(a) FROM acct")
kill -9 "$bench_pid" 2>/dev/null || true   # pgbench ignores SIGINT while its clients run
wait_exit "$bench_pid" 10 || true
[ "$(psql_q "SELECT sum(bal) FROM acct")" = "$total" ] || fail "the workload itself broke the balance invariant"

node - "$out2" "$total" "$a_before" "$a_after" <<'JS'
const fs = require('fs');
const [file, total, aBefore, aAfter] = process.argv.slice(2).map((v, i) => i ? Number(v) : v);
const evs = fs.readFileSync(file, 'utf8').split('\n').filter(l => l).map(l => JSON.parse(l));
const fails = [];
const expect = (cond, msg) => { if (!cond) fails.push(msg); };
const rows = evs.filter(e => e.source.table === 'acct');
const ledger = evs.filter(e => e.source.table === 'ledger');
expect(rows.length + ledger.length === evs.length, 'only acct and ledger were captured');
expect(evs.every(e => e.op === 'r'), 'all reads');
expect(evs.filter(e => e.source.snapshot === 'last').length === 1 && evs[evs.length - 1].source.snapshot === 'last',
  'one last row, at the end');
const ids = new Set(rows.map(e => e.after.id));
expect(ids.size === rows.length, `every row once (${rows.length} rows, ${ids.size} ids)`);
for (let i = 1; i <= 100000; i++) if (!ids.has(i)) { fails.push(`account ${i} missing`); break; }
const torn = rows.filter(e => e.after.a !== e.after.b);
expect(torn.length === 0, `${torn.length} rows with a != b, e.g. ${JSON.stringify(torn[0] && torn[0].after)}`);
const bal = rows.reduce((s, e) => s + e.after.bal, 0);
expect(bal === total, `snapshot total balance ${bal}, want ${total}`);
const a = rows.reduce((s, e) => s + e.after.a, 0);
expect(a > aBefore && a < aAfter, `snapshot taken while writes went on: sum(a) ${aBefore} < ${a} < ${aAfter}`);
expect(ledger.length * 2 === a, `ledger has ${ledger.length} rows in the snapshot, acct says ${a / 2} transfers`);
if (fails.length) { console.error(fails.join('\n')); process.exit(1); }
console.log(`ok: ${rows.length} rows, ${ledger.length} ledger rows consistent under concurrent writes (sum(a) ${aBefore} < ${a} < ${aAfter})`);
JS
pass "snapshot under concurrent writers is one consistent state"
