/* iceberg_metadata: builds, parses and extends Iceberg v2 table metadata JSON (see the header).
 * The JSON tree is the state: a parsed file keeps the fields Sluice does not know about, and
 * adding a snapshot edits the tree in place. Summary metrics follow the spec's names (Java's
 * SnapshotSummary): added-* for what a snapshot adds, total-* carried from its parent. */
#include "sinks/lake/iceberg_metadata.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/random.h"

struct iceberg_metadata {
    json_t *root;
};

int iceberg_uuid_random(char out[37])
{
    uint8_t b[16];
    if (random_bytes(b, sizeof b) != 0)
        return -1;
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return 0;
}

/* obj[key] = value, taking the reference; -1 on out-of-memory. */
static int put(json_t *obj, const char *key, json_t *value)
{
    return value ? json_object_set_new(obj, key, value) : -1;
}

/* Field i on its own and against those before it: an id in range, a name and a type, no id or
 * name twice, an identifier field required and not floating point (spec: "Identifier Field IDs").
 * 0 or -1 with err. */
static int field_check(const iceberg_schema_field *fields, size_t i, char *err, size_t errlen)
{
    const iceberg_schema_field *f = &fields[i];
    if (f->id <= 0 || f->id > ICEBERG_MAX_FIELD_ID || !f->name || !*f->name || !f->type || !*f->type) {
        snprintf(err, errlen, "schema field %zu: needs an id in 1..%d, a name and a type", i, ICEBERG_MAX_FIELD_ID);
        return -1;
    }
    for (size_t j = 0; j < i; j++) {
        if (fields[j].id == f->id) {
            snprintf(err, errlen, "schema field %s: field id %" PRId32 " is also %s's", f->name, f->id,
                     fields[j].name);
            return -1;
        }
        if (strcmp(fields[j].name, f->name) == 0) {
            snprintf(err, errlen, "schema field %s: the name is used twice (field ids %" PRId32 " and %" PRId32 ")",
                     f->name, fields[j].id, f->id);
            return -1;
        }
    }
    if (f->identifier && !f->required) {
        snprintf(err, errlen, "schema field %s: an identifier field must be required", f->name);
        return -1;
    }
    if (f->identifier && (strcmp(f->type, "float") == 0 || strcmp(f->type, "double") == 0)) {
        snprintf(err, errlen, "schema field %s: an identifier field cannot be a %s", f->name, f->type);
        return -1;
    }
    return 0;
}

static json_t *schema_build(const iceberg_table_spec *spec, int32_t *last_id, char *err, size_t errlen)
{
    json_t *s = json_object(), *fields = json_array(), *ids = json_array();
    *last_id = 0;
    if (!s || !fields || !ids)
        goto oom;
    json_object_set_new(s, "type", json_string("struct"));
    json_object_set_new(s, "schema-id", json_integer(0));
    for (size_t i = 0; i < spec->nfields; i++) {
        const iceberg_schema_field *f = &spec->fields[i];
        if (field_check(spec->fields, i, err, errlen) != 0)
            goto fail;
        json_t *jf = json_pack("{s:I, s:s, s:b, s:s}", "id", (json_int_t)f->id, "name", f->name, "required",
                               f->required, "type", f->type);
        if (!jf || json_array_append_new(fields, jf) != 0)
            goto oom;
        if (f->identifier)
            json_array_append_new(ids, json_integer(f->id));
        if (f->id > *last_id)
            *last_id = f->id;
    }
    if (spec->nfields == 0) {
        snprintf(err, errlen, "a table needs at least one column");
        goto fail;
    }
    if (json_array_size(ids) > 0)
        json_object_set(s, "identifier-field-ids", ids);
    json_decref(ids);
    json_object_set_new(s, "fields", fields);
    return s;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    json_decref(s);
    json_decref(fields);
    json_decref(ids);
    return NULL;
}

iceberg_metadata *iceberg_metadata_create(const iceberg_table_spec *spec, int64_t now_ms, char *err,
                                          size_t errlen)
{
    char uuid[37];
    int32_t last_id;
    if (!spec->location || !*spec->location || spec->location[strlen(spec->location) - 1] == '/') {
        snprintf(err, errlen, "table location must be a URI without a trailing '/'");
        return NULL;
    }
    if (!spec->table_uuid && iceberg_uuid_random(uuid) != 0) {
        snprintf(err, errlen, "no random bytes for the table uuid");
        return NULL;
    }
    json_t *schema = schema_build(spec, &last_id, err, errlen);
    if (!schema)
        return NULL;
    json_t *props = json_object();
    for (size_t i = 0; props && i < spec->nproperties; i++)
        json_object_set_new(props, spec->properties[2 * i], json_string(spec->properties[2 * i + 1]));
    json_t *root = json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:[o], s:i, s:[{s:i, s:[]}], s:i, s:i,"
                             " s:[{s:i, s:[]}], s:i, s:o, s:{}, s:[], s:[], s:[]}",
                             "format-version", 2, "table-uuid", spec->table_uuid ? spec->table_uuid : uuid,
                             "location", spec->location, "last-sequence-number", (json_int_t)0,
                             "last-updated-ms", (json_int_t)now_ms, "last-column-id", (json_int_t)last_id,
                             "schemas", schema, "current-schema-id", 0, "partition-specs", "spec-id", 0,
                             "fields", "default-spec-id", 0, "last-partition-id", 999, "sort-orders",
                             "order-id", 0, "fields", "default-sort-order-id", 0, "properties", props, "refs",
                             "snapshots", "snapshot-log", "metadata-log");
    if (!root) {
        snprintf(err, errlen, "out of memory building table metadata");
        return NULL;
    }
    iceberg_metadata *m = calloc(1, sizeof *m);
    if (!m) {
        json_decref(root);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->root = root;
    return m;
}

static int64_t get_int(const json_t *obj, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

iceberg_metadata *iceberg_metadata_parse(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root) {
        snprintf(err, errlen, "table metadata is not JSON: %s (line %d)", je.text, je.line);
        return NULL;
    }
    static const char *const required[] = {"table-uuid", "location", "last-sequence-number", "last-updated-ms",
                                           "last-column-id", "schemas", "current-schema-id", "partition-specs",
                                           "default-spec-id", "sort-orders"};
    if (!json_is_object(root) || get_int(root, "format-version", 0) != 2) {
        snprintf(err, errlen, "table metadata: only format-version 2 is supported");
        goto fail;
    }
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!json_object_get(root, required[i])) {
            snprintf(err, errlen, "table metadata: \"%s\" is missing", required[i]);
            goto fail;
        }
    if (!json_is_string(json_object_get(root, "location")) || !json_is_array(json_object_get(root, "schemas"))) {
        snprintf(err, errlen, "table metadata: bad location or schemas");
        goto fail;
    }
    /* Lists an append extends must be there, even when a writer left them out. */
    static const char *const lists[] = {"snapshots", "snapshot-log", "metadata-log"};
    for (size_t i = 0; i < 3; i++)
        if (!json_is_array(json_object_get(root, lists[i])))
            json_object_set_new(root, lists[i], json_array());
    if (!json_is_object(json_object_get(root, "refs")))
        json_object_set_new(root, "refs", json_object());
    iceberg_metadata *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    m->root = root;
    return m;
fail:
    json_decref(root);
    return NULL;
}

void iceberg_metadata_destroy(iceberg_metadata *m)
{
    if (!m)
        return;
    json_decref(m->root);
    free(m);
}

/* The snapshot with id snapshot_id, or NULL. */
static json_t *snapshot_json(const iceberg_metadata *m, int64_t snapshot_id)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m->root, "snapshots"), i, s)
    {
        if (get_int(s, "snapshot-id", -1) == snapshot_id)
            return s;
    }
    return NULL;
}

static json_t *current_snapshot_json(const iceberg_metadata *m)
{
    json_t *id = json_object_get(m->root, "current-snapshot-id");
    if (!json_is_integer(id) || json_integer_value(id) < 0)
        return NULL;
    return snapshot_json(m, (int64_t)json_integer_value(id));
}

/* A summary value: Iceberg writes them as strings of decimal numbers. */
static int64_t summary_int(const json_t *summary, const char *key)
{
    const char *s = json_string_value(json_object_get(summary, key));
    return s ? strtoll(s, NULL, 10) : 0;
}

int iceberg_metadata_current_snapshot(const iceberg_metadata *m, iceberg_snapshot_info *out, char *err,
                                      size_t errlen)
{
    json_t *id = json_object_get(m->root, "current-snapshot-id");
    if (!json_is_integer(id) || json_integer_value(id) < 0)
        return 0;
    json_t *s = current_snapshot_json(m);
    if (!s) {
        snprintf(err, errlen, "table metadata: current snapshot %" JSON_INTEGER_FORMAT " is not in snapshots",
                 json_integer_value(id));
        return -1;
    }
    json_t *summary = json_object_get(s, "summary");
    memset(out, 0, sizeof *out);
    out->snapshot_id = get_int(s, "snapshot-id", -1);
    json_t *parent = json_object_get(s, "parent-snapshot-id");
    out->has_parent = json_is_integer(parent);
    out->parent_snapshot_id = out->has_parent ? (int64_t)json_integer_value(parent) : 0;
    out->sequence_number = get_int(s, "sequence-number", 0);
    out->timestamp_ms = get_int(s, "timestamp-ms", 0);
    out->manifest_list = json_string_value(json_object_get(s, "manifest-list"));
    if (!out->manifest_list) {
        snprintf(err, errlen, "table metadata: snapshot %" PRId64 " has no manifest-list", out->snapshot_id);
        return -1;
    }
    out->operation = json_string_value(json_object_get(summary, "operation"));
    out->total_records = summary_int(summary, "total-records");
    out->total_data_files = summary_int(summary, "total-data-files");
    out->total_files_size = summary_int(summary, "total-files-size");
    out->total_delete_files = summary_int(summary, "total-delete-files");
    out->total_position_deletes = summary_int(summary, "total-position-deletes");
    out->total_equality_deletes = summary_int(summary, "total-equality-deletes");
    out->lsn = json_string_value(json_object_get(summary, "sluice.lsn"));
    return 1;
}

/* summary[key] = v as decimal text (summary values are strings). -1 on out-of-memory. */
static int summary_put_int(json_t *summary, const char *key, int64_t v)
{
    char n[24];
    snprintf(n, sizeof n, "%" PRId64, v);
    return put(summary, key, json_string(n));
}

/* The snapshot's operation: the caller's (checked) or derived from what it adds. NULL with err. */
static const char *operation_of(const iceberg_snapshot_add *add, char *err, size_t errlen)
{
    bool data = add->added_data_files > 0, deletes = add->added_position_delete_files > 0;
    if (!add->operation)
        return !deletes ? "append" : !data ? "delete" : "overwrite";
    static const char *const known[] = {"append", "overwrite", "delete", "replace"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(add->operation, known[i]) == 0) {
            if (i == 0 && deletes) {
                snprintf(err, errlen, "an append snapshot cannot add delete files");
                return NULL;
            }
            return known[i];
        }
    snprintf(err, errlen, "snapshot operation \"%s\" is not append, overwrite, delete or replace", add->operation);
    return NULL;
}

/* The new snapshot's summary (prev: the parent, NULL for none). NULL with err. */
static json_t *summary_build(const iceberg_snapshot_add *add, const iceberg_snapshot_info *prev, char *err,
                             size_t errlen)
{
    static const iceberg_snapshot_info none;
    if (!prev)
        prev = &none;
    if (add->added_data_files < 0 || add->added_records < 0 || add->added_files_size < 0 ||
        add->added_position_delete_files < 0 || add->added_position_deletes < 0) {
        snprintf(err, errlen, "snapshot counts must not be negative");
        return NULL;
    }
    const char *op = operation_of(add, err, errlen);
    if (!op)
        return NULL;
    bool data = add->added_data_files > 0, deletes = add->added_position_delete_files > 0;
    json_t *s = json_object();
    if (!s || put(s, "operation", json_string(op)) != 0)
        goto oom;
    if (data && (summary_put_int(s, "added-data-files", add->added_data_files) != 0 ||
                 summary_put_int(s, "added-records", add->added_records) != 0))
        goto oom;
    if (deletes && (summary_put_int(s, "added-delete-files", add->added_position_delete_files) != 0 ||
                    summary_put_int(s, "added-position-delete-files", add->added_position_delete_files) != 0 ||
                    summary_put_int(s, "added-position-deletes", add->added_position_deletes) != 0))
        goto oom;
    if ((data || deletes) && summary_put_int(s, "added-files-size", add->added_files_size) != 0)
        goto oom;
    if (summary_put_int(s, "total-data-files", prev->total_data_files + add->added_data_files) != 0 ||
        summary_put_int(s, "total-records", prev->total_records + add->added_records) != 0 ||
        summary_put_int(s, "total-files-size", prev->total_files_size + add->added_files_size) != 0 ||
        summary_put_int(s, "total-delete-files", prev->total_delete_files + add->added_position_delete_files) != 0 ||
        summary_put_int(s, "total-position-deletes", prev->total_position_deletes + add->added_position_deletes) !=
            0 ||
        summary_put_int(s, "total-equality-deletes", prev->total_equality_deletes) != 0 ||
        put(s, "changed-partition-count", json_string(data || deletes ? "1" : "0")) != 0 ||
        put(s, "sluice.writer", json_string("sluice")) != 0)
        goto oom;
    if (add->lsn && put(s, "sluice.lsn", json_string(add->lsn)) != 0)
        goto oom;
    for (size_t i = 0; i < add->nsummary; i++) {
        const char *k = add->summary[2 * i], *v = add->summary[2 * i + 1];
        if (!k || !*k || !v) {
            snprintf(err, errlen, "summary pair %zu needs a key and a value", i);
            json_decref(s);
            return NULL;
        }
        if (json_object_get(s, k)) {
            snprintf(err, errlen, "summary key %s is set twice", k);
            json_decref(s);
            return NULL;
        }
        if (put(s, k, json_string(v)) != 0)
            goto oom;
    }
    return s;
oom:
    snprintf(err, errlen, "out of memory building the snapshot summary");
    json_decref(s);
    return NULL;
}

int iceberg_metadata_add_snapshot(iceberg_metadata *m, const iceberg_snapshot_add *add,
                                  const char *previous_location, int64_t now_ms, char *err, size_t errlen)
{
    iceberg_snapshot_info prev;
    int has_prev = iceberg_metadata_current_snapshot(m, &prev, err, errlen);
    if (has_prev < 0)
        return -1;
    if (!add->manifest_list || add->snapshot_id < 0) {
        snprintf(err, errlen, "a snapshot needs a non-negative id and a manifest list");
        return -1;
    }
    if (iceberg_metadata_has_snapshot(m, add->snapshot_id)) {
        snprintf(err, errlen, "snapshot id %" PRId64 " is already in the table", add->snapshot_id);
        return -1;
    }
    int64_t seq = iceberg_metadata_last_sequence_number(m) + 1;
    int64_t prev_updated = get_int(m->root, "last-updated-ms", 0);
    if (now_ms < prev_updated)
        now_ms = prev_updated;   /* last-updated-ms never goes back */
    json_t *summary = summary_build(add, has_prev ? &prev : NULL, err, errlen);
    if (!summary)
        return -1;
    json_t *snap = json_pack("{s:I, s:I, s:I, s:s, s:o, s:I}", "snapshot-id", (json_int_t)add->snapshot_id,
                             "sequence-number", (json_int_t)seq, "timestamp-ms", (json_int_t)now_ms,
                             "manifest-list", add->manifest_list, "summary", summary, "schema-id",
                             (json_int_t)iceberg_metadata_current_schema_id(m));
    if (!snap)
        goto oom;
    if (has_prev)
        json_object_set_new(snap, "parent-snapshot-id", json_integer(prev.snapshot_id));
    if (json_array_append_new(json_object_get(m->root, "snapshots"), snap) != 0)
        goto oom;
    if (previous_location &&
        json_array_append_new(json_object_get(m->root, "metadata-log"),
                              json_pack("{s:I, s:s}", "timestamp-ms", (json_int_t)prev_updated, "metadata-file",
                                        previous_location)) != 0)
        goto oom;
    if (json_array_append_new(json_object_get(m->root, "snapshot-log"),
                              json_pack("{s:I, s:I}", "timestamp-ms", (json_int_t)now_ms, "snapshot-id",
                                        (json_int_t)add->snapshot_id)) != 0 ||
        put(json_object_get(m->root, "refs"), "main",
            json_pack("{s:I, s:s}", "snapshot-id", (json_int_t)add->snapshot_id, "type", "branch")) != 0 ||
        put(m->root, "current-snapshot-id", json_integer(add->snapshot_id)) != 0 ||
        put(m->root, "last-sequence-number", json_integer(seq)) != 0 ||
        put(m->root, "last-updated-ms", json_integer(now_ms)) != 0)
        goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory adding a snapshot");
    return -1;
}

int iceberg_metadata_has_snapshot(const iceberg_metadata *m, int64_t snapshot_id)
{
    return snapshot_json(m, snapshot_id) != NULL;
}

const char *iceberg_metadata_summary_get(const iceberg_metadata *m, const char *key)
{
    json_t *s = current_snapshot_json(m);
    return s ? json_string_value(json_object_get(json_object_get(s, "summary"), key)) : NULL;
}

const char *iceberg_metadata_snapshot_summary_get(const iceberg_metadata *m, int64_t snapshot_id, const char *key)
{
    json_t *s = snapshot_json(m, snapshot_id);
    return s ? json_string_value(json_object_get(json_object_get(s, "summary"), key)) : NULL;
}

int iceberg_metadata_any_snapshot_with(const iceberg_metadata *m, const char *key, const char *value)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m->root, "snapshots"), i, s)
    {
        const char *v = json_string_value(json_object_get(json_object_get(s, "summary"), key));
        if (v && strcmp(v, value) == 0)
            return 1;
    }
    return 0;
}

int iceberg_metadata_is_ancestor(const iceberg_metadata *m, int64_t snapshot_id)
{
    json_t *s = current_snapshot_json(m);
    size_t steps = json_array_size(json_object_get(m->root, "snapshots"));
    for (size_t i = 0; s && i <= steps; i++) {   /* bounded: a malformed parent cycle ends */
        if (get_int(s, "snapshot-id", -1) == snapshot_id)
            return 1;
        json_t *parent = json_object_get(s, "parent-snapshot-id");
        s = json_is_integer(parent) ? snapshot_json(m, (int64_t)json_integer_value(parent)) : NULL;
    }
    return 0;
}

static json_t *current_schema_json(const iceberg_metadata *m)
{
    int64_t id = iceberg_metadata_current_schema_id(m);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m->root, "schemas"), i, s)
    {
        if (get_int(s, "schema-id", -1) == id)
            return s;
    }
    return NULL;
}

int iceberg_metadata_schema_fields(const iceberg_metadata *m, iceberg_schema_field **fields, size_t *n, char *err,
                                   size_t errlen)
{
    *fields = NULL;
    *n = 0;
    json_t *schema = current_schema_json(m);
    json_t *jf = json_object_get(schema, "fields");
    if (!schema || !json_is_array(jf)) {
        snprintf(err, errlen, "table metadata: the current schema %" PRId32 " is missing or has no fields",
                 iceberg_metadata_current_schema_id(m));
        return -1;
    }
    size_t count = json_array_size(jf);
    if (count == 0)
        return 0;
    /* Pass 1: check every field and size the block (nested types as compact JSON text). */
    char **nested = calloc(count, sizeof *nested);
    size_t bytes = count * sizeof(iceberg_schema_field);
    int rc = -1;
    if (!nested) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *f = json_array_get(jf, i), *type = json_object_get(f, "type");
        const char *name = json_string_value(json_object_get(f, "name"));
        json_int_t id = json_integer_value(json_object_get(f, "id"));
        if (!json_is_integer(json_object_get(f, "id")) || id <= 0 || id > INT32_MAX || !name ||
            !(json_is_string(type) || json_is_object(type))) {
            snprintf(err, errlen, "table metadata: schema field %zu needs an id, a name and a type", i);
            goto out;
        }
        if (json_is_object(type) && !(nested[i] = json_dumps(type, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        bytes += strlen(name) + 1 + strlen(nested[i] ? nested[i] : json_string_value(type)) + 1;
    }
    /* Pass 2: the array, then its strings, in one block. */
    iceberg_schema_field *out = malloc(bytes);
    if (!out) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    char *p = (char *)(out + count);
    json_t *ids = json_object_get(schema, "identifier-field-ids");
    for (size_t i = 0; i < count; i++) {
        json_t *f = json_array_get(jf, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = nested[i] ? nested[i] : json_string_value(json_object_get(f, "type"));
        out[i].id = (int32_t)json_integer_value(json_object_get(f, "id"));
        out[i].required = json_is_true(json_object_get(f, "required"));
        out[i].identifier = false;
        size_t k;
        json_t *v;
        json_array_foreach(ids, k, v)
        {
            if (json_is_integer(v) && json_integer_value(v) == out[i].id)
                out[i].identifier = true;
        }
        size_t ln = strlen(name) + 1, lt = strlen(type) + 1;
        out[i].name = memcpy(p, name, ln);
        p += ln;
        out[i].type = memcpy(p, type, lt);
        p += lt;
    }
    *fields = out;
    *n = count;
    rc = 0;
out:
    for (size_t i = 0; i < count; i++)
        free(nested[i]);
    free(nested);
    return rc;
}

int32_t iceberg_metadata_last_column_id(const iceberg_metadata *m)
{
    return (int32_t)get_int(m->root, "last-column-id", 0);
}

int64_t iceberg_metadata_last_sequence_number(const iceberg_metadata *m)
{
    return get_int(m->root, "last-sequence-number", 0);
}

int32_t iceberg_metadata_current_schema_id(const iceberg_metadata *m)
{
    return (int32_t)get_int(m->root, "current-schema-id", 0);
}

int iceberg_metadata_snapshot_count(const iceberg_metadata *m)
{
    return (int)json_array_size(json_object_get(m->root, "snapshots"));
}

const char *iceberg_metadata_location(const iceberg_metadata *m)
{
    return json_string_value(json_object_get(m->root, "location"));
}

const char *iceberg_metadata_table_uuid(const iceberg_metadata *m)
{
    return json_string_value(json_object_get(m->root, "table-uuid"));
}

int iceberg_metadata_schema_json(const iceberg_metadata *m, buf *out, char *err, size_t errlen)
{
    json_t *s = current_schema_json(m);
    if (!s) {
        snprintf(err, errlen, "table metadata: current schema %" PRId32 " is not in schemas",
                 iceberg_metadata_current_schema_id(m));
        return -1;
    }
    char *text = json_dumps(s, JSON_COMPACT);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    buf_puts(out, text);
    free(text);
    return 0;
}

char *iceberg_metadata_dump(const iceberg_metadata *m)
{
    return json_dumps(m->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}

int iceberg_metadata_schema_count(const iceberg_metadata *m)
{
    return (int)json_array_size(json_object_get(m->root, "schemas"));
}

int iceberg_metadata_log_previous(iceberg_metadata *m, const char *previous_location, int64_t now_ms, char *err,
                                  size_t errlen)
{
    int64_t prev_updated = get_int(m->root, "last-updated-ms", 0);
    if (now_ms < prev_updated)
        now_ms = prev_updated;   /* last-updated-ms never goes back */
    if ((previous_location &&
         json_array_append_new(json_object_get(m->root, "metadata-log"),
                               json_pack("{s:I, s:s}", "timestamp-ms", (json_int_t)prev_updated, "metadata-file",
                                         previous_location)) != 0) ||
        put(m->root, "last-updated-ms", json_integer(now_ms)) != 0) {
        snprintf(err, errlen, "out of memory logging the previous metadata file");
        return -1;
    }
    return 0;
}

/* ---- schema evolution (spec: "Schema Evolution") -------------------------------------------------- */

/* A primitive type parsed from its text: kind is an index in prim_names, or PRIM_DECIMAL (p, s)
 * or PRIM_FIXED (p: the length). */
enum { PRIM_INT = 1, PRIM_LONG = 2, PRIM_FLOAT = 3, PRIM_DOUBLE = 4, PRIM_DECIMAL = 100, PRIM_FIXED };
typedef struct prim_type {
    int kind, p, s;
} prim_type;

static const char *const prim_names[] = {"boolean", "int",       "long",        "float",  "double", "date",
                                         "time",    "timestamp", "timestamptz", "string", "uuid",   "binary"};

/* The Iceberg v2 primitive type of text ("decimal(10, 2)" and "decimal(10,2)" alike). 0 or -1. */
static int prim_parse(const char *text, prim_type *out)
{
    int a, b, end = -1;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof prim_names / sizeof prim_names[0]; i++)
        if (strcmp(text, prim_names[i]) == 0) {
            out->kind = (int)i;
            return 0;
        }
    if (sscanf(text, "decimal(%d ,%d )%n", &a, &b, &end) == 2 && end > 0 && text[end] == '\0' && a >= 1 &&
        a <= 38 && b >= 0 && b <= a) {
        *out = (prim_type){PRIM_DECIMAL, a, b};
        return 0;
    }
    end = -1;
    if (sscanf(text, "fixed[%d ]%n", &a, &end) == 1 && end > 0 && text[end] == '\0' && a > 0) {
        *out = (prim_type){PRIM_FIXED, a, 0};
        return 0;
    }
    return -1;
}

/* The type's text as Iceberg's JSON writes it: "long", "decimal(10,2)", "fixed[16]". */
static void prim_text(prim_type t, char *out, size_t outlen)
{
    if (t.kind == PRIM_DECIMAL)
        snprintf(out, outlen, "decimal(%d,%d)", t.p, t.s);
    else if (t.kind == PRIM_FIXED)
        snprintf(out, outlen, "fixed[%d]", t.p);
    else
        snprintf(out, outlen, "%s", prim_names[t.kind]);
}

/* The metadata's type (a string, or an object for a struct, list or map) is the caller's text:
 * primitives compared parsed, nested types as JSON. */
static bool type_same(const json_t *jt, const char *text)
{
    if (json_is_object(jt)) {
        json_t *o = text[0] == '{' ? json_loads(text, 0, NULL) : NULL;
        bool same = o && json_equal((json_t *)jt, o);
        json_decref(o);
        return same;
    }
    const char *s = json_string_value(jt);
    prim_type a, b;
    if (!s)
        return false;
    if (prim_parse(s, &a) == 0 && prim_parse(text, &b) == 0)
        return a.kind == b.kind && a.p == b.p && a.s == b.s;
    return strcmp(s, text) == 0;
}

/* The metadata's type widens to text by one of v2's promotions: int to long, float to double,
 * decimal(P,S) to decimal(P',S) with P' > P. */
static bool type_promotes(const json_t *jt, const char *text)
{
    const char *s = json_string_value(jt);
    prim_type from, to;
    if (!s || prim_parse(s, &from) != 0 || prim_parse(text, &to) != 0)
        return false;
    return (from.kind == PRIM_INT && to.kind == PRIM_LONG) || (from.kind == PRIM_FLOAT && to.kind == PRIM_DOUBLE) ||
           (from.kind == PRIM_DECIMAL && to.kind == PRIM_DECIMAL && to.s == from.s && to.p > from.p);
}

/* A type for messages: its text, or "a nested type". */
static const char *type_label(const json_t *jt)
{
    const char *s = json_string_value(jt);
    return s ? s : "a nested type";
}

/* The schema's top-level field with this id; NULL when it has none. */
static json_t *schema_field(const json_t *schema, int32_t id)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(schema, "fields"), i, f)
    {
        if (get_int(f, "id", -1) == id)
            return f;
    }
    return NULL;
}

static bool id_listed(const json_t *ids, int64_t id)
{
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        if (json_is_integer(v) && json_integer_value(v) == id)
            return true;
    }
    return false;
}

/* The schema has exactly these fields, in this order, with these identifier fields. */
static bool schema_matches(const json_t *schema, const iceberg_schema_field *fields, size_t n)
{
    json_t *jf = json_object_get(schema, "fields"), *ids = json_object_get(schema, "identifier-field-ids");
    if (!json_is_array(jf) || json_array_size(jf) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(jf, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (get_int(f, "id", -1) != fields[i].id || !name || strcmp(name, fields[i].name) != 0 ||
            json_is_true(json_object_get(f, "required")) != fields[i].required ||
            !type_same(json_object_get(f, "type"), fields[i].type) ||
            id_listed(ids, fields[i].id) != fields[i].identifier)
            return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        bool found = false;   /* an identifier field these fields do not flag (or a nested one) */
        for (size_t k = 0; k < n && !found; k++)
            found = json_is_integer(v) && json_integer_value(v) == fields[k].id && fields[k].identifier;
        if (!found)
            return false;
    }
    return true;
}

/* The field with this id in the newest schema (highest schema-id) that has it; NULL if none. */
static json_t *field_in_history(const iceberg_metadata *m, int32_t id)
{
    json_t *best = NULL, *s;
    int64_t best_schema = -1;
    size_t i;
    json_array_foreach(json_object_get(m->root, "schemas"), i, s)
    {
        json_t *f = schema_field(s, id);
        if (f && get_int(s, "schema-id", -1) > best_schema) {
            best = f;
            best_schema = get_int(s, "schema-id", -1);
        }
    }
    return best;
}

/* Field f may follow the current schema cur (see iceberg_metadata_set_schema). 0 or -1 with err. */
static int field_evolves(const iceberg_metadata *m, const json_t *cur, const iceberg_schema_field *f,
                         char *err, size_t errlen)
{
    int32_t last = iceberg_metadata_last_column_id(m);
    json_t *old = schema_field(cur, f->id);
    if (old) {   /* kept: a rename, a reorder, a promotion, required to optional */
        json_t *type = json_object_get(old, "type");
        if (!type_same(type, f->type) && !type_promotes(type, f->type)) {
            snprintf(err, errlen,
                     "column %s (field id %" PRId32 "): type %s cannot change to %s; Iceberg only widens int to "
                     "long, float to double and decimal(P,S) to decimal(P',S) with P' > P",
                     f->name, f->id, type_label(type), f->type);
            return -1;
        }
        if (f->required && !json_is_true(json_object_get(old, "required"))) {
            snprintf(err, errlen, "column %s (field id %" PRId32 ") is optional and cannot become required",
                     f->name, f->id);
            return -1;
        }
        return 0;
    }
    prim_type pt;
    if (f->id > last) {   /* added */
        if (f->required) {
            snprintf(err, errlen,
                     "new column %s (field id %" PRId32 ") must be optional: a v2 table cannot add a required "
                     "column (rows written before it have no value)",
                     f->name, f->id);
            return -1;
        }
        if (prim_parse(f->type, &pt) != 0) {
            snprintf(err, errlen, "new column %s (field id %" PRId32 "): \"%s\" is not an Iceberg v2 primitive type",
                     f->name, f->id, f->type);
            return -1;
        }
        return 0;
    }
    /* Dropped earlier and back: the spec lets a deletion be rolled back when the field was nullable. */
    json_t *was = field_in_history(m, f->id);
    if (!was) {
        snprintf(err, errlen,
                 "column %s: field id %" PRId32 " is not above last-column-id %" PRId32 " and in no schema of the "
                 "table; a new column needs a new id",
                 f->name, f->id, last);
        return -1;
    }
    json_t *type = json_object_get(was, "type");
    if (f->required || json_is_true(json_object_get(was, "required"))) {
        snprintf(err, errlen, "column %s: dropped field id %" PRId32 " can only come back if it was and stays optional",
                 f->name, f->id);
        return -1;
    }
    if (!type_same(type, f->type) && !type_promotes(type, f->type)) {
        snprintf(err, errlen, "column %s: dropped field id %" PRId32 " was %s and cannot come back as %s", f->name,
                 f->id, type_label(type), f->type);
        return -1;
    }
    return 0;
}

/* A field's type as JSON: canonical text for a primitive, the object for a nested type. */
static json_t *type_json(const char *text)
{
    prim_type pt;
    char canon[48];
    if (text[0] == '{')
        return json_loads(text, 0, NULL);
    if (prim_parse(text, &pt) != 0)
        return json_string(text);
    prim_text(pt, canon, sizeof canon);
    return json_string(canon);
}

/* The new schema: fields kept from cur are copies of its fields (other attributes such as "doc"
 * stay; an unchanged type keeps its spelling) with the new name, required and type. NULL on
 * out-of-memory. */
static json_t *schema_evolved(const json_t *cur, const iceberg_schema_field *fields, size_t n, int64_t schema_id)
{
    json_t *s = json_object(), *jf = json_array(), *ids = json_array();
    if (!s || !jf || !ids || put(s, "type", json_string("struct")) != 0 ||
        put(s, "schema-id", json_integer(schema_id)) != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const iceberg_schema_field *f = &fields[i];
        json_t *old = schema_field(cur, f->id);
        json_t *old_type = old ? json_object_get(old, "type") : NULL;
        json_t *nf = old ? json_deep_copy(old) : json_object();
        if (!nf || json_array_append_new(jf, nf) != 0 || put(nf, "id", json_integer(f->id)) != 0 ||
            put(nf, "name", json_string(f->name)) != 0 || put(nf, "required", json_boolean(f->required)) != 0 ||
            put(nf, "type", old_type && type_same(old_type, f->type) ? json_deep_copy(old_type) : type_json(f->type)) !=
                0 ||
            (f->identifier && json_array_append_new(ids, json_integer(f->id)) != 0))
            goto fail;
    }
    if (json_array_size(ids) > 0 && json_object_set(s, "identifier-field-ids", ids) != 0)
        goto fail;
    json_decref(ids);
    if (put(s, "fields", jf) != 0) {
        json_decref(s);
        return NULL;
    }
    return s;
fail:
    json_decref(s);
    json_decref(jf);
    json_decref(ids);
    return NULL;
}

int iceberg_metadata_set_schema(iceberg_metadata *m, const iceberg_schema_field *fields, size_t n, char *err,
                                size_t errlen)
{
    if (!fields || n == 0) {
        snprintf(err, errlen, "a schema needs at least one column");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (field_check(fields, i, err, errlen) != 0)
            return -1;
    json_t *cur = current_schema_json(m);
    if (!cur) {
        snprintf(err, errlen, "table metadata: current schema %" PRId32 " is not in schemas",
                 iceberg_metadata_current_schema_id(m));
        return -1;
    }
    if (schema_matches(cur, fields, n))
        return 0;
    int32_t max_id = iceberg_metadata_last_column_id(m);
    for (size_t i = 0; i < n; i++) {
        if (field_evolves(m, cur, &fields[i], err, errlen) != 0)
            return -1;
        if (fields[i].id > max_id)
            max_id = fields[i].id;
    }
    /* An earlier schema with exactly these fields is made current again, not added twice (as
     * Java's TableMetadata.Builder reuses a schema id). */
    json_t *schemas = json_object_get(m->root, "schemas"), *s;
    int64_t max_schema = -1;
    size_t i;
    json_array_foreach(schemas, i, s)
    {
        if (get_int(s, "schema-id", -1) > max_schema)
            max_schema = get_int(s, "schema-id", -1);
    }
    json_array_foreach(schemas, i, s)
    {
        if (schema_matches(s, fields, n)) {
            if (put(m->root, "current-schema-id", json_integer(get_int(s, "schema-id", 0))) != 0)
                goto oom;
            return 0;
        }
    }
    json_t *evolved = schema_evolved(cur, fields, n, max_schema + 1);
    if (!evolved || json_array_append_new(schemas, evolved) != 0)
        goto oom;
    if (put(m->root, "current-schema-id", json_integer(max_schema + 1)) != 0 ||
        put(m->root, "last-column-id", json_integer(max_id)) != 0) {
        json_array_remove(schemas, json_array_size(schemas) - 1);
        goto oom;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory changing the schema");
    return -1;
}
