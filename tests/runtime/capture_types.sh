#!/usr/bin/env bash
# Every common PostgreSQL type round-trips exactly through capture, in the initial snapshot
# (op r) and in the stream (op c): values are compared with what PostgreSQL itself computes for
# Debezium's representation (days, microseconds, base64, UTC text, ...).
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/capture.bash"
pg_start

psql_q "
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE types (
  id int PRIMARY KEY,
  c_bool boolean, c_int2 smallint, c_int4 int, c_int8 bigint, c_float4 real, c_float8 double precision,
  c_numeric numeric(20,6), c_numeric_any numeric, c_money money,
  c_text text, c_varchar varchar(20), c_char char(5), c_bytea bytea,
  c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz, c_interval interval,
  c_uuid uuid, c_json json, c_jsonb jsonb, c_inet inet, c_cidr cidr, c_macaddr macaddr,
  c_enum mood, c_int_array int[], c_text_array text[]);
CREATE TABLE rows_in (LIKE types);"

# Rows 1..4: typical, extreme, special and NULL values; inserted before the capture starts
# (snapshot) and again with id + 1000 while it streams.
psql_q "INSERT INTO rows_in VALUES
 (1, true, 12, 123456, 9007199254740993, 1.1, 3.141592653589793, 12345678901234.123456, 0.1, 12.34,
  'hello \"world\" \\\\ é ✓', 'varchar', 'ab', '\\x00ff10', '2024-02-29', '13:45:06.123456', '13:45:06.5+02',
  '2024-02-29 13:45:06.123456', '2024-02-29 13:45:06.123456+01', '3 days 04:05:06.789',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '{\"b\": {\"c\": null}}', '192.168.1.5/24', '10.0.0.0/8',
  '08:00:2b:01:02:03', 'happy', '{1,2,NULL}', '{\"x y\",z}'),
 (2, false, -32768, -2147483648, -9223372036854775808, -3.4e38, 1e308, -0.000001, 123456789012345678901234567890.5, -1.00,
  '', 'x', 'abcde', '', '0001-01-01', '00:00:00', '23:59:59.999999-12', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999+00',
  '1 year 2 mons -3 days -00:00:01.5', '00000000-0000-0000-0000-000000000000', '[]', '[]', '::1', '2001:db8::/32',
  'ff:ff:ff:ff:ff:ff', 'sad', '{}', '{}'),
 (3, true, 0, 0, 0, 'NaN', 'Infinity', 0, 'NaN', 0, repeat('long', 5000), NULL, NULL, decode(repeat('ab', 3000), 'hex'),
  '2262-04-11', '24:00:00', '00:00:00+14', '2262-04-11 23:47:16.854775', '1900-01-01 00:00:00+00', '-1 mons',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '\"s\"', '123.4', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', 'ok', '{{1,2},{3,4}}', '{NULL}'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO types SELECT * FROM rows_in;"

# What Debezium's JSON holds for each column, computed by PostgreSQL (decimal.handling.mode=string:
# numeric NaN is SpecialValueDecimal's "NAN"; arrays are JSON arrays).
psql_q "SELECT json_build_object(
  'id', id, 'c_bool', c_bool, 'c_int2', c_int2, 'c_int4', c_int4, 'c_int8', c_int8::text,
  'c_float4', c_float4, 'c_float8', c_float8, 'c_numeric', c_numeric::text,
  'c_numeric_any', CASE WHEN c_numeric_any = 'NaN' THEN 'NAN' ELSE c_numeric_any::text END,
  'c_money', (c_money::numeric)::text, 'c_text', c_text, 'c_varchar', c_varchar,
  'c_char', CASE WHEN c_char IS NULL THEN NULL ELSE rpad(c_char::text, 5) END,
  'c_bytea', translate(encode(c_bytea, 'base64'), E'\n', ''),
  'c_date', c_date - date '1970-01-01',
  'c_time', (extract(epoch FROM c_time) * 1000000)::bigint,
  'c_timetz', to_char(date '2000-01-01' + (c_timetz AT TIME ZONE 'UTC')::time, 'HH24:MI:SS.US'),
  'c_ts', ((extract(epoch FROM c_ts) * 1000000)::bigint)::text,
  'c_tstz', to_char(c_tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),
  'c_interval', (((extract(year FROM c_interval) * 12 + extract(month FROM c_interval)) * 30.4375
                 + extract(day FROM c_interval)) * 86400000000 + extract(hour FROM c_interval) * 3600000000
                 + extract(minute FROM c_interval) * 60000000 + extract(microseconds FROM c_interval))::bigint,
  'c_uuid', c_uuid::text, 'c_json', c_json::text, 'c_jsonb', c_jsonb::text, 'c_inet', nullif(format('%s', c_inet), ''),
  'c_cidr', nullif(format('%s', c_cidr), ''), 'c_macaddr', c_macaddr::text, 'c_enum', c_enum::text,
  'c_int_array', to_json(c_int_array), 'c_text_array', to_json(c_text_array))
  FROM rows_in ORDER BY id" >"$test_tmp/expected.jsonl"

out="$test_tmp/out.jsonl"
capture_start "$out" --slot types_slot --publication types_pub --tables public.types --heartbeat-interval 1s
wait_lines "$out" '"op":"r"' 4 60
psql_q "INSERT INTO types SELECT id + 1000, c_bool, c_int2, c_int4, c_int8, c_float4, c_float8, c_numeric,
  c_numeric_any, c_money, c_text, c_varchar, c_char, c_bytea, c_date, c_time, c_timetz, c_ts, c_tstz,
  c_interval, c_uuid, c_json, c_jsonb, c_inet, c_cidr, c_macaddr, c_enum, c_int_array, c_text_array FROM rows_in"
wait_lines "$out" '"op":"c"' 4 30

# An idle slot advances: WAL written only to an unpublished table is released (heartbeats and
# keepalives confirm it once everything captured is durable).
psql_q "CREATE TABLE other (id int); INSERT INTO other SELECT generate_series(1, 100000)"
target=$(psql_q "SELECT pg_current_wal_lsn()")
for _ in $(seq 150); do
    [ "$(psql_q "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'types_slot'")" = t ] && break
    sleep 0.2
done
[ "$(psql_q "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'types_slot'")" = t ] ||
    fail "idle slot did not advance past $target"
pass "idle slot advances past unpublished WAL"
capture_stop

node - "$test_tmp/expected.jsonl" "$out" <<'JS'
const fs = require('fs');
const [expFile, outFile] = process.argv.slice(2);
const expected = new Map(fs.readFileSync(expFile, 'utf8').trim().split('\n').map(l => { const o = JSON.parse(l); return [o.id, o]; }));
// Big integers must be compared as text: parse the raw lines with a reviver-free approach.
const lines = fs.readFileSync(outFile, 'utf8').trim().split('\n');
const trimFraction = (s) => s.replace(/\.?0+$/, '');
let checked = 0, failures = [];
for (const line of lines) {
  const ev = JSON.parse(line);
  if (ev.op !== 'r' && ev.op !== 'c') continue;
  const raw = line; // for int8/ts: exact digits
  const after = ev.after;
  const id = after.id % 1000;
  const exp = expected.get(id);
  if (!exp) { failures.push(`unexpected id ${after.id}`); continue; }
  for (const [col, want] of Object.entries(exp)) {
    if (col === 'id') continue;
    let got = after[col];
    let ok;
    if (want === null) ok = got === null;
    else if (col === 'c_int8' || col === 'c_ts') {
      const m = raw.match(new RegExp(`"${col}":(-?\\d+)`));
      ok = m && m[1] === want;
      got = m && m[1];
    } else if (col === 'c_float4') ok = (typeof want === 'string') ? got === want : Math.fround(got) === Math.fround(want);
    else if (col === 'c_float8') ok = got === want;
    else if (col === 'c_tstz') ok = got === want + 'Z';   // ZonedTimestamp: the column's 6 fraction digits
    else if (col === 'c_timetz') ok = got === trimFraction(want) + 'Z' || got === want.split('.')[0] + 'Z';
    else ok = JSON.stringify(got) === JSON.stringify(want);
    if (!ok) failures.push(`id ${after.id} ${col}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
    checked++;
  }
  if (ev.source.table !== 'types' || ev.source.schema !== 'public' || ev.source.connector !== 'postgresql')
    failures.push(`bad source block ${JSON.stringify(ev.source)}`);
}
const ops = lines.map(l => JSON.parse(l).op);
if (ops.filter(o => o === 'r').length !== 4) failures.push(`want 4 snapshot reads, got ${ops.filter(o => o === 'r').length}`);
if (ops.filter(o => o === 'c').length !== 4) failures.push(`want 4 inserts, got ${ops.filter(o => o === 'c').length}`);
if (failures.length) { console.error(failures.join('\n')); process.exit(1); }
console.log(`ok: ${checked} values compared`);
JS
pass "every type round-trips in snapshot and stream"
