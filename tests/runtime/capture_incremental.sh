#!/usr/bin/env bash
# Incremental snapshot (DBLog watermarks) while streaming: with no initial snapshot, `sluice
# snapshot public.big` makes the running capture read the 20,000-row table in chunks while a
# concurrent workload updates, deletes, inserts and re-keys rows. Replaying the output in file
# order (reads and changes alike) must give exactly the final table; every final row must appear;
# stream events must keep flowing between the incremental reads. Keyless tables are refused.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
pg_start

psql_q "
CREATE TABLE big (id int PRIMARY KEY, v int, note text);
INSERT INTO big SELECT i, i, 'row ' || i FROM generate_series(1, 20000) i;
CREATE TABLE nokey (a int, b text);
CREATE TABLE done_marker (id int PRIMARY KEY);"

# Keyless tables cannot be read in chunks: refused before anything is signalled.
if "$SLUICE_BIN" snapshot public.nokey --conninfo "$pg_conninfo" >"$test_tmp/nokey.out" 2>&1; then
    fail "snapshot of a keyless table was accepted: $(cat "$test_tmp/nokey.out")"
fi
grep -q "no primary key" "$test_tmp/nokey.out" || fail "keyless refusal unclear: $(cat "$test_tmp/nokey.out")"
if "$SLUICE_BIN" snapshot public.missing --conninfo "$pg_conninfo" >/dev/null 2>&1; then
    fail "snapshot of a missing table was accepted"
fi
pass "keyless and missing tables refused"

out="$test_tmp/out.jsonl"
capture_start "$out" --slot inc_slot --publication inc_pub --tables big,done_marker --snapshot-mode never
# streaming has started once a change comes through
for ((i = 0; i < 300; i++)); do
    psql_q "INSERT INTO done_marker VALUES (-$i - 1)"
    grep -q '"table":"done_marker"' "$out" 2>/dev/null && break
    kill -0 "$capture_pid" 2>/dev/null || { tail -20 "$test_tmp/capture.log"; fail "capture exited"; }
    sleep 0.2
done
grep -q '"table":"done_marker"' "$out" || { tail -20 "$test_tmp/capture.log"; fail "capture did not start streaming"; }

# Concurrent workload (pgbench, 4 clients, each statement its own transaction): updates,
# deletes, inserts and primary-key changes for 10 s; the snapshot is requested after 1 s.
[ -x "$pg_bin/pgbench" ] || fail "pgbench not found in $pg_bin (install postgresql-15)"
cat >"$test_tmp/workload.sql" <<'SQL'
\set a random(1, 20000)
\set b random(1, 20000)
\set c random(1, 20000)
\set n random(20001, 30000)
UPDATE big SET v = v + 1, note = note || '+' WHERE id = :a;
DELETE FROM big WHERE id = :b;
INSERT INTO big VALUES (:n, :n, 'new') ON CONFLICT (id) DO UPDATE SET v = big.v + 1000;
UPDATE big SET id = id + 1000000 WHERE id = :c;
SQL
"$pg_bin/pgbench" -n -f "$test_tmp/workload.sql" -c 4 -T 10 >"$test_tmp/workload.log" 2>&1 &
workload_pid=$!
test_pids+=("$workload_pid")
sleep 1

"$SLUICE_BIN" snapshot public.big --conninfo "$pg_conninfo" --publication inc_pub >"$test_tmp/snapshot.out" 2>&1 ||
    fail "sluice snapshot failed: $(cat "$test_tmp/snapshot.out")"
grep -q "public.big" "$test_tmp/snapshot.out" || fail "sluice snapshot said: $(cat "$test_tmp/snapshot.out")"

# The capture logs when the table has been read completely.
for ((i = 0; i < 1200; i++)); do
    grep -q 'incremental snapshot done.*table=big' "$test_tmp/capture.log" && break
    kill -0 "$capture_pid" 2>/dev/null || { tail -20 "$test_tmp/capture.log"; fail "capture exited during the incremental snapshot"; }
    sleep 0.1
done
grep -q 'incremental snapshot done.*table=big' "$test_tmp/capture.log" ||
    { tail -20 "$test_tmp/capture.log"; fail "incremental snapshot of big did not finish in 120 s"; }
wait "$workload_pid" || { cat "$test_tmp/workload.log"; fail "workload failed"; }

# Catch up: a marker committed after the workload must come through, then stop.
psql_q "INSERT INTO done_marker VALUES (1)"
wait_lines "$out" '"after":{"id":1}' 1 60
capture_stop
psql_q "SELECT coalesce(json_agg(b ORDER BY id), '[]') FROM big b" >"$test_tmp/final.json"

node - "$out" "$test_tmp/final.json" <<'JS'
const fs = require('fs');
const [file, finalFile] = process.argv.slice(2);
const evs = fs.readFileSync(file, 'utf8').trim().split('\n').map(l => JSON.parse(l))
  .filter(e => e.source && e.source.table === 'big');
const final = JSON.parse(fs.readFileSync(finalFile, 'utf8'));
const fails = [];
const expect = (cond, msg) => { if (!cond) fails.push(msg); };

const reads = evs.filter(e => e.op === 'r');
expect(reads.length > 0, 'no reads at all');
expect(reads.every(e => e.source.snapshot === 'incremental'),
  'reads not marked incremental: ' + JSON.stringify(reads.find(e => e.source.snapshot !== 'incremental')));
expect(evs.filter(e => e.op !== 'r').every(e => e.source.snapshot === 'false' || e.source.snapshot === false),
  'stream events marked as snapshot');
expect(reads.every(e => e.before === null && e.after && typeof e.after.id === 'number'), 'read shape');

// Replay in file order: reads and creates/updates set the row, deletes remove it.
const rows = new Map();
const seen = new Set();
for (const e of evs) {
  switch (e.op) {
  case 'r': case 'c': case 'u':
    if (e.before && e.before.id !== e.after.id) rows.delete(e.before.id);
    rows.set(e.after.id, e.after);
    seen.add(e.after.id);
    break;
  case 'd': rows.delete(e.before.id); break;
  case 't': rows.clear(); break;
  }
}
const want = new Map(final.map(r => [r.id, r]));
let mismatches = [];
for (const id of new Set([...rows.keys(), ...want.keys()])) {
  const a = rows.get(id), b = want.get(id);
  if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push(`${id}: replay ${JSON.stringify(a)} table ${JSON.stringify(b)}`);
}
expect(mismatches.length === 0, `${mismatches.length} rows differ after replay:\n  ` + mismatches.slice(0, 10).join('\n  '));
const unseen = final.filter(r => !seen.has(r.id));
expect(unseen.length === 0, `${unseen.length} final rows never appeared, e.g. ${JSON.stringify(unseen.slice(0, 5))}`);
// Original rows that survived untouched can only have come from the incremental snapshot.
expect(new Set(reads.map(e => e.after.id)).size > 15000, 'reads cover the table: ' + reads.length);

// Streaming went on during the snapshot: changes between the first and the last read.
const idx = evs.map((e, i) => [e, i]);
const first = idx.find(([e]) => e.op === 'r')[1], last = idx.filter(([e]) => e.op === 'r').pop()[1];
const during = evs.slice(first, last).filter(e => e.op !== 'r').length;
expect(during > 0, 'no stream events between the first and last incremental reads');
expect(evs.slice(0, first).some(e => e.op !== 'r'), 'no stream events before the snapshot');
if (fails.length) { console.error(fails.join('\n')); process.exit(1); }
console.log(`ok: ${reads.length} incremental reads, ${evs.length - reads.length} changes (${during} during the snapshot), ${final.length} rows`);
JS
pass "incremental snapshot while streaming replays to the final table"
