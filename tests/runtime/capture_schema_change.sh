#!/usr/bin/env bash
# Schema changes while capturing: ADD COLUMN, DROP COLUMN, ALTER COLUMN TYPE (int -> bigint) and
# RENAME COLUMN, each followed by inserts and updates. Events after each change carry exactly the
# new column set (and values); the store records versions 1..5 of the table with the expected
# columns and types; a restart with the same schema records no new version.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
command -v node >/dev/null || fail "node is needed to check the output"
command -v sqlite3 >/dev/null || fail "sqlite3 is needed to read the store"
pg_start

psql_q "
CREATE TABLE sc (id int PRIMARY KEY, a int, b text);
INSERT INTO sc VALUES (1, 10, 'one'), (2, 20, 'two');
CREATE TABLE other (id int PRIMARY KEY, x text);"

out="$test_tmp/out.jsonl"
capture_start "$out" --slot sc_slot --publication sc_pub --tables public.sc,public.other
wait_lines "$out" '"snapshot":"last"' 1 60

# Phase 0 (version 1): id a b. Each phase: an insert with id 100 * phase, an update of row 1,
# then a marker row in another table so we know the phase has been streamed.
psql_q "INSERT INTO sc VALUES (100, 1, 'p0'); UPDATE sc SET a = a + 1 WHERE id = 1; INSERT INTO other VALUES (0, 'p0')"
psql_q "ALTER TABLE sc ADD COLUMN c text DEFAULT 'dflt'"
psql_q "INSERT INTO sc VALUES (200, 2, 'p1', 'c1'); UPDATE sc SET c = 'c-upd' WHERE id = 1; INSERT INTO other VALUES (1, 'p1')"
psql_q "ALTER TABLE sc DROP COLUMN b"
psql_q "INSERT INTO sc VALUES (300, 3, 'c3'); UPDATE sc SET a = 33 WHERE id = 1; INSERT INTO other VALUES (2, 'p2')"
psql_q "ALTER TABLE sc ALTER COLUMN a TYPE bigint"
psql_q "INSERT INTO sc VALUES (400, 5000000000, 'c4'); UPDATE sc SET a = 6000000000 WHERE id = 1; INSERT INTO other VALUES (3, 'p3')"
psql_q "ALTER TABLE sc RENAME COLUMN c TO d"
psql_q "INSERT INTO sc VALUES (500, 7000000000, 'd5'); UPDATE sc SET d = 'd-upd' WHERE id = 1; INSERT INTO other VALUES (4, 'p4')"
wait_lines "$out" '"table":"other"' 5 60
capture_stop

node - "$out" <<'JS'
const fs = require('fs');
const evs = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(l => l).map(l => JSON.parse(l));
const fails = [];
const expect = (cond, msg) => { if (!cond) fails.push(msg); };
const sc = evs.filter(e => e.source.table === 'sc');
const cols = e => Object.keys(e.after).join(',');
// The snapshot: version 1.
const snap = sc.filter(e => e.op === 'r');
expect(snap.length === 2 && snap.every(e => cols(e) === 'id,a,b'), 'snapshot columns id,a,b: ' + snap.map(cols).join(' '));
// Split the stream into phases by the markers in table "other".
const phases = [[]];
for (const e of evs.filter(e => e.op !== 'r')) {
  if (e.source.table === 'other') phases.push([]);
  else phases[phases.length - 1].push(e);
}
expect(phases.length === 6 && phases[5].length === 0, `5 phases, each closed by a marker (got ${phases.length - 1})`);
const want = [
  {cols: 'id,a,b',   ins: {id: 100, a: 1, b: 'p0'},            upd: {id: 1, a: 11, b: 'one'}},
  {cols: 'id,a,b,c', ins: {id: 200, a: 2, b: 'p1', c: 'c1'},   upd: {id: 1, a: 11, b: 'one', c: 'c-upd'}},
  {cols: 'id,a,c',   ins: {id: 300, a: 3, c: 'c3'},            upd: {id: 1, a: 33, c: 'c-upd'}},
  {cols: 'id,a,c',   ins: {id: 400, a: 5000000000, c: 'c4'},   upd: {id: 1, a: 6000000000, c: 'c-upd'}},
  {cols: 'id,a,d',   ins: {id: 500, a: 7000000000, d: 'd5'},   upd: {id: 1, a: 6000000000, d: 'd-upd'}},
];
for (let p = 0; p < want.length; p++) {
  const evsP = phases[p] || [];
  const w = want[p];
  expect(evsP.length === 2, `phase ${p}: 2 events (got ${evsP.length})`);
  const ins = evsP.find(e => e.op === 'c'), upd = evsP.find(e => e.op === 'u');
  expect(ins && JSON.stringify(ins.after) === JSON.stringify(w.ins),
    `phase ${p} insert: got ${ins && JSON.stringify(ins.after)} want ${JSON.stringify(w.ins)}`);
  expect(upd && JSON.stringify(upd.after) === JSON.stringify(w.upd),
    `phase ${p} update: got ${upd && JSON.stringify(upd.after)} want ${JSON.stringify(w.upd)}`);
  for (const e of evsP) expect(cols(e) === w.cols, `phase ${p} ${e.op}: columns ${cols(e)}, want ${w.cols}`);
}
if (fails.length) { console.error(fails.join('\n')); process.exit(1); }
console.log(`ok: ${sc.length} events of sc across 5 schema versions`);
JS
pass "events after each schema change carry the new columns"

db="$test_tmp/state/sluice.db"
versions() {
    sqlite3 "$db" "SELECT version || ' ' || schema_name || '.' || table_name || ' ' ||
        (SELECT group_concat(json_extract(value, '\$.name') || ':' || json_extract(value, '\$.type') ||
                             CASE WHEN json_extract(value, '\$.key') THEN '*' ELSE '' END, ',')
         FROM json_each(columns))
        FROM schema_versions WHERE table_name = 'sc' ORDER BY version"
}
expected="1 public.sc id:int4*,a:int4,b:text
2 public.sc id:int4*,a:int4,b:text,c:text
3 public.sc id:int4*,a:int4,c:text
4 public.sc id:int4*,a:int8,c:text
5 public.sc id:int4*,a:int8,d:text"
got=$(versions)
[ "$got" = "$expected" ] || fail "schema_versions of sc:
$got
want:
$expected"
pass "the store records versions 1..5 of sc with the expected columns"

# A restart with the schema unchanged continues at version 5; one more change makes version 6.
capture_start "$out" --slot sc_slot --publication sc_pub --tables public.sc,public.other
psql_q "INSERT INTO sc VALUES (600, 8, 'd6'); INSERT INTO other VALUES (5, 'p5')"
wait_lines "$out" '"table":"other"' 6 60
[ "$(versions)" = "$expected" ] || fail "a restart with the same schema recorded a new version: $(versions)"
psql_q "ALTER TABLE sc ADD COLUMN e boolean; INSERT INTO sc VALUES (700, 9, 'd7', true); INSERT INTO other VALUES (6, 'p6')"
wait_lines "$out" '"table":"other"' 7 60
capture_stop
grep -q '"after":{"id":700,"a":9,"d":"d7","e":true}' "$out" || fail "insert after the restart's schema change: $(grep '"id":700' "$out")"
[ "$(versions | tail -1)" = "6 public.sc id:int4*,a:int8,d:text,e:bool" ] || fail "version 6 after a restart: $(versions | tail -1)"
pass "a restart keeps the numbering: same schema stays version 5, the next change is version 6"
