#!/usr/bin/env python3
"""Cases for lake_iceberg_manifest.sh: descriptions for tests/tools/iceberg_manifest_write, and
the check of what avsc (tests/e2e/tools/avro_read.mjs) reads back from the files it wrote.

  iceberg_manifest_cases.py gen DIR              writes DIR/<case>/desc.json, prints the case names
  iceberg_manifest_cases.py check DIR CASE E2E   reads DIR/CASE/{manifest,list}.avro with avsc

The expected records are computed here, independently of the C code: Iceberg's single-value
serialization (Appendix D) of every bound, the partition tuple's Avro encoding (decimals as
sign-extended fixed bytes), the manifest_file summary (counts by status, sequence numbers
assigned from the list, partition field summaries), and the v2 schemas' field ids as the
Iceberg spec lists them. Every mismatch is printed; exit status 1 if there is any."""
import json
import os
import struct
import subprocess
import sys

BIG_SNAPSHOT = "5890630393462353077"   # beyond 2^53: must stay exact
PARENT_SNAPSHOT = "5890630393462353000"

TABLE_SCHEMA = {
    "type": "struct", "schema-id": 4, "identifier-field-ids": [1],
    "fields": [
        {"id": 1, "name": "id", "required": True, "type": "long"},
        {"id": 2, "name": "region", "required": False, "type": "string"},
        {"id": 3, "name": "day", "required": False, "type": "date"},
        {"id": 4, "name": "amount", "required": False, "type": "decimal(9, 2)"},
        {"id": 5, "name": "ratio", "required": False, "type": "double"},
        {"id": 6, "name": "uid", "required": False, "type": "uuid"},
        {"id": 7, "name": "at", "required": False, "type": "timestamptz"},
        {"id": 8, "name": "flag", "required": False, "type": "boolean"},
        {"id": 9, "name": "blob", "required": False, "type": "binary"},
        {"id": 10, "name": "score", "required": False, "type": "float"},
        {"id": 11, "name": "tod", "required": False, "type": "time"},
        {"id": 12, "name": "n", "required": False, "type": "int"},
        {"id": 13, "name": "big", "required": False, "type": "decimal(38, 0)"},
    ],
}

PARTITION = [
    {"name": "region", "field_id": 1000, "source_id": 2, "type": "string"},
    {"name": "day", "field_id": 1001, "source_id": 3, "type": "date"},
    {"name": "amount", "field_id": 1002, "source_id": 4, "type": "decimal", "precision": 9, "scale": 2},
]


def typed(t, v, scale=0):
    return {"type": t, "value": v, "scale": scale}


def full_stats():
    return [
        {"id": 1, "column_size": 120, "value_count": 10, "null_count": 0,
         "lower": typed("long", "-9223372036854775808"), "upper": typed("long", 1 << 40)},
        {"id": 2, "column_size": 64, "value_count": 10, "null_count": 3,
         "lower": typed("string", ""), "upper": typed("string", "z\u00e9\u6f22")},
        {"id": 3, "value_count": 10, "null_count": 0, "lower": typed("date", -719162), "upper": typed("date", 2932896)},
        {"id": 4, "value_count": 10, "null_count": 1, "lower": typed("decimal", "-0.99", 2),
         "upper": typed("decimal", "12.34", 2)},
        {"id": 5, "value_count": 10, "null_count": 0, "nan_count": 2, "lower": typed("double", "-0"),
         "upper": typed("double", 1.5)},
        {"id": 6, "value_count": 10, "lower": typed("uuid", "00000000-0000-0000-0000-000000000001"),
         "upper": typed("uuid", "f79c3e09-677c-4bbd-a479-3f349cb785e7")},
        {"id": 7, "lower": typed("timestamptz", -1), "upper": typed("timestamptz", "1700000000123456")},
        {"id": 8, "lower": typed("boolean", False), "upper": typed("boolean", True)},
        {"id": 9, "column_size": 300000, "lower": typed("binary", ""), "upper": typed("binary", "00ff10")},
        {"id": 10, "nan_count": 0, "lower": typed("float", -1.25), "upper": typed("float", "Infinity")},
        {"id": 11, "lower": typed("time", 0), "upper": typed("time", 86399999999)},
        {"id": 12, "lower": typed("int", -2147483648), "upper": typed("int", 2147483647)},
        {"id": 13, "lower": typed("decimal", "-99999999999999999999999999999999999999", 0),
         "upper": typed("decimal", "99999999999999999999999999999999999999", 0)},
    ]


def partitioned_entries():
    return [
        {"status": 1, "file": {
            "content": 0, "path": "s3://lake/db/t/data/region=eu/a.parquet", "format": "PARQUET",
            "partition": ["eu", 19000, "12.34"], "record_count": 10, "file_size": 40960,
            "columns": full_stats(), "split_offsets": [4, 70000, 140000], "sort_order_id": 0}},
        {"status": 0, "snapshot_id": PARENT_SNAPSHOT, "sequence_number": 4, "file_sequence_number": 5, "file": {
            "content": 0, "path": "s3://lake/db/t/data/b.parquet", "partition": [None, 18000, "-0.99"],
            "record_count": 5, "file_size": 999,
            "columns": [{"id": 1, "value_count": 5, "null_count": 0}]}},
        {"status": 2, "snapshot_id": BIG_SNAPSHOT, "sequence_number": 2, "file_sequence_number": 2, "file": {
            "content": 0, "path": "s3://lake/db/t/data/c.parquet", "partition": ["us", 20000, None],
            "record_count": 7, "file_size": 1234, "key_metadata": "0102ff"}},
        {"status": 1, "file": {
            "content": 0, "path": "s3://lake/db/t/data/d.parquet", "partition": ["\u00e9t\u00e9", -5, "-1234567.89"],
            "record_count": 1, "file_size": 10}},
    ]


def extra_manifest():
    return {"path": "s3://lake/db/t/metadata/old-deletes.avro", "length": 5555, "spec_id": 1, "content": 1,
            "sequence_number": 3, "min_sequence_number": 1, "added_snapshot_id": PARENT_SNAPSHOT,
            "added_files": 2, "existing_files": 1, "deleted_files": 0, "added_rows": 20, "existing_rows": 4,
            "deleted_rows": 0, "key_metadata": "6b6579",
            "partitions": [{"contains_null": False, "contains_nan": False, "lower": "6170", "upper": "6575"},
                           {"contains_null": True, "contains_nan": None, "lower": None, "upper": None},
                           {"contains_null": True, "contains_nan": False, "lower": "ff", "upper": "04d2"}]}


def cases():
    base_manifest = {"path": "s3://lake/db/t/metadata/m-0001.avro", "content": "data", "schema_id": 4, "spec_id": 1,
                     "table_schema": TABLE_SCHEMA, "partition_fields": PARTITION, "snapshot_id": BIG_SNAPSHOT}
    base_list = {"snapshot_id": BIG_SNAPSHOT, "parent_snapshot_id": PARENT_SNAPSHOT, "sequence_number": 7}
    many = partitioned_entries() + [
        {"status": 1, "file": {"content": 0, "path": f"s3://lake/db/t/data/gen-{i:03d}.parquet",
                               "partition": [["eu", "us", "ap"][i % 3], 19000 + i, f"{i}.{i % 100:02d}"],
                               "record_count": 100 + i, "file_size": 5000 + i,
                               "columns": [{"id": 1, "column_size": i, "value_count": 100 + i, "null_count": 0,
                                            "lower": typed("long", -i), "upper": typed("long", i * 1000)}]}}
        for i in range(40)]
    return {
        "partitioned": {
            "manifest": dict(base_manifest, codec="null", entries=partitioned_entries()),
            "list": dict(base_list, codec="null", extra_manifests=[extra_manifest()])},
        "partitioned_deflate": {
            "manifest": dict(base_manifest, codec="deflate", block_bytes=600, entries=many),
            "list": dict(base_list, codec="deflate", block_bytes=100, extra_manifests=[extra_manifest()])},
        "unpartitioned_deletes": {
            "manifest": {"path": "s3://lake/db/t/metadata/d-0001.avro", "content": "deletes", "schema_id": 0,
                         "spec_id": 0, "table_schema": TABLE_SCHEMA, "partition_fields": [],
                         "snapshot_id": 42, "codec": "deflate",
                         "entries": [
                             {"status": 1, "file": {"content": 1, "path": "s3://lake/db/t/data/pos.parquet",
                                                    "partition": [], "record_count": 3, "file_size": 700,
                                                    "referenced_data_file": "s3://lake/db/t/data/a.parquet",
                                                    "columns": [{"id": 2147483546, "value_count": 3, "null_count": 0,
                                                                 "lower": typed("string", "s3://lake/db/t/data/a.parquet"),
                                                                 "upper": typed("string", "s3://lake/db/t/data/a.parquet")}]}},
                             {"status": 1, "file": {"content": 2, "path": "s3://lake/db/t/data/eq.parquet",
                                                    "partition": [], "record_count": 2, "file_size": 500,
                                                    "equality_ids": [1, 2]}}]},
            "list": {"snapshot_id": 42, "parent_snapshot_id": None, "sequence_number": 1, "codec": "deflate"}},
    }


# ---- independent expectations ----

def decimal_unscaled(text, scale):
    """Exact (no decimal context rounding): "-12.34" at scale 2 -> -1234."""
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("+-").partition(".")
    assert len(frac) <= scale, text
    v = int(whole + frac) * 10 ** (scale - len(frac))
    return -v if neg else v


def decimal_required_bytes(p):
    n = 1
    while 2 ** (8 * n - 1) < 10 ** p:
        n += 1
    return n


def minimal_twos(x):
    n = (x if x >= 0 else ~x).bit_length() // 8 + 1
    return x.to_bytes(n, "big", signed=True)


def fnum(v):
    return {"NaN": float("nan"), "-0": -0.0, "Infinity": float("inf"), "-Infinity": float("-inf")}.get(v, v) \
        if isinstance(v, str) else float(v)


def single_value(t, v, scale=0):
    """Iceberg Appendix D binary single-value serialization."""
    if t == "boolean":
        return b"\x01" if v else b"\x00"
    if t in ("int", "date"):
        return struct.pack("<i", int(v))
    if t in ("long", "time", "timestamp", "timestamptz"):
        return struct.pack("<q", int(v))
    if t == "float":
        return struct.pack("<f", fnum(v))
    if t == "double":
        return struct.pack("<d", fnum(v))
    if t == "decimal":
        return minimal_twos(decimal_unscaled(v, scale))
    if t == "string":
        return v.encode("utf-8")
    if t == "uuid":
        return bytes.fromhex(v.replace("-", ""))
    if t in ("binary", "fixed"):
        return bytes.fromhex(v)
    raise ValueError(t)


def hx(b):
    return "hex:" + b.hex()


def partition_avro(field, v):
    """The partition value as avsc decodes it from our Avro encoding."""
    if v is None:
        return None
    t = field["type"]
    if t == "decimal":
        n = decimal_required_bytes(field["precision"])
        return hx(decimal_unscaled(v, field["scale"]).to_bytes(n, "big", signed=True))
    if t in ("long", "time", "timestamp", "timestamptz"):
        return str(int(v))
    return v


def partition_order_key(field, v):
    t = field["type"]
    if t == "decimal":
        return decimal_unscaled(v, field["scale"])
    if t == "string":
        return v.encode("utf-8")
    return int(v)


STAT_MAPS = [("column_sizes", "column_size"), ("value_counts", "value_count"),
             ("null_value_counts", "null_count"), ("nan_value_counts", "nan_count")]


def expected_entry(e, fields):
    f = e["file"]
    cols = f.get("columns", [])
    df = {"content": f["content"], "file_path": f["path"], "file_format": f.get("format", "PARQUET"),
          "partition": {fd["name"]: partition_avro(fd, v) for fd, v in zip(fields, f["partition"])},
          "record_count": str(f["record_count"]), "file_size_in_bytes": str(f["file_size"])}
    for name, key in STAT_MAPS:
        kv = [{"key": c["id"], "value": str(c[key])} for c in cols if key in c]
        df[name] = kv or None
    for name, key in (("lower_bounds", "lower"), ("upper_bounds", "upper")):
        kv = [{"key": c["id"], "value": hx(single_value(c[key]["type"], c[key]["value"], c[key].get("scale", 0)))}
              for c in cols if key in c]
        df[name] = kv or None
    df["key_metadata"] = hx(bytes.fromhex(f["key_metadata"])) if "key_metadata" in f else None
    df["split_offsets"] = [str(x) for x in f["split_offsets"]] if "split_offsets" in f else None
    df["equality_ids"] = f.get("equality_ids")
    df["sort_order_id"] = f.get("sort_order_id")
    df["referenced_data_file"] = f.get("referenced_data_file")
    opt = lambda k: None if e.get(k) is None else str(e[k])
    return {"status": e["status"], "snapshot_id": opt("snapshot_id"), "sequence_number": opt("sequence_number"),
            "file_sequence_number": opt("file_sequence_number"), "data_file": df}


def expected_list(desc, manifest_len):
    m, lst = desc["manifest"], desc["list"]
    fields, entries = m["partition_fields"], m["entries"]
    seq = str(lst["sequence_number"])
    live_seqs = [e["sequence_number"] for e in entries if e["status"] != 2 and e.get("sequence_number") is not None]
    counts = {s: [e for e in entries if e["status"] == s] for s in (0, 1, 2)}
    parts = []
    for i, fd in enumerate(fields):
        vals = [e["file"]["partition"][i] for e in entries]
        present = sorted((v for v in vals if v is not None), key=lambda v: partition_order_key(fd, v))
        ser = lambda v: hx(single_value(fd["type"], v, fd.get("scale", 0)))
        parts.append({"contains_null": any(v is None for v in vals), "contains_nan": False,
                      "lower_bound": ser(present[0]) if present else None,
                      "upper_bound": ser(present[-1]) if present else None})
    first = {"manifest_path": m["path"], "manifest_length": str(manifest_len), "partition_spec_id": m["spec_id"],
             "content": 1 if m["content"] == "deletes" else 0, "sequence_number": seq,
             "min_sequence_number": str(min(live_seqs)) if live_seqs else seq,
             "added_snapshot_id": str(m["snapshot_id"]),
             "added_files_count": len(counts[1]), "existing_files_count": len(counts[0]),
             "deleted_files_count": len(counts[2]),
             "added_rows_count": str(sum(e["file"]["record_count"] for e in counts[1])),
             "existing_rows_count": str(sum(e["file"]["record_count"] for e in counts[0])),
             "deleted_rows_count": str(sum(e["file"]["record_count"] for e in counts[2])),
             "partitions": parts, "key_metadata": None}
    out = [first]
    for x in lst.get("extra_manifests", []):
        out.append({"manifest_path": x["path"], "manifest_length": str(x["length"]), "partition_spec_id": x["spec_id"],
                    "content": x["content"], "sequence_number": str(x["sequence_number"]),
                    "min_sequence_number": str(x["min_sequence_number"]),
                    "added_snapshot_id": str(x["added_snapshot_id"]), "added_files_count": x["added_files"],
                    "existing_files_count": x["existing_files"], "deleted_files_count": x["deleted_files"],
                    "added_rows_count": str(x["added_rows"]), "existing_rows_count": str(x["existing_rows"]),
                    "deleted_rows_count": str(x["deleted_rows"]),
                    "partitions": [{"contains_null": p["contains_null"], "contains_nan": p["contains_nan"],
                                    "lower_bound": hx(bytes.fromhex(p["lower"])) if p["lower"] is not None else None,
                                    "upper_bound": hx(bytes.fromhex(p["upper"])) if p["upper"] is not None else None}
                                   for p in x["partitions"]],
                    "key_metadata": hx(bytes.fromhex(x["key_metadata"])) if x.get("key_metadata") else None})
    return out


# Field ids per the Iceberg table spec (v2 manifest_entry / data_file / manifest_file / field_summary).
ENTRY_IDS = {"status": 0, "snapshot_id": 1, "sequence_number": 3, "file_sequence_number": 4, "data_file": 2,
             "data_file.content": 134, "data_file.file_path": 100, "data_file.file_format": 101,
             "data_file.partition": 102, "data_file.record_count": 103, "data_file.file_size_in_bytes": 104,
             "data_file.column_sizes": 108, "data_file.column_sizes.key": 117, "data_file.column_sizes.value": 118,
             "data_file.value_counts": 109, "data_file.value_counts.key": 119, "data_file.value_counts.value": 120,
             "data_file.null_value_counts": 110, "data_file.null_value_counts.key": 121,
             "data_file.null_value_counts.value": 122, "data_file.nan_value_counts": 137,
             "data_file.nan_value_counts.key": 138, "data_file.nan_value_counts.value": 139,
             "data_file.lower_bounds": 125, "data_file.lower_bounds.key": 126, "data_file.lower_bounds.value": 127,
             "data_file.upper_bounds": 128, "data_file.upper_bounds.key": 129, "data_file.upper_bounds.value": 130,
             "data_file.key_metadata": 131, "data_file.split_offsets": 132, "data_file.split_offsets.element": 133,
             "data_file.equality_ids": 135, "data_file.equality_ids.element": 136, "data_file.sort_order_id": 140,
             "data_file.referenced_data_file": 143}
LIST_IDS = {"manifest_path": 500, "manifest_length": 501, "partition_spec_id": 502, "content": 517,
            "sequence_number": 515, "min_sequence_number": 516, "added_snapshot_id": 503, "added_files_count": 504,
            "existing_files_count": 505, "deleted_files_count": 506, "added_rows_count": 512,
            "existing_rows_count": 513, "deleted_rows_count": 514, "partitions": 507, "partitions.element": 508,
            "partitions.element.contains_null": 509, "partitions.element.contains_nan": 518,
            "partitions.element.lower_bound": 510, "partitions.element.upper_bound": 511, "key_metadata": 519}


def schema_ids(schema, problems):
    """Every id in an Avro schema: field-id on record fields (map key/value included), element-id on
    lists, key-id/value-id on Avro maps. A record field without a field-id, a list without an
    element-id or an array-map whose key/value lack ids is a problem."""
    ids = {}

    def unwrap(t):
        if isinstance(t, list):
            branches = [b for b in t if b != "null"]
            return branches[0] if len(branches) == 1 else t
        return t

    def walk_type(t, path):
        t = unwrap(t)
        if not isinstance(t, dict):
            return
        if t.get("type") == "record":
            for f in t["fields"]:
                p = f"{path}.{f['name']}" if path else f["name"]
                if not isinstance(f.get("field-id"), int):
                    problems.append(f"schema: field {p} has no field-id")
                else:
                    ids[p] = f["field-id"]
                walk_type(f["type"], p)
        elif t.get("type") == "array":
            items = unwrap(t["items"])
            if t.get("logicalType") == "map":
                if not (isinstance(items, dict) and items.get("type") == "record" and len(items["fields"]) == 2):
                    problems.append(f"schema: {path}: a logicalType map must hold 2-field records")
                    return
                for kv, f in zip(("key", "value"), items["fields"]):
                    if not isinstance(f.get("field-id"), int):
                        problems.append(f"schema: map {path} {kv} has no field-id")
                    ids[f"{path}.{kv}"] = f.get("field-id")
            else:
                if not isinstance(t.get("element-id"), int):
                    problems.append(f"schema: list {path} has no element-id")
                ids[f"{path}.element"] = t.get("element-id")
                walk_type(items, f"{path}.element")
        elif t.get("type") == "map":
            for k in ("key-id", "value-id"):
                if not isinstance(t.get(k), int):
                    problems.append(f"schema: map {path} has no {k}")
            ids[f"{path}.key"], ids[f"{path}.value"] = t.get("key-id"), t.get("value-id")

    walk_type(schema, "")
    return ids


def compare(what, got, want, problems):
    if got != want:
        problems.append(f"{what}:\n    got  {json.dumps(got, ensure_ascii=False)}\n    want {json.dumps(want, ensure_ascii=False)}")


def read_avro(e2e, path):
    r = subprocess.run(["node", os.path.join(e2e, "tools", "avro_read.mjs"), path], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"avsc cannot read {path}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def check(d, case, e2e):
    desc = json.load(open(os.path.join(d, case, "desc.json")))
    m, lst = desc["manifest"], desc["list"]
    problems = []
    man_path, list_path = os.path.join(d, case, "manifest.avro"), os.path.join(d, case, "list.avro")
    man, ml = read_avro(e2e, man_path), read_avro(e2e, list_path)

    # Manifest: header keys, schema ids, records.
    compare("manifest codec", man["codec"], m.get("codec", "null"), problems)
    h = man["header"]
    compare("manifest header keys", sorted(h), sorted(["avro.schema", "avro.codec", "schema", "schema-id",
                                                         "partition-spec", "partition-spec-id", "format-version",
                                                         "content"]), problems)
    compare("header schema", json.loads(h.get("schema", "null")), m["table_schema"], problems)
    compare("header schema-id", h.get("schema-id"), str(m["schema_id"]), problems)
    compare("header partition-spec", json.loads(h.get("partition-spec", "null")),
            [{"name": f["name"], "transform": "identity", "source-id": f["source_id"], "field-id": f["field_id"]}
             for f in m["partition_fields"]], problems)
    compare("header partition-spec-id", h.get("partition-spec-id"), str(m["spec_id"]), problems)
    compare("header format-version", h.get("format-version"), "2", problems)
    compare("header content", h.get("content"), m["content"], problems)
    compare("manifest schema name", man["schema"].get("name"), "manifest_entry", problems)
    ids = schema_ids(man["schema"], problems)
    want_ids = dict(ENTRY_IDS)
    for f in m["partition_fields"]:
        want_ids[f"data_file.partition.{f['name']}"] = f["field_id"]
    compare("manifest field ids", ids, want_ids, problems)
    want_entries = [expected_entry(e, m["partition_fields"]) for e in m["entries"]]
    compare("manifest record count", len(man["records"]), len(want_entries), problems)
    for i, (got, want) in enumerate(zip(man["records"], want_entries)):
        compare(f"manifest entry {i}", got, want, problems)
    if m.get("block_bytes"):
        if man["blocks"] < 2:
            problems.append(f"manifest: {man['blocks']} block(s) with block_bytes {m['block_bytes']}")
    else:
        compare("manifest blocks", man["blocks"], 1, problems)

    # Manifest list.
    compare("list codec", ml["codec"], lst.get("codec", "null"), problems)
    compare("list header", {k: v for k, v in ml["header"].items() if k != "avro.schema"},
            {"avro.codec": lst.get("codec", "null"), "snapshot-id": str(lst["snapshot_id"]),
             "parent-snapshot-id": "null" if lst["parent_snapshot_id"] is None else str(lst["parent_snapshot_id"]),
             "sequence-number": str(lst["sequence_number"]), "format-version": "2"}, problems)
    compare("list schema name", ml["schema"].get("name"), "manifest_file", problems)
    compare("list field ids", schema_ids(ml["schema"], problems), LIST_IDS, problems)
    compare("list records", ml["records"], expected_list(desc, os.path.getsize(man_path)), problems)
    if lst.get("block_bytes"):
        compare("list blocks", ml["blocks"], len(ml["records"]), problems)   # each record crosses 100 bytes

    for p in problems:
        print(f"{case}: {p}", file=sys.stderr)
    return not problems


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "gen":
        for name, desc in cases().items():
            os.makedirs(os.path.join(sys.argv[2], name), exist_ok=True)
            with open(os.path.join(sys.argv[2], name, "desc.json"), "w") as f:
                json.dump(desc, f, ensure_ascii=False, indent=1)
            print(name)
        return 0
    if len(sys.argv) == 5 and sys.argv[1] == "check":
        return 0 if check(sys.argv[2], sys.argv[3], sys.argv[4]) else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
