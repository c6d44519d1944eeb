#!/usr/bin/env bash
# Snapshot + stream under concurrent writes (`--snapshot-mode initial`): a workload of inserts,
# updates, primary-key changes and deletes runs before the capture starts, during the snapshot
# and for ~5 s of streaming after it. Replaying the output (snapshot rows, then changes in
# order, by primary key) must give exactly the final table, every row and every column; no
# streamed change may be written twice (each (lsn, txId) pair at most once).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
command -v node >/dev/null || fail "node is needed to check the output"
pg_start

rows=50000
psql_q "
CREATE TABLE s (id int PRIMARY KEY, n int NOT NULL, big bigint, note text, flag boolean, amount numeric(12,2));
INSERT INTO s SELECT i, i, i::bigint * 1000003, md5(i::text), i % 3 = 0, i / 7.0 FROM generate_series(1, $rows) i;
CREATE SEQUENCE s_new START 1000001;"

# Keys 1..rows are the original rows; new keys (inserts and primary-key changes) come from s_new.
cat >"$test_tmp/insert.sql" <<'SQL'
\set r random(1, 1000000)
INSERT INTO s VALUES (nextval('s_new'), :r, :r::bigint * 1000000007, md5(:r::text), :r % 2 = 0, :r / 100.0);
SQL
cat >"$test_tmp/update.sql" <<SQL
\set x random(1, $rows)
UPDATE s SET n = n + 1, note = md5(random()::text), flag = NOT flag, amount = amount + 0.25 WHERE id = :x;
\set y random(1000001, 1002000)
UPDATE s SET n = n - 1, big = NULL, note = NULL WHERE id = :y;
SQL
cat >"$test_tmp/rekey.sql" <<SQL
\set x random(1, $rows)
UPDATE s SET id = nextval('s_new'), n = n + 100 WHERE id = :x;
\set y random(1000001, 1002000)
UPDATE s SET id = nextval('s_new') WHERE id = :y;
SQL
cat >"$test_tmp/delete.sql" <<SQL
\set x random(1, $rows)
DELETE FROM s WHERE id = :x;
\set y random(1000001, 1002000)
DELETE FROM s WHERE id = :y;
SQL
cat >"$test_tmp/multi.sql" <<SQL
\set x random(1, $rows)
BEGIN;
INSERT INTO s VALUES (nextval('s_new'), 1, 2, 'multi', true, 1.5);
UPDATE s SET n = n * 2, note = 'in tx' WHERE id = :x;
INSERT INTO s VALUES (nextval('s_new'), 3, 4, NULL, NULL, NULL);
COMMIT;
SQL
"$pg_bin/pgbench" -n -c 2 -j 2 -T 300 -R 400 \
    -f "$test_tmp/insert.sql@3" -f "$test_tmp/update.sql@3" -f "$test_tmp/rekey.sql@1" \
    -f "$test_tmp/delete.sql@1" -f "$test_tmp/multi.sql@1" >"$test_tmp/pgbench.log" 2>&1 &
bench_pid=$!
test_pids+=("$bench_pid")
sleep 1.5
kill -0 "$bench_pid" 2>/dev/null || { cat "$test_tmp/pgbench.log"; fail "pgbench did not start"; }

out="$test_tmp/out.jsonl"
capture_start "$out" --slot ss_slot --publication ss_pub --tables public.s --snapshot-mode initial
wait_lines "$out" '"snapshot":"last"' 1 120
sleep 5
kill -0 "$bench_pid" 2>/dev/null || { cat "$test_tmp/pgbench.log"; fail "pgbench stopped before the end"; }
kill -9 "$bench_pid" 2>/dev/null || true   # pgbench ignores SIGINT while its clients run
wait_exit "$bench_pid" 10 2>/dev/null || true
# Its server backends end on their own once they notice the dropped connection.
for ((i = 0; i < 100; i++)); do
    [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")" = 0 ] && break
    sleep 0.1
done
[ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")" = 0 ] ||
    fail "pgbench backends still running"
end_lsn=$(psql_q "SELECT pg_current_wal_lsn()")
wait_confirmed ss_slot "$end_lsn" 120
capture_stop

psql_q "SELECT json_build_object('id', id, 'n', n, 'big', big, 'note', note, 'flag', flag, 'amount', amount::text)
        FROM s ORDER BY id" >"$test_tmp/final.jsonl"

node - "$out" "$test_tmp/final.jsonl" "$rows" <<'JS'
const fs = require('fs');
const [outFile, finalFile, rowsArg] = process.argv.slice(2);
const origRows = Number(rowsArg);
const evs = fs.readFileSync(outFile, 'utf8').split('\n').filter(l => l).map(l => JSON.parse(l));
const fails = [];
const expect = (cond, msg) => { if (!cond) fails.push(msg); };

const snap = evs.filter(e => e.op === 'r');
const stream = evs.filter(e => e.op !== 'r');
const lastIdx = evs.findIndex(e => e.source.snapshot === 'last');
expect(lastIdx >= 0 && lastIdx === snap.length - 1, 'the snapshot comes first and ends with one "last" row');
expect(evs.every(e => e.source.table === 's'), 'only table s');
// The workload ran before the capture: the snapshot already holds moved and inserted keys.
expect(snap.some(e => e.after.id > 1000000), 'snapshot contains rows the workload inserted');
expect(snap.length !== origRows || snap.some(e => e.after.n !== e.after.id), 'snapshot is not the initial state');
// The stream has every kind of change.
const isRekey = e => e.op === 'u' && e.before && e.before.id !== e.after.id;
expect(stream.some(e => e.op === 'c'), 'stream has inserts');
expect(stream.some(e => e.op === 'u' && !isRekey(e)), 'stream has updates');
expect(stream.some(isRekey), 'stream has primary-key changes');
expect(stream.some(e => e.op === 'd'), 'stream has deletes');
expect(stream.every(e => e.source.snapshot === 'false' && e.source.txId !== null), 'stream events carry a txId');
// Nothing streamed twice.
const seen = new Map();
let dups = 0, firstDup = null;
for (const e of stream) {
  const k = e.source.lsn + '/' + e.source.txId;
  if (seen.has(k)) { dups++; firstDup = firstDup || k; }
  seen.set(k, true);
}
expect(dups === 0, `${dups} streamed changes appear twice, e.g. lsn/txId ${firstDup}`);
// Replay by key.
const table = new Map();
let anomalies = [];
for (const e of evs) {
  if (e.op === 'r' || e.op === 'c') {
    if (e.op === 'c' && table.has(e.after.id)) anomalies.push(`insert of existing key ${e.after.id}`);
    table.set(e.after.id, e.after);
  } else if (e.op === 'u') {
    if (e.before && e.before.id !== e.after.id) {
      if (!table.has(e.before.id)) anomalies.push(`key change from missing key ${e.before.id}`);
      table.delete(e.before.id);
    } else if (!table.has(e.after.id)) anomalies.push(`update of missing key ${e.after.id}`);
    table.set(e.after.id, e.after);
  } else if (e.op === 'd') {
    if (!table.has(e.before.id)) anomalies.push(`delete of missing key ${e.before.id}`);
    table.delete(e.before.id);
  } else anomalies.push('unexpected op ' + e.op);
}
expect(anomalies.length === 0, `${anomalies.length} replay anomalies, e.g. ${anomalies.slice(0, 3).join('; ')}`);

const norm = r => JSON.stringify({id: r.id, n: r.n, big: r.big, note: r.note, flag: r.flag,
                                   amount: r.amount === null ? null : String(r.amount)});
const want = new Map(fs.readFileSync(finalFile, 'utf8').split('\n').filter(l => l)
  .map(l => JSON.parse(l)).map(r => [r.id, norm(r)]));
let missing = 0, extra = 0, differ = 0;
const examples = [];
for (const [id, w] of want) {
  if (!table.has(id)) { missing++; examples.length < 3 && examples.push('missing ' + id); continue; }
  const g = norm(table.get(id));
  if (g !== w) { differ++; examples.length < 3 && examples.push(`row ${id}: got ${g} want ${w}`); }
}
for (const id of table.keys()) if (!want.has(id)) { extra++; examples.length < 3 && examples.push('extra ' + id); }
expect(missing + extra + differ === 0,
  `replay differs from the table: ${missing} missing, ${extra} extra, ${differ} different rows; ${examples.join('; ')}`);
expect(table.size === want.size, `replayed ${table.size} rows, table has ${want.size}`);

if (fails.length) { console.error(fails.join('\n')); process.exit(1); }
const k = op => stream.filter(e => e.op === op).length;
console.log(`ok: ${snap.length} snapshot rows, ${stream.length} streamed changes (c ${k('c')} u ${k('u')} ` +
  `rekey ${stream.filter(isRekey).length} d ${k('d')}), replay equals the ${want.size}-row table`);
JS
pass "snapshot + stream under concurrent writes replays to exactly the final table, nothing doubled"
