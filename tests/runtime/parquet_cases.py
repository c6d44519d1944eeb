#!/usr/bin/env python3
"""Parquet writer test cases for lake_parquet.sh: generates descriptions for tests/tools/parquet_write
(every type, nulls, all-null and no-null columns, empty strings, unicode, large binary, extreme
values) and checks what two independent readers, DuckDB and hyparquet, return for the files:
every value, the schema (field ids, logical and converted types), the codec, encodings, page and
row group counts, and each row group's statistics (null counts, min and max in Parquet's type
order), plus the writer's own --info report.
  parquet_cases.py gen DIR                 -> DIR/<case>.json (tool input), DIR/<case>.expect.json
  parquet_cases.py check DIR CASE E2E_DIR  (DIR/<case>.parquet and <case>.info.json written)"""
import datetime
import json
import math
import os
import random
import re
import struct
import subprocess
import sys
import uuid

STATS_LIMIT = 64

# name, type, optional, precision, scale
COLUMNS = [
    ("id", "int64", False, 0, 0),
    ("b", "boolean", True, 0, 0),
    ("i32", "int32", True, 0, 0),
    ("i64", "int64", True, 0, 0),
    ("f32", "float", True, 0, 0),
    ("f64", "double", True, 0, 0),
    ("f64z", "double", True, 0, 0),   # zero is the min: written as -0.0
    ("f32z", "float", True, 0, 0),    # zero is the max: written as +0.0
    ("dec9", "decimal", True, 9, 2),
    ("dec18", "decimal", True, 18, 6),
    ("dec38", "decimal", True, 38, 10),
    ("dec20", "decimal", True, 20, 0),
    ("s", "string", True, 0, 0),
    ("bin", "binary", True, 0, 0),
    ("u", "uuid", True, 0, 0),
    ("d", "date", True, 0, 0),
    ("t", "time", True, 0, 0),
    ("ts", "timestamp", True, 0, 0),
    ("tstz", "timestamptz", True, 0, 0),
    ("nulls_s", "string", True, 0, 0),
    ("nulls_i", "int64", True, 0, 0),
    ("req_s", "string", False, 0, 0),
    ("req_dec", "decimal", False, 38, 0),
    ("grow", "int64", False, 0, 0),   # each value 8 times: a dictionary that pays and keeps growing
]

DUCK_TYPES = {
    "boolean": "BOOLEAN", "int32": "INTEGER", "int64": "BIGINT", "float": "FLOAT", "double": "DOUBLE",
    "string": "VARCHAR", "binary": "BLOB", "uuid": "UUID", "date": "DATE", "time": "TIME",
    "timestamp": "TIMESTAMP", "timestamptz": "TIMESTAMP WITH TIME ZONE",
}
# Parquet physical type, converted type, logical type (hyparquet's names)
PARQUET_TYPES = {
    "boolean": ("BOOLEAN", None, None), "int32": ("INT32", None, None), "int64": ("INT64", None, None),
    "float": ("FLOAT", None, None), "double": ("DOUBLE", None, None),
    "string": ("BYTE_ARRAY", "UTF8", "STRING"), "binary": ("BYTE_ARRAY", None, None),
    "uuid": ("FIXED_LEN_BYTE_ARRAY", None, "UUID"), "date": ("INT32", "DATE", "DATE"),
    "time": ("INT64", "TIME_MICROS", "TIME"), "timestamp": ("INT64", "TIMESTAMP_MICROS", "TIMESTAMP"),
    "timestamptz": ("INT64", "TIMESTAMP_MICROS", "TIMESTAMP"),
}
CODECS = {"none": "UNCOMPRESSED", "snappy": "SNAPPY", "zstd": "ZSTD"}

WORDS = ["", "a", "alpha", "beta", "héllo wörld", "日本語テキスト", "emoji 🎉🚀", "Ωmega", "zeta", "ünïcödé",
         "tab\there", "quote\"back\\slash", "x" * 100, "é" * 40, "\u0000nul inside"]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def decimal_text(unscaled, scale):
    neg = unscaled < 0
    s = str(abs(unscaled)).rjust(scale + 1, "0")
    if scale:
        s = s[:-scale] + "." + s[-scale:]
    return ("-" if neg else "") + s


def unscaled_of(text, scale):
    neg = text.startswith("-")
    text = text.lstrip("-")
    whole, _, frac = text.partition(".")
    v = int(whole + frac.ljust(scale, "0"))
    return -v if neg else v


def gen_value(rng, name, typ, prec, scale, row):
    """The canonical value (what readers must return) for a random row; row 0/1/2 hold extremes."""
    if typ == "boolean":
        return rng.random() < 0.5
    if typ == "int32":
        return [2**31 - 1, -2**31, 0][row] if row < 3 else rng.randint(-2**31, 2**31 - 1)
    if typ == "int64":
        return [2**63 - 1, -2**63, 0][row] if row < 3 else rng.choice([rng.randint(-2**63, 2**63 - 1), rng.randint(-5, 5)])
    if name == "f64z":
        return rng.choice([0.0, -0.0, 1.5, 2.5, float("nan")])
    if name == "f32z":
        return rng.choice([0.0, -0.0, -1.5, float("nan")])
    if typ == "float":
        special = [3.4028234663852886e38, -3.4028234663852886e38, -0.0, 0.0, float("inf"), float("-inf"),
                   float("nan"), 1.401298464324817e-45]
        return special[row] if row < len(special) else f32(rng.uniform(-1e6, 1e6))
    if typ == "double":
        special = [1.7976931348623157e308, -1.7976931348623157e308, 0.0, -0.0, float("nan"), float("inf"),
                   float("-inf"), 5e-324]
        return special[row] if row < len(special) else rng.choice([rng.uniform(-1e12, 1e12), rng.random()])
    if typ == "decimal":
        top = 10**prec - 1
        v = [top, -top, 0][row] if row < 3 else rng.choice([rng.randint(-top, top), rng.randint(-1000, 1000)])
        return decimal_text(v, scale)
    if typ == "string":
        if name == "req_s":
            return rng.choice(WORDS[:6]) + str(row % 7)
        return [WORDS[12] + "z", "", "\U0010ffff"][row] if row < 3 else rng.choice(WORDS) + rng.choice(["", "", "", str(rng.randint(0, 9))])
    if typ == "binary":
        if row == 3:
            return bytes(rng.getrandbits(8) for _ in range(300_000)).hex()   # large: past the page size
        return [b"\xff" * 80, b"", b"\x00"][row].hex() if row < 3 else bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40))).hex()
    if typ == "uuid":
        return ["ffffffff-ffff-ffff-ffff-ffffffffffff", "00000000-0000-0000-0000-000000000000"][row] if row < 2 else str(uuid.UUID(int=rng.getrandbits(128)))
    if typ == "date":
        return [2932896, -719162, -1][row] if row < 3 else rng.randint(-25567, 47482)   # 9999-12-31, 0001-01-01, 1969-12-31
    if typ == "time":
        return [86399999999, 0, 1][row] if row < 3 else rng.randint(0, 86399999999)
    if typ in ("timestamp", "timestamptz"):
        return [253402300799999999, -62135596800000000, -1][row] if row < 3 else rng.randint(-2208988800000000, 4102444800000000)
    raise ValueError(typ)


def tool_value(typ, v):
    """The value as parquet_write's JSON description wants it."""
    if v is None:
        return None
    if typ in ("float", "double"):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if v == 0 and math.copysign(1, v) < 0:
            return "-0"
        return v
    return v


def make_rows(seed, n):
    rng = random.Random(seed)
    rows = []
    for r in range(n):
        row = []
        for name, typ, optional, prec, scale in COLUMNS:
            if name == "id":
                row.append(r)
            elif name == "grow":
                row.append(r // 8)
            elif name.startswith("nulls_"):
                row.append(None)
            elif optional and r >= 8 and rng.random() < 0.25:
                row.append(None)
            else:
                row.append(gen_value(rng, name, typ, prec, scale, r))
        rows.append(row)
    return rows


def cases():
    out = {}
    rows = make_rows(7, 2500)
    for codec in ("none", "snappy", "zstd"):
        for dictionary in (True, False):
            out[f"all_{codec}_{'dict' if dictionary else 'plain'}"] = {
                "rows": rows, "options": {"codec": codec, "dictionary": dictionary, "row_group_bytes": 96 * 1024,
                                          "page_bytes": 4096}, "several": True, "dict_columns": ("s", "req_s", "grow")}
    out["defaults_zstd"] = {"rows": rows, "options": {}, "several": False, "dict_columns": ("s", "req_s", "grow")}
    # A dictionary that fills up: the chunk's first pages use it, later ones are PLAIN.
    out["dict_fallback_snappy"] = {"rows": rows, "options": {"codec": "snappy", "dictionary": True,
                                                             "dictionary_bytes": 512, "page_bytes": 1024}, "several": False,
                                    "dict_columns": ("grow",), "mixed": True}
    out["empty_zstd"] = {"rows": [], "options": {"codec": "zstd"}, "several": False}
    return out


def schema_json():
    return [{"name": n, "type": t, "field_id": i + 1, "optional": o, "precision": p, "scale": s}
            for i, (n, t, o, p, s) in enumerate(COLUMNS)]


def gen(d):
    for name, c in cases().items():
        desc = {"schema": schema_json(), "options": dict(c["options"], metadata={"sluice.test": name}),
                "rows": [[tool_value(col[1], v) for col, v in zip(COLUMNS, row)] for row in c["rows"]]}
        with open(os.path.join(d, name + ".json"), "w") as f:
            json.dump(desc, f)
        print(name)


# ---- comparing --------------------------------------------------------------------------------

def same_float(want, got, single):
    if got is None or want is None:
        return got is None and want is None
    if isinstance(got, str):
        got = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf"), "-0": -0.0,
               "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}.get(got, None) if got in (
            "NaN", "Infinity", "-Infinity", "-0", "nan", "inf", "-inf") else float(got)
    if single:
        got = f32(got)
    if math.isnan(want):
        return math.isnan(got)
    return want == got and math.copysign(1, want) == math.copysign(1, got)


def canon(typ, v):
    """A reader's value, normalized to the canonical form (ints, text, hex)."""
    if v is None:
        return None
    if typ in ("int32", "int64", "date", "time", "timestamp", "timestamptz"):
        return int(v)
    if typ == "boolean":
        return v if isinstance(v, bool) else {"true": True, "false": False}[v]
    if typ == "binary":
        return v.lower()
    return v


def compare_rows(reader, rows, got, fails):
    if len(got) != len(rows):
        fails.append(f"{reader}: {len(got)} rows, {len(rows)} written")
        return
    bad = 0
    for r, (want, g) in enumerate(zip(rows, got)):
        for (name, typ, *_), w in zip(COLUMNS, want):
            v = g[name]
            ok = same_float(w, v, typ == "float") if typ in ("float", "double") else canon(typ, v) == w
            if not ok:
                bad += 1
                if bad <= 5:
                    fails.append(f"{reader}: row {r} column {name}: got {str(v)[:80]!r}, wrote {str(w)[:80]!r}")
    if bad > 5:
        fails.append(f"{reader}: ... {bad} differing values in all")


def sort_key(typ, scale, v):
    if typ == "decimal":
        return unscaled_of(v, scale)
    if typ == "string":
        return v.encode()
    if typ == "binary":
        return bytes.fromhex(v)
    if typ == "uuid":
        return uuid.UUID(v).bytes
    return v


def expected_stats(col, values, truncated=True):
    """null count, min, max (None, None when no bounds) of one row group's values of a column; with
    truncated, as Parquet statistics hold them (see check_bound), else exact (the --info report)."""
    name, typ, _, prec, scale = col
    nulls = sum(v is None for v in values)
    vals = [v for v in values if v is not None and not (typ in ("float", "double") and math.isnan(v))]
    if not vals:
        return nulls, None, None
    lo = min(vals, key=lambda v: sort_key(typ, scale, v))
    hi = max(vals, key=lambda v: sort_key(typ, scale, v))
    if typ in ("float", "double"):
        lo = -0.0 if lo == 0 else lo
        hi = 0.0 if hi == 0 else hi
    if truncated and typ == "binary" and bytes.fromhex(hi)[:STATS_LIMIT] == b"\xff" * STATS_LIMIT and len(hi) > 2 * STATS_LIMIT:
        return nulls, None, None   # a long max of 0xff bytes has no truncated upper bound: no bounds
    return nulls, lo, hi


def reader_bytes(typ, got):
    """A byte-array bound as a reader shows it: hyparquet "hex:..." (hyparquet_read.mjs), DuckDB
    text (strings) or its BLOB text (printable bytes as is, others as \\xHH)."""
    if got.startswith("hex:"):
        return bytes.fromhex(got[4:])
    if typ == "string":
        return got.encode()
    return re.sub(rb"\\x([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), got.encode("latin-1"))


def check_bound(reader, where, col, kind, want, got, fails):
    name, typ, _, prec, scale = col
    if want is None:
        if got is not None:
            fails.append(f"{reader}: {where} {name}: {kind} {got!r} written for a column without values")
        return
    if got is None:
        fails.append(f"{reader}: {where} {name}: no {kind} statistic (expected {str(want)[:60]!r})")
        return
    if typ in ("string", "binary"):
        wb = want.encode() if typ == "string" else bytes.fromhex(want)
        gb = reader_bytes(typ, got)
        if len(wb) <= STATS_LIMIT:
            ok = gb == wb
        elif kind == "min":
            ok = wb.startswith(gb) and len(gb) <= STATS_LIMIT   # truncated: a prefix
        else:
            ok = gb > wb and len(gb) <= STATS_LIMIT             # truncated and incremented: still above
    elif typ in ("float", "double"):
        ok = same_float(want, got, typ == "float")
    elif typ == "decimal":
        if isinstance(got, str):
            ok = unscaled_of(got, scale) == unscaled_of(want, scale)
        else:   # hyparquet: a JavaScript number
            ok = math.isclose(float(got), float(want), rel_tol=1e-15)
    else:
        ok = canon(typ, got) == want
    if not ok:
        fails.append(f"{reader}: {where} {name}: {kind} statistic {str(got)[:70]!r}, expected {str(want)[:70]!r}")


def node(e2e, script, *args):
    p = subprocess.run(["node", os.path.join(e2e, "tools", script), *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: {script} failed: {p.stderr.strip()[:2000]}")
    return json.loads(p.stdout)


def duck_value_expr(name, typ):
    q = f'"{name}"'
    if typ == "binary":
        return f"lower(hex({q}))"
    if typ == "date":
        return f"CAST({q} - DATE '1970-01-01' AS VARCHAR)"
    if typ == "time":
        return f"CAST(datediff('microsecond', TIME '00:00:00', {q}) AS VARCHAR)"
    if typ in ("timestamp", "timestamptz"):
        return f"CAST(epoch_us({q}) AS VARCHAR)"
    if typ == "boolean":
        return q
    return f"CAST({q} AS VARCHAR)"


def duck_stat_expr(col, which):
    typ = col[1]
    v = f"stats_{which}_value"
    if typ == "date":
        return f"CAST(CAST({v} AS DATE) - DATE '1970-01-01' AS VARCHAR)"
    if typ == "time":
        return f"CAST(datediff('microsecond', TIME '00:00:00', CAST({v} AS TIME)) AS VARCHAR)"
    if typ == "timestamp":
        return f"CAST(epoch_us(CAST({v} AS TIMESTAMP)) AS VARCHAR)"
    if typ == "timestamptz":
        return f"CAST(epoch_us(CAST({v} AS TIMESTAMPTZ)) AS VARCHAR)"
    return v


def row_groups_of(nrows_per_group):
    out, start = [], 0
    for n in nrows_per_group:
        out.append((start, start + n))
        start += n
    return out


def check(d, name, e2e):
    c = cases()[name]
    rows, opts = c["rows"], c["options"]
    codec = CODECS[opts.get("codec", "zstd")]
    dictionary = opts.get("dictionary", True)
    path = os.path.join(d, name + ".parquet")
    fails = []
    tz = "SET TimeZone = 'UTC'"

    # ---- DuckDB ----
    sel = ", ".join(f'{duck_value_expr(n, t)} AS "{n}"' for n, t, *_ in COLUMNS)
    duck_rows = node(e2e, "duckdb_query.mjs", tz,
                     f"SELECT {sel} FROM read_parquet('{path}', file_row_number = true) ORDER BY file_row_number")
    compare_rows("DuckDB", rows, duck_rows, fails)
    desc = node(e2e, "duckdb_query.mjs", f"DESCRIBE SELECT * FROM read_parquet('{path}')")
    for (n, t, o, p, s), dcol in zip(COLUMNS, desc):
        want = f"DECIMAL({p},{s})" if t == "decimal" else DUCK_TYPES[t]
        if dcol["column_name"] != n or dcol["column_type"] != want:
            fails.append(f"DuckDB: column {dcol['column_name']} is {dcol['column_type']}, expected {n} {want}")
    schema = node(e2e, "duckdb_query.mjs", f"SELECT name, type, converted_type, logical_type, field_id, repetition_type "
                                           f"FROM parquet_schema('{path}')")[1:]
    for i, ((n, t, o, p, s), e) in enumerate(zip(COLUMNS, schema)):
        phys, conv, logical = PARQUET_TYPES.get(t, (None, "DECIMAL", "DECIMAL"))
        if t == "decimal":
            phys = "INT32" if p <= 9 else "INT64" if p <= 18 else "FIXED_LEN_BYTE_ARRAY"
        checks = [(e["field_id"], str(i + 1)), (e["type"], phys), (e["converted_type"], conv),
                  (e["repetition_type"], "OPTIONAL" if o else "REQUIRED")]
        for got, want in checks:
            if got != want:
                fails.append(f"DuckDB parquet_schema: column {n}: {got!r}, expected {want!r}")
        lt = e["logical_type"] or ""
        if logical and logical.lower() not in lt.lower().replace("type(", "("):
            if not lt.lower().startswith(logical.lower()):
                fails.append(f"DuckDB parquet_schema: column {n}: logical type {lt!r}, expected {logical}")
        if t == "decimal" and f"scale={s}, precision={p}" not in lt:
            fails.append(f"DuckDB parquet_schema: column {n}: {lt!r} lacks scale {s} / precision {p}")
        if t in ("timestamp", "timestamptz", "time"):
            utc = "isAdjustedToUTC=1" if t == "timestamptz" else "isAdjustedToUTC=0"
            if utc not in lt or "MICROS=MicroSeconds()" not in lt:
                fails.append(f"DuckDB parquet_schema: column {n}: {lt!r}, expected {utc} and MICROS")
    stat_cols = ", ".join("CASE path_in_schema " + " ".join(f"WHEN '{col[0]}' THEN {duck_stat_expr(col, w)}" for col in COLUMNS)
                          + f" END AS {w}" for w in ("min", "max"))
    meta = node(e2e, "duckdb_query.mjs", f"SELECT row_group_id, row_group_num_rows, path_in_schema, compression, encodings, "
                                         f"stats_null_count, {stat_cols} FROM parquet_metadata('{path}') ORDER BY row_group_id, column_id")
    groups = {}
    for m in meta:
        groups.setdefault(int(m["row_group_id"]), int(m["row_group_num_rows"]))
    spans = row_groups_of([groups[g] for g in sorted(groups)])
    if sum(e - s for s, e in spans) != len(rows):
        fails.append(f"DuckDB parquet_metadata: row groups hold {sum(e - s for s, e in spans)} rows, {len(rows)} written")
    if c["several"] and len(spans) < 2:
        fails.append(f"only {len(spans)} row group(s); the sizes should give several")
    colidx = {col[0]: i for i, col in enumerate(COLUMNS)}
    dict_seen = set()
    for m in meta:
        g = int(m["row_group_id"])
        i = colidx[m["path_in_schema"]]
        col = COLUMNS[i]
        s, e = spans[g]
        nulls, lo, hi = expected_stats(col, [r[i] for r in rows[s:e]])
        where = f"row group {g}"
        if m["compression"] != codec:
            fails.append(f"DuckDB: {where} {col[0]}: compression {m['compression']}, expected {codec}")
        if int(m["stats_null_count"]) != nulls:
            fails.append(f"DuckDB: {where} {col[0]}: null count {m['stats_null_count']}, expected {nulls}")
        if "RLE_DICTIONARY" in m["encodings"]:
            dict_seen.add(col[0])
        if col[1] in ("float", "double") and m["min"] is None and m["max"] is None and (math.isinf(lo) or math.isinf(hi)):
            continue   # DuckDB does not show float statistics with an infinite bound (hyparquet checks them)
        check_bound("DuckDB", where, col, "min", lo, m["min"], fails)
        check_bound("DuckDB", where, col, "max", hi, m["max"], fails)
    want_dict = set(c.get("dict_columns", ()))
    if dictionary and rows and not want_dict <= dict_seen:
        fails.append(f"dictionary on, yet {sorted(want_dict - dict_seen)} are not dictionary-encoded: {sorted(dict_seen)}")
    if not dictionary and dict_seen:
        fails.append(f"dictionary off, yet {sorted(dict_seen)} use RLE_DICTIONARY")
    if "b" in dict_seen:
        fails.append("booleans are dictionary-encoded")

    # ---- hyparquet ----
    hy = node(e2e, "hyparquet_read.mjs", path)
    compare_rows("hyparquet", rows, hy["rows"], fails)
    for name_, numbers in hy["decimal_numbers"].items():
        i = colidx[name_]
        for r, (row, num) in enumerate(zip(rows, numbers)):
            w = row[i]
            if (w is None) != (num is None) or (w is not None and not math.isclose(float(w), float(num), rel_tol=1e-15)):
                fails.append(f"hyparquet: row {r} {name_}: converted to {num}, wrote {w}")
                break
    md = hy["metadata"]
    if int(md["num_rows"]) != len(rows):
        fails.append(f"hyparquet: num_rows {md['num_rows']}")
    kv = {k["key"]: k.get("value") for k in md.get("key_value_metadata") or []}
    if kv.get("sluice.test") != name:
        fails.append(f"hyparquet: key-value metadata {kv}")
    if not str(md.get("created_by", "")).startswith("sluice version "):
        fails.append(f"hyparquet: created_by {md.get('created_by')!r}")
    for (n, t, o, p, s), e in zip(COLUMNS, md["schema"][1:]):
        phys, conv, logical = PARQUET_TYPES.get(t, (None, "DECIMAL", "DECIMAL"))
        lt = e.get("logical_type") or {}
        if e.get("field_id") != colidx[n] + 1 or e.get("converted_type") != conv or lt.get("type") != logical:
            fails.append(f"hyparquet: schema of {n}: {e}")
        if t == "decimal" and (lt.get("precision") != p or lt.get("scale") != s):
            fails.append(f"hyparquet: decimal {n}: {lt}")
        if t in ("timestamp", "timestamptz", "time") and (lt.get("isAdjustedToUTC") != (t == "timestamptz") or lt.get("unit") != "MICROS"):
            fails.append(f"hyparquet: {n}: {lt}")
    mixed = set()
    for g, rg in enumerate(md["row_groups"]):
        s, e = spans[g] if g < len(spans) else (0, 0)
        if int(rg["num_rows"]) != e - s:
            fails.append(f"hyparquet: row group {g} has {rg['num_rows']} rows, DuckDB says {e - s}")
        for i, cc in enumerate(rg["columns"]):
            col = COLUMNS[i]
            cm = cc["meta_data"]
            if cm["codec"] != codec:
                fails.append(f"hyparquet: row group {g} {col[0]}: codec {cm['codec']}")
            kinds = {(e["page_type"], e["encoding"]) for e in cm.get("encoding_stats") or []}
            if {("DATA_PAGE", "RLE_DICTIONARY"), ("DATA_PAGE", "PLAIN")} <= kinds:
                mixed.add(col[0])
            st = cm.get("statistics") or {}
            nulls, lo, hi = expected_stats(col, [r[i] for r in rows[s:e]])
            if int(st.get("null_count", -1)) != nulls:
                fails.append(f"hyparquet: row group {g} {col[0]}: null_count {st.get('null_count')}, expected {nulls}")
            check_bound("hyparquet", f"row group {g}", col, "min", lo, st.get("min_value"), fails)
            check_bound("hyparquet", f"row group {g}", col, "max", hi, st.get("max_value"), fails)
            if col[1] in ("string", "binary") and lo is not None:
                long_bounds = len(lo.encode() if col[1] == "string" else bytes.fromhex(lo)) > STATS_LIMIT
                if st.get("is_min_value_exact") == long_bounds:
                    fails.append(f"hyparquet: row group {g} {col[0]}: is_min_value_exact {st.get('is_min_value_exact')}")
    if c.get("mixed") and not mixed:
        fails.append("no column chunk has both dictionary and PLAIN data pages (dictionary fallback)")
    pages_total = sum(hy["pages"].values())
    # hyparquet reports each page of a required column (others' pages are merged per chunk).
    if c["several"] and min(hy["pages"].get(n, 0) for n in ("id", "req_dec")) <= len(spans):
        fails.append(f"hyparquet decoded {hy['pages']} pages in {len(spans)} row groups: expected several per group")

    # ---- the writer's own report ----
    info = json.load(open(os.path.join(d, name + ".info.json")))
    if info["rows"] != len(rows) or info["bytes"] != os.path.getsize(path) or info["row_groups"] != len(spans):
        fails.append(f"--info: rows {info['rows']} bytes {info['bytes']} row groups {info['row_groups']}, "
                     f"file {os.path.getsize(path)} bytes, {len(spans)} row groups")
    for i, ci in enumerate(info["columns"]):
        col = COLUMNS[i]
        vals = [r[i] for r in rows]
        nulls, lo, hi = expected_stats(col, vals, truncated=False)
        nans = sum(1 for v in vals if col[1] in ("float", "double") and v is not None and math.isnan(v))
        if ci["field_id"] != i + 1 or ci["values"] != len(rows) or ci["nulls"] != nulls or ci["nans"] != nans:
            fails.append(f"--info: column {col[0]}: {ci}")
        for kind, want in (("min", lo), ("max", hi)):
            got = ci[kind]
            if want is None or got is None:
                ok = want is None and got is None
            elif col[1] in ("float", "double"):
                ok = float(got) == want
            elif col[1] == "uuid":
                ok = uuid.UUID(got) == uuid.UUID(want)
            else:
                ok = canon(col[1], got) == want
            if not ok:
                fails.append(f"--info: column {col[0]}: {kind} {str(got)[:60]!r}, expected {str(want)[:60]!r}")

    if fails:
        print("\n".join(fails[:60]))
        sys.exit(1)
    print(f"ok: {name}: DuckDB and hyparquet read {len(rows)} rows x {len(COLUMNS)} columns exactly; "
          f"{len(spans)} row group(s), {pages_total} data pages, {codec}, dictionary {'on' if dictionary else 'off'}; "
          f"schema, statistics and --info agree")


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
    elif sys.argv[1] == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: parquet_cases.py gen DIR | check DIR CASE E2E_DIR")
