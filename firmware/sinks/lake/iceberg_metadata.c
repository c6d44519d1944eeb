/* iceberg_metadata: builds, parses and extends Iceberg v2 table metadata JSON (see the header).
 * The JSON tree is the state: a parsed file keeps the fields Sluice does not know about, and
 * appending a snapshot edits the tree in place. */
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
        if (f->id <= 0 || !f->name || !*f->name || !f->type || !*f->type) {
            snprintf(err, errlen, "schema field %zu: needs a positive id, a name and a type", i);
            goto fail;
        }
        for (size_t j = 0; j < i; j++)
            if (spec->fields[j].id == f->id || strcmp(spec->fields[j].name, f->name) == 0) {
                snprintf(err, errlen, "schema field %s: duplicate id %" PRId32 " or name", f->name, f->id);
                goto fail;
            }
        if (f->identifier && !f->required) {
            snprintf(err, errlen, "schema field %s: an identifier field must be required", f->name);
            goto fail;
        }
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

static json_t *current_snapshot_json(const iceberg_metadata *m)
{
    json_t *id = json_object_get(m->root, "current-snapshot-id");
    if (!json_is_integer(id) || json_integer_value(id) < 0)
        return NULL;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m->root, "snapshots"), i, s)
    {
        if (get_int(s, "snapshot-id", -1) == json_integer_value(id))
            return s;
    }
    return NULL;
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
    out->total_records = summary_int(summary, "total-records");
    out->total_data_files = summary_int(summary, "total-data-files");
    out->total_files_size = summary_int(summary, "total-files-size");
    out->lsn = json_string_value(json_object_get(summary, "sluice.lsn"));
    return 1;
}

static json_t *summary_build(const iceberg_snapshot_add *add, const iceberg_snapshot_info *prev)
{
    char n[8][24];
    snprintf(n[0], sizeof n[0], "%" PRId64, add->added_data_files);
    snprintf(n[1], sizeof n[1], "%" PRId64, add->added_records);
    snprintf(n[2], sizeof n[2], "%" PRId64, add->added_files_size);
    snprintf(n[3], sizeof n[3], "%" PRId64, (prev ? prev->total_data_files : 0) + add->added_data_files);
    snprintf(n[4], sizeof n[4], "%" PRId64, (prev ? prev->total_records : 0) + add->added_records);
    snprintf(n[5], sizeof n[5], "%" PRId64, (prev ? prev->total_files_size : 0) + add->added_files_size);
    json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "operation", "append",
                          "added-data-files", n[0], "added-records", n[1], "added-files-size", n[2],
                          "total-data-files", n[3], "total-records", n[4], "total-files-size", n[5],
                          "total-delete-files", "0", "total-position-deletes", "0", "total-equality-deletes",
                          "0", "changed-partition-count", add->added_data_files > 0 ? "1" : "0",
                          "sluice.writer", "sluice");
    if (s && add->lsn)
        json_object_set_new(s, "sluice.lsn", json_string(add->lsn));
    return s;
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
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m->root, "snapshots"), i, s)
    {
        if (get_int(s, "snapshot-id", -1) == add->snapshot_id) {
            snprintf(err, errlen, "snapshot id %" PRId64 " is already in the table", add->snapshot_id);
            return -1;
        }
    }
    int64_t seq = iceberg_metadata_last_sequence_number(m) + 1;
    int64_t prev_updated = get_int(m->root, "last-updated-ms", 0);
    if (now_ms < prev_updated)
        now_ms = prev_updated;   /* last-updated-ms never goes back */
    json_t *summary = summary_build(add, has_prev ? &prev : NULL);
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
    int64_t id = iceberg_metadata_current_schema_id(m);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m->root, "schemas"), i, s)
    {
        if (get_int(s, "schema-id", -1) == id) {
            char *text = json_dumps(s, JSON_COMPACT);
            if (!text) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            buf_puts(out, text);
            free(text);
            return 0;
        }
    }
    snprintf(err, errlen, "table metadata: current schema %" PRId64 " is not in schemas", id);
    return -1;
}

char *iceberg_metadata_dump(const iceberg_metadata *m)
{
    return json_dumps(m->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
}
