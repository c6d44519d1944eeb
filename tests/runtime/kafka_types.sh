#!/usr/bin/env bash
# Every common PostgreSQL type as a Kafka value in Debezium's default modes, read back by kcat:
# decimal.handling.mode=precise (numeric(p,s) and money as Connect Decimal bytes: base64 of the
# unscaled two's-complement big-endian integer; unconstrained numeric as VariableScaleDecimal
# {scale, value}), time.precision.mode=adaptive (time(3)/timestamp(3) in milliseconds, time and
# timestamp in microseconds, date in days, timestamptz/timetz as UTC text), in the snapshot (op r)
# and in the stream (op c). Expected values are computed by PostgreSQL; the decimals are decoded
# here and compared digit for digit. Then kafka.schemas_enable=true: key and value become
# {schema, payload} with Debezium's Connect schema (field types and semantic names checked for
# the columns below) and the same payload.
set -euo pipefail
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$(dirname "$0")/kafka.bash"
pg_start
kafka_mock_start 1

psql_q "
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE types (
  id int PRIMARY KEY,
  c_bool boolean, c_int2 smallint, c_int4 int, c_int8 bigint, c_float4 real, c_float8 double precision,
  c_numeric numeric(20,6), c_numeric_any numeric, c_money money, c_dec numeric(10,2),
  c_text text, c_varchar varchar(20), c_char char(5), c_bytea bytea,
  c_date date, c_time time, c_time3 time(3), c_timetz timetz, c_ts timestamp, c_ts3 timestamp(3),
  c_tstz timestamptz, c_interval interval,
  c_uuid uuid, c_json json, c_jsonb jsonb, c_inet inet, c_cidr cidr, c_macaddr macaddr,
  c_enum mood, c_int_array int[], c_text_array text[]);
CREATE TABLE rows_in (LIKE types);"

# Rows 1..4: typical, extreme, special and NULL values; inserted before the capture starts
# (snapshot) and again with id + 1000 while it streams. (NaN numerics are left out: Debezium's
# precise mode cannot represent them and fails; 2-D arrays are left out: Debezium has none.)
psql_q "INSERT INTO rows_in VALUES
 (1, true, 12, 123456, 9007199254740993, 1.1, 3.141592653589793, 12345678901234.123456, 0.1, 12.34, 12345678.90,
  'hello \"world\" \\\\ é ✓', 'varchar', 'ab', '\\x00ff10', '2024-02-29', '13:45:06.123456', '13:45:06.123456',
  '13:45:06.5+02', '2024-02-29 13:45:06.123456', '2024-02-29 13:45:06.123456',
  '2024-02-29 13:45:06.123456+01', '3 days 04:05:06.789',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '{\"b\": {\"c\": null}}', '192.168.1.5/24', '10.0.0.0/8',
  '08:00:2b:01:02:03', 'happy', '{1,2,NULL}', '{\"x y\",z}'),
 (2, false, -32768, -2147483648, -9223372036854775808, -3.4e38, 1e308, -0.000001, 123456789012345678901234567890.5,
  -1.00, -0.01,
  '', 'x', 'abcde', '', '0001-01-01', '00:00:00', '00:00:00.001', '23:59:59.999999-12', '1970-01-01 00:00:00',
  '1969-12-31 23:59:59.999', '1969-12-31 23:59:59.999999+00',
  '1 year 2 mons -3 days -00:00:01.5', '00000000-0000-0000-0000-000000000000', '[]', '[]', '::1', '2001:db8::/32',
  'ff:ff:ff:ff:ff:ff', 'sad', '{}', '{}'),
 (3, true, 0, 0, 0, 'NaN', 'Infinity', 0, -7.250, 0, 0, repeat('long', 5000), NULL, NULL, decode(repeat('ab', 3000), 'hex'),
  '2262-04-11', '24:00:00', '23:59:59.999', '00:00:00+14', '2262-04-11 23:47:16.854775', '2262-04-11 23:47:16.854',
  '1900-01-01 00:00:00+00', '-1 mons',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', '\"s\"', '123.4', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', 'ok', '{3,4}', '{NULL}'),
 (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO types SELECT * FROM rows_in;"

# What Debezium's JSON holds for each column, computed by PostgreSQL; decimals as PostgreSQL's
# text (decoded from the message and compared as text below).
psql_q "SELECT json_build_object(
  'id', id, 'c_bool', c_bool, 'c_int2', c_int2, 'c_int4', c_int4, 'c_int8', c_int8,
  'c_float4', c_float4, 'c_float8', c_float8, 'c_numeric', c_numeric::text, 'c_numeric_any', c_numeric_any::text,
  'c_money', (c_money::numeric)::text, 'c_dec', c_dec::text, 'c_text', c_text, 'c_varchar', c_varchar,
  'c_char', CASE WHEN c_char IS NULL THEN NULL ELSE rpad(c_char::text, 5) END,
  'c_bytea', translate(encode(c_bytea, 'base64'), E'\n', ''),
  'c_date', c_date - date '1970-01-01',
  'c_time', (extract(epoch FROM c_time) * 1000000)::bigint,
  'c_time3', (extract(epoch FROM c_time3) * 1000)::bigint,
  'c_timetz', to_char(date '2000-01-01' + (c_timetz AT TIME ZONE 'UTC')::time, 'HH24:MI:SS.US'),
  'c_ts', (extract(epoch FROM c_ts) * 1000000)::bigint,
  'c_ts3', (extract(epoch FROM c_ts3) * 1000)::bigint,
  'c_tstz', to_char(c_tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'),
  'c_interval', (((extract(year FROM c_interval) * 12 + extract(month FROM c_interval)) * 30.4375
                 + extract(day FROM c_interval)) * 86400000000 + extract(hour FROM c_interval) * 3600000000
                 + extract(minute FROM c_interval) * 60000000 + extract(microseconds FROM c_interval))::bigint,
  'c_uuid', c_uuid::text, 'c_json', c_json::text, 'c_jsonb', c_jsonb::text, 'c_inet', nullif(format('%s', c_inet), ''),
  'c_cidr', nullif(format('%s', c_cidr), ''), 'c_macaddr', c_macaddr::text, 'c_enum', c_enum::text,
  'c_int_array', to_json(c_int_array), 'c_text_array', to_json(c_text_array))
  FROM rows_in ORDER BY id" >"$test_tmp/expected.jsonl"

sluice_start plain kafka.topic_prefix=plain source.tables=public.types
sluice_start sch kafka.topic_prefix=sch source.tables=public.types kafka.schemas_enable=true
kafka_wait_count plain.public.types 4 60 "$test_tmp/plain.jsonl"
kafka_wait_count sch.public.types 4 60 "$test_tmp/sch.jsonl"
psql_q "INSERT INTO types SELECT id + 1000, c_bool, c_int2, c_int4, c_int8, c_float4, c_float8, c_numeric,
  c_numeric_any, c_money, c_dec, c_text, c_varchar, c_char, c_bytea, c_date, c_time, c_time3, c_timetz, c_ts, c_ts3,
  c_tstz, c_interval, c_uuid, c_json, c_jsonb, c_inet, c_cidr, c_macaddr, c_enum, c_int_array, c_text_array FROM rows_in"
kafka_wait_count plain.public.types 8 60 "$test_tmp/plain.jsonl"
kafka_wait_count sch.public.types 8 60 "$test_tmp/sch.jsonl"

python3 - "$test_tmp/expected.jsonl" "$test_tmp/plain.jsonl" "$test_tmp/sch.jsonl" <<'PY'
import base64, json, struct, sys

exp_file, plain_file, sch_file = sys.argv[1:]
expected = {}
for line in open(exp_file):
    o = json.loads(line)
    expected[o["id"]] = o
fails = []
def check(cond, msg):
    if not cond:
        fails.append(msg)

def unscaled(b64):
    """Connect Decimal bytes: big-endian two's complement (Java BigInteger.toByteArray)."""
    raw = base64.b64decode(b64, validate=True)
    return int.from_bytes(raw, "big", signed=True) if raw else None

def decimal_text(n, scale):
    sign, digits = ("-" if n < 0 else ""), str(abs(n))
    if scale <= 0:
        return sign + digits + "0" * -scale
    digits = digits.rjust(scale + 1, "0")
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"

def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]

def trim_fraction(s):   # Java's ISO formatters drop trailing zeros of the fraction (and a bare '.')
    return s.rstrip("0").rstrip(".") if "." in s else s

FIXED_SCALE = {"c_numeric": 6, "c_money": 2, "c_dec": 2}

def compare(where, after):
    exp = expected.get(after.get("id") % 1000)
    if exp is None:
        fails.append(f"{where}: unexpected id {after.get('id')}")
        return
    check(list(after) == list(exp), f"{where}: columns {list(after)}, want {list(exp)}")
    for col, want in exp.items():
        if col == "id":
            continue
        got = after.get(col)
        if want is None:
            ok = got is None
        elif col in FIXED_SCALE:
            try:
                ok = isinstance(got, str) and decimal_text(unscaled(got), FIXED_SCALE[col]) == want
                got = f"{got} = {decimal_text(unscaled(got), FIXED_SCALE[col])}"
            except Exception as e:
                ok, got = False, f"{got!r} ({e})"
        elif col == "c_numeric_any":
            try:
                ok = list(got) == ["scale", "value"] and decimal_text(unscaled(got["value"]), got["scale"]) == want
                got = f"{got} = {decimal_text(unscaled(got['value']), got['scale'])}"
            except Exception as e:
                ok, got = False, f"{got!r} ({e})"
        elif col == "c_float4":
            ok = got == want if isinstance(want, str) else isinstance(got, (int, float)) and f32(got) == f32(want)
        elif col in ("c_tstz", "c_timetz"):
            # ISO text in UTC; Debezium up to 2.4 trims the fraction (ISO_OFFSET_DATE_TIME), later
            # versions print the column's 6 digits: either is Debezium's.
            ok = got in (trim_fraction(want) + "Z", want + "Z")
        else:
            ok = got == want and type(got) == type(want)
        if not ok:
            fails.append(f"{where} {col}: got {got!r}, want {want!r}")

def load(path):
    return [json.loads(l) for l in open(path) if l.strip()]

plain = load(plain_file)
by_id = {}
for m in plain:
    v = json.loads(m["payload"])
    after = v["after"]
    where = f"plain id {after['id']} op {v['op']}"
    check(m["key"] == json.dumps({"id": after["id"]}, separators=(",", ":")), f"{where}: key {m['key']}")
    check(v["op"] == ("r" if after["id"] < 1000 else "c"), f"{where}: op")
    check(v["source"]["table"] == "types" and v["source"]["schema"] == "public", f"{where}: source {v['source']}")
    compare(where, after)
    by_id[after["id"]] = v
check(sorted(by_id) == [1, 2, 3, 4, 1001, 1002, 1003, 1004], f"plain ids {sorted(by_id)}")

# schemas.enable=true
TIMES = ("ts_ms", "ts_us", "ts_ns")
def strip(v):
    v = {k: x for k, x in v.items() if k not in TIMES}
    v["source"] = {k: x for k, x in v["source"].items() if k not in TIMES + ("name", "lsn", "txId", "sequence")}
    return v

want_fields = {   # column: (Connect type, semantic name or None, parameters subset)
    "id": ("int32", None, {}), "c_bool": ("boolean", None, {}), "c_int2": ("int16", None, {}),
    "c_int4": ("int32", None, {}), "c_int8": ("int64", None, {}), "c_float4": ("float", None, {}),
    "c_float8": ("double", None, {}),
    "c_numeric": ("bytes", "org.apache.kafka.connect.data.Decimal", {"scale": "6"}),
    "c_numeric_any": ("struct", "io.debezium.data.VariableScaleDecimal", {}),
    "c_money": ("bytes", "org.apache.kafka.connect.data.Decimal", {"scale": "2"}),
    "c_dec": ("bytes", "org.apache.kafka.connect.data.Decimal", {"scale": "2"}),
    "c_text": ("string", None, {}), "c_bytea": ("bytes", None, {}),
    "c_date": ("int32", "io.debezium.time.Date", {}), "c_time": ("int64", "io.debezium.time.MicroTime", {}),
    "c_time3": ("int32", "io.debezium.time.Time", {}), "c_timetz": ("string", "io.debezium.time.ZonedTime", {}),
    "c_ts": ("int64", "io.debezium.time.MicroTimestamp", {}), "c_ts3": ("int64", "io.debezium.time.Timestamp", {}),
    "c_tstz": ("string", "io.debezium.time.ZonedTimestamp", {}),
    "c_interval": ("int64", "io.debezium.time.MicroDuration", {}),
    "c_uuid": ("string", "io.debezium.data.Uuid", {}), "c_json": ("string", "io.debezium.data.Json", {}),
    "c_jsonb": ("string", "io.debezium.data.Json", {}), "c_enum": ("string", "io.debezium.data.Enum", {"allowed": "sad,ok,happy"}),
    "c_int_array": ("array", None, {}),
}
sch = load(sch_file)
seen = set()
for m in sch:
    k, v = json.loads(m["key"]), json.loads(m["payload"])
    if list(k) != ["schema", "payload"] or list(v) != ["schema", "payload"]:
        fails.append(f"schemas.enable: key/value are not {{schema, payload}}: {m['key'][:80]} {m['payload'][:80]}")
        continue
    p = v["payload"]
    i = p["after"]["id"]
    seen.add(i)
    where = f"sch id {i}"
    check(k["payload"] == {"id": i}, f"{where}: key payload {k['payload']}")
    ks = k["schema"]
    check(ks.get("type") == "struct" and ks.get("name") == "sch.public.types.Key" and ks.get("optional") is False and
          ks.get("fields") == [{"type": "int32", "optional": False, "field": "id"}], f"{where}: key schema {ks}")
    if i in by_id:
        check(strip(p) == strip(by_id[i]), f"{where}: payload differs from the schemaless value:\n {strip(p)}\n {strip(by_id[i])}")
    s = v["schema"]
    check(s.get("type") == "struct" and s.get("name") == "sch.public.types.Envelope" and s.get("optional") is False,
          f"{where}: envelope schema {({x: s.get(x) for x in ('type', 'name', 'optional')})}")
    fields = {f.get("field"): f for f in s.get("fields", [])}
    check([f.get("field") for f in s.get("fields", [])][:4] == ["before", "after", "source", "op"], f"{where}: envelope fields {list(fields)}")
    for side in ("before", "after"):
        f = fields.get(side, {})
        check(f.get("type") == "struct" and f.get("name") == "sch.public.types.Value" and f.get("optional") is True,
              f"{where}: {side} schema {({x: f.get(x) for x in ('type', 'name', 'optional')})}")
    check(fields.get("source", {}).get("name") == "io.debezium.connector.postgresql.Source", f"{where}: source schema name")
    check(fields.get("op", {}).get("type") == "string" and fields.get("op", {}).get("optional") is False, f"{where}: op schema")
    cols = {f.get("field"): f for f in fields.get("after", {}).get("fields", [])}
    check(list(cols) == list(expected[1]), f"{where}: value schema fields {list(cols)}")
    for col, (typ, name, params) in want_fields.items():
        f = cols.get(col, {})
        got_params = f.get("parameters") or {}
        ok = (f.get("type") == typ and f.get("name") == name and f.get("optional") is (col != "id") and
              all(got_params.get(x) == y for x, y in params.items()))
        check(ok, f"{where}: schema of {col}: {f}, want type {typ} name {name} params {params} optional {col != 'id'}")
    vsd = cols.get("c_numeric_any", {}).get("fields", [])
    check([(x.get("field"), x.get("type")) for x in vsd] == [("scale", "int32"), ("value", "bytes")],
          f"{where}: VariableScaleDecimal fields {vsd}")
    check(cols.get("c_int_array", {}).get("items", {}).get("type") == "int32", f"{where}: int[] items {cols.get('c_int_array')}")
check(sorted(seen) == [1, 2, 3, 4, 1001, 1002, 1003, 1004], f"schemas.enable ids {sorted(seen)}")

if fails:
    print("\n".join(fails))
    sys.exit(1)
print(f"ok: {len(plain)} plain and {len(sch)} schema-wrapped messages compared")
PY
pass "every type as Debezium's precise/adaptive Kafka values; schemas.enable wraps them with Connect schemas"
sluice_stop plain
sluice_stop sch
